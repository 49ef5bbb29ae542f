//! [`Project`]: a loaded Torvyn.toml (with its configuration layers) and
//! where it lives, so that relative paths in it resolve.

use super::error::coded;
use super::AssemblyError;
use crate::config::{FlowDef, LayerSources, Manifest};
use crate::contracts::{link_flow, LinkErrors, LinkInput, LinkedFlow};
use crate::engine::{EngineConfig, GuestOutputs, WasmEngine};
use crate::flow_config;
use crate::security::AuditLog;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A Torvyn project: its manifest and the directory it was read from.
#[derive(Debug, Clone)]
pub struct Project {
    manifest: Manifest,
    path: PathBuf,
    root: PathBuf,
}

impl Project {
    /// Loads `path` with every configuration layer (user config,
    /// `TORVYN_*` environment variables) and no `--config` overrides.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, AssemblyError> {
        Self::load_layered(path, LayerSources::from_process(Vec::new()))
    }

    /// Loads `path` with these layers (`torvyn run --config K=V` adds its
    /// overrides to [`LayerSources::from_process`]).
    pub fn load_layered(
        path: impl AsRef<Path>,
        sources: LayerSources,
    ) -> Result<Self, AssemblyError> {
        let path = path.as_ref();
        let manifest = Manifest::load_layered(path, sources).map_err(coded)?;
        Ok(Self::from_manifest(manifest, path))
    }

    /// A manifest already loaded from `path`.
    pub fn from_manifest(manifest: Manifest, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        let root = root_of(&path);
        Self {
            manifest,
            path,
            root,
        }
    }

    /// The loaded manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory holding the manifest: paths in it are relative to it.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The manifest's file name (`Torvyn.toml`, `pipeline.toml`, …).
    pub fn file_name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// Flow `wanted` (`name` or `flow.name`; default: the first defined).
    pub fn flow(&self, wanted: Option<&str>) -> Result<(&str, &FlowDef), AssemblyError> {
        let wanted = wanted.map(|f| f.strip_prefix("flow.").unwrap_or(f));
        self.manifest.flow(wanted).map_err(coded)
    }

    /// The names of every flow, in file order.
    pub fn flow_names(&self) -> impl Iterator<Item = &str> {
        self.manifest.flow_names()
    }

    /// The engine settings of `[runtime]`.
    pub fn engine_config(&self) -> EngineConfig {
        flow_config::engine_config(&self.manifest)
    }

    /// A new engine with the settings of `[runtime]`, its guests printing
    /// to `outputs` where it replaces the process's streams.
    pub fn engine(&self, outputs: GuestOutputs) -> Result<WasmEngine, AssemblyError> {
        WasmEngine::new(EngineConfig {
            guest_outputs: outputs,
            ..self.engine_config()
        })
        .map_err(coded)
    }

    /// The audit log `[security]` configures (under `.torvyn/` of the
    /// project), or a disabled one.
    pub fn audit_log(&self, enabled: bool) -> AuditLog {
        if enabled {
            AuditLog::for_project(&self.root, &self.manifest.security)
        } else {
            AuditLog::disabled()
        }
    }

    /// Links flow `flow_name` with its components (node name, .wasm):
    /// interfaces, versions, capabilities. With `audit`, each grant
    /// resolution is written to the audit log (`torvyn run` does; `torvyn
    /// link` alone does not).
    pub fn link(
        &self,
        flow_name: &str,
        flow: &FlowDef,
        components: &[(String, PathBuf)],
        audit: bool,
    ) -> Result<LinkedFlow, LinkErrors> {
        link_flow(&LinkInput {
            manifest: &self.manifest,
            project_root: &self.root,
            flow_name,
            flow,
            components,
            audit: Arc::new(self.audit_log(audit)),
        })
    }
}

/// The directory holding the manifest at `path` (`.` for a bare file
/// name): where paths written in it are relative to.
pub fn root_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Coded;

    const MANIFEST: &str = "[torvyn]\nname = \"x\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n[flow.main.nodes.a]\ncomponent = \"a\"\ninterface = \"torvyn:streaming/source\"\n";

    fn project_at(path: &str) -> Project {
        let manifest = Manifest::from_str_at(MANIFEST, Path::new(path)).expect("parses");
        Project::from_manifest(manifest, path)
    }

    #[test]
    fn paths_resolve_against_the_manifest_directory() {
        assert_eq!(project_at("Torvyn.toml").root(), Path::new("."));
        assert_eq!(project_at("demo/pipeline.toml").root(), Path::new("demo"));
        assert_eq!(
            project_at("demo/pipeline.toml").file_name(),
            "pipeline.toml"
        );
    }

    #[test]
    fn flows_are_found_with_or_without_their_prefix() {
        let project = project_at("Torvyn.toml");
        assert_eq!(project.flow(Some("flow.main")).expect("found").0, "main");
        assert_eq!(project.flow(None).expect("first").0, "main");
        let missing = project.flow(Some("other")).expect_err("no such flow");
        assert!(missing.to_string().contains("other"), "{missing}");
    }

    #[test]
    fn a_missing_manifest_is_e0001() {
        let error = Project::load("/nonexistent/Torvyn.toml").expect_err("missing");
        assert_eq!(error.code(), crate::error::ErrorCode::ManifestNotFound);
    }
}
