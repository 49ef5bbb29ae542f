//! Latency recording for benchmarks: fixed-bucket, log-linear histograms of
//! per-element end-to-end latency (source timestamp → sink `push`
//! returned) and of every stage's invocation durations.
//!
//! # Buckets
//!
//! Values are nanoseconds. Below 64 ns each value has its own bucket; from
//! there on every power of two is cut into 32 equal buckets, so a bucket
//! is at most 1/32 (3.1 %) of its values wide, and its midpoint is within
//! 1.6 % of any value in it. Values from 100 ns to 10 s are resolved
//! that way; anything above 10 s lands in the last bucket. That is
//! [`BUCKETS`] (934) counters, 7.3 KiB per histogram, allocated once when
//! the flow starts — recording is an index computation and an increment.
//!
//! A flow records only when [`FlowSettings::stage_timing`] is on (`torvyn
//! bench` turns it on): one histogram per stage plus one end-to-end.
//! [`Flow::report`] exposes a [`LatencySnapshot`]: only the non-empty
//! buckets, so a snapshot is small and cheap to take once per batch.
//! Snapshots subtract ([`HistogramSnapshot::since`]) so a benchmark can
//! measure a window (warmup excluded) of a flow that started earlier.
//!
//! [`FlowSettings::stage_timing`]: super::FlowSettings::stage_timing
//! [`Flow::report`]: super::Flow::report

/// Bits of a value kept below its leading one (32 buckets per power of two).
const SUB_BITS: u32 = 5;
/// Buckets per power of two.
const SUB_BUCKETS: u64 = 1 << SUB_BITS;
/// The largest value resolved: 10 s.
pub const MAX_RESOLVED_NS: u64 = 10_000_000_000;
/// Number of buckets of every histogram.
pub const BUCKETS: usize = bucket_index(MAX_RESOLVED_NS) + 1;

/// The bucket of `ns` (values above [`MAX_RESOLVED_NS`] share the last one).
// HOT PATH
pub const fn bucket_index(ns: u64) -> usize {
    let v = if ns > MAX_RESOLVED_NS {
        MAX_RESOLVED_NS
    } else {
        ns
    };
    if v < 2 * SUB_BUCKETS {
        return v as usize;
    }
    // `v` has its leading one at bit `msb` (>= SUB_BITS + 1): keep the
    // SUB_BITS bits below it.
    let msb = 63 - v.leading_zeros();
    let shift = msb - SUB_BITS;
    let mantissa = (v >> shift) - SUB_BUCKETS; // 0..SUB_BUCKETS
    (2 * SUB_BUCKETS + (shift as u64 - 1) * SUB_BUCKETS + mantissa) as usize
}

/// The values bucket `index` holds: `[low, high)`.
pub const fn bucket_bounds(index: usize) -> (u64, u64) {
    let i = index as u64;
    if i < 2 * SUB_BUCKETS {
        return (i, i + 1);
    }
    let shift = (i - 2 * SUB_BUCKETS) / SUB_BUCKETS + 1;
    let mantissa = (i - 2 * SUB_BUCKETS) % SUB_BUCKETS;
    let low = (SUB_BUCKETS + mantissa) << shift;
    (low, low + (1 << shift))
}

/// The value a bucket stands for in percentiles: its midpoint.
pub const fn bucket_value(index: usize) -> u64 {
    let (low, high) = bucket_bounds(index);
    low + (high - low - 1) / 2
}

/// One fixed-bucket histogram.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    counts: Box<[u64; BUCKETS]>,
    count: u64,
    sum_ns: u64,
    max_ns: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram (allocates its buckets once).
    pub fn new() -> Self {
        Self {
            counts: Box::new([0; BUCKETS]),
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }

    /// Records one value.
    // HOT PATH: no allocation, no branch beyond the bucket computation.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.counts[bucket_index(ns)] += 1;
        self.count += 1;
        self.sum_ns = self.sum_ns.saturating_add(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The non-empty buckets and the totals.
    pub fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            buckets: self
                .counts
                .iter()
                .enumerate()
                .filter(|(_, &c)| c > 0)
                .map(|(i, &c)| (i as u16, c))
                .collect(),
            count: self.count,
            sum_ns: self.sum_ns,
            max_ns: self.max_ns,
        }
    }
}

