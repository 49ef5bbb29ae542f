//! Stable error codes (the spec's "Error Code Reference") and the
//! [`Diagnostic`] every user-facing error renders into.
//!
//! Each module keeps its own small `thiserror` error type; all of them
//! implement [`Coded`], which names the stable code, where it happened
//! and how to fix it. The CLI renders any [`Coded`] error the same way.

use std::fmt;

/// A stable, documented Torvyn error code (`E0001` … `E0799`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// E0001: Torvyn.toml not found.
    ManifestNotFound,
    /// E0002: Torvyn.toml is not valid TOML.
    ManifestParseError,
    /// E0003: `torvyn init` target directory exists and is not empty.
    DirectoryExists,
    /// E0010: a required external tool is missing.
    ToolchainMissing,
    /// E0100: a .wit file has a syntax error.
    WitSyntaxError,
    /// E0101: a `use` or package reference could not be resolved.
    WitResolutionError,
    /// E0102: the world exports no Torvyn processing interface.
    WorldIncomplete,
    /// E0103: WIT imports need a capability the manifest does not declare.
    CapabilityMismatch,
    /// E0110: the targeted contract version is deprecated.
    DeprecatedContractVersion,
    /// E0200: upstream output and downstream input are incompatible.
    InterfaceIncompatible,
    /// E0201: components target different major contract versions.
    VersionMismatch,
    /// E0202: a required capability is not granted.
    CapabilityNotGranted,
    /// E0203: the pipeline graph is structurally invalid.
    TopologyInvalid,
    /// E0204: a router returned an unknown port.
    RouterPortUnknown,
    /// E0210: a component could not be located (or is not a usable component).
    ComponentNotFound,
    /// E0300: buffer allocation failed.
    AllocationFailed,
    /// E0301: the pool tier is empty and the policy is `error`.
    PoolExhausted,
    /// E0302: a component accessed a buffer it does not own.
    NotOwner,
    /// E0303: a buffer handle of an older generation was used.
    StaleHandle,
    /// E0304: transfer or free while borrows are outstanding.
    BorrowsOutstanding,
    /// E0305: a write would exceed a mutable buffer's capacity.
    CapacityExceeded,
    /// E0310: a component exceeded its memory budget.
    BudgetExceeded,
    /// E0400: the flow exceeded its maximum execution time.
    FlowDeadlineExceeded,
    /// E0401: a single invocation exceeded its budget (fuel or deadline), or trapped.
    ComponentTimeout,
    /// E0402: the flow was cancelled.
    FlowCancelled,
    /// E0410: a component returned `process-error::fatal`.
    FatalComponentError,
    /// E0500: a component used a capability it was not granted.
    CapabilityDenied,
    /// E0501: a component attempted an operation outside its sandbox.
    SandboxViolation,
    /// E0510: the audit log could not be written.
    AuditLogFailed,
    /// E0600: a packaged artifact failed validation.
    ArtifactInvalid,
    /// E0601: authentication with the OCI registry failed.
    RegistryAuthFailed,
    /// E0602: the artifact could not be pushed to the registry.
    PushFailed,
    /// E0603: artifact signing failed.
    SigningFailed,
    /// E0700: a configuration field has the wrong type.
    InvalidFieldType,
    /// E0701: an unrecognized configuration field.
    UnknownField,
    /// E0702: a configuration value is out of range.
    ConstraintViolation,
}

