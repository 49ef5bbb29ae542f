//! `infinite-loop`: a hostile managed transform
//! (`torvyn:streaming/managed-transform`) whose `process()` never returns.
//!
//! Config: `{"at": K, "in": "process"}` (defaults 0 and `"process"`).
//! Elements with `meta.sequence < K` are copied through like `passthrough`;
//! from sequence `K` on, `process()` spins forever on a counter laundered
//! through `black_box`, so the optimizer cannot delete the loop. Only fuel or
//! epoch interruption can stop it. With `"in": "init"` the spin happens in
//! `lifecycle.init` instead (for init timeouts); with `"in": "teardown"`, in
//! `lifecycle.teardown` (elements then all pass through).

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
struct InfiniteLoop {
    /// First element (by `meta.sequence`) that misbehaves.
    at: u64,
    /// Whether teardown spins (then process never does).
    in_teardown: bool,
}

/// Never returns.
fn spin() -> ! {
    let mut spins: u64 = 0;
    loop {
        spins = black_box(spins.wrapping_add(1));
    }
}

static STATE: Global<InfiniteLoop> = Global::new();

/// Copy `input` into a new buffer and emit it with the input's meta.
fn pass_through(input: &StreamElement) -> Result<ProcessResult, ProcessError> {
    let bytes = input.payload.read_all();
    let buffer = buffer_allocator::allocate(bytes.len() as u64)
        .map_err(|e| ProcessError::Unavailable(format!("infinite-loop: allocate failed: {e:?}")))?;
    buffer
        .append(&bytes)
        .map_err(|e| ProcessError::Internal(format!("infinite-loop: append failed: {e:?}")))?;
    buffer.set_content_type(&input.meta.content_type);
    Ok(ProcessResult::Emit(OutputElement {
        meta: input.meta.clone(),
        payload: buffer.freeze(),
    }))
}

impl LifecycleGuest for InfiniteLoop {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        let at = parsed.u64_or("at", 0).map_err(ProcessError::InvalidInput)?;
        let place = parsed
            .str_opt("in")
            .map_err(ProcessError::InvalidInput)?
            .unwrap_or("process");
        match place {
            "init" => spin(),
            "process" | "teardown" => {}
            other => {
                return Err(ProcessError::InvalidInput(format!(
                    "infinite-loop: `in` must be init, process or teardown, not {other}"
                )))
            }
        }
        STATE.set(InfiniteLoop {
            at,
            in_teardown: place == "teardown",
        });
        Ok(())
    }

    fn teardown() {
        if STATE.with(|s| s.in_teardown) {
            spin();
        }
    }
}

impl ProcessorGuest for InfiniteLoop {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let (at, in_teardown) = STATE.with(|s| (s.at, s.in_teardown));
        if in_teardown || input.meta.sequence < at {
            return pass_through(&input);
        }
        spin()
    }
}

export!(InfiniteLoop);
