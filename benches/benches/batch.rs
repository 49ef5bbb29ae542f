//! Per-element against batch calls on the same logic, in one run: the
//! stage loop driving `counter-source` → [`uppercase` →] `quiet-sink`
//! (per element) and their batch twins `batch-counter-source` →
//! [`batch-uppercase` →] `batch-quiet-sink` (`torvyn:batching`), for 2 and
//! 3 stages, with 64-byte and 4 KiB payloads.
//!
//! `cargo bench -p torvyn-benches --bench batch`
//!
//! Throughput is per delivered element. Both forms run one never-ending
//! source in batches of [`STEPS`] stage steps (a batch call of `k`
//! elements counts `k` steps, so both forms get the same budget per
//! `run_batch`); instantiation is not counted.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::{Duration, Instant};
use torvyn_benches::stages::test_stage;
use torvyn_runtime::engine::{EngineConfig, WasmEngine};
use torvyn_runtime::reactor::{FlowSettings, LinearFlow, StageRole, StageSpec};

/// Stage steps per `run_batch` (the flow's batch limit).
const STEPS: usize = 64;

/// The components of one form: source, processor, sink.
struct Form {
    name: &'static str,
    source: &'static str,
    processor: &'static str,
    sink: &'static str,
}

const FORMS: [Form; 2] = [
    Form {
        name: "per_element",
        source: "counter-source",
        processor: "uppercase",
        sink: "quiet-sink",
    },
    Form {
        name: "batch",
        source: "batch-counter-source",
        processor: "batch-uppercase",
        sink: "batch-quiet-sink",
    },
];

fn stages(engine: &WasmEngine, form: &Form, stages: usize, payload: usize) -> Vec<StageSpec> {
    let config = format!(r#"{{"count": 0, "payload_size": {payload}}}"#);
    let mut v = vec![test_stage(
        engine,
        "source",
        form.source,
        StageRole::Source,
        config,
    )];
    if stages == 3 {
        v.push(test_stage(
            engine,
            "upper",
            form.processor,
            StageRole::Processor,
            "",
        ));
    }
    v.push(test_stage(engine, "sink", form.sink, StageRole::Sink, ""));
    v
}

fn batches(c: &mut Criterion) {
    // `[runtime]` defaults: no fuel metering (it would weigh on the
    // guests' own work, the same in both forms).
    let engine = WasmEngine::new(EngineConfig {
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("engine");
    for count in [2usize, 3] {
        let mut group = c.benchmark_group(format!("batch_{count}_stages"));
        group.throughput(Throughput::Elements(1));
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
        for payload in [64usize, 4096] {
            for form in &FORMS {
                let mut flow = LinearFlow::start(
                    &engine,
                    stages(&engine, form, count, payload),
                    FlowSettings::default(),
                )
                .expect("flow starts");
                group.bench_function(BenchmarkId::new(form.name, payload), |b| {
                    b.iter_custom(|iters| {
                        let target = flow.report_delivered() + iters;
                        let start = Instant::now();
                        while flow.report_delivered() < target {
                            flow.run_batch(STEPS).expect("flow runs");
                        }
                        start.elapsed()
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, batches);
criterion_main!(benches);
