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
