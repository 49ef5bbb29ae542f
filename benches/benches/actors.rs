//! counter-source → passthrough → quiet-sink through the actor runtime
//! (`TorvynHandle`) next to the bare synchronous stage loop, in one run;
//! then a probe of host-side memory per idle (suspended) flow.
//!
//! `cargo bench -p torvyn-benches --bench actors -- --warm-up-time 1 --measurement-time 3`
//!
//! Both sides are timed by the flow's own report (`duration`: first pull to
//! completion), so instantiation is excluded from both and only the
//! steady-state element path is compared.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::time::Duration;
use torvyn_actors::{FlowSpec, TorvynHost};
use torvyn_benches::stages::{counter_source, source_pass_sink, test_stage};
use torvyn_runtime::engine::{EngineConfig, WasmEngine};
use torvyn_runtime::reactor::{FlowSettings, LinearFlow, StageRole, StageSpec};

/// Counts live heap bytes (for the idle-flow probe).
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

fn engine() -> WasmEngine {
    WasmEngine::new(EngineConfig {
        fuel_per_invocation: 1_000_000,
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("engine")
}

fn stages(engine: &WasmEngine, count: u64, with_processor: bool) -> Vec<StageSpec> {
    if with_processor {
        return source_pass_sink(engine, count);
    }
    vec![
        counter_source(engine, count),
        test_stage(engine, "sink", "quiet-sink", StageRole::Sink, String::new()),
    ]
}

fn actor_vs_bare(c: &mut Criterion) {
    let engine = engine();
    let host = TorvynHost::builder()
        .engine(engine.clone())
        .worker_threads(1)
        .build()
        .expect("host");
    let mut group = c.benchmark_group("source_pass_sink");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("bare_stage_loop", 64), |b| {
        b.iter_custom(|iters| {
            let report = LinearFlow::start(
                &engine,
                stages(&engine, iters, true),
                FlowSettings::default(),
            )
            .expect("starts")
            .run_to_completion()
            .expect("runs");
            assert_eq!(report.elements_delivered, iters);
            report.duration
        })
    });
    group.bench_function(BenchmarkId::new("actor_runtime", 64), |b| {
        b.iter_custom(|iters| {
            let id = host
                .start_flow(FlowSpec::new(stages(&engine, iters, true)))
                .expect("starts");
            let report = host.await_completion(id).expect("runs");
            assert_eq!(report.elements_delivered, iters);
            report.duration
        })
    });
    group.finish();
    host.shutdown();
}

/// Steady state: one long flow each way (200,000 elements), so per-flow
/// start-up and the first batch's scheduling latency do not weigh in.
fn long_flow_ratio(_: &mut Criterion) {
    const ELEMENTS: u64 = 200_000;
    let engine = engine();
    let host = TorvynHost::builder()
        .engine(engine.clone())
        .worker_threads(1)
        .build()
        .expect("host");
    let bare = LinearFlow::start(
        &engine,
        stages(&engine, ELEMENTS, true),
        FlowSettings::default(),
    )
    .expect("starts")
    .run_to_completion()
    .expect("runs");
    let id = host
        .start_flow(FlowSpec::new(stages(&engine, ELEMENTS, true)))
        .expect("starts");
    let actor = host.await_completion(id).expect("runs");
    host.shutdown();
    assert_eq!(
        (bare.elements_delivered, actor.elements_delivered),
        (ELEMENTS, ELEMENTS)
    );
    let per = |d: std::time::Duration| d.as_nanos() as f64 / ELEMENTS as f64;
    let (b, a) = (per(bare.duration), per(actor.duration));
    println!(
        "steady state ({ELEMENTS} elements, counter-source → passthrough → quiet-sink): \
         bare stage loop {b:.0} ns/element, actor runtime {a:.0} ns/element, \
         actor/bare throughput {:.3}, host overhead {:.0} ns/element/stage",
        b / a,
        (a - b) / 3.0
    );
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Not a timing: prints heap and RSS per idle flow, for bare flows (the
/// Wasm instances alone) and suspended flows on the actor host.
fn idle_flows(_: &mut Criterion) {
    const N: usize = 1000;
    let engine = engine();
    let specs = stages(&engine, 10, false);

    let (heap0, rss0) = (LIVE.load(Relaxed), rss_bytes());
    let bare: Vec<LinearFlow> = (0..N)
        .map(|_| {
            LinearFlow::start(&engine, specs.clone(), FlowSettings::default()).expect("starts")
        })
        .collect();
    let bare_heap = (LIVE.load(Relaxed) - heap0) as f64 / N as f64;
    let bare_rss = rss_bytes().saturating_sub(rss0) as f64 / N as f64;
    drop(bare);

    let host = TorvynHost::builder()
        .engine(engine.clone())
        .worker_threads(2)
        .build()
        .expect("host");
    // Warm the host (threads, first flow) before measuring.
    let warm = host
        .start_flow(FlowSpec::new(specs.clone()))
        .expect("starts");
    host.await_completion(warm).expect("runs");
    let (heap0, rss0) = (LIVE.load(Relaxed), rss_bytes());
    let ids: Vec<_> = (0..N)
        .map(|_| {
            host.start_flow(FlowSpec::new(specs.clone()).suspended())
                .expect("starts")
        })
        .collect();
    // Wait until every flow is instantiated and suspended.
    for id in &ids {
        while host.inspect(*id).expect("inspect").state != torvyn_actors::FlowState::Suspended {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let actor_heap = (LIVE.load(Relaxed) - heap0) as f64 / N as f64;
    let actor_rss = rss_bytes().saturating_sub(rss0) as f64 / N as f64;
    eprintln!(
        "idle flows ({N}, counter-source → quiet-sink): bare flow {:.0} B heap / {:.0} B RSS each; \
         suspended actor flow {:.0} B heap / {:.0} B RSS each; actor layer adds ≈ {:.0} B heap per idle flow",
        bare_heap,
        bare_rss,
        actor_heap,
        actor_rss,
        actor_heap - bare_heap
    );
    for id in ids {
        host.cancel(id).expect("cancels");
    }
    host.shutdown();
}

criterion_group!(benches, actor_vs_bare, long_flow_ratio, idle_flows);
criterion_main!(benches);
