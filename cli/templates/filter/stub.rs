//! `{{name}}`: a filter (`torvyn:filtering/filter`). Implement `evaluate`:
//! `true` keeps the element, `false` drops it.

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of other packages: `generate_all`.
    generate_all,
});

use exports::torvyn::filtering::filter::Guest;
use torvyn::streaming::types::{ProcessError, StreamElement};

struct Component;

impl Guest for Component {
    fn evaluate(_element: StreamElement) -> Result<bool, ProcessError> {
        Ok(true)
    }
}

export!(Component);
