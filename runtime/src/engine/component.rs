//! Loading a component: read the .wasm, hash it (SHA-256), reuse a cached
//! compilation (in memory, then on disk) or compile it, pre-link it against
//! the host, and find which Torvyn interfaces it exports.

use super::bindings::{
    aggregator, batch_processor, batch_sink, batch_source, filter, lifecycle, processor, router,
    sink, source,
};
use super::error::EngineError;
use super::state::ComponentState;
use super::WasmEngine;
use sha2::{Digest, Sha256};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::component::{Component, InstancePre};

/// A Torvyn interface a component can export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TorvynInterface {
    /// `torvyn:streaming/source`
    Source,
    /// `torvyn:streaming/processor`
    Processor,
    /// `torvyn:streaming/sink`
    Sink,
    /// `torvyn:streaming/lifecycle`
    Lifecycle,
    /// `torvyn:filtering/filter`
    Filter,
    /// `torvyn:filtering/router`
    Router,
    /// `torvyn:aggregation/aggregator`
    Aggregator,
    /// `torvyn:batching/batch-processor`: the batch form of `processor`.
    BatchProcessor,
    /// `torvyn:batching/batch-source`: the batch form of `source`.
    BatchSource,
    /// `torvyn:batching/batch-sink`: the batch form of `sink`.
    BatchSink,
}

impl TorvynInterface {
    /// Every interface.
    pub const ALL: [TorvynInterface; 10] = [
        TorvynInterface::Source,
        TorvynInterface::Processor,
        TorvynInterface::Sink,
        TorvynInterface::Lifecycle,
        TorvynInterface::Filter,
        TorvynInterface::Router,
        TorvynInterface::Aggregator,
        TorvynInterface::BatchProcessor,
        TorvynInterface::BatchSource,
        TorvynInterface::BatchSink,
    ];

    /// The unversioned WIT name: `torvyn:streaming/source`.
    pub const fn wit_name(self) -> &'static str {
        match self {
            TorvynInterface::Source => "torvyn:streaming/source",
            TorvynInterface::Processor => "torvyn:streaming/processor",
            TorvynInterface::Sink => "torvyn:streaming/sink",
            TorvynInterface::Lifecycle => "torvyn:streaming/lifecycle",
            TorvynInterface::Filter => "torvyn:filtering/filter",
            TorvynInterface::Router => "torvyn:filtering/router",
            TorvynInterface::Aggregator => "torvyn:aggregation/aggregator",
            TorvynInterface::BatchProcessor => "torvyn:batching/batch-processor",
            TorvynInterface::BatchSource => "torvyn:batching/batch-source",
            TorvynInterface::BatchSink => "torvyn:batching/batch-sink",
        }
    }

    /// The batch form of a per-element interface, if it has one.
    pub const fn batch_form(self) -> Option<TorvynInterface> {
        match self {
            TorvynInterface::Processor => Some(TorvynInterface::BatchProcessor),
            TorvynInterface::Source => Some(TorvynInterface::BatchSource),
            TorvynInterface::Sink => Some(TorvynInterface::BatchSink),
            _ => None,
        }
    }

    /// The per-element interface a batch form belongs to.
    pub const fn role_of_batch_form(self) -> Option<TorvynInterface> {
        match self {
            TorvynInterface::BatchProcessor => Some(TorvynInterface::Processor),
            TorvynInterface::BatchSource => Some(TorvynInterface::Source),
            TorvynInterface::BatchSink => Some(TorvynInterface::Sink),
            _ => None,
        }
    }

    /// Whether this is a batch form (an optional addition to the
    /// per-element interface of its role, never a role of its own).
    pub const fn is_batch(self) -> bool {
        matches!(
            self,
            TorvynInterface::BatchProcessor
                | TorvynInterface::BatchSource
                | TorvynInterface::BatchSink
        )
    }

    /// "unknown interface `x`", with the nearest processing interface's
    /// name when `declared` looks like a typo of it.
    pub fn unknown(declared: &str) -> String {
        if let Some(role) = Self::from_wit_name(declared).and_then(Self::role_of_batch_form) {
            return format!(
                "`{declared}` is a batch form, not a role: declare `{role}` (the runtime calls the batch form when the component exports it too)"
            );
        }
        let names = Self::ALL
            .into_iter()
            .filter(|i| i.is_processing())
            .map(Self::wit_name);
        let unversioned = declared.split('@').next().unwrap_or(declared);
        match crate::config::nearest(unversioned, names) {
            Some(near) => format!("unknown interface `{declared}` (did you mean `{near}`?)"),
            None => format!("unknown interface `{declared}`"),
        }
    }

    /// Parses `torvyn:streaming/source` or `torvyn:streaming/source@0.1.0`.
    pub fn from_wit_name(name: &str) -> Option<Self> {
        let unversioned = name.split('@').next().unwrap_or(name);
        TorvynInterface::ALL
            .into_iter()
            .find(|i| i.wit_name() == unversioned)
    }

    /// Whether this interface is a stage role (everything but lifecycle
    /// and the batch forms).
    pub const fn is_processing(self) -> bool {
        !matches!(self, TorvynInterface::Lifecycle) && !self.is_batch()
    }

    const fn bit(self) -> u16 {
        1 << self as u8
    }
}

