//! Resolving a node's `component` to a .wasm file: a `file://` path or a
//! bare `.wasm` path is used as is; the name of a `[[component]]` is built
//! by its language's toolchain ([`super::toolchains`], release profile)
//! when its .wasm is missing or older than its sources (like `cargo run`).

use super::toolchains::{artifact_path, build_component, Profile};
use super::Observer;
use crate::config::{ComponentDecl, Language, Manifest, NodeDef};
use crate::connectors::{ConnectorKind, ConnectorSpec, Settings, SettingsError, SCHEME};
use crate::engine::TorvynInterface;
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
    /// A `builtin:` reference to no connector the host provides.
    #[error("node `{node}` refers to `{reference}`, which is not a built-in connector")]
    UnknownConnector {
        /// Node name.
        node: String,
        /// The `component` value.
        reference: String,
    },
    /// A built-in connector's `config` is invalid.
    #[error("node `{node}` ({reference}): {reason}")]
    ConnectorSettings {
        /// Node name.
        node: String,
        /// The `component` value.
        reference: String,
        /// What is wrong.
        reason: String,
    },
    /// A built-in connector declared with an interface it does not play.
    #[error("node `{node}` declares interface {declared}, but `{reference}` is a {plays}")]
    ConnectorRole {
        /// Node name.
        node: String,
        /// The `component` value.
        reference: String,
        /// The interface the connector plays.
        plays: TorvynInterface,
        /// The node's `interface`.
        declared: String,
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
    /// A security event about the node could not be audited.
    #[error("node `{node}`: {error}")]
    Audit {
        /// Node name.
        node: String,
        /// Why (E0510).
        error: Box<crate::security::SecurityError>,
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
            ResolveError::Registry { error, .. } => error.code(),
            ResolveError::Audit { error, .. } => error.code(),
            ResolveError::ConnectorSettings { .. } => ErrorCode::ConstraintViolation,
            ResolveError::ConnectorRole { .. } => ErrorCode::TopologyInvalid,
            _ => ErrorCode::ComponentNotFound,
        }
    }

    fn location(&self) -> Option<String> {
        match self {
            ResolveError::Unknown { node, .. }
            | ResolveError::UnknownConnector { node, .. }
            | ResolveError::ConnectorSettings { node, .. }
            | ResolveError::ConnectorRole { node, .. }
            | ResolveError::MissingFile { node, .. }
            | ResolveError::Registry { node, .. }
            | ResolveError::Audit { node, .. } => Some(format!("node `{node}` in Torvyn.toml")),
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
            ResolveError::UnknownConnector { .. } => format!(
                "the host provides {}",
                ConnectorKind::all_references()
            ),
            ResolveError::ConnectorSettings { .. } => {
                "fix the node's `config`: a JSON object of the connector's settings, for example '{\"count\": 10}'".into()
            }
            ResolveError::ConnectorRole { plays, .. } => {
                format!("declare `interface = \"{plays}\"` for this node")
            }
            ResolveError::MissingFile { .. } => {
                "build the component first (`cargo build --release --target wasm32-wasip2`) or fix the path".into()
            }
            ResolveError::Registry { error, .. } => error.help(),
            ResolveError::Audit { error, .. } => error.help(),
            ResolveError::BuildFailed { .. } => "fix the compiler errors above, then run again".into(),
            ResolveError::Toolchain { fix, .. } => fix.clone(),
            ResolveError::Unsupported { language, .. } => format!(
                "write it in Rust or Python, or set `build_command` in its [[component]] to a command that writes the component to `$TORVYN_ARTIFACT` (target/{language}/<name>.wasm)"
            ),
        }
    }
}

/// What runs a node.
#[derive(Debug, Clone)]
pub enum NodeComponent {
    /// A component's .wasm file.
    Wasm(PathBuf),
    /// A built-in connector, its settings read.
    Connector(ConnectorSpec),
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

    /// What runs node `node` (`def`): a built-in connector with its
    /// settings checked, or a .wasm file (built if needed).
    pub fn resolve_node(&self, node: &str, def: &NodeDef) -> Result<NodeComponent, ResolveError> {
        if !def.component.starts_with(SCHEME) {
            return self.resolve(node, &def.component).map(NodeComponent::Wasm);
        }
        let reference = def.component.clone();
        let Some(kind) = ConnectorKind::from_reference(&reference) else {
            return Err(ResolveError::UnknownConnector {
                node: node.to_string(),
                reference,
            });
        };
        let plays = kind.interface();
        if TorvynInterface::from_wit_name(&def.interface) != Some(plays) {
            return Err(ResolveError::ConnectorRole {
                node: node.to_string(),
                reference,
                plays,
                declared: def.interface.clone(),
            });
        }
        let settings_error = |e: SettingsError| ResolveError::ConnectorSettings {
            node: node.to_string(),
            reference: reference.clone(),
            reason: e.0,
        };
        let settings = Settings::from_json(&def.config).map_err(settings_error)?;
        ConnectorSpec::new(kind, settings, self.root)
            .map(NodeComponent::Connector)
            .map_err(settings_error)
    }

