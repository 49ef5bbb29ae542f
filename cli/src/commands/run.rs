//! `torvyn run`: load Torvyn.toml, validate and link the flow, instantiate
//! its components and run it to completion on the stage loop.

use super::prepare::{host_failure, pipeline, start_host, validation, Failure, FlowRunArgs};
use crate::output::Output;
use crate::progress::{format_rate, Progress, REFRESH};
use std::sync::mpsc;
use std::time::Duration;
use torvyn_actors::{
    FlowId, FlowSpec as ActorFlowSpec, HostError, InspectionConfig, InspectionServer, TorvynHandle,
};
use torvyn_runtime::reactor::{FlowReport, FlowSettings, FlowSpec};

/// `torvyn run` arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    flow: FlowRunArgs,
    /// Serve the inspection API (/metrics, /flows, control) while the flow
    /// runs, as `[observability] inspection = true` does.
    #[arg(long)]
    inspect: bool,
}

pub fn run(args: RunArgs, out: &Output) -> u8 {
    match execute(args, out) {
        Ok(report) => {
            print_summary(&report, out);
            out.json(report_json(&report), 0);
            0
        }
        Err(failure) => failure.report(out, "run"),
    }
}

/// The summary on stderr (human format): flow, elements, duration,
/// throughput, copies and peak queue depth. The first two lines are the
/// ones the spec's examples document.
fn print_summary(report: &FlowReport, out: &Output) {
    out.blank();
    out.status(&format!(
        "Flow '{}' completed. {} elements processed.",
        report.flow, report.elements_delivered
    ));
    out.status(&format!(
        "Duration: {} | Copies: {} | Peak queue depth: {}",
        format_duration(report.duration),
        report.payload_copies.operations,
        report.peak_queue_depth
    ));
    out.status(&format!(
        "Throughput: {} elem/s",
        format_rate(report.throughput())
    ));
}

fn execute(args: RunArgs, out: &Output) -> Result<FlowReport, Failure> {
    let (manifest, prepared) = args.flow.prepare(out)?;
    let settings = prepared.settings;
    let inspection = if args.inspect || manifest.observability.inspection {
        Some(InspectionConfig::from_observability(&manifest.observability).map_err(validation)?)
    } else {
        None
    };
    let host = start_host(&manifest, prepared.engine)?;
    let server = match inspection {
        Some(config) => match InspectionServer::start(host.clone(), config) {
            Ok(server) => {
                out.status(&format!("Inspection API:          {}", server.address()));
                Some(server)
            }
            Err(e) => {
                host.shutdown();
                return Err(pipeline(e));
            }
        },
        None => None,
    };
    let result = run_on_host(&host, prepared.spec, settings, &prepared.name, out);
    // The server holds a handle: stop it first, then the host.
    if let Some(server) = server {
        server.stop();
    }
    host.shutdown();
    result
}

fn run_on_host(
    host: &TorvynHandle,
    spec: FlowSpec,
    settings: FlowSettings,
    flow_name: &str,
    out: &Output,
) -> Result<FlowReport, Failure> {
    let id = host
        .start_flow(ActorFlowSpec::graph(spec).with_settings(settings))
        .map_err(host_failure)?;
    out.status("Instantiating...         ok");
    out.status(&format!("Running flow '{flow_name}'"));
    out.blank();
    match Progress::for_run(out) {
        Some(progress) => await_with_progress(host, id, progress),
        None => host.await_completion(id),
    }
    .map_err(host_failure)
}

/// Awaits the flow on a helper thread while this thread redraws the
/// progress line from the flow's counters every [`REFRESH`]; the line is
/// cleared before the outcome is returned.
fn await_with_progress(
    host: &TorvynHandle,
    id: FlowId,
    mut progress: Progress,
) -> Result<FlowReport, HostError> {
    let (tx, rx) = mpsc::channel();
    let waiter = host.clone();
    std::thread::spawn(move || {
        let _ = tx.send(waiter.await_completion(id));
    });
    progress.poll(host, id);
    let outcome = loop {
        match rx.recv_timeout(REFRESH) {
            Ok(outcome) => break outcome,
            Err(mpsc::RecvTimeoutError::Timeout) => progress.poll(host, id),
            Err(mpsc::RecvTimeoutError::Disconnected) => break Err(HostError::HostStopped),
        }
    };
    progress.finish();
    outcome
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

fn report_json(report: &FlowReport) -> serde_json::Value {
    serde_json::json!({
        "flow": report.flow,
        "elements_pulled": report.elements_pulled,
        "elements_delivered": report.elements_delivered,
        "elements_dropped": report.elements_dropped,
        "element_errors": report.errors,
        "duration_us": report.duration.as_micros() as u64,
        "throughput_eps": report.throughput(),
        "copies": report.payload_copies.operations,
        "copy_bytes": report.payload_copies.bytes,
        "copy_amplification": report.copy_amplification,
        "peak_queue_depth": report.peak_queue_depth,
        "stages": report.stages.iter().map(|s| serde_json::json!({
            "name": s.name, "invocations": s.invocations, "errors": s.errors, "busy_ns": s.busy_ns,
            "restarts": s.restarts, "retries": s.retries, "dead_lettered": s.dead_lettered,
            "timeouts": s.timeouts, "ended_abnormally": s.ended_abnormally,
        })).collect::<Vec<_>>(),
        "events_dropped": report.events_dropped,
        "leaked_buffers": report.leaked_buffers,
        "streams": report.streams.iter().map(|s| serde_json::json!({
            "name": s.name,
            "consumer": s.consumer,
            "policy": s.policy,
            "capacity": s.capacity,
            "depth": s.depth,
            "peak_depth": s.peak_depth,
            "credit": s.credit,
            "transferred": s.transferred,
            "dropped_oldest": s.dropped_oldest,
            "dropped_newest": s.dropped_newest,
            "lagged": s.lagged,
            "dropped_closed": s.dropped_closed,
            "backpressure_active": s.backpressure_active,
            "backpressure_events": s.backpressure_events,
            "backpressure_ns": s.backpressure_ns,
        })).collect::<Vec<_>>(),
    })
}
