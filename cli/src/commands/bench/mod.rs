//! `torvyn bench`: run a flow under sustained load and report throughput,
//! latency percentiles, per-component latency, resources and scheduling
//! (spec: CLI reference, "torvyn bench").
//!
//! - [`driver`]: sustained load on the actor runtime (restarts when the
//!   source runs out), warmup excluded, a measured window.
//! - [`window`]: the window's figures, added up over the flow's runs.
//! - [`report`]: the report and its pretty / JSON / CSV / Markdown forms.
//! - [`compare`]: `--compare` deltas and the regression gate (exit 3).
//!
//! The flow runs exactly as `torvyn run` runs it, with three differences:
//! every stage records latency histograms (`FlowSettings::stage_timing`),
//! guests' stdout is discarded (the report owns stdout, and printing per
//! element would measure the terminal), and `--input` may replace the
//! sources' `config`.

mod compare;
mod driver;
mod error;
mod report;
mod window;

use self::compare::Baseline;
use self::driver::LoadPlan;
use self::error::BenchError;
use self::report::{BenchReport, Settings};
use super::host_services::{HostServices, InspectArgs};
use super::prepare::{load_project, pipeline, prepare_flow, start_host, validation, Failure};
use crate::output::{Format, Output};
use std::path::{Path, PathBuf};
use std::time::Duration;
use torvyn_actors::FlowSpec as ActorFlowSpec;
use torvyn_runtime::assembly::{EndpointOverride, Endpoints};
use torvyn_runtime::config::parse_duration;
use torvyn_runtime::connectors::{ConnectorKind, ConnectorSpec};
use torvyn_runtime::reactor::{FlowSettings, FlowSpec, StageComponent, StageRole};

/// Exit code when the run is slower than the `--compare` baseline.
const REGRESSION: u8 = 3;

/// `--report-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// The spec's human-readable layout.
    Pretty,
    /// One JSON object (fields `throughput_eps`, `latency_p50_us`, …).
    Json,
    /// `section,name,metric,value` rows.
    Csv,
    /// Markdown tables.
    Markdown,
}

/// `torvyn bench` arguments.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Flow to benchmark, as `flow.<name>` (default: the first defined flow).
    #[arg(value_name = "FLOW")]
    flow_ref: Option<String>,
    /// Path to Torvyn.toml.
    #[arg(long, value_name = "PATH", default_value = "Torvyn.toml")]
    manifest: PathBuf,
    /// Flow to benchmark (same as the positional `flow.<name>`).
    #[arg(long, value_name = "NAME")]
    flow: Option<String>,
    /// Measured duration (after the warmup).
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    duration: String,
    /// Warmup period excluded from the results.
    #[arg(long, value_name = "DURATION", default_value = "2s")]
    warmup: String,
    /// Replace the flow's source with a connector, as `torvyn run --input`
    /// does (a file, `-`, `generator[:count=N,size=B,rate=R]`); or else
    /// override the sources' `config` (the string passed to
    /// `lifecycle.init`): `CONFIG` for every source, `NODE=CONFIG` for one,
    /// `@FILE` (or `NODE=@FILE`) to read it from a file.
    #[arg(long, value_name = "SOURCE")]
    input: Option<String>,
    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Report format (default: pretty; json with --format json).
    #[arg(long, value_enum, value_name = "FMT")]
    report_format: Option<ReportFormat>,
    /// Compare with a previous JSON report; exit 3 on a regression.
    #[arg(long, value_name = "PATH")]
    compare: Option<PathBuf>,
    /// Percent drop in throughput, or rise in p99 latency, that counts as a
    /// regression with --compare.
    #[arg(long, value_name = "PCT", default_value_t = 10.0)]
    regression_threshold: f64,
    /// Save the JSON report as `.torvyn/bench/<NAME>.json` (next to
    /// Torvyn.toml).
    #[arg(
        long,
        value_name = "NAME",
        help = "Save the JSON report as .torvyn/bench/<NAME>.json (next to Torvyn.toml)"
    )]
    baseline: Option<String>,
    /// Override a configuration value (e.g. runtime.worker_threads=1).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    #[command(flatten)]
    inspection: InspectArgs,
}

