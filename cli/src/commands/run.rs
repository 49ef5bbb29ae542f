//! `torvyn run`: load Torvyn.toml, validate and link the flow, instantiate
//! its components and run it to completion on the stage loop.
//!
//! SIGINT (Ctrl+C) or SIGTERM drains the flow — its sources stop, what is
//! in flight reaches the sinks, the sinks complete — then the summary is
//! printed and `torvyn run` exits 130 (SIGINT) or 143 (SIGTERM). A second
//! signal cancels the flow at once.

use super::host_services::{HostServices, InspectArgs};
use super::prepare::{host_failure, pipeline, start_host, Failure, FlowRunArgs};
use crate::output::Output;
use crate::progress::{format_rate, Progress, REFRESH};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::sync::mpsc;
use std::time::Duration;
use torvyn_actors::{FlowId, FlowSpec, HostError, TorvynHandle};
use torvyn_runtime::assembly::FlowPlan;
use torvyn_runtime::error::ErrorCode;
use torvyn_runtime::reactor::{FlowReport, StageReport};

/// `torvyn run` arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    flow: FlowRunArgs,
    #[command(flatten)]
    inspection: InspectArgs,
}

/// How a run ended when it ran to its end or was stopped by a signal.
struct Ended {
    report: FlowReport,
    /// The signal that stopped it, if one did.
    signal: Option<i32>,
}

pub fn run(args: RunArgs, out: &Output) -> u8 {
    match execute(args, out) {
        Ok(Ended { report, signal }) => {
            print_summary(&report, signal, out);
            let code = signal.map_or(0, exit_code_after);
            out.json(serde_json::to_value(&report).unwrap_or_default(), code);
            code
        }
        Err(failure) => failure.report(out, "run"),
    }
}

/// 128 + the signal number, as shells report it.
fn exit_code_after(signal: i32) -> u8 {
    128u8.saturating_add(u8::try_from(signal).unwrap_or(0))
}

fn signal_name(signal: i32) -> &'static str {
    if signal == SIGTERM {
        "SIGTERM"
    } else {
        "SIGINT"
    }
}

/// The summary on stderr (human format): flow, elements, duration,
/// throughput, copies, backpressure activations (when there were any) and
/// peak queue depth. The first two lines are the
/// ones the spec's examples document.
fn print_summary(report: &FlowReport, signal: Option<i32>, out: &Output) {
    out.blank();
    let ended = match signal {
        None => "completed".to_string(),
        Some(signal) => format!("interrupted by {}", signal_name(signal)),
    };
    out.status(&format!(
        "Flow '{}' {ended}. {} elements processed.",
        report.flow, report.elements_delivered
    ));
    let activations: u64 = report.streams.iter().map(|s| s.backpressure_events).sum();
    let backpressure = if activations > 0 {
        format!(" | Backpressure activations: {activations}")
    } else {
        String::new()
    };
    out.status(&format!(
        "Duration: {} | Copies: {}{backpressure} | Peak queue depth: {}",
        format_duration(report.duration),
        report.payload_copies.operations,
        report.peak_queue_depth
    ));
    out.status(&format!(
        "Throughput: {} elem/s",
        format_rate(report.throughput())
    ));
    if let Some(line) = replicas_line(report) {
        out.status(&line);
    }
    for line in connector_lines(&report.stages) {
        out.status(&line);
    }
    if let Some(trouble) = trouble_line(report) {
        out.status(&trouble);
    }
}

/// A replicated flow's breakdown: elements each replica delivered
/// (`Replicas: 2 | #0 flow-2: 50 | #1 flow-3: 50`), or `None` for a flow
/// without replicas.
fn replicas_line(report: &FlowReport) -> Option<String> {
    if report.replicas.is_empty() {
        return None;
    }
    let parts: Vec<String> = report
        .replicas
        .iter()
        .map(|r| format!("#{} {}: {}", r.index, r.flow_id, r.elements_delivered))
        .collect();
    Some(format!(
        "Replicas: {} | {}",
        report.replicas.len(),
        parts.join(" | ")
    ))
}

