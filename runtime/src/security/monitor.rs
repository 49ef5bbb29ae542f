//! Runtime enforcement bookkeeping: the `capability.denials` and
//! `capability.exercises` counters of one component, the last denial as
//! an E0500 error, and the audit records of both.

use super::audit::{AuditKind, AuditLog};
use super::error::SecurityError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One component's denial and exercise counters.
#[derive(Debug)]
pub struct CapabilityMonitor {
    component: String,
    denials: AtomicU64,
    exercises: AtomicU64,
    denied: Mutex<Vec<SecurityError>>,
    audit: Arc<AuditLog>,
}

impl CapabilityMonitor {
    /// A monitor for `component` writing to `audit`.
    pub fn new(component: &str, audit: Arc<AuditLog>) -> Self {
        CapabilityMonitor {
            component: component.into(),
            denials: AtomicU64::new(0),
            exercises: AtomicU64::new(0),
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
    pub fn deny(&self, capability: &str, detail: &str) {
        self.denials.fetch_add(1, Ordering::Relaxed);
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
    pub fn exercise(&self, capability: &str, detail: &str) {
        self.exercises.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self
            .audit
            .record(AuditKind::Exercise, &self.component, capability, detail)
        {
            tracing::warn!(error = %e, "audit record lost");
        }
    }

    /// `capability.denials` for this component.
    pub fn denials(&self) -> u64 {
        self.denials.load(Ordering::Relaxed)
    }

    /// `capability.exercises` for this component.
    pub fn exercises(&self) -> u64 {
        self.exercises.load(Ordering::Relaxed)
    }

    /// The recorded denials (E0500), oldest first (at most 16).
    pub fn denied(&self) -> Vec<SecurityError> {
        self.denied.lock().map(|d| d.clone()).unwrap_or_default()
    }
}
