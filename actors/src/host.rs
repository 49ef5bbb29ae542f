//! [`TorvynHost`] / [`TorvynHandle`]: start the actor system on its own
//! threads and drive flows from plain synchronous Rust.
//!
//! The host runs an actix system on one thread (the root supervisor and
//! the resource, capability and observability actors) plus a fixed pool of
//! worker arbiters (threads) that run the flows. Every handle call sends a
//! message and blocks the calling thread until the answer arrives; no async
//! runtime is needed by the caller. Do not call the handle from inside an
//! actor or a flow (it would block that thread).

use crate::capability::messages::Counts;
use crate::capability::messages::{AuditLog, Check, Grant, Revoke};
use crate::capability::CapabilityCount;
use crate::capability::{AuditEvent, CapabilityActor};
use crate::error::HostError;
use crate::events::{EventPublisher, FlowEvent};
use crate::flow::{FlowInspection, FlowSpec, Priority};
use crate::ids::FlowId;
use crate::observability::export::SpanExporter;
use crate::observability::level::LevelSwitch;
use crate::observability::messages::{DroppedEvents, RenderMetrics, Snapshot};
use crate::observability::system::{resident_bytes, WorkerSchedulers};
use crate::observability::{FlowMetrics, ObservabilityActor};
use crate::resource::messages::Stats;
use crate::resource::{ResourceActor, ResourceStats};
use crate::state::FlowState;
use crate::supervisor::messages::{
    ArbiterLoads, AwaitFlow, CancelFlow, DrainFlow, InjectFlowActorFault, InjectFlowFault,
    InspectFlow, PauseFlow, ResumeFlow, SetFlowPriority, Shutdown, StartFlow, SubscribeFlow,
};
use crate::supervisor::{CancelBounds, Supervisor};
use crate::trace::SpanConsumer;
use crate::trace::{TraceBatch, TraceConsumer, TraceHub, TracePublisher, TraceStats};
use actix::dev::ToEnvelope;
use actix::prelude::*;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use torvyn_runtime::assembly::{plan_flow, AssemblyError, FlowPlan, Project, Quiet};
use torvyn_runtime::config::{ObservabilityConfig, ObservabilityLevel, RuntimeConfig};
use torvyn_runtime::engine::{EngineConfig, WasmEngine};
use torvyn_runtime::flow_config::pool_config;
use torvyn_runtime::reactor::FlowReport;
use torvyn_runtime::resources::PoolConfig;

/// The environment variable naming the worker thread count when neither
/// the builder nor a runtime config sets it.
pub const WORKER_THREADS_ENV: &str = "TORVYN_RUNTIME_WORKER_THREADS";

/// Default capacity (in batches) of the flow → observability event channel.
pub const DEFAULT_EVENT_CHANNEL_CAPACITY: usize = 4096;

/// Entry point: `TorvynHost::builder()…build()`.
#[derive(Debug)]
pub struct TorvynHost;

impl TorvynHost {
    /// A builder with defaults: one worker per core, a fresh engine with
    /// default settings, no global buffer budget.
    pub fn builder() -> TorvynHostBuilder {
        TorvynHostBuilder::default()
    }
}

/// Configures and starts a host.
#[derive(Default)]
pub struct TorvynHostBuilder {
    engine: Option<WasmEngine>,
    engine_config: Option<EngineConfig>,
    worker_threads: Option<usize>,
    buffer_budget: Option<u64>,
    pools: Option<PoolConfig>,
    event_capacity: Option<usize>,
    cancel: Option<CancelBounds>,
    level: Option<ObservabilityLevel>,
    trace_consumers: Vec<Box<dyn TraceConsumer>>,
    finished_retained: Option<usize>,
    outcomes_retained: Option<usize>,
    /// A problem found while configuring (an exporter setting), reported
    /// by [`build`](TorvynHostBuilder::build).
    invalid: Option<AssemblyError>,
}

/// How many finished flows the supervisor remembers the outcome of (for
/// `await_completion`, `inspect` and control calls on a flow that has
/// ended), unless the builder says otherwise.
pub const DEFAULT_FINISHED_OUTCOMES_RETAINED: usize = 4096;

