use crate::common::*;
use torvyn_actors::FlowState;

/// inspect reports Running while elements move, Suspended after a pause,
/// and Completed (with the final report) after the end.
#[test]
fn inspect_shows_running_suspended_completed() {
    let host = host(1);
    let id = host
        .start_flow(spec("inspected", source_pass_sink(50_000)))
        .expect("starts");
    let running = wait_until(&host, id, "Running with deliveries", |i| {
        i.state == FlowState::Running && i.counters.elements_delivered > 0
    });
    assert!(running.report.is_some());
    let depths = running.queue_depths.expect("per-stream queue depths");
    assert_eq!(
        depths.len(),
        2,
        "one depth per stream of source → passthrough → sink"
    );
    assert!(depths.iter().all(|&d| d <= 64), "{depths:?}");

    host.pause(id).expect("pauses");
    assert_eq!(
        host.inspect(id).expect("inspect").state,
        FlowState::Suspended
    );

    host.resume(id).expect("resumes");
    let report = host.await_completion(id).expect("completes");
    let done = host.inspect(id).expect("inspect");
    assert_eq!(done.state, FlowState::Completed);
    assert_eq!(done.counters.elements_delivered, 50_000);
    assert_eq!(done.report.expect("final report"), report);
    host.shutdown();
}
