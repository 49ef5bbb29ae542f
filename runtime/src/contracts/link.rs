//! `torvyn link` as a function: everything that must hold before a flow
//! may start, checked statically from the manifest and the compiled
//! components' embedded WIT.
//!
//! 1. The flow graph (E0203, [`super::graph`]).
//! 2. Each component decodes (E0210) and exports its node's interface (E0203).
//! 3. Each edge: version rules and the structural check of the data the
//!    downstream consumes against what the upstream was compiled with
//!    (E0201 / E0200).
//! 4. Each component against the runtime's own contract (E0201 / E0200).
//! 5. Capabilities: manifest vs imports (E0103), required vs granted
//!    (E0202); the resolved grants become the node's sandbox, and each
//!    resolution is an audit event.

use super::compat::{missing_items, Side};
use super::embedded::ComponentContract;
use super::error::{ContractError, RUNTIME};
use super::graph::graph_problems;
use super::graph::TopologyError;
use super::host::host_contract;
use super::ports::{edge_location, router_port_problems};
use super::version::{compare, Verdict};
use crate::config::semantic::memory_need_refused;
use crate::config::{ConfigError, FlowDef, Manifest, Origin};
use crate::engine::TorvynInterface;
use crate::error::{Coded, ErrorCode};
use crate::security::{
    self, AuditKind, AuditLog, Declared, ResolvedCapabilities, SandboxConfig, SecurityError,
};
use semver::Version;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The package whose types cross every edge.
const STREAMING: &str = "torvyn:streaming";
const STREAMING_TYPES: &str = "torvyn:streaming/types";

