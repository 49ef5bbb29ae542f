//! Event source (contract 0.1.0): a fixed sequence of JSON events with a
//! severity each.

wit_bindgen::generate!({
    world: "managed-source",
    path: "../../../../wit/streaming",
});

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::source::Guest as SourceGuest;
use std::sync::atomic::{AtomicUsize, Ordering};
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{BackpressureSignal, ElementMeta, OutputElement, ProcessError};

const EVENTS: &[&str] = &[
    r#"{"id":"evt_1","type":"login","severity":"low"}"#,
    r#"{"id":"evt_2","type":"error","severity":"high"}"#,
    r#"{"id":"evt_3","type":"config_change","severity":"low"}"#,
    r#"{"id":"evt_4","type":"login_failed","severity":"high"}"#,
];

static NEXT: AtomicUsize = AtomicUsize::new(0);

struct EventSource;

impl LifecycleGuest for EventSource {
    fn init(_config: String) -> Result<(), ProcessError> {
        NEXT.store(0, Ordering::Relaxed);
        Ok(())
    }
    fn teardown() {}
}

impl SourceGuest for EventSource {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        let index = NEXT.fetch_add(1, Ordering::Relaxed);
        let Some(event) = EVENTS.get(index) else {
            return Ok(None);
        };
        let buffer = buffer_allocator::allocate(event.len() as u64)
            .map_err(|e| ProcessError::Internal(format!("{e:?}")))?;
        buffer
            .append(event.as_bytes())
            .map_err(|e| ProcessError::Internal(format!("{e:?}")))?;
        Ok(Some(OutputElement {
            meta: ElementMeta {
                sequence: index as u64,
                timestamp_ns: 0,
                content_type: "application/json".into(),
            },
            payload: buffer.freeze(),
        }))
    }
    fn notify_backpressure(_signal: BackpressureSignal) {}
}

export!(EventSource);
