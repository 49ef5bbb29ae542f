//! `torvyn serve`: two flows under one supervised host, one failing again
//! and again, stopped by a signal.

use crate::harness::{component, PROCESSOR, SINK, SOURCE};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// `endless`: counter-source (never ends) → quiet-sink. `failing`:
/// counter-source → error-processor whose init always fails → quiet-sink.
fn manifest() -> String {
    let source = component("counter-source");
    let broken = component("error-processor");
    let sink = component("quiet-sink");
    format!(
        r#"[torvyn]
name = "serve-e2e"
version = "0.1.0"
contract_version = "0.1.0"

[flow.endless.nodes.source]
component = "{source}"
interface = "{SOURCE}"
config = '{{"count": 0}}'

[flow.endless.nodes.sink]
component = "{sink}"
interface = "{SINK}"

[[flow.endless.edges]]
from = {{ node = "source", port = "output" }}
to = {{ node = "sink", port = "input" }}

[flow.failing.nodes.source]
component = "{source}"
interface = "{SOURCE}"
config = '{{"count": 10}}'

[flow.failing.nodes.broken]
component = "{broken}"
interface = "{PROCESSOR}"
config = '{{"kind": "no-such-kind"}}'

[flow.failing.nodes.sink]
component = "{sink}"
interface = "{SINK}"

[[flow.failing.edges]]
from = {{ node = "source", port = "output" }}
to = {{ node = "broken", port = "input" }}

[[flow.failing.edges]]
from = {{ node = "broken", port = "output" }}
to = {{ node = "sink", port = "input" }}
"#
    )
}

/// A running `torvyn serve` whose stderr lines arrive on a channel.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start() -> Self {
        Self::start_with(
            &manifest(),
            &[
                "--max-restarts",
                "3",
                "--restart-window",
                "10m",
                "--status-interval",
                "50ms",
            ],
        )
    }

    fn start_with(manifest: &str, args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("Torvyn.toml"), manifest).expect("manifest");
        let mut child = Command::new(env!("CARGO_BIN_EXE_torvyn"))
            .arg("serve")
            .args(args)
            .current_dir(dir.path())
            .env(
                "TORVYN_CACHE_DIR",
                torvyn_e2e::repo_root()
                    .join("target")
                    .join("torvyn-test-cache"),
            )
            .env("NO_COLOR", "1")
            .env_remove("TORVYN_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("torvyn serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Served {
            child,
            lines,
            stderr: Vec::new(),
            _dir: dir,
        }
    }

    /// Reads stderr until a line contains every one of `needles`. The bound
    /// only keeps a broken build from hanging the suite.
    fn wait_for(&mut self, needles: &[&str]) {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(120)) {
                Ok(line) => {
                    let hit = needles.iter().all(|n| line.contains(n));
                    self.stderr.push(line);
                    if hit {
                        return;
                    }
                }
                Err(_) => panic!(
                    "no stderr line with {needles:?}; so far:\n{}",
                    self.stderr.join("\n")
                ),
            }
        }
    }

    /// The `delivered=` of the next status line of `flow`.
    fn next_delivered(&mut self, flow: &str) -> u64 {
        let flow = format!("flow={flow}");
        self.wait_for(&["flow status", &flow, "delivered="]);
        let last = self.stderr.last().expect("the line just read");
        last.split("delivered=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|d| d.parse().ok())
            .unwrap_or(0)
    }

    /// Waits for a status line of `flow` with at least one element delivered.
    fn wait_for_delivery(&mut self, flow: &str) {
        while self.next_delivered(flow) == 0 {}
    }

    /// Waits until `flow` has delivered elements and then stopped: two
    /// status lines in a row with the same count.
    fn wait_until_stuck(&mut self, flow: &str) {
        let mut previous = self.next_delivered(flow);
        loop {
            let delivered = self.next_delivered(flow);
            if delivered > 0 && delivered == previous {
                return;
            }
            previous = delivered;
        }
    }

    /// Sends `signal`, waits for the exit; (exit code, stdout, all stderr).
    fn stop(mut self, signal: i32) -> (i32, String, String) {
        let pid = self.child.id() as i32;
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill failed");
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut stdout)
            .expect("read stdout");
        let status = self.child.wait().expect("torvyn serve exits");
        self.stderr.extend(self.lines.iter());
        (status.code().unwrap_or(-1), stdout, self.stderr.join("\n"))
    }

    fn count(&self, needles: &[&str]) -> usize {
        self.stderr
            .iter()
            .filter(|l| needles.iter().all(|n| l.contains(n)))
            .count()
    }
}

/// The `received=N` of the quiet-sink's complete() line.
fn received(stdout: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("[quiet-sink] received="))
        .unwrap_or_else(|| panic!("no quiet-sink complete() line in stdout:\n{stdout}"));
    line["[quiet-sink] received=".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("bad quiet-sink line: {line}"))
}

