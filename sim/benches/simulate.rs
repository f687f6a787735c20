//! How fast the simulator runs the case study: one simulated hour with the
//! scenario's faults repeated every ten minutes. Criterion reports the wall
//! time per simulated hour and the events per second (its throughput).
//! The 1,000-seed sweep is timed by `bench/sweep.sh`.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use holdfast_sim::setup::Setup;
use holdfast_sim::{Scenario, Sim};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn hour(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/case-study.json");
    let mut scenario = Scenario::read(&path).expect("the case study");
    scenario.duration = 3600.0;
    let base = path.parent().expect("a directory");
    let setup = Setup::new(&scenario, base, "case-study.json").expect("it sets up");
    let run = || {
        Sim::new(&scenario, setup.clone(), scenario.seed, false)
            .expect("it boots")
            .run()
    };
    let first = run();
    assert!(first.violations.is_empty(), "{}", first.summary());
    let mut g = c.benchmark_group("sim");
    g.throughput(Throughput::Elements(first.events));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("case_study_one_simulated_hour", |b| b.iter(run));
    g.finish();
}

criterion_group!(benches, hour);
criterion_main!(benches);
