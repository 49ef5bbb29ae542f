//! [`FlowReport`]: what a flow did — elements, time, copies, queue peaks.

use super::latency::LatencySnapshot;
use crate::resources::{CopyReason, CopyStats};
use serde::{Serialize, Serializer};
use std::time::Duration;

/// Counters of one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageReport {
    /// Node name.
    pub name: String,
    /// Calls made.
    pub invocations: u64,
    /// `process-error`s returned.
    pub errors: u64,
    /// Wall time spent inside the component.
    pub busy_ns: u64,
    /// Times its component was restarted (a fresh instance).
    pub restarts: u64,
    /// Calls repeated under the `retry` error policy.
    pub retries: u64,
    /// Elements sent to its dead-letter destination.
    pub dead_lettered: u64,
    /// `deadline-exceeded` errors it returned.
    pub timeouts: u64,
    /// Its component failed and was not restarted: the node closed.
    pub ended_abnormally: bool,
    /// Wasm fuel its calls burnt, over every instance it had
    /// (`component.fuel_consumed`; 0 when fuel metering is off).
    pub fuel_consumed: u64,
    /// Bytes of linear memory its current instance has
    /// (`component.memory_current`).
    pub memory_bytes: u64,
    /// The capabilities its component used or was refused
    /// (`capability.exercises` / `capability.denials`), over every instance.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<crate::security::CapabilityUse>,
    /// A networked connector's own counters (`builtin:nats-source`,
    /// `builtin:nats-sink`): fetched, acked, redelivered, pending,
    /// published, publish latency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector: Option<crate::connectors::ConnectorReport>,
}

/// Counters and state of one stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamReport {
    /// Stream name.
    pub name: String,
    /// Overflow policy.
    pub policy: &'static str,
    /// Queue capacity.
    pub capacity: usize,
    /// Queue depth now.
    pub depth: usize,
    /// Highest depth reached.
    pub peak_depth: usize,
    /// Demand credit now.
    pub credit: u64,
    /// Elements enqueued.
    pub transferred: u64,
    /// Elements dropped by `drop-oldest`.
    pub dropped_oldest: u64,
    /// Elements dropped by `drop-newest`.
    pub dropped_newest: u64,
    /// Elements this branch of an independent fan-out missed because it
    /// could not take them.
    pub lagged: u64,
    /// Elements dropped because the consumer ended abnormally.
    pub dropped_closed: u64,
    /// Whether backpressure is active now.
    pub backpressure_active: bool,
    /// Backpressure episodes.
    pub backpressure_events: u64,
    /// Time spent in backpressure.
    pub backpressure_ns: u64,
    /// The node reading this stream.
    pub consumer: String,
}

/// A snapshot of a flow's counters.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowReport {
    /// Flow name.
    pub flow: String,
    /// Elements pulled from the source.
    pub elements_pulled: u64,
    /// Elements pushed into the sink.
    pub elements_delivered: u64,
    /// Elements dropped by filters, processors or aggregators, by full
    /// queues, and skipped after a stage failed on them (`skip`, or
    /// `retry` exhausted without a dead-letter destination).
    pub elements_dropped: u64,
    /// `process-error`s returned by all stages.
    pub errors: u64,
    /// Wall time from the first pull to completion.
    pub duration: Duration,
    /// Payload copies (reads + writes).
    pub payload_copies: CopyStats,
    /// Every copy, metadata included.
    pub all_copies: CopyStats,
    /// Payload bytes copied ÷ payload bytes produced.
    pub copy_amplification: f64,
    /// Payload bytes produced (written into buffers by components).
    pub bytes_produced: u64,
    /// Highest depth any queue reached.
    pub peak_queue_depth: usize,
    /// Buffers alive right now (0 after teardown, which reclaims them).
    pub live_buffers: usize,
    /// Buffers teardown found still alive and reclaimed: 0 for a flow that
    /// completed cleanly; more means a guest kept buffer handles, or the
    /// flow stopped with elements in flight.
    pub leaked_buffers: usize,
    /// Pool buffers the flow holds (cached or live) that it took from the
    /// shared pools: 0 after teardown, which gives everything back.
    pub pool_buffers_held: u64,
    /// Events dropped because nobody drained them in time.
    pub events_dropped: u64,
    /// Per-stage counters, in definition order.
    pub stages: Vec<StageReport>,
    /// Per-stream counters, in definition order.
    pub streams: Vec<StreamReport>,
    /// Copies by reason (every [`CopyReason`], in its order).
    pub copies_by_reason: Box<[(CopyReason, CopyStats)]>,
    /// Buffers taken from the pools (all tiers).
    pub pool_allocations: u64,
    /// Of those, how many the system allocator served (a tier was empty).
    pub pool_fallbacks: u64,
    /// Latency histograms, when the flow records them
    /// (`FlowSettings::stage_timing`).
    pub latency: Option<Box<LatencySnapshot>>,
    /// A replicated flow's replicas (`[flow.<name>] replicas`), in index
    /// order; the counters above are their totals. Empty for a flow
    /// without replicas.
    pub replicas: Vec<ReplicaReport>,
}

