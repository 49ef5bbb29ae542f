//! Observability overhead: the same flow (counter-source → passthrough →
//! quiet-sink, 64-byte payloads) on the actor runtime at the `off`,
//! `production` and `diagnostic` levels, in one process.
//!
//! `cargo bench -p torvyn-benches --bench observability -- --warm-up-time 1 --measurement-time 3`
//!
//! The spec's targets: production loses at most 1 % of throughput against
//! off, diagnostic at most 5 %. `overhead_ratios` runs the three levels
//! interleaved, several rounds, and prints each level's median time per
//! element as a ratio of off's — the figure to report (the criterion
//! groups give the per-level distributions).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;
use torvyn_actors::{FlowSpec, TorvynHandle, TorvynHost};
use torvyn_benches::stages::source_pass_sink;
use torvyn_runtime::config::ObservabilityLevel;
use torvyn_runtime::engine::{EngineConfig, WasmEngine};

const LEVELS: [ObservabilityLevel; 3] = [
    ObservabilityLevel::Off,
    ObservabilityLevel::Production,
    ObservabilityLevel::Diagnostic,
];

fn engine() -> WasmEngine {
    WasmEngine::new(EngineConfig {
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("engine")
}

fn host(engine: &WasmEngine) -> TorvynHandle {
    TorvynHost::builder()
        .engine(engine.clone())
        .worker_threads(1)
        .build()
        .expect("host")
}

/// Runs one flow of `elements` at `level`; its own report's duration (first
/// pull to completion: instantiation excluded).
fn run_at(
    host: &TorvynHandle,
    engine: &WasmEngine,
    level: ObservabilityLevel,
    elements: u64,
) -> Duration {
    host.set_observability_level(level);
    let id = host
        .start_flow(FlowSpec::new(source_pass_sink(engine, elements)))
        .expect("starts");
    let report = host.await_completion(id).expect("runs");
    assert_eq!(report.elements_delivered, elements);
    report.duration
}

fn per_level(c: &mut Criterion) {
    let engine = engine();
    let host = host(&engine);
    let mut group = c.benchmark_group("observability_level");
    group.throughput(Throughput::Elements(1));
    for level in LEVELS {
        group.bench_function(BenchmarkId::new("source_pass_sink", level.as_str()), |b| {
            b.iter_custom(|iters| run_at(&host, &engine, level, iters))
        });
    }
    group.finish();
    host.shutdown();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The three levels interleaved (so machine noise hits them alike), each
/// round a long flow per level; medians of ns/element and their ratios.
fn overhead_ratios(_: &mut Criterion) {
    const ELEMENTS: u64 = 100_000;
    const ROUNDS: usize = 7;
    let engine = engine();
    let host = host(&engine);
    // Warm-up: compile caches, pools, the arbiter.
    run_at(&host, &engine, ObservabilityLevel::Off, ELEMENTS / 10);
    let mut ns: [Vec<f64>; 3] = Default::default();
    for _ in 0..ROUNDS {
        for (k, level) in LEVELS.into_iter().enumerate() {
            let d = run_at(&host, &engine, level, ELEMENTS);
            ns[k].push(d.as_nanos() as f64 / ELEMENTS as f64);
        }
    }
    let stats = host.trace_stats();
    host.shutdown();
    let [off, production, diagnostic] = ns.map(median);
    println!(
        "observability overhead ({ELEMENTS} elements × {ROUNDS} rounds, counter-source → passthrough → quiet-sink, medians): \
         off {off:.0} ns/element, production {production:.0} ns/element ({:+.2} % time, throughput ×{:.4}), \
         diagnostic {diagnostic:.0} ns/element ({:+.2} % time, throughput ×{:.4}); trace records {} (dropped {})",
        (production / off - 1.0) * 100.0,
        off / production,
        (diagnostic / off - 1.0) * 100.0,
        off / diagnostic,
        stats.records,
        stats.dropped,
    );
}

criterion_group!(benches, overhead_ratios, per_level);
criterion_main!(benches);