/// Capacity (in batches) of the flows → trace hub channel.
pub const TRACE_CHANNEL_CAPACITY: usize = 1024;

impl TorvynHostBuilder {
    /// Shares an existing engine (and its compiled-component cache); the
    /// `StageSpec`s of every flow must come from this engine.
    pub fn engine(mut self, engine: WasmEngine) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Creates the engine from these settings (ignored when
    /// [`engine`](Self::engine) is given).
    pub fn engine_config(mut self, config: EngineConfig) -> Self {
        self.engine_config = Some(config);
        self
    }

    /// Takes `[runtime] worker_threads`, the pools and the engine settings
    /// (fuel, deadlines, memory limit) from a loaded runtime config (which
    /// has already applied `TORVYN_RUNTIME_*` environment overrides).
    pub fn runtime_config(mut self, config: &RuntimeConfig) -> Self {
        self.worker_threads = Some(config.effective_worker_threads());
        self.pools = Some(pool_config(config));
        self.engine_config = Some(EngineConfig::from_runtime(config));
        self
    }

    /// Worker arbiters (threads) that run flows. Default:
    /// `TORVYN_RUNTIME_WORKER_THREADS`, else the number of cores.
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = Some(n);
        self
    }

    /// Host buffer bytes all running flows may reserve together; a flow
    /// that does not fit fails to start with E0310. Default: unlimited.
    pub fn buffer_budget(mut self, bytes: u64) -> Self {
        self.buffer_budget = Some(bytes);
        self
    }

    /// Sizes of the host's shared buffer pools (`[runtime.pools]`),
    /// allocated when the host starts. Default: the spec's defaults.
    pub fn pools(mut self, pools: PoolConfig) -> Self {
        self.pools = Some(pools);
        self
    }

    /// Tiered cancellation bounds: how long a cancelled flow's current
    /// guest call may run before it is interrupted, and how long a cancel
    /// then waits. Default: 100 ms, then 5 s.
    pub fn cancel_bounds(mut self, bounds: CancelBounds) -> Self {
        self.cancel = Some(bounds);
        self
    }

    /// Capacity, in batches, of the event channel from flows to the
    /// observability actor (events beyond it are dropped and counted).
    pub fn event_channel_capacity(mut self, batches: usize) -> Self {
        self.event_capacity = Some(batches);
        self
    }

    /// The observability level the host starts at (default
    /// `production`); switch it later with
    /// [`TorvynHandle::set_observability_level`].
    pub fn observability_level(mut self, level: ObservabilityLevel) -> Self {
        self.level = Some(level);
        self
    }

    /// Adds a receiver of every flow's trace batches (an OTLP exporter),
    /// run on the host's trace thread.
    pub fn trace_consumer(mut self, consumer: Box<dyn TraceConsumer>) -> Self {
        self.trace_consumers.push(consumer);
        self
    }

    /// How many finished flows keep their counters, events and metric
    /// series (the most recent ones; older ones are forgotten). Default:
    /// [`DEFAULT_FINISHED_FLOWS_RETAINED`](crate::observability::DEFAULT_FINISHED_FLOWS_RETAINED).
    pub fn finished_flows_retained(mut self, flows: usize) -> Self {
        self.finished_retained = Some(flows);
        self
    }

    /// How many finished flows keep their outcome (report or error) and
    /// last inspection with the supervisor, the most recent ones; asking
    /// about an older flow is `UnknownFlow`. Default:
    /// [`DEFAULT_FINISHED_OUTCOMES_RETAINED`] (at least 1).
    pub fn finished_outcomes_retained(mut self, flows: usize) -> Self {
        self.outcomes_retained = Some(flows);
        self
    }

    /// Takes `[observability] level` from a loaded configuration (which
    /// has already applied `TORVYN_OBSERVABILITY_LEVEL`).
    pub fn observability(self, config: &ObservabilityConfig) -> Self {
        self.observability_level(config.level)
    }

