//! One stage of a running flow: its component instance and where it sits
//! in the graph ([`Node`]), what the scheduler follows about it
//! ([`NodeState`]), and what reports and metrics count ([`NodeCounters`]).

use super::stage::StageInstance;
use crate::engine::bindings::types::StreamElement;
use crate::reactor::element::QueuedElement;
use crate::reactor::spec::{NodeScheduling, StageComponent, StageRole};
use crate::reactor::supervision::{FaultKind, NodeSupervision};
use crate::security::SandboxConfig;
use std::collections::VecDeque;
use std::time::Instant;

/// A stage of a running flow.
pub(super) struct Node {
    pub(super) name: String,
    pub(super) role: StageRole,
    pub(super) instance: StageInstance,
    /// What a restart instantiates and initialises again.
    pub(super) component: StageComponent,
    pub(super) sandbox: SandboxConfig,
    pub(super) config: String,
    pub(super) supervision: NodeSupervision,
    /// How it shares demand across its outputs and merges its inputs.
    pub(super) scheduling: NodeScheduling,
    /// Injected faults, by invocation, and the next one due.
    pub(super) faults: Vec<(u64, FaultKind)>,
    pub(super) next_fault: usize,
    /// Re-used argument of every call (its strings keep their capacity).
    pub(super) scratch: StreamElement,
    /// Whether its component offers the batch form of its role
    /// (`torvyn:batching`), which the loop then calls.
    pub(super) offers_batch: bool,
    /// Re-used arguments and elements of its batch calls.
    pub(super) batch: BatchScratch,
    /// Its input streams (in priority order under a priority merge).
    pub(super) inputs: Vec<usize>,
    /// Its output streams.
    pub(super) outputs: Vec<usize>,
    /// Output streams that are not dead-letter streams.
    pub(super) regular_outputs: usize,
    /// Whether a `dead-letter` stream leaves this node.
    pub(super) has_dead_letter_stream: bool,
    /// Where it is in its life: what the scheduler reads.
    pub(super) state: NodeState,
    /// What it did: what reports and metrics read.
    pub(super) counters: NodeCounters,
}

/// What a batch call re-uses from one batch to the next: the elements in
/// hand and the call's arguments (their strings keep their capacity), so
/// a batch allocates nothing on the host side once they have grown.
#[derive(Default)]
pub(super) struct BatchScratch {
    /// The elements of the batch in progress, in order.
    pub(super) inputs: Vec<QueuedElement>,
    /// The call's arguments; only the first `inputs.len()` are passed
    /// (the rest keep their capacity for a larger batch).
    pub(super) elements: Vec<StreamElement>,
}

/// Where a node is in its life: what the scheduler decides on.
#[derive(Default)]
pub(super) struct NodeState {
    /// Round-robin position over `inputs` (fan-in).
    pub(super) next_input: usize,
    /// Aggregates from `flush`, emitted as credit allows.
    pub(super) pending: VecDeque<QueuedElement>,
    /// The aggregator was flushed.
    pub(super) flushed: bool,
    /// Nothing more runs on this node.
    pub(super) finished: bool,
    /// The source was told `pause` and must hear `ready` before its next pull.
    pub(super) source_paused: bool,
    /// The sink answered `pause`: no delivery until the next batch.
    pub(super) sink_paused: bool,
    /// The component failed and was not restarted: the node is closed.
    pub(super) ended_abnormally: bool,
    /// A connector source had nothing: not pulled again before then.
    pub(super) ready_at: Option<Instant>,
}

/// What a node did, for its [`StageReport`](crate::reactor::StageReport).
#[derive(Default)]
pub(super) struct NodeCounters {
    /// Component calls.
    pub(super) invocations: u64,
    /// Calls that failed.
    pub(super) errors: u64,
    /// Time spent in calls (estimated from the timed ones when they are a
    /// sample).
    pub(super) busy_ns: u64,
    pub(super) restarts: u64,
    pub(super) retries: u64,
    pub(super) dead_lettered: u64,
    /// Calls that returned `deadline-exceeded`.
    pub(super) timeouts: u64,
    /// Fuel burnt by the instances a restart replaced.
    pub(super) fuel_of_replaced: u64,
}
