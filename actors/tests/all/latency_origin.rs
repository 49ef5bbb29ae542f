//! End-to-end latency runs from source entry to sink exit (the spec's
//! `flow.latency`): an element's timestamp is when its pull began. At
//! `production` a delivery's clock reading stands for the next pull's
//! start when no guest ran in between; a flow that waited (paused between
//! batches) reads the clock afresh, so the wait is no element's latency.

use crate::common::*;
use std::time::Duration;
use torvyn_actors::FlowSpec;
use torvyn_runtime::config::ObservabilityLevel;
use torvyn_runtime::reactor::trace::{StageOp, StageOutcome};
use torvyn_runtime::reactor::{FlowSettings, TraceSettings};

#[test]
fn an_elements_timestamp_is_its_pull_start_and_its_latency_spans_every_call() {
    const COUNT: u64 = 50;
    let (host, records) = collecting_host(ObservabilityLevel::Diagnostic);
    let id = host
        .start_flow(spec("latency-origin", source_pass_sink(COUNT)))
        .expect("starts");
    host.await_completion(id).expect("completes");
    host.shutdown();
    let records = records.lock().expect("records");
    let pulls: Vec<_> = records
        .iter()
        .filter(|r| r.op == StageOp::Pull && r.outcome == StageOutcome::Emitted)
        .collect();
    assert_eq!(pulls.len() as u64, COUNT, "{records:#?}");
    for pull in pulls {
        assert_eq!(pull.start_unix_ns, pull.element_timestamp_ns, "{pull:?}");
        let calls: Vec<_> = records
            .iter()
            .filter(|r| r.sequence == pull.sequence)
            .collect();
        assert_eq!(calls.len(), 3, "{calls:#?}");
        let push = calls
            .iter()
            .find(|r| r.outcome == StageOutcome::Delivered)
            .expect("delivered");
        let latency = push.start_unix_ns + push.duration_ns - pull.element_timestamp_ns;
        let busy: u64 = calls.iter().map(|r| r.duration_ns).sum();
        assert!(latency >= busy, "latency {latency} ns < calls {busy} ns");
    }
}

#[test]
fn a_pause_between_batches_is_no_elements_latency() {
    // An element slower than 200 ms is promoted and exported (a margin
    // for a busy machine); none is sampled otherwise. The pause lasts 1 s.
    let (host, records) = collecting_host(ObservabilityLevel::Production);
    let settings = FlowSettings {
        flow_name: "paused-latency".into(),
        trace: TraceSettings {
            sample_rate: 0.0,
            latency_promote_ns: 200_000_000,
            ..TraceSettings::default()
        },
        ..FlowSettings::default()
    };
    let id = host
        .start_flow(FlowSpec::new(source_pass_sink(0)).with_settings(settings))
        .expect("starts");
    wait_delivered(&host, id, 100);
    host.pause(id).expect("pauses");
    let at_pause = host
        .inspect(id)
        .expect("inspect")
        .counters
        .elements_delivered;
    std::thread::sleep(Duration::from_secs(1));
    host.resume(id).expect("resumes");
    wait_delivered(&host, id, at_pause + 100);
    host.drain(id).expect("drains");
    let report = host.await_completion(id).expect("completes");
    assert!(report.elements_delivered > at_pause);
    host.shutdown();
    let records = records.lock().expect("records");
    assert!(
        records.is_empty(),
        "elements promoted for latency: {records:#?}"
    );
}