    /// Everything a project's Torvyn.toml says about the host: the engine
    /// settings, worker threads and pools of `[runtime]`, the level of
    /// `[observability]` and its span exporter (an invalid exporter
    /// setting makes [`build`](Self::build) fail with its diagnostics).
    pub fn project(mut self, project: &Project) -> Self {
        let manifest = project.manifest();
        self = self
            .runtime_config(&manifest.runtime)
            .observability(&manifest.observability);
        match SpanExporter::from_observability(&manifest.observability) {
            Ok(Some(exporter)) => self.trace_consumer(Box::new(SpanConsumer::new(exporter))),
            Ok(None) => self,
            Err(e) => {
                self.invalid = Some(AssemblyError::from_coded(&e));
                self
            }
        }
    }

    fn resolved_workers(&self) -> usize {
        self.worker_threads
            .or_else(|| {
                std::env::var(WORKER_THREADS_ENV)
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
            })
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    /// Starts the actor system on its own threads and returns a handle.
    pub fn build(self) -> Result<TorvynHandle, HostError> {
        if let Some(invalid) = self.invalid {
            return Err(HostError::Invalid(invalid));
        }
        let workers = self.resolved_workers();
        let engine = match self.engine {
            Some(engine) => engine,
            None => WasmEngine::new(self.engine_config.unwrap_or_default())
                .map_err(|e| HostError::Startup(e.to_string()))?,
        };
        let engine_for_supervisor = engine.clone();
        let budget = self.buffer_budget;
        let pools = self.pools.unwrap_or_default();
        let cancel = self.cancel.unwrap_or_default();
        let capacity = self
            .event_capacity
            .unwrap_or(DEFAULT_EVENT_CHANNEL_CAPACITY);
        let level = LevelSwitch::new(self.level.unwrap_or_default());
        let retained = self
            .finished_retained
            .unwrap_or(crate::observability::DEFAULT_FINISHED_FLOWS_RETAINED);
        let host_level = level.clone();
        let outcomes_retained = self
            .outcomes_retained
            .unwrap_or(DEFAULT_FINISHED_OUTCOMES_RETAINED);
        let (traces, trace_batches) = TracePublisher::bounded(TRACE_CHANNEL_CAPACITY);
        let hub = TraceHub::start(trace_batches, self.trace_consumers)
            .map_err(|e| HostError::Startup(e.to_string()))?;
        let trace_dropped = traces.dropped_counter();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (runtime_tx, runtime_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("torvyn-host".into())
            .spawn(move || {
                let runner = System::new();
                let arbiters = runner.block_on(async move {
                    let arbiters: Vec<Arbiter> = (0..workers).map(|_| Arbiter::new()).collect();
                    for arbiter in &arbiters {
                        // Each worker's own runtime, for system.scheduler.*.
                        let runtime_tx = runtime_tx.clone();
                        arbiter.spawn_fn(move || {
                            let _ = runtime_tx.send(tokio::runtime::Handle::current().metrics());
                        });
                    }
                    let (publisher, events) = EventPublisher::with_level(capacity, level);
                    let publisher = publisher.with_traces(traces);
                    let resource = ResourceActor::new(budget, pools).start();
                    let capability = CapabilityActor::default().start();
                    let observability =
                        ObservabilityActor::new(events, publisher.clone(), retained).start();
                    let supervisor = Supervisor::new(
                        engine_for_supervisor,
                        arbiters.iter().map(Arbiter::handle).collect(),
                        resource.clone(),
                        observability.clone(),
                        publisher,
                        cancel,
                        outcomes_retained,
                    )
                    .start();
                    let _ = ready_tx.send(Actors {
                        system: System::current(),
                        supervisor,
                        resource,
                        capability,
                        observability,
                    });
                    arbiters
                });
                if let Err(e) = runner.run() {
                    tracing::error!(error = %e, "the Torvyn host's actor system failed");
                }
                for arbiter in arbiters {
                    arbiter.stop();
                    let _ = arbiter.join();
                }
            })
            .map_err(|e| HostError::Startup(e.to_string()))?;
        let actors = ready_rx
            .recv()
            .map_err(|_| HostError::Startup("the host thread exited while starting".into()))?;
        let runtimes = (0..workers)
            .map_while(|_| {
                runtime_rx
                    .recv_timeout(std::time::Duration::from_secs(10))
                    .ok()
            })
            .collect();
        let schedulers = WorkerSchedulers::new(runtimes);
        Ok(TorvynHandle {
            inner: Arc::new(HostInner {
                actors,
                engine,
                workers,
                level: host_level,
                thread: Mutex::new(Some(thread)),
                trace_dropped,
                hub,
                schedulers,
            }),
        })
    }
}

struct Actors {
    system: System,
    supervisor: Addr<Supervisor>,
    resource: Addr<ResourceActor>,
    capability: Addr<CapabilityActor>,
    observability: Addr<ObservabilityActor>,
}

struct HostInner {
    actors: Actors,
    /// The engine every flow of this host is compiled with.
    engine: WasmEngine,
    workers: usize,
    level: LevelSwitch,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The host's own clone of the trace sender (for its drop counter);
    /// released at shutdown so the hub sees the channel close.
    trace_dropped: Arc<std::sync::atomic::AtomicU64>,
    hub: TraceHub,
    /// The worker arbiters' schedulers (`system.scheduler.*`).
    schedulers: WorkerSchedulers,
}

impl HostInner {
    fn stop_and_join(&self) {
        self.actors.supervisor.do_send(Shutdown);
        self.actors.system.stop();
        let thread = match self.thread.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        let mut joined = false;
        if let Some(thread) = thread {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
                joined = true;
            }
        }
        // Every trace sender (the FlowActors') is gone with the host
        // thread: the hub flushes its consumers and stops.
        if joined {
            self.hub.join();
        }
    }
}

impl Drop for HostInner {
    /// The last handle gone stops the host.
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// A handle to a running host: cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct TorvynHandle {
    inner: Arc<HostInner>,
}

fn ask<A, M>(addr: &Addr<A>, msg: M) -> Result<M::Result, HostError>
where
    A: Actor + Handler<M>,
    A::Context: ToEnvelope<A, M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    futures_executor::block_on(addr.send(msg)).map_err(|_| HostError::HostStopped)
}

