//! [`MetricsCatalog`]: the spec's metrics catalog as a Prometheus registry,
//! rendered in the Prometheus text exposition format.
//!
//! The catalog is filled at scrape time from what the host already keeps:
//! each flow's [`FlowCounters`](crate::FlowCounters) snapshot, its full
//! [`FlowReport`] (per-stage and per-stream counters), the ResourceActor's
//! pool statistics and the CapabilityActor's check counts. Nothing is added
//! to the per-element path. Counters only move up: each scrape raises a
//! counter to the value read when that is higher, so a value read lower
//! (a component restart, a report older than the counters) never makes
//! a Prometheus counter go back.
//!
//! Names follow Prometheus conventions: the spec's dotted name with a
//! `torvyn_` prefix, `_total` on counters, time in seconds (the spec's
//! nanosecond counters become `_seconds_total`). The full list with the
//! spec name each one implements is in `docs/observability.md`.
//!
//! A flow's series stay until [`MetricsCatalog::forget_flow`] removes them
//! (the observability actor does, once the flow falls out of its window
//! of retained finished flows), so a long-lived host does not grow a
//! series set per flow it ever ran. Host-wide families carry no flow
//! label and are never removed.

mod series;

use crate::capability::CapabilityCount;
use crate::counters::CounterSnapshot;
use crate::ids::FlowId;
use crate::observability::system::SchedulerStats;
use crate::resource::ResourceStats;
use crate::state::FlowState;
use prometheus::core::{Atomic, GenericCounter, GenericCounterVec};
use prometheus::{
    CounterVec, Encoder, GaugeVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use series::FlowSeries;
use std::collections::{BTreeMap, HashMap};
use torvyn_runtime::config::ObservabilityLevel;
use torvyn_runtime::reactor::FlowReport;
use torvyn_runtime::resources::Tier;

/// One flow, as the exporter sees it.
#[derive(Debug, Clone)]
pub struct FlowSample {
    /// The flow.
    pub id: FlowId,
    /// Its name.
    pub name: String,
    /// Its state.
    pub state: FlowState,
    /// Its live counters.
    pub counters: CounterSnapshot,
    /// Its full report, when one was read.
    pub report: Option<FlowReport>,
}

/// Everything one scrape exports.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Every flow the host knows.
    pub flows: Vec<FlowSample>,
    /// Pool and budget statistics.
    pub resources: Option<ResourceStats>,
    /// Capability check counts.
    pub capabilities: Vec<CapabilityCount>,
    /// Events dropped: (flow → observability channel, subscriber channels).
    pub events_dropped: (u64, u64),
    /// Flows that have ended since the host started, forgotten ones
    /// included.
    pub flows_finished: u64,
    /// The observability level.
    pub level: ObservabilityLevel,
    /// The worker schedulers' wake-ups and idle time.
    pub scheduler: Option<SchedulerStats>,
    /// The process's resident memory.
    pub resident_bytes: Option<u64>,
}

const FLOW: &[&str] = &["flow_id", "flow"];
const COMPONENT: &[&str] = &["flow_id", "flow", "component_id"];
const STREAM: &[&str] = &["flow_id", "flow", "stream_id"];
/// The `reason` label values of `torvyn_stream_dropped_total`.
const DROP_REASONS: [&str; 4] = ["oldest", "newest", "lagged", "closed"];

