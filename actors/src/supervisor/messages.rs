//! Everything the root [`Supervisor`](super::Supervisor) understands: the
//! handle's requests, and the exit notices of its flows.

use crate::error::HostError;
use crate::events::FlowEvent;
use crate::flow::{FlowInspection, FlowSpec, Priority};
use crate::ids::FlowId;
use crate::state::FlowState;
use actix::Message;
use tokio::sync::oneshot;
use torvyn_runtime::reactor::FlowReport;

/// How a flow ended: its report, or why it failed.
pub type FlowOutcome = Result<FlowReport, HostError>;

/// Start a flow on the least-loaded worker arbiter.
#[derive(Message)]
#[rtype(result = "Result<FlowId, HostError>")]
pub struct StartFlow(pub FlowSpec);

/// Pause a flow.
#[derive(Debug, Message)]
#[rtype(result = "Result<FlowState, HostError>")]
pub struct PauseFlow(pub FlowId);

/// Inject a component fault into a flow (tests).
#[derive(Debug, Message)]
#[rtype(result = "Result<FlowState, HostError>")]
pub struct InjectFlowFault(pub FlowId, pub torvyn_runtime::reactor::supervision::Fault);

/// Inject a FlowActor fault (tests).
#[derive(Debug, Message)]
#[rtype(result = "Result<FlowState, HostError>")]
pub struct InjectFlowActorFault(pub FlowId, pub crate::flow::ActorFault);

/// Drain a flow (graceful stop).
#[derive(Debug, Message)]
#[rtype(result = "Result<FlowState, HostError>")]
pub struct DrainFlow(pub FlowId);

/// Resume a flow.
#[derive(Debug, Message)]
#[rtype(result = "Result<FlowState, HostError>")]
pub struct ResumeFlow(pub FlowId);

/// Cancel a flow (idempotent).
#[derive(Debug, Message)]
#[rtype(result = "Result<(), HostError>")]
pub struct CancelFlow(pub FlowId);

/// Change a flow's priority.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), HostError>")]
pub struct SetFlowPriority(pub FlowId, pub Priority);

/// Inspect a flow.
#[derive(Debug, Message)]
#[rtype(result = "Result<FlowInspection, HostError>")]
pub struct InspectFlow(pub FlowId);

/// A receiver that gets the flow's outcome once it ends.
#[derive(Debug, Message)]
#[rtype(result = "Result<oneshot::Receiver<FlowOutcome>, HostError>")]
pub struct AwaitFlow(pub FlowId);

/// Subscribe to a flow's events.
#[derive(Debug, Message)]
#[rtype(result = "Result<kanal::Receiver<FlowEvent>, HostError>")]
pub struct SubscribeFlow(pub FlowId);

/// Live flows per worker arbiter.
#[derive(Debug, Message)]
#[rtype(result = "Vec<usize>")]
pub struct ArbiterLoads;

/// Cancel every live flow and stop the actor system.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Sent by a FlowActor as it stops.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct FlowExited {
    /// The flow.
    pub id: FlowId,
    /// The arbiter it ran on.
    pub arbiter: usize,
    /// Buffers alive after its teardown.
    pub live_buffers: usize,
    /// Pool buffers it had not given back after its teardown.
    pub pool_buffers_held: u64,
    /// Whether it was cancelled.
    pub cancelled: bool,
    /// Its final inspection.
    pub inspection: FlowInspection,
    /// How it ended.
    pub outcome: FlowOutcome,
}
