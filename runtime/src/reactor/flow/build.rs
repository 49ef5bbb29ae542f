//! Building a running flow from its spec: checks the graph, instantiates
//! every stage (a fresh `Store` each), wires the streams, and calls
//! `lifecycle.init(config)` on the components that export it.

use super::failures::DEAD_LETTER_PORT;
use super::node::{BatchScratch, Node, NodeCounters, NodeState};
use super::observe::TimingWindow;
use super::paths;
use super::probe::CallProbe;
use super::stage::StageInstance;
use super::stream::{Stream, StreamCounters};
use super::{describe, Flow};
use crate::engine::bindings::types::{ElementMeta, FlowContext, StreamElement};
use crate::engine::{FlowContextData, FlowShared, WasmEngine};
use crate::reactor::backpressure::{Policy, RateLimiter, StreamSettings, Watermark};
use crate::reactor::clock::FlowClock;
use crate::reactor::credit::CreditLedger;
use crate::reactor::error::FlowError;
use crate::reactor::events::EventBuffer;
use crate::reactor::histogram::SampleBuffer;
use crate::reactor::latency::LatencyRecorder;
use crate::reactor::queue::BoundedQueue;
use crate::reactor::spec::{
    EdgeSpec, FlowSettings, FlowSpec, Merge, StageComponent, StageRole, StageSpec,
};
use crate::reactor::supervision::{FaultKind, RestartWindow};
use crate::reactor::trace::{TraceMode, TraceRecorder, TraceSettings};
use crate::reactor::validate::validate_graph;
use crate::resources::{BufferPool, ComponentId, ResourceManager};
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::Resource;

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
        let shared = flow_shared(&settings, &spec.stages);
        let mut nodes = Vec::with_capacity(spec.stages.len());
        for (i, stage) in spec.stages.iter().enumerate() {
            nodes.push(build_node(engine, i, stage, &settings)?);
        }
        let streams = connect_streams(&mut nodes, &spec.edges);
        for node in &nodes {
            node.check_dead_letter_destination()?;
        }
        let mut flow = Self::assemble(engine, settings, nodes, streams, order, shared);
        flow.init_components(&spec)?;
        Ok(flow)
    }

    /// The flow around its built nodes and streams, before any component
    /// runs. `order` is the stages most downstream first.
    fn assemble(
        engine: &WasmEngine,
        settings: FlowSettings,
        nodes: Vec<Node>,
        streams: Vec<Stream>,
        order: Vec<usize>,
        shared: Box<FlowShared>,
    ) -> Self {
        let topo_position = topological_positions(&order);
        let restart_window = RestartWindow::new(settings.supervision.intensity);
        let latency = settings
            .stage_timing
            .then(|| Box::new(LatencyRecorder::new(nodes.len())));
        let (sources, order): (Vec<usize>, Vec<usize>) = order
            .into_iter()
            .partition(|&n| nodes[n].role == StageRole::Source);
        let histograms = settings.histograms.clone();
        let trace_settings = TraceSettings {
            seed: settings.trace_context.map_or(0, |c| c.seed()),
            ..settings.trace
        };
        let observability = settings.observability;
        let event_capacity = settings.event_capacity;
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
            completion: None,
        };
        flow.completion = super::completion::Completion::for_flow(&flow);
        if let Some(paths) = paths::unique_paths(&flow.nodes, &flow.streams) {
            flow.tracer.set_unique_paths(paths);
        }
        flow.set_observability(observability);
        flow
    }

    /// Calls `lifecycle.init` on every stage, then starts the flow's clock
    /// and its rate limits.
    fn init_components(&mut self, spec: &FlowSpec) -> Result<(), FlowError> {
        for (i, stage) in spec.stages.iter().enumerate() {
            let node = &mut self.nodes[i];
            if let Err(e) = node.instance.init(&mut self.shared, &stage.config)? {
                return Err(FlowError::InitFailed {
                    component: node.name.clone(),
                    error: describe(&e),
                });
            }
        }
        self.started = Instant::now();
        self.clock = FlowClock::new();
        // `flow-context.deadline-ns` counts down from the flow's start.
        let deadline = self.settings.deadline.map(|limit| self.started + limit);
        if let Some(shared) = self.shared.as_deref_mut() {
            shared.context.deadline = deadline;
        }
        // Rates count from the start: the components' start-up earns no
        // burst.
        for limiter in self.streams.iter_mut().filter_map(|s| s.limiter.as_mut()) {
            limiter.restart(self.started);
        }
        Ok(())
    }
}

