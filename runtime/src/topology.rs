//! Turning a `[flow.<name>]` definition into the ordered chain of nodes the
//! stage loop runs: roles from each node's declared interface, order from
//! the edges, and structural errors (E0203) for anything that is not a
//! single source → … → sink chain.

use crate::config::FlowDef;
use crate::engine::TorvynInterface;
use crate::error::{Coded, ErrorCode};
use crate::reactor::StageRole;
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
}

/// A flow's nodes in execution order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinearPlan {
    /// Nodes from source to sink.
    pub nodes: Vec<PlannedNode>,
    /// Number of edges.
    pub edges: usize,
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
}

/// A flow's nodes (in file order) and streams, checked for structure.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphPlan {
    /// Nodes in file order.
    pub nodes: Vec<PlannedNode>,
    /// Streams in file order.
    pub edges: Vec<PlannedEdge>,
}

/// Plans any DAG: roles from interfaces, streams from edges with their
/// backpressure settings (`defaults` = `[runtime.backpressure]`), and the
/// structural rules of E0203 (sources without inputs, sinks without
/// outputs, every other node with both, no cycle, no stray node).
pub fn plan_graph(
    flow_name: &str,
    flow: &FlowDef,
    defaults: &crate::config::BackpressureConfig,
) -> Result<GraphPlan, TopologyError> {
    let fail = |message: String| TopologyError {
        flow: flow_name.to_string(),
        message,
    };
    if flow.nodes.is_empty() {
        return Err(fail("the flow has no nodes".into()));
    }
    let mut nodes = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (name, node) in flow.nodes() {
        let interface = TorvynInterface::from_wit_name(&node.interface)
            .filter(|i| i.is_processing())
            .ok_or_else(|| {
                fail(format!(
                    "node `{name}` declares unknown interface `{}` (expected one of: {})",
                    node.interface,
                    TorvynInterface::ALL
                        .iter()
                        .filter(|i| i.is_processing())
                        .map(|i| i.wit_name())
                        .collect::<Vec<_>>()
                        .join(", ")
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
        let (from, to) = (lookup(&edge.from.node)?, lookup(&edge.to.node)?);
        edges.push(PlannedEdge {
            name: edge.stream_name(),
            from,
            from_port: edge.from.port.clone(),
            to,
            backpressure: flow.stream_backpressure(edge, defaults),
        });
    }
    let mut inputs = vec![0usize; nodes.len()];
    let mut outputs = vec![0usize; nodes.len()];
    for e in &edges {
        outputs[e.from] += 1;
        inputs[e.to] += 1;
    }
    for (i, node) in nodes.iter().enumerate() {
        let problem = match node.role {
            StageRole::Source if inputs[i] > 0 => {
                Some("is a source with an input edge; sources must have no inputs")
            }
            StageRole::Sink if outputs[i] > 0 => {
                Some("is a sink with an output edge; sinks must have no outputs")
            }
            StageRole::Source if outputs[i] == 0 => {
                Some("is a source that is not connected to anything")
            }
            StageRole::Sink if inputs[i] == 0 => {
                Some("is a sink that is not connected to anything")
            }
            StageRole::Source | StageRole::Sink => None,
            _ if inputs[i] == 0 => Some("has no input edge"),
            _ if outputs[i] == 0 => Some("has no output edge"),
            _ => None,
        };
        if let Some(problem) = problem {
            return Err(fail(format!("node `{}` {problem}", node.name)));
        }
    }
    if !nodes.iter().any(|n| n.role == StageRole::Source)
        || !nodes.iter().any(|n| n.role == StageRole::Sink)
    {
        return Err(fail("a flow needs at least one source and one sink".into()));
    }
    let mut remaining = inputs;
    let mut ready: Vec<usize> = (0..nodes.len()).filter(|&i| remaining[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = ready.pop() {
        seen += 1;
        for e in edges.iter().filter(|e| e.from == i) {
            remaining[e.to] -= 1;
            if remaining[e.to] == 0 {
                ready.push(e.to);
            }
        }
    }
    if seen != nodes.len() {
        let on_cycle: Vec<&str> = (0..nodes.len())
            .filter(|&i| remaining[i] > 0)
            .map(|i| nodes[i].name.as_str())
            .collect();
        return Err(fail(format!(
            "the edges form a cycle through {}; the graph must be a DAG",
            on_cycle.join(", ")
        )));
    }
    Ok(GraphPlan { nodes, edges })
}

/// The flow's graph is not a runnable chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("flow `{flow}`: {message}")]
pub struct TopologyError {
    /// Flow name.
    pub flow: String,
    /// What is wrong.
    pub message: String,
}

impl Coded for TopologyError {
    fn code(&self) -> ErrorCode {
        ErrorCode::TopologyInvalid
    }

    fn location(&self) -> Option<String> {
        Some(format!("[flow.{}] in Torvyn.toml", self.flow))
    }
}

/// Orders `flow`'s nodes into a source → … → sink chain.
pub fn plan_linear(flow_name: &str, flow: &FlowDef) -> Result<LinearPlan, TopologyError> {
    let fail = |message: String| TopologyError {
        flow: flow_name.to_string(),
        message,
    };
    if flow.nodes.is_empty() {
        return Err(fail("the flow has no nodes".into()));
    }
    let mut nodes: HashMap<&str, PlannedNode> = HashMap::new();
    for (name, node) in flow.nodes() {
        let interface = TorvynInterface::from_wit_name(&node.interface).ok_or_else(|| {
            fail(format!(
                "node `{name}` declares unknown interface `{}` (expected one of: {})",
                node.interface,
                TorvynInterface::ALL
                    .iter()
                    .filter(|i| i.is_processing())
                    .map(|i| i.wit_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let role = StageRole::from_interface(interface).ok_or_else(|| {
            fail(format!(
                "node `{name}` is a {interface}, which does not fit a chain (use plan_graph)"
            ))
        })?;
        nodes.insert(
            name,
            PlannedNode {
                name: name.to_string(),
                component: node.component.clone(),
                interface,
                role,
                config: node.config.clone(),
            },
        );
    }
    let mut next: HashMap<&str, &str> = HashMap::new();
    let mut has_input: HashMap<&str, usize> = HashMap::new();
    for edge in flow.edges() {
        for end in [&edge.from.node, &edge.to.node] {
            if !nodes.contains_key(end.as_str()) {
                return Err(fail(format!(
                    "an edge names node `{end}`, which is not defined"
                )));
            }
        }
        if next.insert(&edge.from.node, &edge.to.node).is_some() {
            return Err(fail(format!(
                "node `{}` has more than one output edge",
                edge.from.node
            )));
        }
        *has_input.entry(&edge.to.node).or_default() += 1;
        if has_input[edge.to.node.as_str()] > 1 {
            return Err(fail(format!(
                "node `{}` has more than one input edge",
                edge.to.node
            )));
        }
    }
    for node in nodes.values() {
        let inputs = has_input.get(node.name.as_str()).copied().unwrap_or(0);
        if node.role == StageRole::Source && inputs > 0 {
            return Err(fail(format!(
                "source `{}` has an input edge; sources must have no inputs",
                node.name
            )));
        }
        if node.role == StageRole::Sink && next.contains_key(node.name.as_str()) {
            return Err(fail(format!(
                "sink `{}` has an output edge; sinks must have no outputs",
                node.name
            )));
        }
    }
    let mut sources = flow
        .nodes()
        .filter(|(name, _)| !has_input.contains_key(name))
        .map(|(name, _)| name);
    let start = sources
        .next()
        .ok_or_else(|| fail("every node has an input: the graph has a cycle".into()))?;
    if let Some(other) = sources.next() {
        return Err(fail(format!(
            "nodes `{start}` and `{other}` both have no input; a linear flow has one source"
        )));
    }
    let mut order = vec![start];
    let mut current = start;
    while let Some(&following) = next.get(current) {
        if order.contains(&following) {
            return Err(fail(format!(
                "the edges form a cycle through `{following}`; the graph must be a DAG"
            )));
        }
        order.push(following);
        current = following;
    }
    if order.len() != nodes.len() {
        let stray: Vec<&str> = flow
            .nodes()
            .map(|(n, _)| n)
            .filter(|n| !order.contains(n))
            .collect();
        return Err(fail(format!(
            "node(s) {} are not connected to the chain starting at `{start}`",
            stray.join(", ")
        )));
    }
    let planned = order
        .into_iter()
        .filter_map(|name| nodes.remove(name))
        .collect();
    Ok(LinearPlan {
        nodes: planned,
        edges: flow.edges().len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Manifest;
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

    #[test]
    fn orders_a_chain_by_its_edges_not_by_declaration() {
        let f = flow(&format!(
            "{NODES}
[[flow.main.edges]]
from = {{ node = \"upper\", port = \"output\" }}
to = {{ node = \"sink\", port = \"input\" }}
[[flow.main.edges]]
from = {{ node = \"source\", port = \"output\" }}
to = {{ node = \"upper\", port = \"input\" }}
"
        ));
        let plan = plan_linear("main", &f).unwrap();
        let names: Vec<&str> = plan.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["source", "upper", "sink"]);
        assert_eq!(plan.nodes[0].config, r#"{"count": 3}"#);
        assert_eq!(plan.nodes[1].role, StageRole::Processor);
        assert_eq!(plan.edges, 2);
    }

    #[test]
    fn a_disconnected_node_is_e0203() {
        let f = flow(&format!(
            "{NODES}
[[flow.main.edges]]
from = {{ node = \"source\", port = \"output\" }}
to = {{ node = \"sink\", port = \"input\" }}
"
        ));
        let err = plan_linear("main", &f).unwrap_err();
        assert_eq!(err.code(), ErrorCode::TopologyInvalid);
        assert!(err.message.contains("upper"), "{err}");
    }

    #[test]
    fn a_sink_with_an_output_is_e0203() {
        let f = flow(&format!(
            "{NODES}
[[flow.main.edges]]
from = {{ node = \"source\", port = \"output\" }}
to = {{ node = \"sink\", port = \"input\" }}
[[flow.main.edges]]
from = {{ node = \"sink\", port = \"output\" }}
to = {{ node = \"upper\", port = \"input\" }}
"
        ));
        let err = plan_linear("main", &f).unwrap_err();
        assert!(err.message.contains("sinks must have no outputs"), "{err}");
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
        let err = plan_linear("main", &f).unwrap_err();
        assert!(err.message.contains("teleport"), "{err}");
    }
}
