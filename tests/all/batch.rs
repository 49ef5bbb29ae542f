//! Batch calls (`torvyn:batching`) keep every per-element promise: the
//! same bytes in the same order with the same copies as the per-element
//! path, per-element errors under each `on_error` policy, supervision of a
//! trapped batch with nothing delivered twice and nothing lost, and
//! backpressure with a small queue.
//!
//! The batch guests run the logic of per-element ones: `batch-uppercase`
//! is `uppercase`, `batch-counter-source` is `counter-source`,
//! `batch-quiet-sink` is `quiet-sink` (same summary line). Each test runs a
//! flow on an engine of its own whose guests' stdout is captured, so the
//! sink's line (count, bytes, and a checksum over the payloads in arrival
//! order) proves what arrived, in which order, exactly once.

use std::io;
use std::sync::{Arc, Mutex};
use torvyn_e2e::{counter_payloads, quiet_sink_line, test_stage};
use torvyn_runtime::engine::{EngineConfig, GuestOutput, GuestOutputs, WasmEngine};
use torvyn_runtime::error::{Coded, ErrorCode};
use torvyn_runtime::reactor::supervision::{
    ErrorPolicy, Fault, FaultKind, NodeSupervision, RestartType,
};
use torvyn_runtime::reactor::{Flow, FlowReport, FlowSettings, StageRole, StageSpec};

const COUNT: u64 = 200;

/// Guest stdout, kept.
#[derive(Default)]
struct Captured(Mutex<Vec<u8>>);

impl GuestOutput for Captured {
    fn write(&self, bytes: &[u8]) -> io::Result<()> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

/// An engine whose guests print into the returned buffer.
fn engine() -> (WasmEngine, Arc<Captured>) {
    let captured = Arc::new(Captured::default());
    let engine = WasmEngine::new(EngineConfig {
        guest_outputs: GuestOutputs {
            stdout: Some(captured.clone()),
            stderr: None,
        },
        ..EngineConfig::default()
    })
    .expect("engine");
    (engine, captured)
}

fn sink_lines(captured: &Captured) -> Vec<String> {
    let bytes = captured.0.lock().expect("captured").clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| l.starts_with("[quiet-sink]"))
        .map(str::to_string)
        .collect()
}

/// The payloads `uppercase` delivers for elements `0..count`, but `skip`.
fn uppercased(count: u64, skip: &[u64]) -> String {
    quiet_sink_line(
        counter_payloads(count, 64)
            .enumerate()
            .filter(|(i, _)| !skip.contains(&(*i as u64)))
            .map(|(_, p)| p.to_ascii_uppercase()),
    )
}

fn source(engine: &WasmEngine, component: &str, count: u64) -> StageSpec {
    test_stage(
        engine,
        "source",
        component,
        StageRole::Source,
        format!(r#"{{"count": {count}, "payload_size": 64}}"#),
    )
}

/// batch-counter-source → batch-uppercase (`upper_config`) →
/// batch-quiet-sink (`sink_config`): every stage in its batch form.
fn batch_chain(engine: &WasmEngine, upper_config: &str, sink_config: &str) -> Vec<StageSpec> {
    vec![
        source(engine, "batch-counter-source", COUNT),
        test_stage(
            engine,
            "upper",
            "batch-uppercase",
            StageRole::Processor,
            upper_config,
        ),
        test_stage(
            engine,
            "sink",
            "batch-quiet-sink",
            StageRole::Sink,
            sink_config,
        ),
    ]
}

fn supervise(node: &str, on_error: ErrorPolicy) -> Vec<(String, NodeSupervision)> {
    vec![(
        node.to_string(),
        NodeSupervision {
            on_error,
            ..NodeSupervision::default()
        },
    )]
}

fn run(engine: &WasmEngine, stages: Vec<StageSpec>, settings: FlowSettings) -> FlowReport {
    let mut flow = Flow::start(engine, stages, settings).expect("flow starts");
    flow.run_to_completion().expect("flow completes")
}

fn stage<'a>(report: &'a FlowReport, name: &str) -> &'a torvyn_runtime::reactor::StageReport {
    report
        .stages
        .iter()
        .find(|s| s.name == name)
        .expect("stage")
}

