//! The signals a keepalived user sends besides SIGTERM, SIGINT, SIGHUP and
//! SIGUSR1: what each does, and catching every one whose default would end
//! the process without the priority-0 adverts and the addresses removed.

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use super::super::{sys, DaemonError};

/// What a signal other than SIGTERM, SIGINT, SIGHUP and SIGUSR1 does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OtherSignal {
    /// SIGUSR2: keepalived's statistics file.
    Stats,
    /// keepalived's SIGSTATS_CLEAR (SIGRTMAX - 1): the file, then zero.
    StatsClear,
    /// keepalived's SIGJSON (SIGRTMIN + 2): the JSON state (as SIGUSR1).
    Json,
    /// SIGQUIT: an orderly stop, as SIGTERM.
    Quit,
    /// Any other signal whose default would end the process: logged and
    /// ignored, so that no stray signal leaves the addresses configured
    /// and the peer without a priority-0 advert.
    Ignored,
}

impl OtherSignal {
    pub(super) fn of(n: i32) -> OtherSignal {
        match n {
            libc::SIGUSR2 => OtherSignal::Stats,
            libc::SIGQUIT => OtherSignal::Quit,
            n if n == libc::SIGRTMIN() + 2 => OtherSignal::Json,
            n if n == libc::SIGRTMAX() - 1 => OtherSignal::StatsClear,
            _ => OtherSignal::Ignored,
        }
    }
}

/// Catches every signal whose default action ends the process (but those
/// the loop handles itself, and the faults a program raises on itself:
/// SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP), and hands their
/// numbers to the loop.
pub(super) fn other_signals() -> Result<mpsc::UnboundedReceiver<i32>, DaemonError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let fixed = [
        libc::SIGUSR2,
        libc::SIGQUIT,
        libc::SIGALRM,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGIO,
        libc::SIGPWR,
        libc::SIGSTKFLT,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGSYS,
    ];
    let realtime = libc::SIGRTMIN()..=libc::SIGRTMAX();
    for n in fixed.into_iter().chain(realtime) {
        let mut s = signal(SignalKind::from_raw(n)).map_err(sys("signal"))?;
        let tx = tx.clone();
        tokio::spawn(async move {
            while s.recv().await.is_some() {
                if tx.send(n).is_err() {
                    return;
                }
            }
        });
    }
    Ok(rx)
}
