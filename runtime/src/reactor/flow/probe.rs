//! [`CallProbe`]: what the instrumentation knows about the call in
//! progress, laid out so that an untimed call reads one cache line (see
//! `observe` for what reads it).

use crate::reactor::clock::Tick;
use crate::reactor::trace::{BufferRef, CallGate, PREVIEW_BYTES};
use crate::resources::CopyStats;

/// [`CallProbe::input_stream`] when no queue wait is pending.
pub(super) const NO_STREAM: u32 = u32::MAX;

/// What the instrumentation knows about the call in progress, and the
/// flow's observability switches.
///
/// Laid out for the hot path: what every call reads comes first, in one
/// cache line (the calls into Wasm evict it between two calls; one line
/// read is one miss) — with the trace recorder's [`CallGate`], so a call
/// the gate clears touches no other observability state; what only timed
/// and detailed calls use follows.
#[derive(Debug, Default)]
#[repr(C, align(64))]
pub(super) struct CallProbe {
    /// When the call began (`None`: not timed).
    pub(super) began: Option<Tick>,
    /// The last delivery's clock reading, ns since the Unix epoch (0:
    /// none): the end of the delivered element's end-to-end latency
    /// ([`Flow::record_delivery`](super::Flow::record_delivery)), and the next pull's start when no
    /// guest runs before it. Every guest call forgets it
    /// ([`Flow::probe_begin`](super::Flow::probe_begin),
    /// [`CallProbe::forget_reading`]).
    pub(super) reading: u64,
    /// The trace recorder's gate ([`TraceRecorder::gate`](crate::reactor::trace::TraceRecorder::gate)).
    pub(super) gate: CallGate,
    /// The stream the input was taken from, until its queue wait is
    /// recorded ([`NO_STREAM`]: none).
    pub(super) input_stream: u32,
    /// The observability level is not `off` (so the trace recorder
    /// records).
    pub(super) observed: bool,
    /// Every call is timed (`diagnostic`, or `settings.stage_timing`);
    /// otherwise, at `production`, a sample is (see the module docs).
    pub(super) time_every_call: bool,
    /// The element is traced in detail.
    pub(super) detailed: bool,
    /// Samples go to the flow's histograms (`observed`, and the flow
    /// keeps histograms).
    pub(super) samples_histograms: bool,
    /// When the last timed call ended (elements it emitted were enqueued
    /// then: their queue wait starts here).
    pub(super) ended: Tick,
    pub(super) duration_ns: u64,
    pub(super) copies_before: CopyStats,
    pub(super) input: Option<BufferRef>,
    pub(super) output: Option<BufferRef>,
    pub(super) preview: [u8; PREVIEW_BYTES],
    pub(super) preview_len: u8,
}

impl CallProbe {
    /// A probe with no call in progress.
    pub(super) fn new() -> Self {
        Self {
            input_stream: NO_STREAM,
            ..Self::default()
        }
    }

    /// The last delivery's clock reading, if it still stands for now (no
    /// guest ran since); 0 otherwise.
    #[inline(always)]
    pub(super) fn reading(&self) -> u64 {
        self.reading
    }

    /// Keeps the first `preview_bytes` (at most [`PREVIEW_BYTES`]) of
    /// `bytes` as the call's payload preview.
    // HOT PATH (detailed calls): nothing when previews are off (the
    // default), not even a zero-length copy (a call into `memcpy`).
    #[inline(always)]
    pub(super) fn capture_preview(&mut self, bytes: &[u8], preview_bytes: usize) {
        let keep = bytes.len().min(preview_bytes);
        if keep > 0 {
            self.preview[..keep].copy_from_slice(&bytes[..keep]);
            self.preview_len = keep as u8;
        }
    }

    /// A guest is about to run, or the flow gives up its thread: the last
    /// reading no longer stands for now.
    #[inline(always)]
    pub(super) fn forget_reading(&mut self) {
        self.reading = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::CallProbe;
    use std::mem::{align_of, offset_of};

    #[test]
    fn what_every_call_reads_is_in_the_probes_first_cache_line() {
        assert_eq!(align_of::<CallProbe>(), 64);
        for (offset, size) in [
            (offset_of!(CallProbe, began), 16),
            (offset_of!(CallProbe, reading), 8),
            (
                offset_of!(CallProbe, gate),
                std::mem::size_of::<super::CallGate>(),
            ),
            (offset_of!(CallProbe, input_stream), 4),
            (offset_of!(CallProbe, observed), 1),
            (offset_of!(CallProbe, time_every_call), 1),
            (offset_of!(CallProbe, detailed), 1),
            (offset_of!(CallProbe, samples_histograms), 1),
        ] {
            assert!(offset + size <= 64, "offset {offset} + {size}");
        }
    }
}
