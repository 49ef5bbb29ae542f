//! The checks a flow's graph must pass before it runs (E0203).

use super::backpressure::StreamSettings;
use super::error::FlowError;
use super::spec::{FlowSpec, StageRole, StageSpec};
use crate::dag::{role_problem, topological_order, NodeKind, RoleProblem, TieBreak};

/// Checks a chain of stages (the shape [`Flow::start`](super::Flow::start) builds).
pub fn validate_linear(specs: &[StageSpec]) -> Result<(), FlowError> {
    let spec = FlowSpec::linear(specs.to_vec(), StreamSettings::default());
    validate_graph(&spec).map(|_| ())
}

/// Checks a flow's graph (E0203): at least one source and one sink; sources
/// have no inputs and sinks no outputs; every other stage has both; every
/// component exports its role's interface; the graph is a DAG. Returns the
/// stages most-downstream first: the reverse of a topological order that
/// follows one branch down before the next ([`TieBreak::LatestReady`]),
/// the order the flow schedules by.
pub fn validate_graph(spec: &FlowSpec) -> Result<Vec<usize>, FlowError> {
    let stages = &spec.stages;
    let topology = |m: String| Err(FlowError::Topology(m));
    if !stages.iter().any(|s| s.role == StageRole::Source)
        || !stages.iter().any(|s| s.role == StageRole::Sink)
    {
        return topology(format!(
            "a flow needs at least one source and one sink, found {} node(s)",
            stages.len()
        ));
    }
    let mut inputs = vec![0usize; stages.len()];
    let mut outputs = vec![0usize; stages.len()];
    for edge in &spec.edges {
        if edge.from >= stages.len() || edge.to >= stages.len() {
            return topology(format!(
                "stream `{}` names a node that does not exist",
                edge.name
            ));
        }
        outputs[edge.from] += 1;
        inputs[edge.to] += 1;
    }
    for (i, stage) in stages.iter().enumerate() {
        if let Some(problem) = role_problem(node_kind(stage.role), inputs[i], outputs[i]) {
            let problem = match problem {
                RoleProblem::SourceWithInput => {
                    "is a source with an input; sources must have no inputs"
                }
                RoleProblem::SinkWithOutput => {
                    "is a sink with an output; sinks must have no outputs"
                }
                RoleProblem::SourceWithoutOutput => "is a source with no output stream",
                RoleProblem::SinkWithoutInput => "is a sink with no input stream",
                RoleProblem::StageWithoutInput => "has no input stream",
                RoleProblem::StageWithoutOutput => "has no output stream",
            };
            return topology(format!("node `{}` {problem}", stage.name));
        }
        check_export(stage)?;
    }
    let edges: Vec<(usize, usize)> = spec.edges.iter().map(|e| (e.from, e.to)).collect();
    let mut order =
        topological_order(stages.len(), &edges, TieBreak::LatestReady).or_else(|cycle| {
            let on_cycle: Vec<&str> = cycle
                .nodes
                .into_iter()
                .map(|i| stages[i].name.as_str())
                .collect();
            topology(format!(
                "the streams form a cycle through {}; the graph must be a DAG",
                on_cycle.join(", ")
            ))
        })?;
    order.reverse();
    Ok(order)
}

/// A stage's component must export its role's interface.
fn check_export(stage: &StageSpec) -> Result<(), FlowError> {
    if stage.component.exports().contains(stage.role.interface()) {
        return Ok(());
    }
    let found: Vec<String> = stage
        .component
        .exports()
        .iter()
        .map(|i| i.to_string())
        .collect();
    Err(FlowError::Topology(format!(
        "node `{}` declares interface {} but its component exports only {}",
        stage.name,
        stage.role.interface(),
        found.join(", ")
    )))
}

/// What a stage of `role` is to the graph rules.
fn node_kind(role: StageRole) -> NodeKind {
    match role {
        StageRole::Source => NodeKind::Source,
        StageRole::Sink => NodeKind::Sink,
        StageRole::Processor | StageRole::Filter | StageRole::Router | StageRole::Aggregator => {
            NodeKind::Stage
        }
    }
}
