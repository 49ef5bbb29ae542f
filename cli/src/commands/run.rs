//! `torvyn run`: load Torvyn.toml, validate and link the flow, instantiate
//! its components and run it to completion on the stage loop.

use crate::component_build::ComponentResolver;
use crate::output::{exit_code, Output};
use std::path::{Path, PathBuf};
use std::time::Duration;
use torvyn_actors::{
    FlowSpec as ActorFlowSpec, HostError, InspectionConfig, InspectionServer, TorvynHandle,
    TorvynHost,
};
use torvyn_runtime::config::{parse_duration, LayerSources, Manifest};
use torvyn_runtime::engine::WasmEngine;
use torvyn_runtime::error::{Coded, Diagnostic};
use torvyn_runtime::flow_config;
use torvyn_runtime::reactor::{
    validate_graph, EdgeSpec, FlowReport, FlowSettings, FlowSpec, StageSpec,
};
use torvyn_runtime::topology::plan_graph;

/// `torvyn run` arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Flow to run, as `flow.<name>` (default: the first defined flow).
    #[arg(value_name = "FLOW")]
    flow_ref: Option<String>,
    /// Path to Torvyn.toml.
    #[arg(long, value_name = "PATH", default_value = "Torvyn.toml")]
    manifest: PathBuf,
    /// Flow to run (same as the positional `flow.<name>`).
    #[arg(long, value_name = "NAME")]
    flow: Option<String>,
    /// Process at most N elements, then complete.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Maximum execution time (e.g. 30s, 5m); exceeding it is E0400.
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Override a configuration value (e.g. runtime.fuel_per_invocation=0).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Serve the inspection API (/metrics, /flows, control) while the flow
    /// runs, as `[observability] inspection = true` does.
    #[arg(long)]
    inspect: bool,
}

/// Exit code when validation or linking fails before the flow starts.
const VALIDATION_FAILED: u8 = 2;
/// Exit code when the running pipeline fails.
const PIPELINE_ERROR: u8 = 1;

pub fn run(args: RunArgs, out: &Output) -> u8 {
    match execute(args, out) {
        Ok(report) => {
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
            out.json(report_json(&report), 0);
            0
        }
        Err(Failure { diagnostic, exit }) => out.fail(&diagnostic, exit),
    }
}

struct Failure {
    diagnostic: Diagnostic,
    exit: u8,
}

fn validation<E: Coded>(e: E) -> Failure {
    let diagnostic = e.diagnostic();
    // Missing inputs (manifest, component files) keep their own code 2;
    // everything else found before the flow starts is a validation failure.
    let exit = if exit_code(&diagnostic) == 2 {
        2
    } else {
        VALIDATION_FAILED
    };
    Failure { diagnostic, exit }
}

/// A flow failure carries the flow's own diagnostic (a trap's E0410, a
/// deadline's E0400, …); other host errors render as themselves.
fn host_failure(e: HostError) -> Failure {
    match e {
        HostError::Flow { diagnostic, .. } => Failure {
            diagnostic,
            exit: PIPELINE_ERROR,
        },
        other => pipeline(other),
    }
}

fn pipeline<E: Coded>(e: E) -> Failure {
    Failure {
        diagnostic: e.diagnostic(),
        exit: PIPELINE_ERROR,
    }
}

fn execute(args: RunArgs, out: &Output) -> Result<FlowReport, Failure> {
    let manifest =
        Manifest::load_layered(&args.manifest, LayerSources::from_process(args.overrides))
            .map_err(validation)?;
    let deadline = args
        .timeout
        .as_deref()
        .map(parse_duration)
        .transpose()
        .map_err(validation)?;
    let wanted = args
        .flow
        .as_deref()
        .or(args.flow_ref.as_deref())
        .map(|f| f.strip_prefix("flow.").unwrap_or(f));
    let (flow_name, flow) = manifest.flow(wanted).map_err(validation)?;
    let manifest_name = args.manifest.file_name().map_or_else(
        || args.manifest.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    out.status(&format!("Loading flow '{flow_name}' from {manifest_name}"));

    let plan = plan_graph(flow_name, flow, &manifest.runtime.backpressure).map_err(validation)?;
    let root = project_root(&args.manifest);
    let resolver = ComponentResolver::new(&root, &manifest, out);
    let engine = WasmEngine::new(flow_config::engine_config(&manifest)).map_err(validation)?;

    let mut wasm = Vec::with_capacity(plan.nodes.len());
    for node in &plan.nodes {
        let path = resolver
            .resolve(&node.name, &node.component)
            .map_err(validation)?;
        wasm.push((node.name.clone(), path));
    }
    // `torvyn check` and `torvyn link` before anything is instantiated.
    let linked =
        crate::commands::link::verify(&manifest, &args.manifest, flow_name, flow, &wasm, true)
            .map_err(validation)?;
    let mut stages = Vec::with_capacity(plan.nodes.len());
    for (node, (_, path)) in plan.nodes.iter().zip(&wasm) {
        let component = engine.load_component(path).map_err(validation)?;
        stages.push(StageSpec {
            name: node.name.clone(),
            component,
            role: node.role,
            config: node.config.clone(),
            sandbox: linked
                .node(&node.name)
                .map(|n| n.sandbox.clone())
                .unwrap_or_default(),
            scheduling: node.scheduling,
        });
    }
    let edges = plan
        .edges
        .iter()
        .map(|e| EdgeSpec {
            name: e.name.clone(),
            from: e.from,
            from_port: e.from_port.clone(),
            to: e.to,
            settings: flow_config::stream_settings(&e.backpressure),
            priority: e.priority,
        })
        .collect();
    let spec = FlowSpec { stages, edges };
    out.status("Validating contracts...  ok");
    validate_graph(&spec).map_err(validation)?;
    let edge_count = spec.edges.len();
    out.status(&format!(
        "Linking components...    ok ({} components, {} edge{})",
        spec.stages.len(),
        edge_count,
        if edge_count == 1 { "" } else { "s" }
    ));

    let mut settings = FlowSettings {
        element_limit: args.limit,
        deadline,
        ..flow_config::flow_settings(&manifest, flow_name)
    };
    flow_config::resolve_dead_letter_files(&mut settings, &root);
    // The flow runs under the actor runtime: a supervised FlowActor on a
    // worker arbiter, driven in batches, exactly as a long-lived host runs it.
    let inspection = if args.inspect || manifest.observability.inspection {
        Some(InspectionConfig::from_observability(&manifest.observability).map_err(validation)?)
    } else {
        None
    };
    let host = TorvynHost::builder()
        .engine(engine)
        .runtime_config(&manifest.runtime)
        .observability(&manifest.observability)
        .build()
        .map_err(host_failure)?;
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
    let result = run_on_host(&host, spec, settings, flow_name, out);
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
    host.await_completion(id).map_err(host_failure)
}

/// The directory holding the manifest (paths in it are relative to it).
fn project_root(manifest: &Path) -> PathBuf {
    match manifest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
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
