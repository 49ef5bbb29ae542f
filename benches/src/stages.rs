//! The stages benchmarks build from the test components
//! (`examples/test-components`).

use torvyn_runtime::engine::WasmEngine;
use torvyn_runtime::reactor::{StageRole, StageSpec};

/// Node `name` running test component `component` in `role`, with `config`
/// passed to `lifecycle.init`, default sandbox and scheduling.
///
/// # Panics
///
/// Panics when the component cannot be built or loaded (a benchmark has
/// nothing to measure then).
pub fn test_stage(
    engine: &WasmEngine,
    name: &str,
    component: &str,
    role: StageRole,
    config: String,
) -> StageSpec {
    StageSpec {
        name: name.into(),
        component: engine
            .load_component(&torvyn_e2e::test_component(component))
            .expect("component"),
        role,
        config,
        sandbox: Default::default(),
        scheduling: Default::default(),
    }
}

/// `counter-source` emitting `count` elements of 64 bytes.
pub fn counter_source(engine: &WasmEngine, count: u64) -> StageSpec {
    test_stage(
        engine,
        "source",
        "counter-source",
        StageRole::Source,
        format!(r#"{{"count": {count}, "payload_size": 64}}"#),
    )
}

/// counter-source (`count` × 64 bytes) → passthrough → quiet-sink.
pub fn source_pass_sink(engine: &WasmEngine, count: u64) -> Vec<StageSpec> {
    vec![
        counter_source(engine, count),
        test_stage(
            engine,
            "pass",
            "passthrough",
            StageRole::Processor,
            String::new(),
        ),
        test_stage(engine, "sink", "quiet-sink", StageRole::Sink, String::new()),
    ]
}

/// counter-source (`count` × 64 bytes) → passthrough → slow-sink spinning
/// `spin` busy-loop iterations per element: the minimal pipeline with a
/// sink that does real work.
pub fn source_pass_busy_sink(engine: &WasmEngine, count: u64, spin: u64) -> Vec<StageSpec> {
    vec![
        counter_source(engine, count),
        test_stage(
            engine,
            "pass",
            "passthrough",
            StageRole::Processor,
            String::new(),
        ),
        test_stage(
            engine,
            "sink",
            "slow-sink",
            StageRole::Sink,
            format!(r#"{{"spin": {spin}}}"#),
        ),
    ]
}
