//! Engine errors: loading, compiling, instantiating and calling components.

use crate::error::{Coded, ErrorCode};
use std::path::PathBuf;

/// Loading, compiling or instantiating a component failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The .wasm file does not exist or cannot be read.
    #[error("component file {path} cannot be read: {reason}")]
    NotFound {
        /// The path tried.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The file is not a WebAssembly component (a core module or garbage).
    #[error("{path} is not a WebAssembly component: {reason}")]
    NotAComponent {
        /// The file.
        path: PathBuf,
        /// What Wasmtime said.
        reason: String,
    },
    /// The component imports something the host does not provide, or its
    /// exports do not match the Torvyn interfaces.
    #[error("component {path} does not fit the Torvyn host: {reason}")]
    Incompatible {
        /// The file.
        path: PathBuf,
        /// What did not match.
        reason: String,
    },
    /// The component exports none of the Torvyn processing interfaces.
    #[error("component {path} exports no Torvyn processing interface (found exports: {found})")]
    NoProcessingExport {
        /// The file.
        path: PathBuf,
        /// The exports it has.
        found: String,
    },
    /// Engine setup failed.
    #[error("cannot configure the Wasmtime engine: {0}")]
    Setup(String),
    /// The host's instance pool is full: it holds
    /// `[runtime] max_component_instances` component instances (or their
    /// memories, tables or core instances) already.
    #[error("cannot instantiate component `{component}`: the host's instance pool is full ({reason}; [runtime] max_component_instances = {limit})")]
    InstanceLimit {
        /// Component name.
        component: String,
        /// `max_component_instances` in force.
        limit: u32,
        /// Which pool ran out, as Wasmtime says it.
        reason: String,
    },
    /// Too few of the kernel's memory mappings are left for one more
    /// instance allocated on demand (see `engine::mappings`).
    #[error("cannot instantiate component `{component}`: the process has {used} of its {limit} memory mappings (vm.max_map_count) in use, too few left for another component instance")]
    MappingLimit {
        /// Component name.
        component: String,
        /// Mappings in use.
        used: u64,
        /// The limit.
        limit: u64,
    },
    /// Instantiation failed.
    #[error("cannot instantiate component `{component}`: {reason}")]
    Instantiate {
        /// Component name.
        component: String,
        /// Why.
        reason: String,
    },
}

impl Coded for EngineError {
    fn code(&self) -> ErrorCode {
        match self {
            EngineError::NotFound { .. } | EngineError::NotAComponent { .. } => {
                ErrorCode::ComponentNotFound
            }
            EngineError::Incompatible { .. } => ErrorCode::InterfaceIncompatible,
            EngineError::NoProcessingExport { .. } => ErrorCode::WorldIncomplete,
            // The engine is configured from [runtime]: a setting it cannot
            // take is a configuration value out of range, not an
            // allocation failure.
            EngineError::Setup(_) => ErrorCode::ConstraintViolation,
            // Instantiation fails when the instance's memories, tables or
            // stack cannot be allocated.
            EngineError::Instantiate { .. }
            | EngineError::InstanceLimit { .. }
            | EngineError::MappingLimit { .. } => ErrorCode::AllocationFailed,
        }
    }

    fn location(&self) -> Option<String> {
        match self {
            EngineError::NotFound { path, .. }
            | EngineError::NotAComponent { path, .. }
            | EngineError::Incompatible { path, .. }
            | EngineError::NoProcessingExport { path, .. } => Some(path.display().to_string()),
            EngineError::Instantiate { component, .. }
            | EngineError::InstanceLimit { component, .. }
            | EngineError::MappingLimit { component, .. } => {
                Some(format!("component `{component}`"))
            }
            EngineError::Setup(_) => Some("[runtime]".into()),
        }
    }

