//! The root [`Supervisor`]: starts each flow under its own
//! [`FlowSupervisor`] on a worker arbiter, routes control requests to the
//! flow's current run, records how each flow ended (what its
//! FlowSupervisor escalates) and wakes whoever awaits it.

pub mod messages;
mod replicas;

pub(crate) use replicas::combined_state;

use crate::counters::FlowCounters;
use crate::error::HostError;
use crate::events::EventPublisher;
use crate::flow::messages::{
    Cancel, Drain, InjectActorFault, InjectFault, Inspect, Pause, Resume, SetPriority,
};
use crate::flow::{FlowActor, FlowInspection, FlowSpec};
use crate::flow_supervisor::messages::{LastInspection, RunRestarting, RunStarted, StopRestarting};
use crate::flow_supervisor::{FlowSupervisor, FlowSupervisorSetup};
use crate::ids::{FlowId, ReplicaOf};
use crate::observability::messages::{FlowHistogramLabels, RegisterFlow, RetireFlow, Subscribe};
use crate::observability::ObservabilityActor;
use crate::resource::messages::{FlowTeardown, Reserve};
use crate::resource::ResourceActor;
use crate::state::{FlowState, InvalidTransition};
use actix::prelude::*;
use messages::*;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use torvyn_runtime::engine::WasmEngine;
use torvyn_runtime::reactor::FlowHistograms;

/// The run of a flow that is going on now.
struct Run {
    addr: Addr<FlowActor>,
    /// Interrupts the run's guest call (tiered cancellation).
    interrupt: Arc<AtomicBool>,
}

enum FlowRecord {
    Live {
        supervisor: Addr<FlowSupervisor>,
        /// `None` while a restart waits.
        run: Option<Run>,
        /// The last failed run's inspection, while a restart waits.
        restarting: Option<Box<FlowInspection>>,
        waiters: Vec<oneshot::Sender<FlowOutcome>>,
    },
    Finished {
        outcome: Box<FlowOutcome>,
        inspection: Box<FlowInspection>,
    },
}

/// The root of the actor tree.
pub struct Supervisor {
    engine: WasmEngine,
    arbiters: Vec<ArbiterHandle>,
    load: Vec<usize>,
    cursor: usize,
    next_id: u64,
    flows: HashMap<FlowId, FlowRecord>,
    /// Finished flows, oldest first: past `outcomes_retained`, the oldest
    /// record is forgotten (a long-lived host stays bounded).
    finished: VecDeque<FlowId>,
    outcomes_retained: usize,
    resource: Addr<ResourceActor>,
    observability: Addr<ObservabilityActor>,
    events: EventPublisher,
    cancel: CancelBounds,
    /// Replicated flows while any of their replicas runs, by parent id.
    groups: HashMap<FlowId, replicas::Group>,
    /// Which replicated flow each replica belongs to.
    replica_parent: HashMap<FlowId, ReplicaOf>,
}

/// Tiered cancellation: how long a cancelled flow may finish its current
/// guest call before the call is interrupted through the epoch, and how
/// long the supervisor then waits before it stops waiting for the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelBounds {
    /// Tier 1: the current call may finish (default 100 ms).
    pub grace: Duration,
    /// Tier 2: after the interrupt, the flow has this long to stop
    /// (default 5 s); beyond it the cancel returns and the instance is
    /// dropped whenever its thread comes back.
    pub interrupt_timeout: Duration,
}

impl Default for CancelBounds {
    fn default() -> Self {
        Self {
            grace: Duration::from_millis(100),
            interrupt_timeout: Duration::from_secs(5),
        }
    }
}

impl Supervisor {
    pub(crate) fn new(
        engine: WasmEngine,
        arbiters: Vec<ArbiterHandle>,
        resource: Addr<ResourceActor>,
        observability: Addr<ObservabilityActor>,
        events: EventPublisher,
        cancel: CancelBounds,
        outcomes_retained: usize,
    ) -> Self {
        let load = vec![0; arbiters.len()];
        Self {
            engine,
            arbiters,
            load,
            cursor: 0,
            next_id: 1,
            flows: HashMap::new(),
            finished: VecDeque::new(),
            outcomes_retained: outcomes_retained.max(1),
            resource,
            observability,
            events,
            cancel,
            groups: HashMap::new(),
            replica_parent: HashMap::new(),
        }
    }

