//! Everything the [`CapabilityActor`](super::CapabilityActor) understands.

use super::AuditEvent;
use actix::Message;

/// Grant `capability` to `component`.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Grant {
    /// Component (node) name.
    pub component: String,
    /// Capability name, e.g. `wasi:filesystem/read`.
    pub capability: String,
}

/// Withdraw a grant.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Revoke {
    /// Component (node) name.
    pub component: String,
    /// Capability name.
    pub capability: String,
}

/// Whether `component` holds `capability`; every check is audited.
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct Check {
    /// Component (node) name.
    pub component: String,
    /// Capability name.
    pub capability: String,
}

/// The audit log, oldest first.
#[derive(Debug, Message)]
#[rtype(result = "Vec<AuditEvent>")]
pub struct AuditLog;

/// Exercise and denial counts per (component, capability), sorted.
#[derive(Debug, Message)]
#[rtype(result = "Vec<super::CapabilityCount>")]
pub struct Counts;
