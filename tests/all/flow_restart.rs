//! A flow's own restart policy (`[flow.<name>.supervision] flow_*`) under
//! `torvyn run`: the FlowSupervisor starts a failed flow again as the
//! manifest says, the same as under `torvyn serve` and the handle API.

use crate::harness::{component, linear_manifest, Project, PROCESSOR, SINK, SOURCE};

/// counter-source → trap-processor (traps at element 3) → quiet-sink, with
/// no component restart allowed (the trap fails the whole flow), plus
/// `supervision` lines.
fn failing_flow(supervision: &str) -> Project {
    let source = component("counter-source");
    let trap = component("trap-processor");
    let sink = component("quiet-sink");
    let manifest = linear_manifest(&[
        ("source", &source, SOURCE, r#"{"count": 20}"#),
        ("boom", &trap, PROCESSOR, r#"{"at": 3}"#),
        ("sink", &sink, SINK, ""),
    ]);
    Project::with_manifest(&format!(
        "{manifest}\n[flow.main.supervision]\nmax_restarts = 0\n{supervision}"
    ))
}

fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

/// `flow_restart = "on-failure"` with two restarts: three runs, each one
/// failing, then the flow is left failed and `torvyn run` exits 1 with the
/// trap's code.
#[test]
fn run_restarts_a_failed_flow_as_its_manifest_says() {
    let project = failing_flow(
        "flow_restart = \"on-failure\"\nflow_max_restarts = 2\nflow_restart_window_ms = 600000\n",
    );
    let run = project.run(&["run"]);
    run.expect_code(1).expect_error("E0410");
    assert_eq!(count(&run.stderr, "flow failed"), 3, "{}", run.stderr);
    assert_eq!(
        count(&run.stderr, "flow left failed (restart intensity exceeded)"),
        1,
        "{}",
        run.stderr
    );
}

/// Without a policy `torvyn run` does not restart: one failure, reported
/// once, no supervisor lines.
#[test]
fn run_leaves_a_flow_without_a_policy_failed() {
    let run = failing_flow("").run(&["run"]);
    run.expect_code(1).expect_error("E0410");
    assert_eq!(count(&run.stderr, "flow failed"), 0, "{}", run.stderr);
    assert_eq!(count(&run.stderr, "flow restarted"), 0, "{}", run.stderr);
}

/// A misspelt policy is refused before anything runs, with the allowed
/// values.
#[test]
fn an_unknown_flow_restart_value_is_a_config_error() {
    let run = failing_flow("flow_restart = \"sometimes\"\n").run(&["run"]);
    run.expect_code(2);
    assert!(run.stderr.contains("on-failure"), "{}", run.stderr);
}
