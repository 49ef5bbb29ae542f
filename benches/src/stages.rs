//! The stages benchmarks build from the test components
//! (`examples/test-components`).

use torvyn_runtime::engine::WasmEngine;
use torvyn_runtime::reactor::{StageRole, StageSpec};

pub use torvyn_e2e::test_stage;

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
    let sink = test_stage(engine, "sink", "quiet-sink", StageRole::Sink, "");
    source_pass_into(engine, count, sink)
}

/// counter-source (`count` × 64 bytes) → passthrough → slow-sink spinning
/// `spin` busy-loop iterations per element: the minimal pipeline with a
/// sink that does real work.
pub fn source_pass_busy_sink(engine: &WasmEngine, count: u64, spin: u64) -> Vec<StageSpec> {
    let config = format!(r#"{{"spin": {spin}}}"#);
    let sink = test_stage(engine, "sink", "slow-sink", StageRole::Sink, config);
    source_pass_into(engine, count, sink)
}

/// counter-source (`count` × 64 bytes) → passthrough → `sink`.
fn source_pass_into(engine: &WasmEngine, count: u64, sink: StageSpec) -> Vec<StageSpec> {
    let pass = test_stage(engine, "pass", "passthrough", StageRole::Processor, "");
    vec![counter_source(engine, count), pass, sink]
}
