//! `torvyn`: the Torvyn command-line tool.

mod commands;
mod output;
mod progress;
mod render;
mod units;

use clap::{CommandFactory, Parser, Subcommand};
use output::{ColorChoice, Format, Output};
use std::process::ExitCode;

/// Torvyn: ownership-aware streaming pipelines of WebAssembly components.
#[derive(Debug, Parser)]
#[command(name = "torvyn", version, about, propagate_version = true)]
struct Cli {
    /// Output format: human (default) or json.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Color output: auto (default: when stderr is a terminal and NO_COLOR is unset), always, never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Suppress non-essential output.
    #[arg(long, global = true)]
    quiet: bool,
    /// Increase output verbosity.
    #[arg(long, global = true)]
    verbose: bool,
    /// Log verbosity (overrides TORVYN_LOG, --verbose and --quiet for logs).
    #[arg(long, global = true, value_enum, value_name = "LEVEL")]
    log_level: Option<LogLevel>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new Torvyn project from a template.
    Init(commands::init::InitArgs),
    /// Check the project, then compile its components to WebAssembly.
    Build(commands::build::BuildArgs),
    /// Execute a pipeline locally.
    Run(commands::run::RunArgs),
    /// Validate WIT contracts, manifest and project structure.
    Check(commands::check::CheckArgs),
    /// Verify that a pipeline's components are compatible and can be composed.
    Link(commands::link::LinkArgs),
    /// Run every flow of one or more manifests, supervised, until SIGTERM/SIGINT.
    Serve(commands::serve::ServeArgs),
    /// Run a pipeline under sustained load and produce a performance report.
    Bench(commands::bench::BenchArgs),
    /// Execute a pipeline with full tracing: every element's path, timings, buffers and copies.
    Trace(commands::trace::TraceArgs),
    /// Check the machine and the project: toolchain, wasm target, optional tools, WIT dependencies.
    Doctor(commands::doctor::DoctorArgs),
    /// Package a compiled component as an OCI-compatible artifact.
    Pack(commands::pack::PackArgs),
    /// Publish a packaged artifact to an OCI registry.
    Publish(commands::publish::PublishArgs),
    /// Display metadata about a compiled component: interfaces, capabilities, contracts, size.
    Inspect(commands::inspect::InspectArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(commands::completions::CompletionsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = cli.color.resolve();
    init_logging(cli.log_level, cli.verbose, cli.quiet, color);
    let out = Output::new(cli.format, cli.quiet, cli.verbose, color);
    let code = match cli.command {
        Command::Init(args) => commands::init::run(args, &out),
        Command::Build(args) => commands::build::run(args, &out),
        Command::Run(args) => commands::run::run(args, &out),
        Command::Check(args) => commands::check::run(args, &out),
        Command::Link(args) => commands::link::run(args, &out, cli.verbose),
        Command::Serve(args) => commands::serve::run(args, &out),
        Command::Inspect(args) => commands::inspect::run(args, &out),
        Command::Pack(args) => commands::pack::run(args, &out),
        Command::Publish(args) => commands::publish::run(args, &out),
        Command::Doctor(args) => commands::doctor::run(args, &out),
        Command::Completions(args) => commands::completions::run(args, &mut Cli::command()),
        Command::Bench(args) => commands::bench::run(args, &out, cli.format),
        Command::Trace(args) => commands::trace::run(args, &out),
    };
    ExitCode::from(code)
}

/// `--log-level`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    fn directive(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// Logs go to stderr, at `--log-level`, else filtered by `TORVYN_LOG`
/// (default `info`, as the configuration reference says; Torvyn's own
/// `debug` too with --verbose; `error` with --quiet).
fn init_logging(level: Option<LogLevel>, verbose: bool, quiet: bool, color: bool) {
    let filter = match level {
        Some(level) => tracing_subscriber::EnvFilter::new(level.directive()),
        None => env_filter(verbose, quiet),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| progress::LogWriter)
        .with_ansi(color)
        .with_target(false)
        .try_init();
}

/// `TORVYN_LOG`, or the default of --verbose / --quiet. The NATS client's
/// per-connection lines (connected, closed) stay below `warn` unless asked
/// for: the connectors report what matters themselves.
fn env_filter(verbose: bool, quiet: bool) -> tracing_subscriber::EnvFilter {
    let default = if quiet {
        "error"
    } else if verbose {
        "info,async_nats=warn,torvyn_runtime=debug,torvyn_actors=debug,torvyn_cli=debug"
    } else {
        "info,async_nats=warn"
    };
    tracing_subscriber::EnvFilter::try_from_env("TORVYN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
}