/// A histogram at one moment: its non-empty buckets, lowest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistogramSnapshot {
    /// `(bucket index, count)` of every non-empty bucket, ascending.
    pub buckets: Vec<(u16, u64)>,
    /// Values recorded.
    pub count: u64,
    /// Sum of the values recorded (ns).
    pub sum_ns: u64,
    /// Largest value recorded (ns).
    pub max_ns: u64,
}

impl HistogramSnapshot {
    /// What was recorded after `earlier` (a snapshot of the same histogram).
    /// The maximum of a window is not known exactly: it is this snapshot's
    /// maximum capped by the top of the highest bucket that grew.
    pub fn since(&self, earlier: &HistogramSnapshot) -> HistogramSnapshot {
        let mut old = earlier.buckets.iter().peekable();
        let mut buckets = Vec::with_capacity(self.buckets.len());
        for &(index, count) in &self.buckets {
            while old.next_if(|(i, _)| *i < index).is_some() {}
            let before = old.next_if(|(i, _)| *i == index).map_or(0, |&(_, c)| c);
            if count > before {
                buckets.push((index, count - before));
            }
        }
        let max_ns = buckets.last().map_or(0, |&(i, _)| {
            let (low, high) = bucket_bounds(i as usize);
            self.max_ns.clamp(low, high - 1)
        });
        HistogramSnapshot {
            buckets,
            count: self.count.saturating_sub(earlier.count),
            sum_ns: self.sum_ns.saturating_sub(earlier.sum_ns),
            max_ns,
        }
    }

    /// Adds `other`'s values to this one.
    pub fn merge(&mut self, other: &HistogramSnapshot) {
        let mut merged = Vec::with_capacity(self.buckets.len() + other.buckets.len());
        let (mut a, mut b) = (
            self.buckets.iter().peekable(),
            other.buckets.iter().peekable(),
        );
        loop {
            match (a.peek(), b.peek()) {
                (Some(&&(i, x)), Some(&&(j, y))) if i == j => {
                    merged.push((i, x + y));
                    a.next();
                    b.next();
                }
                (Some(&&(i, x)), Some(&&(j, _))) if i < j => {
                    merged.push((i, x));
                    a.next();
                }
                (_, Some(&&(j, y))) => {
                    merged.push((j, y));
                    b.next();
                }
                (Some(&&(i, x)), None) => {
                    merged.push((i, x));
                    a.next();
                }
                (None, None) => break,
            }
        }
        self.buckets = merged;
        self.count += other.count;
        self.sum_ns = self.sum_ns.saturating_add(other.sum_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// `(value the bucket stands for, count)` of every non-empty bucket.
    pub fn values(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.buckets
            .iter()
            .map(|&(i, c)| (bucket_value(i as usize), c))
    }
}

/// The histograms of one flow.
#[derive(Debug, Clone)]
pub struct LatencyRecorder {
    stages: Vec<LatencyHistogram>,
    end_to_end: LatencyHistogram,
    delivered_bytes: u64,
}

impl LatencyRecorder {
    /// Histograms for a flow of `stages` stages (allocated now, once).
    pub fn new(stages: usize) -> Self {
        Self {
            stages: (0..stages).map(|_| LatencyHistogram::new()).collect(),
            end_to_end: LatencyHistogram::new(),
            delivered_bytes: 0,
        }
    }

    /// One invocation of stage `stage` took `ns`.
    // HOT PATH
    #[inline]
    pub fn record_invocation(&mut self, stage: usize, ns: u64) {
        if let Some(histogram) = self.stages.get_mut(stage) {
            histogram.record(ns);
        }
    }

    /// A sink accepted an element of `bytes` payload bytes, `ns` after its
    /// source produced it.
    // HOT PATH
    #[inline]
    pub fn record_delivery(&mut self, ns: u64, bytes: u64) {
        self.end_to_end.record(ns);
        self.delivered_bytes += bytes;
    }

    /// Every histogram's non-empty buckets.
    pub fn snapshot(&self) -> LatencySnapshot {
        LatencySnapshot {
            end_to_end: self.end_to_end.snapshot(),
            stages: self.stages.iter().map(LatencyHistogram::snapshot).collect(),
            delivered_bytes: self.delivered_bytes,
        }
    }
}

/// A flow's latency histograms at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencySnapshot {
    /// Per-element latency from the source's timestamp (taken when its
    /// `pull` returned) to the sink's `push` returning.
    pub end_to_end: HistogramSnapshot,
    /// Invocation durations of each stage, in stage order.
    pub stages: Vec<HistogramSnapshot>,
    /// Payload bytes of the elements the sinks accepted.
    pub delivered_bytes: u64,
}

impl LatencySnapshot {
    /// What was recorded after `earlier` (a snapshot of the same flow).
    pub fn since(&self, earlier: &LatencySnapshot) -> LatencySnapshot {
        LatencySnapshot {
            end_to_end: self.end_to_end.since(&earlier.end_to_end),
            stages: self
                .stages
                .iter()
                .enumerate()
                .map(|(i, s)| match earlier.stages.get(i) {
                    Some(e) => s.since(e),
                    None => s.clone(),
                })
                .collect(),
            delivered_bytes: self.delivered_bytes.saturating_sub(earlier.delivered_bytes),
        }
    }

