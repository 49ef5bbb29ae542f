//! The synchronous stage loop: runs a flow — any DAG of sources,
//! processors, filters, routers, aggregators and sinks — on the current
//! thread, in bounded batches, with no actors.
//!
//! Scheduling is consumer-first and demand-driven: each step runs the most
//! downstream stage that has input and credit on its output streams (all of
//! them: a fan-out moves at the pace of its slowest branch), and pulls from
//! a source only when nothing downstream can run. Every stream is a
//! fixed-capacity ring with a credit ledger, a watermark (backpressure with
//! hysteresis) and an overflow policy. End of stream propagates downstream:
//! a stage finishes once all its inputs ended and drained, and every sink
//! gets `complete()` exactly once.

use super::backpressure::{Policy, RateLimiter, StreamSettings, Watermark, WatermarkChange};
use super::clock::{FlowClock, Tick};
use super::credit::CreditLedger;
use super::element::QueuedElement;
use super::error::FlowError;
use super::events::{EventBuffer, FlowEvent};
use super::histogram::{FlowHistograms, SampleBuffer};
use super::latency::LatencyRecorder;
use super::queue::BoundedQueue;
use super::report::{FlowReport, StageReport, StreamReport};
use super::supervision::{
    ErrorPolicy, ExitKind, Fault, FaultKind, FlowSupervision, NodeSupervision, RestartWindow,
};
use super::trace::{StageOutcome, TraceContext, TraceMode, TraceRecorder, TraceSettings};
use crate::config::ObservabilityLevel;
use crate::engine::bindings::types::{
    BackpressureSignal, ElementMeta, FlowContext, OutputElement, ProcessError, ProcessResult,
    StreamElement,
};
use crate::engine::{
    CompiledComponent, ComponentInstance, FlowContextData, FlowShared, TorvynInterface, WasmEngine,
};
use crate::resources::{
    BufferId, BufferPool, ComponentId, CopyReason, PoolConfig, PoolStats, ResourceError,
    ResourceLimits, ResourceManager, SharedPool, Tier,
};
use crate::security::SandboxConfig;
use stage_failures::{CallFailure, DEAD_LETTER_PORT};
use stage_observe::{CallProbe, TimingWindow};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::Resource;

#[path = "stage_failures.rs"]
mod stage_failures;
#[path = "stage_observe.rs"]
mod stage_observe;

/// What a stage does in a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageRole {
    /// Produces elements (`source.pull`).
    Source,
    /// Transforms elements (`processor.process`).
    Processor,
    /// Passes or drops elements (`filter.evaluate`).
    Filter,
    /// Sends each element to the named output ports (`router.route`).
    Router,
    /// Absorbs elements, emits aggregates (`aggregator.ingest` / `flush`).
    Aggregator,
    /// Consumes elements (`sink.push` / `complete`).
    Sink,
}

impl StageRole {
    /// The role a node's declared `interface` gives it.
    pub fn from_interface(interface: TorvynInterface) -> Option<Self> {
        match interface {
            TorvynInterface::Source => Some(StageRole::Source),
            TorvynInterface::Processor => Some(StageRole::Processor),
            TorvynInterface::Filter => Some(StageRole::Filter),
            TorvynInterface::Router => Some(StageRole::Router),
            TorvynInterface::Aggregator => Some(StageRole::Aggregator),
            TorvynInterface::Sink => Some(StageRole::Sink),
            TorvynInterface::Lifecycle => None,
        }
    }

    /// The interface a component must export to play this role.
    pub fn interface(self) -> TorvynInterface {
        match self {
            StageRole::Source => TorvynInterface::Source,
            StageRole::Processor => TorvynInterface::Processor,
            StageRole::Filter => TorvynInterface::Filter,
            StageRole::Router => TorvynInterface::Router,
            StageRole::Aggregator => TorvynInterface::Aggregator,
            StageRole::Sink => TorvynInterface::Sink,
        }
    }
}

/// One node of a flow.
#[derive(Clone)]
pub struct StageSpec {
    /// Node name.
    pub name: String,
    /// Its compiled component.
    pub component: CompiledComponent,
    /// Its role.
    pub role: StageRole,
    /// The string passed to `lifecycle.init`.
    pub config: String,
    /// Its WASI authority, from its resolved capability grants.
    pub sandbox: SandboxConfig,
    /// How it shares demand across its outputs and merges its inputs.
    pub scheduling: NodeScheduling,
}

/// How a producer with several output streams (a fan-out) is gated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FanOut {
    /// The producer runs only when every gating output (`block`,
    /// `rate-limit`) can take an element: it never outruns the slowest
    /// consumer, and nothing is lost.
    #[default]
    MinDemand,
    /// The producer runs when any output can take an element, so fast
    /// branches pull ahead; a gating branch that cannot take an element
    /// when it is emitted misses it (counted per stream as `lagged`).
    IndependentPerBranch,
}

/// How a consumer with several input streams (a fan-in) picks its next
/// element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Merge {
    /// Equal turns: the next non-empty input after the last one served.
    #[default]
    RoundRobin,
    /// The non-empty input with the highest [`EdgeSpec::priority`] first
    /// (ties in edge order).
    Priority,
}

/// A node's fan-out and fan-in policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeScheduling {
    /// Fan-out gating.
    pub fan_out: FanOut,
    /// Fan-in merge.
    pub merge: Merge,
}

/// One stream (edge) of a flow.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeSpec {
    /// Stream name (`source-to-sink`).
    pub name: String,
    /// Index of the upstream stage.
    pub from: usize,
    /// The upstream's output port (a router's port name; `output` otherwise).
    pub from_port: String,
    /// Index of the downstream stage.
    pub to: usize,
    /// Queue and backpressure settings.
    pub settings: StreamSettings,
    /// Merge priority at its consumer under [`Merge::Priority`] (higher
    /// first; default 0).
    pub priority: u32,
}

/// The stages and streams of a flow.
#[derive(Clone)]
pub struct FlowSpec {
    /// Stages, in any order (indices are used by the edges).
    pub stages: Vec<StageSpec>,
    /// Streams.
    pub edges: Vec<EdgeSpec>,
}

impl FlowSpec {
    /// A chain: `stages[0]` → `stages[1]` → … with the same stream settings everywhere.
    pub fn linear(stages: Vec<StageSpec>, settings: StreamSettings) -> Self {
        let edges = (1..stages.len())
            .map(|i| EdgeSpec {
                name: format!("{}-to-{}", stages[i - 1].name, stages[i].name),
                from: i - 1,
                from_port: "output".into(),
                to: i,
                settings,
                priority: 0,
            })
            .collect();
        Self { stages, edges }
    }
}

