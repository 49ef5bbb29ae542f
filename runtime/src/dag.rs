//! The structural rules every flow graph obeys, over node indices and
//! edges, whatever describes the graph (a `Torvyn.toml` flow for
//! `torvyn link`, a [`crate::reactor::FlowSpec`] for the reactor): each
//! node's number of inputs and outputs suits its kind, and the edges form
//! a DAG. Callers turn the typed answers into their own messages (E0203).

use std::collections::VecDeque;

/// What a node is to the graph rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// Produces elements: no inputs, at least one output.
    Source,
    /// Consumes elements: at least one input, no outputs.
    Sink,
    /// Anything in between: at least one input and one output.
    Stage,
}

/// How a node breaks the rule of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleProblem {
    /// A source with an input.
    SourceWithInput,
    /// A source with no output.
    SourceWithoutOutput,
    /// A sink with an output.
    SinkWithOutput,
    /// A sink with no input.
    SinkWithoutInput,
    /// A stage with no input.
    StageWithoutInput,
    /// A stage with no output.
    StageWithoutOutput,
}

/// How a node of `kind` with `inputs` input and `outputs` output edges
/// breaks its kind's rule, if it does.
pub fn role_problem(kind: NodeKind, inputs: usize, outputs: usize) -> Option<RoleProblem> {
    match kind {
        NodeKind::Source if inputs > 0 => Some(RoleProblem::SourceWithInput),
        NodeKind::Source if outputs == 0 => Some(RoleProblem::SourceWithoutOutput),
        NodeKind::Sink if outputs > 0 => Some(RoleProblem::SinkWithOutput),
        NodeKind::Sink if inputs == 0 => Some(RoleProblem::SinkWithoutInput),
        NodeKind::Stage if inputs == 0 => Some(RoleProblem::StageWithoutInput),
        NodeKind::Stage if outputs == 0 => Some(RoleProblem::StageWithoutOutput),
        NodeKind::Source | NodeKind::Sink | NodeKind::Stage => None,
    }
}

/// The edges do not form a DAG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// The nodes on a cycle (or between two cycles), in index order; not
    /// those merely downstream of one.
    pub nodes: Vec<usize>,
}

/// Which of the nodes ready to be placed [`topological_order`] places
/// next. Nodes become ready in index order at first (those with no
/// inputs), then as their last input is placed, following the edges in
/// the order given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TieBreak {
    /// The one that became ready first (a queue): independent nodes stay
    /// in declaration order (`torvyn link`'s order).
    EarliestReady,
    /// The one that became ready last (a stack): one branch is followed
    /// down before the next (the order the reactor schedules and restarts
    /// by).
    LatestReady,
}

/// The nodes `0..node_count` in a topological order (upstream first), by
/// Kahn's algorithm, placing ready nodes as `ties` says. Every edge
/// `(from, to)` must name nodes below `node_count`.
pub fn topological_order(
    node_count: usize,
    edges: &[(usize, usize)],
    ties: TieBreak,
) -> Result<Vec<usize>, Cycle> {
    let mut remaining = vec![0usize; node_count];
    for &(_, to) in edges {
        remaining[to] += 1;
    }
    let mut ready: VecDeque<usize> = (0..node_count).filter(|&n| remaining[n] == 0).collect();
    let mut order = Vec::with_capacity(node_count);
    loop {
        let next = match ties {
            TieBreak::EarliestReady => ready.pop_front(),
            TieBreak::LatestReady => ready.pop_back(),
        };
        let Some(node) = next else {
            break;
        };
        order.push(node);
        for &(_, to) in edges.iter().filter(|(from, _)| *from == node) {
            remaining[to] -= 1;
            if remaining[to] == 0 {
                ready.push_back(to);
            }
        }
    }
    if order.len() == node_count {
        return Ok(order);
    }
    // Kahn leaves the nodes on a cycle and those downstream of one; prune
    // the latter from the bottom up (those whose every output was pruned).
    let mut left = vec![true; node_count];
    for &node in &order {
        left[node] = false;
    }
    loop {
        let prunable: Vec<usize> = (0..node_count)
            .filter(|&n| left[n])
            .filter(|&n| !edges.iter().any(|&(from, to)| from == n && left[to]))
            .collect();
        if prunable.is_empty() {
            break;
        }
        for n in prunable {
            left[n] = false;
        }
    }
    Err(Cycle {
        nodes: (0..node_count).filter(|&n| left[n]).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diamond_is_ordered_upstream_first_either_way() {
        // 0 → 1 → 3, 0 → 2 → 3
        let edges = [(0, 1), (0, 2), (1, 3), (2, 3)];
        let order = |ties| topological_order(4, &edges, ties);
        assert_eq!(order(TieBreak::EarliestReady), Ok(vec![0, 1, 2, 3]));
        assert_eq!(order(TieBreak::LatestReady), Ok(vec![0, 2, 1, 3]));
    }

    #[test]
    fn only_the_nodes_on_a_cycle_are_reported_in_index_order() {
        // 0 → 1 → 2 → 1, 2 → 3 → 4: 3 and 4 are only downstream of it.
        let edges = [(0, 1), (1, 2), (2, 1), (2, 3), (3, 4)];
        assert_eq!(
            topological_order(5, &edges, TieBreak::EarliestReady),
            Err(Cycle { nodes: vec![1, 2] })
        );
        // A self-loop is a cycle of one.
        assert_eq!(
            topological_order(2, &[(0, 0), (0, 1)], TieBreak::LatestReady),
            Err(Cycle { nodes: vec![0] })
        );
    }

    #[test]
    fn each_kind_has_its_rule() {
        assert_eq!(role_problem(NodeKind::Source, 0, 1), None);
        assert_eq!(
            role_problem(NodeKind::Source, 1, 1),
            Some(RoleProblem::SourceWithInput)
        );
        assert_eq!(
            role_problem(NodeKind::Sink, 1, 1),
            Some(RoleProblem::SinkWithOutput)
        );
        assert_eq!(
            role_problem(NodeKind::Stage, 1, 0),
            Some(RoleProblem::StageWithoutOutput)
        );
        assert_eq!(role_problem(NodeKind::Stage, 1, 2), None);
    }
}
