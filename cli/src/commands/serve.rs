//! `torvyn serve`: the supervised long-lived host. Runs every flow of one
//! or more manifests (or the named ones) under one [`TorvynHost`] until a
//! signal stops it:
//!
//! - a flow that fails is started again or left failed by its
//!   FlowSupervisor, as the flow's `[flow.<name>.supervision] flow_*` keys
//!   say (`torvyn serve` restarts on failure unless the manifest says
//!   otherwise; `--restart`, `--max-restarts` and `--restart-window`
//!   override them), while the others keep running;
//! - SIGTERM drains: every live flow's sources stop, what is in flight
//!   drains, sinks complete; whatever has not ended within the drain
//!   timeout is cancelled and reported; exit 0. SIGINT does the same and
//!   exits 130. A second signal during the drain cancels at once.
//!
//! Every flow start, end, restart and drain is one tracing line.

use crate::commands::host_services::{HostServices, InspectArgs};
use crate::commands::prepare::{host_failure, load_project, pipeline, validation, Failure};
use crate::output::Output;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};
use torvyn_actors::observability::FlowMetrics;
use torvyn_actors::{FlowId, HostError, TorvynHandle, TorvynHost};
use torvyn_runtime::assembly::{plan_flow, FlowPlan, Project};
use torvyn_runtime::config::parse_duration;
use torvyn_runtime::error::Coded;
use torvyn_runtime::reactor::supervision::{FlowRestart, FlowRestartPolicy};
use torvyn_runtime::reactor::FlowReport;

/// What happens to a flow that fails (`--restart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RestartPolicy {
    /// Leave it failed.
    Never,
    /// Start it again from its plan, within the restart intensity.
    OnFailure,
}

/// `torvyn serve` arguments.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Torvyn.toml to serve; repeat for several (default: ./Torvyn.toml).
    #[arg(long = "manifest", value_name = "PATH")]
    manifests: Vec<PathBuf>,
    /// Serve only this flow; repeat for several (default: every flow).
    #[arg(long = "flow", value_name = "NAME")]
    flows: Vec<String>,
    /// What happens to a flow that fails (default: the flow's
    /// `flow_restart`, else on-failure).
    #[arg(long, value_enum)]
    restart: Option<RestartPolicy>,
    /// Restarts allowed per flow within --restart-window; beyond it the
    /// flow is left failed (default: the flow's `flow_max_restarts`, 3).
    #[arg(long, value_name = "N")]
    max_restarts: Option<u32>,
    /// The window of --max-restarts, e.g. 60s, 5m (default: the flow's
    /// `flow_restart_window_ms`, 60s).
    #[arg(long, value_name = "DURATION")]
    restart_window: Option<String>,
    /// How long a signal waits for flows to drain before cancelling them.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    drain_timeout: String,
    /// Log one status line per live flow (state, elements delivered) this
    /// often; 0s = never.
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    status_interval: String,
    /// Override a configuration value in every manifest (e.g.
    /// runtime.max_invocation_time_ms=100).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    #[command(flatten)]
    inspection: InspectArgs,
}

impl ServeArgs {
    /// The flow's restart policy with this command's overrides; a flow
    /// that sets no policy is restarted on failure.
    fn restart_of(&self, planned: FlowRestart, window: Option<Duration>) -> FlowRestart {
        let mut restart = planned;
        restart.policy = Some(match self.restart {
            Some(RestartPolicy::Never) => FlowRestartPolicy::Never,
            Some(RestartPolicy::OnFailure) => FlowRestartPolicy::OnFailure,
            None => planned.policy_or(FlowRestartPolicy::OnFailure),
        });
        if let Some(max) = self.max_restarts {
            restart.intensity.max_restarts = max;
        }
        if let Some(window) = window {
            restart.intensity.window = window;
        }
        restart
    }
}

/// Exit code after SIGINT (128 + 2, as shells report it).
const INTERRUPTED: u8 = 130;

pub fn run(args: ServeArgs, out: &Output) -> u8 {
    match serve(args, out) {
        Ok(code) => code,
        Err(failure) => failure.report(out, "serve"),
    }
}

/// One served flow.
struct Slot {
    /// `name`, or `manifest#name` when several manifests are served.
    label: String,
    /// Whether its FlowSupervisor restarts it (and logs its runs).
    supervised: bool,
    /// The flow, while it has not ended.
    id: Option<FlowId>,
}

enum Event {
    Signal(i32),
    /// A live flow refused to drain (not running yet, or ending): cancelled.
    DrainRefused {
        slot: usize,
        error: HostError,
    },
    Ended {
        slot: usize,
        result: Result<FlowReport, HostError>,
    },
}

/// Every flow to serve, planned: the first project (whose `[runtime]`
/// and `[observability]` the host takes), the engine, and each flow's
/// label and plan.
struct Planned {
    first: Project,
    engine: torvyn_runtime::engine::WasmEngine,
    plans: Vec<(String, FlowPlan)>,
}

