//! `even-filter`: a filter (`torvyn:filtering/content-filter`) that accepts
//! exactly the elements whose advisory `meta.sequence` is even.
//!
//! It never touches the payload (no `read`/`read-all`), so it causes no
//! payload copy: the runtime forwards the same host buffer downstream. The
//! world exports no lifecycle, so there is no config.

wit_bindgen::generate!({
    world: "torvyn:filtering/content-filter",
    path: [
        "../../../wit/streaming",
        "../../../wit/resources",
        "../../../wit/filtering",
        "../../../wit/aggregation",
    ],
    // The world lives in torvyn:filtering but uses torvyn:streaming/types:
    // interfaces of another package are only generated with `generate_all`.
    generate_all,
});

use exports::torvyn::filtering::filter::Guest as FilterGuest;
use torvyn::streaming::types::{ProcessError, StreamElement};

struct EvenFilter;

impl FilterGuest for EvenFilter {
    fn evaluate(element: StreamElement) -> Result<bool, ProcessError> {
        Ok(element.meta.sequence % 2 == 0)
    }
}

export!(EvenFilter);
