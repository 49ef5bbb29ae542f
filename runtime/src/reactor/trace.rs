//! Per-element tracing: what each component call did to each element,
//! recorded on the hot path into pre-sized storage and drained by the
//! flow's driver between batches.
//!
//! # Modes
//!
//! - [`TraceMode::Off`]: nothing is recorded.
//! - [`TraceMode::Sampled`] (the `production` level): an element is
//!   *sampled* when a hash of its sequence falls under the sample rate
//!   (head-based: the decision is the same at every stage). Its calls are
//!   recorded in detail (buffers, sizes, copies) and exported. Every other
//!   call leaves a small record in a ring of the last
//!   `ring_buffer_capacity` calls; when an element fails (error
//!   promotion) or is slow (tail-latency promotion: one call, or its
//!   end-to-end latency, over the threshold), its records still in the
//!   ring are exported retroactively and its later calls in detail.
//! - [`TraceMode::Full`] (the `diagnostic` level): every call in detail,
//!   plus backpressure, pause and restart events, plus (optionally) the
//!   first bytes of each element's payload.
//!
//! # Costs
//!
//! Recording is a copy of a ~80-byte record into a vector whose capacity
//! was reserved before: no allocation once warm, no lock, no message.
//! Records that cannot be kept because nobody drained the export buffer
//! in time are counted in [`TraceRecorder::dropped`].

use crate::resources::BufferId;

/// Payload bytes a [`TraceRecord::Payload`] carries at most.
pub const PREVIEW_BYTES: usize = 32;

/// How much a flow traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceMode {
    /// Nothing.
    #[default]
    Off,
    /// Sampled elements, plus promoted ones.
    Sampled,
    /// Every element and event.
    Full,
}

/// Tracing settings of a flow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceSettings {
    /// Head-based sample rate in [`TraceMode::Sampled`], 0.0 – 1.0.
    pub sample_rate: f64,
    /// Export the calls of an element that failed.
    pub error_promote: bool,
    /// Export the calls of an element slower than this, in ns (0 = never).
    pub latency_promote_ns: u64,
    /// Unsampled calls kept for retroactive export.
    pub ring_capacity: usize,
    /// Records kept for export between two drains before new ones are
    /// dropped.
    pub export_capacity: usize,
    /// Payload bytes captured per call in [`TraceMode::Full`] (0 – 32).
    pub preview_bytes: usize,
    /// Mixed into the sampling hash so flows sample different elements.
    pub seed: u64,
}

impl Default for TraceSettings {
    fn default() -> Self {
        Self {
            sample_rate: 0.01,
            error_promote: true,
            latency_promote_ns: 10_000_000,
            ring_capacity: 64,
            export_capacity: 8192,
            preview_bytes: 0,
            seed: 0,
        }
    }
}

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
    /// The first bytes of the payload a call saw ([`TraceMode::Full`] with
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
    /// Backpressure on a stream ([`TraceMode::Full`]).
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
    /// A source was told `pause` or `ready` ([`TraceMode::Full`]).
    SourceSignal {
        /// Node index.
        node: u32,
        /// When, ns since the Unix epoch.
        at_unix_ns: u64,
        /// `true`: pause; `false`: ready.
        paused: bool,
    },
    /// A sink answered `pause` ([`TraceMode::Full`]).
    SinkPaused {
        /// Node index.
        node: u32,
        /// When, ns since the Unix epoch.
        at_unix_ns: u64,
    },
}

/// A flow's W3C trace identity: one trace id per flow run, a root span
/// for the flow (both generated by the host), and a span id per component
/// call derived from the node and the element's sequence (so the exporter
/// and the component's `flow-context.span-id` agree without storing
/// anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    /// 128-bit trace id (never all zero).
    pub trace_id: [u8; 16],
    /// The flow's root span id (never all zero).
    pub root_span_id: [u8; 8],
}

impl TraceContext {
    /// The span id of node `node`'s call on element `sequence` (never all
    /// zero, never the root's).
    pub fn span_id(&self, node: u32, sequence: u64) -> [u8; 8] {
        let root = u64::from_be_bytes(self.root_span_id);
        let mut id = mix(root ^ mix(sequence) ^ (u64::from(node) << 48));
        if id == 0 || id == root {
            id = id.wrapping_add(1).max(1);
        }
        id.to_be_bytes()
    }

