//! Torvyn.toml: typed configuration, layered loading and precise errors.
//!
//! ```no_run
//! use std::path::Path;
//! use torvyn_runtime::config::{LayerSources, Manifest};
//!
//! # fn main() -> Result<(), torvyn_runtime::config::ConfigError> {
//! let sources = LayerSources::from_process(vec!["runtime.fuel_per_invocation=0".into()]);
//! let manifest = Manifest::load_layered(Path::new("Torvyn.toml"), sources)?;
//! let (name, flow) = manifest.flow(None)?; // the first flow in the file
//! for (node, def) in flow.nodes() {
//!     println!("{name}.{node}: {} ({})", def.component, def.interface);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Loading parses each layer into a tree that remembers where every key
//! and value was written, rewrites the spec's alternative spellings into
//! one form, merges the layers (defaults < user config < manifest <
//! `TORVYN_*` environment < `--config`), checks the result against the
//! schema and only then deserializes it. Errors carry stable codes:
//! E0001 (no manifest), E0002 (TOML syntax), E0700 (wrong type), E0701
//! (unknown field, with the nearest valid name), E0702 (invalid value).

// Loading runs once per command and its errors carry locations and
// suggestions; their size does not matter, their detail does.
#![allow(clippy::result_large_err)]

mod capabilities;
mod error;
mod flow;
mod jsonschema;
mod layers;
mod manifest;
mod normalize;
mod observability;
mod project;
mod runtime;
mod schema;
mod security;
pub(crate) mod semantic;
mod suggest;
mod tree;
mod units;
mod validate;

#[cfg(test)]
mod key_usage;
#[cfg(test)]
mod tests;

pub use capabilities::{CapabilitiesConfig, TorvynCapabilities};
pub use error::{ConfigError, Origin};
pub use flow::{
    default_stream_name, EdgeDef, Endpoint, FanOutMode, FlowDef, FlowRestartDef, MergeMode,
    NodeDef, OnErrorDef, ResolvedBackpressure, RestartDef, StrategyDef, StreamBackpressure,
    SupervisionDef,
};
pub use jsonschema::{component_schema, pipeline_schema};
pub use layers::{default_user_config_path, LayerSources};
pub use manifest::Manifest;
pub use observability::{ObservabilityConfig, ObservabilityLevel, TracingExporter};
pub use project::{ComponentDecl, Language, ProjectMeta, RegistryConfig};
pub use runtime::{
    BackpressureConfig, BackpressurePolicy, ExhaustionPolicy, PoolConfig, RuntimeConfig,
};
pub use security::{AuditTarget, CapabilityGrant, CapabilityPolicy, SecurityConfig};
pub(crate) use suggest::nearest;
pub use units::{format_size, parse_duration, parse_size, ByteSize, UnitError};
