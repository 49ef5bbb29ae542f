//! One instantiated component: its `Store`, its loaded exports, and one
//! typed method per exported function. Every call refills the fuel budget,
//! sets the store's epoch deadline (`max_invocation_time_ms`, or the init /
//! teardown timeout for lifecycle calls), moves the flow's shared state into
//! the store for the duration of the call, and turns traps into
//! [`InvokeError`]s with stable codes.

use super::bindings::batch_sink::PushFailure;
use super::bindings::types::{
    BackpressureSignal, OutputElement, ProcessError, ProcessResult, StreamElement,
};
use super::bindings::{
    aggregator, batch_processor, batch_sink, batch_source, filter, lifecycle, processor, router,
    sink, source,
};
use super::component::{CompiledComponent, ExportSet, TorvynInterface};
use super::epoch::ticks_for;
use super::error::{EngineError, InvokeError, InvokeFailure};
use super::state::{ComponentState, FlowShared, HostTrap};
use super::WasmEngine;
use crate::error::ErrorCode;
use crate::resources::ComponentId;
use crate::security::SandboxConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use wasmtime::{ResourceLimiter, Store};

/// Caps a component's linear memory and table growth, remembering when the
/// cap was hit so the failure is reported as E0310.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    max_memory: usize,
    max_table_elements: usize,
    pub(crate) hit: bool,
    /// Bytes of linear memory the instance has now (every memory it
    /// created or grew, as allowed here): `component.memory_current`.
    pub(crate) memory_bytes: usize,
}

impl MemoryLimiter {
    /// The byte limit linear memory may grow to.
    pub(crate) fn limit(&self) -> usize {
        self.max_memory
    }

    pub(crate) fn new(max_memory: u64) -> Self {
        Self {
            max_memory: usize::try_from(max_memory).unwrap_or(usize::MAX),
            max_table_elements: 1 << 20,
            hit: false,
            memory_bytes: 0,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            self.hit = true;
            return Err(HostTrap {
                code: ErrorCode::BudgetExceeded,
                message: format!(
                    "linear memory would grow to {desired} bytes, over the {} byte limit",
                    self.max_memory
                ),
            }
            .into());
        }
        // Linear memories only grow (and a new one starts from 0).
        self.memory_bytes = self
            .memory_bytes
            .saturating_add(desired.saturating_sub(current));
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.max_table_elements)
    }
}

struct LoadedExports {
    source: Option<source::Guest>,
    processor: Option<processor::Guest>,
    sink: Option<sink::Guest>,
    lifecycle: Option<lifecycle::Guest>,
    filter: Option<filter::Guest>,
    router: Option<router::Guest>,
    aggregator: Option<aggregator::Guest>,
    batch_processor: Option<batch_processor::Guest>,
    batch_source: Option<batch_source::Guest>,
    batch_sink: Option<batch_sink::Guest>,
}

/// One wall-clock deadline: the `[runtime]` key it comes from, its value,
/// and the epoch ticks it is.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    key: &'static str,
    ms: u64,
    ticks: u64,
}

impl Deadline {
    fn new(key: &'static str, ms: u64) -> Self {
        Self {
            key,
            ms,
            ticks: ticks_for(ms),
        }
    }

    /// The deadline of `calls` calls in one (a batch call).
    fn times(self, calls: u64) -> Self {
        Self {
            key: self.key,
            ms: self.ms.saturating_mul(calls),
            ticks: self.ticks.saturating_mul(calls),
        }
    }
}

/// The deadlines of an engine with epoch interruption on.
#[derive(Debug, Clone, Copy)]
struct Deadlines {
    call: Deadline,
    init: Deadline,
    teardown: Deadline,
}

/// A live component instance.
pub struct ComponentInstance {
    store: Store<ComponentState>,
    exports: LoadedExports,
    export_set: ExportSet,
    fuel_per_invocation: u64,
    /// Fuel the instance's calls burnt (`component.fuel_consumed`; 0 when
    /// fuel metering is off).
    fuel_consumed: u64,
    /// The fuel budget of the last call (`fuel_per_invocation`, times the
    /// elements of a batch call).
    last_budget: u64,
    /// `None` when the engine has no epoch interruption.
    deadlines: Option<Deadlines>,
    /// The deadline of the call in progress (names it when it is exceeded).
    current: Option<Deadline>,
    poisoned: bool,
}

