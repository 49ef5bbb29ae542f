//! What the stage loop does with each `process-error` kind under the
//! default error policy (`skip`): `fatal` tears the component down (here
//! with no restart allowed, so the flow fails), the others skip the element
//! and count it.

use crate::harness::{
    component, dag_manifest, json_summary, stream, Project, PROCESSOR, SINK, SOURCE,
};

fn run_kind(kind: &str) -> crate::harness::Run {
    let source = component("counter-source");
    let errors = component("error-processor");
    let sink = component("quiet-sink");
    let config = format!(r#"{{"kind": "{kind}", "at": 4}}"#);
    let project = Project::linear(&[
        (
            "source",
            &source,
            SOURCE,
            r#"{"count": 10, "payload_size": 8}"#,
        ),
        ("errors", &errors, PROCESSOR, &config),
        ("sink", &sink, SINK, ""),
    ]);
    project.run(&[
        "run",
        "--format",
        "json",
        "--config",
        "flow.main.supervision.max_restarts=0",
    ])
}

/// `fatal` with no restart allowed fails the flow with E0410 and exit 1.
#[test]
fn fatal_fails_the_flow() {
    let run = run_kind("fatal");
    run.expect_code(1);
    let json = json_summary(&run);
    assert_eq!(json["errors"][0]["code"], "E0410");
    assert!(json["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("injected fatal"));
}

/// Every non-fatal kind skips exactly the failing element.
#[test]
fn non_fatal_errors_skip_the_element() {
    for kind in [
        "invalid-input",
        "unavailable",
        "internal",
        "deadline-exceeded",
    ] {
        let run = run_kind(kind);
        run.expect_code(0);
        let json = json_summary(&run);
        assert_eq!(json["elements_delivered"], 9, "{kind}");
        assert_eq!(json["element_errors"], 1, "{kind}");
        assert!(
            run.stderr.contains("[quiet-sink] received=9 "),
            "{kind}: {}",
            run.stderr
        );
    }
}

/// Default supervision through the binary: a component that traps once is
/// restarted (a fresh instance), the element it trapped on is skipped, the
/// flow completes (exit 0) and the summary counts the restart.
#[test]
fn a_single_trap_is_restarted_and_the_flow_completes() {
    let source = component("counter-source");
    let trap = component("trap-processor");
    let sink = component("quiet-sink");
    let project = Project::linear(&[
        (
            "source",
            &source,
            SOURCE,
            r#"{"count": 10, "payload_size": 8}"#,
        ),
        ("boom", &trap, PROCESSOR, r#"{"at": 3}"#),
        ("sink", &sink, SINK, ""),
    ]);
    let run = project.run(&["run", "--format", "json"]);
    run.expect_code(0);
    let json = json_summary(&run);
    assert_eq!(json["elements_delivered"], 9);
    assert_eq!(json["stages"][1]["restarts"], 1, "{json}");
    assert!(run.stderr.contains("restarting"), "{}", run.stderr);
}

/// `on_error = "dead-letter"` through the binary: the failed element goes
/// down the node's `dead-letter` edge to its own sink; every other element
/// reaches the main sink.
#[test]
fn a_dead_letter_edge_receives_the_failed_element() {
    let source = component("counter-source");
    let errors = component("error-processor");
    let sink = component("quiet-sink");
    let manifest = dag_manifest(
        &[
            (
                "source",
                &source,
                SOURCE,
                r#"{"count": 10, "payload_size": 8}"#,
            ),
            (
                "errors",
                &errors,
                PROCESSOR,
                r#"{"kind": "invalid-input", "at": 4}"#,
            ),
            ("sink", &sink, SINK, ""),
            ("dlq", &sink, SINK, ""),
        ],
        &[
            ("source", "output", "errors", ""),
            ("errors", "output", "sink", ""),
            ("errors", "dead-letter", "dlq", ""),
        ],
        "",
    )
    .replace(
        "[flow.main.nodes.errors]\n",
        "[flow.main.nodes.errors]\non_error = \"dead-letter\"\n",
    );
    let run = Project::with_manifest(&manifest).run(&["run", "--format", "json"]);
    run.expect_code(0);
    let json = json_summary(&run);
    assert_eq!(stream(&json, "errors-to-sink")["transferred"], 9);
    assert_eq!(stream(&json, "errors-to-dlq")["transferred"], 1);
    assert_eq!(json["stages"][1]["dead_lettered"], 1, "{json}");
    assert_eq!(json["elements_delivered"], 10);
    assert!(
        run.stderr.contains("[quiet-sink] received=1 "),
        "{}",
        run.stderr
    );
}

/// A flow that completes with an element lost says so in its summary; a
/// clean one does not.
#[test]
fn the_summary_names_element_errors_and_restarts() {
    let source = component("counter-source");
    let trap = component("trap-processor");
    let pass = component("passthrough");
    let sink = component("quiet-sink");
    let with = |middle: &str, config: &str| {
        Project::linear(&[
            (
                "source",
                &source,
                SOURCE,
                r#"{"count": 10, "payload_size": 8}"#,
            ),
            ("middle", middle, PROCESSOR, config),
            ("sink", &sink, SINK, ""),
        ])
        .run(&["run"])
    };
    let run = with(&trap, r#"{"at": 3}"#);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("[torvyn] Not clean: 1 element error, 1 component restart"),
        "{}",
        run.stderr
    );
    let clean = with(&pass, "");
    clean.expect_code(0);
    assert!(!clean.stderr.contains("Not clean"), "{}", clean.stderr);
}
