//! Priority filter, contract 0.2.0: the same decision made on metadata
//! alone, from the `priority` field contract 0.2.0 added to
//! `element-meta` — no payload read, no copy.
//!
//! It is compiled against `contracts/0.2.0/` (torvyn:streaming@0.2.0 and
//! torvyn:filtering@0.2.0). Placed downstream of an enricher compiled
//! against 0.1.0, which cannot produce `priority`, `torvyn link` rejects
//! the flow (E0200) before anything runs.

wit_bindgen::generate!({
    world: "torvyn:filtering/content-filter",
    path: ["../../contracts/0.2.0/streaming", "../../contracts/0.2.0/filtering"],
    generate_all,
});

use exports::torvyn::filtering::filter::Guest as FilterGuest;
use torvyn::streaming::types::{ProcessError, StreamElement};

struct PriorityFilter;

impl FilterGuest for PriorityFilter {
    fn evaluate(element: StreamElement) -> Result<bool, ProcessError> {
        Ok(element.meta.priority >= 100)
    }
}

export!(PriorityFilter);
