//! The daemon's clock: CLOCK_MONOTONIC in nanoseconds, and a timerfd armed
//! at an absolute time on that clock. tokio's timers round up to the next
//! millisecond; VRRP's master-down timer is measured against keepalived to
//! a fraction of one, so the daemon wakes on a timerfd instead.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use tokio::io::unix::AsyncFd;

/// Nanoseconds on CLOCK_MONOTONIC.
pub fn monotonic_ns() -> u64 {
    now_ns(libc::CLOCK_MONOTONIC)
}

fn now_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a timespec.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A kernel receive timestamp (CLOCK_REALTIME, as SO_TIMESTAMPNS gives
/// them) on CLOCK_MONOTONIC: its age, taken from the monotonic clock now.
/// A wall clock stepped in between makes the age wrong; it is clamped to
/// "now at the latest" and the caller never lets time run backwards.
pub fn realtime_to_monotonic(ts: &libc::timespec) -> u64 {
    let stamp = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
    let (real, mono) = (now_ns(libc::CLOCK_REALTIME), monotonic_ns());
    mono.saturating_sub(real.saturating_sub(stamp))
}

/// A one-shot timer at absolute CLOCK_MONOTONIC times.
pub struct Timer {
    fd: AsyncFd<OwnedFd>,
}

impl Timer {
    /// A disarmed timer.
    pub fn new() -> io::Result<Timer> {
        // SAFETY: plain syscall; the fd is owned below.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh fd nobody else owns.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: the OwnedFd keeps the descriptor open, unchanged, for as
        // long as the AsyncFd owns it.
        let fd =
            unsafe { AsyncFd::register(owned) }.map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Timer { fd })
    }

    /// Fires at `at_ns` (CLOCK_MONOTONIC); `None` disarms it.
    pub fn arm(&self, at_ns: Option<u64>) -> io::Result<()> {
        let value = match at_ns {
            // 0 would disarm: the past is any time at all.
            Some(t) => libc::timespec {
                tv_sec: (t.max(1) / 1_000_000_000) as libc::time_t,
                tv_nsec: (t.max(1) % 1_000_000_000) as libc::c_long,
            },
            None => libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        // SAFETY: a valid timerfd and itimerspec.
        let rc = unsafe {
            libc::timerfd_settime(
                self.fd.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Waits until it fires.
    pub async fn fired(&self) -> io::Result<()> {
        loop {
            let mut guard = self.fd.readable().await?;
            let mut buf = [0u8; 8];
            let r = guard.try_io(|fd| {
                // SAFETY: reading 8 bytes into an 8-byte buffer.
                let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                }
            });
            match r {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }
}
