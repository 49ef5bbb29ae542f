//! The seam between the stage loop and what runs a stage: a sandboxed
//! Wasm component or a built-in connector ([`crate::connectors`]). The
//! loop calls [`StageInstance`] the same way for both; a connector's
//! element goes through the same buffers, ownership checks and copy
//! ledger as a component's.
//!
//! A connector source's bytes are copied into a pooled buffer it owns,
//! frozen and handed over like a Wasm source's output (`PayloadWrite`); a
//! connector sink reads the lent buffer in place and writes it out
//! (`HostSerialize`).

use crate::connectors::{Connector, ConnectorReport, Delivery, Origin, Pulled};
use crate::engine::bindings::batch_sink::PushFailure;
use crate::engine::bindings::types::{
    BackpressureSignal, ElementMeta, OutputElement, ProcessError, ProcessResult, StreamElement,
};
use crate::engine::{
    ComponentInstance, FlowShared, InvokeError, InvokeFailure, TorvynInterface, WasmEngine,
};
use crate::error::{Coded, ErrorCode};
use crate::reactor::error::FlowError;
use crate::reactor::spec::StageComponent;
use crate::resources::{BufferId, ComponentId, ResourceError, ResourceManager};
use crate::security::SandboxConfig;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::Resource;

type Call<T> = Result<T, InvokeError>;

/// What a source's pull gave.
pub(super) enum Pull {
    /// The next element.
    Element(OutputElement),
    /// Nothing yet: ask again after this long.
    NotYet(Duration),
    /// The stream ended.
    Ended,
}

/// What runs one stage.
// The Wasm variant is the large one and the one every hot-path call goes
// through: boxing it would add a pointer chase per call to save bytes in
// a Vec of a few nodes.
#[allow(clippy::large_enum_variant)]
pub(super) enum StageInstance {
    /// A Wasm component in its own `Store`.
    Wasm(ComponentInstance),
    /// A built-in connector.
    Connector(ConnectorStage),
}

/// A running connector, with what the loop needs around it.
pub(super) struct ConnectorStage {
    name: String,
    id: ComponentId,
    connector: Connector,
    /// The next element's bytes (reused: no allocation once grown).
    payload: Vec<u8>,
    /// The last push was deferred: the sink confirms it later.
    deferred: bool,
}

impl StageInstance {
    /// A fresh instance of `component` as stage `id` named `name`.
    pub(super) fn instantiate(
        engine: &WasmEngine,
        component: &StageComponent,
        id: ComponentId,
        name: &str,
        sandbox: &SandboxConfig,
        interrupt: Option<&Arc<AtomicBool>>,
    ) -> Result<Self, FlowError> {
        Ok(match component {
            StageComponent::Wasm(compiled) => {
                let mut instance =
                    ComponentInstance::instantiate(engine, compiled, id, name, sandbox)?;
                if let Some(flag) = interrupt {
                    instance.set_interrupt(Arc::clone(flag));
                }
                StageInstance::Wasm(instance)
            }
            StageComponent::Connector(spec) => StageInstance::Connector(ConnectorStage {
                name: name.to_string(),
                id,
                connector: spec.instantiate(&engine.config().guest_outputs),
                payload: Vec::new(),
                deferred: false,
            }),
        })
    }

    /// Whether a connector runs the stage (a restart keeps a connector
    /// where it is instead of replaying its input).
    pub(super) fn is_connector(&self) -> bool {
        matches!(self, StageInstance::Connector(_))
    }

    /// `lifecycle.init(config)`; a connector opens what it reads or writes.
    pub(super) fn init(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        config: &str,
    ) -> Call<Result<(), ProcessError>> {
        match self {
            StageInstance::Wasm(i) => i.init(flow, config),
            StageInstance::Connector(c) => Ok(match &mut c.connector {
                Connector::Source(source) => source.start(),
                Connector::Sink(sink) => sink.start(),
            }),
        }
    }

    /// `lifecycle.teardown()`; a connector closes (a sink flushes).
    pub(super) fn teardown(&mut self, flow: &mut Option<Box<FlowShared>>) -> Call<()> {
        match self {
            StageInstance::Wasm(i) => i.teardown(flow),
            StageInstance::Connector(c) => {
                match &mut c.connector {
                    Connector::Source(source) => source.stop(),
                    Connector::Sink(sink) => sink.stop(),
                }
                Ok(())
            }
        }
    }

