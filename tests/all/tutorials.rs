//! The spec's tutorials as runnable examples (examples/tutorials/<name>/):
//! each is the project a reader ends with, built as its README says
//! (`cargo build --target wasm32-wasip2`), then checked, linked, run, traced
//! and benchmarked with the commands the tutorial shows. `torvyn run`
//! prints exactly what the example's expected-output.txt shows.

use crate::harness::{redact, torvyn, Run};
use std::path::Path;

/// What expected-output.txt says one `torvyn run` prints: its arguments
/// (the `$ torvyn run …` first line), and the lines it writes to stdout and
/// to stderr.
///
/// The file is the terminal transcript: the runtime's `[torvyn]` lines
/// (stderr), a blank line, what the components print, a blank line and the
/// runtime's summary. What the components print goes to stdout, but for
/// the lines `on_stderr` picks (a component's `eprintln!`).
struct Transcript {
    args: Vec<String>,
    stdout: Vec<String>,
    stderr: Vec<String>,
}

impl Transcript {
    fn read(dir: &Path, on_stderr: fn(&str) -> bool) -> Self {
        let path = dir.join("expected-output.txt");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let lines: Vec<&str> = text.lines().collect();
        let args = lines
            .first()
            .and_then(|l| l.strip_prefix("$ torvyn run"))
            .unwrap_or_else(|| panic!("{}: the first line is not `$ torvyn run …`", path.display()))
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let find = |prefix: &str| {
            lines
                .iter()
                .position(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("{}: no line `{prefix}…`", path.display()))
        };
        let running = find("[torvyn] Running flow '");
        let completed = find("[torvyn] Flow '");
        assert!(
            lines[running + 1].is_empty() && lines[completed - 1].is_empty(),
            "{}: the components' lines sit between two blank lines",
            path.display()
        );
        let body = &lines[running + 2..completed - 1];
        let stdout = body.iter().filter(|l| !on_stderr(l));
        let guest_stderr = body.iter().filter(|l| on_stderr(l));
        let stderr = lines[1..running + 2]
            .iter()
            .chain(guest_stderr)
            .chain(&lines[completed - 1..])
            .map(|l| redact(l, dir))
            .collect();
        Self {
            args,
            stdout: stdout.map(|l| l.to_string()).collect(),
            stderr,
        }
    }
}

/// Builds tutorial `name`, then `torvyn check` (which prints exactly
/// `checked`) and `torvyn run` it with the arguments of its
/// expected-output.txt: stdout and stderr are exactly the transcript's
/// (durations aside). The directory, for more commands.
fn run_tutorial(name: &str, checked: &str, on_stderr: fn(&str) -> bool) -> std::path::PathBuf {
    let dir = torvyn_e2e::tutorial_dir(name);
    torvyn_e2e::build_tutorial(name);
    let check = torvyn(&dir, &["check"]);
    check.expect_code(0);
    assert_eq!(
        check.stdout.trim_end(),
        checked,
        "{name}: torvyn check\n--- stderr\n{}",
        check.stderr
    );
    let expected = Transcript::read(&dir, on_stderr);
    let args: Vec<&str> = std::iter::once("run")
        .chain(expected.args.iter().map(String::as_str))
        .collect();
    let run = torvyn(&dir, &args);
    run.expect_code(0);
    let printed: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        printed, expected.stdout,
        "{name}: stdout carries exactly the components' lines\n--- stderr\n{}",
        run.stderr
    );
    let stderr: Vec<String> = run.stderr.lines().map(|l| redact(l, &dir)).collect();
    assert_eq!(
        stderr, expected.stderr,
        "{name}: stderr carries exactly the runtime's lines (and the components' eprintln!s)"
    );
    dir
}

/// Never on stderr: the tutorial's components only print to stdout.
fn nothing(_: &str) -> bool {
    false
}

/// Asserts `run` succeeded and its stdout has every one of `lines`.
fn expect_lines(what: &str, run: &Run, lines: &[&str]) {
    run.expect_code(0);
    for line in lines {
        assert!(
            run.stdout.lines().any(|l| l == *line),
            "{what}: no line {line:?} in stdout:\n{}\n--- stderr\n{}",
            run.stdout,
            run.stderr
        );
    }
}