/// The state guest calls share: the flow's resource manager (over the
/// host's shared pools, or private ones) and its `flow-context`.
fn flow_shared(settings: &FlowSettings, stages: &[StageSpec]) -> Box<FlowShared> {
    let pool = match &settings.shared_pool {
        Some(shared) => BufferPool::over(Arc::clone(shared)),
        None => BufferPool::new(settings.pools),
    };
    let mut resources =
        ResourceManager::with_pool(pool, settings.limits, stages.len(), settings.copy_records);
    for (index, stage) in stages.iter().enumerate() {
        if let Some(bytes) = stage.sandbox.max_buffer_size {
            resources.limit_buffer_size(ComponentId(index as u32), bytes);
        }
    }
    Box::new(FlowShared {
        resources,
        context: FlowContextData {
            flow_id: settings
                .flow_id
                .clone()
                .unwrap_or_else(|| unique_flow_id(&settings.flow_name)),
            flow_name: settings.flow_name.clone(),
            partition: settings.partition,
            ..FlowContextData::default()
        },
    })
}

/// A flow id no other flow of this process has had (`<name>-<hex>`), for
/// flows started without one from a host.
fn unique_flow_id(name: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STARTED: AtomicU64 = AtomicU64::new(0);
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let salt = nanos ^ (u64::from(std::process::id()) << 32);
    format!("{name}-{:x}", salt.wrapping_add(n))
}

/// Node `index` of a flow: its component instantiated (not yet
/// initialised), its supervision and planned faults from `settings`, no
/// streams yet.
fn build_node(
    engine: &WasmEngine,
    index: usize,
    stage: &StageSpec,
    settings: &FlowSettings,
) -> Result<Node, FlowError> {
    let instance = StageInstance::instantiate(
        engine,
        &stage.component,
        ComponentId(index as u32),
        &stage.name,
        &stage.sandbox,
        settings.interrupt.as_ref(),
    )?;
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
    Ok(Node {
        name: stage.name.clone(),
        role: stage.role,
        instance,
        component: stage.component.clone(),
        sandbox: stage.sandbox.clone(),
        config: stage.config.clone(),
        supervision,
        scheduling: stage.scheduling,
        faults,
        next_fault: 0,
        scratch: call_argument(),
        offers_batch: offers_batch(&stage.component, stage.role),
        batch: BatchScratch::default(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        regular_outputs: 0,
        has_dead_letter_stream: false,
        state: NodeState::default(),
        counters: NodeCounters::default(),
    })
}

/// Whether `component` offers the batch form of `role`'s interface.
fn offers_batch(component: &StageComponent, role: StageRole) -> bool {
    role.interface()
        .batch_form()
        .is_some_and(|batch| component.exports().contains(batch))
}

/// The argument every call of a node re-uses (its content type keeps its
/// capacity).
pub(super) fn call_argument() -> StreamElement {
    StreamElement {
        meta: ElementMeta {
            sequence: 0,
            timestamp_ns: 0,
            content_type: String::with_capacity(64),
        },
        payload: Resource::new_borrow(0),
        context: Resource::<FlowContext>::new_borrow(0),
    }
}

/// One stream per edge, each registered with its producer and consumer;
/// a consumer with a priority merge then lists its inputs highest
/// priority first (a stable sort keeps edge order among equals).
fn connect_streams(nodes: &mut [Node], edges: &[EdgeSpec]) -> Vec<Stream> {
    let mut streams = Vec::with_capacity(edges.len());
    for (s, edge) in edges.iter().enumerate() {
        let stream = build_stream(edge);
        nodes[edge.from].outputs.push(s);
        if stream.dead_letter {
            nodes[edge.from].has_dead_letter_stream = true;
        } else {
            nodes[edge.from].regular_outputs += 1;
        }
        nodes[edge.to].inputs.push(s);
        streams.push(stream);
    }
    for node in nodes.iter_mut() {
        if node.scheduling.merge == Merge::Priority {
            node.inputs
                .sort_by_key(|&s| std::cmp::Reverse(streams[s].priority));
        }
    }
    streams
}

/// The stream `edge` describes, empty, with its full credit.
fn build_stream(edge: &EdgeSpec) -> Stream {
    let capacity = edge.settings.capacity.max(1);
    Stream {
        dead_letter: edge.from_port == DEAD_LETTER_PORT,
        closed: false,
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
        counters: StreamCounters::default(),
        priority: edge.priority,
    }
}

/// Each node's position in topological order, from `order` (most
/// downstream first: topological order is its reverse).
fn topological_positions(order: &[usize]) -> Vec<usize> {
    let mut positions = vec![0; order.len()];
    for (position, &n) in order.iter().rev().enumerate() {
        positions[n] = position;
    }
    positions
}