type Call<T> = Result<T, InvokeError>;

/// Epoch ticks between two checks of a running call (interrupt flag,
/// deadline): 10 ms at the 1 ms tick.
pub const CHECK_TICKS: u64 = 10;

/// The error the epoch callback raises when the host interrupts a call.
#[derive(Debug)]
struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted by the host")
    }
}

impl std::error::Error for Interrupted {}

/// Arms a call's deadline `ticks` ahead: the epoch callback runs every
/// [`CHECK_TICKS`] and counts `ticks_left` down.
// HOT PATH: two stores per call.
fn arm_deadline(store: &mut Store<ComponentState>, ticks: u64) {
    store.data_mut().ticks_left = ticks;
    store.set_epoch_deadline(ticks.min(CHECK_TICKS));
}

impl ComponentInstance {
    /// Instantiates `compiled` as component `id` named `name` (a fresh
    /// `Store`) in `sandbox`: its WASI context carries only the authority
    /// the sandbox grants (`SandboxConfig::default()`: stdout and stderr).
    pub fn instantiate(
        engine: &WasmEngine,
        compiled: &CompiledComponent,
        id: ComponentId,
        name: &str,
        sandbox: &SandboxConfig,
    ) -> Result<Self, EngineError> {
        // On demand, an instance costs memory mappings of its own: refused
        // (E0300) before the process runs out of them.
        engine.admit_instance(name)?;
        let wasi = sandbox
            .build_wasi(&engine.config().guest_outputs)
            .map_err(|e| EngineError::Instantiate {
                component: name.to_string(),
                reason: e.to_string(),
            })?;
        let state = ComponentState::new(
            id,
            name.to_string(),
            wasi,
            MemoryLimiter::new(
                sandbox
                    .max_memory
                    .map_or(engine.config().max_memory_per_component, |need| {
                        need.min(engine.config().max_memory_per_component)
                    }),
            ),
        );
        let mut state = state;
        state.services = super::state::ServiceGrants {
            custom_metrics: sandbox.custom_metrics,
            flow_metadata: sandbox.flow_metadata,
            diagnostics: sandbox.diagnostics,
            monitor: sandbox.monitor.clone(),
        };
        let mut store = Store::new(engine.engine(), state);
        store.limiter(|state| &mut state.limiter);
        let fuel = engine.config().fuel_per_invocation;
        let instantiate_error = |e: wasmtime::Error| EngineError::Instantiate {
            component: name.to_string(),
            reason: format!("{e:#}"),
        };
        if fuel > 0 {
            store.set_fuel(fuel).map_err(instantiate_error)?;
        }
        let config = engine.config();
        let deadlines = config.uses_epochs().then(|| Deadlines {
            call: Deadline::new("max_invocation_time_ms", config.max_invocation_time_ms),
            init: Deadline::new("component_init_timeout_ms", config.init_timeout_ms),
            teardown: Deadline::new("component_teardown_timeout_ms", config.teardown_timeout_ms),
        });
        if let Some(d) = &deadlines {
            // Instantiation may run start functions: bound it like init.
            arm_deadline(&mut store, d.init.ticks);
            // Every CHECK_TICKS of guest execution: interrupted by the host
            // (cancellation), past its deadline, or on for a while longer.
            store.epoch_deadline_callback(|mut ctx| {
                let state = ctx.data_mut();
                if state
                    .interrupt
                    .as_ref()
                    .is_some_and(|flag| flag.load(Ordering::Relaxed))
                {
                    return Err(wasmtime::Error::new(Interrupted));
                }
                if state.ticks_left <= CHECK_TICKS {
                    return Err(wasmtime::Trap::Interrupt.into());
                }
                state.ticks_left -= CHECK_TICKS;
                Ok(wasmtime::UpdateDeadline::Continue(
                    state.ticks_left.min(CHECK_TICKS),
                ))
            });
        }
        let instance = compiled.pre.instantiate(&mut store).map_err(|e| {
            if e.is::<wasmtime::PoolConcurrencyLimitError>() {
                EngineError::InstanceLimit {
                    component: name.to_string(),
                    limit: config.max_component_instances,
                    reason: e.to_string(),
                }
            } else {
                instantiate_error(e)
            }
        })?;
        let i = &compiled.indices;
        macro_rules! load {
            ($field:ident) => {
                match &i.$field {
                    Some(ix) => Some(ix.load(&mut store, &instance).map_err(|e| {
                        EngineError::Incompatible {
                            path: compiled.path.clone(),
                            reason: format!("{e:#}"),
                        }
                    })?),
                    None => None,
                }
            };
        }
        let exports = LoadedExports {
            source: load!(source),
            processor: load!(processor),
            sink: load!(sink),
            lifecycle: load!(lifecycle),
            filter: load!(filter),
            router: load!(router),
            aggregator: load!(aggregator),
            batch_processor: load!(batch_processor),
            batch_source: load!(batch_source),
            batch_sink: load!(batch_sink),
        };
        Ok(Self {
            store,
            exports,
            export_set: compiled.exports,
            fuel_per_invocation: fuel,
            fuel_consumed: 0,
            last_budget: fuel,
            deadlines,
            current: None,
            poisoned: false,
        })
    }

