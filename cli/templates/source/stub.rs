//! `{{name}}`: a source (`torvyn:streaming/source`). Implement `pull`:
//! return `Some(element)` for each element and `None` to end the stream.

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of other packages: `generate_all`.
    generate_all,
});

use exports::torvyn::streaming::source::Guest;
use torvyn::streaming::types::{BackpressureSignal, OutputElement, ProcessError};

struct Component;

impl Guest for Component {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        Ok(None)
    }

    fn notify_backpressure(_signal: BackpressureSignal) {}
}

export!(Component);
