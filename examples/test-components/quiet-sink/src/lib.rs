//! `quiet-sink`: a managed sink (`torvyn:streaming/managed-sink`) that
//! consumes silently and reports one summary line.
//!
//! Each `push` reads the whole payload (one measured copy), counts the
//! element and its bytes, and feeds the bytes into a running 64-bit FNV-1a
//! checksum (see `guest_util::Fnv1a`: it covers the concatenation of all
//! payloads in arrival order). Always answers `ready`.
//!
//! On `complete()` it prints exactly one line to stdout (tests rely on it):
//!
//! ```text
//! [quiet-sink] received=N bytes=B checksum=XXXXXXXXXXXXXXXX
//! ```
//!
//! with `N` and `B` in decimal and the checksum as 16 lowercase hex digits.
//! Nothing is printed on `teardown`. Config is accepted and ignored.

wit_bindgen::generate!({
    world: "torvyn:streaming/managed-sink",
    path: [
        "../../../wit/streaming",
        "../../../wit/resources",
        "../../../wit/filtering",
        "../../../wit/aggregation",
    ],
});

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::sink::Guest as SinkGuest;
use guest_util::{Fnv1a, Global};
use torvyn::streaming::types::{BackpressureSignal, ProcessError, StreamElement};

#[derive(Default)]
struct QuietSink {
    received: u64,
    bytes: u64,
    checksum: Fnv1a,
}

static STATE: Global<QuietSink> = Global::new();

impl LifecycleGuest for QuietSink {
    fn init(_config: String) -> Result<(), ProcessError> {
        STATE.set(QuietSink::default());
        Ok(())
    }

    fn teardown() {}
}

impl SinkGuest for QuietSink {
    fn push(element: StreamElement) -> Result<BackpressureSignal, ProcessError> {
        let payload = element.payload.read_all();
        STATE.with(|s| {
            s.received += 1;
            s.bytes += payload.len() as u64;
            s.checksum.update(&payload);
        });
        Ok(BackpressureSignal::Ready)
    }

    fn complete() -> Result<(), ProcessError> {
        STATE.with(|s| {
            println!(
                "[quiet-sink] received={} bytes={} checksum={:016x}",
                s.received,
                s.bytes,
                s.checksum.value()
            );
        });
        Ok(())
    }
}

export!(QuietSink);