    /// Fuel its calls have burnt so far (0 when fuel metering is off:
    /// `fuel_per_invocation = 0`).
    pub fn fuel_consumed(&self) -> u64 {
        self.fuel_consumed
    }

    /// Bytes of linear memory it has now.
    pub fn memory_bytes(&self) -> u64 {
        self.store.data().limiter.memory_bytes as u64
    }

    /// The component's name in its flow.
    pub fn name(&self) -> &str {
        &self.store.data().name
    }

    /// The component's id in its flow.
    pub fn id(&self) -> ComponentId {
        self.store.data().id
    }

    /// Marks its next call as working on element `sequence` (the call's
    /// span, for `flow-context.span-id`); the mark ends with the call.
    // HOT PATH: one store, into the cache line the call writes anyway.
    #[inline]
    pub fn mark_call(&mut self, sequence: u64) {
        self.store.data_mut().call_sequence = Some(sequence);
    }

    /// The Torvyn interfaces it exports.
    pub fn exports(&self) -> ExportSet {
        self.export_set
    }

    /// Whether an earlier trap poisoned the instance.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Lets the host interrupt this instance's calls (tiered
    /// cancellation): once `flag` is set, a running call traps within
    /// [`CHECK_TICKS`] epoch ticks. Needs epoch interruption on the engine
    /// (any of the `[runtime]` time limits above 0).
    pub fn set_interrupt(&mut self, flag: Arc<AtomicBool>) {
        self.store.data_mut().interrupt = Some(flag);
    }

    /// Fault injection (tests): fails `function` as if the guest had
    /// trapped with `kind`, poisoning the instance exactly like a real trap.
    pub fn inject_trap(&mut self, function: &'static str, kind: InvokeFailure) -> InvokeError {
        self.poisoned = true;
        let code = match kind {
            InvokeFailure::OutOfFuel => ErrorCode::ComponentTimeout,
            InvokeFailure::StackOverflow => ErrorCode::SandboxViolation,
            InvokeFailure::MemoryLimit => ErrorCode::BudgetExceeded,
            _ => ErrorCode::FatalComponentError,
        };
        self.failure(function, kind, code, format!("injected fault: {kind}"))
    }

    /// Current linear memory size is not tracked yet; fuel consumed by the last call.
    pub fn fuel_consumed_last_call(&self) -> u64 {
        if self.last_budget == 0 {
            return 0;
        }
        self.last_budget
            .saturating_sub(self.store.get_fuel().unwrap_or(0))
    }

