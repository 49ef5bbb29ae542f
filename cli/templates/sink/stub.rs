//! `{{name}}`: a sink (`torvyn:streaming/sink`). Implement `push` (one
//! call per element) and `complete` (the stream ended).

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of another package: `generate_all`.
    generate_all,
});

use exports::torvyn::streaming::sink::Guest;
use torvyn::streaming::types::{BackpressureSignal, ProcessError, StreamElement};

struct Component;

impl Guest for Component {
    fn push(_element: StreamElement) -> Result<BackpressureSignal, ProcessError> {
        Ok(BackpressureSignal::Ready)
    }

    fn complete() -> Result<(), ProcessError> {
        Ok(())
    }
}

export!(Component);
