//! The trace summary: elements, latency, copies, buffer reuse,
//! backpressure.

use super::collect::FlowTrace;
use torvyn_runtime::reactor::trace::{BackpressurePhase, StageOutcome, TraceRecord};
use torvyn_runtime::reactor::FlowReport;

/// What the summary shows.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSummary {
    /// Elements traced.
    pub elements: usize,
    /// Of those, delivered to a sink.
    pub delivered: usize,
    /// Dropped on the way (filters, processors, overflow).
    pub dropped: usize,
    /// With a failed call.
    pub failed: usize,
    /// Mean, median and 99th percentile element latency, in ns.
    pub avg_ns: u64,
    /// Median.
    pub p50_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// Copies the traced calls caused, and their bytes.
    pub copies: u64,
    /// Bytes copied.
    pub copy_bytes: u64,
    /// Buffer allocations the pools served from recycled buffers (from
    /// the flow's final report; `None` when it allocated nothing).
    pub buffer_reuse: Option<f64>,
    /// Backpressure episodes.
    pub backpressure_events: usize,
    /// Trace records lost (the trace pipeline was full).
    pub records_dropped: u64,
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl TraceSummary {
    /// The summary of `trace`, with the pool figures of `report`.
    pub fn of(trace: &FlowTrace, report: Option<&FlowReport>, records_dropped: u64) -> Self {
        let mut latencies: Vec<u64> = trace.elements.values().map(|e| e.latency_ns()).collect();
        latencies.sort_unstable();
        let total: u64 = latencies.iter().sum();
        let has = |e: &super::collect::ElementTrace, outcome: StageOutcome| {
            e.calls.iter().any(|c| c.record.outcome == outcome)
        };
        let elements = trace.elements.len();
        TraceSummary {
            elements,
            delivered: trace
                .elements
                .values()
                .filter(|e| has(e, StageOutcome::Delivered))
                .count(),
            dropped: trace
                .elements
                .values()
                .filter(|e| has(e, StageOutcome::Dropped))
                .count(),
            failed: trace
                .elements
                .values()
                .filter(|e| has(e, StageOutcome::Failed))
                .count(),
            avg_ns: if elements == 0 {
                0
            } else {
                total / elements as u64
            },
            p50_ns: percentile(&latencies, 50.0),
            p99_ns: percentile(&latencies, 99.0),
            copies: trace.elements.values().map(|e| e.copies()).sum(),
            copy_bytes: trace
                .elements
                .values()
                .flat_map(|e| e.calls.iter())
                .map(|c| c.record.copied_bytes)
                .sum(),
            buffer_reuse: report.and_then(|r| {
                (r.pool_allocations > 0).then(|| {
                    r.pool_allocations.saturating_sub(r.pool_fallbacks) as f64
                        / r.pool_allocations as f64
                })
            }),
            backpressure_events: trace
                .events
                .iter()
                .filter(|e| {
                    matches!(
                        e,
                        TraceRecord::Backpressure {
                            phase: BackpressurePhase::Triggered,
                            ..
                        }
                    )
                })
                .count(),
            records_dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50.0), 0);
        assert_eq!(percentile(&[7], 99.0), 7);
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&[1, 2, 3], 50.0), 2);
    }

    #[test]
    fn an_empty_trace_sums_to_zero() {
        let s = TraceSummary::of(&FlowTrace::default(), None, 0);
        assert_eq!(s.elements, 0);
        assert_eq!(s.avg_ns, 0);
        assert_eq!(s.buffer_reuse, None);
    }
}