    /// Runs one guest call under `max_invocation_time_ms`.
    // HOT PATH
    fn call<R>(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        function: &'static str,
        f: impl FnOnce(&LoadedExports, &mut Store<ComponentState>) -> wasmtime::Result<R>,
    ) -> Call<R> {
        let deadline = self.deadlines.map(|d| d.call);
        self.call_within(flow, function, deadline, 1, f)
    }

    /// Runs one batch call on `elements` elements: its fuel and its
    /// wall-clock deadline are those of `elements` per-element calls, so
    /// batching never runs a component out of its per-element budget.
    // HOT PATH
    fn call_batch<R>(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        function: &'static str,
        elements: usize,
        f: impl FnOnce(&LoadedExports, &mut Store<ComponentState>) -> wasmtime::Result<R>,
    ) -> Call<R> {
        let elements = elements.max(1) as u64;
        let deadline = self.deadlines.map(|d| d.call.times(elements));
        self.call_within(flow, function, deadline, elements, f)
    }

    /// Runs one guest call with the flow's state lent to the store, with
    /// `calls` times the per-call fuel budget.
    // HOT PATH: one pointer move in, one out, a fuel refill, a deadline store.
    fn call_within<R>(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        function: &'static str,
        deadline: Option<Deadline>,
        calls: u64,
        f: impl FnOnce(&LoadedExports, &mut Store<ComponentState>) -> wasmtime::Result<R>,
    ) -> Call<R> {
        if self.poisoned {
            return Err(self.failure(
                function,
                InvokeFailure::Poisoned,
                ErrorCode::FatalComponentError,
                "an earlier call trapped".into(),
            ));
        }
        let fuel = self.fuel_per_invocation.saturating_mul(calls);
        self.last_budget = fuel;
        if fuel > 0 {
            // Cannot fail: fuel is enabled on the engine whenever the budget is non-zero.
            let _ = self.store.set_fuel(fuel);
        }
        if let Some(deadline) = deadline {
            arm_deadline(&mut self.store, deadline.ticks);
        }
        self.current = deadline;
        if let Some(shared) = flow.take() {
            self.store.data_mut().lend_flow(shared);
        }
        let result = f(&self.exports, &mut self.store);
        if fuel > 0 {
            // The refill above set it: what is left tells what was burnt
            // (all of it when the call ran out).
            let left = self.store.get_fuel().unwrap_or(0);
            self.fuel_consumed += fuel.saturating_sub(left);
        }
        *flow = self.store.data_mut().take_flow();
        result.map_err(|e| self.classify(function, e))
    }

    fn missing(&self, function: &'static str, interface: TorvynInterface) -> InvokeError {
        self.failure(
            function,
            InvokeFailure::ContractViolation,
            ErrorCode::TopologyInvalid,
            format!("the component does not export {interface}"),
        )
    }

    fn failure(
        &self,
        function: &'static str,
        kind: InvokeFailure,
        code: ErrorCode,
        detail: String,
    ) -> InvokeError {
        InvokeError::new(self.name(), function, kind, code, detail)
    }

