//! Times the nftables data plane on a large table, for `bench/nft-apply.sh`
//! (run it as root in a network namespace of its own):
//!
//!   nft_apply SERVICES REAL_SERVERS_PER_SERVICE [PERSISTENT_EVERY]
//!
//! Every PERSISTENT_EVERY-th service is persistent (default 2; 0: none).
//!
//! It prints the time of the first apply (the whole table in one
//! transaction), of an apply after one weight changed, of a drift check
//! that finds nothing, and of removing the table.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use holdfast_core::config::model::{ForwardingMethod, Scheduler, SchedulerFlags};
use holdfast_core::lvs::table::{ProtocolKey, Service};
use holdfast_core::lvs::{DestKey, DestParams, ServiceKey, ServiceParams, Table};
use holdfast_runtime::dataplane::{nft::Nft, DataPlane};

fn table(services: u32, per: u32, every: u32, bump: bool) -> Table {
    let mut t = Table::default();
    for s in 0..services {
        let vip = Ipv4Addr::from(0x0a00_0000 + s);
        let dests = (0..per)
            .map(|r| {
                let rs = Ipv4Addr::from(0x0b00_0000 + s * per + r);
                let weight = if bump && s == 0 && r == 0 {
                    3
                } else {
                    1 + r % 2
                };
                (
                    DestKey {
                        address: IpAddr::V4(rs),
                        port: 80,
                    },
                    DestParams {
                        weight,
                        method: ForwardingMethod::Nat,
                        uthreshold: 0,
                        lthreshold: 0,
                    },
                )
            })
            .collect();
        t.services.insert(
            ServiceKey::Addr {
                address: IpAddr::V4(vip),
                port: 80,
                protocol: ProtocolKey::Tcp,
            },
            Service {
                params: ServiceParams {
                    scheduler: Scheduler::Wrr,
                    flags: SchedulerFlags::default(),
                    persistence_timeout: (every > 0 && s % every == 0).then_some(50),
                    persistence_granularity: None,
                },
                dests,
            },
        );
    }
    t
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let services: u32 = args.next().map_or(Ok(2000), |a| a.parse())?;
    let per: u32 = args.next().map_or(Ok(4), |a| a.parse())?;
    let every: u32 = args.next().map_or(Ok(2), |a| a.parse())?;
    let mut plane = Nft::open()?;
    let (full, bumped) = (
        table(services, per, every, false),
        table(services, per, every, true),
    );
    let t = Instant::now();
    plane.apply(&full)?;
    let first = t.elapsed();
    let t = Instant::now();
    let n = plane.apply(&bumped)?;
    let change = t.elapsed();
    // The first check after an apply lists the table once; later ones,
    // while nobody commits anything, only ask for the generation.
    let t = Instant::now();
    let drift = plane.repair(&bumped)?;
    let first_check = t.elapsed();
    let t = Instant::now();
    let drift = drift + plane.repair(&bumped)?;
    let check = t.elapsed();
    // A fourth argument, "keep", leaves the table for a look with nft.
    let keep = args.next().is_some_and(|a| a == "keep");
    let t = Instant::now();
    if !keep {
        plane.remove()?;
    }
    let remove = t.elapsed();
    println!(
        "{services} services x {per} real servers, persistent {}: first apply {:.1} ms; one weight changed ({n} service) {:.1} ms; drift checks ({drift} repairs): first after the apply {:.1} ms, then {:.2} ms; remove {:.1} ms",
        if every == 0 { "none".to_string() } else { format!("1 in {every}") },
        first.as_secs_f64() * 1e3,
        change.as_secs_f64() * 1e3,
        first_check.as_secs_f64() * 1e3,
        check.as_secs_f64() * 1e3,
        remove.as_secs_f64() * 1e3
    );
    Ok(())
}
