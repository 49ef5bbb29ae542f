//! [`ResourceManager`]: buffers of one flow — allocation from the pools,
//! ownership checks on every access, per-component budgets, and the copy
//! ledger. Host functions call the `guest_*` methods on behalf of the
//! calling component; the stage loop calls the host-side methods
//! (`accept_output`, `lend`, `end_lend`, `forward`, `release`).

use super::error::ResourceError;
use super::handle::{BufferId, ComponentId};
use super::ledger::{CopyLedger, CopyReason};
use super::ownership::{Owner, OwnershipState};
use super::pool::{BufferPool, PoolConfig};
use super::table::{BufferEntry, BufferKind, ResourceTable};

/// Per-buffer and per-component limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceLimits {
    /// Largest single buffer a component may allocate (`max-buffer-size`, default 16 MiB).
    pub max_buffer_size: u64,
    /// Host buffer bytes one component may hold at once (E0310 beyond it).
    pub component_budget: u64,
}

impl Default for ResourceLimits {
    /// The limits of a default `[runtime]` and `[capabilities.torvyn]`.
    fn default() -> Self {
        Self {
            max_buffer_size: crate::config::TorvynCapabilities::default()
                .max_buffer_size
                .bytes(),
            component_budget: crate::config::RuntimeConfig::default()
                .max_memory_per_component
                .bytes(),
        }
    }
}

/// The buffers of one flow and everything known about them.
#[derive(Debug)]
pub struct ResourceManager {
    table: ResourceTable,
    pool: BufferPool,
    ledger: CopyLedger,
    limits: ResourceLimits,
    /// Buffer bytes (capacity) held by each component right now.
    held: Vec<u64>,
    /// Budget violations per component (E0310), for reporting.
    budget_denials: Vec<u64>,
    /// Largest single buffer each component may allocate: the flow's
    /// `max_buffer_size`, or less where a component's manifest says so.
    max_buffer_sizes: Vec<u64>,
}

impl ResourceManager {
    /// A manager for a flow of `components` components, with private
    /// on-demand pools.
    pub fn new(
        pools: PoolConfig,
        limits: ResourceLimits,
        components: usize,
        record_capacity: usize,
    ) -> Self {
        Self::with_pool(BufferPool::new(pools), limits, components, record_capacity)
    }

    /// A manager allocating through `pool` (a cache over the host's shared
    /// pools).
    pub fn with_pool(
        pool: BufferPool,
        limits: ResourceLimits,
        components: usize,
        record_capacity: usize,
    ) -> Self {
        Self {
            table: ResourceTable::default(),
            pool,
            ledger: CopyLedger::new(components, record_capacity),
            limits,
            held: vec![0; components],
            budget_denials: vec![0; components],
            max_buffer_sizes: vec![limits.max_buffer_size; components],
        }
    }

    /// Lowers the largest buffer `component` may allocate to `bytes` (its
    /// manifest's `max-buffer-size`); never above the flow's limit.
    pub fn limit_buffer_size(&mut self, component: ComponentId, bytes: u64) {
        if let Some(max) = self.max_buffer_sizes.get_mut(component.as_index()) {
            *max = bytes.min(self.limits.max_buffer_size);
        }
    }

    // ---- guest-side operations (called from host functions) ----

    /// `buffer-allocator.allocate`: a mutable buffer owned by `caller`.
    pub fn guest_allocate(
        &mut self,
        caller: ComponentId,
        capacity_hint: u64,
    ) -> Result<BufferId, ResourceError> {
        let max = self
            .max_buffer_sizes
            .get(caller.as_index())
            .copied()
            .unwrap_or(self.limits.max_buffer_size);
        if capacity_hint > max {
            return Err(ResourceError::CapacityExceeded {
                offset: 0,
                requested: capacity_hint,
                capacity: max,
            });
        }
        let storage = self.pool.acquire(capacity_hint)?;
        let capacity = storage.bytes.capacity() as u64;
        if let Err(e) = self.charge(caller, capacity) {
            self.pool.release(storage);
            return Err(e);
        }
        let owner = Owner::Component(caller);
        match self.table.insert(
            storage,
            capacity,
            BufferKind::Mutable,
            OwnershipState::Pooled.acquire(owner)?,
        ) {
            Ok(id) => Ok(id),
            Err(e) => {
                self.refund(caller, capacity);
                Err(e)
            }
        }
    }