/// One line per networked connector (NATS): what its source fetched and
/// acknowledged, what its sink published and how fast the server acked.
fn connector_lines(stages: &[StageReport]) -> Vec<String> {
    let mut lines = Vec::new();
    for stage in stages {
        let Some(c) = &stage.connector else { continue };
        if c.fetched > 0 || c.acked > 0 || c.nacked > 0 {
            lines.push(format!(
                "Connector '{}': fetched {} | acked {} | nacked {} | redelivered {} | pending {} | unacked {}",
                stage.name, c.fetched, c.acked, c.nacked, c.redelivered, c.pending, c.unacked
            ));
        }
        if c.published > 0 || c.publish_failures > 0 {
            let mean = Duration::from_nanos(c.publish_latency_ns / c.published.max(1));
            lines.push(format!(
                "Connector '{}': published {} | failed {} | mean publish ack {}",
                stage.name,
                c.published,
                c.publish_failures,
                format_duration(mean)
            ));
        }
    }
    lines
}

/// A line naming what did not go cleanly — element errors, retries, dead
/// letters, restarts, components ended, elements a queue policy dropped —
/// or `None` for a clean run. A flow that completes with elements lost
/// must not look like a clean one.
fn trouble_line(report: &FlowReport) -> Option<String> {
    let stages = &report.stages;
    let streams = &report.streams;
    let per_stage = |f: fn(&StageReport) -> u64| stages.iter().map(f).sum::<u64>();
    let counts: [(u64, &str, &str); 7] = [
        (report.errors, "element error", "element errors"),
        (per_stage(|s| s.retries), "retry", "retries"),
        (
            per_stage(|s| s.dead_lettered),
            "element dead-lettered",
            "elements dead-lettered",
        ),
        (
            per_stage(|s| s.restarts),
            "component restart",
            "component restarts",
        ),
        (
            per_stage(|s| u64::from(s.ended_abnormally)),
            "component ended abnormally",
            "components ended abnormally",
        ),
        (
            streams
                .iter()
                .map(|s| s.dropped_oldest + s.dropped_newest + s.lagged)
                .sum(),
            "element dropped by a queue policy",
            "elements dropped by a queue policy",
        ),
        (
            streams.iter().map(|s| s.dropped_closed).sum(),
            "element dropped for an ended consumer",
            "elements dropped for an ended consumer",
        ),
    ];
    let parts: Vec<String> = counts
        .iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "Not clean: {} (per-stage counts: --format json)",
            parts.join(", ")
        )
    })
}

fn execute(args: RunArgs, out: &Output) -> Result<Ended, Failure> {
    // The progress line (on a terminal) is set up first: the guests'
    // terminal output must go around it from their first write.
    let mut progress = Progress::for_run(out);
    let outputs = progress
        .as_mut()
        .map(Progress::guest_outputs)
        .unwrap_or_else(|| out.guest_outputs());
    let (project, prepared) = args.flow.prepare_with(out, outputs)?;
    let host = start_host(&project, prepared.engine)?;
    let observability = &project.manifest().observability;
    let services = HostServices::start(args.inspection, observability, &host, false, out)?;
    let result = run_on_host(&host, prepared.plan, progress, out);
    // The server holds a handle: stop it first, then the host.
    services.stop();
    host.shutdown();
    result
}

fn run_on_host(
    host: &TorvynHandle,
    plan: FlowPlan,
    progress: Option<Progress>,
    out: &Output,
) -> Result<Ended, Failure> {
    // Registered before the flow starts: from here on a signal drains the
    // flow instead of killing the process mid-element.
    let signals = Signals::new([SIGINT, SIGTERM]).map_err(|e| {
        pipeline(HostError::Startup(format!(
            "cannot install signal handlers: {e}"
        )))
    })?;
    let flow_name = plan.name().to_string();
    // Started suspended, so that the header lines come before anything
    // the components print.
    let id = host
        .start_flow(FlowSpec::from_plan(plan).suspended())
        .map_err(host_failure)?;
    out.status("Instantiating...         ok");
    out.status(&format!("Running flow '{flow_name}'"));
    out.blank();
    if let Err(e) = host.resume(id) {
        // It already ended (a component failed to start): awaiting it
        // reports how.
        tracing::debug!(error = %e, "the flow could not be resumed");
    }
    let ended = await_flow(host, id, signals, progress, out);
    match ended {
        (Ok(report), signal) => Ok(Ended { report, signal }),
        (Err(error), Some(signal)) => match cancelled_report(&error) {
            // Cancelled by a second signal: still a summary of what ran.
            Some(report) => Ok(Ended {
                report,
                signal: Some(signal),
            }),
            None => {
                let mut failure = host_failure(error);
                failure.exit = exit_code_after(signal);
                Err(failure)
            }
        },
        (Err(error), None) => Err(host_failure(error)),
    }
}

