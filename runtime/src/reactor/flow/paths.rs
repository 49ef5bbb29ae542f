//! Each node's [`NodePath`]: how elements reach it, when the flow's
//! shape leaves them one way (the trace then rebuilds routine calls
//! instead of keeping them).

use super::node::Node;
use super::stream::Stream;
use crate::reactor::spec::StageRole;
use crate::reactor::trace::{NodePath, StageOp, StageOutcome};

/// The call a role makes per element.
pub(super) fn op_of(role: StageRole) -> StageOp {
    match role {
        StageRole::Source => StageOp::Pull,
        StageRole::Processor => StageOp::Process,
        StageRole::Filter => StageOp::Evaluate,
        StageRole::Router => StageOp::Route,
        StageRole::Aggregator => StageOp::Ingest,
        StageRole::Sink => StageOp::Push,
    }
}

/// What a call of `role` is when it passes its element on.
fn passed_on(role: StageRole) -> StageOutcome {
    match role {
        StageRole::Source | StageRole::Processor | StageRole::Aggregator => StageOutcome::Emitted,
        StageRole::Filter => StageOutcome::Passed,
        StageRole::Router => StageOutcome::Routed,
        StageRole::Sink => StageOutcome::Delivered,
    }
}

/// Each node's [`NodePath`] when elements reach every node one way: no
/// node has more than one input stream, none is fed by a dead-letter
/// stream (its elements come from a failed call, not one that passed them
/// on), and none is an aggregator (its flush emits elements no call took
/// in). `None` otherwise: the trace ring then keeps every unsampled call.
pub(super) fn unique_paths(nodes: &[Node], streams: &[Stream]) -> Option<Vec<NodePath>> {
    nodes
        .iter()
        .map(|node| {
            if node.role == StageRole::Aggregator {
                return None;
            }
            let upstream = match node.inputs.as_slice() {
                [] => None,
                [s] if !streams[*s].dead_letter => Some(streams[*s].from as u32),
                _ => return None,
            };
            Some(NodePath {
                upstream,
                op: op_of(node.role),
                passed_on: passed_on(node.role),
            })
        })
        .collect()
}
