//! `[flow.<name>]`: nodes, edges and per-flow / per-stream backpressure
//! settings. Data only — topology analysis lives elsewhere.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::runtime::{BackpressureConfig, BackpressurePolicy};

/// `[flow.<name>]` — one flow definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FlowDef {
    /// Human-readable description (default "").
    pub description: String,
    /// Queue capacity of this flow's streams, overriding
    /// `[runtime.backpressure] default_queue_depth`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub default_queue_depth: Option<u32>,
    /// Overflow policy of this flow's streams. Also spelled `default_policy`.
    #[serde(alias = "default_policy", skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-aliases" = ["default_policy"]))]
    pub backpressure_policy: Option<BackpressurePolicy>,
    /// Low watermark of this flow's streams.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("exclusiveMinimum" = 0.0, "exclusiveMaximum" = 1.0))]
    pub low_watermark_ratio: Option<f64>,
    /// Throughput cap of this flow's streams under `rate-limit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_elements_per_second: Option<u64>,
    /// Nodes by name, in file order.
    pub nodes: IndexMap<String, NodeDef>,
    /// Stream connections, in file order (`[[flow.<name>.edges]]`, or
    /// `[flow.<name>.edges.<stream>]` tables keyed by stream name).
    #[schemars(extend("x-keyed-by" = "name"))]
    pub edges: Vec<EdgeDef>,
    /// `[flow.<name>.supervision]`: restart strategy and intensity.
    pub supervision: SupervisionDef,
    /// Copies of the whole flow run side by side, each on a different
    /// worker arbiter with its own component instances (default 1). Each
    /// replica's components learn their partition (index, count) through
    /// `flow-metadata.partition()`; the flow has one report (totals and a
    /// per-replica breakdown) and one supervision policy: a replica that
    /// fails past its restart intensity fails the flow and cancels the
    /// others.
    #[schemars(range(min = 1, max = 256))]
    pub replicas: u32,
}

impl Default for FlowDef {
    fn default() -> Self {
        Self {
            description: String::new(),
            default_queue_depth: None,
            backpressure_policy: None,
            low_watermark_ratio: None,
            max_elements_per_second: None,
            nodes: IndexMap::new(),
            edges: Vec::new(),
            supervision: SupervisionDef::default(),
            replicas: 1,
        }
    }
}

/// `[flow.<name>.supervision]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SupervisionDef {
    /// Which components restart together.
    pub strategy: StrategyDef,
    /// Restarts allowed within `restart_window_ms`.
    pub max_restarts: u32,
    /// The restart intensity's sliding window, in milliseconds.
    #[schemars(range(min = 1))]
    pub restart_window_ms: u64,
    /// Whether the whole flow is started again when it fails (its
    /// FlowSupervisor's policy). Unset: the command decides (`torvyn serve`
    /// restarts on failure, `torvyn run` and embedders do not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_restart: Option<FlowRestartDef>,
    /// Flow restarts allowed within `flow_restart_window_ms`; one more
    /// leaves the flow failed and escalates to the root supervisor.
    pub flow_max_restarts: u32,
    /// The sliding window of `flow_max_restarts`, in milliseconds.
    #[schemars(range(min = 1))]
    pub flow_restart_window_ms: u64,
    /// Delay before the first flow restart in a window, in milliseconds;
    /// each further restart in the window waits twice as long.
    pub flow_restart_backoff_ms: u64,
}

/// `flow_restart` of `[flow.<name>.supervision]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FlowRestartDef {
    /// Leave a failed flow failed.
    Never,
    /// Start a failed flow again from its plan, within the intensity.
    OnFailure,
}

impl Default for SupervisionDef {
    fn default() -> Self {
        Self {
            strategy: StrategyDef::OneForOne,
            max_restarts: 3,
            restart_window_ms: 5000,
            flow_restart: None,
            flow_max_restarts: 3,
            flow_restart_window_ms: 60_000,
            flow_restart_backoff_ms: 0,
        }
    }
}

/// `strategy` of `[flow.<name>.supervision]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StrategyDef {
    /// Restart only the failed component.
    #[default]
    OneForOne,
    /// Restart every component of the flow.
    OneForAll,
    /// Restart the failed component and those after it.
    RestForOne,
}

/// `restart` of a node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RestartDef {
    /// After a trap or a fatal error.
    #[default]
    Permanent,
    /// After a trap only.
    Transient,
    /// Never.
    Temporary,
}