/// Flow-wide settings.
#[derive(Debug, Clone)]
pub struct FlowSettings {
    /// Flow name.
    pub flow_name: String,
    /// Queue capacity of each stream of a flow built with [`Flow::start`].
    pub queue_depth: usize,
    /// Buffer pools (for a flow without `shared_pool`: its private,
    /// on-demand pools).
    pub pools: PoolConfig,
    /// The host's shared pools the flow's buffer cache refills from
    /// (`None`: private pools from `pools`).
    pub shared_pool: Option<Arc<SharedPool>>,
    /// Buffer limits.
    pub limits: ResourceLimits,
    /// Pull at most this many elements from the sources, in all.
    pub element_limit: Option<u64>,
    /// Stop with E0400 when the flow runs longer.
    pub deadline: Option<Duration>,
    /// Individual copy records to keep (0 = counters only).
    pub copy_records: usize,
    /// Measure the wall time of every component call (two clock reads per
    /// call) and each element's end-to-end latency (one more per delivered
    /// element), into histograms in [`FlowReport::latency`] (7.3 KiB per
    /// stage, allocated at start). Off unless a report needs them.
    pub stage_timing: bool,
    /// Undrained events kept before new ones are counted as dropped.
    pub event_capacity: usize,
    /// Restart strategy and intensity.
    pub supervision: FlowSupervision,
    /// Per-node restart types and error policies, by node name (nodes not
    /// listed get the defaults).
    pub node_supervision: Vec<(String, NodeSupervision)>,
    /// Faults to inject (tests).
    pub faults: Vec<Fault>,
    /// Set by the host to interrupt a running guest call (tiered
    /// cancellation); `None`: calls are never interrupted from outside.
    pub interrupt: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// What the flow measures at start (switch with
    /// [`Flow::set_observability`]): `off` times nothing (unless
    /// `stage_timing`); `production` times every call into `histograms`
    /// and traces sampled elements; `diagnostic` traces every element.
    pub observability: ObservabilityLevel,
    /// The catalog's histograms, updated at `production` and above
    /// (`None`: none kept).
    pub histograms: Option<Arc<FlowHistograms>>,
    /// Sampling, promotion and buffer sizes of the per-element trace.
    pub trace: TraceSettings,
    /// The flow's W3C trace identity, which components read through
    /// `flow-context` while tracing is on (`None`: empty ids).
    pub trace_context: Option<TraceContext>,
}

impl Default for FlowSettings {
    fn default() -> Self {
        Self {
            flow_name: "main".into(),
            queue_depth: StreamSettings::default().capacity,
            pools: PoolConfig::default(),
            shared_pool: None,
            limits: ResourceLimits::default(),
            element_limit: None,
            deadline: None,
            copy_records: 0,
            stage_timing: false,
            event_capacity: 1024,
            supervision: FlowSupervision::default(),
            node_supervision: Vec::new(),
            faults: Vec::new(),
            interrupt: None,
            observability: ObservabilityLevel::Off,
            histograms: None,
            trace: TraceSettings::default(),
            trace_context: None,
        }
    }
}

/// Whether a flow has more work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowProgress {
    /// More batches to run.
    Running,
    /// Nothing can run before this much time passes (rate limiting).
    Waiting(Duration),
    /// Every element reached a sink (or was dropped) and the flow is torn down.
    Finished,
}

struct Node {
    name: String,
    role: StageRole,
    instance: ComponentInstance,
    /// What a restart instantiates and initialises again.
    component: CompiledComponent,
    sandbox: SandboxConfig,
    config: String,
    supervision: NodeSupervision,
    /// Injected faults, by invocation, and the next one due.
    faults: Vec<(u64, FaultKind)>,
    next_fault: usize,
    /// Output streams that are not dead-letter streams.
    regular_outputs: usize,
    /// Whether a `dead-letter` stream leaves this node.
    has_dead_letter_stream: bool,
    restarts: u64,
    retries: u64,
    dead_lettered: u64,
    timeouts: u64,
    /// The component failed and was not restarted: the node is closed.
    ended_abnormally: bool,
    /// Re-used argument of every call (its strings keep their capacity).
    scratch: StreamElement,
    inputs: Vec<usize>,
    outputs: Vec<usize>,
    /// Round-robin position over `inputs` (fan-in).
    next_input: usize,
    scheduling: NodeScheduling,
    /// Aggregates from `flush`, emitted as credit allows.
    pending: VecDeque<QueuedElement>,
    flushed: bool,
    finished: bool,
    /// The source was told `pause` and must hear `ready` before its next pull.
    source_paused: bool,
    /// The sink answered `pause`: no delivery until the next batch.
    sink_paused: bool,
    invocations: u64,
    errors: u64,
    busy_ns: u64,
    /// Fuel burnt by the instances a restart replaced.
    fuel_of_replaced: u64,
}

struct Stream {
    /// Carries dead letters (its upstream port is `dead-letter`).
    dead_letter: bool,
    /// Its consumer ended abnormally: elements sent here are dropped.
    closed: bool,
    dropped_closed: u64,
    name: String,
    from: usize,
    from_port: String,
    to: usize,
    queue: BoundedQueue<QueuedElement>,
    credit: CreditLedger,
    settings: StreamSettings,
    watermark: Watermark,
    limiter: Option<RateLimiter>,
    upstream_ended: bool,
    transferred: u64,
    dropped_oldest: u64,
    dropped_newest: u64,
    /// Elements an independent fan-out branch missed because it was full.
    lagged: u64,
    /// Merge priority at the consumer.
    priority: u32,
}

impl Stream {
    /// Whether a gating stream can take an element now: credit, no active
    /// backpressure, and a rate-limit token if it has a limiter.
    // HOT PATH: one clock read per call at most, shared through `now`.
    fn accepts(&mut self, now: &mut Option<Instant>) -> bool {
        !self.watermark.is_active() && self.has_room(now)
    }

    /// Whether the queue has a free slot (credit) and the rate limit, if
    /// any, allows one more element now.
    fn has_room(&mut self, now: &mut Option<Instant>) -> bool {
        if self.credit.available() == 0 {
            return false;
        }
        match self.limiter.as_mut() {
            Some(limiter) => limiter.check(*now.get_or_insert_with(Instant::now)).is_ok(),
            None => true,
        }
    }
}

enum Action {
    Run(usize),
    Finish(usize),
}

/// A running flow.
pub struct Flow {
    settings: FlowSettings,
    nodes: Vec<Node>,
    streams: Vec<Stream>,
    /// Node indices, most downstream first, sources excluded.
    order: Vec<usize>,
    /// Source nodes, pulled round-robin (fan-in fairness).
    sources: Vec<usize>,
    /// Where the next round-robin scan of `sources` starts.
    next_source: usize,
    /// Elements pulled from sources.
    pulled: u64,
    shared: Option<Box<FlowShared>>,
    next_sequence: u64,
    finished: bool,
    delivered: u64,
    dropped: u64,
    started: Instant,
    finished_after: Option<Duration>,
    clock: FlowClock,
    events: EventBuffer,
    /// Buffers still alive at teardown (reclaimed then): a guest that kept
    /// a handle, or elements in flight when the flow failed or was cancelled.
    leaked: usize,
    /// For restarts.
    engine: WasmEngine,
    /// Position of each node in topological order (`rest_for_one`).
    topo_position: Vec<usize>,
    restart_window: RestartWindow,
    /// Latency histograms (`settings.stage_timing`).
    latency: Option<Box<LatencyRecorder>>,
    /// The catalog's histograms (updated while `observed`).
    histograms: Option<Arc<FlowHistograms>>,
    /// Histogram samples taken since the last [`Flow::record_samples`].
    samples: SampleBuffer,
    /// The per-element trace.
    tracer: TraceRecorder,
    /// The call in progress, as the instrumentation sees it.
    probe: CallProbe,
    /// The rate the `production` timing share follows.
    timing_window: TimingWindow,
}

/// The flow type the rest of the code base used before DAG support; a
/// chain is just a flow whose graph is a line.
pub type LinearFlow = Flow;

const METADATA_FIXED_BYTES: u64 = 16;

/// Steps per batch in [`Flow::run_to_completion`]: the spec's default batch
/// of 32 elements. A sink's `pause` lasts until the next batch.
pub const DEFAULT_BATCH_STEPS: usize = 32;

