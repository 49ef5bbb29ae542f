//! Tiered buffer pools: 256 B, 4 KiB, 64 KiB and 1 MiB buffers, sized from
//! `[runtime.pools]`. Small, medium and large tiers are pre-allocated; the
//! huge tier is filled on demand and caches at most its configured count.

use super::error::ResourceError;

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

/// What to do when a tier's free list is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExhaustionPolicy {
    /// Allocate a fresh buffer from the system allocator (counted).
    #[default]
    FallbackAlloc,
    /// Fail the allocation with E0301.
    Error,
}

/// Pool sizes per tier and the exhaustion policy (`[runtime.pools]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Pre-allocated 256-byte buffers.
    pub small: usize,
    /// Pre-allocated 4 KiB buffers.
    pub medium: usize,
    /// Pre-allocated 64 KiB buffers.
    pub large: usize,
    /// Maximum cached 1 MiB buffers.
    pub huge: usize,
    /// Exhaustion policy.
    pub exhaustion_policy: ExhaustionPolicy,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            small: 4096,
            medium: 1024,
            large: 256,
            huge: 32,
            exhaustion_policy: ExhaustionPolicy::FallbackAlloc,
        }
    }
}

impl PoolConfig {
    /// Configured buffer count of a tier.
    pub fn count(&self, tier: Tier) -> usize {
        match tier {
            Tier::Small => self.small,
            Tier::Medium => self.medium,
            Tier::Large => self.large,
            Tier::Huge => self.huge,
        }
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

/// The tiered pools of one resource manager.
#[derive(Debug)]
pub struct BufferPool {
    config: PoolConfig,
    free: [Vec<Vec<u8>>; 4],
    stats: [PoolStats; 4],
}

impl BufferPool {
    /// Creates the pools, pre-allocating the small, medium and large tiers.
    pub fn new(config: PoolConfig) -> Self {
        let free = Tier::ALL.map(|tier| {
            let cached = config.count(tier);
            let mut list = Vec::with_capacity(cached);
            if tier != Tier::Huge {
                list.extend((0..cached).map(|_| Vec::with_capacity(tier.buffer_size())));
            }
            list
        });
        let stats = Tier::ALL.map(|tier| PoolStats {
            capacity: config.count(tier),
            available: free[tier.slot()].len(),
            ..PoolStats::default()
        });
        Self {
            config,
            free,
            stats,
        }
    }

    /// Takes a buffer able to hold `capacity_hint` bytes from the best-fit tier.
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
        let stats = &mut self.stats[slot];
        stats.allocated += 1;
        if let Some(bytes) = self.free[slot].pop() {
            stats.available -= 1;
            return Ok(PooledBytes {
                bytes,
                tier: Some(tier),
            });
        }
        if tier != Tier::Huge {
            stats.exhaustion_events += 1;
            if self.config.exhaustion_policy == ExhaustionPolicy::Error {
                stats.allocated -= 1;
                return Err(ResourceError::PoolExhausted {
                    tier: tier.name(),
                    capacity: stats.capacity,
                });
            }
            stats.fallback_count += 1;
        }
        Ok(PooledBytes {
            bytes: Vec::with_capacity(tier.buffer_size()),
            tier: Some(tier),
        })
    }

    /// Gives storage back; it is cached if its tier has room, freed otherwise.
    pub fn release(&mut self, mut storage: PooledBytes) {
        let Some(tier) = storage.tier else { return };
        let slot = tier.slot();
        let stats = &mut self.stats[slot];
        stats.returned += 1;
        if self.free[slot].len() < self.config.count(tier) {
            storage.bytes.clear();
            self.free[slot].push(storage.bytes);
            stats.available += 1;
        }
    }

    /// Counters of one tier.
    pub fn stats(&self, tier: Tier) -> PoolStats {
        self.stats[tier.slot()]
    }

    /// The configuration in force.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};

    fn small_config(policy: ExhaustionPolicy) -> PoolConfig {
        PoolConfig {
            small: 2,
            medium: 1,
            large: 1,
            huge: 1,
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
    fn acquire_takes_from_the_preallocated_tier_and_release_returns() {
        let mut pool = BufferPool::new(small_config(ExhaustionPolicy::Error));
        assert_eq!(pool.stats(Tier::Small).available, 2);
        let b = pool.acquire(10).unwrap();
        assert_eq!(b.tier, Some(Tier::Small));
        assert!(b.bytes.capacity() >= 256);
        assert_eq!(pool.stats(Tier::Small).available, 1);
        pool.release(b);
        let s = pool.stats(Tier::Small);
        assert_eq!((s.available, s.allocated, s.returned), (2, 1, 1));
        assert_eq!(s.reuse_rate(), 1.0);
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
        // Releasing more than the tier holds frees the surplus.
        pool.release(a);
        pool.release(b);
        pool.release(c);
        assert_eq!(pool.stats(Tier::Small).available, 2);
    }

    #[test]
    fn huge_tier_is_on_demand_and_oversize_bypasses_pools() {
        let mut pool = BufferPool::new(small_config(ExhaustionPolicy::Error));
        assert_eq!(pool.stats(Tier::Huge).available, 0);
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
