//! The supervision grid (in the style of OTP's supervisor_SUITE) and the
//! fault-injection tests: real components, faults injected at a chosen
//! invocation, every outcome checked with counts.

use crate::common::*;
use std::time::Duration;
use torvyn_actors::{ActorFault, FlowSpec, FlowState, TorvynHandle};
use torvyn_runtime::error::{Coded, ErrorCode};
use torvyn_runtime::reactor::supervision::{
    ErrorPolicy, Fault, FaultKind, FlowSupervision, InjectedError, Intensity, NodeSupervision,
    RestartType, Strategy,
};
use torvyn_runtime::reactor::{FlowReport, FlowSettings};

const COUNT: u64 = 100;
/// The pass-through fails on its 10th call: the source has pulled exactly
/// 10 elements then (consumer-first scheduling moves one element at a time).
const FAIL_AT: u64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Trap,
    Fatal,
    Normal,
}

fn settings(
    strategy: Strategy,
    restart: RestartType,
    on_error: ErrorPolicy,
    faults: Vec<Fault>,
) -> FlowSettings {
    FlowSettings {
        flow_name: "supervised".into(),
        supervision: FlowSupervision {
            strategy,
            intensity: Intensity::default(),
        },
        node_supervision: vec![(
            "pass".into(),
            NodeSupervision {
                restart,
                on_error,
                dead_letter_file: None,
            },
        )],
        faults,
        ..FlowSettings::default()
    }
}

fn fault_at(at: u64, kind: FaultKind) -> Fault {
    Fault {
        node: "pass".into(),
        at,
        kind,
    }
}

fn run(
    host: &TorvynHandle,
    stages_settings: FlowSettings,
) -> Result<FlowReport, torvyn_actors::HostError> {
    let id = host
        .start_flow(FlowSpec::new(source_pass_sink(COUNT)).with_settings(stages_settings))
        .expect("starts");
    host.await_completion(id)
}

fn restarts(report: &FlowReport) -> [u64; 3] {
    [0, 1, 2].map(|i| report.stages[i].restarts)
}

fn assert_clean(report: &FlowReport) {
    assert_eq!(report.leaked_buffers, 0, "no buffer leaked");
    assert_eq!(report.pool_buffers_held, 0, "every pool buffer returned");
}

/// One cell of the grid: `strategy` × `restart` × `exit` of the middle
/// stage, with the default error policy (`skip`).
fn grid_cell(host: &TorvynHandle, strategy: Strategy, restart: RestartType, exit: Exit) {
    let faults = match exit {
        Exit::Trap => vec![fault_at(FAIL_AT, FaultKind::Trap)],
        Exit::Fatal => vec![fault_at(FAIL_AT, FaultKind::Error(InjectedError::Fatal))],
        Exit::Normal => vec![],
    };
    let cell = format!("{strategy:?} × {restart:?} × {exit:?}");
    let report = run(host, settings(strategy, restart, ErrorPolicy::Skip, faults))
        .unwrap_or_else(|e| panic!("{cell}: the flow failed: {e}"));
    assert_clean(&report);
    let restarted = match exit {
        Exit::Normal => false,
        Exit::Trap => restart != RestartType::Temporary,
        Exit::Fatal => restart == RestartType::Permanent,
    };
    if exit == Exit::Normal {
        assert_eq!(restarts(&report), [0, 0, 0], "{cell}");
        assert_eq!(report.elements_delivered, COUNT, "{cell}");
        return;
    }
    if !restarted {
        // The node closed: the source's only output closed, so the source
        // ended; the sink got what passed before and completed.
        assert_eq!(restarts(&report), [0, 0, 0], "{cell}");
        assert!(report.stages[1].ended_abnormally, "{cell}");
        assert_eq!(report.elements_pulled, FAIL_AT, "{cell}");
        assert_eq!(report.elements_delivered, FAIL_AT - 1, "{cell}");
        return;
    }
    assert!(!report.stages[1].ended_abnormally, "{cell}");
    // The element in hand is skipped; everything else arrives.
    match strategy {
        Strategy::OneForOne => {
            assert_eq!(restarts(&report), [0, 1, 0], "{cell}");
            assert_eq!(report.elements_delivered, COUNT - 1, "{cell}");
        }
        Strategy::RestForOne => {
            assert_eq!(restarts(&report), [0, 1, 1], "{cell}");
            assert_eq!(report.elements_delivered, COUNT - 1, "{cell}");
        }
        Strategy::OneForAll => {
            // The source restarts too and counts from 0 again.
            assert_eq!(restarts(&report), [1, 1, 1], "{cell}");
            assert_eq!(report.elements_pulled, FAIL_AT + COUNT, "{cell}");
            assert_eq!(report.elements_delivered, FAIL_AT + COUNT - 1, "{cell}");
        }
    }
}

