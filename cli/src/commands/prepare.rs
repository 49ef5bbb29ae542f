//! The path from a Torvyn.toml to a flow ready to start, shared by
//! `torvyn run`, `torvyn serve` and `torvyn bench`: load the manifest, plan
//! the flow's graph, build or locate its components, check and link them,
//! turn the result into the reactor's [`FlowSpec`] and `FlowSettings`, and
//! the failures of those steps with their exit codes.

use crate::component_build::ComponentResolver;
use crate::output::Output;
use std::path::{Path, PathBuf};
use torvyn_actors::observability::export::{ExportConfig, SpanExporter};
use torvyn_actors::{HostError, SpanConsumer, TorvynHandle, TorvynHost, TraceConsumer};
use torvyn_runtime::config::{
    parse_duration, FlowDef, LayerSources, Manifest, ObservabilityConfig,
};
use torvyn_runtime::engine::{EngineConfig, GuestOutputs, WasmEngine};
use torvyn_runtime::error::{Coded, Diagnostic};
use torvyn_runtime::flow_config;
use torvyn_runtime::reactor::{validate_graph, EdgeSpec, FlowSpec, StageSpec};
use torvyn_runtime::topology::plan_graph;

/// Exit code when validation or linking fails before the flow starts.
pub const VALIDATION_FAILED: u8 = 2;
/// Exit code when the running pipeline fails.
pub const PIPELINE_ERROR: u8 = 1;

/// Loads Torvyn.toml with its configuration layers and `--config` overrides.
pub fn load_manifest(path: &Path, overrides: Vec<String>) -> Result<Manifest, Failure> {
    Manifest::load_layered(path, LayerSources::from_process(overrides)).map_err(validation)
}

/// A flow checked, linked and ready to start.
pub struct PreparedFlow {
    /// The flow's name.
    pub name: String,
    /// The engine its components were compiled with.
    pub engine: WasmEngine,
    /// Its stages and streams.
    pub spec: FlowSpec,
    /// Its settings from the manifest.
    pub settings: torvyn_runtime::reactor::FlowSettings,
}

/// The options `torvyn run` and `torvyn trace` share: which flow of which
/// manifest, how far to run it, and configuration overrides.
#[derive(Debug, clap::Args)]
pub struct FlowRunArgs {
    /// Flow, as `flow.<name>` (default: the first defined flow).
    #[arg(value_name = "FLOW")]
    pub flow_ref: Option<String>,
    /// Path to Torvyn.toml.
    #[arg(long, value_name = "PATH", default_value = "Torvyn.toml")]
    pub manifest: PathBuf,
    /// Flow (same as the positional `flow.<name>`).
    #[arg(long, value_name = "NAME")]
    pub flow: Option<String>,
    /// Pull at most N elements from the sources, then complete.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Maximum execution time (e.g. 30s, 5m); exceeding it is E0400.
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Override a configuration value (e.g. runtime.fuel_per_invocation=0).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

impl FlowRunArgs {
    /// Loads the manifest and prepares the chosen flow ([`prepare_flow`]),
    /// its settings carrying `--limit` and `--timeout`.
    pub fn prepare(self, out: &Output) -> Result<(Manifest, PreparedFlow), Failure> {
        self.prepare_with(out, GuestOutputs::default())
    }

