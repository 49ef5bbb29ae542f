//! `batch-bench-sink`: `bench-sink` with its batch form: counts the
//! messages and bytes it receives, reading a whole batch's payloads with
//! one `read-all-packed` host call.

// The generated bindings take `&mut` of their return area, as
// `wit_bindgen::generate!` output does.
#![allow(static_mut_refs)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

use exports::torvyn::batching::batch_sink::{Guest as BatchGuest, PushFailure};
use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::sink::Guest as SinkGuest;
use std::cell::Cell;
use torvyn::batching::batch_buffers;
use torvyn::streaming::types::{BackpressureSignal, Buffer, ProcessError, StreamElement};

thread_local! {
    static RECEIVED: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

fn receive(elements: &[StreamElement]) {
    let buffers: Vec<&Buffer> = elements.iter().map(|e| e.payload).collect();
    // Packed end to end: every payload was read (and counted by the
    // ledger), so the batch's bytes are the list's length.
    let bytes = batch_buffers::read_all_packed(&buffers).bytes.len() as u64;
    RECEIVED.with(|r| {
        let (n, b) = r.get();
        r.set((n + elements.len() as u64, b + bytes));
    });
}

struct BatchBenchSink;

impl LifecycleGuest for BatchBenchSink {
    fn init(_config: String) -> Result<(), ProcessError> {
        RECEIVED.with(|r| r.set((0, 0)));
        Ok(())
    }

    fn teardown() {}
}

impl SinkGuest for BatchBenchSink {
    fn push(element: StreamElement) -> Result<BackpressureSignal, ProcessError> {
        receive(std::slice::from_ref(&element));
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

impl BatchGuest for BatchBenchSink {
    fn push_batch(elements: Vec<StreamElement>) -> Result<BackpressureSignal, PushFailure> {
        receive(&elements);
        Ok(BackpressureSignal::Ready)
    }
}

export!(BatchBenchSink);
