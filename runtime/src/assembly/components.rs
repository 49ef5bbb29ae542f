//! Resolving a node's `component` to a .wasm file: a `file://` path or a
//! bare `.wasm` path is used as is; the name of a `[[component]]` is built
//! with `cargo build --release --target wasm32-wasip2` in its `path` when
//! its .wasm is missing or older than its sources (like `cargo run`).
//! [`build_component`] and [`artifact_path`] are what `torvyn build` uses,
//! for either cargo profile.

use super::Observer;
use crate::config::{ComponentDecl, Manifest};
use crate::error::{Coded, ErrorCode};
use std::path::{Path, PathBuf};
use std::process::Command;
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
    /// An `oci://` component could not be pulled or verified.
    #[error("node `{node}`: {error}")]
    Registry {
        /// Node name.
        node: String,
        /// Why (E0210 unreachable or missing, E0600 invalid, E0601 auth, …).
        error: Box<crate::packaging::PackagingError>,
    },
    /// cargo is not installed.
    #[error("cannot run `cargo` to build component `{component}`: {reason}")]
    Toolchain {
        /// Component name.
        component: String,
        /// Why.
        reason: String,
    },
}

impl Coded for ResolveError {
    fn code(&self) -> ErrorCode {
        match self {
            ResolveError::Toolchain { .. } => ErrorCode::ToolchainMissing,
            ResolveError::Registry { error, .. } => error.code(),
            _ => ErrorCode::ComponentNotFound,
        }
    }

