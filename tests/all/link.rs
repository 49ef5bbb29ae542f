//! `torvyn link`: composition checks against the compiled test guests,
//! and `torvyn run` refusing to start when they fail.

use crate::harness::{component, linear_manifest, redact, Project, PROCESSOR, SINK, SOURCE};

fn chain() -> Project {
    let (source, passthrough, sink) = (
        component("counter-source"),
        component("passthrough"),
        component("quiet-sink"),
    );
    Project::linear(&[
        ("source", &source, SOURCE, r#"{"count": 3}"#),
        ("transform", &passthrough, PROCESSOR, ""),
        ("sink", &sink, SINK, ""),
    ])
}

/// The tutorial's output.
#[test]
fn a_compatible_chain_links_like_the_tutorial() {
    let p = chain();
    let run = p.run(&["link"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("✓ Flow \"main\": source → transform → sink"),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!("link_ok", run.stdout);
}

#[test]
fn verbose_and_json_describe_each_node() {
    let p = chain();
    let run = p.run(&["link", "--verbose"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains(
            "transform: torvyn:streaming/processor (torvyn:streaming@0.1.0); grants: none"
        ),
        "{}",
        run.stdout
    );
    let run = p.run(&["link", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("json");
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["flows"][0]["nodes"][1]["contract_version"], "0.1.0");
}

#[test]
fn a_node_whose_component_lacks_its_interface_is_e0203() {
    let (source, passthrough) = (component("counter-source"), component("passthrough"));
    let p = Project::linear(&[
        ("source", &source, SOURCE, ""),
        ("sink", &passthrough, SINK, ""),
    ]);
    let run = p.run(&["link"]);
    run.expect_code(1).expect_error("E0203");
    insta::assert_snapshot!("link_e0203_export", redact(&run.stderr, p.path()));
}

#[test]
fn a_cycle_is_e0203() {
    let (source, passthrough, sink) = (
        component("counter-source"),
        component("passthrough"),
        component("quiet-sink"),
    );
    let mut manifest = linear_manifest(&[
        ("source", &source, SOURCE, ""),
        ("a", &passthrough, PROCESSOR, ""),
        ("b", &passthrough, PROCESSOR, ""),
        ("sink", &sink, SINK, ""),
    ]);
    manifest.push_str("\n[[flow.main.edges]]\nfrom = { node = \"b\", port = \"output\" }\nto = { node = \"a\", port = \"input\" }\n");
    let run = Project::with_manifest(&manifest).run(&["link"]);
    run.expect_code(1).expect_error("E0203");
    assert!(run.stderr.contains("cycle"), "{}", run.stderr);
}

#[test]
fn a_missing_component_is_e0210_with_exit_2() {
    let sink = component("quiet-sink");
    let p = Project::linear(&[
        ("source", "file://./missing.wasm", SOURCE, ""),
        ("sink", &sink, SINK, ""),
    ]);
    p.run(&["link"]).expect_code(2).expect_error("E0210");
    let dir = tempfile::tempdir().expect("dir");
    let run = p.run(&["link", "--components", &dir.path().display().to_string()]);
    run.expect_code(2).expect_error("E0210");
}

#[test]
fn components_dir_is_searched_by_file_name() {
    let p = chain();
    let dir = torvyn_e2e::build_test_components();
    p.run(&["link", "--components", &dir.display().to_string()])
        .expect_code(0);
}

#[test]
fn an_unknown_flow_is_reported() {
    chain()
        .run(&["link", "--flow", "mian"])
        .expect_code(1)
        .expect_error("E0702");
}
