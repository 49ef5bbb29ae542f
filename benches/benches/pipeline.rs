//! counter-source → quiet-sink through Torvyn's stage loop, next to the
//! same guest calls made by a bare Wasmtime loop (the floor), in one run.
//!
//! `cargo bench -p torvyn-benches --bench pipeline`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Instant;
use torvyn_benches::bare::BarePipeline;
use torvyn_runtime::engine::{EngineConfig, WasmEngine};
use torvyn_runtime::reactor::{FlowSettings, LinearFlow, StageRole, StageSpec};
use torvyn_runtime::security::SandboxConfig;

const FUEL: u64 = 1_000_000;

fn source_sink(c: &mut Criterion) {
    let source = torvyn_e2e::test_component("counter-source");
    let sink = torvyn_e2e::test_component("quiet-sink");
    let mut group = c.benchmark_group("source_sink");
    for payload in [64usize, 4096] {
        let config = format!(r#"{{"count": 0, "payload_size": {payload}}}"#);
        group.throughput(Throughput::Elements(1));

        let mut bare = BarePipeline::new(&source, &config, &sink, FUEL);
        group.bench_function(BenchmarkId::new("bare_wasmtime", payload), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                let delivered = bare.run(iters);
                assert_eq!(delivered, iters);
                start.elapsed()
            })
        });

        let engine = WasmEngine::new(EngineConfig {
            fuel_per_invocation: FUEL,
            cache_dir: None,
            ..EngineConfig::default()
        })
        .expect("engine");
        let specs = vec![
            StageSpec {
                name: "source".into(),
                component: engine.load_component(&source).expect("source"),
                role: StageRole::Source,
                config,
                sandbox: SandboxConfig::default(),
                scheduling: Default::default(),
            },
            StageSpec {
                name: "sink".into(),
                component: engine.load_component(&sink).expect("sink"),
                role: StageRole::Sink,
                config: String::new(),
                sandbox: SandboxConfig::default(),
                scheduling: Default::default(),
            },
        ];
        let mut flow =
            LinearFlow::start(&engine, specs, FlowSettings::default()).expect("flow starts");
        group.bench_function(BenchmarkId::new("stage_loop", payload), |b| {
            b.iter_custom(|iters| {
                let before = flow.report().elements_delivered;
                let start = Instant::now();
                // Each element is one pull and one push.
                while flow.report_delivered() < before + iters {
                    flow.run_batch(64).expect("flow runs");
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, source_sink);
criterion_main!(benches);