/// The same logic, per element and in batches: the same bytes in the same
/// order, the same copies (operations, bytes, reasons), in fewer calls.
#[test]
fn batch_path_delivers_what_the_per_element_path_does_with_the_same_copies() {
    let (engine, per_element_out) = engine();
    let per_element = run(
        &engine,
        vec![
            source(&engine, "counter-source", COUNT),
            test_stage(&engine, "upper", "uppercase", StageRole::Processor, ""),
            test_stage(&engine, "sink", "quiet-sink", StageRole::Sink, ""),
        ],
        FlowSettings::default(),
    );
    let (engine, batch_out) = self::engine();
    let batched = run(
        &engine,
        batch_chain(&engine, "", ""),
        FlowSettings::default(),
    );

    let expected = uppercased(COUNT, &[]);
    assert_eq!(sink_lines(&per_element_out), vec![expected.clone()]);
    assert_eq!(sink_lines(&batch_out), vec![expected]);
    assert_eq!(batched.elements_delivered, COUNT);
    assert_eq!(batched.payload_copies, per_element.payload_copies);
    assert_eq!(batched.all_copies, per_element.all_copies);
    assert_eq!(batched.copies_by_reason, per_element.copies_by_reason);
    assert_eq!(batched.leaked_buffers, 0);
    for name in ["source", "upper", "sink"] {
        let calls = stage(&batched, name).invocations;
        assert!(
            calls < COUNT / 4,
            "{name}: {calls} calls for {COUNT} elements: batches were not used"
        );
        assert_eq!(
            stage(&per_element, name).invocations,
            COUNT + u64::from(name == "source")
        );
    }
}

/// A batch stage between per-element ones: components exporting only the
/// per-element functions run unchanged around it.
#[test]
fn per_element_components_run_unchanged_around_a_batch_stage() {
    let (engine, out) = engine();
    let report = run(
        &engine,
        vec![
            source(&engine, "counter-source", COUNT),
            test_stage(
                &engine,
                "upper",
                "batch-uppercase",
                StageRole::Processor,
                "",
            ),
            test_stage(&engine, "sink", "quiet-sink", StageRole::Sink, ""),
        ],
        FlowSettings::default(),
    );
    assert_eq!(sink_lines(&out), vec![uppercased(COUNT, &[])]);
    assert_eq!(stage(&report, "sink").invocations, COUNT);
    // Consumer-first scheduling hands the processor one element at a time
    // behind a per-element source: its batches are of one element, which
    // take the per-element path.
    assert_eq!(stage(&report, "upper").invocations, COUNT);
    assert_eq!(report.leaked_buffers, 0);
}

fn failing_at(kind: &str, at: u64, times: u64) -> String {
    format!(r#"{{"fail_kind": "{kind}", "fail_at": {at}, "fail_times": {times}}}"#)
}

/// `skip`: the failing element mid-batch is dropped (counted), every
/// other one arrives once, in order.
#[test]
fn skip_drops_only_the_failing_element_of_a_batch() {
    let (engine, out) = engine();
    let settings = FlowSettings {
        node_supervision: supervise("upper", ErrorPolicy::Skip),
        ..FlowSettings::default()
    };
    let report = run(
        &engine,
        batch_chain(&engine, &failing_at("invalid-input", 5, 0), ""),
        settings,
    );
    assert_eq!(sink_lines(&out), vec![uppercased(COUNT, &[5])]);
    assert_eq!(report.elements_delivered, COUNT - 1);
    assert_eq!(stage(&report, "upper").errors, 1);
    assert_eq!(report.leaked_buffers, 0);
}

/// `retry`: the failing element is called again (per element) and, once
/// it succeeds, arrives in its place: nothing lost, order kept.
#[test]
fn retry_calls_the_failing_element_again_and_keeps_the_order() {
    let (engine, out) = engine();
    let settings = FlowSettings {
        node_supervision: supervise("upper", ErrorPolicy::Retry { retries: 2 }),
        ..FlowSettings::default()
    };
    let report = run(
        &engine,
        batch_chain(&engine, &failing_at("unavailable", 5, 1), ""),
        settings,
    );
    assert_eq!(sink_lines(&out), vec![uppercased(COUNT, &[])]);
    assert_eq!(stage(&report, "upper").retries, 1);
    assert_eq!(report.elements_delivered, COUNT);
}

/// `retry` exhausted: the element is given up after its retries.
#[test]
fn retry_gives_up_after_its_retries() {
    let (engine, out) = engine();
    let settings = FlowSettings {
        node_supervision: supervise("upper", ErrorPolicy::Retry { retries: 2 }),
        ..FlowSettings::default()
    };
    let report = run(
        &engine,
        batch_chain(&engine, &failing_at("internal", 9, 0), ""),
        settings,
    );
    assert_eq!(sink_lines(&out), vec![uppercased(COUNT, &[9])]);
    let upper = stage(&report, "upper");
    assert_eq!((upper.retries, upper.errors), (2, 3));
}

/// `dead-letter`: the failing element goes to the dead-letter file with
/// its own sequence and timestamp; the rest of its batch arrives.
#[test]
fn dead_letter_sends_the_failing_element_with_its_sequence_and_timestamp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let letters = dir.path().join("dead.jsonl");
    let (engine, out) = engine();
    let settings = FlowSettings {
        node_supervision: vec![(
            "upper".into(),
            NodeSupervision {
                on_error: ErrorPolicy::DeadLetter,
                dead_letter_file: Some(letters.clone()),
                ..NodeSupervision::default()
            },
        )],
        ..FlowSettings::default()
    };
    let report = run(
        &engine,
        batch_chain(&engine, &failing_at("invalid-input", 7, 0), ""),
        settings,
    );
    assert_eq!(sink_lines(&out), vec![uppercased(COUNT, &[7])]);
    assert_eq!(stage(&report, "upper").dead_lettered, 1);
    let text = std::fs::read_to_string(&letters).expect("dead letters");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["sequence"], 7);
    assert!(lines[0]["timestamp_ns"].as_u64().unwrap_or(0) > 0, "{text}");
    assert!(
        lines[0]["payload"]
            .as_str()
            .is_some_and(|p| p.starts_with("7 ")),
        "{text}"
    );
}

