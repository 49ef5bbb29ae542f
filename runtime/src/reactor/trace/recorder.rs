//! A flow's trace storage ([`TraceRecorder`]): classifies each call,
//! records it into pre-sized storage, and hands the records ready for
//! export to the flow's driver.

use super::records::{StageOp, StageOutcome, StageRecord, TraceRecord};
use super::ring::{CallRecord, NodePath, FREE_SLOT};
use super::sampling::{sampling_hash, threshold_of, CallClass, CallGate, PRODUCTION_TIMING_EVERY};
use super::settings::{TraceMode, TraceSettings, PREVIEW_BYTES};

/// Sequences promoted lately (their later calls are recorded in detail).
pub(super) const PROMOTED_SLOTS: usize = 8;

/// What [`TraceRecorder::classify`] and [`TraceRecorder::record_call`]
/// read on every call, in one cache line: the flow's calls into Wasm evict
/// the recorder between two calls, and each line read is then a miss.
#[derive(Debug)]
#[repr(C, align(64))]
pub(super) struct PerCallFields {
    pub(super) mode: TraceMode,
    /// `settings.error_promote`.
    pub(super) error_promote: bool,
    /// `paths` is not empty.
    pub(super) unique_paths: bool,
    /// Follows the mode and the paths ([`TraceRecorder::update_gate`]) and
    /// the promotions.
    pub(super) gate: CallGate,
    /// `latency_promote_ns`, or `u64::MAX` when latency never promotes.
    pub(super) latency_promote_at: u64,
}

/// A flow's trace storage.
#[derive(Debug)]
pub struct TraceRecorder {
    pub(super) hot: PerCallFields,
    pub(super) settings: TraceSettings,
    /// Sampled when `hash(sequence) <= threshold` (0: none).
    pub(super) threshold: u64,
    /// Timed when `hash(sequence) < timed_below` (in
    /// [`TraceMode::Sampled`]; sampled elements are timed too).
    pub(super) timed_below: u64,
    /// [`Self::timing_weight`], kept with `timed_below`.
    pub(super) timing_weight: u64,
    /// Each node's [`NodePath`], when the flow's shape makes paths unique
    /// (empty: the ring keeps every unsampled call).
    pub(super) paths: Box<[NodePath]>,
    pub(super) ring: Vec<CallRecord>,
    pub(super) ring_next: usize,
    pub(super) export: Vec<TraceRecord>,
    pub(super) dropped: u64,
    pub(super) promoted: [u64; PROMOTED_SLOTS],
    pub(super) promoted_next: usize,
}

impl TraceRecorder {
    /// A recorder in `mode`. The ring is reserved on the first call it
    /// keeps, the export buffer on the first record.
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
    }

    /// Reserves the ring (its first record: an idle flow keeps none).
    pub(super) fn reserve_ring(&mut self) {
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
    pub(super) fn is_detailed(&self, sequence: u64) -> bool {
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
    pub(super) fn record_stage(&mut self, record: StageRecord) {
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

    pub(super) fn push_export(&mut self, record: TraceRecord) {
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
