//! The audit log (spec: "Auditing Capabilities"): one structured record
//! per grant resolution, capability exercise and denial, as a JSON line,
//! written to the target `[security] audit_target` names:
//!
//! - `file`: appended to `<manifest dir>/.torvyn/audit.log`;
//! - `stdout`: printed on standard output;
//! - `event-sink`: kept in memory for the observability event sink
//!   ([`AuditLog::events`]).
//!
//! `audit_enabled = false` turns all of it off. A write that fails is
//! E0510.

use super::error::SecurityError;
use crate::config::AuditTarget;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// A component's capability set was resolved at startup.
    GrantResolution,
    /// A component used a granted capability.
    Exercise,
    /// A component tried to use a capability it was not granted.
    Denial,
    /// A node's `oci://` component was resolved to a digest at startup.
    ComponentResolution,
    /// A node's `oci://` component was refused: unsigned, or not signed
    /// by a trusted key (`[security] trusted_keys`).
    SignatureRefusal,
}

impl AuditKind {
    fn as_str(self) -> &'static str {
        match self {
            AuditKind::GrantResolution => "grant-resolution",
            AuditKind::Exercise => "exercise",
            AuditKind::Denial => "denial",
            AuditKind::ComponentResolution => "component-resolution",
            AuditKind::SignatureRefusal => "signature-refusal",
        }
    }
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// What happened.
    pub kind: AuditKind,
    /// The component (node) name.
    pub component: String,
    /// The capability (or, for a resolution, the resolved set).
    pub capability: String,
    /// Details.
    pub detail: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
}

impl AuditEvent {
    /// The record as one JSON line.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "event": self.kind.as_str(),
            "component": self.component,
            "capability": self.capability,
            "detail": self.detail,
            "timestamp_ms": self.timestamp_ms,
        })
        .to_string()
    }
}

enum Sink {
    Off,
    File(PathBuf),
    Stdout,
    Events,
}

/// Records the `event-sink` target keeps, process-wide (the oldest go
/// first, counted).
pub const EVENT_SINK_CAPACITY: usize = 10_000;

/// The `event-sink` target: the last [`EVENT_SINK_CAPACITY`] records of
/// every log of the process, which the inspection API serves at
/// `GET /audit`.
struct EventSinkRing {
    events: std::collections::VecDeque<AuditEvent>,
    dropped: u64,
}

static EVENT_SINK: Mutex<EventSinkRing> = Mutex::new(EventSinkRing {
    events: std::collections::VecDeque::new(),
    dropped: 0,
});

/// The `event-sink` target's records, oldest first, and how many older
/// ones were dropped to keep it bounded.
pub fn event_sink_records() -> (Vec<AuditEvent>, u64) {
    EVENT_SINK
        .lock()
        .map(|ring| (ring.events.iter().cloned().collect(), ring.dropped))
        .unwrap_or_default()
}

fn push_to_event_sink(event: AuditEvent) {
    if let Ok(mut ring) = EVENT_SINK.lock() {
        if ring.events.len() == EVENT_SINK_CAPACITY {
            ring.events.pop_front();
            ring.dropped += 1;
        }
        ring.events.push_back(event);
    }
}

/// Where audit records go. Shared by every component of a process.
pub struct AuditLog {
    sink: Sink,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

impl AuditLog {
    /// A log for `[security]` settings; `file` is the audit file used for
    /// the `file` target.
    pub fn new(enabled: bool, target: AuditTarget, file: PathBuf) -> Self {
        let sink = match (enabled, target) {
            (false, _) => Sink::Off,
            (true, AuditTarget::File) => Sink::File(file),
            (true, AuditTarget::Stdout) => Sink::Stdout,
            (true, AuditTarget::EventSink) => Sink::Events,
        };
        AuditLog { sink }
    }

    /// The log `[security]` configures for the project at `root`
    /// (`.torvyn/audit.log` for the file target).
    pub fn for_project(root: &std::path::Path, security: &crate::config::SecurityConfig) -> Self {
        Self::new(
            security.audit_enabled,
            security.audit_target,
            root.join(".torvyn").join("audit.log"),
        )
    }

    /// A log that records nothing.
    pub fn disabled() -> Self {
        AuditLog { sink: Sink::Off }
    }

    /// Records one event.
    pub fn record(
        &self,
        kind: AuditKind,
        component: &str,
        capability: &str,
        detail: &str,
    ) -> Result<(), SecurityError> {
        let event = AuditEvent {
            kind,
            component: component.into(),
            capability: capability.into(),
            detail: detail.into(),
            timestamp_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        };
        match &self.sink {
            Sink::Off => Ok(()),
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", event.to_json()).map_err(|e| SecurityError::AuditFailed {
                    target: "stdout".into(),
                    reason: e.to_string(),
                })
            }
            Sink::File(path) => {
                let failed = |e: std::io::Error| SecurityError::AuditFailed {
                    target: path.display().to_string(),
                    reason: e.to_string(),
                };
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(failed)?;
                }
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(failed)?;
                writeln!(file, "{}", event.to_json()).map_err(failed)
            }
            Sink::Events => {
                push_to_event_sink(event);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};

    #[test]
    fn file_target_appends_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".torvyn").join("audit.log");
        let log = AuditLog::new(true, AuditTarget::File, path.clone());
        log.record(
            AuditKind::GrantResolution,
            "reader",
            "wasi:filesystem/read:/data",
            "resolved",
        )
        .unwrap();
        log.record(
            AuditKind::Denial,
            "reader",
            "wasi:clocks/wall-clock",
            "now()",
        )
        .unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "grant-resolution");
        assert_eq!(lines[1]["event"], "denial");
        assert_eq!(lines[1]["component"], "reader");
    }

    #[test]
    fn disabled_and_event_sink_targets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let off = AuditLog::new(false, AuditTarget::File, path.clone());
        off.record(AuditKind::Exercise, "x", "y", "z").unwrap();
        assert!(!path.exists());
        let sink = AuditLog::new(true, AuditTarget::EventSink, path.clone());
        sink.record(AuditKind::Exercise, "event-sink-test", "y", "z")
            .unwrap();
        assert!(!path.exists());
        let (events, _) = event_sink_records();
        assert!(
            events.iter().any(|e| e.component == "event-sink-test"),
            "{events:?}"
        );
    }

    #[test]
    fn the_event_sink_is_bounded() {
        let sink = AuditLog::new(true, AuditTarget::EventSink, PathBuf::new());
        for _ in 0..=EVENT_SINK_CAPACITY {
            sink.record(AuditKind::Exercise, "bounded", "y", "z")
                .unwrap();
        }
        let (events, dropped) = event_sink_records();
        assert_eq!(events.len(), EVENT_SINK_CAPACITY);
        assert!(dropped >= 1);
    }

    #[test]
    fn an_unwritable_file_is_e0510() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let log = AuditLog::new(true, AuditTarget::File, blocker.join("audit.log"));
        let err = log.record(AuditKind::Exercise, "x", "y", "z").unwrap_err();
        assert_eq!(err.code(), ErrorCode::AuditLogFailed);
    }
}
