//! `batch-bench-source`: `bench-source` with its batch form. `pull` and
//! `pull-batch` emit the same messages; `pull-batch` makes a whole batch's
//! buffers with one `freeze-packed` host call.
//!
//! Config (JSON): `count` (default 100,000; 0 = endless) and
//! `payload_size` (default 64).

// The generated bindings take `&mut` of their return area, as
// `wit_bindgen::generate!` output does.
#![allow(static_mut_refs)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

use exports::torvyn::batching::batch_source::Guest as BatchGuest;
use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::source::Guest as SourceGuest;
use std::cell::RefCell;
use torvyn::batching::batch_buffers;
use torvyn::streaming::types::{
    BackpressureSignal, Buffer, ElementMeta, OutputElement, ProcessError,
};

struct State {
    count: u64,
    emitted: u64,
    message: Vec<u8>,
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State { count: 100_000, emitted: 0, message: Vec::new() }) };
}

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

fn element(sequence: u64, payload: Buffer) -> OutputElement {
    OutputElement {
        meta: ElementMeta {
            sequence,
            timestamp_ns: 0,
            content_type: String::new(),
        },
        payload,
    }
}

/// The next `max` messages (fewer at the end of the count), as buffers.
fn next(max: u64) -> Result<Vec<OutputElement>, ProcessError> {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let left = if s.count == 0 {
            max
        } else {
            s.count.saturating_sub(s.emitted).min(max)
        };
        if left == 0 {
            return Ok(Vec::new());
        }
        let mut payloads = batch_buffers::PackedPayloads {
            bytes: Vec::with_capacity(s.message.len() * left as usize),
            ends: Vec::with_capacity(left as usize),
        };
        for _ in 0..left {
            payloads.bytes.extend_from_slice(&s.message);
            payloads.ends.push(payloads.bytes.len() as u32);
        }
        let buffers = batch_buffers::freeze_packed(&payloads, "")
            .map_err(|e| ProcessError::Unavailable(format!("allocate: {e:?}")))?;
        let first = s.emitted;
        s.emitted += left;
        Ok((first..).zip(buffers).map(|(n, b)| element(n, b)).collect())
    })
}

struct BatchBenchSource;

impl LifecycleGuest for BatchBenchSource {
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

impl SourceGuest for BatchBenchSource {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        Ok(next(1)?.pop())
    }

    fn notify_backpressure(_signal: BackpressureSignal) {}
}

impl BatchGuest for BatchBenchSource {
    fn pull_batch(max: u32) -> Result<Vec<OutputElement>, ProcessError> {
        next(u64::from(max))
    }
}

export!(BatchBenchSource);
