//! The checks a flow's graph must pass before it runs (E0203).

use super::backpressure::StreamSettings;
use super::error::FlowError;
use super::spec::{FlowSpec, StageRole, StageSpec};

/// Checks a chain of stages (the shape [`Flow::start`](super::Flow::start) builds).
pub fn validate_linear(specs: &[StageSpec]) -> Result<(), FlowError> {
    let spec = FlowSpec::linear(specs.to_vec(), StreamSettings::default());
    validate_graph(&spec).map(|_| ())
}

/// Checks a flow's graph (E0203): at least one source and one sink; sources
/// have no inputs and sinks no outputs; every other stage has both; every
/// component exports its role's interface; the graph is a DAG. Returns the
/// stages most-downstream first.
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
        let problem = match stage.role {
            StageRole::Source if inputs[i] > 0 => {
                Some("is a source with an input; sources must have no inputs")
            }
            StageRole::Sink if outputs[i] > 0 => {
                Some("is a sink with an output; sinks must have no outputs")
            }
            StageRole::Source if outputs[i] == 0 => Some("is a source with no output stream"),
            StageRole::Sink if inputs[i] == 0 => Some("is a sink with no input stream"),
            StageRole::Source | StageRole::Sink => None,
            _ if inputs[i] == 0 => Some("has no input stream"),
            _ if outputs[i] == 0 => Some("has no output stream"),
            _ => None,
        };
        if let Some(problem) = problem {
            return topology(format!("node `{}` {problem}", stage.name));
        }
        if !stage.component.exports().contains(stage.role.interface()) {
            let found: Vec<String> = stage
                .component
                .exports()
                .iter()
                .map(|i| i.to_string())
                .collect();
            return topology(format!(
                "node `{}` declares interface {} but its component exports only {}",
                stage.name,
                stage.role.interface(),
                found.join(", ")
            ));
        }
    }
    // Kahn's algorithm: sources first; anything left over sits on a cycle.
    let mut remaining = inputs.clone();
    let mut ready: Vec<usize> = (0..stages.len()).filter(|&i| remaining[i] == 0).collect();
    let mut order = Vec::with_capacity(stages.len());
    while let Some(i) = ready.pop() {
        order.push(i);
        for edge in spec.edges.iter().filter(|e| e.from == i) {
            remaining[edge.to] -= 1;
            if remaining[edge.to] == 0 {
                ready.push(edge.to);
            }
        }
    }
    if order.len() != stages.len() {
        let on_cycle: Vec<&str> = (0..stages.len())
            .filter(|i| !order.contains(i))
            .map(|i| stages[i].name.as_str())
            .collect();
        return topology(format!(
            "the streams form a cycle through {}; the graph must be a DAG",
            on_cycle.join(", ")
        ));
    }
    order.reverse();
    Ok(order)
}
