//! `torvyn link`: verifies that a flow's compiled components compose —
//! graph, interfaces, versions and capabilities — before anything runs:
//! the same check (`Project::link`) `torvyn run` makes before it starts.

// Cold path: linking errors carry names, versions and locations.
#![allow(clippy::result_large_err)]

use crate::output::{exit_code_of, Output};
use std::path::{Path, PathBuf};
use torvyn_runtime::assembly::project::root_of;
use torvyn_runtime::assembly::{complete_flow, ComponentResolver, Endpoints, Project};
use torvyn_runtime::config::{ConfigError, Manifest};
use torvyn_runtime::connectors;
use torvyn_runtime::contracts::LinkedFlow;
use torvyn_runtime::engine::TorvynInterface;
use torvyn_runtime::error::{Coded, Diagnostic};

/// `torvyn link` arguments.
#[derive(Debug, clap::Args)]
pub struct LinkArgs {
    /// Flow to check, as `flow.<name>` (default: all flows).
    #[arg(value_name = "FLOW")]
    flow_ref: Option<String>,
    /// Path to Torvyn.toml with the flow definition.
    #[arg(long, value_name = "PATH", default_value = "Torvyn.toml")]
    manifest: PathBuf,
    /// Flow to check (same as the positional `flow.<name>`).
    #[arg(long, value_name = "NAME")]
    flow: Option<String>,
    /// Directory holding the compiled .wasm components: a node's component
    /// is looked up there by file name (`file://…/x.wasm` → `DIR/x.wasm`,
    /// declared component `my-comp` → `DIR/my_comp.wasm`).
    #[arg(long, value_name = "DIR")]
    components: Option<PathBuf>,
}

pub fn run(args: LinkArgs, out: &Output, verbose: bool) -> u8 {
    out.set_root(&root_of(&args.manifest));
    let fail = |errors: Vec<Diagnostic>| {
        let code = exit_code_of(&errors);
        out.fail_all(&errors, &[], code, Some("link"))
    };
    let (project, names) = match flows_to_link(&args) {
        Ok(found) => found,
        Err(e) => return fail(e.diagnostics()),
    };
    let manifest = project.manifest();
    let mut flows = Vec::new();
    let mut errors = Vec::new();
    for name in &names {
        match link_one(&args, &project, name, out) {
            Ok(flow) => {
                print_flow(manifest, &flow, out, verbose);
                flows.push(flow);
            }
            Err(found) => errors.extend(found),
        }
    }
    if !errors.is_empty() {
        return fail(errors);
    }
    out.line("  ✓ All interfaces compatible");
    out.line("  ✓ Topology valid (DAG, connected, role-consistent)");
    out.line("  ✓ Capabilities granted");
    out.line("");
    out.line("  Link check passed.");
    out.json(
        serde_json::json!({
            "command": "link",
            "flows": flows.iter().map(|f| serde_json::json!({
                "name": f.name,
                "nodes": f.nodes.iter().map(|n| serde_json::json!({
                    "name": n.name,
                    "interface": n.interface.to_string(),
                    "contract_version": n.contract_version.as_ref().map(ToString::to_string),
                    "form": if n.batch_form.is_some() { "batch" } else { "per-element" },
                    "batch_interface": n.batch_form.map(|b| b.wit_name()),
                    "granted": n.capabilities.granted.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "skipped_optional": n.capabilities.skipped,
                })).collect::<Vec<_>>(),
                "edges": f.edges,
            })).collect::<Vec<_>>(),
        }),
        0,
    );
    0
}

