//! [`Manifest`]: the whole Torvyn.toml, and how it is loaded.

use std::path::Path;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::capabilities::CapabilitiesConfig;
use super::error::{ConfigError, Origin};
use super::flow::{EdgeDef, FlowDef, ResolvedBackpressure};
use super::layers::{self, LayerSources};
use super::normalize::normalize_layer;
use super::observability::ObservabilityConfig;
use super::project::{ComponentDecl, ProjectMeta, RegistryConfig};
use super::runtime::RuntimeConfig;
use super::security::SecurityConfig;
use super::suggest::nearest;
use super::tree::Node;
use super::{semantic, validate};

/// A parsed, validated Torvyn.toml (pipeline or component manifest),
/// with every layer applied and every default filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `[torvyn]` — project metadata.
    pub torvyn: ProjectMeta,
    /// `[[component]]` — component declarations, in file order.
    #[serde(rename = "component", default)]
    #[schemars(extend("x-single-table" = true))]
    pub components: Vec<ComponentDecl>,
    /// `[flow.<name>]` — flows in file order; the first is the default.
    #[serde(rename = "flow", default)]
    pub flows: IndexMap<String, FlowDef>,
    /// `[runtime]`.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// `[observability]`.
    #[serde(default)]
    pub observability: ObservabilityConfig,
    /// `[security]`.
    #[serde(default)]
    pub security: SecurityConfig,
    /// `[registry]`.
    #[serde(default)]
    pub registry: RegistryConfig,
    /// `[capabilities]` (component manifests).
    #[serde(default)]
    pub capabilities: CapabilitiesConfig,
    /// Where each value was written; not part of the configuration.
    #[serde(skip)]
    sources: SourceMap,
}

/// The located tree a [`Manifest`] was built from.
#[derive(Debug, Clone, Default)]
struct SourceMap(Option<Node>);

impl PartialEq for SourceMap {
    /// Positions do not take part in equality: two manifests with the
    /// same values are equal wherever the values were written.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Manifest {
    /// Loads `path` on top of the built-in defaults, without the user
    /// config, environment or overrides (see [`Manifest::load_layered`]).
    pub fn load(path: &Path) -> Result<Manifest, ConfigError> {
        let text = layers::read_file(path)?;
        Manifest::from_str_at(&text, path)
    }

    /// Parses manifest text; `path` only names the file in locations.
    pub fn from_str_at(text: &str, path: &Path) -> Result<Manifest, ConfigError> {
        let mut root = Node::parse(text, path)?;
        normalize_layer(&mut root)?;
        Manifest::from_tree(root)
    }

    /// Loads `path` with every layer, lowest precedence first: built-in
    /// defaults, the user config, the manifest, `TORVYN_*` environment
    /// variables, `--config` overrides.
    pub fn load_layered(path: &Path, sources: LayerSources) -> Result<Manifest, ConfigError> {
        let text = layers::read_file(path)?;
        let mut project = Node::parse(&text, path)?;
        normalize_layer(&mut project)?;
        let user = match &sources.user_config {
            Some(user_path) => layers::user_layer(user_path)?,
            None => None,
        };
        let env = layers::env_layer(&sources.env)?;
        let overrides = layers::override_layer(&sources.overrides)?;

        let mut merged = Node::empty_table(Origin::file(path, None));
        for layer in user.into_iter().chain([project, env, overrides]) {
            merged.merge(layer);
        }
        Manifest::from_tree(merged)
    }

    fn from_tree(root: Node) -> Result<Manifest, ConfigError> {
        validate::check_manifest(&root)?;
        let mut manifest: Manifest =
            root.to_toml().try_into().map_err(|err: toml::de::Error| {
                ConfigError::InvalidValue {
                    field: String::new(),
                    reason: err.message().to_string(),
                    origin: root.origin.clone(),
                    hint: None,
                }
            })?;
        semantic::check(&manifest, &root)?;
        manifest.sources = SourceMap(Some(root));
        Ok(manifest)
    }

    /// The flow called `name`, or the first flow defined when `name` is
    /// `None` (what `torvyn run` does without `--flow`).
    pub fn flow(&self, name: Option<&str>) -> Result<(&str, &FlowDef), ConfigError> {
        match name {
            None => self
                .flows
                .first()
                .map(|(n, f)| (n.as_str(), f))
                .ok_or(ConfigError::NoFlows),
            Some(name) => match self.flows.get_key_value(name) {
                Some((n, f)) => Ok((n.as_str(), f)),
                None if self.flows.is_empty() => Err(ConfigError::NoFlows),
                None => Err(ConfigError::UnknownFlow {
                    name: name.to_string(),
                    available: self.flows.keys().cloned().collect(),
                    suggestion: nearest(name, self.flows.keys().map(String::as_str)),
                }),
            },
        }
    }

    /// The flow names in file order.
    pub fn flow_names(&self) -> impl Iterator<Item = &str> {
        self.flows.keys().map(String::as_str)
    }

    /// The `[[component]]` called `name`.
    pub fn component(&self, name: &str) -> Option<&ComponentDecl> {
        self.components.iter().find(|c| c.name == name)
    }

    /// The effective backpressure settings of `edge` of `flow`.
    pub fn stream_backpressure(&self, flow: &FlowDef, edge: &EdgeDef) -> ResolvedBackpressure {
        flow.stream_backpressure(edge, &self.runtime.backpressure)
    }

    /// Where the value at `path` was set — `Torvyn.toml:12:5`, an
    /// environment variable, a `--config` argument — for diagnostics
    /// about it. Keys step into tables, decimal indexes into arrays:
    /// `["flow", "main", "edges", "1", "to", "node"]`. `None` if the value
    /// was not written anywhere (a default) or the manifest was not loaded
    /// from text.
    pub fn location_of(&self, path: &[&str]) -> Option<String> {
        self.origin_of(path).map(|origin| origin.to_string())
    }

    /// Where the value at `path` was set, as [`Manifest::location_of`]
    /// says, for errors that carry an [`Origin`].
    pub fn origin_of(&self, path: &[&str]) -> Option<Origin> {
        let node = self.sources.0.as_ref()?.lookup(path)?;
        match &node.origin {
            Origin::Builtin => None,
            origin => Some(origin.clone()),
        }
    }
}
