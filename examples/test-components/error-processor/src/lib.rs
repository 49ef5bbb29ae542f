//! `error-processor`: a managed transform
//! (`torvyn:streaming/managed-transform`) that fails one chosen element.
//!
//! Config (`lifecycle.init`, JSON object):
//!
//! - `kind` (required): one of `"invalid-input"`, `"unavailable"`,
//!   `"internal"`, `"deadline-exceeded"`, `"fatal"` — the `process-error`
//!   case to return.
//! - `at` (default 0): the element whose `meta.sequence` equals this value
//!   gets the error.
//!
//! An unknown or missing `kind` makes `init` fail with `invalid-input`.
//! Every other element is copied through like `passthrough` (read-all into a
//! new buffer, input meta). The string errors carry the message
//! `error-processor: injected <kind> at sequence <at>`.

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

/// The error to inject. `None` until `init` succeeds (then nothing fails).
#[derive(Default)]
struct ErrorProcessor {
    kind: Option<String>,
    at: u64,
}

static STATE: Global<ErrorProcessor> = Global::new();

const KINDS: [&str; 5] = [
    "invalid-input",
    "unavailable",
    "internal",
    "deadline-exceeded",
    "fatal",
];

fn injected_error(kind: &str, at: u64) -> ProcessError {
    let message = format!("error-processor: injected {kind} at sequence {at}");
    match kind {
        "invalid-input" => ProcessError::InvalidInput(message),
        "unavailable" => ProcessError::Unavailable(message),
        "deadline-exceeded" => ProcessError::DeadlineExceeded,
        "fatal" => ProcessError::Fatal(message),
        _ => ProcessError::Internal(message),
    }
}

impl LifecycleGuest for ErrorProcessor {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        let kind = parsed.str_opt("kind").map_err(ProcessError::InvalidInput)?;
        let kind = match kind {
            Some(k) if KINDS.contains(&k) => k.to_string(),
            other => {
                return Err(ProcessError::InvalidInput(format!(
                    "error-processor: `kind` must be one of {KINDS:?}, got {other:?}"
                )))
            }
        };
        let at = parsed.u64_or("at", 0).map_err(ProcessError::InvalidInput)?;
        STATE.set(ErrorProcessor {
            kind: Some(kind),
            at,
        });
        Ok(())
    }

    fn teardown() {}
}

impl ProcessorGuest for ErrorProcessor {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let failure = STATE.with(|s| match &s.kind {
            Some(kind) if input.meta.sequence == s.at => Some(injected_error(kind, s.at)),
            _ => None,
        });
        if let Some(error) = failure {
            return Err(error);
        }
        let bytes = input.payload.read_all();
        let buffer = buffer_allocator::allocate(bytes.len() as u64).map_err(|e| {
            ProcessError::Unavailable(format!("error-processor: allocate failed: {e:?}"))
        })?;
        buffer.append(&bytes).map_err(|e| {
            ProcessError::Internal(format!("error-processor: append failed: {e:?}"))
        })?;
        buffer.set_content_type(&input.meta.content_type);
        Ok(ProcessResult::Emit(OutputElement {
            meta: input.meta.clone(),
            payload: buffer.freeze(),
        }))
    }
}

export!(ErrorProcessor);
