//! [`ObservabilityActor`]: collects every flow's counters and events and
//! serves them to `inspect`, `subscribe` and metric snapshots.
//!
//! Counters are read from each flow's [`FlowCounters`] atomics (no message
//! to the flow). Events arrive in batches on one bounded channel shared by
//! all FlowActors (a stream of this actor); each flow keeps a short history
//! so a late subscriber still sees every transition, in order, and is
//! handed on to subscriber channels, bounded too, counting what a slow
//! subscriber misses.
//!
//! Finished flows are kept for a window: the most recent
//! [`DEFAULT_FINISHED_FLOWS_RETAINED`] (or the host builder's
//! `finished_flows_retained`) keep their final counters, history and
//! metric series; an older one is forgotten (its entry dropped and its
//! series removed from the catalog), so a long-lived host's memory and
//! `/metrics` stay bounded however many flows it runs. Host-wide figures
//! (`torvyn_system_*`) are kept by the actor itself and never go back.

pub mod catalog;
pub mod custom_families;
pub mod export;
pub mod histogram_families;
pub mod level;
pub mod messages;
pub mod metrics_push;
pub mod replica_labels;
pub mod system;

use crate::counters::{CounterSnapshot, FlowCounters};
use crate::error::HostError;
use crate::events::{EventBatch, EventPublisher, FlowEvent};
use crate::ids::FlowId;
use crate::state::FlowState;
use actix::prelude::*;
use catalog::{FlowSample, MetricsCatalog, Sample};
use messages::{DroppedEvents, RegisterFlow, RenderMetrics, RetireFlow, Snapshot, Subscribe};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Events kept per flow for late subscribers.
pub const HISTORY_PER_FLOW: usize = 64;
/// Capacity of each subscriber channel.
pub const SUBSCRIBER_CAPACITY: usize = 256;
/// Finished flows whose counters, events and metric series are kept
/// (the most recent ones) unless the host is built with another number.
pub const DEFAULT_FINISHED_FLOWS_RETAINED: usize = 64;

/// One flow's counters at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowMetrics {
    /// The flow.
    pub id: FlowId,
    /// Its name.
    pub name: String,
    /// Its state.
    pub state: FlowState,
    /// Its counters.
    pub counters: CounterSnapshot,
    /// The replicated flow it is a replica of (`None`: not a replica).
    pub replica: Option<crate::ids::ReplicaOf>,
}

impl FlowMetrics {
    /// Flow `id`'s counters among `flows` (a [`Snapshot`]): its own, or,
    /// for a replicated flow, its replicas' added up (in their combined
    /// state, named as the first replica is).
    pub fn of(flows: &[FlowMetrics], id: FlowId) -> Option<FlowMetrics> {
        if let Some(flow) = flows.iter().find(|f| f.id == id) {
            return Some(flow.clone());
        }
        let replicas: Vec<&FlowMetrics> = flows
            .iter()
            .filter(|f| f.replica.is_some_and(|r| r.parent == id))
            .collect();
        let first = replicas.first()?;
        let mut counters = CounterSnapshot::default();
        for replica in &replicas {
            counters.add(&replica.counters);
        }
        let states: Vec<FlowState> = replicas.iter().map(|r| r.state).collect();
        Some(FlowMetrics {
            id,
            name: first.name.clone(),
            state: crate::supervisor::combined_state(&states),
            counters,
            replica: None,
        })
    }
}

struct Tracked {
    name: String,
    counters: Arc<FlowCounters>,
    history: Vec<FlowEvent>,
    subscribers: Vec<kanal::Sender<FlowEvent>>,
    retired: bool,
    /// The catalog's histograms of the flow, with their labels.
    histograms: Option<messages::FlowHistogramLabels>,
    /// The replicated flow it is a replica of.
    replica: Option<crate::ids::ReplicaOf>,
}

