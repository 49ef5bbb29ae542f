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
//!
//!   When the flow's shape leaves an element one way to each node (no
//!   fan-in, no aggregator, no dead-letter stream: see [`NodePath`]), an
//!   untimed call that passed its element on says nothing its element's
//!   later calls do not: such calls skip the ring, and a promotion
//!   exports them rebuilt from the path (placed at the element's
//!   timestamp, unmeasured, as an untimed ring record would be).
//! - [`TraceMode::Full`] (the `diagnostic` level): every call in detail,
//!   plus backpressure, pause and restart events, plus (optionally) the
//!   first bytes of each element's payload.
//!
//! # Costs
//!
//! Recording is a copy of a record into storage whose capacity was
//! reserved before (a 32-byte [`CallRecord`] into the ring for an
//! unsampled call, a [`StageRecord`] into the export buffer for a detailed
//! one): no allocation once warm, no lock, no message.
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
    /// The sampling of a default `[observability]` table.
    fn default() -> Self {
        let defaults = crate::config::ObservabilityConfig::default();
        Self {
            sample_rate: defaults.sample_rate,
            error_promote: defaults.error_promote,
            latency_promote_ns: defaults.latency_promote_threshold_ms * 1_000_000,
            ring_capacity: defaults.ring_buffer_capacity as usize,
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

/// Upstream calls a promotion rebuilds at most (the nearest ones).
const MAX_REBUILT_CALLS: usize = 64;

/// How an element reaches a node, in a flow where there is one way: each
/// node but a source has one input stream, so an element at a node passed
/// through every node upstream of it, and each of those calls passed it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodePath {
    /// The node whose output feeds this one (`None`: a source).
    pub upstream: Option<u32>,
    /// The call this node makes per element.
    pub op: StageOp,
    /// What that call is when it passes its element on.
    pub passed_on: StageOutcome,
}

/// An unsampled call as the ring keeps it: what a retroactive export
/// needs and nothing more (32 bytes against a [`StageRecord`]'s 120, so
/// recording one is four stores). The element's source timestamp is not
/// kept: every call of an element shares it, and the call that promotes
/// the element brings it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallRecord {
    /// The element's sequence.
    pub sequence: u64,
    /// When the call began, ns since the Unix epoch; 0 when the call was
    /// not timed (at `production`, one element in
    /// [`PRODUCTION_TIMING_EVERY`] is).
    pub start_unix_ns: u64,
    /// How long it took (saturated at `u32::MAX` ns, about 4.3 s).
    pub duration_ns: u32,
    /// Node index.
    pub node: u32,
    /// The call.
    pub op: StageOp,
    /// What became of the element.
    pub outcome: StageOutcome,
}

impl CallRecord {
    /// Whether the call was timed.
    pub fn measured(&self) -> bool {
        self.start_unix_ns != 0
    }

    /// The record a retroactive export carries (no buffers, no copies:
    /// they were not captured). An unmeasured call is placed at `at`.
    pub fn to_stage(self, element_timestamp_ns: u64, at: u64) -> StageRecord {
        let measured = self.measured();
        StageRecord {
            node: self.node,
            op: self.op,
            sequence: self.sequence,
            start_unix_ns: if measured { self.start_unix_ns } else { at },
            duration_ns: u64::from(self.duration_ns),
            element_timestamp_ns,
            input: None,
            output: None,
            copies: 0,
            copied_bytes: 0,
            outcome: self.outcome,
            routes: 0,
            detailed: false,
            measured,
        }
    }
}

/// At the `production` level ([`TraceMode::Sampled`]), a flow starts by
/// timing the calls of one element in this many (for
/// `component.processing_time`, `stream.queue.wait_time` and the
/// components' busy time, which is scaled up by the share), until it
/// knows its rate: see [`timing_every_for`]. Two clock reads per call cost
/// about 1 % of a minimal three-stage pipeline's throughput on their own;
/// timing one element in 16 still cost about 0.3 % of it (the overhead
/// bench, against one in 64). Every element's end-to-end latency is still
/// measured.
pub const PRODUCTION_TIMING_EVERY: u64 = 64;

/// At `production`, about this many elements a second are timed (every
/// element of a slower flow), besides the sampled ones: a timed element's
/// calls take two clock reads each and run code and data that are cold by
/// then, so timing costs about the same per second whatever the rate,
/// while a slow flow's histograms still see every call.
pub const PRODUCTION_TIMED_PER_SECOND: u64 = 1_000;

/// The most elements one timed element stands for (a flow faster than
/// about a million elements a second times more than
/// [`PRODUCTION_TIMED_PER_SECOND`]).
const MAX_TIMING_EVERY: u64 = 1_024;

