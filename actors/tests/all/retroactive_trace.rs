//! Retroactive export at the `production` level: an element none of whose
//! calls was sampled is exported with the calls that led to it once one
//! of its calls fails — on a chain (the calls rebuilt from the unique
//! path) and on a flow with a dead-letter stream (the calls kept in the
//! ring).

use crate::common::*;
use std::sync::Mutex;
use torvyn_actors::{FlowSpec, TorvynHandle};
use torvyn_runtime::config::ObservabilityLevel;
use torvyn_runtime::reactor::supervision::{
    ErrorPolicy, Fault, FaultKind, InjectedError, NodeSupervision, RestartType,
};
use torvyn_runtime::reactor::trace::{StageOp, StageOutcome, StageRecord};
use torvyn_runtime::reactor::{FlowSettings, TraceSettings};

const COUNT: u64 = 40;
/// The pass-through's call that fails.
const FAIL_AT: u64 = 25;

/// No element sampled, no latency promotion: only a failure exports.
fn settings(on_error: ErrorPolicy) -> FlowSettings {
    FlowSettings {
        flow_name: "retroactive".into(),
        trace: TraceSettings {
            sample_rate: 0.0,
            latency_promote_ns: 0,
            ..TraceSettings::default()
        },
        node_supervision: vec![(
            "pass".into(),
            NodeSupervision {
                restart: RestartType::Permanent,
                on_error,
                dead_letter_file: None,
            },
        )],
        faults: vec![Fault {
            node: "pass".into(),
            at: FAIL_AT,
            kind: FaultKind::Error(InjectedError::InvalidInput),
        }],
        ..FlowSettings::default()
    }
}

/// Runs `spec` to completion; the stage records exported for it.
fn exported(
    host: &TorvynHandle,
    records: &Mutex<Vec<StageRecord>>,
    spec: FlowSpec,
) -> Vec<StageRecord> {
    let id = host.start_flow(spec).expect("starts");
    host.await_completion(id).expect("completes");
    host.shutdown();
    let records = records.lock().expect("records");
    records.clone()
}

fn calls(records: &[StageRecord]) -> Vec<(u32, StageOp, StageOutcome)> {
    records.iter().map(|r| (r.node, r.op, r.outcome)).collect()
}

#[test]
fn a_failure_on_a_chain_is_exported_with_its_rebuilt_upstream_call() {
    let (host, records) = collecting_host(ObservabilityLevel::Production);
    let mut settings = settings(ErrorPolicy::Skip);
    // No ring at all: the upstream call can only be rebuilt.
    settings.trace.ring_capacity = 0;
    let spec = FlowSpec::new(source_pass_sink(COUNT)).with_settings(settings);
    let records = exported(&host, &records, spec);
    assert_eq!(
        calls(&records),
        vec![
            (0, StageOp::Pull, StageOutcome::Emitted),
            (1, StageOp::Process, StageOutcome::Failed),
        ],
        "{records:#?}"
    );
    let sequence = records[0].sequence;
    assert!(records.iter().all(|r| r.sequence == sequence));
    assert!(records
        .iter()
        .all(|r| r.element_timestamp_ns == records[0].element_timestamp_ns));
}

#[test]
fn a_failure_next_to_a_dead_letter_stream_is_exported_from_the_ring() {
    let (host, records) = collecting_host(ObservabilityLevel::Production);
    let graph = dead_letter_graph(COUNT);
    let spec = FlowSpec::graph(graph).with_settings(settings(ErrorPolicy::DeadLetter));
    let records = exported(&host, &records, spec);
    let failed = records
        .iter()
        .position(|r| r.outcome == StageOutcome::Failed)
        .expect("the failed call is exported");
    let sequence = records[failed].sequence;
    assert_eq!(
        calls(&records[..=failed]),
        vec![
            (0, StageOp::Pull, StageOutcome::Emitted),
            (1, StageOp::Process, StageOutcome::Failed),
        ],
        "{records:#?}"
    );
    // Its later calls (the dead-letter sink's) are exported in detail.
    assert!(
        records.iter().all(|r| r.sequence == sequence),
        "{records:#?}"
    );
    assert!(
        records[failed + 1..]
            .iter()
            .all(|r| r.node == 3 && r.detailed),
        "{records:#?}"
    );
}