    /// The least-loaded arbiter; ties go round-robin.
    fn pick_arbiter(&mut self) -> usize {
        let n = self.arbiters.len();
        let mut best = self.cursor % n;
        for k in 0..n {
            let i = (self.cursor + k) % n;
            if self.load[i] < self.load[best] {
                best = i;
            }
        }
        self.cursor = (best + 1) % n;
        best
    }

    fn spawn_flow(&mut self, id: FlowId, mut spec: FlowSpec, ctx: &mut Context<Self>) {
        let arbiter = self.pick_arbiter();
        self.load[arbiter] += 1;
        let counters = Arc::new(FlowCounters::default());
        // The catalog's histograms are the host's to give, one set per
        // flow for all its runs.
        let streams = spec.streams();
        let histograms = Arc::new(FlowHistograms::new(spec.stage_count(), streams.len()));
        spec.settings.histograms = Some(Arc::clone(&histograms));
        self.observability.do_send(RegisterFlow {
            id,
            name: spec.settings.flow_name.clone(),
            counters: Arc::clone(&counters),
            histograms: Some(FlowHistogramLabels {
                histograms,
                components: spec.stages().iter().map(|s| s.name.clone()).collect(),
                streams: streams.into_iter().map(|s| s.name).collect(),
            }),
            replica: self.replica_parent.get(&id).copied(),
        });
        let (supervisor, first) = FlowSupervisor::start(FlowSupervisorSetup {
            id,
            spec,
            arbiter,
            arbiter_handle: self.arbiters[arbiter].clone(),
            engine: self.engine.clone(),
            counters,
            events: self.events.clone(),
            root: ctx.address(),
        });
        self.flows.insert(
            id,
            FlowRecord::Live {
                supervisor,
                run: Some(Run {
                    addr: first.addr,
                    interrupt: first.interrupt,
                }),
                restarting: None,
                waiters: Vec::new(),
            },
        );
    }

    /// The answer for a flow whose actor is gone by the time a request
    /// reached it.
    fn gone(&self, id: FlowId, wanted: FlowState) -> HostError {
        match self.flows.get(&id) {
            Some(FlowRecord::Finished { inspection, .. }) => InvalidTransition {
                from: inspection.state,
                to: wanted,
            }
            .into(),
            Some(FlowRecord::Live {
                restarting: Some(inspection),
                ..
            }) => InvalidTransition {
                from: inspection.state,
                to: wanted,
            }
            .into(),
            Some(FlowRecord::Live { .. }) => HostError::HostStopped,
            None => HostError::UnknownFlow(id),
        }
    }

    /// The flow's current run, or its record when it has none (ended, or
    /// waiting to restart).
    fn live(&self, id: FlowId) -> Result<Result<Addr<FlowActor>, &FlowRecord>, HostError> {
        match self.flows.get(&id) {
            None => Err(HostError::UnknownFlow(id)),
            Some(FlowRecord::Live { run: Some(run), .. }) => Ok(Ok(run.addr.clone())),
            Some(other) => Ok(Err(other)),
        }
    }

    /// Keeps the outcome of finished flow `id`, forgetting the oldest
    /// finished flows beyond `outcomes_retained`.
    fn remember_finished(&mut self, id: FlowId) {
        self.finished.push_back(id);
        while self.finished.len() > self.outcomes_retained {
            if let Some(oldest) = self.finished.pop_front() {
                self.flows.remove(&oldest);
            }
        }
    }

    /// A state-changing request on a replicated flow: sent to each
    /// replica; the answer is the first replica's that took it (a replica
    /// that already ended refuses), else the first refusal.
    fn fan_out<M>(
        &self,
        replicas: Vec<FlowId>,
        make: impl Fn(FlowId) -> M + 'static,
        ctx: &Context<Self>,
    ) -> ResponseActFuture<Self, Result<FlowState, HostError>>
    where
        M: Message<Result = Result<FlowState, HostError>> + Send + 'static,
        Self: Handler<M>,
    {
        let me = ctx.address();
        Box::pin(
            async move {
                let mut answer: Option<Result<FlowState, HostError>> = None;
                for replica in replicas {
                    let reply = me
                        .send(make(replica))
                        .await
                        .map_err(|_| HostError::HostStopped)
                        .and_then(|r| r);
                    answer = match (answer, reply) {
                        (Some(Ok(state)), _) => Some(Ok(state)),
                        (_, Ok(state)) => Some(Ok(state)),
                        (None, Err(e)) => Some(Err(e)),
                        (refused, Err(_)) => refused,
                    };
                }
                answer.unwrap_or(Err(HostError::HostStopped))
            }
            .into_actor(self),
        )
    }

