//! `batch-uppercase`: `uppercase` with its batch form
//! (`torvyn:batching/batched-transform`): `process` and `process-batch`
//! run the same logic, so a flow moves the same bytes with the same copies
//! whichever the runtime calls.
//!
//! Each element: read the whole input (one measured copy), map ASCII
//! `a..=z` to `A..=Z`, write the result to a new buffer (one measured
//! copy), emit it with the input's meta. `process-batch` reads and writes
//! the whole batch with `torvyn:batching/batch-buffers` (two host calls
//! per batch instead of six per element; the same copies).
//!
//! Config (`lifecycle.init`, JSON object, every key optional), for the
//! tests of per-element errors inside a batch:
//!
//! - `fail_kind`: a `process-error` case (`"invalid-input"`,
//!   `"unavailable"`, `"internal"`, `"deadline-exceeded"`, `"fatal"`)
//!   returned for the element whose `meta.sequence` is `fail_at`;
//! - `fail_at` (default 0);
//! - `fail_times` (default 0 = every time): how many times this instance
//!   fails that element before it processes it normally (a retry then
//!   succeeds);
//! - `short_results` (default false): `process-batch` breaks its contract
//!   by returning one result fewer than its inputs (the runtime's handling
//!   of a broken batch contract is tested with it).

// The generated bindings (`build.rs`) take `&mut` of their return area, as
// `wit_bindgen::generate!` output does.
#![allow(static_mut_refs)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

use exports::torvyn::batching::batch_processor::Guest as BatchGuest;
use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::processor::{Guest as ProcessorGuest, ProcessResult};
use guest_util::{packed_slices, Config, Global};
use torvyn::streaming::buffer_allocator;
use torvyn::batching::batch_buffers;
use torvyn::streaming::types::{Buffer, OutputElement, ProcessError, StreamElement};

#[derive(Default)]
struct BatchUppercase {
    fail_kind: Option<String>,
    fail_at: u64,
    /// 0: always.
    fail_times: u64,
    failed: u64,
    short_results: bool,
}

static STATE: Global<BatchUppercase> = Global::new();

fn error_of(kind: &str, at: u64) -> ProcessError {
    let message = format!("batch-uppercase: injected {kind} at sequence {at}");
    match kind {
        "invalid-input" => ProcessError::InvalidInput(message),
        "unavailable" => ProcessError::Unavailable(message),
        "deadline-exceeded" => ProcessError::DeadlineExceeded,
        "fatal" => ProcessError::Fatal(message),
        _ => ProcessError::Internal(message),
    }
}

/// The one logic both exports run.
/// The injected failure of `input`, if the config asks for one (counted).
fn injected_failure(input: &StreamElement) -> Option<ProcessError> {
    STATE.with(|s| match &s.fail_kind {
        Some(kind)
            if input.meta.sequence == s.fail_at && (s.fail_times == 0 || s.failed < s.fail_times) =>
        {
            s.failed += 1;
            Some(error_of(kind, s.fail_at))
        }
        _ => None,
    })
}

fn uppercase(input: &StreamElement) -> Result<ProcessResult, ProcessError> {
    if let Some(error) = injected_failure(input) {
        return Err(error);
    }
    let mut bytes = input.payload.read_all();
    bytes.make_ascii_uppercase();
    emit(input, &bytes)
}

/// `input`'s meta with a new buffer holding `bytes` (one write).
fn emit(input: &StreamElement, bytes: &[u8]) -> Result<ProcessResult, ProcessError> {
    let buffer = buffer_allocator::allocate(bytes.len() as u64).map_err(|e| {
        ProcessError::Unavailable(format!("batch-uppercase: allocate failed: {e:?}"))
    })?;
    buffer
        .append(bytes)
        .map_err(|e| ProcessError::Internal(format!("batch-uppercase: append failed: {e:?}")))?;
    buffer.set_content_type(&input.meta.content_type);
    Ok(ProcessResult::Emit(OutputElement {
        meta: input.meta.clone(),
        payload: buffer.freeze(),
    }))
}

impl LifecycleGuest for BatchUppercase {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        let state = BatchUppercase {
            fail_kind: parsed
                .str_opt("fail_kind")
                .map_err(ProcessError::InvalidInput)?
                .map(str::to_string),
            fail_at: parsed.u64_or("fail_at", 0).map_err(ProcessError::InvalidInput)?,
            fail_times: parsed
                .u64_or("fail_times", 0)
                .map_err(ProcessError::InvalidInput)?,
            failed: 0,
            short_results: matches!(
                parsed.get("short_results"),
                Some(guest_util::Value::Bool(true))
            ),
        };
        STATE.set(state);
        Ok(())
    }

    fn teardown() {}
}

impl ProcessorGuest for BatchUppercase {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        uppercase(&input)
    }
}

/// `uppercase` on each input, with one host call to read every payload
/// and one to make every output buffer. Inputs of mixed content types
/// take the per-element path (`freeze-packed` gives every buffer one).
fn uppercase_batch(inputs: &[StreamElement]) -> Vec<Result<ProcessResult, ProcessError>> {
    let Some(content_type) = inputs.first().map(|i| i.meta.content_type.as_str()) else {
        return Vec::new();
    };
    if inputs.iter().any(|i| i.meta.content_type != content_type) {
        return inputs.iter().map(uppercase).collect();
    }
    let failures: Vec<Option<ProcessError>> = inputs.iter().map(injected_failure).collect();
    let readable: Vec<&Buffer> = inputs
        .iter()
        .zip(&failures)
        .filter(|(_, failure)| failure.is_none())
        .map(|(input, _)| input.payload)
        .collect();
    let mut packed = batch_buffers::read_all_packed(&readable);
    packed.bytes.make_ascii_uppercase();
    let mut made = batch_buffers::freeze_packed(&packed, content_type).map(Vec::into_iter);
    let mut payloads = packed_slices(&packed.bytes, &packed.ends);
    inputs
        .iter()
        .zip(failures)
        .map(|(input, failure)| {
            if let Some(error) = failure {
                return Err(error);
            }
            let bytes = payloads.next().unwrap_or_default();
            match made.as_mut().ok().and_then(Iterator::next) {
                Some(payload) => Ok(ProcessResult::Emit(OutputElement {
                    meta: input.meta.clone(),
                    payload,
                })),
                // The batch allocation failed: each element fails (or not)
                // on its own, as on the per-element path.
                None => emit(input, bytes),
            }
        })
        .collect()
}

impl BatchGuest for BatchUppercase {
    fn process_batch(inputs: Vec<StreamElement>) -> Vec<Result<ProcessResult, ProcessError>> {
        let mut results = uppercase_batch(&inputs);
        if STATE.with(|s| s.short_results) {
            results.pop();
        }
        results
    }
}

export!(BatchUppercase);
