//! Tiered buffer pools: 256 B, 4 KiB, 64 KiB and 1 MiB buffers, sized from
//! `[runtime.pools]`. The buffers live in a process-wide
//! [`SharedPool`]; each flow allocates from its own small [`BufferPool`]
//! cache, refilled in batches.

use super::error::ResourceError;
use super::shared_pool::{SharedPool, TakeOutcome};
use std::sync::Arc;

/// The pool sizes and exhaustion policy are `[runtime.pools]` itself.
pub use crate::config::{ExhaustionPolicy, PoolConfig};

/// A pool tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// 256-byte buffers.
    Small,
    /// 4 KiB buffers.
    Medium,
    /// 64 KiB buffers.
    Large,
    /// 1 MiB buffers (on demand).
    Huge,
}

impl Tier {
    /// All tiers, smallest first.
    pub const ALL: [Tier; 4] = [Tier::Small, Tier::Medium, Tier::Large, Tier::Huge];

    /// Byte capacity of every buffer in this tier.
    pub const fn buffer_size(self) -> usize {
        match self {
            Tier::Small => 256,
            Tier::Medium => 4 * 1024,
            Tier::Large => 64 * 1024,
            Tier::Huge => 1024 * 1024,
        }
    }

    /// The smallest tier whose buffers hold `bytes`; `None` above 1 MiB.
    pub fn for_size(bytes: u64) -> Option<Tier> {
        Tier::ALL
            .into_iter()
            .find(|t| bytes <= t.buffer_size() as u64)
    }

    /// Label used in metrics and messages.
    pub const fn name(self) -> &'static str {
        match self {
            Tier::Small => "small",
            Tier::Medium => "medium",
            Tier::Large => "large",
            Tier::Huge => "huge",
        }
    }

    const fn slot(self) -> usize {
        self as usize
    }
}

impl PoolConfig {
    /// Configured buffer count of a tier.
    pub fn count(&self, tier: Tier) -> usize {
        let count = match tier {
            Tier::Small => self.small_pool_size,
            Tier::Medium => self.medium_pool_size,
            Tier::Large => self.large_pool_size,
            Tier::Huge => self.huge_pool_size,
        };
        count as usize
    }
}

/// Counters of one tier (the spec's `pool.*` metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Total slots of the tier.
    pub capacity: usize,
    /// Free buffers right now.
    pub available: usize,
    /// Buffers handed out since start.
    pub allocated: u64,
    /// Buffers given back since start.
    pub returned: u64,
    /// Allocations served by the system allocator because the tier was empty.
    pub fallback_count: u64,
    /// Times the free list was empty when asked.
    pub exhaustion_events: u64,
}

impl PoolStats {
    /// returned / allocated (1.0 when nothing was allocated).
    pub fn reuse_rate(&self) -> f64 {
        if self.allocated == 0 {
            1.0
        } else {
            self.returned as f64 / self.allocated as f64
        }
    }
}

/// A buffer's backing storage, with the tier it goes back to.
#[derive(Debug)]
pub struct PooledBytes {
    /// Storage; `capacity()` is at least the tier size.
    pub bytes: Vec<u8>,
    /// Tier to return to, `None` for oversize allocations.
    pub tier: Option<Tier>,
}

/// Most buffers a flow's cache keeps per tier, and how many it moves from
/// or to the shared pool at once (half of that).
const CACHE_LIMIT: [usize; 4] = [64, 16, 4, 1];

/// One flow's buffer cache: a small free list per tier, refilled from and
/// spilled to the [`SharedPool`] in batches, so the per-element path takes
/// no lock. Dropping it (or [`BufferPool::trim`]) gives every cached buffer
/// back. A flow that never allocates holds nothing.
#[derive(Debug)]
pub struct BufferPool {
    shared: Arc<SharedPool>,
    cache: [Vec<Vec<u8>>; 4],
    stats: [PoolStats; 4],
    /// Refill / spill batches moved to or from the shared pool.
    refills: u64,
    /// Buffers taken from the shared pool and not (yet) given back.
    borrowed_from_shared: u64,
}

impl BufferPool {
    /// A cache over a private, on-demand shared pool (a flow run on its
    /// own).
    pub fn new(config: PoolConfig) -> Self {
        Self::over(SharedPool::on_demand(config))
    }

    /// A cache over `shared` (the host's pools).
    pub fn over(shared: Arc<SharedPool>) -> Self {
        let stats = Tier::ALL.map(|tier| PoolStats {
            capacity: shared.config().count(tier),
            ..PoolStats::default()
        });
        Self {
            shared,
            cache: Default::default(),
            stats,
            refills: 0,
            borrowed_from_shared: 0,
        }
    }

