//! Turning a `[flow.<name>]` definition into the graph the stage loop runs:
//! roles from each node's declared interface, streams from the edges with
//! their backpressure settings, and structural errors (E0203).

use crate::config::{FanOutMode, FlowDef, MergeMode};
pub use crate::contracts::graph::TopologyError;
use crate::engine::TorvynInterface;
use crate::reactor::{FanOut, Merge, NodeScheduling, StageRole};
use std::collections::HashMap;

/// One node of a planned flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedNode {
    /// Node name.
    pub name: String,
    /// The node's `component` field, unresolved.
    pub component: String,
    /// Its declared interface.
    pub interface: TorvynInterface,
    /// Its role in the chain.
    pub role: StageRole,
    /// Its `lifecycle.init` config string.
    pub config: String,
    /// Its fan-out and merge policies.
    pub scheduling: NodeScheduling,
}

/// One stream of a planned flow.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedEdge {
    /// Stream name.
    pub name: String,
    /// Index into [`GraphPlan::nodes`] of the upstream node.
    pub from: usize,
    /// Upstream port.
    pub from_port: String,
    /// Index into [`GraphPlan::nodes`] of the downstream node.
    pub to: usize,
    /// Effective backpressure settings.
    pub backpressure: crate::config::ResolvedBackpressure,
    /// Merge priority at the downstream node.
    pub priority: u32,
}

/// A flow's nodes (in file order) and streams, checked for structure.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphPlan {
    /// Nodes in file order.
    pub nodes: Vec<PlannedNode>,
    /// Streams in file order.
    pub edges: Vec<PlannedEdge>,
}

/// Plans any DAG: the structural rules of E0203 (known interfaces, ports,
/// sources without inputs, sinks without outputs, every other node with
/// both, no cycle, no stray node — [`crate::contracts::graph::check_graph`]),
/// then each node's role and each stream's backpressure settings
/// (`defaults` = `[runtime.backpressure]`).
pub fn plan_graph(
    flow_name: &str,
    flow: &FlowDef,
    defaults: &crate::config::BackpressureConfig,
) -> Result<GraphPlan, TopologyError> {
    crate::contracts::graph::check_graph(flow_name, flow)?;
    let fail = |message: String| TopologyError {
        flow: flow_name.to_string(),
        message,
    };
    let mut nodes = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (name, node) in flow.nodes() {
        let interface = TorvynInterface::from_wit_name(&node.interface).ok_or_else(|| {
            fail(format!(
                "node `{name}` declares {}",
                TorvynInterface::unknown(&node.interface)
            ))
        })?;
        let role = StageRole::from_interface(interface)
            .ok_or_else(|| fail(format!("node `{name}` has no stage role")))?;
        index.insert(name, nodes.len());
        nodes.push(PlannedNode {
            name: name.to_string(),
            component: node.component.clone(),
            interface,
            role,
            config: node.config.clone(),
            scheduling: NodeScheduling {
                fan_out: match node.fan_out {
                    FanOutMode::MinDemand => FanOut::MinDemand,
                    FanOutMode::Independent => FanOut::IndependentPerBranch,
                },
                merge: match node.merge {
                    MergeMode::RoundRobin => Merge::RoundRobin,
                    MergeMode::Priority => Merge::Priority,
                },
            },
        });
    }
    let mut edges = Vec::new();
    for edge in flow.edges() {
        let lookup = |n: &str| {
            index
                .get(n)
                .copied()
                .ok_or_else(|| fail(format!("an edge names node `{n}`, which is not defined")))
        };
        edges.push(PlannedEdge {
            name: edge.stream_name(),
            from: lookup(&edge.from.node)?,
            from_port: edge.from.port.clone(),
            to: lookup(&edge.to.node)?,
            backpressure: flow.stream_backpressure(edge, defaults),
            priority: edge.priority,
        });
    }
    Ok(GraphPlan { nodes, edges })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BackpressureConfig, BackpressurePolicy, Manifest};
    use crate::error::{Coded, ErrorCode};
    use std::path::Path;

    fn flow(toml: &str) -> FlowDef {
        let text = format!(
            "[torvyn]\nname = \"t\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n{toml}"
        );
        let manifest =
            Manifest::from_str_at(&text, Path::new("Torvyn.toml")).expect("manifest parses");
        manifest.flows.into_iter().next().expect("one flow").1
    }

    const NODES: &str = r#"
[flow.main.nodes.sink]
component = "file://sink.wasm"
interface = "torvyn:streaming/sink"
[flow.main.nodes.source]
component = "file://source.wasm"
interface = "torvyn:streaming/source"
config = '{"count": 3}'
[flow.main.nodes.upper]
component = "upper"
interface = "torvyn:streaming/processor"
"#;

    fn edge(from: &str, to: &str, extra: &str) -> String {
        format!("[[flow.main.edges]]\nfrom = {{ node = \"{from}\", port = \"output\" }}\nto = {{ node = \"{to}\", port = \"input\" }}\n{extra}\n")
    }

    #[test]
    fn plans_nodes_roles_and_streams_with_their_settings() {
        let f = flow(&format!(
            "{NODES}{}{}",
            edge(
                "upper",
                "sink",
                "backpressure = { queue_depth = 8, policy = \"drop-oldest\" }"
            ),
            edge("source", "upper", "")
        ));
        let plan = plan_graph("main", &f, &BackpressureConfig::default()).unwrap();
        let names: Vec<&str> = plan.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["sink", "source", "upper"], "file order");
        assert_eq!(plan.nodes[1].config, r#"{"count": 3}"#);
        assert_eq!(plan.nodes[2].role, StageRole::Processor);
        assert_eq!(plan.edges.len(), 2);
        assert_eq!(plan.edges[0].name, "upper-to-sink");
        assert_eq!((plan.edges[0].from, plan.edges[0].to), (2, 0));
        assert_eq!(plan.edges[0].backpressure.queue_depth, 8);
        assert_eq!(
            plan.edges[0].backpressure.policy,
            BackpressurePolicy::DropOldest
        );
        assert_eq!(
            plan.edges[1].backpressure.queue_depth, 64,
            "runtime default"
        );
    }

    #[test]
    fn a_disconnected_node_is_e0203() {
        let f = flow(&format!("{NODES}{}", edge("source", "sink", "")));
        let err = plan_graph("main", &f, &BackpressureConfig::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::TopologyInvalid);
        assert!(err.message.contains("upper"), "{err}");
    }

    #[test]
    fn a_sink_with_an_output_is_e0203() {
        let f = flow(&format!(
            "{NODES}{}{}",
            edge("source", "sink", ""),
            edge("sink", "upper", "")
        ));
        let err = plan_graph("main", &f, &BackpressureConfig::default()).unwrap_err();
        assert!(err.message.contains("sink"), "{err}");
    }

    #[test]
    fn an_unknown_interface_is_e0203() {
        let f = flow(
            r#"
[flow.main.nodes.a]
component = "a"
interface = "torvyn:streaming/teleport"
"#,
        );
        let err = plan_graph("main", &f, &BackpressureConfig::default()).unwrap_err();
        assert!(err.message.contains("teleport"), "{err}");
    }
}