fn plan_all(args: &ServeArgs, out: &Output) -> Result<Planned, Failure> {
    let window = args
        .restart_window
        .as_deref()
        .map(parse_duration)
        .transpose()
        .map_err(validation)?;
    let paths = if args.manifests.is_empty() {
        vec![PathBuf::from("Torvyn.toml")]
    } else {
        args.manifests.clone()
    };
    let several = paths.len() > 1;
    let mut projects = Vec::new();
    for path in &paths {
        projects.push(load_project(path, args.overrides.clone())?);
    }
    // One engine and host for everything: the first manifest's [runtime].
    let engine = projects[0].engine(Default::default()).map_err(validation)?;
    let wanted: Vec<&str> = args
        .flows
        .iter()
        .map(|f| f.strip_prefix("flow.").unwrap_or(f))
        .collect();
    let mut found = vec![false; wanted.len()];
    let mut plans = Vec::new();
    for project in &projects {
        let names: Vec<String> = if wanted.is_empty() {
            // `flow(None)` reports a manifest without flows.
            project.flow(None).map_err(validation)?;
            project.flow_names().map(str::to_string).collect()
        } else {
            let mut names = Vec::new();
            for (i, name) in wanted.iter().enumerate() {
                if project.manifest().flows.contains_key(*name) {
                    found[i] = true;
                    names.push(name.to_string());
                }
            }
            names
        };
        for name in names {
            out.status(&format!(
                "Loading flow '{name}' from {}",
                project.path().display()
            ));
            let plan = plan_flow(project, Some(&name), &engine, out).map_err(validation)?;
            let restart = args.restart_of(plan.restart(), window);
            let label = if several {
                format!("{}#{name}", project.path().display())
            } else {
                name
            };
            plans.push((label, plan.with_restart(restart)));
        }
    }
    // A --flow no manifest defines: let the first manifest name the error.
    if let Some(missing) = found.iter().position(|f| !f) {
        projects[0]
            .flow(Some(wanted[missing]))
            .map_err(validation)?;
    }
    let first = projects.swap_remove(0);
    Ok(Planned {
        first,
        engine,
        plans,
    })
}

fn serve(args: ServeArgs, out: &Output) -> Result<u8, Failure> {
    let drain_timeout = parse_duration(&args.drain_timeout).map_err(validation)?;
    let status_interval = parse_duration(&args.status_interval).map_err(validation)?;
    let Planned {
        first,
        engine,
        plans,
    } = plan_all(&args, out)?;
    let host = TorvynHost::builder()
        .project(&first)
        .engine(engine)
        .build()
        .map_err(host_failure)?;
    let observability = &first.manifest().observability;
    let services = HostServices::start(args.inspection, observability, &host, true, out)?;

    let (tx, rx) = mpsc::channel();
    let mut signals = Signals::new([SIGTERM, SIGINT]).map_err(|e| {
        pipeline(HostError::Startup(format!(
            "cannot install signal handlers: {e}"
        )))
    })?;
    let signal_handle = signals.handle();
    let signal_tx = tx.clone();
    let signal_thread = std::thread::spawn(move || {
        for signal in signals.forever() {
            if signal_tx.send(Event::Signal(signal)).is_err() {
                break;
            }
        }
    });

    out.status(&format!(
        "Serving {} flow(s); SIGTERM drains, SIGINT interrupts",
        plans.len()
    ));
    let mut slots = Vec::new();
    for (index, (label, plan)) in plans.into_iter().enumerate() {
        slots.push(start(&host, index, label, plan, &tx));
    }
    let mut next_status = Instant::now() + status_interval;
    let signal = loop {
        let event = if status_interval.is_zero() {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(next_status.saturating_duration_since(Instant::now()))
        };
        match event {
            Ok(Event::Signal(signal)) => break signal,
            Ok(Event::Ended { slot, result }) => ended(&mut slots[slot], result),
            // Only sent while draining.
            Ok(Event::DrainRefused { .. }) => {}
            Err(RecvTimeoutError::Timeout) => {
                log_status(&host, &slots);
                next_status = Instant::now() + status_interval;
            }
            // Cannot happen while `tx` lives; stop as if terminated.
            Err(RecvTimeoutError::Disconnected) => break SIGTERM,
        }
    };

    let killed = drain(&host, &mut slots, &rx, &tx, signal, drain_timeout);
    // The server holds a handle: stop it first, then the host.
    services.stop();
    host.shutdown();
    signal_handle.close();
    let _ = signal_thread.join();
    if killed.is_empty() {
        tracing::info!("every flow drained; the host stopped");
    } else {
        tracing::warn!(killed = %killed.join(", "), "cancelled flows that did not drain in time");
    }
    Ok(if signal == SIGINT { INTERRUPTED } else { 0 })
}

/// One line per live flow: its state and elements delivered so far (read
/// from the flows' counters, so a flow busy in a guest call does not delay it).
fn log_status(host: &TorvynHandle, slots: &[Slot]) {
    let Ok(metrics) = host.metrics() else { return };
    for slot in slots {
        let Some(id) = slot.id else { continue };
        if let Some(m) = FlowMetrics::of(&metrics, id) {
            tracing::info!(
                flow = %slot.label,
                state = ?m.state,
                delivered = m.counters.elements_delivered,
                "flow status"
            );
        }
    }
}