    /// A sampling seed derived from the trace id.
    pub fn seed(&self) -> u64 {
        let mut half = [0; 8];
        half.copy_from_slice(&self.trace_id[8..]);
        u64::from_be_bytes(half)
    }
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

/// Sequences promoted lately (their later calls are recorded in detail).
const PROMOTED_SLOTS: usize = 8;

/// A flow's trace storage.
#[derive(Debug)]
pub struct TraceRecorder {
    mode: TraceMode,
    settings: TraceSettings,
    /// Sampled when `hash(sequence) < threshold`.
    threshold: u64,
    ring: Vec<StageRecord>,
    ring_next: usize,
    export: Vec<TraceRecord>,
    dropped: u64,
    promoted: [u64; PROMOTED_SLOTS],
    promoted_next: usize,
}

/// splitmix64: a fast, well-mixed hash of one word.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn threshold_of(rate: f64) -> u64 {
    if rate.is_nan() || rate <= 0.0 {
        0
    } else if rate >= 1.0 {
        u64::MAX
    } else {
        (rate * u64::MAX as f64) as u64
    }
}

impl TraceRecorder {
    /// A recorder in `mode`. Storage is reserved on the first record.
    pub fn new(mode: TraceMode, settings: TraceSettings) -> Self {
        Self {
            mode,
            threshold: threshold_of(settings.sample_rate),
            settings: TraceSettings {
                preview_bytes: settings.preview_bytes.min(PREVIEW_BYTES),
                ..settings
            },
            ring: Vec::new(),
            ring_next: 0,
            export: Vec::new(),
            dropped: 0,
            promoted: [u64::MAX; PROMOTED_SLOTS],
            promoted_next: 0,
        }
    }

    /// The mode.
    pub fn mode(&self) -> TraceMode {
        self.mode
    }

    /// Switches mode (between batches). Switching off drops what is
    /// buffered for export no sooner than the next drain.
    pub fn set_mode(&mut self, mode: TraceMode) {
        self.mode = mode;
    }

    /// Whether anything is recorded.
    // HOT PATH
    #[inline]
    pub fn enabled(&self) -> bool {
        self.mode != TraceMode::Off
    }

    /// Whether `sequence`'s calls are recorded in detail.
    // HOT PATH: a hash and a compare (and 8 compares when sampled out).
    #[inline]
    pub fn is_detailed(&self, sequence: u64) -> bool {
        match self.mode {
            TraceMode::Off => false,
            TraceMode::Full => true,
            TraceMode::Sampled => {
                (self.threshold > 0 && mix(sequence ^ self.settings.seed) <= self.threshold)
                    || self.promoted.contains(&sequence)
            }
        }
    }

    /// Whether events (backpressure, pauses) are recorded.
    #[inline]
    pub fn records_events(&self) -> bool {
        self.mode == TraceMode::Full
    }

    /// Payload bytes to capture per detailed call.
    pub fn preview_bytes(&self) -> usize {
        if self.mode == TraceMode::Full {
            self.settings.preview_bytes
        } else {
            0
        }
    }

    /// Records one call; promotes its element when it failed or was slow.
    // HOT PATH: a copy into reserved storage.
    pub fn record_stage(&mut self, record: StageRecord) {
        if self.mode == TraceMode::Off {
            return;
        }
        if record.detailed {
            self.push_export(TraceRecord::Stage(record));
            return;
        }
        if self.should_promote(&record) {
            self.promote(record);
            return;
        }
        self.push_ring(record);
    }

    /// Records an event or payload ([`TraceMode::Full`] only).
    pub fn record(&mut self, record: TraceRecord) {
        if self.mode == TraceMode::Full {
            self.push_export(record);
        }
    }

    /// Moves every record ready for export to `out`, oldest first.
    pub fn drain_into(&mut self, out: &mut Vec<TraceRecord>) {
        out.append(&mut self.export);
    }

    /// Records waiting to be drained.
    pub fn pending(&self) -> usize {
        self.export.len()
    }