impl TorvynHandle {
    fn supervisor<M>(&self, msg: M) -> Result<M::Result, HostError>
    where
        Supervisor: Handler<M>,
        M: Message + Send + 'static,
        M::Result: Send,
    {
        ask(&self.inner.actors.supervisor, msg)
    }

    /// Worker arbiters running flows.
    pub fn worker_threads(&self) -> usize {
        self.inner.workers
    }

    /// Starts a flow on the least-loaded worker, under its own
    /// FlowSupervisor (which restarts it as `spec.restart` says). Returns
    /// once the flow is `Created`; validation and instantiation happen on
    /// its worker (failures surface through
    /// [`await_completion`](Self::await_completion)).
    pub fn start_flow(&self, spec: FlowSpec) -> Result<FlowId, HostError> {
        self.supervisor(StartFlow(spec))?
    }

    /// The engine this host's flows are compiled with: plan flows for this
    /// host with it ([`torvyn_runtime::assembly::plan_flow`]).
    pub fn engine(&self) -> &WasmEngine {
        &self.inner.engine
    }

    /// Plans flow `flow` (default: the first) of `project` on this host's
    /// engine: graph, components (declared ones built when stale), checks
    /// and links, exactly as `torvyn run` does.
    pub fn plan(&self, project: &Project, flow: Option<&str>) -> Result<FlowPlan, HostError> {
        Ok(plan_flow(project, flow, self.engine(), &Quiet)?)
    }

    /// Starts a planned flow with its settings and restart policy.
    pub fn start_plan(&self, plan: FlowPlan) -> Result<FlowId, HostError> {
        self.start_flow(FlowSpec::from_plan(plan))
    }

    /// Loads the Torvyn.toml at `manifest` (with its configuration layers),
    /// plans flow `flow` (default: the first) and starts it: the same flow
    /// `torvyn run` would run. The host's own settings apply (build it
    /// with [`TorvynHostBuilder::project`] to take the manifest's).
    pub fn start_manifest(
        &self,
        manifest: impl AsRef<std::path::Path>,
        flow: Option<&str>,
    ) -> Result<FlowId, HostError> {
        let project = Project::load(manifest)?;
        let plan = self.plan(&project, flow)?;
        self.start_plan(plan)
    }

