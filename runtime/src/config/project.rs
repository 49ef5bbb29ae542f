//! `[torvyn]` (project metadata), `[[component]]` declarations and
//! `[registry]`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::Pattern;

/// `[torvyn]` — project metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectMeta {
    /// Project name (lowercase identifier, hyphens allowed).
    #[schemars(length(min = 1), regex(pattern = Pattern::Identifier.regex()))]
    pub name: String,
    /// Project version (semantic versioning, e.g. "0.1.0").
    #[schemars(length(min = 1), regex(pattern = Pattern::SemVer.regex()))]
    pub version: String,
    /// Torvyn contract version the project targets.
    #[schemars(length(min = 1), regex(pattern = Pattern::SemVer.regex()))]
    pub contract_version: String,
    /// Human-readable description (default "").
    #[serde(default)]
    pub description: String,
    /// Authors, e.g. `"Alice <alice@example.com>"` (default empty).
    #[serde(default)]
    pub authors: Vec<String>,
    /// SPDX license identifier (default "").
    #[serde(default)]
    pub license: String,
    /// Source repository URL (default "").
    #[serde(default)]
    pub repository: String,
}

/// Implementation language of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    /// Rust (default).
    #[default]
    Rust,
    /// Go.
    Go,
    /// Python.
    Python,
    /// Zig.
    Zig,
}

impl Language {
    /// The name Torvyn.toml writes (`python`).
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Go => "go",
            Language::Python => "python",
            Language::Zig => "zig",
        }
    }
}

/// One `[[component]]` (or the single `[component]` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentDecl {
    /// Component name within the project.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Source root relative to the project root (default ".").
    #[serde(default = "current_dir")]
    #[schemars(length(min = 1))]
    pub path: String,
    /// Implementation language (default `rust`): the toolchain that builds
    /// it (rust: cargo; python: componentize-py; go, zig: only a
    /// `build_command`).
    #[serde(default)]
    pub language: Language,
    /// Custom build command, run with `sh -c` in `path` in place of the
    /// language's toolchain; `$TORVYN_ARTIFACT` names the .wasm it must
    /// write. Unset: the language's toolchain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub build_command: Option<String>,
    /// Component version, as the single-`[component]` form writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1), regex(pattern = Pattern::SemVer.regex()))]
    pub version: Option<String>,
}

fn current_dir() -> String {
    ".".to_string()
}

/// `[registry]` — registry configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// Default OCI registry URL for `torvyn publish` (default "").
    pub default: String,
}
