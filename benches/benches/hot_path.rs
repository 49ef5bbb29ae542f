//! Micro-benchmarks of the per-element pieces of Torvyn's hot path: the
//! resource table, a buffer's whole life in the resource manager, the
//! pools, the ring queue, the credit ledger, a metrics histogram record,
//! and one component call.
//!
//! `cargo bench -p torvyn-benches --bench hot_path`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use torvyn_runtime::engine::bindings::types::{ElementMeta, FlowContext, StreamElement};
use torvyn_runtime::engine::{
    ComponentInstance, EngineConfig, FlowContextData, FlowShared, WasmEngine,
};
use torvyn_runtime::reactor::histogram::{bucket_of, BOUNDS_NS};
use torvyn_runtime::reactor::{BoundedQueue, CreditLedger, LogHistogram, QueuedElement};
use torvyn_runtime::resources::table::ResourceTable;
use torvyn_runtime::resources::{
    BufferKind, BufferPool, ComponentId, Owner, OwnershipState, PoolConfig, ResourceLimits,
    ResourceManager,
};
use torvyn_runtime::security::SandboxConfig;
use wasmtime::component::Resource;

fn resource_table(c: &mut Criterion) {
    let mut pool = BufferPool::new(PoolConfig::default());
    let mut table = ResourceTable::default();
    let state = OwnershipState::Owned(Owner::Component(ComponentId(0)));
    c.bench_function("resource_table/insert_get_remove", |b| {
        b.iter(|| {
            let storage = pool.acquire(64).expect("pool");
            let id = table
                .insert(storage, 256, BufferKind::Mutable, state)
                .expect("insert");
            black_box(table.get(id, "bench").expect("get").capacity);
            let storage = table.remove(id, "bench").expect("remove");
            pool.release(storage);
        })
    });
}

/// allocate → append 64 B → freeze → output accepted → lent to the next stage → released: the
/// resource-manager work one element costs, without the guest.
fn buffer_life(c: &mut Criterion) {
    let mut resources =
        ResourceManager::new(PoolConfig::default(), ResourceLimits::default(), 2, 0);
    let (producer, consumer) = (ComponentId(0), ComponentId(1));
    c.bench_function("resource_manager/buffer_life", |b| {
        b.iter(|| {
            let mutable = resources.guest_allocate(producer, 64).expect("allocate");
            resources
                .guest_append(producer, mutable, &[7; 64])
                .expect("append");
            let id = resources.guest_freeze(producer, mutable).expect("freeze");
            resources.guest_drop(producer, mutable).expect("drop");
            resources.accept_output(producer, id).expect("accept");
            resources.lend(id, consumer).expect("lend");
            resources.end_lend(id).expect("end lend");
            resources.release(id).expect("release");
        })
    });
}

fn pool(c: &mut Criterion) {
    let mut pool = BufferPool::new(PoolConfig::default());
    c.bench_function("pool/acquire_release_64B", |b| {
        b.iter(|| {
            let storage = pool.acquire(black_box(64)).expect("pool");
            pool.release(storage);
        })
    });
}

fn ring_queue(c: &mut Criterion) {
    let mut pool = BufferPool::new(PoolConfig::default());
    let mut table = ResourceTable::default();
    let buffer = table
        .insert(
            pool.acquire(64).expect("pool"),
            256,
            BufferKind::Immutable,
            OwnershipState::Transit,
        )
        .expect("insert");
    let element = QueuedElement {
        sequence: 0,
        timestamp_ns: 0,
        buffer,
        enqueued: Default::default(),
    };
    let mut queue = BoundedQueue::new(64);
    c.bench_function("ring_queue/push_pop", |b| {
        b.iter(|| {
            let _ = queue.push(black_box(element));
            black_box(queue.pop());
        })
    });
}

fn credit_ledger(c: &mut Criterion) {
    let mut ledger = CreditLedger::new(64);
    c.bench_function("credit_ledger/consume_grant", |b| {
        b.iter(|| {
            let _ = black_box(ledger.consume());
            let _ = black_box(ledger.grant(1));
        })
    });
}

/// Latency-like values spread over five decades (100 ns – 10 ms), in an
/// order a branch predictor cannot learn.
fn varied_latencies() -> Vec<u64> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let decade = 10u64.pow(2 + (x % 5) as u32);
            decade + (x >> 8) % (9 * decade)
        })
        .collect()
}

/// A metrics histogram record (`LogHistogram::record`) on varied values,
/// and its bucket lookup against the binary search it replaced (the
/// baseline, measured in the same run).
fn histogram_record(c: &mut Criterion) {
    let values = varied_latencies();
    let histogram = LogHistogram::default();
    let mut group = c.benchmark_group("histogram");
    group.throughput(criterion::Throughput::Elements(values.len() as u64));
    group.bench_function("record", |b| {
        b.iter(|| {
            for &ns in &values {
                histogram.record(black_box(ns));
            }
        })
    });
    group.bench_function("bucket_of", |b| {
        b.iter(|| {
            let mut sum = 0;
            for &ns in &values {
                sum += bucket_of(black_box(ns));
            }
            sum
        })
    });
    group.bench_function("bucket_binary_search_baseline", |b| {
        b.iter(|| {
            let mut sum = 0;
            for &ns in &values {
                sum += BOUNDS_NS.partition_point(|&bound| bound < black_box(ns));
            }
            sum
        })
    });
    group.finish();
}

/// `filter.evaluate` on even-filter (which never touches the payload):
/// one host → guest call through Torvyn's engine, fuel included.
fn component_call(c: &mut Criterion) {
    let engine = WasmEngine::new(EngineConfig {
        fuel_per_invocation: 1_000_000,
        cache_dir: None,
        ..EngineConfig::default()
    })
    .expect("engine");
    let component = engine
        .load_component(&torvyn_e2e::test_component("even-filter"))
        .expect("component");
    let mut instance = ComponentInstance::instantiate(
        &engine,
        &component,
        ComponentId(0),
        "filter",
        &SandboxConfig::default(),
    )
    .expect("instantiates");
    let mut shared = Some(Box::new(FlowShared {
        resources: ResourceManager::new(PoolConfig::default(), ResourceLimits::default(), 1, 0),
        context: FlowContextData::default(),
    }));
    let mut element = StreamElement {
        meta: ElementMeta {
            sequence: 0,
            timestamp_ns: 0,
            content_type: String::new(),
        },
        payload: Resource::new_borrow(0),
        context: Resource::<FlowContext>::new_borrow(0),
    };
    c.bench_function("component_call/filter_evaluate", |b| {
        b.iter(|| {
            element.meta.sequence += 1;
            black_box(
                instance
                    .evaluate(&mut shared, &element)
                    .expect("call")
                    .expect("ok"),
            );
        })
    });
}

criterion_group!(
    benches,
    resource_table,
    buffer_life,
    pool,
    ring_queue,
    credit_ledger,
    histogram_record,
    component_call
);
criterion_main!(benches);