impl ErrorCode {
    /// The code as printed: `E0002`.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ManifestNotFound => "E0001",
            ManifestParseError => "E0002",
            DirectoryExists => "E0003",
            ToolchainMissing => "E0010",
            WitSyntaxError => "E0100",
            WitResolutionError => "E0101",
            WorldIncomplete => "E0102",
            CapabilityMismatch => "E0103",
            DeprecatedContractVersion => "E0110",
            InterfaceIncompatible => "E0200",
            VersionMismatch => "E0201",
            CapabilityNotGranted => "E0202",
            TopologyInvalid => "E0203",
            RouterPortUnknown => "E0204",
            ComponentNotFound => "E0210",
            AllocationFailed => "E0300",
            PoolExhausted => "E0301",
            NotOwner => "E0302",
            StaleHandle => "E0303",
            BorrowsOutstanding => "E0304",
            CapacityExceeded => "E0305",
            BudgetExceeded => "E0310",
            FlowDeadlineExceeded => "E0400",
            ComponentTimeout => "E0401",
            FlowCancelled => "E0402",
            FatalComponentError => "E0410",
            CapabilityDenied => "E0500",
            SandboxViolation => "E0501",
            AuditLogFailed => "E0510",
            ArtifactInvalid => "E0600",
            RegistryAuthFailed => "E0601",
            PushFailed => "E0602",
            SigningFailed => "E0603",
            InvalidFieldType => "E0700",
            UnknownField => "E0701",
            ConstraintViolation => "E0702",
        }
    }

    /// The spec's name for the code: `ManifestParseError`.
    pub fn name(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ManifestNotFound => "ManifestNotFound",
            ManifestParseError => "ManifestParseError",
            DirectoryExists => "DirectoryExists",
            ToolchainMissing => "ToolchainMissing",
            WitSyntaxError => "WitSyntaxError",
            WitResolutionError => "WitResolutionError",
            WorldIncomplete => "WorldIncomplete",
            CapabilityMismatch => "CapabilityMismatch",
            DeprecatedContractVersion => "DeprecatedContractVersion",
            InterfaceIncompatible => "InterfaceIncompatible",
            VersionMismatch => "VersionMismatch",
            CapabilityNotGranted => "CapabilityNotGranted",
            TopologyInvalid => "TopologyInvalid",
            RouterPortUnknown => "RouterPortUnknown",
            ComponentNotFound => "ComponentNotFound",
            AllocationFailed => "AllocationFailed",
            PoolExhausted => "PoolExhausted",
            NotOwner => "NotOwner",
            StaleHandle => "StaleHandle",
            BorrowsOutstanding => "BorrowsOutstanding",
            CapacityExceeded => "CapacityExceeded",
            BudgetExceeded => "BudgetExceeded",
            FlowDeadlineExceeded => "FlowDeadlineExceeded",
            ComponentTimeout => "ComponentTimeout",
            FlowCancelled => "FlowCancelled",
            FatalComponentError => "FatalComponentError",
            CapabilityDenied => "CapabilityDenied",
            SandboxViolation => "SandboxViolation",
            AuditLogFailed => "AuditLogFailed",
            ArtifactInvalid => "ArtifactInvalid",
            RegistryAuthFailed => "RegistryAuthFailed",
            PushFailed => "PushFailed",
            SigningFailed => "SigningFailed",
            InvalidFieldType => "InvalidFieldType",
            UnknownField => "UnknownField",
            ConstraintViolation => "ConstraintViolation",
        }
    }

    /// The spec's generic fix for this code, used when an error has no
    /// more specific hint.
    pub fn default_help(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ManifestNotFound => "run `torvyn init` to create a project, or pass --manifest <PATH>",
            ManifestParseError => "check the indicated line and column for TOML syntax errors",
            DirectoryExists => "use --force to overwrite, or choose a different name",
            ToolchainMissing => "run `torvyn doctor` for installation instructions",
            WitSyntaxError => "check the indicated file, line and column",
            WitResolutionError => "ensure the referenced package exists in wit/deps/",
            WorldIncomplete => "export at least one of: processor, source, sink, filter, router, aggregator",
            CapabilityMismatch => "add the capability to [capabilities.required] in Torvyn.toml",
            DeprecatedContractVersion => "upgrade to a supported contract version",
            InterfaceIncompatible => "ensure both components target compatible contract versions",
            VersionMismatch => "recompile one or both components against a compatible contract version",
            CapabilityNotGranted => "add the capability to [security.grants.<component>]",
            TopologyInvalid => "sources must have no inputs, sinks no outputs, and the graph must be a DAG",
            RouterPortUnknown => "make the router's port names match the flow's edge definitions",
            ComponentNotFound => "check the node's `component` path, or build the component first",
            AllocationFailed => "increase pool sizes or reduce component memory budgets",
            PoolExhausted => "increase the tier's pool size, or set [runtime.pools] exhaustion_policy = \"fallback-alloc\"",
            NotOwner => "this indicates a contract or runtime bug; please report it",
            StaleHandle => "the component used a buffer after it was released; review its handle use",
            BorrowsOutstanding => "release all borrows before transferring ownership",
            CapacityExceeded => "allocate a larger buffer or write in smaller chunks",
            BudgetExceeded => "increase [runtime] max_memory_per_component or reduce the component's memory use",
            FlowDeadlineExceeded => "increase the timeout or find the slow component",
            ComponentTimeout => "increase [runtime] max_invocation_time_ms (or fuel_per_invocation when set), or optimize the component",
            FlowCancelled => "check the cancellation reason in the flow trace",
            FatalComponentError => "the component cannot continue; review its logs for the cause",
            CapabilityDenied => "grant the capability in [security.grants.<component>], or stop using it",
            SandboxViolation => "review the component for disallowed operations",
            AuditLogFailed => "check the audit log target and disk space",
            ArtifactInvalid => "run `torvyn check` before `torvyn pack`",
            RegistryAuthFailed => "check the registry credentials",
            PushFailed => "check network connectivity and registry availability",
            SigningFailed => "check the signing key configuration",
            InvalidFieldType => "check the field's type in the configuration reference",
            UnknownField => "check for typos; see the configuration reference for valid fields",
            ConstraintViolation => "check the valid range in the configuration reference",
        }
    }

    /// The process exit code a CLI command ends with for this error:
    /// 2 for missing input or prerequisites, 1 for everything else.
    pub fn exit_code(self) -> i32 {
        use ErrorCode::*;
        match self {
            ManifestNotFound | ComponentNotFound | ToolchainMissing => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error that carries a stable Torvyn error code.
pub trait Coded: std::error::Error {
    /// The stable error code.
    fn code(&self) -> ErrorCode;

    /// Where it happened (`Torvyn.toml:3:7`, a node name, a file), if known.
    fn location(&self) -> Option<String> {
        None
    }

    /// How to fix it; defaults to the code's generic fix.
    fn help(&self) -> String {
        self.code().default_help().to_string()
    }

    /// Everything needed to render the error for a person or a machine.
    fn diagnostic(&self) -> Diagnostic {
        Diagnostic {
            code: self.code(),
            message: self.to_string(),
            location: self.location(),
            help: self.help(),
        }
    }

    /// Every error this value stands for: one, unless it collects several
    /// found in one pass (`torvyn check` and `torvyn link` report them all).
    fn diagnostics(&self) -> Vec<Diagnostic> {
        vec![self.diagnostic()]
    }
}

/// A rendered-ready error: code, message, location and fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code.
    pub code: ErrorCode,
    /// What happened.
    pub message: String,
    /// Where, if known.
    pub location: Option<String>,
    /// How to fix it.
    pub help: String,
}

impl fmt::Display for Diagnostic {
    /// Renders in the style of rustc:
    ///
    /// ```text
    /// error[E0002]: Torvyn.toml is not valid TOML: expected `=`
    ///   --> Torvyn.toml:3:7
    ///   = help: check the indicated line and column for TOML syntax errors
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error[{}]: {}", self.code, self.message)?;
        if let Some(location) = &self.location {
            writeln!(f, "  --> {location}")?;
        }
        write!(f, "  = help: {}", self.help)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("boom")]
    struct Boom;
    impl Coded for Boom {
        fn code(&self) -> ErrorCode {
            ErrorCode::StaleHandle
        }
        fn location(&self) -> Option<String> {
            Some("node `sink`".into())
        }
    }

    #[test]
    fn diagnostic_renders_code_location_and_help() {
        let text = Boom.diagnostic().to_string();
        assert_eq!(
            text,
            "error[E0303]: boom\n  --> node `sink`\n  = help: the component used a buffer after it was released; review its handle use"
        );
    }

    #[test]
    fn missing_inputs_exit_with_two_and_the_rest_with_one() {
        assert_eq!(ErrorCode::ManifestNotFound.exit_code(), 2);
        assert_eq!(ErrorCode::ComponentNotFound.exit_code(), 2);
        assert_eq!(ErrorCode::ManifestParseError.exit_code(), 1);
        assert_eq!(ErrorCode::ComponentTimeout.exit_code(), 1);
    }

    #[test]
    fn codes_and_names_follow_the_spec() {
        assert_eq!(ErrorCode::ManifestParseError.as_str(), "E0002");
        assert_eq!(ErrorCode::BudgetExceeded.as_str(), "E0310");
        assert_eq!(ErrorCode::FatalComponentError.name(), "FatalComponentError");
        assert_eq!(ErrorCode::RegistryAuthFailed.as_str(), "E0601");
        assert_eq!(ErrorCode::PushFailed.as_str(), "E0602");
        assert_eq!(ErrorCode::SigningFailed.name(), "SigningFailed");
    }
}
