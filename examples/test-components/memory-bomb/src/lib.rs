//! `memory-bomb`: a hostile managed transform
//! (`torvyn:streaming/managed-transform`) whose `process()` grows linear
//! memory without bound.
//!
//! Config: `{"at": K}` (default 0). Elements with `meta.sequence < K` are
//! copied through like `passthrough`; from sequence `K` on, `process()` keeps
//! allocating (and writing) 1 MiB chunks and holding on to them. When the
//! host refuses to grow memory, the allocator fails and the guest aborts
//! (`unreachable` trap), unless the host traps on the failed grow first.

wit_bindgen::generate!({
    world: "torvyn:streaming/managed-transform",
    path: [
        "../../../wit/streaming",
        "../../../wit/resources",
        "../../../wit/filtering",
        "../../../wit/aggregation",
    ],
});

use std::hint::black_box;

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::processor::{Guest as ProcessorGuest, ProcessResult};
use guest_util::{Config, Global};
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, StreamElement};

#[derive(Default)]
struct MemoryBomb {
    /// First element (by `meta.sequence`) that misbehaves.
    at: u64,
}

static STATE: Global<MemoryBomb> = Global::new();

/// Bytes allocated per step.
const CHUNK: usize = 1 << 20;

/// Copy `input` into a new buffer and emit it with the input's meta.
fn pass_through(input: &StreamElement) -> Result<ProcessResult, ProcessError> {
    let bytes = input.payload.read_all();
    let buffer = buffer_allocator::allocate(bytes.len() as u64)
        .map_err(|e| ProcessError::Unavailable(format!("memory-bomb: allocate failed: {e:?}")))?;
    buffer
        .append(&bytes)
        .map_err(|e| ProcessError::Internal(format!("memory-bomb: append failed: {e:?}")))?;
    buffer.set_content_type(&input.meta.content_type);
    Ok(ProcessResult::Emit(OutputElement {
        meta: input.meta.clone(),
        payload: buffer.freeze(),
    }))
}

impl LifecycleGuest for MemoryBomb {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        let at = parsed.u64_or("at", 0).map_err(ProcessError::InvalidInput)?;
        STATE.set(MemoryBomb { at });
        Ok(())
    }

    fn teardown() {}
}

impl ProcessorGuest for MemoryBomb {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let at = STATE.with(|s| s.at);
        if input.meta.sequence < at {
            return pass_through(&input);
        }
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let chunk = vec![0xA5u8; CHUNK];
            hoard.push(black_box(chunk));
            black_box(&hoard);
        }
    }
}

export!(MemoryBomb);