    /// Pause or resume, for both handlers.
    fn control<M>(
        &mut self,
        id: FlowId,
        msg: M,
        wanted: FlowState,
    ) -> ResponseActFuture<Self, Result<FlowState, HostError>>
    where
        M: Message<Result = Result<FlowState, HostError>> + Send + 'static,
        FlowActor: Handler<M>,
    {
        let addr = match self.live(id) {
            Err(e) => return Box::pin(fut::ready(Err(e))),
            Ok(Err(_)) => return Box::pin(fut::ready(Err(self.gone(id, wanted)))),
            Ok(Ok(addr)) => addr,
        };
        Box::pin(
            addr.send(msg)
                .into_actor(self)
                .map(move |res, act, _| res.unwrap_or_else(|_| Err(act.gone(id, wanted)))),
        )
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;
}

/// Host buffer bytes a flow may hold at most: each stage's budget.
fn budget_of(spec: &FlowSpec) -> u64 {
    spec.settings.limits.component_budget * spec.stage_count() as u64
}

impl Handler<StartFlow> for Supervisor {
    type Result = ResponseActFuture<Self, Result<FlowId, HostError>>;

    fn handle(&mut self, StartFlow(spec): StartFlow, _: &mut Context<Self>) -> Self::Result {
        if spec.settings.replicas > 1 {
            return self.start_replicas(StartFlow(spec));
        }
        let id = FlowId::new(self.next_id);
        self.next_id += 1;
        let reserve = self.resource.send(Reserve {
            flow: id,
            bytes: budget_of(&spec),
        });
        Box::pin(reserve.into_actor(self).map(move |res, act, ctx| {
            let pool = res.map_err(|_| HostError::HostStopped)??;
            let mut spec = spec;
            spec.settings.shared_pool = Some(pool);
            act.spawn_flow(id, spec, ctx);
            Ok(id)
        }))
    }
}

impl Handler<PauseFlow> for Supervisor {
    type Result = ResponseActFuture<Self, Result<FlowState, HostError>>;

    fn handle(&mut self, PauseFlow(id): PauseFlow, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(replicas) = self.replicas_of(id) {
            return self.fan_out(replicas, PauseFlow, ctx);
        }
        self.control(id, Pause, FlowState::Suspended)
    }
}

impl Handler<InjectFlowFault> for Supervisor {
    type Result = ResponseActFuture<Self, Result<FlowState, HostError>>;

    fn handle(&mut self, msg: InjectFlowFault, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(replicas) = self.replicas_of(msg.0) {
            let fault = msg.1;
            return self.fan_out(replicas, move |r| InjectFlowFault(r, fault.clone()), ctx);
        }
        self.control(msg.0, InjectFault(msg.1), FlowState::Running)
    }
}

impl Handler<InjectFlowActorFault> for Supervisor {
    type Result = ResponseActFuture<Self, Result<FlowState, HostError>>;

    fn handle(&mut self, msg: InjectFlowActorFault, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(replicas) = self.replicas_of(msg.0) {
            let fault = msg.1;
            return self.fan_out(replicas, move |r| InjectFlowActorFault(r, fault), ctx);
        }
        self.control(msg.0, InjectActorFault(msg.1), FlowState::Running)
    }
}

impl Handler<DrainFlow> for Supervisor {
    type Result = ResponseActFuture<Self, Result<FlowState, HostError>>;

    fn handle(&mut self, DrainFlow(id): DrainFlow, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(replicas) = self.replicas_of(id) {
            return self.fan_out(replicas, DrainFlow, ctx);
        }
        // A flow stopping on request is not started again.
        if let Some(FlowRecord::Live { supervisor, .. }) = self.flows.get(&id) {
            supervisor.do_send(StopRestarting);
        }
        self.control(id, Drain, FlowState::Draining)
    }
}

impl Handler<ResumeFlow> for Supervisor {
    type Result = ResponseActFuture<Self, Result<FlowState, HostError>>;

