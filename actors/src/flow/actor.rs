//! [`FlowActor`]: owns one flow (its Wasmtime stores) on a worker arbiter
//! and drives it in batches.
//!
//! Between two batches the actor yields to its arbiter (a `yield_now`
//! future, then a [`RunBatch`] notification to itself): the arbiter polls
//! its other flows, and on the next poll of this actor its mailbox (pause,
//! resume, cancel, inspect) is served before the next batch runs. A plain
//! `ctx.notify` would not yield: actix keeps polling an actor while it has
//! ready work, which would starve every other flow on the arbiter.

use super::driver::{BatchOutcome, FlowDriver};
use super::fair_share::FairShare;
use super::messages::{
    Cancel, Drain, InjectActorFault, InjectFault, Inspect, Pause, Resume, RunBatch, SetPriority,
};
use super::ActorFault;
use super::{FlowInspection, FlowSpec, Priority};
use crate::counters::FlowCounters;
use crate::error::{Cancelled, HostError};
use crate::events::{EventBatch, EventPublisher, FlowEvent, FlowEventKind};
use crate::ids::FlowId;
use crate::state::FlowState;
use crate::supervisor::messages::FlowExited;
use crate::trace::{FlowTraceInfo, TraceBatch, TraceBatchKind, TracePublisher};
use actix::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use torvyn_runtime::config::ObservabilityLevel;
use torvyn_runtime::engine::WasmEngine;
use torvyn_runtime::error::{Diagnostic, ErrorCode};
use torvyn_runtime::reactor::FlowError;
use torvyn_runtime::reactor::FlowEvent as ReactorEvent;
use torvyn_runtime::reactor::FlowReport;

/// Publish the full report (which allocates) at most this often.
const FULL_PUBLISH_EVERY: Duration = Duration::from_millis(5);
/// Hand trace records to the trace thread at most this often while the
/// flow runs (each hand-off may wake that thread: a context switch on a
/// small machine), or sooner once this many are waiting.
const TRACE_SHIP_EVERY: Duration = Duration::from_millis(5);
/// See [`TRACE_SHIP_EVERY`]. Small enough that a batch of records (32 KiB)
/// is still in cache when the trace thread reads it: shipping 2,048 at a
/// time cost a diagnostic flow about 2.5 % more throughput in the
/// observability benchmark.
const TRACE_SHIP_RECORDS: usize = 256;

/// What a flow shipping its trace records does next, which decides the
/// buffer it keeps to write on (see [`FlowActor::ship_traces`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NextRecords {
    /// Goes on recording: a spare, if it had records to hand over.
    Continuing,
    /// Starts recording (its level was just set to one that traces): a
    /// spare in any case, warm in cache, its pages mapped.
    Starting,
    /// Records no more (it ends, or stopped tracing): no buffer.
    Finishing,
}

/// One running flow.
pub struct FlowActor {
    id: FlowId,
    /// Which run of the flow this actor drives (1 = the first; its
    /// FlowSupervisor counts restarts).
    run: u64,
    name: String,
    arbiter: usize,
    state: FlowState,
    spec: Option<FlowSpec>,
    engine: WasmEngine,
    driver: Option<FlowDriver>,
    counters: Arc<FlowCounters>,
    events: EventPublisher,
    pending: Vec<FlowEvent>,
    /// The stage loop's own events, drained after each batch (kept to
    /// reuse its capacity).
    reactor_events: Vec<ReactorEvent>,
    /// Where the exit notice goes: the flow's FlowSupervisor.
    exits: Recipient<FlowExited>,
    priority: Priority,
    batch_elements: usize,
    quantum: Duration,
    /// The flow's standing among its worker's flows: sizes each batch.
    fair_share: FairShare,
    /// A `RunBatch` is on its way; never schedule two.
    scheduled: bool,
    last_full_publish: Instant,
    final_report: Option<FlowReport>,
    failure: Option<Diagnostic>,
    /// Injected actor faults (tests): pending, in order.
    actor_faults: Vec<ActorFault>,
    /// Where trace records go (`None`: the host takes none).
    traces: Option<TracePublisher>,
    /// The flow as trace readers see it (set at bring-up).
    trace_info: Option<Arc<FlowTraceInfo>>,
    /// The observability level the flow last applied.
    applied_level: Option<ObservabilityLevel>,
    /// Records the flow had dropped at the last drain.
    trace_dropped_seen: u64,
    /// When records were last handed to the trace thread.
    last_trace_ship: Instant,
}

