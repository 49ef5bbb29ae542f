//! Every error code of E0001–E0299, E0500–E0599 and E0700–E0799 that
//! `torvyn check`, `link` or `run` can raise, triggered by a fixture
//! through the real binary, with snapshots of the human output (stderr)
//! and the JSON output (`--format json`: `exit_code`, `errors`,
//! `warnings`). Paths are redacted.
//!
//! Not here, because none of these commands can raise them: E0003
//! (`torvyn init` only) and E0500 (a runtime denial is not fatal: it is
//! counted and audited, and the guest sees the failure; see
//! `capabilities.rs`). E0200 is also covered by `contract_evolution.rs`.

use crate::check::{add, project, MANIFEST, PREOPENS, WORLD};
use crate::harness::{
    component, dag_manifest, linear_manifest, redact, torvyn, torvyn_with_env, Project, Run,
    PROCESSOR, ROUTER, SINK, SOURCE,
};
use std::path::Path;

/// Runs `args` in `dir` in both formats: the human run must exit with
/// `exit` and name `code`; the JSON run must carry the same exit code and
/// `code` as its first error (or warning, for `warning`). Both are
/// snapshotted as `<name>` and `<name>_json`.
fn expect(name: &str, dir: &Path, args: &[&str], env: &[(&str, &str)], code: &str, exit: i32) {
    expect_with(name, dir, args, env, code, exit, false);
}

fn expect_with(
    name: &str,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    code: &str,
    exit: i32,
    warning: bool,
) {
    let human = torvyn_with_env(dir, args, env);
    human.expect_code(exit);
    if warning {
        assert!(
            human.stderr.contains(&format!("warning[{code}]")),
            "{}",
            human.stderr
        );
    } else {
        human.expect_error(code);
    }
    insta::assert_snapshot!(name, redact(&without_logs(&human.stderr), dir));

    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let run = torvyn_with_env(dir, &json_args, env);
    run.expect_code(exit);
    let json = last_json(&run);
    assert_eq!(json["exit_code"], exit, "{json}");
    let list = if warning { "warnings" } else { "errors" };
    let first = &json[list][0];
    assert_eq!(first["code"], code, "{json}");
    for field in ["name", "message", "help"] {
        assert!(first[field].is_string(), "`{field}` in {json}");
    }
    assert!(first.get("location").is_some(), "{json}");
    let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
    insta::assert_snapshot!(format!("{name}_json"), redact(&pretty, dir));
}

