//! `count-aggregator`: an aggregator (`torvyn:aggregation/stream-aggregator`)
//! that counts elements and payload bytes.
//!
//! Config (`lifecycle.init`, JSON object): `every` (default 0 = never).
//!
//! - `ingest` counts the element and its payload size (`buffer.size()`, no
//!   payload copy). When `every` is non-zero and the count reaches a multiple
//!   of `every`, it emits a running aggregate.
//! - `flush` (end of stream) emits exactly one final aggregate.
//!
//! An aggregate is the text payload `count=N bytes=B` (running totals,
//! content type `text/plain`) with `meta.sequence` = the number of
//! aggregates emitted before it.

wit_bindgen::generate!({
    world: "torvyn:aggregation/stream-aggregator",
    path: [
        "../../../wit/streaming",
        "../../../wit/resources",
        "../../../wit/filtering",
        "../../../wit/aggregation",
    ],
    // The world lives in torvyn:aggregation but uses torvyn:streaming
    // interfaces: those are only generated with `generate_all`.
    generate_all,
});

use exports::torvyn::aggregation::aggregator::Guest as AggregatorGuest;
use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use guest_util::{Config, Global};
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{ElementMeta, OutputElement, ProcessError, StreamElement};

const CONTENT_TYPE: &str = "text/plain";

#[derive(Default)]
struct CountAggregator {
    every: u64,
    count: u64,
    bytes: u64,
    emitted: u64,
}

static STATE: Global<CountAggregator> = Global::new();

impl CountAggregator {
    /// The aggregate `count=N bytes=B` as a new host buffer.
    fn aggregate(&mut self) -> Result<OutputElement, ProcessError> {
        let text = format!("count={} bytes={}", self.count, self.bytes);
        let buffer = buffer_allocator::allocate(text.len() as u64).map_err(|e| {
            ProcessError::Unavailable(format!("count-aggregator: allocate failed: {e:?}"))
        })?;
        buffer.append(text.as_bytes()).map_err(|e| {
            ProcessError::Internal(format!("count-aggregator: append failed: {e:?}"))
        })?;
        buffer.set_content_type(CONTENT_TYPE);
        let sequence = self.emitted;
        self.emitted += 1;
        Ok(OutputElement {
            meta: ElementMeta {
                sequence,
                timestamp_ns: 0,
                content_type: CONTENT_TYPE.to_string(),
            },
            payload: buffer.freeze(),
        })
    }
}

impl LifecycleGuest for CountAggregator {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        STATE.set(CountAggregator {
            every: parsed
                .u64_or("every", 0)
                .map_err(ProcessError::InvalidInput)?,
            ..CountAggregator::default()
        });
        Ok(())
    }

    fn teardown() {}
}

impl AggregatorGuest for CountAggregator {
    fn ingest(element: StreamElement) -> Result<Option<OutputElement>, ProcessError> {
        let size = element.payload.size();
        STATE.with(|s| {
            s.count += 1;
            s.bytes += size;
            if s.every != 0 && s.count % s.every == 0 {
                s.aggregate().map(Some)
            } else {
                Ok(None)
            }
        })
    }

    fn flush() -> Result<Vec<OutputElement>, ProcessError> {
        STATE.with(|s| Ok(vec![s.aggregate()?]))
    }
}

export!(CountAggregator);