impl FlowActor {
    pub(crate) fn new(
        id: FlowId,
        arbiter: usize,
        spec: FlowSpec,
        engine: WasmEngine,
        counters: Arc<FlowCounters>,
        events: EventPublisher,
        exits: Recipient<FlowExited>,
    ) -> Self {
        let batch_elements = spec.batch.elements_for(spec.priority);
        Self {
            id,
            run: 1,
            name: spec.settings.flow_name.clone(),
            arbiter,
            state: FlowState::Created,
            priority: spec.priority,
            quantum: spec.batch.quantum,
            spec: Some(spec),
            engine,
            driver: None,
            counters,
            pending: Vec::new(),
            reactor_events: Vec::new(),
            exits,
            batch_elements,
            fair_share: FairShare::default(),
            scheduled: false,
            last_full_publish: Instant::now(),
            final_report: None,
            failure: None,
            actor_faults: Vec::new(),
            traces: events.traces().cloned(),
            trace_info: None,
            applied_level: None,
            trace_dropped_seen: 0,
            last_trace_ship: Instant::now(),
            events,
        }
    }

    /// The checked transition: updates the state, its atomic, and queues
    /// the event. An invalid transition here is a host bug and is logged.
    fn transition(&mut self, to: FlowState) -> Result<(), HostError> {
        let from = self.state;
        self.state = from.transition_to(to)?;
        self.counters.set_state(to);
        self.pending.push(FlowEvent {
            flow: self.id,
            at: SystemTime::now(),
            kind: FlowEventKind::StateChanged { from, to },
        });
        Ok(())
    }

    /// Publishes the backpressure episodes the last batch saw to the
    /// flow's subscribers (the stage loop buffers them, bounded).
    // WARM PATH: once per batch; nothing is allocated when there are none.
    fn forward_reactor_events(&mut self) {
        let Some(driver) = self.driver.as_mut() else {
            return;
        };
        driver.drain_events(&mut self.reactor_events);
        if self.reactor_events.is_empty() {
            return;
        }
        let at = SystemTime::now();
        for event in self.reactor_events.drain(..) {
            let kind = match event {
                ReactorEvent::BackpressureTriggered { stream, depth } => {
                    FlowEventKind::BackpressureTriggered {
                        queue: stream,
                        depth,
                    }
                }
                ReactorEvent::BackpressureRelieved {
                    stream,
                    depth,
                    duration,
                } => FlowEventKind::BackpressureRelieved {
                    queue: stream,
                    depth,
                    duration_us: u64::try_from(duration.as_micros()).unwrap_or(u64::MAX),
                },
                // Restarts and pauses are counted in the report.
                _ => continue,
            };
            self.pending.push(FlowEvent {
                flow: self.id,
                at,
                kind,
            });
        }
        self.flush_events();
    }

    fn flush_events(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let events = std::mem::take(&mut self.pending);
        self.events.publish(
            EventBatch {
                flow: self.id,
                events,
            },
            &self.counters,
        );
    }