/// One element in how many a flow moving `elements` in `ns` nanoseconds
/// times at `production`: its rate over [`PRODUCTION_TIMED_PER_SECOND`],
/// rounded up to a power of two, from 1 (every element) to 1,024.
pub fn timing_every_for(elements: u64, ns: u64) -> u64 {
    let per_second = u128::from(elements) * 1_000_000_000 / u128::from(ns.max(1));
    let every = per_second.div_ceil(u128::from(PRODUCTION_TIMED_PER_SECOND));
    (every.min(u128::from(MAX_TIMING_EVERY)) as u64)
        .max(1)
        .next_power_of_two()
}

/// How the calls of one element are observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallClass {
    /// Buffers, sizes and copies are captured and the calls exported.
    pub detailed: bool,
    /// The calls are timed.
    pub timed: bool,
}

/// A slot of the ring no element owns any more.
const FREE_SLOT: u64 = u64::MAX;

/// The recorder's sampling state for the common case: which elements are
/// plain (neither timed nor traced in detail) and which untimed calls
/// need no record. The recorder keeps it in its per-call block and tests
/// it first in [`TraceRecorder::classify`]; the stage loop keeps a copy
/// ([`TraceRecorder::gate`]) in its own hot cache line, so a call the gate
/// clears never touches the recorder. A call the gate does not clear goes
/// to the recorder, which decides exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct CallGate {
    seed: u64,
    /// Above this hash an element is plain (`u64::MAX`: never, when the
    /// recorder is not sampling).
    plain_above: u64,
    /// One past the highest sequence ever promoted (0: none yet): no
    /// sequence at or above it is promoted. Sequences grow as elements
    /// come, so after a promotion only the elements already in flight
    /// take the membership test in [`TraceRecorder::classify`]; every
    /// later one is plain again.
    promoted_ceiling: u64,
    /// An untimed routine call with an end-to-end latency below this
    /// needs no record (0: every call goes to the recorder).
    skip_below: u64,
}

impl Default for CallGate {
    /// A gate that clears nothing.
    fn default() -> Self {
        Self {
            seed: 0,
            plain_above: u64::MAX,
            promoted_ceiling: 0,
            skip_below: 0,
        }
    }
}

impl CallGate {
    /// Whether `sequence`'s calls are neither timed nor traced in detail
    /// (`false`: ask [`TraceRecorder::classify`]).
    // HOT PATH: a multiply and two compares.
    #[inline(always)]
    pub fn is_plain(&self, sequence: u64) -> bool {
        sampling_hash(sequence, self.seed) > self.plain_above && sequence >= self.promoted_ceiling
    }

    /// Whether an untimed call with `outcome` (and, for a delivery, the
    /// element's `end_to_end_ns`) needs no record (`false`: hand it to
    /// [`TraceRecorder::record_call`]).
    // HOT PATH: two compares.
    #[inline(always)]
    pub fn skips(&self, outcome: StageOutcome, end_to_end_ns: u64) -> bool {
        outcome.is_routine() && end_to_end_ns < self.skip_below
    }

    /// Takes in the recorder's promotions since the copy was made.
    #[inline]
    pub fn refresh(&mut self, recorder: &TraceRecorder) {
        self.promoted_ceiling = recorder.hot.gate.promoted_ceiling;
    }
}

