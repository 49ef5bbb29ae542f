//! [`LogHistogram`]: the metrics catalog's fixed-bucket histograms, and
//! [`FlowHistograms`], the set a flow updates while it runs.
//!
//! The spec's catalog asks for fixed buckets on a logarithmic scale from
//! 100 ns to 10 s, updated on the hot path with relaxed atomics. The
//! buckets here are the 1 – 2.5 – 5 steps of every decade (25 upper bounds
//! plus `+Inf`), which Prometheus renders directly as `le` buckets. A
//! record is a binary search over 25 constants and a relaxed load and
//! store per word (the flow is the only writer, so no read-modify-write is
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
#[derive(Debug)]
pub struct LogHistogram {
    buckets: [AtomicU64; BUCKET_COUNT],
    sum_ns: AtomicU64,
}

impl Default for LogHistogram {
    fn default() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
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

/// The bucket a value of `ns` falls in.
// HOT PATH: a binary search over 25 constants.
#[inline]
pub fn bucket_of(ns: u64) -> usize {
    BOUNDS_NS.partition_point(|&bound| bound < ns)
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
    fn flow_histograms_have_one_per_node_and_stream() {
        let h = FlowHistograms::new(3, 2);
        assert_eq!(h.processing_time.len(), 3);
        assert_eq!(h.queue_wait.len(), 2);
        assert_eq!(h.latency.counts().count(), 0);
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
