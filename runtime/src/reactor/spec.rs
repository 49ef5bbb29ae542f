//! What a flow is made of, as data: its stages ([`StageSpec`]), its
//! streams ([`EdgeSpec`]), the graph they form ([`FlowSpec`]), the
//! flow-wide settings ([`FlowSettings`]) and the answer a batch gives
//! ([`FlowProgress`]). [`super::Flow::start_graph`] turns a spec into a
//! running flow.

use super::backpressure::StreamSettings;
use super::histogram::FlowHistograms;
use super::supervision::{Fault, FlowSupervision, NodeSupervision};
use super::trace::{TraceContext, TraceSettings};
use crate::config::ObservabilityLevel;
use crate::connectors::ConnectorSpec;
use crate::engine::{CompiledComponent, ExportSet, TorvynInterface};
use crate::resources::{PoolConfig, ResourceLimits, SharedPool};
use crate::security::SandboxConfig;
use std::sync::Arc;
use std::time::Duration;

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
            TorvynInterface::Lifecycle
            | TorvynInterface::BatchProcessor
            | TorvynInterface::BatchSource
            | TorvynInterface::BatchSink => None,
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

/// What runs a stage: a compiled Wasm component, or a connector the host
/// provides ([`crate::connectors`]).
#[derive(Clone)]
pub enum StageComponent {
    /// A sandboxed Wasm component.
    Wasm(CompiledComponent),
    /// A built-in connector (`builtin:…`).
    Connector(ConnectorSpec),
}

impl StageComponent {
    /// The Torvyn interfaces it can play.
    pub fn exports(&self) -> ExportSet {
        match self {
            StageComponent::Wasm(component) => component.exports(),
            StageComponent::Connector(spec) => ExportSet::only(spec.kind().interface()),
        }
    }
}

impl From<CompiledComponent> for StageComponent {
    fn from(component: CompiledComponent) -> Self {
        StageComponent::Wasm(component)
    }
}

impl From<ConnectorSpec> for StageComponent {
    fn from(spec: ConnectorSpec) -> Self {
        StageComponent::Connector(spec)
    }
}

/// One node of a flow.
#[derive(Clone)]
pub struct StageSpec {
    /// Node name.
    pub name: String,
    /// Its component (Wasm, or a built-in connector).
    pub component: StageComponent,
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
                name: crate::config::default_stream_name(&stages[i - 1].name, &stages[i].name),
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
    /// What components read from `flow-context.flow-id`: the host's id of
    /// the flow (`flow-7`, as `/flows` lists it). `None`: a fresh unique
    /// id (`<name>-<hex>`) is made up when the flow starts.
    pub flow_id: Option<String>,
    /// Queue capacity of each stream of a flow built with
    /// [`Flow::start`](super::Flow::start).
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
    /// element), into histograms in
    /// [`FlowReport::latency`](super::FlowReport::latency) (7.3 KiB per
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
    /// [`Flow::set_observability`](super::Flow::set_observability)): `off`
    /// times nothing (unless `stage_timing`); `production` times every
    /// call into `histograms` and traces sampled elements; `diagnostic`
    /// traces every element.
    pub observability: ObservabilityLevel,
    /// The catalog's histograms, updated at `production` and above
    /// (`None`: none kept).
    pub histograms: Option<Arc<FlowHistograms>>,
    /// Sampling, promotion and buffer sizes of the per-element trace.
    pub trace: TraceSettings,
    /// The flow's W3C trace identity, which components read through
    /// `flow-context` while tracing is on (`None`: empty ids).
    pub trace_context: Option<TraceContext>,
    /// Copies of the flow a host runs side by side (`[flow.<name>]
    /// replicas`, default 1). The stage loop runs one copy; the host
    /// starts the others, each with its own [`partition`](Self::partition).
    pub replicas: u32,
    /// Which part of the input this copy handles (what components read
    /// through `flow-metadata.partition()`): `{ index: 0, count: 1 }`
    /// unless the flow is a replica.
    pub partition: Partition,
}

/// The part of a replicated flow's input one replica handles: replica
/// `index` of `count` (a partitioned source emits the elements `i` with
/// `i % count == index`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// This replica, 0-based.
    pub index: u32,
    /// Replicas of the flow (at least 1).
    pub count: u32,
}

impl Default for Partition {
    fn default() -> Self {
        Self { index: 0, count: 1 }
    }
}

impl Default for FlowSettings {
    fn default() -> Self {
        Self {
            flow_name: "main".into(),
            flow_id: None,
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
            replicas: 1,
            partition: Partition::default(),
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
