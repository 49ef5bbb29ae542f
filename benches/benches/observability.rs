//! Observability overhead: the same flows on the actor runtime at the
//! `off`, `production` and `diagnostic` levels, in one process.
//!
//! `cargo bench -p torvyn-benches --bench observability -- --warm-up-time 1 --measurement-time 3`
//!
//! The spec's targets: production loses at most 1 % of throughput against
//! off (and costs under 500 ns per element), diagnostic at most 5 % (under
//! 2 µs). `overhead_ratios` runs the three levels interleaved, many short
//! rounds, and prints each level's median time per element and the median
//! of each round's ratio to off — the figure to report — for two
//! pipelines of 64-byte elements:
//!
//! - minimal: counter-source → passthrough → quiet-sink, about 5 µs per
//!   element, where the per-element cost weighs most;
//! - busy sink: the same with a sink spinning tens of µs per element, the
//!   order of the spec's own per-element budgets (its ratio and absolute
//!   targets agree at about 50 µs per element: 1 % of 50 µs is 500 ns).
//!
//! The criterion groups give the per-level distributions on the minimal
//! pipeline.
//!
//! The host has a trace consumer that reads every record, as any exporter
//! would: the cost of handing records to the trace thread is part of what
//! is measured.
//!
//! One flow's time per element varies by about 3 % from flow to flow
//! (instance layout, machine noise), so the minimal pipeline runs many
//! short flows (301 rounds of 2,000 elements) and every ratio comes with
//! a bootstrap 95 % interval of its median: a difference is real only when
//! the intervals do not overlap.
//!
//! `OBSERVABILITY_BENCH_ROUNDS` sets the number of rounds of every workload
//! (default 301 minimal, 121 busy sink); `OBSERVABILITY_BENCH_WORKLOADS=minimal`
//! runs only the minimal pipeline; `OBSERVABILITY_BENCH_DUMP=FILE` appends
//! each round's ns/element (`workload,off,production,diagnostic`) to FILE.
//!
//! `OBSERVABILITY_BENCH_LEVEL=production` (or `off`, `diagnostic`) runs only
//! that level, 20 flows of 10,000 elements (`OBSERVABILITY_BENCH_ELEMENTS`,
//! `OBSERVABILITY_BENCH_FLOWS` change that) — for profiling one level with
//! `perf record` or `valgrind --tool=callgrind`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;
use torvyn_actors::{
    FlowSpec, TorvynHandle, TorvynHost, TraceBatch, TraceBatchKind, TraceConsumer,
};
use torvyn_benches::stages::{source_pass_busy_sink, source_pass_sink};
use torvyn_runtime::config::ObservabilityLevel;
use torvyn_runtime::engine::{EngineConfig, WasmEngine};
use torvyn_runtime::reactor::TraceRecord;

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

/// Reads every record it is given (what an exporter does first), and
/// nothing more.
struct ReadingConsumer(u64);

impl TraceConsumer for ReadingConsumer {
    fn consume(&mut self, batch: &TraceBatch) {
        if let TraceBatchKind::Records(records) = &batch.kind {
            for record in records {
                if let TraceRecord::Stage(stage) = record {
                    self.0 = self.0.wrapping_add(stage.duration_ns ^ stage.sequence);
                }
            }
        }
        std::hint::black_box(self.0);
    }
}

