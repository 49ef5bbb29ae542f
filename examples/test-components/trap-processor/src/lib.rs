//! `trap-processor`: a managed transform
//! (`torvyn:streaming/managed-transform`) that traps at one element.
//!
//! Config: `{"at": K}` (default 0). The element with `meta.sequence == K`
//! panics, which on wasm32 aborts with an `unreachable` trap (the panic
//! message goes to the guest's stderr first). Every other element is copied
//! through like `passthrough`.

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
use guest_util::{Config, Global};
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, StreamElement};

#[derive(Default)]
struct TrapProcessor {
    /// The element (by `meta.sequence`) that traps.
    at: u64,
}

static STATE: Global<TrapProcessor> = Global::new();

/// Copy `input` into a new buffer and emit it with the input's meta.
fn pass_through(input: &StreamElement) -> Result<ProcessResult, ProcessError> {
    let bytes = input.payload.read_all();
    let buffer = buffer_allocator::allocate(bytes.len() as u64).map_err(|e| {
        ProcessError::Unavailable(format!("trap-processor: allocate failed: {e:?}"))
    })?;
    buffer
        .append(&bytes)
        .map_err(|e| ProcessError::Internal(format!("trap-processor: append failed: {e:?}")))?;
    buffer.set_content_type(&input.meta.content_type);
    Ok(ProcessResult::Emit(OutputElement {
        meta: input.meta.clone(),
        payload: buffer.freeze(),
    }))
}

impl LifecycleGuest for TrapProcessor {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        let at = parsed.u64_or("at", 0).map_err(ProcessError::InvalidInput)?;
        STATE.set(TrapProcessor { at });
        Ok(())
    }

    fn teardown() {}
}

impl ProcessorGuest for TrapProcessor {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let at = STATE.with(|s| s.at);
        if input.meta.sequence == at {
            panic!("trap-processor: trapping at sequence {at}");
        }
        pass_through(&input)
    }
}

export!(TrapProcessor);