    /// `buffer-allocator.clone-into-mutable`: a new mutable buffer holding a
    /// copy of `source` (recorded as a PayloadWrite by `caller`).
    pub fn guest_clone_into_mutable(
        &mut self,
        caller: ComponentId,
        source: BufferId,
    ) -> Result<BufferId, ResourceError> {
        let len = {
            let entry = self.readable(caller, source, "clone-into-mutable")?;
            entry.bytes.len() as u64
        };
        let target = self.guest_allocate(caller, len)?;
        let (src_bytes, content_type) = {
            let entry = self.table.get_mut(source, "clone-into-mutable")?;
            (
                std::mem::take(&mut entry.bytes),
                std::mem::take(&mut entry.content_type),
            )
        };
        let result = self.table.get_mut(target, "clone-into-mutable").map(|t| {
            t.bytes.extend_from_slice(&src_bytes);
            t.content_type.push_str(&content_type);
        });
        // Put the source's bytes back whatever happened.
        if let Ok(entry) = self.table.get_mut(source, "clone-into-mutable") {
            entry.bytes = src_bytes;
            entry.content_type = content_type;
        }
        result?;
        self.ledger
            .record(caller, target, CopyReason::PayloadWrite, len);
        Ok(target)
    }

    /// `mutable-buffer.write`: copies `bytes` at `offset`, extending the
    /// content up to the capacity.
    pub fn guest_write(
        &mut self,
        caller: ComponentId,
        id: BufferId,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), ResourceError> {
        let entry = self.writable(caller, id, "write")?;
        let size = entry.bytes.len() as u64;
        if offset > size {
            return Err(ResourceError::OutOfBounds { offset, size });
        }
        let end = offset.saturating_add(bytes.len() as u64);
        if end > entry.capacity {
            return Err(ResourceError::CapacityExceeded {
                offset,
                requested: bytes.len() as u64,
                capacity: entry.capacity,
            });
        }
        let start = offset as usize;
        let overlap = (entry.bytes.len() - start).min(bytes.len());
        entry.bytes[start..start + overlap].copy_from_slice(&bytes[..overlap]);
        entry.bytes.extend_from_slice(&bytes[overlap..]);
        self.ledger
            .record(caller, id, CopyReason::PayloadWrite, bytes.len() as u64);
        Ok(())
    }

    /// `mutable-buffer.append`.
    pub fn guest_append(
        &mut self,
        caller: ComponentId,
        id: BufferId,
        bytes: &[u8],
    ) -> Result<(), ResourceError> {
        let entry = self.writable(caller, id, "append")?;
        let size = entry.bytes.len() as u64;
        if size + bytes.len() as u64 > entry.capacity {
            return Err(ResourceError::CapacityExceeded {
                offset: size,
                requested: bytes.len() as u64,
                capacity: entry.capacity,
            });
        }
        entry.bytes.extend_from_slice(bytes);
        self.ledger
            .record(caller, id, CopyReason::PayloadWrite, bytes.len() as u64);
        Ok(())
    }

    /// `mutable-buffer.size`.
    pub fn guest_mutable_size(
        &mut self,
        caller: ComponentId,
        id: BufferId,
    ) -> Result<u64, ResourceError> {
        Ok(self.writable(caller, id, "size")?.bytes.len() as u64)
    }

    /// `mutable-buffer.capacity`.
    pub fn guest_capacity(
        &mut self,
        caller: ComponentId,
        id: BufferId,
    ) -> Result<u64, ResourceError> {
        Ok(self.writable(caller, id, "capacity")?.capacity)
    }

    /// `mutable-buffer.set-content-type`.
    pub fn guest_set_content_type(
        &mut self,
        caller: ComponentId,
        id: BufferId,
        content_type: &str,
    ) -> Result<(), ResourceError> {
        let entry = self.writable(caller, id, "set-content-type")?;
        entry.content_type.clear();
        entry.content_type.push_str(content_type);
        Ok(())
    }