impl fmt::Display for TorvynInterface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wit_name())
    }
}

/// The set of Torvyn interfaces a component exports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportSet(u16);

impl ExportSet {
    /// Whether `interface` is exported.
    pub fn contains(self, interface: TorvynInterface) -> bool {
        self.0 & interface.bit() != 0
    }

    fn insert(&mut self, interface: TorvynInterface) {
        self.0 |= interface.bit();
    }

    /// The set holding `interface` alone (what a built-in connector plays).
    pub fn only(interface: TorvynInterface) -> Self {
        let mut set = Self::default();
        set.insert(interface);
        set
    }

    /// Exported interfaces, in [`TorvynInterface::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = TorvynInterface> {
        TorvynInterface::ALL
            .into_iter()
            .filter(move |i| self.contains(*i))
    }

    /// Whether at least one processing interface is exported.
    pub fn has_processing(self) -> bool {
        self.iter().any(TorvynInterface::is_processing)
    }
}

/// Pre-resolved export indices, so instantiation does no string lookups.
#[derive(Clone)]
pub(crate) struct ExportIndices {
    pub source: Option<source::GuestIndices>,
    pub processor: Option<processor::GuestIndices>,
    pub sink: Option<sink::GuestIndices>,
    pub lifecycle: Option<lifecycle::GuestIndices>,
    pub filter: Option<filter::GuestIndices>,
    pub router: Option<router::GuestIndices>,
    pub aggregator: Option<aggregator::GuestIndices>,
    pub batch_processor: Option<batch_processor::GuestIndices>,
    pub batch_source: Option<batch_source::GuestIndices>,
    pub batch_sink: Option<batch_sink::GuestIndices>,
}

/// A compiled, pre-linked component ready to instantiate many times.
#[derive(Clone)]
pub struct CompiledComponent {
    pub(crate) path: PathBuf,
    pub(crate) sha256: [u8; 32],
    pub(crate) pre: InstancePre<ComponentState>,
    pub(crate) exports: ExportSet,
    /// Shared: clones of a compiled component (one per stage using it)
    /// stay small.
    pub(crate) indices: Arc<ExportIndices>,
}

