use crate::common::*;
use torvyn_actors::FlowState;
use torvyn_runtime::error::{Coded, ErrorCode};

/// Cancelling an endless flow stops it with E0402; cancel is idempotent and
/// the flow's outcome stays Failed/E0402.
#[test]
fn cancel_stops_an_endless_flow_with_e0402() {
    let host = host(2);
    let id = host
        .start_flow(spec("endless", source_pass_sink(0)))
        .expect("starts");
    wait_delivered(&host, id, 50);

    host.cancel(id).expect("cancels");
    let error = host.await_completion(id).expect_err("cancelled");
    assert_eq!(error.code(), ErrorCode::FlowCancelled);
    host.cancel(id).expect("cancel is idempotent");

    let inspection = host.inspect(id).expect("inspect");
    assert_eq!(inspection.state, FlowState::Failed);
    assert_eq!(
        inspection.failure.map(|d| d.code),
        Some(ErrorCode::FlowCancelled)
    );
    assert!(inspection.counters.elements_delivered >= 50);
    // Its in-flight buffers were dropped with it: not a leak.
    assert!(host
        .resource_stats()
        .expect("stats")
        .leaking_flows
        .is_empty());
    host.shutdown();
}

/// Tiered cancellation: a guest stuck in an endless call (no fuel, no
/// per-call deadline) cannot reach the next batch boundary, so after the
/// grace period the cancel interrupts the call through the epoch; the flow
/// ends cancelled (E0402) — no restart — and the host stays up.
#[test]
fn cancel_interrupts_a_guest_stuck_in_a_call() {
    use torvyn_actors::{CancelBounds, FlowSpec, TorvynHost};
    use torvyn_runtime::engine::{EngineConfig, WasmEngine};
    use torvyn_runtime::reactor::{FlowSettings, StageRole};

    let engine = WasmEngine::new(EngineConfig {
        fuel_per_invocation: 0,
        max_invocation_time_ms: 0,
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("engine");
    let stage = |name: &str, component: &str, role, config: &str| {
        torvyn_e2e::test_stage(&engine, name, component, role, config)
    };
    let host = TorvynHost::builder()
        .engine(engine.clone())
        .worker_threads(1)
        .cancel_bounds(CancelBounds {
            grace: std::time::Duration::from_millis(50),
            interrupt_timeout: std::time::Duration::from_secs(5),
        })
        .build()
        .expect("host");
    let id = host
        .start_flow(
            FlowSpec::new(vec![
                stage(
                    "source",
                    "counter-source",
                    StageRole::Source,
                    r#"{"count": 0}"#,
                ),
                stage(
                    "stuck",
                    "infinite-loop",
                    StageRole::Processor,
                    r#"{"at": 3}"#,
                ),
                stage("sink", "quiet-sink", StageRole::Sink, ""),
            ])
            .with_settings(FlowSettings {
                flow_name: "stuck".into(),
                ..FlowSettings::default()
            }),
        )
        .expect("starts");
    // Let it get stuck in the endless call.
    std::thread::sleep(std::time::Duration::from_millis(100));
    host.cancel(id).expect("cancels");
    let error = host.await_completion(id).expect_err("cancelled");
    assert_eq!(error.code(), ErrorCode::FlowCancelled, "{error}");
    let report = host.inspect(id).expect("inspect").report.expect("report");
    assert_eq!(
        report.stages[1].restarts, 0,
        "an interrupt is not a failure"
    );
    // The host still runs flows.
    let next = host
        .start_flow(FlowSpec::new(vec![
            stage(
                "source",
                "counter-source",
                StageRole::Source,
                r#"{"count": 10}"#,
            ),
            stage("sink", "quiet-sink", StageRole::Sink, ""),
        ]))
        .expect("starts");
    assert_eq!(
        host.await_completion(next)
            .expect("runs")
            .elements_delivered,
        10
    );
    host.shutdown();
}
