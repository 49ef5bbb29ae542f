//! `{{name}}`: a source (`torvyn:streaming/source`) that produces numbered
//! greetings, then ends the stream.

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of other packages (torvyn:streaming,
    // torvyn:resources): those are only generated with `generate_all`.
    generate_all,
});

use exports::torvyn::streaming::source::Guest;
use std::cell::Cell;
use torvyn::resources::buffer_ops;
use torvyn::streaming::types::{BackpressureSignal, ElementMeta, OutputElement, ProcessError};

/// How many elements the source produces before it ends the stream.
const COUNT: u64 = 100;
const CONTENT_TYPE: &str = "text/plain";

thread_local! {
    /// Elements produced so far. One instance runs one call at a time.
    static PRODUCED: Cell<u64> = const { Cell::new(0) };
}

struct Component;

impl Guest for Component {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        let produced = PRODUCED.get();
        if produced >= COUNT {
            return Ok(None);
        }
        let text = format!("Hello, Torvyn! ({})", produced + 1);
        let buffer = buffer_ops::allocate(text.len() as u64)
            .map_err(|e| ProcessError::Unavailable(format!("allocate failed: {e:?}")))?;
        buffer
            .append(text.as_bytes())
            .map_err(|e| ProcessError::Internal(format!("append failed: {e:?}")))?;
        buffer.set_content_type(CONTENT_TYPE);
        PRODUCED.set(produced + 1);
        Ok(Some(OutputElement {
            meta: ElementMeta {
                // The runtime assigns the sequence and timestamp.
                sequence: produced,
                timestamp_ns: 0,
                content_type: CONTENT_TYPE.to_string(),
            },
            payload: buffer.freeze(),
        }))
    }

    fn notify_backpressure(_signal: BackpressureSignal) {}
}

export!(Component);