/// `fail`: an element's error mid-batch fails the flow, and the flow
/// gives back every buffer it held.
#[test]
fn fail_policy_fails_the_flow_on_an_element_mid_batch() {
    let (engine, out) = engine();
    let settings = FlowSettings {
        node_supervision: supervise("upper", ErrorPolicy::Fail),
        ..FlowSettings::default()
    };
    let mut flow = Flow::start(
        &engine,
        batch_chain(&engine, &failing_at("internal", 5, 0), ""),
        settings,
    )
    .expect("flow starts");
    let error = flow.run_to_completion().expect_err("the flow fails");
    assert_eq!(error.code(), ErrorCode::FatalComponentError, "{error}");
    assert!(error.to_string().contains("sequence 5"), "{error}");
    let report = flow.report();
    assert_eq!(report.leaked_buffers, 0);
    assert!(report.elements_delivered < COUNT);
    assert!(sink_lines(&out).is_empty(), "the sink never completed");
}

/// `fatal` mid-batch ends the instance: it restarts, the fatal element
/// meets the policy (skipped), the results after it are discarded and
/// those elements processed again by the fresh instance, once each.
#[test]
fn fatal_mid_batch_restarts_and_reprocesses_the_rest_of_the_batch() {
    let (engine, out) = engine();
    let report = run(
        &engine,
        batch_chain(&engine, &failing_at("fatal", 5, 0), ""),
        FlowSettings::default(),
    );
    assert_eq!(sink_lines(&out), vec![uppercased(COUNT, &[5])]);
    let upper = stage(&report, "upper");
    assert_eq!(upper.restarts, 1);
    assert_eq!(report.leaked_buffers, 0);
}

fn trap_at(node: &str, call: u64) -> Vec<Fault> {
    vec![Fault {
        node: node.into(),
        at: call,
        kind: FaultKind::Trap,
    }]
}

/// A batch call that traps mid-flow: the component restarts and every
/// element of the batch is processed again by the fresh instance — none
/// delivered twice, none lost, order kept.
#[test]
fn a_trapped_batch_is_replayed_after_the_restart_without_duplicates_or_loss() {
    for node in ["upper", "sink"] {
        let (engine, out) = engine();
        let settings = FlowSettings {
            faults: trap_at(node, 3),
            ..FlowSettings::default()
        };
        let report = run(&engine, batch_chain(&engine, "", ""), settings);
        let lines = sink_lines(&out);
        assert_eq!(lines.len(), 1, "{node}: {lines:?}");
        // A restarted sink counts from its restart on: it must have got
        // exactly a suffix of the elements, in order, once each.
        let suffix = (0..COUNT).find(|&first| {
            let skipped: Vec<u64> = (0..first).collect();
            lines[0] == uppercased(COUNT, &skipped)
        });
        match node {
            "upper" => assert_eq!(suffix, Some(0), "{node}: {lines:?}"),
            _ => assert!(suffix.is_some_and(|first| first > 0), "{node}: {lines:?}"),
        }
        assert_eq!(stage(&report, node).restarts, 1, "{node}");
        assert_eq!(report.elements_delivered, COUNT, "{node}");
        assert_eq!(report.leaked_buffers, 0, "{node}");
    }
}

