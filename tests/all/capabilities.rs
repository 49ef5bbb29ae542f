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

/// What `fs-reader` needs, declared in the pipeline manifest (so it
/// applies to both nodes): filesystem read, required; the wall clock its
/// `std::fs` import pulls in (`wasi:filesystem/types` uses `datetime`), optional.
const NEEDS_FS_READ: &str =
    "\n[capabilities.required]\nwasi-filesystem-read = true\n[capabilities.optional]\nwasi-clocks = true\n";

/// A project whose flow is `fs-reader` (reading `<project>/<file>`, with
/// `settings`: more fields of its JSON config) → `quiet-sink`, and a
/// [data tree](write_data_tree) next to the manifest.
fn fs_project(file: &str, settings: &str) -> Project {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write_data_tree(root);
    let settings = settings.replace("{root}", &root.display().to_string());
    let config = format!(
        r#"{{"path": "{}"{}{settings}}}"#,
        root.join(file).display(),
        if settings.is_empty() { "" } else { ", " }
    );
    let (source, sink) = (component("fs-reader"), component("quiet-sink"));
    let manifest = format!(
        "{}{NEEDS_FS_READ}",
        linear_manifest(&[
            ("source", &source, SOURCE, &config),
            ("sink", &sink, SINK, "")
        ])
    );
    std::fs::write(root.join("Torvyn.toml"), manifest).expect("write manifest");
    Project { dir }
}

/// `input/a.txt` and `secret/b.txt` under `root`.
fn write_data_tree(root: &std::path::Path) {
    for (sub, name, text) in [("input", "a.txt", A_TXT), ("secret", "b.txt", B_TXT)] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
        std::fs::write(root.join(sub).join(name), text).expect("write data");
    }
}

const A_TXT: &str = "granted: the content of input/a.txt\n";
const B_TXT: &str = "secret: the content of secret/b.txt\n";

/// Grant syntax for a host directory: `wasi:filesystem/read:<dir>` preopens
/// host directory `<dir>` at the *same* path inside the guest (an absolute
/// `<dir>` as is, a relative one resolved against the manifest's directory
/// on the host); there is no separate host → guest path mapping. Both nodes
/// get it because the declaration is the pipeline manifest's.
fn grant_input(root: &std::path::Path) -> String {
    let grant = format!("wasi:filesystem/read:{}", root.join("input").display());
    format!(
        "\n[security.grants.source]\ncapabilities = [\"{grant}\"]\n[security.grants.sink]\ncapabilities = [\"{grant}\"]\n"
    )
}

/// [`fs_project`] with `input/` granted to both nodes.
pub(crate) fn granted_fs_project(file: &str, settings: &str) -> Project {
    let p = fs_project(file, settings);
    let manifest = std::fs::read_to_string(p.path().join("Torvyn.toml")).expect("manifest");
    std::fs::write(
        p.path().join("Torvyn.toml"),
        format!("{manifest}{}", grant_input(p.path())),
    )
    .expect("grant");
    p
}

