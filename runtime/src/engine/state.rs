//! The data of one component's Wasmtime `Store`: its WASI context, its
//! limits, and — only while one of its functions is being called — the
//! flow's shared state (resource manager and flow context).
//!
//! The flow's shared state is moved into the store right before a call
//! and moved out right after (`ComponentState::lend_flow` /
//! `ComponentState::take_flow`): a pointer move, no lock, no reference
//! counting, and never two stores holding it at once.

use super::instance::MemoryLimiter;
use crate::error::{Coded, ErrorCode};
use crate::resources::{ComponentId, ResourceError, ResourceManager};
use crate::security::CapabilityMonitor;
use crate::trace_context::{lower_hex, TraceContext};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

/// Per-flow identity and trace context visible to components through
/// `flow-context`.
#[derive(Debug, Clone, Default)]
pub struct FlowContextData {
    /// Opaque flow id.
    pub flow_id: String,
    /// The flow's name in Torvyn.toml.
    pub flow_name: String,
    /// The flow's trace identity; `None` when tracing is off.
    pub trace: Option<TraceContext>,
    /// When the flow must have finished (`--timeout`); `None`: no deadline.
    pub deadline: Option<std::time::Instant>,
    /// The replica this flow is of a replicated flow
    /// (`flow-metadata.partition`); `{ index: 0, count: 1 }` otherwise.
    pub partition: crate::reactor::Partition,
}

impl FlowContextData {
    /// `deadline-ns`: nanoseconds left before the flow's deadline; 0 when
    /// it has none (1 once it has passed: 0 would read as "none").
    pub fn deadline_ns(&self) -> u64 {
        self.deadline.map_or(0, |deadline| {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            u64::try_from(left.as_nanos()).unwrap_or(u64::MAX).max(1)
        })
    }

    /// The W3C trace id as 32 hex chars, empty when tracing is off.
    pub fn trace_id_hex(&self) -> String {
        self.trace
            .map_or_else(String::new, |trace| lower_hex(&trace.trace_id))
    }

    /// The current span id as 16 hex chars: that of `call`, the call in
    /// progress as (node, element sequence), or the flow's root span
    /// outside calls; empty when tracing is off.
    pub fn span_id_hex(&self, call: Option<(u32, u64)>) -> String {
        let Some(trace) = self.trace else {
            return String::new();
        };
        let span = match call {
            Some((node, sequence)) => trace.span_id(node, sequence),
            None => trace.root_span_id,
        };
        lower_hex(&span)
    }
}

/// State shared by all components of a flow.
#[derive(Debug)]
pub struct FlowShared {
    /// The flow's buffers.
    pub resources: ResourceManager,
    /// The flow's context.
    pub context: FlowContextData,
}

/// The `torvyn:capabilities` services a component was granted, and where
/// a refused call is counted and audited.
#[derive(Debug, Clone, Default)]
pub struct ServiceGrants {
    /// `torvyn:observability/custom-metrics`.
    pub custom_metrics: bool,
    /// `torvyn:streaming/flow-metadata`.
    pub flow_metadata: bool,
    /// `torvyn:runtime/diagnostics`.
    pub diagnostics: bool,
    /// The component's capability monitor.
    pub monitor: Option<Arc<CapabilityMonitor>>,
}