    /// Sends the flow's trace records drained since the last call, and
    /// gives the flow the buffer `next` calls for: an emptied spare the
    /// trace thread handed back, or none for a flow that records no more
    /// (a buffer it held would be freed with it, and the next hand-off
    /// would allocate and fault in a new one — a fifth of all hand-offs
    /// did in the observability benchmark). A buffer the flow gives up
    /// empty goes back to the spares.
    // WARM PATH: once per batch; allocates only when no spare is left.
    fn ship_traces(&mut self, next: NextRecords) {
        let (Some(traces), Some(info), Some(driver)) = (
            self.traces.as_ref(),
            self.trace_info.as_ref(),
            self.driver.as_mut(),
        ) else {
            return;
        };
        let dropped = driver.trace_dropped();
        if dropped > self.trace_dropped_seen {
            traces.add_dropped(dropped - self.trace_dropped_seen);
            self.trace_dropped_seen = dropped;
        }
        let mut records = match next {
            NextRecords::Continuing if driver.trace_pending() == 0 => return,
            NextRecords::Continuing | NextRecords::Starting => traces.record_buffer(),
            NextRecords::Finishing => Vec::new(),
        };
        driver.drain_trace(&mut records);
        if records.is_empty() {
            // Nothing was pending: the flow's own buffer, emptied.
            traces.give_back(records);
            return;
        }
        traces.publish(TraceBatch {
            info: Arc::clone(info),
            kind: TraceBatchKind::Records(records),
        });
    }

    /// [`Self::ship_traces`] once [`TRACE_SHIP_EVERY`] has passed or
    /// [`TRACE_SHIP_RECORDS`] records wait.
    fn ship_traces_when_due(&mut self) {
        let waiting = self.driver.as_ref().map_or(0, FlowDriver::trace_pending);
        if waiting >= TRACE_SHIP_RECORDS || self.last_trace_ship.elapsed() >= TRACE_SHIP_EVERY {
            self.ship_traces(NextRecords::Continuing);
            self.last_trace_ship = Instant::now();
        }
    }

    /// Sends a start or end marker of the flow's trace.
    fn trace_marker(&self, kind: TraceBatchKind) {
        if let (Some(traces), Some(info)) = (self.traces.as_ref(), self.trace_info.as_ref()) {
            traces.publish(TraceBatch {
                info: Arc::clone(info),
                kind,
            });
        }
    }

    /// Applies the host's observability level when it changed (between
    /// two batches: one relaxed load).
    fn apply_level(&mut self) {
        let level = self.events.level().get();
        if self.applied_level != Some(level) {
            if let Some(driver) = self.driver.as_mut() {
                driver.set_observability(level);
                self.applied_level = Some(level);
                self.ship_traces(if level == ObservabilityLevel::Off {
                    NextRecords::Finishing
                } else {
                    NextRecords::Starting
                });
            }
        }
    }

    /// Created → Validated → Instantiated → Running (or Suspended).
    fn bring_up(&mut self) -> Result<(), HostError> {
        let Some(mut spec) = self.spec.take() else {
            return Ok(());
        };
        let level = self.events.level().get();
        spec.settings.observability = level;
        // Components read the host's id of the flow (as `/flows` lists it).
        spec.settings.flow_id = Some(self.id.to_string());
        let context = *spec
            .settings
            .trace_context
            .get_or_insert_with(crate::trace::new_trace_context);
        let streams = spec.streams();
        self.trace_info = Some(Arc::new(FlowTraceInfo {
            flow: self.id,
            name: self.name.clone(),
            context,
            nodes: spec.traced_nodes(&streams),
            streams,
        }));
        if let Err(e) = FlowDriver::validate(&spec.graph) {
            return Err(HostError::flow(self.id, &e, None));
        }
        self.transition(FlowState::Validated)?;
        let driver = FlowDriver::start(&self.engine, spec.graph, spec.settings)
            .map_err(|e| HostError::flow(self.id, &e, None))?;
        self.driver = Some(driver);
        self.applied_level = Some(level);
        self.trace_marker(TraceBatchKind::Started {
            at_unix_ns: unix_now_ns(),
        });
        self.transition(FlowState::Instantiated)?;
        self.transition(FlowState::Running)?;
        if spec.start_suspended {
            self.transition(FlowState::Suspended)?;
        }
        Ok(())
    }

    /// Yields the arbiter, then runs the next batch (unless one is already
    /// on its way).
    fn schedule(&mut self, ctx: &mut Context<Self>) {
        if self.scheduled {
            return;
        }
        self.scheduled = true;
        // WARM PATH: one boxed future per batch, never per element.
        ctx.spawn(
            actix::fut::wrap_future::<_, Self>(tokio::task::yield_now())
                .map(|(), _act, ctx| ctx.notify(RunBatch)),
        );
    }

