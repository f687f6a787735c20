//! Parse and validate a generated configuration of 2,000 virtual servers
//! with 4 real servers each (HTTP_GET and TCP_CHECK mixed), the size at which
//! keepalived 2.2.7's `keepalived -t` needs about 92 ms here. Target: 9 ms.
//! `bench/parse-vs-keepalived.sh` measures both whole processes on the same file.

use std::sync::Arc;

// The `holdfast` binary uses mimalloc: measure the parser with the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use holdfast_core::config::{parse_shared, synthetic, LoadOptions, MemLoader};

fn parse_2000_virtual_servers(c: &mut Criterion) {
    // The text is in memory before the clock starts (reading the file is
    // I/O, not parsing); everything built from it is inside the measurement,
    // dropping the model included.
    let text = Arc::new(synthetic::lvs_config(2000, 4));
    let loader = MemLoader::new();
    let opts = LoadOptions::default();
    let mut group = c.benchmark_group("config");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse_and_validate_2000x4", |b| {
        b.iter(|| {
            let loaded = parse_shared("bench.conf", Arc::clone(&text), &loader, &opts);
            assert!(loaded.config.is_some());
            loaded
        })
    });
    group.finish();
}

criterion_group!(benches, parse_2000_virtual_servers);
criterion_main!(benches);
