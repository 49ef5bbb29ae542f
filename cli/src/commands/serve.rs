//! `torvyn serve`: the supervised long-lived host. Runs every flow of one
//! or more manifests (or the named ones) under one [`TorvynHost`] until a
//! signal stops it:
//!
//! - a flow that fails is started again from its spec or left failed, by
//!   the restart policy ([`restart`]), while the others keep running;
//! - SIGTERM drains: every live flow's sources stop, what is in flight
//!   drains, sinks complete; whatever has not ended within the drain
//!   timeout is cancelled and reported; exit 0. SIGINT does the same and
//!   exits 130. A second signal during the drain cancels at once.
//!
//! Every flow start, end, restart and drain is one tracing line.

pub mod restart;

use crate::commands::prepare::{flow_spec, pipeline, span_consumer, validation, Failure};
use crate::output::Output;
use restart::{Decision, RestartBudget, RestartPolicy};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};
use torvyn_actors::{FlowId, FlowSpec as ActorFlowSpec, HostError, TorvynHandle, TorvynHost};
use torvyn_runtime::config::{parse_duration, LayerSources, Manifest};
use torvyn_runtime::engine::WasmEngine;
use torvyn_runtime::error::Coded;
use torvyn_runtime::flow_config;
use torvyn_runtime::reactor::FlowReport;

/// `torvyn serve` arguments.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Torvyn.toml to serve; repeat for several (default: ./Torvyn.toml).
    #[arg(long = "manifest", value_name = "PATH")]
    manifests: Vec<PathBuf>,
    /// Serve only this flow; repeat for several (default: every flow).
    #[arg(long = "flow", value_name = "NAME")]
    flows: Vec<String>,
    /// What happens to a flow that fails.
    #[arg(long, value_enum, default_value_t = RestartPolicy::OnFailure)]
    restart: RestartPolicy,
    /// Restarts allowed per flow within --restart-window; beyond it the
    /// flow is left failed.
    #[arg(long, value_name = "N", default_value_t = 3)]
    max_restarts: u32,
    /// The window of --max-restarts (e.g. 60s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    restart_window: String,
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
}

/// Exit code after SIGINT (128 + 2, as shells report it).
const INTERRUPTED: u8 = 130;

pub fn run(args: ServeArgs, out: &Output) -> u8 {
    match serve(args, out) {
        Ok(code) => code,
        Err(failure) => failure.report(out, "serve"),
    }
}

/// One served flow and its supervision state.
struct Slot {
    /// `name`, or `manifest#name` when several manifests are served.
    label: String,
    spec: ActorFlowSpec,
    budget: RestartBudget,
    /// The running instance, if any.
    id: Option<FlowId>,
    /// Counts starts; an end event of an older run is ignored.
    run: u64,
}

enum Event {
    Signal(i32),
    /// A live flow refused to drain (not running yet, or ending): cancelled.
    DrainRefused {
        slot: usize,
        run: u64,
        error: HostError,
    },
    Ended {
        slot: usize,
        run: u64,
        result: Result<FlowReport, HostError>,
    },
}

