//! `{{name}}`: a transform (`torvyn:streaming/processor`). Implement
//! `process`: return `ProcessResult::Emit` with a new output element, or
//! `ProcessResult::Drop`.

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of other packages: `generate_all`.
    generate_all,
});

use exports::torvyn::streaming::processor::{Guest, ProcessResult};
use torvyn::streaming::types::{ProcessError, StreamElement};

struct Component;

impl Guest for Component {
    fn process(_input: StreamElement) -> Result<ProcessResult, ProcessError> {
        Err(ProcessError::Internal("process is not implemented yet".into()))
    }
}

export!(Component);