/// Starts a flow under its FlowSupervisor and a thread that reports its
/// final end (after any restarts).
fn start(
    host: &TorvynHandle,
    index: usize,
    label: String,
    plan: FlowPlan,
    tx: &mpsc::Sender<Event>,
) -> Slot {
    let supervised = plan.restart().policy == Some(FlowRestartPolicy::OnFailure);
    let result = host.start_plan(plan);
    let mut slot = Slot {
        label,
        supervised,
        id: None,
    };
    match result {
        Ok(id) => {
            slot.id = Some(id);
            if !supervised {
                // A supervised flow's FlowSupervisor logs each run's start.
                tracing::info!(flow = %slot.label, id = %id, "flow started");
            }
            let host = host.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                let result = host.await_completion(id);
                let _ = tx.send(Event::Ended {
                    slot: index,
                    result,
                });
            });
        }
        Err(error) => {
            let _ = tx.send(Event::Ended {
                slot: index,
                result: Err(error),
            });
        }
    }
    slot
}

/// A flow's final end while serving (its FlowSupervisor restarts it
/// before that, as its policy says).
fn ended(slot: &mut Slot, result: Result<FlowReport, HostError>) {
    slot.id = None;
    match result {
        Ok(report) => {
            tracing::info!(flow = %slot.label, delivered = report.elements_delivered, "flow completed");
        }
        // Its FlowSupervisor logged the failure and why it gave up.
        Err(_) if slot.supervised => {}
        Err(error) => {
            tracing::warn!(flow = %slot.label, code = %error.code(), error = %error, "flow failed");
            tracing::error!(flow = %slot.label, "flow left failed (restart policy: never)");
        }
    }
}

/// Drains every live flow, waits up to `timeout`, cancels the rest; the
/// labels of the flows it had to cancel. The drain and cancel requests are
/// sent from their own threads: a flow busy in a guest call answers only
/// when the call returns (at the latest at its epoch deadline), and the
/// wait must stay bounded.
fn drain(
    host: &TorvynHandle,
    slots: &mut [Slot],
    rx: &mpsc::Receiver<Event>,
    tx: &mpsc::Sender<Event>,
    signal: i32,
    timeout: Duration,
) -> Vec<String> {
    let name = if signal == SIGINT {
        "SIGINT"
    } else {
        "SIGTERM"
    };
    let live = slots.iter().filter(|s| s.id.is_some()).count();
    tracing::info!(signal = %name, flows = live, "draining");
    let mut killed = Vec::new();
    for (index, slot) in slots.iter().enumerate() {
        let Some(id) = slot.id else { continue };
        tracing::info!(flow = %slot.label, "flow draining");
        let (host, tx) = (host.clone(), tx.clone());
        std::thread::spawn(move || {
            if let Err(error) = host.drain(id) {
                let _ = host.cancel(id);
                let _ = tx.send(Event::DrainRefused { slot: index, error });
            }
        });
    }
    let mut deadline = Instant::now() + timeout;
    let mut cancelled = false;
    while slots.iter().any(|s| s.id.is_some()) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::DrainRefused { slot, error }) => {
                let slot = &slots[slot];
                if slot.id.is_some() && !killed.contains(&slot.label) {
                    tracing::warn!(flow = %slot.label, error = %error, "flow cannot drain; cancelled");
                    killed.push(slot.label.clone());
                }
            }
            Ok(Event::Ended { slot, result }) => {
                let slot = &mut slots[slot];
                slot.id = None;
                match result {
                    Ok(report) => tracing::info!(
                        flow = %slot.label,
                        delivered = report.elements_delivered,
                        "flow drained"
                    ),
                    Err(error) => tracing::warn!(
                        flow = %slot.label,
                        code = %error.code(),
                        error = %error,
                        "flow ended while draining"
                    ),
                }
            }
            // Past the deadline or a second signal: cancel what is left,
            // then wait (a call in progress ends at its epoch deadline).
            Ok(Event::Signal(_)) | Err(RecvTimeoutError::Timeout) if !cancelled => {
                cancelled = true;
                // Cancelled flows get one more timeout to end.
                deadline = Instant::now() + timeout;
                for slot in slots.iter().filter(|s| s.id.is_some()) {
                    tracing::warn!(flow = %slot.label, "flow did not drain in time; cancelling");
                    if let Some(id) = slot.id {
                        let host = host.clone();
                        std::thread::spawn(move || host.cancel(id));
                    }
                    if !killed.contains(&slot.label) {
                        killed.push(slot.label.clone());
                    }
                }
            }
            Ok(Event::Signal(_)) => {}
            Err(RecvTimeoutError::Timeout) => {
                // Even cancelling did not end them within the timeout: the
                // host's shutdown stops them (a guest call in progress
                // ends at its epoch deadline).
                break;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    killed
}
