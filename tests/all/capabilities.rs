//! Capabilities at link time and at run time: required capabilities must
//! be granted (E0202), grants must be well-formed (E0702), and `torvyn run`
//! refuses to start (exit 2) when they are not.

use crate::harness::{component, linear_manifest, redact, Project, SINK, SOURCE};

fn manifest(extra: &str) -> String {
    let (source, sink) = (component("counter-source"), component("quiet-sink"));
    format!(
        "{}{extra}",
        linear_manifest(&[
            ("source", &source, SOURCE, r#"{"count": 2}"#),
            ("sink", &sink, SINK, "")
        ])
    )
}

const NEEDS_CLOCKS: &str = "\n[capabilities.required]\nwasi-clocks = true\n";

#[test]
fn an_ungranted_required_capability_is_e0202() {
    let p = Project::with_manifest(&manifest(NEEDS_CLOCKS));
    let run = p.run(&["link"]);
    run.expect_code(1).expect_error("E0202");
    insta::assert_snapshot!("capabilities_e0202", redact(&run.stderr, p.path()));
}

#[test]
fn run_refuses_to_start_without_the_grant() {
    let p = Project::with_manifest(&manifest(NEEDS_CLOCKS));
    let run = p.run(&["run"]);
    run.expect_code(2).expect_error("E0202");
    assert!(
        !run.stdout.contains("[quiet-sink]"),
        "nothing ran: {}",
        run.stdout
    );
}

#[test]
fn granting_it_links_and_runs() {
    let grants = "\n[security.grants.source]\ncapabilities = [\"wasi:clocks/wall-clock\", \"wasi:clocks/monotonic-clock\"]\n[security.grants.sink]\ncapabilities = [\"wasi:clocks\"]\n";
    // `wasi:clocks` alone is not an identifier: E0702 naming the place.
    let p = Project::with_manifest(&manifest(&format!("{NEEDS_CLOCKS}{grants}")));
    let run = p.run(&["link"]);
    run.expect_code(1).expect_error("E0702");
    assert!(run.stderr.contains("Torvyn.toml:"), "{}", run.stderr);

    let grants = grants.replace(
        "[\"wasi:clocks\"]",
        "[\"wasi:clocks/wall-clock\", \"wasi:clocks/monotonic-clock\"]",
    );
    let p = Project::with_manifest(&manifest(&format!("{NEEDS_CLOCKS}{grants}")));
    p.run(&["link"]).expect_code(0);
    let run = p.run(&["run"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("[quiet-sink] received=2"),
        "{}",
        run.stdout
    );
    // Grant resolution is audited (default target: .torvyn/audit.log).
    let audit =
        std::fs::read_to_string(p.path().join(".torvyn").join("audit.log")).expect("audit log");
    assert!(audit.contains("\"event\":\"grant-resolution\""), "{audit}");
    assert!(audit.contains("wasi:clocks/wall-clock"), "{audit}");
}

#[test]
fn allow_all_grants_every_request() {
    let policy = "\n[security]\ndefault_capability_policy = \"allow-all\"\n";
    let p = Project::with_manifest(&manifest(&format!("{NEEDS_CLOCKS}{policy}")));
    p.run(&["link"]).expect_code(0);
}

#[test]
fn audit_can_go_to_stdout_or_be_off() {
    let to_stdout = "\n[security]\naudit_target = \"stdout\"\n";
    let p = Project::with_manifest(&manifest(to_stdout));
    let run = p.run(&["run"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("\"event\":\"grant-resolution\""),
        "{}",
        run.stdout
    );
    let off = "\n[security]\naudit_enabled = false\n";
    let p = Project::with_manifest(&manifest(off));
    p.run(&["run"]).expect_code(0);
    assert!(!p.path().join(".torvyn").exists());
}
