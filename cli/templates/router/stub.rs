//! `{{name}}`: a router (`torvyn:filtering/router`). Implement `route`:
//! the names of the output ports the element goes to (none drops it).

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of other packages: `generate_all`.
    generate_all,
});

use exports::torvyn::filtering::router::Guest;
use torvyn::streaming::types::{ProcessError, StreamElement};

struct Component;

impl Guest for Component {
    fn route(_element: StreamElement) -> Result<Vec<String>, ProcessError> {
        Ok(Vec::new())
    }
}

export!(Component);