impl Flow {
    /// Starts a chain `specs[0]` → `specs[1]` → … with `settings.queue_depth`
    /// and the `block` policy on every stream.
    pub fn start(
        engine: &WasmEngine,
        specs: Vec<StageSpec>,
        settings: FlowSettings,
    ) -> Result<Self, FlowError> {
        let stream = StreamSettings {
            capacity: settings.queue_depth.max(1),
            ..StreamSettings::default()
        };
        Self::start_graph(engine, FlowSpec::linear(specs, stream), settings)
    }

    /// Instantiates every stage (a fresh `Store` each) and calls
    /// `lifecycle.init(config)` on the components that export it.
    pub fn start_graph(
        engine: &WasmEngine,
        spec: FlowSpec,
        settings: FlowSettings,
    ) -> Result<Self, FlowError> {
        let order = validate_graph(&spec)?;
        let pool = match &settings.shared_pool {
            Some(shared) => BufferPool::over(Arc::clone(shared)),
            None => BufferPool::new(settings.pools),
        };
        let resources = ResourceManager::with_pool(
            pool,
            settings.limits,
            spec.stages.len(),
            settings.copy_records,
        );
        let shared = Box::new(FlowShared {
            resources,
            context: FlowContextData {
                flow_id: settings.flow_name.clone(),
                ..FlowContextData::default()
            },
        });
        let mut nodes = Vec::with_capacity(spec.stages.len());
        for (i, stage) in spec.stages.iter().enumerate() {
            let mut instance = ComponentInstance::instantiate(
                engine,
                &stage.component,
                ComponentId(i as u32),
                &stage.name,
                &stage.sandbox,
            )?;
            if let Some(flag) = &settings.interrupt {
                instance.set_interrupt(Arc::clone(flag));
            }
            let supervision = settings
                .node_supervision
                .iter()
                .find(|(name, _)| *name == stage.name)
                .map(|(_, s)| s.clone())
                .unwrap_or_default();
            let mut faults: Vec<(u64, FaultKind)> = settings
                .faults
                .iter()
                .filter(|f| f.node == stage.name)
                .map(|f| (f.at, f.kind.clone()))
                .collect();
            faults.sort_by_key(|(at, _)| *at);
            nodes.push(Node {
                name: stage.name.clone(),
                role: stage.role,
                instance,
                component: stage.component.clone(),
                sandbox: stage.sandbox.clone(),
                config: stage.config.clone(),
                supervision,
                faults,
                next_fault: 0,
                regular_outputs: 0,
                has_dead_letter_stream: false,
                restarts: 0,
                retries: 0,
                dead_lettered: 0,
                timeouts: 0,
                ended_abnormally: false,
                scratch: StreamElement {
                    meta: ElementMeta {
                        sequence: 0,
                        timestamp_ns: 0,
                        content_type: String::with_capacity(64),
                    },
                    payload: Resource::new_borrow(0),
                    context: Resource::<FlowContext>::new_borrow(0),
                },
                inputs: Vec::new(),
                outputs: Vec::new(),
                next_input: 0,
                scheduling: stage.scheduling,
                pending: VecDeque::new(),
                flushed: false,
                finished: false,
                source_paused: false,
                sink_paused: false,
                invocations: 0,
                errors: 0,
                busy_ns: 0,
                fuel_of_replaced: 0,
            });
        }
        let mut streams = Vec::with_capacity(spec.edges.len());
        for (s, edge) in spec.edges.iter().enumerate() {
            let capacity = edge.settings.capacity.max(1);
            let dead_letter = edge.from_port == DEAD_LETTER_PORT;
            nodes[edge.from].outputs.push(s);
            if dead_letter {
                nodes[edge.from].has_dead_letter_stream = true;
            } else {
                nodes[edge.from].regular_outputs += 1;
            }
            nodes[edge.to].inputs.push(s);
            streams.push(Stream {
                dead_letter,
                closed: false,
                dropped_closed: 0,
                name: edge.name.clone(),
                from: edge.from,
                from_port: edge.from_port.clone(),
                to: edge.to,
                queue: BoundedQueue::new(capacity),
                credit: CreditLedger::new(capacity as u64),
                settings: StreamSettings {
                    capacity,
                    ..edge.settings
                },
                watermark: Watermark::new(capacity, edge.settings.low_watermark_ratio),
                limiter: match edge.settings.policy {
                    Policy::RateLimit { per_second } => Some(RateLimiter::new(per_second)),
                    _ => None,
                },
                upstream_ended: false,
                transferred: 0,
                dropped_oldest: 0,
                dropped_newest: 0,
                lagged: 0,
                priority: edge.priority,
            });
        }
        // Priority merge scans inputs highest priority first (a stable sort
        // keeps edge order among equals).
        for node in &mut nodes {
            if node.scheduling.merge == Merge::Priority {
                node.inputs
                    .sort_by_key(|&s| std::cmp::Reverse(streams[s].priority));
            }
        }
        for node in &nodes {
            node.check_dead_letter_destination()?;
        }
        let event_capacity = settings.event_capacity;
        // `order` is most downstream first; topological order is its reverse.
        let mut topo_position = vec![0; nodes.len()];
        for (position, &n) in order.iter().rev().enumerate() {
            topo_position[n] = position;
        }
        let restart_window = RestartWindow::new(settings.supervision.intensity);
        let latency = settings
            .stage_timing
            .then(|| Box::new(LatencyRecorder::new(nodes.len())));
        let sources: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&n| nodes[n].role == StageRole::Source)
            .collect();
        let order: Vec<usize> = order
            .into_iter()
            .filter(|&n| nodes[n].role != StageRole::Source)
            .collect();
        let histograms = settings.histograms.clone();
        let trace_settings = TraceSettings {
            seed: settings.trace_context.map_or(0, |c| c.seed()),
            ..settings.trace
        };
        let observability = settings.observability;
        let mut flow = Self {
            settings,
            nodes,
            streams,
            order,
            sources,
            next_source: 0,
            pulled: 0,
            shared: Some(shared),
            next_sequence: 0,
            finished: false,
            delivered: 0,
            dropped: 0,
            started: Instant::now(),
            finished_after: None,
            clock: FlowClock::new(),
            events: EventBuffer::new(event_capacity),
            leaked: 0,
            engine: engine.clone(),
            topo_position,
            restart_window,
            latency,
            histograms,
            samples: SampleBuffer::new(),
            tracer: TraceRecorder::new(TraceMode::Off, trace_settings),
            probe: CallProbe::new(),
            timing_window: TimingWindow::default(),
        };
        if let Some(paths) = stage_observe::unique_paths(&flow.nodes, &flow.streams) {
            flow.tracer.set_unique_paths(paths);
        }
        flow.set_observability(observability);
        for (i, stage) in spec.stages.iter().enumerate() {
            let node = &mut flow.nodes[i];
            if let Err(e) = node.instance.init(&mut flow.shared, &stage.config)? {
                return Err(FlowError::InitFailed {
                    component: node.name.clone(),
                    error: describe(&e),
                });
            }
        }
        flow.started = Instant::now();
        flow.clock = FlowClock::new();
        // Rates count from the start: the components' start-up earns no
        // burst.
        for limiter in flow.streams.iter_mut().filter_map(|s| s.limiter.as_mut()) {
            limiter.restart(flow.started);
        }
        Ok(flow)
    }

    /// Runs up to `max_steps` stage invocations. Finishes the flow (sinks'
    /// `complete`, `teardown` everywhere, buffer reclamation) once every
    /// stage has finished.
    pub fn run_batch(&mut self, max_steps: usize) -> Result<FlowProgress, FlowError> {
        // The flow may have waited since its last batch: the clock reading
        // that batch ended with is not the time now.
        self.probe.forget_reading();
        self.follow_rate();
        self.continue_batch(max_steps)
    }

    /// [`Self::run_batch`] straight after a batch that returned
    /// [`FlowProgress::Running`], with nothing else run on this thread in
    /// between: the first pull may start at the clock reading of the last
    /// batch's final delivery, one clock read less.
    pub fn continue_batch(&mut self, max_steps: usize) -> Result<FlowProgress, FlowError> {
        if self.finished {
            return Ok(FlowProgress::Finished);
        }
        // A sink's `pause` lasts until the next batch.
        for node in &mut self.nodes {
            node.sink_paused = false;
        }
        match self.steps(max_steps) {
            Ok(progress) => Ok(progress),
            Err(e) => {
                self.teardown();
                Err(e)
            }
        }
    }

    /// Runs the flow until it finishes or fails, sleeping while rate limits hold it.
    pub fn run_to_completion(&mut self) -> Result<FlowReport, FlowError> {
        loop {
            // Back to back; a flow that waits forgets its clock reading
            // (`idle`).
            self.follow_rate();
            let progress = self.continue_batch(DEFAULT_BATCH_STEPS)?;
            self.record_samples();
            match progress {
                FlowProgress::Running => {}
                FlowProgress::Waiting(wait) => std::thread::sleep(wait),
                FlowProgress::Finished => return Ok(self.report()),
            }
        }
    }

    /// Stops the flow now: no `complete`, `teardown` everywhere, buffers
    /// reclaimed. Idempotent.
    pub fn cancel(&mut self) {
        for stream in &mut self.streams {
            stream.credit.cancel();
        }
        self.teardown();
    }

    /// Whether the flow has finished (completed, failed or cancelled).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Moves the buffered events to `out`.
    pub fn drain_events(&mut self, out: &mut Vec<FlowEvent>) {
        self.events.drain_into(out);
    }

    // HOT PATH: no allocation, no lock, no message per element.
    fn steps(&mut self, max_steps: usize) -> Result<FlowProgress, FlowError> {
        // Checked once per batch: a batch is short, and the hot loop stays clock-free.
        if let Some(limit) = self.settings.deadline {
            if self.started.elapsed() > limit {
                return Err(FlowError::DeadlineExceeded {
                    flow: self.settings.flow_name.clone(),
                    limit_ms: limit.as_millis() as u64,
                });
            }
        }
        for _ in 0..max_steps {
            match self.next_action() {
                Some(Action::Run(n)) => self.run_node(n)?,
                Some(Action::Finish(n)) => self.finish_node(n)?,
                None => return self.idle(),
            }
            if self.finished {
                return Ok(FlowProgress::Finished);
            }
        }
        Ok(FlowProgress::Running)
    }

    /// Nothing can run: the flow is done, rate-limited, or waiting for a
    /// paused sink's next batch.
    fn idle(&mut self) -> Result<FlowProgress, FlowError> {
        // The caller waits before the next batch.
        self.probe.forget_reading();
        if self.nodes.iter().all(|n| n.finished) {
            self.finished_after = Some(self.started.elapsed());
            self.teardown();
            return Ok(FlowProgress::Finished);
        }
        if self.nodes.iter().any(|n| n.sink_paused) {
            return Ok(FlowProgress::Running);
        }
        let now = Instant::now();
        let wait = self
            .streams
            .iter_mut()
            .filter_map(|s| s.limiter.as_mut().and_then(|l| l.check(now).err()))
            .min();
        match wait {
            Some(wait) => Ok(FlowProgress::Waiting(wait.max(Duration::from_micros(50)))),
            None => Err(FlowError::Stalled {
                flow: self.settings.flow_name.clone(),
            }),
        }
    }

    /// The most downstream stage that can do something; sources last, in
    /// turn, so that no source starves another (fan-in).
    fn next_action(&mut self) -> Option<Action> {
        for k in 0..self.order.len() {
            let n = self.order[k];
            let node = &self.nodes[n];
            if node.finished {
                continue;
            }
            if !node.pending.is_empty() {
                if self.outputs_ready(n) {
                    return Some(Action::Run(n));
                }
                continue;
            }
            let has_input = node
                .inputs
                .iter()
                .any(|&s| !self.streams[s].queue.is_empty());
            if has_input {
                let ready = if node.role == StageRole::Sink {
                    !node.sink_paused
                } else {
                    self.outputs_ready(n)
                };
                if ready {
                    return Some(Action::Run(n));
                }
                continue;
            }
            if node.inputs.iter().all(|&s| self.streams[s].upstream_ended) {
                return Some(Action::Finish(n));
            }
        }
        let count = self.sources.len();
        for j in 0..count {
            let k = (self.next_source + j) % count;
            let n = self.sources[k];
            if self.nodes[n].finished {
                continue;
            }
            if self
                .settings
                .element_limit
                .is_some_and(|limit| self.pulled >= limit)
            {
                return Some(Action::Finish(n));
            }
            if self.outputs_ready(n) {
                self.next_source = (k + 1) % count;
                return Some(Action::Run(n));
            }
        }
        None
    }

    /// Whether `n` may produce now: every gating output can take an element
    /// ([`FanOut::MinDemand`]), or at least one can
    /// ([`FanOut::IndependentPerBranch`]). Outputs that drop or fail on
    /// overflow never gate.
    fn outputs_ready(&mut self, n: usize) -> bool {
        let independent = self.nodes[n].scheduling.fan_out == FanOut::IndependentPerBranch;
        let mut now = None;
        let mut gating = 0;
        let mut open = 0;
        for k in 0..self.nodes[n].outputs.len() {
            let stream = &mut self.streams[self.nodes[n].outputs[k]];
            if stream.closed || !stream.settings.policy.gates_producer() {
                continue;
            }
            gating += 1;
            if stream.accepts(&mut now) {
                open += 1;
            } else if !independent {
                return false;
            }
        }
        gating == 0 || open > 0
    }

    fn run_node(&mut self, n: usize) -> Result<(), FlowError> {
        if self.nodes[n].role == StageRole::Source {
            return self.pull_source(n);
        }
        if let Some(element) = self.nodes[n].pending.pop_front() {
            let targets = self.nodes[n].outputs.len();
            return self.emit(n, element, None, targets);
        }
        match self.take_input(n) {
            Some(input) => self.run_element(n, input),
            None => Ok(()),
        }
    }

    /// Takes the next input of `n`: round-robin over its non-empty inputs,
    /// or the first non-empty one in priority order ([`Merge::Priority`]).
    fn take_input(&mut self, n: usize) -> Option<QueuedElement> {
        let node = &self.nodes[n];
        let count = node.inputs.len();
        let start = match node.scheduling.merge {
            Merge::RoundRobin => node.next_input,
            Merge::Priority => 0,
        };
        for offset in 0..count {
            let k = (start + offset) % count;
            let s = node.inputs[k];
            let stream = &mut self.streams[s];
            if let Some(element) = stream.queue.pop() {
                let _ = stream.credit.grant(1);
                let depth = stream.queue.len();
                if let Some(WatermarkChange::Relieved { after }) = stream.watermark.observe(depth) {
                    self.note(FlowEvent::BackpressureRelieved {
                        stream: s,
                        depth,
                        duration: after,
                    });
                }
                self.nodes[n].next_input = (k + 1) % count;
                self.probe.input_stream = s as u32;
                return Some(element);
            }
        }
        None
    }

    /// Pauses or resumes source `n`: tells it through
    /// `notify-backpressure` (guest code, so the last clock reading no
    /// longer stands) and notes the event.
    fn signal_source(&mut self, n: usize, paused: bool) -> Result<(), FlowError> {
        self.nodes[n].source_paused = paused;
        self.probe.forget_reading();
        let (signal, event) = if paused {
            (
                BackpressureSignal::Pause,
                FlowEvent::SourcePaused { node: n },
            )
        } else {
            (
                BackpressureSignal::Ready,
                FlowEvent::SourceResumed { node: n },
            )
        };
        self.nodes[n]
            .instance
            .notify_backpressure(&mut self.shared, signal)?;
        self.note(event);
        Ok(())
    }

    fn pull_source(&mut self, n: usize) -> Result<(), FlowError> {
        if self.nodes[n].source_paused {
            self.signal_source(n, false)?;
        }
        let injected = self.take_fault(n, "pull");
        let sequence = self.next_sequence;
        // Taken before `probe_begin` forgets it.
        let reading = self.probe.reading();
        self.probe_begin(n, sequence, None);
        // The pulled element's timestamp: its source entry.
        let timestamp = self.pull_start_unix_ns(reading);
        let node = &mut self.nodes[n];
        let call = match injected {
            Some(CallFailure::Trap(e)) => Err(e),
            Some(CallFailure::Error(e)) => Ok(Err(e)),
            None => node.instance.pull(&mut self.shared),
        };
        node.invocations += 1;
        self.probe_end(n);
        let result = match call {
            Ok(result) => result,
            Err(trap) => {
                self.trace_call(n, sequence, 0, StageOutcome::Failed, 0);
                self.nodes[n].errors += 1;
                self.component_failed(n, ExitKind::Trap, &FlowError::Invoke(trap))?;
                return Ok(());
            }
        };
        match result {
            Ok(Some(output)) => {
                self.pulled += 1;
                let sequence = self.next_sequence;
                self.next_sequence += 1;
                let element = self.accept(n, output, sequence, timestamp)?;
                self.trace_call(n, sequence, timestamp, StageOutcome::Emitted, 0);
                let targets = self.nodes[n].regular_outputs;
                self.emit(n, element, None, targets)?;
                if !self.outputs_ready(n) {
                    self.signal_source(n, true)?;
                }
                Ok(())
            }
            Ok(None) => {
                self.trace_call(n, sequence, 0, StageOutcome::Ended, 0);
                self.finish_node(n)
            }
            Err(ProcessError::Fatal(message)) => {
                self.trace_call(n, sequence, 0, StageOutcome::Failed, 0);
                self.nodes[n].errors += 1;
                let error = FlowError::Fatal {
                    component: self.nodes[n].name.clone(),
                    function: "pull",
                    message,
                };
                self.component_failed(n, ExitKind::Fatal, &error)?;
                Ok(())
            }
            Err(e) => {
                self.trace_call(n, sequence, 0, StageOutcome::Failed, 0);
                self.stage_error(n, "pull", e)
            }
        }
    }

    /// Runs stage `n` on `input`: calls it, applies its error policy and
    /// supervision when the call fails, and routes what it returns.
    fn run_element(&mut self, n: usize, input: QueuedElement) -> Result<(), FlowError> {
        let mut attempt = 0;
        loop {
            let failure = match self.invoke(n, input)? {
                Ok(outcome) => {
                    let (traced, routes) = match &outcome {
                        Outcome::Filtered(true) => (StageOutcome::Passed, 0),
                        Outcome::Routed(ports) if self.probe_detailed() => {
                            (StageOutcome::Routed, self.route_mask(n, ports))
                        }
                        Outcome::Routed(ports) if ports.is_empty() => (StageOutcome::Dropped, 0),
                        Outcome::Routed(_) => (StageOutcome::Routed, 0),
                        Outcome::Processed(ProcessResult::Emit(_)) | Outcome::Ingested(Some(_)) => {
                            (StageOutcome::Emitted, 0)
                        }
                        Outcome::Pushed(_) => (StageOutcome::Delivered, 0),
                        Outcome::Filtered(false)
                        | Outcome::Processed(ProcessResult::Drop)
                        | Outcome::Ingested(None) => (StageOutcome::Dropped, 0),
                    };
                    let routed = self.route_outcome(n, input, outcome);
                    self.trace_call(n, input.sequence, input.timestamp_ns, traced, routes);
                    return routed;
                }
                Err(failure) => failure,
            };
            self.trace_call(
                n,
                input.sequence,
                input.timestamp_ns,
                StageOutcome::Failed,
                0,
            );
            self.nodes[n].errors += 1;
            let role = self.nodes[n].role;
            let (error, exit) = match failure {
                CallFailure::Trap(trap) => (FlowError::Invoke(trap), Some(ExitKind::Trap)),
                CallFailure::Error(ProcessError::Fatal(message)) => (
                    FlowError::Fatal {
                        component: self.nodes[n].name.clone(),
                        function: function_of(role),
                        message,
                    },
                    Some(ExitKind::Fatal),
                ),
                CallFailure::Error(e) => {
                    if matches!(e, ProcessError::DeadlineExceeded) {
                        self.nodes[n].timeouts += 1;
                    }
                    let error = FlowError::ElementFailed {
                        component: self.nodes[n].name.clone(),
                        function: function_of(role),
                        error: describe(&e),
                    };
                    tracing::warn!(component = %self.nodes[n].name, error = %error, "element failed");
                    (error, None)
                }
            };
            if let Some(exit) = exit {
                if !self.component_failed(n, exit, &error)? {
                    // The component ended for good: its element can only be
                    // dead-lettered or dropped.
                    return self.dispose(n, input, false, &error);
                }
            }
            match self.nodes[n].supervision.on_error {
                ErrorPolicy::Retry { retries } if attempt < retries => {
                    attempt += 1;
                    self.nodes[n].retries += 1;
                }
                ErrorPolicy::Retry { .. } => return self.dispose(n, input, false, &error),
                ErrorPolicy::Skip => return self.dispose(n, input, true, &error),
                ErrorPolicy::DeadLetter => return self.dispose(n, input, false, &error),
                ErrorPolicy::Fail => {
                    self.release(n, input.buffer)?;
                    return Err(error);
                }
            }
        }
    }

    /// Lends `input` to stage `n` and calls it (or plays an injected
    /// fault). The loan ends whatever happens; the buffer stays alive.
    // HOT PATH
    fn invoke(
        &mut self,
        n: usize,
        input: QueuedElement,
    ) -> Result<Result<Outcome, CallFailure>, FlowError> {
        let id = ComponentId(n as u32);
        let shared = self.shared_mut();
        shared
            .resources
            .lend(input.buffer, id)
            .map_err(|source| ownership(&self.nodes[n].name, source))?;
        let role = self.nodes[n].role;
        let injected = self.take_fault(n, function_of(role));
        let node = &mut self.nodes[n];
        let Some(shared) = self.shared.as_deref_mut() else {
            return Err(FlowError::Stalled {
                flow: self.settings.flow_name.clone(),
            });
        };
        shared
            .resources
            .copy_content_type(input.buffer, &mut node.scratch.meta.content_type)
            .map_err(|source| ownership(&node.name, source))?;
        shared.resources.record_metadata(
            id,
            input.buffer,
            METADATA_FIXED_BYTES + node.scratch.meta.content_type.len() as u64,
        );
        node.scratch.meta.sequence = input.sequence;
        node.scratch.meta.timestamp_ns = input.timestamp_ns;
        node.scratch.payload = Resource::new_borrow(input.buffer.to_wire());
        self.probe_begin(n, input.sequence, Some(input));
        let node = &mut self.nodes[n];
        let outcome = match injected {
            Some(CallFailure::Trap(e)) => Err(e),
            Some(CallFailure::Error(e)) => Ok(Err(e)),
            None => match role {
                StageRole::Processor => node
                    .instance
                    .process(&mut self.shared, &node.scratch)
                    .map(|r| r.map(Outcome::Processed)),
                StageRole::Filter => node
                    .instance
                    .evaluate(&mut self.shared, &node.scratch)
                    .map(|r| r.map(Outcome::Filtered)),
                StageRole::Router => node
                    .instance
                    .route(&mut self.shared, &node.scratch)
                    .map(|r| r.map(Outcome::Routed)),
                StageRole::Aggregator => node
                    .instance
                    .ingest(&mut self.shared, &node.scratch)
                    .map(|r| r.map(Outcome::Ingested)),
                StageRole::Sink => node
                    .instance
                    .push(&mut self.shared, &node.scratch)
                    .map(|r| r.map(Outcome::Pushed)),
                StageRole::Source => Ok(Ok(Outcome::Filtered(false))),
            },
        };
        node.invocations += 1;
        self.probe_end(n);
        self.shared_mut()
            .resources
            .end_lend(input.buffer)
            .map_err(|source| ownership(&self.nodes[n].name, source))?;
        Ok(match outcome {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(error)) => Err(CallFailure::Error(error)),
            Err(trap) => Err(CallFailure::Trap(trap)),
        })
    }

    /// Routes what stage `n` returned for `input`.
    fn route_outcome(
        &mut self,
        n: usize,
        input: QueuedElement,
        outcome: Outcome,
    ) -> Result<(), FlowError> {
        match outcome {
            Outcome::Filtered(true) => {
                // The same buffer moves on: no copy, no allocation.
                self.forward(n, input)?;
                let targets = self.nodes[n].regular_outputs;
                self.emit(n, input, None, targets)
            }
            Outcome::Routed(ports) => {
                let targets = match self.route_targets(n, &ports) {
                    Ok(targets) => targets,
                    Err(e) => {
                        // The element goes back to the pool before the
                        // flow fails: an unknown port is not a leak.
                        self.release(n, input.buffer)?;
                        return Err(e);
                    }
                };
                if targets == 0 {
                    self.dropped += 1;
                    return self.release(n, input.buffer);
                }
                self.forward(n, input)?;
                self.emit(n, input, Some(&ports), targets)
            }
            Outcome::Processed(ProcessResult::Emit(output)) | Outcome::Ingested(Some(output)) => {
                let element = self.accept(n, output, input.sequence, input.timestamp_ns)?;
                self.release(n, input.buffer)?;
                let targets = self.nodes[n].regular_outputs;
                self.emit(n, element, None, targets)
            }
            Outcome::Pushed(signal) => {
                self.delivered += 1;
                self.record_delivery(input);
                if signal == BackpressureSignal::Pause {
                    self.nodes[n].sink_paused = true;
                    self.note(FlowEvent::SinkPaused { node: n });
                }
                self.release(n, input.buffer)
            }
            Outcome::Filtered(false)
            | Outcome::Processed(ProcessResult::Drop)
            | Outcome::Ingested(None) => {
                self.dropped += 1;
                self.release(n, input.buffer)
            }
        }
    }

    /// How many output streams `ports` name; an unknown port is E0204.
    fn route_targets(&self, n: usize, ports: &[String]) -> Result<usize, FlowError> {
        let node = &self.nodes[n];
        let mut targets = 0;
        for port in ports {
            let matching = node
                .outputs
                .iter()
                .filter(|&&s| self.streams[s].from_port == *port)
                .count();
            if matching == 0 {
                let known: Vec<&str> = node
                    .outputs
                    .iter()
                    .map(|&s| self.streams[s].from_port.as_str())
                    .collect();
                return Err(FlowError::UnknownPort {
                    component: node.name.clone(),
                    port: port.clone(),
                    known: known.join(", "),
                });
            }
            targets += matching;
        }
        Ok(targets)
    }

    /// Sends `element` down the output streams of `n` — all of them, or only
    /// those whose port is in `ports` — sharing one buffer among `targets`
    /// streams.
    fn emit(
        &mut self,
        n: usize,
        element: QueuedElement,
        ports: Option<&[String]>,
        targets: usize,
    ) -> Result<(), FlowError> {
        if targets == 0 {
            self.dropped += 1;
            return self.release(n, element.buffer);
        }
        if targets > 1 {
            self.shared_mut()
                .resources
                .share(element.buffer, (targets - 1) as u32)
                .map_err(|source| ownership(&self.nodes[n].name, source))?;
        }
        for k in 0..self.nodes[n].outputs.len() {
            let s = self.nodes[n].outputs[k];
            if self.streams[s].dead_letter && ports.is_none() {
                continue;
            }
            if let Some(ports) = ports {
                if !ports.iter().any(|p| *p == self.streams[s].from_port) {
                    continue;
                }
            }
            self.enqueue(n, s, element)?;
        }
        Ok(())
    }

    /// Puts one reference of `element` on stream `s`, applying its policy when full.
    // HOT PATH
    fn enqueue(&mut self, n: usize, s: usize, element: QueuedElement) -> Result<(), FlowError> {
        let independent = self.nodes[n].scheduling.fan_out == FanOut::IndependentPerBranch;
        let stream = &mut self.streams[s];
        if stream.closed {
            // Its consumer ended abnormally and was not restarted.
            stream.dropped_closed += 1;
            self.dropped += 1;
            return self.release(n, element.buffer);
        }
        if independent && stream.settings.policy.gates_producer() && !stream.has_room(&mut None) {
            // An independent branch that cannot keep up misses the element.
            stream.lagged += 1;
            self.dropped += 1;
            return self.release(n, element.buffer);
        }
        if stream.queue.is_full() {
            match stream.settings.policy {
                Policy::DropOldest => {
                    if let Some(oldest) = stream.queue.pop() {
                        let _ = stream.credit.grant(1);
                        stream.dropped_oldest += 1;
                        self.dropped += 1;
                        self.release(n, oldest.buffer)?;
                    }
                }
                Policy::DropNewest => {
                    let stream = &mut self.streams[s];
                    stream.dropped_newest += 1;
                    self.dropped += 1;
                    return self.release(n, element.buffer);
                }
                Policy::Error => {
                    let error = FlowError::QueueFull {
                        stream: stream.name.clone(),
                        capacity: stream.settings.capacity,
                    };
                    let _ = self.release(n, element.buffer);
                    return Err(error);
                }
                Policy::Block | Policy::RateLimit { .. } => {
                    // Gated producers only run with credit; reaching here is a bug.
                    let _ = self.release(n, element.buffer);
                    return Err(FlowError::Stalled {
                        flow: self.settings.flow_name.clone(),
                    });
                }
            }
        }
        let element = QueuedElement {
            enqueued: self.enqueue_tick(),
            ..element
        };
        let stream = &mut self.streams[s];
        if stream.queue.push(element).is_err() {
            return Err(FlowError::Stalled {
                flow: self.settings.flow_name.clone(),
            });
        }
        let _ = stream.credit.consume();
        if let Some(limiter) = stream.limiter.as_mut() {
            limiter.take();
        }
        stream.transferred += 1;
        let depth = stream.queue.len();
        if let Some(WatermarkChange::Triggered) = stream.watermark.observe(depth) {
            self.note(FlowEvent::BackpressureTriggered { stream: s, depth });
        }
        Ok(())
    }

    /// A stage has nothing more to do: its source ended, or all its inputs
    /// ended and drained. Aggregators flush first; sinks complete.
    fn finish_node(&mut self, n: usize) -> Result<(), FlowError> {
        // Aggregators and sinks run guest code here.
        self.probe.forget_reading();
        match self.nodes[n].role {
            StageRole::Aggregator if !self.nodes[n].flushed => {
                self.nodes[n].flushed = true;
                let outputs = match self.nodes[n].instance.flush(&mut self.shared)? {
                    Ok(outputs) => outputs,
                    Err(e) => return self.stage_error(n, "flush", e),
                };
                for output in outputs {
                    let sequence = self.next_sequence;
                    self.next_sequence += 1;
                    let timestamp = self.clock.now_ns();
                    let element = self.accept(n, output, sequence, timestamp)?;
                    self.nodes[n].pending.push_back(element);
                }
                if !self.nodes[n].pending.is_empty() {
                    return Ok(());
                }
            }
            StageRole::Sink => {
                if let Err(e) = self.nodes[n].instance.complete(&mut self.shared)? {
                    return Err(FlowError::Fatal {
                        component: self.nodes[n].name.clone(),
                        function: "complete",
                        message: describe(&e),
                    });
                }
            }
            _ => {}
        }
        let node = &mut self.nodes[n];
        node.finished = true;
        for k in 0..node.outputs.len() {
            self.streams[node.outputs[k]].upstream_ended = true;
        }
        Ok(())
    }

    fn forward(&mut self, n: usize, element: QueuedElement) -> Result<(), FlowError> {
        self.shared_mut()
            .resources
            .forward(element.buffer)
            .map_err(|source| ownership(&self.nodes[n].name, source))
    }

    fn release(&mut self, n: usize, buffer: BufferId) -> Result<(), FlowError> {
        self.shared_mut()
            .resources
            .release(buffer)
            .map_err(|source| ownership(&self.nodes[n].name, source))
    }

    /// Takes ownership of a component's output buffer.
    fn accept(
        &mut self,
        n: usize,
        output: OutputElement,
        sequence: u64,
        timestamp_ns: u64,
    ) -> Result<QueuedElement, FlowError> {
        let OutputElement { meta, payload } = output;
        let id = ComponentId(n as u32);
        let name = &self.nodes[n].name;
        let Some(shared) = self.shared.as_deref_mut() else {
            return Err(FlowError::Stalled {
                flow: self.settings.flow_name.clone(),
            });
        };
        let resources = &mut shared.resources;
        let buffer = resources
            .resolve(payload.rep(), "output")
            .map_err(|source| ownership(name, source))?;
        resources
            .accept_output(id, buffer)
            .map_err(|source| ownership(name, source))?;
        if !meta.content_type.is_empty() {
            resources
                .set_content_type(buffer, &meta.content_type)
                .map_err(|source| ownership(name, source))?;
        }
        self.probe_output(buffer);
        Ok(QueuedElement {
            sequence,
            timestamp_ns,
            buffer,
            enqueued: Tick::default(),
        })
    }

    /// A `process-error` from a call with no element in hand (a source's
    /// `pull`, an aggregator's `flush`): counted and skipped; `fatal` fails
    /// the flow.
    fn stage_error(
        &mut self,
        n: usize,
        function: &'static str,
        error: ProcessError,
    ) -> Result<(), FlowError> {
        let node = &mut self.nodes[n];
        node.errors += 1;
        if matches!(error, ProcessError::DeadlineExceeded) {
            node.timeouts += 1;
        }
        if let ProcessError::Fatal(message) = error {
            return Err(FlowError::Fatal {
                component: node.name.clone(),
                function,
                message,
            });
        }
        tracing::warn!(component = %node.name, function, error = %describe(&error), "element skipped");
        Ok(())
    }

    /// Calls `teardown` on every component (best effort, each at most once)
    /// and reclaims every buffer still alive.
    fn teardown(&mut self) {
        if self.finished {
            return;
        }
        self.record_samples();
        self.finished = true;
        if self.finished_after.is_none() {
            self.finished_after = Some(self.started.elapsed());
        }
        for node in &mut self.nodes {
            if let Err(e) = node.instance.teardown(&mut self.shared) {
                tracing::warn!(component = %node.name, error = %e, "teardown failed");
            }
        }
        // Elements still queued (a failure or a cancel) go back to the pool
        // the regular way, so what reclaim finds below is a real leak.
        let shared = self.shared.as_deref_mut();
        if let Some(shared) = shared {
            for stream in &mut self.streams {
                while let Some(element) = stream.queue.pop() {
                    let _ = shared.resources.release(element.buffer);
                }
            }
            for node in &mut self.nodes {
                while let Some(element) = node.pending.pop_front() {
                    let _ = shared.resources.release(element.buffer);
                }
            }
        }
        if let Some(shared) = self.shared.as_mut() {
            let leaked = shared.resources.reclaim_all();
            if leaked > 0 {
                tracing::debug!(leaked, "buffers reclaimed at teardown");
            }
            self.leaked = leaked;
            shared.resources.trim_pool();
        }
    }

    fn shared_mut(&mut self) -> &mut FlowShared {
        // The shared state is only ever out of `self.shared` during a guest
        // call, and guest calls hand it back before returning.
        self.shared.get_or_insert_with(|| {
            Box::new(FlowShared {
                resources: ResourceManager::new(
                    PoolConfig::default(),
                    ResourceLimits::default(),
                    0,
                    0,
                ),
                context: FlowContextData::default(),
            })
        })
    }

    /// The resource manager (ledger, pools, live buffers).
    pub fn resources(&self) -> Option<&ResourceManager> {
        self.shared.as_ref().map(|s| &s.resources)
    }

    /// Graceful stop: the sources are not pulled again; what is in flight
    /// drains through the flow, aggregators flush, every sink completes, and
    /// the flow then finishes as if its sources had ended. Idempotent.
    pub fn drain(&mut self) -> Result<(), FlowError> {
        for k in 0..self.sources.len() {
            let n = self.sources[k];
            if !self.nodes[n].finished {
                self.finish_node(n)?;
            }
        }
        Ok(())
    }

    /// Gives the flow's cached free buffers back to the shared pools (a
    /// suspended flow keeps none; its live buffers stay).
    pub fn trim_buffers(&mut self) {
        if let Some(shared) = self.shared.as_mut() {
            shared.resources.trim_pool();
        }
    }

    /// Elements pushed into sinks so far (cheap; no snapshot).
    pub fn report_delivered(&self) -> u64 {
        self.delivered
    }

    /// A snapshot of the flow's counters.
    pub fn report(&self) -> FlowReport {
        let resources = self.resources();
        let ledger = resources.map(|r| r.ledger());
        let pool = resources.map(pool_totals).unwrap_or_default();
        FlowReport {
            flow: self.settings.flow_name.clone(),
            elements_pulled: self.pulled,
            elements_delivered: self.delivered,
            elements_dropped: self.dropped,
            errors: self.nodes.iter().map(|s| s.errors).sum(),
            duration: self
                .finished_after
                .unwrap_or_else(|| self.started.elapsed()),
            payload_copies: ledger.map(|l| l.payload_copies()).unwrap_or_default(),
            all_copies: ledger.map(|l| l.total()).unwrap_or_default(),
            copy_amplification: ledger.map(|l| l.amplification()).unwrap_or(0.0),
            bytes_produced: ledger.map(|l| l.bytes_produced()).unwrap_or(0),
            peak_queue_depth: self
                .streams
                .iter()
                .map(|s| s.queue.peak())
                .max()
                .unwrap_or(0),
            live_buffers: resources.map(|r| r.live_buffers()).unwrap_or(0),
            leaked_buffers: self.leaked,
            pool_buffers_held: resources.map_or(0, |r| r.pool().borrowed_from_shared()),
            events_dropped: self.events.dropped(),
            stages: self
                .nodes
                .iter()
                .map(|s| StageReport {
                    name: s.name.clone(),
                    invocations: s.invocations,
                    errors: s.errors,
                    busy_ns: s.busy_ns,
                    restarts: s.restarts,
                    retries: s.retries,
                    dead_lettered: s.dead_lettered,
                    timeouts: s.timeouts,
                    ended_abnormally: s.ended_abnormally,
                    fuel_consumed: s.fuel_of_replaced + s.instance.fuel_consumed(),
                    memory_bytes: s.instance.memory_bytes(),
                })
                .collect(),
            streams: self
                .streams
                .iter()
                .map(|s| StreamReport {
                    name: s.name.clone(),
                    policy: s.settings.policy.name(),
                    capacity: s.settings.capacity,
                    depth: s.queue.len(),
                    peak_depth: s.queue.peak(),
                    credit: s.credit.available(),
                    transferred: s.transferred,
                    dropped_oldest: s.dropped_oldest,
                    dropped_newest: s.dropped_newest,
                    lagged: s.lagged,
                    dropped_closed: s.dropped_closed,
                    backpressure_active: s.watermark.is_active(),
                    backpressure_events: s.watermark.episodes(),
                    backpressure_ns: s.watermark.total().as_nanos() as u64,
                    consumer: self.nodes[s.to].name.clone(),
                })
                .collect(),
            copies_by_reason: CopyReason::ALL
                .iter()
                .map(|&r| (r, ledger.map(|l| l.stats(r)).unwrap_or_default()))
                .collect(),
            pool_allocations: pool.allocated,
            pool_fallbacks: pool.fallback_count,
            latency: self.latency.as_ref().map(|l| Box::new(l.snapshot())),
        }
    }
}

