//! Runtime enforcement bookkeeping: the `capability.denials` and
//! `capability.exercises` counters of one component, per capability, the
//! last denials as E0500 errors, and the audit records of both. The
//! counters reach the flow's report (each stage's `capabilities`) and
//! `/metrics` (`torvyn_capability_{exercises,denials}_total`).

use super::audit::{AuditKind, AuditLog};
use super::error::SecurityError;
use super::taxonomy::CapabilityKind;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const KINDS: usize = CapabilityKind::ALL.len();

/// How often a component used or was refused one capability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapabilityUse {
    /// The capability's identifier (`wasi:clocks/wall-clock`, …).
    pub capability: &'static str,
    /// Uses of it that were granted.
    pub exercises: u64,
    /// Uses of it that were denied (E0500).
    pub denials: u64,
}

/// One component's denial and exercise counters.
#[derive(Debug)]
pub struct CapabilityMonitor {
    component: String,
    /// Per [`CapabilityKind::ALL`] index: lock-free, as guests may read a
    /// denied clock in every call.
    denials: [AtomicU64; KINDS],
    exercises: [AtomicU64; KINDS],
    denied: Mutex<Vec<SecurityError>>,
    audit: Arc<AuditLog>,
}

/// `kind`'s slot: its place in [`CapabilityKind::ALL`], which lists the
/// kinds in declaration order (a test holds it to that).
fn index(kind: CapabilityKind) -> usize {
    kind as usize
}

impl CapabilityMonitor {
    /// A monitor for `component` writing to `audit`.
    pub fn new(component: &str, audit: Arc<AuditLog>) -> Self {
        CapabilityMonitor {
            component: component.into(),
            denials: std::array::from_fn(|_| AtomicU64::new(0)),
            exercises: std::array::from_fn(|_| AtomicU64::new(0)),
            denied: Mutex::new(Vec::new()),
            audit,
        }
    }

    /// The component's name.
    pub fn component(&self) -> &str {
        &self.component
    }

    /// Records a denial (E0500): counts it, keeps the first few as errors,
    /// audits it. An audit write failure cannot be reported from inside a
    /// WASI call; it is logged.
    pub fn deny(&self, kind: CapabilityKind, detail: &str) {
        let capability = kind.id();
        self.denials[index(kind)].fetch_add(1, Ordering::Relaxed);
        if let Ok(mut denied) = self.denied.lock() {
            if denied.len() < 16 {
                denied.push(SecurityError::Denied {
                    component: self.component.clone(),
                    capability: capability.into(),
                    detail: detail.into(),
                });
            }
        }
        if let Err(e) = self
            .audit
            .record(AuditKind::Denial, &self.component, capability, detail)
        {
            tracing::warn!(error = %e, "audit record lost");
        }
    }

    /// Records the use of a granted capability.
    pub fn exercise(&self, kind: CapabilityKind, detail: &str) {
        let capability = kind.id();
        self.exercises[index(kind)].fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self
            .audit
            .record(AuditKind::Exercise, &self.component, capability, detail)
        {
            tracing::warn!(error = %e, "audit record lost");
        }
    }

    /// `capability.denials` for this component, every capability.
    pub fn denials(&self) -> u64 {
        self.denials.iter().map(|d| d.load(Ordering::Relaxed)).sum()
    }

    /// `capability.exercises` for this component, every capability.
    pub fn exercises(&self) -> u64 {
        self.exercises
            .iter()
            .map(|e| e.load(Ordering::Relaxed))
            .sum()
    }

    /// Each capability used or refused at least once, in taxonomy order.
    pub fn uses(&self) -> Vec<CapabilityUse> {
        CapabilityKind::ALL
            .iter()
            .enumerate()
            .map(|(i, kind)| CapabilityUse {
                capability: kind.id(),
                exercises: self.exercises[i].load(Ordering::Relaxed),
                denials: self.denials[i].load(Ordering::Relaxed),
            })
            .filter(|u| u.exercises > 0 || u.denials > 0)
            .collect()
    }

    /// The recorded denials (E0500), oldest first (at most 16).
    pub fn denied(&self) -> Vec<SecurityError> {
        self.denied.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_slot_in_taxonomy_order() {
        for (i, kind) in CapabilityKind::ALL.into_iter().enumerate() {
            assert_eq!(index(kind), i, "{kind}");
        }
    }
}
