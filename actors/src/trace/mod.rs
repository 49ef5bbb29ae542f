//! Per-element traces on their way out of the flows.
//!
//! A flow's stage loop records its component calls (see
//! `torvyn_runtime::reactor::trace`); between two batches its FlowActor
//! drains them into a [`TraceBatch`] and hands it to the [`TracePublisher`]
//! with `try_send`: a full channel never blocks a flow, the records are
//! counted as dropped instead (`system.spans_dropped`). One "torvyn-trace"
//! thread, the [`TraceHub`], receives the batches and passes each one to
//! the host's [`TraceConsumer`]s (the OTLP span exporter, built by the
//! embedding program) and to the subscribers that asked for them
//! ([`TorvynHandle::subscribe_traces`], used by `torvyn trace`).
//!
//! [`TorvynHandle::subscribe_traces`]: crate::TorvynHandle::subscribe_traces

mod hub;
pub mod spans;
mod spares;

pub use hub::{TraceHub, TraceStats};
pub use spans::SpanConsumer;

use spares::SpareBuffers;

use crate::ids::FlowId;
use crate::observability::export::{new_span_id, new_trace_id};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use torvyn_runtime::reactor::{StageRole, TraceContext, TraceRecord};

/// A fresh W3C identity for one flow run: random, never-zero trace and
/// root span ids.
pub fn new_trace_context() -> TraceContext {
    TraceContext {
        trace_id: new_trace_id(),
        root_span_id: new_span_id(),
    }
}

/// A node of a traced flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedNode {
    /// Node name.
    pub name: String,
    /// Its role.
    pub role: StageRole,
    /// Its output streams, in the order of [`StageRecord::routes`] bits.
    ///
    /// [`StageRecord::routes`]: torvyn_runtime::reactor::trace::StageRecord::routes
    pub outputs: Vec<usize>,
}

/// A stream of a traced flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedStream {
    /// Stream name.
    pub name: String,
    /// Producer node index.
    pub from: usize,
    /// The producer's port.
    pub port: String,
    /// Consumer node index.
    pub to: usize,
}

/// What a trace consumer needs to know about a flow to read its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowTraceInfo {
    /// The flow.
    pub flow: FlowId,
    /// Its name.
    pub name: String,
    /// Its W3C trace id and root span.
    pub context: TraceContext,
    /// Its nodes, by index.
    pub nodes: Vec<TracedNode>,
    /// Its streams, by index.
    pub streams: Vec<TracedStream>,
}

/// What a batch carries.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceBatchKind {
    /// The flow started running (the root span begins).
    Started {
        /// When, ns since the Unix epoch.
        at_unix_ns: u64,
    },
    /// Records of one or more batches, oldest first.
    Records(Vec<TraceRecord>),
    /// The flow ended (the root span ends).
    Ended {
        /// When, ns since the Unix epoch.
        at_unix_ns: u64,
        /// Why it failed, if it did (`E0xxx: message`).
        error: Option<String>,
    },
}

/// Trace output of one flow.
#[derive(Debug, Clone)]
pub struct TraceBatch {
    /// The flow.
    pub info: Arc<FlowTraceInfo>,
    /// What happened.
    pub kind: TraceBatchKind,
}

impl TraceBatch {
    /// Records it carries (0 for start and end markers).
    pub fn record_count(&self) -> usize {
        match &self.kind {
            TraceBatchKind::Records(records) => records.len(),
            _ => 0,
        }
    }
}

/// Receives every trace batch of the host, on the hub's thread. A consumer
/// may block a little (a file write); the flows never wait for it.
pub trait TraceConsumer: Send + 'static {
    /// One batch.
    fn consume(&mut self, batch: &TraceBatch);
    /// The host is stopping: export what is buffered.
    fn flush(&mut self) {}
    /// Spans this consumer dropped (exports that failed, a full queue).
    fn dropped(&self) -> u64 {
        0
    }
}

