//! Python components (componentize-py) through the real binary: the
//! Python templates init, check, build into components `torvyn inspect`
//! recognises, a Python flow runs, and so does a Python transform between
//! Rust components; `language` picks the toolchain (a missing
//! componentize-py, Go and Zig are E0010); doctor reports componentize-py.
//!
//! componentize-py embeds CPython, so each component is ~18 MiB and takes
//! a while to build and compile: each test builds only what it checks, and
//! runs reuse the fresh builds (and their compiled forms, cached per
//! project: see [`in_project`]).

use crate::harness::{component, torvyn, torvyn_generated, torvyn_with_env};
use std::path::{Path, PathBuf};
use torvyn_e2e::tools::outside_tool;
use torvyn_runtime::assembly::toolchains::python::componentize_py_requirement;

/// Whether componentize-py is installed (see `torvyn_e2e::tools`).
fn componentize_py(checks: &str) -> bool {
    outside_tool(
        "componentize-py",
        &format!("pip install {}", componentize_py_requirement()),
        checks,
    )
}

/// `torvyn <args>` in the project `dir`, with compiled components cached
/// in its `.torvyn/cache`. componentize-py never builds the same bytes
/// twice, so a Python component's compiled form (~35 MiB) is useful only
/// to the test that built it: it goes away with the test's temp dir
/// instead of piling up in the shared test cache.
fn in_project(dir: &Path, args: &[&str]) -> crate::harness::Run {
    let cache = dir.join(".torvyn/cache");
    torvyn_with_env(
        dir,
        args,
        &[("TORVYN_CACHE_DIR", &cache.display().to_string())],
    )
}

/// `torvyn init <name> --template <template> --language python --no-git`
/// in `parent`; the project dir.
fn init_python(parent: &Path, name: &str, template: &str) -> PathBuf {
    torvyn(
        parent,
        &[
            "init",
            name,
            "--template",
            template,
            "--language",
            "python",
            "--no-git",
        ],
    )
    .expect_code(0);
    parent.join(name)
}

/// `torvyn check` passes in `dir`.
fn checks(dir: &Path) {
    let check = in_project(dir, &["check"]);
    check.expect_code(0);
    assert!(
        check.stdout.contains("All checks passed."),
        "{}",
        check.stdout
    );
}

/// `torvyn inspect wasm` names `role`.
fn inspect_role(dir: &Path, wasm: &Path, role: &str) {
    assert!(wasm.is_file(), "{} was not built", wasm.display());
    let inspect = in_project(dir, &["inspect", &wasm.display().to_string()]);
    inspect.expect_code(0);
    let role_line = inspect
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("role"))
        .unwrap_or_default();
    assert!(role_line.contains(role), "{}", inspect.stdout);
}

/// `Hello, Torvyn! (n)` for each n: what the test source (and the
/// generated sources) produce.
fn greetings(numbers: impl IntoIterator<Item = u32>) -> Vec<String> {
    numbers
        .into_iter()
        .map(|n| format!("Hello, Torvyn! ({n})"))
        .collect()
}

/// A single-component Python template: init → check → build → inspect,
/// then `run --limit 5` between the built-in test source and stdout sink
/// prints `printed`, reusing the build.
fn python_template(template: &str, role: &str, printed: &[String]) {
    if let Some(lines) = python_template_run(template, role) {
        assert_eq!(lines, printed);
    }
}

