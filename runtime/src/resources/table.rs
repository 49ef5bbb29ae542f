//! The generational resource table: a slab of buffer slots. Reusing a slot
//! bumps its generation, so an old [`BufferId`] can never reach the new
//! buffer: it is reported as stale (E0303).

use super::error::ResourceError;
use super::handle::{BufferId, MAX_SLOTS};
use super::ownership::OwnershipState;
use super::pool::{PooledBytes, Tier};

/// Mutable, frozen (a mutable buffer after `freeze`) or immutable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferKind {
    /// Writable, single owner.
    Mutable,
    /// A mutable buffer whose bytes were moved out by `freeze`; unusable.
    Frozen,
    /// Read-only.
    Immutable,
}

impl BufferKind {
    /// Lower-case name for messages.
    pub const fn name(self) -> &'static str {
        match self {
            BufferKind::Mutable => "mutable",
            BufferKind::Frozen => "frozen",
            BufferKind::Immutable => "immutable",
        }
    }
}

/// A live buffer.
#[derive(Debug)]
pub struct BufferEntry {
    /// Content bytes (`len` = size); capacity comes from the pool tier.
    pub bytes: Vec<u8>,
    /// Pool tier to return to.
    pub tier: Option<Tier>,
    /// Logical capacity (writes beyond it fail).
    pub capacity: u64,
    /// Kind.
    pub kind: BufferKind,
    /// Ownership state.
    pub state: OwnershipState,
    /// Content-type hint ("" when unset). Its allocation is kept across reuse.
    pub content_type: String,
    /// The component currently holding a borrow, if any.
    pub borrower: Option<super::handle::ComponentId>,
    /// Queues (or consumers) holding this buffer while it is in transit:
    /// more than one when a router or a fan-out sends the same buffer down
    /// several streams. Released to the pool when the last one lets go.
    pub transit_refs: u32,
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    live: bool,
    entry: BufferEntry,
}

/// The table of live buffers of one resource manager.
#[derive(Debug, Default)]
pub struct ResourceTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
}

impl ResourceTable {
    /// Inserts a buffer, reusing a free slot when there is one.
    pub fn insert(
        &mut self,
        storage: PooledBytes,
        capacity: u64,
        kind: BufferKind,
        state: OwnershipState,
    ) -> Result<BufferId, ResourceError> {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.slots.len()).unwrap_or(MAX_SLOTS);
                if index >= MAX_SLOTS {
                    return Err(ResourceError::AllocationFailed {
                        bytes: capacity,
                        reason: "the flow's resource table is full",
                    });
                }
                self.slots.push(Slot {
                    generation: 0,
                    live: false,
                    entry: BufferEntry {
                        bytes: Vec::new(),
                        tier: None,
                        capacity: 0,
                        kind: BufferKind::Immutable,
                        state: OwnershipState::Pooled,
                        content_type: String::new(),
                        borrower: None,
                        transit_refs: 0,
                    },
                });
                index
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.live = true;
        slot.entry.bytes = storage.bytes;
        slot.entry.tier = storage.tier;
        slot.entry.capacity = capacity;
        slot.entry.kind = kind;
        slot.entry.state = state;
        slot.entry.content_type.clear();
        slot.entry.borrower = None;
        slot.entry.transit_refs = 0;
        self.live += 1;
        Ok(BufferId::new(index, slot.generation))
    }

    /// The live buffer `id` designates.
    pub fn get(
        &self,
        id: BufferId,
        operation: &'static str,
    ) -> Result<&BufferEntry, ResourceError> {
        match self.slots.get(id.index() as usize) {
            Some(slot) if slot.live && slot.generation == id.generation() => Ok(&slot.entry),
            _ => Err(ResourceError::StaleHandle { operation }),
        }
    }

    /// The live buffer `id` designates, mutably.
    pub fn get_mut(
        &mut self,
        id: BufferId,
        operation: &'static str,
    ) -> Result<&mut BufferEntry, ResourceError> {
        match self.slots.get_mut(id.index() as usize) {
            Some(slot) if slot.live && slot.generation == id.generation() => Ok(&mut slot.entry),
            _ => Err(ResourceError::StaleHandle { operation }),
        }
    }

    /// Resolves a guest's wire handle to the full id of a live buffer.
    pub fn resolve_wire(
        &self,
        rep: u32,
        operation: &'static str,
    ) -> Result<BufferId, ResourceError> {
        let wire = BufferId::from_wire(rep);
        match self.slots.get(wire.index as usize) {
            Some(slot) if slot.live && wire.matches_generation(slot.generation) => {
                Ok(BufferId::new(wire.index, slot.generation))
            }
            _ => Err(ResourceError::StaleHandle { operation }),
        }
    }

    /// Removes a buffer, returning its storage; the slot's generation moves
    /// on so `id` becomes stale.
    pub fn remove(
        &mut self,
        id: BufferId,
        operation: &'static str,
    ) -> Result<PooledBytes, ResourceError> {
        self.get(id, operation)?;
        let slot = &mut self.slots[id.index() as usize];
        slot.live = false;
        slot.generation = slot.generation.wrapping_add(1);
        slot.entry.state = OwnershipState::Pooled;
        slot.entry.borrower = None;
        self.free.push(id.index());
        self.live -= 1;
        Ok(PooledBytes {
            bytes: std::mem::take(&mut slot.entry.bytes),
            tier: slot.entry.tier.take(),
        })
    }

    /// Number of live buffers.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Ids of all live buffers (cold path: teardown and leak checks).
    pub fn live_ids(&self) -> Vec<BufferId> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.live)
            .map(|(i, s)| BufferId::new(i as u32, s.generation))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};

    fn storage() -> PooledBytes {
        PooledBytes {
            bytes: Vec::with_capacity(16),
            tier: Some(Tier::Small),
        }
    }

    #[test]
    fn a_reused_slot_gets_a_new_generation_and_old_ids_are_stale() {
        let mut table = ResourceTable::default();
        let a = table
            .insert(storage(), 16, BufferKind::Mutable, OwnershipState::Pooled)
            .unwrap();
        table.remove(a, "release").unwrap();
        let b = table
            .insert(storage(), 16, BufferKind::Mutable, OwnershipState::Pooled)
            .unwrap();
        assert_eq!(a.index(), b.index());
        assert_ne!(a.generation(), b.generation());
        assert_eq!(
            table.get(a, "read").unwrap_err().code(),
            ErrorCode::StaleHandle
        );
        assert!(table.get(b, "read").is_ok());
        assert_eq!(
            table.remove(a, "release").unwrap_err().code(),
            ErrorCode::StaleHandle
        );
        assert_eq!(table.live(), 1);
    }

    #[test]
    fn wire_handles_resolve_only_while_live() {
        let mut table = ResourceTable::default();
        let a = table
            .insert(storage(), 16, BufferKind::Immutable, OwnershipState::Pooled)
            .unwrap();
        assert_eq!(table.resolve_wire(a.to_wire(), "size").unwrap(), a);
        table.remove(a, "release").unwrap();
        assert_eq!(
            table.resolve_wire(a.to_wire(), "size").unwrap_err().code(),
            ErrorCode::StaleHandle
        );
        assert!(table.resolve_wire(999, "size").is_err());
        assert_eq!(table.live_ids(), Vec::<BufferId>::new());
    }
}
