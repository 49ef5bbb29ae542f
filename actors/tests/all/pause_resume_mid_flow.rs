use crate::common::*;
use std::time::Duration;
use torvyn_actors::FlowState;

/// Pause sent mid-flow takes effect between two batches, long before the
/// flow could complete; nothing moves while suspended; resume continues to
/// exactly the full count.
#[test]
fn pause_takes_effect_mid_flow_and_resume_finishes_it() {
    const COUNT: u64 = 200_000;
    let host = host(1);
    let id = host
        .start_flow(spec("pausable", source_pass_sink(COUNT)))
        .expect("starts");
    wait_delivered(&host, id, 100);

    assert_eq!(host.pause(id).expect("pauses"), FlowState::Suspended);
    let paused = host.inspect(id).expect("inspect");
    assert_eq!(paused.state, FlowState::Suspended);
    let at_pause = paused.report.as_ref().expect("report").elements_delivered;
    assert!(at_pause < COUNT, "pause came after completion");

    std::thread::sleep(Duration::from_millis(50));
    let still = host.inspect(id).expect("inspect");
    assert_eq!(
        still.report.as_ref().expect("report").elements_delivered,
        at_pause
    );
    assert_eq!(host.pause(id).expect("idempotent"), FlowState::Suspended);

    assert_eq!(host.resume(id).expect("resumes"), FlowState::Running);
    let report = host.await_completion(id).expect("completes");
    assert_eq!(report.elements_delivered, COUNT);
    host.shutdown();
}

/// Drain is a graceful stop: an endless flow stops pulling, everything
/// pulled is delivered (pulled == delivered, nothing dropped or leaked),
/// the sink completes, and the flow ends `Completed`, not failed.
#[test]
fn drain_stops_an_endless_flow_without_losing_an_element() {
    let host = host(1);
    let id = host
        .start_flow(spec("drained", source_pass_sink(0)))
        .expect("starts");
    wait_delivered(&host, id, 100);
    assert_eq!(host.drain(id).expect("drains"), FlowState::Draining);
    let report = host.await_completion(id).expect("completes");
    assert!(report.elements_pulled >= 100);
    assert_eq!(report.elements_delivered, report.elements_pulled);
    assert_eq!(report.elements_dropped, 0);
    assert_eq!(report.leaked_buffers, 0);
    assert_eq!(
        host.inspect(id).expect("inspect").state,
        FlowState::Completed
    );
    assert!(host
        .resource_stats()
        .expect("stats")
        .leaking_flows
        .is_empty());
    host.shutdown();
}

/// A suspended flow can be drained too: it resumes only to drain.
#[test]
fn a_suspended_flow_drains_to_completion() {
    let host = host(1);
    let id = host
        .start_flow(spec("drained-suspended", source_pass_sink(0)))
        .expect("starts");
    wait_delivered(&host, id, 50);
    host.pause(id).expect("pauses");
    host.drain(id).expect("drains");
    let report = host.await_completion(id).expect("completes");
    assert_eq!(report.elements_delivered, report.elements_pulled);
    host.shutdown();
}
