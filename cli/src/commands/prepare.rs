//! What `torvyn run`, `trace`, `bench` and `serve` share: the flow
//! arguments, loading a project and planning a flow through the library
//! ([`torvyn_runtime::assembly`]), and the exit codes of failures.

use crate::output::Output;
use std::path::PathBuf;
use torvyn_actors::{HostError, TorvynHandle, TorvynHost};
use torvyn_runtime::assembly::{
    plan_flow_with, EndpointOverride, Endpoints, FlowPlan, Observer, Project,
};
use torvyn_runtime::config::{parse_duration, LayerSources};
use torvyn_runtime::engine::{GuestOutputs, WasmEngine};
use torvyn_runtime::error::{Coded, Diagnostic};

/// Exit code when validation or linking fails before the flow starts.
pub const VALIDATION_FAILED: u8 = 2;
/// Exit code when the running pipeline fails.
pub const PIPELINE_ERROR: u8 = 1;

impl Observer for Output {
    fn status(&self, line: &str) {
        Output::status(self, line);
    }

    fn detail(&self, line: &str) {
        Output::detail(self, line);
    }
}

/// Loads the project at `path` with its configuration layers and
/// `--config` overrides.
pub fn load_project(path: &std::path::Path, overrides: Vec<String>) -> Result<Project, Failure> {
    Project::load_layered(path, LayerSources::from_process(overrides)).map_err(validation)
}

/// A flow planned on its own engine, ready to start.
pub struct PreparedFlow {
    /// The engine its components were compiled with.
    pub engine: WasmEngine,
    /// The plan.
    pub plan: FlowPlan,
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
    /// Override the flow's source: a file path (its lines), `-` for stdin,
    /// or `generator[:count=N,size=B,rate=R]`.
    #[arg(long, value_name = "SOURCE")]
    pub input: Option<String>,
    /// Override the flow's sink: a file path (one line per element) or `-`
    /// for stdout.
    #[arg(long, value_name = "SINK")]
    pub output: Option<String>,
}

/// The connectors `--input` and `--output` name.
pub fn endpoints(input: Option<&str>, output: Option<&str>) -> Result<Endpoints, Failure> {
    Ok(Endpoints {
        input: input
            .map(EndpointOverride::input)
            .transpose()
            .map_err(validation)?,
        output: output
            .map(EndpointOverride::output)
            .transpose()
            .map_err(validation)?,
        missing_sink: None,
    })
}

impl FlowRunArgs {
    /// Loads the project and plans the chosen flow ([`prepare_flow`]) with
    /// `--limit` and `--timeout`, the guests' stdout and stderr going to
    /// `outputs` where it replaces them.
    pub fn prepare_with(
        self,
        out: &Output,
        outputs: GuestOutputs,
    ) -> Result<(Project, PreparedFlow), Failure> {
        let project = load_project(&self.manifest, self.overrides)?;
        let deadline = self
            .timeout
            .as_deref()
            .map(parse_duration)
            .transpose()
            .map_err(validation)?;
        let wanted = self.flow.as_deref().or(self.flow_ref.as_deref());
        let endpoints = endpoints(self.input.as_deref(), self.output.as_deref())?;
        let mut prepared = prepare_flow(&project, wanted, &endpoints, outputs, out)?;
        prepared.plan = prepared
            .plan
            .with_element_limit(self.limit)
            .with_deadline(deadline);
        Ok((project, prepared))
    }

    /// [`Self::prepare_with`] with the guests writing to the process's
    /// own streams.
    pub fn prepare(self, out: &Output) -> Result<(Project, PreparedFlow), Failure> {
        self.prepare_with(out, GuestOutputs::default())
    }
}

/// Plans flow `wanted` (default: the first) of `project` on a new engine
/// with `[runtime]`'s settings (whose guests print to `outputs` where it
/// replaces the process's streams), printing the progress lines `torvyn
/// run` shows.
pub fn prepare_flow(
    project: &Project,
    wanted: Option<&str>,
    endpoints: &Endpoints,
    outputs: GuestOutputs,
    out: &Output,
) -> Result<PreparedFlow, Failure> {
    let (flow_name, _) = project.flow(wanted).map_err(validation)?;
    out.set_root(project.root());
    out.status(&format!(
        "Loading flow '{flow_name}' from {}",
        project.file_name()
    ));
    let engine = project.engine(outputs).map_err(validation)?;
    let plan =
        plan_flow_with(project, Some(flow_name), endpoints, &engine, out).map_err(validation)?;
    Ok(PreparedFlow { engine, plan })
}

/// Starts the actor runtime that runs the flows (supervised FlowActors on
/// worker arbiters, driven in batches, exactly as a long-lived host runs
/// them) with the project's `[runtime]` and `[observability]` settings.
pub fn start_host(project: &Project, engine: WasmEngine) -> Result<TorvynHandle, Failure> {
    TorvynHost::builder()
        .project(project)
        .engine(engine)
        .build()
        .map_err(host_failure)
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
/// deadline's E0400, …); an invalid manifest or plan exits as validation
/// does; other host errors render as themselves.
pub fn host_failure(e: HostError) -> Failure {
    match e {
        HostError::Flow { diagnostic, .. } => Failure {
            diagnostics: vec![diagnostic],
            exit: PIPELINE_ERROR,
        },
        HostError::Invalid(invalid) => validation(invalid),
        other => pipeline(other),
    }
}

pub fn pipeline<E: Coded>(e: E) -> Failure {
    Failure {
        diagnostics: e.diagnostics(),
        exit: PIPELINE_ERROR,
    }
}
