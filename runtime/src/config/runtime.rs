//! `[runtime]`, `[runtime.backpressure]` and `[runtime.pools]`.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::units::ByteSize;

/// `[runtime]` — runtime configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    /// Worker thread count; `None` means one per CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = u32::MAX))]
    pub worker_threads: Option<usize>,
    /// Wasm linear memory limit per component instance (default 64MiB).
    pub max_memory_per_component: ByteSize,
    /// Component instances the host holds at once, in a Wasmtime instance
    /// pool: 0 (the default) allocates each instance on demand; N > 0
    /// pools N (24576 holds 10,000 two-stage flows plus restarts). Each
    /// slot reserves address space (`max_memory_per_component` plus a
    /// guard per linear memory), not memory, and guest memory accesses are
    /// bounds-checked explicitly. Past N, starting a flow is refused with
    /// E0300. Many thousands of flows need it: on demand, each instance
    /// costs memory mappings of its own, and past the kernel's
    /// `vm.max_map_count` the process aborts.
    #[schemars(range(min = 0, max = 1_000_000))]
    pub max_component_instances: u32,
    /// Wasmtime fuel per component call; 0 = unlimited (default 0: the
    /// epoch deadline below is the default bound, see the README).
    pub fuel_per_invocation: u64,
    /// Wall-clock deadline per component call, in milliseconds, enforced
    /// by epoch interruption (default 1000); 0 = none.
    pub max_invocation_time_ms: u64,
    /// Timeout for `lifecycle.init()` calls, in milliseconds (default 5000).
    #[schemars(range(min = 1))]
    pub component_init_timeout_ms: u64,
    /// Timeout for `lifecycle.teardown()` calls, in milliseconds (default 2000).
    #[schemars(range(min = 1))]
    pub component_teardown_timeout_ms: u64,
    /// `[runtime.backpressure]`.
    pub backpressure: BackpressureConfig,
    /// `[runtime.pools]`.
    pub pools: PoolConfig,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            worker_threads: None,
            max_memory_per_component: ByteSize::mib(64),
            max_component_instances: 0,
            fuel_per_invocation: 0,
            max_invocation_time_ms: 1000,
            component_init_timeout_ms: 5000,
            component_teardown_timeout_ms: 2000,
            backpressure: BackpressureConfig::default(),
            pools: PoolConfig::default(),
        }
    }
}

impl RuntimeConfig {
    /// The fuel budget per call, or `None` when metering is off (`0`).
    pub fn fuel_limit(&self) -> Option<u64> {
        (self.fuel_per_invocation != 0).then_some(self.fuel_per_invocation)
    }

    /// The configured worker threads, or the machine's parallelism.
    pub fn effective_worker_threads(&self) -> usize {
        self.worker_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// `component_init_timeout_ms` as a [`Duration`].
    pub fn init_timeout(&self) -> Duration {
        Duration::from_millis(self.component_init_timeout_ms)
    }

    /// `component_teardown_timeout_ms` as a [`Duration`].
    pub fn teardown_timeout(&self) -> Duration {
        Duration::from_millis(self.component_teardown_timeout_ms)
    }
}

/// What a stream does when its queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BackpressurePolicy {
    /// Suspend the producer until the consumer frees capacity (default).
    #[default]
    Block,
    /// Remove the oldest queued element to make room.
    DropOldest,
    /// Reject the new element; the producer continues.
    DropNewest,
    /// Return an error to the producer.
    Error,
    /// Delay the producer to at most `max_elements_per_second`.
    RateLimit,
}

/// `[runtime.backpressure]` — global backpressure defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BackpressureConfig {
    /// Default bounded queue capacity per stream (default 64).
    #[schemars(range(min = 1))]
    pub default_queue_depth: u32,
    /// Default policy (default `block`). Also spelled `default_policy`.
    #[serde(alias = "default_policy")]
    #[schemars(extend("x-aliases" = ["default_policy"]))]
    pub backpressure_policy: BackpressurePolicy,
    /// Queue depth ratio at which backpressure deactivates (default 0.5).
    #[schemars(extend("exclusiveMinimum" = 0.0, "exclusiveMaximum" = 1.0))]
    pub low_watermark_ratio: f64,
    /// Throughput cap used by the `rate-limit` policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_elements_per_second: Option<u64>,
}

impl Default for BackpressureConfig {
    fn default() -> Self {
        BackpressureConfig {
            default_queue_depth: 64,
            backpressure_policy: BackpressurePolicy::Block,
            low_watermark_ratio: 0.5,
            max_elements_per_second: None,
        }
    }
}

/// What allocation does when a pool tier is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExhaustionPolicy {
    /// Allocate outside the pool (counted as a fallback) (default).
    #[default]
    FallbackAlloc,
    /// Fail the allocation with E0301.
    Error,
}

/// `[runtime.pools]` — buffer pool sizes per tier (the resource
/// manager's pools take it as it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PoolConfig {
    /// 256-byte buffers pre-allocated (default 4096).
    pub small_pool_size: u32,
    /// 4 KiB buffers pre-allocated (default 1024).
    pub medium_pool_size: u32,
    /// 64 KiB buffers pre-allocated (default 256).
    pub large_pool_size: u32,
    /// Maximum cached 1 MiB buffers, allocated on demand (default 32).
    pub huge_pool_size: u32,
    /// Policy when a tier is empty (default `fallback-alloc`).
    pub exhaustion_policy: ExhaustionPolicy,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            small_pool_size: 4096,
            medium_pool_size: 1024,
            large_pool_size: 256,
            huge_pool_size: 32,
            exhaustion_policy: ExhaustionPolicy::FallbackAlloc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_reference() {
        let runtime = RuntimeConfig::default();
        assert_eq!(runtime.worker_threads, None);
        assert_eq!(runtime.max_memory_per_component.bytes(), 64 << 20);
        assert_eq!(runtime.fuel_limit(), None);
        assert_eq!(runtime.max_invocation_time_ms, 1000);
        assert_eq!(runtime.init_timeout(), Duration::from_secs(5));
        assert_eq!(runtime.teardown_timeout(), Duration::from_secs(2));
        assert_eq!(runtime.backpressure.default_queue_depth, 64);
        assert_eq!(
            runtime.backpressure.backpressure_policy,
            BackpressurePolicy::Block
        );
        assert_eq!(runtime.backpressure.low_watermark_ratio, 0.5);
        assert_eq!(runtime.pools.small_pool_size, 4096);
        assert_eq!(runtime.pools.huge_pool_size, 32);
        assert_eq!(
            runtime.pools.exhaustion_policy,
            ExhaustionPolicy::FallbackAlloc
        );
        assert!(runtime.effective_worker_threads() >= 1);
    }

    #[test]
    fn zero_fuel_means_unlimited() {
        let runtime = RuntimeConfig {
            fuel_per_invocation: 0,
            ..RuntimeConfig::default()
        };
        assert_eq!(runtime.fuel_limit(), None);
        let metered = RuntimeConfig {
            fuel_per_invocation: 1_000_000,
            ..RuntimeConfig::default()
        };
        assert_eq!(metered.fuel_limit(), Some(1_000_000));
    }

    #[test]
    fn policies_are_kebab_case() {
        let parse = |s: &str| toml::Value::String(s.into()).try_into::<BackpressurePolicy>();
        assert_eq!(
            parse("drop-oldest").unwrap(),
            BackpressurePolicy::DropOldest
        );
        assert_eq!(parse("rate-limit").unwrap(), BackpressurePolicy::RateLimit);
        assert!(parse("DropOldest").is_err());
    }
}