fn host(engine: &WasmEngine) -> TorvynHandle {
    TorvynHost::builder()
        .engine(engine.clone())
        .worker_threads(1)
        .trace_consumer(Box::new(ReadingConsumer(0)))
        .build()
        .expect("host")
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A pipeline the overhead is measured on.
#[derive(Clone, Copy)]
struct Workload {
    name: &'static str,
    /// Elements per flow (each round runs one flow per level).
    elements: u64,
    /// Busy-loop iterations the sink spins per element (0: quiet-sink).
    sink_spin: u64,
    /// Rounds of the paired comparison (one flow per level each).
    rounds: usize,
}

/// counter-source → passthrough → quiet-sink: the cheapest pipeline there
/// is, where the overhead weighs most.
const MINIMAL: Workload = Workload {
    name: "minimal (counter-source → passthrough → quiet-sink)",
    elements: 2_000,
    sink_spin: 0,
    rounds: 301,
};

/// The same with a sink that does real work per element (tens of µs, the
/// order of the spec's own per-element latency budgets: < 50 µs for
/// hello-world, < 80 µs for a transform).
const BUSY_SINK: Workload = Workload {
    name: "busy sink (counter-source → passthrough → slow-sink spinning 20,000 iterations)",
    elements: 8_000,
    sink_spin: 20_000,
    rounds: 121,
};

/// Runs one flow of `workload` at `level`; its own report's duration
/// (first pull to completion: instantiation excluded).
fn run_at(
    host: &TorvynHandle,
    engine: &WasmEngine,
    level: ObservabilityLevel,
    workload: Workload,
) -> Duration {
    host.set_observability_level(level);
    let stages = if workload.sink_spin == 0 {
        source_pass_sink(engine, workload.elements)
    } else {
        source_pass_busy_sink(engine, workload.elements, workload.sink_spin)
    };
    let id = host.start_flow(FlowSpec::new(stages)).expect("starts");
    let report = host.await_completion(id).expect("runs");
    assert_eq!(report.elements_delivered, workload.elements);
    report.duration
}

fn per_level(c: &mut Criterion) {
    let engine = engine();
    let host = host(&engine);
    let mut group = c.benchmark_group("observability_level");
    group.throughput(Throughput::Elements(1));
    for level in LEVELS {
        group.bench_function(BenchmarkId::new("source_pass_sink", level.as_str()), |b| {
            b.iter_custom(|iters| {
                let workload = Workload {
                    elements: iters,
                    ..MINIMAL
                };
                run_at(&host, &engine, level, workload)
            })
        });
    }
    group.finish();
    host.shutdown();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A bootstrap 95 % interval of the median of `v`: the median of 2,000
/// resamples (with replacement), their 2.5th and 97.5th percentiles.
fn median_interval(v: &[f64]) -> (f64, f64) {
    // xorshift64*: resampling needs no more than a cheap, seeded stream.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut medians: Vec<f64> = (0..2_000)
        .map(|_| {
            median(
                (0..v.len())
                    .map(|_| v[(next() % v.len() as u64) as usize])
                    .collect(),
            )
        })
        .collect();
    medians.sort_by(|a, b| a.total_cmp(b));
    (medians[50], medians[1_949])
}

/// Appends each round's ns/element to the file `OBSERVABILITY_BENCH_DUMP`
/// names, if any.
fn dump_rounds(workload: Workload, ns: &[Vec<f64>; 3]) {
    let Ok(path) = std::env::var("OBSERVABILITY_BENCH_DUMP") else {
        return;
    };
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .expect("OBSERVABILITY_BENCH_DUMP: a writable file");
    for round in 0..ns[0].len() {
        let [off, production, diagnostic] = [&ns[0], &ns[1], &ns[2]].map(|v| v[round]);
        writeln!(
            file,
            "{},{off:.1},{production:.1},{diagnostic:.1}",
            workload.sink_spin
        )
        .expect("OBSERVABILITY_BENCH_DUMP: a writable file");
    }
}

/// The three levels interleaved (so machine noise hits them alike), each
/// round a flow per level, in a rotating order (so no level always runs
/// right after another); medians of ns/element, and the median of each
/// round's own ratio to off (the paired figure: drift between rounds
/// cancels out). One line per workload.
fn overhead_ratios(_: &mut Criterion) {
    let engine = engine();
    let host = host(&engine);
    if let Ok(name) = std::env::var("OBSERVABILITY_BENCH_LEVEL") {
        let Some(level) = LEVELS.into_iter().find(|l| l.as_str() == name) else {
            panic!("OBSERVABILITY_BENCH_LEVEL: off, production or diagnostic, not {name:?}");
        };
        let workload = Workload {
            elements: env_or("OBSERVABILITY_BENCH_ELEMENTS", 10_000),
            ..MINIMAL
        };
        let flows = env_or("OBSERVABILITY_BENCH_FLOWS", 20u64);
        let total: Duration = (0..flows)
            .map(|_| run_at(&host, &engine, level, workload))
            .sum();
        host.shutdown();
        println!(
            "observability {name}: {:.0} ns/element ({flows} flows of {} elements)",
            total.as_nanos() as f64 / (flows * workload.elements) as f64,
            workload.elements
        );
        return;
    }
    // Warm-up: compile caches, pools, the arbiter.
    let warm_up = Workload {
        elements: 2_000,
        ..MINIMAL
    };
    run_at(&host, &engine, ObservabilityLevel::Off, warm_up);
    let only_minimal = std::env::var("OBSERVABILITY_BENCH_WORKLOADS").is_ok_and(|w| w == "minimal");
    for workload in [MINIMAL, BUSY_SINK] {
        if only_minimal && workload.sink_spin > 0 {
            continue;
        }
        let workload = Workload {
            rounds: env_or("OBSERVABILITY_BENCH_ROUNDS", workload.rounds),
            ..workload
        };
        paired_ratios(&host, &engine, workload);
    }
    let stats = host.trace_stats();
    host.shutdown();
    println!(
        "trace records handed to the consumer: {} (dropped {})",
        stats.records, stats.dropped
    );
}

fn paired_ratios(host: &TorvynHandle, engine: &WasmEngine, workload: Workload) {
    let rounds = workload.rounds;
    let mut ns: [Vec<f64>; 3] = Default::default();
    let mut ratios: [Vec<f64>; 2] = Default::default();
    for round in 0..rounds {
        let mut this_round = [0.0; 3];
        for step in 0..LEVELS.len() {
            let k = (round + step) % LEVELS.len();
            let d = run_at(host, engine, LEVELS[k], workload);
            this_round[k] = d.as_nanos() as f64 / workload.elements as f64;
        }
        for k in 0..3 {
            ns[k].push(this_round[k]);
        }
        ratios[0].push(this_round[0] / this_round[1]);
        ratios[1].push(this_round[0] / this_round[2]);
    }
    dump_rounds(workload, &ns);
    let [(p_low, p_high), (d_low, d_high)] = [&ratios[0], &ratios[1]].map(|r| median_interval(r));
    let [off, production, diagnostic] = ns.map(median);
    let [production_ratio, diagnostic_ratio] = ratios.map(median);
    let percent = |ratio: f64| (ratio - 1.0) * 100.0;
    println!(
        "observability overhead, {} ({} elements × {rounds} rounds): \
         medians off {off:.0} ns/element, production {production:.0} (+{:.0} ns), diagnostic {diagnostic:.0} (+{:.0} ns); \
         median paired throughput ratio production ×{production_ratio:.4} ({:+.2} %, 95 % CI {:+.2} … {:+.2} %), \
         diagnostic ×{diagnostic_ratio:.4} ({:+.2} %, 95 % CI {:+.2} … {:+.2} %)",
        workload.name,
        workload.elements,
        production - off,
        diagnostic - off,
        percent(production_ratio),
        percent(p_low),
        percent(p_high),
        percent(diagnostic_ratio),
        percent(d_low),
        percent(d_high),
    );
}

criterion_group!(benches, overhead_ratios, per_level);
criterion_main!(benches);