    /// Whether node `node`'s component can be found, without building or
    /// reading it (`torvyn check`): a built-in connector with valid
    /// settings, an existing `file://` or `.wasm` path, or a declared
    /// `[[component]]`. Registry references are parsed, not looked up.
    pub fn locate(&self, node: &str, def: &NodeDef) -> Result<(), ResolveError> {
        let reference = def.component.as_str();
        if reference.starts_with(SCHEME) {
            return self.resolve_node(node, def).map(|_| ());
        }
        if reference.starts_with(crate::packaging::reference::SCHEME) {
            return crate::packaging::OciReference::parse(reference)
                .map(|_| ())
                .map_err(|e| ResolveError::Registry {
                    node: node.to_string(),
                    error: Box::new(e.into()),
                });
        }
        if self.manifest.component(reference).is_some() {
            return Ok(());
        }
        match reference.strip_prefix("file://") {
            Some(path) => self.existing(node, self.root.join(path)).map(|_| ()),
            None if reference.ends_with(".wasm") => {
                self.existing(node, self.root.join(reference)).map(|_| ())
            }
            None => Err(self.unknown(node, reference)),
        }
    }

    /// The .wasm file for `node`'s `reference`, building it if needed.
    pub fn resolve(&self, node: &str, reference: &str) -> Result<PathBuf, ResolveError> {
        if reference.starts_with(SCHEME) {
            return Err(ResolveError::UnknownConnector {
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
        Err(self.unknown(node, reference))
    }

    /// `reference` is neither a file nor a declared component.
    fn unknown(&self, node: &str, reference: &str) -> ResolveError {
        ResolveError::Unknown {
            node: node.to_string(),
            reference: reference.to_string(),
            declared: self
                .manifest
                .components
                .iter()
                .map(|c| c.name.clone())
                .collect(),
        }
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

    /// The release .wasm when it is fresh; else a fresh debug one (what
    /// `torvyn build` just made: no second build of the same sources);
    /// else a new release build.
    fn build(&self, decl: &ComponentDecl) -> Result<PathBuf, ResolveError> {
        let dir = self.root.join(&decl.path);
        let mut inputs = vec![dir];
        let project_wit = self.root.join("wit");
        if project_wit.is_dir() {
            inputs.push(project_wit);
        }
        for profile in [Profile::Release, Profile::Debug] {
            let wasm = artifact_path(self.root, decl, profile)?;
            if !is_fresh(&wasm, &inputs) {
                continue;
            }
            if profile == Profile::Debug && decl.language == Language::Rust {
                self.observer.status(&format!(
                    "Using the debug build of `{}` (`torvyn build --release` for an optimized one)",
                    decl.name
                ));
            }
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

    fn node(component: &str, interface: &str, config: &str) -> NodeDef {
        let text =
            format!("component = {component:?}\ninterface = {interface:?}\nconfig = {config:?}\n");
        toml::from_str(&text).expect("a node")
    }

    #[test]
    fn a_builtin_node_resolves_to_its_connector() {
        let manifest = manifest();
        let resolver = ComponentResolver::new(Path::new("."), &manifest, &Quiet);
        let resolved = resolver
            .resolve_node(
                "source",
                &node(
                    "builtin:test-source",
                    "torvyn:streaming/source",
                    r#"{"count": 3}"#,
                ),
            )
            .expect("resolves");
        assert!(
            matches!(&resolved, NodeComponent::Connector(spec) if spec.kind() == ConnectorKind::TestSource),
            "{resolved:?}"
        );
    }

    #[test]
    fn builtin_nodes_with_a_bad_name_role_or_config_get_their_own_codes() {
        let manifest = manifest();
        let resolver = ComponentResolver::new(Path::new("."), &manifest, &Quiet);
        let unknown = resolver
            .resolve_node("s", &node("builtin:nope", "torvyn:streaming/source", ""))
            .expect_err("unknown");
        assert_eq!(unknown.code(), ErrorCode::ComponentNotFound);
        assert!(
            unknown.help().contains("builtin:test-source"),
            "{}",
            unknown.help()
        );
        let role = resolver
            .resolve_node(
                "s",
                &node("builtin:stdout-sink", "torvyn:streaming/processor", ""),
            )
            .expect_err("a sink is no processor");
        assert_eq!(role.code(), ErrorCode::TopologyInvalid);
        assert!(
            role.help().contains("torvyn:streaming/sink"),
            "{}",
            role.help()
        );
        let config = resolver
            .resolve_node(
                "s",
                &node(
                    "builtin:test-source",
                    "torvyn:streaming/source",
                    "{\"cout\": 1}",
                ),
            )
            .expect_err("bad key");
        assert_eq!(config.code(), ErrorCode::ConstraintViolation);
        assert!(
            config.to_string().contains("unknown setting `cout`"),
            "{config}"
        );
    }

    #[test]
    fn check_parses_oci_references_without_pulling_them() {
        let manifest = manifest();
        let resolver = ComponentResolver::new(Path::new("."), &manifest, &Quiet);
        let processor = "torvyn:streaming/processor";
        resolver
            .locate("t", &node("oci://127.0.0.1:1/upper:1.0.0", processor, ""))
            .expect("well-formed: not looked up");
        let error = resolver
            .locate("t", &node("oci://127.0.0.1:1/Upper:1.0.0", processor, ""))
            .expect_err("malformed");
        assert_eq!(error.code(), ErrorCode::ConstraintViolation);
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