/// Every strategy × restart type × exit kind behaves as documented:
/// permanent restarts after a trap or fatal error, transient after a trap
/// only, temporary never (its node closes and the flow completes without
/// it); one_for_one restarts the failed stage, rest_for_one it and the
/// stages after it, one_for_all every stage; a normal end restarts nothing.
#[test]
fn supervision_grid_strategy_by_restart_type_by_exit() {
    let host = host(2);
    for strategy in [
        Strategy::OneForOne,
        Strategy::OneForAll,
        Strategy::RestForOne,
    ] {
        for restart in [
            RestartType::Permanent,
            RestartType::Transient,
            RestartType::Temporary,
        ] {
            for exit in [Exit::Trap, Exit::Fatal, Exit::Normal] {
                grid_cell(&host, strategy, restart, exit);
            }
        }
    }
    host.shutdown();
}

/// Just under the limit: three traps within the window (intensity 3 in
/// 5 s) are three restarts, and the flow completes.
#[test]
fn three_restarts_within_the_window_are_allowed() {
    let host = host(1);
    let faults = (1..=3).map(|k| fault_at(10 * k, FaultKind::Trap)).collect();
    let report = run(
        &host,
        settings(
            Strategy::OneForOne,
            RestartType::Permanent,
            ErrorPolicy::Skip,
            faults,
        ),
    )
    .expect("completes");
    assert_eq!(report.stages[1].restarts, 3);
    assert_eq!(report.elements_delivered, COUNT - 3);
    assert_clean(&report);
    host.shutdown();
}

/// Escalation: a fourth failure within the window fails the flow with the
/// failure's own code (E0410 for a trap), naming the intensity.
#[test]
fn one_restart_too_many_fails_the_flow() {
    let host = host(1);
    let faults = (1..=4).map(|k| fault_at(10 * k, FaultKind::Trap)).collect();
    let error = run(
        &host,
        settings(
            Strategy::OneForOne,
            RestartType::Permanent,
            ErrorPolicy::Skip,
            faults,
        ),
    )
    .expect_err("escalates");
    assert_eq!(error.code(), ErrorCode::FatalComponentError);
    assert!(error.to_string().contains("restart intensity"), "{error}");
    host.shutdown();
}

/// A hang (fuel or deadline exhaustion) escalates with E0401, a memory
/// blow-up with E0310, when the intensity allows no restart.
#[test]
fn escalation_keeps_the_failure_code() {
    let host = host(1);
    for (kind, code) in [
        (FaultKind::Hang, ErrorCode::ComponentTimeout),
        (FaultKind::GrowMemory, ErrorCode::BudgetExceeded),
    ] {
        let mut s = settings(
            Strategy::OneForOne,
            RestartType::Permanent,
            ErrorPolicy::Skip,
            vec![fault_at(5, kind.clone())],
        );
        s.supervision.intensity.max_restarts = 0;
        let error = run(&host, s).expect_err("escalates");
        assert_eq!(error.code(), code, "{kind:?}: {error}");
    }
    host.shutdown();
}

/// Under `block` with `retry`, a trap and a transient error lose nothing:
/// every element the source produced is delivered exactly once, the retried
/// calls are counted, and no buffer leaks.
#[test]
fn retry_delivers_every_element_exactly_once() {
    let host = host(1);
    let faults = vec![
        fault_at(10, FaultKind::Trap),
        fault_at(30, FaultKind::Error(InjectedError::Unavailable)),
        fault_at(50, FaultKind::Error(InjectedError::DeadlineExceeded)),
    ];
    let report = run(
        &host,
        settings(
            Strategy::OneForOne,
            RestartType::Permanent,
            ErrorPolicy::Retry { retries: 2 },
            faults,
        ),
    )
    .expect("completes");
    assert_eq!(report.elements_pulled, COUNT);
    assert_eq!(
        report.elements_delivered, COUNT,
        "none lost, none duplicated"
    );
    assert_eq!(report.stages[1].retries, 3);
    assert_eq!(report.stages[1].restarts, 1);
    assert_eq!(report.stages[1].timeouts, 1);
    assert_eq!(report.stages[1].errors, 3);
    assert_clean(&report);
    host.shutdown();
}

