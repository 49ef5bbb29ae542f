//! `{{name}}`: a stateless transform (`torvyn:streaming/processor`). As
//! generated it is a pass-through: each element comes out unchanged.
//! Change the bytes in `process` to transform them.

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of other packages (torvyn:streaming,
    // torvyn:resources): those are only generated with `generate_all`.
    generate_all,
});

use exports::torvyn::streaming::processor::{Guest, ProcessResult};
use torvyn::resources::buffer_ops;
use torvyn::streaming::types::{OutputElement, ProcessError, StreamElement};

struct Component;

impl Guest for Component {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        // Reading the payload copies it from host memory (a measured copy).
        // Pass-through: the output is the input's bytes. (The output must
        // be a buffer this component owns, so even a pass-through copies.)
        let bytes = input.payload.read_all();
        // The output is a new host buffer: allocate, write, freeze.
        let buffer = buffer_ops::allocate(bytes.len() as u64)
            .map_err(|e| ProcessError::Unavailable(format!("allocate failed: {e:?}")))?;
        buffer
            .append(&bytes)
            .map_err(|e| ProcessError::Internal(format!("append failed: {e:?}")))?;
        buffer.set_content_type(&input.meta.content_type);
        Ok(ProcessResult::Emit(OutputElement {
            meta: input.meta.clone(),
            payload: buffer.freeze(),
        }))
    }
}

export!(Component);
