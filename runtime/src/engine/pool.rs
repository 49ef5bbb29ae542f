//! The instance pool: Wasmtime's pooling allocator, sized from `[runtime]`.
//!
//! With Wasmtime's default (on-demand) allocator every instance maps its
//! own linear memory — a reservation and a few memory mappings each — and
//! 10,000 two-stage flows exceed Linux's default `vm.max_map_count`
//! (65,530): Wasmtime then panics or the process aborts. The pool reserves
//! one slab of address space for every linear memory up front and one for
//! every table, so an instance costs no mapping of its own beyond the
//! pages it makes accessible, and the host refuses the instance past
//! `max_component_instances` (E0300) instead of aborting.
//!
//! Mappings: a live linear memory splits the pool's slab into its
//! accessible part and the inaccessible rest — two mappings. Wasmtime's
//! copy-on-write memory images would add two more per instance (the image
//! is mapped from a memfd between the guest's stack and its heap), so
//! 20,000 instances would need 80,000 mappings; with the images off the
//! data segments are copied in at instantiation (a few KiB for the guests
//! here) and 20,000 instances need about 40,000.
//!
//! Sizing: each linear memory slot reserves `max_memory_per_component`
//! (rounded up to whole Wasm pages) plus a guard of [`GUARD_BYTES`]; a
//! component holds at most [`MEMORIES_PER_COMPONENT`] memories,
//! [`TABLES_PER_COMPONENT`] tables and [`CORE_INSTANCES_PER_COMPONENT`] core
//! instances on average across the pool (a component built for
//! `wasm32-wasip2` has one memory, two tables and a handful of core
//! instances: its module, the WASI adapter and wit-component's shims).

use super::EngineConfig;

/// Wasm page size.
const WASM_PAGE: u64 = 64 << 10;
/// Inaccessible bytes after each linear memory slot. Bounds are checked
/// explicitly (a slot is smaller than 4 GiB); the guard lets Wasmtime fold
/// small constant offsets into the check.
const GUARD_BYTES: u64 = 2 << 20;
/// Linear memories per component instance, on average over the pool.
const MEMORIES_PER_COMPONENT: u32 = 2;
/// Tables per component instance, on average over the pool.
const TABLES_PER_COMPONENT: u32 = 4;
/// Core instances per component instance, on average over the pool.
const CORE_INSTANCES_PER_COMPONENT: u32 = 8;
/// Elements a pooled table can hold (Wasmtime's default).
const TABLE_ELEMENTS: usize = 20_000;

/// Bytes each linear memory slot can grow to: `max_memory_per_component`
/// in whole Wasm pages (at least one).
pub(crate) fn memory_slot_bytes(config: &EngineConfig) -> u64 {
    config
        .max_memory_per_component
        .div_ceil(WASM_PAGE)
        .max(1)
        .saturating_mul(WASM_PAGE)
}

/// Turns the pooling allocator on in `wasm`, sized from `config`, when
/// `max_component_instances` asks for a pool (> 0).
pub(crate) fn configure(wasm: &mut wasmtime::Config, config: &EngineConfig) {
    let instances = config.max_component_instances;
    if instances == 0 {
        return;
    }
    let slot = memory_slot_bytes(config);
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
        .total_memories(instances.saturating_mul(MEMORIES_PER_COMPONENT))
        .total_tables(instances.saturating_mul(TABLES_PER_COMPONENT))
        .table_elements(TABLE_ELEMENTS)
        .max_memory_size(usize::try_from(slot).unwrap_or(usize::MAX))
        // Guests run synchronously on the caller's stack: no fiber stacks.
        .total_stacks(1);
    wasm.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    wasm.memory_reservation(slot);
    wasm.memory_guard_size(GUARD_BYTES);
    wasm.memory_reservation_for_growth(0);
    wasm.memory_init_cow(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_slot_is_the_memory_limit_in_whole_wasm_pages() {
        let mut config = EngineConfig {
            max_memory_per_component: 64 << 20,
            ..EngineConfig::default()
        };
        assert_eq!(memory_slot_bytes(&config), 64 << 20);
        config.max_memory_per_component = 100_000;
        assert_eq!(memory_slot_bytes(&config), 2 * WASM_PAGE);
        config.max_memory_per_component = 0;
        assert_eq!(memory_slot_bytes(&config), WASM_PAGE);
    }
}
