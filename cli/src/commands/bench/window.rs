//! [`Window`]: what the flow did during the measured window, added up over
//! every run of the flow — each run's counters at its end minus its
//! counters when the window opened (when it was already running then).

use super::driver::Counters;
use std::time::Duration;
use torvyn_runtime::reactor::{FlowReport, LatencySnapshot};
use torvyn_runtime::resources::{CopyReason, CopyStats};

/// One stage's totals.
#[derive(Debug, Clone, Default)]
pub struct StageTotals {
    pub name: String,
    pub invocations: u64,
    pub busy_ns: u64,
}

/// One stream's totals.
#[derive(Debug, Clone, Default)]
pub struct StreamTotals {
    pub name: String,
    pub capacity: usize,
    /// Highest depth reached in any run (peaks cannot be windowed: this
    /// includes the warmup of the run that spans it).
    pub peak_depth: usize,
    pub backpressure_events: u64,
}

/// Totals over the measured window.
#[derive(Debug, Clone, Default)]
pub struct Window {
    /// Wall time from the end of the warmup to the end of the window.
    pub measured: Duration,
    /// Runs of the flow that contributed (1 unless the source ran out).
    pub runs: u64,
    pub elements_pulled: u64,
    pub elements_delivered: u64,
    pub elements_dropped: u64,
    pub errors: u64,
    pub payload_copies: CopyStats,
    pub copies_by_reason: Vec<(CopyReason, CopyStats)>,
    pub bytes_produced: u64,
    pub buffer_allocations: u64,
    pub pool_fallbacks: u64,
    pub batches: u64,
    pub stages: Vec<StageTotals>,
    pub streams: Vec<StreamTotals>,
    pub latency: LatencySnapshot,
}

fn sub(end: CopyStats, start: Option<CopyStats>) -> CopyStats {
    let start = start.unwrap_or_default();
    CopyStats {
        operations: end.operations.saturating_sub(start.operations),
        bytes: end.bytes.saturating_sub(start.bytes),
    }
}

fn add(total: &mut CopyStats, more: CopyStats) {
    total.operations += more.operations;
    total.bytes += more.bytes;
}

