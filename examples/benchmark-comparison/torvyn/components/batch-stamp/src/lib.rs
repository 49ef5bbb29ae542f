//! `batch-stamp`: `stamp` with its batch form. Each element: read the
//! payload, append the element's 8-byte timestamp, emit a new buffer.
//! `process-batch` reads the whole batch with one `read-all-packed` call and
//! makes every output with one `freeze-packed` call.

// The generated bindings take `&mut` of their return area, as
// `wit_bindgen::generate!` output does.
#![allow(static_mut_refs)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

use exports::torvyn::batching::batch_processor::Guest as BatchGuest;
use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::processor::{Guest as ProcessorGuest, ProcessResult};
use torvyn::batching::batch_buffers;
use torvyn::streaming::types::{Buffer, OutputElement, ProcessError, StreamElement};

fn stamp_all(inputs: &[StreamElement]) -> Vec<Result<ProcessResult, ProcessError>> {
    let buffers: Vec<&Buffer> = inputs.iter().map(|i| i.payload).collect();
    let read = batch_buffers::read_all_packed(&buffers);
    // Each payload, then its 8-byte timestamp, end to end.
    let mut stamped = batch_buffers::PackedPayloads {
        bytes: Vec::with_capacity(read.bytes.len() + 8 * inputs.len()),
        ends: Vec::with_capacity(inputs.len()),
    };
    let mut start = 0;
    for (&end, input) in read.ends.iter().zip(inputs) {
        let end = end as usize;
        stamped
            .bytes
            .extend_from_slice(read.bytes.get(start..end).unwrap_or_default());
        stamped
            .bytes
            .extend_from_slice(&input.meta.timestamp_ns.to_le_bytes());
        stamped.ends.push(stamped.bytes.len() as u32);
        start = end;
    }
    match batch_buffers::freeze_packed(&stamped, "") {
        Ok(made) => inputs
            .iter()
            .zip(made)
            .map(|(input, payload)| {
                Ok(ProcessResult::Emit(OutputElement {
                    meta: input.meta.clone(),
                    payload,
                }))
            })
            .collect(),
        Err(e) => inputs
            .iter()
            .map(|_| Err(ProcessError::Unavailable(format!("allocate: {e:?}"))))
            .collect(),
    }
}

struct BatchStamp;

impl LifecycleGuest for BatchStamp {
    fn init(_config: String) -> Result<(), ProcessError> {
        Ok(())
    }

    fn teardown() {}
}

impl ProcessorGuest for BatchStamp {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        stamp_all(std::slice::from_ref(&input))
            .pop()
            .unwrap_or_else(|| Err(ProcessError::Internal("no result".into())))
    }
}

impl BatchGuest for BatchStamp {
    fn process_batch(inputs: Vec<StreamElement>) -> Vec<Result<ProcessResult, ProcessError>> {
        stamp_all(&inputs)
    }
}

export!(BatchStamp);
