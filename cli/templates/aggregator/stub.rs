//! `{{name}}`: an aggregator (`torvyn:aggregation/aggregator`). Implement
//! `ingest` (one call per element; `Some` emits an aggregate) and `flush`
//! (the stream ended: emit what is left).

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of other packages: `generate_all`.
    generate_all,
});

use exports::torvyn::aggregation::aggregator::Guest;
use torvyn::streaming::types::{OutputElement, ProcessError, StreamElement};

struct Component;

impl Guest for Component {
    fn ingest(_element: StreamElement) -> Result<Option<OutputElement>, ProcessError> {
        Ok(None)
    }

    fn flush() -> Result<Vec<OutputElement>, ProcessError> {
        Ok(Vec::new())
    }
}

export!(Component);
