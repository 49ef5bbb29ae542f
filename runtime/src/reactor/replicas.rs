//! One report for a replicated flow (`[flow.<name>] replicas = N`): the
//! replicas' reports added up, with a per-replica breakdown.
//!
//! Every replica runs the same plan, so their stages and streams line up
//! by position: counts add, peaks and durations take the maximum, latency
//! histograms merge.

use super::report::{FlowReport, ReplicaReport, StageReport, StreamReport};
use crate::resources::CopyStats;

/// What one replica's report adds to the breakdown.
pub fn replica_summary(index: u32, flow_id: &str, report: &FlowReport) -> ReplicaReport {
    ReplicaReport {
        index,
        flow_id: flow_id.to_string(),
        elements_pulled: report.elements_pulled,
        elements_delivered: report.elements_delivered,
        elements_dropped: report.elements_dropped,
        errors: report.errors,
        restarts: report.stages.iter().map(|s| s.restarts).sum(),
        duration: report.duration,
        copies: report.payload_copies.operations,
        leaked_buffers: report.leaked_buffers,
    }
}

/// The flow's report from its replicas' (`(index, flow id, report)`, any
/// order): totals over all of them and [`FlowReport::replicas`] in index
/// order. `None` when there is no report at all.
pub fn merge_replicas(mut parts: Vec<(u32, String, FlowReport)>) -> Option<FlowReport> {
    parts.sort_by_key(|(index, ..)| *index);
    let mut iter = parts.iter();
    let (first_index, first_id, first) = iter.next()?;
    let mut total = first.clone();
    total.replicas = vec![replica_summary(*first_index, first_id, first)];
    for (index, id, report) in iter {
        add(&mut total, report);
        total.replicas.push(replica_summary(*index, id, report));
    }
    total.copy_amplification = if total.bytes_produced == 0 {
        0.0
    } else {
        total.payload_copies.bytes as f64 / total.bytes_produced as f64
    };
    Some(total)
}

fn add_copies(total: &mut CopyStats, other: &CopyStats) {
    total.operations += other.operations;
    total.bytes += other.bytes;
}

fn add(total: &mut FlowReport, other: &FlowReport) {
    total.elements_pulled += other.elements_pulled;
    total.elements_delivered += other.elements_delivered;
    total.elements_dropped += other.elements_dropped;
    total.errors += other.errors;
    total.duration = total.duration.max(other.duration);
    add_copies(&mut total.payload_copies, &other.payload_copies);
    add_copies(&mut total.all_copies, &other.all_copies);
    total.bytes_produced += other.bytes_produced;
    total.peak_queue_depth = total.peak_queue_depth.max(other.peak_queue_depth);
    total.live_buffers += other.live_buffers;
    total.leaked_buffers += other.leaked_buffers;
    total.pool_buffers_held += other.pool_buffers_held;
    total.events_dropped += other.events_dropped;
    for (stage, more) in total.stages.iter_mut().zip(&other.stages) {
        add_stage(stage, more);
    }
    for (stream, more) in total.streams.iter_mut().zip(&other.streams) {
        add_stream(stream, more);
    }
    for ((_, stats), (_, more)) in total
        .copies_by_reason
        .iter_mut()
        .zip(other.copies_by_reason.iter())
    {
        add_copies(stats, more);
    }
    total.pool_allocations += other.pool_allocations;
    total.pool_fallbacks += other.pool_fallbacks;
    match (&mut total.latency, &other.latency) {
        (Some(mine), Some(theirs)) => mine.merge(theirs),
        (None, Some(theirs)) => total.latency = Some(theirs.clone()),
        _ => {}
    }
}

fn add_stage(stage: &mut StageReport, more: &StageReport) {
    stage.invocations += more.invocations;
    stage.errors += more.errors;
    stage.busy_ns += more.busy_ns;
    stage.restarts += more.restarts;
    stage.retries += more.retries;
    stage.dead_lettered += more.dead_lettered;
    stage.timeouts += more.timeouts;
    stage.ended_abnormally |= more.ended_abnormally;
    stage.fuel_consumed += more.fuel_consumed;
    stage.memory_bytes += more.memory_bytes;
    for used in &more.capabilities {
        match stage
            .capabilities
            .iter_mut()
            .find(|c| c.capability == used.capability)
        {
            Some(c) => {
                c.exercises += used.exercises;
                c.denials += used.denials;
            }
            None => stage.capabilities.push(used.clone()),
        }
    }
}

fn add_stream(stream: &mut StreamReport, more: &StreamReport) {
    stream.depth += more.depth;
    stream.peak_depth = stream.peak_depth.max(more.peak_depth);
    stream.credit += more.credit;
    stream.transferred += more.transferred;
    stream.dropped_oldest += more.dropped_oldest;
    stream.dropped_newest += more.dropped_newest;
    stream.lagged += more.lagged;
    stream.dropped_closed += more.dropped_closed;
    stream.backpressure_active |= more.backpressure_active;
    stream.backpressure_events += more.backpressure_events;
    stream.backpressure_ns += more.backpressure_ns;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn report(delivered: u64, ms: u64, leaked: usize) -> FlowReport {
        FlowReport {
            flow: "main".into(),
            elements_pulled: delivered,
            elements_delivered: delivered,
            elements_dropped: 0,
            errors: 0,
            duration: Duration::from_millis(ms),
            payload_copies: CopyStats {
                operations: delivered,
                bytes: delivered * 10,
            },
            all_copies: CopyStats::default(),
            copy_amplification: 1.0,
            bytes_produced: delivered * 10,
            peak_queue_depth: delivered as usize,
            live_buffers: 0,
            leaked_buffers: leaked,
            pool_buffers_held: 0,
            events_dropped: 0,
            stages: vec![StageReport {
                name: "source".into(),
                invocations: delivered,
                errors: 0,
                busy_ns: 0,
                restarts: 1,
                retries: 0,
                dead_lettered: 0,
                timeouts: 0,
                ended_abnormally: false,
                fuel_consumed: 0,
                memory_bytes: 0,
                capabilities: Vec::new(),
                connector: None,
            }],
            streams: Vec::new(),
            copies_by_reason: Box::new([]),
            pool_allocations: 0,
            pool_fallbacks: 0,
            latency: None,
            replicas: Vec::new(),
        }
    }

    #[test]
    fn totals_add_up_and_the_breakdown_is_in_index_order() {
        let merged = merge_replicas(vec![
            (1, "flow-3".into(), report(40, 20, 0)),
            (0, "flow-2".into(), report(60, 10, 1)),
        ])
        .unwrap();
        assert_eq!(merged.elements_delivered, 100);
        assert_eq!(merged.payload_copies.operations, 100);
        assert_eq!(merged.duration, Duration::from_millis(20));
        assert_eq!(merged.peak_queue_depth, 60);
        assert_eq!(merged.leaked_buffers, 1);
        assert_eq!(merged.stages[0].invocations, 100);
        assert_eq!(merged.stages[0].restarts, 2);
        assert_eq!(merged.copy_amplification, 1.0);
        let indices: Vec<(u32, &str, u64)> = merged
            .replicas
            .iter()
            .map(|r| (r.index, r.flow_id.as_str(), r.elements_delivered))
            .collect();
        assert_eq!(indices, [(0, "flow-2", 60), (1, "flow-3", 40)]);
    }

    #[test]
    fn no_replica_report_is_no_report() {
        assert!(merge_replicas(Vec::new()).is_none());
    }
}