/// A failing flow is restarted exactly max-restarts times, then left failed,
/// while the other flow keeps delivering; SIGTERM drains the healthy flow
/// (its sink completes) and the host exits 0.
#[test]
fn sigterm_drains_after_the_failing_flow_is_given_up() {
    let mut served = Served::start();
    served.wait_for(&["flow started", "flow=endless"]);
    served.wait_for(&["flow left failed", "flow=failing"]);
    assert_eq!(served.count(&["flow restarted", "flow=failing"]), 3);
    assert_eq!(served.count(&["flow failed", "flow=failing"]), 4);
    assert_eq!(served.count(&["flow started", "flow=failing"]), 4);
    assert_eq!(served.count(&["flow=endless", "fail"]), 0);
    // The endless flow keeps delivering after the other one was given up.
    served.wait_for_delivery("endless");

    let (code, stdout, stderr) = served.stop(libc::SIGTERM);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    // Only the endless flow was live: its sink completed after the drain,
    // having delivered elements all along.
    assert_eq!(
        stdout.matches("[quiet-sink] received=").count(),
        1,
        "{stdout}"
    );
    assert!(received(&stdout) > 0, "{stdout}");
    for needle in [
        "draining signal=SIGTERM flows=1",
        "flow draining flow=endless",
        "flow drained flow=endless",
        "every flow drained",
    ] {
        assert!(stderr.contains(needle), "no `{needle}` in:\n{stderr}");
    }
    assert!(!stderr.contains("cancelling"), "{stderr}");
}

/// SIGINT drains too, but exits 130.
#[test]
fn sigint_drains_and_exits_130() {
    let mut served = Served::start();
    served.wait_for_delivery("endless");
    let (code, stdout, stderr) = served.stop(libc::SIGINT);
    assert_eq!(code, 130, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("draining signal=SIGINT"), "{stderr}");
    assert!(stdout.contains("[quiet-sink] received="), "{stdout}");
}

/// A flow stuck inside a guest call (from element 200 on) does not drain: after --drain-timeout
/// it is cancelled and reported as killed; the host still exits 0 (the call
/// ends at its epoch deadline). `--flow` picks it out of the manifest.
#[test]
fn a_flow_that_does_not_drain_in_time_is_cancelled_and_reported() {
    let source = component("counter-source");
    let stuck = component("infinite-loop");
    let sink = component("quiet-sink");
    let manifest = crate::harness::linear_manifest(&[
        ("source", &source, SOURCE, r#"{"count": 0}"#),
        ("stuck", &stuck, PROCESSOR, r#"{"at": 200}"#),
        ("sink", &sink, SINK, ""),
    ]);
    let mut served = Served::start_with(
        &manifest,
        &[
            "--flow",
            "main",
            "--drain-timeout",
            "2s",
            "--status-interval",
            "50ms",
            "--config",
            "runtime.max_invocation_time_ms=5000",
        ],
    );
    // Running, then stuck in `process` at element 200: a drain cannot
    // finish. (Signalled any earlier, the flow would drain cleanly.)
    served.wait_until_stuck("main");
    let (code, stdout, stderr) = served.stop(libc::SIGTERM);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    for needle in [
        "flow did not drain in time; cancelling flow=main",
        "cancelled flows that did not drain in time killed=main",
    ] {
        assert!(stderr.contains(needle), "no `{needle}` in:\n{stderr}");
    }
}

/// `[flow.<name>.supervision]` sets a served flow's restart policy when no
/// command-line flag overrides it: one restart allowed, then left failed.
#[test]
fn the_manifests_flow_supervision_applies_without_flags() {
    let manifest = format!(
        "{}\n[flow.failing.supervision]\nflow_restart = \"on-failure\"\nflow_max_restarts = 1\nflow_restart_window_ms = 600000\n",
        manifest()
    );
    let mut served = Served::start_with(&manifest, &["--flow", "failing"]);
    served.wait_for(&["flow left failed", "flow=failing"]);
    assert_eq!(served.count(&["flow restarted", "flow=failing"]), 1);
    assert_eq!(served.count(&["flow started", "flow=failing"]), 2);
    let (code, _, stderr) = served.stop(libc::SIGTERM);
    assert_eq!(code, 0, "{stderr}");
}

/// `flow_restart = "never"` in the manifest: the failed flow is left
/// failed at once.
#[test]
fn a_flow_whose_manifest_says_never_is_not_restarted() {
    let manifest = format!(
        "{}\n[flow.failing.supervision]\nflow_restart = \"never\"\n",
        manifest()
    );
    let mut served = Served::start_with(&manifest, &["--flow", "failing"]);
    served.wait_for(&["flow left failed (restart policy: never)", "flow=failing"]);
    assert_eq!(served.count(&["flow restarted"]), 0);
    let (code, _, stderr) = served.stop(libc::SIGTERM);
    assert_eq!(code, 0, "{stderr}");
}
