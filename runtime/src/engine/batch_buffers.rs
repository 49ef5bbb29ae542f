//! Host side of `torvyn:batching/batch-buffers`: the buffer operations of a
//! whole batch in one host call each.
//!
//! Each function does exactly what the per-element calls it replaces do,
//! through the same [`crate::resources::ResourceManager`] operations, so
//! ownership checks, copy ledger entries (one `PayloadRead` per payload
//! read, one `PayloadWrite` per payload written), `max-buffer-size` and the
//! component's memory budget are the same as on the per-element path.

use super::bindings::torvyn::batching::batch_buffers;
use super::bindings::types::{Buffer, BufferError};
use super::host::{buffer_error, trap};
use super::state::ComponentState;
use crate::resources::{BufferId, ComponentId, ResourceError, ResourceManager};
use wasmtime::component::Resource;

impl batch_buffers::Host for ComponentState {
    fn read_all_batch(&mut self, buffers: Vec<Resource<Buffer>>) -> wasmtime::Result<Vec<Vec<u8>>> {
        let caller = self.id;
        let resources = &mut self.flow()?.resources;
        let mut payloads = Vec::with_capacity(buffers.len());
        for buffer in buffers {
            let id = resources
                .resolve(buffer.rep(), "read-all-batch")
                .map_err(trap)?;
            payloads.push(resources.guest_read_all(caller, id).map_err(trap)?);
        }
        Ok(payloads)
    }

    fn freeze_batch(
        &mut self,
        payloads: Vec<Vec<u8>>,
        content_type: String,
    ) -> wasmtime::Result<Result<Vec<Resource<Buffer>>, BufferError>> {
        let caller = self.id;
        let resources = &mut self.flow()?.resources;
        let mut made: Vec<BufferId> = Vec::with_capacity(payloads.len());
        for payload in &payloads {
            match freeze_one(resources, caller, payload, &content_type) {
                Ok(id) => made.push(id),
                Err(e) => {
                    // All or nothing: the guest never sees the buffers made
                    // so far, so they go back now.
                    for id in made {
                        resources.guest_drop(caller, id).map_err(trap)?;
                    }
                    return buffer_error(e).map(Err);
                }
            }
        }
        Ok(Ok(made
            .into_iter()
            .map(|id| Resource::new_own(id.to_wire()))
            .collect()))
    }
}

/// `allocate` + `append` + `set-content-type` + `freeze`, then the drop of
/// the spent mutable handle: one immutable buffer owned by `caller`.
fn freeze_one(
    resources: &mut ResourceManager,
    caller: ComponentId,
    payload: &[u8],
    content_type: &str,
) -> Result<BufferId, ResourceError> {
    let mutable = resources.guest_allocate(caller, payload.len() as u64)?;
    let frozen = resources
        .guest_append(caller, mutable, payload)
        .and_then(|()| resources.guest_set_content_type(caller, mutable, content_type))
        .and_then(|()| resources.guest_freeze(caller, mutable));
    // The mutable handle is spent either way (frozen, or failed before).
    resources.guest_drop(caller, mutable)?;
    frozen
}