/// source → pass → sink, plus pass's `dead-letter` port → dlq.
fn dead_letter_flow(faults: Vec<Fault>) -> FlowSpec {
    FlowSpec::graph(dead_letter_graph(COUNT)).with_settings(settings(
        Strategy::OneForOne,
        RestartType::Permanent,
        ErrorPolicy::DeadLetter,
        faults,
    ))
}

/// Under `block` with `dead-letter`, every element is either delivered or
/// dead-lettered — exactly once — whether the component trapped on it or
/// returned an error for it.
#[test]
fn dead_letter_accounts_for_every_element() {
    let host = host(1);
    let faults = vec![
        fault_at(10, FaultKind::Trap),
        fault_at(20, FaultKind::Error(InjectedError::InvalidInput)),
        fault_at(30, FaultKind::Error(InjectedError::Internal)),
    ];
    let id = host.start_flow(dead_letter_flow(faults)).expect("starts");
    let report = host.await_completion(id).expect("completes");
    let stream = |name: &str| {
        report
            .streams
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("stream {name}"))
            .transferred
    };
    assert_eq!(stream("pass-to-sink"), COUNT - 3);
    assert_eq!(stream("pass-to-dlq"), 3);
    assert_eq!(report.stages[1].dead_lettered, 3);
    assert_eq!(report.elements_delivered, COUNT, "sink + dlq = everything");
    assert_eq!(report.stages[1].restarts, 1);
    assert_clean(&report);
    host.shutdown();
}

/// Dead letters to a JSON-lines file: one line per failed element, with
/// its sequence number, error code and payload.
#[test]
fn dead_letter_file_gets_one_json_line_per_failed_element() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("dead.jsonl");
    let host = host(1);
    let mut s = settings(
        Strategy::OneForOne,
        RestartType::Permanent,
        ErrorPolicy::DeadLetter,
        vec![
            fault_at(7, FaultKind::Trap),
            fault_at(8, FaultKind::Error(InjectedError::InvalidInput)),
        ],
    );
    s.node_supervision[0].1.dead_letter_file = Some(file.clone());
    let report = run(&host, s).expect("completes");
    assert_eq!(report.elements_delivered, COUNT - 2);
    let text = std::fs::read_to_string(&file).expect("dead letters written");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["node"], "pass");
    assert_eq!(lines[0]["sequence"], 6);
    assert_eq!(lines[0]["code"], "E0410");
    assert!(lines[0]["payload"]
        .as_str()
        .expect("payload")
        .starts_with("6 "));
    assert_eq!(lines[1]["sequence"], 7);
    assert_clean(&report);
    host.shutdown();
}

/// `on_error = "dead-letter"` without a destination is refused at start.
#[test]
fn dead_letter_without_a_destination_is_refused() {
    let host = host(1);
    let error = run(
        &host,
        settings(
            Strategy::OneForOne,
            RestartType::Permanent,
            ErrorPolicy::DeadLetter,
            vec![],
        ),
    )
    .expect_err("refused");
    assert!(error.to_string().contains("dead-letter"), "{error}");
    host.shutdown();
}

/// `fail` stops the flow on the first failed element, with its error.
#[test]
fn fail_policy_fails_the_flow() {
    let host = host(1);
    let error = run(
        &host,
        settings(
            Strategy::OneForOne,
            RestartType::Permanent,
            ErrorPolicy::Fail,
            vec![fault_at(5, FaultKind::Error(InjectedError::Internal))],
        ),
    )
    .expect_err("fails");
    assert_eq!(error.code(), ErrorCode::FatalComponentError);
    host.shutdown();
}

/// A stalled stage only delays the flow: everything is delivered.
#[test]
fn a_stalled_stage_delays_but_loses_nothing() {
    let host = host(1);
    let report = run(
        &host,
        settings(
            Strategy::OneForOne,
            RestartType::Permanent,
            ErrorPolicy::Skip,
            vec![fault_at(5, FaultKind::Stall(Duration::from_millis(30)))],
        ),
    )
    .expect("completes");
    assert_eq!(report.elements_delivered, COUNT);
    host.shutdown();
}