/// Fibonacci hashing: one multiply spreads consecutive sequences evenly
/// over the word (the sample is exactly the configured share over any run
/// of elements); the seed makes flows sample different elements.
#[inline(always)]
fn sampling_hash(sequence: u64, seed: u64) -> u64 {
    (sequence ^ seed).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// What [`TraceRecorder::classify`] and [`TraceRecorder::record_call`]
/// read on every call, in one cache line: the flow's calls into Wasm evict
/// the recorder between two calls, and each line read is then a miss.
#[derive(Debug)]
#[repr(C, align(64))]
struct PerCallFields {
    mode: TraceMode,
    /// `settings.error_promote`.
    error_promote: bool,
    /// `paths` is not empty.
    unique_paths: bool,
    /// Follows the mode and the paths ([`TraceRecorder::update_gate`]) and
    /// the promotions.
    gate: CallGate,
    /// `latency_promote_ns`, or `u64::MAX` when latency never promotes.
    latency_promote_at: u64,
}

/// A flow's trace storage.
#[derive(Debug)]
pub struct TraceRecorder {
    hot: PerCallFields,
    settings: TraceSettings,
    /// Sampled when `hash(sequence) <= threshold` (0: none).
    threshold: u64,
    /// Timed when `hash(sequence) < timed_below` (in
    /// [`TraceMode::Sampled`]; sampled elements are timed too).
    timed_below: u64,
    /// [`Self::timing_weight`], kept with `timed_below`.
    timing_weight: u64,
    /// Each node's [`NodePath`], when the flow's shape makes paths unique
    /// (empty: the ring keeps every unsampled call).
    paths: Box<[NodePath]>,
    ring: Vec<CallRecord>,
    ring_next: usize,
    export: Vec<TraceRecord>,
    dropped: u64,
    promoted: [u64; PROMOTED_SLOTS],
    promoted_next: usize,
}

/// Lowercase hex of `bytes` (W3C trace and span ids).
pub fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The wall clock now, in ns since the Unix epoch (cold paths only).
fn unix_now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
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
    /// A recorder in `mode`. The ring is reserved when the mode first
    /// needs it, the export buffer on the first record.
    pub fn new(mode: TraceMode, settings: TraceSettings) -> Self {
        let threshold = threshold_of(settings.sample_rate);
        let mut recorder = Self {
            hot: PerCallFields {
                mode: TraceMode::Off,
                error_promote: settings.error_promote,
                unique_paths: false,
                gate: CallGate::default(),
                latency_promote_at: match settings.latency_promote_ns {
                    0 => u64::MAX,
                    ns => ns,
                },
            },
            threshold,
            timed_below: 0,
            timing_weight: 1,
            paths: Box::default(),
            settings: TraceSettings {
                preview_bytes: settings.preview_bytes.min(PREVIEW_BYTES),
                ..settings
            },
            ring: Vec::new(),
            ring_next: 0,
            export: Vec::new(),
            dropped: 0,
            promoted: [FREE_SLOT; PROMOTED_SLOTS],
            promoted_next: 0,
        };
        recorder.set_timing_every(PRODUCTION_TIMING_EVERY);
        recorder.set_mode(mode);
        recorder
    }

    /// The mode.
    pub fn mode(&self) -> TraceMode {
        self.hot.mode
    }

    /// Switches mode (between batches). Switching off drops what is
    /// buffered for export no sooner than the next drain.
    pub fn set_mode(&mut self, mode: TraceMode) {
        self.hot.mode = mode;
        self.update_gate();
        if mode == TraceMode::Sampled && self.ring.is_empty() {
            // Reserved once, here: recording is then a store into a slot.
            let free = CallRecord {
                sequence: FREE_SLOT,
                start_unix_ns: 0,
                duration_ns: 0,
                node: 0,
                op: StageOp::Pull,
                outcome: StageOutcome::Dropped,
            };
            self.ring = vec![free; self.settings.ring_capacity];
            self.ring_next = 0;
        }
    }

    /// Declares that elements reach each node one way, along `paths`
    /// (indexed by node): untimed calls that pass their element on are
    /// then rebuilt on promotion instead of kept in the ring.
    pub fn set_unique_paths(&mut self, paths: Vec<NodePath>) {
        self.hot.unique_paths = !paths.is_empty();
        self.paths = paths.into_boxed_slice();
        self.update_gate();
    }

    /// Derives the gate from the mode and the paths (keeping the
    /// promotions): when not sampling, it clears nothing.
    fn update_gate(&mut self) {
        let sampling = self.hot.mode == TraceMode::Sampled;
        self.hot.gate = CallGate {
            seed: self.settings.seed,
            plain_above: if sampling {
                self.threshold.max(self.timed_below.saturating_sub(1))
            } else {
                u64::MAX
            },
            promoted_ceiling: self.hot.gate.promoted_ceiling,
            skip_below: if sampling && self.hot.unique_paths {
                self.hot.latency_promote_at
            } else {
                0
            },
        };
    }

    /// A copy of the gate, for the stage loop: see [`CallGate`]. Valid
    /// until the mode or the paths change; [`CallGate::refresh`] takes in
    /// later promotions.
    pub fn gate(&self) -> CallGate {
        self.hot.gate
    }

    /// Whether `sequence`'s calls are recorded in detail (tests; the stage
    /// loop asks [`Self::classify`]).
    #[cfg(test)]
    fn is_detailed(&self, sequence: u64) -> bool {
        self.classify(sequence).detailed
    }

    /// How `sequence`'s calls are observed: in detail (sampled, promoted,
    /// or every call in [`TraceMode::Full`]), and whether they are timed
    /// (every detailed call, plus, in [`TraceMode::Sampled`], the calls
    /// of one element in [`PRODUCTION_TIMING_EVERY`], chosen by the same
    /// hash so an element is timed at every stage or at none).
    // HOT PATH: a multiply and one compare for most calls; the rest (an
    // element timed, sampled or promoted) out of line.
    #[inline]
    pub fn classify(&self, sequence: u64) -> CallClass {
        match self.hot.mode {
            TraceMode::Off => CallClass::default(),
            TraceMode::Full => CallClass {
                detailed: true,
                timed: true,
            },
            TraceMode::Sampled if self.hot.gate.is_plain(sequence) => CallClass::default(),
            TraceMode::Sampled => self.classify_sampled(sequence),
        }
    }

    /// [`Self::classify`] for an element that may be timed, sampled or
    /// promoted.
    #[inline(never)]
    fn classify_sampled(&self, sequence: u64) -> CallClass {
        let hash = sampling_hash(sequence, self.settings.seed);
        let detailed = (self.threshold > 0 && hash <= self.threshold)
            || (sequence < self.hot.gate.promoted_ceiling && self.promoted.contains(&sequence));
        CallClass {
            detailed,
            timed: detailed || hash < self.timed_below,
        }
    }

    /// Times the calls of one element in `every` from now on (in
    /// [`TraceMode::Sampled`]; every sampled element is timed as well).
    pub fn set_timing_every(&mut self, every: u64) {
        self.timed_below = if every <= 1 {
            u64::MAX
        } else {
            u64::MAX / every
        };
        let share = u128::from(self.timed_below.max(self.threshold).max(1));
        // Rounded: a 1 % sample rate stands for 100, not 99.
        self.timing_weight = ((u128::from(u64::MAX) + share / 2) / share).max(1) as u64;
        self.update_gate();
    }

    /// How many elements each timed one stands for in
    /// [`TraceMode::Sampled`] (the timed share, sampled elements included,
    /// inverted): what a sum over timed calls is scaled up by.
    pub fn timing_weight(&self) -> u64 {
        self.timing_weight
    }

    /// Whether events (backpressure, pauses) are recorded.
    #[inline]
    pub fn records_events(&self) -> bool {
        self.hot.mode == TraceMode::Full
    }

    /// Payload bytes to capture per detailed call.
    pub fn preview_bytes(&self) -> usize {
        if self.hot.mode == TraceMode::Full {
            self.settings.preview_bytes
        } else {
            0
        }
    }

    /// Records one call: a detailed one for export, any other through
    /// [`Self::record_call`] (its end-to-end latency, for a delivery,
    /// computed from the record). Tests only: the stage loop calls
    /// [`Self::record_detailed`] and [`Self::record_call`] itself.
    #[cfg(test)]
    fn record_stage(&mut self, record: StageRecord) {
        if record.detailed {
            self.record_detailed(record);
            return;
        }
        let measured = record.measured && record.start_unix_ns != 0;
        let end_to_end_ns = if record.outcome == StageOutcome::Delivered {
            (record.start_unix_ns + record.duration_ns).saturating_sub(record.element_timestamp_ns)
        } else {
            0
        };
        self.record_call(
            CallRecord {
                sequence: record.sequence,
                start_unix_ns: if measured { record.start_unix_ns } else { 0 },
                duration_ns: record.duration_ns.min(u64::from(u32::MAX)) as u32,
                node: record.node,
                op: record.op,
                outcome: record.outcome,
            },
            record.element_timestamp_ns,
            end_to_end_ns,
        );
    }

    /// Records a call traced in detail (a sampled or promoted element, or
    /// any call in [`TraceMode::Full`]) for export.
    // HOT PATH: a copy into reserved storage.
    #[inline]
    pub fn record_detailed(&mut self, record: StageRecord) {
        if self.hot.mode != TraceMode::Off {
            self.push_export(TraceRecord::Stage(record));
        }
    }

    /// Records an unsampled call in the ring; promotes its element (and
    /// exports its calls still in the ring) when it failed or was slow:
    /// the call itself, or — for a delivery — the element's
    /// `end_to_end_ns`, over the latency threshold. With unique paths, an
    /// untimed routine call (see [`StageOutcome::is_routine`]) is not
    /// kept: a promotion rebuilds it when it is upstream of the promoting
    /// call.
    // HOT PATH: two compares, and the ring slot's stores unless paths are
    // unique and the call untimed.
    #[inline(always)]
    pub fn record_call(&mut self, call: CallRecord, element_timestamp_ns: u64, end_to_end_ns: u64) {
        if self.hot.mode == TraceMode::Off {
            return;
        }
        let failed = call.outcome == StageOutcome::Failed && self.hot.error_promote;
        let slow = u64::from(call.duration_ns).max(end_to_end_ns) >= self.hot.latency_promote_at;
        if failed || slow {
            self.promote(call, element_timestamp_ns, end_to_end_ns);
            return;
        }
        if call.measured() || !self.hot.unique_paths || !call.outcome.is_routine() {
            self.push_ring(call);
        }
    }

    /// Records an event or payload ([`TraceMode::Full`] only).
    pub fn record(&mut self, record: TraceRecord) {
        if self.hot.mode == TraceMode::Full {
            self.push_export(record);
        }
    }

    /// Moves every record ready for export to `out`, oldest first. An
    /// empty `out` trades places with the export buffer (no copy: the
    /// records leave in the buffer they were written to, and `out`'s
    /// memory — typically a buffer the trace thread handed back — takes
    /// the next records).
    pub fn drain_into(&mut self, out: &mut Vec<TraceRecord>) {
        if out.is_empty() {
            std::mem::swap(&mut self.export, out);
        } else {
            out.append(&mut self.export);
        }
    }

    /// Records waiting to be drained.
    pub fn pending(&self) -> usize {
        self.export.len()
    }

    /// Records dropped because the export buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Exports `call` and the calls of its element still in the ring
    /// (with unique paths, also the upstream calls the ring does not
    /// hold, rebuilt from the path); the element's later calls are
    /// recorded in detail. Calls that were not timed are placed at the
    /// element's source timestamp, or, for the promoting call, at its
    /// delivery or now.
    #[cold]
    #[inline(never)]
    fn promote(&mut self, call: CallRecord, element_timestamp_ns: u64, end_to_end_ns: u64) {
        let sequence = call.sequence;
        self.promoted[self.promoted_next] = sequence;
        self.promoted_next = (self.promoted_next + 1) % PROMOTED_SLOTS;
        let ceiling = &mut self.hot.gate.promoted_ceiling;
        *ceiling = (*ceiling).max(sequence.saturating_add(1));
        // The nodes upstream of the call, nearest first (none without
        // unique paths).
        let mut upstream = [0u32; MAX_REBUILT_CALLS];
        let mut depth = 0;
        let mut next = self.paths.get(call.node as usize).and_then(|p| p.upstream);
        while let Some(node) = next {
            if depth == MAX_REBUILT_CALLS {
                break;
            }
            upstream[depth] = node;
            depth += 1;
            next = self.paths.get(node as usize).and_then(|p| p.upstream);
        }
        // Bit i: the ring held the call of `upstream[i]`.
        let mut held: u64 = 0;
        // The ring in age order: from the oldest slot on.
        let len = self.ring.len();
        for k in 0..len {
            let i = (self.ring_next + k) % len;
            if self.ring[i].sequence == sequence {
                let earlier = self.ring[i];
                self.ring[i].sequence = FREE_SLOT;
                if let Some(i) = upstream[..depth].iter().position(|&n| n == earlier.node) {
                    held |= 1 << i;
                }
                let record = earlier.to_stage(element_timestamp_ns, element_timestamp_ns);
                self.push_export(TraceRecord::Stage(record));
            }
        }
        // The rest of the path, from the source down.
        for i in (0..depth).rev() {
            if held & (1 << i) != 0 {
                continue;
            }
            let node = upstream[i];
            let path = self.paths[node as usize];
            let rebuilt = CallRecord {
                sequence,
                start_unix_ns: 0,
                duration_ns: 0,
                node,
                op: path.op,
                outcome: path.passed_on,
            };
            let record = rebuilt.to_stage(element_timestamp_ns, element_timestamp_ns);
            self.push_export(TraceRecord::Stage(record));
        }
        let at = if end_to_end_ns > 0 {
            element_timestamp_ns + end_to_end_ns
        } else {
            unix_now_ns().max(element_timestamp_ns)
        };
        let record = call.to_stage(element_timestamp_ns, at);
        self.push_export(TraceRecord::Stage(record));
    }

    /// Overwrites the oldest slot of the ring (none when its capacity is 0).
    // HOT PATH: field by field, so the record goes from registers to the
    // slot. `*slot = call` built it on the stack with narrow stores and
    // copied it with two 16-byte loads, which cannot be forwarded from
    // those stores: a store-forwarding stall on every call (half the
    // samples `perf` took in `trace_call`).
    #[inline(always)]
    fn push_ring(&mut self, call: CallRecord) {
        if let Some(slot) = self.ring.get_mut(self.ring_next) {
            slot.sequence = call.sequence;
            slot.start_unix_ns = call.start_unix_ns;
            slot.duration_ns = call.duration_ns;
            slot.node = call.node;
            slot.op = call.op;
            slot.outcome = call.outcome;
            self.ring_next += 1;
            if self.ring_next == self.ring.len() {
                self.ring_next = 0;
            }
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
            measured: true,
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
    fn after_a_promotion_later_elements_are_classified_as_if_none_had_been() {
        let settings = TraceSettings {
            sample_rate: 0.01,
            seed: 99,
            ..TraceSettings::default()
        };
        let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
        let untouched = TraceRecorder::new(TraceMode::Sampled, settings);
        recorder.record_stage(call(40, 5, StageOutcome::Failed, false));
        recorder.record_stage(call(12, 5, StageOutcome::Failed, false));
        assert!(recorder.is_detailed(40) && recorder.is_detailed(12));
        for sequence in (0..2_000).filter(|s| ![12, 40].contains(s)) {
            assert_eq!(
                recorder.classify(sequence),
                untouched.classify(sequence),
                "sequence {sequence}"
            );
        }
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
    fn the_timed_share_follows_the_rate_between_every_element_and_one_in_1024() {
        // elements, ns → one timed in
        for (elements, ns, every) in [
            (0, 1_000_000, 1),
            (1, 2_000_000, 1), // 500 a second
            (1, 1_000_000, 1), // 1,000 a second: every one
            (1_001, 1_000_000_000, 2),
            (200, 1_000_000, 256),      // 200,000 a second
            (10_000, 1_000_000, 1_024), // 10 million a second: capped
            (5, 0, 1_024),              // no time elapsed: no division by zero
        ] {
            assert_eq!(
                timing_every_for(elements, ns),
                every,
                "{elements} elements in {ns} ns"
            );
        }
    }

    #[test]
    fn the_timing_weight_counts_the_sampled_elements_too() {
        let n = 640_000u64;
        let untraced = TraceSettings {
            sample_rate: 0.0,
            ..TraceSettings::default()
        };
        let mut recorder = TraceRecorder::new(TraceMode::Sampled, untraced);
        assert_eq!(recorder.timing_weight(), PRODUCTION_TIMING_EVERY);
        recorder.set_timing_every(256);
        assert_eq!(recorder.timing_weight(), 256);
        let timed = (0..n).filter(|&s| recorder.classify(s).timed).count() as u64;
        assert!(timed.abs_diff(n / 256) < n / 2560, "{timed} of {n} timed");
        recorder.set_timing_every(1);
        assert_eq!(recorder.timing_weight(), 1);
        assert!((0..10_000).all(|s| recorder.classify(s).timed));
        // At the default 1 % sample rate, one in 256 is fewer than the
        // sampled elements, which are all timed: the weight is 100.
        let mut recorder = TraceRecorder::new(TraceMode::Sampled, TraceSettings::default());
        recorder.set_timing_every(256);
        assert_eq!(recorder.timing_weight(), 100);
        let timed = (0..n).filter(|&s| recorder.classify(s).timed).count() as u64;
        assert!(timed.abs_diff(n / 100) < n / 1000, "{timed} of {n} timed");
    }

    #[test]
    fn production_times_a_share_of_elements_and_every_traced_one() {
        let untraced = TraceSettings {
            sample_rate: 0.0,
            ..TraceSettings::default()
        };
        let recorder = TraceRecorder::new(TraceMode::Sampled, untraced);
        let n = 640_000;
        let timed = (0..n).filter(|&s| recorder.classify(s).timed).count() as u64;
        let expected = n / PRODUCTION_TIMING_EVERY;
        assert!(
            timed.abs_diff(expected) < expected / 10,
            "{timed} of {n} timed, expected about {expected}"
        );
        let recorder = TraceRecorder::new(TraceMode::Sampled, TraceSettings::default());
        let classes: Vec<CallClass> = (0..n).map(|s| recorder.classify(s)).collect();
        assert!(classes.iter().all(|c| !c.detailed || c.timed));
        assert!(classes.iter().any(|c| c.detailed));
        let full = TraceRecorder::new(TraceMode::Full, TraceSettings::default());
        assert!((0..100).all(|s| full.classify(s)
            == CallClass {
                detailed: true,
                timed: true
            }));
        let off = TraceRecorder::new(TraceMode::Off, TraceSettings::default());
        assert!((0..100).all(|s| off.classify(s) == CallClass::default()));
    }

    #[test]
    fn an_untimed_element_promoted_by_its_latency_is_exported_unmeasured() {
        let settings = TraceSettings {
            sample_rate: 0.0,
            latency_promote_ns: 1_000_000,
            ..TraceSettings::default()
        };
        let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
        let element_ns = 50_000_000;
        recorder.record_call(
            untimed(4, 0, StageOp::Process, StageOutcome::Emitted),
            element_ns,
            0,
        );
        recorder.record_call(
            untimed(4, 1, StageOp::Process, StageOutcome::Delivered),
            element_ns,
            3_000_000,
        );
        let stages = stages(&mut recorder);
        assert_eq!(stages.len(), 2, "{stages:?}");
        assert!(stages.iter().all(|s| !s.measured && s.duration_ns == 0));
        assert_eq!(
            stages[0].start_unix_ns, element_ns,
            "placed at the element's timestamp"
        );
        assert_eq!(
            stages[1].start_unix_ns,
            element_ns + 3_000_000,
            "placed at the delivery"
        );
        assert!(stages.iter().all(|s| s.element_timestamp_ns == element_ns));
    }

    #[test]
    fn a_fast_untimed_delivery_stays_in_the_ring() {
        let settings = TraceSettings {
            sample_rate: 0.0,
            latency_promote_ns: 1_000_000,
            ..TraceSettings::default()
        };
        let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
        let call = CallRecord {
            sequence: 4,
            start_unix_ns: 0,
            duration_ns: 0,
            node: 1,
            op: StageOp::Push,
            outcome: StageOutcome::Delivered,
        };
        recorder.record_call(call, 10, 999_999);
        assert!(sequences(&mut recorder).is_empty());
        assert_eq!(recorder.ring.iter().filter(|r| r.sequence == 4).count(), 1);
    }

    /// A chain source (0) → processor (1) → filter (2) → sink (3).
    fn chain() -> Vec<NodePath> {
        let step = |upstream: Option<u32>, op, passed_on| NodePath {
            upstream,
            op,
            passed_on,
        };
        vec![
            step(None, StageOp::Pull, StageOutcome::Emitted),
            step(Some(0), StageOp::Process, StageOutcome::Emitted),
            step(Some(1), StageOp::Evaluate, StageOutcome::Passed),
            step(Some(2), StageOp::Push, StageOutcome::Delivered),
        ]
    }

    #[test]
    fn the_gate_clears_only_calls_the_recorder_would_neither_time_nor_keep() {
        let settings = TraceSettings {
            latency_promote_ns: 1_000_000,
            ..TraceSettings::default()
        };
        let mut recorder = TraceRecorder::new(TraceMode::Sampled, settings);
        recorder.set_unique_paths(chain());
        let gate = recorder.gate();
        let plain: Vec<u64> = (0..100_000).filter(|&s| gate.is_plain(s)).collect();
        assert!(plain.len() > 90_000, "{} plain", plain.len());
        assert!(plain
            .iter()
            .all(|&s| recorder.classify(s) == CallClass::default()));
        assert!((0..100_000)
            .filter(|s| !gate.is_plain(*s))
            .all(|s| recorder.classify(s).timed));
        assert!(gate.skips(StageOutcome::Emitted, 0));
        assert!(gate.skips(StageOutcome::Delivered, 999_999));
        assert!(
            !gate.skips(StageOutcome::Delivered, 1_000_000),
            "slow: promotes"
        );
        assert!(!gate.skips(StageOutcome::Failed, 0), "failed: promotes");
        assert!(
            !gate.skips(StageOutcome::Dropped, 0),
            "the ring keeps drops"
        );

        // A promotion: once refreshed, the gate sends the promoted
        // element's later calls to the recorder, which traces them.
        let sequence = plain[0];
        recorder.record_call(
            untimed(sequence, 1, StageOp::Process, StageOutcome::Failed),
            0,
            0,
        );
        let mut refreshed = gate;
        refreshed.refresh(&recorder);
        assert!(gate.is_plain(sequence), "a stale gate still clears it");
        assert!(!refreshed.is_plain(sequence));
        assert!(recorder.classify(sequence).detailed);

        // Without unique paths the ring keeps every call: nothing skipped.
        let shared = TraceRecorder::new(TraceMode::Sampled, settings);
        assert!(!shared.gate().skips(StageOutcome::Emitted, 0));
        // Not sampling: the gate clears nothing.
        for mode in [TraceMode::Off, TraceMode::Full] {
            let gate = TraceRecorder::new(mode, settings).gate();
            assert!((0..1_000).all(|s| !gate.is_plain(s)), "{mode:?}");
            assert!(!gate.skips(StageOutcome::Emitted, 0), "{mode:?}");
        }
    }

    fn untimed(sequence: u64, node: u32, op: StageOp, outcome: StageOutcome) -> CallRecord {
        CallRecord {
            sequence,
            start_unix_ns: 0,
            duration_ns: 0,
            node,
            op,
            outcome,
        }
    }

    fn stages(recorder: &mut TraceRecorder) -> Vec<StageRecord> {
        let mut out = Vec::new();
        recorder.drain_into(&mut out);
        out.iter()
            .filter_map(|r| match r {
                TraceRecord::Stage(s) => Some(*s),
                _ => None,
            })
            .collect()
    }

    fn unsampled() -> TraceRecorder {
        let settings = TraceSettings {
            sample_rate: 0.0,
            ..TraceSettings::default()
        };
        TraceRecorder::new(TraceMode::Sampled, settings)
    }

    #[test]
    fn with_unique_paths_routine_untimed_calls_skip_the_ring_and_others_do_not() {
        let mut recorder = unsampled();
        recorder.set_unique_paths(chain());
        recorder.record_call(untimed(1, 0, StageOp::Pull, StageOutcome::Emitted), 10, 0);
        recorder.record_call(
            untimed(1, 1, StageOp::Process, StageOutcome::Emitted),
            10,
            0,
        );
        recorder.record_call(
            untimed(1, 2, StageOp::Evaluate, StageOutcome::Passed),
            10,
            0,
        );
        recorder.record_call(untimed(1, 3, StageOp::Push, StageOutcome::Delivered), 10, 5);
        assert!(recorder.ring.iter().all(|r| r.sequence == FREE_SLOT));
        // A drop ends the element: the ring keeps it, as it keeps a timed call.
        recorder.record_call(
            untimed(2, 2, StageOp::Evaluate, StageOutcome::Dropped),
            10,
            0,
        );
        let mut timed = untimed(3, 1, StageOp::Process, StageOutcome::Emitted);
        timed.start_unix_ns = 20;
        timed.duration_ns = 7;
        recorder.record_call(timed, 10, 0);
        let kept: Vec<u64> = recorder
            .ring
            .iter()
            .map(|r| r.sequence)
            .filter(|&s| s != FREE_SLOT)
            .collect();
        assert_eq!(kept, vec![2, 3]);
        assert!(stages(&mut recorder).is_empty(), "nothing promoted");
    }

    #[test]
    fn a_promotion_on_a_unique_path_rebuilds_the_upstream_calls() {
        let mut recorder = unsampled();
        recorder.set_unique_paths(chain());
        let element_ns = 1_000;
        recorder.record_call(
            untimed(4, 0, StageOp::Pull, StageOutcome::Emitted),
            element_ns,
            0,
        );
        recorder.record_call(
            untimed(4, 1, StageOp::Process, StageOutcome::Emitted),
            element_ns,
            0,
        );
        recorder.record_call(
            untimed(4, 2, StageOp::Evaluate, StageOutcome::Failed),
            element_ns,
            0,
        );
        let exported = stages(&mut recorder);
        let calls: Vec<(u32, StageOp, StageOutcome)> =
            exported.iter().map(|s| (s.node, s.op, s.outcome)).collect();
        assert_eq!(
            calls,
            vec![
                (0, StageOp::Pull, StageOutcome::Emitted),
                (1, StageOp::Process, StageOutcome::Emitted),
                (2, StageOp::Evaluate, StageOutcome::Failed),
            ]
        );
        assert!(exported.iter().all(|s| s.sequence == 4 && !s.measured));
        assert!(exported[..2]
            .iter()
            .all(|s| s.start_unix_ns == element_ns && s.element_timestamp_ns == element_ns));
        assert!(recorder.is_detailed(4), "its later calls are detailed");
    }

    #[test]
    fn a_promotion_exports_timed_upstream_calls_from_the_ring_and_rebuilds_only_the_rest() {
        let mut recorder = unsampled();
        recorder.set_unique_paths(chain());
        let mut timed = untimed(9, 1, StageOp::Process, StageOutcome::Emitted);
        timed.start_unix_ns = 2_000;
        timed.duration_ns = 300;
        recorder.record_call(timed, 1_000, 0);
        // The delivery is slow: the element is promoted.
        recorder.record_call(
            untimed(9, 3, StageOp::Push, StageOutcome::Delivered),
            1_000,
            20_000_000,
        );
        let exported = stages(&mut recorder);
        let nodes: Vec<u32> = exported.iter().map(|s| s.node).collect();
        assert_eq!(
            nodes,
            vec![1, 0, 2, 3],
            "the ring's, then the rebuilt, then the call"
        );
        assert!(exported[0].measured && exported[0].duration_ns == 300);
        assert!(exported[1..3].iter().all(|s| !s.measured));
        assert_eq!(
            exported[3].start_unix_ns,
            1_000 + 20_000_000,
            "at the delivery"
        );
    }

    #[test]
    fn without_unique_paths_a_promotion_exports_only_what_the_ring_holds() {
        let mut recorder = unsampled();
        recorder.record_call(
            untimed(4, 1, StageOp::Process, StageOutcome::Emitted),
            10,
            0,
        );
        recorder.record_call(
            untimed(4, 2, StageOp::Evaluate, StageOutcome::Failed),
            10,
            0,
        );
        let nodes: Vec<u32> = stages(&mut recorder).iter().map(|s| s.node).collect();
        assert_eq!(nodes, vec![1, 2]);
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
    fn draining_into_an_empty_buffer_swaps_and_into_a_full_one_appends() {
        let mut recorder = TraceRecorder::new(TraceMode::Full, TraceSettings::default());
        recorder.record_stage(call(1, 5, StageOutcome::Emitted, true));
        let mut spare = Vec::with_capacity(64);
        let spare_memory = spare.as_ptr();
        recorder.drain_into(&mut spare);
        assert_eq!(spare.len(), 1);
        recorder.record_stage(call(2, 5, StageOutcome::Emitted, true));
        assert_eq!(
            recorder.export.as_ptr(),
            spare_memory,
            "the spare now takes records"
        );
        recorder.drain_into(&mut spare);
        let sequences: Vec<u64> = spare
            .iter()
            .filter_map(|r| match r {
                TraceRecord::Stage(s) => Some(s.sequence),
                _ => None,
            })
            .collect();
        assert_eq!(sequences, vec![1, 2], "appended, oldest first");
        assert_eq!(recorder.pending(), 0);
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
    fn what_every_call_reads_fits_one_cache_line() {
        assert_eq!(std::mem::size_of::<PerCallFields>(), 64);
        assert_eq!(std::mem::align_of::<PerCallFields>(), 64);
        assert_eq!(std::mem::offset_of!(TraceRecorder, hot) % 64, 0);
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
        /// The one-compare fast path of `classify` gives what the full
        /// rule gives: timed when the hash is in the lowest 16th, detailed
        /// when it is within the sample rate, for any seed and rate.
        #[test]
        fn classify_agrees_with_the_full_rule(
            sequence in any::<u64>(),
            seed in any::<u64>(),
            rate in prop_oneof![Just(0.0), Just(1.0), 0.0f64..1.0],
        ) {
            let settings = TraceSettings { sample_rate: rate, seed, ..TraceSettings::default() };
            let recorder = TraceRecorder::new(TraceMode::Sampled, settings);
            let hash = (sequence ^ seed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let threshold = threshold_of(rate);
            let detailed = threshold > 0 && hash <= threshold;
            let timed_below = u64::MAX / PRODUCTION_TIMING_EVERY;
            let expected = CallClass { detailed, timed: detailed || hash < timed_below };
            prop_assert_eq!(recorder.classify(sequence), expected);
        }

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
