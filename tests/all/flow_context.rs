//! What components read from `flow-context` in a real run: the flow's id
//! (the host's, as `/flows` lists it) and the time left before its
//! deadline; and the deadline itself (E0400) through the binary.

use crate::harness::{component, Project, PROCESSOR, SINK, SOURCE};

fn context_lines(stdout: &str) -> Vec<(String, u64)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("[context-sink] "))
        .map(|l| {
            let field = |name: &str| {
                l.split_whitespace()
                    .find_map(|f| f.strip_prefix(name))
                    .unwrap_or_else(|| panic!("no {name} in {l}"))
                    .to_string()
            };
            let deadline = field("deadline_ns=").parse().expect("a number");
            (field("flow_id="), deadline)
        })
        .collect()
}

fn project(count: u64) -> Project {
    Project::linear(&[
        (
            "source",
            &component("counter-source"),
            SOURCE,
            &format!(r#"{{"count": {count}}}"#),
        ),
        ("sink", &component("context-sink"), SINK, ""),
    ])
}

#[test]
fn components_read_the_hosts_flow_id_and_no_deadline_without_timeout() {
    let run = project(3).run(&["run"]);
    run.expect_code(0);
    let lines = context_lines(&run.stdout);
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    for (flow_id, deadline) in &lines {
        assert!(flow_id.starts_with("flow-"), "{flow_id}");
        assert_eq!(*deadline, 0, "no --timeout, no deadline");
    }
    assert!(
        lines.iter().all(|(id, _)| id == &lines[0].0),
        "one id per flow"
    );
}

#[test]
fn a_timeout_is_the_deadline_components_count_down_to() {
    let run = project(3).run(&["run", "--timeout", "30s"]);
    run.expect_code(0);
    let lines = context_lines(&run.stdout);
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    for (_, deadline) in &lines {
        assert!(
            *deadline > 0 && *deadline <= 30_000_000_000,
            "{deadline} ns left of 30 s"
        );
    }
    assert!(lines[0].1 >= lines[2].1, "it counts down: {lines:?}");
}

#[test]
fn a_flow_past_its_timeout_fails_with_e0400() {
    let project = Project::linear(&[
        (
            "source",
            &component("counter-source"),
            SOURCE,
            r#"{"count": 0}"#,
        ),
        ("pass", &component("passthrough"), PROCESSOR, ""),
        ("sink", &component("quiet-sink"), SINK, ""),
    ]);
    let run = project.run(&["run", "--timeout", "300ms"]);
    run.expect_code(1).expect_error("E0400");
    assert!(run.stderr.contains("300"), "{}", run.stderr);
}
