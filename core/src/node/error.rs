//! Why a node cannot be built.

use crate::config::model::Family;

/// Why a node cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// An instance names an interface the director does not have, or one
    /// without an address of the instance's family.
    #[error("vrrp_instance {instance}: interface {interface} does not exist or has no {family:?} address")]
    Interface {
        /// Instance.
        instance: String,
        /// Interface.
        interface: String,
        /// Family needed.
        family: Family,
    },
}
