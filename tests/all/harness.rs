//! Running `torvyn` in a scratch project whose Torvyn.toml points at the
//! test components.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The outcome of one `torvyn` invocation.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, showing both streams when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts stderr names `error[<code>]`, and has a help line.
    pub fn expect_error(&self, code: &str) -> &Self {
        let header = format!("error[{code}]");
        assert!(
            self.stderr.contains(&header),
            "expected {header} in stderr:\n{}",
            self.stderr
        );
        assert!(
            self.stderr.contains("= help:"),
            "expected a help line in stderr:\n{}",
            self.stderr
        );
        // A guest's own panic message may appear (it is the guest's stderr);
        // a panic of the host itself must not.
        let host_panic = self.stderr.lines().any(|l| {
            l.contains("panicked at")
                && ["cli/", "runtime/", ".cargo/registry"]
                    .iter()
                    .any(|p| l.contains(p))
        });
        assert!(!host_panic, "the CLI panicked:\n{}", self.stderr);
        self
    }
}

/// Compiled components are cached in one place for the whole test run.
fn cache_dir() -> PathBuf {
    torvyn_e2e::repo_root()
        .join("target")
        .join("torvyn-test-cache")
}

/// Runs `torvyn <args>` in `dir`.
pub fn torvyn(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_torvyn"))
        .args(args)
        .current_dir(dir)
        .env("TORVYN_CACHE_DIR", cache_dir())
        .env("NO_COLOR", "1")
        .env_remove("TORVYN_LOG")
        .output()
        .expect("the torvyn binary runs");
    Run::from(output)
}

/// A scratch project holding one Torvyn.toml.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    /// A project whose manifest is exactly `manifest`.
    pub fn with_manifest(manifest: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("Torvyn.toml"), manifest).expect("write manifest");
        Self { dir }
    }

    /// A linear flow `main` of `(node, component, interface, config)`,
    /// connected in order.
    pub fn linear(nodes: &[(&str, &str, &str, &str)]) -> Self {
        Self::with_manifest(&linear_manifest(nodes))
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn run(&self, args: &[&str]) -> Run {
        torvyn(self.path(), args)
    }
}

/// `file://` reference to a built test component.
pub fn component(name: &str) -> String {
    format!("file://{}", torvyn_e2e::test_component(name).display())
}

pub const SOURCE: &str = "torvyn:streaming/source";
pub const PROCESSOR: &str = "torvyn:streaming/processor";
pub const SINK: &str = "torvyn:streaming/sink";

pub fn linear_manifest(nodes: &[(&str, &str, &str, &str)]) -> String {
    let mut toml = String::from(
        "[torvyn]\nname = \"e2e\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n\n[flow.main]\n",
    );
    for (name, component, interface, config) in nodes {
        toml.push_str(&format!(
            "\n[flow.main.nodes.{name}]\ncomponent = \"{component}\"\ninterface = \"{interface}\"\nconfig = '{config}'\n"
        ));
    }
    for pair in nodes.windows(2) {
        toml.push_str(&format!(
            "\n[[flow.main.edges]]\nfrom = {{ node = \"{}\", port = \"output\" }}\nto = {{ node = \"{}\", port = \"input\" }}\n",
            pair[0].0, pair[1].0
        ));
    }
    toml
}

/// Replaces run-dependent figures (durations, temp paths) for snapshots.
pub fn redact(text: &str, project: &Path) -> String {
    let mut out = text.replace(&project.display().to_string(), "[PROJECT]");
    out = out.replace(&torvyn_e2e::repo_root().display().to_string(), "[REPO]");
    let duration = regex_lite_duration(&out);
    out = duration;
    out
}

/// `Duration: 787µs` / `12ms` / `1.2s` → `Duration: [DURATION]`.
fn regex_lite_duration(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("Duration: ") {
            Some(at) => {
                let rest = &line[at + "Duration: ".len()..];
                let end = rest.find(' ').unwrap_or(rest.len());
                format!("{}Duration: [DURATION]{}", &line[..at], &rest[end..])
            }
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
