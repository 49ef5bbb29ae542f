//! `torvyn bench`: short runs of real flows, the report in every format
//! (checked for shape, never for speed), baselines, the regression gate
//! and bad input.

use crate::harness::{component, torvyn, Project, Run, PROCESSOR, SINK, SOURCE};
use serde_json::Value;
use std::path::Path;

/// Short enough for a test, long enough for every section to fill.
const SHORT: [&str; 4] = ["--duration", "300ms", "--warmup", "100ms"];

/// counter-source (never ending) → passthrough → quiet-sink.
fn three_stage() -> Project {
    Project::linear(&[
        (
            "source",
            &component("counter-source"),
            SOURCE,
            r#"{"count": 0, "payload_size": 64}"#,
        ),
        ("transform", &component("passthrough"), PROCESSOR, ""),
        ("sink", &component("quiet-sink"), SINK, ""),
    ])
}

fn bench(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["bench"];
    args.extend(SHORT);
    args.extend(extra);
    torvyn(dir, &args)
}

fn json_report(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON report ({e})\n--- stdout\n{}\n--- stderr\n{}",
            run.stdout, run.stderr
        )
    })
}

/// Every number becomes `#` (with its unit, for byte sizes) and plurals of
/// "run" are folded, so a snapshot shows the layout, not the speed.
fn redact_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let after_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c.is_ascii_digit() && !after_word {
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || (matches!(chars[i], '.' | ',')
                        && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            {
                i += 1;
            }
            out.push('#');
            let rest: String = chars[i..chars.len().min(i + 5)].iter().collect();
            for unit in [" KiB", " MiB", " GiB", " B"] {
                if rest.starts_with(unit) {
                    out.push_str(" <bytes>");
                    i += unit.len();
                    break;
                }
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out.replace("# runs of", "# run of")
}

/// The JSON report's layout: every value replaced by its type, except the
/// names that identify flows, components, streams and copy reasons.
fn shape(value: &Value, key: &str) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v, k))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| shape(v, key)).collect()),
        Value::Number(_) => Value::String("<number>".into()),
        Value::String(s) if matches!(key, "flow" | "name" | "reason" | "os") => {
            Value::String(s.clone())
        }
        Value::String(_) => Value::String("<string>".into()),
        other => other.clone(),
    }
}

/// `torvyn bench` on examples/hello-world prints the spec's report
/// sections; the source's five greetings run again and again to fill the
/// window, and the sink's printing does not reach stdout.
#[test]
fn hello_world_pretty_report() {
    let dir = torvyn_e2e::hello_world_dir();
    torvyn_e2e::build_hello_world();
    let run = bench(&dir, &[]);
    run.expect_code(0);
    assert!(
        !run.stdout.contains("[hello-sink]"),
        "guest stdout is discarded during a benchmark:\n{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("Benchmarking flow 'main'"),
        "{}",
        run.stderr
    );
    insta::assert_snapshot!("bench_hello_world_pretty", redact_numbers(&run.stdout));
}