    /// Records dropped because the export buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn should_promote(&self, record: &StageRecord) -> bool {
        let failed = self.settings.error_promote && record.outcome == StageOutcome::Failed;
        let threshold = self.settings.latency_promote_ns;
        let slow = threshold > 0
            && (record.duration_ns >= threshold
                || (record.outcome == StageOutcome::Delivered
                    && (record.start_unix_ns + record.duration_ns)
                        .saturating_sub(record.element_timestamp_ns)
                        >= threshold));
        failed || slow
    }

    /// Exports `record` and the records of its element still in the ring;
    /// the element's later calls are recorded in detail.
    fn promote(&mut self, record: StageRecord) {
        let sequence = record.sequence;
        self.promoted[self.promoted_next] = sequence;
        self.promoted_next = (self.promoted_next + 1) % PROMOTED_SLOTS;
        // The ring in age order: from the oldest slot on.
        let len = self.ring.len();
        for k in 0..len {
            let i = (self.ring_next + k) % len;
            if self.ring[i].sequence == sequence {
                let earlier = self.ring[i];
                self.ring[i].sequence = u64::MAX;
                self.push_export(TraceRecord::Stage(earlier));
            }
        }
        self.push_export(TraceRecord::Stage(record));
    }

    fn push_ring(&mut self, record: StageRecord) {
        let capacity = self.settings.ring_capacity;
        if capacity == 0 {
            return;
        }
        if self.ring.len() < capacity {
            if self.ring.capacity() == 0 {
                self.ring.reserve_exact(capacity);
            }
            self.ring.push(record);
            self.ring_next = self.ring.len() % capacity;
        } else {
            self.ring[self.ring_next] = record;
            self.ring_next = (self.ring_next + 1) % capacity;
        }
    }

    fn push_export(&mut self, record: TraceRecord) {
        if self.export.len() >= self.settings.export_capacity {
            self.dropped += 1;
            return;
        }
        if self.export.capacity() == 0 {
            self.export.reserve(self.settings.export_capacity.min(1024));
        }
        self.export.push(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn call(sequence: u64, duration_ns: u64, outcome: StageOutcome, detailed: bool) -> StageRecord {
        StageRecord {
            node: 1,
            op: StageOp::Process,
            sequence,
            start_unix_ns: 1_000,
            duration_ns,
            element_timestamp_ns: 1_000,
            input: None,
            output: None,
            copies: 0,
            copied_bytes: 0,
            outcome,
            routes: 0,
            detailed,
        }
    }

    fn sequences(recorder: &mut TraceRecorder) -> Vec<u64> {
        let mut out = Vec::new();
        recorder.drain_into(&mut out);
        out.iter()
            .filter_map(|r| match r {
                TraceRecord::Stage(s) => Some(s.sequence),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn off_records_nothing_and_full_details_everything() {
        let mut off = TraceRecorder::new(TraceMode::Off, TraceSettings::default());
        assert!(!off.is_detailed(3));
        off.record_stage(call(3, 5, StageOutcome::Failed, false));
        assert!(sequences(&mut off).is_empty());

        let mut full = TraceRecorder::new(TraceMode::Full, TraceSettings::default());
        assert!((0..100).all(|s| full.is_detailed(s)));
        full.record_stage(call(3, 5, StageOutcome::Emitted, true));
        assert_eq!(sequences(&mut full), vec![3]);
    }

    #[test]
    fn head_sampling_keeps_about_the_configured_share() {
        let settings = TraceSettings {
            sample_rate: 0.1,
            ..TraceSettings::default()
        };
        let recorder = TraceRecorder::new(TraceMode::Sampled, settings);
        let sampled = (0..100_000).filter(|&s| recorder.is_detailed(s)).count();
        assert!((9_000..11_000).contains(&sampled), "{sampled} of 100000");
        let none = TraceRecorder::new(
            TraceMode::Sampled,
            TraceSettings {
                sample_rate: 0.0,
                ..settings
            },
        );
        assert!((0..10_000).all(|s| !none.is_detailed(s)));
    }

    #[test]
    fn an_unsampled_failure_is_promoted_with_its_earlier_calls() {
        let settings = TraceSettings {
            sample_rate: 0.0,
            ..TraceSettings::default()
        };
        let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
        recorder.record_stage(call(7, 5, StageOutcome::Emitted, false));
        recorder.record_stage(call(8, 5, StageOutcome::Emitted, false));
        recorder.record_stage(call(7, 5, StageOutcome::Failed, false));
        assert_eq!(sequences(&mut recorder), vec![7, 7]);
        // Later calls of the promoted element are detailed.
        assert!(recorder.is_detailed(7));
        assert!(!recorder.is_detailed(8));
    }

    #[test]
    fn a_slow_call_or_a_slow_element_is_promoted_and_a_fast_one_is_not() {
        let settings = TraceSettings {
            sample_rate: 0.0,
            latency_promote_ns: 1_000_000,
            ..TraceSettings::default()
        };
        let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
        recorder.record_stage(call(1, 999_999, StageOutcome::Emitted, false));
        recorder.record_stage(call(2, 1_000_000, StageOutcome::Emitted, false));
        let mut late = call(3, 10, StageOutcome::Delivered, false);
        late.start_unix_ns = late.element_timestamp_ns + 2_000_000;
        recorder.record_stage(late);
        assert_eq!(sequences(&mut recorder), vec![2, 3]);
    }

    #[test]
    fn error_promotion_can_be_turned_off() {
        let settings = TraceSettings {
            sample_rate: 0.0,
            error_promote: false,
            ..TraceSettings::default()
        };
        let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
        recorder.record_stage(call(7, 5, StageOutcome::Failed, false));
        assert!(sequences(&mut recorder).is_empty());
    }

    #[test]
    fn a_full_export_buffer_counts_drops_instead_of_growing() {
        let settings = TraceSettings {
            export_capacity: 2,
            ..TraceSettings::default()
        };
        let mut recorder = TraceRecorder::new(TraceMode::Full, settings);
        for s in 0..5 {
            recorder.record_stage(call(s, 5, StageOutcome::Emitted, true));
        }
        assert_eq!(recorder.dropped(), 3);
        assert_eq!(sequences(&mut recorder), vec![0, 1]);
        recorder.record_stage(call(9, 5, StageOutcome::Emitted, true));
        assert_eq!(sequences(&mut recorder), vec![9]);
    }

    #[test]
    fn events_are_kept_only_in_full_mode() {
        let event = TraceRecord::SinkPaused {
            node: 2,
            at_unix_ns: 5,
        };
        let mut sampled = TraceRecorder::new(TraceMode::Sampled, TraceSettings::default());
        sampled.record(event);
        let mut out = Vec::new();
        sampled.drain_into(&mut out);
        assert!(out.is_empty());
        let mut full = TraceRecorder::new(TraceMode::Full, TraceSettings::default());
        full.record(event);
        full.drain_into(&mut out);
        assert_eq!(out, vec![event]);
    }

    #[test]
    fn span_ids_are_stable_and_distinct() {
        let a = TraceContext {
            trace_id: [7; 16],
            root_span_id: [9; 8],
        };
        assert_eq!(a.span_id(1, 7), a.span_id(1, 7));
        assert_ne!(a.span_id(1, 7), a.span_id(2, 7));
        assert_ne!(a.span_id(1, 7), a.span_id(1, 8));
        assert_ne!(a.span_id(0, 0), a.root_span_id);
    }

    proptest! {
        /// Whatever the order of calls, the ring never exports a record
        /// twice and never holds more than its capacity.
        #[test]
        fn promotion_exports_each_ring_record_once(
            calls in proptest::collection::vec((0u64..6, any::<bool>()), 0..200),
        ) {
            let settings = TraceSettings {
                sample_rate: 0.0,
                ring_capacity: 16,
                ..TraceSettings::default()
            };
            let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
            let mut recorded = 0usize;
            for (sequence, fail) in calls {
                let outcome = if fail { StageOutcome::Failed } else { StageOutcome::Emitted };
                recorder.record_stage(call(sequence, 5, outcome, false));
                recorded += 1;
                prop_assert!(recorder.ring.len() <= 16);
            }
            let exported = sequences(&mut recorder).len();
            prop_assert!(exported <= recorded);
        }
    }
}
