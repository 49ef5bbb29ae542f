//! `[capabilities.required]`, `[capabilities.optional]` and
//! `[capabilities.torvyn]` of a component manifest.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::units::ByteSize;

/// `[capabilities]` — what a component needs and can use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CapabilitiesConfig {
    /// Capability id → needed. The component does not link unless every
    /// `true` entry is granted.
    pub required: IndexMap<String, bool>,
    /// Capability id → wanted. `false` documents a capability the
    /// component deliberately does not use.
    pub optional: IndexMap<String, bool>,
    /// Torvyn-specific resource requirements.
    pub torvyn: TorvynCapabilities,
}

impl CapabilitiesConfig {
    /// The required capabilities (entries set to `true`), in file order.
    pub fn required_ids(&self) -> impl Iterator<Item = &str> {
        self.required
            .iter()
            .filter(|(_, &on)| on)
            .map(|(id, _)| id.as_str())
    }

    /// The optional capabilities (entries set to `true`), in file order.
    pub fn optional_ids(&self) -> impl Iterator<Item = &str> {
        self.optional
            .iter()
            .filter(|(_, &on)| on)
            .map(|(id, _)| id.as_str())
    }

    /// Capabilities explicitly declared as not needed (`= false`).
    pub fn declined_ids(&self) -> impl Iterator<Item = &str> {
        self.required
            .iter()
            .chain(&self.optional)
            .filter(|(_, &on)| !on)
            .map(|(id, _)| id.as_str())
    }
}

/// `[capabilities.torvyn]` (keys are kebab-case, as in the spec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TorvynCapabilities {
    /// Largest single buffer the component needs (default 16MiB): the
    /// flow's components may not allocate a larger one (E0305).
    pub max_buffer_size: ByteSize,
    /// Largest Wasm linear memory the component needs (default 64MiB).
    /// When written, a need over `[runtime] max_memory_per_component` is
    /// refused at load (E0702).
    pub max_memory: ByteSize,
    /// Named buffer pool to use (default `"default"`, the only pool the
    /// host has; another name is refused).
    #[schemars(length(min = 1))]
    pub buffer_pool_access: String,
}

impl Default for TorvynCapabilities {
    fn default() -> Self {
        TorvynCapabilities {
            max_buffer_size: ByteSize::mib(16),
            max_memory: ByteSize::mib(64),
            buffer_pool_access: "default".to_string(),
        }
    }
}