/// On a three-stage flow the JSON report carries the fields the
/// benchmark-comparison script reads, one latency row per component, and
/// a copy breakdown by reason.
#[test]
fn three_stage_json_report() {
    let project = three_stage();
    let run = bench(project.path(), &["--report-format", "json"]);
    run.expect_code(0);
    let report = json_report(&run);
    for key in [
        "throughput_eps",
        "latency_p50_us",
        "latency_p99_us",
        "total_copies",
    ] {
        assert!(report[key].is_number(), "`{key}` missing: {report:#}");
    }
    let names: Vec<&str> = report["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["source", "transform", "sink"]);
    assert!(report["elements"].as_u64() > Some(0), "{report:#}");
    // One latency sample per element the sink took, in the same window.
    assert_eq!(report["latency_samples"], report["elements"], "{report:#}");
    // passthrough reads and writes every payload; the source writes it,
    // the sink reads it: payload copies happen, and metadata is marshaled.
    assert!(report["total_copies"].as_u64() > Some(0));
    assert_eq!(report["settings"]["flow"], "main");
    assert_eq!(report["versions"]["wasmtime"], "48.0.8");
    // One never-ending run of the flow fills the whole window.
    assert_eq!(report["flow_runs"], 1);
    let text = serde_json::to_string_pretty(&shape(&report, "")).expect("json");
    insta::assert_snapshot!("bench_three_stage_json_shape", text);
}

/// CSV: a header and `section,name,metric,value` rows.
#[test]
fn three_stage_csv_report() {
    let project = three_stage();
    let run = bench(project.path(), &["--report-format", "csv"]);
    run.expect_code(0);
    assert!(
        run.stdout.lines().all(|l| l.split(',').count() == 4),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!("bench_three_stage_csv", redact_numbers(&run.stdout));
}

/// Markdown: one table per section, written to `--report PATH`.
#[test]
fn three_stage_markdown_report_to_file() {
    let project = three_stage();
    let run = bench(
        project.path(),
        &["--report-format", "markdown", "--report", "out/report.md"],
    );
    run.expect_code(0);
    assert_eq!(run.stdout, "", "the report goes to the file, not stdout");
    let text = std::fs::read_to_string(project.path().join("out/report.md")).expect("report");
    insta::assert_snapshot!("bench_three_stage_markdown", redact_numbers(&text));
}

/// `--baseline NAME` saves the JSON report; `--compare` against a doctored
/// copy claiming far better figures exits 3, against one claiming far
/// worse figures exits 0.
#[test]
fn compare_gates_on_regressions() {
    let project = three_stage();
    let run = bench(project.path(), &["--baseline", "base"]);
    run.expect_code(0);
    let saved = project.path().join(".torvyn/bench/base.json");
    let mut baseline: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).expect("baseline saved"))
            .expect("baseline is JSON");
    assert!(baseline["throughput_eps"].is_number());

    baseline["throughput_eps"] = 1e12.into();
    baseline["latency_p99_us"] = 0.001.into();
    std::fs::write(project.path().join("better.json"), baseline.to_string()).expect("write");
    let run = bench(
        project.path(),
        &["--compare", "better.json", "--report-format", "json"],
    );
    run.expect_code(3);
    let report = json_report(&run);
    assert_eq!(report["comparison"]["regression"], true);
    assert!(
        run.stderr.contains("Regression against better.json"),
        "{}",
        run.stderr
    );

    baseline["throughput_eps"] = 1.into();
    baseline["latency_p99_us"] = 1e9.into();
    std::fs::write(project.path().join("worse.json"), baseline.to_string()).expect("write");
    let run = bench(project.path(), &["--compare", "worse.json"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("Comparison with worse.json"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ok (threshold 10%)"), "{}", run.stdout);
}

/// Mistakes on the command line fail before anything runs: coded errors,
/// exit 2.
#[test]
fn bad_input_is_a_coded_error() {
    let project = three_stage();
    let cases: [(&[&str], &str, &str); 6] = [
        (&["bench", "flow.nope", "--duration", "1s"], "E0702", "nope"),
        (&["bench", "--duration", "5 parsecs"], "E0702", "parsecs"),
        (&["bench", "--duration", "0s"], "E0702", "--duration"),
        (
            &["bench", "--compare", "missing.json"],
            "E0702",
            "missing.json",
        ),
        (&["bench", "--baseline", "../escape"], "E0702", "../escape"),
        (
            &["bench", "--duration", "1s", "--input", "nosuch={}"],
            "E0702",
            "nosuch",
        ),
    ];
    for (args, code, mention) in cases {
        let run = project.run(args);
        run.expect_code(2).expect_error(code);
        assert!(run.stderr.contains(mention), "{args:?}:\n{}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?} printed a report");
    }
    std::fs::write(project.path().join("bad.json"), "{\"throughput_eps\": 1}").expect("write");
    let run = project.run(&["bench", "--compare", "bad.json"]);
    run.expect_code(2).expect_error("E0702");
    assert!(run.stderr.contains("latency_p99_us"), "{}", run.stderr);
}

/// `--input` replaces the source's config: a count of 3 ends the flow
/// almost at once, so the window is filled by many runs.
#[test]
fn input_overrides_the_source_config() {
    let project = three_stage();
    let run = bench(
        project.path(),
        &[
            "--input",
            r#"source={"count": 3}"#,
            "--report-format",
            "json",
        ],
    );
    run.expect_code(0);
    let report = json_report(&run);
    assert!(report["flow_runs"].as_u64() > Some(1), "{report:#}");
    assert_eq!(report["settings"]["input"], r#"source={"count": 3}"#);
}

/// The Torvyn side of examples/benchmark-comparison benchmarks as its
/// bench.sh runs it, and reports the processor's copies: per element
/// (`flow.main`), with the batch forms (`flow.batch`), as two replicas
/// (`flow.replicas`, whose report adds both up) and both
/// (`flow.batch_replicas`). All four move the same bytes with the same
/// copies per element.
#[test]
fn benchmark_comparison_flow() {
    let dir = torvyn_e2e::example_dir("benchmark-comparison").join("torvyn");
    torvyn_e2e::build_example("benchmark-comparison/torvyn");
    let mut copies = Vec::new();
    for flow in [
        "flow.main",
        "flow.batch",
        "flow.replicas",
        "flow.batch_replicas",
    ] {
        let run = bench(
            &dir,
            &[
                flow,
                "--input",
                r#"{"count": 1000, "payload_size": 64}"#,
                "--report-format",
                "json",
            ],
        );
        run.expect_code(0);
        let report = json_report(&run);
        let names: Vec<&str> = report["components"]
            .as_array()
            .expect("components")
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(names, ["source", "stamp", "sink"], "{flow}");
        assert!(report["elements"].as_u64() > Some(0), "{report:#}");
        // 64 bytes in, 72 out: every element the sink took carries the
        // appended timestamp.
        let elements = report["elements"].as_u64().unwrap_or_default();
        assert_eq!(report["bytes"].as_u64(), Some(elements * 72), "{report:#}");
        copies.push(report["copies_per_element"].as_f64().expect("copies"));
    }
    // The same copies per element, up to the elements in flight when the
    // measuring window closes (a batch is mid-way through the flow then).
    for other in &copies[1..] {
        assert!(
            (copies[0] - other).abs() <= 0.02 * copies[0],
            "main, batch, replicas, batch+replicas: {copies:?}"
        );
    }
}
