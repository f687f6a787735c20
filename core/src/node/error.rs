//! Why a node cannot be built.

use crate::config::model::Family;

/// Why a node cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// An instance names an interface the director does not have (and
    /// configures no source address). One that exists without an address
    /// starts the instance in FAULT instead.
    #[error("vrrp_instance {instance}: interface {interface} does not exist ({family:?})")]
    Interface {
        /// Instance.
        instance: String,
        /// Interface.
        interface: String,
        /// Family needed.
        family: Family,
    },
}
