//! Enricher (contract 0.1.0): adds a priority score to each JSON event.
//!
//! Contract 0.1.0 has no `priority` field in `element-meta`, so the score
//! travels in the payload: `{..., "priority":100}` for high severity,
//! `{..., "priority":10}` otherwise.

wit_bindgen::generate!({
    world: "transform",
    path: "../../../../wit/streaming",
});

use exports::torvyn::streaming::processor::Guest as ProcessorGuest;
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, ProcessResult, StreamElement};

struct Enricher;

impl ProcessorGuest for Enricher {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let bytes = input.payload.read_all();
        let text = String::from_utf8(bytes)
            .map_err(|e| ProcessError::InvalidInput(e.to_string()))?;
        let body = text
            .trim_end()
            .strip_suffix('}')
            .ok_or_else(|| ProcessError::InvalidInput("not a JSON object".into()))?;
        let priority = if text.contains(r#""severity":"high""#) { 100 } else { 10 };
        let enriched = format!(r#"{body},"priority":{priority}}}"#);
        let out = buffer_allocator::allocate(enriched.len() as u64)
            .map_err(|e| ProcessError::Internal(format!("{e:?}")))?;
        out.append(enriched.as_bytes())
            .map_err(|e| ProcessError::Internal(format!("{e:?}")))?;
        Ok(ProcessResult::Emit(OutputElement {
            meta: input.meta,
            payload: out.freeze(),
        }))
    }
}

export!(Enricher);
