//! Restart latency: how long supervision takes from a trap to the next
//! element processed by the fresh instance.
//!
//! `cargo bench -p torvyn-benches --bench restart`
//!
//! Two runs of the same counter-source → passthrough → quiet-sink flow in
//! one process: one clean, one whose pass-through traps every 10th call
//! (an injected trap; the instance is poisoned exactly as by a real one)
//! and is restarted each time. The difference in flow time (corrected for
//! the skipped elements' work) divided by the number of restarts is the
//! restart latency: dropping the poisoned store,
//! instantiating a fresh one from the cached `InstancePre`, reclaiming the
//! old instance's buffers and calling `lifecycle.init` again. Each side is
//! the median of several runs.

use std::time::Duration;
use torvyn_benches::stages::source_pass_sink;
use torvyn_runtime::engine::{EngineConfig, WasmEngine};
use torvyn_runtime::reactor::supervision::{Fault, FaultKind, Intensity};
use torvyn_runtime::reactor::{FlowSettings, LinearFlow};

const ELEMENTS: u64 = 20_000;
const TRAP_EVERY: u64 = 10;
const RUNS: usize = 5;

fn median_duration(engine: &WasmEngine, faults: &[Fault]) -> (Duration, u64) {
    let mut runs: Vec<(Duration, u64)> = (0..RUNS)
        .map(|_| {
            let mut settings = FlowSettings {
                faults: faults.to_vec(),
                ..FlowSettings::default()
            };
            settings.supervision.intensity = Intensity {
                max_restarts: u32::MAX,
                window: Duration::from_secs(1),
            };
            let report = LinearFlow::start(engine, source_pass_sink(engine, ELEMENTS), settings)
                .expect("starts")
                .run_to_completion()
                .expect("completes");
            (report.duration, report.stages[1].restarts)
        })
        .collect();
    runs.sort();
    runs[RUNS / 2]
}

fn main() {
    let engine = WasmEngine::new(EngineConfig {
        fuel_per_invocation: 1_000_000,
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("engine");
    let faults: Vec<Fault> = (1..ELEMENTS / TRAP_EVERY)
        .map(|k| Fault {
            node: "pass".into(),
            at: k * TRAP_EVERY,
            kind: FaultKind::Trap,
        })
        .collect();
    let (clean, _) = median_duration(&engine, &[]);
    let (faulty, restarts) = median_duration(&engine, &faults);
    // Each trapped element is skipped downstream: add back the work it
    // did not cost (the clean flow's time per element).
    let per_element = clean.as_secs_f64() / ELEMENTS as f64;
    let per_restart = (faulty.as_secs_f64() - clean.as_secs_f64() + restarts as f64 * per_element)
        / restarts.max(1) as f64;
    println!(
        "restart latency: {restarts} restarts in {ELEMENTS} elements; clean flow {:.1} ms, \
         with restarts {:.1} ms -> {:.1} µs per restart (trap -> next element on the fresh instance)",
        clean.as_secs_f64() * 1e3,
        faulty.as_secs_f64() * 1e3,
        per_restart * 1e6
    );
}
