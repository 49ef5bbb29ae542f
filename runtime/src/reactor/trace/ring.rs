//! The ring of the last unsampled calls ([`CallRecord`]) and promotion:
//! exporting an element's calls retroactively when it fails or is slow,
//! from the ring and, where elements reach each node one way
//! ([`NodePath`]), rebuilt along the path.

use super::recorder::{TraceRecorder, PROMOTED_SLOTS};
use super::records::{StageOp, StageOutcome, StageRecord, TraceRecord};

/// Upstream calls a promotion rebuilds at most (the nearest ones).
const MAX_REBUILT_CALLS: usize = 64;

/// A slot of the ring no element owns any more.
pub(super) const FREE_SLOT: u64 = u64::MAX;

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
    /// [`PRODUCTION_TIMING_EVERY`](super::PRODUCTION_TIMING_EVERY) is).
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

/// The wall clock now, in ns since the Unix epoch (cold paths only).
fn unix_now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl TraceRecorder {
    /// Exports `call` and the calls of its element still in the ring
    /// (with unique paths, also the upstream calls the ring does not
    /// hold, rebuilt from the path); the element's later calls are
    /// recorded in detail. Calls that were not timed are placed at the
    /// element's source timestamp, or, for the promoting call, at its
    /// delivery or now.
    #[cold]
    #[inline(never)]
    pub(super) fn promote(
        &mut self,
        call: CallRecord,
        element_timestamp_ns: u64,
        end_to_end_ns: u64,
    ) {
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
    pub(super) fn push_ring(&mut self, call: CallRecord) {
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
        } else if self.ring.is_empty() && self.settings.ring_capacity > 0 {
            self.push_first(call);
        }
    }

    /// The ring's first call: reserves it, then keeps the call.
    #[cold]
    #[inline(never)]
    fn push_first(&mut self, call: CallRecord) {
        self.reserve_ring();
        self.push_ring(call);
    }
}
