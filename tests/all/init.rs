//! `torvyn init`: every template through the real binary (init → check →
//! build, and run where its flow can run today), and init's errors.

use crate::harness::{generated_target_dir, redact, torvyn, torvyn_generated, Run};
use std::path::Path;

/// `torvyn init <name> --template <template> --no-git` in `parent`.
fn init(parent: &Path, name: &str, template: &str) -> Run {
    torvyn(parent, &["init", name, "--template", template, "--no-git"])
}

/// Init, check and build `template` as project `name`; the project dir.
fn init_check_build(
    parent: &Path,
    name: &str,
    template: &str,
    build: &[&str],
) -> std::path::PathBuf {
    init(parent, name, template).expect_code(0);
    let dir = parent.join(name);
    let check = torvyn_generated(&dir, &["check"]);
    check.expect_code(0);
    assert!(
        check.stdout.contains("All checks passed."),
        "{}",
        check.stdout
    );
    let mut args = vec!["build"];
    args.extend_from_slice(build);
    let built = torvyn_generated(&dir, &args);
    built.expect_code(0);
    assert!(built.stdout.contains("✓ Built \""), "{}", built.stdout);
    assert!(
        !built.stderr.contains("warning"),
        "the generated Rust warns:\n{}",
        built.stderr
    );
    dir
}

/// The single-component templates build, in cargo's debug profile by
/// default, with no warning from the generated Rust; then they run, trace
/// and bench between the built-in test source and stdout sink their flows
/// name. `printed` is what `run --limit 5` prints on stdout.
fn single_component_template(template: &str, printed: &[&str]) {
    let parent = tempfile::tempdir().expect("temp dir");
    let name = format!("t-{template}");
    let dir = init_check_build(parent.path(), &name, template, &[]);
    let wasm = generated_target_dir()
        .join("wasm32-wasip2/debug")
        .join(format!("{}.wasm", name.replace('-', "_")));
    assert!(wasm.is_file(), "{} was not built", wasm.display());
    for file in [
        "Torvyn.toml",
        "Cargo.toml",
        "wit/world.wit",
        "src/lib.rs",
        ".gitignore",
        "README.md",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    assert!(dir.join("wit/deps/streaming/types.wit").is_file());

    let run = torvyn_generated(&dir, &["run", "--limit", "5"]);
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines, printed, "stderr:\n{}", run.stderr);

    traces_and_benches(&dir);
}

/// `trace --limit 3` and a short `bench` of the project in `dir` succeed:
/// the pulled elements traced, elements moved.
fn traces_and_benches(dir: &Path) {
    let trace = torvyn_generated(dir, &["trace", "--limit", "3"]);
    trace.expect_code(0);
    // Three pulled (an aggregator's flush traces one more).
    let traced: u64 = trace
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Elements traced:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(traced >= 3, "{}\n{}", trace.stdout, trace.stderr);

    let bench = torvyn_generated(
        dir,
        &[
            "bench",
            "--duration",
            "300ms",
            "--warmup",
            "0s",
            "--report-format",
            "json",
        ],
    );
    bench.expect_code(0);
    let report: serde_json::Value =
        serde_json::from_str(&bench.stdout).expect("bench prints its JSON report");
    assert!(
        report["elements"].as_u64().is_some_and(|n| n > 0),
        "the benchmark moved nothing: {report}"
    );
}

fn greetings(numbers: impl IntoIterator<Item = u32>) -> Vec<String> {
    numbers
        .into_iter()
        .map(|n| format!("Hello, Torvyn! ({n})"))
        .collect()
}