/// One replica of a replicated flow, in its flow's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaReport {
    /// Its partition index, 0-based.
    pub index: u32,
    /// Its host flow id (`flow-7`), as `/flows` lists it.
    pub flow_id: String,
    /// Elements it pulled from its source.
    pub elements_pulled: u64,
    /// Elements it pushed into its sinks.
    pub elements_delivered: u64,
    /// Elements it dropped.
    pub elements_dropped: u64,
    /// `process-error`s its stages returned.
    pub errors: u64,
    /// Component restarts in it.
    pub restarts: u64,
    /// Its wall time from first pull to completion.
    pub duration: Duration,
    /// Payload copies it made.
    pub copies: u64,
    /// Buffers its teardown reclaimed.
    pub leaked_buffers: usize,
}

impl Serialize for ReplicaReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            index: u32,
            flow_id: &'a str,
            elements_pulled: u64,
            elements_delivered: u64,
            elements_dropped: u64,
            element_errors: u64,
            restarts: u64,
            duration_us: u64,
            copies: u64,
            leaked_buffers: usize,
        }
        Json {
            index: self.index,
            flow_id: &self.flow_id,
            elements_pulled: self.elements_pulled,
            elements_delivered: self.elements_delivered,
            elements_dropped: self.elements_dropped,
            element_errors: self.errors,
            restarts: self.restarts,
            duration_us: u64::try_from(self.duration.as_micros()).unwrap_or(u64::MAX),
            copies: self.copies,
            leaked_buffers: self.leaked_buffers,
        }
        .serialize(serializer)
    }
}

/// The one JSON shape of a [`FlowReport`]: `torvyn run --format json`
/// prints it, the inspection API's `/flows/{id}` embeds it.
#[derive(Serialize)]
struct FlowReportJson<'a> {
    flow: &'a str,
    elements_pulled: u64,
    elements_delivered: u64,
    elements_dropped: u64,
    element_errors: u64,
    duration_us: u64,
    throughput_eps: f64,
    copies: u64,
    copy_bytes: u64,
    all_copies: u64,
    all_copy_bytes: u64,
    copy_amplification: f64,
    bytes_produced: u64,
    peak_queue_depth: usize,
    live_buffers: usize,
    leaked_buffers: usize,
    pool_allocations: u64,
    pool_fallbacks: u64,
    events_dropped: u64,
    stages: &'a [StageReport],
    streams: &'a [StreamReport],
    #[serde(skip_serializing_if = "<[ReplicaReport]>::is_empty")]
    replicas: &'a [ReplicaReport],
}

impl Serialize for FlowReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        FlowReportJson {
            flow: &self.flow,
            elements_pulled: self.elements_pulled,
            elements_delivered: self.elements_delivered,
            elements_dropped: self.elements_dropped,
            element_errors: self.errors,
            duration_us: u64::try_from(self.duration.as_micros()).unwrap_or(u64::MAX),
            throughput_eps: self.throughput(),
            copies: self.payload_copies.operations,
            copy_bytes: self.payload_copies.bytes,
            all_copies: self.all_copies.operations,
            all_copy_bytes: self.all_copies.bytes,
            copy_amplification: self.copy_amplification,
            bytes_produced: self.bytes_produced,
            peak_queue_depth: self.peak_queue_depth,
            live_buffers: self.live_buffers,
            leaked_buffers: self.leaked_buffers,
            pool_allocations: self.pool_allocations,
            pool_fallbacks: self.pool_fallbacks,
            events_dropped: self.events_dropped,
            stages: &self.stages,
            streams: &self.streams,
            replicas: &self.replicas,
        }
        .serialize(serializer)
    }
}

impl FlowReport {
    /// The report as one line of JSON (its [`Serialize`] shape).
    pub fn to_json(&self) -> String {
        // Serializing plain numbers and strings cannot fail; a non-finite
        // float becomes `null`.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Elements delivered per second.
    pub fn throughput(&self) -> f64 {
        let secs = self.duration.as_secs_f64();
        if secs > 0.0 {
            self.elements_delivered as f64 / secs
        } else {
            0.0
        }
    }
}
