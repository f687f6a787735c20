//! When an input happened, as core is told: the monotonic clock from the
//! daemon's start, an advert's kernel receive time, never backwards, and
//! the inputs that arrived before a due timer fed before it
//! (`Node`'s "Driving a node").

use holdfast_core::time::Instant;

use crate::clock::monotonic_ns;

use super::Daemon;

impl Daemon {
    /// The monotonic clock, from the daemon's start.
    pub(super) fn now(&self) -> Instant {
        Instant::from_nanos(monotonic_ns().saturating_sub(self.origin))
    }

    /// The time to hand core now: never before the last one it got.
    pub(super) fn core_now(&self) -> Instant {
        self.time_of(None)
    }

    /// Core's time for an input: when the kernel received it if it said
    /// (between the last time core got and now), else now. Only times
    /// handed to core raise the floor, so an advert that waited in the
    /// queue while the loop was busy still counts from its arrival.
    pub(super) fn time_of(&self, arrived_ns: Option<u64>) -> Instant {
        let floor = self.fed.get();
        let now = self.now().max(floor);
        let t = arrived_ns.map_or(now, |a| {
            Instant::from_nanos(a.saturating_sub(self.origin)).clamp(floor, now)
        });
        self.fed.set(t);
        t
    }

    /// Before a due timer fires: inputs that the kernel received before
    /// its deadline go first (an advert that came in time resets a
    /// master-down timer, whenever it was read). At most 64 a turn, so a
    /// flood cannot hold the timer back; the first later one waits in
    /// `stash`.
    pub(super) async fn take_arrived_before(&mut self, due: Instant) {
        // The readers get to hand over what the kernel holds.
        tokio::task::yield_now().await;
        for _ in 0..64 {
            let ev = match self.stash.take() {
                Some(ev) => ev,
                None => match self.rx.try_recv() {
                    Ok(ev) => ev,
                    Err(_) => return,
                },
            };
            match ev.1 {
                Some(a) if Instant::from_nanos(a.saturating_sub(self.origin)) <= due => {
                    let at = self.time_of(ev.1);
                    self.node.handle(at, ev.0);
                }
                _ => {
                    self.stash = Some(ev);
                    return;
                }
            }
        }
    }
}
