//! The loop: due timers first, then inputs, signals and netlink events,
//! each followed by a drain of the node's outputs.
use futures_util::stream::StreamExt;
use rtnetlink::MulticastGroup;
use tokio::signal::unix::{signal, SignalKind};
use tracing::info;

use super::signals::{other_signals, OtherSignal};
use super::{sys, Daemon, DaemonError};

impl Daemon {
    /// Runs until SIGTERM, SIGINT or SIGQUIT, then stops in order.
    pub(super) async fn serve(mut self) -> Result<(), DaemonError> {
        let mut term = signal(SignalKind::terminate()).map_err(sys("signal"))?;
        let mut int = signal(SignalKind::interrupt()).map_err(sys("signal"))?;
        let mut hup = signal(SignalKind::hangup()).map_err(sys("signal"))?;
        let mut usr1 = signal(SignalKind::user_defined1()).map_err(sys("signal"))?;
        let mut others = other_signals()?;
        let (conn, _, mut events) = rtnetlink::new_multicast_connection(&[
            MulticastGroup::Link,
            MulticastGroup::Ipv4Ifaddr,
            MulticastGroup::Ipv6Ifaddr,
        ])
        .map_err(sys("netlink"))?;
        tokio::spawn(conn);
        crate::notify::ready();
        loop {
            // Timers that are due run before anything newer, so a flood of
            // packets cannot starve a Master's adverts.
            while let Some(due) = self.node.poll_timeout().filter(|t| *t <= self.now()) {
                self.take_arrived_before(due).await;
                if self.node.poll_timeout().is_some_and(|t| t <= self.now()) {
                    let now = self.core_now();
                    self.node.handle_timeout(now);
                }
                self.drain().await;
            }
            self.drain().await;
            if let Some((input, arrived)) = self.stash.take() {
                let at = self.time_of(arrived);
                self.node.handle(at, input);
                continue;
            }
            while self.tasks.try_join_next().is_some() {}
            while self.mails.try_join_next().is_some() {}
            let at = self.node.poll_timeout().map(|t| self.origin + t.as_nanos());
            self.timer.arm(at).map_err(sys("timerfd"))?;
            tokio::select! {
                biased;
                _ = term.recv() => return self.shutdown("SIGTERM").await,
                _ = int.recv() => return self.shutdown("SIGINT").await,
                r = self.timer.fired(), if at.is_some() => {
                    r.map_err(sys("timerfd"))?;
                    let now = self.core_now();
                    self.node.handle_timeout(now);
                }
                Some((input, arrived)) = self.rx.recv() => {
                    let at = self.time_of(arrived);
                    self.node.handle(at, input);
                }
                Some((msg, _)) = events.next() => self.netlink(msg.payload).await,
                _ = hup.recv() => self.reload().await,
                _ = usr1.recv() => self.dump(),
                Some(n) = others.recv() => match OtherSignal::of(n) {
                    OtherSignal::Stats => self.write_stats(false),
                    OtherSignal::StatsClear => self.write_stats(true),
                    OtherSignal::Json => self.dump(),
                    OtherSignal::Quit => return self.shutdown("SIGQUIT").await,
                    OtherSignal::Ignored => info!("signal {n} ignored"),
                },
            }
        }
    }
}
