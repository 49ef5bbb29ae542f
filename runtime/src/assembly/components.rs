//! Resolving a node's `component` to a .wasm file: a `file://` path or a
//! bare `.wasm` path is used as is; the name of a `[[component]]` is built
//! by its language's toolchain ([`super::toolchains`], release profile)
//! when its .wasm is missing or older than its sources (like `cargo run`).

use super::toolchains::{artifact_path, build_component, Profile};
use super::Observer;
use crate::config::{ComponentDecl, Manifest};
use crate::error::{Coded, ErrorCode};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A component could not be located or built.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Neither a file nor a declared component.
    #[error("node `{node}` refers to component `{reference}`, which is neither a .wasm file nor a declared [[component]]")]
    Unknown {
        /// Node name.
        node: String,
        /// The `component` value.
        reference: String,
        /// Declared component names.
        declared: Vec<String>,
    },
    /// A `builtin:` node this host does not provide.
    #[error("node `{node}` uses the built-in node `{reference}`, which this version of Torvyn does not provide yet")]
    Builtin {
        /// Node name.
        node: String,
        /// The `component` value.
        reference: String,
    },
    /// A `file://` path that does not exist.
    #[error("node `{node}`: component file {} does not exist", path.display())]
    MissingFile {
        /// Node name.
        node: String,
        /// The path.
        path: PathBuf,
    },
    /// Building the component failed.
    #[error("component `{component}` failed to build: {reason}")]
    BuildFailed {
        /// Component name.
        component: String,
        /// Why.
        reason: String,
    },
    /// The component's toolchain (cargo, componentize-py) is missing.
    #[error("cannot run `{tool}` to build component `{component}`: {reason}")]
    Toolchain {
        /// Component name.
        component: String,
        /// The program that could not run.
        tool: &'static str,
        /// Why.
        reason: String,
        /// How to install it.
        fix: String,
    },
    /// A language Torvyn has no toolchain for, and no `build_command`.
    #[error("component `{component}` is written in {language}, which Torvyn cannot build yet (it supports rust and python)")]
    Unsupported {
        /// Component name.
        component: String,
        /// Its `language`.
        language: &'static str,
    },
}

impl Coded for ResolveError {
    fn code(&self) -> ErrorCode {
        match self {
            ResolveError::Toolchain { .. } | ResolveError::Unsupported { .. } => {
                ErrorCode::ToolchainMissing
            }
            _ => ErrorCode::ComponentNotFound,
        }
    }

    fn location(&self) -> Option<String> {
        match self {
            ResolveError::Unknown { node, .. }
            | ResolveError::Builtin { node, .. }
            | ResolveError::MissingFile { node, .. } => {
                Some(format!("node `{node}` in Torvyn.toml"))
            }
            ResolveError::BuildFailed { component, .. }
            | ResolveError::Toolchain { component, .. }
            | ResolveError::Unsupported { component, .. } => {
                Some(format!("[[component]] `{component}`"))
            }
        }
    }

    fn help(&self) -> String {
        match self {
            ResolveError::Unknown { declared, .. } if declared.is_empty() => {
                "use `file://path/to/component.wasm`, or declare the component in a [[component]] table".into()
            }
            ResolveError::Unknown { declared, .. } => format!(
                "use `file://path/to/component.wasm`, or one of the declared components: {}",
                declared.join(", ")
            ),
            ResolveError::Builtin { .. } => {
                "use a component for this node instead (`file://path/to/component.wasm` or a [[component]]); the full-pipeline template (`torvyn init --template full-pipeline`) has a source and a sink of its own".into()
            }
            ResolveError::MissingFile { .. } => {
                "build the component first (`cargo build --release --target wasm32-wasip2`) or fix the path".into()
            }
            ResolveError::BuildFailed { .. } => "fix the compiler errors above, then run again".into(),
            ResolveError::Toolchain { fix, .. } => fix.clone(),
            ResolveError::Unsupported { language, .. } => format!(
                "write it in Rust or Python, or set `build_command` in its [[component]] to a command that writes the component to `$TORVYN_ARTIFACT` (target/{language}/<name>.wasm)"
            ),
        }
    }
}