    fn publish_full(&mut self) {
        if let Some(report) = self.driver.as_ref().and_then(FlowDriver::report) {
            self.counters.publish(&report);
            self.last_full_publish = Instant::now();
        }
    }

    /// Ends the flow: terminal state, final counters, event flush, tell the
    /// FlowSupervisor, stop.
    fn finish(&mut self, ctx: &mut Context<Self>, outcome: Result<FlowReport, HostError>) {
        let outcome = match outcome {
            Ok(report) => {
                self.counters.publish(&report);
                let draining = if self.state == FlowState::Draining {
                    Ok(())
                } else {
                    self.transition(FlowState::Draining)
                };
                let done = draining.and_then(|()| self.transition(FlowState::Completed));
                match done {
                    Ok(()) => Ok(report),
                    Err(e) => Err(e),
                }
            }
            Err(e) => {
                if let HostError::Flow {
                    diagnostic, report, ..
                } = &e
                {
                    if let Some(report) = report {
                        self.counters.publish(report);
                    }
                    self.failure = Some(diagnostic.clone());
                }
                if let Err(invalid) = self.transition(FlowState::Failed) {
                    tracing::error!(flow = %self.id, error = %invalid, "flow failed in a terminal state");
                }
                Err(e)
            }
        };
        self.ship_traces(NextRecords::Finishing);
        self.trace_marker(TraceBatchKind::Ended {
            at_unix_ns: unix_now_ns(),
            error: self
                .failure
                .as_ref()
                .map(|d| format!("{}: {}", d.code, d.message)),
        });
        self.final_report = match &outcome {
            Ok(report) => Some(report.clone()),
            Err(HostError::Flow { report, .. }) => report.as_deref().cloned(),
            Err(_) => None,
        };
        self.driver = None;
        self.flush_events();
        let live_buffers = self
            .final_report
            .as_ref()
            .map_or(0, |r| r.live_buffers.max(r.leaked_buffers));
        let pool_buffers_held = self
            .final_report
            .as_ref()
            .map_or(0, |r| r.pool_buffers_held);
        self.exits.do_send(FlowExited {
            id: self.id,
            arbiter: self.arbiter,
            live_buffers,
            pool_buffers_held,
            cancelled: self
                .failure
                .as_ref()
                .is_some_and(|d| d.code == ErrorCode::FlowCancelled),
            inspection: self.inspection(),
            outcome,
        });
        ctx.stop();
    }

    /// This actor drives run `run` of its flow (1-based).
    pub(crate) fn on_run(mut self, run: u64) -> Self {
        self.run = run;
        self
    }

    fn inspection(&self) -> FlowInspection {
        FlowInspection {
            id: self.id,
            run: self.run,
            name: self.name.clone(),
            state: self.state,
            priority: self.priority,
            arbiter: self.arbiter,
            counters: self.counters.snapshot(),
            report: self
                .driver
                .as_ref()
                .and_then(FlowDriver::report)
                .or_else(|| self.final_report.clone()),
            queue_depths: self.driver.as_ref().and_then(FlowDriver::queue_depths),
            failure: self.failure.clone(),
        }
    }
}

impl FlowActor {
    /// Takes the first pending actor fault matching `wanted`.
    fn take_actor_fault(&mut self, wanted: impl Fn(ActorFault) -> bool) -> bool {
        match self.actor_faults.iter().position(|&f| wanted(f)) {
            Some(i) => {
                self.actor_faults.remove(i);
                true
            }
            None => false,
        }
    }

    /// Injected control-message faults: `true` when this message is to be
    /// dropped; a delay is served here (blocking the arbiter, as a slow
    /// handler would).
    fn control_fault(&mut self) -> bool {
        if self.take_actor_fault(|f| f == ActorFault::DropNextControl) {
            return true;
        }
        let delay = self.actor_faults.iter().find_map(|f| match f {
            ActorFault::DelayNextControl(d) => Some(*d),
            _ => None,
        });
        if let Some(delay) = delay {
            self.take_actor_fault(|f| matches!(f, ActorFault::DelayNextControl(_)));
            std::thread::sleep(delay);
        }
        false
    }
}

