//! The data of one component's Wasmtime `Store`: its WASI context, its
//! limits, and — only while one of its functions is being called — the
//! flow's shared state (resource manager and flow context).
//!
//! The flow's shared state is moved into the store right before a call
//! and moved out right after ([`ComponentState::lend_flow`] /
//! [`ComponentState::take_flow`]): a pointer move, no lock, no reference
//! counting, and never two stores holding it at once.

use super::instance::MemoryLimiter;
use crate::error::{Coded, ErrorCode};
use crate::resources::{ComponentId, ResourceError, ResourceManager};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

/// Per-flow identity and trace context visible to components through
/// `flow-context`.
#[derive(Debug, Clone, Default)]
pub struct FlowContextData {
    /// Opaque flow id.
    pub flow_id: String,
    /// W3C trace id (32 hex chars), empty when tracing is off.
    pub trace_id: String,
    /// Current span id (16 hex chars), empty when tracing is off.
    pub span_id: String,
    /// Remaining deadline in ns, 0 = none.
    pub deadline_ns: u64,
}

/// State shared by all components of a flow.
#[derive(Debug)]
pub struct FlowShared {
    /// The flow's buffers.
    pub resources: ResourceManager,
    /// The flow's context.
    pub context: FlowContextData,
}

/// The `T` of every component's `Store<T>`.
pub struct ComponentState {
    pub(crate) id: ComponentId,
    pub(crate) name: String,
    pub(crate) flow: Option<Box<FlowShared>>,
    pub(crate) limiter: MemoryLimiter,
    /// Epoch ticks left before the call in progress passes its deadline
    /// (the epoch callback counts them down).
    pub(crate) ticks_left: u64,
    /// Set by the host to interrupt the call in progress (cancellation).
    pub(crate) interrupt: Option<Arc<AtomicBool>>,
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
            id,
            name,
            flow: None,
            limiter,
            ticks_left: 0,
            interrupt: None,
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
        self.flow.take()
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