    /// Pauses a running flow after its current batch; returns the new state
    /// (`Suspended`). Pausing a suspended flow is a no-op.
    pub fn pause(&self, id: FlowId) -> Result<FlowState, HostError> {
        self.supervisor(PauseFlow(id))?
    }

    /// Fault injection (tests): the named component of a running flow
    /// misbehaves on its `fault.at`-th invocation from now (trap, error,
    /// hang, memory growth or a stall; see
    /// [`Fault`](torvyn_runtime::reactor::supervision::Fault)).
    pub fn inject_fault(
        &self,
        id: FlowId,
        fault: torvyn_runtime::reactor::supervision::Fault,
    ) -> Result<FlowState, HostError> {
        self.supervisor(InjectFlowFault(id, fault))?
    }

    /// Fault injection (tests): the flow's actor itself misbehaves (a panic
    /// in its batch handler, a dropped or delayed control message).
    pub fn inject_actor_fault(
        &self,
        id: FlowId,
        fault: crate::flow::ActorFault,
    ) -> Result<FlowState, HostError> {
        self.supervisor(InjectFlowActorFault(id, fault))?
    }

    /// Stops a flow gracefully: its sources are not pulled again, what is
    /// in flight drains, every sink completes; returns the new state
    /// (`Draining`; [`await_completion`](Self::await_completion) then
    /// returns the report of a `Completed` flow).
    pub fn drain(&self, id: FlowId) -> Result<FlowState, HostError> {
        self.supervisor(DrainFlow(id))?
    }

    /// Resumes a suspended flow; returns the new state (`Running`).
    pub fn resume(&self, id: FlowId) -> Result<FlowState, HostError> {
        self.supervisor(ResumeFlow(id))?
    }

    /// Cancels a flow: it ends `Failed` with E0402. Idempotent; cancelling a
    /// flow that already ended does nothing.
    pub fn cancel(&self, id: FlowId) -> Result<(), HostError> {
        self.supervisor(CancelFlow(id))?
    }

    /// Changes a flow's priority (its batch size) from its next batch on.
    pub fn set_priority(&self, id: FlowId, priority: Priority) -> Result<(), HostError> {
        self.supervisor(SetFlowPriority(id, priority))?
    }

    /// State, counters and full report of a flow (live or ended).
    pub fn inspect(&self, id: FlowId) -> Result<FlowInspection, HostError> {
        self.supervisor(InspectFlow(id))?
    }

    /// The flow's events: every one so far, then live ones; the receiver
    /// closes after the terminal transition.
    pub fn subscribe(&self, id: FlowId) -> Result<kanal::Receiver<FlowEvent>, HostError> {
        self.supervisor(SubscribeFlow(id))?
    }

    /// Blocks until the flow ends: its report, or its failure (with the
    /// flow's error code: E0401 for a trap, E0402 when cancelled, …). A
    /// flow that ended long ago — more than
    /// [`finished_outcomes_retained`](TorvynHostBuilder::finished_outcomes_retained)
    /// flows ago — is `UnknownFlow`.
    pub fn await_completion(&self, id: FlowId) -> Result<FlowReport, HostError> {
        let rx = self.supervisor(AwaitFlow(id))??;
        futures_executor::block_on(rx).map_err(|_| HostError::HostStopped)?
    }

    /// Counter snapshots of every flow (read from their atomics).
    pub fn metrics(&self) -> Result<Vec<FlowMetrics>, HostError> {
        ask(&self.inner.actors.observability, Snapshot)
    }

    /// Events dropped so far: (flow → observability channel full,
    /// subscriber channels full).
    pub fn dropped_events(&self) -> Result<(u64, u64), HostError> {
        ask(&self.inner.actors.observability, DroppedEvents)
    }

    /// The observability level now.
    pub fn observability_level(&self) -> ObservabilityLevel {
        self.inner.level.get()
    }