    /// [`Self::prepare`], the guests' stdout and stderr going to `outputs`
    /// where it replaces them.
    pub fn prepare_with(
        self,
        out: &Output,
        outputs: GuestOutputs,
    ) -> Result<(Manifest, PreparedFlow), Failure> {
        let manifest = load_manifest(&self.manifest, self.overrides)?;
        let deadline = self
            .timeout
            .as_deref()
            .map(parse_duration)
            .transpose()
            .map_err(validation)?;
        let wanted = self.flow.as_deref().or(self.flow_ref.as_deref());
        let mut prepared = prepare_flow(&manifest, &self.manifest, wanted, outputs, out)?;
        prepared.settings.element_limit = self.limit;
        prepared.settings.deadline = deadline;
        Ok((manifest, prepared))
    }
}

/// Plans flow `wanted` (default: the first) of `manifest` on a new engine
/// (whose guests print to `outputs` where it replaces the process's
/// streams), with [`flow_spec`] and [`flow_settings`]. Prints the progress
/// lines `torvyn run` shows.
pub fn prepare_flow(
    manifest: &Manifest,
    manifest_path: &Path,
    wanted: Option<&str>,
    outputs: GuestOutputs,
    out: &Output,
) -> Result<PreparedFlow, Failure> {
    let wanted = wanted.map(|f| f.strip_prefix("flow.").unwrap_or(f));
    let (flow_name, flow) = manifest.flow(wanted).map_err(validation)?;
    out.set_root(&project_root(manifest_path));
    let manifest_name = manifest_path.file_name().map_or_else(
        || manifest_path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    out.status(&format!("Loading flow '{flow_name}' from {manifest_name}"));
    let engine = WasmEngine::new(EngineConfig {
        guest_outputs: outputs,
        ..flow_config::engine_config(manifest)
    })
    .map_err(validation)?;
    let spec = flow_spec(manifest, manifest_path, flow_name, flow, &engine, out)?;
    Ok(PreparedFlow {
        name: flow_name.to_string(),
        settings: flow_settings(manifest, manifest_path, flow_name),
        engine,
        spec,
    })
}

/// Starts the actor runtime that runs the flows (supervised FlowActors on
/// worker arbiters, driven in batches, exactly as a long-lived host runs
/// them) with the manifest's `[runtime]` and `[observability]` settings.
pub fn start_host(manifest: &Manifest, engine: WasmEngine) -> Result<TorvynHandle, Failure> {
    let mut builder = TorvynHost::builder()
        .engine(engine)
        .runtime_config(&manifest.runtime)
        .observability(&manifest.observability);
    if let Some(consumer) = span_consumer(&manifest.observability)? {
        builder = builder.trace_consumer(consumer);
    }
    builder.build().map_err(host_failure)
}

/// The span exporter `[observability]` asks for (`tracing_exporter` set
/// explicitly, tracing enabled), as a trace consumer for the host; `None`
/// when spans are not exported. A bad endpoint or an unwritable file is a
/// validation failure (E0702) before anything runs.
pub fn span_consumer(
    observability: &ObservabilityConfig,
) -> Result<Option<Box<dyn TraceConsumer>>, Failure> {
    let Some(exporter) = observability.trace_export() else {
        return Ok(None);
    };
    // Collector credentials and compression, the OpenTelemetry way.
    let config = ExportConfig::new(exporter, observability.tracing_endpoint.as_str())
        .with_env(|name| std::env::var(name).ok())
        .map_err(validation)?;
    let exporter = SpanExporter::start(config).map_err(validation)?;
    Ok(Some(Box::new(SpanConsumer::new(exporter))))
}

/// The flow's settings from the manifest (`[runtime]`, the flow's own
/// keys, supervision), with dead-letter files resolved against the
/// manifest's directory.
pub fn flow_settings(
    manifest: &Manifest,
    manifest_path: &Path,
    flow_name: &str,
) -> torvyn_runtime::reactor::FlowSettings {
    let mut settings = flow_config::flow_settings(manifest, flow_name);
    flow_config::resolve_dead_letter_files(&mut settings, &project_root(manifest_path));
    settings
}

/// Plans flow `flow_name` of `manifest` (at `manifest_path`), resolves and
/// builds its components, checks and links it (`torvyn check` and `torvyn
/// link`), and loads every component into `engine`.
pub fn flow_spec(
    manifest: &Manifest,
    manifest_path: &Path,
    flow_name: &str,
    flow: &FlowDef,
    engine: &WasmEngine,
    out: &Output,
) -> Result<FlowSpec, Failure> {
    let plan = plan_graph(flow_name, flow, &manifest.runtime.backpressure).map_err(validation)?;
    let root = project_root(manifest_path);
    let resolver = ComponentResolver::new(&root, manifest, out);

    let mut wasm = Vec::with_capacity(plan.nodes.len());
    for node in &plan.nodes {
        let path = resolver
            .resolve(&node.name, &node.component)
            .map_err(validation)?;
        wasm.push((node.name.clone(), path));
    }
    // `torvyn check` and `torvyn link` before anything is instantiated.
    let linked =
        crate::commands::link::verify(manifest, manifest_path, flow_name, flow, &wasm, true)
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
    Ok(spec)
}

/// A failure: every diagnostic found and the exit code it maps to.
pub struct Failure {
    pub diagnostics: Vec<Diagnostic>,
    pub exit: u8,
}

impl Failure {
    /// Reports the failure and returns its exit code.
    pub fn report(&self, out: &Output, command: &str) -> u8 {
        out.fail_all(&self.diagnostics, &[], self.exit, Some(command))
    }
}

/// Every error found before the flow starts (missing inputs and
/// validation failures alike) exits with 2.
pub fn validation<E: Coded>(e: E) -> Failure {
    Failure {
        diagnostics: e.diagnostics(),
        exit: VALIDATION_FAILED,
    }
}

/// A flow failure carries the flow's own diagnostic (a trap's E0410, a
/// deadline's E0400, …); other host errors render as themselves.
pub fn host_failure(e: HostError) -> Failure {
    match e {
        HostError::Flow { diagnostic, .. } => Failure {
            diagnostics: vec![diagnostic],
            exit: PIPELINE_ERROR,
        },
        other => pipeline(other),
    }
}

pub fn pipeline<E: Coded>(e: E) -> Failure {
    Failure {
        diagnostics: e.diagnostics(),
        exit: PIPELINE_ERROR,
    }
}

/// The directory holding the manifest (paths in it are relative to it).
pub fn project_root(manifest: &Path) -> PathBuf {
    match manifest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
