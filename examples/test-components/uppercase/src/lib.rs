//! `uppercase`: a managed transform (`torvyn:streaming/managed-transform`)
//! that uppercases ASCII payloads.
//!
//! Reads the whole input, maps ASCII `a..=z` to `A..=Z` (all other bytes
//! unchanged, so non-ASCII input passes through byte-for-byte), writes the
//! result to a new buffer and emits it with the input's meta. Config is
//! accepted and ignored.

wit_bindgen::generate!({
    world: "torvyn:streaming/managed-transform",
    path: [
        "../../../wit/streaming",
        "../../../wit/resources",
        "../../../wit/filtering",
        "../../../wit/aggregation",
    ],
});

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::processor::{Guest as ProcessorGuest, ProcessResult};
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, StreamElement};

struct Uppercase;

impl LifecycleGuest for Uppercase {
    fn init(_config: String) -> Result<(), ProcessError> {
        Ok(())
    }

    fn teardown() {}
}

impl ProcessorGuest for Uppercase {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let mut bytes = input.payload.read_all();
        bytes.make_ascii_uppercase();
        let buffer = buffer_allocator::allocate(bytes.len() as u64)
            .map_err(|e| ProcessError::Unavailable(format!("uppercase: allocate failed: {e:?}")))?;
        buffer
            .append(&bytes)
            .map_err(|e| ProcessError::Internal(format!("uppercase: append failed: {e:?}")))?;
        buffer.set_content_type(&input.meta.content_type);
        Ok(ProcessResult::Emit(OutputElement {
            meta: input.meta.clone(),
            payload: buffer.freeze(),
        }))
    }
}

export!(Uppercase);