/// `torvyn --format json run` of `p`, which must succeed: the report and
/// its `source` stage.
fn source_stage_of_json_run(p: &Project) -> (serde_json::Value, serde_json::Value) {
    let run = p.run(&["--format", "json", "run"]);
    run.expect_code(0);
    let report: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let source = report["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "source"))
        .cloned()
        .unwrap_or_else(|| panic!("no source stage: {report}"));
    (report, source)
}

fn fs_run(file: &str, grant: bool) -> (Project, crate::harness::Run) {
    let p = if grant {
        granted_fs_project(file, "")
    } else {
        fs_project(file, "")
    };
    let run = p.run(&["run"]);
    (p, run)
}

/// A file under a granted `wasi:filesystem/read:<dir>` subtree is readable
/// by the guest through plain `std::fs`: its exact bytes reach the sink.
#[test]
fn a_granted_directory_is_readable_in_the_guest() {
    let (_p, run) = fs_run("input/a.txt", true);
    run.expect_code(0);
    let expected = torvyn_e2e::quiet_sink_line([A_TXT]);
    assert!(
        run.stdout.lines().any(|l| l == expected),
        "expected `{expected}`\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

/// A file outside every granted subtree is invisible to the guest: the
/// read fails inside the component (it emits its `ERROR: <kind>` text) and
/// the pipeline itself still succeeds; the secret's bytes never arrive.
#[test]
fn a_file_outside_the_grant_is_not_readable() {
    let (_p, run) = fs_run("secret/b.txt", true);
    run.expect_code(0);
    let leaked = torvyn_e2e::quiet_sink_line([B_TXT]);
    assert!(!run.stdout.contains(&leaked), "{}", run.stdout);
    let denied: Vec<String> = DENIAL_KINDS
        .iter()
        .map(|kind| torvyn_e2e::quiet_sink_line([format!("ERROR: {kind}")]))
        .collect();
    assert!(
        run.stdout.lines().any(|l| denied.iter().any(|d| d == l)),
        "expected one of {denied:?}\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

/// Each file the guest opens under its grant is one `capability.exercises`
/// of `wasi:filesystem/read` in the run's JSON report, and one audited
/// exercise naming the file.
#[test]
fn reading_a_granted_file_is_counted_and_audited() {
    let p = granted_fs_project("input/a.txt", r#""repeat": 3"#);
    let (report, source) = source_stage_of_json_run(&p);
    assert_eq!(
        source["capabilities"],
        serde_json::json!([{"capability": "wasi:filesystem/read", "exercises": 3, "denials": 0}]),
        "{report}"
    );
    let audit =
        std::fs::read_to_string(p.path().join(".torvyn").join("audit.log")).expect("audit log");
    let opens = audit
        .lines()
        .filter(|l| {
            l.contains("\"event\":\"exercise\"")
                && l.contains("wasi:filesystem/read")
                && l.contains("a.txt")
        })
        .count();
    assert_eq!(opens, 3, "{audit}");
}

/// A write under a read-only grant is refused by the sandbox and counted
/// as a denial (E0500) of `wasi:filesystem/write`; the file is not created.
#[test]
fn a_write_under_a_read_grant_is_a_counted_denial() {
    let p = granted_fs_project(
        "input/a.txt",
        r#""repeat": 2, "write_path": "{root}/input/out.txt""#,
    );
    let (report, source) = source_stage_of_json_run(&p);
    assert_eq!(
        source["capabilities"],
        serde_json::json!([
            {"capability": "wasi:filesystem/read", "exercises": 2, "denials": 0},
            {"capability": "wasi:filesystem/write", "exercises": 0, "denials": 2}
        ]),
        "{report}"
    );
    assert!(!p.path().join("input").join("out.txt").exists());
}

/// Required filesystem read with no grant at all: `torvyn run` refuses to
/// start (E0202, exit 2) and no component runs.
#[test]
fn a_required_filesystem_read_without_a_grant_refuses_to_start() {
    let (_p, run) = fs_run("input/a.txt", false);
    run.expect_code(2).expect_error("E0202");
    assert!(run.stderr.contains("filesystem"), "{}", run.stderr);
    assert!(
        !run.stdout.contains("[quiet-sink]"),
        "nothing ran: {}",
        run.stdout
    );
}

/// How `std::io::ErrorKind` (Debug) names a path no preopen covers:
/// wasi-libc finds no preopen for it and reports `ENOENT` (observed:
/// `NotFound`); `PermissionDenied` is accepted should a toolchain map the
/// missing capability differently.
const DENIAL_KINDS: &[&str] = &["NotFound", "PermissionDenied"];

/// The sandbox's own counts reach the run's JSON report: a source that
/// reads the wall clock it was not granted gets zeros, and every read is
/// one `capability.denials` of `wasi:clocks/wall-clock` on its stage.
#[test]
fn sandbox_denials_reach_the_json_report() {
    let p = Project::with_manifest(&clock_reading_manifest(
        r#"{"repeat": 3, "clock_reads": 2}"#,
    ));
    let run = p.run(&["--format", "json", "run"]);
    run.expect_code(0);
    let report: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let source = report["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "source"))
        .unwrap_or_else(|| panic!("no source stage: {report}"));
    assert_eq!(
        source["capabilities"],
        serde_json::json!([{"capability": "wasi:clocks/wall-clock", "exercises": 0, "denials": 6}]),
        "{report}"
    );
    let sink = report["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "sink"))
        .expect("a sink stage");
    assert!(sink.get("capabilities").is_none(), "{sink}");
    // Each denial is audited too.
    let audit =
        std::fs::read_to_string(p.path().join(".torvyn").join("audit.log")).expect("audit log");
    let denials = audit
        .lines()
        .filter(|l| l.contains("\"event\":\"denial\"") && l.contains("wall-clock"))
        .count();
    assert_eq!(denials, 6, "{audit}");
}

/// `fs-reader` (`settings`) → `quiet-sink`, with the filesystem and the
/// clocks declared optional and granted nothing: every read of the file
/// fails in the guest, every clock read is denied.
pub(crate) fn clock_reading_manifest(settings: &str) -> String {
    let (source, sink) = (component("fs-reader"), component("quiet-sink"));
    format!(
        "{}\n[capabilities.optional]\nwasi-filesystem-read = true\nwasi-clocks = true\n",
        linear_manifest(&[
            ("source", &source, SOURCE, settings),
            ("sink", &sink, SINK, "")
        ])
    )
}

/// counter-source (`settings`) → `metrics-emitter` (node `pass`) →
/// quiet-sink, with `extra` TOML appended.
pub(crate) fn metrics_emitter_manifest(settings: &str, extra: &str) -> String {
    let (source, pass, sink) = (
        component("counter-source"),
        component("metrics-emitter"),
        component("quiet-sink"),
    );
    format!(
        "{}{extra}",
        linear_manifest(&[
            ("source", &source, SOURCE, settings),
            ("pass", &pass, crate::harness::PROCESSOR, ""),
            ("sink", &sink, SINK, "")
        ])
    )
}

/// The `torvyn:capabilities` services a component uses must be declared
/// (E0103 at link otherwise), like any capability import.
#[test]
fn capability_service_imports_must_be_declared() {
    let p = Project::with_manifest(&metrics_emitter_manifest(r#"{"count": 3}"#, ""));
    let run = p.run(&["link"]);
    run.expect_code(1).expect_error("E0103");
    assert!(
        run.stderr.contains("torvyn-custom-metrics"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("torvyn-flow-metadata"),
        "{}",
        run.stderr
    );
}

/// Declared (optional) but not granted: every call is refused with E0500,
/// counted per capability in the report and audited; the elements still
/// flow.
#[test]
fn ungranted_capability_services_are_e0500_counted_and_audited() {
    let optional =
        "\n[capabilities.optional]\ntorvyn-custom-metrics = true\ntorvyn-flow-metadata = true\n";
    let p = Project::with_manifest(&metrics_emitter_manifest(r#"{"count": 3}"#, optional));
    let run = p.run(&["--format", "json", "run"]);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("[metrics-emitter] metrics refused: denied: E0500"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("[metrics-emitter] flow-metadata refused: E0500"),
        "{}",
        run.stderr
    );
    let report: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    assert_eq!(report["elements_delivered"], 3, "{report}");
    let pass = report["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "pass"))
        .unwrap_or_else(|| panic!("no pass stage: {report}"));
    let denials = |capability: &str| {
        pass["capabilities"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["capability"] == capability))
            .and_then(|c| c["denials"].as_u64())
            .unwrap_or(0)
    };
    // Three calls per element, one metadata query at init.
    assert_eq!(denials("torvyn:observability/custom-metrics"), 9, "{pass}");
    assert_eq!(denials("torvyn:streaming/flow-metadata"), 1, "{pass}");
    let audit =
        std::fs::read_to_string(p.path().join(".torvyn").join("audit.log")).expect("audit log");
    assert!(
        audit.lines().any(|l| l.contains("\"event\":\"denial\"")
            && l.contains("torvyn:observability/custom-metrics")),
        "{audit}"
    );
}

/// Granted: the flow metadata names the run's flow id, and the custom
/// metrics are counted as exercises.
#[test]
fn granted_capability_services_answer() {
    let grants = "\n[capabilities.optional]\ntorvyn-custom-metrics = true\ntorvyn-flow-metadata = true\n[security.grants.pass]\ncapabilities = [\"torvyn:observability/custom-metrics\", \"torvyn:streaming/flow-metadata\"]\n";
    let p = Project::with_manifest(&metrics_emitter_manifest(r#"{"count": 3}"#, grants));
    let run = p.run(&["--format", "json", "run"]);
    run.expect_code(0);
    assert!(
        run.stderr.contains("[metrics-emitter] flow=flow-")
            && run.stderr.contains("name=main node=pass"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("refused"), "{}", run.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let pass = report["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "pass"))
        .unwrap_or_else(|| panic!("no pass stage: {report}"));
    assert!(
        pass["capabilities"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| {
                c["capability"] == "torvyn:observability/custom-metrics" && c["exercises"] == 9
            })),
        "{pass}"
    );
}

/// A project whose `source` node is the `[[component]]` `own` — the built
/// test component `guest` ("built" by copying it) with JSON `config`
/// (`{root}` = the project directory) and `on_error = "fail"` — with its
/// own `own/Torvyn.toml` written in the security chapter's form
/// (`[component]` then `declarations`), → `quiet-sink`; `extra` is more
/// pipeline TOML. The project holds `input/a.txt` and `secret/b.txt`.
fn own_manifest_project(guest: &str, config: &str, declarations: &str, extra: &str) -> Project {
    let wasm = torvyn_e2e::test_component(guest);
    let sink = component("quiet-sink");
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let config = config.replace("{root}", &root.display().to_string());
    let manifest = format!(
        r#"[torvyn]
name = "own-manifest"
version = "0.1.0"
contract_version = "0.1.0"

[[component]]
name = "own"
path = "own"
language = "go"
build_command = "mkdir -p target/go && cp '{}' target/go/own.wasm"

[flow.main.nodes.source]
component = "own"
interface = "{SOURCE}"
config = '{config}'
on_error = "fail"

[flow.main.nodes.sink]
component = "{sink}"
interface = "{SINK}"

[[flow.main.edges]]
from = {{ node = "source", port = "output" }}
to = {{ node = "sink", port = "input" }}
{extra}"#,
        wasm.display()
    );
    std::fs::write(root.join("Torvyn.toml"), manifest).expect("write manifest");
    write_data_tree(root);
    std::fs::create_dir_all(root.join("own")).expect("component dir");
    std::fs::write(
        root.join("own").join("Torvyn.toml"),
        format!("[component]\nname = \"own\"\nversion = \"0.1.0\"\n\n{declarations}\n"),
    )
    .expect("component manifest");
    Project { dir }
}

/// `counter-source` emitting 3 payloads of `payload_size` bytes, its own
/// manifest's `[capabilities.torvyn]` table holding `torvyn_limits`.
fn limited_component_project(torvyn_limits: &str, payload_size: u64) -> Project {
    own_manifest_project(
        "counter-source",
        &format!(r#"{{"count": 3, "payload_size": {payload_size}}}"#),
        &format!("[capabilities.torvyn]\n{torvyn_limits}"),
        "",
    )
}

/// A component manifest in the security chapter's form (`[component]`,
/// then `[capabilities.required] wasi-filesystem-read = true`): without a
/// grant the flow is refused (E0202, exit 2); with a grant scoped to
/// `input/`, the component reads the file there and nothing outside it.
#[test]
fn a_component_manifests_filesystem_requirement_needs_its_grant() {
    let needs = "[capabilities.required]\nwasi-filesystem-read = true\n[capabilities.optional]\nwasi-clocks = true";
    let reading = |file: &str, extra: &str| {
        own_manifest_project(
            "fs-reader",
            &format!(r#"{{"path": "{{root}}/{file}"}}"#),
            needs,
            extra,
        )
    };
    let refused = reading("input/a.txt", "").run(&["run"]);
    refused.expect_code(2).expect_error("E0202");
    assert!(
        refused.stderr.contains("wasi-filesystem-read"),
        "{}",
        refused.stderr
    );

    let granted = |file: &str| {
        let p = reading(file, "");
        let manifest = std::fs::read_to_string(p.path().join("Torvyn.toml")).expect("manifest");
        let grant = format!(
            "\n[security.grants.source]\ncapabilities = [\"wasi:filesystem/read:{}\"]\n",
            p.path().join("input").display()
        );
        std::fs::write(p.path().join("Torvyn.toml"), format!("{manifest}{grant}")).expect("grant");
        let run = p.run(&["run"]);
        (p, run)
    };
    let (_p, inside) = granted("input/a.txt");
    inside.expect_code(0);
    let expected = torvyn_e2e::quiet_sink_line([A_TXT]);
    assert!(
        inside.stdout.lines().any(|l| l == expected),
        "{}\n{}",
        inside.stdout,
        inside.stderr
    );
    let (_p, outside) = granted("secret/b.txt");
    outside.expect_code(0);
    assert!(
        !outside
            .stdout
            .contains(&torvyn_e2e::quiet_sink_line([B_TXT])),
        "{}",
        outside.stdout
    );
}

/// `max-buffer-size` in a component's own manifest bounds that component's
/// allocations: 512-byte payloads fit under 1 KiB, 4 KiB ones are refused
/// (`capacity-exceeded`, failing the flow under `on_error = "fail"`)
/// although the flow allows 16 MiB.
#[test]
fn a_components_own_max_buffer_size_bounds_its_allocations() {
    let fits = limited_component_project("max-buffer-size = \"1KiB\"", 512);
    fits.run(&["run"]).expect_code(0);
    let refused = limited_component_project("max-buffer-size = \"1KiB\"", 4096);
    let run = refused.run(&["run"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("CapacityExceeded"),
        "the source's allocation was refused:\n{}",
        run.stderr
    );
}

/// `max-memory` in a component's own manifest caps its linear memory below
/// the host's limit: a source stating 64 KiB cannot even be instantiated
/// (its initial memory is larger: E0300 naming the 64 KiB limit), while the
/// host alone would allow it; a need over the host's
/// `max_memory_per_component` is refused before anything runs (E0702).
#[test]
fn a_components_own_max_memory_caps_its_linear_memory() {
    let unlimited = limited_component_project("", 64);
    unlimited.run(&["run"]).expect_code(0);
    let capped = limited_component_project("max-memory = \"64KiB\"", 64);
    let run = capped.run(&["run"]);
    run.expect_code(1).expect_error("E0300");
    assert!(run.stderr.contains("65536 byte limit"), "{}", run.stderr);
    assert!(
        run.stderr.contains("max-memory"),
        "the help names the key: {}",
        run.stderr
    );
    let over = limited_component_project("max-memory = \"4GiB\"", 64);
    over.run(&["run"]).expect_code(2).expect_error("E0702");
}
