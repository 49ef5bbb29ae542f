//! [`FlowCounters`]: a flow's pre-allocated, atomically readable counters.
//!
//! The FlowActor writes them once per batch (never per element) from the
//! flow's report; the ObservabilityActor and `inspect` read them at any
//! time without touching the flow's thread. The runtime core has no such
//! shared counters yet, so they live here; when the reactor grows its own
//! pre-allocated metrics this type becomes a view over them.

use crate::state::FlowState;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use torvyn_runtime::reactor::FlowReport;

/// Live counters of one flow. Each field is written by the flow's actor
/// only; readers see each value tear-free but not a consistent set.
#[derive(Debug)]
pub struct FlowCounters {
    state: AtomicU8,
    elements_pulled: AtomicU64,
    elements_delivered: AtomicU64,
    elements_dropped: AtomicU64,
    errors: AtomicU64,
    payload_copies: AtomicU64,
    payload_bytes: AtomicU64,
    all_copies: AtomicU64,
    all_bytes: AtomicU64,
    live_buffers: AtomicU64,
    peak_queue_depth: AtomicU64,
    batches: AtomicU64,
    events_dropped: AtomicU64,
}

impl Default for FlowCounters {
    fn default() -> Self {
        Self {
            state: AtomicU8::new(FlowState::Created.as_u8()),
            elements_pulled: AtomicU64::new(0),
            elements_delivered: AtomicU64::new(0),
            elements_dropped: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            payload_copies: AtomicU64::new(0),
            payload_bytes: AtomicU64::new(0),
            all_copies: AtomicU64::new(0),
            all_bytes: AtomicU64::new(0),
            live_buffers: AtomicU64::new(0),
            peak_queue_depth: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            events_dropped: AtomicU64::new(0),
        }
    }
}

/// A plain copy of [`FlowCounters`] at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CounterSnapshot {
    /// Elements pulled from the source.
    pub elements_pulled: u64,
    /// Elements pushed into the sink.
    pub elements_delivered: u64,
    /// Elements dropped by filters, processors or aggregators.
    pub elements_dropped: u64,
    /// `process-error`s returned by all stages.
    pub errors: u64,
    /// Payload copy operations (copy ledger).
    pub payload_copies: u64,
    /// Payload bytes copied (copy ledger).
    pub payload_bytes: u64,
    /// Every copy operation, metadata included.
    pub all_copies: u64,
    /// Every byte copied, metadata included.
    pub all_bytes: u64,
    /// Buffers alive at the last publish.
    pub live_buffers: u64,
    /// Highest depth any queue reached.
    pub peak_queue_depth: u64,
    /// Batches run.
    pub batches: u64,
    /// Events this flow could not send because the event channel was full.
    pub events_dropped: u64,
}

impl CounterSnapshot {
    /// Adds `other`'s counts to these (a replicated flow's totals); the
    /// peak queue depth is the higher of the two.
    pub fn add(&mut self, other: &CounterSnapshot) {
        self.elements_pulled += other.elements_pulled;
        self.elements_delivered += other.elements_delivered;
        self.elements_dropped += other.elements_dropped;
        self.errors += other.errors;
        self.payload_copies += other.payload_copies;
        self.payload_bytes += other.payload_bytes;
        self.all_copies += other.all_copies;
        self.all_bytes += other.all_bytes;
        self.live_buffers += other.live_buffers;
        self.peak_queue_depth = self.peak_queue_depth.max(other.peak_queue_depth);
        self.batches += other.batches;
        self.events_dropped += other.events_dropped;
    }
}

impl FlowCounters {
    /// The state last published.
    pub fn state(&self) -> FlowState {
        FlowState::from_u8(self.state.load(Relaxed)).unwrap_or(FlowState::Failed)
    }

    pub(crate) fn set_state(&self, state: FlowState) {
        self.state.store(state.as_u8(), Relaxed);
    }

    /// Copies every counter out.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            elements_pulled: self.elements_pulled.load(Relaxed),
            elements_delivered: self.elements_delivered.load(Relaxed),
            elements_dropped: self.elements_dropped.load(Relaxed),
            errors: self.errors.load(Relaxed),
            payload_copies: self.payload_copies.load(Relaxed),
            payload_bytes: self.payload_bytes.load(Relaxed),
            all_copies: self.all_copies.load(Relaxed),
            all_bytes: self.all_bytes.load(Relaxed),
            live_buffers: self.live_buffers.load(Relaxed),
            peak_queue_depth: self.peak_queue_depth.load(Relaxed),
            batches: self.batches.load(Relaxed),
            events_dropped: self.events_dropped.load(Relaxed),
        }
    }

    /// Publishes a report's totals (once per batch; no allocation).
    pub(crate) fn publish(&self, report: &FlowReport) {
        self.elements_pulled.store(report.elements_pulled, Relaxed);
        self.elements_delivered
            .store(report.elements_delivered, Relaxed);
        self.elements_dropped
            .store(report.elements_dropped, Relaxed);
        self.errors.store(report.errors, Relaxed);
        self.payload_copies
            .store(report.payload_copies.operations, Relaxed);
        self.payload_bytes
            .store(report.payload_copies.bytes, Relaxed);
        self.all_copies.store(report.all_copies.operations, Relaxed);
        self.all_bytes.store(report.all_copies.bytes, Relaxed);
        self.live_buffers.store(report.live_buffers as u64, Relaxed);
        self.peak_queue_depth
            .store(report.peak_queue_depth as u64, Relaxed);
    }

    /// Publishes the cheap per-batch counters.
    // HOT PATH (once per batch)
    pub(crate) fn publish_batch(&self, delivered: u64) {
        self.elements_delivered.store(delivered, Relaxed);
        self.batches.fetch_add(1, Relaxed);
    }

    pub(crate) fn add_events_dropped(&self, n: u64) {
        self.events_dropped.fetch_add(n, Relaxed);
    }
}