/// Collects counters and events of every flow.
pub struct ObservabilityActor {
    flows: HashMap<FlowId, Tracked>,
    /// A clone of the stream's receiver, to drain pending batches before a
    /// flow is retired.
    events: kanal::Receiver<EventBatch>,
    publisher: EventPublisher,
    subscriber_dropped: u64,
    /// The Prometheus registry (`None` only if it failed to build, which
    /// the unit tests rule out).
    catalog: Option<MetricsCatalog>,
    /// Finished flows still kept, oldest first.
    finished: VecDeque<FlowId>,
    /// How many finished flows to keep.
    retained: usize,
    /// Flows that have finished since the host started.
    finished_total: u64,
}

impl ObservabilityActor {
    /// An actor consuming `events` (the receiver of `publisher`) that
    /// keeps the last `retained` finished flows.
    pub fn new(
        events: kanal::Receiver<EventBatch>,
        publisher: EventPublisher,
        retained: usize,
    ) -> Self {
        Self {
            finished: VecDeque::new(),
            retained,
            finished_total: 0,
            flows: HashMap::new(),
            events,
            publisher,
            subscriber_dropped: 0,
            catalog: MetricsCatalog::new()
                .inspect_err(|e| tracing::error!(error = %e, "the metrics catalog failed to build"))
                .ok(),
        }
    }

    fn tracked(&mut self, id: FlowId) -> &mut Tracked {
        self.flows.entry(id).or_insert_with(|| Tracked {
            name: String::new(),
            counters: Arc::new(FlowCounters::default()),
            history: Vec::new(),
            subscribers: Vec::new(),
            retired: false,
            histograms: None,
            replica: None,
        })
    }

    fn ingest(&mut self, batch: EventBatch) {
        let mut dropped = 0;
        let flow = self.tracked(batch.flow);
        for event in batch.events {
            flow.subscribers
                .retain(|s| match s.try_send(event.clone()) {
                    Ok(true) => true,
                    Ok(false) => {
                        dropped += 1;
                        true
                    }
                    Err(_) => false,
                });
            if flow.history.len() < HISTORY_PER_FLOW {
                flow.history.push(event);
            }
        }
        self.subscriber_dropped += dropped;
    }

    /// Records that flow `id` finished and forgets the oldest finished
    /// flows beyond the window.
    fn retire(&mut self, id: FlowId) {
        self.finished_total += 1;
        self.finished.push_back(id);
        while self.finished.len() > self.retained {
            let Some(oldest) = self.finished.pop_front() else {
                break;
            };
            self.flows.remove(&oldest);
            if let Some(catalog) = self.catalog.as_mut() {
                catalog.forget_flow(oldest);
            }
        }
    }

    fn drain_pending(&mut self) {
        while let Ok(Some(batch)) = self.events.try_recv() {
            self.ingest(batch);
        }
    }
}

impl Actor for ObservabilityActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let rx = self.events.clone().to_async();
        ctx.add_stream(futures_util::stream::unfold(rx, |rx| async move {
            rx.recv().await.ok().map(|batch| (batch, rx))
        }));
    }
}

impl StreamHandler<EventBatch> for ObservabilityActor {
    fn handle(&mut self, batch: EventBatch, _: &mut Context<Self>) {
        self.ingest(batch);
    }

    /// The stream ends only when every publisher is gone; keep serving.
    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl Handler<RegisterFlow> for ObservabilityActor {
    type Result = ();

    fn handle(&mut self, msg: RegisterFlow, _: &mut Context<Self>) {
        let flow = self.tracked(msg.id);
        flow.name = msg.name;
        flow.counters = msg.counters;
        flow.histograms = msg.histograms;
        flow.replica = msg.replica;
    }
}

impl Handler<RetireFlow> for ObservabilityActor {
    type Result = ();

