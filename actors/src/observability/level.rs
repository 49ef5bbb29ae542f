//! [`LevelSwitch`]: the host's observability level, shared by every flow
//! and switchable at run time.
//!
//! One atomic byte, read by each FlowActor between two batches (never per
//! element) and written by [`TorvynHandle::set_observability_level`]
//! (and the inspection API's `PUT /level`). A switch takes effect from each
//! flow's next batch; no flow restarts.
//!
//! What each level does today:
//! - `off`: flows publish no counters while they run (neither the
//!   per-batch atomics nor the periodic full report); `/metrics` serves the
//!   host-wide families only (pools, capabilities, system) and each flow's
//!   final values once it ends. `inspect` still asks the flow itself.
//! - `production` (default): per-batch counters and a full report at most
//!   once per millisecond; `/metrics` serves the whole catalog.
//! - `diagnostic`: as production, but the full report (queue depths,
//!   backpressure state, per-stage counters) is published after every
//!   batch, so inspection and `/metrics` see each batch's queue state.
//!
//! [`TorvynHandle::set_observability_level`]: crate::TorvynHandle::set_observability_level

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use torvyn_runtime::config::ObservabilityLevel;

/// A shared, atomically switchable [`ObservabilityLevel`].
#[derive(Debug, Clone)]
pub struct LevelSwitch(Arc<AtomicU8>);

fn to_u8(level: ObservabilityLevel) -> u8 {
    match level {
        ObservabilityLevel::Off => 0,
        ObservabilityLevel::Production => 1,
        ObservabilityLevel::Diagnostic => 2,
    }
}

fn from_u8(v: u8) -> ObservabilityLevel {
    match v {
        0 => ObservabilityLevel::Off,
        2 => ObservabilityLevel::Diagnostic,
        _ => ObservabilityLevel::Production,
    }
}

impl LevelSwitch {
    /// A switch at `level`.
    pub fn new(level: ObservabilityLevel) -> Self {
        Self(Arc::new(AtomicU8::new(to_u8(level))))
    }

    /// The current level.
    // HOT PATH (once per batch): one relaxed load.
    pub fn get(&self) -> ObservabilityLevel {
        from_u8(self.0.load(Relaxed))
    }

    /// Switches every holder of this switch to `level`; returns the level
    /// it replaced.
    pub fn set(&self, level: ObservabilityLevel) -> ObservabilityLevel {
        from_u8(self.0.swap(to_u8(level), Relaxed))
    }
}

impl Default for LevelSwitch {
    fn default() -> Self {
        Self::new(ObservabilityLevel::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_level_switch_is_shared_by_its_clones() {
        let a = LevelSwitch::default();
        let b = a.clone();
        assert_eq!(b.get(), ObservabilityLevel::Production);
        for level in ObservabilityLevel::ALL {
            a.set(level);
            assert_eq!(b.get(), level);
        }
        assert_eq!(
            b.set(ObservabilityLevel::Off),
            ObservabilityLevel::Diagnostic
        );
        assert_eq!(a.get(), ObservabilityLevel::Off);
    }
}
