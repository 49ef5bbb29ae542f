//! The spec's contract-evolution scenario with real components
//! (`examples/contract-evolution`): a priority filter compiled against
//! contract 0.2.0, which added `priority` to `element-meta`, placed after
//! an enricher compiled against 0.1.0. `torvyn link` catches it before
//! anything runs; the same flow with every component on 0.1.0 links and
//! runs.

use crate::harness::{torvyn, Run};
use std::path::PathBuf;

const EXAMPLE: &str = "contract-evolution";

/// The example, built through the test support first so concurrent tests
/// never race two cargo builds of it.
fn example() -> PathBuf {
    torvyn_e2e::build_example(EXAMPLE);
    torvyn_e2e::example_dir(EXAMPLE)
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}):\n{}\n--- stderr\n{}",
            run.stdout, run.stderr
        )
    })
}

/// Matching versions (every component on torvyn:streaming@0.1.0) link,
/// and the flow runs: only the two high-priority events reach the sink.
#[test]
fn matching_versions_link_and_run() {
    let dir = example();
    let link = torvyn(&dir, &["link", "flow.main", "--verbose"]);
    link.expect_code(0);
    assert!(
        link.stdout
            .contains("✓ Flow \"main\": source → enricher → filter → sink"),
        "{}",
        link.stdout
    );
    assert!(
        link.stdout.contains("enricher → filter: compatible"),
        "{}",
        link.stdout
    );
    let run = torvyn(&dir, &["run", "flow.main"]);
    run.expect_code(0);
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        [
            r#"[event-sink] [event 1] {"id":"evt_2","type":"error","severity":"high","priority":100}"#,
            r#"[event-sink] [event 2] {"id":"evt_4","type":"login_failed","severity":"high","priority":100}"#,
            "[event-sink] High-priority events delivered: 2",
        ]
    );
}

/// The 0.2.0 filter after the 0.1.0 enricher: E0200 naming the missing
/// field, both versions, where the edge is written, and the version that
/// resolves it. The filter also needs more than this runtime (0.1.0)
/// implements: that is reported too, as a second error.
#[test]
fn a_filter_on_0_2_0_after_an_enricher_on_0_1_0_does_not_link() {
    let dir = example();
    let run = torvyn(&dir, &["link", "flow.upgraded"]);
    run.expect_code(1).expect_error("E0200");
    for expected in [
        "`filter` (compiled against torvyn:streaming@0.2.0) uses field `priority` of record `element-meta`, which `enricher` (compiled against torvyn:streaming@0.1.0) does not have",
        "help: recompile `enricher` against torvyn:streaming@0.2.0 or later",
        "[Torvyn.toml:89:15]",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
    insta::assert_snapshot!("contract_evolution_link", run.stderr);

    let run = torvyn(&dir, &["link", "flow.upgraded", "--format", "json"]);
    run.expect_code(1);
    let json = json(&run);
    assert_eq!(json["exit_code"], 1);
    assert_eq!(json["errors"][0]["code"], "E0200");
    assert_eq!(json["errors"][0]["location"], "Torvyn.toml:89:15");
    insta::assert_snapshot!(
        "contract_evolution_link_json",
        serde_json::to_string_pretty(&json).unwrap_or_default()
    );
}

/// `torvyn run` makes the same check first and refuses to start: exit 2,
/// and no component prints anything.
#[test]
fn run_refuses_the_upgraded_flow() {
    let run = torvyn(&example(), &["run", "flow.upgraded"]);
    run.expect_code(2).expect_error("E0200");
    assert!(!run.stdout.contains("[event-sink]"), "{}", run.stdout);
}

/// Without a flow name `link` checks every flow: `main` passes, and the
/// errors of `upgraded` (and `major`, see `error_codes`) make the whole
/// command fail.
#[test]
fn linking_every_flow_reports_the_failing_one() {
    let run = torvyn(&example(), &["link"]);
    run.expect_code(1).expect_error("E0200");
    assert!(run.stdout.contains("✓ Flow \"main\""), "{}", run.stdout);
    assert!(run.stderr.contains(" errors found."), "{}", run.stderr);
    assert!(run.stderr.contains("error[E0201]"), "{}", run.stderr);
}
