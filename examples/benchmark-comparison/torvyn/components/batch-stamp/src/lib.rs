//! `batch-stamp`: `stamp` with its batch form. Each element: read the
//! payload, append the element's 8-byte timestamp, emit a new buffer.
//! `process-batch` reads the whole batch with one `read-all-batch` call and
//! makes every output with one `freeze-batch` call.

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
    let mut payloads = batch_buffers::read_all_batch(&buffers);
    for (payload, input) in payloads.iter_mut().zip(inputs) {
        payload.extend_from_slice(&input.meta.timestamp_ns.to_le_bytes());
    }
    match batch_buffers::freeze_batch(&payloads, "") {
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
