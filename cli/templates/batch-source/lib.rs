//! `{{name}}`: a source with its batch form. It produces numbered
//! greetings, then ends the stream.
//!
//! The runtime calls `pull-batch` (`torvyn:batching/batch-source`) to take
//! up to `max` elements in one call, and `pull`
//! (`torvyn:streaming/source`) when it wants one. Both must produce the
//! same elements. `pull-batch` makes every buffer of the batch with one
//! `freeze-batch` host call (`torvyn:batching/batch-buffers`), where
//! `pull` needs four calls per element.

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of other packages (torvyn:streaming,
    // torvyn:resources, torvyn:batching): those are only generated with
    // `generate_all`.
    generate_all,
});

use exports::torvyn::batching::batch_source::Guest as BatchGuest;
use exports::torvyn::streaming::source::Guest;
use std::cell::Cell;
use torvyn::batching::batch_buffers;
use torvyn::resources::buffer_ops;
use torvyn::streaming::types::{
    BackpressureSignal, Buffer, ElementMeta, OutputElement, ProcessError,
};

/// How many elements the source produces before it ends the stream.
const COUNT: u64 = 100;
const CONTENT_TYPE: &str = "text/plain";

thread_local! {
    /// Elements produced so far. One instance runs one call at a time.
    static PRODUCED: Cell<u64> = const { Cell::new(0) };
}

/// The payload of element `index` (0-based).
fn greeting(index: u64) -> Vec<u8> {
    format!("Hello, Torvyn! ({})", index + 1).into_bytes()
}

fn element(index: u64, payload: Buffer) -> OutputElement {
    OutputElement {
        meta: ElementMeta {
            // The runtime assigns the sequence and timestamp.
            sequence: index,
            timestamp_ns: 0,
            content_type: CONTENT_TYPE.to_string(),
        },
        payload,
    }
}

struct Component;

impl Guest for Component {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        let produced = PRODUCED.get();
        if produced >= COUNT {
            return Ok(None);
        }
        let bytes = greeting(produced);
        let buffer = buffer_ops::allocate(bytes.len() as u64)
            .map_err(|e| ProcessError::Unavailable(format!("allocate failed: {e:?}")))?;
        buffer
            .append(&bytes)
            .map_err(|e| ProcessError::Internal(format!("append failed: {e:?}")))?;
        buffer.set_content_type(CONTENT_TYPE);
        PRODUCED.set(produced + 1);
        Ok(Some(element(produced, buffer.freeze())))
    }

    fn notify_backpressure(_signal: BackpressureSignal) {}
}

impl BatchGuest for Component {
    /// Up to `max` elements; none once the stream has ended.
    fn pull_batch(max: u32) -> Result<Vec<OutputElement>, ProcessError> {
        let produced = PRODUCED.get();
        let count = COUNT.saturating_sub(produced).min(u64::from(max));
        let payloads: Vec<Vec<u8>> = (produced..produced + count).map(greeting).collect();
        // One host call for the whole batch. `freeze-packed` takes the
        // payloads end to end in one list instead (one allocation per
        // batch, not per payload): faster for small payloads.
        let buffers = batch_buffers::freeze_batch(&payloads, CONTENT_TYPE)
            .map_err(|e| ProcessError::Unavailable(format!("allocate failed: {e:?}")))?;
        PRODUCED.set(produced + count);
        Ok((produced..)
            .zip(buffers)
            .map(|(index, payload)| element(index, payload))
            .collect())
    }
}

export!(Component);
