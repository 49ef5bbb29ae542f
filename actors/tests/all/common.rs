//! Shared helpers: one engine and compiled components per test process.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use torvyn_actors::{
    FlowId, FlowSpec, FlowState, TorvynHandle, TorvynHost, TraceBatch, TraceBatchKind,
    TraceConsumer,
};
use torvyn_runtime::config::ObservabilityLevel;
use torvyn_runtime::engine::{EngineConfig, WasmEngine};
use torvyn_runtime::reactor::trace::StageRecord;
use torvyn_runtime::reactor::{
    EdgeSpec, FlowSettings, FlowSpec as GraphSpec, StageRole, StageSpec, StreamSettings,
    TraceRecord,
};

/// One engine for the whole test binary (compiled components are shared).
pub fn engine() -> &'static WasmEngine {
    static ENGINE: OnceLock<WasmEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        WasmEngine::new(EngineConfig {
            fuel_per_invocation: 1_000_000,
            cache_dir: None,
            ..EngineConfig::default()
        })
        .expect("engine")
    })
}

/// A stage of `component` named `name`.
pub fn stage(name: &str, component_name: &str, role: StageRole, config: &str) -> StageSpec {
    torvyn_e2e::test_stage(engine(), name, component_name, role, config)
}

/// counter-source (`count`) → passthrough → quiet-sink.
pub fn source_pass_sink(count: u64) -> Vec<StageSpec> {
    vec![
        stage(
            "source",
            "counter-source",
            StageRole::Source,
            &format!(r#"{{"count": {count}, "payload_size": 64}}"#),
        ),
        stage("pass", "passthrough", StageRole::Processor, ""),
        stage("sink", "quiet-sink", StageRole::Sink, ""),
    ]
}

/// counter-source (`count`) → `sink` (configured with `sink_config`), on
/// an engine of the test's own.
pub fn source_sink_on(
    engine: &WasmEngine,
    count: u64,
    sink: &str,
    sink_config: &str,
) -> Vec<StageSpec> {
    let config = format!(r#"{{"count": {count}}}"#);
    vec![
        torvyn_e2e::test_stage(
            engine,
            "source",
            "counter-source",
            StageRole::Source,
            config,
        ),
        torvyn_e2e::test_stage(engine, "sink", sink, StageRole::Sink, sink_config),
    ]
}

/// counter-source (`count`) → passthrough → quiet-sink, plus the
/// pass-through's `dead-letter` port → a second quiet-sink (`dlq`).
pub fn dead_letter_graph(count: u64) -> GraphSpec {
    let mut stages = source_pass_sink(count);
    stages.push(stage("dlq", "quiet-sink", StageRole::Sink, ""));
    let edge = |from, port: &str, to, name: &str| EdgeSpec {
        name: name.into(),
        from,
        from_port: port.into(),
        to,
        settings: StreamSettings::default(),
        priority: 0,
    };
    GraphSpec {
        stages,
        edges: vec![
            edge(0, "output", 1, "source-to-pass"),
            edge(1, "output", 2, "pass-to-sink"),
            edge(1, "dead-letter", 3, "pass-to-dlq"),
        ],
    }
}

/// A flow spec named `name`.
pub fn spec(name: &str, stages: Vec<StageSpec>) -> FlowSpec {
    FlowSpec::new(stages).with_settings(FlowSettings {
        flow_name: name.into(),
        ..FlowSettings::default()
    })
}

/// A host with `workers` worker arbiters on the shared engine.
pub fn host(workers: usize) -> TorvynHandle {
    host_on(engine(), workers)
}

/// A host with `workers` worker arbiters on `engine`.
pub fn host_on(engine: &WasmEngine, workers: usize) -> TorvynHandle {
    TorvynHost::builder()
        .engine(engine.clone())
        .worker_threads(workers)
        .build()
        .expect("host starts")
}

/// Keeps every stage record the host exports.
pub struct Collect(pub Arc<Mutex<Vec<StageRecord>>>);

impl TraceConsumer for Collect {
    fn consume(&mut self, batch: &TraceBatch) {
        if let TraceBatchKind::Records(records) = &batch.kind {
            let mut kept = self.0.lock().expect("records");
            kept.extend(records.iter().filter_map(|r| match r {
                TraceRecord::Stage(stage) => Some(*stage),
                _ => None,
            }));
        }
    }
}

/// A one-worker host at `level` that keeps every stage record it exports.
pub fn collecting_host(level: ObservabilityLevel) -> (TorvynHandle, Arc<Mutex<Vec<StageRecord>>>) {
    let records = Arc::new(Mutex::new(Vec::new()));
    let host = TorvynHost::builder()
        .engine(engine().clone())
        .worker_threads(1)
        .trace_consumer(Box::new(Collect(records.clone())))
        .build()
        .expect("host starts");
    host.set_observability_level(level);
    (host, records)
}

/// The value of the sample line that is exactly `series` in a Prometheus
/// scrape.
pub fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Polls `inspect` until `cond` holds (panics after 20 s).
pub fn wait_until(
    host: &TorvynHandle,
    id: FlowId,
    what: &str,
    cond: impl Fn(&torvyn_actors::FlowInspection) -> bool,
) -> torvyn_actors::FlowInspection {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let inspection = host.inspect(id).expect("inspect");
        if cond(&inspection) {
            return inspection;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {inspection:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits until the flow has delivered at least `n` elements.
pub fn wait_delivered(host: &TorvynHandle, id: FlowId, n: u64) {
    wait_until(host, id, "deliveries", |i| {
        i.counters.elements_delivered >= n || i.state.is_terminal()
    });
    let state = host.inspect(id).expect("inspect").state;
    assert!(!state.is_terminal(), "flow ended early: {state}");
    let _ = FlowState::Running;
}

/// Guest output an embedder takes instead of the process's stdout.
#[derive(Default)]
pub struct Captured(std::sync::Mutex<Vec<u8>>, std::sync::atomic::AtomicUsize);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("captured").clone()).expect("utf-8 output")
    }
}

impl torvyn_runtime::engine::GuestOutput for Captured {
    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.lock().expect("captured").extend_from_slice(bytes);
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// An engine of the test's own whose guests' stdout goes to the returned
/// [`Captured`].
pub fn engine_capturing_stdout() -> (WasmEngine, std::sync::Arc<Captured>) {
    let captured = std::sync::Arc::new(Captured::default());
    let engine = WasmEngine::new(EngineConfig {
        cache_dir: None,
        guest_outputs: torvyn_runtime::engine::GuestOutputs {
            stdout: Some(captured.clone()),
            stderr: None,
        },
        ..EngineConfig::default()
    })
    .expect("engine");
    (engine, captured)
}