fn print_flow(manifest: &Manifest, flow: &LinkedFlow, out: &Output, verbose: bool) {
    let chain: Vec<&str> = flow.nodes.iter().map(|n| n.name.as_str()).collect();
    out.line(&format!(
        "  ✓ Flow \"{}\": {}",
        flow.name,
        chain.join(" → ")
    ));
    let batched: Vec<String> = flow
        .nodes
        .iter()
        .filter_map(|n| n.batch_form.map(|b| format!("{} ({b})", n.name)))
        .collect();
    if !batched.is_empty() {
        out.line(&format!("      batch form: {}", batched.join(", ")));
    }
    if !verbose {
        return;
    }
    let def = manifest.flow(Some(&flow.name)).ok().map(|(_, f)| f);
    for node in &flow.nodes {
        let version = node
            .contract_version
            .as_ref()
            .map_or("unversioned".into(), |v| v.to_string());
        let granted: Vec<String> = node
            .capabilities
            .granted
            .iter()
            .map(ToString::to_string)
            .collect();
        out.line(&format!(
            "      {}: {} (torvyn:streaming@{version}); grants: {}",
            node.name,
            node.interface,
            if granted.is_empty() {
                "none".into()
            } else {
                granted.join(", ")
            }
        ));
        if node.interface == TorvynInterface::Router {
            let ports: Vec<String> = def
                .map(|f| {
                    f.edges()
                        .iter()
                        .filter(|e| e.from.node == node.name)
                        .map(|e| format!("{} → {}", e.from.port, e.to.node))
                        .collect()
                })
                .unwrap_or_default();
            out.line(&format!(
                "      {} ports (checked when `route` returns them): {}",
                node.name,
                ports.join(", ")
            ));
        }
    }
    for (from, to) in &flow.checked_edges {
        out.line(&format!("      {from} → {to}: compatible"));
    }
}

/// The project and the names of the flows to link.
fn flows_to_link(args: &LinkArgs) -> Result<(Project, Vec<String>), ConfigError> {
    let manifest = Manifest::load(&args.manifest)?;
    let wanted = args
        .flow
        .as_deref()
        .or(args.flow_ref.as_deref())
        .map(|f| f.strip_prefix("flow.").unwrap_or(f));
    let names: Vec<String> = match wanted {
        Some(name) => vec![manifest.flow(Some(name))?.0.to_string()],
        None => {
            manifest.flow(None)?;
            manifest.flow_names().map(str::to_string).collect()
        }
    };
    Ok((Project::from_manifest(manifest, &args.manifest), names))
}

/// Links one flow: every component it can locate, every problem found.
fn link_one(
    args: &LinkArgs,
    project: &Project,
    name: &str,
    out: &Output,
) -> Result<LinkedFlow, Vec<Diagnostic>> {
    let (flow_name, declared) = project.flow(Some(name)).map_err(|e| e.diagnostics())?;
    // The flow as `torvyn run` runs it: a missing source or sink attached.
    let flow =
        &*complete_flow(flow_name, declared, &Endpoints::default()).map_err(|e| e.diagnostics())?;
    let resolver = ComponentResolver::new(project.root(), project.manifest(), out);
    let mut errors = Vec::new();
    let mut components = Vec::new();
    for (node, def) in flow.nodes() {
        let wasm = match &args.components {
            // Built-in connectors are the host's own: nothing to link.
            _ if def.component.starts_with(connectors::SCHEME) => {
                match resolver.resolve_node(node, def) {
                    Ok(_) => continue,
                    Err(e) => Err(e.diagnostic()),
                }
            }
            Some(dir) => in_components_dir(dir, node, &def.component).map_err(|e| e.diagnostic()),
            None => resolver
                .resolve(node, &def.component)
                .map_err(|e| e.diagnostic()),
        };
        match wasm {
            Ok(wasm) => components.push((node.to_string(), wasm)),
            Err(d) => errors.push(d),
        }
    }
    match project.link(flow_name, flow, &components, false) {
        Ok(linked) if errors.is_empty() => Ok(linked),
        Ok(_) => Err(errors),
        Err(e) => {
            errors.extend(e.diagnostics());
            Err(errors)
        }
    }
}

fn in_components_dir(
    dir: &Path,
    node: &str,
    reference: &str,
) -> Result<PathBuf, torvyn_runtime::contracts::ContractError> {
    let file = match reference.strip_prefix("file://").unwrap_or(reference) {
        r if r.ends_with(".wasm") => Path::new(r)
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_default(),
        name => PathBuf::from(format!("{}.wasm", name.replace('-', "_"))),
    };
    let path = dir.join(file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(
            torvyn_runtime::contracts::ContractError::ComponentUnreadable {
                path,
                reason: format!(
                    "node `{node}`'s component is not in --components {}",
                    dir.display()
                ),
            },
        )
    }
}
