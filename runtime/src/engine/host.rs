//! Host implementations of the Torvyn imports: `types` (buffer,
//! mutable-buffer, flow-context), `buffer-allocator` and its alias
//! `torvyn:resources/buffer-ops`.
//!
//! Contract violations (stale handle, not the owner, use after `freeze`)
//! trap the guest with a [`HostTrap`] naming the error code; recoverable
//! conditions (capacity, pool exhaustion, budget) come back as
//! `buffer-error` values the guest can handle.

use super::bindings::torvyn::resources::buffer_ops;
use super::bindings::torvyn::streaming::buffer_allocator;
use super::bindings::types::{self, Buffer, BufferError, FlowContext, MutableBuffer};
use super::state::{ComponentState, HostTrap};
use crate::error::Coded;
use crate::resources::{BufferId, ResourceError};
use wasmtime::component::Resource;

type HostResult<T> = wasmtime::Result<T>;

/// Splits a resource error into a guest-visible `buffer-error` or a trap.
pub(super) fn buffer_error(e: ResourceError) -> HostResult<BufferError> {
    match e {
        ResourceError::CapacityExceeded { .. } => Ok(BufferError::CapacityExceeded),
        ResourceError::OutOfBounds { .. } => Ok(BufferError::OutOfBounds),
        ResourceError::PoolExhausted { .. }
        | ResourceError::AllocationFailed { .. }
        | ResourceError::BudgetExceeded { .. } => Ok(BufferError::AllocationFailed(format!(
            "{} {}: {e}",
            e.code(),
            e.code().name()
        ))),
        other => Err(HostTrap::from(other).into()),
    }
}

pub(super) fn trap(e: ResourceError) -> wasmtime::Error {
    HostTrap::from(e).into()
}

impl ComponentState {
    fn buffer_id(&mut self, rep: u32, operation: &'static str) -> HostResult<BufferId> {
        self.flow()?.resources.resolve(rep, operation).map_err(trap)
    }

    fn allocate(
        &mut self,
        capacity_hint: u64,
    ) -> HostResult<Result<Resource<MutableBuffer>, BufferError>> {
        let caller = self.id;
        match self.flow()?.resources.guest_allocate(caller, capacity_hint) {
            Ok(id) => Ok(Ok(Resource::new_own(id.to_wire()))),
            Err(e) => buffer_error(e).map(Err),
        }
    }

    fn clone_into_mutable(
        &mut self,
        source: Resource<Buffer>,
    ) -> HostResult<Result<Resource<MutableBuffer>, BufferError>> {
        let caller = self.id;
        let source = self.buffer_id(source.rep(), "clone-into-mutable")?;
        match self
            .flow()?
            .resources
            .guest_clone_into_mutable(caller, source)
        {
            Ok(id) => Ok(Ok(Resource::new_own(id.to_wire()))),
            Err(e) => buffer_error(e).map(Err),
        }
    }
}

impl types::Host for ComponentState {}

impl types::HostBuffer for ComponentState {
    fn size(&mut self, this: Resource<Buffer>) -> HostResult<u64> {
        let (caller, id) = (self.id, self.buffer_id(this.rep(), "size")?);
        self.flow()?.resources.guest_size(caller, id).map_err(trap)
    }

    fn content_type(&mut self, this: Resource<Buffer>) -> HostResult<String> {
        let (caller, id) = (self.id, self.buffer_id(this.rep(), "content-type")?);
        self.flow()?
            .resources
            .guest_content_type(caller, id)
            .map(str::to_owned)
            .map_err(trap)
    }

    fn read(&mut self, this: Resource<Buffer>, offset: u64, len: u64) -> HostResult<Vec<u8>> {
        let (caller, id) = (self.id, self.buffer_id(this.rep(), "read")?);
        self.flow()?
            .resources
            .guest_read(caller, id, offset, len)
            .map_err(trap)
    }

    fn read_all(&mut self, this: Resource<Buffer>) -> HostResult<Vec<u8>> {
        let (caller, id) = (self.id, self.buffer_id(this.rep(), "read-all")?);
        self.flow()?
            .resources
            .guest_read_all(caller, id)
            .map_err(trap)
    }

    fn drop(&mut self, this: Resource<Buffer>) -> HostResult<()> {
        let (caller, id) = (self.id, self.buffer_id(this.rep(), "drop")?);
        self.flow()?.resources.guest_drop(caller, id).map_err(trap)
    }
}