/// A trapped batch of a component that is not restarted: its node closes,
/// the batch's elements are disposed of as the element in hand would be
/// (dead-lettered here), and the flow carries on to completion.
#[test]
fn a_trapped_batch_of_a_closed_node_is_dead_lettered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let letters = dir.path().join("dead.jsonl");
    let (engine, _out) = engine();
    let settings = FlowSettings {
        faults: trap_at("upper", 2),
        node_supervision: vec![(
            "upper".into(),
            NodeSupervision {
                restart: RestartType::Temporary,
                on_error: ErrorPolicy::DeadLetter,
                dead_letter_file: Some(letters.clone()),
            },
        )],
        ..FlowSettings::default()
    };
    let report = run(&engine, batch_chain(&engine, "", ""), settings);
    let upper = stage(&report, "upper");
    assert!(upper.ended_abnormally);
    let text = std::fs::read_to_string(&letters).expect("dead letters");
    let sequences: Vec<u64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["sequence"]
                .as_u64()
                .unwrap_or(u64::MAX)
        })
        .collect();
    assert!(
        sequences.len() >= 2,
        "the whole batch is dead-lettered: {text}"
    );
    assert!(
        sequences.windows(2).all(|w| w[1] == w[0] + 1),
        "{sequences:?}"
    );
    assert_eq!(upper.dead_lettered, sequences.len() as u64);
    assert_eq!(report.leaked_buffers, 0);
}

/// `fail` and a trapped batch: the flow fails, as a trapped call does.
#[test]
fn a_trapped_batch_under_fail_fails_the_flow() {
    let (engine, _out) = engine();
    let settings = FlowSettings {
        faults: trap_at("upper", 2),
        node_supervision: supervise("upper", ErrorPolicy::Fail),
        ..FlowSettings::default()
    };
    let mut flow =
        Flow::start(&engine, batch_chain(&engine, "", ""), settings).expect("flow starts");
    let error = flow.run_to_completion().expect_err("the flow fails");
    assert_eq!(error.code(), ErrorCode::FatalComponentError, "{error}");
    assert_eq!(flow.report().leaked_buffers, 0);
}

/// A batch sink's element error: the elements before it were consumed,
/// the failing one meets the policy, the ones after it are pushed again.
#[test]
fn a_sink_batch_failing_mid_way_delivers_the_rest_once() {
    let (engine, out) = engine();
    let report = run(
        &engine,
        batch_chain(&engine, "", &failing_at("invalid-input", 6, 0)),
        FlowSettings::default(),
    );
    assert_eq!(sink_lines(&out), vec![uppercased(COUNT, &[6])]);
    assert_eq!(report.elements_delivered, COUNT - 1);
    assert_eq!(stage(&report, "sink").errors, 1);

    let (engine, out) = self::engine();
    let settings = FlowSettings {
        node_supervision: supervise("sink", ErrorPolicy::Retry { retries: 1 }),
        ..FlowSettings::default()
    };
    let report = run(
        &engine,
        batch_chain(&engine, "", &failing_at("unavailable", 6, 1)),
        settings,
    );
    assert_eq!(sink_lines(&out), vec![uppercased(COUNT, &[])]);
    assert_eq!(stage(&report, "sink").retries, 1);
}

/// A queue of 2: batches never exceed the credit, nothing overflows, and
/// everything arrives in order; a sink answering `pause` to every batch
/// still gets everything (a pause holds delivery until the next batch).
#[test]
fn batches_respect_a_small_queue_and_a_pausing_sink() {
    for sink_config in ["", r#"{"pause": true}"#] {
        let (engine, out) = engine();
        let settings = FlowSettings {
            queue_depth: 2,
            ..FlowSettings::default()
        };
        let report = run(&engine, batch_chain(&engine, "", sink_config), settings);
        assert_eq!(
            sink_lines(&out),
            vec![uppercased(COUNT, &[])],
            "{sink_config}"
        );
        assert!(report.peak_queue_depth <= 2, "{}", report.peak_queue_depth);
        for stream in &report.streams {
            assert!(stream.peak_depth <= stream.capacity, "{}", stream.name);
        }
        assert!(
            stage(&report, "upper").invocations < COUNT,
            "batches of 2 were used"
        );
    }
}