/// `torvyn check`'s report on a project whose `[[component]]`s are
/// `components`, all valid.
fn all_checked(components: &[&str]) -> String {
    let mut report = format!(
        "  ✓ Manifest valid (Torvyn.toml)\n  ✓ Contracts valid ({} components)\n",
        components.len()
    );
    for component in components {
        report.push_str(&format!(
            "  ✓ Component \"{component}\" declared correctly\n"
        ));
    }
    report + "\n  All checks passed."
}

/// `torvyn link` passes for flow `main`, whose nodes are `chain`.
fn expect_linked(dir: &Path, chain: &str) {
    let link = torvyn(dir, &["link"]);
    link.expect_code(0);
    assert_eq!(
        link.stdout.trim_end(),
        format!(
            "  ✓ Flow \"main\": {chain}\n  ✓ All interfaces compatible\n  ✓ Topology valid (DAG, connected, role-consistent)\n  ✓ Capabilities granted\n\n  Link check passed."
        ),
        "torvyn link\n--- stderr\n{}",
        link.stderr
    );
}

/// "Your First Pipeline": source → uppercase transform → sink; `torvyn run
/// --limit 10` prints the first ten log lines, numbered and uppercased.
#[test]
fn first_pipeline_runs_as_the_tutorial_shows() {
    // The tutorial's `torvyn check` output, exactly.
    let checked = all_checked(&["source", "transform", "sink"]);
    let dir = run_tutorial("log-pipeline", &checked, nothing);
    expect_linked(&dir, "source → transform → sink");
}

/// "Your First Pipeline", Step 6: `torvyn trace --limit 3
/// --show-backpressure` prints the three elements' lines, then a trace of
/// each through the three stages.
#[test]
fn first_pipeline_traces_three_elements() {
    let dir = torvyn_e2e::tutorial_dir("log-pipeline");
    torvyn_e2e::build_tutorial("log-pipeline");
    let trace = torvyn(&dir, &["trace", "--limit", "3", "--show-backpressure"]);
    expect_lines(
        "torvyn trace",
        &trace,
        &[
            "[0000] [TS=1000000] CONNECTION ACCEPTED FROM 10.0.1.42",
            "[0001] [TS=2000000] REQUEST RECEIVED: GET /API/STATUS",
            "[0002] [TS=3000000] DATABASE QUERY COMPLETED IN 12MS",
            "  Elements traced:  3",
            "  Backpressure:     0 events",
        ],
    );
    for stage in [
        "┬─ source     pull",
        "├─ transform  process",
        "└─ sink       push",
    ] {
        assert_eq!(
            trace.stdout.matches(stage).count(),
            3,
            "one `{stage}` per element:\n{}",
            trace.stdout
        );
    }
}

/// Lines the token sink writes to stderr: its `[N tokens] …` progress.
fn token_progress(line: &str) -> bool {
    line.starts_with('[') && line.contains(" tokens] ")
}

/// "AI Token Streaming Pipeline": the content filter drops
/// `harmful_content`; the sink reports progress every ten tokens on stderr
/// and prints the assembled text of the other 30 on `complete`.
#[test]
fn token_pipeline_filters_the_blocked_token() {
    let checked = all_checked(&["source", "filter", "sink"]);
    let dir = run_tutorial("token-pipeline", &checked, token_progress);
    expect_linked(&dir, "source → filter → sink");
}

