//! The price of bounding guest calls, in one run: counter-source →
//! processor → quiet-sink on the stage loop with fuel metering
//! (`fuel_per_invocation = 1_000_000`), with an epoch deadline
//! (`max_invocation_time_ms = 1000`), with both, and with neither.
//!
//! A probe rather than a criterion bench: the three engines run in
//! interleaved rounds (so load from other processes hits all three alike)
//! and the report gives, per mode, the best and the median round's time per
//! element and their ratio to "neither". Two processors: `passthrough` (the
//! guest does almost nothing itself: the copy is a host call) and
//! `uppercase` (a guest loop over every payload byte).
//!
//! `cargo bench -p torvyn-benches --bench limits` (`LIMITS_ROUNDS`,
//! `LIMITS_ELEMENTS`, `LIMITS_PAYLOAD` override 30 rounds of 20,000
//! elements of 4096 bytes).

use std::path::Path;
use std::time::{Duration, Instant};
use torvyn_runtime::engine::{EngineConfig, WasmEngine};
use torvyn_runtime::reactor::{FlowSettings, LinearFlow, StageRole, StageSpec};
use torvyn_runtime::security::SandboxConfig;

/// The ways of bounding a call.
fn modes() -> [(&'static str, EngineConfig); 4] {
    let neither = EngineConfig {
        fuel_per_invocation: 0,
        max_invocation_time_ms: 0,
        init_timeout_ms: 0,
        teardown_timeout_ms: 0,
        cache_dir: None,
        ..EngineConfig::default()
    };
    [
        ("neither", neither.clone()),
        (
            "fuel",
            EngineConfig {
                fuel_per_invocation: 1_000_000,
                ..neither.clone()
            },
        ),
        (
            "epoch",
            EngineConfig {
                max_invocation_time_ms: 1000,
                ..neither.clone()
            },
        ),
        (
            "both",
            EngineConfig {
                fuel_per_invocation: 1_000_000,
                max_invocation_time_ms: 1000,
                ..neither
            },
        ),
    ]
}

fn stage(engine: &WasmEngine, name: &str, wasm: &Path, role: StageRole, config: &str) -> StageSpec {
    StageSpec {
        name: name.into(),
        component: engine.load_component(wasm).expect("component loads").into(),
        role,
        config: config.into(),
        sandbox: SandboxConfig::default(),
        scheduling: Default::default(),
    }
}

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `elements` more elements through `flow`; the time it took.
fn run(flow: &mut LinearFlow, elements: u64) -> Duration {
    let before = flow.report_delivered();
    let start = Instant::now();
    while flow.report_delivered() < before + elements {
        flow.run_batch(64).expect("flow runs");
    }
    start.elapsed()
}

fn main() {
    let rounds = env_or("LIMITS_ROUNDS", 30) as usize;
    let elements = env_or("LIMITS_ELEMENTS", 20_000);
    let payload = env_or("LIMITS_PAYLOAD", 4096);
    let source = torvyn_e2e::test_component("counter-source");
    let sink = torvyn_e2e::test_component("quiet-sink");
    for processor in ["passthrough", "uppercase"] {
        let wasm = torvyn_e2e::test_component(processor);
        let config = format!(r#"{{"count": 0, "payload_size": {payload}}}"#);
        let config = config.as_str();
        let mut flows: Vec<(&str, LinearFlow)> = modes()
            .into_iter()
            .map(|(label, engine_config)| {
                let engine = WasmEngine::new(engine_config).expect("engine");
                let specs = vec![
                    stage(&engine, "source", &source, StageRole::Source, config),
                    stage(&engine, "proc", &wasm, StageRole::Processor, ""),
                    stage(&engine, "sink", &sink, StageRole::Sink, ""),
                ];
                let flow = LinearFlow::start(&engine, specs, FlowSettings::default())
                    .expect("flow starts");
                (label, flow)
            })
            .collect();
        for (_, flow) in &mut flows {
            run(flow, elements / 4); // warm-up
        }
        let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); flows.len()];
        for _ in 0..rounds {
            for (i, (_, flow)) in flows.iter_mut().enumerate() {
                let t = run(flow, elements);
                times[i].push(t.as_nanos() as f64 / elements as f64);
            }
        }
        for t in &mut times {
            t.sort_by(f64::total_cmp);
        }
        let best = |i: usize| times[i][0];
        let median = |i: usize| times[i][times[i].len() / 2];
        println!(
            "counter-source -> {processor} -> quiet-sink, {payload}-byte payloads, {rounds} rounds x {elements} elements"
        );
        for (i, (label, _)) in flows.iter().enumerate() {
            println!(
                "  {label:8} best {:8.0} ns/elem ({:.3}x)  median {:8.0} ns/elem ({:.3}x)",
                best(i),
                best(i) / best(0),
                median(i),
                median(i) / median(0)
            );
        }
    }
}