impl Handler<InjectFault> for FlowActor {
    type Result = Result<FlowState, HostError>;

    fn handle(&mut self, InjectFault(fault): InjectFault, _: &mut Context<Self>) -> Self::Result {
        if let Some(driver) = self.driver.as_mut() {
            driver
                .inject_fault(fault)
                .map_err(|e| HostError::flow(self.id, &e, None))?;
        }
        Ok(self.state)
    }
}

impl Handler<InjectActorFault> for FlowActor {
    type Result = Result<FlowState, HostError>;

    fn handle(
        &mut self,
        InjectActorFault(fault): InjectActorFault,
        _: &mut Context<Self>,
    ) -> Self::Result {
        self.actor_faults.push(fault);
        Ok(self.state)
    }
}

impl Actor for FlowActor {
    type Context = Context<Self>;

    /// Runs on the flow's arbiter: the flow's stores are created here.
    fn started(&mut self, ctx: &mut Context<Self>) {
        match self.bring_up() {
            Ok(()) => {
                self.flush_events();
                if self.state == FlowState::Running {
                    self.schedule(ctx);
                }
            }
            Err(e) => self.finish(ctx, Err(e)),
        }
    }
}

impl Handler<RunBatch> for FlowActor {
    type Result = ();

    // HOT PATH (per batch): the driver's batch, then nothing more at the
    // `off` level, or one atomic publish and a full report (which
    // allocates) at most every 5 ms otherwise.
    fn handle(&mut self, _: RunBatch, ctx: &mut Context<Self>) {
        self.scheduled = false;
        if !matches!(self.state, FlowState::Running | FlowState::Draining) {
            return;
        }
        let panic_now = self.take_actor_fault(|f| f == ActorFault::PanicInNextBatch);
        self.apply_level();
        let Some(driver) = self.driver.as_mut() else {
            return;
        };
        let turn = self.fair_share.next_turn(self.batch_elements, self.quantum);
        // A panic in the batch (a host bug, or an injected one) fails this
        // flow only: the arbiter, its other flows and the host carry on.
        let batch = catch_unwind(AssertUnwindSafe(|| {
            if panic_now {
                panic!("injected panic in the FlowActor's batch handler");
            }
            driver.run_batch(turn.elements, turn.quantum)
        }));
        let batch = match batch {
            Ok(Ok((outcome, ran))) => {
                self.fair_share.charge(ran, self.batch_elements);
                if outcome != BatchOutcome::More {
                    // Rate-limited or done: no longer competing for turns.
                    self.fair_share.leave();
                }
                Ok(outcome)
            }
            Ok(Err(e)) => {
                self.fair_share.leave();
                Err(e)
            }
            Err(panic) => {
                self.fair_share.leave();
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-string panic".into());
                tracing::error!(flow = %self.id, %message, "the flow's batch panicked; failing the flow");
                let report = driver.report();
                // The flow's state may be torn: drop it without running
                // anything more in it (a panic in its drop is contained too).
                let driver = self.driver.take();
                let _ = catch_unwind(AssertUnwindSafe(move || drop(driver)));
                let error = FlowError::HostPanic {
                    flow: self.name.clone(),
                    message,
                };
                let error = HostError::flow(self.id, &error, report);
                self.finish(ctx, Err(error));
                return;
            }
        };
        self.forward_reactor_events();
        if matches!(batch, Ok(BatchOutcome::More | BatchOutcome::Wait(_))) {
            self.ship_traces_when_due();
        } else {
            self.ship_traces(NextRecords::Finishing);
        }
        let Some(driver) = self.driver.as_mut() else {
            return;
        };
        match batch {
            Ok(BatchOutcome::More) => {
                // The observability level: one relaxed load per batch.
                if self.events.level().get() != ObservabilityLevel::Off {
                    self.counters.publish_batch(driver.delivered());
                    if self.last_full_publish.elapsed() >= FULL_PUBLISH_EVERY {
                        self.publish_full();
                    }
                }
                self.schedule(ctx);
            }
            Ok(BatchOutcome::Wait(wait)) => {
                if self.events.level().get() != ObservabilityLevel::Off {
                    self.counters.publish_batch(driver.delivered());
                }
                // Rate-limited: come back when the next element may go;
                // control messages are served meanwhile.
                ctx.run_later(wait, |_act, ctx| ctx.notify(RunBatch));
            }
            Ok(BatchOutcome::Finished) => match driver.report() {
                Some(report) => self.finish(ctx, Ok(report)),
                None => {
                    let error = HostError::HostStopped;
                    self.finish(ctx, Err(error));
                }
            },
            Err(e) => {
                let report = driver.report();
                let error = HostError::flow(self.id, &e, report);
                self.finish(ctx, Err(error));
            }
        }
    }
}

