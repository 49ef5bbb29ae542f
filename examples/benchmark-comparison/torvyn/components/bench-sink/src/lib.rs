//! `bench-sink`: reads every message (`read-all`, one copy) and counts
//! messages and bytes.

wit_bindgen::generate!({
    world: "torvyn:streaming/managed-sink",
    path: [
        "../../../../../wit/streaming",
        "../../../../../wit/resources",
        "../../../../../wit/filtering",
        "../../../../../wit/aggregation",
    ],
});

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::sink::Guest as SinkGuest;
use std::cell::Cell;
use torvyn::streaming::types::{BackpressureSignal, ProcessError, StreamElement};

thread_local! {
    static RECEIVED: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

struct BenchSink;

impl LifecycleGuest for BenchSink {
    fn init(_config: String) -> Result<(), ProcessError> {
        RECEIVED.with(|r| r.set((0, 0)));
        Ok(())
    }

    fn teardown() {}
}

impl SinkGuest for BenchSink {
    fn push(element: StreamElement) -> Result<BackpressureSignal, ProcessError> {
        let payload = element.payload.read_all();
        RECEIVED.with(|r| {
            let (n, b) = r.get();
            r.set((n + 1, b + payload.len() as u64));
        });
        Ok(BackpressureSignal::Ready)
    }

    fn complete() -> Result<(), ProcessError> {
        RECEIVED.with(|r| {
            let (n, b) = r.get();
            println!("[bench-sink] received={n} bytes={b}");
        });
        Ok(())
    }
}

export!(BenchSink);