/// The sending side, shared by every FlowActor of a host.
#[derive(Debug, Clone)]
pub struct TracePublisher {
    tx: mpsc::SyncSender<TraceBatch>,
    dropped: Arc<AtomicU64>,
    /// Emptied record buffers, given back by the hub.
    spares: SpareBuffers,
}

/// The receiving side, read by the [`TraceHub`].
#[derive(Debug)]
pub struct TraceReceiver {
    pub(crate) batches: mpsc::Receiver<TraceBatch>,
    pub(crate) spares: SpareBuffers,
}

impl TracePublisher {
    /// A channel holding at most `capacity` batches, and its receiver.
    ///
    /// A `std` channel rather than kanal's: its blocking `recv` parks the
    /// trace thread at once, where kanal's yields 256 times first — a busy
    /// core taken from the flows on a small machine.
    pub fn bounded(capacity: usize) -> (Self, TraceReceiver) {
        let (tx, batches) = mpsc::sync_channel(capacity.max(1));
        let spares = SpareBuffers::default();
        (
            Self {
                tx,
                dropped: Arc::new(AtomicU64::new(0)),
                spares: spares.clone(),
            },
            TraceReceiver { batches, spares },
        )
    }

    /// An empty record buffer: one the hub handed back (its memory is
    /// reused: no allocation, and pages already mapped), or a new one.
    // WARM PATH: once per hand-off.
    pub fn record_buffer(&self) -> Vec<TraceRecord> {
        self.spares.take()
    }

    /// Offers a record buffer nobody filled back for reuse (see
    /// [`Self::record_buffer`]).
    pub fn give_back(&self, records: Vec<TraceRecord>) {
        self.spares.give_back(records);
    }

    /// Sends `batch` unless the channel is full or closed; the records of a
    /// batch not sent are counted as dropped.
    // WARM PATH: once per batch of the flow, never per element.
    pub fn publish(&self, batch: TraceBatch) -> bool {
        let records = batch.record_count() as u64;
        match self.tx.try_send(batch) {
            Ok(()) => true,
            Err(_) => {
                self.dropped.fetch_add(records, Relaxed);
                false
            }
        }
    }

    /// Records dropped because the channel was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }

    /// The drop counter itself, to read it without holding a sender (which
    /// would keep the channel open).
    pub fn dropped_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.dropped)
    }

    /// Counts records lost before they reached the channel (a flow's own
    /// trace buffer overflowed).
    pub fn add_dropped(&self, records: u64) {
        self.dropped.fetch_add(records, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_runtime::reactor::trace::{StageOp, StageOutcome, StageRecord};

    pub(crate) fn info() -> Arc<FlowTraceInfo> {
        Arc::new(FlowTraceInfo {
            flow: FlowId::new(1),
            name: "main".into(),
            context: new_trace_context(),
            nodes: Vec::new(),
            streams: Vec::new(),
        })
    }

    pub(crate) fn records(n: usize) -> TraceBatch {
        let record = TraceRecord::Stage(StageRecord {
            node: 0,
            op: StageOp::Pull,
            sequence: 0,
            start_unix_ns: 0,
            duration_ns: 1,
            element_timestamp_ns: 0,
            input: None,
            output: None,
            copies: 0,
            copied_bytes: 0,
            outcome: StageOutcome::Emitted,
            routes: 0,
            detailed: true,
            measured: true,
        });
        TraceBatch {
            info: info(),
            kind: TraceBatchKind::Records(vec![record; n]),
        }
    }

    #[test]
    fn trace_contexts_are_random_and_never_zero() {
        let a = new_trace_context();
        let b = new_trace_context();
        assert_ne!(a.trace_id, b.trace_id);
        assert_ne!(a.trace_id, [0; 16]);
        assert_ne!(a.root_span_id, [0; 8]);
    }

    #[test]
    fn a_full_channel_counts_the_records_it_could_not_take() {
        let (publisher, rx) = TracePublisher::bounded(1);
        assert!(publisher.publish(records(2)));
        assert!(!publisher.publish(records(3)));
        assert_eq!(publisher.dropped(), 3);
        let got = rx.batches.try_recv().ok().map(|b| b.record_count());
        assert_eq!(got, Some(2));
    }
}
