//! `diff` of two LVS tables of 2,000 services × 4 destinations that differ
//! in a tenth of their destinations' weights.

use std::collections::BTreeMap;
use std::net::IpAddr;

use criterion::{criterion_group, criterion_main, Criterion};
use holdfast_core::config::model::{ForwardingMethod, Scheduler, SchedulerFlags};
use holdfast_core::lvs::table::{ProtocolKey, Service};
use holdfast_core::lvs::{diff, DestKey, DestParams, ServiceKey, ServiceParams, Table};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn table(changed: bool) -> Table {
    let mut services = BTreeMap::new();
    for s in 0..2000u32 {
        let key = ServiceKey::Addr {
            address: IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + s)),
            port: 80,
            protocol: ProtocolKey::Tcp,
        };
        let dests = (0..4u32)
            .map(|d| {
                let weight = if changed && (s + d) % 10 == 0 {
                    0
                } else {
                    1 + d
                };
                (
                    DestKey {
                        address: IpAddr::from(std::net::Ipv4Addr::from(0xac10_0000 + s * 4 + d)),
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
        let params = ServiceParams {
            scheduler: Scheduler::Wrr,
            flags: SchedulerFlags::default(),
            persistence_timeout: Some(50),
            persistence_granularity: None,
        };
        services.insert(key, Service { params, dests });
    }
    Table { services }
}

fn bench(c: &mut Criterion) {
    let (a, b) = (table(false), table(true));
    assert_eq!(diff(&a, &b).len(), 800);
    c.bench_function("lvs/diff_2000x4", |bench| {
        bench.iter(|| diff(std::hint::black_box(&a), std::hint::black_box(&b)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
