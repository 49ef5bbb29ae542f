//! [`SharedPool`]: the process-wide tiered buffer pools that every flow's
//! [`BufferPool`](super::pool::BufferPool) cache refills from, in batches.
//!
//! One per host (the actor layer's ResourceActor owns it); a flow started on
//! its own gets a private one. Each tier holds up to its configured count
//! of buffers (`[runtime.pools]`); a pool created with
//! [`SharedPool::preallocated`] allocates them at start, one created with
//! [`SharedPool::on_demand`] creates them the first time they are asked for
//! (so a flow that never runs costs nothing). When a tier has handed out
//! its whole count the exhaustion policy decides: a counted fallback
//! allocation, or E0301.
//!
//! Every call moves a batch of buffers under one short lock per tier; the
//! per-element path never touches this type (see the cache).

use super::error::ResourceError;
use super::pool::{ExhaustionPolicy, PoolConfig, PoolStats, Tier};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};

/// One tier of the shared pool.
#[derive(Debug, Default)]
struct SharedTier {
    free: Mutex<Vec<Vec<u8>>>,
    /// Buffers of this tier that exist (free + out in caches or flows),
    /// not counting fallback allocations.
    created: AtomicUsize,
    /// Buffers handed to caches / taken back.
    handed_out: AtomicU64,
    taken_back: AtomicU64,
    fallback_count: AtomicU64,
    exhaustion_events: AtomicU64,
}

/// The process-wide pools. Share it as `Arc<SharedPool>`.
#[derive(Debug)]
pub struct SharedPool {
    config: PoolConfig,
    tiers: [SharedTier; 4],
}

/// Stats of one shared tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SharedTierStats {
    /// Configured count.
    pub capacity: usize,
    /// Buffers created so far (≤ capacity).
    pub created: usize,
    /// Free in the shared pool right now.
    pub available: usize,
    /// Buffers handed to flow caches.
    pub handed_out: u64,
    /// Buffers given back by flow caches.
    pub taken_back: u64,
    /// Fallback allocations (tier exhausted, policy `fallback-alloc`).
    pub fallback_count: u64,
    /// Times a request found the tier exhausted.
    pub exhaustion_events: u64,
}

impl SharedTierStats {
    /// Buffers currently out in flows' caches or held by flows.
    pub fn outstanding(&self) -> u64 {
        self.handed_out.saturating_sub(self.taken_back)
    }

    /// Buffers given back per buffer handed out (`pool.reuse_rate`); `None`
    /// until the tier has handed one out.
    pub fn reuse_ratio(&self) -> Option<f64> {
        (self.handed_out > 0).then(|| self.taken_back as f64 / self.handed_out as f64)
    }
}

impl SharedPool {
    /// Pools whose small, medium and large tiers are allocated now (the
    /// huge tier always fills on demand).
    pub fn preallocated(config: PoolConfig) -> Arc<Self> {
        let pool = Self::empty(config);
        for tier in [Tier::Small, Tier::Medium, Tier::Large] {
            let count = config.count(tier);
            let state = &pool.tiers[tier as usize];
            let mut free = lock(&state.free);
            free.reserve_exact(count);
            free.extend((0..count).map(|_| Vec::with_capacity(tier.buffer_size())));
            state.created.store(count, Relaxed);
        }
        Arc::new(pool)
    }

    /// Pools that create each buffer the first time it is needed.
    pub fn on_demand(config: PoolConfig) -> Arc<Self> {
        Arc::new(Self::empty(config))
    }

