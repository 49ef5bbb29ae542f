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

/// A subscriber hears the stage loop's backpressure episodes too: a sink
/// that pauses after every element fills a 2-deep queue, which holds the
/// source (triggered) until the sink drains it (relieved).
#[test]
fn subscribers_hear_backpressure_episodes() {
    use torvyn_runtime::reactor::{StageRole, StreamSettings};
    let host = host(1);
    let stages = vec![
        stage(
            "source",
            "counter-source",
            StageRole::Source,
            r#"{"count": 200}"#,
        ),
        stage(
            "sink",
            "slow-sink",
            StageRole::Sink,
            r#"{"pause_every": 1}"#,
        ),
    ];
    let streams = StreamSettings {
        capacity: 2,
        ..StreamSettings::default()
    };
    let id = host
        .start_flow(torvyn_actors::FlowSpec::chain(stages, streams).suspended())
        .expect("starts");
    let events = host.subscribe(id).expect("subscribes");
    // Read as they come: a subscriber that falls behind misses events
    // (counted), it does not slow the flow.
    let reader = std::thread::spawn(move || events.into_iter().collect::<Vec<_>>());
    wait_until(&host, id, "Suspended", |i| i.state == Suspended);
    host.resume(id).expect("resumes");
    let report = host.await_completion(id).expect("completes");
    assert_eq!(report.elements_delivered, 200);
    let events = reader.join().expect("the reader");
    let (mut triggered, mut relieved) = (0, 0);
    for event in events {
        match event.kind {
            FlowEventKind::BackpressureTriggered { queue, depth } => {
                assert_eq!((queue, depth), (0, 2));
                triggered += 1;
            }
            FlowEventKind::BackpressureRelieved { queue, .. } => {
                assert_eq!(queue, 0);
                relieved += 1;
            }
            _ => {}
        }
    }
    assert!(triggered > 0, "no backpressure event");
    // The last episode may end with the flow rather than with a relief.
    assert!(
        relieved + 1 >= triggered && relieved <= triggered,
        "{triggered} triggered, {relieved} relieved"
    );
    assert_eq!(report.streams[0].backpressure_events, triggered);
    assert_eq!(report.events_dropped, 0);
    host.shutdown();
}
