//! `[security]` and `[security.grants.<component>]`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What happens to a capability no grant mentions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CapabilityPolicy {
    /// Deny it (default; the spec's security model).
    #[default]
    DenyAll,
    /// Allow it. For local experiments only.
    AllowAll,
}

/// Where audit records go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuditTarget {
    /// An audit log file (default).
    #[default]
    File,
    /// Standard output.
    Stdout,
    /// The observability event sink: the process keeps the last 10 000
    /// records in memory and the inspection API serves them at `GET /audit`.
    EventSink,
}

/// `[security.grants.<component>]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CapabilityGrant {
    /// Capabilities granted, e.g. `"wasi:filesystem/read:/data/input"`.
    pub capabilities: Vec<String>,
}

/// `[security]` — security configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Policy for ungranted capabilities (default `deny-all`).
    pub default_capability_policy: CapabilityPolicy,
    /// Enable security audit logging (default true).
    pub audit_enabled: bool,
    /// Audit log target (default `file`).
    pub audit_target: AuditTarget,
    /// Grants by component, in file order.
    pub grants: IndexMap<String, CapabilityGrant>,
    /// Ed25519 private key (PEM, e.g. from `openssl genpkey -algorithm
    /// ed25519`) that `torvyn pack --sign` signs artifacts with, relative
    /// to the project root (default "": none).
    pub signing_key: String,
    /// Ed25519 public keys (PEM files, relative to the project root). When
    /// any is listed, every `oci://` component must be signed by one of
    /// them (default empty: signatures are not required).
    pub trusted_keys: Vec<String>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            default_capability_policy: CapabilityPolicy::DenyAll,
            audit_enabled: true,
            audit_target: AuditTarget::File,
            grants: IndexMap::new(),
            signing_key: String::new(),
            trusted_keys: Vec::new(),
        }
    }
}

impl SecurityConfig {
    /// The capabilities granted to `component` (empty if none).
    pub fn grants_for(&self, component: &str) -> &[String] {
        self.grants
            .get(component)
            .map_or(&[][..], |g| g.capabilities.as_slice())
    }
}
