//! The WIT world a compiled component carries: decoded from the
//! component's own type information with `wit-component`, so `torvyn link`
//! checks what was actually compiled, not what the sources say.

use super::error::ContractError;
use crate::engine::TorvynInterface;
use crate::interface_ref::InterfaceRef;
use semver::Version;
use std::path::{Path, PathBuf};
use wit_component::DecodedWasm;
use wit_parser::{InterfaceId, Resolve, WorldId, WorldItem, WorldKey};

/// A compiled component's contract: its world and everything it refers to.
#[derive(Debug, Clone)]
pub struct ComponentContract {
    /// The .wasm file.
    pub path: PathBuf,
    /// Every package the component's world refers to, as embedded.
    pub resolve: Resolve,
    /// The component's world.
    pub world: WorldId,
}

impl ComponentContract {
    /// Reads and decodes `path` (E0210 when it is missing or not a component).
    pub fn load(path: &Path) -> Result<Self, ContractError> {
        let bytes = std::fs::read(path).map_err(|e| ContractError::ComponentUnreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::decode(path, &bytes)
    }

    /// Decodes component `bytes` read from `path`.
    pub fn decode(path: &Path, bytes: &[u8]) -> Result<Self, ContractError> {
        let not_a_component = |reason: String| ContractError::ComponentUnreadable {
            path: path.to_path_buf(),
            reason,
        };
        if !bytes.starts_with(b"\0asm") {
            return Err(not_a_component(
                "the file does not start with the WebAssembly magic number".into(),
            ));
        }
        if bytes.get(4..8) != Some(&[0x0d, 0x00, 0x01, 0x00][..]) {
            return Err(not_a_component(
                "it is a core WebAssembly module, not a component".into(),
            ));
        }
        // wit-component's decoder grows its buffer by each section's
        // declared size before reading it, so a forged size would make it
        // allocate gigabytes (found by fuzzing). Walk the whole binary
        // first: every section must fit in the bytes there are.
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            payload.map_err(|e| not_a_component(format!("it is malformed: {e}")))?;
        }
        match wit_component::decode(bytes) {
            Ok(DecodedWasm::Component(resolve, world)) => Ok(Self {
                path: path.to_path_buf(),
                resolve,
                world,
            }),
            Ok(DecodedWasm::WitPackage(..)) => Err(not_a_component(
                "it is an encoded WIT package, not a component".into(),
            )),
            Err(e) => Err(not_a_component(format!("{e:#}"))),
        }
    }

    fn interfaces<'a>(
        &'a self,
        items: impl Iterator<Item = (&'a WorldKey, &'a WorldItem)> + 'a,
    ) -> impl Iterator<Item = (InterfaceId, InterfaceRef)> + 'a {
        items.filter_map(|(_, item)| match item {
            WorldItem::Interface { id, .. } => {
                InterfaceRef::of(&self.resolve, *id).map(|r| (*id, r))
            }
            _ => None,
        })
    }

    /// The interfaces the component imports.
    pub fn imports(&self) -> Vec<InterfaceRef> {
        let world = &self.resolve.worlds[self.world];
        self.interfaces(world.imports.iter())
            .map(|(_, r)| r)
            .collect()
    }

    /// The interfaces the component exports.
    pub fn exports(&self) -> Vec<InterfaceRef> {
        let world = &self.resolve.worlds[self.world];
        self.interfaces(world.exports.iter())
            .map(|(_, r)| r)
            .collect()
    }

    /// The interface `name` (`ns:pkg/iface`, unversioned) among imports
    /// and exports.
    pub fn interface(&self, name: &str) -> Option<(InterfaceId, InterfaceRef)> {
        let world = &self.resolve.worlds[self.world];
        self.interfaces(world.imports.iter().chain(world.exports.iter()))
            .find(|(_, r)| r.unversioned() == name)
    }

    /// The Torvyn interfaces the component exports.
    pub fn torvyn_exports(&self) -> Vec<TorvynInterface> {
        self.exports()
            .iter()
            .filter_map(|r| TorvynInterface::from_wit_name(&r.unversioned()))
            .collect()
    }

    /// The version of package `ns:pkg` the component was compiled
    /// against (from any of its imports or exports).
    pub fn package_version(&self, package: &str) -> Option<Version> {
        self.imports()
            .into_iter()
            .chain(self.exports())
            .find(|r| r.package_name() == package)
            .and_then(|r| r.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};

    /// A section claiming 4 GiB it does not have is rejected before
    /// anything is allocated for it (a fuzzing find).
    #[test]
    fn a_forged_section_size_is_rejected_without_allocating_it() {
        let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
        bytes.extend([0x07, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
        let err = ComponentContract::decode(Path::new("x.wasm"), &bytes).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ComponentNotFound);
        assert!(err.to_string().contains("malformed"), "{err}");
    }

    #[test]
    fn an_empty_component_decodes_to_an_empty_world() {
        let c = ComponentContract::decode(Path::new("x.wasm"), b"\0asm\x0d\x00\x01\x00").unwrap();
        assert!(c.imports().is_empty() && c.exports().is_empty());
    }
}
