//! `stamp`: the processor of the comparison. It reads the message
//! (`read-all`, one copy), appends the element's 8-byte timestamp
//! (little-endian ns, assigned by the runtime when the source produced
//! it), and writes the result into a new buffer (one copy).

wit_bindgen::generate!({
    world: "torvyn:streaming/managed-transform",
    path: [
        "../../../../../wit/streaming",
        "../../../../../wit/resources",
        "../../../../../wit/filtering",
        "../../../../../wit/aggregation",
    ],
});

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::processor::{Guest as ProcessorGuest, ProcessResult};
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, StreamElement};

struct Stamp;

impl LifecycleGuest for Stamp {
    fn init(_config: String) -> Result<(), ProcessError> {
        Ok(())
    }

    fn teardown() {}
}

impl ProcessorGuest for Stamp {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let mut bytes = input.payload.read_all();
        bytes.extend_from_slice(&input.meta.timestamp_ns.to_le_bytes());
        let buffer = buffer_allocator::allocate(bytes.len() as u64)
            .map_err(|e| ProcessError::Unavailable(format!("allocate: {e:?}")))?;
        buffer
            .append(&bytes)
            .map_err(|e| ProcessError::Internal(format!("append: {e:?}")))?;
        Ok(ProcessResult::Emit(OutputElement {
            meta: input.meta.clone(),
            payload: buffer.freeze(),
        }))
    }
}

export!(Stamp);