    fn handle(&mut self, ResumeFlow(id): ResumeFlow, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(replicas) = self.replicas_of(id) {
            return self.fan_out(replicas, ResumeFlow, ctx);
        }
        self.control(id, Resume, FlowState::Running)
    }
}

impl Handler<CancelFlow> for Supervisor {
    type Result = ResponseFuture<Result<(), HostError>>;

    /// Tiered: the flow handles `Cancel` between batches (its current
    /// guest call finishes); if it has not within the grace period, its
    /// running call is interrupted through the epoch; if it still has not
    /// answered within the interrupt timeout, the cancel returns anyway.
    fn handle(&mut self, CancelFlow(id): CancelFlow, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(replicas) = self.replicas_of(id) {
            // Every replica at once, each with its own tiered bounds.
            let cancels: Vec<_> = replicas
                .into_iter()
                .map(|r| ctx.address().send(CancelFlow(r)))
                .collect();
            return Box::pin(async move {
                for cancel in cancels {
                    cancel.await.map_err(|_| HostError::HostStopped)??;
                }
                Ok(())
            });
        }
        let live = match self.flows.get(&id) {
            None => Err(HostError::UnknownFlow(id)),
            Some(FlowRecord::Live {
                supervisor, run, ..
            }) => {
                // A cancelled flow is not started again.
                supervisor.do_send(StopRestarting);
                Ok(run
                    .as_ref()
                    .map(|run| (run.addr.clone(), Arc::clone(&run.interrupt))))
            }
            Some(_) => Ok(None),
        };
        let bounds = self.cancel;
        Box::pin(async move {
            let Some((addr, interrupt)) = live? else {
                // A flow that already ended is as cancelled as it gets; one
                // waiting to restart ends with its last failure.
                return Ok(());
            };
            let mut reply = std::pin::pin!(addr.send(Cancel));
            if tokio::time::timeout(bounds.grace, reply.as_mut())
                .await
                .is_err()
            {
                tracing::warn!(flow = %id, "cancel: the current call did not finish in time; interrupting it");
                interrupt.store(true, Ordering::Relaxed);
                if tokio::time::timeout(bounds.interrupt_timeout, reply)
                    .await
                    .is_err()
                {
                    tracing::error!(flow = %id, "cancel: the flow did not stop after the interrupt; giving up waiting");
                }
            }
            Ok(())
        })
    }
}

impl Handler<SetFlowPriority> for Supervisor {
    type Result = Result<(), HostError>;

    fn handle(&mut self, msg: SetFlowPriority, _: &mut Context<Self>) -> Self::Result {
        if let Some(replicas) = self.replicas_of(msg.0) {
            for replica in replicas {
                if let Ok(Ok(addr)) = self.live(replica) {
                    addr.do_send(SetPriority(msg.1));
                }
            }
            return Ok(());
        }
        if let Ok(addr) = self.live(msg.0)? {
            addr.do_send(SetPriority(msg.1));
        }
        Ok(())
    }
}

impl Handler<InspectFlow> for Supervisor {
    type Result = ResponseActFuture<Self, Result<FlowInspection, HostError>>;

    fn handle(&mut self, InspectFlow(id): InspectFlow, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(replicas) = self.replicas_of(id) {
            return self.inspect_replicas(id, replicas, ctx);
        }
        let addr = match self.live(id) {
            Err(e) => return Box::pin(fut::ready(Err(e))),
            Ok(Err(FlowRecord::Finished { inspection, .. })) => {
                return Box::pin(fut::ready(Ok((**inspection).clone())))
            }
            Ok(Err(FlowRecord::Live {
                restarting: Some(inspection),
                ..
            })) => return Box::pin(fut::ready(Ok((**inspection).clone()))),
            Ok(Err(FlowRecord::Live { .. })) => {
                return Box::pin(fut::ready(Err(HostError::HostStopped)))
            }
            Ok(Ok(addr)) => addr,
        };
        let flow_supervisor = match self.flows.get(&id) {
            Some(FlowRecord::Live { supervisor, .. }) => Some(supervisor.clone()),
            _ => None,
        };
        Box::pin(
            async move {
                match addr.send(Inspect).await {
                    Ok(inspection) => Ok(inspection),
                    // The run ended while the request travelled: its
                    // FlowSupervisor (which got the run's exit first) has its
                    // last inspection.
                    Err(_) => match flow_supervisor {
                        Some(s) => s.send(LastInspection).await.ok().flatten(),
                        None => None,
                    }
                    .map(|inspection| *inspection)
                    .ok_or(HostError::HostStopped),
                }
            }
            .into_actor(self)
            .map(move |res, act, _| match (res, act.flows.get(&id)) {
                (Err(_), Some(FlowRecord::Finished { inspection, .. })) => {
                    Ok((**inspection).clone())
                }
                (res, _) => res,
            }),
        )
    }
}

impl Handler<AwaitFlow> for Supervisor {
    type Result = Result<oneshot::Receiver<FlowOutcome>, HostError>;