pub fn run(args: BenchArgs, out: &Output, format: Format) -> u8 {
    match execute(args, out, format) {
        Ok(code) => code,
        Err(failure) => failure.report(out, "bench"),
    }
}

/// Errors found before the flow runs exit with 2.
fn bad_input(e: BenchError) -> Failure {
    Failure {
        diagnostics: torvyn_runtime::error::Coded::diagnostics(&e),
        exit: 2,
    }
}

fn duration_arg(text: &str) -> Result<Duration, Failure> {
    parse_duration(text).map_err(validation)
}

fn execute(args: BenchArgs, out: &Output, format: Format) -> Result<u8, Failure> {
    // Everything the command line can get wrong, before anything is built.
    let duration = duration_arg(&args.duration)?;
    if duration.is_zero() {
        return Err(bad_input(BenchError::ZeroDuration));
    }
    let warmup = duration_arg(&args.warmup)?;
    let threshold = args.regression_threshold;
    if !threshold.is_finite() || threshold < 0.0 {
        return Err(bad_input(BenchError::BadThreshold(threshold.to_string())));
    }
    if let Some(name) = &args.baseline {
        check_baseline_name(name).map_err(bad_input)?;
    }
    let baseline = args
        .compare
        .as_deref()
        .map(Baseline::load)
        .transpose()
        .map_err(bad_input)?;
    let report_format = args.report_format.unwrap_or(match format {
        Format::Json => ReportFormat::Json,
        Format::Human => ReportFormat::Pretty,
    });

    let project = load_project(&args.manifest, args.overrides)?;
    let wanted = args.flow.as_deref().or(args.flow_ref.as_deref());
    // A flow with no sink gets one that discards, not one that prints;
    // `--input` naming a connector (a file, `-`, a generator) replaces the
    // flow's source, any other `--input` is its sources' config.
    let connector = args.input.as_deref().filter(|i| names_a_connector(i));
    let endpoints = Endpoints {
        input: connector
            .map(EndpointOverride::input)
            .transpose()
            .map_err(validation)?,
        missing_sink: Some(EndpointOverride::discard()),
        ..Endpoints::default()
    };
    let prepared = prepare_flow(&project, wanted, &endpoints, Default::default(), out)?;
    // A benchmark measures one run: no flow restarts.
    let (mut spec, settings, _restart) = prepared.plan.into_parts();
    let flow_name = settings.flow_name.clone();
    if let Some(input) = args.input.as_deref().filter(|i| !names_a_connector(i)) {
        apply_input(&mut spec, &flow_name, input).map_err(bad_input)?;
    }
    // Nothing prints while measuring: guests lose stdout, and a
    // built-in stdout sink discards instead.
    for stage in &mut spec.stages {
        stage.sandbox.stdout = false;
        if let StageComponent::Connector(connector) = &stage.component {
            if connector.kind() == ConnectorKind::StdoutSink {
                stage.component = ConnectorSpec::discard().into();
            }
        }
    }
    let settings = FlowSettings {
        stage_timing: true,
        ..settings
    };
    let host = start_host(&project, prepared.engine)?;
    let observability = &project.manifest().observability;
    let services = HostServices::start(args.inspection, observability, &host, false, out)?;
    let workers = host.worker_threads();
    out.status(&format!(
        "Benchmarking flow '{flow_name}': {} warmup, then {} measured",
        args.warmup, args.duration
    ));
    let flow = ActorFlowSpec::graph(spec).with_settings(settings);
    let window = driver::drive(&host, flow, LoadPlan { warmup, duration });
    services.stop();
    host.shutdown();
    let window = window?;

    let settings = Settings {
        manifest: args.manifest.display().to_string(),
        flow: flow_name,
        duration_s: duration.as_secs_f64(),
        warmup_s: warmup.as_secs_f64(),
        input: args.input.clone(),
        worker_threads: workers,
        latency_source:
            "reactor fixed-bucket histograms (buckets <= 3.1% wide) fed to an HDR histogram",
    };
    let mut report = BenchReport::new(&window, settings, peak_memory_bytes());
    if let Some(baseline) = &baseline {
        report.comparison = Some(compare::compare(&report, baseline, threshold));
    }

    let text = match report_format {
        ReportFormat::Pretty => report.to_pretty(),
        ReportFormat::Json => report.to_json() + "\n",
        ReportFormat::Csv => report.to_csv(),
        ReportFormat::Markdown => report.to_markdown(),
    };
    match &args.report {
        Some(path) => {
            write_file(path, &text)?;
            out.status(&format!("Report written to {}", path.display()));
        }
        None => crate::output::to_stdout(&text),
    }
    if let Some(name) = &args.baseline {
        let path = project
            .root()
            .join(".torvyn")
            .join("bench")
            .join(format!("{name}.json"));
        write_file(&path, &(report.to_json() + "\n"))?;
        out.status(&format!("Baseline '{name}' saved to {}", path.display()));
    }
    match &report.comparison {
        Some(c) if c.regression => {
            out.status(&format!(
                "Regression against {}: {}",
                c.baseline,
                c.reasons.join("; ")
            ));
            Ok(REGRESSION)
        }
        _ => Ok(0),
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    let failed = |source| {
        pipeline(BenchError::WriteFailed {
            path: path.to_path_buf(),
            source,
        })
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    std::fs::write(path, text).map_err(failed)
}

/// A baseline name is a plain file name: letters, digits, `.`, `_`, `-`.
fn check_baseline_name(name: &str) -> Result<(), BenchError> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if plain {
        Ok(())
    } else {
        Err(BenchError::BadBaselineName(name.to_string()))
    }
}

/// `--input`: `CONFIG`, `NODE=CONFIG`, `@FILE` or `NODE=@FILE`.
/// Whether `--input` names a connector, as `torvyn run --input` does: `-`
/// or `stdin`, `generator[:…]`, `test-source[:…]`, or an existing file.
fn names_a_connector(input: &str) -> bool {
    let name = input.split_once(':').map_or(input, |(name, _)| name);
    matches!(name, "-" | "stdin" | "generator" | "test-source")
        || (!input.starts_with('@') && Path::new(input).is_file())
}

fn apply_input(spec: &mut FlowSpec, flow: &str, input: &str) -> Result<(), BenchError> {
    let (node, config) = split_input(input);
    let config = match config.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|source| BenchError::InputUnreadable {
                path: path.into(),
                source,
            })?
        }
        None => config.to_string(),
    };
    let mut matched = false;
    for stage in &mut spec.stages {
        if stage.role == StageRole::Source && node.is_none_or(|n| n == stage.name) {
            stage.config = config.clone();
            matched = true;
        }
    }
    if matched {
        return Ok(());
    }
    let sources: Vec<&str> = spec
        .stages
        .iter()
        .filter(|s| s.role == StageRole::Source)
        .map(|s| s.name.as_str())
        .collect();
    Err(BenchError::UnknownSource {
        node: node.unwrap_or_default().to_string(),
        flow: flow.to_string(),
        sources: sources.join(", "),
    })
}

/// `NODE=REST` when the text starts with a node name and `=`.
fn split_input(input: &str) -> (Option<&str>, &str) {
    match input.split_once('=') {
        Some((node, rest))
            if !node.is_empty()
                && node
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')) =>
        {
            (Some(node), rest)
        }
        _ => (None, input),
    }
}

/// The process's peak resident set (Linux `VmHWM`): host, compiled code
/// and every component's linear memory together.
fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_names_a_node_only_before_an_equals_sign() {
        assert_eq!(split_input(r#"{"count": 0}"#), (None, r#"{"count": 0}"#));
        assert_eq!(split_input("source={}"), (Some("source"), "{}"));
        assert_eq!(split_input("src-2=@cfg.json"), (Some("src-2"), "@cfg.json"));
        assert_eq!(split_input("@a=b.json"), (None, "@a=b.json"));
        assert_eq!(split_input("count=5 x"), (Some("count"), "5 x"));
    }

    #[test]
    fn baseline_names_are_plain_file_names() {
        assert!(check_baseline_name("my-baseline_2.0").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            assert!(check_baseline_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn peak_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_memory_bytes().is_some_and(|b| b > 0));
        }
    }
}