    /// `source.pull()`.
    // HOT PATH
    pub(super) fn pull(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
    ) -> Call<Result<Pull, ProcessError>> {
        match self {
            StageInstance::Wasm(i) => Ok(i.pull(flow)?.map(|output| match output {
                Some(element) => Pull::Element(element),
                None => Pull::Ended,
            })),
            StageInstance::Connector(c) => c.pull(flow),
        }
    }

    /// `source.notify-backpressure(signal)` (a connector source is simply
    /// not pulled while paused).
    pub(super) fn notify_backpressure(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        signal: BackpressureSignal,
    ) -> Call<()> {
        match self {
            StageInstance::Wasm(i) => i.notify_backpressure(flow, signal),
            StageInstance::Connector(_) => Ok(()),
        }
    }

    /// `sink.push(element)`; `origin` names where a tracked element came
    /// from (a connector sink derives deduplication ids from it).
    // HOT PATH
    pub(super) fn push(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        element: &StreamElement,
        origin: Option<Origin<'_>>,
    ) -> Call<Result<BackpressureSignal, ProcessError>> {
        match self {
            StageInstance::Wasm(i) => i.push(flow, element),
            StageInstance::Connector(c) => c.push(flow, element, origin),
        }
    }

    /// Whether the last push was deferred (cleared by the call): the sink
    /// confirms it later through [`Self::settle`].
    // HOT PATH
    pub(super) fn take_deferred(&mut self) -> bool {
        match self {
            StageInstance::Connector(c) => std::mem::take(&mut c.deferred),
            StageInstance::Wasm(_) => false,
        }
    }

    /// Whether it is a connector source that acknowledges its input.
    pub(super) fn acknowledges(&self) -> bool {
        matches!(self, StageInstance::Connector(ConnectorStage { connector: Connector::Source(s), .. }) if s.acknowledges())
    }

    /// Whether it is a connector sink that confirms elements later.
    pub(super) fn defers(&self) -> bool {
        matches!(self, StageInstance::Connector(ConnectorStage { connector: Connector::Sink(s), .. }) if s.defers())
    }

    /// An acknowledging source's namespace for origins (empty otherwise).
    pub(super) fn namespace(&self) -> &str {
        match self {
            StageInstance::Connector(ConnectorStage {
                connector: Connector::Source(s),
                ..
            }) => s.namespace(),
            _ => "",
        }
    }

    /// The element just pulled got `sequence`: its origin id.
    pub(super) fn track(&mut self, sequence: u64) -> u64 {
        match self {
            StageInstance::Connector(ConnectorStage {
                connector: Connector::Source(s),
                ..
            }) => s.track(sequence),
            _ => 0,
        }
    }

    /// Element `sequence` of this source was handled.
    pub(super) fn handled(&mut self, sequence: u64, accepted: bool) {
        if let StageInstance::Connector(ConnectorStage {
            connector: Connector::Source(s),
            ..
        }) = self
        {
            s.handled(sequence, accepted);
        }
    }

    /// A deferring sink's confirmations since the last call.
    pub(super) fn settle(&mut self, settled: &mut dyn FnMut(u64, bool)) {
        if let StageInstance::Connector(ConnectorStage {
            connector: Connector::Sink(s),
            ..
        }) = self
        {
            s.settle(settled);
        }
    }

    /// A connector's own counters (fetched, acked, published, …).
    pub(super) fn connector_report(&self) -> Option<ConnectorReport> {
        match self {
            StageInstance::Connector(c) => match &c.connector {
                Connector::Source(s) => s.report(),
                Connector::Sink(s) => s.report(),
            },
            StageInstance::Wasm(_) => None,
        }
    }

    /// `sink.complete()`.
    pub(super) fn complete(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
    ) -> Call<Result<(), ProcessError>> {
        match self {
            StageInstance::Wasm(i) => i.complete(flow),
            StageInstance::Connector(c) => match &mut c.connector {
                Connector::Sink(sink) => Ok(sink.complete()),
                Connector::Source(_) => Err(c.missing("complete", TorvynInterface::Sink)),
            },
        }
    }

    /// `processor.process(element)`.
    // HOT PATH
    pub(super) fn process(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        element: &StreamElement,
    ) -> Call<Result<ProcessResult, ProcessError>> {
        match self {
            StageInstance::Wasm(i) => i.process(flow, element),
            StageInstance::Connector(c) => Err(c.missing("process", TorvynInterface::Processor)),
        }
    }