/// A batch source stops at the flow's element limit exactly, and its
/// elements are numbered from 0 without gaps (the sink sees them all).
#[test]
fn a_batch_source_honours_the_element_limit() {
    let (engine, out) = engine();
    let settings = FlowSettings {
        element_limit: Some(77),
        ..FlowSettings::default()
    };
    let stages = vec![
        source(&engine, "batch-counter-source", 0),
        test_stage(&engine, "sink", "batch-quiet-sink", StageRole::Sink, ""),
    ];
    let report = run(&engine, stages, settings);
    assert_eq!(report.elements_pulled, 77);
    assert_eq!(
        sink_lines(&out),
        vec![quiet_sink_line(counter_payloads(77, 64))]
    );
}

/// At the `diagnostic` level every element is its own call, traced in
/// detail with its own copies: the batch components run per element.
#[test]
fn at_the_diagnostic_level_every_element_is_its_own_traced_call() {
    use torvyn_runtime::config::ObservabilityLevel;
    use torvyn_runtime::reactor::{FlowProgress, TraceRecord};
    let (engine, out) = engine();
    let settings = FlowSettings {
        observability: ObservabilityLevel::Diagnostic,
        ..FlowSettings::default()
    };
    let mut flow =
        Flow::start(&engine, batch_chain(&engine, "", ""), settings).expect("flow starts");
    let mut records = Vec::new();
    loop {
        let progress = flow.run_batch(32).expect("batch");
        let mut drained = Vec::new();
        flow.drain_trace(&mut drained);
        records.append(&mut drained);
        match progress {
            FlowProgress::Finished => break,
            FlowProgress::Waiting(wait) => std::thread::sleep(wait),
            FlowProgress::Running => {}
        }
    }
    let upper: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            TraceRecord::Stage(s) if s.node == 1 => Some(s),
            _ => None,
        })
        .collect();
    let sequences: Vec<u64> = upper.iter().map(|s| s.sequence).collect();
    assert_eq!(sequences, (0..COUNT).collect::<Vec<_>>());
    assert!(upper.iter().all(|s| s.detailed && s.copies == 2));
    assert_eq!(stage(&flow.report(), "upper").invocations, COUNT);
    assert_eq!(sink_lines(&out), vec![uppercased(COUNT, &[])]);
}

/// `torvyn inspect` names the batch form a component offers next to its
/// role; a per-element component says so.
#[test]
fn inspect_shows_which_form_a_component_offers() {
    use crate::harness::torvyn;
    let wasm = torvyn_e2e::test_component("batch-uppercase");
    let dir = wasm.parent().expect("a directory");
    let run = torvyn(
        dir,
        &[
            "inspect",
            &wasm.display().to_string(),
            "--show",
            "interfaces",
        ],
    );
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("role          torvyn:streaming/processor\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("form          per element and batch (torvyn:batching/batch-processor)"),
        "{}",
        run.stdout
    );
    let json = torvyn(
        dir,
        &["--format", "json", "inspect", &wasm.display().to_string()],
    );
    json.expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(json["batch_forms"][0], "torvyn:batching/batch-processor");

    let plain = torvyn_e2e::test_component("uppercase");
    let run = torvyn(
        dir,
        &[
            "inspect",
            &plain.display().to_string(),
            "--show",
            "interfaces",
        ],
    );
    run.expect_code(0);
    assert!(
        run.stdout.contains("form          per element\n"),
        "{}",
        run.stdout
    );
}