fn serve(args: ServeArgs, out: &Output) -> Result<u8, Failure> {
    let window = parse_duration(&args.restart_window).map_err(validation)?;
    let drain_timeout = parse_duration(&args.drain_timeout).map_err(validation)?;
    let status_interval = parse_duration(&args.status_interval).map_err(validation)?;
    let manifests = if args.manifests.is_empty() {
        vec![PathBuf::from("Torvyn.toml")]
    } else {
        args.manifests.clone()
    };
    let several = manifests.len() > 1;

    let mut engine: Option<WasmEngine> = None;
    let mut host_runtime = None;
    let mut host_observability = None;
    let mut slots = Vec::new();
    let mut found = vec![false; args.flows.len()];
    for path in &manifests {
        let manifest =
            Manifest::load_layered(path, LayerSources::from_process(args.overrides.clone()))
                .map_err(validation)?;
        // One engine and host for everything: the first manifest's [runtime].
        let engine = match &engine {
            Some(engine) => engine.clone(),
            None => {
                let created =
                    WasmEngine::new(flow_config::engine_config(&manifest)).map_err(validation)?;
                host_runtime = Some(manifest.runtime.clone());
                host_observability = Some(manifest.observability.clone());
                engine.insert(created).clone()
            }
        };
        let names: Vec<String> = if args.flows.is_empty() {
            // `flow(None)` reports a manifest without flows.
            manifest.flow(None).map_err(validation)?;
            manifest.flows.keys().cloned().collect()
        } else {
            let mut names = Vec::new();
            for (i, wanted) in args.flows.iter().enumerate() {
                let wanted = wanted.strip_prefix("flow.").unwrap_or(wanted);
                if manifest.flows.contains_key(wanted) {
                    found[i] = true;
                    names.push(wanted.to_string());
                }
            }
            names
        };
        for name in names {
            let (name, flow) = manifest.flow(Some(&name)).map_err(validation)?;
            out.status(&format!("Loading flow '{name}' from {}", path.display()));
            let spec = flow_spec(&manifest, path, name, flow, &engine, out)?;
            let settings = super::prepare::flow_settings(&manifest, path, name);
            slots.push(Slot {
                label: if several {
                    format!("{}#{name}", path.display())
                } else {
                    name.to_string()
                },
                spec: ActorFlowSpec::graph(spec).with_settings(settings),
                budget: RestartBudget::new(args.restart, args.max_restarts, window),
                id: None,
                run: 0,
            });
        }
    }
    // A --flow no manifest defines: let the first manifest name the error.
    if let Some(missing) = found.iter().position(|f| !f) {
        let manifest = Manifest::load_layered(
            &manifests[0],
            LayerSources::from_process(args.overrides.clone()),
        )
        .map_err(validation)?;
        let wanted = &args.flows[missing];
        manifest
            .flow(Some(wanted.strip_prefix("flow.").unwrap_or(wanted)))
            .map_err(validation)?;
    }

    let mut builder = TorvynHost::builder();
    if let Some(engine) = engine {
        builder = builder.engine(engine);
    }
    if let Some(runtime) = &host_runtime {
        builder = builder.runtime_config(runtime);
    }
    if let Some(observability) = &host_observability {
        builder = builder.observability(observability);
        if let Some(consumer) = span_consumer(observability)? {
            builder = builder.trace_consumer(consumer);
        }
    }
    let host = builder.build().map_err(pipeline)?;

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
        slots.len()
    ));
    for index in 0..slots.len() {
        start(&host, &mut slots, index, &tx);
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
            Ok(Event::Ended { slot, run, result }) => {
                if slots[slot].run == run {
                    slots[slot].id = None;
                    supervise(&host, &mut slots, slot, result, &tx);
                }
            }
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
        if let Some(m) = metrics.iter().find(|m| m.id == id) {
            tracing::info!(
                flow = %slot.label,
                state = ?m.state,
                delivered = m.counters.elements_delivered,
                "flow status"
            );
        }
    }
}

/// Starts slot `index` and a thread that reports its end.
fn start(host: &TorvynHandle, slots: &mut [Slot], index: usize, tx: &mpsc::Sender<Event>) {
    let slot = &mut slots[index];
    slot.run += 1;
    let run = slot.run;
    match host.start_flow(slot.spec.clone()) {
        Ok(id) => {
            slot.id = Some(id);
            tracing::info!(flow = %slot.label, run, id = %id, "flow started");
            let host = host.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                let result = host.await_completion(id);
                let _ = tx.send(Event::Ended {
                    slot: index,
                    run,
                    result,
                });
            });
        }
        Err(error) => {
            let _ = tx.send(Event::Ended {
                slot: index,
                run,
                result: Err(error),
            });
        }
    }
}

/// A flow ended while serving: log it and restart it if the policy says so.
fn supervise(
    host: &TorvynHandle,
    slots: &mut [Slot],
    index: usize,
    result: Result<FlowReport, HostError>,
    tx: &mpsc::Sender<Event>,
) {
    let slot = &mut slots[index];
    let error = match result {
        Ok(report) => {
            tracing::info!(flow = %slot.label, delivered = report.elements_delivered, "flow completed");
            return;
        }
        Err(error) => error,
    };
    tracing::warn!(flow = %slot.label, code = %error.code(), error = %error, "flow failed");
    match slot.budget.on_failure(Instant::now()) {
        Decision::Restart(n) => {
            tracing::info!(flow = %slot.label, restart = n, "flow restarted");
            start(host, slots, index, tx);
        }
        Decision::NeverRestart => {
            tracing::error!(flow = %slot.label, "flow left failed (restart policy: never)");
        }
        Decision::IntensityExceeded => {
            tracing::error!(flow = %slot.label, "flow left failed (restart intensity exceeded)");
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
        let (host, tx, run) = (host.clone(), tx.clone(), slot.run);
        std::thread::spawn(move || {
            if let Err(error) = host.drain(id) {
                let _ = host.cancel(id);
                let _ = tx.send(Event::DrainRefused {
                    slot: index,
                    run,
                    error,
                });
            }
        });
    }
    let mut deadline = Instant::now() + timeout;
    let mut cancelled = false;
    while slots.iter().any(|s| s.id.is_some()) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::DrainRefused { slot, run, error }) => {
                let slot = &slots[slot];
                if slot.run == run && slot.id.is_some() && !killed.contains(&slot.label) {
                    tracing::warn!(flow = %slot.label, error = %error, "flow cannot drain; cancelled");
                    killed.push(slot.label.clone());
                }
            }
            Ok(Event::Ended { slot, run, result }) => {
                let slot = &mut slots[slot];
                if slot.run != run {
                    continue;
                }
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
