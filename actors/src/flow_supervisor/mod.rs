//! [`FlowSupervisor`]: one per flow, between the root
//! [`Supervisor`](crate::supervisor::Supervisor) and the flow's
//! [`FlowActor`]. It owns the flow's restart policy — the level above the
//! reactor's component restarts:
//!
//! ```text
//! component fails ─▶ reactor: restart it (node restart type, flow strategy,
//!                    component intensity) or fail the flow
//! flow fails ──────▶ FlowSupervisor: start the flow again from its spec
//!                    (policy on-failure, flow intensity, backoff) or escalate
//! escalation ──────▶ root Supervisor: records the outcome, wakes waiters,
//!                    tears the flow down; the host and other flows go on
//! ```
//!
//! A flow that completes, is drained or cancelled is never restarted. Both
//! levels bound restarts with the same [`RestartWindow`]. Every run of a
//! flow keeps its [`FlowId`], counters and histograms; each run is a fresh
//! FlowActor on the same worker arbiter (fresh Stores, its own trace).

pub mod messages;

use crate::counters::FlowCounters;
use crate::error::HostError;
use crate::events::EventPublisher;
use crate::flow::{FlowActor, FlowSpec};
use crate::ids::FlowId;
use crate::supervisor::messages::FlowExited;
use crate::supervisor::Supervisor;
use actix::prelude::*;
use messages::{LastInspection, RunRestarting, RunStarted, StopRestarting};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use torvyn_runtime::engine::WasmEngine;
use torvyn_runtime::error::{Coded, ErrorCode};
use torvyn_runtime::reactor::supervision::{FlowRestart, FlowRestartPolicy, RestartWindow};

/// What a FlowSupervisor needs to start runs of its flow.
pub(crate) struct FlowSupervisorSetup {
    pub id: FlowId,
    pub spec: FlowSpec,
    pub arbiter: usize,
    pub arbiter_handle: ArbiterHandle,
    pub engine: WasmEngine,
    pub counters: Arc<FlowCounters>,
    pub events: EventPublisher,
    pub root: Addr<Supervisor>,
}

/// Supervises one flow's runs.
pub struct FlowSupervisor {
    setup: FlowSupervisorSetup,
    policy: FlowRestartPolicy,
    restart: FlowRestart,
    window: RestartWindow,
    /// Runs started so far.
    runs: u64,
    /// Cancel, drain or shutdown asked: no more restarts.
    stopping: bool,
    /// A failed run's exit, held while the next run waits for its backoff.
    pending: Option<FlowExited>,
    /// The inspection of the last run that ended.
    last: Option<Box<crate::flow::FlowInspection>>,
}

/// What happens after a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The outcome is final: tell the root.
    Escalate,
    /// Start the flow again after this backoff; restart number `n` in the
    /// window.
    Restart {
        /// Restarts in the window, this one included.
        n: u32,
        /// Delay before the new run starts.
        after: std::time::Duration,
    },
    /// The policy allows restarts but the intensity is used up.
    IntensityExceeded,
}

/// Whether an outcome may be restarted at all: failures only, and not a
/// cancellation.
fn restartable(outcome: &Result<torvyn_runtime::reactor::FlowReport, HostError>) -> bool {
    match outcome {
        Ok(_) => false,
        Err(e) => e.code() != ErrorCode::FlowCancelled,
    }
}

impl FlowSupervisor {
    pub(crate) fn new(setup: FlowSupervisorSetup) -> Self {
        let restart = setup.spec.restart;
        Self {
            policy: restart.policy_or(FlowRestartPolicy::Never),
            window: RestartWindow::new(restart.intensity),
            restart,
            runs: 0,
            stopping: false,
            pending: None,
            last: None,
            setup,
        }
    }

    fn label(&self) -> &str {
        &self.setup.spec.settings.flow_name
    }

    /// The decision for a run that ended with `outcome`, recording the
    /// restart it grants.
    pub(crate) fn decide(
        &mut self,
        outcome: &Result<torvyn_runtime::reactor::FlowReport, HostError>,
    ) -> Decision {
        if self.stopping || !restartable(outcome) || self.policy == FlowRestartPolicy::Never {
            return Decision::Escalate;
        }
        if !self.window.admit(std::time::Instant::now()) {
            return Decision::IntensityExceeded;
        }
        let n = self.window.in_window();
        Decision::Restart {
            n,
            after: self.restart.delay_before(n),
        }
    }

