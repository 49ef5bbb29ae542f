//! [`SecurityError`]: capability declarations that do not match a
//! component's imports (E0103), required capabilities nobody granted
//! (E0202), capability strings outside the taxonomy (E0702), runtime
//! denials (E0500) and audit failures (E0510).

use crate::error::{Coded, ErrorCode};

/// A capability or audit problem, with its stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityError {
    /// E0103: an import needs a capability the manifest does not declare.
    #[error("component `{component}` imports `{import}`, which needs {needs}, but its manifest does not declare it")]
    UndeclaredImport {
        /// Component (node) name.
        component: String,
        /// The import.
        import: String,
        /// `wasi-filesystem-read` or …
        needs: String,
        /// The manifest that should declare it.
        manifest: String,
    },
    /// E0103: the manifest declares a capability `= false` that the
    /// component's imports use.
    #[error("component `{component}` declares `{declared} = false` but imports `{import}`, which uses it")]
    DeclinedButImported {
        /// Component name.
        component: String,
        /// The declined capability as written.
        declared: String,
        /// The import that uses it.
        import: String,
        /// The manifest.
        manifest: String,
    },
    /// E0202: a required capability is not granted.
    #[error("component `{component}` requires `{capability}` (declared as `{declared_as}`), which [security.grants.{component}] does not grant{granted}")]
    NotGranted {
        /// Component name (the grants key).
        component: String,
        /// The required capability.
        capability: String,
        /// How the manifest declares it.
        declared_as: String,
        /// `` (granted: …)`` or empty.
        granted: String,
        /// A grant string that would satisfy it.
        example: String,
    },
    /// E0702: a capability string outside the taxonomy.
    #[error("`{text}` in {place} is not a capability: {reason}")]
    UnknownCapability {
        /// As written.
        text: String,
        /// `[security.grants.x]`, `[capabilities.required]`.
        place: String,
        /// What is wrong.
        reason: String,
        /// The nearest known identifier.
        suggestion: Option<String>,
        /// `Torvyn.toml:12:5`, when known.
        location: Option<String>,
    },
    /// E0702: a filesystem grant names a directory that does not exist.
    #[error("`{grant}` granted to `{component}` names {dir}, which is not a directory")]
    GrantDirMissing {
        /// Component name.
        component: String,
        /// The grant.
        grant: String,
        /// The directory on the host.
        dir: String,
    },
    /// E0500: a component used a capability it was not granted.
    #[error("component `{component}` was denied `{capability}`: {detail}")]
    Denied {
        /// Component name.
        component: String,
        /// The capability.
        capability: String,
        /// What it tried.
        detail: String,
    },
    /// E0510: the audit log could not be written.
    #[error("cannot write the audit log to {target}: {reason}")]
    AuditFailed {
        /// The target.
        target: String,
        /// Why.
        reason: String,
    },
}

impl Coded for SecurityError {
    fn code(&self) -> ErrorCode {
        match self {
            SecurityError::UndeclaredImport { .. } | SecurityError::DeclinedButImported { .. } => {
                ErrorCode::CapabilityMismatch
            }
            SecurityError::NotGranted { .. } => ErrorCode::CapabilityNotGranted,
            SecurityError::UnknownCapability { .. } | SecurityError::GrantDirMissing { .. } => {
                ErrorCode::ConstraintViolation
            }
            SecurityError::Denied { .. } => ErrorCode::CapabilityDenied,
            SecurityError::AuditFailed { .. } => ErrorCode::AuditLogFailed,
        }
    }

    fn location(&self) -> Option<String> {
        match self {
            SecurityError::UndeclaredImport { manifest, .. }
            | SecurityError::DeclinedButImported { manifest, .. } => Some(manifest.clone()),
            SecurityError::NotGranted { component, .. }
            | SecurityError::GrantDirMissing { component, .. } => {
                Some(format!("[security.grants.{component}] in Torvyn.toml"))
            }
            SecurityError::UnknownCapability {
                location, place, ..
            } => Some(location.clone().unwrap_or_else(|| place.clone())),
            SecurityError::Denied { component, .. } => Some(format!("component `{component}`")),
            SecurityError::AuditFailed { target, .. } => Some(target.clone()),
        }
    }

    fn help(&self) -> String {
        match self {
            SecurityError::UndeclaredImport { needs, .. } => {
                format!("add `{needs} = true` to [capabilities.required] (or [capabilities.optional])")
            }
            SecurityError::DeclinedButImported { declared, .. } => format!(
                "declare `{declared} = true`, or rebuild the component without the import"
            ),
            SecurityError::NotGranted { component, example, .. } => format!(
                "add \"{example}\" to [security.grants.{component}] capabilities"
            ),
            SecurityError::UnknownCapability { suggestion: Some(s), .. } => {
                format!("did you mean `{s}`?")
            }
            SecurityError::UnknownCapability { .. } => {
                "use an identifier such as \"wasi:filesystem/read:/data/input\", \"wasi:clocks/wall-clock\" or \"wasi:random/random\"".into()
            }
            SecurityError::GrantDirMissing { .. } => {
                "create the directory or grant an existing one (relative paths are relative to the manifest's directory)".into()
            }
            other => other.code().default_help().into(),
        }
    }
}