/// The counters of a flow that a second signal cancelled.
fn cancelled_report(error: &HostError) -> Option<FlowReport> {
    match error {
        HostError::Flow {
            report: Some(report),
            diagnostic,
            ..
        } if diagnostic.code == ErrorCode::FlowCancelled => Some(report.as_ref().clone()),
        _ => None,
    }
}

/// What the waiting loop hears.
enum Heard {
    Outcome(Box<Result<FlowReport, HostError>>),
    Signal(i32),
}

/// Awaits the flow on a helper thread while this thread redraws the
/// progress line (if any) from the flow's counters every [`REFRESH`] and
/// turns signals into a drain (the first) or a cancel (the next); the
/// outcome, and the first signal heard.
fn await_flow(
    host: &TorvynHandle,
    id: FlowId,
    mut signals: Signals,
    mut progress: Option<Progress>,
    out: &Output,
) -> (Result<FlowReport, HostError>, Option<i32>) {
    let (tx, rx) = mpsc::channel();
    let waiter = host.clone();
    let outcome_tx = tx.clone();
    std::thread::spawn(move || {
        let _ = outcome_tx.send(Heard::Outcome(Box::new(waiter.await_completion(id))));
    });
    let signal_handle = signals.handle();
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if tx.send(Heard::Signal(signal)).is_err() {
                break;
            }
        }
    });
    if let Some(progress) = progress.as_mut() {
        progress.poll(host, id);
    }
    let mut first_signal = None;
    let outcome = loop {
        match rx.recv_timeout(REFRESH) {
            Ok(Heard::Outcome(outcome)) => break *outcome,
            Ok(Heard::Signal(signal)) => {
                if first_signal.is_none() {
                    first_signal = Some(signal);
                    out.status(&format!(
                        "{}: draining the flow (again to cancel it)",
                        signal_name(signal)
                    ));
                    if host.drain(id).is_err() {
                        // Not running (yet, or any more): cancel instead.
                        let _ = host.cancel(id);
                    }
                } else {
                    out.status(&format!("{}: cancelling the flow", signal_name(signal)));
                    let _ = host.cancel(id);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(progress) = progress.as_mut() {
                    progress.poll(host, id);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break Err(HostError::HostStopped),
        }
    };
    signal_handle.close();
    if let Some(progress) = progress {
        progress.finish();
    }
    (outcome, first_signal)
}

fn format_duration(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{}µs", d.as_micros())
    } else if d < Duration::from_secs(10) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_runtime::connectors::ConnectorReport;

    fn stage(name: &str, connector: Option<ConnectorReport>) -> StageReport {
        StageReport {
            name: name.into(),
            invocations: 0,
            errors: 0,
            busy_ns: 0,
            restarts: 0,
            retries: 0,
            dead_lettered: 0,
            timeouts: 0,
            ended_abnormally: false,
            fuel_consumed: 0,
            memory_bytes: 0,
            capabilities: Vec::new(),
            connector,
        }
    }

    #[test]
    fn connectors_get_a_summary_line_and_components_none() {
        let source = ConnectorReport {
            fetched: 10,
            acked: 9,
            redelivered: 1,
            pending: 5,
            unacked: 1,
            ..ConnectorReport::default()
        };
        let sink = ConnectorReport {
            published: 4,
            publish_latency_ns: 4_000_000,
            ..ConnectorReport::default()
        };
        let lines = connector_lines(&[
            stage("input", Some(source)),
            stage("upper", None),
            stage("output", Some(sink)),
            stage("idle", Some(ConnectorReport::default())),
        ]);
        assert_eq!(
            lines,
            [
                "Connector 'input': fetched 10 | acked 9 | nacked 0 | redelivered 1 | pending 5 | unacked 1",
                "Connector 'output': published 4 | failed 0 | mean publish ack 1ms",
            ]
        );
    }
}
