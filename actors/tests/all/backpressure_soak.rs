//! A fast source into a slow sink for a million elements under each
//! backpressure policy that keeps a flow running: resident memory stays
//! flat (sampled while the flow runs), the queue never holds more than its
//! capacity, `block` and `rate-limit` lose nothing, and the drop policies
//! count every element they drop.

use crate::common::*;
use crate::reliability::{assert_clean, in_own_process, rss_kib, SOAK_CHILD};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use torvyn_actors::FlowSpec;
use torvyn_runtime::reactor::backpressure::Policy;
use torvyn_runtime::reactor::{FlowSettings, FlowSpec as GraphSpec, StageRole, StreamSettings};

const N: u64 = 1_000_000;
const CAPACITY: usize = 64;

/// counter-source (`count`, 64 B) → slow-sink, over one queue of
/// [`CAPACITY`] under `policy`. The sink answers `pause` to every second
/// push, and a paused sink gets nothing more until the flow's next turn,
/// while the source may produce a turn's worth: the sink takes fewer
/// elements per turn than the source makes, so the queue fills.
fn fast_into_slow(
    engine: &torvyn_runtime::engine::WasmEngine,
    count: u64,
    policy: Policy,
) -> GraphSpec {
    let stages = vec![
        torvyn_e2e::test_stage(
            engine,
            "source",
            "counter-source",
            StageRole::Source,
            format!(r#"{{"count": {count}, "payload_size": 64}}"#),
        ),
        torvyn_e2e::test_stage(
            engine,
            "sink",
            "slow-sink",
            StageRole::Sink,
            r#"{"pause_every": 2}"#,
        ),
    ];
    GraphSpec::linear(
        stages,
        StreamSettings {
            capacity: CAPACITY,
            policy,
            ..StreamSettings::default()
        },
    )
}

/// The highest resident memory seen while `work` runs (sampled every
/// 20 ms), and what `work` returned.
fn peak_rss_during<T>(work: impl FnOnce() -> T) -> (u64, T) {
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(rss_kib()));
    let sampler = {
        let (done, peak) = (Arc::clone(&done), Arc::clone(&peak));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let result = work();
    done.store(true, Ordering::Relaxed);
    sampler.join().expect("the sampler ends");
    (peak.load(Ordering::Relaxed), result)
}

/// A million elements through one queue under `policy` (test `name`, run
/// in a process of its own).
fn soak(name: &str, policy: Policy) {
    if std::env::var_os(SOAK_CHILD).is_none() {
        return in_own_process(name);
    }
    let (engine, _captured) = engine_capturing_stdout();
    let host = host_on(&engine, 1);
    let run = |count: u64, flow_name: &str| {
        let flow =
            FlowSpec::graph(fast_into_slow(&engine, count, policy)).with_settings(FlowSettings {
                flow_name: flow_name.into(),
                ..FlowSettings::default()
            });
        let id = host.start_flow(flow).expect("starts");
        host.await_completion(id).expect("completes")
    };
    // A first run settles the pools, the code cache and the allocator.
    run(20_000, "warmup");
    let start = rss_kib();
    let (peak, report) = peak_rss_during(|| run(N, "soak"));
    let end = rss_kib();
    host.shutdown();
    let stream = &report.streams[0];
    eprintln!(
        "soak {policy:?}: {N} elements, RSS {start} KiB → peak {peak} KiB → {end} KiB, delivered {}, dropped {} (oldest {}, newest {}), peak depth {}/{}",
        report.elements_delivered,
        report.elements_dropped,
        stream.dropped_oldest,
        stream.dropped_newest,
        stream.peak_depth,
        stream.capacity,
    );
    assert_eq!(report.elements_pulled, N);
    assert_eq!(stream.capacity, CAPACITY);
    assert!(stream.peak_depth <= CAPACITY, "{stream:?}");
    assert_eq!(
        report.elements_delivered + report.elements_dropped,
        N,
        "every element is delivered or counted as dropped"
    );
    match policy {
        Policy::Block | Policy::RateLimit { .. } => {
            assert_eq!(report.elements_delivered, N, "nothing lost");
            assert_eq!(report.elements_dropped, 0);
        }
        Policy::DropOldest => {
            assert!(stream.dropped_oldest > 0, "a slow sink makes drops");
            assert_eq!(stream.dropped_oldest, report.elements_dropped);
        }
        Policy::DropNewest => {
            assert!(stream.dropped_newest > 0, "a slow sink makes drops");
            assert_eq!(stream.dropped_newest, report.elements_dropped);
        }
        Policy::Error => unreachable!("a failing flow is not a soak"),
    }
    assert_clean(&report);
    assert!(
        peak < start + 32 * 1024,
        "resident memory rose by {} KiB while {N} elements ran",
        peak as i64 - start as i64
    );
}

#[test]
fn soak_a_million_elements_under_block() {
    soak(
        "backpressure_soak::soak_a_million_elements_under_block",
        Policy::Block,
    );
}

#[test]
fn soak_a_million_elements_under_drop_oldest() {
    soak(
        "backpressure_soak::soak_a_million_elements_under_drop_oldest",
        Policy::DropOldest,
    );
}

#[test]
fn soak_a_million_elements_under_drop_newest() {
    soak(
        "backpressure_soak::soak_a_million_elements_under_drop_newest",
        Policy::DropNewest,
    );
}

/// Rate-limited to 100,000 elements a second: ten seconds, nothing lost.
#[test]
fn soak_a_million_elements_under_rate_limit() {
    soak(
        "backpressure_soak::soak_a_million_elements_under_rate_limit",
        Policy::RateLimit {
            per_second: 100_000,
        },
    );
}