impl types::HostMutableBuffer for ComponentState {
    fn write(
        &mut self,
        this: Resource<MutableBuffer>,
        offset: u64,
        bytes: Vec<u8>,
    ) -> HostResult<Result<(), BufferError>> {
        let (caller, id) = (self.id, self.buffer_id(this.rep(), "write")?);
        match self
            .flow()?
            .resources
            .guest_write(caller, id, offset, &bytes)
        {
            Ok(()) => Ok(Ok(())),
            Err(e) => buffer_error(e).map(Err),
        }
    }

    fn append(
        &mut self,
        this: Resource<MutableBuffer>,
        bytes: Vec<u8>,
    ) -> HostResult<Result<(), BufferError>> {
        let (caller, id) = (self.id, self.buffer_id(this.rep(), "append")?);
        match self.flow()?.resources.guest_append(caller, id, &bytes) {
            Ok(()) => Ok(Ok(())),
            Err(e) => buffer_error(e).map(Err),
        }
    }

    fn size(&mut self, this: Resource<MutableBuffer>) -> HostResult<u64> {
        let (caller, id) = (self.id, self.buffer_id(this.rep(), "size")?);
        self.flow()?
            .resources
            .guest_mutable_size(caller, id)
            .map_err(trap)
    }

    fn capacity(&mut self, this: Resource<MutableBuffer>) -> HostResult<u64> {
        let (caller, id) = (self.id, self.buffer_id(this.rep(), "capacity")?);
        self.flow()?
            .resources
            .guest_capacity(caller, id)
            .map_err(trap)
    }

    fn set_content_type(
        &mut self,
        this: Resource<MutableBuffer>,
        content_type: String,
    ) -> HostResult<()> {
        let (caller, id) = (self.id, self.buffer_id(this.rep(), "set-content-type")?);
        self.flow()?
            .resources
            .guest_set_content_type(caller, id, &content_type)
            .map_err(trap)
    }

    fn freeze(&mut self, this: Resource<MutableBuffer>) -> HostResult<Resource<Buffer>> {
        let (caller, id) = (self.id, self.buffer_id(this.rep(), "freeze")?);
        let frozen = self
            .flow()?
            .resources
            .guest_freeze(caller, id)
            .map_err(trap)?;
        Ok(Resource::new_own(frozen.to_wire()))
    }

    fn drop(&mut self, this: Resource<MutableBuffer>) -> HostResult<()> {
        let (caller, id) = (self.id, self.buffer_id(this.rep(), "drop")?);
        self.flow()?.resources.guest_drop(caller, id).map_err(trap)
    }
}

impl types::HostFlowContext for ComponentState {
    fn trace_id(&mut self, _this: Resource<FlowContext>) -> HostResult<String> {
        Ok(self.flow()?.context.trace_id_hex())
    }

    fn span_id(&mut self, _this: Resource<FlowContext>) -> HostResult<String> {
        let call = self.call();
        Ok(self.flow()?.context.span_id_hex(call))
    }

    fn deadline_ns(&mut self, _this: Resource<FlowContext>) -> HostResult<u64> {
        Ok(self.flow()?.context.deadline_ns())
    }

    fn flow_id(&mut self, _this: Resource<FlowContext>) -> HostResult<String> {
        Ok(self.flow()?.context.flow_id.clone())
    }

    fn drop(&mut self, _this: Resource<FlowContext>) -> HostResult<()> {
        // The flow context is owned by the flow; guests only ever borrow it.
        Ok(())
    }
}

impl buffer_allocator::Host for ComponentState {
    fn allocate(
        &mut self,
        capacity_hint: u64,
    ) -> HostResult<Result<Resource<MutableBuffer>, BufferError>> {
        ComponentState::allocate(self, capacity_hint)
    }

    fn clone_into_mutable(
        &mut self,
        source: Resource<Buffer>,
    ) -> HostResult<Result<Resource<MutableBuffer>, BufferError>> {
        ComponentState::clone_into_mutable(self, source)
    }
}

impl buffer_ops::Host for ComponentState {
    fn allocate(
        &mut self,
        capacity_hint: u64,
    ) -> HostResult<Result<Resource<MutableBuffer>, BufferError>> {
        ComponentState::allocate(self, capacity_hint)
    }

    fn clone_into_mutable(
        &mut self,
        source: Resource<Buffer>,
    ) -> HostResult<Result<Resource<MutableBuffer>, BufferError>> {
        ComponentState::clone_into_mutable(self, source)
    }
}