/// The `T` of every component's `Store<T>`.
///
/// `repr(C)`, the fields every call writes first: `call_sequence`
/// shares a cache line with `flow`, which every call moves in and
/// out anyway, so marking the call costs no extra cache miss.
#[repr(C)]
pub struct ComponentState {
    pub(crate) flow: Option<Box<FlowShared>>,
    /// The sequence of the element the call in progress works on, when
    /// the flow traces (set by [`super::ComponentInstance::mark_call`],
    /// cleared when the call returns): with [`Self::id`], names the
    /// call's span; its id is derived only when a component asks for it.
    pub(crate) call_sequence: Option<u64>,
    /// Epoch ticks left before the call in progress passes its deadline
    /// (the epoch callback counts them down).
    pub(crate) ticks_left: u64,
    pub(crate) id: ComponentId,
    pub(crate) name: String,
    pub(crate) limiter: MemoryLimiter,
    /// Set by the host to interrupt the call in progress (cancellation).
    pub(crate) interrupt: Option<Arc<AtomicBool>>,
    /// Which `torvyn:capabilities` services it was granted.
    pub(crate) services: ServiceGrants,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl ComponentState {
    pub(crate) fn new(
        id: ComponentId,
        name: String,
        wasi: WasiCtx,
        limiter: MemoryLimiter,
    ) -> Self {
        Self {
            flow: None,
            call_sequence: None,
            ticks_left: 0,
            id,
            name,
            limiter,
            interrupt: None,
            services: ServiceGrants::default(),
            wasi,
            table: ResourceTable::new(),
        }
    }

    /// Moves the flow's shared state in for the duration of a call.
    // HOT PATH
    pub(crate) fn lend_flow(&mut self, flow: Box<FlowShared>) {
        self.flow = Some(flow);
    }

    /// Moves the flow's shared state back out after a call.
    // HOT PATH
    pub(crate) fn take_flow(&mut self) -> Option<Box<FlowShared>> {
        self.call_sequence = None;
        self.flow.take()
    }

    /// The call in progress as (node, element sequence), if marked.
    pub(crate) fn call(&self) -> Option<(u32, u64)> {
        self.call_sequence.map(|sequence| (self.id.0, sequence))
    }

    /// The flow's state; a trap if a host function runs outside a call
    /// (which would be a runtime bug).
    pub(crate) fn flow(&mut self) -> wasmtime::Result<&mut FlowShared> {
        match self.flow.as_deref_mut() {
            Some(flow) => Ok(flow),
            None => Err(HostTrap::internal(
                "host function called outside of a component invocation",
            )
            .into()),
        }
    }
}

impl WasiView for ComponentState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A trap raised by a host function: the guest broke the buffer contract
/// (stale handle, not the owner, use after freeze) or the host failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct HostTrap {
    /// Stable code.
    pub code: ErrorCode,
    /// What happened.
    pub message: String,
}

impl HostTrap {
    pub(crate) fn internal(message: &str) -> Self {
        Self {
            code: ErrorCode::NotOwner,
            message: format!("runtime bug: {message}"),
        }
    }
}

impl From<ResourceError> for HostTrap {
    fn from(e: ResourceError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_span_id_is_the_call_in_progress_then_the_root_and_empty_when_off() {
        let trace = TraceContext {
            trace_id: [1; 16],
            root_span_id: [0xab; 8],
        };
        let mut context = FlowContextData::default();
        assert_eq!(context.span_id_hex(Some((2, 41))), "", "tracing off");
        context.trace = Some(trace);
        assert_eq!(
            context.span_id_hex(None),
            "abababababababab",
            "outside calls: the root"
        );
        let expected: String = trace
            .span_id(2, 41)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(context.span_id_hex(Some((2, 41))), expected);
        assert_eq!(expected.len(), 16);
    }

    #[test]
    fn deadline_ns_is_zero_without_a_deadline_and_never_zero_with_one() {
        use std::time::{Duration, Instant};
        let none = FlowContextData::default();
        assert_eq!(none.deadline_ns(), 0);
        let ahead = FlowContextData {
            deadline: Some(Instant::now() + Duration::from_secs(10)),
            ..FlowContextData::default()
        };
        assert!(
            ahead.deadline_ns() > 9_000_000_000,
            "{}",
            ahead.deadline_ns()
        );
        let passed = FlowContextData {
            deadline: Instant::now().checked_sub(Duration::from_secs(1)),
            ..FlowContextData::default()
        };
        assert_eq!(
            passed.deadline_ns(),
            1,
            "a passed deadline still reads as one"
        );
    }
}