    /// Starts the FlowSupervisor and its flow's first run; the first run
    /// is returned at once, so that the flow can be controlled from the
    /// moment it is started.
    pub(crate) fn start(setup: FlowSupervisorSetup) -> (Addr<Self>, RunStarted) {
        let mut ctx = Context::new();
        let mut supervisor = Self::new(setup);
        let first = supervisor.start_run(&mut ctx);
        (ctx.run(supervisor), first)
    }

    /// Starts one run: a fresh FlowActor on the flow's arbiter.
    fn start_run(&mut self, ctx: &mut Context<Self>) -> RunStarted {
        self.runs += 1;
        let mut spec = self.setup.spec.clone();
        // Only the first run may wait suspended: a restart runs at once.
        spec.start_suspended &= self.runs == 1;
        let interrupt = Arc::new(AtomicBool::new(false));
        spec.settings.interrupt = Some(Arc::clone(&interrupt));
        // One trace per run, unless the caller fixed the trace identity.
        if spec.settings.trace_context.is_none() {
            spec.settings.trace_context = Some(crate::trace::new_trace_context());
        }
        let (id, arbiter) = (self.setup.id, self.setup.arbiter);
        let engine = self.setup.engine.clone();
        let counters = Arc::clone(&self.setup.counters);
        let events = self.setup.events.clone();
        let exits = ctx.address().recipient();
        let run = self.runs;
        let addr = FlowActor::start_in_arbiter(&self.setup.arbiter_handle, move |_| {
            FlowActor::new(id, arbiter, spec, engine, counters, events, exits).on_run(run)
        });
        if self.policy == FlowRestartPolicy::OnFailure {
            tracing::info!(flow = %self.label(), run = self.runs, id = %id, "flow started");
        }
        RunStarted {
            id,
            addr,
            interrupt,
        }
    }

    /// The outcome is final: the root records it and drops this actor's
    /// address, which stops it (until then it still answers
    /// [`LastInspection`]).
    fn escalate(&mut self, exit: FlowExited) {
        self.setup.root.do_send(exit);
    }
}

impl Actor for FlowSupervisor {
    type Context = Context<Self>;
}

impl Handler<FlowExited> for FlowSupervisor {
    type Result = ();

    fn handle(&mut self, exit: FlowExited, ctx: &mut Context<Self>) {
        self.last = Some(Box::new(exit.inspection.clone()));
        let supervised = self.policy == FlowRestartPolicy::OnFailure;
        if let (true, Err(error)) = (supervised, &exit.outcome) {
            tracing::warn!(flow = %self.label(), code = %error.code(), error = %error, "flow failed");
        }
        match self.decide(&exit.outcome) {
            Decision::Escalate => self.escalate(exit),
            Decision::IntensityExceeded => {
                tracing::error!(flow = %self.label(), "flow left failed (restart intensity exceeded)");
                self.escalate(exit);
            }
            Decision::Restart { n, after } => {
                tracing::info!(flow = %self.label(), restart = n, "flow restarted");
                self.setup.root.do_send(RunRestarting {
                    id: self.setup.id,
                    inspection: Box::new(exit.inspection.clone()),
                });
                self.pending = Some(exit);
                ctx.run_later(after, |act, ctx| {
                    if act.pending.take().is_some() {
                        let run = act.start_run(ctx);
                        act.setup.root.do_send(run);
                    }
                });
            }
        }
    }
}

impl Handler<StopRestarting> for FlowSupervisor {
    type Result = ();

    fn handle(&mut self, _: StopRestarting, _: &mut Context<Self>) {
        self.stopping = true;
        // Waiting for a backoff: the last failure is final.
        if let Some(exit) = self.pending.take() {
            self.escalate(exit);
        }
    }
}

impl Handler<LastInspection> for FlowSupervisor {
    type Result = Option<Box<crate::flow::FlowInspection>>;

    fn handle(&mut self, _: LastInspection, _: &mut Context<Self>) -> Self::Result {
        self.last.clone()
    }
}