impl Window {
    /// Adds one run: `end` minus `start` (`None`: the run started inside
    /// the window and counts whole).
    pub fn add_run(&mut self, end: &Counters, start: Option<&Counters>) {
        let e = &end.report;
        let s = start.map(|c| &c.report);
        let d = |f: fn(&FlowReport) -> u64| f(e).saturating_sub(s.map_or(0, f));
        self.runs += 1;
        self.elements_pulled += d(|r| r.elements_pulled);
        self.elements_delivered += d(|r| r.elements_delivered);
        self.elements_dropped += d(|r| r.elements_dropped);
        self.errors += d(|r| r.errors);
        self.bytes_produced += d(|r| r.bytes_produced);
        self.buffer_allocations += d(|r| r.pool_allocations);
        self.pool_fallbacks += d(|r| r.pool_fallbacks);
        self.batches += end.batches.saturating_sub(start.map_or(0, |c| c.batches));
        add(
            &mut self.payload_copies,
            sub(e.payload_copies, s.map(|r| r.payload_copies)),
        );
        for (i, &(reason, stats)) in e.copies_by_reason.iter().enumerate() {
            let before = s.and_then(|r| r.copies_by_reason.get(i)).map(|&(_, c)| c);
            match self.copies_by_reason.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, total)) => add(total, sub(stats, before)),
                None => self.copies_by_reason.push((reason, sub(stats, before))),
            }
        }
        for (i, stage) in e.stages.iter().enumerate() {
            let before = s.and_then(|r| r.stages.get(i));
            if self.stages.len() <= i {
                self.stages.push(StageTotals {
                    name: stage.name.clone(),
                    ..StageTotals::default()
                });
            }
            let total = &mut self.stages[i];
            total.invocations += stage
                .invocations
                .saturating_sub(before.map_or(0, |b| b.invocations));
            total.busy_ns += stage
                .busy_ns
                .saturating_sub(before.map_or(0, |b| b.busy_ns));
        }
        for (i, stream) in e.streams.iter().enumerate() {
            let before = s.and_then(|r| r.streams.get(i));
            if self.streams.len() <= i {
                self.streams.push(StreamTotals {
                    name: stream.name.clone(),
                    capacity: stream.capacity,
                    ..StreamTotals::default()
                });
            }
            let total = &mut self.streams[i];
            total.peak_depth = total.peak_depth.max(stream.peak_depth);
            total.backpressure_events += stream
                .backpressure_events
                .saturating_sub(before.map_or(0, |b| b.backpressure_events));
        }
        if let Some(latency) = &e.latency {
            let delta = match s.and_then(|r| r.latency.as_ref()) {
                Some(before) => latency.since(before),
                None => (**latency).clone(),
            };
            self.latency.merge(&delta);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_runtime::reactor::{StageReport, StreamReport};

    fn report(delivered: u64, invocations: u64, copies: u64) -> FlowReport {
        FlowReport {
            flow: "main".into(),
            elements_pulled: delivered,
            elements_delivered: delivered,
            elements_dropped: 0,
            errors: 0,
            duration: Duration::from_secs(1),
            payload_copies: CopyStats {
                operations: copies,
                bytes: copies * 64,
            },
            all_copies: CopyStats::default(),
            copy_amplification: 1.0,
            bytes_produced: delivered * 64,
            peak_queue_depth: 3,
            live_buffers: 0,
            leaked_buffers: 0,
            pool_buffers_held: 0,
            events_dropped: 0,
            stages: vec![StageReport {
                capabilities: Vec::new(),
                name: "source".into(),
                invocations,
                errors: 0,
                busy_ns: invocations * 100,
                restarts: 0,
                retries: 0,
                dead_lettered: 0,
                timeouts: 0,
                ended_abnormally: false,
                fuel_consumed: 0,
                memory_bytes: 0,
                connector: None,
            }],
            streams: vec![StreamReport {
                name: "source-to-sink".into(),
                policy: "block",
                capacity: 64,
                depth: 0,
                peak_depth: 3,
                credit: 64,
                transferred: delivered,
                dropped_oldest: 0,
                dropped_newest: 0,
                lagged: 0,
                dropped_closed: 0,
                backpressure_active: false,
                backpressure_events: delivered / 10,
                backpressure_ns: 0,
                consumer: "sink".into(),
            }],
            copies_by_reason: Box::new([(
                CopyReason::PayloadWrite,
                CopyStats {
                    operations: copies,
                    bytes: copies * 64,
                },
            )]),
            pool_allocations: delivered,
            pool_fallbacks: 0,
            latency: None,
            replicas: Vec::new(),
        }
    }

    fn counters(report: FlowReport, batches: u64) -> Counters {
        Counters { report, batches }
    }

    /// A run spanning the warmup counts only what it did after it; a run
    /// started inside the window counts whole.
    #[test]
    fn runs_add_up_as_differences_from_the_window_start() {
        let mut w = Window::default();
        w.add_run(
            &counters(report(100, 200, 100), 10),
            Some(&counters(report(40, 80, 40), 4)),
        );
        w.add_run(&counters(report(30, 60, 30), 3), None);
        assert_eq!(w.runs, 2);
        assert_eq!(w.elements_delivered, 90);
        assert_eq!(w.buffer_allocations, 90);
        assert_eq!(w.payload_copies.operations, 90);
        assert_eq!(w.copies_by_reason[0].1.bytes, 90 * 64);
        assert_eq!(w.stages[0].invocations, 180);
        assert_eq!(w.streams[0].backpressure_events, 6 + 3);
        assert_eq!(w.batches, 9);
    }
}
