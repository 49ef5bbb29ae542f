//! The flow's report: a snapshot of its counters, per stage and per
//! stream ([`FlowReport`]).

use super::Flow;
use crate::reactor::report::{FlowReport, StageReport, StreamReport};
use crate::resources::{CopyReason, PoolStats, ResourceManager, Tier};

impl Flow {
    /// Elements pushed into sinks so far (cheap; no snapshot).
    pub fn report_delivered(&self) -> u64 {
        self.delivered
    }

    /// A snapshot of the flow's counters.
    pub fn report(&self) -> FlowReport {
        let resources = self.resources();
        let ledger = resources.map(|r| r.ledger());
        let pool = resources.map(pool_totals).unwrap_or_default();
        FlowReport {
            flow: self.settings.flow_name.clone(),
            elements_pulled: self.pulled,
            elements_delivered: self.delivered,
            elements_dropped: self.dropped,
            errors: self.nodes.iter().map(|s| s.counters.errors).sum(),
            duration: self
                .finished_after
                .unwrap_or_else(|| self.started.elapsed()),
            payload_copies: ledger.map(|l| l.payload_copies()).unwrap_or_default(),
            all_copies: ledger.map(|l| l.total()).unwrap_or_default(),
            copy_amplification: ledger.map(|l| l.amplification()).unwrap_or(0.0),
            bytes_produced: ledger.map(|l| l.bytes_produced()).unwrap_or(0),
            peak_queue_depth: self
                .streams
                .iter()
                .map(|s| s.queue.peak())
                .max()
                .unwrap_or(0),
            live_buffers: resources.map(|r| r.live_buffers()).unwrap_or(0),
            leaked_buffers: self.leaked,
            pool_buffers_held: resources.map_or(0, |r| r.pool().borrowed_from_shared()),
            events_dropped: self.events.dropped(),
            stages: self
                .nodes
                .iter()
                .map(|s| StageReport {
                    name: s.name.clone(),
                    invocations: s.counters.invocations,
                    errors: s.counters.errors,
                    busy_ns: s.counters.busy_ns,
                    restarts: s.counters.restarts,
                    retries: s.counters.retries,
                    dead_lettered: s.counters.dead_lettered,
                    timeouts: s.counters.timeouts,
                    ended_abnormally: s.state.ended_abnormally,
                    fuel_consumed: s.counters.fuel_of_replaced + s.instance.fuel_consumed(),
                    memory_bytes: s.instance.memory_bytes(),
                    capabilities: s
                        .sandbox
                        .monitor
                        .as_ref()
                        .map(|m| m.uses())
                        .unwrap_or_default(),
                    connector: s.instance.connector_report(),
                })
                .collect(),
            streams: self
                .streams
                .iter()
                .map(|s| StreamReport {
                    name: s.name.clone(),
                    policy: s.settings.policy.name(),
                    capacity: s.settings.capacity,
                    depth: s.queue.len(),
                    peak_depth: s.queue.peak(),
                    credit: s.credit.available(),
                    transferred: s.counters.transferred,
                    dropped_oldest: s.counters.dropped_oldest,
                    dropped_newest: s.counters.dropped_newest,
                    lagged: s.counters.lagged,
                    dropped_closed: s.counters.dropped_closed,
                    backpressure_active: s.watermark.is_active(),
                    backpressure_events: s.watermark.episodes(),
                    backpressure_ns: s.watermark.total().as_nanos() as u64,
                    consumer: self.nodes[s.to].name.clone(),
                })
                .collect(),
            copies_by_reason: CopyReason::ALL
                .iter()
                .map(|&r| (r, ledger.map(|l| l.stats(r)).unwrap_or_default()))
                .collect(),
            pool_allocations: pool.allocated,
            pool_fallbacks: pool.fallback_count,
            latency: self.latency.as_ref().map(|l| Box::new(l.snapshot())),
            replicas: Vec::new(),
        }
    }
}

/// Every pool tier's counters added up.
fn pool_totals(resources: &ResourceManager) -> PoolStats {
    let mut total = PoolStats::default();
    for tier in Tier::ALL {
        let s = resources.pool().stats(tier);
        total.capacity += s.capacity;
        total.available += s.available;
        total.allocated += s.allocated;
        total.returned += s.returned;
        total.fallback_count += s.fallback_count;
        total.exhaustion_events += s.exhaustion_events;
    }
    total
}