    fn empty(config: PoolConfig) -> Self {
        Self {
            config,
            tiers: Default::default(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Moves up to `want` buffers of `tier` into `into` (at least one, or an
    /// error). Creates buffers while the tier is below its count; beyond
    /// it, applies the exhaustion policy for one buffer.
    // WARM PATH: once per cache refill (a batch of buffers).
    pub fn take(
        &self,
        tier: Tier,
        want: usize,
        into: &mut Vec<Vec<u8>>,
    ) -> Result<TakeOutcome, ResourceError> {
        let state = &self.tiers[tier as usize];
        let capacity = self.config.count(tier);
        let before = into.len();
        {
            let mut free = lock(&state.free);
            let n = want.min(free.len());
            let from = free.len() - n;
            into.extend(free.drain(from..));
        }
        // Create what is missing while the tier is below its count.
        while into.len() - before < want {
            let created = state.created.load(Relaxed);
            if created >= capacity {
                break;
            }
            if state
                .created
                .compare_exchange(created, created + 1, Relaxed, Relaxed)
                .is_ok()
            {
                into.push(Vec::with_capacity(tier.buffer_size()));
            }
        }
        let got = into.len() - before;
        if got > 0 {
            state.handed_out.fetch_add(got as u64, Relaxed);
            return Ok(TakeOutcome::Pooled(got));
        }
        state.exhaustion_events.fetch_add(1, Relaxed);
        if tier != Tier::Huge && self.config.exhaustion_policy == ExhaustionPolicy::Error {
            return Err(ResourceError::PoolExhausted {
                tier: tier.name(),
                capacity,
            });
        }
        state.fallback_count.fetch_add(1, Relaxed);
        state.handed_out.fetch_add(1, Relaxed);
        into.push(Vec::with_capacity(tier.buffer_size()));
        Ok(TakeOutcome::Fallback)
    }

    /// Takes every buffer of `from` back: up to the tier's count they
    /// return to its free list, any surplus (fallback allocations) is freed.
    /// `from` is left empty.
    // WARM PATH: once per cache spill or trim.
    pub fn give_back(&self, tier: Tier, from: &mut Vec<Vec<u8>>) {
        if from.is_empty() {
            return;
        }
        let state = &self.tiers[tier as usize];
        state.taken_back.fetch_add(from.len() as u64, Relaxed);
        let capacity = self.config.count(tier);
        let mut free = lock(&state.free);
        let room = capacity.saturating_sub(free.len());
        let keep = from.len().min(room);
        free.extend(from.drain(..keep));
        drop(free);
        from.clear();
    }

    /// Counters of one tier.
    pub fn stats(&self, tier: Tier) -> SharedTierStats {
        let state = &self.tiers[tier as usize];
        SharedTierStats {
            capacity: self.config.count(tier),
            created: state.created.load(Relaxed),
            available: lock(&state.free).len(),
            handed_out: state.handed_out.load(Relaxed),
            taken_back: state.taken_back.load(Relaxed),
            fallback_count: state.fallback_count.load(Relaxed),
            exhaustion_events: state.exhaustion_events.load(Relaxed),
        }
    }

    /// The spec's `pool.*` view of one tier.
    pub fn pool_stats(&self, tier: Tier) -> PoolStats {
        let s = self.stats(tier);
        PoolStats {
            capacity: s.capacity,
            available: s.available,
            allocated: s.handed_out,
            returned: s.taken_back,
            fallback_count: s.fallback_count,
            exhaustion_events: s.exhaustion_events,
        }
    }
}

/// How a [`SharedPool::take`] was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakeOutcome {
    /// This many pooled buffers.
    Pooled(usize),
    /// One fallback buffer (the tier was exhausted).
    Fallback,
}

/// A poisoned lock only means another thread panicked while moving
/// buffers; the free list itself is still a valid list.
fn lock(m: &Mutex<Vec<Vec<u8>>>) -> MutexGuard<'_, Vec<Vec<u8>>> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};

    fn config(policy: ExhaustionPolicy) -> PoolConfig {
        PoolConfig {
            small_pool_size: 4,
            medium_pool_size: 1,
            large_pool_size: 1,
            huge_pool_size: 1,
            exhaustion_policy: policy,
        }
    }

    #[test]
    fn reuse_ratio_is_returned_per_handed_out_and_none_before_any() {
        let mut stats = SharedTierStats::default();
        assert_eq!(stats.reuse_ratio(), None);
        stats.handed_out = 8;
        stats.taken_back = 6;
        assert_eq!(stats.reuse_ratio(), Some(0.75));
    }

    #[test]
    fn on_demand_creates_up_to_the_count_then_reuses() {
        let pool = SharedPool::on_demand(config(ExhaustionPolicy::Error));
        assert_eq!(pool.stats(Tier::Small).created, 0);
        let mut got = Vec::new();
        assert_eq!(
            pool.take(Tier::Small, 3, &mut got).unwrap(),
            TakeOutcome::Pooled(3)
        );
        assert!(got.iter().all(|b| b.capacity() >= 256));
        assert_eq!(
            pool.take(Tier::Small, 3, &mut got).unwrap(),
            TakeOutcome::Pooled(1)
        );
        assert_eq!(pool.stats(Tier::Small).created, 4);
        let err = pool.take(Tier::Small, 1, &mut got).unwrap_err();
        assert_eq!(err.code(), ErrorCode::PoolExhausted);
        pool.give_back(Tier::Small, &mut got);
        let s = pool.stats(Tier::Small);
        assert_eq!(
            (s.available, s.outstanding(), s.exhaustion_events),
            (4, 0, 1)
        );
    }

    #[test]
    fn preallocated_tiers_exist_at_start() {
        let pool = SharedPool::preallocated(config(ExhaustionPolicy::Error));
        assert_eq!(pool.stats(Tier::Small).available, 4);
        assert_eq!(pool.stats(Tier::Medium).available, 1);
        assert_eq!(pool.stats(Tier::Huge).available, 0);
    }

    #[test]
    fn fallback_allocates_one_and_surplus_is_freed_on_return() {
        let pool = SharedPool::on_demand(config(ExhaustionPolicy::FallbackAlloc));
        let mut got = Vec::new();
        pool.take(Tier::Medium, 1, &mut got).unwrap();
        assert_eq!(
            pool.take(Tier::Medium, 4, &mut got).unwrap(),
            TakeOutcome::Fallback
        );
        assert_eq!(got.len(), 2);
        pool.give_back(Tier::Medium, &mut got);
        let s = pool.stats(Tier::Medium);
        assert_eq!((s.available, s.fallback_count), (1, 1));
        assert!(got.is_empty());
    }

    #[test]
    fn flows_on_many_threads_share_one_pool() {
        let pool = SharedPool::on_demand(PoolConfig {
            small_pool_size: 64,
            ..config(ExhaustionPolicy::Error)
        });
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let pool = Arc::clone(&pool);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        let mut got = Vec::new();
                        pool.take(Tier::Small, 16, &mut got).unwrap();
                        pool.give_back(Tier::Small, &mut got);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let s = pool.stats(Tier::Small);
        assert_eq!(s.outstanding(), 0);
        assert_eq!(s.available, s.created);
        assert!(s.created <= 64);
    }
}
