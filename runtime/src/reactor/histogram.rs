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
