//! What a trace holds: component calls ([`StageRecord`]), payload
//! previews, backpressure and pause events ([`TraceRecord`]).

use super::settings::PREVIEW_BYTES;
use crate::resources::BufferId;

/// The call a record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOp {
    /// `source.pull`.
    Pull,
    /// `processor.process`.
    Process,
    /// `filter.evaluate`.
    Evaluate,
    /// `router.route`.
    Route,
    /// `aggregator.ingest`.
    Ingest,
    /// `sink.push`.
    Push,
}

impl StageOp {
    /// The WIT function name.
    pub fn as_str(self) -> &'static str {
        match self {
            StageOp::Pull => "pull",
            StageOp::Process => "process",
            StageOp::Evaluate => "evaluate",
            StageOp::Route => "route",
            StageOp::Ingest => "ingest",
            StageOp::Push => "push",
        }
    }
}

/// What became of the element at this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOutcome {
    /// A new element was emitted (a source's pull, a processor's or an
    /// aggregator's output).
    Emitted,
    /// A filter passed it on (same buffer).
    Passed,
    /// Dropped (a filter's `false`, a processor's `drop`, an aggregator
    /// that absorbed it, a router with no port, an overflow policy).
    Dropped,
    /// A router sent it to the ports in [`StageRecord::routes`].
    Routed,
    /// A sink took it.
    Delivered,
    /// The source has no more elements.
    Ended,
    /// The call failed (error, trap or fatal).
    Failed,
}

impl StageOutcome {
    /// The element went on (emitted, passed, routed) or reached its sink:
    /// what most calls do, and, on a unique path, what the element's later
    /// calls imply.
    #[inline]
    pub fn is_routine(self) -> bool {
        matches!(
            self,
            StageOutcome::Emitted
                | StageOutcome::Passed
                | StageOutcome::Routed
                | StageOutcome::Delivered
        )
    }

    /// A short word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            StageOutcome::Emitted => "emit",
            StageOutcome::Passed => "pass",
            StageOutcome::Dropped => "drop",
            StageOutcome::Routed => "route",
            StageOutcome::Delivered => "deliver",
            StageOutcome::Ended => "end",
            StageOutcome::Failed => "fail",
        }
    }
}

/// A buffer as a record sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferRef {
    /// The handle.
    pub id: BufferId,
    /// Its payload length.
    pub bytes: u32,
}

/// One component call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageRecord {
    /// Node index.
    pub node: u32,
    /// The call.
    pub op: StageOp,
    /// The element's sequence (for a source: the one it was given).
    pub sequence: u64,
    /// When the call began, ns since the Unix epoch.
    pub start_unix_ns: u64,
    /// How long it took.
    pub duration_ns: u64,
    /// The element's source timestamp (ns since the Unix epoch).
    pub element_timestamp_ns: u64,
    /// The buffer lent to the call (detailed records only).
    pub input: Option<BufferRef>,
    /// The buffer the call produced, if any (detailed records only).
    pub output: Option<BufferRef>,
    /// Copies the call caused (detailed records only).
    pub copies: u32,
    /// Bytes those copies moved.
    pub copied_bytes: u64,
    /// What became of the element.
    pub outcome: StageOutcome,
    /// [`StageOutcome::Routed`]: bit `k` set when the element went to the
    /// node's `k`-th output stream (first 64 outputs).
    pub routes: u64,
    /// Whether buffers and copies were captured.
    pub detailed: bool,
    /// Whether the call was timed: `false` for a call of an element that
    /// production did not time, exported retroactively (its start is the
    /// best instant known and its duration 0).
    pub measured: bool,
}

/// Backpressure on a stream started or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackpressurePhase {
    /// The queue reached capacity; its producer is held.
    Triggered,
    /// The queue drained to its low watermark after `duration_ns`.
    Relieved {
        /// How long it lasted.
        duration_ns: u64,
    },
}

/// Something a flow's trace holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceRecord {
    /// A component call.
    Stage(StageRecord),
    /// The first bytes of the payload a call saw ([`TraceMode::Full`](super::TraceMode::Full) with
    /// `preview_bytes`), right after that call's record.
    Payload {
        /// Node index.
        node: u32,
        /// Element sequence.
        sequence: u64,
        /// The payload's first bytes.
        bytes: [u8; PREVIEW_BYTES],
        /// How many of `bytes` are set.
        len: u8,
    },
    /// Backpressure on a stream ([`TraceMode::Full`](super::TraceMode::Full)).
    Backpressure {
        /// Stream index.
        stream: u32,
        /// When, ns since the Unix epoch.
        at_unix_ns: u64,
        /// Queue depth then.
        depth: u32,
        /// Queue capacity.
        capacity: u32,
        /// Started or ended.
        phase: BackpressurePhase,
    },
    /// A source was told `pause` or `ready` ([`TraceMode::Full`](super::TraceMode::Full)).
    SourceSignal {
        /// Node index.
        node: u32,
        /// When, ns since the Unix epoch.
        at_unix_ns: u64,
        /// `true`: pause; `false`: ready.
        paused: bool,
    },
    /// A sink answered `pause` ([`TraceMode::Full`](super::TraceMode::Full)).
    SinkPaused {
        /// Node index.
        node: u32,
        /// When, ns since the Unix epoch.
        at_unix_ns: u64,
    },
}

impl TraceRecord {
    /// When it happened (a call: when it began), ns since the Unix epoch;
    /// `None` for a payload snapshot.
    pub fn at_unix_ns(&self) -> Option<u64> {
        match *self {
            TraceRecord::Stage(stage) => Some(stage.start_unix_ns),
            TraceRecord::Payload { .. } => None,
            TraceRecord::Backpressure { at_unix_ns, .. }
            | TraceRecord::SourceSignal { at_unix_ns, .. }
            | TraceRecord::SinkPaused { at_unix_ns, .. } => Some(at_unix_ns),
        }
    }
}
