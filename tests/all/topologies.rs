//! Flow shapes beyond a straight line: filters, routers, aggregators,
//! fan-out and fan-in, built from the test guests.

use crate::harness::{
    component, dag_manifest, json_summary, stream, Project, AGGREGATOR, FILTER, ROUTER, SINK,
    SOURCE,
};
use torvyn_e2e::{counter_payloads, quiet_sink_line};

const COUNT: u64 = 100;
const SIZE: usize = 32;

fn counter_config(count: u64, size: usize) -> String {
    format!(r#"{{"count": {count}, "payload_size": {size}}}"#)
}

/// The components' lines, sorted (sinks finish in an order the test does
/// not depend on): on stderr, since under `--format json` stdout carries
/// only the JSON summary.
fn sink_lines(stderr: &str) -> Vec<String> {
    let mut lines: Vec<String> = stderr
        .lines()
        .filter(|l| l.starts_with('[') && !l.starts_with("[torvyn]"))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

/// source → router → (`even` → sink `evens`, `odd` → sink `odds`), the
/// router configured with `mode`.
fn parity_router_project(mode: &str) -> Project {
    let source = component("counter-source");
    let router = component("parity-router");
    let sink = component("quiet-sink");
    let router_config = format!(r#"{{"mode": "{mode}"}}"#);
    Project::dag(
        &[
            ("source", &source, SOURCE, &counter_config(COUNT, SIZE)),
            ("router", &router, ROUTER, &router_config),
            ("evens", &sink, SINK, ""),
            ("odds", &sink, SINK, ""),
        ],
        &[
            ("source", "output", "router", ""),
            ("router", "even", "evens", ""),
            ("router", "odd", "odds", ""),
        ],
        "",
    )
}

/// A filter forwards exactly the elements it accepts, in order, and forwards
/// the same host buffer: the only payload copies are the source's write and
/// the sink's read of each surviving element.
#[test]
fn filter_keeps_exactly_the_even_half_without_copying() {
    let source = component("counter-source");
    let filter = component("even-filter");
    let sink = component("quiet-sink");
    let project = Project::dag(
        &[
            ("source", &source, SOURCE, &counter_config(COUNT, SIZE)),
            ("filter", &filter, FILTER, ""),
            ("sink", &sink, SINK, ""),
        ],
        &[
            ("source", "output", "filter", ""),
            ("filter", "output", "sink", ""),
        ],
        "",
    );
    let run = project.run(&["run", "flow.main", "--format", "json"]);
    run.expect_code(0);
    let evens = counter_payloads(COUNT, SIZE).step_by(2);
    assert_eq!(sink_lines(&run.stderr), [quiet_sink_line(evens)]);
    let json = json_summary(&run);
    assert_eq!(json["elements_pulled"], COUNT);
    assert_eq!(json["elements_delivered"], COUNT / 2);
    assert_eq!(json["elements_dropped"], COUNT / 2);
    assert_eq!(
        json["copies"],
        COUNT + COUNT / 2,
        "one write per pulled element, one read per delivered element: {json}"
    );
    assert_eq!(json["copy_bytes"], (COUNT + COUNT / 2) * SIZE as u64);
    assert_eq!(stream(&json, "source-to-filter")["transferred"], COUNT);
    assert_eq!(stream(&json, "filter-to-sink")["transferred"], COUNT / 2);
}

/// A router sends each element only to the ports it names: evens reach the
/// `even` branch, odds the `odd` branch, each in order, nothing is lost.
#[test]
fn router_parity_splits_evens_and_odds() {
    let run = parity_router_project("parity").run(&["run", "flow.main", "--format", "json"]);
    run.expect_code(0);
    let evens = counter_payloads(COUNT, SIZE).step_by(2);
    let odds = counter_payloads(COUNT, SIZE).skip(1).step_by(2);
    // Both sinks print their line on complete().
    assert_eq!(
        sink_lines(&run.stderr),
        sorted(vec![quiet_sink_line(evens), quiet_sink_line(odds)])
    );
    let json = json_summary(&run);
    assert_eq!(json["elements_pulled"], COUNT);
    assert_eq!(json["elements_delivered"], COUNT);
    assert_eq!(json["elements_dropped"], 0);
    assert_eq!(stream(&json, "router-to-evens")["transferred"], COUNT / 2);
    assert_eq!(stream(&json, "router-to-odds")["transferred"], COUNT / 2);
    // The router reads nothing: source write + sink read per element.
    assert_eq!(json["copies"], 2 * COUNT);
}

/// A router naming several ports fans the element out: every element reaches
/// both branches, sharing one buffer (the source writes each payload once).
#[test]
fn router_both_fans_out_every_element_to_both_branches() {
    let run = parity_router_project("both").run(&["run", "flow.main", "--format", "json"]);
    run.expect_code(0);
    let all = quiet_sink_line(counter_payloads(COUNT, SIZE));
    assert_eq!(sink_lines(&run.stderr), [all.clone(), all]);
    let json = json_summary(&run);
    assert_eq!(json["elements_pulled"], COUNT);
    assert_eq!(json["elements_delivered"], 2 * COUNT);
    assert_eq!(
        json["copies"],
        COUNT + 2 * COUNT,
        "one write, two reads: {json}"
    );
}

/// A router returning an empty port list drops the element: no branch
/// receives anything, and every pulled element is counted as dropped.
#[test]
fn router_none_drops_every_element() {
    let run = parity_router_project("none").run(&["run", "flow.main", "--format", "json"]);
    run.expect_code(0);
    let nothing = quiet_sink_line(Vec::<Vec<u8>>::new());
    assert_eq!(sink_lines(&run.stderr), [nothing.clone(), nothing]);
    let json = json_summary(&run);
    assert_eq!(json["elements_pulled"], COUNT);
    assert_eq!(json["elements_delivered"], 0);
    assert_eq!(json["elements_dropped"], COUNT);
}

/// A router naming a port no edge leaves from fails the flow with E0204
/// (exit 1), naming the router and the port, and leaks nothing.
#[test]
fn router_unknown_port_fails_with_e0204() {
    let run = parity_router_project("bogus").run(&["run", "flow.main"]);
    run.expect_code(1).expect_error("E0204");
    assert!(run.stderr.contains("nowhere"), "{}", run.stderr);
    assert!(run.stderr.contains("router"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("leaked"),
        "the element in hand is released: {}",
        run.stderr
    );
}

fn aggregator_project(aggregator_config: &str) -> Project {
    let source = component("counter-source");
    let aggregator = component("count-aggregator");
    let sink = component("quiet-sink");
    Project::dag(
        &[
            ("source", &source, SOURCE, &counter_config(COUNT, SIZE)),
            ("count", &aggregator, AGGREGATOR, aggregator_config),
            ("sink", &sink, SINK, ""),
        ],
        &[
            ("source", "output", "count", ""),
            ("count", "output", "sink", ""),
        ],
        "",
    )
}

/// An aggregator that emits nothing from `ingest` still reaches the sink
/// exactly once: `flush` runs once, at end of stream, after every element
/// was ingested.
#[test]
fn aggregator_flushes_one_final_count_at_end_of_stream() {
    let run = aggregator_project("").run(&["run", "flow.main", "--format", "json"]);
    run.expect_code(0);
    let total = format!("count={COUNT} bytes={}", COUNT * SIZE as u64);
    assert_eq!(sink_lines(&run.stderr), [quiet_sink_line([total])]);
    let json = json_summary(&run);
    assert_eq!(stream(&json, "source-to-count")["transferred"], COUNT);
    assert_eq!(stream(&json, "count-to-sink")["transferred"], 1);
    assert_eq!(json["elements_delivered"], 1);
}

/// What `ingest` emits is forwarded as it happens, and `flush` adds its
/// final aggregate after them.
#[test]
fn aggregator_running_aggregates_precede_the_final_one() {
    let run = aggregator_project(r#"{"every": 25}"#).run(&["run", "flow.main", "--format", "json"]);
    run.expect_code(0);
    let size = SIZE as u64;
    let mut expected: Vec<String> = (1..=4)
        .map(|k| format!("count={} bytes={}", 25 * k, 25 * k * size))
        .collect();
    expected.push(format!("count={COUNT} bytes={}", COUNT * size));
    assert_eq!(sink_lines(&run.stderr), [quiet_sink_line(expected)]);
}

/// A plain node with two output edges sends every element down both, sharing
/// one buffer: each sink sees every element in order.
#[test]
fn fan_out_delivers_every_element_to_every_output_edge() {
    let source = component("counter-source");
    let sink = component("quiet-sink");
    let project = Project::dag(
        &[
            ("source", &source, SOURCE, &counter_config(COUNT, SIZE)),
            ("left", &sink, SINK, ""),
            ("right", &sink, SINK, ""),
        ],
        &[
            ("source", "output", "left", ""),
            ("source", "output", "right", ""),
        ],
        "",
    );
    let run = project.run(&["run", "flow.main", "--format", "json"]);
    run.expect_code(0);
    let all = quiet_sink_line(counter_payloads(COUNT, SIZE));
    assert_eq!(sink_lines(&run.stderr), [all.clone(), all]);
    let json = json_summary(&run);
    assert_eq!(json["elements_pulled"], COUNT);
    assert_eq!(json["elements_delivered"], 2 * COUNT);
    assert_eq!(
        json["copies"],
        COUNT + 2 * COUNT,
        "one write, two reads: {json}"
    );
    assert_eq!(stream(&json, "source-to-left")["transferred"], COUNT);
    assert_eq!(stream(&json, "source-to-right")["transferred"], COUNT);
}

/// Two sources into one sink: the sink receives every element of both (the
/// total is the sum), and the flow ends only when both sources are exhausted.
#[test]
fn fan_in_delivers_the_sum_of_both_sources() {
    let source = component("counter-source");
    let sink = component("quiet-sink");
    let (a, b) = (30u64, 70u64);
    let project = Project::dag(
        &[
            ("a", &source, SOURCE, &counter_config(a, SIZE)),
            ("b", &source, SOURCE, &counter_config(b, SIZE)),
            ("sink", &sink, SINK, ""),
        ],
        &[("a", "output", "sink", ""), ("b", "output", "sink", "")],
        "",
    );
    let run = project.run(&["run", "flow.main", "--format", "json"]);
    run.expect_code(0);
    let prefix = format!(
        "[quiet-sink] received={} bytes={} ",
        a + b,
        (a + b) * SIZE as u64
    );
    let lines = sink_lines(&run.stderr);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&prefix),
        "expected {prefix}… got {lines:?}"
    );
    let json = json_summary(&run);
    assert_eq!(json["elements_pulled"], a + b);
    assert_eq!(json["elements_delivered"], a + b);
    assert_eq!(stream(&json, "a-to-sink")["transferred"], a);
    assert_eq!(stream(&json, "b-to-sink")["transferred"], b);
}

/// Fan-in merges fairly: while one upstream has data, another is not starved
/// (the spec: "equal allocation across branches"). With an endless source
/// `a` and a 10-element source `b` under `--limit 100`, all of `b` arrives.
#[test]
fn fan_in_does_not_starve_a_source() {
    let source = component("counter-source");
    let sink = component("quiet-sink");
    let project = Project::dag(
        &[
            ("a", &source, SOURCE, &counter_config(0, SIZE)),
            ("b", &source, SOURCE, &counter_config(10, SIZE)),
            ("sink", &sink, SINK, ""),
        ],
        &[("a", "output", "sink", ""), ("b", "output", "sink", "")],
        "",
    );
    let run = project.run(&["run", "flow.main", "--limit", "100", "--format", "json"]);
    run.expect_code(0);
    let json = json_summary(&run);
    assert_eq!(json["elements_delivered"], 100);
    assert_eq!(stream(&json, "b-to-sink")["transferred"], 10, "{json}");
}

/// source → `fast` (quiet sink) and `slow` (a sink that pauses after every
/// element), both edges `block` at depth 4; `source_extra` is more TOML for
/// the source node (e.g. its `fan_out`).
fn fan_out_to_a_pausing_branch(source_extra: &str) -> Project {
    let source = component("counter-source");
    let fast = component("quiet-sink");
    let slow = component("slow-sink");
    let edge = "backpressure = { queue_depth = 4, policy = \"block\" }";
    let manifest = dag_manifest(
        &[
            ("source", &source, SOURCE, &counter_config(300, SIZE)),
            ("fast", &fast, SINK, ""),
            ("slow", &slow, SINK, r#"{"pause_every": 1}"#),
        ],
        &[
            ("source", "output", "fast", edge),
            ("source", "output", "slow", edge),
        ],
        "",
    )
    .replace(
        "[flow.main.nodes.source]\n",
        &format!("[flow.main.nodes.source]\n{source_extra}\n"),
    );
    Project::with_manifest(&manifest)
}

/// Min-demand fan-out (the default): the producer never outruns its slowest
/// branch, so even a branch that pauses after every element receives all
/// 300 elements, and nothing is lagged or dropped.
#[test]
fn min_demand_fan_out_waits_for_the_slowest_branch() {
    let run = fan_out_to_a_pausing_branch("").run(&["run", "flow.main", "--format", "json"]);
    run.expect_code(0);
    let json = json_summary(&run);
    assert_eq!(stream(&json, "source-to-fast")["transferred"], 300);
    assert_eq!(stream(&json, "source-to-slow")["transferred"], 300);
    assert_eq!(stream(&json, "source-to-slow")["lagged"], 0);
    assert_eq!(json["elements_delivered"], 600);
    assert_eq!(json["elements_dropped"], 0);
}

/// Independent-per-branch fan-out: the fast branch pulls ahead and gets
/// every element while the pausing branch misses what it cannot take; every
/// missed element is counted (`lagged`), so transferred + lagged = pulled on
/// each branch, and the flow still completes with no leak.
#[test]
fn independent_fan_out_lets_the_fast_branch_pull_ahead() {
    let run = fan_out_to_a_pausing_branch("fan_out = \"independent\"").run(&[
        "run",
        "flow.main",
        "--format",
        "json",
    ]);
    run.expect_code(0);
    let json = json_summary(&run);
    let slow = stream(&json, "source-to-slow");
    let slow_got = slow["transferred"].as_u64().expect("transferred");
    let lagged = slow["lagged"].as_u64().expect("lagged");
    assert_eq!(stream(&json, "source-to-fast")["transferred"], 300);
    assert_eq!(stream(&json, "source-to-fast")["lagged"], 0);
    assert_eq!(slow_got + lagged, 300, "{slow}");
    assert!(lagged > 0, "the pausing branch fell behind: {slow}");
    assert_eq!(json["elements_delivered"], 300 + slow_got);
    assert_eq!(json["elements_dropped"], lagged);
    assert_eq!(json["leaked_buffers"], 0);
    assert!(
        run.stderr
            .contains(&format!("[slow-sink] received={slow_got}")),
        "{}",
        run.stderr
    );
}

/// Two sources of different payload sizes (a: 16 B, b: 48 B) into a sink
/// that pauses after every element (so both queues fill), merged with
/// `merge`; returns the payload lengths in arrival order.
fn arrival_order(merge: &str) -> Vec<usize> {
    let source = component("counter-source");
    let sink = component("slow-sink");
    let edge = "backpressure = { queue_depth = 8, policy = \"block\" }";
    let manifest = dag_manifest(
        &[
            ("a", &source, SOURCE, &counter_config(40, 16)),
            ("b", &source, SOURCE, &counter_config(40, 48)),
            (
                "sink",
                &sink,
                SINK,
                r#"{"pause_every": 1, "log_lengths": 1}"#,
            ),
        ],
        &[
            ("a", "output", "sink", edge),
            ("b", "output", "sink", &format!("{edge}\npriority = 10")),
        ],
        "",
    )
    .replace(
        "[flow.main.nodes.sink]\n",
        &format!("[flow.main.nodes.sink]\nmerge = \"{merge}\"\n"),
    );
    let run = Project::with_manifest(&manifest).run(&["run", "flow.main"]);
    run.expect_code(0);
    let lengths: Vec<usize> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("[slow-sink] len="))
        .map(|n| n.parse().expect("a length"))
        .collect();
    assert_eq!(lengths.len(), 80, "{}", run.stdout);
    lengths
}

/// Priority merge: while the high-priority input (b) has elements, the
/// sink takes nothing from a. Only a's first element, delivered before b
/// had pulled anything, precedes b's forty.
#[test]
fn priority_merge_drains_the_high_priority_input_first() {
    let order = arrival_order("priority");
    let first: Vec<usize> = order[..41].to_vec();
    assert_eq!(first.iter().filter(|&&n| n == 48).count(), 40, "{order:?}");
    assert!(order[41..].iter().all(|&n| n == 16), "{order:?}");
}

/// Round-robin merge (the default) under the same load interleaves both
/// inputs: a's elements are not held back behind b's.
#[test]
fn round_robin_merge_interleaves_inputs_under_the_same_load() {
    let order = arrival_order("round-robin");
    let a_in_first_half = order[..40].iter().filter(|&&n| n == 16).count();
    assert!(
        (15..=25).contains(&a_in_first_half),
        "expected interleaving, got {order:?}"
    );
}
