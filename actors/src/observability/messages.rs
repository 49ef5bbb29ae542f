//! Everything the [`ObservabilityActor`](super::ObservabilityActor)
//! understands.

use super::FlowMetrics;
use crate::counters::FlowCounters;
use crate::error::HostError;
use crate::events::FlowEvent;
use crate::flow::FlowInspection;
use crate::ids::FlowId;
use actix::Message;
use std::sync::Arc;

/// A flow started: read its counters from now on.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct RegisterFlow {
    /// The flow.
    pub id: FlowId,
    /// Its name.
    pub name: String,
    /// Its counters, written by its FlowActor.
    pub counters: Arc<FlowCounters>,
    /// Its histograms, written by its stage loop, with their labels.
    pub histograms: Option<FlowHistogramLabels>,
    /// The replicated flow it is a replica of, if it is one.
    pub replica: Option<crate::ids::ReplicaOf>,
}

/// A flow's histograms and the names that label them.
#[derive(Debug, Clone)]
pub struct FlowHistogramLabels {
    /// The histograms.
    pub histograms: Arc<torvyn_runtime::reactor::FlowHistograms>,
    /// Component (node) names, in node order.
    pub components: Vec<String>,
    /// Stream names, in stream order.
    pub streams: Vec<String>,
}

/// A flow ended: deliver its last events, close its subscriptions.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct RetireFlow {
    /// The flow.
    pub id: FlowId,
    /// Its final inspection.
    pub inspection: FlowInspection,
}

/// A receiver of the flow's events: every event so far (replayed), then
/// the live ones; it closes after the terminal transition.
#[derive(Debug, Message)]
#[rtype(result = "Result<kanal::Receiver<FlowEvent>, HostError>")]
pub struct Subscribe {
    /// The flow.
    pub id: FlowId,
}

/// Counter snapshots of every known flow.
#[derive(Debug, Message)]
#[rtype(result = "Vec<FlowMetrics>")]
pub struct Snapshot;

/// Events lost host-wide: (dropped on the flow → observability channel,
/// dropped on full subscriber channels).
#[derive(Debug, Message)]
#[rtype(result = "(u64, u64)")]
pub struct DroppedEvents;

/// Renders the metrics catalog in the Prometheus text format, from the
/// actor's own counters plus what the caller gathered from the other
/// actors.
#[derive(Debug, Message)]
#[rtype(result = "Result<String, HostError>")]
pub struct RenderMetrics {
    /// Full reports of the flows that were inspected.
    pub reports: std::collections::HashMap<FlowId, torvyn_runtime::reactor::FlowReport>,
    /// Pool and budget statistics.
    pub resources: Option<crate::resource::ResourceStats>,
    /// Capability check counts.
    pub capabilities: Vec<crate::capability::CapabilityCount>,
    /// The observability level now.
    pub level: torvyn_runtime::config::ObservabilityLevel,
    /// Trace records dropped host-wide (`system.spans_dropped`).
    pub spans_dropped: u64,
    /// The worker schedulers' wake-ups and idle time.
    pub scheduler: Option<super::system::SchedulerStats>,
    /// The process's resident memory.
    pub resident_bytes: Option<u64>,
}
