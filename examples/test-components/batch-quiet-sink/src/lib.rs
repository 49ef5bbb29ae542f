//! `batch-quiet-sink`: `quiet-sink` with its batch form
//! (`torvyn:batching/batched-sink`): `push` and `push-batch` run the same
//! logic (read the whole payload, one measured copy; count it; feed the
//! FNV-1a checksum), and `complete` prints the same line:
//!
//! ```text
//! [quiet-sink] received=N bytes=B checksum=XXXXXXXXXXXXXXXX
//! ```
//!
//! Config (JSON object, every key optional), for the tests:
//!
//! - `fail_kind` / `fail_at` / `fail_times`: as `batch-uppercase`, the
//!   element whose `meta.sequence` is `fail_at` fails with that
//!   `process-error` (`push-batch` stops there with a `push-failure`);
//! - `pause` (default false): answer `pause` to every push and batch.

// The generated bindings (`build.rs`) take `&mut` of their return area, as
// `wit_bindgen::generate!` output does.
#![allow(static_mut_refs)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

use exports::torvyn::batching::batch_sink::{Guest as BatchGuest, PushFailure};
use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::sink::Guest as SinkGuest;
use guest_util::{Config, Fnv1a, Global};
use torvyn::streaming::types::{BackpressureSignal, ProcessError, StreamElement};

#[derive(Default)]
struct BatchQuietSink {
    received: u64,
    bytes: u64,
    checksum: Fnv1a,
    fail_kind: Option<String>,
    fail_at: u64,
    fail_times: u64,
    failed: u64,
    pause: bool,
}

static STATE: Global<BatchQuietSink> = Global::new();

fn error_of(kind: &str, at: u64) -> ProcessError {
    let message = format!("batch-quiet-sink: injected {kind} at sequence {at}");
    match kind {
        "invalid-input" => ProcessError::InvalidInput(message),
        "unavailable" => ProcessError::Unavailable(message),
        "deadline-exceeded" => ProcessError::DeadlineExceeded,
        "fatal" => ProcessError::Fatal(message),
        _ => ProcessError::Internal(message),
    }
}

/// The one logic both exports run.
fn consume(s: &mut BatchQuietSink, element: &StreamElement) -> Result<(), ProcessError> {
    if let Some(kind) = &s.fail_kind {
        if element.meta.sequence == s.fail_at && (s.fail_times == 0 || s.failed < s.fail_times) {
            s.failed += 1;
            return Err(error_of(kind, s.fail_at));
        }
    }
    let payload = element.payload.read_all();
    s.received += 1;
    s.bytes += payload.len() as u64;
    s.checksum.update(&payload);
    Ok(())
}

fn signal(s: &BatchQuietSink) -> BackpressureSignal {
    if s.pause {
        BackpressureSignal::Pause
    } else {
        BackpressureSignal::Ready
    }
}

impl LifecycleGuest for BatchQuietSink {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        let pause = matches!(parsed.get("pause"), Some(guest_util::Value::Bool(true)));
        STATE.set(BatchQuietSink {
            fail_kind: parsed
                .str_opt("fail_kind")
                .map_err(ProcessError::InvalidInput)?
                .map(str::to_string),
            fail_at: parsed.u64_or("fail_at", 0).map_err(ProcessError::InvalidInput)?,
            fail_times: parsed
                .u64_or("fail_times", 0)
                .map_err(ProcessError::InvalidInput)?,
            pause,
            ..BatchQuietSink::default()
        });
        Ok(())
    }

    fn teardown() {}
}

impl SinkGuest for BatchQuietSink {
    fn push(element: StreamElement) -> Result<BackpressureSignal, ProcessError> {
        STATE.with(|s| consume(s, &element).map(|()| signal(s)))
    }

    fn complete() -> Result<(), ProcessError> {
        STATE.with(|s| {
            println!(
                "[quiet-sink] received={} bytes={} checksum={:016x}",
                s.received,
                s.bytes,
                s.checksum.value()
            );
        });
        Ok(())
    }
}

impl BatchGuest for BatchQuietSink {
    fn push_batch(elements: Vec<StreamElement>) -> Result<BackpressureSignal, PushFailure> {
        STATE.with(|s| {
            for (index, element) in elements.iter().enumerate() {
                consume(s, element).map_err(|error| PushFailure {
                    index: index as u32,
                    error,
                })?;
            }
            Ok(signal(s))
        })
    }
}

export!(BatchQuietSink);