    /// Adds another snapshot of a flow with the same stages.
    pub fn merge(&mut self, other: &LatencySnapshot) {
        self.end_to_end.merge(&other.end_to_end);
        if self.stages.len() < other.stages.len() {
            self.stages
                .resize_with(other.stages.len(), HistogramSnapshot::default);
        }
        for (mine, theirs) in self.stages.iter_mut().zip(&other.stages) {
            mine.merge(theirs);
        }
        self.delivered_bytes += other.delivered_bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_in_its_bucket() {
        for v in (0..5000u64).chain([
            99,
            100,
            1_000,
            65_535,
            65_536,
            1_000_000,
            123_456_789,
            MAX_RESOLVED_NS,
        ]) {
            let i = bucket_index(v);
            let (low, high) = bucket_bounds(i);
            assert!(
                low <= v && v < high,
                "{v} not in bucket {i} = [{low}, {high})"
            );
        }
    }

    #[test]
    fn buckets_are_contiguous_and_at_most_one_32nd_wide() {
        let mut expected_low = 0;
        for i in 0..BUCKETS {
            let (low, high) = bucket_bounds(i);
            assert_eq!(
                low,
                expected_low,
                "bucket {i} does not follow bucket {}",
                i.saturating_sub(1)
            );
            assert!(high > low);
            if low >= 64 {
                assert!(
                    (high - low) * 32 <= low,
                    "bucket {i} [{low}, {high}) too wide"
                );
            }
            expected_low = high;
        }
        assert_eq!(bucket_index(u64::MAX), BUCKETS - 1);
        assert_eq!(BUCKETS, 934);
    }

    #[test]
    fn snapshots_keep_only_non_empty_buckets_and_subtract() {
        let mut h = LatencyHistogram::new();
        for v in [100, 100, 2_000, 5_000_000] {
            h.record(v);
        }
        let first = h.snapshot();
        assert_eq!(first.buckets.len(), 3);
        assert_eq!(first.count, 4);
        assert_eq!(first.max_ns, 5_000_000);
        h.record(100);
        h.record(300);
        let window = h.snapshot().since(&first);
        assert_eq!(window.count, 2);
        assert_eq!(window.sum_ns, 400);
        assert_eq!(
            window.buckets,
            vec![(bucket_index(100) as u16, 1), (bucket_index(300) as u16, 1)]
        );
        // The window's maximum is capped by its highest bucket.
        let (low, high) = bucket_bounds(bucket_index(300));
        assert!(low <= window.max_ns && window.max_ns < high);
    }

    #[test]
    fn merge_adds_bucket_by_bucket() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        a.record(10);
        a.record(1_000);
        b.record(1_000);
        b.record(70_000);
        let mut merged = a.snapshot();
        merged.merge(&b.snapshot());
        assert_eq!(merged.count, 4);
        assert_eq!(merged.max_ns, 70_000);
        let counts: Vec<u64> = merged.buckets.iter().map(|&(_, c)| c).collect();
        assert_eq!(counts, vec![1, 2, 1]);
    }

    #[test]
    fn recorder_tracks_stages_and_deliveries() {
        let mut r = LatencyRecorder::new(2);
        r.record_invocation(0, 500);
        r.record_invocation(1, 700);
        r.record_invocation(7, 1); // unknown stage: ignored
        r.record_delivery(3_000, 64);
        let s = r.snapshot();
        assert_eq!(s.stages.len(), 2);
        assert_eq!(s.stages[0].count, 1);
        assert_eq!(s.end_to_end.count, 1);
        assert_eq!(s.delivered_bytes, 64);
        let empty = s.since(&s);
        assert_eq!(empty.end_to_end.count, 0);
        assert!(empty.end_to_end.buckets.is_empty());
    }
}
