//! `{{name}}`: an aggregator (`torvyn:aggregation/aggregator`) that counts
//! elements and their bytes, emitting a summary every `EVERY` elements and
//! one for the rest when the stream ends.

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of other packages (torvyn:aggregation,
    // torvyn:streaming, torvyn:resources): `generate_all` generates them.
    generate_all,
});

use exports::torvyn::aggregation::aggregator::Guest;
use std::cell::Cell;
use torvyn::resources::buffer_ops;
use torvyn::streaming::types::{ElementMeta, OutputElement, ProcessError, StreamElement};

/// Elements per summary.
const EVERY: u64 = 5;
const CONTENT_TYPE: &str = "text/plain";

thread_local! {
    /// (elements, bytes) since the last summary.
    static WINDOW: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    /// Summaries emitted so far.
    static EMITTED: Cell<u64> = const { Cell::new(0) };
}

/// The summary of the current window as a new host buffer; resets it.
fn summary() -> Result<OutputElement, ProcessError> {
    let (count, bytes) = WINDOW.replace((0, 0));
    let text = format!("{count} elements, {bytes} bytes");
    let buffer = buffer_ops::allocate(text.len() as u64)
        .map_err(|e| ProcessError::Unavailable(format!("allocate failed: {e:?}")))?;
    buffer
        .append(text.as_bytes())
        .map_err(|e| ProcessError::Internal(format!("append failed: {e:?}")))?;
    buffer.set_content_type(CONTENT_TYPE);
    let sequence = EMITTED.get();
    EMITTED.set(sequence + 1);
    Ok(OutputElement {
        meta: ElementMeta {
            sequence,
            timestamp_ns: 0,
            content_type: CONTENT_TYPE.to_string(),
        },
        payload: buffer.freeze(),
    })
}

struct Component;

impl Guest for Component {
    fn ingest(element: StreamElement) -> Result<Option<OutputElement>, ProcessError> {
        let (count, bytes) = WINDOW.get();
        WINDOW.set((count + 1, bytes + element.payload.size()));
        if count + 1 == EVERY {
            summary().map(Some)
        } else {
            Ok(None)
        }
    }

    fn flush() -> Result<Vec<OutputElement>, ProcessError> {
        if WINDOW.get().0 == 0 {
            Ok(Vec::new())
        } else {
            summary().map(|element| vec![element])
        }
    }
}

export!(Component);
