//! `[torvyn]` (project metadata), `[[component]]` declarations and
//! `[registry]`.

use serde::{Deserialize, Serialize};

/// `[torvyn]` — project metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectMeta {
    /// Project name (lowercase identifier, hyphens allowed).
    pub name: String,
    /// Project version (semantic versioning).
    pub version: String,
    /// Torvyn contract version the project targets.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
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

/// One `[[component]]` (or the single `[component]` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentDecl {
    /// Component name within the project.
    pub name: String,
    /// Source root relative to the project root (default ".").
    #[serde(default = "current_dir")]
    pub path: String,
    /// Implementation language (default `rust`).
    #[serde(default)]
    pub language: Language,
    /// Custom build command; `None` means auto-detect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_command: Option<String>,
    /// Component version, as the single-`[component]` form writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

fn current_dir() -> String {
    ".".to_string()
}

/// `[registry]` — registry configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// Default OCI registry URL for `torvyn publish` (default "").
    pub default: String,
}
