//! [`ComponentProfile`]: what a compiled component is, read from the
//! binary alone — its interfaces, the Torvyn roles it can play, the
//! capabilities its imports imply, the contract versions it was built
//! against, its size and who produced it. `torvyn inspect` prints it.

use super::embedded::ComponentContract;
use super::error::ContractError;
use crate::engine::TorvynInterface;
use crate::security::imports::need_of;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A compiled component, described.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentProfile {
    /// The .wasm file.
    pub path: PathBuf,
    /// `sha256:<hex>` of the file: the content address packaging and the
    /// compiled-component cache use.
    pub sha256: String,
    /// Interfaces it imports (`ns:pkg/iface@version`).
    pub imports: Vec<String>,
    /// Interfaces it exports.
    pub exports: Vec<String>,
    /// The Torvyn interfaces it exports (`torvyn:streaming/processor`, …):
    /// the node roles it can play in a flow.
    pub roles: Vec<&'static str>,
    /// The batch forms it also exports (`torvyn:batching/batch-processor`,
    /// …), which the runtime calls instead of the per-element function
    /// when a batch fits; empty: per element only.
    pub batch_forms: Vec<&'static str>,
    /// Capabilities its imports imply: a grant of any one kind of each
    /// justifies the import (declared capabilities live in the
    /// component's manifest, not in the binary).
    pub implied_capabilities: Vec<ImpliedCapability>,
    /// The packages it was compiled against, with their versions.
    pub contracts: Vec<PackageVersion>,
    /// Sizes.
    pub size: Sizes,
    /// The `producers` custom section: languages and tools that made it.
    pub producers: Vec<Producer>,
}

/// A capability an import implies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImpliedCapability {
    /// The import.
    pub import: String,
    /// Capability ids, any of which justifies it.
    pub any_of: Vec<&'static str>,
}

/// A package and the version the component uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageVersion {
    /// `ns:pkg`.
    pub package: String,
    /// Its version, when the package is versioned.
    pub version: Option<String>,
}

/// Byte counts of the binary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sizes {
    /// The whole file.
    pub total_bytes: u64,
    /// Function bodies of every core module inside.
    pub code_bytes: u64,
    /// Data segments of every core module inside.
    pub data_bytes: u64,
    /// Custom sections (names, producers, embedded WIT, …).
    pub custom_bytes: u64,
    /// Core modules inside the component.
    pub core_modules: u32,
}

/// One entry of the `producers` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Producer {
    /// `language`, `processed-by` or `sdk`.
    pub field: String,
    /// The tool or language.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl ComponentProfile {
    /// Reads and describes the component at `path` (E0210 when it is
    /// missing, not a component, or malformed).
    pub fn load(path: &Path) -> Result<Self, ContractError> {
        let bytes = std::fs::read(path).map_err(|e| ContractError::ComponentUnreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::describe(path, &bytes)
    }

    /// Describes component `bytes` read from `path`.
    pub fn describe(path: &Path, bytes: &[u8]) -> Result<Self, ContractError> {
        // Decoding first also rejects a malformed binary before the walk
        // below trusts its section sizes.
        let contract = ComponentContract::decode(path, bytes)?;
        let imports = contract.imports();
        let exports = contract.exports();
        let mut contracts: Vec<PackageVersion> = Vec::new();
        for r in imports.iter().chain(&exports) {
            let package = r.package_name();
            if !contracts.iter().any(|p| p.package == package) {
                contracts.push(PackageVersion {
                    package,
                    version: r.version.as_ref().map(ToString::to_string),
                });
            }
        }
        contracts.sort_by(|a, b| a.package.cmp(&b.package));
        let (size, producers) = walk(bytes);
        Ok(Self {
            path: path.to_path_buf(),
            sha256: digest(bytes),
            roles: contract
                .torvyn_exports()
                .into_iter()
                .filter(|i| i.is_processing())
                .map(TorvynInterface::wit_name)
                .collect(),
            batch_forms: contract
                .torvyn_exports()
                .into_iter()
                .filter(|i| i.is_batch())
                .map(TorvynInterface::wit_name)
                .collect(),
            implied_capabilities: imports
                .iter()
                .filter_map(need_of)
                .map(|need| ImpliedCapability {
                    import: need.import,
                    any_of: need.any_of.iter().map(|k| k.id()).collect(),
                })
                .collect(),
            imports: imports.iter().map(ToString::to_string).collect(),
            exports: exports.iter().map(ToString::to_string).collect(),
            contracts,
            size,
            producers,
        })
    }
}

/// The SHA-256 of `bytes`, as `sha256:<hex>`.
fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Sizes and producers, from one pass over the binary's sections (nested
/// core modules included). The binary was validated by the decoder.
fn walk(bytes: &[u8]) -> (Sizes, Vec<Producer>) {
    use wasmparser::{KnownCustom, Parser, Payload};
    let mut sizes = Sizes {
        total_bytes: bytes.len() as u64,
        ..Sizes::default()
    };
    let mut producers = Vec::new();
    for payload in Parser::new(0).parse_all(bytes).flatten() {
        match payload {
            Payload::ModuleSection { .. } => sizes.core_modules += 1,
            Payload::CodeSectionStart { size, .. } => sizes.code_bytes += u64::from(size),
            Payload::DataSection(reader) => sizes.data_bytes += reader.range().len() as u64,
            Payload::CustomSection(section) => {
                sizes.custom_bytes += section.data().len() as u64;
                if let KnownCustom::Producers(reader) = section.as_known() {
                    for field in reader.into_iter().flatten() {
                        for value in field.values.into_iter().flatten() {
                            let entry = Producer {
                                field: field.name.to_string(),
                                name: value.name.to_string(),
                                version: value.version.to_string(),
                            };
                            if !producers.contains(&entry) {
                                producers.push(entry);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    (sizes, producers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};

    #[test]
    fn an_empty_component_has_an_empty_profile() {
        let bytes = b"\0asm\x0d\x00\x01\x00";
        let profile = ComponentProfile::describe(Path::new("x.wasm"), bytes).expect("decodes");
        assert!(profile.imports.is_empty() && profile.roles.is_empty());
        assert_eq!(profile.size.total_bytes, 8);
        assert_eq!(profile.size.core_modules, 0);
    }

    #[test]
    fn a_core_module_is_not_a_component() {
        let error = ComponentProfile::describe(Path::new("m.wasm"), b"\0asm\x01\x00\x00\x00")
            .expect_err("a core module");
        assert_eq!(error.code(), ErrorCode::ComponentNotFound);
    }

    #[test]
    fn the_digest_is_sha256_hex() {
        assert_eq!(
            digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