/// The registered metric families.
pub struct MetricsCatalog {
    registry: Registry,
    // Per flow.
    flow_elements: IntCounterVec,
    flow_pulled: IntCounterVec,
    flow_dropped: IntCounterVec,
    flow_errors: IntCounterVec,
    flow_copies: IntCounterVec,
    flow_copy_bytes: IntCounterVec,
    flow_batches: IntCounterVec,
    flow_events_dropped: IntCounterVec,
    flow_duration: GaugeVec,
    flow_state: IntGaugeVec,
    flow_live_buffers: IntGaugeVec,
    flow_peak_depth: IntGaugeVec,
    flow_throughput: GaugeVec,
    // Per component.
    component_invocations: IntCounterVec,
    component_errors: IntCounterVec,
    component_restarts: IntCounterVec,
    component_retries: IntCounterVec,
    component_dead_lettered: IntCounterVec,
    component_timeouts: IntCounterVec,
    component_busy: CounterVec,
    component_fuel: IntCounterVec,
    component_memory: IntGaugeVec,
    // Per networked connector (a component with connector counters).
    connector_counters: [IntCounterVec; 6],
    connector_gauges: [IntGaugeVec; 2],
    connector_publish_latency: CounterVec,
    // Per stream.
    stream_transferred: IntCounterVec,
    stream_bp_events: IntCounterVec,
    stream_bp_seconds: CounterVec,
    stream_bp_active: IntGaugeVec,
    stream_depth: IntGaugeVec,
    stream_peak: IntGaugeVec,
    stream_capacity: IntGaugeVec,
    stream_credit: IntGaugeVec,
    stream_dropped: IntCounterVec,
    // Pools.
    pool_capacity: IntGaugeVec,
    pool_available: IntGaugeVec,
    pool_allocated: IntCounterVec,
    pool_returned: IntCounterVec,
    pool_fallback: IntCounterVec,
    pool_exhaustion: IntCounterVec,
    pool_reuse: GaugeVec,
    // Capabilities.
    capability_exercises: IntCounterVec,
    capability_denials: IntCounterVec,
    // System.
    flows_active: IntGaugeVec,
    components_active: IntGaugeVec,
    budget_reserved: IntGaugeVec,
    events_dropped: IntCounterVec,
    flows_finished: IntCounterVec,
    memory_total: IntGaugeVec,
    memory_host: IntGaugeVec,
    scheduler_wakeups: IntCounterVec,
    scheduler_idle: CounterVec,
    level: IntGaugeVec,
    /// The label values each flow wrote, to remove them when it is
    /// forgotten.
    series: HashMap<FlowId, FlowSeries>,
}

impl std::fmt::Debug for MetricsCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsCatalog").finish_non_exhaustive()
    }
}