    /// Takes a buffer able to hold `capacity_hint` bytes from the best-fit tier.
    // HOT PATH: a pop from the cache; one refill batch per CACHE_LIMIT / 2
    // allocations when it runs dry.
    pub fn acquire(&mut self, capacity_hint: u64) -> Result<PooledBytes, ResourceError> {
        let Some(tier) = Tier::for_size(capacity_hint) else {
            let size =
                usize::try_from(capacity_hint).map_err(|_| ResourceError::AllocationFailed {
                    bytes: capacity_hint,
                    reason: "size does not fit in memory",
                })?;
            return Ok(PooledBytes {
                bytes: Vec::with_capacity(size),
                tier: None,
            });
        };
        let slot = tier.slot();
        if self.cache[slot].is_empty() {
            self.refill(tier)?;
        }
        let bytes = match self.cache[slot].pop() {
            Some(bytes) => bytes,
            // `refill` always leaves at least one buffer or fails.
            None => Vec::with_capacity(tier.buffer_size()),
        };
        let stats = &mut self.stats[slot];
        stats.allocated += 1;
        stats.available = self.cache[slot].len();
        Ok(PooledBytes {
            bytes,
            tier: Some(tier),
        })
    }

    /// Gives storage back to the cache; a full cache spills half of itself
    /// to the shared pool first.
    // HOT PATH: a push onto the cache (a spill batch when it is full).
    pub fn release(&mut self, mut storage: PooledBytes) {
        let Some(tier) = storage.tier else { return };
        let slot = tier.slot();
        if self.cache[slot].len() >= CACHE_LIMIT[slot] {
            let keep = CACHE_LIMIT[slot] / 2;
            let mut spill = self.cache[slot].split_off(keep);
            self.borrowed_from_shared -= spill.len() as u64;
            self.shared.give_back(tier, &mut spill);
            self.refills += 1;
        }
        storage.bytes.clear();
        self.cache[slot].push(storage.bytes);
        let stats = &mut self.stats[slot];
        stats.returned += 1;
        stats.available = self.cache[slot].len();
    }

    fn refill(&mut self, tier: Tier) -> Result<(), ResourceError> {
        let slot = tier.slot();
        let limit = CACHE_LIMIT[slot];
        if self.cache[slot].capacity() == 0 {
            self.cache[slot].reserve_exact(limit);
        }
        let stats = &mut self.stats[slot];
        match self
            .shared
            .take(tier, (limit / 2).max(1), &mut self.cache[slot])
        {
            Ok(TakeOutcome::Pooled(n)) => self.borrowed_from_shared += n as u64,
            Ok(TakeOutcome::Fallback) => {
                self.borrowed_from_shared += 1;
                stats.exhaustion_events += 1;
                stats.fallback_count += 1;
            }
            Err(e) => {
                stats.exhaustion_events += 1;
                return Err(e);
            }
        }
        self.refills += 1;
        Ok(())
    }

    /// Gives every cached buffer back to the shared pool (a suspended or
    /// finished flow keeps nothing).
    pub fn trim(&mut self) {
        for tier in Tier::ALL {
            let slot = tier.slot();
            self.borrowed_from_shared -= self.cache[slot].len() as u64;
            self.shared.give_back(tier, &mut self.cache[slot]);
            self.cache[slot] = Vec::new();
            self.stats[slot].available = 0;
        }
    }

    /// Counters of one tier, as seen by this flow (`available` = cached).
    pub fn stats(&self, tier: Tier) -> PoolStats {
        self.stats[tier.slot()]
    }

    /// Buffers this flow took from the shared pool and has not given back
    /// (cached or live). Zero after a clean teardown.
    pub fn borrowed_from_shared(&self) -> u64 {
        self.borrowed_from_shared
    }

    /// Batches moved between this cache and the shared pool.
    pub fn refills(&self) -> u64 {
        self.refills
    }

    /// The pools this cache refills from.
    pub fn shared(&self) -> &Arc<SharedPool> {
        &self.shared
    }

    /// The configuration in force.
    pub fn config(&self) -> &PoolConfig {
        self.shared.config()
    }
}

impl Drop for BufferPool {
    fn drop(&mut self) {
        self.trim();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};

    fn small_config(policy: ExhaustionPolicy) -> PoolConfig {
        PoolConfig {
            small_pool_size: 2,
            medium_pool_size: 1,
            large_pool_size: 1,
            huge_pool_size: 1,
            exhaustion_policy: policy,
        }
    }