    /// Switches the observability level of the host and of every running
    /// flow, from each flow's next batch on (no flow restarts); returns the
    /// level it replaced. See [`crate::observability::level`] for what
    /// each level does.
    pub fn set_observability_level(&self, level: ObservabilityLevel) -> ObservabilityLevel {
        let old = self.inner.level.set(level);
        if old != level {
            tracing::info!(from = %old, to = %level, "observability level switched");
        }
        old
    }

    /// A receiver of every trace batch of every flow from now on (what the
    /// flows record depends on the observability level: sampled elements
    /// at `production`, every element at `diagnostic`). It closes when the
    /// host stops.
    pub fn subscribe_traces(&self) -> std::sync::mpsc::Receiver<Arc<TraceBatch>> {
        self.inner.hub.subscribe()
    }

    /// Trace records handed on, and records dropped (flow buffers and the
    /// trace channel full, consumers failing to export).
    pub fn trace_stats(&self) -> TraceStats {
        let (records, consumer_dropped) = self.inner.hub.stats();
        let channel = self
            .inner
            .trace_dropped
            .load(std::sync::atomic::Ordering::Relaxed);
        TraceStats {
            records,
            dropped: channel + consumer_dropped,
        }
    }

    /// Exercise and denial counts per (component, capability).
    pub fn capability_counts(&self) -> Result<Vec<CapabilityCount>, HostError> {
        ask(&self.inner.actors.capability, Counts)
    }

    /// The metrics catalog in the Prometheus text exposition format: every
    /// flow's counters, the per-component and per-stream counters of its
    /// latest report, the shared pools, capability checks and host-wide
    /// figures. Reading the reports costs one `inspect` per flow (served
    /// between two of its batches); at level `off` only ended flows are
    /// inspected.
    pub fn prometheus_metrics(&self) -> Result<String, HostError> {
        let level = self.observability_level();
        let mut reports = std::collections::HashMap::new();
        for flow in self.metrics()? {
            if level == ObservabilityLevel::Off && !flow.state.is_terminal() {
                continue;
            }
            match self.inspect(flow.id) {
                Ok(inspection) => {
                    if let Some(report) = inspection.report {
                        reports.insert(flow.id, report);
                    }
                }
                // Registered with the observability actor, not yet (or no
                // longer) known to the supervisor: export its counters only.
                Err(HostError::UnknownFlow(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let resources = Some(self.resource_stats()?);
        let capabilities = self.capability_counts()?;
        ask(
            &self.inner.actors.observability,
            RenderMetrics {
                reports,
                resources,
                capabilities,
                level,
                spans_dropped: self.trace_stats().dropped,
                scheduler: Some(self.inner.schedulers.stats()),
                resident_bytes: resident_bytes(),
            },
        )?
    }

    /// Live flows on each worker arbiter.
    pub fn arbiter_loads(&self) -> Result<Vec<usize>, HostError> {
        self.supervisor(ArbiterLoads)
    }

    /// The global buffer budget accounting and leak records.
    pub fn resource_stats(&self) -> Result<ResourceStats, HostError> {
        ask(&self.inner.actors.resource, Stats)
    }

    /// Grants `capability` to `component` (audited).
    pub fn grant_capability(&self, component: &str, capability: &str) -> Result<(), HostError> {
        ask(
            &self.inner.actors.capability,
            Grant {
                component: component.into(),
                capability: capability.into(),
            },
        )
    }

    /// Withdraws a grant (audited).
    pub fn revoke_capability(&self, component: &str, capability: &str) -> Result<(), HostError> {
        ask(
            &self.inner.actors.capability,
            Revoke {
                component: component.into(),
                capability: capability.into(),
            },
        )
    }

    /// Whether `component` holds `capability` (audited).
    pub fn check_capability(&self, component: &str, capability: &str) -> Result<bool, HostError> {
        ask(
            &self.inner.actors.capability,
            Check {
                component: component.into(),
                capability: capability.into(),
            },
        )
    }

    /// The capability audit log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<AuditEvent>, HostError> {
        ask(&self.inner.actors.capability, AuditLog)
    }

    /// Cancels every live flow, stops the actor system and joins its
    /// threads. Later calls on any clone return [`HostError::HostStopped`].
    pub fn shutdown(&self) {
        self.inner.stop_and_join();
    }
}