impl CompiledComponent {
    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SHA-256 of the .wasm bytes, lower-case hex.
    pub fn digest(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The Torvyn interfaces it exports.
    pub fn exports(&self) -> ExportSet {
        self.exports
    }
}

impl WasmEngine {
    /// Loads, compiles (or reuses a cached compilation) and pre-links a component.
    pub fn load_component(&self, path: &Path) -> Result<CompiledComponent, EngineError> {
        let bytes = std::fs::read(path).map_err(|e| EngineError::NotFound {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();
        let component = self.compile_cached(path, &bytes, &sha256)?;
        let pre =
            self.linker()
                .instantiate_pre(&component)
                .map_err(|e| EngineError::Incompatible {
                    path: path.to_path_buf(),
                    reason: format!("{e:#}"),
                })?;
        let (exports, indices) = find_exports(self, path, &component, &pre)?;
        Ok(CompiledComponent {
            path: path.to_path_buf(),
            sha256,
            pre,
            exports,
            indices: Arc::new(indices),
        })
    }

    fn compile_cached(
        &self,
        path: &Path,
        bytes: &[u8],
        sha256: &[u8; 32],
    ) -> Result<Component, EngineError> {
        if let Ok(cache) = self.memory_cache().lock() {
            if let Some(component) = cache.get(sha256) {
                return Ok(component.clone());
            }
        }
        if !bytes.starts_with(b"\0asm") || bytes.get(4..8) != Some(&[0x0d, 0x00, 0x01, 0x00][..]) {
            let reason = if bytes.starts_with(b"\0asm") {
                "it is a core WebAssembly module, not a component".to_string()
            } else {
                "the file does not start with the WebAssembly magic number".to_string()
            };
            return Err(EngineError::NotAComponent {
                path: path.to_path_buf(),
                reason,
            });
        }
        let disk_path = self.disk_cache_path(sha256);
        let component = disk_path
            .as_deref()
            .and_then(|p| self.load_from_disk(p))
            .map(Ok)
            .unwrap_or_else(|| {
                let component = Component::new(self.engine(), bytes).map_err(|e| {
                    EngineError::NotAComponent {
                        path: path.to_path_buf(),
                        reason: format!("{e:#}"),
                    }
                })?;
                if let Some(p) = &disk_path {
                    store_on_disk(p, &component);
                }
                Ok(component)
            })?;
        if let Ok(mut cache) = self.memory_cache().lock() {
            cache.insert(*sha256, component.clone());
        }
        Ok(component)
    }

    /// `<cache_dir>/components/<sha256>-<engine hash>.cwasm`: keyed by the
    /// engine's compatibility hash so a different Wasmtime or configuration
    /// never loads an incompatible artifact.
    fn disk_cache_path(&self, sha256: &[u8; 32]) -> Option<PathBuf> {
        let dir = self.config().cache_dir.as_ref()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine()
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        let hex: String = sha256.iter().map(|b| format!("{b:02x}")).collect();
        Some(
            dir.join("components")
                .join(format!("{hex}-{:016x}.cwasm", hasher.finish())),
        )
    }

    fn load_from_disk(&self, path: &Path) -> Option<Component> {
        if !path.is_file() {
            return None;
        }
        // SAFETY: the cache directory is written only by `store_on_disk`
        // (write to a temporary file, then rename), with artifacts Wasmtime
        // serialized for an engine of the same compatibility hash, which is
        // part of the file name. Wasmtime still validates the header and
        // refuses artifacts from another version or configuration.
        match unsafe { Component::deserialize_file(self.engine(), path) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unusable cached component");
                None
            }
        }
    }
}

/// Best-effort: a cache write that fails only costs a recompilation later.
fn store_on_disk(path: &Path, component: &Component) {
    let Some(dir) = path.parent() else { return };
    let Ok(bytes) = component.serialize() else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = dir.join(format!(
        ".tmp-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

fn find_exports(
    engine: &WasmEngine,
    path: &Path,
    component: &Component,
    pre: &InstancePre<ComponentState>,
) -> Result<(ExportSet, ExportIndices), EngineError> {
    let mut set = ExportSet::default();
    let mut names = Vec::new();
    for (name, _) in component.component_type().exports(engine.engine()) {
        names.push(name.to_string());
        if let Some(interface) = TorvynInterface::from_wit_name(name) {
            set.insert(interface);
        }
    }
    if !set.has_processing() {
        return Err(EngineError::NoProcessingExport {
            path: path.to_path_buf(),
            found: if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            },
        });
    }
    let incompatible = |e: wasmtime::Error| EngineError::Incompatible {
        path: path.to_path_buf(),
        reason: format!("{e:#}"),
    };
    let has = |i| set.contains(i);
    let indices = ExportIndices {
        source: has(TorvynInterface::Source)
            .then(|| source::GuestIndices::new(pre))
            .transpose()
            .map_err(incompatible)?,
        processor: has(TorvynInterface::Processor)
            .then(|| processor::GuestIndices::new(pre))
            .transpose()
            .map_err(incompatible)?,
        sink: has(TorvynInterface::Sink)
            .then(|| sink::GuestIndices::new(pre))
            .transpose()
            .map_err(incompatible)?,
        lifecycle: has(TorvynInterface::Lifecycle)
            .then(|| lifecycle::GuestIndices::new(pre))
            .transpose()
            .map_err(incompatible)?,
        filter: has(TorvynInterface::Filter)
            .then(|| filter::GuestIndices::new(pre))
            .transpose()
            .map_err(incompatible)?,
        router: has(TorvynInterface::Router)
            .then(|| router::GuestIndices::new(pre))
            .transpose()
            .map_err(incompatible)?,
        aggregator: has(TorvynInterface::Aggregator)
            .then(|| aggregator::GuestIndices::new(pre))
            .transpose()
            .map_err(incompatible)?,
        batch_processor: has(TorvynInterface::BatchProcessor)
            .then(|| batch_processor::GuestIndices::new(pre))
            .transpose()
            .map_err(incompatible)?,
        batch_source: has(TorvynInterface::BatchSource)
            .then(|| batch_source::GuestIndices::new(pre))
            .transpose()
            .map_err(incompatible)?,
        batch_sink: has(TorvynInterface::BatchSink)
            .then(|| batch_sink::GuestIndices::new(pre))
            .transpose()
            .map_err(incompatible)?,
    };
    Ok((set, indices))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_parse_with_or_without_version() {
        assert_eq!(
            TorvynInterface::from_wit_name("torvyn:streaming/source"),
            Some(TorvynInterface::Source)
        );
        assert_eq!(
            TorvynInterface::from_wit_name("torvyn:filtering/router@0.1.0"),
            Some(TorvynInterface::Router)
        );
        assert_eq!(TorvynInterface::from_wit_name("wasi:cli/run@0.2.0"), None);
        assert_eq!(
            TorvynInterface::from_wit_name("torvyn:batching/batch-processor@0.1.0"),
            Some(TorvynInterface::BatchProcessor)
        );
    }

    #[test]
    fn batch_forms_are_additions_not_roles() {
        assert_eq!(
            TorvynInterface::Processor.batch_form(),
            Some(TorvynInterface::BatchProcessor)
        );
        assert_eq!(
            TorvynInterface::Sink.batch_form(),
            Some(TorvynInterface::BatchSink)
        );
        assert_eq!(TorvynInterface::Filter.batch_form(), None);
        let mut set = ExportSet::default();
        set.insert(TorvynInterface::BatchProcessor);
        assert!(
            !set.has_processing(),
            "a batch form alone plays no role: the per-element interface is required"
        );
        set.insert(TorvynInterface::Processor);
        assert!(set.has_processing());
        assert!(set.contains(TorvynInterface::BatchProcessor));
    }

    #[test]
    fn export_sets_know_processing_interfaces() {
        let mut set = ExportSet::default();
        set.insert(TorvynInterface::Lifecycle);
        assert!(!set.has_processing());
        set.insert(TorvynInterface::Sink);
        assert!(set.has_processing());
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![TorvynInterface::Sink, TorvynInterface::Lifecycle]
        );
    }

    #[test]
    fn an_unknown_interface_suggests_the_nearest_one() {
        assert_eq!(
            TorvynInterface::unknown("torvyn:streaming/procesor"),
            "unknown interface `torvyn:streaming/procesor` (did you mean `torvyn:streaming/processor`?)"
        );
        assert_eq!(
            TorvynInterface::unknown("wasi:cli/run"),
            "unknown interface `wasi:cli/run`"
        );
        assert!(TorvynInterface::unknown("torvyn:batching/batch-sink")
            .contains("declare `torvyn:streaming/sink`"));
    }
}
