//! Capabilities and the sandbox: deny-all by default.
//!
//! - [`taxonomy`]: the capabilities, their identifiers and manifest names.
//! - [`scope`]: scopes and the directional "broader covers narrower" rule.
//! - [`imports`]: which capability a WIT import needs.
//! - `resolve`: manifest vs imports (E0103), requests vs grants (E0202).
//! - [`sandbox`]: the WASI context a component gets from its grants.
//! - [`monitor`]: runtime denials (E0500) and the `capability.denials` counter.
//! - [`audit`]: the audit log (`[security] audit_enabled` / `audit_target`).

pub mod audit;
mod error;
pub mod imports;
pub mod monitor;
pub mod resolve;
pub mod sandbox;
pub mod scope;
pub mod taxonomy;

pub use audit::{event_sink_records, AuditEvent, AuditKind, AuditLog, EVENT_SINK_CAPACITY};
pub use error::SecurityError;
pub use monitor::{CapabilityMonitor, CapabilityUse};
pub use resolve::{
    cross_check, cross_check_all, parse_grants, resolve, resolve_all, Declared,
    ResolvedCapabilities,
};
pub use sandbox::{Preopen, SandboxConfig};
pub use scope::Scope;
pub use taxonomy::{Capability, CapabilityKind};
