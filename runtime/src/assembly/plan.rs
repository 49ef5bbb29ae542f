//! [`FlowPlan`]: a flow checked, linked and loaded, ready to start — and
//! [`plan_flow`], the only way to make one.

use super::components::{ComponentResolver, NodeComponent};
use super::endpoints::{complete_flow, Endpoints};
use super::error::{coded, located};
use super::{AssemblyError, Observer, Project};
use crate::config::{FlowDef, FlowRestartDef, SupervisionDef};
use crate::engine::WasmEngine;
use crate::flow_config;
use crate::reactor::supervision::{FlowRestart, FlowRestartPolicy, Intensity};
use crate::reactor::{validate_graph, EdgeSpec, FlowSettings, FlowSpec, StageSpec};
use crate::topology::plan_graph;
use std::path::PathBuf;
use std::time::Duration;

/// A flow that passed every check (`torvyn check` and `torvyn link`): its
/// stages with their loaded components, its streams, its settings and its
/// restart policy. Only [`plan_flow`] builds one, so whoever starts it
/// need not check it again.
#[derive(Clone)]
pub struct FlowPlan {
    spec: FlowSpec,
    settings: FlowSettings,
    restart: FlowRestart,
}

impl FlowPlan {
    /// The flow's name.
    pub fn name(&self) -> &str {
        &self.settings.flow_name
    }

    /// Its stages and streams.
    pub fn spec(&self) -> &FlowSpec {
        &self.spec
    }

    /// Its settings from the manifest (with any run limits set here).
    pub fn settings(&self) -> &FlowSettings {
        &self.settings
    }

    /// Its restart policy (`[flow.<name>.supervision] flow_*`).
    pub fn restart(&self) -> FlowRestart {
        self.restart
    }

    /// Pull at most `limit` elements from the sources, then complete
    /// (`torvyn run --limit`).
    pub fn with_element_limit(mut self, limit: Option<u64>) -> Self {
        self.settings.element_limit = limit;
        self
    }

    /// Fail with E0400 when the flow runs longer than `deadline`
    /// (`torvyn run --timeout`).
    pub fn with_deadline(mut self, deadline: Option<Duration>) -> Self {
        self.settings.deadline = deadline;
        self
    }

    /// Overrides the restart policy (`torvyn serve --restart`).
    pub fn with_restart(mut self, restart: FlowRestart) -> Self {
        self.restart = restart;
        self
    }

    /// The parts the stage loop and the actors take.
    pub fn into_parts(self) -> (FlowSpec, FlowSettings, FlowRestart) {
        (self.spec, self.settings, self.restart)
    }
}

/// Plans flow `wanted` (default: the first) of `project` on `engine`:
/// plans its graph (E0203), resolves its components (building declared
/// ones that are stale), checks and links them (interfaces, versions,
/// capabilities; grants audited), loads each into `engine`, and maps the
/// manifest's settings. Progress lines go to `observer`.
pub fn plan_flow(
    project: &Project,
    wanted: Option<&str>,
    engine: &WasmEngine,
    observer: &dyn Observer,
) -> Result<FlowPlan, AssemblyError> {
    plan_flow_with(project, wanted, &Endpoints::default(), engine, observer)
}

