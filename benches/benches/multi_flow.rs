//! N concurrent flows on one host (1, 10, 100, 1,000, 10,000): aggregate
//! throughput, per-flow fairness (smallest ÷ largest share of the
//! elements delivered in the window; also within each worker and between
//! the workers' mean shares) and host memory per idle flow.
//!
//! `cargo bench --bench multi_flow [-- N …]`
//!
//! Every flow is counter-source (never ending, 64 B) → quiet-sink with
//! queue depth 8 and a 16-buffer small pool, on a host with one worker per
//! core. Flows start suspended so that memory is measured with every flow
//! instantiated and nothing running (heap: a counting allocator; RSS:
//! /proc/self/statm), then all are resumed; after a 0.5 s warmup each
//! flow's delivered count is read from its counters at the start and end
//! of a 3 s window. Not a criterion benchmark: it prints a table.
//! `MULTI_FLOW_QUANTUM_US` sets the flows' batch time quantum (default: the
//! host's, 100 µs).
//!
//! Memory per idle flow is split honestly: first, 1,000 pairs of bare
//! component instances (counter-source + quiet-sink, each a Wasmtime
//! `Store` from the engine's instance pool, no Torvyn flow around them) are
//! created and measured the same way — Wasmtime's own cost of a flow's two
//! instances; `torvyn/flow` is the host's heap per flow minus that.
//! `maps/flow` counts the memory mappings (`/proc/self/maps`) each idle
//! flow adds: Linux allows 65,530 per process by default.
//!
//! The engine's instance pool (`[runtime] max_component_instances`, set
//! here to [`POOL`]; the host's default is no pool) holds 10,000
//! two-stage flows plus restarts without a
//! mapping per instance (with Wasmtime's on-demand allocator 10,000 flows
//! exhausted `vm.max_map_count` and the process aborted). Flows past the
//! pool are refused (E0300) and counted in `refused`.
//! `MULTI_FLOW_POOL=0` runs without the pool, as a default host does:
//! instances are allocated on demand and, near `vm.max_map_count`, flows
//! are refused (E0300) instead of the process aborting.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use torvyn_actors::{BatchPolicy, FlowId, FlowSpec, FlowState, TorvynHandle, TorvynHost};
use torvyn_benches::stages::test_stage;
use torvyn_runtime::engine::{ComponentInstance, EngineConfig, WasmEngine};
use torvyn_runtime::reactor::{FlowSettings, StageComponent, StageRole, StreamSettings};
use torvyn_runtime::resources::{ComponentId, PoolConfig};
use torvyn_runtime::security::SandboxConfig;

/// `[runtime] max_component_instances` for this benchmark: 10,000
/// two-stage flows plus restarts.
const POOL: u32 = 24_576;

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

/// Memory mappings of the process.
fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps").map_or(0, |s| s.lines().count())
}