    /// `mutable-buffer.freeze`: moves (never copies) the bytes into a new
    /// immutable buffer owned by `caller`; the mutable buffer becomes
    /// [`BufferKind::Frozen`] and every later use of it fails.
    pub fn guest_freeze(
        &mut self,
        caller: ComponentId,
        id: BufferId,
    ) -> Result<BufferId, ResourceError> {
        let (storage, capacity, content_type) = {
            let entry = self.writable(caller, id, "freeze")?;
            entry.kind = BufferKind::Frozen;
            let storage = super::pool::PooledBytes {
                bytes: std::mem::take(&mut entry.bytes),
                tier: entry.tier.take(),
            };
            (
                storage,
                entry.capacity,
                std::mem::take(&mut entry.content_type),
            )
        };
        let frozen = self.table.insert(
            storage,
            capacity,
            BufferKind::Immutable,
            OwnershipState::Owned(Owner::Component(caller)),
        )?;
        let entry = self.table.get_mut(frozen, "freeze")?;
        // Swap so neither string allocation is lost.
        let mut content_type = content_type;
        std::mem::swap(&mut entry.content_type, &mut content_type);
        if let Ok(old) = self.table.get_mut(id, "freeze") {
            content_type.clear();
            old.content_type = content_type;
        }
        Ok(frozen)
    }

    /// A built-in sink wrote `bytes` of `id` out of the host (a file,
    /// standard output, the network): recorded as a `HostSerialize` copy.
    pub fn record_export(&mut self, component: ComponentId, id: BufferId, bytes: u64) {
        self.ledger
            .record(component, id, CopyReason::HostSerialize, bytes);
    }

    /// `buffer.size`.
    pub fn guest_size(&self, caller: ComponentId, id: BufferId) -> Result<u64, ResourceError> {
        Ok(self.readable(caller, id, "size")?.bytes.len() as u64)
    }

    /// `buffer.content-type`.
    pub fn guest_content_type(
        &self,
        caller: ComponentId,
        id: BufferId,
    ) -> Result<&str, ResourceError> {
        Ok(&self.readable(caller, id, "content-type")?.content_type)
    }

