//! `{{name}}`: a filter (`torvyn:filtering/filter`) that keeps the elements
//! whose sequence number is even. It reads only the metadata, so the
//! payload is never copied.

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of other packages (torvyn:filtering,
    // torvyn:streaming): those are only generated with `generate_all`.
    generate_all,
});

use exports::torvyn::filtering::filter::Guest;
use torvyn::streaming::types::{ProcessError, StreamElement};

struct Component;

impl Guest for Component {
    fn evaluate(element: StreamElement) -> Result<bool, ProcessError> {
        Ok(element.meta.sequence % 2 == 0)
    }
}

export!(Component);