    /// `filter.evaluate(element)`.
    // HOT PATH
    pub(super) fn evaluate(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        element: &StreamElement,
    ) -> Call<Result<bool, ProcessError>> {
        match self {
            StageInstance::Wasm(i) => i.evaluate(flow, element),
            StageInstance::Connector(c) => Err(c.missing("evaluate", TorvynInterface::Filter)),
        }
    }

    /// `router.route(element)`.
    pub(super) fn route(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        element: &StreamElement,
    ) -> Call<Result<Vec<String>, ProcessError>> {
        match self {
            StageInstance::Wasm(i) => i.route(flow, element),
            StageInstance::Connector(c) => Err(c.missing("route", TorvynInterface::Router)),
        }
    }

    /// `aggregator.ingest(element)`.
    pub(super) fn ingest(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        element: &StreamElement,
    ) -> Call<Result<Option<OutputElement>, ProcessError>> {
        match self {
            StageInstance::Wasm(i) => i.ingest(flow, element),
            StageInstance::Connector(c) => Err(c.missing("ingest", TorvynInterface::Aggregator)),
        }
    }

    /// `aggregator.flush()`.
    pub(super) fn flush(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
    ) -> Call<Result<Vec<OutputElement>, ProcessError>> {
        match self {
            StageInstance::Wasm(i) => i.flush(flow),
            StageInstance::Connector(c) => Err(c.missing("flush", TorvynInterface::Aggregator)),
        }
    }

    /// `batch-processor.process-batch(inputs)` (connectors have no batch
    /// form: the loop never asks them).
    // HOT PATH
    pub(super) fn process_batch(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        inputs: &[StreamElement],
    ) -> Call<Vec<Result<ProcessResult, ProcessError>>> {
        match self {
            StageInstance::Wasm(i) => i.process_batch(flow, inputs),
            StageInstance::Connector(c) => {
                Err(c.missing("process-batch", TorvynInterface::BatchProcessor))
            }
        }
    }

    /// `batch-source.pull-batch(max)`.
    // HOT PATH
    pub(super) fn pull_batch(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        max: u32,
    ) -> Call<Result<Vec<OutputElement>, ProcessError>> {
        match self {
            StageInstance::Wasm(i) => i.pull_batch(flow, max),
            StageInstance::Connector(c) => {
                Err(c.missing("pull-batch", TorvynInterface::BatchSource))
            }
        }
    }

    /// `batch-sink.push-batch(elements)`.
    // HOT PATH
    pub(super) fn push_batch(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        elements: &[StreamElement],
    ) -> Call<Result<BackpressureSignal, PushFailure>> {
        match self {
            StageInstance::Wasm(i) => i.push_batch(flow, elements),
            StageInstance::Connector(c) => Err(c.missing("push-batch", TorvynInterface::BatchSink)),
        }
    }

    /// Fuel its calls burnt (a connector burns none).
    pub(super) fn fuel_consumed(&self) -> u64 {
        match self {
            StageInstance::Wasm(i) => i.fuel_consumed(),
            StageInstance::Connector(_) => 0,
        }
    }

    /// Bytes of linear memory it has (a connector has none).
    pub(super) fn memory_bytes(&self) -> u64 {
        match self {
            StageInstance::Wasm(i) => i.memory_bytes(),
            StageInstance::Connector(_) => 0,
        }
    }

    /// Tells the instance which element its next call serves (traces).
    pub(super) fn mark_call(&mut self, sequence: u64) {
        if let StageInstance::Wasm(i) = self {
            i.mark_call(sequence);
        }
    }

    /// Whether a trap left it unusable.
    pub(super) fn is_poisoned(&self) -> bool {
        match self {
            StageInstance::Wasm(i) => i.is_poisoned(),
            StageInstance::Connector(_) => false,
        }
    }

    /// An injected failure of `function`, as if the call had failed so.
    pub(super) fn inject_trap(
        &mut self,
        function: &'static str,
        kind: InvokeFailure,
    ) -> InvokeError {
        match self {
            StageInstance::Wasm(i) => i.inject_trap(function, kind),
            StageInstance::Connector(c) => c.failure(
                function,
                kind,
                ErrorCode::FatalComponentError,
                "injected fault".into(),
            ),
        }
    }
}

