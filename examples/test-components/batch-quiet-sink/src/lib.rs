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
use guest_util::{packed_slices, Config, Fnv1a, Global};
use torvyn::batching::batch_buffers;
use torvyn::streaming::types::{BackpressureSignal, Buffer, ProcessError, StreamElement};

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
/// The injected failure of `element`, if the config asks for one (counted).
fn injected_failure(s: &mut BatchQuietSink, element: &StreamElement) -> Option<ProcessError> {
    let kind = s.fail_kind.as_ref()?;
    if element.meta.sequence == s.fail_at && (s.fail_times == 0 || s.failed < s.fail_times) {
        s.failed += 1;
        return Some(error_of(kind, s.fail_at));
    }
    None
}

fn consume(s: &mut BatchQuietSink, element: &StreamElement) -> Result<(), ProcessError> {
    if let Some(error) = injected_failure(s, element) {
        return Err(error);
    }
    account(s, &element.payload.read_all());
    Ok(())
}

fn account(s: &mut BatchQuietSink, payload: &[u8]) {
    s.received += 1;
    s.bytes += payload.len() as u64;
    s.checksum.update(payload);
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
    /// Consumes the elements up to the first injected failure, their
    /// payloads read with one `read-all-packed` call.
    fn push_batch(elements: Vec<StreamElement>) -> Result<BackpressureSignal, PushFailure> {
        STATE.with(|s| {
            let mut failure = None;
            for (index, element) in elements.iter().enumerate() {
                if let Some(error) = injected_failure(s, element) {
                    failure = Some(PushFailure {
                        index: index as u32,
                        error,
                    });
                    break;
                }
            }
            let consumed = failure.as_ref().map_or(elements.len(), |f| f.index as usize);
            let buffers: Vec<&Buffer> = elements[..consumed].iter().map(|e| e.payload).collect();
            let packed = batch_buffers::read_all_packed(&buffers);
            for payload in packed_slices(&packed.bytes, &packed.ends) {
                account(s, payload);
            }
            match failure {
                Some(failure) => Err(failure),
                None => Ok(signal(s)),
            }
        })
    }
}

export!(BatchQuietSink);
