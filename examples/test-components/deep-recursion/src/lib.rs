//! `deep-recursion`: a hostile managed transform
//! (`torvyn:streaming/managed-transform`) whose `process()` recurses without
//! bound.
//!
//! Config: `{"at": K}` (default 0). Elements with `meta.sequence < K` are
//! copied through like `passthrough`; from sequence `K` on, `process()` calls
//! a non-tail-recursive function whose frame keeps a buffer alive across the
//! recursive call, so it cannot become a loop. It ends in a stack-overflow
//! trap (Wasmtime's call-stack limit or the guest's shadow stack running
//! out of linear memory, whichever comes first).

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
struct DeepRecursion {
    /// First element (by `meta.sequence`) that misbehaves.
    at: u64,
}

static STATE: Global<DeepRecursion> = Global::new();

/// Recurse forever (the exit condition is opaque to the optimizer and never
/// true in practice). The frame buffer is used after the recursive call,
/// which rules out tail-call elimination.
#[inline(never)]
fn descend(depth: u64) -> u64 {
    let mut frame = [0u8; 128];
    frame[(depth % 128) as usize] = depth as u8;
    black_box(&mut frame);
    if black_box(depth) == u64::MAX {
        return 0;
    }
    let below = descend(depth + 1);
    below
        .wrapping_add(u64::from(frame[(depth % 7) as usize]))
        .wrapping_add(1)
}

/// Copy `input` into a new buffer and emit it with the input's meta.
fn pass_through(input: &StreamElement) -> Result<ProcessResult, ProcessError> {
    let bytes = input.payload.read_all();
    let buffer = buffer_allocator::allocate(bytes.len() as u64).map_err(|e| {
        ProcessError::Unavailable(format!("deep-recursion: allocate failed: {e:?}"))
    })?;
    buffer
        .append(&bytes)
        .map_err(|e| ProcessError::Internal(format!("deep-recursion: append failed: {e:?}")))?;
    buffer.set_content_type(&input.meta.content_type);
    Ok(ProcessResult::Emit(OutputElement {
        meta: input.meta.clone(),
        payload: buffer.freeze(),
    }))
}

impl LifecycleGuest for DeepRecursion {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        let at = parsed.u64_or("at", 0).map_err(ProcessError::InvalidInput)?;
        STATE.set(DeepRecursion { at });
        Ok(())
    }

    fn teardown() {}
}

impl ProcessorGuest for DeepRecursion {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let at = STATE.with(|s| s.at);
        if input.meta.sequence < at {
            return pass_through(&input);
        }
        let depth = descend(black_box(0));
        Err(ProcessError::Internal(format!(
            "deep-recursion: returned from depth {depth}"
        )))
    }
}

export!(DeepRecursion);