/// [`plan_flow`], with the flow's source and sink replaced as `endpoints`
/// say (`torvyn run --input/--output`). A flow with no source or no sink
/// gets the test source or the stdout sink ([`complete_flow`]).
pub fn plan_flow_with(
    project: &Project,
    wanted: Option<&str>,
    endpoints: &Endpoints,
    engine: &WasmEngine,
    observer: &dyn Observer,
) -> Result<FlowPlan, AssemblyError> {
    let (flow_name, declared) = project.flow(wanted)?;
    let flow = &*complete_flow(flow_name, declared, endpoints)?;
    let manifest = project.manifest();
    let graph = plan_graph(flow_name, flow, &manifest.runtime.backpressure)
        .map_err(|e| AssemblyError::new(located(&e, manifest.location_of(&["flow", flow_name]))))?;
    let resolver = ComponentResolver::new(project.root(), manifest, observer);
    let mut resolved = Vec::with_capacity(graph.nodes.len());
    let mut errors = Vec::new();
    for node in &graph.nodes {
        match flow
            .node(&node.name)
            .map(|def| resolver.resolve_node(&node.name, def))
        {
            Some(Ok(component)) => resolved.push(component),
            Some(Err(e)) => errors.extend(located(
                &e,
                manifest.location_of(&["flow", flow_name, "nodes", &node.name, "component"]),
            )),
            None => {}
        }
    }
    if !errors.is_empty() {
        return Err(AssemblyError::new(errors));
    }
    // Which digest each `oci://` component resolved to goes to the audit log.
    let audit = project.audit_log(true);
    for (node, component) in graph.nodes.iter().zip(&resolved) {
        if let NodeComponent::Wasm(path) = component {
            crate::packaging::pull::audit_resolution(&audit, &node.name, &node.component, path)
                .map_err(coded)?;
        }
    }
    // `torvyn check` and `torvyn link` before anything is instantiated
    // (built-in connectors are the host's own: nothing to link).
    let wasm: Vec<(String, PathBuf)> = graph
        .nodes
        .iter()
        .zip(&resolved)
        .filter_map(|(node, component)| match component {
            NodeComponent::Wasm(path) => Some((node.name.clone(), path.clone())),
            NodeComponent::Connector(_) => None,
        })
        .collect();
    let linked = project.link(flow_name, flow, &wasm, true).map_err(coded)?;
    let mut stages = Vec::with_capacity(graph.nodes.len());
    for (node, component) in graph.nodes.iter().zip(resolved) {
        stages.push(StageSpec {
            name: node.name.clone(),
            component: match component {
                NodeComponent::Wasm(path) => engine.load_component(&path).map_err(coded)?.into(),
                NodeComponent::Connector(spec) => spec.into(),
            },
            role: node.role,
            config: node.config.clone(),
            sandbox: linked
                .node(&node.name)
                .map(|n| n.sandbox.clone())
                .unwrap_or_default(),
            scheduling: node.scheduling,
        });
    }
    let edges = graph
        .edges
        .iter()
        .map(|e| EdgeSpec {
            name: e.name.clone(),
            from: e.from,
            from_port: e.from_port.clone(),
            to: e.to,
            settings: flow_config::stream_settings(&e.backpressure),
            priority: e.priority,
        })
        .collect();
    let spec = FlowSpec { stages, edges };
    observer.status("Validating contracts...  ok");
    validate_graph(&spec).map_err(coded)?;
    let edge_count = spec.edges.len();
    observer.status(&format!(
        "Linking components...    ok ({} components, {} edge{})",
        spec.stages.len(),
        edge_count,
        if edge_count == 1 { "" } else { "s" }
    ));
    Ok(FlowPlan {
        settings: flow_settings(project, flow_name),
        restart: flow_restart(flow),
        spec,
    })
}

/// The flow's settings from the manifest (`[runtime]`, the flow's own
/// keys, supervision), dead-letter files resolved against the project.
fn flow_settings(project: &Project, flow_name: &str) -> FlowSettings {
    let mut settings = flow_config::flow_settings(project.manifest(), flow_name);
    flow_config::resolve_dead_letter_files(&mut settings, project.root());
    settings
}

/// `[flow.<name>.supervision]`'s `flow_*` keys.
fn flow_restart(flow: &FlowDef) -> FlowRestart {
    let SupervisionDef {
        flow_restart,
        flow_max_restarts,
        flow_restart_window_ms,
        flow_restart_backoff_ms,
        ..
    } = flow.supervision;
    FlowRestart {
        policy: flow_restart.map(|p| match p {
            FlowRestartDef::Never => FlowRestartPolicy::Never,
            FlowRestartDef::OnFailure => FlowRestartPolicy::OnFailure,
        }),
        intensity: Intensity {
            max_restarts: flow_max_restarts,
            window: Duration::from_millis(flow_restart_window_ms),
        },
        backoff: Duration::from_millis(flow_restart_backoff_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Manifest;
    use std::path::Path;

    fn flow_with(supervision: &str) -> FlowDef {
        let text = format!("[torvyn]\nname = \"x\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n[flow.main.nodes.a]\ncomponent = \"a\"\ninterface = \"torvyn:streaming/source\"\n[flow.main.supervision]\n{supervision}");
        let manifest = Manifest::from_str_at(&text, Path::new("Torvyn.toml")).expect("parses");
        manifest.flows["main"].clone()
    }

    #[test]
    fn the_flow_restart_keys_reach_the_policy() {
        let restart = flow_restart(&flow_with(
            "flow_restart = \"on-failure\"\nflow_max_restarts = 5\nflow_restart_window_ms = 2000\nflow_restart_backoff_ms = 10\n",
        ));
        assert_eq!(restart.policy, Some(FlowRestartPolicy::OnFailure));
        assert_eq!(restart.intensity.max_restarts, 5);
        assert_eq!(restart.intensity.window, Duration::from_secs(2));
        assert_eq!(restart.backoff, Duration::from_millis(10));
    }

    #[test]
    fn unset_flow_restart_keys_leave_the_policy_to_the_caller() {
        let restart = flow_restart(&flow_with(""));
        assert_eq!(restart.policy, None);
        assert_eq!(restart, FlowRestart::default());
    }
}