/// `torvyn link` says which nodes run in batches; `torvyn run` on that
/// flow delivers everything; declaring a batch form as a node's interface
/// is refused with the interface to declare instead.
#[test]
fn link_shows_the_batch_form_and_a_batch_form_is_not_a_role() {
    use crate::harness::{component, json_summary, Project, PROCESSOR, SINK, SOURCE};
    let source = component("batch-counter-source");
    let upper = component("batch-uppercase");
    let plain_sink = component("quiet-sink");
    let project = Project::linear(&[
        ("source", &source, SOURCE, r#"{"count": 100}"#),
        ("upper", &upper, PROCESSOR, ""),
        ("sink", &plain_sink, SINK, ""),
    ]);
    let link = project.run(&["link"]);
    link.expect_code(0);
    assert!(
        link.stdout.contains(
            "batch form: source (torvyn:batching/batch-source), upper (torvyn:batching/batch-processor)"
        ),
        "{}",
        link.stdout
    );
    let json = project.run(&["--format", "json", "link"]);
    json.expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let forms: Vec<&str> = json["flows"][0]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["form"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(forms, ["batch", "batch", "per-element"]);

    let run = project.run(&["run", "--format", "json"]);
    run.expect_code(0);
    assert_eq!(json_summary(&run)["elements_delivered"], 100);

    let wrong = Project::linear(&[
        ("source", &source, SOURCE, r#"{"count": 1}"#),
        ("upper", &upper, "torvyn:batching/batch-processor", ""),
        ("sink", &plain_sink, SINK, ""),
    ]);
    let link = wrong.run(&["link"]);
    assert_ne!(link.code, 0, "{}", link.stdout);
    assert!(
        link.stderr
            .contains("is a batch form, not a role: declare `torvyn:streaming/processor`"),
        "{}",
        link.stderr
    );
}

/// A batch call has the fuel of as many per-element calls: a budget that
/// fits one element's work (4 KiB uppercased) is not run out of by a batch.
#[test]
fn a_batch_call_gets_the_fuel_of_its_elements() {
    let chain = |engine: &WasmEngine, source: &str, upper: &str, sink: &str| {
        let config = r#"{"count": 64, "payload_size": 4096}"#;
        vec![
            test_stage(engine, "source", source, StageRole::Source, config),
            test_stage(engine, "upper", upper, StageRole::Processor, ""),
            test_stage(engine, "sink", sink, StageRole::Sink, ""),
        ]
    };
    let with_fuel = |fuel| {
        WasmEngine::new(EngineConfig {
            fuel_per_invocation: fuel,
            guest_outputs: GuestOutputs {
                stdout: Some(Arc::new(Captured::default())),
                stderr: None,
            },
            ..EngineConfig::default()
        })
        .expect("engine")
    };
    let engine = with_fuel(100_000_000);
    let per_element = run(
        &engine,
        chain(&engine, "counter-source", "uppercase", "quiet-sink"),
        FlowSettings::default(),
    );
    let upper = stage(&per_element, "upper");
    let per_call = upper.fuel_consumed / upper.invocations;
    assert!(per_call > 0);

    let engine = with_fuel(per_call * 3);
    let batched = run(
        &engine,
        chain(
            &engine,
            "batch-counter-source",
            "batch-uppercase",
            "batch-quiet-sink",
        ),
        FlowSettings::default(),
    );
    let upper = stage(&batched, "upper");
    assert_eq!(batched.elements_delivered, 64);
    assert_eq!((upper.restarts, upper.errors), (0, 0));
    assert!(upper.invocations < 16, "{} calls", upper.invocations);
}

/// A `pull-batch` that fails (an injected `unavailable`) is counted and
/// skipped like a failed `pull`: it produced nothing, so nothing is lost,
/// and the next batch carries on where the source was.
#[test]
fn a_failed_pull_batch_is_counted_and_the_source_carries_on() {
    use torvyn_runtime::reactor::supervision::InjectedError;
    let (engine, out) = engine();
    let settings = FlowSettings {
        faults: vec![Fault {
            node: "source".into(),
            at: 2,
            kind: FaultKind::Error(InjectedError::Unavailable),
        }],
        ..FlowSettings::default()
    };
    let report = run(&engine, batch_chain(&engine, "", ""), settings);
    assert_eq!(sink_lines(&out), vec![uppercased(COUNT, &[])]);
    let source = stage(&report, "source");
    assert_eq!((source.errors, source.restarts), (1, 0));
    assert_eq!(report.elements_pulled, COUNT);
}

/// A `process-batch` returning fewer results than inputs breaks its
/// contract: the call fails like a trap (restart, the batch's elements
/// processed again one at a time), and a component that keeps breaking it
/// fails the flow past the restart intensity, leaving no buffer behind.
#[test]
fn a_batch_with_the_wrong_number_of_results_fails_like_a_trap() {
    let (engine, _out) = engine();
    let mut flow = Flow::start(
        &engine,
        batch_chain(&engine, r#"{"short_results": true}"#, ""),
        FlowSettings::default(),
    )
    .expect("flow starts");
    let error = flow.run_to_completion().expect_err("the flow fails");
    assert!(error.to_string().contains("results for"), "{error}");
    let report = flow.report();
    assert!(stage(&report, "upper").restarts >= 1);
    assert_eq!(report.leaked_buffers, 0);
}