impl Handler<Pause> for FlowActor {
    type Result = Result<FlowState, HostError>;

    fn handle(&mut self, _: Pause, _: &mut Context<Self>) -> Self::Result {
        if self.control_fault() {
            return Ok(self.state);
        }
        if self.state != FlowState::Suspended {
            self.transition(FlowState::Suspended)?;
            self.fair_share.leave();
            // A suspended flow keeps no free buffers: its cache goes back
            // to the shared pools (it refills on resume).
            if let Some(driver) = self.driver.as_mut() {
                driver.trim_buffers();
            }
            self.publish_full();
            self.flush_events();
        }
        Ok(self.state)
    }
}

impl Handler<Drain> for FlowActor {
    type Result = Result<FlowState, HostError>;

    fn handle(&mut self, _: Drain, ctx: &mut Context<Self>) -> Self::Result {
        if self.control_fault() {
            return Ok(self.state);
        }
        if matches!(self.state, FlowState::Running | FlowState::Suspended) {
            if let Some(driver) = self.driver.as_mut() {
                if let Err(e) = driver.drain() {
                    let error = HostError::flow(self.id, &e, None);
                    self.finish(ctx, Err(error.clone()));
                    return Err(error);
                }
            }
            if self.state == FlowState::Suspended {
                self.transition(FlowState::Running)?;
            }
            self.transition(FlowState::Draining)?;
            self.flush_events();
            self.schedule(ctx);
        }
        Ok(self.state)
    }
}

impl Handler<Resume> for FlowActor {
    type Result = Result<FlowState, HostError>;

    fn handle(&mut self, _: Resume, ctx: &mut Context<Self>) -> Self::Result {
        if self.control_fault() {
            return Ok(self.state);
        }
        if self.state != FlowState::Running {
            self.transition(FlowState::Running)?;
            self.flush_events();
            self.schedule(ctx);
        }
        Ok(self.state)
    }
}

impl Handler<Cancel> for FlowActor {
    type Result = ();

    fn handle(&mut self, _: Cancel, ctx: &mut Context<Self>) {
        if self.state.is_terminal() {
            return;
        }
        self.ship_traces(NextRecords::Finishing);
        let report = self.driver.take().and_then(FlowDriver::cancel);
        let cancelled = Cancelled {
            flow: self.name.clone(),
        };
        let error = HostError::flow(self.id, &cancelled, report);
        self.finish(ctx, Err(error));
    }
}

impl Handler<Inspect> for FlowActor {
    type Result = MessageResult<Inspect>;

    fn handle(&mut self, _: Inspect, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.inspection())
    }
}

impl Handler<SetPriority> for FlowActor {
    type Result = ();

    fn handle(&mut self, SetPriority(priority): SetPriority, _: &mut Context<Self>) {
        self.priority = priority;
        self.batch_elements = super::BatchPolicy {
            elements: None,
            quantum: self.quantum,
        }
        .elements_for(priority);
    }
}

/// Now, in ns since the Unix epoch.
fn unix_now_ns() -> u64 {
    SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
