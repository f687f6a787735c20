//! Properties of the LVS table diff: applying `diff(a, b)` to `a` gives
//! `b`, `diff(a, a)` is empty, and nothing that stays is touched.

use std::net::IpAddr;

use holdfast_core::config::model::{Family, ForwardingMethod, Scheduler, SchedulerFlags};
use holdfast_core::lvs::table::{ProtocolKey, Service};
use holdfast_core::lvs::{apply, diff, DestKey, DestParams, Op, ServiceKey, ServiceParams, Table};
use proptest::prelude::*;

fn key() -> impl Strategy<Value = ServiceKey> {
    // A small space, so that generated tables share services.
    prop_oneof![
        (
            0..4u8,
            prop_oneof![Just(80u16), Just(443)],
            prop_oneof![Just(ProtocolKey::Tcp), Just(ProtocolKey::Udp)]
        )
            .prop_map(|(a, port, protocol)| ServiceKey::Addr {
                address: IpAddr::from([10, 0, 0, a]),
                port,
                protocol
            }),
        (1..3u32).prop_map(|mark| ServiceKey::Fwmark {
            mark,
            family: Family::Ipv4
        }),
    ]
}

fn params() -> impl Strategy<Value = ServiceParams> {
    (
        prop_oneof![Just(Scheduler::Rr), Just(Scheduler::Wrr)],
        proptest::option::of(prop_oneof![Just(50u32), Just(360)]),
    )
        .prop_map(|(scheduler, persistence_timeout)| ServiceParams {
            scheduler,
            flags: SchedulerFlags::default(),
            persistence_timeout,
            persistence_granularity: None,
        })
}

fn dests() -> impl Strategy<Value = std::collections::BTreeMap<DestKey, DestParams>> {
    proptest::collection::btree_map(
        (0..5u8).prop_map(|a| DestKey {
            address: IpAddr::from([192, 168, 100, a]),
            port: 80,
        }),
        (
            0..4u32,
            prop_oneof![Just(ForwardingMethod::Nat), Just(ForwardingMethod::Dr)],
        )
            .prop_map(|(weight, method)| DestParams {
                weight,
                method,
                uthreshold: 0,
                lthreshold: 0,
            }),
        0..5,
    )
}

fn table() -> impl Strategy<Value = Table> {
    proptest::collection::btree_map(
        key(),
        (params(), dests()).prop_map(|(params, dests)| Service { params, dests }),
        0..6,
    )
    .prop_map(|services| Table { services })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn applying_the_diff_gives_the_target(a in table(), b in table()) {
        let ops = diff(&a, &b);
        let mut t = a.clone();
        for op in &ops {
            apply(&mut t, op).map_err(|e| TestCaseError::fail(format!("{e} in {ops:?}")))?;
        }
        prop_assert_eq!(&t, &b);
        // Nothing that is the same on both sides is touched.
        for op in &ops {
            match op {
                Op::EditService(k, _) => prop_assert_ne!(&a.services[k].params, &b.services[k].params),
                Op::EditDest(k, d, _) => prop_assert_ne!(&a.services[k].dests[d], &b.services[k].dests[d]),
                _ => {}
            }
        }
    }

    #[test]
    fn diff_of_a_table_with_itself_is_empty(a in table()) {
        prop_assert!(diff(&a, &a).is_empty());
    }
}