/// "AI Token Streaming Pipeline", Step 6: in `torvyn trace --limit 15
/// --show-backpressure` the filter drops the 14th token (`harmful_content`)
/// and it never reaches the sink.
#[test]
fn token_pipeline_trace_shows_the_drop() {
    let dir = torvyn_e2e::tutorial_dir("token-pipeline");
    torvyn_e2e::build_tutorial("token-pipeline");
    let trace = torvyn(&dir, &["trace", "--limit", "15", "--show-backpressure"]);
    expect_lines(
        "torvyn trace",
        &trace,
        &[
            "Total tokens received: 14",
            "  Elements traced:  15",
            "  Dropped:          1",
        ],
    );
    let drops: Vec<&str> = trace
        .stdout
        .lines()
        .filter(|l| l.contains(" drop"))
        .collect();
    assert_eq!(drops.len(), 1, "one drop:\n{}", trace.stdout);
    assert!(
        drops[0].contains("└─ filter  evaluate") && drops[0].contains("(16B, borrowed)  drop"),
        "the filter drops the 16-byte ` harmful_content` as the last stage: {}",
        drops[0]
    );
    assert_eq!(trace.stdout.matches("└─ sink    push").count(), 14);
}

/// "Event Enrichment Pipeline": four stages; of the 50 events the 24 of
/// severity "high" are delivered, enriched with priority and category.
#[test]
fn enrichment_pipeline_delivers_the_high_priority_events() {
    let checked = all_checked(&["event-source", "enricher", "priority-filter", "event-sink"]);
    let dir = run_tutorial("enrichment-pipeline", &checked, nothing);
    expect_linked(&dir, "source → enricher → filter → sink");
}

/// "Event Enrichment Pipeline", Step 7: `torvyn bench` reports the
/// allocations and copies of all four stages.
#[test]
fn enrichment_pipeline_benchmarks() {
    let dir = torvyn_e2e::tutorial_dir("enrichment-pipeline");
    torvyn_e2e::build_tutorial("enrichment-pipeline");
    let bench = torvyn(&dir, &["bench", "--duration", "300ms", "--warmup", "0s"]);
    expect_lines(
        "torvyn bench",
        &bench,
        &[
            "  ── Resources ───────────────",
            "  ── Scheduling ──────────────",
        ],
    );
    for stage in ["source", "enricher", "filter", "sink"] {
        assert!(
            bench
                .stdout
                .lines()
                .any(|l| l.starts_with(&format!("  {stage}:"))),
            "no per-component latency of {stage}:\n{}",
            bench.stdout
        );
    }
    for copies in ["PayloadRead", "PayloadWrite"] {
        let line = bench
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(copies))
            .unwrap_or_else(|| panic!("no {copies} line:\n{}", bench.stdout));
        assert!(
            !line.contains(" 0 ("),
            "{copies} copies are counted: {line}"
        );
    }
}

/// The custom-component guide's rate limiter, in its `test` flow between
/// the built-in test source and stdout sink: of `--limit 50` elements
/// arriving within a second, the first 10 (`max_per_second`) pass.
#[test]
fn rate_limiter_passes_ten_per_second() {
    // Without compiling: the manifest and the one WIT file of the component.
    let checked = "  ✓ Manifest valid (Torvyn.toml)\n  ✓ Contracts valid (1 interface file)\n  ✓ Component \"rate-limiter\" declared correctly\n\n  All checks passed.";
    run_tutorial("rate-limiter", checked, nothing);
}

/// The guide's Part 4: `torvyn inspect` shows the filter and lifecycle
/// exports, `torvyn trace --flow test --limit 20` ten drops, and `torvyn
/// bench --flow test` succeeds.
#[test]
fn rate_limiter_inspects_traces_and_benchmarks() {
    let dir = torvyn_e2e::tutorial_dir("rate-limiter");
    torvyn_e2e::build_tutorial("rate-limiter");
    let inspect = torvyn(
        &dir,
        &["inspect", "target/wasm32-wasip2/debug/rate_limiter.wasm"],
    );
    expect_lines(
        "torvyn inspect",
        &inspect,
        &[
            "  role          torvyn:filtering/filter",
            "  exports       torvyn:filtering/filter@0.1.0",
            "                torvyn:streaming/lifecycle@0.1.0",
            "  imports       torvyn:streaming/types@0.1.0",
        ],
    );
    let trace = torvyn(&dir, &["trace", "--flow", "test", "--limit", "20"]);
    expect_lines(
        "torvyn trace",
        &trace,
        &["  Elements traced:  20", "  Dropped:          10"],
    );
    let bench = torvyn(
        &dir,
        &[
            "bench",
            "--flow",
            "test",
            "--duration",
            "300ms",
            "--warmup",
            "0s",
        ],
    );
    expect_lines(
        "torvyn bench",
        &bench,
        &["▶ Benchmarking flow \"test\" (warmup: 0s, duration: 300ms)"],
    );
}