/// `on_error` of a node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnErrorDef {
    /// Drop the element (counted).
    #[default]
    Skip,
    /// Call again, up to `retries` times.
    Retry,
    /// Send it to the dead-letter destination.
    DeadLetter,
    /// Fail the flow.
    Fail,
}

/// `[flow.<name>.nodes.<node>]` — one component instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeDef {
    /// A compiled `.wasm` path (`file://...`), a registry reference, or
    /// the name of a declared `[[component]]`.
    #[schemars(length(min = 1))]
    pub component: String,
    /// The Torvyn interface it implements, e.g. `torvyn:streaming/processor`.
    #[schemars(length(min = 1))]
    pub interface: String,
    /// String passed to `lifecycle.init()` (default "").
    #[serde(default)]
    pub config: String,
    /// How a node with several outputs is gated (default `min-demand`).
    #[serde(default)]
    pub fan_out: FanOutMode,
    /// How a node with several inputs merges them (default `round-robin`).
    #[serde(default)]
    pub merge: MergeMode,
    /// When its component is restarted after failing (default `permanent`).
    #[serde(default)]
    pub restart: RestartDef,
    /// What happens to an element it fails on (default `skip`).
    #[serde(default)]
    pub on_error: OnErrorDef,
    /// Retries under `on_error = "retry"` (default 3).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// JSON-lines file receiving dead letters when the node has no
    /// `dead-letter` edge (relative to the manifest's directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub dead_letter_file: Option<String>,
}

fn default_retries() -> u32 {
    3
}

/// `fan_out` of a node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FanOutMode {
    /// The producer never outruns its slowest gating consumer.
    #[default]
    MinDemand,
    /// Faster branches pull ahead; a full branch misses elements (counted).
    Independent,
}

/// `merge` of a node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MergeMode {
    /// Equal turns across inputs.
    #[default]
    RoundRobin,
    /// Highest edge `priority` first.
    Priority,
}

/// One end of an edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Node name.
    #[schemars(length(min = 1))]
    pub node: String,
    /// Port name (`output` / `input`, or a router's port).
    #[schemars(length(min = 1))]
    pub port: String,
}

/// `[[flow.<name>.edges]]` — one stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EdgeDef {
    /// Explicit stream name (the key in the `[flow.x.edges.<name>]` form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub name: Option<String>,
    /// Upstream end.
    pub from: Endpoint,
    /// Downstream end.
    pub to: Endpoint,
    /// Per-stream backpressure overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backpressure: Option<StreamBackpressure>,
    /// Merge priority at the downstream node when its `merge` is
    /// `priority` (higher first; default 0).
    #[serde(default)]
    pub priority: u32,
}

impl EdgeDef {
    /// The stream's name: the explicit one, or `"<from>-to-<to>"` (the
    /// convention of the spec's `transform-to-sink` example).
    pub fn stream_name(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => default_stream_name(&self.from.node, &self.to.node),
        }
    }
}

/// The name of a stream no one named: `<from>-to-<to>`. The one place
/// streams are named, for manifests and for flows built in code alike.
pub fn default_stream_name(from: &str, to: &str) -> String {
    format!("{from}-to-{to}")
}

/// `[flow.<name>.edges.<stream>.backpressure]` — per-stream overrides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct StreamBackpressure {
    /// Queue capacity of this stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub queue_depth: Option<u32>,
    /// Overflow policy of this stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<BackpressurePolicy>,
    /// Low watermark of this stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("exclusiveMinimum" = 0.0, "exclusiveMaximum" = 1.0))]
    pub low_watermark_ratio: Option<f64>,
    /// Throughput cap under `rate-limit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_elements_per_second: Option<u64>,
}

/// A stream's effective backpressure settings: edge overrides, else the
/// flow's, else `[runtime.backpressure]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResolvedBackpressure {
    /// Bounded queue capacity.
    pub queue_depth: u32,
    /// Overflow policy.
    pub policy: BackpressurePolicy,
    /// Low watermark ratio.
    pub low_watermark_ratio: f64,
    /// Throughput cap (`Some` whenever the policy is `rate-limit` in a
    /// validated manifest).
    pub max_elements_per_second: Option<u64>,
}

