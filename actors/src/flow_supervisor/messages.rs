//! Everything a [`FlowSupervisor`](super::FlowSupervisor) understands, and
//! what it tells the root about its flow's runs.

use crate::flow::{FlowActor, FlowInspection};
use crate::ids::FlowId;
use actix::{Addr, Message};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Root → FlowSupervisor: the flow is being cancelled or drained (or the
/// host stops): do not start it again. A flow waiting to restart ends at
/// once with its last failure.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct StopRestarting;

/// FlowSupervisor → root: a run of the flow started; control requests go
/// to this FlowActor now.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RunStarted {
    /// The flow.
    pub id: FlowId,
    /// Its actor for this run.
    pub addr: Addr<FlowActor>,
    /// Interrupts this run's guest call (tiered cancellation).
    pub interrupt: Arc<AtomicBool>,
}

/// FlowSupervisor → root: the run failed and another will start after the
/// backoff; until then the flow answers with this run's last inspection.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct RunRestarting {
    /// The flow.
    pub id: FlowId,
    /// The failed run's final inspection.
    pub inspection: Box<FlowInspection>,
}

/// Root → FlowSupervisor: the inspection of the flow's last run that
/// ended, if one did (asked when a run ended while a request to it was on
/// its way).
#[derive(Debug, Message)]
#[rtype(result = "Option<Box<FlowInspection>>")]
pub struct LastInspection;