/// Why a flow does not link.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// A contract problem.
    #[error(transparent)]
    Contract(#[from] ContractError),
    /// A capability problem.
    #[error(transparent)]
    Security(#[from] SecurityError),
    /// A graph problem.
    #[error(transparent)]
    Topology(#[from] TopologyError),
    /// A component manifest that does not load.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl Coded for LinkError {
    fn code(&self) -> ErrorCode {
        match self {
            LinkError::Contract(e) => e.code(),
            LinkError::Security(e) => e.code(),
            LinkError::Topology(e) => e.code(),
            LinkError::Config(e) => e.code(),
        }
    }
    fn location(&self) -> Option<String> {
        match self {
            LinkError::Contract(e) => e.location(),
            LinkError::Security(e) => e.location(),
            LinkError::Topology(e) => e.location(),
            LinkError::Config(e) => e.location(),
        }
    }
    fn help(&self) -> String {
        match self {
            LinkError::Contract(e) => e.help(),
            LinkError::Security(e) => e.help(),
            LinkError::Topology(e) => e.help(),
            LinkError::Config(e) => e.help(),
        }
    }
}

/// What linking needs.
pub struct LinkInput<'a> {
    /// The pipeline manifest.
    pub manifest: &'a Manifest,
    /// Its directory (relative paths are relative to it).
    pub project_root: &'a Path,
    /// The flow's name.
    pub flow_name: &'a str,
    /// The flow.
    pub flow: &'a FlowDef,
    /// Each node's compiled component: (node name, .wasm path). A node
    /// missing here is skipped: the caller reports why it has no component.
    pub components: &'a [(String, PathBuf)],
    /// Where grant resolutions are audited.
    pub audit: Arc<AuditLog>,
}

/// One linked node.
#[derive(Debug, Clone)]
pub struct LinkedNode {
    /// Node name.
    pub name: String,
    /// Its declared interface.
    pub interface: TorvynInterface,
    /// The `torvyn:streaming` version its component was compiled against.
    pub contract_version: Option<Version>,
    /// The batch form of its interface its component also exports
    /// (`torvyn:batching`), which the runtime then calls; `None`: per
    /// element only.
    pub batch_form: Option<TorvynInterface>,
    /// Its resolved capabilities.
    pub capabilities: ResolvedCapabilities,
    /// The sandbox built from them.
    pub sandbox: SandboxConfig,
}

/// A flow that links.
#[derive(Debug, Clone)]
pub struct LinkedFlow {
    /// Flow name.
    pub name: String,
    /// Nodes in topological order (sources first).
    pub nodes: Vec<LinkedNode>,
    /// Number of edges.
    pub edges: usize,
    /// Edges checked, as (upstream, downstream).
    pub checked_edges: Vec<(String, String)>,
}

impl LinkedFlow {
    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&LinkedNode> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

/// Every reason a flow does not link (never empty), in the order found:
/// graph, components, edges, the runtime's contract, capabilities.
#[derive(Debug, thiserror::Error)]
#[error("{}", summary(.0))]
pub struct LinkErrors(pub Vec<LinkError>);

fn summary(errors: &[LinkError]) -> String {
    match errors {
        [] => "the flow does not link".into(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

impl Coded for LinkErrors {
    fn code(&self) -> ErrorCode {
        self.0
            .first()
            .map_or(ErrorCode::TopologyInvalid, Coded::code)
    }
    fn location(&self) -> Option<String> {
        self.0.first().and_then(Coded::location)
    }
    fn help(&self) -> String {
        self.0
            .first()
            .map_or_else(|| self.code().default_help().into(), Coded::help)
    }
    fn diagnostics(&self) -> Vec<crate::error::Diagnostic> {
        self.0.iter().map(Coded::diagnostic).collect()
    }
}

/// Links `input.flow`, reporting every problem found. Grant resolutions
/// are audited only when the whole flow links.
pub fn link_flow(input: &LinkInput<'_>) -> Result<LinkedFlow, LinkErrors> {
    let mut errors: Vec<LinkError> = Vec::new();
    let order = match graph_problems(input.flow_name, input.flow) {
        Ok(order) => order,
        Err(problems) => {
            errors.extend(problems.into_iter().map(LinkError::from));
            input.flow.nodes().map(|(n, _)| n.to_string()).collect()
        }
    };
    errors.extend(
        router_port_problems(input.manifest, input.flow_name, input.flow)
            .into_iter()
            .map(LinkError::from),
    );
    let mut contracts = Vec::new();
    for name in &order {
        match load_node(input, name) {
            Ok((loaded, problem)) => {
                errors.extend(problem.map(LinkError::from));
                contracts.extend(loaded);
            }
            Err(e) => errors.push(e.into()),
        }
    }
    let find = |name: &str| {
        contracts
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, c)| c)
    };
    let mut checked_edges = Vec::new();
    for (index, edge) in input.flow.edges().iter().enumerate() {
        if let (Some(up), Some(down)) = (find(&edge.from.node), find(&edge.to.node)) {
            let location = edge_location(
                input.manifest,
                input.flow_name,
                edge,
                index,
                &["to", "node"],
            );
            match check_edge((&edge.from.node, up), (&edge.to.node, down), location) {
                Ok(()) => checked_edges.push((edge.from.node.clone(), edge.to.node.clone())),
                Err(e) => errors.push(e.into()),
            }
        }
    }
    for (name, _, contract) in &contracts {
        let location =
            input
                .manifest
                .location_of(&["flow", input.flow_name, "nodes", name, "component"]);
        errors.extend(
            runtime_problems(name, contract, location)
                .into_iter()
                .map(LinkError::from),
        );
    }
    let mut resolved = Vec::new();
    for (name, interface, contract) in contracts {
        match resolve_capabilities(input, &name, &contract) {
            Ok((capabilities, needs)) => {
                resolved.push((name, interface, contract, capabilities, needs))
            }
            Err(problems) => errors.extend(problems),
        }
    }
    let mut nodes = Vec::new();
    for (name, interface, contract, capabilities, needs) in resolved {
        match SandboxConfig::from_resolved(&capabilities, input.project_root, input.audit.clone()) {
            Ok(sandbox) => nodes.push(LinkedNode {
                sandbox: SandboxConfig {
                    max_memory: needs.max_memory,
                    max_buffer_size: needs.max_buffer_size,
                    ..sandbox
                },
                name,
                interface,
                contract_version: contract.package_version(STREAMING),
                batch_form: interface
                    .batch_form()
                    .filter(|batch| contract.torvyn_exports().contains(batch)),
                capabilities,
            }),
            Err(e) => errors.push(e.into()),
        }
    }
    if !errors.is_empty() {
        return Err(LinkErrors(errors));
    }
    for node in &nodes {
        let capabilities = &node.capabilities;
        input
            .audit
            .record(
                AuditKind::GrantResolution,
                &node.name,
                &capabilities
                    .granted
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                &if capabilities.skipped.is_empty() {
                    "resolved".to_string()
                } else {
                    format!(
                        "resolved; optional not granted: {}",
                        capabilities.skipped.join(", ")
                    )
                },
            )
            .map_err(|e| LinkErrors(vec![e.into()]))?;
    }
    Ok(LinkedFlow {
        name: input.flow_name.into(),
        nodes,
        edges: input.flow.edges().len(),
        checked_edges,
    })
}

/// A node, its declared interface and its component's contract.
type LoadedNode = (String, TorvynInterface, ComponentContract);

/// A node's component, decoded, with its declared interface: `Ok((None,
/// _))` when the node has no component or its interface is not a Torvyn
/// interface (the caller, or the graph check, reports that); the second value is E0203 when the component does not
/// export the interface (its contract is still checked).
fn load_node(
    input: &LinkInput<'_>,
    name: &str,
) -> Result<(Option<LoadedNode>, Option<ContractError>), ContractError> {
    let Some(path) = input
        .components
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, p)| p.clone())
    else {
        return Ok((None, None));
    };
    let contract = ComponentContract::load(&path)?;
    let declared = input
        .flow
        .node(name)
        .map(|n| n.interface.clone())
        .unwrap_or_default();
    let Some(interface) = TorvynInterface::from_wit_name(&declared) else {
        return Ok((None, None));
    };
    let exports = contract.torvyn_exports();
    let problem = (!exports.contains(&interface)).then(|| ContractError::NotExported {
        location: input.manifest.location_of(&[
            "flow",
            input.flow_name,
            "nodes",
            name,
            "interface",
        ]),
        node: name.to_string(),
        interface: interface.to_string(),
        exports: if exports.is_empty() {
            "no Torvyn interface".into()
        } else {
            exports
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        },
    });
    Ok((Some((name.to_string(), interface, contract)), problem))
}

/// Version rules and structural check of one edge: the downstream
/// consumes what the upstream produces. `location` is where the edge is
/// written.
pub fn check_edge(
    (up_name, up): (&str, &ComponentContract),
    (down_name, down): (&str, &ComponentContract),
    location: Option<String>,
) -> Result<(), ContractError> {
    let (Some(provided), Some(required)) = (
        up.package_version(STREAMING),
        down.package_version(STREAMING),
    ) else {
        return Ok(());
    };
    let verdict = compare(&required, &provided);
    if verdict == Verdict::MajorMismatch {
        return Err(ContractError::MajorVersionMismatch {
            location,
            consumer: down_name.into(),
            consumer_version: required.to_string(),
            provider: up_name.into(),
            provider_version: provided.to_string(),
            package: STREAMING.into(),
        });
    }
    if let (Some((d_id, _)), Some((u_id, _))) = (
        down.interface(STREAMING_TYPES),
        up.interface(STREAMING_TYPES),
    ) {
        let missing = missing_items(
            Side {
                resolve: &down.resolve,
                interface: d_id,
            },
            Side {
                resolve: &up.resolve,
                interface: u_id,
            },
            false,
            false,
        );
        if !missing.is_empty() {
            return Err(ContractError::MissingItem {
                location,
                consumer: down_name.into(),
                consumer_version: required.to_string(),
                provider: up_name.into(),
                provider_version: provided.to_string(),
                package: STREAMING.into(),
                item: missing.join(", "),
            });
        }
    }
    if verdict == Verdict::ProviderTooOld {
        return Err(ContractError::ProviderTooOld {
            location,
            consumer: down_name.into(),
            consumer_version: required.to_string(),
            provider: up_name.into(),
            provider_version: provided.to_string(),
            package: STREAMING.into(),
        });
    }
    Ok(())
}

/// A component against the contract the runtime implements: it may
/// import only what the runtime provides, and must export what the
/// runtime calls, at compatible versions. The first problem is the error
/// ([`runtime_problems`] lists every one).
pub fn check_against_runtime(
    name: &str,
    contract: &ComponentContract,
) -> Result<(), ContractError> {
    match runtime_problems(name, contract, None).into_iter().next() {
        Some(first) => Err(first),
        None => Ok(()),
    }
}

/// Every problem of a component against the runtime's contract, at most
/// one per Torvyn interface it imports or exports. `location` is where
/// the node's component is written.
pub fn runtime_problems(
    name: &str,
    contract: &ComponentContract,
    location: Option<String>,
) -> Vec<ContractError> {
    let Some(host) = host_contract() else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    let world = &contract.resolve.worlds[contract.world];
    let items = world
        .imports
        .values()
        .map(|i| (i, true))
        .chain(world.exports.values().map(|i| (i, false)));
    for (item, imported) in items {
        let wit_parser::WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let Some(r) = super::InterfaceRef::of(&contract.resolve, *id) else {
            continue;
        };
        if r.namespace != "torvyn" {
            continue;
        }
        let host_pkg = host
            .packages
            .iter()
            .find(|(_, p)| p.name.namespace == r.namespace && p.name.name == r.package);
        let Some((_, host_pkg)) = host_pkg else {
            problems.push(ContractError::MissingItem {
                location: location.clone(),
                consumer: name.into(),
                consumer_version: r.version.as_ref().map_or("?".into(), ToString::to_string),
                provider: RUNTIME.into(),
                provider_version: super::version::CURRENT_CONTRACT.into(),
                package: r.package_name(),
                item: format!("package `{}`", r.package_name()),
            });
            continue;
        };
        let (Some(mine), Some(theirs)) = (r.version.clone(), host_pkg.name.version.clone()) else {
            continue;
        };
        if compare(&mine, &theirs) == Verdict::MajorMismatch {
            problems.push(ContractError::MajorVersionMismatch {
                location: location.clone(),
                consumer: name.into(),
                consumer_version: mine.to_string(),
                provider: RUNTIME.into(),
                provider_version: theirs.to_string(),
                package: r.package_name(),
            });
            continue;
        }
        let Some(&host_iface) = host_pkg.interfaces.get(&r.interface) else {
            problems.push(ContractError::MissingItem {
                location: location.clone(),
                consumer: name.into(),
                consumer_version: mine.to_string(),
                provider: RUNTIME.into(),
                provider_version: theirs.to_string(),
                package: r.package_name(),
                item: format!("interface `{}`", r.unversioned()),
            });
            continue;
        };
        let component = Side {
            resolve: &contract.resolve,
            interface: *id,
        };
        let runtime = Side {
            resolve: host,
            interface: host_iface,
        };
        let missing = if imported {
            missing_items(component, runtime, true, true)
        } else {
            missing_items(runtime, component, false, true)
        };
        if !missing.is_empty() {
            let (consumer, cv, provider, pv) = if imported {
                (
                    name.to_string(),
                    mine.to_string(),
                    RUNTIME.to_string(),
                    theirs.to_string(),
                )
            } else {
                (
                    RUNTIME.to_string(),
                    theirs.to_string(),
                    name.to_string(),
                    mine.to_string(),
                )
            };
            problems.push(ContractError::MissingItem {
                location: location.clone(),
                consumer,
                consumer_version: cv,
                provider,
                provider_version: pv,
                package: r.package_name(),
                item: format!("{} (in `{}`)", missing.join(", "), r.unversioned()),
            });
            continue;
        }
        if imported && compare(&mine, &theirs) == Verdict::ProviderTooOld {
            problems.push(ContractError::ProviderTooOld {
                location: location.clone(),
                consumer: name.into(),
                consumer_version: mine.to_string(),
                provider: RUNTIME.into(),
                provider_version: theirs.to_string(),
                package: r.package_name(),
            });
        }
    }
    // An import and an export of the same package fail the same way once.
    problems.dedup();
    problems
}

/// The component manifest that declares `node`'s capabilities, and where
/// it is: `<path>/Torvyn.toml` of the `[[component]]` the node names, when
/// that file exists; otherwise the pipeline manifest's own `[capabilities]`
/// (a single-component project writes both in one file).
pub fn component_manifest(
    manifest: &Manifest,
    project_root: &Path,
    reference: &str,
) -> Result<(Option<Manifest>, String), ConfigError> {
    if let Some(decl) = manifest.component(reference) {
        let path = project_root.join(&decl.path).join("Torvyn.toml");
        if path.is_file() {
            let shown = Path::new(&decl.path)
                .components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .collect::<PathBuf>()
                .join("Torvyn.toml")
                .display()
                .to_string();
            return Ok((Some(Manifest::load(&path)?), shown));
        }
    }
    Ok((None, "Torvyn.toml".to_string()))
}

/// What a component's manifest says it needs at most, where it says it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct StatedNeeds {
    /// `[capabilities.torvyn] max-memory`, when written.
    max_memory: Option<u64>,
    /// `[capabilities.torvyn] max-buffer-size`, when written.
    max_buffer_size: Option<u64>,
}

