//! The same guests three ways, in one run: a bare Wasmtime loop (the
//! floor), Torvyn's synchronous stage loop, and the full actor runtime
//! (`TorvynHandle`), for source → sink, source → processor → sink and
//! source → filter → sink, with 64-byte and 4 KiB payloads.
//!
//! `cargo bench -p torvyn-benches --bench pipeline`
//!
//! Throughput is per source element (a filter passes half of them). The
//! stage loop and bare loop run one never-ending source; the actor runtime
//! runs one flow of exactly the iteration count per sample, timed by the
//! flow's own report (first pull to completion), so instantiation is not
//! counted anywhere.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use torvyn_actors::{FlowSpec as ActorFlowSpec, TorvynHandle, TorvynHost};
use torvyn_benches::bare::{BarePipeline, Middle};
use torvyn_benches::stages::test_stage;
use torvyn_runtime::engine::{EngineConfig, WasmEngine};
use torvyn_runtime::reactor::{FlowSettings, LinearFlow, StageRole, StageSpec};

const FUEL: u64 = 1_000_000;

/// A pipeline shape: its name and its middle stage, if any.
struct Shape {
    name: &'static str,
    middle: Option<(Middle, &'static str)>,
}

const SHAPES: [Shape; 3] = [
    Shape {
        name: "source_sink",
        middle: None,
    },
    Shape {
        name: "source_processor_sink",
        middle: Some((Middle::Processor, "passthrough")),
    },
    Shape {
        name: "source_filter_sink",
        middle: Some((Middle::Filter, "even-filter")),
    },
];

fn wasm(name: &str) -> PathBuf {
    torvyn_e2e::test_component(name)
}

fn stages(engine: &WasmEngine, shape: &Shape, source_config: &str) -> Vec<StageSpec> {
    let stage = |name: &str, component: &str, role, config: &str| {
        test_stage(engine, name, component, role, config)
    };
    let mut v = vec![stage(
        "source",
        "counter-source",
        StageRole::Source,
        source_config,
    )];
    if let Some((kind, component)) = shape.middle {
        let role = match kind {
            Middle::Processor => StageRole::Processor,
            Middle::Filter => StageRole::Filter,
        };
        v.push(stage("middle", component, role, ""));
    }
    v.push(stage("sink", "quiet-sink", StageRole::Sink, ""));
    v
}

/// Source elements per delivered element.
fn pulls_per_delivery(shape: &Shape) -> u64 {
    match shape.middle {
        Some((Middle::Filter, _)) => 2,
        _ => 1,
    }
}

fn pipelines(c: &mut Criterion) {
    let engine = WasmEngine::new(EngineConfig {
        fuel_per_invocation: FUEL,
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("engine");
    let host = TorvynHost::builder()
        .engine(engine.clone())
        .worker_threads(1)
        .build()
        .expect("host");
    for shape in &SHAPES {
        let mut group = c.benchmark_group(shape.name);
        group.throughput(Throughput::Elements(1));
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
        for payload in [64usize, 4096] {
            let endless = format!(r#"{{"count": 0, "payload_size": {payload}}}"#);
            bench_bare(&mut group, shape, payload, &endless);
            bench_stage_loop(&mut group, &engine, shape, payload, &endless);
            bench_actor_runtime(&mut group, &host, &engine, shape, payload);
        }
        group.finish();
    }
    host.shutdown();
}

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn bench_bare(group: &mut Group<'_>, shape: &Shape, payload: usize, config: &str) {
    let middle_wasm = shape.middle.map(|(kind, name)| (kind, wasm(name)));
    let mut bare = BarePipeline::with_middle(
        &wasm("counter-source"),
        config,
        middle_wasm.as_ref().map(|(k, p)| (*k, p.as_path())),
        &wasm("quiet-sink"),
        FUEL,
    );
    let per = pulls_per_delivery(shape);
    group.bench_function(BenchmarkId::new("bare_wasmtime", payload), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let delivered = bare.run(iters);
            assert!(
                delivered * per >= iters.saturating_sub(1),
                "{delivered} of {iters}"
            );
            start.elapsed()
        })
    });
}

fn bench_stage_loop(
    group: &mut Group<'_>,
    engine: &WasmEngine,
    shape: &Shape,
    payload: usize,
    config: &str,
) {
    let mut flow = LinearFlow::start(
        engine,
        stages(engine, shape, config),
        FlowSettings::default(),
    )
    .expect("flow starts");
    let per = pulls_per_delivery(shape);
    group.bench_function(BenchmarkId::new("stage_loop", payload), |b| {
        b.iter_custom(|iters| {
            let target = flow.report_delivered() + iters.div_ceil(per);
            let start = Instant::now();
            while flow.report_delivered() < target {
                flow.run_batch(64).expect("flow runs");
            }
            start.elapsed()
        })
    });
}

fn bench_actor_runtime(
    group: &mut Group<'_>,
    host: &TorvynHandle,
    engine: &WasmEngine,
    shape: &Shape,
    payload: usize,
) {
    group.bench_function(BenchmarkId::new("actor_runtime", payload), |b| {
        b.iter_custom(|iters| {
            let config = format!(r#"{{"count": {iters}, "payload_size": {payload}}}"#);
            let id = host
                .start_flow(ActorFlowSpec::new(stages(engine, shape, &config)))
                .expect("starts");
            let report = host.await_completion(id).expect("runs");
            assert_eq!(report.elements_pulled, iters);
            report.duration
        })
    });
}

criterion_group!(benches, pipelines);
criterion_main!(benches);
