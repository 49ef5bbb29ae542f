//! Everything the [`ResourceActor`](super::ResourceActor) understands.

use super::ResourceStats;
use crate::error::HostError;
use crate::ids::FlowId;
use actix::Message;
use std::sync::Arc;
use torvyn_runtime::resources::SharedPool;

/// Reserve a starting flow's share of the global buffer budget; the reply
/// is the shared pool its buffer cache refills from.
#[derive(Debug, Message)]
#[rtype(result = "Result<Arc<SharedPool>, HostError>")]
pub struct Reserve {
    /// The flow.
    pub flow: FlowId,
    /// Host buffer bytes it may hold at most (stages × component budget).
    pub bytes: u64,
}

/// A flow ended: release its reservation and check it leaked nothing.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct FlowTeardown {
    /// The flow.
    pub flow: FlowId,
    /// Buffers still alive after its teardown.
    pub live_buffers: usize,
    /// Pool buffers it had not given back to the shared pool.
    pub pool_buffers_held: u64,
    /// Whether it was cancelled (its in-flight buffers were dropped with
    /// it, which is not a leak).
    pub cancelled: bool,
}

/// The accounting so far.
#[derive(Debug, Message)]
#[rtype(result = "ResourceStats")]
pub struct Stats;
