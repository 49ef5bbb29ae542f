//! [`LogHistogram`]: the metrics catalog's fixed-bucket histograms, and
//! [`FlowHistograms`], the set a flow updates while it runs.
//!
//! The spec's catalog asks for fixed buckets on a logarithmic scale from
//! 100 ns to 10 s, updated on the hot path with relaxed atomics. The
//! buckets here are the 1 – 2.5 – 5 steps of every decade (25 upper bounds
//! plus `+Inf`), which Prometheus renders directly as `le` buckets. A
//! record is a table lookup by the value's highest set bit and a relaxed
//! load and store per word (the flow is the only writer, so no read-modify-write is
//! needed); exporters read at any time (a reading may be one record
//! behind, never torn per bucket).
//!
//! A flow does not record into its histograms between two component
//! calls: the calls into Wasm evict the histograms' cache lines (and the
//! bucket tables'), so a record there was three or four cache misses —
//! about 0.6 % of a minimal pipeline's throughput for the one end-to-end
//! latency per element at `production`. It appends the value to a
//! [`SampleBuffer`] (one store into a line the flow keeps warm) and records
//! the buffer once per batch, when those lines are loaded once for all.
//!
//! The benchmark histograms (`latency.rs`, 934 buckets) are separate: they
//! resolve percentiles to 3 %; these are cheap to scrape.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Upper bounds (inclusive) of the finite buckets, in nanoseconds.
pub const BOUNDS_NS: [u64; 25] = [
    100,
    250,
    500,
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// Buckets: the finite ones plus `+Inf`.
pub const BUCKET_COUNT: usize = BOUNDS_NS.len() + 1;

/// One histogram of nanosecond values.
///
/// Laid out for the hot path: cache-line aligned, the sum first, so a
/// record of up to 10 µs (buckets 0 – 6: most calls and queue waits)
/// touches one cache line, not two — the flow's calls into Wasm evict its
/// histograms between two records, so each line touched is a likely miss.
#[derive(Debug)]
#[repr(C, align(64))]
pub struct LogHistogram {
    sum_ns: AtomicU64,
    buckets: [AtomicU64; BUCKET_COUNT],
}

impl Default for LogHistogram {
    fn default() -> Self {
        Self {
            sum_ns: AtomicU64::new(0),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// A histogram's counts at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistogramCounts {
    /// Values per bucket (not cumulative); the last is `+Inf`.
    pub buckets: [u64; BUCKET_COUNT],
    /// Sum of every value, in ns.
    pub sum_ns: u64,
}

impl HistogramCounts {
    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// Cumulative counts (`le` semantics), one per bucket.
    pub fn cumulative(&self) -> [u64; BUCKET_COUNT] {
        let mut running = 0;
        self.buckets.map(|c| {
            running += c;
            running
        })
    }
}

/// [`BOUNDS_NS`], then `u64::MAX` standing for `+Inf`.
const BOUNDS_OR_MAX: [u64; BUCKET_COUNT] = {
    let mut out = [u64::MAX; BUCKET_COUNT];
    let mut i = 0;
    while i < BOUNDS_NS.len() {
        out[i] = BOUNDS_NS[i];
        i += 1;
    }
    out
};

/// For each binary octave `k` (the values in `[2^k, 2^(k+1))`): the bucket
/// of `2^k`, i.e. how many bounds are below `2^k`.
const OCTAVE_BASE: [u8; 64] = {
    let mut out = [0u8; 64];
    let mut k = 0;
    while k < 64 {
        let low = 1u64 << k;
        let mut i = 0;
        while i < BOUNDS_NS.len() && BOUNDS_NS[i] < low {
            i += 1;
        }
        out[k] = i as u8;
        k += 1;
    }
    out
};

// `bucket_of` relies on no octave holding two bounds: each bound is at
// least twice the one before.
const _: () = {
    let mut i = 1;
    while i < BOUNDS_NS.len() {
        assert!(BOUNDS_NS[i] >= 2 * BOUNDS_NS[i - 1]);
        i += 1;
    }
};

/// The bucket a value of `ns` falls in: the first whose bound is not below
/// it.
///
/// Consecutive bounds are at least a factor 2 apart, so the binary octave
/// of `ns` (its highest set bit) holds at most one bound: the bucket is the
/// octave's first bucket, plus one when `ns` is above that bucket's bound.
// HOT PATH: a leading-zero count, two table loads and a compare — no
// branch to mispredict (a binary search over the bounds cost about five,
// on values as varied as latencies).
#[inline]
pub fn bucket_of(ns: u64) -> usize {
    let octave = 63 - (ns | 1).leading_zeros() as usize;
    let base = usize::from(OCTAVE_BASE[octave]);
    base + usize::from(ns > BOUNDS_OR_MAX[base])
}

impl LogHistogram {
    /// Records one value. The flow that owns the histogram is its only
    /// writer, so a relaxed load and store replace the read-modify-write
    /// (no locked instruction on the hot path); readers see each word
    /// whole.
    // HOT PATH: no allocation, no lock; two relaxed loads and stores.
    #[inline]
    pub fn record(&self, ns: u64) {
        let bucket = &self.buckets[bucket_of(ns)];
        bucket.store(bucket.load(Relaxed) + 1, Relaxed);
        self.sum_ns
            .store(self.sum_ns.load(Relaxed).wrapping_add(ns), Relaxed);
    }

    /// The counts now.
    pub fn counts(&self) -> HistogramCounts {
        HistogramCounts {
            buckets: std::array::from_fn(|i| self.buckets[i].load(Relaxed)),
            sum_ns: self.sum_ns.load(Relaxed),
        }
    }
}

/// The histograms of one flow, allocated when the flow is created and
/// shared (read-only) with the exporters.
#[derive(Debug)]
pub struct FlowHistograms {
    /// `flow.latency`: source entry to sink exit, per delivered element.
    pub latency: LogHistogram,
    /// `component.processing_time`: wall time per invocation, per node
    /// (in the flow's node order).
    pub processing_time: Box<[LogHistogram]>,
    /// `stream.queue.wait_time`: time each element waited in a queue, per
    /// stream (in the flow's stream order).
    pub queue_wait: Box<[LogHistogram]>,
}

impl FlowHistograms {
    /// Histograms for a flow of `nodes` nodes and `streams` streams.
    pub fn new(nodes: usize, streams: usize) -> Self {
        Self {
            latency: LogHistogram::default(),
            processing_time: (0..nodes).map(|_| LogHistogram::default()).collect(),
            queue_wait: (0..streams).map(|_| LogHistogram::default()).collect(),
        }
    }

    /// The histogram `slot` names (`None`: a node or stream it has none for).
    pub fn get(&self, slot: HistogramSlot) -> Option<&LogHistogram> {
        match slot {
            HistogramSlot::Latency => Some(&self.latency),
            HistogramSlot::ProcessingTime(node) => self.processing_time.get(node as usize),
            HistogramSlot::QueueWait(stream) => self.queue_wait.get(stream as usize),
        }
    }
}

/// One of a flow's [`FlowHistograms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistogramSlot {
    /// `flow.latency`.
    Latency,
    /// `component.processing_time` of a node.
    ProcessingTime(u32),
    /// `stream.queue.wait_time` of a stream.
    QueueWait(u32),
}

/// Samples a flow took since it last recorded them into its histograms
/// (see the module documentation): fixed capacity, allocated once.
#[derive(Debug)]
pub struct SampleBuffer {
    samples: Box<[(HistogramSlot, u64)]>,
    len: usize,
}

impl SampleBuffer {
    /// Samples kept before the buffer must be recorded (a batch of 32
    /// elements at `diagnostic` takes about 200).
    pub const CAPACITY: usize = 256;

    /// An empty buffer; its [`Self::CAPACITY`] samples (4 KiB) are
    /// allocated at the first push, so a flow that never takes a sample
    /// (idle, or observed at `off`) holds none.
    pub fn new() -> Self {
        Self {
            samples: Box::default(),
            len: 0,
        }
    }

    /// Keeps `ns` for `slot`; `true` when the buffer is now full (record it
    /// before the next push).
    // HOT PATH: one store; the buffer is allocated once, at the flow's
    // first sample.
    #[inline]
    pub fn push(&mut self, slot: HistogramSlot, ns: u64) -> bool {
        if self.samples.is_empty() {
            self.samples = vec![(HistogramSlot::Latency, 0); Self::CAPACITY].into_boxed_slice();
        }
        if let Some(sample) = self.samples.get_mut(self.len) {
            *sample = (slot, ns);
            self.len += 1;
        }
        self.len >= self.samples.len()
    }

    /// Samples waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no sample waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Records every waiting sample into `histograms` (those for a slot
    /// `histograms` has none for are dropped), and empties the buffer.
    pub fn record_into(&mut self, histograms: &FlowHistograms) {
        for &(slot, ns) in &self.samples[..self.len] {
            if let Some(histogram) = histograms.get(slot) {
                histogram.record(ns);
            }
        }
        self.len = 0;
    }

    /// Forgets every waiting sample.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl Default for SampleBuffer {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn values_land_in_the_bucket_whose_bound_is_the_first_not_below_them() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(100), 0);
        assert_eq!(bucket_of(101), 1);
        assert_eq!(bucket_of(1_000), 3);
        assert_eq!(bucket_of(10_000_000_000), 24);
        assert_eq!(bucket_of(10_000_000_001), 25);
        assert_eq!(bucket_of(u64::MAX), 25);
    }

    #[test]
    fn counts_add_up_and_cumulate() {
        let h = LogHistogram::default();
        for ns in [50, 150, 150, 20_000_000_000] {
            h.record(ns);
        }
        let c = h.counts();
        assert_eq!(c.count(), 4);
        assert_eq!(c.buckets[0], 1);
        assert_eq!(c.buckets[1], 2);
        assert_eq!(c.buckets[25], 1);
        assert_eq!(c.sum_ns, 20_000_000_350);
        let cumulative = c.cumulative();
        assert_eq!(cumulative[0], 1);
        assert_eq!(cumulative[1], 3);
        assert_eq!(cumulative[24], 3);
        assert_eq!(cumulative[25], 4);
    }

    #[test]
    fn a_record_up_to_10_us_touches_one_cache_line() {
        let h = LogHistogram::default();
        let base = &h as *const LogHistogram as usize;
        assert_eq!(base % 64, 0);
        assert_eq!(&h.sum_ns as *const AtomicU64 as usize, base);
        assert_eq!(bucket_of(10_000), 6);
        let bucket_6 = &h.buckets[6] as *const AtomicU64 as usize;
        assert!(bucket_6 + 8 <= base + 64);
    }

    #[test]
    fn flow_histograms_have_one_per_node_and_stream() {
        let h = FlowHistograms::new(3, 2);
        assert_eq!(h.processing_time.len(), 3);
        assert_eq!(h.queue_wait.len(), 2);
        assert_eq!(h.latency.counts().count(), 0);
    }

    #[test]
    fn every_bound_and_its_neighbours_land_where_a_search_puts_them() {
        for &bound in &BOUNDS_NS {
            for ns in [bound - 1, bound, bound + 1, bound * 2 - 1, bound / 2 + 1] {
                let searched = BOUNDS_NS.partition_point(|&b| b < ns);
                assert_eq!(bucket_of(ns), searched, "{ns} ns");
            }
        }
        for k in 0..64 {
            let ns = 1u64 << k;
            for v in [ns - 1, ns, ns | (ns >> 1)] {
                assert_eq!(
                    bucket_of(v),
                    BOUNDS_NS.partition_point(|&b| b < v),
                    "{v} ns"
                );
            }
        }
    }

    #[test]
    fn buffered_samples_reach_their_histograms_once_recorded() {
        let histograms = FlowHistograms::new(2, 1);
        let mut buffer = SampleBuffer::new();
        assert!(!buffer.push(HistogramSlot::Latency, 4_000));
        assert!(!buffer.push(HistogramSlot::ProcessingTime(1), 300));
        assert!(!buffer.push(HistogramSlot::QueueWait(0), 90));
        assert!(
            !buffer.push(HistogramSlot::QueueWait(7), 90),
            "no such stream"
        );
        assert_eq!(
            histograms.latency.counts().count(),
            0,
            "not before recording"
        );
        buffer.record_into(&histograms);
        assert!(buffer.is_empty());
        assert_eq!(histograms.latency.counts().sum_ns, 4_000);
        assert_eq!(histograms.processing_time[1].counts().count(), 1);
        assert_eq!(histograms.processing_time[0].counts().count(), 0);
        assert_eq!(histograms.queue_wait[0].counts().buckets[0], 1);
        buffer.record_into(&histograms);
        assert_eq!(histograms.latency.counts().count(), 1, "recorded once");
    }

    #[test]
    fn a_buffer_allocates_its_samples_at_the_first_push() {
        let mut buffer = SampleBuffer::new();
        assert_eq!(buffer.samples.len(), 0, "nothing held before a sample");
        assert!(!buffer.push(HistogramSlot::Latency, 1));
        assert_eq!(buffer.samples.len(), SampleBuffer::CAPACITY);
        assert_eq!(buffer.len(), 1);
    }

    #[test]
    fn a_full_buffer_says_so_and_keeps_every_sample() {
        let histograms = FlowHistograms::new(1, 0);
        let mut buffer = SampleBuffer::new();
        let full: Vec<bool> = (0..SampleBuffer::CAPACITY)
            .map(|_| buffer.push(HistogramSlot::Latency, 1))
            .collect();
        assert!(full[..SampleBuffer::CAPACITY - 1].iter().all(|f| !f));
        assert!(full[SampleBuffer::CAPACITY - 1]);
        assert_eq!(buffer.len(), SampleBuffer::CAPACITY);
        buffer.record_into(&histograms);
        assert_eq!(
            histograms.latency.counts().count(),
            SampleBuffer::CAPACITY as u64
        );
    }

    proptest! {
        #[test]
        fn every_value_is_within_its_bucket(ns in any::<u64>()) {
            let b = bucket_of(ns);
            if b < BOUNDS_NS.len() {
                prop_assert!(ns <= BOUNDS_NS[b]);
            }
            if b > 0 {
                prop_assert!(ns > BOUNDS_NS[b - 1]);
            }
        }
    }
}
