//! The typed configuration: what a keepalived.conf means, with keepalived's
//! defaults and inheritance already applied, so drivers never need to know
//! where a value came from. It carries no source positions; the builder
//! reports problems while it still has them.

mod checker;
mod global;
mod lvs;
mod vrrp;

use serde::{Deserialize, Serialize};

pub use checker::*;
pub use global::*;
pub use lvs::*;
pub use vrrp::*;

/// A whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Config {
    /// `global_defs`.
    pub global: GlobalDefs,
    /// `vrrp_script` blocks, in file order.
    pub vrrp_scripts: Vec<VrrpScript>,
    /// `vrrp_sync_group` blocks, in file order.
    pub sync_groups: Vec<SyncGroup>,
    /// `vrrp_instance` blocks, in file order.
    pub instances: Vec<VrrpInstance>,
    /// `virtual_server_group` blocks, in file order.
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    /// `virtual_server` blocks, in file order.
    pub virtual_servers: Vec<VirtualServer>,
    /// The `SSL` block, if any.
    pub ssl: Option<SslSettings>,
}

/// Counts for `holdfast check`'s summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// VRRP instances.
    pub instances: usize,
    /// Sync groups.
    pub sync_groups: usize,
    /// Virtual servers.
    pub virtual_servers: usize,
    /// Real servers over all virtual servers.
    pub real_servers: usize,
    /// Checkers over all real servers.
    pub checkers: usize,
}

impl Config {
    /// Counts of the main objects.
    pub fn summary(&self) -> Summary {
        let real_servers = self
            .virtual_servers
            .iter()
            .map(|v| v.real_servers.len())
            .sum();
        let checkers = self
            .virtual_servers
            .iter()
            .flat_map(|v| &v.real_servers)
            .map(|r| r.checkers.len())
            .sum();
        Summary {
            instances: self.instances.len(),
            sync_groups: self.sync_groups.len(),
            virtual_servers: self.virtual_servers.len(),
            real_servers,
            checkers,
        }
    }

    /// The instance called `name`.
    pub fn instance(&self, name: &str) -> Option<&VrrpInstance> {
        self.instances.iter().find(|i| i.name == name)
    }
}

/// A script to run: the command line as written and the user/group to run it as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    /// The command line (program and arguments, split by the runner as keepalived does).
    pub command: String,
    /// Run as this user instead of `script_user`.
    pub user: Option<String>,
    /// Run with this group.
    pub group: Option<String>,
}

impl Script {
    /// A script run as the default user.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            user: None,
            group: None,
        }
    }
}

/// Address family.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4.
    #[default]
    Ipv4,
    /// IPv6.
    Ipv6,
}

impl Family {
    /// The family of an address.
    pub fn of(addr: &std::net::IpAddr) -> Self {
        if addr.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        }
    }
}

/// Serde for `Duration` as (fractional) seconds, the unit keepalived.conf uses.
pub mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    /// Writes seconds as a number.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    /// Reads seconds, rounded to microseconds (keepalived's timer resolution).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        if !(0.0..=1e9).contains(&v) {
            return Err(serde::de::Error::custom("seconds out of range"));
        }
        Ok(Duration::from_micros((v * 1e6).round() as u64))
    }

    /// The same for `Option<Duration>`.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use std::time::Duration;

        /// Writes seconds or null.
        pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.serialize_some(&d.as_secs_f64()),
                None => s.serialize_none(),
            }
        }

        /// Reads seconds or null.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
            let v = Option::<f64>::deserialize(d)?;
            match v {
                Some(v) if (0.0..=1e9).contains(&v) => {
                    Ok(Some(Duration::from_micros((v * 1e6).round() as u64)))
                }
                Some(_) => Err(serde::de::Error::custom("seconds out of range")),
                None => Ok(None),
            }
        }
    }
}
