//! One flow's life on an arbiter: [`FlowSpec`] (what to run), the
//! [`FlowActor`] that owns and drives it, its messages, and the adapter
//! (`driver`) between the actor and the runtime's flow type.
//!
//! # Batches
//!
//! A FlowActor runs its flow in batches of N elements or a time quantum
//! (100 µs by default), whichever comes first. N comes from the flow's
//! [`Priority`] (Critical 128 / High 64 / Normal 32 / Low 16 /
//! Background 8), or from [`BatchPolicy::elements`], and never exceeds
//! [`MAX_BATCH_ELEMENTS`] (256). How N maps onto the runtime's step budget
//! is the driver's business (see `driver`). N and the quantum are the
//! nominal turn: a flow that has run less than the other flows of its
//! worker (its turn came late, or the kernel interrupted it) gets a
//! bigger one until it has caught up, one that has run more a smaller one,
//! within ¼ and 4 times the nominal (see `fair_share`), so that equal
//! flows get equal shares of elements.

mod actor;
pub(crate) mod driver;
mod fair_share;
pub mod messages;

pub use actor::FlowActor;

use crate::counters::CounterSnapshot;
use crate::ids::FlowId;
use crate::state::FlowState;
use crate::trace::{TracedNode, TracedStream};
use std::time::Duration;
use torvyn_runtime::assembly::FlowPlan;
use torvyn_runtime::error::Diagnostic;
use torvyn_runtime::reactor::supervision::FlowRestart;
use torvyn_runtime::reactor::{
    FlowReport, FlowSettings, FlowSpec as GraphSpec, StageSpec, StreamSettings,
};

/// A fault of the FlowActor itself, for fault-injection tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorFault {
    /// The next batch handler panics (the actor catches it: the flow fails
    /// with E0410, the arbiter, the host and the other flows carry on).
    PanicInNextBatch,
    /// The next control message (pause, resume, drain) is ignored: the
    /// caller gets the unchanged state back.
    DropNextControl,
    /// The next control message is handled this late.
    DelayNextControl(Duration),
}

/// Hard ceiling on elements per batch, whatever the priority.
pub const MAX_BATCH_ELEMENTS: usize = 256;

/// A flow's scheduling priority: how many elements it processes per batch
/// before yielding its arbiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Priority {
    /// 128 elements per batch.
    Critical,
    /// 64 elements per batch.
    High,
    /// 32 elements per batch (default).
    #[default]
    Normal,
    /// 16 elements per batch.
    Low,
    /// 8 elements per batch.
    Background,
}

impl Priority {
    /// Elements per batch at this priority.
    pub fn elements_per_batch(self) -> usize {
        match self {
            Priority::Critical => 128,
            Priority::High => 64,
            Priority::Normal => 32,
            Priority::Low => 16,
            Priority::Background => 8,
        }
    }
}

/// How a flow's batches are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchPolicy {
    /// Elements per batch; `None` takes the priority's.
    pub elements: Option<usize>,
    /// Longest a batch runs before the flow yields (checked every few
    /// elements, so a batch may overrun it by up to that many elements).
    pub quantum: Duration,
}

impl Default for BatchPolicy {
    fn default() -> Self {
        Self {
            elements: None,
            quantum: Duration::from_micros(100),
        }
    }
}

impl BatchPolicy {
    /// Elements per batch for `priority`, within 1..=[`MAX_BATCH_ELEMENTS`].
    pub fn elements_for(&self, priority: Priority) -> usize {
        self.elements
            .unwrap_or_else(|| priority.elements_per_batch())
            .clamp(1, MAX_BATCH_ELEMENTS)
    }
}

/// Everything needed to start a flow.
#[derive(Clone)]
pub struct FlowSpec {
    /// Its stages and streams (any DAG; a chain is the simplest).
    pub graph: GraphSpec,
    /// Pools, limits, deadline, element limit, supervision of components.
    pub settings: FlowSettings,
    /// Scheduling priority.
    pub priority: Priority,
    /// Batch size and time quantum.
    pub batch: BatchPolicy,
    /// Start `Suspended` (instantiated, nothing pulled) until resumed.
    pub start_suspended: bool,
    /// Whether its FlowSupervisor starts it again when it fails.
    pub restart: FlowRestart,
}