    /// Turns a failed call into a coded error; any trap poisons the instance.
    fn classify(&mut self, function: &'static str, error: wasmtime::Error) -> InvokeError {
        self.poisoned = true;
        let detail = format!("{error:#}");
        if error.downcast_ref::<Interrupted>().is_some() {
            return self.failure(
                function,
                InvokeFailure::Interrupted,
                ErrorCode::FlowCancelled,
                "the flow was cancelled during the call".into(),
            );
        }
        if let Some(trap) = error.downcast_ref::<HostTrap>() {
            let kind = if trap.code == ErrorCode::BudgetExceeded {
                InvokeFailure::MemoryLimit
            } else {
                InvokeFailure::ContractViolation
            };
            return self.failure(function, kind, trap.code, trap.message.clone());
        }
        if let (Some(wasmtime::Trap::Interrupt), Some(deadline)) =
            (error.downcast_ref::<wasmtime::Trap>(), self.current)
        {
            let detail = format!(
                "the call ran past its {} ms deadline ([runtime] {})",
                deadline.ms, deadline.key
            );
            return self.failure(
                function,
                InvokeFailure::DeadlineExceeded,
                ErrorCode::ComponentTimeout,
                detail,
            );
        }
        let (kind, code) = match error.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::OutOfFuel) | Some(wasmtime::Trap::Interrupt) => {
                (InvokeFailure::OutOfFuel, ErrorCode::ComponentTimeout)
            }
            Some(wasmtime::Trap::StackOverflow) => {
                (InvokeFailure::StackOverflow, ErrorCode::SandboxViolation)
            }
            Some(wasmtime::Trap::CannotEnterComponent) => {
                (InvokeFailure::Poisoned, ErrorCode::FatalComponentError)
            }
            _ if self.store.data().limiter.hit => {
                (InvokeFailure::MemoryLimit, ErrorCode::BudgetExceeded)
            }
            _ => (InvokeFailure::Trapped, ErrorCode::FatalComponentError),
        };
        self.failure(function, kind, code, detail)
    }

    /// `lifecycle.init(config)`; `Ok(Ok(()))` when the component does not export lifecycle.
    pub fn init(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        config: &str,
    ) -> Call<Result<(), ProcessError>> {
        if self.exports.lifecycle.is_none() {
            return Ok(Ok(()));
        }
        let deadline = self.deadlines.map(|d| d.init);
        self.call_within(flow, "init", deadline, 1, |e, store| match &e.lifecycle {
            Some(l) => l.call_init(store, config),
            None => Ok(Ok(())),
        })
    }

    /// `lifecycle.teardown()`, if exported, within
    /// `component_teardown_timeout_ms`: an overrun is interrupted (E0401)
    /// and poisons the instance, which the caller then drops.
    pub fn teardown(&mut self, flow: &mut Option<Box<FlowShared>>) -> Call<()> {
        if self.exports.lifecycle.is_none() || self.poisoned {
            return Ok(());
        }
        let deadline = self.deadlines.map(|d| d.teardown);
        self.call_within(flow, "teardown", deadline, 1, |e, store| {
            match &e.lifecycle {
                Some(l) => l.call_teardown(store),
                None => Ok(()),
            }
        })
    }

    /// `source.pull()`.
    // HOT PATH
    pub fn pull(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
    ) -> Call<Result<Option<OutputElement>, ProcessError>> {
        if self.exports.source.is_none() {
            return Err(self.missing("pull", TorvynInterface::Source));
        }
        self.call(flow, "pull", |e, store| match &e.source {
            Some(s) => s.call_pull(store),
            None => Ok(Ok(None)),
        })
    }

    /// `source.notify-backpressure(signal)`.
    pub fn notify_backpressure(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        signal: BackpressureSignal,
    ) -> Call<()> {
        if self.exports.source.is_none() {
            return Err(self.missing("notify-backpressure", TorvynInterface::Source));
        }
        self.call(flow, "notify-backpressure", |e, store| match &e.source {
            Some(s) => s.call_notify_backpressure(store, signal),
            None => Ok(()),
        })
    }

    /// `processor.process(element)`.
    // HOT PATH
    pub fn process(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        element: &StreamElement,
    ) -> Call<Result<ProcessResult, ProcessError>> {
        if self.exports.processor.is_none() {
            return Err(self.missing("process", TorvynInterface::Processor));
        }
        self.call(flow, "process", |e, store| match &e.processor {
            Some(p) => p.call_process(store, element),
            None => Ok(Ok(ProcessResult::Drop)),
        })
    }

    /// `sink.push(element)`.
    // HOT PATH
    pub fn push(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        element: &StreamElement,
    ) -> Call<Result<BackpressureSignal, ProcessError>> {
        if self.exports.sink.is_none() {
            return Err(self.missing("push", TorvynInterface::Sink));
        }
        self.call(flow, "push", |e, store| match &e.sink {
            Some(s) => s.call_push(store, element),
            None => Ok(Ok(BackpressureSignal::Ready)),
        })
    }

    /// `sink.complete()`.
    pub fn complete(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
    ) -> Call<Result<(), ProcessError>> {
        if self.exports.sink.is_none() {
            return Err(self.missing("complete", TorvynInterface::Sink));
        }
        self.call(flow, "complete", |e, store| match &e.sink {
            Some(s) => s.call_complete(store),
            None => Ok(Ok(())),
        })
    }

    /// `filter.evaluate(element)`.
    // HOT PATH
    pub fn evaluate(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        element: &StreamElement,
    ) -> Call<Result<bool, ProcessError>> {
        if self.exports.filter.is_none() {
            return Err(self.missing("evaluate", TorvynInterface::Filter));
        }
        self.call(flow, "evaluate", |e, store| match &e.filter {
            Some(f) => f.call_evaluate(store, element),
            None => Ok(Ok(true)),
        })
    }

    /// `router.route(element)`.
    pub fn route(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        element: &StreamElement,
    ) -> Call<Result<Vec<String>, ProcessError>> {
        if self.exports.router.is_none() {
            return Err(self.missing("route", TorvynInterface::Router));
        }
        self.call(flow, "route", |e, store| match &e.router {
            Some(r) => r.call_route(store, element),
            None => Ok(Ok(Vec::new())),
        })
    }

    /// `aggregator.ingest(element)`.
    pub fn ingest(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        element: &StreamElement,
    ) -> Call<Result<Option<OutputElement>, ProcessError>> {
        if self.exports.aggregator.is_none() {
            return Err(self.missing("ingest", TorvynInterface::Aggregator));
        }
        self.call(flow, "ingest", |e, store| match &e.aggregator {
            Some(a) => a.call_ingest(store, element),
            None => Ok(Ok(None)),
        })
    }

    /// `aggregator.flush()`.
    pub fn flush(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
    ) -> Call<Result<Vec<OutputElement>, ProcessError>> {
        if self.exports.aggregator.is_none() {
            return Err(self.missing("flush", TorvynInterface::Aggregator));
        }
        self.call(flow, "flush", |e, store| match &e.aggregator {
            Some(a) => a.call_flush(store),
            None => Ok(Ok(Vec::new())),
        })
    }

    /// `batch-processor.process-batch(inputs)`: one result per input,
    /// with the fuel and deadline of as many per-element calls.
    // HOT PATH: one call for the whole batch (Wasmtime allocates the
    // returned list once per batch).
    pub fn process_batch(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        inputs: &[StreamElement],
    ) -> Call<Vec<Result<ProcessResult, ProcessError>>> {
        if self.exports.batch_processor.is_none() {
            return Err(self.missing("process-batch", TorvynInterface::BatchProcessor));
        }
        self.call_batch(flow, "process-batch", inputs.len(), |e, store| {
            match &e.batch_processor {
                Some(p) => p.call_process_batch(store, inputs),
                None => Ok(Vec::new()),
            }
        })
    }

    /// `batch-source.pull-batch(max)`.
    // HOT PATH
    pub fn pull_batch(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        max: u32,
    ) -> Call<Result<Vec<OutputElement>, ProcessError>> {
        if self.exports.batch_source.is_none() {
            return Err(self.missing("pull-batch", TorvynInterface::BatchSource));
        }
        self.call_batch(flow, "pull-batch", max as usize, |e, store| {
            match &e.batch_source {
                Some(s) => s.call_pull_batch(store, max),
                None => Ok(Ok(Vec::new())),
            }
        })
    }

    /// `batch-sink.push-batch(elements)`.
    // HOT PATH
    pub fn push_batch(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        elements: &[StreamElement],
    ) -> Call<Result<BackpressureSignal, PushFailure>> {
        if self.exports.batch_sink.is_none() {
            return Err(self.missing("push-batch", TorvynInterface::BatchSink));
        }
        self.call_batch(flow, "push-batch", elements.len(), |e, store| {
            match &e.batch_sink {
                Some(s) => s.call_push_batch(store, elements),
                None => Ok(Ok(BackpressureSignal::Ready)),
            }
        })
    }
}
