//! `bench-source`: emits `count` messages of `payload_size` bytes (config
//! `{"count": 100000, "payload_size": 64}`; `count` 0 never ends). Each
//! pull allocates a host buffer and appends the message (one copy).

wit_bindgen::generate!({
    world: "torvyn:streaming/managed-source",
    path: [
        "../../../../../wit/streaming",
        "../../../../../wit/resources",
        "../../../../../wit/filtering",
        "../../../../../wit/aggregation",
    ],
});

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::source::Guest as SourceGuest;
use std::cell::RefCell;
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{BackpressureSignal, ElementMeta, OutputElement, ProcessError};

struct State {
    count: u64,
    emitted: u64,
    message: Vec<u8>,
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State { count: 100_000, emitted: 0, message: Vec::new() }) };
}

/// The unsigned number after `"key":` in a flat JSON object.
fn number(config: &str, key: &str) -> Option<u64> {
    let at = config.find(&format!("\"{key}\""))?;
    let rest = config[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?;
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

struct BenchSource;

impl LifecycleGuest for BenchSource {
    fn init(config: String) -> Result<(), ProcessError> {
        let count = number(&config, "count").unwrap_or(100_000);
        let size = number(&config, "payload_size").unwrap_or(64) as usize;
        let message = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
        STATE.with(|s| {
            *s.borrow_mut() = State {
                count,
                emitted: 0,
                message,
            }
        });
        Ok(())
    }

    fn teardown() {}
}

impl SourceGuest for BenchSource {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            if s.count != 0 && s.emitted >= s.count {
                return Ok(None);
            }
            let buffer = buffer_allocator::allocate(s.message.len() as u64)
                .map_err(|e| ProcessError::Unavailable(format!("allocate: {e:?}")))?;
            buffer
                .append(&s.message)
                .map_err(|e| ProcessError::Internal(format!("append: {e:?}")))?;
            let sequence = s.emitted;
            s.emitted += 1;
            Ok(Some(OutputElement {
                meta: ElementMeta {
                    sequence,
                    timestamp_ns: 0,
                    content_type: String::new(),
                },
                payload: buffer.freeze(),
            }))
        })
    }

    fn notify_backpressure(_signal: BackpressureSignal) {}
}

export!(BenchSource);