/// Faults injected into a running flow through the handle: a trap on the
/// next call restarts the stage and the endless flow keeps delivering.
#[test]
fn a_fault_injected_mid_flow_restarts_the_stage() {
    let host = host(1);
    let id = host
        .start_flow(spec("live-fault", source_pass_sink(0)))
        .expect("starts");
    wait_delivered(&host, id, 100);
    host.inject_fault(id, fault_at(1, FaultKind::Trap))
        .expect("injected");
    let before = host
        .inspect(id)
        .expect("inspect")
        .counters
        .elements_delivered;
    wait_delivered(&host, id, before + 100);
    host.drain(id).expect("drains");
    let report = host.await_completion(id).expect("completes");
    assert_eq!(report.stages[1].restarts, 1);
    assert_clean(&report);
    host.shutdown();
}

/// A panic in one flow's actor handler fails that flow only (E0410): the
/// other flow on the same arbiter keeps running, the host keeps answering.
#[test]
fn a_panicking_actor_handler_does_not_take_the_host_down() {
    let host = host(1);
    let victim = host
        .start_flow(spec("victim", source_pass_sink(0)))
        .expect("starts");
    let bystander = host
        .start_flow(spec("bystander", source_pass_sink(0)))
        .expect("starts");
    wait_delivered(&host, victim, 50);
    wait_delivered(&host, bystander, 50);
    host.inject_actor_fault(victim, ActorFault::PanicInNextBatch)
        .expect("injected");
    let error = host.await_completion(victim).expect_err("fails");
    assert_eq!(error.code(), ErrorCode::FatalComponentError);
    assert!(error.to_string().contains("panicked"), "{error}");
    let before = host
        .inspect(bystander)
        .expect("the host still answers")
        .counters
        .elements_delivered;
    wait_delivered(&host, bystander, before + 500);
    host.drain(bystander).expect("drains");
    let report = host.await_completion(bystander).expect("completes");
    assert_eq!(report.elements_delivered, report.elements_pulled);
    host.shutdown();
}

/// A dropped control message changes nothing (the caller sees the old
/// state) and the next one works; a delayed one still takes effect.
#[test]
fn dropped_and_delayed_control_messages() {
    let host = host(1);
    let id = host
        .start_flow(spec("controlled", source_pass_sink(0)))
        .expect("starts");
    wait_delivered(&host, id, 10);
    host.inject_actor_fault(id, ActorFault::DropNextControl)
        .expect("injected");
    assert_eq!(host.pause(id).expect("answered"), FlowState::Running);
    assert_eq!(host.pause(id).expect("pauses"), FlowState::Suspended);
    host.inject_actor_fault(id, ActorFault::DelayNextControl(Duration::from_millis(30)))
        .expect("injected");
    assert_eq!(host.resume(id).expect("resumes"), FlowState::Running);
    host.drain(id).expect("drains");
    host.await_completion(id).expect("completes");
    host.shutdown();
}

/// A flow that fails with an element in hand — the error policy `fail`, or
/// a trap past the restart intensity, in the middle stage or the sink —
/// gives every buffer back: its final report shows no leak.
#[test]
fn a_flow_failing_with_an_element_in_hand_leaks_nothing() {
    let host = host(1);
    let fatal_error = FaultKind::Error(InjectedError::Internal);
    let cases = [
        ("pass", ErrorPolicy::Fail, fatal_error, 3),
        ("pass", ErrorPolicy::Skip, FaultKind::Trap, 0),
        ("sink", ErrorPolicy::Skip, FaultKind::Trap, 0),
        (
            "sink",
            ErrorPolicy::Fail,
            FaultKind::Error(InjectedError::Internal),
            3,
        ),
    ];
    for (node, on_error, kind, max_restarts) in cases {
        let case = format!("{node} × {on_error:?} × {kind:?} × {max_restarts} restarts");
        let mut s = settings(
            Strategy::OneForOne,
            RestartType::Permanent,
            on_error,
            vec![],
        );
        s.node_supervision[0].0 = node.into();
        s.faults = vec![Fault {
            node: node.into(),
            at: FAIL_AT,
            kind,
        }];
        s.supervision.intensity.max_restarts = max_restarts;
        match run(&host, s) {
            Err(torvyn_actors::HostError::Flow { report, .. }) => {
                let report = report.unwrap_or_else(|| panic!("{case}: no report"));
                assert_clean(&report);
                assert_eq!(report.live_buffers, 0, "{case}");
            }
            other => panic!("{case}: expected the flow to fail, got {other:?}"),
        }
    }
}
