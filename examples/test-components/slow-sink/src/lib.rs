//! `slow-sink`: a managed sink (`torvyn:streaming/managed-sink`) that is
//! deliberately slow, for backpressure tests.
//!
//! Config (`lifecycle.init`, JSON object, every key optional):
//!
//! - `spin` (default 0): busy-loop iterations per element (the loop cannot be
//!   optimized away).
//! - `pause_every` (default 0 = never): return `pause` from every
//!   `pause_every`-th `push` (the element itself is accepted), `ready`
//!   otherwise.
//! - `log_lengths` (default 0): when 1, print `[slow-sink] len=<payload bytes>`
//!   for every element as it arrives (tests read the arrival order).
//! - `log_trace` (default 0): when 1, print
//!   `[slow-sink] seq=<sequence> trace=<trace-id> span=<span-id>` for every
//!   element, as the element's `flow-context` gives them (both empty when
//!   the flow is not traced).
//!
//! Like `quiet-sink` it reads every payload and keeps counts and a checksum;
//! on `complete()` it prints exactly one line to stdout:
//!
//! ```text
//! [slow-sink] received=N
//! ```

wit_bindgen::generate!({
    world: "torvyn:streaming/managed-sink",
    path: [
        "../../../wit/streaming",
        "../../../wit/resources",
        "../../../wit/filtering",
        "../../../wit/aggregation",
    ],
});

use std::hint::black_box;

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::sink::Guest as SinkGuest;
use guest_util::{Config, Fnv1a, Global};
use torvyn::streaming::types::{BackpressureSignal, ProcessError, StreamElement};

#[derive(Default)]
struct SlowSink {
    spin: u64,
    pause_every: u64,
    log_lengths: bool,
    log_trace: bool,
    received: u64,
    bytes: u64,
    checksum: Fnv1a,
}

static STATE: Global<SlowSink> = Global::new();

impl LifecycleGuest for SlowSink {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        STATE.set(SlowSink {
            spin: parsed
                .u64_or("spin", 0)
                .map_err(ProcessError::InvalidInput)?,
            pause_every: parsed
                .u64_or("pause_every", 0)
                .map_err(ProcessError::InvalidInput)?,
            log_lengths: parsed
                .u64_or("log_lengths", 0)
                .map_err(ProcessError::InvalidInput)?
                != 0,
            log_trace: parsed
                .u64_or("log_trace", 0)
                .map_err(ProcessError::InvalidInput)?
                != 0,
            ..SlowSink::default()
        });
        Ok(())
    }

    fn teardown() {}
}

impl SinkGuest for SlowSink {
    fn push(element: StreamElement) -> Result<BackpressureSignal, ProcessError> {
        let payload = element.payload.read_all();
        STATE.with(|s| {
            let mut acc = 0u64;
            for i in 0..s.spin {
                acc = black_box(acc.wrapping_add(i));
            }
            black_box(acc);
            s.received += 1;
            s.bytes += payload.len() as u64;
            s.checksum.update(&payload);
            if s.log_lengths {
                println!("[slow-sink] len={}", payload.len());
            }
            if s.log_trace {
                println!(
                    "[slow-sink] seq={} trace={} span={}",
                    element.meta.sequence,
                    element.context.trace_id(),
                    element.context.span_id()
                );
            }
            if s.pause_every != 0 && s.received % s.pause_every == 0 {
                Ok(BackpressureSignal::Pause)
            } else {
                Ok(BackpressureSignal::Ready)
            }
        })
    }

    fn complete() -> Result<(), ProcessError> {
        STATE.with(|s| println!("[slow-sink] received={}", s.received));
        Ok(())
    }
}

export!(SlowSink);