#[test]
fn source_template_runs_into_the_stdout_sink() {
    let expected = greetings(1..=5);
    single_component_template(
        "source",
        &expected.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

/// The batch source prints the same greetings, and offers its batch form:
/// `inspect` shows it and `link` uses it.
#[test]
fn batch_source_template_runs_in_batches() {
    let expected = greetings(1..=5);
    single_component_template(
        "batch-source",
        &expected.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let wasm = generated_target_dir()
        .join("wasm32-wasip2/debug")
        .join("t_batch_source.wasm");
    let inspect = torvyn(
        wasm.parent().expect("a directory"),
        &[
            "inspect",
            &wasm.display().to_string(),
            "--show",
            "interfaces",
        ],
    );
    inspect.expect_code(0);
    assert!(
        inspect
            .stdout
            .contains("form          per element and batch (torvyn:batching/batch-source)"),
        "{}",
        inspect.stdout
    );
}

#[test]
fn sink_template_prints_the_test_sources_greetings() {
    let expected = greetings(1..=5);
    single_component_template(
        "sink",
        &expected.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

/// The Quickstart: the generated transform passes the test source's
/// greetings through to the stdout sink.
#[test]
fn transform_template_passes_the_greetings_through() {
    let expected = greetings(1..=5);
    single_component_template(
        "transform",
        &expected.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

#[test]
fn filter_template_keeps_the_even_sequence_numbers() {
    // Sequences 0, 2, 4 are greetings 1, 3, 5.
    let expected = greetings([1, 3, 5]);
    single_component_template(
        "filter",
        &expected.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

#[test]
fn router_template_sends_every_element_to_one_sink() {
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = init_check_build(parent.path(), "t-router", "router", &[]);
    let run = torvyn_generated(&dir, &["run", "--limit", "5"]);
    run.expect_code(0);
    let mut lines: Vec<&str> = run.stdout.lines().collect();
    lines.sort_unstable();
    let mut expected = greetings(1..=5);
    expected.sort_unstable();
    assert_eq!(lines, expected, "stderr:\n{}", run.stderr);
    traces_and_benches(&dir);
}

#[test]
fn aggregator_template_summarises_the_stream() {
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = init_check_build(parent.path(), "t-aggregator", "aggregator", &[]);
    let run = torvyn_generated(&dir, &["run", "--limit", "5"]);
    run.expect_code(0);
    assert!(
        !run.stdout.trim().is_empty(),
        "no summary printed:\n{}",
        run.stderr
    );
    traces_and_benches(&dir);
}

/// The full pipeline runs end to end: the sink prints the source's
/// greetings, passed through by the transform.
#[test]
fn full_pipeline_template_runs_end_to_end() {
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = init_check_build(parent.path(), "t-pipeline", "full-pipeline", &["--release"]);
    for part in ["source", "transform", "sink"] {
        assert!(dir
            .join("components")
            .join(part)
            .join("wit/world.wit")
            .is_file());
    }
    let run = torvyn_generated(&dir, &["run", "--limit", "5"]);
    run.expect_code(0);
    let expected = greetings(1..=5);
    let printed: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(printed, expected, "stderr:\n{}", run.stderr);
}

/// The empty template checks, and builds nothing.
#[test]
fn empty_template_checks_and_has_nothing_to_build() {
    let parent = tempfile::tempdir().expect("temp dir");
    init(parent.path(), "t-empty", "empty").expect_code(0);
    let dir = parent.path().join("t-empty");
    torvyn_generated(&dir, &["check"]).expect_code(0);
    let built = torvyn_generated(&dir, &["build"]);
    built.expect_code(0);
    assert!(
        built.stdout.contains("No [[component]] to build."),
        "{}",
        built.stdout
    );
}

/// `--no-example` writes stubs that compile too, without warnings (the
/// aggregator's, and the batch source's with its two functions).
#[test]
fn no_example_writes_stubs_that_build() {
    for (template, stub_body) in [
        ("aggregator", "Ok(Vec::new())"),
        ("batch-source", "fn pull_batch(_max: u32)"),
    ] {
        let parent = tempfile::tempdir().expect("temp dir");
        let run = torvyn(
            parent.path(),
            &[
                "init",
                "t-stub",
                "--template",
                template,
                "--no-example",
                "--no-git",
            ],
        );
        run.expect_code(0);
        let dir = parent.path().join("t-stub");
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).expect("lib.rs");
        assert!(lib.contains(stub_body), "{template}: {lib}");
        let built = torvyn_generated(&dir, &["build"]);
        built.expect_code(0);
        assert!(
            !built.stderr.contains("warning"),
            "the {template} stub warns:\n{}",
            built.stderr
        );
    }
}

/// The spec's summary, and the generated manifest, for the transform.
#[test]
fn init_output_and_manifest_snapshot() {
    let parent = tempfile::tempdir().expect("temp dir");
    let run = init(parent.path(), "demo", "transform");
    run.expect_code(0);
    insta::assert_snapshot!("init_transform_output", redact(&run.stdout, parent.path()));
    let manifest =
        std::fs::read_to_string(parent.path().join("demo/Torvyn.toml")).expect("Torvyn.toml");
    insta::assert_snapshot!("init_transform_manifest", manifest);
}

/// Without a name, init creates the project in the (empty) current
/// directory, named after it, and makes it a git repository.
#[test]
fn init_in_place_takes_the_directory_name_and_inits_git() {
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = parent.path().join("in-place");
    std::fs::create_dir(&dir).expect("mkdir");
    let run = torvyn(&dir, &["init", "--template", "sink"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("Created project \"in-place\""),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("cd in-place"), "{}", run.stdout);
    let manifest = std::fs::read_to_string(dir.join("Torvyn.toml")).expect("Torvyn.toml");
    assert!(manifest.contains("name = \"in-place\""));
    let git = std::process::Command::new("git").arg("--version").output();
    if git.is_ok_and(|o| o.status.success()) {
        assert!(dir.join(".git").is_dir(), "git init was not run");
    }
}

/// A non-empty directory is E0003; `--force` writes over it.
#[test]
fn non_empty_directory_is_e0003_unless_forced() {
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = parent.path().join("taken");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("notes.txt"), "mine").expect("write");
    let run = init(parent.path(), "taken", "transform");
    run.expect_code(1).expect_error("E0003");
    assert!(!dir.join("Torvyn.toml").exists());
    let forced = torvyn(parent.path(), &["init", "taken", "--force", "--no-git"]);
    forced.expect_code(0);
    assert!(dir.join("Torvyn.toml").is_file());
    assert!(dir.join("notes.txt").is_file(), "--force keeps other files");
}

#[test]
fn unknown_template_lists_the_templates() {
    let parent = tempfile::tempdir().expect("temp dir");
    let run = init(parent.path(), "demo", "nosuch");
    run.expect_code(1).expect_error("E0702");
    assert!(
        run.stderr.contains("unknown template `nosuch`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("full-pipeline"), "{}", run.stderr);
    assert!(!parent.path().join("demo").exists());
}

#[test]
fn go_language_is_e0010_with_a_hint() {
    let parent = tempfile::tempdir().expect("temp dir");
    let run = torvyn(parent.path(), &["init", "demo", "--language", "go"]);
    run.expect_code(1).expect_error("E0010");
    assert!(run.stderr.contains("TinyGo"), "{}", run.stderr);
    assert!(run.stderr.contains("--language rust"), "{}", run.stderr);
}

#[test]
fn interactive_without_a_terminal_fails_instead_of_waiting() {
    let parent = tempfile::tempdir().expect("temp dir");
    let run = torvyn(parent.path(), &["init", "demo", "--interactive"]);
    run.expect_code(1);
    assert!(run.stderr.contains("needs a terminal"), "{}", run.stderr);
    assert!(!parent.path().join("demo").exists());
}

#[test]
fn invalid_name_and_contract_version_are_refused() {
    let parent = tempfile::tempdir().expect("temp dir");
    init(parent.path(), "My_Project", "transform")
        .expect_code(1)
        .expect_error("E0702");
    let run = torvyn(
        parent.path(),
        &["init", "demo", "--contract-version", "0.2.0"],
    );
    run.expect_code(1).expect_error("E0201");
}

/// On a terminal (a pseudo-terminal from util-linux `script`, when it is
/// installed), the wizard asks for the name, template, language, example
/// and git.
#[test]
fn interactive_wizard_asks_on_a_terminal() {
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let parent = tempfile::tempdir().expect("temp dir");
    let torvyn = env!("CARGO_BIN_EXE_torvyn");
    let mut child = std::process::Command::new("script")
        .args(["-qec", &format!("{torvyn} init --interactive"), "/dev/null"])
        .current_dir(parent.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("script runs");
    // Name, Enter on the default template (transform) and language
    // (rust), no example, no git.
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), b"wiz-demo\r\r\rnn")
        .expect("type the answers");
    // A wizard waiting for more input must fail the test, not hang it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the wizard did not finish within 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success());
    let dir = parent.path().join("wiz-demo");
    let manifest = std::fs::read_to_string(dir.join("Torvyn.toml")).expect("Torvyn.toml");
    assert!(manifest.contains("interface = \"torvyn:streaming/processor\""));
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).expect("lib.rs");
    assert!(
        lib.contains("not implemented yet"),
        "the stub was not chosen"
    );
    assert!(!dir.join(".git").exists(), "git was declined");
}
