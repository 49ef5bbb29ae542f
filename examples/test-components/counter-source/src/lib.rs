//! `counter-source`: a managed source (`torvyn:streaming/managed-source`)
//! that emits a fixed number of deterministic payloads.
//!
//! Config (`lifecycle.init`, JSON object, every key optional):
//!
//! - `count` (default 1000): elements to emit before `pull` returns `none`;
//!   `0` means never-ending (for benchmarks).
//! - `payload_size` (default 64): bytes per payload.
//!
//! Element `i` (0-based) carries `guest_util::counter_payload(i, payload_size)`:
//! the decimal index and a space, then filler `b'a' + (j % 26)` at byte
//! position `j`, content type `text/plain`, and advisory `meta.sequence = i`.
//! Each pull allocates a host buffer, appends the payload (one measured
//! copy), freezes it and returns it. Backpressure signals are ignored: the
//! runtime simply stops pulling while downstream is paused.

wit_bindgen::generate!({
    world: "torvyn:streaming/managed-source",
    path: [
        "../../../wit/streaming",
        "../../../wit/resources",
        "../../../wit/filtering",
        "../../../wit/aggregation",
    ],
});

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::source::Guest as SourceGuest;
use guest_util::{counter_payload, Config, Global};
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{BackpressureSignal, ElementMeta, OutputElement, ProcessError};

const CONTENT_TYPE: &str = "text/plain";

struct CounterSource {
    /// Elements to emit; 0 = unbounded.
    count: u64,
    payload_size: u64,
    /// Elements emitted so far.
    emitted: u64,
}

impl Default for CounterSource {
    fn default() -> Self {
        CounterSource {
            count: 1000,
            payload_size: 64,
            emitted: 0,
        }
    }
}

static STATE: Global<CounterSource> = Global::new();

impl LifecycleGuest for CounterSource {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        let defaults = CounterSource::default();
        let state = CounterSource {
            count: parsed
                .u64_or("count", defaults.count)
                .map_err(ProcessError::InvalidInput)?,
            payload_size: parsed
                .u64_or("payload_size", defaults.payload_size)
                .map_err(ProcessError::InvalidInput)?,
            emitted: 0,
        };
        STATE.set(state);
        Ok(())
    }

    fn teardown() {}
}

impl SourceGuest for CounterSource {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        STATE.with(|s| {
            if s.count != 0 && s.emitted >= s.count {
                return Ok(None);
            }
            let index = s.emitted;
            let payload = counter_payload(index, s.payload_size as usize);
            let buffer = buffer_allocator::allocate(s.payload_size).map_err(|e| {
                ProcessError::Unavailable(format!("counter-source: allocate failed: {e:?}"))
            })?;
            buffer.append(&payload).map_err(|e| {
                ProcessError::Internal(format!("counter-source: append failed: {e:?}"))
            })?;
            buffer.set_content_type(CONTENT_TYPE);
            let payload = buffer.freeze();
            s.emitted += 1;
            Ok(Some(OutputElement {
                meta: ElementMeta {
                    sequence: index,
                    timestamp_ns: 0,
                    content_type: CONTENT_TYPE.to_string(),
                },
                payload,
            }))
        })
    }

    fn notify_backpressure(_signal: BackpressureSignal) {}
}

export!(CounterSource);
