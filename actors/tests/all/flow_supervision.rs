//! The FlowSupervisor grid, in the style of OTP's supervisor_SUITE: flow
//! restart policy × outcome of a run × restart intensity, with escalation
//! to the root and "just under the limit". A failing run is a flow whose
//! middle stage traps on its 10th call while the flow allows no component
//! restart, so the reactor gives the failure up to the FlowSupervisor.

use crate::common::*;
use std::time::Duration;
use torvyn_actors::{FlowSpec, FlowState, HostError, TorvynHandle};
use torvyn_runtime::error::{Coded, ErrorCode};
use torvyn_runtime::reactor::supervision::{
    Fault, FaultKind, FlowRestart, FlowRestartPolicy, Intensity,
};
use torvyn_runtime::reactor::{FlowReport, FlowSettings};

const COUNT: u64 = 50;

/// How each run of the flow ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunOutcome {
    /// Every run completes.
    Completes,
    /// Every run fails (the fault is part of the flow's settings).
    AlwaysFails,
    /// Only the first run fails (the fault is injected into it alone).
    FailsOnce,
}

fn restart(policy: FlowRestartPolicy, max_restarts: u32) -> FlowRestart {
    FlowRestart {
        policy: Some(policy),
        intensity: Intensity {
            max_restarts,
            window: Duration::from_secs(600),
        },
        backoff: Duration::ZERO,
    }
}

fn trap_at_10th_call() -> Fault {
    Fault {
        node: "pass".into(),
        at: 10,
        kind: FaultKind::Trap,
    }
}

fn flow(outcome: RunOutcome, restart: FlowRestart) -> FlowSpec {
    let mut settings = FlowSettings {
        flow_name: "supervised-flow".into(),
        faults: match outcome {
            RunOutcome::AlwaysFails => vec![trap_at_10th_call()],
            _ => Vec::new(),
        },
        ..FlowSettings::default()
    };
    // No component restart: the first trap fails the whole flow.
    settings.supervision.intensity.max_restarts = 0;
    let spec = FlowSpec::new(source_pass_sink(COUNT))
        .with_settings(settings)
        .with_restart(restart);
    match outcome {
        RunOutcome::FailsOnce => spec.suspended(),
        _ => spec,
    }
}

/// Runs the flow to its final outcome; the outcome and how many runs it
/// took.
fn run(
    host: &TorvynHandle,
    outcome: RunOutcome,
    restart: FlowRestart,
) -> (Result<FlowReport, HostError>, u64) {
    let id = host.start_flow(flow(outcome, restart)).expect("starts");
    if outcome == RunOutcome::FailsOnce {
        wait_until(host, id, "suspended", |i| i.state == FlowState::Suspended);
        host.inject_fault(id, trap_at_10th_call()).expect("fault");
        host.resume(id).expect("resumes");
    }
    let result = host.await_completion(id);
    let runs = host.inspect(id).expect("inspect").run;
    (result, runs)
}

fn assert_failed_with_the_trap(result: &Result<FlowReport, HostError>) {
    let error = result.as_ref().expect_err("the flow failed");
    assert_ne!(error.code(), ErrorCode::FlowCancelled, "{error}");
    assert!(matches!(error, HostError::Flow { .. }), "{error}");
}

/// The whole grid: policy × run outcome × intensity (0, 1, 3), with the
/// number of runs and the final outcome each cell must give.
#[test]
fn the_flow_supervision_grid() {
    use FlowRestartPolicy::*;
    use RunOutcome::*;
    let host = host(2);
    for policy in [Never, OnFailure] {
        for outcome in [Completes, AlwaysFails, FailsOnce] {
            for max in [0, 1, 3] {
                let (result, runs) = run(&host, outcome, restart(policy, max));
                let cell = format!("{policy:?} × {outcome:?} × max {max}");
                let restarts_allowed = policy == OnFailure && max > 0;
                match outcome {
                    Completes => {
                        let report = result.expect(&cell);
                        assert_eq!(report.elements_delivered, COUNT, "{cell}");
                        assert_eq!(runs, 1, "a completed flow is never restarted: {cell}");
                    }
                    AlwaysFails => {
                        assert_failed_with_the_trap(&result);
                        let expected = if restarts_allowed { 1 + max as u64 } else { 1 };
                        assert_eq!(runs, expected, "{cell}");
                    }
                    FailsOnce if restarts_allowed => {
                        let report = result.expect(&cell);
                        assert_eq!(report.elements_delivered, COUNT, "{cell}");
                        assert_eq!(runs, 2, "{cell}");
                    }
                    FailsOnce => {
                        assert_failed_with_the_trap(&result);
                        assert_eq!(runs, 1, "{cell}");
                    }
                }
            }
        }
    }
    host.shutdown();
}

/// A flow restarted past its intensity stays failed, and the root keeps
/// running: the next flow on the same host completes.
#[test]
fn escalation_leaves_the_flow_failed_and_the_host_serving() {
    let host = host(1);
    let (result, runs) = run(
        &host,
        RunOutcome::AlwaysFails,
        restart(FlowRestartPolicy::OnFailure, 2),
    );
    assert_failed_with_the_trap(&result);
    assert_eq!(runs, 3, "1 run + 2 restarts");
    let next = host
        .start_flow(FlowSpec::new(source_pass_sink(COUNT)))
        .expect("the host still starts flows");
    let report = host.await_completion(next).expect("and runs them");
    assert_eq!(report.elements_delivered, COUNT);
    host.shutdown();
}

/// A flow waiting out its restart backoff ends at once when cancelled,
/// with its last failure, and is not started again.
#[test]
fn cancelling_during_the_backoff_ends_the_flow_without_a_restart() {
    let host = host(1);
    let spec = flow(
        RunOutcome::AlwaysFails,
        FlowRestart {
            backoff: Duration::from_secs(600),
            ..restart(FlowRestartPolicy::OnFailure, 5)
        },
    );
    let id = host.start_flow(spec).expect("starts");
    // The first run fails; the inspection then shows it while the
    // FlowSupervisor waits.
    wait_until(&host, id, "the first run's failure", |i| {
        i.state == FlowState::Failed
    });
    host.cancel(id).expect("cancel");
    let result = host.await_completion(id);
    assert_failed_with_the_trap(&result);
    assert_eq!(host.inspect(id).expect("inspect").run, 1);
    host.shutdown();
}

/// An unset policy (`FlowRestart::default()`, what embedders get) never
/// restarts.
#[test]
fn an_unset_policy_does_not_restart() {
    let host = host(1);
    let (result, runs) = run(&host, RunOutcome::AlwaysFails, FlowRestart::default());
    assert_failed_with_the_trap(&result);
    assert_eq!(runs, 1);
    host.shutdown();
}
