//! Flow graph checks for `torvyn link` (E0203): every node's interface is
//! a known Torvyn interface, edge ports exist, the graph is a connected
//! DAG, and roles are consistent — sources have no inputs and at least
//! one output, sinks no outputs and at least one input, everything else
//! both. [`crate::topology::plan_graph`] builds on these checks.

use crate::config::FlowDef;
use crate::dag::{role_problem, topological_order, NodeKind, RoleProblem, TieBreak};
use crate::engine::TorvynInterface;
use crate::error::{Coded, ErrorCode};
use crate::reactor::supervision::DEAD_LETTER_PORT;
use std::collections::HashMap;

/// The nodes in a topological order (sources first), or the first
/// problem found.
pub fn check_graph(flow_name: &str, flow: &FlowDef) -> Result<Vec<String>, TopologyError> {
    graph_problems(flow_name, flow).map_err(|mut problems| problems.remove(0))
}

/// The nodes in a topological order (sources first), or every problem
/// found (never an empty list). Cycles and connectivity are only checked
/// once every edge names defined nodes.
pub fn graph_problems(flow_name: &str, flow: &FlowDef) -> Result<Vec<String>, Vec<TopologyError>> {
    let fail = |message: String| TopologyError {
        flow: flow_name.to_string(),
        message,
    };
    if flow.nodes.is_empty() {
        return Err(vec![fail("the flow has no nodes".into())]);
    }
    let mut problems = Vec::new();
    let mut roles = HashMap::new();
    for (name, node) in flow.nodes() {
        match TorvynInterface::from_wit_name(&node.interface).filter(|i| i.is_processing()) {
            Some(interface) => {
                roles.insert(name, interface);
            }
            None => problems.push(fail(format!(
                "node `{name}` declares {}",
                TorvynInterface::unknown(&node.interface)
            ))),
        }
    }
    let mut edges_well_formed = true;
    let mut inputs: HashMap<&str, usize> = HashMap::new();
    let mut outputs: HashMap<&str, Vec<&str>> = HashMap::new();
    for edge in flow.edges() {
        for (end, port, expected) in [(&edge.from, "from", "output"), (&edge.to, "to", "input")] {
            if !flow.nodes.contains_key(&end.node) {
                edges_well_formed = false;
                problems.push(fail(format!(
                    "an edge names node `{}`, which is not defined",
                    end.node
                )));
                continue;
            }
            let Some(role) = roles.get(end.node.as_str()) else {
                continue;
            };
            let router_out = *role == TorvynInterface::Router && port == "from";
            // Any node with outputs may send the elements it fails on to
            // its `dead-letter` port (supervision's dead-letter policy).
            let dead_letter = port == "from" && end.port == DEAD_LETTER_PORT;
            if !router_out && !dead_letter && end.port != expected {
                problems.push(fail(format!(
                    "edge `{}` uses port `{}` of node `{}`, which has no such port (a {} has `{expected}` here)",
                    edge.stream_name(),
                    end.port,
                    end.node,
                    role
                )));
            }
        }
        *inputs.entry(edge.to.node.as_str()).or_default() += 1;
        outputs
            .entry(edge.from.node.as_str())
            .or_default()
            .push(edge.to.node.as_str());
    }
    for (name, _) in flow.nodes() {
        let Some(role) = roles.get(name) else {
            continue;
        };
        let ins = inputs.get(name).copied().unwrap_or(0);
        let outs = outputs.get(name).map_or(0, Vec::len);
        let problem = role_problem(node_kind(*role), ins, outs).map(|problem| match problem {
            RoleProblem::SourceWithInput => "a source must have no inputs",
            RoleProblem::SourceWithoutOutput => "a source needs an output edge",
            RoleProblem::SinkWithOutput => "a sink must have no outputs",
            RoleProblem::SinkWithoutInput => "a sink needs an input edge",
            RoleProblem::StageWithoutInput | RoleProblem::StageWithoutOutput => {
                "a processing stage needs an input and an output edge"
            }
        });
        if let Some(problem) = problem {
            problems.push(fail(format!("node `{name}` ({role}): {problem}")));
        }
    }
    if !edges_well_formed {
        return Err(problems);
    }
    // In file order, for determinism.
    let names: Vec<&str> = flow.nodes().map(|(n, _)| n).collect();
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let edges: Vec<(usize, usize)> = flow
        .edges()
        .iter()
        .filter_map(|e| {
            Some((
                *index.get(e.from.node.as_str())?,
                *index.get(e.to.node.as_str())?,
            ))
        })
        .collect();
    let order: Vec<String> = match topological_order(names.len(), &edges, TieBreak::EarliestReady) {
        Ok(order) => order.into_iter().map(|i| names[i].to_string()).collect(),
        Err(cycle) => {
            let cycle: Vec<&str> = cycle.nodes.into_iter().map(|i| names[i]).collect();
            problems.push(fail(format!(
                "the edges form a cycle through {}; the graph must be a DAG",
                cycle.join(", ")
            )));
            return Err(problems);
        }
    };
    // Connectivity: one weakly connected component.
    let mut seen = vec![order[0].as_str()];
    let mut queue = vec![order[0].as_str()];
    while let Some(node) = queue.pop() {
        for edge in flow.edges() {
            let other = if edge.from.node == node {
                edge.to.node.as_str()
            } else if edge.to.node == node {
                edge.from.node.as_str()
            } else {
                continue;
            };
            if !seen.contains(&other) {
                seen.push(other);
                queue.push(other);
            }
        }
    }
    if seen.len() != flow.nodes.len() {
        let stray: Vec<&str> = flow
            .nodes()
            .map(|(n, _)| n)
            .filter(|n| !seen.contains(n))
            .collect();
        problems.push(fail(format!(
            "node(s) {} are not connected to the rest of the flow",
            stray.join(", ")
        )));
    }
    if problems.is_empty() {
        Ok(order)
    } else {
        Err(problems)
    }
}

