//! `replicas = N` through `torvyn run`: every partition reaches a sink
//! exactly once, the summary shows each replica's count, and the error
//! paths (a refused replica count, a failing replica) end the run.

use crate::harness::{component, json_summary, Project, SINK, SOURCE};
use torvyn_e2e::{counter_payloads, quiet_sink_line};

/// partition-source (`config`, granted flow-metadata) → quiet-sink, with
/// `replicas` (a TOML line for `[flow.main]`) and `extra` TOML appended.
fn manifest(replicas: &str, config: &str, extra: &str) -> String {
    let (source, sink) = (component("partition-source"), component("quiet-sink"));
    format!(
        "[torvyn]\nname = \"e2e\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n\n\
         [capabilities.optional]\ntorvyn-flow-metadata = true\n\
         [security.grants.source]\ncapabilities = [\"torvyn:streaming/flow-metadata\"]\n\n\
         [flow.main]\n{replicas}\n\
         [flow.main.nodes.source]\ncomponent = \"{source}\"\ninterface = \"{SOURCE}\"\nconfig = '{config}'\n\
         [flow.main.nodes.sink]\ncomponent = \"{sink}\"\ninterface = \"{SINK}\"\n\
         [[flow.main.edges]]\nfrom = {{ node = \"source\", port = \"output\" }}\nto = {{ node = \"sink\", port = \"input\" }}\n{extra}"
    )
}

#[test]
fn two_replicas_deliver_every_partition_once_with_one_report() {
    let p = Project::with_manifest(&manifest("replicas = 2", r#"{"count": 100}"#, ""));
    let run = p.run(&["run"]);
    run.expect_code(0);
    // Each replica's sink saw exactly its partition, in order: together,
    // every element once.
    let partition = |index: usize| {
        quiet_sink_line(
            counter_payloads(100, 64)
                .enumerate()
                .filter(move |(i, _)| i % 2 == index)
                .map(|(_, payload)| payload),
        )
    };
    let mut sinks: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("[quiet-sink]"))
        .collect();
    sinks.sort_unstable();
    let mut expected = vec![partition(0), partition(1)];
    expected.sort_unstable();
    assert_eq!(sinks, expected, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("Flow 'main' completed. 100 elements processed."),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Replicas: 2 | #0 flow-"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(": 50 | #1 flow-"), "{}", run.stderr);

    let run = p.run(&["run", "--format", "json"]);
    run.expect_code(0);
    let json = json_summary(&run);
    assert_eq!(json["elements_delivered"], 100);
    assert_eq!(json["leaked_buffers"], 0);
    let replicas = json["replicas"].as_array().expect("replicas");
    let counts: Vec<(u64, u64)> = replicas
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().unwrap_or(9),
                r["elements_delivered"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(counts, [(0, 50), (1, 50)]);
}

#[test]
fn a_flow_without_replicas_has_no_breakdown() {
    let p = Project::with_manifest(&manifest("", r#"{"count": 10}"#, ""));
    let run = p.run(&["run", "--format", "json"]);
    run.expect_code(0);
    let json = json_summary(&run);
    assert_eq!(json["elements_delivered"], 10);
    assert!(json.get("replicas").is_none(), "{json}");
}

#[test]
fn zero_replicas_are_refused_with_e0702() {
    let p = Project::with_manifest(&manifest("replicas = 0", r#"{"count": 10}"#, ""));
    let run = p.run(&["run"]);
    run.expect_error("E0702");
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("flow.main.replicas"), "{}", run.stderr);
    assert!(!run.stdout.contains("[quiet-sink]"), "{}", run.stdout);
}

#[test]
fn a_failing_replica_fails_the_run_and_stops_the_others() {
    // Replica 0 would never end; replica 1 traps past the restart
    // intensity. The run must end (the other replica cancelled) with the
    // failing replica's error.
    let p = Project::with_manifest(&manifest(
        "replicas = 2",
        r#"{"count": 0, "fail_index": 1, "fail_after": 3}"#,
        "",
    ));
    let run = p.run(&["run"]);
    run.expect_code(1).expect_error("E0410");
    assert!(
        run.stderr.contains("restart intensity exceeded"),
        "{}",
        run.stderr
    );
}