impl FlowDef {
    /// The nodes in file order.
    pub fn nodes(&self) -> impl Iterator<Item = (&str, &NodeDef)> {
        self.nodes.iter().map(|(name, node)| (name.as_str(), node))
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&NodeDef> {
        self.nodes.get(name)
    }

    /// The edges in file order.
    pub fn edges(&self) -> &[EdgeDef] {
        &self.edges
    }

    /// The effective backpressure settings of `edge` in this flow.
    pub fn stream_backpressure(
        &self,
        edge: &EdgeDef,
        defaults: &BackpressureConfig,
    ) -> ResolvedBackpressure {
        let stream = edge.backpressure.clone().unwrap_or_default();
        ResolvedBackpressure {
            queue_depth: stream
                .queue_depth
                .or(self.default_queue_depth)
                .unwrap_or(defaults.default_queue_depth),
            policy: stream
                .policy
                .or(self.backpressure_policy)
                .unwrap_or(defaults.backpressure_policy),
            low_watermark_ratio: stream
                .low_watermark_ratio
                .or(self.low_watermark_ratio)
                .unwrap_or(defaults.low_watermark_ratio),
            max_elements_per_second: stream
                .max_elements_per_second
                .or(self.max_elements_per_second)
                .or(defaults.max_elements_per_second),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(from: &str, to: &str) -> EdgeDef {
        EdgeDef {
            name: None,
            from: Endpoint {
                node: from.into(),
                port: "output".into(),
            },
            to: Endpoint {
                node: to.into(),
                port: "input".into(),
            },
            backpressure: None,
            priority: 0,
        }
    }

    #[test]
    fn stream_names_default_to_from_to() {
        assert_eq!(edge("transform", "sink").stream_name(), "transform-to-sink");
        let named = EdgeDef {
            name: Some("s1".into()),
            ..edge("a", "b")
        };
        assert_eq!(named.stream_name(), "s1");
    }

    #[test]
    fn edge_beats_flow_beats_runtime() {
        let defaults = BackpressureConfig::default();
        let mut flow = FlowDef::default();
        let plain = edge("a", "b");
        let resolved = flow.stream_backpressure(&plain, &defaults);
        assert_eq!(
            (
                resolved.queue_depth,
                resolved.policy,
                resolved.low_watermark_ratio
            ),
            (64, BackpressurePolicy::Block, 0.5)
        );

        flow.default_queue_depth = Some(16);
        flow.backpressure_policy = Some(BackpressurePolicy::DropNewest);
        let resolved = flow.stream_backpressure(&plain, &defaults);
        assert_eq!(
            (resolved.queue_depth, resolved.policy),
            (16, BackpressurePolicy::DropNewest)
        );

        let overridden = EdgeDef {
            backpressure: Some(StreamBackpressure {
                queue_depth: Some(256),
                policy: Some(BackpressurePolicy::DropOldest),
                low_watermark_ratio: Some(0.25),
                max_elements_per_second: None,
            }),
            ..plain
        };
        let resolved = flow.stream_backpressure(&overridden, &defaults);
        assert_eq!(
            (
                resolved.queue_depth,
                resolved.policy,
                resolved.low_watermark_ratio
            ),
            (256, BackpressurePolicy::DropOldest, 0.25)
        );
    }

    fn replicas_of(line: &str) -> Result<u32, crate::config::ConfigError> {
        let text = format!(
            "[torvyn]\nname = \"t\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n\
             [flow.main]\n{line}\n[flow.main.nodes.a]\ncomponent = \"a\"\ninterface = \"torvyn:streaming/source\"\n"
        );
        let manifest =
            crate::config::Manifest::from_str_at(&text, std::path::Path::new("Torvyn.toml"))?;
        Ok(manifest.flows["main"].replicas)
    }

    #[test]
    fn replicas_default_to_one_and_are_read() {
        assert_eq!(replicas_of("").unwrap(), 1);
        assert_eq!(replicas_of("replicas = 4").unwrap(), 4);
        assert_eq!(FlowDef::default().replicas, 1);
    }

    #[test]
    fn zero_or_too_many_replicas_are_e0702_with_the_key() {
        use crate::error::{Coded, ErrorCode};
        for line in ["replicas = 0", "replicas = 257"] {
            let e = replicas_of(line).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ConstraintViolation, "{line}: {e}");
            assert!(e.to_string().contains("flow.main.replicas"), "{e}");
        }
    }
}
