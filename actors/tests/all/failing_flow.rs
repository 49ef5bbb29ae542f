use crate::common::*;
use torvyn_actors::{FlowSpec, FlowState, HostError};
use torvyn_runtime::error::{Coded, ErrorCode};
use torvyn_runtime::reactor::{FlowSettings, LinearFlow, StageRole};

/// A trapping component (no restart allowed) fails its flow with the same error code as the bare
/// stage loop, located at the trapping node; the host stays up and runs the
/// next flow.
#[test]
fn a_trap_fails_the_flow_and_the_host_runs_the_next_one() {
    let trapping = || {
        vec![
            stage(
                "source",
                "counter-source",
                StageRole::Source,
                r#"{"count": 100}"#,
            ),
            stage(
                "trap",
                "trap-processor",
                StageRole::Processor,
                r#"{"at": 5}"#,
            ),
            stage("sink", "quiet-sink", StageRole::Sink, ""),
        ]
    };
    // No restart allowed: the first trap fails the flow.
    let no_restart = || {
        let mut settings = FlowSettings::default();
        settings.supervision.intensity.max_restarts = 0;
        settings
    };
    let expected = LinearFlow::start(engine(), trapping(), no_restart())
        .expect("starts")
        .run_to_completion()
        .expect_err("traps");

    let host = host(2);
    let id = host
        .start_flow(FlowSpec::new(trapping()).with_settings(FlowSettings {
            flow_name: "trapping".into(),
            ..no_restart()
        }))
        .expect("starts");
    let error = host.await_completion(id).expect_err("fails");
    assert_eq!(error.code(), expected.code());
    assert_ne!(error.code(), ErrorCode::FlowCancelled);
    let HostError::Flow {
        diagnostic, report, ..
    } = &error
    else {
        panic!("not a flow failure: {error:?}");
    };
    assert!(diagnostic
        .location
        .as_deref()
        .unwrap_or("")
        .contains("trap"));
    assert_eq!(report.as_ref().expect("report").elements_delivered, 5);
    assert_eq!(host.inspect(id).expect("inspect").state, FlowState::Failed);

    let next = host
        .start_flow(spec("next", source_pass_sink(100)))
        .expect("starts");
    assert_eq!(
        host.await_completion(next)
            .expect("completes")
            .elements_delivered,
        100
    );

    // A flow that cannot even be validated fails the same way, with E0203.
    let bad = host
        .start_flow(spec(
            "bad",
            vec![stage("sink", "quiet-sink", StageRole::Sink, "")],
        ))
        .expect("accepted");
    let error = host.await_completion(bad).expect_err("invalid");
    assert_eq!(error.code(), ErrorCode::TopologyInvalid);
    host.shutdown();
}
