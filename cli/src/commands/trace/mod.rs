//! `torvyn trace`: runs a flow like `torvyn run`, at the `diagnostic`
//! observability level, and prints each element's path through the
//! stages — per-call timings, buffers lent and produced, copies, filter
//! drops, routes, and (with `--show-backpressure`) backpressure episodes
//! inline — then the trace summary.
//!
//! Components' own output goes to stdout while the flow runs; the trace
//! follows it (or goes to `--output-trace`), and the runtime's progress
//! lines go to stderr.

mod collect;
mod json;
mod pretty;
mod summary;

use super::prepare::{host_failure, validation, Failure, FlowRunArgs};
use crate::commands::host_services::{HostServices, InspectArgs};
use crate::output::{Format, Output};
use collect::FlowTrace;
use pretty::PrettyOptions;
use std::path::PathBuf;
use summary::TraceSummary;
use torvyn_actors::observability::export::{ExportConfig, SpanExporter};
use torvyn_actors::{FlowSpec as ActorFlowSpec, HostError, SpanConsumer, TorvynHost};
use torvyn_runtime::config::{ObservabilityLevel, TracingExporter};
use torvyn_runtime::error::{Coded, ErrorCode};
use torvyn_runtime::reactor::trace::PREVIEW_BYTES;
use torvyn_runtime::reactor::FlowReport;

/// `--trace-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceFormat {
    /// Per-element trees and a summary (default).
    Pretty,
    /// JSON lines: the flow, each element, each event, the summary.
    Json,
    /// OTLP JSON lines (`ExportTraceServiceRequest`s, as the OTLP file
    /// exporter writes them): a root span for the flow and a span per call.
    Otlp,
}

/// `torvyn trace` arguments.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    #[command(flatten)]
    flow: FlowRunArgs,
    /// Write the trace to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    output_trace: Option<PathBuf>,
    /// Trace output format (default: pretty; json with --format json).
    #[arg(long, value_enum, value_name = "FMT")]
    trace_format: Option<TraceFormat>,
    /// Include the first bytes of each element's payload.
    #[arg(long)]
    show_buffers: bool,
    /// Show backpressure and pause events between the elements.
    #[arg(long)]
    show_backpressure: bool,
    #[command(flatten)]
    inspection: InspectArgs,
}

/// The trace file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the trace to {path}: {source}")]
struct TraceWriteError {
    path: String,
    source: std::io::Error,
}

impl Coded for TraceWriteError {
    fn code(&self) -> ErrorCode {
        ErrorCode::ConstraintViolation
    }

    fn location(&self) -> Option<String> {
        Some("--output-trace".into())
    }

    fn help(&self) -> String {
        "pass --output-trace a path in an existing, writable directory".into()
    }
}

pub fn run(mut args: TraceArgs, out: &Output) -> u8 {
    if args.trace_format.is_none() {
        args.trace_format = Some(match out.mode().0 {
            Format::Json => TraceFormat::Json,
            Format::Human => TraceFormat::Pretty,
        });
    }
    let output_trace = args.output_trace.clone();
    // OTLP spans are written by the exporter itself while the flow runs.
    let written_by_exporter = args.trace_format == Some(TraceFormat::Otlp);
    match execute(args, out) {
        Ok((text, failure)) => {
            if !written_by_exporter {
                if let Err(e) = write_trace(output_trace.as_ref(), &text) {
                    return validation(e).report(out, "trace");
                }
            }
            if let Some(path) = &output_trace {
                out.status(&format!("Trace written to {}", path.display()));
            }
            match failure {
                Some(failure) => failure.report(out, "trace"),
                None => 0,
            }
        }
        Err(failure) => failure.report(out, "trace"),
    }
}

fn write_trace(path: Option<&PathBuf>, text: &str) -> Result<(), TraceWriteError> {
    match path {
        Some(path) => std::fs::write(path, text).map_err(|source| TraceWriteError {
            path: path.display().to_string(),
            source,
        }),
        None => {
            crate::output::to_stdout(text);
            Ok(())
        }
    }
}

