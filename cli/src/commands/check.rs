//! `torvyn check`: static validation of a project, without compiling or
//! running anything. The spec's seven steps: manifest parse and schema
//! (E0001, E0002, E0700–E0702), WIT syntax (E0100) and resolution (E0101),
//! world consistency (E0102), the capability cross-check of each
//! component's manifest against its world's imports (E0103), and
//! deprecations (E0110, a warning; an error under `--strict`).

use crate::output::{diagnostic_json, exit_code_of, Output};
use std::path::PathBuf;
use torvyn_runtime::assembly::check::check_project;
use torvyn_runtime::assembly::project::root_of;

/// `torvyn check` arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Path to Torvyn.toml.
    #[arg(long, value_name = "PATH", default_value = "Torvyn.toml")]
    manifest: PathBuf,
    /// Treat warnings as errors (exit 2 when there are any).
    #[arg(long)]
    strict: bool,
}

pub fn run(args: CheckArgs, out: &Output) -> u8 {
    out.set_root(&root_of(&args.manifest));
    let report = check_project(&args.manifest, out);
    if !report.errors.is_empty() {
        for line in &report.lines {
            out.line(&format!("  ✓ {line}"));
        }
        let code = exit_code_of(&report.errors);
        return out.fail_all(&report.errors, &report.warnings, code, Some("check"));
    }
    for line in &report.lines {
        out.line(&format!("  ✓ {line}"));
    }
    out.warn_all(&report.warnings);
    let code = if args.strict && !report.warnings.is_empty() {
        2
    } else {
        0
    };
    out.line("");
    out.line(match (code, report.warnings.is_empty()) {
        (0, true) => "  All checks passed.",
        (0, false) => "  All checks passed, with warnings.",
        _ => "  Checks failed: warnings are errors under --strict.",
    });
    out.json(
        serde_json::json!({
            "command": "check",
            "checks": report.lines,
            "warnings": report.warnings.iter().map(diagnostic_json).collect::<Vec<_>>(),
        }),
        code,
    );
    code
}
