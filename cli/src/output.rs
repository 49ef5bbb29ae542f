//! How the CLI talks to people and machines. Runtime progress lines go to
//! stderr so stdout carries only what the components print; errors render
//! as rustc-style diagnostics (human) or one JSON object (json).

use std::io::Write;
use torvyn_runtime::error::Diagnostic;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable text.
    Human,
    /// One JSON object on stdout.
    Json,
}

/// The CLI's output channel.
pub struct Output {
    format: Format,
    quiet: bool,
}

impl Output {
    pub fn new(format: Format, quiet: bool) -> Self {
        Self { format, quiet }
    }

    /// A `[torvyn] …` progress line (human format, not quiet).
    pub fn status(&self, line: &str) {
        if self.format == Format::Human && !self.quiet {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "[torvyn] {line}");
        }
    }

    /// A result line on stdout (human format, not quiet): what `check`
    /// and `link` report.
    pub fn line(&self, line: &str) {
        if self.format == Format::Human && !self.quiet {
            println!("{line}");
        }
    }

    /// A warning, rendered like an error but as `warning[…]` (human format).
    pub fn warn(&self, diagnostic: &Diagnostic) {
        if self.format == Format::Human {
            let _ = std::io::stdout().flush();
            let text = diagnostic.to_string();
            eprintln!("{}", text.replacen("error[", "warning[", 1));
        }
    }

    /// A blank separator line on stderr.
    pub fn blank(&self) {
        if self.format == Format::Human && !self.quiet {
            eprintln!();
        }
    }

    /// Reports a failure and returns its exit code.
    pub fn fail(&self, diagnostic: &Diagnostic, exit_code: u8) -> u8 {
        match self.format {
            Format::Human => {
                let _ = std::io::stdout().flush();
                eprintln!("{diagnostic}");
            }
            Format::Json => {
                let value = serde_json::json!({
                    "exit_code": exit_code,
                    "errors": [diagnostic_json(diagnostic)],
                });
                println!("{value}");
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
            }
            println!("{value}");
        }
    }
}

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
