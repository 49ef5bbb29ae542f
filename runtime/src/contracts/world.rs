//! World consistency (E0102): every world a project defines must export
//! at least one Torvyn processing interface; and what a world imports,
//! for the capability cross-check.

use super::error::ContractError;
use super::wit_dir::WitRoot;
use crate::engine::TorvynInterface;
use crate::interface_ref::InterfaceRef;
use std::path::Path;
use wit_parser::{WorldId, WorldItem};

/// The interfaces world `id` of `root` imports.
pub fn world_imports(root: &WitRoot, id: WorldId) -> Vec<InterfaceRef> {
    interfaces(root, root.resolve.worlds[id].imports.values())
}

/// The interfaces world `id` of `root` exports.
pub fn world_exports(root: &WitRoot, id: WorldId) -> Vec<InterfaceRef> {
    interfaces(root, root.resolve.worlds[id].exports.values())
}

fn interfaces<'a>(root: &WitRoot, items: impl Iterator<Item = &'a WorldItem>) -> Vec<InterfaceRef> {
    items
        .filter_map(|item| match item {
            WorldItem::Interface { id, .. } => InterfaceRef::of(&root.resolve, *id),
            _ => None,
        })
        .collect()
}

/// The worlds of the root package, in definition order.
pub fn root_worlds(root: &WitRoot) -> Vec<WorldId> {
    root.resolve.packages[root.package]
        .worlds
        .values()
        .copied()
        .collect()
}

/// E0102 for the first world of the root package that exports no Torvyn
/// processing interface.
pub fn check_worlds(root: &WitRoot, base: &Path) -> Result<(), ContractError> {
    match world_problems(root, base).into_iter().next() {
        Some(first) => Err(first),
        None => Ok(()),
    }
}

/// E0102 for every world of the root package that exports no Torvyn
/// processing interface.
pub fn world_problems(root: &WitRoot, base: &Path) -> Vec<ContractError> {
    let mut problems = Vec::new();
    for id in root_worlds(root) {
        let exports = world_exports(root, id);
        let processing = exports.iter().any(|r| {
            TorvynInterface::from_wit_name(&r.unversioned()).is_some_and(|i| i.is_processing())
        });
        if !processing {
            let world = &root.resolve.worlds[id];
            let package = &root.resolve.packages[root.package].name;
            problems.push(ContractError::WorldIncomplete {
                world: format!("{}:{}/{}", package.namespace, package.name, world.name),
                location: Some(root.location(world.span, base)),
                exports: if exports.is_empty() {
                    "nothing".into()
                } else {
                    exports
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            });
        }
    }
    problems
}