impl ConnectorStage {
    // HOT PATH: the payload and the pool's buffers are reused.
    fn pull(&mut self, flow: &mut Option<Box<FlowShared>>) -> Call<Result<Pull, ProcessError>> {
        let Connector::Source(source) = &mut self.connector else {
            return Err(self.missing("pull", TorvynInterface::Source));
        };
        self.payload.clear();
        match source.pull(&mut self.payload) {
            Err(e) => Ok(Err(e)),
            Ok(Pulled::Ended) => Ok(Ok(Pull::Ended)),
            Ok(Pulled::NotYet(wait)) => Ok(Ok(Pull::NotYet(wait))),
            Ok(Pulled::Element) => {
                let content_type = source.content_type();
                let Some(shared) = flow.as_deref_mut() else {
                    return Err(self.unavailable("pull"));
                };
                let buffer =
                    into_buffer(&mut shared.resources, self.id, &self.payload, content_type)
                        .map_err(|e| self.resource_failure("pull", &e))?;
                Ok(Ok(Pull::Element(OutputElement {
                    meta: ElementMeta {
                        sequence: 0,
                        timestamp_ns: 0,
                        content_type: String::new(),
                    },
                    payload: Resource::new_own(buffer.to_wire()),
                })))
            }
        }
    }

    // HOT PATH: writes the lent buffer's bytes in place.
    fn push(
        &mut self,
        flow: &mut Option<Box<FlowShared>>,
        element: &StreamElement,
        origin: Option<Origin<'_>>,
    ) -> Call<Result<BackpressureSignal, ProcessError>> {
        if !matches!(self.connector, Connector::Sink(_)) {
            return Err(self.missing("push", TorvynInterface::Sink));
        }
        let Some(shared) = flow.as_deref_mut() else {
            return Err(self.unavailable("push"));
        };
        let resources = &mut shared.resources;
        let buffer = resources
            .resolve(element.payload.rep(), "push")
            .map_err(|e| self.resource_failure("push", &e))?;
        let bytes = resources
            .bytes(buffer)
            .map_err(|e| self.resource_failure("push", &e))?;
        let Connector::Sink(sink) = &mut self.connector else {
            return Err(self.missing("push", TorvynInterface::Sink));
        };
        let written = match sink.push_from(bytes, element.meta.sequence, origin) {
            Ok(Delivery::Accepted(written)) => written,
            Ok(Delivery::Deferred(written)) => {
                self.deferred = true;
                written
            }
            Err(e) => return Ok(Err(e)),
        };
        if written > 0 {
            resources.record_export(self.id, buffer, written);
        }
        Ok(Ok(BackpressureSignal::Ready))
    }

    fn failure(
        &self,
        function: &'static str,
        kind: InvokeFailure,
        code: ErrorCode,
        detail: String,
    ) -> InvokeError {
        InvokeError::new(&self.name, function, kind, code, detail)
    }

    fn missing(&self, function: &'static str, interface: TorvynInterface) -> InvokeError {
        self.failure(
            function,
            InvokeFailure::ContractViolation,
            ErrorCode::TopologyInvalid,
            format!("this built-in connector does not play {interface}"),
        )
    }

    fn unavailable(&self, function: &'static str) -> InvokeError {
        self.failure(
            function,
            InvokeFailure::ContractViolation,
            ErrorCode::FatalComponentError,
            "the flow's buffers were not available".into(),
        )
    }

    fn resource_failure(&self, function: &'static str, error: &ResourceError) -> InvokeError {
        self.failure(
            function,
            InvokeFailure::ContractViolation,
            error.code(),
            error.to_string(),
        )
    }
}

/// `payload` in a frozen buffer owned by `id`, as a Wasm source makes one
/// (allocate, append, set the content type, freeze): nothing is left
/// behind when a step fails.
fn into_buffer(
    resources: &mut ResourceManager,
    id: ComponentId,
    payload: &[u8],
    content_type: &str,
) -> Result<BufferId, ResourceError> {
    let mutable = resources.guest_allocate(id, payload.len() as u64)?;
    let frozen = resources
        .guest_append(id, mutable, payload)
        .and_then(|()| resources.guest_set_content_type(id, mutable, content_type))
        .and_then(|()| resources.guest_freeze(id, mutable));
    let dropped = resources.guest_drop(id, mutable);
    let frozen = frozen?;
    dropped?;
    Ok(frozen)
}
