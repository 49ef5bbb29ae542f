//! Reliability under faults, over many elements: transient traps under
//! `retry` deliver every element exactly once and in order (checked by the
//! sink's order-sensitive checksum), and a million elements through each
//! error policy keep every count exact with memory flat.

use crate::common::*;
use std::time::Duration;
use torvyn_actors::FlowSpec;
use torvyn_runtime::reactor::supervision::{
    ErrorPolicy, Fault, FaultKind, FlowSupervision, InjectedError, Intensity, NodeSupervision,
    RestartType, Strategy,
};
use torvyn_runtime::reactor::{FlowReport, FlowSettings};
use torvyn_runtime::reactor::{FlowSpec as GraphSpec, StageRole, StageSpec, StreamSettings};

const PAYLOAD: usize = 64;

/// counter-source (`count`) → passthrough → quiet-sink on `engine`.
fn source_pass_sink_on(engine: &torvyn_runtime::engine::WasmEngine, count: u64) -> Vec<StageSpec> {
    let stage = |name, component, role, config: &str| {
        torvyn_e2e::test_stage(engine, name, component, role, config)
    };
    vec![
        stage(
            "source",
            "counter-source",
            StageRole::Source,
            &format!(r#"{{"count": {count}, "payload_size": {PAYLOAD}}}"#),
        ),
        stage("pass", "passthrough", StageRole::Processor, ""),
        stage("sink", "quiet-sink", StageRole::Sink, ""),
    ]
}

/// `on_error` for the pass-through, with `faults` injected into it and a
/// restart intensity that lets every injected trap restart it.
fn settings(name: &str, on_error: ErrorPolicy, faults: Vec<Fault>) -> FlowSettings {
    FlowSettings {
        flow_name: name.into(),
        supervision: FlowSupervision {
            strategy: Strategy::OneForOne,
            intensity: Intensity {
                max_restarts: 1_000_000,
                window: Duration::from_secs(3600),
            },
        },
        node_supervision: vec![(
            "pass".into(),
            NodeSupervision {
                restart: RestartType::Permanent,
                on_error,
                dead_letter_file: None,
            },
        )],
        faults,
        ..FlowSettings::default()
    }
}

/// Faults of `kind` on every `every`-th call of the pass-through, over
/// `calls` calls.
fn every(every: u64, calls: u64, kind: FaultKind) -> Vec<Fault> {
    (1..=calls / every)
        .map(|k| Fault {
            node: "pass".into(),
            at: k * every,
            kind: kind.clone(),
        })
        .collect()
}

pub(crate) fn assert_clean(report: &FlowReport) {
    assert_eq!(report.leaked_buffers, 0, "no buffer leaked");
    assert_eq!(report.live_buffers, 0, "no buffer left alive");
    assert_eq!(report.pool_buffers_held, 0, "every pool buffer returned");
}

#[test]
fn one_percent_transient_traps_under_retry_deliver_every_element_exactly_once_in_order() {
    const N: u64 = 20_000;
    let (engine, captured) = engine_capturing_stdout();
    let host = host_on(&engine, 1);
    let faults = every(100, N, FaultKind::Trap);
    let traps = faults.len() as u64;
    let flow = FlowSpec::new(source_pass_sink_on(&engine, N)).with_settings(settings(
        "traps",
        ErrorPolicy::Retry { retries: 2 },
        faults,
    ));
    let id = host.start_flow(flow).expect("starts");
    let report = host.await_completion(id).expect("completes");
    host.shutdown();
    assert_eq!(report.elements_pulled, N);
    assert_eq!(report.elements_delivered, N, "none lost, none duplicated");
    assert_eq!(report.elements_dropped, 0);
    assert_eq!(report.stages[1].restarts, traps, "each trap restarted it");
    assert_eq!(
        report.stages[1].retries, traps,
        "each trapped element retried once"
    );
    assert_clean(&report);
    // The sink's checksum covers every payload in order: the retried
    // elements are neither repeated nor reordered.
    let expected = torvyn_e2e::quiet_sink_line(torvyn_e2e::counter_payloads(N, PAYLOAD));
    let text = captured.text();
    assert!(
        text.lines().any(|l| l == expected),
        "expected `{expected}`, the sink said:\n{text}"
    );
}

/// Resident memory of this process (`VmRSS`), in KiB.
pub(crate) fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Set in the process a soak test runs in alone.
pub(crate) const SOAK_CHILD: &str = "TORVYN_SOAK_CHILD";

/// Runs test `name` of this binary alone in a process of its own (the
/// resident memory of a process that runs other tests too says nothing
/// about this one) and fails if it fails.
pub(crate) fn in_own_process(name: &str) {
    let exe = std::env::current_exe().expect("the test binary");
    let output = std::process::Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(SOAK_CHILD, "1")
        .output()
        .expect("the soak runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprint!("{text}");
    assert!(output.status.success(), "{name} failed:\n{text}");
    assert!(text.contains("soak "), "{name} did not run:\n{text}");
}

/// A million elements through one error policy, one in a thousand
/// failing: every element is accounted for and resident memory stays flat.
/// Run in a process of its own (test `name`).
fn soak(name: &str, policy: ErrorPolicy) {
    if std::env::var_os(SOAK_CHILD).is_none() {
        return in_own_process(name);
    }
    const N: u64 = 1_000_000;
    const WARMUP: u64 = 20_000;
    let (engine, _captured) = engine_capturing_stdout();
    let host = host_on(&engine, 1);
    let run = |count: u64, name: &str| {
        let faults = every(1000, count, FaultKind::Error(InjectedError::Internal));
        let failing = faults.len() as u64;
        let mut graph = GraphSpec::linear(
            source_pass_sink_on(&engine, count),
            StreamSettings::default(),
        );
        if policy == ErrorPolicy::DeadLetter {
            graph = with_dead_letter_sink(&engine, graph);
        }
        let flow = FlowSpec::graph(graph).with_settings(settings(name, policy, faults));
        let id = host.start_flow(flow).expect("starts");
        (host.await_completion(id).expect("completes"), failing)
    };
    // A first run settles the pools, the code cache and the allocator.
    run(WARMUP, "warmup");
    let start = rss_kib();
    let (report, failing) = run(N, "soak");
    let end = rss_kib();
    eprintln!(
        "soak {policy:?}: {N} elements, {failing} failed calls, RSS {start} KiB → {end} KiB ({:+} KiB), dropped {}, dead-lettered {}, retried {}",
        end as i64 - start as i64,
        report.elements_dropped,
        report.stages[1].dead_lettered,
        report.stages[1].retries,
    );
    host.shutdown();
    assert_eq!(report.elements_pulled, N);
    match policy {
        ErrorPolicy::Skip => {
            assert_eq!(report.elements_dropped, failing);
            assert_eq!(report.elements_delivered, N - failing);
        }
        ErrorPolicy::Retry { .. } => {
            assert_eq!(report.stages[1].retries, failing);
            assert_eq!(report.elements_delivered, N);
        }
        ErrorPolicy::DeadLetter => {
            assert_eq!(report.stages[1].dead_lettered, failing);
            assert_eq!(report.elements_delivered, N, "sink + dead letters");
        }
        ErrorPolicy::Fail => unreachable!("a failing flow is not a soak"),
    }
    assert_clean(&report);
    assert!(
        end < start + 32 * 1024,
        "resident memory grew by {} KiB over {N} elements",
        end as i64 - start as i64
    );
}

/// `graph` plus a quiet-sink on the pass-through's `dead-letter` port.
fn with_dead_letter_sink(
    engine: &torvyn_runtime::engine::WasmEngine,
    mut graph: GraphSpec,
) -> GraphSpec {
    graph.stages.push(torvyn_e2e::test_stage(
        engine,
        "dlq",
        "quiet-sink",
        StageRole::Sink,
        "",
    ));
    let mut edge = graph.edges[1].clone();
    edge.name = "pass-to-dlq".into();
    edge.from_port = "dead-letter".into();
    edge.to = 3;
    graph.edges.push(edge);
    graph
}

#[test]
fn soak_a_million_elements_under_skip() {
    soak(
        "reliability::soak_a_million_elements_under_skip",
        ErrorPolicy::Skip,
    );
}

#[test]
fn soak_a_million_elements_under_retry() {
    soak(
        "reliability::soak_a_million_elements_under_retry",
        ErrorPolicy::Retry { retries: 1 },
    );
}

#[test]
fn soak_a_million_elements_under_dead_letter() {
    soak(
        "reliability::soak_a_million_elements_under_dead_letter",
        ErrorPolicy::DeadLetter,
    );
}

/// counter-source → `middle` (a `role` stage of `component`) → sink(s):
/// a router gets an `even` and an `odd` sink.
fn through(
    engine: &torvyn_runtime::engine::WasmEngine,
    component: &str,
    role: StageRole,
    config: &str,
) -> GraphSpec {
    let stage = |name, component, role, config: &str| {
        torvyn_e2e::test_stage(engine, name, component, role, config)
    };
    let mut stages = vec![
        stage(
            "source",
            "counter-source",
            StageRole::Source,
            r#"{"count": 2000, "payload_size": 64}"#,
        ),
        stage("middle", component, role, config),
        stage("sink", "quiet-sink", StageRole::Sink, ""),
    ];
    let edge = |from, port: &str, to, name: &str| torvyn_runtime::reactor::EdgeSpec {
        name: name.into(),
        from,
        from_port: port.into(),
        to,
        settings: StreamSettings::default(),
        priority: 0,
    };
    let mut edges = vec![edge(0, "output", 1, "source-to-middle")];
    if role == StageRole::Router {
        stages.push(stage("odd-sink", "quiet-sink", StageRole::Sink, ""));
        edges.push(edge(1, "even", 2, "even"));
        edges.push(edge(1, "odd", 3, "odd"));
    } else {
        edges.push(edge(1, "output", 2, "middle-to-sink"));
    }
    GraphSpec { stages, edges }
}

/// A flow failing at any stage role — the source, a processor, a filter,
/// a router, an aggregator or the sink returns a fatal error, with an
/// element in hand — gives every buffer back.
#[test]
fn a_flow_failing_at_any_role_leaks_nothing() {
    let (engine, _captured) = engine_capturing_stdout();
    let host = host_on(&engine, 1);
    let middles = [
        ("passthrough", StageRole::Processor, ""),
        ("even-filter", StageRole::Filter, ""),
        ("parity-router", StageRole::Router, r#"{"mode": "both"}"#),
        ("count-aggregator", StageRole::Aggregator, r#"{"every": 3}"#),
    ];
    for (component, role, config) in middles {
        for failing in ["source", "middle", "sink"] {
            let case = format!("{failing} of source → {component} → sink");
            let mut s = settings("failing", ErrorPolicy::Fail, Vec::new());
            s.node_supervision[0].0 = failing.into();
            s.faults = vec![Fault {
                node: failing.into(),
                at: 25,
                kind: FaultKind::Error(InjectedError::Internal),
            }];
            let flow = FlowSpec::graph(through(&engine, component, role, config)).with_settings(s);
            let id = host.start_flow(flow).expect("starts");
            match host.await_completion(id) {
                Err(torvyn_actors::HostError::Flow { report, .. }) => {
                    let report = report.unwrap_or_else(|| panic!("{case}: no report"));
                    assert_clean(&report);
                }
                other => panic!("{case}: expected the flow to fail, got {other:?}"),
            }
        }
    }
    host.shutdown();
}

/// A flow cancelled while running, while paused and while draining gives
/// every buffer back.
#[test]
fn a_flow_cancelled_in_any_state_leaks_nothing() {
    let (engine, _captured) = engine_capturing_stdout();
    let host = host_on(&engine, 1);
    for state in ["running", "paused", "draining"] {
        let graph = through(&engine, "passthrough", StageRole::Processor, "");
        let id = host
            .start_flow(FlowSpec::graph(graph).with_settings(settings(
                "cancelled",
                ErrorPolicy::Skip,
                Vec::new(),
            )))
            .expect("starts");
        wait_delivered(&host, id, 20);
        match state {
            "paused" => {
                host.pause(id).expect("pauses");
            }
            "draining" => {
                host.drain(id).expect("drains");
            }
            _ => {}
        }
        host.cancel(id).expect("cancels");
        match host.await_completion(id) {
            Err(torvyn_actors::HostError::Flow { report, .. }) => {
                let report = report.unwrap_or_else(|| panic!("{state}: no report"));
                assert_clean(&report);
            }
            // A drain may finish before the cancel lands.
            Ok(report) if state == "draining" => assert_clean(&report),
            other => panic!("{state}: expected a cancelled flow, got {other:?}"),
        }
    }
    assert!(host
        .resource_stats()
        .expect("stats")
        .leaking_flows
        .is_empty());
    host.shutdown();
}
