//! [`CapabilityActor`]: per-component grant decisions and the audit log.
//!
//! An in-memory store: grants are (component, capability) pairs and every
//! grant, revocation and check is appended to a bounded audit log. The
//! runtime's security module (`torvyn_runtime::security`) resolves a
//! flow's grants into sandbox configs before the flow starts; this actor
//! serves the grants an operator adds or withdraws at run time.

pub mod messages;

use actix::prelude::*;
use messages::{AuditLog, Check, Counts, Grant, Revoke};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::SystemTime;

/// Audit entries kept; older ones are dropped (and counted).
pub const AUDIT_CAPACITY: usize = 10_000;

/// What an audit entry records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditAction {
    /// A grant was added.
    Granted,
    /// A grant was withdrawn.
    Revoked,
    /// A check was allowed.
    Allowed,
    /// A check was denied.
    Denied,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// When.
    pub at: SystemTime,
    /// Component (node) name.
    pub component: String,
    /// Capability name.
    pub capability: String,
    /// What happened.
    pub action: AuditAction,
}

/// How often one component's capability was checked, since the host
/// started (never trimmed, unlike the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityCount {
    /// Component (node) name.
    pub component: String,
    /// Capability name.
    pub capability: String,
    /// Checks allowed (the capability exercised).
    pub exercises: u64,
    /// Checks denied.
    pub denials: u64,
}

/// Holds grant decisions and the audit log.
#[derive(Debug, Default)]
pub struct CapabilityActor {
    grants: BTreeSet<(String, String)>,
    audit: VecDeque<AuditEvent>,
    audit_dropped: u64,
    /// (component, capability) → (exercises, denials).
    counts: BTreeMap<(String, String), (u64, u64)>,
}

impl CapabilityActor {
    fn audit(&mut self, component: &str, capability: &str, action: AuditAction) {
        if self.audit.len() == AUDIT_CAPACITY {
            self.audit.pop_front();
            self.audit_dropped += 1;
        }
        self.audit.push_back(AuditEvent {
            at: SystemTime::now(),
            component: component.to_string(),
            capability: capability.to_string(),
            action,
        });
    }
}

impl Actor for CapabilityActor {
    type Context = Context<Self>;
}

impl Handler<Grant> for CapabilityActor {
    type Result = ();

    fn handle(&mut self, msg: Grant, _: &mut Context<Self>) {
        self.audit(&msg.component, &msg.capability, AuditAction::Granted);
        self.grants.insert((msg.component, msg.capability));
    }
}

impl Handler<Revoke> for CapabilityActor {
    type Result = ();

    fn handle(&mut self, msg: Revoke, _: &mut Context<Self>) {
        self.audit(&msg.component, &msg.capability, AuditAction::Revoked);
        self.grants.remove(&(msg.component, msg.capability));
    }
}

impl Handler<Check> for CapabilityActor {
    type Result = bool;

    fn handle(&mut self, msg: Check, _: &mut Context<Self>) -> bool {
        let allowed = self
            .grants
            .contains(&(msg.component.clone(), msg.capability.clone()));
        let action = if allowed {
            AuditAction::Allowed
        } else {
            AuditAction::Denied
        };
        self.audit(&msg.component, &msg.capability, action);
        let count = self
            .counts
            .entry((msg.component, msg.capability))
            .or_default();
        if allowed {
            count.0 += 1;
        } else {
            count.1 += 1;
        }
        allowed
    }
}

impl Handler<Counts> for CapabilityActor {
    type Result = MessageResult<Counts>;

    fn handle(&mut self, _: Counts, _: &mut Context<Self>) -> Self::Result {
        MessageResult(
            self.counts
                .iter()
                .map(
                    |((component, capability), (exercises, denials))| CapabilityCount {
                        component: component.clone(),
                        capability: capability.clone(),
                        exercises: *exercises,
                        denials: *denials,
                    },
                )
                .collect(),
        )
    }
}

impl Handler<AuditLog> for CapabilityActor {
    type Result = MessageResult<AuditLog>;

    fn handle(&mut self, _: AuditLog, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.audit.iter().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks follow grants and revocations, and every decision is audited
    /// in order.
    #[test]
    fn test_capability_actor_grants_checks_and_audits() {
        System::new().block_on(async {
            let addr = CapabilityActor::default().start();
            let check = || Check {
                component: "sink".into(),
                capability: "wasi:filesystem/write".into(),
            };
            assert!(!addr.send(check()).await.unwrap());
            addr.do_send(Grant {
                component: "sink".into(),
                capability: "wasi:filesystem/write".into(),
            });
            assert!(addr.send(check()).await.unwrap());
            addr.do_send(Revoke {
                component: "sink".into(),
                capability: "wasi:filesystem/write".into(),
            });
            assert!(!addr.send(check()).await.unwrap());
            let actions: Vec<AuditAction> = addr
                .send(AuditLog)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.action)
                .collect();
            assert_eq!(
                actions,
                [
                    AuditAction::Denied,
                    AuditAction::Granted,
                    AuditAction::Allowed,
                    AuditAction::Revoked,
                    AuditAction::Denied
                ]
            );
            let counts = addr.send(Counts).await.unwrap();
            assert_eq!(
                counts,
                [CapabilityCount {
                    component: "sink".into(),
                    capability: "wasi:filesystem/write".into(),
                    exercises: 1,
                    denials: 2,
                }]
            );
        });
    }
}