enum Outcome {
    Processed(ProcessResult),
    Filtered(bool),
    Routed(Vec<String>),
    Ingested(Option<OutputElement>),
    Pushed(BackpressureSignal),
}

/// Every pool tier's counters added up.
fn pool_totals(resources: &ResourceManager) -> PoolStats {
    let mut total = PoolStats::default();
    for tier in Tier::ALL {
        let s = resources.pool().stats(tier);
        total.capacity += s.capacity;
        total.available += s.available;
        total.allocated += s.allocated;
        total.returned += s.returned;
        total.fallback_count += s.fallback_count;
        total.exhaustion_events += s.exhaustion_events;
    }
    total
}

fn ownership(component: &str, source: ResourceError) -> FlowError {
    FlowError::Ownership {
        component: component.to_string(),
        source,
    }
}

fn function_of(role: StageRole) -> &'static str {
    match role {
        StageRole::Source => "pull",
        StageRole::Processor => "process",
        StageRole::Filter => "evaluate",
        StageRole::Router => "route",
        StageRole::Aggregator => "ingest",
        StageRole::Sink => "push",
    }
}

/// Renders a process-error the way the WIT names it.
pub fn describe(error: &ProcessError) -> String {
    match error {
        ProcessError::InvalidInput(m) => format!("invalid-input({m:?})"),
        ProcessError::Unavailable(m) => format!("unavailable({m:?})"),
        ProcessError::Internal(m) => format!("internal({m:?})"),
        ProcessError::DeadlineExceeded => "deadline-exceeded".into(),
        ProcessError::Fatal(m) => format!("fatal({m:?})"),
    }
}

