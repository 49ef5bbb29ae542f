//! Router ports, statically (E0204).
//!
//! A router's `route` returns port names per element (`list<string>`):
//! they are data its code computes, not part of its WIT contract, so
//! `torvyn link` cannot know which names a router will return. What the
//! manifest alone decides is checked here: every edge leaving a router
//! names a usable port — not empty, no whitespace, not the router's input
//! side `input` — and no two edges leave the same port for the same node
//! (the element would reach that node twice). A name a router returns
//! that no edge leaves from is E0204 at run time (the flow fails, naming
//! the router, the port and the ports it has).

use super::error::ContractError;
use crate::config::{FlowDef, Manifest};
use crate::engine::TorvynInterface;

/// Every static port problem of the routers of `flow`.
pub fn router_port_problems(
    manifest: &Manifest,
    flow_name: &str,
    flow: &FlowDef,
) -> Vec<ContractError> {
    let mut problems = Vec::new();
    let is_router = |node: &str| {
        flow.node(node).is_some_and(|n| {
            TorvynInterface::from_wit_name(&n.interface) == Some(TorvynInterface::Router)
        })
    };
    let mut seen: Vec<(&str, &str, &str)> = Vec::new();
    for (index, edge) in flow.edges().iter().enumerate() {
        if !is_router(&edge.from.node) {
            continue;
        }
        let port = edge.from.port.as_str();
        let problem = if port.trim().is_empty() {
            Some("through an empty port name".to_string())
        } else if port.chars().any(char::is_whitespace) {
            Some(format!("through port `{port}`, which contains whitespace"))
        } else if port == "input" {
            Some("through port `input`, which is the router's input side".to_string())
        } else if seen.contains(&(edge.from.node.as_str(), port, edge.to.node.as_str())) {
            Some(format!(
                "through port `{port}` to node `{}` a second time (each element would reach it twice)",
                edge.to.node
            ))
        } else {
            None
        };
        seen.push((edge.from.node.as_str(), port, edge.to.node.as_str()));
        if let Some(problem) = problem {
            problems.push(ContractError::RouterPort {
                router: edge.from.node.clone(),
                edge: edge.stream_name(),
                problem,
                location: edge_location(manifest, flow_name, edge, index, &["from", "port"]),
            });
        }
    }
    problems
}

/// Where `field` (e.g. `["to", "node"]`) of edge number `index` of
/// `flow_name` is written (`Torvyn.toml:12:1`), else the edge itself.
pub fn edge_location(
    manifest: &Manifest,
    flow_name: &str,
    edge: &crate::config::EdgeDef,
    index: usize,
    field: &[&str],
) -> Option<String> {
    let index = index.to_string();
    let key = edge.name.as_deref().unwrap_or(index.as_str());
    let edge_path = ["flow", flow_name, "edges", key];
    let field_path: Vec<&str> = edge_path.iter().chain(field).copied().collect();
    manifest
        .location_of(&field_path)
        .or_else(|| manifest.location_of(&edge_path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};
    use std::path::Path;

    fn manifest(edges: &[(&str, &str, &str)]) -> Manifest {
        let mut text = String::from(
            "[torvyn]\nname = \"t\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n",
        );
        for (name, iface) in [
            ("s", "streaming/source"),
            ("r", "filtering/router"),
            ("a", "streaming/sink"),
            ("b", "streaming/sink"),
        ] {
            text.push_str(&format!(
                "[flow.main.nodes.{name}]\ncomponent = \"file://{name}.wasm\"\ninterface = \"torvyn:{iface}\"\n"
            ));
        }
        for (from, port, to) in edges {
            text.push_str(&format!(
                "[[flow.main.edges]]\nfrom = {{ node = \"{from}\", port = \"{port}\" }}\nto = {{ node = \"{to}\", port = \"input\" }}\n"
            ));
        }
        Manifest::from_str_at(&text, Path::new("Torvyn.toml")).unwrap()
    }

    fn problems(edges: &[(&str, &str, &str)]) -> Vec<ContractError> {
        let m = manifest(edges);
        let flow = m.flow(Some("main")).unwrap().1;
        router_port_problems(&m, "main", flow)
    }

    #[test]
    fn named_router_ports_are_fine() {
        assert!(problems(&[("s", "output", "r"), ("r", "hi", "a"), ("r", "lo", "b")]).is_empty());
        // One port to two nodes is a fan-out, not a duplicate.
        assert!(problems(&[("s", "output", "r"), ("r", "all", "a"), ("r", "all", "b")]).is_empty());
    }

    #[test]
    fn unusable_or_duplicate_ports_are_e0204_with_their_place() {
        let found = problems(&[
            ("s", "output", "r"),
            ("r", "input", "a"),
            ("r", "two words", "b"),
            ("r", "x", "a"),
            ("r", "x", "a"),
        ]);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found
            .iter()
            .all(|e| e.code() == ErrorCode::RouterPortUnknown));
        assert!(found[0].to_string().contains("input side"), "{}", found[0]);
        assert!(found[1].to_string().contains("whitespace"), "{}", found[1]);
        assert!(
            found[2].to_string().contains("a second time"),
            "{}",
            found[2]
        );
        assert_eq!(found[0].location().as_deref(), Some("Torvyn.toml:21:29"));
    }

    #[test]
    fn ports_of_other_nodes_are_left_to_the_graph_check() {
        assert!(problems(&[("s", "weird", "a")]).is_empty());
    }
}