/// `text` without tracing log lines (`2026-01-01T00:00:00.000000Z ERROR …`),
/// which carry a timestamp.
fn without_logs(text: &str) -> String {
    text.lines()
        .filter(|l| {
            let stamp = l.split(' ').next().unwrap_or("");
            !(stamp.len() > 20 && stamp.ends_with('Z') && stamp.as_bytes()[4] == b'-')
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The JSON object on the last stdout line (guests may print before it).
fn last_json(run: &Run) -> serde_json::Value {
    serde_json::from_str(run.stdout.lines().last().unwrap_or("")).unwrap_or_else(|e| {
        panic!(
            "no JSON on the last stdout line ({e})\n--- stdout\n{}\n--- stderr\n{}",
            run.stdout, run.stderr
        )
    })
}

fn source_to_sink(extra: &str) -> Project {
    let (source, sink) = (component("counter-source"), component("quiet-sink"));
    Project::with_manifest(&format!(
        "{}{extra}",
        linear_manifest(&[
            ("source", &source, SOURCE, r#"{"count": 2}"#),
            ("sink", &sink, SINK, "")
        ])
    ))
}

fn contract_evolution() -> std::path::PathBuf {
    torvyn_e2e::build_example("contract-evolution");
    torvyn_e2e::example_dir("contract-evolution")
}

/// E0001: no Torvyn.toml (exit 2).
#[test]
fn e0001_manifest_not_found() {
    let dir = tempfile::tempdir().expect("temp dir");
    expect("e0001", dir.path(), &["check"], &[], "E0001", 2);
}

/// E0002: Torvyn.toml is not TOML, with line and column.
#[test]
fn e0002_manifest_parse_error() {
    let p = Project::with_manifest("[torvyn]\nname = \"x\"\nversion = \n");
    expect("e0002", p.path(), &["check"], &[], "E0002", 1);
}

/// E0010: cargo cannot be run to build a declared component (exit 2).
#[test]
fn e0010_toolchain_missing() {
    let p = Project::with_manifest(
        "[torvyn]\nname = \"x\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n\n[[component]]\nname = \"c\"\npath = \"c\"\n\n[flow.main.nodes.source]\ncomponent = \"c\"\ninterface = \"torvyn:streaming/source\"\n",
    );
    add(
        &p,
        "c/Cargo.toml",
        "[package]\nname = \"c\"\nversion = \"0.1.0\"\n",
    );
    expect(
        "e0010",
        p.path(),
        &["link"],
        &[("CARGO", "/nonexistent/cargo")],
        "E0010",
        2,
    );
}

/// E0100: WIT syntax error, with file, line and column.
#[test]
fn e0100_wit_syntax_error() {
    let p = project(
        MANIFEST,
        &WORLD.replace("processor@0.1.0;", "processor@0.1.0"),
    );
    expect("e0100", p.path(), &["check"], &[], "E0100", 1);
}

/// E0101: a package reference that does not resolve.
#[test]
fn e0101_wit_resolution_error() {
    let p = project(
        MANIFEST,
        &WORLD.replace(
            "import torvyn:streaming/types",
            "import torvyn:missing/types",
        ),
    );
    expect("e0101", p.path(), &["check"], &[], "E0101", 1);
}

/// E0102: a world without a Torvyn processing export.
#[test]
fn e0102_world_incomplete() {
    let p = project(
        MANIFEST,
        &WORLD.replace("  export torvyn:streaming/processor@0.1.0;\n", ""),
    );
    expect("e0102", p.path(), &["check"], &[], "E0102", 1);
}

/// E0103: an import whose capability the manifest does not declare.
#[test]
fn e0103_capability_mismatch() {
    let world = WORLD.replace(
        "  export",
        "  import wasi:filesystem/preopens@0.2.3;\n  export",
    );
    let p = project(MANIFEST, &world);
    add(&p, "wit/deps/wasi-filesystem/preopens.wit", PREOPENS);
    expect("e0103", p.path(), &["check"], &[], "E0103", 1);
}

/// E0110: a deprecated contract version, a warning that fails `--strict`
/// (exit 2).
#[test]
fn e0110_deprecated_contract_version() {
    let p = project(
        &MANIFEST.replace(
            "contract_version = \"0.1.0\"",
            "contract_version = \"0.0.9\"",
        ),
        WORLD,
    );
    expect_with(
        "e0110",
        p.path(),
        &["check", "--strict"],
        &[],
        "E0110",
        2,
        true,
    );
}

/// E0200: the spec's contract-evolution scenario (real components).
#[test]
fn e0200_interface_incompatible() {
    let dir = contract_evolution();
    expect("e0200", &dir, &["link", "flow.upgraded"], &[], "E0200", 1);
}

/// E0201: a sink compiled against contract 1.0.0 behind 0.1.0 components.
#[test]
fn e0201_version_mismatch() {
    let dir = contract_evolution();
    expect("e0201", &dir, &["link", "flow.major"], &[], "E0201", 1);
}

/// E0202: a required capability nobody granted.
#[test]
fn e0202_capability_not_granted() {
    let p = source_to_sink("\n[capabilities.required]\nwasi-random = true\n");
    expect("e0202", p.path(), &["link"], &[], "E0202", 1);
}

/// E0203: a cycle, and a sink with an output, reported together.
#[test]
fn e0203_topology_invalid() {
    let (source, passthrough, sink) = (
        component("counter-source"),
        component("passthrough"),
        component("quiet-sink"),
    );
    let manifest = dag_manifest(
        &[
            ("source", &source, SOURCE, ""),
            ("a", &passthrough, PROCESSOR, ""),
            ("b", &passthrough, PROCESSOR, ""),
            ("sink", &sink, SINK, ""),
        ],
        &[
            ("source", "output", "a", ""),
            ("a", "output", "b", ""),
            ("b", "output", "a", ""),
            ("b", "output", "sink", ""),
            ("sink", "output", "b", ""),
        ],
        "",
    );
    let p = Project::with_manifest(&manifest);
    expect("e0203", p.path(), &["link"], &[], "E0203", 1);
}

/// E0204, statically: an edge leaving a router through its input side.
#[test]
fn e0204_router_port_static() {
    let (source, router, sink) = (
        component("counter-source"),
        component("parity-router"),
        component("quiet-sink"),
    );
    let manifest = dag_manifest(
        &[
            ("source", &source, SOURCE, ""),
            ("router", &router, ROUTER, ""),
            ("evens", &sink, SINK, ""),
            ("odds", &sink, SINK, ""),
        ],
        &[
            ("source", "output", "router", ""),
            ("router", "even", "evens", ""),
            ("router", "input", "odds", ""),
        ],
        "",
    );
    let p = Project::with_manifest(&manifest);
    expect("e0204_static", p.path(), &["link"], &[], "E0204", 1);
}

/// E0204 at run time: the router returns a port no edge leaves from; the
/// flow fails (exit 1).
#[test]
fn e0204_router_port_at_run_time() {
    let (source, router, sink) = (
        component("counter-source"),
        component("parity-router"),
        component("quiet-sink"),
    );
    let manifest = dag_manifest(
        &[
            ("source", &source, SOURCE, r#"{"count": 2}"#),
            ("router", &router, ROUTER, r#"{"mode": "bogus"}"#),
            ("evens", &sink, SINK, ""),
            ("odds", &sink, SINK, ""),
        ],
        &[
            ("source", "output", "router", ""),
            ("router", "even", "evens", ""),
            ("router", "odd", "odds", ""),
        ],
        "",
    );
    let p = Project::with_manifest(&manifest);
    expect("e0204_run", p.path(), &["--quiet", "run"], &[], "E0204", 1);
}

/// E0210: a component file that does not exist (exit 2).
#[test]
fn e0210_component_not_found() {
    let sink = component("quiet-sink");
    let p = Project::linear(&[
        ("source", "file://./missing.wasm", SOURCE, ""),
        ("sink", &sink, SINK, ""),
    ]);
    expect("e0210", p.path(), &["link"], &[], "E0210", 2);
}

/// E0501: a guest overflowing its stack is stopped by the sandbox.
#[test]
fn e0501_sandbox_violation() {
    let (source, hostile, sink) = (
        component("counter-source"),
        component("deep-recursion"),
        component("quiet-sink"),
    );
    let p = Project::linear(&[
        ("source", &source, SOURCE, r#"{"count": 3}"#),
        ("hostile", &hostile, PROCESSOR, r#"{"at": 1}"#),
        ("sink", &sink, SINK, ""),
    ]);
    // No restart allowed: the first stack overflow fails the flow.
    let no_restart = "flow.main.supervision.max_restarts=0";
    let human = torvyn(p.path(), &["--quiet", "run", "--config", no_restart]);
    human.expect_code(1).expect_error("E0501");
    // The trap's detail carries a guest backtrace that changes with the
    // toolchain: snapshot the header and the help, check the rest.
    let stable: Vec<&str> = human
        .stderr
        .lines()
        .filter(|l| l.starts_with("error[") || l.starts_with("  help:"))
        .collect();
    insta::assert_snapshot!("e0501", stable.join("\n"));
    let run = torvyn(
        p.path(),
        &["run", "--format", "json", "--config", no_restart],
    );
    run.expect_code(1);
    let json = last_json(&run);
    assert_eq!(json["exit_code"], 1);
    assert_eq!(json["errors"][0]["code"], "E0501");
    assert_eq!(json["errors"][0]["name"], "SandboxViolation");
    assert!(json["errors"][0]["help"].is_string(), "{json}");
}

/// E0510: the audit log cannot be written (`.torvyn` is a file), so
/// `torvyn run` refuses to start (exit 2).
#[test]
fn e0510_audit_log_failed() {
    let p = source_to_sink("");
    std::fs::write(p.path().join(".torvyn"), "not a directory").expect("write");
    expect("e0510", p.path(), &["--quiet", "run"], &[], "E0510", 2);
}

/// E0700: a value of the wrong type.
#[test]
fn e0700_invalid_field_type() {
    let p = project(
        &format!("{MANIFEST}\n[runtime]\nworker_threads = \"four\"\n"),
        WORLD,
    );
    expect("e0700", p.path(), &["check"], &[], "E0700", 1);
}

/// E0701: an unknown field, with the nearest valid one.
#[test]
fn e0701_unknown_field() {
    let p = project(
        &format!("{MANIFEST}\n[runtime]\nworker_thread = 4\n"),
        WORLD,
    );
    expect("e0701", p.path(), &["check"], &[], "E0701", 1);
}

/// E0702: a value out of range.
#[test]
fn e0702_constraint_violation() {
    let p = project(
        &format!("{MANIFEST}\n[runtime.backpressure]\nlow_watermark_ratio = 1.5\n"),
        WORLD,
    );
    expect("e0702", p.path(), &["check"], &[], "E0702", 1);
}

/// Several schema errors in one manifest are all reported, in file order.
#[test]
fn every_manifest_error_is_reported() {
    let p = project(
        &format!("{MANIFEST}\n[runtime]\nworker_thread = 4\nfuel_per_invocation = \"x\"\n\n[runtime.backpressure]\nlow_watermark_ratio = 1.5\n"),
        WORLD,
    );
    let human = p.run(&["check"]);
    human.expect_code(1);
    for code in ["E0701", "E0700", "E0702"] {
        human.expect_error(code);
    }
    assert!(human.stderr.contains("3 errors found."), "{}", human.stderr);
    insta::assert_snapshot!("every_manifest_error", redact(&human.stderr, p.path()));
    let json = last_json(&p.run(&["check", "--format", "json"]));
    let codes: Vec<&str> = json["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, ["E0701", "E0700", "E0702"], "{json}");
}
