//! One stage of a running flow: its component instance, its place in the
//! graph, its scheduling state and its counters.

use crate::engine::bindings::types::StreamElement;
use crate::engine::{CompiledComponent, ComponentInstance};
use crate::reactor::element::QueuedElement;
use crate::reactor::spec::{NodeScheduling, StageRole};
use crate::reactor::supervision::{FaultKind, NodeSupervision};
use crate::security::SandboxConfig;
use std::collections::VecDeque;

/// A stage of a running flow.
pub(super) struct Node {
    pub(super) name: String,
    pub(super) role: StageRole,
    pub(super) instance: ComponentInstance,
    /// What a restart instantiates and initialises again.
    pub(super) component: CompiledComponent,
    pub(super) sandbox: SandboxConfig,
    pub(super) config: String,
    pub(super) supervision: NodeSupervision,
    /// Injected faults, by invocation, and the next one due.
    pub(super) faults: Vec<(u64, FaultKind)>,
    pub(super) next_fault: usize,
    /// Output streams that are not dead-letter streams.
    pub(super) regular_outputs: usize,
    /// Whether a `dead-letter` stream leaves this node.
    pub(super) has_dead_letter_stream: bool,
    pub(super) restarts: u64,
    pub(super) retries: u64,
    pub(super) dead_lettered: u64,
    pub(super) timeouts: u64,
    /// The component failed and was not restarted: the node is closed.
    pub(super) ended_abnormally: bool,
    /// Re-used argument of every call (its strings keep their capacity).
    pub(super) scratch: StreamElement,
    pub(super) inputs: Vec<usize>,
    pub(super) outputs: Vec<usize>,
    /// Round-robin position over `inputs` (fan-in).
    pub(super) next_input: usize,
    pub(super) scheduling: NodeScheduling,
    /// Aggregates from `flush`, emitted as credit allows.
    pub(super) pending: VecDeque<QueuedElement>,
    pub(super) flushed: bool,
    pub(super) finished: bool,
    /// The source was told `pause` and must hear `ready` before its next pull.
    pub(super) source_paused: bool,
    /// The sink answered `pause`: no delivery until the next batch.
    pub(super) sink_paused: bool,
    pub(super) invocations: u64,
    pub(super) errors: u64,
    pub(super) busy_ns: u64,
    /// Fuel burnt by the instances a restart replaced.
    pub(super) fuel_of_replaced: u64,
}
