use crate::common::*;
use torvyn_actors::{FlowEventKind, FlowState::*};

/// A subscriber receives every lifecycle transition of the flow, in order
/// (including pause and resume), and its receiver closes after the
/// terminal one.
#[test]
fn subscribe_receives_lifecycle_transitions_in_order() {
    let host = host(2);
    let id = host
        .start_flow(spec("watched", source_pass_sink(2000)).suspended())
        .expect("starts");
    let events = host.subscribe(id).expect("subscribes");
    wait_until(&host, id, "Suspended", |i| i.state == Suspended);
    host.resume(id).expect("resumes");
    host.await_completion(id).expect("completes");

    let transitions: Vec<_> = events
        .into_iter()
        .map(|e| match e.kind {
            FlowEventKind::StateChanged { from, to } => (from, to),
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    assert_eq!(
        transitions,
        [
            (Created, Validated),
            (Validated, Instantiated),
            (Instantiated, Running),
            (Running, Suspended),
            (Suspended, Running),
            (Running, Draining),
            (Draining, Completed),
        ]
    );
    assert_eq!(host.dropped_events().expect("dropped"), (0, 0));
    host.shutdown();
}
