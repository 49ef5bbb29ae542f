//! Identities: [`BufferId`] (a generational handle into the resource table)
//! and [`ComponentId`] (a component instance's index within its flow).

use std::fmt;

/// Number of low bits of a wire handle that carry the slot index.
const INDEX_BITS: u32 = 20;
/// Largest slot index a wire handle can carry (about one million live buffers per flow).
pub const MAX_SLOTS: u32 = 1 << INDEX_BITS;
const INDEX_MASK: u32 = MAX_SLOTS - 1;
/// Generation bits that survive the trip through a wire handle.
const WIRE_GENERATION_MASK: u32 = (1 << (32 - INDEX_BITS)) - 1;

/// A handle to one buffer in a flow's resource table: slot index plus the
/// slot's generation when the buffer was created. A handle whose generation
/// no longer matches its slot is stale (E0303).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BufferId {
    index: u32,
    generation: u32,
}

impl BufferId {
    pub(crate) fn new(index: u32, generation: u32) -> Self {
        debug_assert!(index < MAX_SLOTS);
        Self { index, generation }
    }

    /// Slot index in the resource table.
    pub fn index(self) -> u32 {
        self.index
    }

    /// Generation of the slot when this handle was issued.
    pub fn generation(self) -> u32 {
        self.generation
    }

    /// The 32-bit representation handed to Wasm guests (the component-model
    /// resource `rep`): 20 bits of index, 12 bits of generation.
    pub fn to_wire(self) -> u32 {
        ((self.generation & WIRE_GENERATION_MASK) << INDEX_BITS) | self.index
    }

    /// Decodes a wire handle. Only the low 12 bits of the generation survive,
    /// so the table compares generations modulo 4096 for wire handles.
    pub fn from_wire(rep: u32) -> WireHandle {
        WireHandle {
            index: rep & INDEX_MASK,
            generation_low: rep >> INDEX_BITS,
        }
    }
}

impl fmt::Debug for BufferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "B{}@{}", self.index, self.generation)
    }
}

impl fmt::Display for BufferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "B{:03}", self.index)
    }
}

/// A decoded wire handle: an index and the low bits of a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireHandle {
    pub(crate) index: u32,
    pub(crate) generation_low: u32,
}

impl WireHandle {
    /// Whether this wire handle designates a buffer of the given full generation.
    pub(crate) fn matches_generation(self, generation: u32) -> bool {
        generation & WIRE_GENERATION_MASK == self.generation_low
    }
}

/// A component instance's index within its flow (0-based, in node order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId(pub u32);

impl ComponentId {
    /// Index usable for per-component arrays.
    pub fn as_index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "component#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_handles_round_trip_index_and_low_generation() {
        let id = BufferId::new(12345, 7);
        let wire = BufferId::from_wire(id.to_wire());
        assert_eq!(wire.index, 12345);
        assert!(wire.matches_generation(7));
        assert!(!wire.matches_generation(8));
    }

    #[test]
    fn wire_generation_wraps_modulo_4096() {
        let id = BufferId::new(3, 4096 + 5);
        let wire = BufferId::from_wire(id.to_wire());
        assert!(wire.matches_generation(5));
        assert_eq!(wire.index, 3);
    }
}
