//! The kernel's memory-mapping limit, for instances allocated on demand.
//!
//! Without the instance pool (`[runtime] max_component_instances = 0`, the
//! default) every instance maps its own linear memory, stack and tables: a
//! few memory mappings each. Linux allows a process `vm.max_map_count`
//! mappings (65,530 by default); past it every `mmap` fails, Wasmtime
//! panics and `malloc` aborts the process — with 10,000 two-stage flows the
//! whole host died. So the engine counts the process's mappings
//! (`/proc/self/maps`) before it instantiates and refuses the instance
//! (E0300) while fewer than [`headroom`] are left, keeping that much for
//! everything else the host maps (heap growth, thread stacks, buffers).
//!
//! Counting reads every line of `/proc/self/maps`, so it is not done per
//! instance: after each count the budget admits as many instances as the
//! free room allows at [`MAPS_PER_INSTANCE_BOUND`] each, then counts
//! again. Far from the limit that is one count per thousands of
//! instances; near it, one per instance. A refusal stands for
//! [`REFUSAL_STANDS`] without counting again, so that a storm of flows
//! started past the limit (thousands, each refused) does not spend the
//! host's time reading `/proc/self/maps`.
//!
//! Where `/proc` cannot be read (not Linux) there is no budget.

use std::io::Read;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// How long a refusal stands before the mappings are counted again.
pub(crate) const REFUSAL_STANDS: Duration = Duration::from_millis(100);

/// An upper bound on the mappings one on-demand component instance adds
/// (measured: about 4 for the `wasm32-wasip2` guests here, see the
/// multi-flow benchmark with `MULTI_FLOW_POOL=0`); only how often the
/// budget counts depends on it.
pub(crate) const MAPS_PER_INSTANCE_BOUND: u64 = 16;

/// Mappings kept free for the rest of the host under a limit of `limit`:
/// an eighth of it, at least 4,096.
pub(crate) fn headroom(limit: u64) -> u64 {
    (limit / 8).max(4096)
}

/// The process's mapping budget.
#[derive(Debug)]
pub(crate) struct MappingBudget {
    /// `vm.max_map_count`, or the limit a test set.
    limit: u64,
    /// Instances to admit before the next count.
    until_count: AtomicI64,
    /// When the budget was made (the clock of `refused_at_ms`).
    born: Instant,
    /// When the last count refused, in ms since `born` plus one (0: the
    /// last count admitted).
    refused_at_ms: AtomicU64,
    /// Mappings in use at that refusal.
    refused_used: AtomicU64,
}

/// Too few mappings are left for one more instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MappingsExhausted {
    /// Mappings in use at the count.
    pub used: u64,
    /// The limit.
    pub limit: u64,
}

impl MappingBudget {
    /// The budget under `limit` mappings, or under the kernel's
    /// `vm.max_map_count` when `limit` is `None`; `None` where the
    /// process's mappings cannot be counted.
    pub(crate) fn new(limit: Option<u64>) -> Option<Self> {
        count_mappings()?;
        let limit = match limit {
            Some(limit) => limit,
            None => std::fs::read_to_string("/proc/sys/vm/max_map_count")
                .ok()?
                .trim()
                .parse()
                .ok()?,
        };
        Some(Self {
            limit,
            until_count: AtomicI64::new(0),
            born: Instant::now(),
            refused_at_ms: AtomicU64::new(0),
            refused_used: AtomicU64::new(0),
        })
    }

    /// Admits one more instance, or says how few mappings are left.
    pub(crate) fn admit(&self) -> Result<(), MappingsExhausted> {
        if self.until_count.fetch_sub(1, Relaxed) > 0 {
            return Ok(());
        }
        let now_ms = self.born.elapsed().as_millis() as u64 + 1;
        let refused_at = self.refused_at_ms.load(Relaxed);
        if refused_at != 0 && now_ms.saturating_sub(refused_at) < REFUSAL_STANDS.as_millis() as u64
        {
            return Err(MappingsExhausted {
                used: self.refused_used.load(Relaxed),
                limit: self.limit,
            });
        }
        let Some(used) = count_mappings() else {
            // Unreadable now (it was readable at start): admit, and try
            // again next time.
            return Ok(());
        };
        let usable = self.limit.saturating_sub(headroom(self.limit));
        if used >= usable {
            self.until_count.store(0, Relaxed);
            self.refused_used.store(used, Relaxed);
            self.refused_at_ms.store(now_ms, Relaxed);
            return Err(MappingsExhausted {
                used,
                limit: self.limit,
            });
        }
        self.refused_at_ms.store(0, Relaxed);
        let room = (usable - used) / MAPS_PER_INSTANCE_BOUND;
        self.until_count
            .store(i64::try_from(room).unwrap_or(i64::MAX), Relaxed);
        Ok(())
    }
}

/// The process's memory mappings now (lines of `/proc/self/maps`),
/// counted through a fixed buffer.
fn count_mappings() -> Option<u64> {
    let mut file = std::fs::File::open("/proc/self/maps").ok()?;
    let mut buffer = [0u8; 16 << 10];
    let mut lines = 0u64;
    loop {
        let n = file.read(&mut buffer).ok()?;
        if n == 0 {
            return Some(lines);
        }
        lines += buffer[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headroom_is_an_eighth_of_the_limit_and_at_least_4096() {
        assert_eq!(headroom(65_530), 8_191);
        assert_eq!(headroom(10_000), 4_096);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_budget_admits_while_mappings_are_left_and_refuses_after() {
        // Other tests' threads come and go in this process, so the limits
        // are far from what it uses.
        let used = count_mappings().expect("counts /proc/self/maps");
        assert!(used > 0);
        // Room for about 1,000 instances (the headroom is the 4,096 floor
        // for limits under 32,768): admitted, and the next ~1,000 without
        // counting again.
        let roomy =
            MappingBudget::new(Some(used + 4096 + 1000 * MAPS_PER_INSTANCE_BOUND)).expect("budget");
        assert_eq!(roomy.admit(), Ok(()));
        assert!(roomy.until_count.load(Relaxed) > 500);
        assert_eq!(roomy.admit(), Ok(()));
        // Fewer left than the headroom: refused every time, saying what it
        // counted.
        let full = MappingBudget::new(Some(used / 2 + 4096)).expect("budget");
        let refused = full.admit().expect_err("no room");
        assert_eq!(refused.limit, used / 2 + 4096);
        assert!(refused.used > used / 2);
        // Refused again (the refusal stands for a while without counting).
        let again = full.admit().expect_err("still no room");
        assert_eq!(again.limit, refused.limit);
    }
}