/// Checks a chain of stages (the shape [`Flow::start`] builds).
pub fn validate_linear(specs: &[StageSpec]) -> Result<(), FlowError> {
    let spec = FlowSpec::linear(specs.to_vec(), StreamSettings::default());
    validate_graph(&spec).map(|_| ())
}

/// Checks a flow's graph (E0203): at least one source and one sink; sources
/// have no inputs and sinks no outputs; every other stage has both; every
/// component exports its role's interface; the graph is a DAG. Returns the
/// stages most-downstream first.
pub fn validate_graph(spec: &FlowSpec) -> Result<Vec<usize>, FlowError> {
    let stages = &spec.stages;
    let topology = |m: String| Err(FlowError::Topology(m));
    if !stages.iter().any(|s| s.role == StageRole::Source)
        || !stages.iter().any(|s| s.role == StageRole::Sink)
    {
        return topology(format!(
            "a flow needs at least one source and one sink, found {} node(s)",
            stages.len()
        ));
    }
    let mut inputs = vec![0usize; stages.len()];
    let mut outputs = vec![0usize; stages.len()];
    for edge in &spec.edges {
        if edge.from >= stages.len() || edge.to >= stages.len() {
            return topology(format!(
                "stream `{}` names a node that does not exist",
                edge.name
            ));
        }
        outputs[edge.from] += 1;
        inputs[edge.to] += 1;
    }
    for (i, stage) in stages.iter().enumerate() {
        let problem = match stage.role {
            StageRole::Source if inputs[i] > 0 => {
                Some("is a source with an input; sources must have no inputs")
            }
            StageRole::Sink if outputs[i] > 0 => {
                Some("is a sink with an output; sinks must have no outputs")
            }
            StageRole::Source if outputs[i] == 0 => Some("is a source with no output stream"),
            StageRole::Sink if inputs[i] == 0 => Some("is a sink with no input stream"),
            StageRole::Source | StageRole::Sink => None,
            _ if inputs[i] == 0 => Some("has no input stream"),
            _ if outputs[i] == 0 => Some("has no output stream"),
            _ => None,
        };
        if let Some(problem) = problem {
            return topology(format!("node `{}` {problem}", stage.name));
        }
        if !stage.component.exports().contains(stage.role.interface()) {
            let found: Vec<String> = stage
                .component
                .exports()
                .iter()
                .map(|i| i.to_string())
                .collect();
            return topology(format!(
                "node `{}` declares interface {} but its component exports only {}",
                stage.name,
                stage.role.interface(),
                found.join(", ")
            ));
        }
    }
    // Kahn's algorithm: sources first; anything left over sits on a cycle.
    let mut remaining = inputs.clone();
    let mut ready: Vec<usize> = (0..stages.len()).filter(|&i| remaining[i] == 0).collect();
    let mut order = Vec::with_capacity(stages.len());
    while let Some(i) = ready.pop() {
        order.push(i);
        for edge in spec.edges.iter().filter(|e| e.from == i) {
            remaining[edge.to] -= 1;
            if remaining[edge.to] == 0 {
                ready.push(edge.to);
            }
        }
    }
    if order.len() != stages.len() {
        let on_cycle: Vec<&str> = (0..stages.len())
            .filter(|i| !order.contains(i))
            .map(|i| stages[i].name.as_str())
            .collect();
        return topology(format!(
            "the streams form a cycle through {}; the graph must be a DAG",
            on_cycle.join(", ")
        ));
    }
    order.reverse();
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flow can be built on one thread and driven from another (the actor
    /// layer moves it onto an arbiter).
    #[test]
    fn a_flow_is_send() {
        fn is_send<T: Send>() {}
        is_send::<Flow>();
    }
}
