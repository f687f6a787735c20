//! From the configuration and the real servers' health to the desired LVS
//! table: keepalived's quorum with hysteresis, `inhibit_on_failure` and the
//! sorry server (docs/keepalived.md, "LVS pool, quorum and sorry server":
//! keepalived's `update_quorum_state`, `perform_quorum_state`).

use std::net::IpAddr;

use super::table::{DestKey, DestParams, Service, ServiceKey, ServiceParams, Table};
use crate::config::model::{Config, Family, VirtualServer, VsKey, VsgEntry};

/// At most this many services from one address range of a virtual server
/// group (a /16 is 65,536; anything larger is a configuration mistake).
const MAX_RANGE: u128 = 65_536;

/// Whether a pool has its quorum, given whether it had it: it is gained at
/// `quorum + hysteresis` of live weight, lost below `quorum - hysteresis` or
/// when no weight is left.
pub fn quorum(vs: &VirtualServer, live_weight: u64, had: bool) -> bool {
    let (q, h) = (u64::from(vs.quorum), u64::from(vs.hysteresis));
    if had {
        !(live_weight < q.saturating_sub(h) || live_weight == 0)
    } else {
        live_weight >= q + h
    }
}

/// The IPVS services a virtual server stands for.
pub fn service_keys(config: &Config, vs: &VirtualServer) -> Vec<ServiceKey> {
    let protocol = vs.protocol.into();
    let fw_family = vs.ip_family.unwrap_or(Family::Ipv4);
    match &vs.key {
        VsKey::Addr { address, port } => vec![ServiceKey::Addr {
            address: *address,
            port: *port,
            protocol,
        }],
        VsKey::Fwmark { mark } => vec![ServiceKey::Fwmark {
            mark: *mark,
            family: fw_family,
        }],
        VsKey::Group { name } => {
            let Some(g) = config
                .virtual_server_groups
                .iter()
                .find(|g| &g.name == name)
            else {
                return Vec::new();
            };
            let mut keys = Vec::new();
            for e in &g.entries {
                match e {
                    VsgEntry::Fwmark { mark, family } => keys.push(ServiceKey::Fwmark {
                        mark: *mark,
                        family: family.unwrap_or(fw_family),
                    }),
                    VsgEntry::Range { first, last, port } => {
                        let (a, b) = (to_u128(*first), to_u128(*last));
                        for n in a..=b.min(a + MAX_RANGE - 1) {
                            keys.push(ServiceKey::Addr {
                                address: from_u128(n, first.is_ipv4()),
                                port: *port,
                                protocol,
                            });
                        }
                    }
                }
            }
            keys
        }
    }
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

fn from_u128(n: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4((n as u32).into())
    } else {
        IpAddr::V6(n.into())
    }
}

/// Each real server's configured weight, `[v][r]`.
pub fn config_weights(config: &Config) -> Vec<Vec<u32>> {
    config
        .virtual_servers
        .iter()
        .map(|vs| vs.real_servers.iter().map(|r| r.weight).collect())
        .collect()
}

/// The table for `config`, given each real server's health (`alive[v][r]`
/// for real server `r` of virtual server `v`), its current weight (the
/// configured one, or what a `misc_dynamic` check set) and each pool's quorum.
pub fn desired(
    config: &Config,
    alive: &[Vec<bool>],
    weights: &[Vec<u32>],
    quorum_up: &[bool],
) -> Table {
    let mut table = Table::default();
    for (v, vs) in config.virtual_servers.iter().enumerate() {
        let params = ServiceParams {
            scheduler: vs.scheduler,
            flags: vs.scheduler_flags,
            persistence_timeout: vs.persistence_timeout,
            persistence_granularity: vs.persistence_granularity,
        };
        let has_quorum = quorum_up.get(v).copied().unwrap_or(true);
        let sorry_active = !has_quorum && vs.sorry_server.is_some();
        let mut dests = std::collections::BTreeMap::new();
        // With the quorum lost and a sorry server, the live real servers
        // leave and the sorry server takes their place; a failed one with
        // inhibit_on_failure stays at weight 0 (keepalived's perform_quorum_state).
        for (r, rs) in vs.real_servers.iter().enumerate() {
            let up = alive
                .get(v)
                .and_then(|a| a.get(r))
                .copied()
                .unwrap_or(false);
            let current = weights
                .get(v)
                .and_then(|w| w.get(r))
                .copied()
                .unwrap_or(rs.weight);
            let weight = match (up, rs.inhibit_on_failure) {
                (true, _) if sorry_active => continue,
                (true, _) => current,
                (false, true) => 0,
                (false, false) => continue,
            };
            let key = DestKey {
                address: rs.address,
                port: rs.port.unwrap_or(0),
            };
            let (uthreshold, lthreshold) = (rs.uthreshold.unwrap_or(0), rs.lthreshold.unwrap_or(0));
            dests.insert(
                key,
                DestParams {
                    weight,
                    method: rs.method,
                    uthreshold,
                    lthreshold,
                },
            );
        }
        if let Some(sorry) = &vs.sorry_server {
            let key = DestKey {
                address: sorry.address,
                port: sorry.port.unwrap_or(0),
            };
            // A sorry server that is also a real server is that real server
            // while the quorum holds (keepalived's s_svr_duplicates_rs).
            let is_rs = vs
                .real_servers
                .iter()
                .any(|r| r.address == key.address && r.port.unwrap_or(0) == key.port);
            if sorry_active || (sorry.inhibit && !is_rs) {
                let weight = if sorry_active { 1 } else { 0 };
                dests.insert(
                    key,
                    DestParams {
                        weight,
                        method: sorry.method,
                        uthreshold: 0,
                        lthreshold: 0,
                    },
                );
            }
        }
        for key in service_keys(config, vs) {
            table.services.insert(
                key,
                Service {
                    params: params.clone(),
                    dests: dests.clone(),
                },
            );
        }
    }
    table
}
