//! VRRP (RFC 3768 v2, RFC 5798 / 9568 v3) as keepalived speaks it.

pub mod checksum;
pub mod instance;
pub mod reject;
pub mod stats;
pub mod sync_group;
pub mod timers;
pub mod wire;

pub use reject::Reject;