/// The flow's graph cannot run.
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

/// What a node of `interface` is to the graph rules.
fn node_kind(interface: TorvynInterface) -> NodeKind {
    match interface {
        TorvynInterface::Source => NodeKind::Source,
        TorvynInterface::Sink => NodeKind::Sink,
        _ => NodeKind::Stage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Manifest;
    use crate::error::{Coded, ErrorCode};
    use std::path::Path;

    fn flow(body: &str) -> FlowDef {
        let text = format!(
            "[torvyn]\nname = \"t\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n{body}"
        );
        Manifest::from_str_at(&text, Path::new("Torvyn.toml"))
            .unwrap()
            .flows
            .into_iter()
            .next()
            .unwrap()
            .1
    }

    fn node(name: &str, iface: &str) -> String {
        format!("[flow.main.nodes.{name}]\ncomponent = \"file://{name}.wasm\"\ninterface = \"torvyn:{iface}\"\n")
    }

    fn edge(from: &str, from_port: &str, to: &str) -> String {
        format!("[[flow.main.edges]]\nfrom = {{ node = \"{from}\", port = \"{from_port}\" }}\nto = {{ node = \"{to}\", port = \"input\" }}\n")
    }

    #[test]
    fn a_fan_out_through_a_router_is_a_valid_dag() {
        let f = flow(
            &[
                node("src", "streaming/source"),
                node("r", "filtering/router"),
                node("a", "streaming/sink"),
                node("b", "streaming/sink"),
                edge("src", "output", "r"),
                edge("r", "high", "a"),
                edge("r", "low", "b"),
            ]
            .concat(),
        );
        assert_eq!(check_graph("main", &f).unwrap(), ["src", "r", "a", "b"]);
    }

    #[test]
    fn cycles_role_violations_bad_ports_and_islands_are_e0203() {
        let cyc = flow(
            &[
                node("s", "streaming/source"),
                node("p", "streaming/processor"),
                node("q", "streaming/processor"),
                node("k", "streaming/sink"),
                edge("s", "output", "p"),
                edge("p", "output", "q"),
                edge("q", "output", "p"),
                edge("q", "output", "k"),
            ]
            .concat(),
        );
        let err = check_graph("main", &cyc).unwrap_err();
        assert_eq!(err.code(), ErrorCode::TopologyInvalid);
        assert!(err.message.contains("cycle"), "{err}");

        let sink_out = flow(
            &[
                node("s", "streaming/source"),
                node("k", "streaming/sink"),
                node("p", "streaming/processor"),
                edge("s", "output", "k"),
                edge("k", "output", "p"),
            ]
            .concat(),
        );
        assert!(check_graph("main", &sink_out)
            .unwrap_err()
            .message
            .contains("sink must have no outputs"));

        let port = flow(
            &[
                node("s", "streaming/source"),
                node("k", "streaming/sink"),
                edge("s", "out", "k"),
            ]
            .concat(),
        );
        assert!(check_graph("main", &port)
            .unwrap_err()
            .message
            .contains("port `out`"));

        let island = flow(
            &[
                node("s", "streaming/source"),
                node("k", "streaming/sink"),
                node("s2", "streaming/source"),
                node("k2", "streaming/sink"),
                edge("s", "output", "k"),
                edge("s2", "output", "k2"),
            ]
            .concat(),
        );
        assert!(check_graph("main", &island)
            .unwrap_err()
            .message
            .contains("not connected"));
    }

    #[test]
    fn a_dead_letter_port_is_an_output_of_any_producer() {
        let f = flow(
            &[
                node("s", "streaming/source"),
                node("p", "streaming/processor"),
                node("k", "streaming/sink"),
                node("dlq", "streaming/sink"),
                edge("s", "output", "p"),
                edge("p", "output", "k"),
                edge("p", "dead-letter", "dlq"),
            ]
            .concat(),
        );
        assert!(check_graph("main", &f).is_ok());
    }

    #[test]
    fn every_graph_problem_is_reported_at_once() {
        let f = flow(
            &[
                node("s", "streaming/source"),
                node("k", "streaming/sink"),
                node("x", "streaming/nope"),
                edge("k", "output", "s"),
                edge("s", "out", "k"),
            ]
            .concat(),
        );
        let problems = graph_problems("main", &f).unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("unknown interface `torvyn:streaming/nope`")),
            "{text:?}"
        );
        assert!(text.iter().any(|t| t.contains("port `out`")), "{text:?}");
        assert!(
            text.iter()
                .any(|t| t.contains("a source must have no inputs")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("a sink must have no outputs")),
            "{text:?}"
        );
        assert_eq!(check_graph("main", &f).unwrap_err(), problems[0]);
    }
}
