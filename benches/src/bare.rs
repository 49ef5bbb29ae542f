//! The floor: a source, an optional processor or filter, and a sink
//! called directly from a loop.

use std::path::Path;
use torvyn_runtime::engine::bindings::torvyn::batching::batch_buffers;
use torvyn_runtime::engine::bindings::torvyn::capabilities::{diagnostics, flow_metadata, metrics};
use torvyn_runtime::engine::bindings::torvyn::resources::buffer_ops;
use torvyn_runtime::engine::bindings::torvyn::streaming::buffer_allocator;
use torvyn_runtime::engine::bindings::types::ProcessResult;
use torvyn_runtime::engine::bindings::types::{
    self, Buffer, BufferError, ElementMeta, FlowContext, MutableBuffer, StreamElement,
};
use torvyn_runtime::engine::bindings::{filter, lifecycle, processor, sink, source, Runtime};
use torvyn_runtime::engine::unpack_packed_payloads;
use wasmtime::component::{Component, HasSelf, Linker, Resource};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

/// Store data of the bare host: a slab of byte vectors.
pub struct BareState {
    buffers: Vec<Vec<u8>>,
    free: Vec<u32>,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl BareState {
    fn new() -> Self {
        Self {
            buffers: Vec::new(),
            free: Vec::new(),
            wasi: WasiCtx::builder().inherit_stdout().inherit_stderr().build(),
            table: ResourceTable::new(),
        }
    }

    fn alloc(&mut self, capacity: u64) -> u32 {
        let bytes = Vec::with_capacity(capacity as usize);
        match self.free.pop() {
            Some(i) => {
                self.buffers[i as usize] = bytes;
                i
            }
            None => {
                self.buffers.push(bytes);
                (self.buffers.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, rep: u32) {
        self.free.push(rep);
    }
}

impl WasiView for BareState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

type R<T> = wasmtime::Result<T>;

impl types::Host for BareState {}

impl types::HostBuffer for BareState {
    fn size(&mut self, this: Resource<Buffer>) -> R<u64> {
        Ok(self.buffers[this.rep() as usize].len() as u64)
    }
    fn content_type(&mut self, _this: Resource<Buffer>) -> R<String> {
        Ok(String::new())
    }
    fn read(&mut self, this: Resource<Buffer>, offset: u64, len: u64) -> R<Vec<u8>> {
        let b = &self.buffers[this.rep() as usize];
        let start = (offset as usize).min(b.len());
        let end = start.saturating_add(len as usize).min(b.len());
        Ok(b[start..end].to_vec())
    }
    fn read_all(&mut self, this: Resource<Buffer>) -> R<Vec<u8>> {
        Ok(self.buffers[this.rep() as usize].clone())
    }
    fn drop(&mut self, this: Resource<Buffer>) -> R<()> {
        self.release(this.rep());
        Ok(())
    }
}

impl types::HostMutableBuffer for BareState {
    fn write(
        &mut self,
        this: Resource<MutableBuffer>,
        offset: u64,
        bytes: Vec<u8>,
    ) -> R<Result<(), BufferError>> {
        let b = &mut self.buffers[this.rep() as usize];
        b.truncate(offset as usize);
        b.extend_from_slice(&bytes);
        Ok(Ok(()))
    }
    fn append(
        &mut self,
        this: Resource<MutableBuffer>,
        bytes: Vec<u8>,
    ) -> R<Result<(), BufferError>> {
        self.buffers[this.rep() as usize].extend_from_slice(&bytes);
        Ok(Ok(()))
    }
    fn size(&mut self, this: Resource<MutableBuffer>) -> R<u64> {
        Ok(self.buffers[this.rep() as usize].len() as u64)
    }
    fn capacity(&mut self, this: Resource<MutableBuffer>) -> R<u64> {
        Ok(self.buffers[this.rep() as usize].capacity() as u64)
    }
    fn set_content_type(&mut self, _this: Resource<MutableBuffer>, _content_type: String) -> R<()> {
        Ok(())
    }
    fn freeze(&mut self, this: Resource<MutableBuffer>) -> R<Resource<Buffer>> {
        // The frozen buffer reuses the slot; the mutable handle's drop is a no-op.
        Ok(Resource::new_own(this.rep() | FROZEN_BIT))
    }
    fn drop(&mut self, _this: Resource<MutableBuffer>) -> R<()> {
        Ok(())
    }
}

/// Frozen buffers carry this bit so the mutable handle's drop cannot free them.
const FROZEN_BIT: u32 = 1 << 31;

impl types::HostFlowContext for BareState {
    fn trace_id(&mut self, _this: Resource<FlowContext>) -> R<String> {
        Ok(String::new())
    }
    fn span_id(&mut self, _this: Resource<FlowContext>) -> R<String> {
        Ok(String::new())
    }
    fn deadline_ns(&mut self, _this: Resource<FlowContext>) -> R<u64> {
        Ok(0)
    }
    fn flow_id(&mut self, _this: Resource<FlowContext>) -> R<String> {
        Ok(String::new())
    }
    fn drop(&mut self, _this: Resource<FlowContext>) -> R<()> {
        Ok(())
    }
}

impl buffer_allocator::Host for BareState {
    fn allocate(&mut self, capacity_hint: u64) -> R<Result<Resource<MutableBuffer>, BufferError>> {
        Ok(Ok(Resource::new_own(self.alloc(capacity_hint))))
    }
    fn clone_into_mutable(
        &mut self,
        source: Resource<Buffer>,
    ) -> R<Result<Resource<MutableBuffer>, BufferError>> {
        let copy = self.buffers[(source.rep() & !FROZEN_BIT) as usize].clone();
        let rep = self.alloc(0);
        self.buffers[rep as usize] = copy;
        Ok(Ok(Resource::new_own(rep)))
    }
}

impl buffer_ops::Host for BareState {
    fn allocate(&mut self, capacity_hint: u64) -> R<Result<Resource<MutableBuffer>, BufferError>> {
        buffer_allocator::Host::allocate(self, capacity_hint)
    }
    fn clone_into_mutable(
        &mut self,
        source: Resource<Buffer>,
    ) -> R<Result<Resource<MutableBuffer>, BufferError>> {
        buffer_allocator::Host::clone_into_mutable(self, source)
    }
}

/// Same engine settings as Torvyn's default (synchronous calls, fuel on).
pub fn engine(fuel: bool) -> Engine {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.concurrency_support(false);
    config.consume_fuel(fuel);
    Engine::new(&config).expect("engine")
}

struct Guest {
    store: Store<BareState>,
    source: Option<source::Guest>,
    processor: Option<processor::Guest>,
    filter: Option<filter::Guest>,
    sink: Option<sink::Guest>,
}

fn instantiate(
    engine: &Engine,
    linker: &Linker<BareState>,
    path: &Path,
    config: &str,
    fuel: u64,
) -> Guest {
    let component = Component::from_file(engine, path).expect("component compiles");
    let pre = linker.instantiate_pre(&component).expect("component links");
    let mut store = Store::new(engine, BareState::new());
    if fuel > 0 {
        store.set_fuel(fuel).expect("fuel");
    }
    let instance = pre.instantiate(&mut store).expect("instantiates");
    let lifecycle = lifecycle::GuestIndices::new(&pre)
        .ok()
        .map(|ix| ix.load(&mut store, &instance).expect("lifecycle"));
    if let Some(l) = lifecycle {
        l.call_init(&mut store, config)
            .expect("init call")
            .expect("init ok");
    }
    let source = source::GuestIndices::new(&pre)
        .ok()
        .map(|ix| ix.load(&mut store, &instance).expect("source"));
    let processor = processor::GuestIndices::new(&pre)
        .ok()
        .map(|ix| ix.load(&mut store, &instance).expect("processor"));
    let filter = filter::GuestIndices::new(&pre)
        .ok()
        .map(|ix| ix.load(&mut store, &instance).expect("filter"));
    let sink = sink::GuestIndices::new(&pre)
        .ok()
        .map(|ix| ix.load(&mut store, &instance).expect("sink"));
    Guest {
        store,
        source,
        processor,
        filter,
        sink,
    }
}

/// What sits between the source and the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Middle {
    /// `processor.process`: its output goes on.
    Processor,
    /// `filter.evaluate`: the same bytes go on when it accepts.
    Filter,
}

/// A source, an optional middle stage and a sink, called directly. Each
/// guest has its own store; payload bytes move between the stores'
/// slabs (a pointer move, as Torvyn's shared table makes no copy either).
pub struct BarePipeline {
    source: Guest,
    middle: Option<(Middle, Guest)>,
    sink: Guest,
    element: StreamElement,
    fuel: u64,
    sequence: u64,
}

/// Moves the bytes of `rep` in `from` into a fresh slot of `to`.
fn hand_over(from: &mut Guest, rep: u32, to: &mut Guest) -> u32 {
    let rep = rep & !FROZEN_BIT;
    let bytes = std::mem::take(&mut from.store.data_mut().buffers[rep as usize]);
    from.store.data_mut().release(rep);
    let slot = to.store.data_mut().alloc(0);
    to.store.data_mut().buffers[slot as usize] = bytes;
    slot
}

/// The bare loop offers none of the `torvyn:capabilities` services (the
/// benchmarked guests import none): every call is refused.
const NOT_OFFERED: &str = "not offered by the bare loop";

impl metrics::Host for BareState {
    fn counter_add(
        &mut self,
        _: String,
        _: u64,
        _: Vec<metrics::Label>,
    ) -> wasmtime::Result<Result<(), metrics::MetricsError>> {
        Ok(Err(metrics::MetricsError::Denied(NOT_OFFERED.into())))
    }
    fn gauge_set(
        &mut self,
        _: String,
        _: f64,
        _: Vec<metrics::Label>,
    ) -> wasmtime::Result<Result<(), metrics::MetricsError>> {
        Ok(Err(metrics::MetricsError::Denied(NOT_OFFERED.into())))
    }
    fn histogram_record(
        &mut self,
        _: String,
        _: f64,
        _: Vec<metrics::Label>,
    ) -> wasmtime::Result<Result<(), metrics::MetricsError>> {
        Ok(Err(metrics::MetricsError::Denied(NOT_OFFERED.into())))
    }
}

impl batch_buffers::Host for BareState {
    fn read_all_batch(&mut self, buffers: Vec<Resource<Buffer>>) -> R<Vec<Vec<u8>>> {
        Ok(buffers
            .iter()
            .map(|b| self.buffers[(b.rep() & !FROZEN_BIT) as usize].clone())
            .collect())
    }
    fn freeze_batch(
        &mut self,
        payloads: Vec<Vec<u8>>,
        _content_type: String,
    ) -> R<Result<Vec<Resource<Buffer>>, BufferError>> {
        Ok(Ok(payloads
            .into_iter()
            .map(|payload| {
                let rep = self.alloc(0);
                self.buffers[rep as usize] = payload;
                Resource::new_own(rep | FROZEN_BIT)
            })
            .collect()))
    }
    fn read_all_packed(
        &mut self,
        buffers: Vec<Resource<Buffer>>,
    ) -> R<batch_buffers::PackedPayloads> {
        let mut packed = batch_buffers::PackedPayloads {
            bytes: Vec::new(),
            ends: Vec::with_capacity(buffers.len()),
        };
        for b in &buffers {
            packed
                .bytes
                .extend_from_slice(&self.buffers[(b.rep() & !FROZEN_BIT) as usize]);
            packed.ends.push(packed.bytes.len() as u32);
        }
        Ok(packed)
    }
    fn freeze_packed(
        &mut self,
        payloads: batch_buffers::PackedPayloads,
        _content_type: String,
    ) -> R<Result<Vec<Resource<Buffer>>, BufferError>> {
        let Some(slices) = unpack_packed_payloads(&payloads) else {
            return Ok(Err(BufferError::OutOfBounds));
        };
        Ok(Ok(slices
            .into_iter()
            .map(|payload| {
                let rep = self.alloc(0);
                self.buffers[rep as usize] = payload.to_vec();
                Resource::new_own(rep | FROZEN_BIT)
            })
            .collect()))
    }
}

impl flow_metadata::Host for BareState {
    fn info(&mut self) -> wasmtime::Result<Result<flow_metadata::FlowInfo, String>> {
        Ok(Err(NOT_OFFERED.into()))
    }
    fn partition(&mut self) -> wasmtime::Result<Result<flow_metadata::PartitionInfo, String>> {
        Ok(Err(NOT_OFFERED.into()))
    }
}

impl diagnostics::Host for BareState {
    fn query(&mut self) -> wasmtime::Result<Result<diagnostics::RuntimeInfo, String>> {
        Ok(Err(NOT_OFFERED.into()))
    }
}

impl BarePipeline {
    /// `source_wasm` (with `source_config`) feeding `sink_wasm`.
    pub fn new(source_wasm: &Path, source_config: &str, sink_wasm: &Path, fuel: u64) -> Self {
        Self::with_middle(source_wasm, source_config, None, sink_wasm, fuel)
    }

    /// `source_wasm` → `middle` (a processor or filter component) → `sink_wasm`.
    pub fn with_middle(
        source_wasm: &Path,
        source_config: &str,
        middle: Option<(Middle, &Path)>,
        sink_wasm: &Path,
        fuel: u64,
    ) -> Self {
        let engine = engine(fuel > 0);
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("wasi");
        Runtime::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).expect("torvyn host");
        let source = instantiate(&engine, &linker, source_wasm, source_config, fuel);
        let middle =
            middle.map(|(kind, path)| (kind, instantiate(&engine, &linker, path, "", fuel)));
        let sink = instantiate(&engine, &linker, sink_wasm, "", fuel);
        let element = StreamElement {
            meta: ElementMeta {
                sequence: 0,
                timestamp_ns: 0,
                content_type: String::with_capacity(64),
            },
            payload: Resource::new_borrow(0),
            context: Resource::new_borrow(0),
        };
        Self {
            source,
            middle,
            sink,
            element,
            fuel,
            sequence: 0,
        }
    }

    /// Pulls `n` elements from the source and takes each as far as it
    /// goes; returns how many reached the sink.
    pub fn run(&mut self, n: u64) -> u64 {
        let mut delivered = 0;
        for _ in 0..n {
            if self.fuel > 0 {
                let _ = self.source.store.set_fuel(self.fuel);
            }
            let Some(src) = &self.source.source else {
                return delivered;
            };
            let Ok(Ok(Some(output))) = src.call_pull(&mut self.source.store) else {
                return delivered;
            };
            self.element.meta.sequence = self.sequence;
            self.sequence += 1;
            self.element.meta.content_type.clear();
            self.element
                .meta
                .content_type
                .push_str(&output.meta.content_type);
            let mut rep = output.payload.rep();
            let mut holder = &mut self.source;
            if let Some((kind, middle)) = &mut self.middle {
                let slot = hand_over(holder, rep, middle);
                self.element.payload = Resource::new_borrow(slot);
                if self.fuel > 0 {
                    let _ = middle.store.set_fuel(self.fuel);
                }
                let passes = match kind {
                    Middle::Processor => match &middle.processor {
                        Some(p) => match p.call_process(&mut middle.store, &self.element) {
                            Ok(Ok(ProcessResult::Emit(out))) => {
                                middle.store.data_mut().release(slot);
                                rep = out.payload.rep();
                                true
                            }
                            _ => false,
                        },
                        None => return delivered,
                    },
                    Middle::Filter => match &middle.filter {
                        Some(f) => {
                            rep = slot;
                            matches!(
                                f.call_evaluate(&mut middle.store, &self.element),
                                Ok(Ok(true))
                            )
                        }
                        None => return delivered,
                    },
                };
                if !passes {
                    middle.store.data_mut().release(slot);
                    continue;
                }
                holder = middle;
            }
            let sink_rep = hand_over(holder, rep, &mut self.sink);
            self.element.payload = Resource::new_borrow(sink_rep);
            if self.fuel > 0 {
                let _ = self.sink.store.set_fuel(self.fuel);
            }
            let Some(snk) = &self.sink.sink else {
                return delivered;
            };
            if let Ok(Ok(_)) = snk.call_push(&mut self.sink.store, &self.element) {
                delivered += 1;
            }
            self.sink.store.data_mut().release(sink_rep);
        }
        delivered
    }
}