    fn help(&self) -> String {
        match self {
            EngineError::NotFound { .. } => {
                "check the node's `component` path, or build the component first (`cargo build --release --target wasm32-wasip2`)".into()
            }
            EngineError::NotAComponent { .. } => {
                "build it as a component: `cargo build --target wasm32-wasip2` produces one; a core module needs `wasm-tools component new`".into()
            }
            EngineError::Incompatible { .. } => {
                "build the component against the torvyn:streaming@0.1.0 WIT contracts and import only Torvyn and WASI interfaces".into()
            }
            EngineError::Setup(_) => {
                "check the [runtime] settings the engine is built from (fuel_per_invocation, max_memory_per_component, max_component_instances — its pool reserves address space for each instance —, max_invocation_time_ms), and run `torvyn doctor`".into()
            }
            // The memory limiter refused the instance's initial memory.
            EngineError::Instantiate { reason, .. } if reason.contains("byte limit") => {
                "the component's memory limit is its manifest's [capabilities.torvyn] max-memory when it states one, else [runtime] max_memory_per_component: raise the one in force".into()
            }
            EngineError::InstanceLimit { limit, .. } => format!(
                "the host holds at most {limit} component instances at once: raise [runtime] max_component_instances, or stop flows it no longer needs"
            ),
            EngineError::MappingLimit { .. } => {
                "each component instance allocated on demand costs memory mappings of its own: set [runtime] max_component_instances to hold instances in a pool (one mapping each), raise vm.max_map_count (sysctl), or stop flows the host no longer needs".into()
            }
            other => other.code().default_help().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_setup_is_a_configuration_error_and_instantiation_an_allocation_one() {
        let setup = EngineError::Setup("bad option".into());
        assert_eq!(setup.code(), ErrorCode::ConstraintViolation);
        assert_eq!(setup.location().as_deref(), Some("[runtime]"));
        assert!(setup.help().contains("[runtime]"));
        let instantiate = EngineError::Instantiate {
            component: "c".into(),
            reason: "out of memory".into(),
        };
        assert_eq!(instantiate.code(), ErrorCode::AllocationFailed);
        assert!(!instantiate.help().contains("max-memory"));
        let too_small = EngineError::Instantiate {
            component: "c".into(),
            reason: "linear memory would grow to 1114112 bytes, over the 65536 byte limit".into(),
        };
        assert!(
            too_small.help().contains("max-memory"),
            "{}",
            too_small.help()
        );
    }

    #[test]
    fn too_few_mappings_left_is_an_allocation_failure_with_the_ways_out() {
        let full = EngineError::MappingLimit {
            component: "source".into(),
            used: 57_400,
            limit: 65_530,
        };
        assert_eq!(full.code(), ErrorCode::AllocationFailed);
        assert_eq!(full.location().as_deref(), Some("component `source`"));
        assert!(
            full.to_string()
                .contains("57400 of its 65530 memory mappings"),
            "{full}"
        );
        let help = full.help();
        assert!(help.contains("max_component_instances"), "{help}");
        assert!(help.contains("vm.max_map_count"), "{help}");
    }

    #[test]
    fn a_full_instance_pool_is_an_allocation_failure_that_names_the_setting() {
        let full = EngineError::InstanceLimit {
            component: "sink".into(),
            limit: 4,
            reason: "maximum concurrent limit of 4 for component instances reached".into(),
        };
        assert_eq!(full.code(), ErrorCode::AllocationFailed);
        assert_eq!(full.location().as_deref(), Some("component `sink`"));
        assert!(
            full.help().contains("max_component_instances"),
            "{}",
            full.help()
        );
        assert!(full.to_string().contains("= 4"), "{full}");
    }
}

/// A component call failed without the guest returning a value: it
/// trapped, ran out of fuel, hit a limit, or broke the buffer contract.
#[derive(Debug, Clone, thiserror::Error)]
#[error("component `{component}` {kind} in `{function}`: {detail}")]
pub struct InvokeError {
    /// The component's name.
    pub component: String,
    /// The exported function called.
    pub function: &'static str,
    /// What kind of failure.
    pub kind: InvokeFailure,
    /// Wasmtime's or the host's description.
    pub detail: String,
    /// Stable code.
    pub code: ErrorCode,
}

impl InvokeError {
    /// `component`'s call of `function` failed as `kind` (`code`).
    pub fn new(
        component: &str,
        function: &'static str,
        kind: InvokeFailure,
        code: ErrorCode,
        detail: String,
    ) -> Self {
        Self {
            component: component.to_string(),
            function,
            kind,
            detail,
            code,
        }
    }
}

/// The kinds of failed calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvokeFailure {
    /// `unreachable`, a panic, or another Wasm trap.
    Trapped,
    /// The per-invocation fuel budget ran out.
    OutOfFuel,
    /// The call ran past its wall-clock deadline (epoch interruption):
    /// `max_invocation_time_ms`, or the init / teardown timeout.
    DeadlineExceeded,
    /// The flow was cancelled while the call ran: the call was interrupted
    /// (tiered cancellation).
    Interrupted,
    /// The Wasm stack overflowed.
    StackOverflow,
    /// Linear memory growth beyond the per-component limit.
    MemoryLimit,
    /// A host function refused the call (buffer contract violation).
    ContractViolation,
    /// The instance was already poisoned by an earlier trap.
    Poisoned,
}

impl std::fmt::Display for InvokeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InvokeFailure::Trapped => "trapped",
            InvokeFailure::OutOfFuel => "exceeded its fuel budget",
            InvokeFailure::DeadlineExceeded => "exceeded its deadline",
            InvokeFailure::Interrupted => "was interrupted because its flow was cancelled",
            InvokeFailure::StackOverflow => "overflowed its stack",
            InvokeFailure::MemoryLimit => "exceeded its memory limit",
            InvokeFailure::ContractViolation => "violated the buffer contract",
            InvokeFailure::Poisoned => "cannot be called after an earlier trap",
        })
    }
}

impl Coded for InvokeError {
    fn code(&self) -> ErrorCode {
        self.code
    }

    fn location(&self) -> Option<String> {
        Some(format!(
            "component `{}`, function `{}`",
            self.component, self.function
        ))
    }

    fn help(&self) -> String {
        match self.kind {
            InvokeFailure::Trapped => "the guest panicked or hit `unreachable`; its stderr above shows the panic message".into(),
            InvokeFailure::OutOfFuel => "raise [runtime] fuel_per_invocation (0 = unlimited) or make the component do less per call".into(),
            InvokeFailure::DeadlineExceeded => "raise the [runtime] key named above (0 = no deadline) or make the component do less per call".into(),
            InvokeFailure::StackOverflow => "the guest recursed too deeply; bound its recursion".into(),
            InvokeFailure::MemoryLimit => "raise [runtime] max_memory_per_component or reduce the component's memory use".into(),
            InvokeFailure::ContractViolation
            | InvokeFailure::Poisoned
            | InvokeFailure::Interrupted => self.code.default_help().into(),
        }
    }
}
