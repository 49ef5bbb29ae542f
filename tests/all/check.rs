//! `torvyn check`: static validation of a project's manifest and WIT,
//! each error code through the real binary.

use crate::harness::{redact, Project};
use std::path::Path;

pub(crate) const MANIFEST: &str = "[torvyn]\nname = \"my-transform\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n\n[[component]]\nname = \"my-transform\"\npath = \".\"\n";

pub(crate) const WORLD: &str = "package my:transform@0.1.0;\n\nworld transform {\n  import torvyn:streaming/types@0.1.0;\n  import torvyn:streaming/buffer-allocator@0.1.0;\n  export torvyn:streaming/processor@0.1.0;\n}\n";

/// A component project: Torvyn.toml, wit/world.wit, and the canonical
/// torvyn:streaming package vendored in wit/deps/.
pub(crate) fn project(manifest: &str, world: &str) -> Project {
    let project = Project::with_manifest(manifest);
    let wit = project.path().join("wit");
    let deps = wit.join("deps").join("torvyn-streaming");
    std::fs::create_dir_all(&deps).expect("deps dir");
    std::fs::write(wit.join("world.wit"), world).expect("world.wit");
    let canonical = torvyn_e2e::repo_root().join("wit").join("streaming");
    for entry in std::fs::read_dir(&canonical).expect("canonical wit") {
        let path = entry.expect("entry").path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, deps.join(name)).expect("copy wit");
        }
    }
    project
}

pub(crate) fn add(project: &Project, path: &str, text: &str) {
    let path = project.path().join(path);
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).expect("dir");
    std::fs::write(path, text).expect("write");
}

/// The quickstart's output for a valid project.
#[test]
fn a_valid_project_passes_like_the_quickstart() {
    let p = project(MANIFEST, WORLD);
    let run = p.run(&["check"]);
    run.expect_code(0);
    insta::assert_snapshot!("check_ok", run.stdout);
}

