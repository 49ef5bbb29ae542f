//! `context-sink`: a managed sink that prints, for each element, what its
//! `flow-context` says, one line each (tests rely on it):
//!
//! ```text
//! [context-sink] seq=N flow_id=ID deadline_ns=D
//! ```
//!
//! `deadline_ns` is the time left before the flow's deadline (0: none).

wit_bindgen::generate!({
    world: "torvyn:streaming/managed-sink",
    path: [
        "../../../wit/streaming",
        "../../../wit/resources",
        "../../../wit/filtering",
        "../../../wit/aggregation",
    ],
});

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::sink::Guest as SinkGuest;
use torvyn::streaming::types::{BackpressureSignal, ProcessError, StreamElement};

struct ContextSink;

impl LifecycleGuest for ContextSink {
    fn init(_config: String) -> Result<(), ProcessError> {
        Ok(())
    }

    fn teardown() {}
}

impl SinkGuest for ContextSink {
    fn push(element: StreamElement) -> Result<BackpressureSignal, ProcessError> {
        println!(
            "[context-sink] seq={} flow_id={} deadline_ns={}",
            element.meta.sequence,
            element.context.flow_id(),
            element.context.deadline_ns()
        );
        Ok(BackpressureSignal::Ready)
    }

    fn complete() -> Result<(), ProcessError> {
        Ok(())
    }
}

export!(ContextSink);