/// A single-component Python template: init → check → build → inspect,
/// then `run --limit 5` between the built-in test source and stdout
/// sink(s), reusing the build; the lines it printed (`None` when
/// componentize-py is missing and the test is skipped).
fn python_template_run(template: &str, role: &str) -> Option<Vec<String>> {
    if !componentize_py(&format!(
        "the Python {template} template builds into a {role} component"
    )) {
        return None;
    }
    let parent = tempfile::tempdir().expect("temp dir");
    let name = format!("py-{template}");
    let dir = init_python(parent.path(), &name, template);
    for file in [
        "Torvyn.toml",
        "wit/world.wit",
        "app.py",
        ".gitignore",
        "README.md",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    assert!(dir.join("wit/deps/streaming/types.wit").is_file());
    assert!(!dir.join("Cargo.toml").exists());
    let manifest = std::fs::read_to_string(dir.join("Torvyn.toml")).expect("manifest");
    assert!(manifest.contains("language = \"python\""), "{manifest}");
    checks(&dir);
    let built = in_project(&dir, &["build"]);
    built.expect_code(0);
    let wasm = dir.join("target/python").join(format!("{name}.wasm"));
    assert!(
        built
            .stdout
            .contains(&format!("✓ Built \"{name}\" → target/python/{name}.wasm")),
        "{}",
        built.stdout
    );
    inspect_role(&dir, &wasm, role);
    let run = in_project(&dir, &["run", "--limit", "5"]);
    run.expect_code(0);
    assert!(
        !run.stderr.contains("Building component"),
        "the fresh build was not reused:\n{}",
        run.stderr
    );
    eprintln!("--- torvyn run's stderr\n{}", run.stderr);
    Some(run.stdout.lines().map(str::to_string).collect())
}

/// The Quickstart in Python: the generated transform passes the test
/// source's greetings through to the stdout sink.
#[test]
fn python_transform_template_builds_a_processor_and_runs() {
    python_template("transform", "torvyn:streaming/processor", &greetings(1..=5));
}

#[test]
fn python_source_template_builds_a_source_and_runs() {
    python_template("source", "torvyn:streaming/source", &greetings(1..=5));
}

#[test]
fn python_sink_template_builds_a_sink_and_runs() {
    python_template("sink", "torvyn:streaming/sink", &greetings(1..=5));
}

/// The router sends every element to one of its two stdout sinks: all
/// the greetings are printed, in some interleaving.
#[test]
fn python_router_template_builds_a_router_and_runs() {
    let Some(mut printed) = python_template_run("router", "torvyn:filtering/router") else {
        return;
    };
    printed.sort_unstable();
    let mut expected = greetings(1..=5);
    expected.sort_unstable();
    assert_eq!(printed, expected);
}

/// The aggregator summarises the five greetings it ingests.
#[test]
fn python_aggregator_template_builds_an_aggregator_and_runs() {
    let Some(printed) = python_template_run("aggregator", "torvyn:aggregation/aggregator") else {
        return;
    };
    assert!(
        printed.iter().any(|l| l.starts_with("5 elements, ")),
        "{printed:?}"
    );
}

#[test]
fn python_filter_template_builds_a_filter_and_runs() {
    // Sequences 0, 2, 4 are greetings 1, 3, 5.
    python_template("filter", "torvyn:filtering/filter", &greetings([1, 3, 5]));
}

/// The Python full pipeline: `torvyn run` builds the three stale Python
/// components with componentize-py and prints the source's greetings
/// (passed through by the transform); a second run reuses the builds.
#[test]
fn python_full_pipeline_is_built_by_run_and_prints_its_output() {
    if !componentize_py("a Python source → transform → sink flow builds and runs") {
        return;
    }
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = init_python(parent.path(), "py-pipeline", "full-pipeline");
    checks(&dir);
    let expected = greetings(1..=5);
    let first = in_project(&dir, &["run", "--limit", "5"]);
    first.expect_code(0);
    assert_eq!(
        first.stdout.lines().collect::<Vec<_>>(),
        expected,
        "stderr:\n{}",
        first.stderr
    );
    assert_eq!(
        first.stderr.matches("Building component").count(),
        3,
        "{}",
        first.stderr
    );
    let second = in_project(&dir, &["run", "--limit", "5"]);
    second.expect_code(0);
    assert_eq!(second.stdout.lines().collect::<Vec<_>>(), expected);
    assert!(
        !second.stderr.contains("Building component"),
        "fresh components were rebuilt:\n{}",
        second.stderr
    );
    for (part, role) in [
        ("source", "torvyn:streaming/source"),
        ("transform", "torvyn:streaming/processor"),
        ("sink", "torvyn:streaming/sink"),
    ] {
        let wasm = dir
            .join("components")
            .join(part)
            .join("target/python")
            .join(format!("py-pipeline-{part}.wasm"));
        inspect_role(&dir, &wasm, role);
    }
}

/// A Python transform between the Rust test components: elements cross
/// the language boundary both ways through host buffers, every payload
/// upper-cased (the generated pass-through, edited), in order.
#[test]
fn a_python_transform_runs_between_rust_components() {
    if !componentize_py("a Python transform runs between Rust components") {
        return;
    }
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = init_python(parent.path(), "py-mixed", "transform");
    let generated = std::fs::read_to_string(dir.join("Torvyn.toml")).expect("manifest");
    let capabilities = generated
        .find("[capabilities.optional]")
        .map(|at| &generated[at..])
        .expect("the Python manifest declares its WASI imports");
    let (source, sink) = (component("counter-source"), component("quiet-sink"));
    let manifest = format!(
        r#"[torvyn]
name = "py-mixed"
version = "0.1.0"
contract_version = "0.1.0"

[[component]]
name = "py-mixed"
path = "."
language = "python"

{capabilities}
[flow.main.nodes.source]
component = "{source}"
interface = "torvyn:streaming/source"
config = '{{"count": 20, "payload_size": 32}}'

[flow.main.nodes.transform]
component = "py-mixed"
interface = "torvyn:streaming/processor"

[flow.main.nodes.sink]
component = "{sink}"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = {{ node = "source", port = "output" }}
to = {{ node = "transform", port = "input" }}

[[flow.main.edges]]
from = {{ node = "transform", port = "output" }}
to = {{ node = "sink", port = "input" }}
"#
    );
    std::fs::write(dir.join("Torvyn.toml"), manifest).expect("write");
    let app = std::fs::read_to_string(dir.join("app.py")).expect("app.py");
    let pass_through = "data = input.payload.read_all()\n";
    assert!(app.contains(pass_through), "{app}");
    let upper = app.replace(pass_through, "data = input.payload.read_all().upper()\n");
    std::fs::write(dir.join("app.py"), upper).expect("write app.py");
    let run = in_project(&dir, &["run"]);
    run.expect_code(0);
    let expected = torvyn_e2e::quiet_sink_line(
        torvyn_e2e::counter_payloads(20, 32).map(|p| p.to_ascii_uppercase()),
    );
    assert!(
        run.stdout.contains(&expected),
        "expected `{expected}` in\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

/// `--no-example` writes Python stubs that build too.
#[test]
fn python_stubs_build() {
    if !componentize_py("the Python stubs of --no-example build") {
        return;
    }
    let parent = tempfile::tempdir().expect("temp dir");
    torvyn(
        parent.path(),
        &[
            "init",
            "py-stub",
            "--template",
            "aggregator",
            "--language",
            "python",
            "--no-example",
            "--no-git",
        ],
    )
    .expect_code(0);
    let dir = parent.path().join("py-stub");
    let app = std::fs::read_to_string(dir.join("app.py")).expect("app.py");
    assert!(app.contains("return []"), "{app}");
    let built = in_project(&dir, &["build"]);
    built.expect_code(0);
    assert!(dir.join("target/python/py-stub.wasm").is_file());
}

/// Without componentize-py, building a Python component is E0010 with the
/// pinned `pip install` (no componentize-py needed to check this).
#[test]
fn a_missing_componentize_py_is_e0010_with_the_pinned_install() {
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = init_python(parent.path(), "py-nocpy", "transform");
    let run = torvyn_with_env(
        &dir,
        &["build"],
        &[("TORVYN_COMPONENTIZE_PY", "/nonexistent/componentize-py")],
    );
    run.expect_code(2).expect_error("E0010");
    assert!(run.stderr.contains("componentize-py"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("pip install {}", componentize_py_requirement())),
        "{}",
        run.stderr
    );
}

/// `language` is not ignored: a Go or Zig component is not built with
/// cargo (even with a Cargo.toml beside it), but refused with E0010.
#[test]
fn go_and_zig_components_are_e0010_naming_the_missing_support() {
    let parent = tempfile::tempdir().expect("temp dir");
    torvyn(parent.path(), &["init", "lang", "--no-git"]).expect_code(0);
    let dir = parent.path().join("lang");
    let manifest = std::fs::read_to_string(dir.join("Torvyn.toml")).expect("manifest");
    for language in ["go", "zig"] {
        std::fs::write(
            dir.join("Torvyn.toml"),
            manifest.replace("language = \"rust\"", &format!("language = \"{language}\"")),
        )
        .expect("write");
        let run = torvyn_generated(&dir, &["build"]);
        run.expect_code(2).expect_error("E0010");
        assert!(
            run.stderr.contains(&format!(
                "written in {language}, which Torvyn cannot build yet"
            )),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("build_command"), "{}", run.stderr);
    }
}

/// The componentize-py version is pinned in one file: CI installs from it
/// and the README's prerequisite names it.
#[test]
fn ci_and_readme_install_the_pinned_componentize_py() {
    let root = torvyn_e2e::repo_root();
    let ci = std::fs::read_to_string(root.join(".ci/run")).expect(".ci/run");
    assert!(
        ci.contains(
            "pip install --quiet -r runtime/src/assembly/toolchains/python-requirements.txt"
        ),
        "{ci}"
    );
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(
        readme.contains(&format!("pip install {}", componentize_py_requirement())),
        "README.md does not give the pinned `pip install {}`",
        componentize_py_requirement()
    );
}

/// `torvyn doctor` reports componentize-py: its version when installed,
/// else the pinned `pip install` (optional: doctor still passes).
#[test]
fn doctor_reports_componentize_py_or_how_to_install_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = torvyn_with_env(
        dir.path(),
        &["doctor"],
        &[("TORVYN_COMPONENTIZE_PY", "/nonexistent/componentize-py")],
    );
    missing.expect_code(0);
    assert!(
        missing.stdout.contains(&format!(
            "○ componentize-py not installed (for Python components: `pip install {}`)",
            componentize_py_requirement()
        )),
        "{}",
        missing.stdout
    );
    if componentize_py("torvyn doctor shows the installed componentize-py's version") {
        let found = torvyn(dir.path(), &["doctor"]);
        found.expect_code(0);
        assert!(
            found.stdout.contains("✓ componentize-py: componentize-py "),
            "{}",
            found.stdout
        );
    }
}
