//! How the CLI talks to people and machines. Runtime progress lines go to
//! stderr so stdout carries only what the components print; errors and
//! warnings render with miette (human), or as one JSON object on stdout
//! (json) carrying `exit_code`, `errors` and `warnings`.
//!
//! Colour: `--color always` forces it, `--color never` and a non-empty
//! `NO_COLOR` turn it off, and `auto` (the default) colours only when
//! stderr is a terminal.

use crate::render;
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use torvyn_runtime::engine::{GuestOutput, GuestOutputs};
use torvyn_runtime::error::Diagnostic;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable text.
    Human,
    /// One JSON object on stdout.
    Json,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stderr is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always colour (even when `NO_COLOR` is set).
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether to colour, given `NO_COLOR` and whether stderr is a terminal.
    pub fn enabled(self, no_color: Option<&std::ffi::OsStr>, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => no_color.is_none_or(|v| v.is_empty()) && terminal,
        }
    }

    /// [`ColorChoice::enabled`] for this process.
    pub fn resolve(self) -> bool {
        self.enabled(
            std::env::var_os("NO_COLOR").as_deref(),
            std::io::stderr().is_terminal(),
        )
    }
}

/// The CLI's output channel.
pub struct Output {
    format: Format,
    quiet: bool,
    verbose: bool,
    color: bool,
    /// The project's directory: locations relative to it (WIT files,
    /// component manifests) are found there for source snippets.
    root: RefCell<Option<PathBuf>>,
}

/// Writes `text` to stdout. When stdout is a pipe whose reader has gone
/// (`torvyn … | head`), exits at once as a Unix tool killed by SIGPIPE
/// would (status 141), instead of panicking.
pub fn to_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("torvyn: cannot write to stdout: {e}");
    }
}

/// Guest output moved to stderr (`--format json`: stdout carries only
/// the JSON).
struct ToStderr;

impl GuestOutput for ToStderr {
    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        std::io::stderr().lock().write_all(bytes)
    }

    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().lock().flush()
    }
}

impl Output {
    /// Where the guests' (and the stdout sink's) output goes: the process's
    /// stdout, except under `--format json`, where stdout carries only the
    /// JSON and their lines go to stderr.
    pub fn guest_outputs(&self) -> GuestOutputs {
        match self.format {
            Format::Human => GuestOutputs::default(),
            Format::Json => GuestOutputs {
                stdout: Some(Arc::new(ToStderr)),
                stderr: None,
            },
        }
    }

    pub fn new(format: Format, quiet: bool, verbose: bool, color: bool) -> Self {
        Self {
            format,
            quiet,
            verbose,
            color,
            root: RefCell::new(None),
        }
    }

    /// The output format and whether `--quiet` is on.
    pub fn mode(&self) -> (Format, bool) {
        (self.format, self.quiet)
    }

    /// Sets the project directory used to find files named in locations.
    pub fn set_root(&self, root: &Path) {
        *self.root.borrow_mut() = Some(root.to_path_buf());
    }

    /// A `[torvyn] …` progress line (human format, not quiet).
    pub fn status(&self, line: &str) {
        if self.format == Format::Human && !self.quiet {
            crate::progress::around_progress(|| {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "[torvyn] {line}");
            });
        }
    }

    /// A result line on stdout (human format, not quiet): what `check`
    /// and `link` report.
    pub fn line(&self, line: &str) {
        if self.format == Format::Human && !self.quiet {
            to_stdout(&format!("{line}\n"));
        }
    }

    /// A detail line on stdout, only with `--verbose` (human format).
    pub fn detail(&self, line: &str) {
        if self.verbose {
            self.line(line);
        }
    }

    /// A blank separator line on stderr.
    pub fn blank(&self) {
        if self.format == Format::Human && !self.quiet {
            eprintln!();
        }
    }

    fn render(&self, diagnostic: &Diagnostic, severity: render::Severity) -> String {
        render::render(
            diagnostic,
            severity,
            self.color,
            self.root.borrow().as_deref(),
        )
    }

    /// Warnings (human format; JSON carries them in [`Output::fail_all`] and
    /// [`Output::json`]). Shown even with `--quiet`.
    pub fn warn_all(&self, warnings: &[Diagnostic]) {
        if self.format == Format::Human {
            let _ = std::io::stdout().flush();
            for warning in warnings {
                eprint!("{}", self.render(warning, render::Severity::Warning));
            }
        }
    }

    /// Reports every error (and warning) a command found and returns
    /// `exit_code`. `command` names the command in JSON.
    pub fn fail_all(
        &self,
        errors: &[Diagnostic],
        warnings: &[Diagnostic],
        exit_code: u8,
        command: Option<&str>,
    ) -> u8 {
        match self.format {
            Format::Human => {
                let _ = std::io::stdout().flush();
                self.warn_all(warnings);
                for (i, error) in errors.iter().enumerate() {
                    if i > 0 {
                        eprintln!();
                    }
                    eprint!("{}", self.render(error, render::Severity::Error));
                }
                if errors.len() > 1 {
                    eprintln!("\n{} errors found.", errors.len());
                }
            }
            Format::Json => {
                let mut value = serde_json::json!({
                    "exit_code": exit_code,
                    "errors": errors.iter().map(diagnostic_json).collect::<Vec<_>>(),
                    "warnings": warnings.iter().map(diagnostic_json).collect::<Vec<_>>(),
                });
                if let (Some(command), Some(map)) = (command, value.as_object_mut()) {
                    map.insert("command".into(), command.into());
                }
                to_stdout(&format!("{value}\n"));
            }
        }
        exit_code
    }

    /// Prints the JSON result of a successful command.
    pub fn json(&self, mut value: serde_json::Value, exit_code: u8) {
        if self.format == Format::Json {
            if let Some(map) = value.as_object_mut() {
                map.insert("exit_code".into(), exit_code.into());
                map.insert("errors".into(), serde_json::json!([]));
                map.entry("warnings").or_insert(serde_json::json!([]));
            }
            to_stdout(&format!("{value}\n"));
        }
    }
}

/// One error or warning as JSON: `code`, `name`, `message`, `location`, `help`.
pub fn diagnostic_json(d: &Diagnostic) -> serde_json::Value {
    serde_json::json!({
        "code": d.code.as_str(),
        "name": d.code.name(),
        "message": d.message,
        "location": d.location,
        "help": d.help,
    })
}

/// Exit code for a diagnostic: the code's own (1 or 2).
pub fn exit_code(d: &Diagnostic) -> u8 {
    u8::try_from(d.code.exit_code()).unwrap_or(1)
}

/// Exit code for several: 2 when any of them is a missing input, else 1.
pub fn exit_code_of(all: &[Diagnostic]) -> u8 {
    if all.iter().any(|d| exit_code(d) == 2) {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn color_follows_the_flag_no_color_and_the_terminal() {
        let none = None;
        let set = Some(OsStr::new("1"));
        let empty = Some(OsStr::new(""));
        assert!(ColorChoice::Auto.enabled(none, true));
        assert!(!ColorChoice::Auto.enabled(none, false));
        assert!(!ColorChoice::Auto.enabled(set, true));
        assert!(ColorChoice::Auto.enabled(empty, true));
        assert!(ColorChoice::Always.enabled(set, false));
        assert!(!ColorChoice::Never.enabled(none, true));
    }
}