/// Resolves node components relative to the project root.
pub struct ComponentResolver<'a> {
    root: &'a Path,
    manifest: &'a Manifest,
    observer: &'a dyn Observer,
}

impl<'a> ComponentResolver<'a> {
    /// Resolves against `manifest` (at `root`), telling `observer` about
    /// the builds it starts.
    pub fn new(root: &'a Path, manifest: &'a Manifest, observer: &'a dyn Observer) -> Self {
        Self {
            root,
            manifest,
            observer,
        }
    }

    /// The .wasm file for `node`'s `reference`, building it if needed.
    pub fn resolve(&self, node: &str, reference: &str) -> Result<PathBuf, ResolveError> {
        if reference.starts_with("builtin:") {
            return Err(ResolveError::Builtin {
                node: node.to_string(),
                reference: reference.to_string(),
            });
        }
        if let Some(path) = reference.strip_prefix("file://") {
            return self.existing(node, self.root.join(path));
        }
        if let Some(decl) = self.manifest.component(reference) {
            return self.build(decl);
        }
        if reference.ends_with(".wasm") {
            return self.existing(node, self.root.join(reference));
        }
        Err(ResolveError::Unknown {
            node: node.to_string(),
            reference: reference.to_string(),
            declared: self
                .manifest
                .components
                .iter()
                .map(|c| c.name.clone())
                .collect(),
        })
    }

    fn existing(&self, node: &str, path: PathBuf) -> Result<PathBuf, ResolveError> {
        if path.is_file() {
            Ok(path)
        } else {
            Err(ResolveError::MissingFile {
                node: node.to_string(),
                path,
            })
        }
    }

    fn build(&self, decl: &ComponentDecl) -> Result<PathBuf, ResolveError> {
        let dir = self.root.join(&decl.path);
        let wasm = artifact_path(self.root, decl, Profile::Release)?;
        let mut inputs = vec![dir];
        let project_wit = self.root.join("wit");
        if project_wit.is_dir() {
            inputs.push(project_wit);
        }
        if is_fresh(&wasm, &inputs) {
            return Ok(wasm);
        }
        build_component(self.root, decl, Profile::Release, self.observer)
    }
}

/// Whether `wasm` exists and is newer than every file under `inputs`
/// (build output and hidden directories excluded).
fn is_fresh(wasm: &Path, inputs: &[PathBuf]) -> bool {
    let Some(built) = std::fs::metadata(wasm).and_then(|m| m.modified()).ok() else {
        return false;
    };
    inputs
        .iter()
        .all(|dir| newest_mtime(dir).is_none_or(|newest| newest <= built))
}

fn newest_mtime(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_file() {
        return meta.modified().ok();
    }
    let mut newest = None;
    for entry in std::fs::read_dir(path).ok()?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if let Some(t) = newest_mtime(&entry.path()) {
            newest = newest.max(Some(t));
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::Quiet;

    fn manifest() -> Manifest {
        let text = "[torvyn]\nname = \"x\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n";
        Manifest::from_str_at(text, Path::new("Torvyn.toml")).expect("parses")
    }

    #[test]
    fn a_builtin_node_is_refused_with_its_own_message_and_e0210() {
        let manifest = manifest();
        let resolver = ComponentResolver::new(Path::new("."), &manifest, &Quiet);
        let error = resolver
            .resolve("source", "builtin:test-source")
            .expect_err("not provided");
        assert_eq!(error.code(), ErrorCode::ComponentNotFound);
        assert!(
            error
                .to_string()
                .contains("built-in node `builtin:test-source`"),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_reference_lists_what_is_declared() {
        let manifest = manifest();
        let resolver = ComponentResolver::new(Path::new("."), &manifest, &Quiet);
        let error = resolver.resolve("a", "nosuch").expect_err("unknown");
        assert!(matches!(error, ResolveError::Unknown { .. }), "{error}");
        let missing = resolver
            .resolve("a", "file://nosuch.wasm")
            .expect_err("missing");
        assert!(
            matches!(missing, ResolveError::MissingFile { .. }),
            "{missing}"
        );
    }
}
