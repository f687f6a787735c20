//! VRRP (RFC 3768 v2, RFC 5798 / 9568 v3) as keepalived speaks it.

pub mod checksum;
pub mod instance;
mod reject;
pub(crate) mod stats;
pub(crate) mod sync_group;
pub mod timers;
pub mod wire;

pub use reject::Reject;
pub use stats::Stats;
