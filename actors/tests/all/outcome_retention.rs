//! A long-lived host remembers the outcome of its most recent finished
//! flows only: awaiting one of those still answers, an older one is an
//! unknown flow, and live flows are never forgotten.

use crate::common::*;
use torvyn_actors::{HostError, TorvynHost};

#[test]
fn only_the_most_recent_finished_outcomes_are_kept() {
    let host = TorvynHost::builder()
        .engine(engine().clone())
        .worker_threads(1)
        .finished_outcomes_retained(3)
        .build()
        .expect("host");
    // A flow that stays live while the others come and go.
    let live = host
        .start_flow(spec("endless", source_pass_sink(0)))
        .expect("starts");
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = host
            .start_flow(spec(&format!("f{i}"), source_pass_sink(3)))
            .expect("starts");
        assert_eq!(
            host.await_completion(id)
                .expect("completes")
                .elements_delivered,
            3
        );
        ids.push(id);
    }
    for old in &ids[..2] {
        match host.await_completion(*old) {
            Err(HostError::UnknownFlow(id)) => assert_eq!(id, *old),
            other => panic!("{old}: expected UnknownFlow, got {other:?}"),
        }
    }
    for recent in &ids[2..] {
        let report = host.await_completion(*recent).expect("still known");
        assert_eq!(report.elements_delivered, 3);
        assert!(host.inspect(*recent).is_ok());
    }
    assert!(host.inspect(live).is_ok(), "a live flow is never forgotten");
    host.cancel(live).expect("cancels");
    host.shutdown();
}