#[test]
fn the_hello_world_example_passes() {
    let run = crate::harness::torvyn(&torvyn_e2e::hello_world_dir(), &["check"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("✓ Component \"hello-sink\" declared correctly"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_wit_syntax_error_is_e0100_with_file_line_and_column() {
    let p = project(
        MANIFEST,
        &WORLD.replace(
            "export torvyn:streaming/processor@0.1.0;",
            "export torvyn:streaming/processor@0.1.0",
        ),
    );
    let run = p.run(&["check"]);
    run.expect_code(1).expect_error("E0100");
    assert!(run.stderr.contains("[wit/world.wit:7:1]"), "{}", run.stderr);
    insta::assert_snapshot!("check_e0100", redact(&run.stderr, p.path()));
}

#[test]
fn an_unresolved_use_is_e0101() {
    let world = format!(
        "{WORLD}\ninterface extra {{\n  use torvyn:streaming/types@0.1.0.{{no-such-type}};\n}}\n"
    );
    let p = project(MANIFEST, &world);
    let run = p.run(&["check"]);
    run.expect_code(1).expect_error("E0101");
    assert!(run.stderr.contains("wit/world.wit:"), "{}", run.stderr);
    insta::assert_snapshot!("check_e0101", redact(&run.stderr, p.path()));
}

#[test]
fn an_unknown_package_is_e0101() {
    let p = project(
        MANIFEST,
        &WORLD.replace(
            "import torvyn:streaming/types@0.1.0;",
            "import torvyn:missing/types@0.1.0;",
        ),
    );
    let run = p.run(&["check"]);
    run.expect_code(1).expect_error("E0101");
    assert!(run.stderr.contains("torvyn:missing"), "{}", run.stderr);
}

#[test]
fn a_world_without_a_torvyn_export_is_e0102() {
    let p = project(
        MANIFEST,
        &WORLD.replace("  export torvyn:streaming/processor@0.1.0;\n", ""),
    );
    let run = p.run(&["check"]);
    run.expect_code(1).expect_error("E0102");
    assert!(run.stderr.contains("[wit/world.wit:3:7]"), "{}", run.stderr);
    insta::assert_snapshot!("check_e0102", redact(&run.stderr, p.path()));
}

pub(crate) const PREOPENS: &str = "package wasi:filesystem@0.2.3;\n\ninterface preopens {\n  get-directories: func() -> list<string>;\n}\n";

#[test]
fn an_undeclared_capability_is_e0103_and_declaring_it_fixes_it() {
    let world = WORLD.replace(
        "  export",
        "  import wasi:filesystem/preopens@0.2.3;\n  export",
    );
    let p = project(MANIFEST, &world);
    add(&p, "wit/deps/wasi-filesystem/preopens.wit", PREOPENS);
    let run = p.run(&["check"]);
    run.expect_code(1).expect_error("E0103");
    insta::assert_snapshot!("check_e0103", redact(&run.stderr, p.path()));

    let declared = format!("{MANIFEST}\n[capabilities.required]\nwasi-filesystem-read = true\n");
    std::fs::write(p.path().join("Torvyn.toml"), declared).expect("write");
    p.run(&["check"]).expect_code(0);
}

#[test]
fn declining_an_imported_capability_is_e0103() {
    let world = WORLD.replace(
        "  export",
        "  import wasi:filesystem/preopens@0.2.3;\n  export",
    );
    let manifest = format!("{MANIFEST}\n[capabilities.required]\nwasi-filesystem-read = true\n[capabilities.optional]\nwasi-filesystem-write = false\n");
    let p = project(&manifest, &world);
    add(&p, "wit/deps/wasi-filesystem/preopens.wit", PREOPENS);
    // Declaring read is enough for the import; declining write does not
    // contradict it (read is declared). Declining read would.
    p.run(&["check"]).expect_code(0);
    let contradicting =
        format!("{MANIFEST}\n[capabilities.optional]\nwasi-filesystem-read = false\n");
    std::fs::write(p.path().join("Torvyn.toml"), contradicting).expect("write");
    p.run(&["check"]).expect_code(1).expect_error("E0103");
}

#[test]
fn a_deprecated_contract_version_warns_and_fails_under_strict() {
    let p = project(
        &MANIFEST.replace(
            "contract_version = \"0.1.0\"",
            "contract_version = \"0.0.9\"",
        ),
        WORLD,
    );
    let run = p.run(&["check"]);
    run.expect_code(0);
    assert!(run.stderr.contains("warning[E0110]"), "{}", run.stderr);
    assert!(run.stderr.contains("Torvyn.toml:4:"), "{}", run.stderr);
    let strict = p.run(&["check", "--strict"]);
    strict.expect_code(2);
    insta::assert_snapshot!(
        "check_e0110_strict",
        format!(
            "{}\n---\n{}",
            strict.stdout,
            redact(&strict.stderr, p.path())
        )
    );
}

#[test]
fn manifest_errors_keep_their_codes() {
    let p = project(
        &format!("{MANIFEST}\n[runtime]\nworker_thread = 4\n"),
        WORLD,
    );
    p.run(&["check"]).expect_code(1).expect_error("E0701");
    let p = project(
        &format!("{MANIFEST}\n[runtime]\nworker_threads = \"four\"\n"),
        WORLD,
    );
    p.run(&["check"]).expect_code(1).expect_error("E0700");
    let p = project(
        &format!("{MANIFEST}\n[capabilities.required]\nwasi-filesytem-read = true\n"),
        WORLD,
    );
    let run = p.run(&["check"]);
    run.expect_code(1).expect_error("E0702");
    assert!(
        run.stderr.contains("did you mean `wasi-filesystem-read`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn json_output_carries_exit_code_and_errors() {
    let p = project(
        MANIFEST,
        &WORLD.replace("  export torvyn:streaming/processor@0.1.0;\n", ""),
    );
    let run = p.run(&["check", "--format", "json"]);
    run.expect_code(1);
    let json: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("json");
    assert_eq!(json["exit_code"], 1);
    assert_eq!(json["errors"][0]["code"], "E0102");
    assert_eq!(json["errors"][0]["location"], "wit/world.wit:3:7");
    let ok = project(MANIFEST, WORLD).run(&["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(ok.stdout.trim()).expect("json");
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["checks"][0], "Manifest valid (Torvyn.toml)");
}

/// `check` validates each flow as it would run: its graph, and where each
/// node's component is, with the manifest's lines shown.
#[test]
fn check_validates_flows_and_their_components() {
    let flows = format!(
        "{MANIFEST}\n[flow.main.nodes.transform]\ncomponent = \"my-transform\"\ninterface = \"torvyn:streaming/processor\"\n"
    );
    let good = project(&flows, WORLD);
    let run = good.run(&["check", "--verbose"]);
    run.expect_code(0);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("Flow \"main\" valid (3 nodes, 2 edges)"),
        "{all}"
    );
    assert!(run.stdout.contains("All checks passed"), "{}", run.stdout);

    let broken = format!(
        "{MANIFEST}\n[flow.main.nodes.transform]\ncomponent = \"file://target/missing.wasm\"\ninterface = \"torvyn:streaming/procesor\"\n"
    );
    let bad = project(&broken, WORLD);
    let run = bad.run(&["check"]);
    run.expect_code(2);
    run.expect_error("E0203").expect_error("E0210");
    for needle in [
        "did you mean `torvyn:streaming/processor`?",
        "missing.wasm does not exist",
        "Torvyn.toml:",
    ] {
        assert!(run.stderr.contains(needle), "{needle:?} in\n{}", run.stderr);
    }
    assert!(!run.stdout.contains("All checks passed"), "{}", run.stdout);
}