impl StatedNeeds {
    /// The needs `declared` (the component's own manifest, shown as
    /// `shown`, or the pipeline manifest) writes. A memory need over what
    /// the pipeline's `[runtime] max_memory_per_component` allows cannot
    /// run: E0702.
    fn of(declared: &Manifest, shown: &str, runtime: &Manifest) -> Result<Self, ConfigError> {
        let stated = |key: &str| declared.origin_of(&["capabilities", "torvyn", key]);
        let torvyn = &declared.capabilities.torvyn;
        let needs = StatedNeeds {
            max_memory: stated("max-memory").map(|_| torvyn.max_memory.bytes()),
            max_buffer_size: stated("max-buffer-size").map(|_| torvyn.max_buffer_size.bytes()),
        };
        let allowed = runtime.runtime.max_memory_per_component;
        match needs.max_memory {
            Some(need) if need > allowed.bytes() => Err(memory_need_refused(
                &format!("the component ({shown} says)"),
                torvyn.max_memory,
                allowed,
                stated("max-memory").unwrap_or(Origin::Builtin),
            )),
            _ => Ok(needs),
        }
    }
}

fn resolve_capabilities(
    input: &LinkInput<'_>,
    name: &str,
    contract: &ComponentContract,
) -> Result<(ResolvedCapabilities, StatedNeeds), Vec<LinkError>> {
    let one = |e: LinkError| vec![e];
    let reference = input
        .flow
        .node(name)
        .map(|n| n.component.clone())
        .unwrap_or_default();
    let (own, shown) = component_manifest(input.manifest, input.project_root, &reference)
        .map_err(|e| one(e.into()))?;
    let declared_config = own
        .as_ref()
        .map_or(&input.manifest.capabilities, |m| &m.capabilities);
    let declared = Declared::parse(declared_config, &shown).map_err(|e| one(e.into()))?;
    let needs = StatedNeeds::of(
        own.as_ref().unwrap_or(input.manifest),
        &shown,
        input.manifest,
    )
    .map_err(|e| one(e.into()))?;
    let mismatches = security::cross_check_all(name, &declared, &contract.imports(), &shown);
    if !mismatches.is_empty() {
        return Err(mismatches.into_iter().map(LinkError::from).collect());
    }
    let security_config = &input.manifest.security;
    let (key, grants) = if security_config.grants.contains_key(name) {
        (name, security_config.grants_for(name))
    } else {
        (reference.as_str(), security_config.grants_for(&reference))
    };
    let mut parsed = security::parse_grants(key, grants)
        .map_err(|e| one(locate(e, input.manifest, key).into()))?;
    parsed.dedup();
    let resolved = security::resolve_all(
        name,
        &declared,
        &parsed,
        security_config.default_capability_policy,
    )
    .map_err(|errors| errors.into_iter().map(LinkError::from).collect::<Vec<_>>())?;
    Ok((resolved, needs))
}

fn locate(error: SecurityError, manifest: &Manifest, key: &str) -> SecurityError {
    match error {
        SecurityError::UnknownCapability {
            text,
            place,
            reason,
            suggestion,
            ..
        } => {
            let grants = manifest.security.grants_for(key);
            let index = grants
                .iter()
                .position(|g| g.trim() == text)
                .map(|i| i.to_string());
            let location = index.and_then(|i| {
                manifest.location_of(&["security", "grants", key, "capabilities", i.as_str()])
            });
            SecurityError::UnknownCapability {
                text,
                place,
                reason,
                suggestion,
                location,
            }
        }
        other => other,
    }
}