impl FlowSpec {
    /// A chain of these stages (source first, sink last) whose streams
    /// take the default stream settings (`block`, 64 deep), with default
    /// settings and `Normal` priority.
    pub fn new(stages: Vec<StageSpec>) -> Self {
        Self::chain(stages, StreamSettings::default())
    }

    /// A chain of these stages whose every stream has `streams` settings.
    pub fn chain(stages: Vec<StageSpec>, streams: StreamSettings) -> Self {
        Self::graph(GraphSpec::linear(stages, streams))
    }

    /// A flow of any DAG (from `torvyn_runtime::reactor::FlowSpec`).
    pub fn graph(graph: GraphSpec) -> Self {
        Self {
            graph,
            settings: FlowSettings::default(),
            priority: Priority::default(),
            batch: BatchPolicy::default(),
            start_suspended: false,
            restart: FlowRestart::default(),
        }
    }

    /// A flow planned from a Torvyn.toml ([`torvyn_runtime::assembly`]):
    /// its graph, settings and restart policy.
    pub fn from_plan(plan: FlowPlan) -> Self {
        let (graph, settings, restart) = plan.into_parts();
        Self::graph(graph)
            .with_settings(settings)
            .with_restart(restart)
    }

    /// Replaces the flow settings.
    pub fn with_settings(mut self, settings: FlowSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Sets the priority.
    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Sets the batch policy.
    pub fn with_batch(mut self, batch: BatchPolicy) -> Self {
        self.batch = batch;
        self
    }

    /// Sets the restart policy its FlowSupervisor applies.
    pub fn with_restart(mut self, restart: FlowRestart) -> Self {
        self.restart = restart;
        self
    }

    /// Starts the flow `Suspended`: instantiated, but nothing runs until
    /// [`TorvynHandle::resume`](crate::TorvynHandle::resume).
    pub fn suspended(mut self) -> Self {
        self.start_suspended = true;
        self
    }

    /// Number of stages.
    pub fn stage_count(&self) -> usize {
        self.graph.stages.len()
    }

    /// The stages, in declaration order.
    pub fn stages(&self) -> &[StageSpec] {
        &self.graph.stages
    }

    /// Its streams as (name, from, port, to), in the order the stage loop
    /// numbers them.
    pub fn streams(&self) -> Vec<TracedStream> {
        self.graph
            .edges
            .iter()
            .map(|e| TracedStream {
                name: e.name.clone(),
                from: e.from,
                port: e.from_port.clone(),
                to: e.to,
            })
            .collect()
    }

    /// Its nodes as trace consumers see them (each with its output
    /// streams in stage-loop order).
    pub fn traced_nodes(&self, streams: &[TracedStream]) -> Vec<TracedNode> {
        self.stages()
            .iter()
            .enumerate()
            .map(|(n, stage)| TracedNode {
                name: stage.name.clone(),
                role: stage.role,
                outputs: streams
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.from == n)
                    .map(|(k, _)| k)
                    .collect(),
            })
            .collect()
    }
}

/// What `inspect` shows about a flow.
#[derive(Debug, Clone)]
pub struct FlowInspection {
    /// The flow.
    pub id: FlowId,
    /// Which run of the flow this is: 1, then one more for each restart
    /// by its FlowSupervisor.
    pub run: u64,
    /// Its name (`FlowSettings::flow_name`).
    pub name: String,
    /// Its state.
    pub state: FlowState,
    /// Its priority.
    pub priority: Priority,
    /// The worker arbiter it runs on (0-based).
    pub arbiter: usize,
    /// Its live counters.
    pub counters: CounterSnapshot,
    /// The flow's full report (per-stage counters, copy ledger totals,
    /// peak queue depth), when the flow got as far as instantiation.
    pub report: Option<FlowReport>,
    /// Current depth of each queue in flow order, while the flow has
    /// queues (from instantiation to teardown).
    pub queue_depths: Option<Vec<usize>>,
    /// Why it failed, when it did.
    pub failure: Option<Diagnostic>,
}
