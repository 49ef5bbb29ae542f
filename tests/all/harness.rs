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
    pub fn from(output: Output) -> Self {
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

    /// Asserts stderr names `error[<code>]` (the miette header), and has a
    /// help line.
    pub fn expect_error(&self, code: &str) -> &Self {
        let header = format!("error[{code}]");
        assert!(
            self.stderr.contains(&header),
            "expected {header} in stderr:\n{}",
            self.stderr
        );
        assert!(
            self.stderr.contains("  help: "),
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
    torvyn_with_env(dir, args, &[])
}

/// Runs `torvyn <args>` in `dir` with `env` set on top of the usual
/// test environment.
pub fn torvyn_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = command(dir, args)
        .envs(env.iter().copied())
        .output()
        .expect("the torvyn binary runs");
    Run::from(output)
}

/// The `torvyn <args>` command in `dir`, with the test environment, not
/// yet started.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_torvyn"));
    command
        .args(args)
        .current_dir(dir)
        .env("TORVYN_CACHE_DIR", cache_dir())
        .env("NO_COLOR", "1")
        .env_remove("TORVYN_LOG")
        // Guests are built by the test support into each example's own
        // target/; a redirected target dir must not make torvyn look elsewhere.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    command
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

/// Replaces run-dependent figures (durations, throughput, temp paths)
/// for snapshots.
pub fn redact(text: &str, project: &Path) -> String {
    let mut out = text.replace(&project.display().to_string(), "[PROJECT]");
    out = out.replace(&torvyn_e2e::repo_root().display().to_string(), "[REPO]");
    out = redact_value(&out, "Duration: ", "[DURATION]");
    redact_value(&out, "Throughput: ", "[THROUGHPUT]")
}

/// The word after `label` on each line → `mask`: `Duration: 787µs` /
/// `12ms` / `1.2s` → `Duration: [DURATION]`.
fn redact_value(text: &str, label: &str, mask: &str) -> String {
    text.lines()
        .map(|line| match line.find(label) {
            Some(at) => {
                let rest = &line[at + label.len()..];
                let end = rest.find(' ').unwrap_or(rest.len());
                format!("{}{label}{mask}{}", &line[..at], &rest[end..])
            }
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A node of a [`dag_manifest`]: name, component, interface, config JSON.
pub type Node<'a> = (&'a str, &'a str, &'a str, &'a str);

/// An edge of a [`dag_manifest`]: `(from node, from port, to node, extra)`,
/// where `extra` is more TOML for the `[[flow.main.edges]]` entry (e.g.
/// `backpressure = { queue_depth = 16, policy = "block" }`) or `""`.
pub type Edge<'a> = (&'a str, &'a str, &'a str, &'a str);

/// A flow `main` of any shape: `nodes`, then `edges`, then `flow_extra`
/// (more TOML for the `[flow.main]` table itself, e.g.
/// `default_queue_depth = 16`, or `""`).
pub fn dag_manifest(nodes: &[Node<'_>], edges: &[Edge<'_>], flow_extra: &str) -> String {
    let mut toml = String::from(
        "[torvyn]\nname = \"e2e\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n",
    );
    toml.push_str(&format!("\n[flow.main]\n{flow_extra}\n"));
    for (name, component, interface, config) in nodes {
        toml.push_str(&format!(
            "\n[flow.main.nodes.{name}]\ncomponent = \"{component}\"\ninterface = \"{interface}\"\nconfig = '{config}'\n"
        ));
    }
    for (from, port, to, extra) in edges {
        toml.push_str(&format!(
            "\n[[flow.main.edges]]\nfrom = {{ node = \"{from}\", port = \"{port}\" }}\nto = {{ node = \"{to}\", port = \"input\" }}\n{extra}\n"
        ));
    }
    toml
}

impl Project {
    /// A project whose flow `main` is [`dag_manifest`]`(nodes, edges, flow_extra)`.
    pub fn dag(nodes: &[Node<'_>], edges: &[Edge<'_>], flow_extra: &str) -> Self {
        Self::with_manifest(&dag_manifest(nodes, edges, flow_extra))
    }
}

pub const FILTER: &str = "torvyn:filtering/filter";
pub const ROUTER: &str = "torvyn:filtering/router";
pub const AGGREGATOR: &str = "torvyn:aggregation/aggregator";

/// The JSON summary `torvyn run --format json` prints as its last stdout line.
pub fn json_summary(run: &Run) -> serde_json::Value {
    serde_json::from_str(run.stdout.lines().last().unwrap_or("")).unwrap_or_else(|e| {
        panic!(
            "no JSON summary on the last stdout line ({e})\n--- stdout\n{}\n--- stderr\n{}",
            run.stdout, run.stderr
        )
    })
}

/// The `streams` entry named `name` in a JSON summary.
pub fn stream<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["streams"]
        .as_array()
        .unwrap_or_else(|| panic!("no `streams` array in {json}"))
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no stream `{name}` in {json}"))
}

/// The one `CARGO_TARGET_DIR` of the projects `torvyn init` generates in
/// this test run: wit-bindgen is compiled once for all of them (their
/// crate names differ, so cargo keeps their artifacts apart).
pub fn generated_target_dir() -> PathBuf {
    torvyn_e2e::repo_root().join("target").join("init-guests")
}

/// Runs `torvyn <args>` in `dir`, a project `torvyn init` generated, with
/// guests built into [`generated_target_dir`].
pub fn torvyn_generated(dir: &Path, args: &[&str]) -> Run {
    let target = generated_target_dir();
    torvyn_with_env(
        dir,
        args,
        &[("CARGO_TARGET_DIR", &target.display().to_string())],
    )
}
