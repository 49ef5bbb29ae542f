//! Event sink (contract 0.1.0): prints each event it receives and a count
//! on completion.

wit_bindgen::generate!({
    world: "data-sink",
    path: "../../../../wit/streaming",
});

use exports::torvyn::streaming::sink::Guest as SinkGuest;
use std::sync::atomic::{AtomicU64, Ordering};
use torvyn::streaming::types::{BackpressureSignal, ProcessError, StreamElement};

static RECEIVED: AtomicU64 = AtomicU64::new(0);

struct EventSink;

impl SinkGuest for EventSink {
    fn push(element: StreamElement) -> Result<BackpressureSignal, ProcessError> {
        let count = RECEIVED.fetch_add(1, Ordering::Relaxed) + 1;
        let bytes = element.payload.read_all();
        println!("[event-sink] [event {count}] {}", String::from_utf8_lossy(&bytes));
        Ok(BackpressureSignal::Ready)
    }

    fn complete() -> Result<(), ProcessError> {
        println!(
            "[event-sink] High-priority events delivered: {}",
            RECEIVED.load(Ordering::Relaxed)
        );
        Ok(())
    }
}

export!(EventSink);