fn register<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: M,
) -> Result<M, prometheus::Error> {
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

/// Raises a counter to `value` when that is higher (counters never go
/// back).
fn raise<P: Atomic>(counter: &GenericCounter<P>, value: P::T)
where
    P::T: PartialOrd + std::ops::Sub<Output = P::T>,
{
    let current = counter.get();
    if value > current {
        counter.inc_by(value - current);
    }
}

fn raise_in<P: Atomic>(vec: &GenericCounterVec<P>, labels: &[&str], value: P::T)
where
    P::T: PartialOrd + std::ops::Sub<Output = P::T>,
{
    if let Ok(counter) = vec.get_metric_with_label_values(labels) {
        raise(&counter, value);
    }
}

/// Exercises and denials by (component, capability): the checks made
/// through `TorvynHandle::check_capability` and the sandboxes' own counts
/// (every stage of every flow in `sample`, by node name).
fn capability_counts(sample: &Sample) -> BTreeMap<(&str, &str), (u64, u64)> {
    let mut counts: BTreeMap<(&str, &str), (u64, u64)> = BTreeMap::new();
    for c in &sample.capabilities {
        let entry = counts
            .entry((c.component.as_str(), c.capability.as_str()))
            .or_default();
        entry.0 += c.exercises;
        entry.1 += c.denials;
    }
    let stages = sample
        .flows
        .iter()
        .filter_map(|f| f.report.as_ref())
        .flat_map(|r| &r.stages);
    for stage in stages {
        for used in &stage.capabilities {
            let entry = counts
                .entry((stage.name.as_str(), used.capability))
                .or_default();
            entry.0 += used.exercises;
            entry.1 += used.denials;
        }
    }
    counts
}

fn set_in(vec: &IntGaugeVec, labels: &[&str], value: u64) {
    if let Ok(gauge) = vec.get_metric_with_label_values(labels) {
        gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
    }
}

const NS_PER_SECOND: f64 = 1e9;

impl MetricsCatalog {
    /// Registers every family of the catalog (fails only on an invalid
    /// constant name: a programming error caught by the unit tests).
    pub fn new() -> Result<Self, prometheus::Error> {
        let r = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            register(&r, IntCounterVec::new(Opts::new(name, help), labels)?)
        };
        let seconds = |name: &str, help: &str, labels: &[&str]| {
            register(&r, CounterVec::new(Opts::new(name, help), labels)?)
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            register(&r, IntGaugeVec::new(Opts::new(name, help), labels)?)
        };
        let float_gauge = |name: &str, help: &str, labels: &[&str]| {
            register(&r, GaugeVec::new(Opts::new(name, help), labels)?)
        };
        let catalog = Self {
            flow_elements: counter(
                "torvyn_flow_elements_total",
                "Elements delivered to the flow's sinks (flow.elements.total).",
                FLOW,
            )?,
            flow_pulled: counter(
                "torvyn_flow_elements_pulled_total",
                "Elements pulled from the flow's sources.",
                FLOW,
            )?,
            flow_dropped: counter(
                "torvyn_flow_elements_dropped_total",
                "Elements dropped by filters, routers, processors or aggregators.",
                FLOW,
            )?,
            flow_errors: counter(
                "torvyn_flow_elements_errors_total",
                "Elements whose processing returned an error (flow.elements.errors).",
                FLOW,
            )?,
            flow_copies: counter(
                "torvyn_flow_copies_total",
                "Payload copy operations (flow.copies.total).",
                FLOW,
            )?,
            flow_copy_bytes: counter(
                "torvyn_flow_copies_bytes_total",
                "Payload bytes copied (flow.copies.bytes).",
                FLOW,
            )?,
            flow_batches: counter(
                "torvyn_flow_batches_total",
                "Batches the flow's actor ran.",
                FLOW,
            )?,
            flow_events_dropped: counter(
                "torvyn_flow_events_dropped_total",
                "Lifecycle events of the flow lost on a full event channel.",
                FLOW,
            )?,
            flow_duration: float_gauge(
                "torvyn_flow_active_duration_seconds",
                "Wall time since the flow's first pull (flow.active_duration).",
                FLOW,
            )?,
            flow_state: gauge(
                "torvyn_flow_state",
                "1 for the flow's current lifecycle state, 0 for the others (flow.state).",
                &["flow_id", "flow", "state"],
            )?,
            flow_live_buffers: gauge(
                "torvyn_flow_live_buffers",
                "Buffers the flow holds alive.",
                FLOW,
            )?,
            flow_peak_depth: gauge(
                "torvyn_flow_queue_peak_depth",
                "Highest depth any queue of the flow reached.",
                FLOW,
            )?,
            flow_throughput: float_gauge(
                "torvyn_flow_throughput_elements_per_second",
                "Elements delivered per second of the flow's active duration (flow.throughput).",
                FLOW,
            )?,
            component_invocations: counter(
                "torvyn_component_invocations_total",
                "Calls into the component (component.invocations).",
                COMPONENT,
            )?,
            component_errors: counter(
                "torvyn_component_errors_total",
                "Errors the component returned (component.errors).",
                COMPONENT,
            )?,
            component_restarts: counter(
                "torvyn_component_restarts_total",
                "Times the component was restarted with a fresh instance.",
                COMPONENT,
            )?,
            component_retries: counter(
                "torvyn_component_retries_total",
                "Calls repeated under the retry error policy.",
                COMPONENT,
            )?,
            component_dead_lettered: counter(
                "torvyn_component_dead_lettered_total",
                "Elements sent to the component's dead-letter destination.",
                COMPONENT,
            )?,
            component_timeouts: counter(
                "torvyn_component_timeouts_total",
                "Deadline-exceeded errors the component returned.",
                COMPONENT,
            )?,
            component_busy: seconds(
                "torvyn_component_busy_seconds_total",
                "Wall time spent inside the component (sum of component.processing_time).",
                COMPONENT,
            )?,
            component_fuel: counter(
                "torvyn_component_fuel_consumed_total",
                "Wasm fuel the component's calls burnt, when fuel metering is on (component.fuel_consumed).",
                COMPONENT,
            )?,
            component_memory: gauge(
                "torvyn_component_memory_bytes",
                "Linear memory of the component's current instance (component.memory_current).",
                COMPONENT,
            )?,
            connector_counters: [
                counter(
                    "torvyn_connector_fetched_total",
                    "Messages a connector source received from its server (NATS JetStream).",
                    COMPONENT,
                )?,
                counter(
                    "torvyn_connector_acked_total",
                    "Messages a connector source acknowledged: every sink their element reached accepted it.",
                    COMPONENT,
                )?,
                counter(
                    "torvyn_connector_nacked_total",
                    "Messages a connector source handed back for redelivery because a sink failed them.",
                    COMPONENT,
                )?,
                counter(
                    "torvyn_connector_redelivered_total",
                    "Received messages the server had delivered before (to this host or another).",
                    COMPONENT,
                )?,
                counter(
                    "torvyn_connector_published_total",
                    "Messages a connector sink published and the server acknowledged.",
                    COMPONENT,
                )?,
                counter(
                    "torvyn_connector_publish_failures_total",
                    "Publishes the server refused or did not acknowledge in time.",
                    COMPONENT,
                )?,
            ],
            connector_gauges: [
                gauge(
                    "torvyn_connector_pending",
                    "Messages the server still holds for the connector's consumer.",
                    COMPONENT,
                )?,
                gauge(
                    "torvyn_connector_unacked",
                    "Messages the connector source received and has not acknowledged yet.",
                    COMPONENT,
                )?,
            ],
            connector_publish_latency: seconds(
                "torvyn_connector_publish_latency_seconds_total",
                "Time from publish to the server's ack, summed over torvyn_connector_published_total.",
                COMPONENT,
            )?,
            stream_transferred: counter(
                "torvyn_stream_elements_transferred_total",
                "Elements enqueued on the stream (stream.elements.transferred).",
                STREAM,
            )?,
            stream_bp_events: counter(
                "torvyn_stream_backpressure_events_total",
                "Backpressure episodes on the stream (stream.backpressure.events).",
                STREAM,
            )?,
            stream_bp_seconds: seconds(
                "torvyn_stream_backpressure_seconds_total",
                "Time the stream spent in backpressure (stream.backpressure.duration_ns).",
                STREAM,
            )?,
            stream_bp_active: gauge(
                "torvyn_stream_backpressure_active",
                "1 while backpressure is active on the stream.",
                STREAM,
            )?,
            stream_depth: gauge(
                "torvyn_stream_queue_depth",
                "Elements queued on the stream now (stream.queue.current_depth).",
                STREAM,
            )?,
            stream_peak: gauge(
                "torvyn_stream_queue_peak_depth",
                "Highest queue depth observed (stream.queue.peak_depth).",
                STREAM,
            )?,
            stream_capacity: gauge(
                "torvyn_stream_queue_capacity",
                "The stream's queue capacity.",
                STREAM,
            )?,
            stream_credit: gauge(
                "torvyn_stream_credit",
                "Demand credit the stream's consumer has granted now.",
                STREAM,
            )?,
            stream_dropped: counter(
                "torvyn_stream_dropped_total",
                "Elements the stream dropped, by reason (oldest, newest, lagged, closed).",
                &["flow_id", "flow", "stream_id", "reason"],
            )?,
            pool_capacity: gauge(
                "torvyn_pool_capacity",
                "Buffers configured in this shared pool tier (pool.capacity).",
                &["tier"],
            )?,
            pool_available: gauge(
                "torvyn_pool_available",
                "Free buffers in this shared pool tier (pool.available).",
                &["tier"],
            )?,
            pool_allocated: counter(
                "torvyn_pool_allocated_total",
                "Buffers handed from this tier to flows (pool.allocated).",
                &["tier"],
            )?,
            pool_returned: counter(
                "torvyn_pool_returned_total",
                "Buffers given back to this tier by flows (pool.returned).",
                &["tier"],
            )?,
            pool_fallback: counter(
                "torvyn_pool_fallback_total",
                "Allocations that fell back to the system allocator (pool.fallback_count).",
                &["tier"],
            )?,
            pool_exhaustion: counter(
                "torvyn_pool_exhaustion_events_total",
                "Requests that found this tier empty (pool.exhaustion_events).",
                &["tier"],
            )?,
            pool_reuse: float_gauge(
                "torvyn_pool_reuse_ratio",
                "Buffers returned to this tier per buffer handed out (pool.reuse_rate).",
                &["tier"],
            )?,
            capability_exercises: counter(
                "torvyn_capability_exercises_total",
                "Capability checks allowed (capability.exercises).",
                &["component_id", "capability"],
            )?,
            capability_denials: counter(
                "torvyn_capability_denials_total",
                "Capability checks denied (capability.denials).",
                &["component_id", "capability"],
            )?,
            flows_active: gauge(
                "torvyn_system_flows_active",
                "Flows that have not ended (system.flows.active).",
                &[],
            )?,
            components_active: gauge(
                "torvyn_system_components_active",
                "Component instances of flows that have not ended (system.components.active).",
                &[],
            )?,
            budget_reserved: gauge(
                "torvyn_system_buffer_reserved_bytes",
                "Buffer bytes reserved by running flows against the host budget.",
                &[],
            )?,
            events_dropped: counter(
                "torvyn_system_events_dropped_total",
                "Lifecycle events lost, by channel (flow: flows to the observability actor; subscriber: to slow subscribers).",
                &["channel"],
            )?,
            flows_finished: counter(
                "torvyn_system_flows_finished_total",
                "Flows that have ended since the host started (their own series are kept only for the most recent ones).",
                &[],
            )?,
            memory_total: gauge(
                "torvyn_system_memory_total_bytes",
                "Resident memory of the host process: host structures and every component's linear memory (system.memory.total).",
                &[],
            )?,
            memory_host: gauge(
                "torvyn_system_memory_host_bytes",
                "Resident memory less the running components' linear memories (system.memory.host).",
                &[],
            )?,
            scheduler_wakeups: counter(
                "torvyn_system_scheduler_wakeups_total",
                "Times a worker thread parked for lack of work and was woken (system.scheduler.wakeups).",
                &[],
            )?,
            scheduler_idle: seconds(
                "torvyn_system_scheduler_idle_seconds_total",
                "Time the worker threads had no task to run, summed over workers (system.scheduler.idle_ns).",
                &[],
            )?,
            level: gauge(
                "torvyn_observability_level",
                "1 for the current observability level, 0 for the others.",
                &["level"],
            )?,
            registry: r,
            series: HashMap::new(),
        };
        Ok(catalog)
    }

    /// Updates every family from `sample` and renders the registry in the
    /// Prometheus text format.
    pub fn render(&mut self, sample: &Sample) -> Result<String, prometheus::Error> {
        for flow in &sample.flows {
            self.series.entry(flow.id).or_default().record(flow);
        }
        self.update(sample);
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }

    fn update(&self, sample: &Sample) {
        let mut active = 0;
        let mut components = 0;
        for flow in &sample.flows {
            if !flow.state.is_terminal() {
                active += 1;
                components += flow.report.as_ref().map_or(0, |r| r.stages.len() as u64);
            }
            self.update_flow(flow);
        }
        set_in(&self.flows_active, &[], active);
        set_in(&self.components_active, &[], components);
        if let Some(resident) = sample.resident_bytes {
            let linear: u64 = sample
                .flows
                .iter()
                .filter(|f| !f.state.is_terminal())
                .filter_map(|f| f.report.as_ref())
                .flat_map(|r| &r.stages)
                .map(|s| s.memory_bytes)
                .sum();
            set_in(&self.memory_total, &[], resident);
            set_in(&self.memory_host, &[], resident.saturating_sub(linear));
        }
        if let Some(scheduler) = sample.scheduler {
            raise_in(&self.scheduler_wakeups, &[], scheduler.wakeups);
            raise_in(&self.scheduler_idle, &[], scheduler.idle.as_secs_f64());
        }
        if let Some(resources) = &sample.resources {
            set_in(&self.budget_reserved, &[], resources.reserved_bytes);
            for (tier, stats) in Tier::ALL.iter().zip(&resources.pools) {
                let t = &[tier.name()];
                set_in(&self.pool_capacity, t, stats.capacity as u64);
                set_in(&self.pool_available, t, stats.available as u64);
                raise_in(&self.pool_allocated, t, stats.handed_out);
                raise_in(&self.pool_returned, t, stats.taken_back);
                raise_in(&self.pool_fallback, t, stats.fallback_count);
                raise_in(&self.pool_exhaustion, t, stats.exhaustion_events);
                if let Some(ratio) = stats.reuse_ratio() {
                    if let Ok(g) = self.pool_reuse.get_metric_with_label_values(t) {
                        g.set(ratio);
                    }
                }
            }
        }
        for ((component, capability), (exercises, denials)) in capability_counts(sample) {
            let l = &[component, capability];
            raise_in(&self.capability_exercises, l, exercises);
            raise_in(&self.capability_denials, l, denials);
        }
        raise_in(&self.events_dropped, &["flow"], sample.events_dropped.0);
        raise_in(
            &self.events_dropped,
            &["subscriber"],
            sample.events_dropped.1,
        );
        raise_in(&self.flows_finished, &[], sample.flows_finished);
        for level in ObservabilityLevel::ALL {
            set_in(
                &self.level,
                &[level.as_str()],
                u64::from(level == sample.level),
            );
        }
    }

    fn update_flow(&self, flow: &FlowSample) {
        let id = flow.id.to_string();
        let f = &[id.as_str(), flow.name.as_str()];
        let c = &flow.counters;
        let report = flow.report.as_ref();
        // A report is one consistent set (pulled ≥ delivered, …); the
        // atomics are the fallback for a flow not inspected (level off).
        let pick =
            |counter: u64, from_report: fn(&FlowReport) -> u64| report.map_or(counter, from_report);
        raise_in(
            &self.flow_elements,
            f,
            pick(c.elements_delivered, |r| r.elements_delivered),
        );
        raise_in(
            &self.flow_pulled,
            f,
            pick(c.elements_pulled, |r| r.elements_pulled),
        );
        raise_in(
            &self.flow_dropped,
            f,
            pick(c.elements_dropped, |r| r.elements_dropped),
        );
        raise_in(&self.flow_errors, f, pick(c.errors, |r| r.errors));
        raise_in(
            &self.flow_copies,
            f,
            pick(c.payload_copies, |r| r.payload_copies.operations),
        );
        raise_in(
            &self.flow_copy_bytes,
            f,
            pick(c.payload_bytes, |r| r.payload_copies.bytes),
        );
        raise_in(&self.flow_batches, f, c.batches);
        raise_in(&self.flow_events_dropped, f, c.events_dropped);
        set_in(&self.flow_live_buffers, f, c.live_buffers);
        set_in(
            &self.flow_peak_depth,
            f,
            pick(c.peak_queue_depth, |r| r.peak_queue_depth as u64),
        );
        for state in FlowState::ALL {
            let name = state.to_string().to_ascii_lowercase();
            set_in(
                &self.flow_state,
                &[id.as_str(), flow.name.as_str(), name.as_str()],
                u64::from(state == flow.state),
            );
        }
        let Some(report) = report else {
            return;
        };
        if let Ok(g) = self.flow_duration.get_metric_with_label_values(f) {
            g.set(report.duration.as_secs_f64());
        }
        let seconds = report.duration.as_secs_f64();
        if seconds > 0.0 {
            if let Ok(g) = self.flow_throughput.get_metric_with_label_values(f) {
                g.set(report.elements_delivered as f64 / seconds);
            }
        }
        for stage in &report.stages {
            let l = &[id.as_str(), flow.name.as_str(), stage.name.as_str()];
            raise_in(&self.component_invocations, l, stage.invocations);
            raise_in(&self.component_errors, l, stage.errors);
            raise_in(&self.component_restarts, l, stage.restarts);
            raise_in(&self.component_retries, l, stage.retries);
            raise_in(&self.component_dead_lettered, l, stage.dead_lettered);
            raise_in(&self.component_timeouts, l, stage.timeouts);
            raise_in(
                &self.component_busy,
                l,
                stage.busy_ns as f64 / NS_PER_SECOND,
            );
            // Only where fuel metering is on (any metered call burns some).
            if stage.fuel_consumed > 0 {
                raise_in(&self.component_fuel, l, stage.fuel_consumed);
            }
            set_in(&self.component_memory, l, stage.memory_bytes);
            if let Some(c) = &stage.connector {
                let counts = [
                    c.fetched,
                    c.acked,
                    c.nacked,
                    c.redelivered,
                    c.published,
                    c.publish_failures,
                ];
                for (vec, value) in self.connector_counters.iter().zip(counts) {
                    raise_in(vec, l, value);
                }
                set_in(&self.connector_gauges[0], l, c.pending);
                set_in(&self.connector_gauges[1], l, c.unacked);
                raise_in(
                    &self.connector_publish_latency,
                    l,
                    c.publish_latency_ns as f64 / NS_PER_SECOND,
                );
            }
        }
        for stream in &report.streams {
            let l = &[id.as_str(), flow.name.as_str(), stream.name.as_str()];
            raise_in(&self.stream_transferred, l, stream.transferred);
            raise_in(&self.stream_bp_events, l, stream.backpressure_events);
            raise_in(
                &self.stream_bp_seconds,
                l,
                stream.backpressure_ns as f64 / NS_PER_SECOND,
            );
            set_in(
                &self.stream_bp_active,
                l,
                u64::from(stream.backpressure_active),
            );
            set_in(&self.stream_depth, l, stream.depth as u64);
            set_in(&self.stream_peak, l, stream.peak_depth as u64);
            set_in(&self.stream_capacity, l, stream.capacity as u64);
            set_in(&self.stream_credit, l, stream.credit);
            let drops = [
                stream.dropped_oldest,
                stream.dropped_newest,
                stream.lagged,
                stream.dropped_closed,
            ];
            for (reason, n) in DROP_REASONS.into_iter().zip(drops) {
                let l = &[
                    id.as_str(),
                    flow.name.as_str(),
                    stream.name.as_str(),
                    reason,
                ];
                raise_in(&self.stream_dropped, l, n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(delivered: u64, state: FlowState) -> Sample {
        Sample {
            flows: vec![FlowSample {
                id: FlowId::new(7),
                name: "main".into(),
                state,
                counters: CounterSnapshot {
                    elements_pulled: delivered + 1,
                    elements_delivered: delivered,
                    ..CounterSnapshot::default()
                },
                report: None,
            }],
            resources: Some(ResourceStats::default()),
            capabilities: vec![CapabilityCount {
                component: "sink".into(),
                capability: "wasi:filesystem/write".into(),
                exercises: 2,
                denials: 1,
            }],
            events_dropped: (0, 3),
            flows_finished: 0,
            level: ObservabilityLevel::Diagnostic,
            scheduler: None,
            resident_bytes: None,
        }
    }

    /// A report of 500 elements in 250 ms through one stage, `sink`.
    fn report_with_stage(fuel: u64, memory: u64) -> FlowReport {
        let mut report = series::fixtures::report(&["sink"], &[]);
        report.elements_delivered = 500;
        report.duration = std::time::Duration::from_millis(250);
        report.stages[0].fuel_consumed = fuel;
        report.stages[0].memory_bytes = memory;
        report
    }

    #[test]
    fn test_catalog_renders_derived_memory_fuel_and_scheduler_figures() {
        let mut catalog = MetricsCatalog::new().unwrap();
        let mut s = sample(500, FlowState::Running);
        s.flows[0].report = Some(report_with_stage(12_345, 1_114_112));
        let mut resources = ResourceStats::default();
        resources.pools[0].handed_out = 8;
        resources.pools[0].taken_back = 6;
        s.resources = Some(resources);
        s.scheduler = Some(SchedulerStats {
            wakeups: 42,
            idle: std::time::Duration::from_millis(1500),
        });
        s.resident_bytes = Some(10_000_000);
        let text = catalog.render(&s).unwrap();
        let c = r#"{component_id="sink",flow="main",flow_id="flow-7"}"#;
        assert_eq!(
            value(&text, &format!("torvyn_component_fuel_consumed_total{c}")),
            Some(12_345.0)
        );
        assert_eq!(
            value(&text, &format!("torvyn_component_memory_bytes{c}")),
            Some(1_114_112.0)
        );
        assert_eq!(
            value(
                &text,
                r#"torvyn_flow_throughput_elements_per_second{flow="main",flow_id="flow-7"}"#
            ),
            Some(2000.0)
        );
        assert_eq!(
            value(&text, r#"torvyn_pool_reuse_ratio{tier="small"}"#),
            Some(0.75)
        );
        assert!(
            !text.contains(r#"torvyn_pool_reuse_ratio{tier="medium"}"#),
            "no ratio for a tier that handed nothing out"
        );
        assert_eq!(
            value(&text, "torvyn_system_memory_total_bytes"),
            Some(10_000_000.0)
        );
        assert_eq!(
            value(&text, "torvyn_system_memory_host_bytes"),
            Some((10_000_000 - 1_114_112) as f64)
        );
        assert_eq!(
            value(&text, "torvyn_system_scheduler_wakeups_total"),
            Some(42.0)
        );
        assert_eq!(
            value(&text, "torvyn_system_scheduler_idle_seconds_total"),
            Some(1.5)
        );
    }

    #[test]
    fn test_catalog_leaves_fuel_out_when_metering_is_off() {
        let mut catalog = MetricsCatalog::new().unwrap();
        let mut s = sample(500, FlowState::Running);
        s.flows[0].report = Some(report_with_stage(0, 65_536));
        let text = catalog.render(&s).unwrap();
        assert!(!text.contains("torvyn_component_fuel_consumed_total{"));
        assert!(text.contains("torvyn_component_memory_bytes{"));
        assert!(!text.contains("torvyn_system_memory_total_bytes "));
    }

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
    }

    #[test]
    fn test_catalog_renders_the_families_with_their_labels() {
        let mut catalog = MetricsCatalog::new().unwrap();
        let text = catalog.render(&sample(10, FlowState::Running)).unwrap();
        assert!(text.contains("# TYPE torvyn_flow_elements_total counter"));
        assert_eq!(
            value(
                &text,
                r#"torvyn_flow_elements_total{flow="main",flow_id="flow-7"}"#
            ),
            Some(10.0)
        );
        assert_eq!(
            value(
                &text,
                r#"torvyn_flow_state{flow="main",flow_id="flow-7",state="running"}"#
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                r#"torvyn_flow_state{flow="main",flow_id="flow-7",state="failed"}"#
            ),
            Some(0.0)
        );
        assert_eq!(
            value(
                &text,
                r#"torvyn_capability_denials_total{capability="wasi:filesystem/write",component_id="sink"}"#
            ),
            Some(1.0)
        );
        assert_eq!(
            value(&text, r#"torvyn_observability_level{level="diagnostic"}"#),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                r#"torvyn_system_events_dropped_total{channel="subscriber"}"#
            ),
            Some(3.0)
        );
        assert_eq!(value(&text, "torvyn_system_flows_active"), Some(1.0));
        assert_eq!(
            value(&text, r#"torvyn_pool_capacity{tier="huge"}"#),
            Some(0.0)
        );
    }

    #[test]
    fn test_catalog_counters_never_go_back() {
        let mut catalog = MetricsCatalog::new().unwrap();
        let series = r#"torvyn_flow_elements_total{flow="main",flow_id="flow-7"}"#;
        let first = catalog.render(&sample(10, FlowState::Running)).unwrap();
        let lower = catalog.render(&sample(4, FlowState::Running)).unwrap();
        let higher = catalog.render(&sample(25, FlowState::Completed)).unwrap();
        assert_eq!(value(&first, series), Some(10.0));
        assert_eq!(value(&lower, series), Some(10.0));
        assert_eq!(value(&higher, series), Some(25.0));
        assert_eq!(value(&higher, "torvyn_system_flows_active"), Some(0.0));
    }
}