    fn handle(&mut self, msg: RetireFlow, _: &mut Context<Self>) {
        // The flow published its last batch before it exited: draining
        // now delivers it, and no batch of this flow can come later (so
        // a forgotten flow is never tracked again).
        self.drain_pending();
        let flow = self.tracked(msg.id);
        let first = !flow.retired;
        flow.retired = true;
        flow.counters.set_state(msg.inspection.state);
        // Dropping the senders closes every subscription.
        flow.subscribers.clear();
        if first {
            self.retire(msg.id);
        }
    }
}

impl Handler<Subscribe> for ObservabilityActor {
    type Result = Result<kanal::Receiver<FlowEvent>, HostError>;

    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) -> Self::Result {
        self.drain_pending();
        let flow = self
            .flows
            .get_mut(&msg.id)
            .ok_or(HostError::UnknownFlow(msg.id))?;
        let (tx, rx) = kanal::bounded(SUBSCRIBER_CAPACITY.max(flow.history.len()));
        for event in &flow.history {
            // Cannot fill: the channel holds the whole history.
            let _ = tx.try_send(event.clone());
        }
        if !flow.retired {
            flow.subscribers.push(tx);
        }
        Ok(rx)
    }
}

impl Handler<Snapshot> for ObservabilityActor {
    type Result = MessageResult<Snapshot>;

    fn handle(&mut self, _: Snapshot, _: &mut Context<Self>) -> Self::Result {
        let mut all: Vec<FlowMetrics> = self
            .flows
            .iter()
            .map(|(id, f)| FlowMetrics {
                id: *id,
                name: f.name.clone(),
                state: f.counters.state(),
                counters: f.counters.snapshot(),
                replica: f.replica,
            })
            .collect();
        all.sort_by_key(|m| m.id);
        MessageResult(all)
    }
}

impl Handler<RenderMetrics> for ObservabilityActor {
    type Result = Result<String, HostError>;

    fn handle(&mut self, mut msg: RenderMetrics, _: &mut Context<Self>) -> Self::Result {
        let catalog = self
            .catalog
            .as_mut()
            .ok_or_else(|| HostError::Metrics("the catalog failed to build".into()))?;
        let mut flows: Vec<FlowSample> = self
            .flows
            .iter()
            .map(|(id, f)| FlowSample {
                id: *id,
                name: f.name.clone(),
                state: f.counters.state(),
                counters: f.counters.snapshot(),
                report: msg.reports.remove(id),
            })
            .collect();
        flows.sort_by_key(|f| f.id);
        let sample = Sample {
            flows,
            resources: msg.resources,
            capabilities: msg.capabilities,
            events_dropped: (self.publisher.dropped(), self.subscriber_dropped),
            flows_finished: self.finished_total,
            level: msg.level,
            scheduler: msg.scheduler,
            resident_bytes: msg.resident_bytes,
        };
        let mut text = catalog
            .render(&sample)
            .map_err(|e| HostError::Metrics(e.to_string()))?;
        let mut histograms: Vec<histogram_families::FlowHistogramSample<'_>> = self
            .flows
            .iter()
            .filter_map(|(id, f)| {
                f.histograms
                    .as_ref()
                    .map(|labels| histogram_families::FlowHistogramSample {
                        id: *id,
                        name: &f.name,
                        labels,
                    })
            })
            .collect();
        histograms.sort_by_key(|h| h.id);
        histogram_families::render(&mut text, &histograms, msg.spans_dropped);
        // What components emitted through `torvyn:capabilities/metrics`.
        custom_families::render(&mut text, &torvyn_runtime::custom_metrics::snapshot());
        let replicas: Vec<(FlowId, crate::ids::ReplicaOf)> = self
            .flows
            .iter()
            .filter_map(|(id, f)| f.replica.map(|r| (*id, r)))
            .collect();
        replica_labels::label_replicas(&mut text, &replicas);
        Ok(text)
    }
}

impl Handler<DroppedEvents> for ObservabilityActor {
    type Result = MessageResult<DroppedEvents>;

    fn handle(&mut self, _: DroppedEvents, _: &mut Context<Self>) -> Self::Result {
        MessageResult((self.publisher.dropped(), self.subscriber_dropped))
    }
}