/// Every tutorial starts from what `torvyn init` generates: each file it
/// generates that the tutorial does not edit (the vendored WIT in
/// `wit/deps/`, `.gitignore`, the workspace `Cargo.toml`) is in the example
/// unchanged. (The rate limiter's guide starts from nothing; its
/// `wit/deps/` is what the filter template vendors.)
#[test]
fn tutorials_start_from_what_torvyn_init_generates() {
    const PIPELINE_EDITS: &[&str] = &[
        "README.md",
        "Torvyn.toml",
        "components/source/Cargo.toml",
        "components/source/src/lib.rs",
        "components/source/wit/world.wit",
        "components/transform/Cargo.toml",
        "components/transform/src/lib.rs",
        "components/transform/wit/world.wit",
        "components/sink/Cargo.toml",
        "components/sink/src/lib.rs",
        "components/sink/wit/world.wit",
    ];
    let tutorials: [(&str, &str, &[&str]); 4] = [
        ("log-pipeline", "full-pipeline", PIPELINE_EDITS),
        ("token-pipeline", "full-pipeline", PIPELINE_EDITS),
        (
            "enrichment-pipeline",
            "empty",
            &["README.md", "Torvyn.toml"],
        ),
        (
            "rate-limiter",
            "filter",
            &[
                "README.md",
                "Torvyn.toml",
                "Cargo.toml",
                "src/lib.rs",
                "wit/world.wit",
            ],
        ),
    ];
    for (name, template, edited) in tutorials {
        let scratch = tempfile::tempdir().expect("temp dir");
        torvyn(
            scratch.path(),
            &["init", name, "--template", template, "--no-git"],
        )
        .expect_code(0);
        let generated = scratch.path().join(name);
        let example = torvyn_e2e::tutorial_dir(name);
        let mut compared = 0;
        for file in files_under(&generated) {
            let relative = file.strip_prefix(&generated).expect("under the project");
            let relative_str = relative.to_string_lossy().replace('\\', "/");
            let theirs = std::fs::read(example.join(relative)).unwrap_or_else(|e| {
                panic!("{name}: {relative_str} (generated by torvyn init): {e}")
            });
            if edited.contains(&relative_str.as_str()) {
                continue;
            }
            assert!(
                theirs == std::fs::read(&file).expect("generated file"),
                "{name}: {relative_str} differs from what `torvyn init --template {template}` generates"
            );
            compared += 1;
        }
        assert!(compared >= 10, "{name}: only {compared} files compared");
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// `torvyn build` (the README's alternative to `cargo build`) builds each
/// tutorial's components to exactly the `.wasm` files its `Torvyn.toml`
/// loads (`component = "file://./…"`).
#[test]
fn torvyn_build_writes_what_the_tutorials_load() {
    for name in [
        "log-pipeline",
        "token-pipeline",
        "enrichment-pipeline",
        "rate-limiter",
    ] {
        let dir = torvyn_e2e::tutorial_dir(name);
        torvyn_e2e::build_tutorial(name);
        let build = torvyn(&dir, &["build"]);
        build.expect_code(0);
        let manifest = std::fs::read_to_string(dir.join("Torvyn.toml")).expect("Torvyn.toml");
        let loaded: Vec<&str> = manifest
            .lines()
            .filter_map(|l| l.strip_prefix("component = \"file://./")?.strip_suffix('"'))
            .collect();
        assert!(!loaded.is_empty(), "{name}: no file:// component");
        for path in loaded {
            assert!(
                build.stdout.contains(&format!(" → {path} (")),
                "{name}: torvyn build did not write {path}:\n{}",
                build.stdout
            );
        }
    }
}