    #[test]
    fn tier_choice_is_best_fit() {
        assert_eq!(Tier::for_size(0), Some(Tier::Small));
        assert_eq!(Tier::for_size(256), Some(Tier::Small));
        assert_eq!(Tier::for_size(257), Some(Tier::Medium));
        assert_eq!(Tier::for_size(4096), Some(Tier::Medium));
        assert_eq!(Tier::for_size(4097), Some(Tier::Large));
        assert_eq!(Tier::for_size(65_536), Some(Tier::Large));
        assert_eq!(Tier::for_size(65_537), Some(Tier::Huge));
        assert_eq!(Tier::for_size(1 << 20), Some(Tier::Huge));
        assert_eq!(Tier::for_size((1 << 20) + 1), None);
    }

    #[test]
    fn acquire_refills_from_the_shared_pool_and_release_returns_to_the_cache() {
        let shared = SharedPool::preallocated(small_config(ExhaustionPolicy::Error));
        let mut pool = BufferPool::over(Arc::clone(&shared));
        assert_eq!(
            pool.stats(Tier::Small).available,
            0,
            "an unused cache holds nothing"
        );
        let b = pool.acquire(10).unwrap();
        assert_eq!(b.tier, Some(Tier::Small));
        assert!(b.bytes.capacity() >= 256);
        pool.release(b);
        let s = pool.stats(Tier::Small);
        assert_eq!((s.allocated, s.returned), (1, 1));
        assert_eq!(s.reuse_rate(), 1.0);
        assert_eq!(shared.stats(Tier::Small).outstanding(), s.available as u64);
        drop(pool);
        let after = shared.stats(Tier::Small);
        assert_eq!((after.outstanding(), after.available), (0, 2));
    }

    #[test]
    fn exhaustion_with_error_policy_is_e0301() {
        let mut pool = BufferPool::new(small_config(ExhaustionPolicy::Error));
        let _a = pool.acquire(1).unwrap();
        let _b = pool.acquire(1).unwrap();
        let err = pool.acquire(1).unwrap_err();
        assert_eq!(err.code(), ErrorCode::PoolExhausted);
        assert_eq!(pool.stats(Tier::Small).exhaustion_events, 1);
        assert_eq!(pool.stats(Tier::Small).allocated, 2);
    }

    #[test]
    fn exhaustion_with_fallback_policy_allocates_and_counts() {
        let mut pool = BufferPool::new(small_config(ExhaustionPolicy::FallbackAlloc));
        let a = pool.acquire(1).unwrap();
        let b = pool.acquire(1).unwrap();
        let c = pool.acquire(1).unwrap();
        assert!(c.bytes.capacity() >= 256);
        let s = pool.stats(Tier::Small);
        assert_eq!(
            (s.fallback_count, s.exhaustion_events, s.allocated),
            (1, 1, 3)
        );
        pool.release(a);
        pool.release(b);
        pool.release(c);
        // Trimming returns them; the shared tier keeps only its count.
        let shared = Arc::clone(pool.shared());
        pool.trim();
        assert_eq!(shared.stats(Tier::Small).available, 2);
        assert_eq!(shared.stats(Tier::Small).outstanding(), 0);
    }

    #[test]
    fn a_full_cache_spills_half_to_the_shared_pool() {
        let shared = SharedPool::on_demand(PoolConfig {
            small_pool_size: 1000,
            ..PoolConfig::default()
        });
        let mut pool = BufferPool::over(Arc::clone(&shared));
        let held: Vec<_> = (0..200).map(|_| pool.acquire(8).unwrap()).collect();
        for b in held {
            pool.release(b);
        }
        let cached = pool.stats(Tier::Small).available;
        assert!(cached <= CACHE_LIMIT[0], "cache bounded: {cached}");
        assert_eq!(
            shared.stats(Tier::Small).outstanding(),
            cached as u64,
            "everything not cached is back in the shared pool"
        );
    }

    #[test]
    fn huge_tier_is_on_demand_and_oversize_bypasses_pools() {
        let mut pool = BufferPool::new(small_config(ExhaustionPolicy::Error));
        let h = pool.acquire(100_000).unwrap();
        assert_eq!(h.tier, Some(Tier::Huge));
        assert_eq!(pool.stats(Tier::Huge).fallback_count, 0);
        pool.release(h);
        assert_eq!(pool.stats(Tier::Huge).available, 1);
        let big = pool.acquire(2 << 20).unwrap();
        assert_eq!(big.tier, None);
        assert!(big.bytes.capacity() >= 2 << 20);
    }
}
