//! The event queue: what is due, ordered by (time, sequence number), so
//! that two events at one instant run in the order they were queued.

use std::cmp::Ordering;
use std::net::IpAddr;

use holdfast_core::node::Input;
use holdfast_core::time::Instant;

/// Something due at a time.
#[derive(Debug, Clone)]
pub(super) enum Ev {
    /// A director's timer; stale unless `gen` is its current generation.
    Wake { d: usize, gen: u64 },
    /// An input reaches a director; `life` pins probe and script results
    /// to the boot that asked for them.
    Deliver {
        d: usize,
        life: Option<u32>,
        input: Input,
    },
    /// A gratuitous ARP reaches a client.
    Garp {
        client: usize,
        address: IpAddr,
        owner: usize,
    },
    /// The timeline's fault number n.
    Fault(usize),
    /// A paused director runs again.
    Resume(usize),
    /// A SIGTERM that waited for a paused director, handled once it has
    /// run again (read its backlog, fired its late timers).
    Stop(usize),
    /// An invariant deadline.
    Check,
    /// A foreign speaker's next advert on a segment, and how many follow.
    Foreign {
        segment: usize,
        advert: Box<crate::scenario::ForeignAdvert>,
        left: u32,
    },
}

pub(super) struct Entry {
    pub(super) at: Instant,
    pub(super) seq: u64,
    pub(super) ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Reversed: the heap pops the earliest, first-scheduled entry.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}
