//! `{{name}}`: a sink (`torvyn:streaming/sink`) that prints each element's
//! text payload on standard output.

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of another package (torvyn:streaming):
    // those are only generated with `generate_all`.
    generate_all,
});

use exports::torvyn::streaming::sink::Guest;
use torvyn::streaming::types::{BackpressureSignal, ProcessError, StreamElement};

struct Component;

impl Guest for Component {
    fn push(element: StreamElement) -> Result<BackpressureSignal, ProcessError> {
        let bytes = element.payload.read_all();
        let text = String::from_utf8(bytes)
            .map_err(|e| ProcessError::InvalidInput(format!("payload is not UTF-8: {e}")))?;
        println!("{text}");
        Ok(BackpressureSignal::Ready)
    }

    fn complete() -> Result<(), ProcessError> {
        Ok(())
    }
}

export!(Component);