/// Wasmtime's own cost of one flow's instances: heap and RSS per pair of
/// bare instances (counter-source + quiet-sink), over `pairs` pairs.
fn wasmtime_pair_cost(engine: &WasmEngine, pairs: usize) -> (f64, f64, f64) {
    let spec = spec(engine);
    let compiled: Vec<_> = spec
        .stages()
        .iter()
        .filter_map(|stage| match &stage.component {
            StageComponent::Wasm(c) => Some((stage.name.clone(), c.clone())),
            StageComponent::Connector(_) => None,
        })
        .collect();
    let sandbox = SandboxConfig::default();
    let (heap0, rss0, maps0) = (LIVE.load(Relaxed), rss_bytes(), mappings());
    let instances: Vec<ComponentInstance> = (0..pairs)
        .flat_map(|i| {
            let sandbox = &sandbox;
            compiled.iter().enumerate().map(move |(k, (name, c))| {
                let id = ComponentId((i * 2 + k) as u32);
                ComponentInstance::instantiate(engine, c, id, name, sandbox).expect("instance")
            })
        })
        .collect();
    let heap = (LIVE.load(Relaxed) - heap0) as f64 / pairs as f64;
    let rss = rss_bytes().saturating_sub(rss0) as f64 / pairs as f64;
    let maps = mappings().saturating_sub(maps0) as f64 / pairs as f64;
    drop(instances);
    (heap, rss, maps)
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
    .with_batch(BatchPolicy {
        quantum: std::env::var("MULTI_FLOW_QUANTUM_US")
            .ok()
            .and_then(|us| us.parse().ok())
            .map_or(BatchPolicy::default().quantum, Duration::from_micros),
        ..BatchPolicy::default()
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
    refused: usize,
    throughput: f64,
    min_share: f64,
    /// Smallest min ÷ max among the flows of one worker.
    within_worker: f64,
    /// Smallest ÷ largest of the workers' mean shares.
    between_workers: f64,
    heap_per_flow: f64,
    rss_per_flow: f64,
    maps_per_flow: f64,
    start_s: f64,
}

fn ratio(min: u64, max: u64) -> f64 {
    if max == 0 {
        0.0
    } else {
        min as f64 / max as f64
    }
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
    let (heap0, rss0, maps0) = (LIVE.load(Relaxed), rss_bytes(), mappings());
    let began = Instant::now();
    let started: Vec<FlowId> = (0..flows)
        .map(|_| host.start_flow(spec.clone()).expect("starts"))
        .collect();
    // A flow past the instance pool fails (E0300); the others run.
    let mut ids = Vec::with_capacity(flows);
    let mut refused = 0;
    for id in started {
        loop {
            let inspection = host.inspect(id).expect("inspect");
            if inspection.state == FlowState::Suspended {
                ids.push(id);
                break;
            }
            if inspection.state.is_terminal() {
                if refused == 0 {
                    eprintln!("refused: {:?}", inspection.failure);
                }
                refused += 1;
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let start_s = began.elapsed().as_secs_f64();
    let idle = ids.len().max(1) as f64;
    let heap_per_flow = (LIVE.load(Relaxed) - heap0) as f64 / idle;
    let rss_per_flow = rss_bytes().saturating_sub(rss0) as f64 / idle;
    let maps_per_flow = mappings().saturating_sub(maps0) as f64 / idle;
    // Each flow's worker, asked while the flows idle (a running flow
    // answers only between two of its batches).
    let workers: Vec<usize> = ids
        .iter()
        .map(|id| host.inspect(*id).expect("inspect").arbiter)
        .collect();
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
    let mut per_worker: HashMap<usize, Vec<u64>> = HashMap::new();
    for (worker, share) in workers.iter().zip(&shares) {
        per_worker.entry(*worker).or_default().push(*share);
    }
    let within_worker = per_worker
        .values()
        .map(|s| ratio(*s.iter().min().unwrap_or(&0), *s.iter().max().unwrap_or(&0)))
        .fold(1.0, f64::min);
    let means: Vec<u64> = per_worker
        .values()
        .map(|s| s.iter().sum::<u64>() / s.len().max(1) as u64)
        .collect();
    let between_workers = ratio(
        means.iter().copied().min().unwrap_or(0),
        means.iter().copied().max().unwrap_or(0),
    );
    // Shutting the host down drops every flow at once; cancelling them one
    // by one would wait for each flow's turn on its worker (a round of
    // 5,000 batches per worker at 10,000 flows).
    let stopping = Instant::now();
    host.shutdown();
    eprintln!(
        "{flows} flows: cancelled and shut down in {:.1} s",
        stopping.elapsed().as_secs_f64()
    );
    Row {
        flows,
        refused,
        throughput: total as f64 / dt,
        min_share: ratio(min, max),
        within_worker,
        between_workers,
        heap_per_flow,
        rss_per_flow,
        maps_per_flow,
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
        max_component_instances: std::env::var("MULTI_FLOW_POOL")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(POOL),
        ..EngineConfig::default()
    })
    .expect("engine");
    let (wt_heap, wt_rss, wt_maps) = wasmtime_pair_cost(&engine, 1_000);
    println!(
        "Wasmtime alone, per pair of bare instances: heap {:.1} K, RSS {:.1} K, {:.1} mappings",
        wt_heap / 1024.0,
        wt_rss / 1024.0,
        wt_maps
    );
    println!(
        "{:>7} {:>8} {:>12} {:>8} {:>8} {:>8} {:>11} {:>11} {:>11} {:>9} {:>9}",
        "flows",
        "refused",
        "elements/s",
        "min/max",
        "in-wkr",
        "btw-wkr",
        "heap/flow",
        "torvyn/flow",
        "RSS/flow",
        "maps/flow",
        "start (s)"
    );
    for flows in counts {
        let row = measure(&engine, flows);
        println!(
            "{:>7} {:>8} {:>12.0} {:>8.3} {:>8.3} {:>8.3} {:>9.1} K {:>9.1} K {:>9.1} K {:>9.2} {:>9.2}",
            row.flows,
            row.refused,
            row.throughput,
            row.min_share,
            row.within_worker,
            row.between_workers,
            row.heap_per_flow / 1024.0,
            (row.heap_per_flow - wt_heap) / 1024.0,
            row.rss_per_flow / 1024.0,
            row.maps_per_flow,
            row.start_s
        );
    }
}
