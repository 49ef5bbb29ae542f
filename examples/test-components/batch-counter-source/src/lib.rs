//! `batch-counter-source`: `counter-source` with its batch form
//! (`torvyn:batching/batched-source`): `pull` and `pull-batch` emit the
//! same payloads (`guest_util::counter_payload`) in the same order.
//!
//! Config as `counter-source`: `count` (default 1000, 0 = endless) and
//! `payload_size` (default 64). `pull-batch(max)` returns up to `max`
//! elements, and an empty list once `count` elements were emitted.

// The generated bindings (`build.rs`) take `&mut` of their return area, as
// `wit_bindgen::generate!` output does.
#![allow(static_mut_refs)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

use exports::torvyn::batching::batch_source::Guest as BatchGuest;
use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::source::Guest as SourceGuest;
use guest_util::{counter_payload, counter_payload_into, Config, Global};
use torvyn::batching::batch_buffers;
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{BackpressureSignal, ElementMeta, OutputElement, ProcessError};

const CONTENT_TYPE: &str = "text/plain";

struct BatchCounterSource {
    count: u64,
    payload_size: u64,
    emitted: u64,
}

impl Default for BatchCounterSource {
    fn default() -> Self {
        Self {
            count: 1000,
            payload_size: 64,
            emitted: 0,
        }
    }
}

static STATE: Global<BatchCounterSource> = Global::new();

/// The one logic both exports run: the next element, if any.
fn next(s: &mut BatchCounterSource) -> Result<Option<OutputElement>, ProcessError> {
    if s.count != 0 && s.emitted >= s.count {
        return Ok(None);
    }
    let index = s.emitted;
    let payload = counter_payload(index, s.payload_size as usize);
    let buffer = buffer_allocator::allocate(s.payload_size).map_err(|e| {
        ProcessError::Unavailable(format!("batch-counter-source: allocate failed: {e:?}"))
    })?;
    buffer.append(&payload).map_err(|e| {
        ProcessError::Internal(format!("batch-counter-source: append failed: {e:?}"))
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
}

impl LifecycleGuest for BatchCounterSource {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        let defaults = BatchCounterSource::default();
        STATE.set(BatchCounterSource {
            count: parsed
                .u64_or("count", defaults.count)
                .map_err(ProcessError::InvalidInput)?,
            payload_size: parsed
                .u64_or("payload_size", defaults.payload_size)
                .map_err(ProcessError::InvalidInput)?,
            emitted: 0,
        });
        Ok(())
    }

    fn teardown() {}
}

impl SourceGuest for BatchCounterSource {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        STATE.with(next)
    }

    fn notify_backpressure(_signal: BackpressureSignal) {}
}

impl BatchGuest for BatchCounterSource {
    /// The next `max` elements (fewer at the end), their buffers made by
    /// one `freeze-packed` call.
    fn pull_batch(max: u32) -> Result<Vec<OutputElement>, ProcessError> {
        STATE.with(|s| {
            let first = s.emitted;
            let left = if s.count == 0 {
                u64::from(max)
            } else {
                s.count.saturating_sub(first).min(u64::from(max))
            };
            let size = s.payload_size as usize;
            let mut payloads = batch_buffers::PackedPayloads {
                bytes: Vec::with_capacity(size * left as usize),
                ends: Vec::with_capacity(left as usize),
            };
            for index in first..first + left {
                counter_payload_into(index, size, &mut payloads.bytes);
                payloads.ends.push(payloads.bytes.len() as u32);
            }
            let buffers = batch_buffers::freeze_packed(&payloads, CONTENT_TYPE).map_err(|e| {
                ProcessError::Unavailable(format!("batch-counter-source: allocate failed: {e:?}"))
            })?;
            s.emitted += left;
            Ok((first..)
                .zip(buffers)
                .map(|(sequence, payload)| OutputElement {
                    meta: ElementMeta {
                        sequence,
                        timestamp_ns: 0,
                        content_type: CONTENT_TYPE.to_string(),
                    },
                    payload,
                })
                .collect())
        })
    }
}

export!(BatchCounterSource);
