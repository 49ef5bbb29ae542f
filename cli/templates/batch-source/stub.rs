//! `{{name}}`: a source with its batch form. Implement `pull` (one element,
//! or `None` to end the stream) and `pull-batch` (up to `max` elements, or
//! none to end it) with the same logic: the runtime calls either.
//! `torvyn:batching/batch-buffers` makes a whole batch's buffers in one
//! host call (`freeze-batch`).

wit_bindgen::generate!({
    world: "{{name}}",
    path: "wit",
    // The world uses interfaces of other packages: `generate_all`.
    generate_all,
});

use exports::torvyn::batching::batch_source::Guest as BatchGuest;
use exports::torvyn::streaming::source::Guest;
use torvyn::streaming::types::{BackpressureSignal, OutputElement, ProcessError};

struct Component;

impl Guest for Component {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        Ok(None)
    }

    fn notify_backpressure(_signal: BackpressureSignal) {}
}

impl BatchGuest for Component {
    fn pull_batch(_max: u32) -> Result<Vec<OutputElement>, ProcessError> {
        Ok(Vec::new())
    }
}

export!(Component);