    /// `buffer.read`: up to `len` bytes from `offset` (fewer at the end), recorded as a PayloadRead.
    pub fn guest_read(
        &mut self,
        caller: ComponentId,
        id: BufferId,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, ResourceError> {
        let entry = self.readable(caller, id, "read")?;
        let size = entry.bytes.len() as u64;
        let start = offset.min(size) as usize;
        let end = offset.saturating_add(len).min(size) as usize;
        let out = entry.bytes[start..end].to_vec();
        self.ledger
            .record(caller, id, CopyReason::PayloadRead, out.len() as u64);
        Ok(out)
    }

    /// `buffer.read-all`.
    pub fn guest_read_all(
        &mut self,
        caller: ComponentId,
        id: BufferId,
    ) -> Result<Vec<u8>, ResourceError> {
        self.guest_read(caller, id, 0, u64::MAX)
    }

    /// `buffer.read-all` into the end of `out` (a packed batch read):
    /// the same check and ledger entry as [`Self::guest_read_all`].
    pub fn guest_read_all_into(
        &mut self,
        caller: ComponentId,
        id: BufferId,
        out: &mut Vec<u8>,
    ) -> Result<(), ResourceError> {
        let entry = self.readable(caller, id, "read")?;
        out.extend_from_slice(&entry.bytes);
        let len = entry.bytes.len() as u64;
        self.ledger.record(caller, id, CopyReason::PayloadRead, len);
        Ok(())
    }

    /// The guest dropped its own handle to `id` (mutable, frozen or immutable).
    /// Borrow handles are never dropped through here.
    pub fn guest_drop(&mut self, caller: ComponentId, id: BufferId) -> Result<(), ResourceError> {
        let entry = self.table.get(id, "drop")?;
        let capacity = entry.capacity;
        let kind = entry.kind;
        entry.state.release(Owner::Component(caller))?;
        let storage = self.table.remove(id, "drop")?;
        if kind != BufferKind::Frozen {
            // A frozen handle's capacity moved with its bytes to the immutable buffer.
            self.refund(caller, capacity);
        }
        self.pool.release(storage);
        Ok(())
    }

    // ---- host-side operations (called by the stage loop) ----

    /// A component returned `id` as its output: Owned(component) → Transit.
    /// The bytes count as produced by the flow.
    // HOT PATH
    pub fn accept_output(&mut self, from: ComponentId, id: BufferId) -> Result<(), ResourceError> {
        let entry = self.table.get_mut(id, "accept-output")?;
        if entry.kind != BufferKind::Immutable {
            return Err(ResourceError::WrongKind {
                operation: "accept-output",
                actual: entry.kind.name(),
            });
        }
        entry.state = entry.state.send(Owner::Component(from))?;
        entry.transit_refs = 1;
        let (capacity, size) = (entry.capacity, entry.bytes.len() as u64);
        self.refund(from, capacity);
        self.ledger.record_produced(size);
        Ok(())
    }

    /// Lends `id` (in transit) to `to` for one call: Transit → Owned(host) → Borrowed(host, 1).
    // HOT PATH
    pub fn lend(&mut self, id: BufferId, to: ComponentId) -> Result<(), ResourceError> {
        let entry = self.table.get_mut(id, "lend")?;
        let state = match entry.state {
            OwnershipState::Transit => entry.state.receive(Owner::Host)?,
            other => other,
        };
        entry.state = state.borrow()?;
        entry.borrower = Some(to);
        Ok(())
    }

    /// The call that borrowed `id` returned: Borrowed → Owned(host).
    // HOT PATH
    pub fn end_lend(&mut self, id: BufferId) -> Result<(), ResourceError> {
        let entry = self.table.get_mut(id, "end-lend")?;
        entry.state = entry.state.end_borrow()?;
        if !matches!(entry.state, OwnershipState::Borrowed { .. }) {
            entry.borrower = None;
        }
        Ok(())
    }

    /// Puts a host-owned buffer back in transit (a filter passed it on unchanged).
    // HOT PATH
    pub fn forward(&mut self, id: BufferId) -> Result<(), ResourceError> {
        let entry = self.table.get_mut(id, "forward")?;
        if entry.state != OwnershipState::Transit {
            entry.state = entry.state.send(Owner::Host)?;
        }
        Ok(())
    }

    /// The same buffer goes down `extra` more streams (router or fan-out):
    /// it stays in transit until every holder released it. No bytes move.
    // HOT PATH
    pub fn share(&mut self, id: BufferId, extra: u32) -> Result<(), ResourceError> {
        let entry = self.table.get_mut(id, "share")?;
        entry.transit_refs = entry.transit_refs.saturating_add(extra);
        Ok(())
    }

    /// One holder lets go of a host-owned (or in-transit) buffer; the last
    /// one returns it to its pool: → Pooled.
    // HOT PATH
    pub fn release(&mut self, id: BufferId) -> Result<(), ResourceError> {
        let entry = self.table.get_mut(id, "release")?;
        entry.state.release(Owner::Host)?;
        if entry.transit_refs > 1 {
            entry.transit_refs -= 1;
            entry.state = OwnershipState::Transit;
            return Ok(());
        }
        let storage = self.table.remove(id, "release")?;
        self.pool.release(storage);
        Ok(())
    }

    /// Metadata marshaled into `component` for one call.
    // HOT PATH
    pub fn record_metadata(&mut self, component: ComponentId, id: BufferId, bytes: u64) {
        self.ledger
            .record(component, id, CopyReason::MetadataMarshal, bytes);
    }

    /// Reclaims every live buffer (flow teardown; guests' handles die with
    /// their stores). Returns how many buffers were still live.
    pub fn reclaim_all(&mut self) -> usize {
        let ids = self.table.live_ids();
        for id in &ids {
            if let Ok(storage) = self.table.remove(*id, "reclaim") {
                self.pool.release(storage);
            }
        }
        self.held.iter_mut().for_each(|h| *h = 0);
        ids.len()
    }

    /// Reclaims the buffers `component` owns (its instance is being
    /// replaced: its handles die with the old store). Returns how many.
    pub fn reclaim_owned_by(&mut self, component: ComponentId) -> usize {
        let owner = Owner::Component(component);
        let mut reclaimed = 0;
        for id in self.table.live_ids() {
            let owned = matches!(
                self.state(id),
                Ok(OwnershipState::Owned(o)) if o == owner
            );
            if owned {
                if let Ok(storage) = self.table.remove(id, "reclaim") {
                    self.pool.release(storage);
                    reclaimed += 1;
                }
            }
        }
        if let Some(held) = self.held.get_mut(component.0 as usize) {
            *held = 0;
        }
        reclaimed
    }

    // ---- inspection ----

    /// The ownership state of a live buffer.
    pub fn state(&self, id: BufferId) -> Result<OwnershipState, ResourceError> {
        Ok(self.table.get(id, "state")?.state)
    }

    /// The kind of a live buffer.
    pub fn kind(&self, id: BufferId) -> Result<BufferKind, ResourceError> {
        Ok(self.table.get(id, "kind")?.kind)
    }

    /// The content of a live buffer (host-side access, not a guest copy).
    pub fn bytes(&self, id: BufferId) -> Result<&[u8], ResourceError> {
        Ok(&self.table.get(id, "bytes")?.bytes)
    }

    /// The content type of a live buffer.
    pub fn content_type(&self, id: BufferId) -> Result<&str, ResourceError> {
        Ok(&self.table.get(id, "content-type")?.content_type)
    }

    /// Sets the content type of a buffer the host holds (from the element
    /// metadata a component returned with it). Reuses the string's capacity.
    // HOT PATH
    pub fn set_content_type(
        &mut self,
        id: BufferId,
        content_type: &str,
    ) -> Result<(), ResourceError> {
        let entry = self.table.get_mut(id, "set-content-type")?;
        if entry.content_type != content_type {
            entry.content_type.clear();
            entry.content_type.push_str(content_type);
        }
        Ok(())
    }

    /// Copies a buffer's content type into `out` (no allocation once `out`
    /// has grown to fit).
    // HOT PATH
    pub fn copy_content_type(&self, id: BufferId, out: &mut String) -> Result<(), ResourceError> {
        let entry = self.table.get(id, "content-type")?;
        out.clear();
        out.push_str(&entry.content_type);
        Ok(())
    }

    /// Resolves a guest wire handle.
    pub fn resolve(&self, rep: u32, operation: &'static str) -> Result<BufferId, ResourceError> {
        self.table.resolve_wire(rep, operation)
    }

    /// Live buffers.
    pub fn live_buffers(&self) -> usize {
        self.table.live()
    }

    /// Host buffer bytes held by a component.
    pub fn held_by(&self, component: ComponentId) -> u64 {
        self.held.get(component.as_index()).copied().unwrap_or(0)
    }

    /// Allocations refused to a component for its budget.
    pub fn budget_denials(&self, component: ComponentId) -> u64 {
        self.budget_denials
            .get(component.as_index())
            .copied()
            .unwrap_or(0)
    }

    /// The copy ledger.
    pub fn ledger(&self) -> &CopyLedger {
        &self.ledger
    }

    /// The pools.
    pub fn pool(&self) -> &BufferPool {
        &self.pool
    }

    /// Gives every cached free buffer back to the shared pools (live
    /// buffers stay where they are).
    pub fn trim_pool(&mut self) {
        self.pool.trim();
    }

    // ---- internals ----

    fn readable(
        &self,
        caller: ComponentId,
        id: BufferId,
        operation: &'static str,
    ) -> Result<&BufferEntry, ResourceError> {
        let entry = self.table.get(id, operation)?;
        match entry.kind {
            BufferKind::Immutable => {}
            other => {
                return Err(ResourceError::WrongKind {
                    operation,
                    actual: other.name(),
                })
            }
        }
        let me = Owner::Component(caller);
        match entry.state {
            OwnershipState::Owned(owner) if owner == me => Ok(entry),
            OwnershipState::Borrowed { .. } if entry.borrower == Some(caller) => Ok(entry),
            OwnershipState::Pooled => Err(ResourceError::StaleHandle { operation }),
            state => Err(ResourceError::NotOwner {
                operation,
                claimed: me,
                actual: state.owner().unwrap_or(Owner::Host),
            }),
        }
    }

    fn writable(
        &mut self,
        caller: ComponentId,
        id: BufferId,
        operation: &'static str,
    ) -> Result<&mut BufferEntry, ResourceError> {
        let entry = self.table.get_mut(id, operation)?;
        if entry.kind != BufferKind::Mutable {
            return Err(ResourceError::WrongKind {
                operation,
                actual: entry.kind.name(),
            });
        }
        let me = Owner::Component(caller);
        match entry.state {
            OwnershipState::Owned(owner) if owner == me => Ok(entry),
            state => Err(ResourceError::NotOwner {
                operation,
                claimed: me,
                actual: state.owner().unwrap_or(Owner::Host),
            }),
        }
    }

    fn charge(&mut self, component: ComponentId, bytes: u64) -> Result<(), ResourceError> {
        let i = component.as_index();
        let held = self.held.get(i).copied().unwrap_or(0);
        let would_hold = held.saturating_add(bytes);
        if would_hold > self.limits.component_budget {
            if let Some(d) = self.budget_denials.get_mut(i) {
                *d += 1;
            }
            return Err(ResourceError::BudgetExceeded {
                component: Owner::Component(component),
                would_hold,
                budget: self.limits.component_budget,
            });
        }
        if let Some(h) = self.held.get_mut(i) {
            *h = would_hold;
        }
        Ok(())
    }

    fn refund(&mut self, component: ComponentId, bytes: u64) {
        if let Some(h) = self.held.get_mut(component.as_index()) {
            *h = h.saturating_sub(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};
    use crate::resources::pool::{ExhaustionPolicy, Tier};

    const SRC: ComponentId = ComponentId(0);
    const PROC: ComponentId = ComponentId(1);
    const SINK: ComponentId = ComponentId(2);

    fn manager() -> ResourceManager {
        ResourceManager::new(PoolConfig::default(), ResourceLimits::default(), 3, 0)
    }

    fn produce(rm: &mut ResourceManager, who: ComponentId, payload: &[u8]) -> BufferId {
        let m = rm.guest_allocate(who, payload.len() as u64).unwrap();
        rm.guest_append(who, m, payload).unwrap();
        let b = rm.guest_freeze(who, m).unwrap();
        rm.guest_drop(who, m).unwrap();
        b
    }

    #[test]
    fn source_processor_sink_makes_exactly_four_payload_copies() {
        let mut rm = manager();
        let payload = b"hello, world";
        let b1 = produce(&mut rm, SRC, payload);
        rm.accept_output(SRC, b1).unwrap();
        // processor: borrow b1, read it, write b2
        rm.lend(b1, PROC).unwrap();
        let data = rm.guest_read_all(PROC, b1).unwrap();
        let b2 = produce(&mut rm, PROC, &data);
        rm.end_lend(b1).unwrap();
        rm.release(b1).unwrap();
        rm.accept_output(PROC, b2).unwrap();
        // sink: borrow b2, read it
        rm.lend(b2, SINK).unwrap();
        assert_eq!(rm.guest_read_all(SINK, b2).unwrap(), payload);
        rm.end_lend(b2).unwrap();
        rm.release(b2).unwrap();

        let copies = rm.ledger().payload_copies();
        assert_eq!(copies.operations, 4);
        assert_eq!(copies.bytes, 4 * payload.len() as u64);
        assert_eq!(rm.ledger().amplification(), 2.0);
        assert_eq!(rm.live_buffers(), 0);
        assert_eq!(rm.held_by(SRC) + rm.held_by(PROC) + rm.held_by(SINK), 0);
    }

    #[test]
    fn freeze_moves_bytes_and_invalidates_the_mutable_handle() {
        let mut rm = manager();
        let m = rm.guest_allocate(SRC, 8).unwrap();
        rm.guest_append(SRC, m, b"abc").unwrap();
        rm.guest_set_content_type(SRC, m, "text/plain").unwrap();
        let ptr_before = rm.table.get(m, "t").unwrap().bytes.as_ptr();
        let b = rm.guest_freeze(SRC, m).unwrap();
        assert_eq!(rm.bytes(b).unwrap(), b"abc");
        assert_eq!(
            rm.bytes(b).unwrap().as_ptr(),
            ptr_before,
            "freeze must move, not copy"
        );
        assert_eq!(rm.content_type(b).unwrap(), "text/plain");
        assert_eq!(rm.kind(m).unwrap(), BufferKind::Frozen);
        for err in [
            rm.guest_append(SRC, m, b"x").unwrap_err(),
            rm.guest_write(SRC, m, 0, b"x").unwrap_err(),
            rm.guest_freeze(SRC, m).unwrap_err(),
            rm.guest_mutable_size(SRC, m).unwrap_err(),
        ] {
            assert_eq!(err.code(), ErrorCode::StaleHandle, "{err}");
        }
        // Only the append counted as a copy; freeze copied nothing.
        assert_eq!(rm.ledger().payload_copies().operations, 1);
        rm.guest_drop(SRC, m).unwrap();
        assert_eq!(rm.live_buffers(), 1);
    }

    #[test]
    fn writes_respect_capacity_and_bounds() {
        let mut rm = manager();
        let m = rm.guest_allocate(SRC, 10).unwrap();
        assert_eq!(
            rm.guest_capacity(SRC, m).unwrap(),
            Tier::Small.buffer_size() as u64
        );
        rm.guest_write(SRC, m, 0, b"hello").unwrap();
        rm.guest_write(SRC, m, 3, b"LOWORLD").unwrap();
        assert_eq!(rm.guest_mutable_size(SRC, m).unwrap(), 10);
        let err = rm.guest_write(SRC, m, 11, b"x").unwrap_err();
        assert!(matches!(err, ResourceError::OutOfBounds { .. }));
        let err = rm.guest_append(SRC, m, &[0; 256]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::CapacityExceeded);
        let b = rm.guest_freeze(SRC, m).unwrap();
        assert_eq!(rm.bytes(b).unwrap(), b"helLOWORLD");
    }

    #[test]
    fn reads_clamp_to_the_buffer_and_are_counted() {
        let mut rm = manager();
        let b = produce(&mut rm, SRC, b"0123456789");
        assert_eq!(rm.guest_read(SRC, b, 8, 100).unwrap(), b"89");
        assert_eq!(rm.guest_read(SRC, b, 20, 5).unwrap(), b"");
        assert_eq!(rm.guest_size(SRC, b).unwrap(), 10);
        assert_eq!(rm.ledger().stats(CopyReason::PayloadRead).bytes, 2);
    }

    #[test]
    fn components_cannot_touch_buffers_they_neither_own_nor_borrow() {
        let mut rm = manager();
        let m = rm.guest_allocate(SRC, 4).unwrap();
        assert_eq!(
            rm.guest_append(SINK, m, b"x").unwrap_err().code(),
            ErrorCode::NotOwner
        );
        let b = rm.guest_freeze(SRC, m).unwrap();
        rm.accept_output(SRC, b).unwrap();
        assert_eq!(
            rm.guest_read_all(SINK, b).unwrap_err().code(),
            ErrorCode::NotOwner
        );
        rm.lend(b, SINK).unwrap();
        assert_eq!(
            rm.guest_read_all(PROC, b).unwrap_err().code(),
            ErrorCode::NotOwner
        );
        assert!(rm.guest_read_all(SINK, b).is_ok());
        // Releasing while lent is refused.
        assert_eq!(
            rm.release(b).unwrap_err().code(),
            ErrorCode::BorrowsOutstanding
        );
        rm.end_lend(b).unwrap();
        assert_eq!(
            rm.guest_read_all(SINK, b).unwrap_err().code(),
            ErrorCode::NotOwner
        );
        rm.release(b).unwrap();
        assert_eq!(
            rm.guest_size(SINK, b).unwrap_err().code(),
            ErrorCode::StaleHandle
        );
        assert_eq!(rm.release(b).unwrap_err().code(), ErrorCode::StaleHandle);
    }

    #[test]
    fn accepting_a_mutable_buffer_as_output_is_refused() {
        let mut rm = manager();
        let m = rm.guest_allocate(SRC, 4).unwrap();
        assert!(rm.accept_output(SRC, m).is_err());
        let b = produce(&mut rm, SRC, b"x");
        assert!(rm.accept_output(PROC, b).is_err());
    }

    #[test]
    fn budget_is_enforced_per_component_and_refunded_on_output() {
        let limits = ResourceLimits {
            max_buffer_size: 1 << 20,
            component_budget: 4096,
        };
        let mut rm = ResourceManager::new(PoolConfig::default(), limits, 3, 0);
        let a = rm.guest_allocate(SRC, 4096).unwrap();
        let err = rm.guest_allocate(SRC, 1).unwrap_err();
        assert_eq!(err.code(), ErrorCode::BudgetExceeded);
        assert_eq!(rm.budget_denials(SRC), 1);
        // Another component has its own budget.
        assert!(rm.guest_allocate(PROC, 16).is_ok());
        let b = rm.guest_freeze(SRC, a).unwrap();
        rm.guest_drop(SRC, a).unwrap();
        assert_eq!(rm.held_by(SRC), 4096);
        rm.accept_output(SRC, b).unwrap();
        assert_eq!(rm.held_by(SRC), 0);
        assert!(rm.guest_allocate(SRC, 4096).is_ok());
        assert_eq!(
            rm.guest_allocate(SRC, 32 << 20).unwrap_err().code(),
            ErrorCode::CapacityExceeded
        );
    }

    #[test]
    fn pool_exhaustion_with_error_policy_fails_allocation() {
        let pools = PoolConfig {
            small_pool_size: 1,
            exhaustion_policy: ExhaustionPolicy::Error,
            ..PoolConfig::default()
        };
        let mut rm = ResourceManager::new(pools, ResourceLimits::default(), 1, 0);
        rm.guest_allocate(SRC, 1).unwrap();
        assert_eq!(
            rm.guest_allocate(SRC, 1).unwrap_err().code(),
            ErrorCode::PoolExhausted
        );
        // The budget was not charged for the failed allocation.
        assert_eq!(rm.held_by(SRC), 256);
    }

    #[test]
    fn clone_into_mutable_copies_and_keeps_the_source() {
        let mut rm = manager();
        let b = produce(&mut rm, SRC, b"payload");
        rm.accept_output(SRC, b).unwrap();
        rm.lend(b, PROC).unwrap();
        let m = rm.guest_clone_into_mutable(PROC, b).unwrap();
        rm.guest_append(PROC, m, b"!").unwrap();
        let c = rm.guest_freeze(PROC, m).unwrap();
        assert_eq!(rm.bytes(c).unwrap(), b"payload!");
        assert_eq!(rm.bytes(b).unwrap(), b"payload");
        assert_eq!(
            rm.ledger()
                .component_stats(PROC, CopyReason::PayloadWrite)
                .bytes,
            8
        );
    }

    #[test]
    fn a_shared_buffer_returns_to_the_pool_after_its_last_holder() {
        let mut rm = manager();
        let b = produce(&mut rm, SRC, b"fan-out");
        rm.accept_output(SRC, b).unwrap();
        rm.share(b, 2).unwrap();
        for consumer in [PROC, SINK] {
            rm.lend(b, consumer).unwrap();
            assert_eq!(rm.guest_read_all(consumer, b).unwrap(), b"fan-out");
            rm.end_lend(b).unwrap();
            rm.release(b).unwrap();
            assert_eq!(rm.state(b).unwrap(), OwnershipState::Transit);
        }
        rm.release(b).unwrap();
        assert_eq!(rm.live_buffers(), 0);
        assert_eq!(
            rm.ledger().payload_copies().operations,
            3,
            "one write, two reads, no copy for sharing"
        );
    }

    #[test]
    fn reclaim_all_returns_everything_to_the_pool() {
        let mut rm = manager();
        let _ = rm.guest_allocate(SRC, 10).unwrap();
        let _ = produce(&mut rm, PROC, b"abc");
        assert_eq!(rm.reclaim_all(), 2);
        assert_eq!(rm.live_buffers(), 0);
        let s = rm.pool().stats(Tier::Small);
        assert_eq!(s.allocated, s.returned);
    }
}
