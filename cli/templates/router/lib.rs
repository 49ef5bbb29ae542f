//! `{{name}}`: a router (`torvyn:filtering/router`) that sends elements
//! with an even sequence number to port `even` and the others to `odd`.
//! The ports are the `port` of the flow's edges leaving this node.

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of other packages (torvyn:filtering,
    // torvyn:streaming): those are only generated with `generate_all`.
    generate_all,
});

use exports::torvyn::filtering::router::Guest;
use torvyn::streaming::types::{ProcessError, StreamElement};

struct Component;

impl Guest for Component {
    fn route(element: StreamElement) -> Result<Vec<String>, ProcessError> {
        let port = if element.meta.sequence % 2 == 0 {
            "even"
        } else {
            "odd"
        };
        Ok(vec![port.to_string()])
    }
}

export!(Component);
