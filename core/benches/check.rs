//! The checker scheduler's cost per completed check with 10,000 real
//! servers (TCP_CHECK, every 20 s, answered at once).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use holdfast_core::check::schedule::{Outcome, Output, Scheduler};
use holdfast_core::config::{parse_str, synthetic, LoadOptions, MemLoader};
use holdfast_core::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let cfg = parse_str(
        "b.conf",
        &synthetic::lvs_config(2, 1),
        &MemLoader::new(),
        &LoadOptions::default(),
    )
    .config
    .unwrap();
    let tcp = cfg.virtual_servers[1].real_servers[0].checkers[0].clone();
    let mut s = Scheduler::new();
    for i in 0..10_000u64 {
        s.add(Instant::ZERO, tcp.clone(), Duration::from_micros(i * 2_000));
    }
    // Let every checker start, then measure steady state: each iteration
    // runs the next due check and completes it.
    let mut now = Instant::ZERO;
    // One completed check: wake up until a probe starts (some wake-ups only
    // drop a deadline that moved on), answer it at once.
    let step = |s: &mut Scheduler, now: &mut Instant| loop {
        let t = s.poll_timeout().expect("always something due");
        *now = t;
        s.handle_timeout(t);
        let mut done = false;
        while let Some(o) = s.poll_output() {
            if let Output::Probe { id, .. } = o {
                s.probe_done(t, id, Outcome::Pass);
                done = true;
            }
        }
        if done {
            break;
        }
    };
    for _ in 0..20_000 {
        step(&mut s, &mut now);
    }
    c.bench_function("check/scheduler_10000_servers_per_check", |b| {
        b.iter_batched(|| (), |()| step(&mut s, &mut now), BatchSize::SmallInput)
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
