//! From a loaded `Torvyn.toml` to the settings the engine and the stage
//! loop take: one place that maps configuration onto runtime types.

use crate::config::{self, BackpressurePolicy, Manifest, ResolvedBackpressure};
use crate::engine::EngineConfig;
use crate::reactor::supervision::{
    ErrorPolicy, FlowSupervision, Intensity, NodeSupervision, RestartType, Strategy,
};
use crate::reactor::{FlowSettings, Policy, StreamSettings, TraceSettings};
use crate::resources::{PoolConfig, ResourceLimits};
use std::path::Path;
use std::time::Duration;

/// Engine settings from `[runtime]`.
pub fn engine_config(manifest: &Manifest) -> EngineConfig {
    EngineConfig::from(&manifest.runtime)
}

/// The buffer pools of `[runtime.pools]`.
pub fn pool_config(runtime: &config::RuntimeConfig) -> PoolConfig {
    runtime.pools
}

/// Flow settings from `[runtime]`, `[runtime.pools]` and the flow's own keys.
pub fn flow_settings(manifest: &Manifest, flow_name: &str) -> FlowSettings {
    let runtime = &manifest.runtime;
    let queue_depth = manifest
        .flows
        .get(flow_name)
        .and_then(|f| f.default_queue_depth)
        .unwrap_or(runtime.backpressure.default_queue_depth);
    FlowSettings {
        flow_name: flow_name.to_string(),
        queue_depth: queue_depth as usize,
        pools: pool_config(runtime),
        limits: ResourceLimits {
            component_budget: runtime.max_memory_per_component.bytes(),
            max_buffer_size: manifest.capabilities.torvyn.max_buffer_size.bytes(),
        },
        supervision: manifest
            .flows
            .get(flow_name)
            .map(|f| flow_supervision(&f.supervision))
            .unwrap_or_default(),
        node_supervision: manifest
            .flows
            .get(flow_name)
            .map(|f| {
                f.nodes
                    .iter()
                    .map(|(name, node)| (name.clone(), node_supervision(node, None)))
                    .collect()
            })
            .unwrap_or_default(),
        trace: trace_settings(&manifest.observability),
        replicas: manifest
            .flows
            .get(flow_name)
            .map_or(1, |f| f.replicas.max(1)),
        ..FlowSettings::default()
    }
}

/// `[observability]`'s sampling keys as the stage loop's trace settings
/// (with `tracing_enabled = false` nothing is sampled or promoted at the
/// production level; the diagnostic level still records every element).
pub fn trace_settings(config: &config::ObservabilityConfig) -> TraceSettings {
    let enabled = config.tracing_enabled;
    TraceSettings {
        sample_rate: if enabled {
            config.sample_rate.clamp(0.0, 1.0)
        } else {
            0.0
        },
        error_promote: enabled && config.error_promote,
        latency_promote_ns: if enabled {
            config
                .latency_promote_threshold_ms
                .saturating_mul(1_000_000)
        } else {
            0
        },
        ring_capacity: config.ring_buffer_capacity as usize,
        ..TraceSettings::default()
    }
}

/// `[flow.<name>.supervision]` as the reactor takes it.
pub fn flow_supervision(def: &config::SupervisionDef) -> FlowSupervision {
    FlowSupervision {
        strategy: match def.strategy {
            config::StrategyDef::OneForOne => Strategy::OneForOne,
            config::StrategyDef::OneForAll => Strategy::OneForAll,
            config::StrategyDef::RestForOne => Strategy::RestForOne,
        },
        intensity: Intensity {
            max_restarts: def.max_restarts,
            window: Duration::from_millis(def.restart_window_ms),
        },
    }
}

