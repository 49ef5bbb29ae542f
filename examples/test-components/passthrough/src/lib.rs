//! `passthrough`: a managed transform (`torvyn:streaming/managed-transform`)
//! that copies every payload into a fresh buffer.
//!
//! For each element it reads the whole input (`read-all`, one measured
//! copy), allocates a new buffer, appends the same bytes (a second copy),
//! sets the input's content type, freezes, and emits with the input's meta.
//! Config is accepted and ignored.

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

struct Passthrough;

/// Emit `bytes` in a new host buffer, carrying over `input`'s metadata.
fn emit_bytes(input: &StreamElement, bytes: &[u8]) -> Result<ProcessResult, ProcessError> {
    let buffer = buffer_allocator::allocate(bytes.len() as u64)
        .map_err(|e| ProcessError::Unavailable(format!("passthrough: allocate failed: {e:?}")))?;
    buffer
        .append(bytes)
        .map_err(|e| ProcessError::Internal(format!("passthrough: append failed: {e:?}")))?;
    buffer.set_content_type(&input.meta.content_type);
    Ok(ProcessResult::Emit(OutputElement {
        meta: input.meta.clone(),
        payload: buffer.freeze(),
    }))
}

impl LifecycleGuest for Passthrough {
    fn init(_config: String) -> Result<(), ProcessError> {
        Ok(())
    }

    fn teardown() {}
}

impl ProcessorGuest for Passthrough {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let bytes = input.payload.read_all();
        emit_bytes(&input, &bytes)
    }
}

export!(Passthrough);
