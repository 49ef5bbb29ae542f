//! Host side of `torvyn:batching/batch-buffers`: the buffer operations of a
//! whole batch in one host call each.
//!
//! Each function does exactly what the per-element calls it replaces do,
//! through the same [`crate::resources::ResourceManager`] operations, so
//! ownership checks, copy ledger entries (one `PayloadRead` per payload
//! read, one `PayloadWrite` per payload written), `max-buffer-size` and the
//! component's memory budget are the same as on the per-element path.

use super::bindings::torvyn::batching::batch_buffers;
use super::bindings::torvyn::batching::batch_buffers::PackedPayloads;
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
        self.freeze_all(payloads.iter().map(Vec::as_slice), &content_type)
    }

    fn read_all_packed(
        &mut self,
        buffers: Vec<Resource<Buffer>>,
    ) -> wasmtime::Result<PackedPayloads> {
        let caller = self.id;
        let resources = &mut self.flow()?.resources;
        let mut packed = PackedPayloads {
            bytes: Vec::new(),
            ends: Vec::with_capacity(buffers.len()),
        };
        for buffer in buffers {
            let id = resources
                .resolve(buffer.rep(), "read-all-packed")
                .map_err(trap)?;
            resources
                .guest_read_all_into(caller, id, &mut packed.bytes)
                .map_err(trap)?;
            let end = u32::try_from(packed.bytes.len()).map_err(|_| {
                wasmtime::Error::msg(
                    "read-all-packed: the batch's payloads pass 4 GiB; read fewer buffers at once",
                )
            })?;
            packed.ends.push(end);
        }
        Ok(packed)
    }

    fn freeze_packed(
        &mut self,
        payloads: PackedPayloads,
        content_type: String,
    ) -> wasmtime::Result<Result<Vec<Resource<Buffer>>, BufferError>> {
        match unpack(&payloads) {
            Some(slices) => self.freeze_all(slices.into_iter(), &content_type),
            None => Ok(Err(BufferError::OutOfBounds)),
        }
    }
}

impl ComponentState {
    /// A new immutable buffer per payload of `payloads` (each a slice of
    /// one list), all or nothing.
    fn freeze_all<'a>(
        &mut self,
        payloads: impl Iterator<Item = &'a [u8]>,
        content_type: &str,
    ) -> wasmtime::Result<Result<Vec<Resource<Buffer>>, BufferError>> {
        let caller = self.id;
        let resources = &mut self.flow()?.resources;
        let mut made: Vec<BufferId> = Vec::with_capacity(payloads.size_hint().0);
        for payload in payloads {
            match freeze_one(resources, caller, payload, content_type) {
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

/// The payloads of `packed` as slices, or `None` when its `ends` decrease
/// or pass the end of its bytes (`freeze-packed` then makes nothing).
pub fn unpack(packed: &PackedPayloads) -> Option<Vec<&[u8]>> {
    let mut start = 0usize;
    let mut slices = Vec::with_capacity(packed.ends.len());
    for &end in &packed.ends {
        let end = end as usize;
        slices.push(packed.bytes.get(start..end)?);
        start = end;
    }
    Some(slices)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(bytes: &[u8], ends: &[u32]) -> PackedPayloads {
        PackedPayloads {
            bytes: bytes.to_vec(),
            ends: ends.to_vec(),
        }
    }

    #[test]
    fn packed_payloads_unpack_end_to_end() {
        let p = packed(b"abcdef", &[2, 2, 6]);
        let slices = unpack(&p).expect("well formed");
        assert_eq!(slices, [&b"ab"[..], &b""[..], &b"cdef"[..]]);
        assert_eq!(
            unpack(&packed(b"", &[])).expect("empty"),
            Vec::<&[u8]>::new()
        );
    }

    #[test]
    fn ends_that_decrease_or_pass_the_bytes_are_refused() {
        assert_eq!(unpack(&packed(b"abcdef", &[4, 2])), None);
        assert_eq!(unpack(&packed(b"abcdef", &[2, 7])), None);
    }
}
