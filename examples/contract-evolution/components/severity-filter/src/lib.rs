//! Priority filter, contract 0.1.0: passes events whose enriched payload
//! carries `"priority":100`. It has to read the payload to decide.

wit_bindgen::generate!({
    world: "torvyn:filtering/content-filter",
    path: ["../../../../wit/streaming", "../../../../wit/filtering"],
    // The world lives in torvyn:filtering but uses torvyn:streaming/types.
    generate_all,
});

use exports::torvyn::filtering::filter::Guest as FilterGuest;
use torvyn::streaming::types::{ProcessError, StreamElement};

struct SeverityFilter;

impl FilterGuest for SeverityFilter {
    fn evaluate(element: StreamElement) -> Result<bool, ProcessError> {
        let bytes = element.payload.read_all();
        Ok(String::from_utf8_lossy(&bytes).contains(r#""priority":100"#))
    }
}

export!(SeverityFilter);