/// A node's `restart`, `on_error`, `retries` and `dead_letter_file`; a
/// relative dead-letter file is resolved against `root` when given.
pub fn node_supervision(node: &config::NodeDef, root: Option<&Path>) -> NodeSupervision {
    NodeSupervision {
        restart: match node.restart {
            config::RestartDef::Permanent => RestartType::Permanent,
            config::RestartDef::Transient => RestartType::Transient,
            config::RestartDef::Temporary => RestartType::Temporary,
        },
        on_error: match node.on_error {
            config::OnErrorDef::Skip => ErrorPolicy::Skip,
            config::OnErrorDef::Retry => ErrorPolicy::Retry {
                retries: node.retries,
            },
            config::OnErrorDef::DeadLetter => ErrorPolicy::DeadLetter,
            config::OnErrorDef::Fail => ErrorPolicy::Fail,
        },
        dead_letter_file: node.dead_letter_file.as_ref().map(|file| match root {
            Some(root) => root.join(file),
            None => file.into(),
        }),
    }
}

/// Resolves the flow's relative dead-letter files against `root` (the
/// manifest's directory).
pub fn resolve_dead_letter_files(settings: &mut FlowSettings, root: &Path) {
    for (_, node) in &mut settings.node_supervision {
        if let Some(file) = node.dead_letter_file.as_mut() {
            if file.is_relative() {
                *file = root.join(&*file);
            }
        }
    }
}

/// A stream's queue and policy from its resolved backpressure settings.
pub fn stream_settings(resolved: &ResolvedBackpressure) -> StreamSettings {
    StreamSettings {
        capacity: (resolved.queue_depth as usize).max(1),
        policy: match resolved.policy {
            BackpressurePolicy::Block => Policy::Block,
            BackpressurePolicy::DropOldest => Policy::DropOldest,
            BackpressurePolicy::DropNewest => Policy::DropNewest,
            BackpressurePolicy::Error => Policy::Error,
            BackpressurePolicy::RateLimit => Policy::RateLimit {
                per_second: resolved.max_elements_per_second.unwrap_or(1),
            },
        },
        low_watermark_ratio: resolved.low_watermark_ratio,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_settings_follow_observability_and_tracing_off_samples_nothing() {
        let mut config = config::ObservabilityConfig {
            sample_rate: 0.25,
            latency_promote_threshold_ms: 3,
            ring_buffer_capacity: 16,
            ..Default::default()
        };
        let t = trace_settings(&config);
        assert_eq!(t.sample_rate, 0.25);
        assert_eq!(t.latency_promote_ns, 3_000_000);
        assert_eq!(t.ring_capacity, 16);
        assert!(t.error_promote);
        config.tracing_enabled = false;
        let off = trace_settings(&config);
        assert_eq!(off.sample_rate, 0.0);
        assert_eq!(off.latency_promote_ns, 0);
        assert!(!off.error_promote);
        config.tracing_enabled = true;
        config.sample_rate = 7.0;
        assert_eq!(trace_settings(&config).sample_rate, 1.0);
    }

    #[test]
    fn rate_limit_carries_its_rate() {
        let resolved = ResolvedBackpressure {
            queue_depth: 16,
            policy: BackpressurePolicy::RateLimit,
            low_watermark_ratio: 0.25,
            max_elements_per_second: Some(200),
        };
        let s = stream_settings(&resolved);
        assert_eq!(s.capacity, 16);
        assert_eq!(s.policy, Policy::RateLimit { per_second: 200 });
        assert_eq!(s.low_watermark_ratio, 0.25);
    }

    #[test]
    fn flow_queue_depth_overrides_the_runtime_default() {
        let text = "[torvyn]\nname = \"x\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n[runtime.backpressure]\ndefault_queue_depth = 8\n[flow.main]\ndefault_queue_depth = 4\n[flow.main.nodes.a]\ncomponent = \"a\"\ninterface = \"torvyn:streaming/source\"\n";
        let manifest =
            Manifest::from_str_at(text, std::path::Path::new("Torvyn.toml")).expect("parses");
        assert_eq!(flow_settings(&manifest, "main").queue_depth, 4);
        assert_eq!(flow_settings(&manifest, "other").queue_depth, 8);
    }
}