    fn handle(&mut self, AwaitFlow(id): AwaitFlow, _: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        if let Some(group) = self.groups.get_mut(&id) {
            group.waiters.push(tx);
            return Ok(rx);
        }
        match self.flows.get_mut(&id) {
            None => return Err(HostError::UnknownFlow(id)),
            Some(FlowRecord::Live { waiters, .. }) => waiters.push(tx),
            Some(FlowRecord::Finished { outcome, .. }) => {
                let _ = tx.send((**outcome).clone());
            }
        }
        Ok(rx)
    }
}

impl Handler<SubscribeFlow> for Supervisor {
    type Result = ResponseFuture<Result<kanal::Receiver<crate::events::FlowEvent>, HostError>>;

    fn handle(&mut self, SubscribeFlow(id): SubscribeFlow, _: &mut Context<Self>) -> Self::Result {
        // A replicated flow's events are its first replica's (each
        // replica's own are under its own id).
        let id = self
            .replicas_of(id)
            .and_then(|r| r.first().copied())
            .unwrap_or(id);
        if !self.flows.contains_key(&id) {
            return Box::pin(async move { Err(HostError::UnknownFlow(id)) });
        }
        // Sent after the flow's RegisterFlow, so the observability actor
        // knows it.
        let request = self.observability.send(Subscribe { id });
        Box::pin(async move { request.await.map_err(|_| HostError::HostStopped)? })
    }
}

impl Handler<ArbiterLoads> for Supervisor {
    type Result = MessageResult<ArbiterLoads>;

    fn handle(&mut self, _: ArbiterLoads, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.load.clone())
    }
}

impl Handler<RunStarted> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: RunStarted, _: &mut Context<Self>) {
        if let Some(FlowRecord::Live {
            run, restarting, ..
        }) = self.flows.get_mut(&msg.id)
        {
            *run = Some(Run {
                addr: msg.addr,
                interrupt: msg.interrupt,
            });
            *restarting = None;
        }
    }
}

impl Handler<RunRestarting> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: RunRestarting, _: &mut Context<Self>) {
        if let Some(FlowRecord::Live {
            run, restarting, ..
        }) = self.flows.get_mut(&msg.id)
        {
            *run = None;
            *restarting = Some(msg.inspection);
        }
    }
}

/// Sent by a FlowSupervisor when its flow's outcome is final.
impl Handler<FlowExited> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: FlowExited, ctx: &mut Context<Self>) {
        if let Some(load) = self.load.get_mut(msg.arbiter) {
            *load = load.saturating_sub(1);
        }
        self.resource.do_send(FlowTeardown {
            flow: msg.id,
            live_buffers: msg.live_buffers,
            pool_buffers_held: msg.pool_buffers_held,
            cancelled: msg.cancelled,
        });
        self.observability.do_send(RetireFlow {
            id: msg.id,
            inspection: msg.inspection.clone(),
        });
        self.replica_exited(&msg, ctx);
        let previous = self.flows.insert(
            msg.id,
            FlowRecord::Finished {
                outcome: Box::new(msg.outcome.clone()),
                inspection: Box::new(msg.inspection),
            },
        );
        if let Some(FlowRecord::Live { waiters, .. }) = previous {
            for waiter in waiters {
                let _ = waiter.send(msg.outcome.clone());
            }
        }
        self.remember_finished(msg.id);
    }
}

impl Handler<Shutdown> for Supervisor {
    type Result = ();

    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        for record in self.flows.values() {
            if let FlowRecord::Live {
                supervisor, run, ..
            } = record
            {
                supervisor.do_send(StopRestarting);
                if let Some(run) = run {
                    run.addr.do_send(Cancel);
                }
            }
        }
        ctx.stop();
        System::current().stop();
    }
}
