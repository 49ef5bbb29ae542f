//! Which elements are traced in detail and which are timed: head-based
//! sampling by a hash of the element's sequence ([`CallGate`],
//! [`CallClass`]), and the share of elements timed at `production`
//! ([`timing_every_for`]).

use super::recorder::TraceRecorder;
use super::records::StageOutcome;

/// At the `production` level ([`TraceMode::Sampled`](super::TraceMode::Sampled)), a flow starts by
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
    pub(super) seed: u64,
    /// Above this hash an element is plain (`u64::MAX`: never, when the
    /// recorder is not sampling).
    pub(super) plain_above: u64,
    /// One past the highest sequence ever promoted (0: none yet): no
    /// sequence at or above it is promoted. Sequences grow as elements
    /// come, so after a promotion only the elements already in flight
    /// take the membership test in [`TraceRecorder::classify`]; every
    /// later one is plain again.
    pub(super) promoted_ceiling: u64,
    /// An untimed routine call with an end-to-end latency below this
    /// needs no record (0: every call goes to the recorder).
    pub(super) skip_below: u64,
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
pub(super) fn sampling_hash(sequence: u64, seed: u64) -> u64 {
    (sequence ^ seed).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The hash below which an element is sampled at `rate` (0.0 – 1.0).
pub(super) fn threshold_of(rate: f64) -> u64 {
    if rate.is_nan() || rate <= 0.0 {
        0
    } else if rate >= 1.0 {
        u64::MAX
    } else {
        (rate * u64::MAX as f64) as u64
    }
}