    fn location(&self) -> Option<String> {
        match self {
            ResolveError::Unknown { node, .. }
            | ResolveError::Builtin { node, .. }
            | ResolveError::MissingFile { node, .. }
            | ResolveError::Registry { node, .. } => Some(format!("node `{node}` in Torvyn.toml")),
            ResolveError::BuildFailed { component, .. }
            | ResolveError::Toolchain { component, .. } => {
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
            ResolveError::Registry { error, .. } => error.help(),
            ResolveError::BuildFailed { .. } => "fix the compiler errors above, then run again".into(),
            ResolveError::Toolchain { .. } => {
                "install Rust and the wasm32-wasip2 target: `rustup target add wasm32-wasip2`".into()
            }
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
        if reference.starts_with(crate::packaging::reference::SCHEME) {
            return crate::packaging::pull::pull_node(
                node,
                reference,
                self.root,
                &self.manifest.security,
                self.observer,
            );
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

/// The cargo profile a component is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `cargo build` (`target/wasm32-wasip2/debug`).
    Debug,
    /// `cargo build --release` (`target/wasm32-wasip2/release`).
    Release,
}

impl Profile {
    /// The profile's folder under `target/wasm32-wasip2/`.
    pub fn dir_name(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

/// Where building `decl` (declared in the project at `root`) with
/// `profile` writes its .wasm, from `cargo metadata`.
pub fn artifact_path(
    root: &Path,
    decl: &ComponentDecl,
    profile: Profile,
) -> Result<PathBuf, ResolveError> {
    let dir = root.join(&decl.path);
    if !dir.join("Cargo.toml").is_file() && decl.build_command.is_none() {
        return Err(ResolveError::BuildFailed {
            component: decl.name.clone(),
            reason: format!(
                "{} has no Cargo.toml and no build_command is set",
                dir.display()
            ),
        });
    }
    expected_wasm(&dir, profile).map_err(|reason| match reason {
        MetadataError::NoCargo(reason) => ResolveError::Toolchain {
            component: decl.name.clone(),
            reason,
        },
        MetadataError::Other(reason) => ResolveError::BuildFailed {
            component: decl.name.clone(),
            reason,
        },
    })
}

/// Builds `decl` with its `build_command`, or else with `cargo build
/// --target wasm32-wasip2` (`--release` for [`Profile::Release`]) in its
/// `path`, whether or not its .wasm is fresh; the .wasm it wrote. The
/// compiler's diagnostics go to stderr.
pub fn build_component(
    root: &Path,
    decl: &ComponentDecl,
    profile: Profile,
    observer: &dyn Observer,
) -> Result<PathBuf, ResolveError> {
    let dir = root.join(&decl.path);
    let wasm = artifact_path(root, decl, profile)?;
    let failed = |reason: String| ResolveError::BuildFailed {
        component: decl.name.clone(),
        reason,
    };
    observer.status(&format!(
        "Building component `{}` ({})",
        decl.name,
        dir.display()
    ));
    let status = match &decl.build_command {
        Some(command) => Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(&dir)
            .status(),
        None => {
            let mut cargo = Command::new(cargo());
            cargo.args(["build", "--target", WASM_TARGET]);
            if profile == Profile::Release {
                cargo.arg("--release");
            }
            cargo
                .current_dir(&dir)
                .stdout(std::process::Stdio::null())
                .status()
        }
    }
    .map_err(|e| ResolveError::Toolchain {
        component: decl.name.clone(),
        reason: e.to_string(),
    })?;
    if !status.success() {
        if decl.build_command.is_none() && !wasm_target_installed(&dir) {
            return Err(ResolveError::Toolchain {
                component: decl.name.clone(),
                reason: format!("the Rust target `{WASM_TARGET}` is not installed"),
            });
        }
        return Err(failed(format!("the build exited with {status}")));
    }
    if !wasm.is_file() {
        return Err(failed(format!(
            "the build succeeded but produced no {}",
            wasm.display()
        )));
    }
    Ok(wasm)
}

/// The Rust target components are built for.
const WASM_TARGET: &str = "wasm32-wasip2";

/// Whether the toolchain used in `dir` has the standard library of
/// [`WASM_TARGET`] (`rustc --print target-libdir` names an existing folder).
fn wasm_target_installed(dir: &Path) -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new(rustc)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| Path::new(String::from_utf8_lossy(&o.stdout).trim()).is_dir())
}

enum MetadataError {
    NoCargo(String),
    Other(String),
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// `<target dir>/wasm32-wasip2/<profile>/<lib name>.wasm`, from `cargo metadata`.
fn expected_wasm(dir: &Path, profile: Profile) -> Result<PathBuf, MetadataError> {
    let manifest_path = dir.join("Cargo.toml");
    let output = Command::new(cargo())
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(&manifest_path)
        .output()
        .map_err(|e| MetadataError::NoCargo(e.to_string()))?;
    if !output.status.success() {
        return Err(MetadataError::Other(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ));
    }
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| MetadataError::Other(format!("unreadable cargo metadata: {e}")))?;
    let target_dir = meta["target_directory"]
        .as_str()
        .ok_or_else(|| MetadataError::Other("cargo metadata has no target_directory".into()))?;
    let canonical = std::fs::canonicalize(&manifest_path).unwrap_or(manifest_path);
    let package = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["manifest_path"].as_str().map(Path::new) == Some(canonical.as_path()))
        .ok_or_else(|| {
            MetadataError::Other(format!(
                "cargo metadata does not list {}",
                canonical.display()
            ))
        })?;
    let lib = package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .ok_or_else(|| {
            MetadataError::Other(
                "the package has no cdylib target (add `crate-type = [\"cdylib\"]`)".into(),
            )
        })?;
    let name = lib["name"].as_str().unwrap_or_default().replace('-', "_");
    Ok(Path::new(target_dir)
        .join(WASM_TARGET)
        .join(profile.dir_name())
        .join(format!("{name}.wasm")))
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
    fn a_malformed_oci_reference_is_refused_before_any_network_use() {
        let manifest = manifest();
        let resolver = ComponentResolver::new(Path::new("."), &manifest, &Quiet);
        let error = resolver
            .resolve("t", "oci://127.0.0.1:5000/upper")
            .expect_err("no tag");
        assert!(matches!(error, ResolveError::Registry { .. }), "{error}");
        assert_eq!(error.code(), ErrorCode::ConstraintViolation);
        assert!(error.to_string().contains("name a tag"), "{error}");
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