/// Runs the flow and renders its trace. A flow that fails still gets its
/// trace rendered (it shows the failing element); the failure comes back
/// beside it.
fn execute(args: TraceArgs, out: &Output) -> Result<(String, Option<Failure>), Failure> {
    let limit = args.flow.limit;
    let (project, prepared) = args.flow.prepare_with(out, out.guest_outputs())?;
    // A traced flow runs once: its trace ends with its first run.
    let (graph, mut settings, _restart) = prepared.plan.into_parts();
    if args.show_buffers {
        settings.trace.preview_bytes = PREVIEW_BYTES;
    }
    let flow_name = settings.flow_name.clone();
    let mut builder = TorvynHost::builder()
        .engine(prepared.engine)
        .runtime_config(&project.manifest().runtime)
        .observability_level(ObservabilityLevel::Diagnostic);
    if args.trace_format == Some(TraceFormat::Otlp) {
        let (exporter, endpoint) = match &args.output_trace {
            Some(path) => (TracingExporter::File, path.display().to_string()),
            None => (TracingExporter::Stdout, "stdout".to_string()),
        };
        let exporter =
            SpanExporter::start(ExportConfig::new(exporter, endpoint)).map_err(validation)?;
        builder = builder.trace_consumer(Box::new(SpanConsumer::new(exporter)));
    }
    let host = builder.build().map_err(host_failure)?;
    let observability = &project.manifest().observability;
    let services = HostServices::start(args.inspection, observability, &host, false, out)?;
    let batches = host.subscribe_traces();
    let limit = limit.map_or(String::new(), |n| format!(" (limit: {n} elements)"));
    out.status(&format!("Tracing flow '{flow_name}'{limit}"));
    out.blank();
    let id = match host.start_flow(ActorFlowSpec::graph(graph).with_settings(settings)) {
        Ok(id) => id,
        Err(e) => {
            host.shutdown();
            return Err(host_failure(e));
        }
    };
    // The hub waits for a subscriber that is behind: read while the flow
    // runs, until its end marker.
    let collector = std::thread::spawn(move || {
        let mut trace = FlowTrace::default();
        while let Ok(batch) = batches.recv() {
            if trace.add(id, &batch) {
                break;
            }
        }
        trace
    });
    let outcome = host.await_completion(id);
    let records_dropped = host.trace_stats().dropped;
    services.stop();
    host.shutdown();
    let trace = collector.join().unwrap_or_default();
    let (report, failure): (Option<FlowReport>, Option<Failure>) = match outcome {
        Ok(report) => (Some(report), None),
        Err(HostError::Flow {
            report, diagnostic, ..
        }) => (
            report.map(|r| *r),
            Some(host_failure(HostError::Flow {
                flow: id,
                diagnostic,
                report: None,
            })),
        ),
        Err(e) => return Err(host_failure(e)),
    };
    let summary = TraceSummary::of(&trace, report.as_ref(), records_dropped);
    let text = match args.trace_format.unwrap_or(TraceFormat::Pretty) {
        TraceFormat::Pretty => pretty::render(
            &trace,
            &summary,
            PrettyOptions {
                show_buffers: args.show_buffers,
                show_backpressure: args.show_backpressure,
            },
        ),
        TraceFormat::Json => json::render(&trace, &summary),
        TraceFormat::Otlp => {
            out.status(&format!(
                "Exported {} spans ({} calls traced, {} elements)",
                trace
                    .elements
                    .values()
                    .map(|e| e.calls.len())
                    .sum::<usize>()
                    + 1,
                trace
                    .elements
                    .values()
                    .map(|e| e.calls.len())
                    .sum::<usize>(),
                summary.elements
            ));
            String::new()
        }
    };
    Ok((text, failure))
}
