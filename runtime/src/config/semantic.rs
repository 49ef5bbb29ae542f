//! Checks that need more than one value: edges must name nodes that
//! exist, flows must have nodes, names must be unique, and `rate-limit`
//! needs a rate. Run on the typed manifest; locations come from the
//! merged tree.

use std::collections::HashSet;

use super::error::{ConfigError, Origin};
use super::flow::FlowDef;
use super::manifest::Manifest;
use super::runtime::BackpressurePolicy;
use super::suggest::nearest;
use super::tree::Node;
use super::units::ByteSize;

/// The origin of the value at `path`, or of its nearest written ancestor.
pub(crate) fn origin_at(root: &Node, path: &[&str]) -> Origin {
    (0..=path.len())
        .rev()
        .find_map(|n| root.lookup(&path[..n]).map(|node| node.origin.clone()))
        .unwrap_or(Origin::Builtin)
}

pub(crate) fn check(manifest: &Manifest, root: &Node) -> Result<(), ConfigError> {
    check_components(manifest, root)?;
    check_buffer_pool(manifest, root)?;
    check_memory_need(manifest, root)?;
    let global = &manifest.runtime.backpressure;
    if global.backpressure_policy == BackpressurePolicy::RateLimit
        && global.max_elements_per_second.is_none()
    {
        return Err(rate_needed(
            root,
            &["runtime", "backpressure", "backpressure_policy"],
            "[runtime.backpressure]",
        ));
    }
    for (name, flow) in &manifest.flows {
        check_flow(manifest, name, flow, root)?;
    }
    Ok(())
}

fn check_components(manifest: &Manifest, root: &Node) -> Result<(), ConfigError> {
    let mut seen = HashSet::new();
    for (index, component) in manifest.components.iter().enumerate() {
        if !seen.insert(component.name.as_str()) {
            let index = index.to_string();
            return Err(ConfigError::InvalidValue {
                field: format!("component[{index}].name"),
                reason: format!("component `{}` is declared twice", component.name),
                origin: origin_at(root, &["component", index.as_str(), "name"]),
                hint: Some("give each [[component]] a distinct name".into()),
            });
        }
    }
    Ok(())
}

/// The one pool Torvyn has.
pub(crate) const DEFAULT_POOL: &str = "default";

/// `buffer-pool-access` names the pool a component allocates from; the
/// host has one, `default` (sized by `[runtime.pools]`). Another name is
/// refused rather than silently served from it.
fn check_buffer_pool(manifest: &Manifest, root: &Node) -> Result<(), ConfigError> {
    let pool = &manifest.capabilities.torvyn.buffer_pool_access;
    if pool == DEFAULT_POOL {
        return Ok(());
    }
    Err(ConfigError::InvalidValue {
        field: "capabilities.torvyn.buffer-pool-access".into(),
        reason: format!(
            "the host has one buffer pool, `{DEFAULT_POOL}` (sized by [runtime.pools]); named pool `{pool}` is not supported"
        ),
        origin: origin_at(root, &["capabilities", "torvyn", "buffer-pool-access"]),
        hint: Some(format!("remove the key or set buffer-pool-access = \"{DEFAULT_POOL}\"")),
    })
}

/// `max-memory`, when written, says how much linear memory the component
/// needs: more than the host lets a component have (`[runtime]
/// max_memory_per_component`) cannot run, and is refused before it tries.
fn check_memory_need(manifest: &Manifest, root: &Node) -> Result<(), ConfigError> {
    // Only a need the manifest states: the default is no declaration.
    if root
        .lookup(&["capabilities", "torvyn", "max-memory"])
        .is_none()
    {
        return Ok(());
    }
    let need = manifest.capabilities.torvyn.max_memory;
    let allowed = manifest.runtime.max_memory_per_component;
    if need.bytes() <= allowed.bytes() {
        return Ok(());
    }
    Err(memory_need_refused(
        "the component",
        need,
        allowed,
        origin_at(root, &["capabilities", "torvyn", "max-memory"]),
    ))
}

/// E0702: `whose` stated `max-memory` `need` (written at `origin`) is over
/// the `allowed` `[runtime] max_memory_per_component`.
pub(crate) fn memory_need_refused(
    whose: &str,
    need: ByteSize,
    allowed: ByteSize,
    origin: Origin,
) -> ConfigError {
    ConfigError::InvalidValue {
        field: "capabilities.torvyn.max-memory".into(),
        reason: format!(
            "{whose} needs {need} of linear memory, over the {allowed} [runtime] max_memory_per_component allows"
        ),
        origin,
        hint: Some(format!(
            "raise [runtime] max_memory_per_component to at least {need}, or lower max-memory"
        )),
    }
}

fn check_flow(
    manifest: &Manifest,
    name: &str,
    flow: &FlowDef,
    root: &Node,
) -> Result<(), ConfigError> {
    if flow.nodes.is_empty() {
        return Err(ConfigError::InvalidValue {
            field: format!("flow.{name}.nodes"),
            reason: format!("flow `{name}` has no nodes"),
            origin: origin_at(root, &["flow", name]),
            hint: Some(format!(
                "add [flow.{name}.nodes.<node>] tables with `component` and `interface`"
            )),
        });
    }
    if flow.backpressure_policy == Some(BackpressurePolicy::RateLimit)
        && flow
            .max_elements_per_second
            .or(manifest.runtime.backpressure.max_elements_per_second)
            .is_none()
    {
        return Err(rate_needed(
            root,
            &["flow", name, "backpressure_policy"],
            &format!("[flow.{name}]"),
        ));
    }

    let mut stream_names = HashSet::new();
    for (index, edge) in flow.edges.iter().enumerate() {
        let i = index.to_string();
        for (end, endpoint) in [("from", &edge.from), ("to", &edge.to)] {
            if flow.nodes.contains_key(&endpoint.node) {
                continue;
            }
            let nodes: Vec<&str> = flow.nodes.keys().map(String::as_str).collect();
            let hint = match nearest(&endpoint.node, nodes.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("nodes of flow `{name}`: {}", nodes.join(", ")),
            };
            return Err(ConfigError::InvalidValue {
                field: format!("flow.{name}.edges[{i}].{end}.node"),
                reason: format!("no node named `{}` in flow `{name}`", endpoint.node),
                origin: origin_at(root, &["flow", name, "edges", i.as_str(), end, "node"]),
                hint: Some(hint),
            });
        }
        if let Some(stream) = &edge.name {
            if !stream_names.insert(stream.as_str()) {
                return Err(ConfigError::InvalidValue {
                    field: format!("flow.{name}.edges[{i}].name"),
                    reason: format!("stream `{stream}` is defined twice in flow `{name}`"),
                    origin: origin_at(root, &["flow", name, "edges", i.as_str(), "name"]),
                    hint: Some("give each edge a distinct name".into()),
                });
            }
        }
        let resolved = flow.stream_backpressure(edge, &manifest.runtime.backpressure);
        if resolved.policy == BackpressurePolicy::RateLimit
            && resolved.max_elements_per_second.is_none()
        {
            return Err(rate_needed(
                root,
                &["flow", name, "edges", i.as_str(), "backpressure", "policy"],
                &format!("stream `{}`", edge.stream_name()),
            ));
        }
    }
    Ok(())
}

fn rate_needed(root: &Node, path: &[&str], place: &str) -> ConfigError {
    ConfigError::InvalidValue {
        field: path.join("."),
        reason: format!("the rate-limit policy of {place} needs a rate"),
        origin: origin_at(root, path),
        hint: Some(
            "set `max_elements_per_second` next to the policy (or in [runtime.backpressure])"
                .into(),
        ),
    }
}
