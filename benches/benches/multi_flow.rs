//! N concurrent flows on one host (1, 10, 100, 1,000, 10,000): aggregate
//! throughput, per-flow fairness (smallest ÷ largest share of the
//! elements delivered in the window) and host memory per flow.
//!
//! `cargo bench -p torvyn-benches --bench multi_flow [-- N …]`
//!
//! Every flow is counter-source (never ending, 64 B) → quiet-sink with
//! queue depth 8 and a 16-buffer small pool, on a host with one worker per
//! core. Flows start suspended so that memory is measured with every flow
//! instantiated and nothing running (heap: a counting allocator; RSS:
//! /proc/self/statm), then all are resumed; after a 0.5 s warmup each
//! flow's delivered count is read from its counters at the start and end
//! of a 3 s window. Not a criterion benchmark: it prints a table.
//!
//! 10,000 flows (20,000 component instances) need more memory mappings
//! than Linux's default `vm.max_map_count` (65,530) allows with Wasmtime's
//! on-demand instance allocator: Wasmtime then panics in `munmap`. Raise
//! the limit (`sysctl vm.max_map_count=262144`) to run them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use torvyn_actors::{FlowId, FlowSpec, FlowState, TorvynHandle, TorvynHost};
use torvyn_benches::stages::test_stage;
use torvyn_runtime::engine::{EngineConfig, WasmEngine};
use torvyn_runtime::reactor::{FlowSettings, StageRole, StreamSettings};
use torvyn_runtime::resources::PoolConfig;

/// Counts live heap bytes.
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: delegates every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const WARMUP: Duration = Duration::from_millis(500);
const WINDOW: Duration = Duration::from_secs(3);

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn spec(engine: &WasmEngine) -> FlowSpec {
    let stage = |name: &str, component: &str, role, config: &str| {
        test_stage(engine, name, component, role, config)
    };
    FlowSpec::chain(
        vec![
            stage(
                "source",
                "counter-source",
                StageRole::Source,
                r#"{"count": 0, "payload_size": 64}"#,
            ),
            stage("sink", "quiet-sink", StageRole::Sink, ""),
        ],
        StreamSettings {
            capacity: 8,
            ..StreamSettings::default()
        },
    )
    .with_settings(FlowSettings {
        pools: PoolConfig {
            small_pool_size: 16,
            medium_pool_size: 0,
            large_pool_size: 0,
            huge_pool_size: 0,
            ..PoolConfig::default()
        },
        ..FlowSettings::default()
    })
    .suspended()
}

fn delivered(host: &TorvynHandle) -> HashMap<FlowId, u64> {
    host.metrics()
        .expect("metrics")
        .into_iter()
        .map(|m| (m.id, m.counters.elements_delivered))
        .collect()
}

struct Row {
    flows: usize,
    throughput: f64,
    min_share: f64,
    heap_per_flow: f64,
    rss_per_flow: f64,
    start_s: f64,
}

fn measure(engine: &WasmEngine, flows: usize) -> Row {
    let host = TorvynHost::builder()
        .engine(engine.clone())
        .build()
        .expect("host");
    let spec = spec(engine);
    // Warm the host's threads with one flow first.
    let warm = host.start_flow(spec.clone()).expect("starts");
    host.cancel(warm).expect("cancels");
    let (heap0, rss0) = (LIVE.load(Relaxed), rss_bytes());
    let began = Instant::now();
    let ids: Vec<FlowId> = (0..flows)
        .map(|_| host.start_flow(spec.clone()).expect("starts"))
        .collect();
    for id in &ids {
        while host.inspect(*id).expect("inspect").state != FlowState::Suspended {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let start_s = began.elapsed().as_secs_f64();
    let heap_per_flow = (LIVE.load(Relaxed) - heap0) as f64 / flows as f64;
    let rss_per_flow = rss_bytes().saturating_sub(rss0) as f64 / flows as f64;
    for id in &ids {
        host.resume(*id).expect("resumes");
    }
    std::thread::sleep(WARMUP);
    let before = delivered(&host);
    let t0 = Instant::now();
    std::thread::sleep(WINDOW);
    let after = delivered(&host);
    let dt = t0.elapsed().as_secs_f64();
    let shares: Vec<u64> = ids
        .iter()
        .map(|id| after.get(id).copied().unwrap_or(0) - before.get(id).copied().unwrap_or(0))
        .collect();
    let total: u64 = shares.iter().sum();
    let (min, max) = (
        shares.iter().copied().min().unwrap_or(0),
        shares.iter().copied().max().unwrap_or(0),
    );
    for id in ids {
        let _ = host.cancel(id);
    }
    host.shutdown();
    Row {
        flows,
        throughput: total as f64 / dt,
        min_share: if max == 0 {
            0.0
        } else {
            min as f64 / max as f64
        },
        heap_per_flow,
        rss_per_flow,
        start_s,
    }
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![1, 10, 100, 1_000, 10_000]
    } else {
        counts
    };
    let engine = WasmEngine::new(EngineConfig {
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("engine");
    println!(
        "{:>7} {:>14} {:>10} {:>14} {:>14} {:>10}",
        "flows", "elements/s", "min/max", "heap/flow", "RSS/flow", "start (s)"
    );
    for flows in counts {
        let row = measure(&engine, flows);
        println!(
            "{:>7} {:>14.0} {:>10.3} {:>12.1} K {:>12.1} K {:>10.2}",
            row.flows,
            row.throughput,
            row.min_share,
            row.heap_per_flow / 1024.0,
            row.rss_per_flow / 1024.0,
            row.start_s
        );
    }
}
