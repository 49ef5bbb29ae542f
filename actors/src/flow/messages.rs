//! Everything a [`FlowActor`](super::FlowActor) understands. Control
//! messages are handled between two batches.

use super::{FlowInspection, Priority};
use crate::error::HostError;
use crate::state::FlowState;
use actix::Message;

/// Run one batch, then re-schedule (sent by the actor to itself).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct RunBatch;

/// Stop pulling after the current batch (`Running → Suspended`). Idempotent
/// on a suspended flow.
#[derive(Debug, Message)]
#[rtype(result = "Result<FlowState, HostError>")]
pub struct Pause;

/// Continue a suspended flow (`Suspended → Running`). Idempotent on a
/// running flow.
#[derive(Debug, Message)]
#[rtype(result = "Result<FlowState, HostError>")]
pub struct Resume;

/// Graceful stop (`Running`/`Suspended → Draining`): no more source pulls,
/// in-flight elements drain, sinks complete, then `Completed`. Idempotent.
#[derive(Debug, Message)]
#[rtype(result = "Result<FlowState, HostError>")]
pub struct Drain;

/// Stop the flow for good (`→ Failed`, code E0402). Idempotent.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Cancel;

/// A snapshot of the flow: state, counters, full report.
#[derive(Debug, Message)]
#[rtype(result = "FlowInspection")]
pub struct Inspect;

/// Change the flow's priority (its batch size) from the next batch on.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SetPriority(pub Priority);

/// Plan a component fault in the running flow (tests): the named node
/// misbehaves on its `at`-th invocation from now.
#[derive(Debug, Message)]
#[rtype(result = "Result<FlowState, HostError>")]
pub struct InjectFault(pub torvyn_runtime::reactor::supervision::Fault);

/// Make the FlowActor itself misbehave (tests).
#[derive(Debug, Message)]
#[rtype(result = "Result<FlowState, HostError>")]
pub struct InjectActorFault(pub super::ActorFault);
