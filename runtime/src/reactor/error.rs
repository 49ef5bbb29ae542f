//! Flow errors: why a flow could not be built or did not complete.

use crate::engine::{EngineError, InvokeError};
use crate::error::{Coded, ErrorCode};
use crate::resources::ResourceError;

/// A flow failed to start or to run to completion.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The node graph cannot run (a cycle, wrong roles, a missing export, …).
    #[error("invalid flow topology: {0}")]
    Topology(String),
    /// A component could not be loaded or instantiated.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A component call trapped, ran out of fuel, or broke the contract.
    #[error(transparent)]
    Invoke(#[from] InvokeError),
    /// `lifecycle.init` returned an error.
    #[error("component `{component}` refused to start: lifecycle.init returned {error}")]
    InitFailed {
        /// Node name.
        component: String,
        /// The process-error, rendered.
        error: String,
    },
    /// A component returned `process-error::fatal`, or failed `complete`.
    #[error("component `{component}` failed fatally in `{function}`: {message}")]
    Fatal {
        /// Node name.
        component: String,
        /// The function that failed.
        function: &'static str,
        /// Its message.
        message: String,
    },
    /// A non-fatal `process-error` under the `fail` error policy.
    #[error("component `{component}` failed an element in `{function}`: {error}")]
    ElementFailed {
        /// Node name.
        component: String,
        /// The function that failed.
        function: &'static str,
        /// The process-error, rendered.
        error: String,
    },
    /// A component failed more often than the flow's restart intensity
    /// allows.
    #[error("component `{component}` failed again after {restarts} restarts within {window_ms} ms (restart intensity exceeded): {cause}")]
    RestartIntensity {
        /// Node name.
        component: String,
        /// Restarts allowed in the window.
        restarts: u32,
        /// The window.
        window_ms: u64,
        /// The last failure's code.
        code: crate::error::ErrorCode,
        /// The last failure, rendered.
        cause: String,
        /// How to fix the last failure.
        cause_help: String,
    },
    /// A node's supervision settings cannot work (e.g. `dead-letter` with
    /// nowhere to send).
    #[error("node `{component}`: {message}")]
    Supervision {
        /// Node name.
        component: String,
        /// What is wrong.
        message: String,
    },
    /// The host code driving the flow panicked (a Torvyn bug, or an
    /// injected fault); the flow is failed, the host carries on.
    #[error("flow `{flow}`: the host panicked while running it: {message}")]
    HostPanic {
        /// Flow name.
        flow: String,
        /// The panic message.
        message: String,
    },
    /// A component handed the runtime a buffer it did not own, or a stale one.
    #[error("component `{component}` returned an unusable buffer: {source}")]
    Ownership {
        /// Node name.
        component: String,
        /// The violation.
        source: ResourceError,
    },
    /// A router returned a port no stream leaves from (E0204).
    #[error(
        "router `{component}` returned port `{port}`, which no stream leaves from (ports: {known})"
    )]
    UnknownPort {
        /// Node name.
        component: String,
        /// The port it returned.
        port: String,
        /// The ports its streams use.
        known: String,
    },
    /// A stream under the `error` policy was full.
    #[error("stream `{stream}` is full ({capacity} elements) and its policy is `error`")]
    QueueFull {
        /// Stream name.
        stream: String,
        /// Its capacity.
        capacity: usize,
    },
    /// The flow was cancelled.
    #[error("flow `{flow}` was cancelled")]
    Cancelled {
        /// Flow name.
        flow: String,
    },
    /// Nothing can run although the flow has not finished (a runtime bug).
    #[error("flow `{flow}` stalled: no stage can run and the flow has not finished")]
    Stalled {
        /// Flow name.
        flow: String,
    },
    /// The flow ran longer than its deadline.
    #[error("flow `{flow}` exceeded its deadline of {limit_ms} ms")]
    DeadlineExceeded {
        /// Flow name.
        flow: String,
        /// The limit.
        limit_ms: u64,
    },
}

impl Coded for FlowError {
    fn code(&self) -> ErrorCode {
        match self {
            FlowError::Topology(_) => ErrorCode::TopologyInvalid,
            FlowError::Engine(e) => e.code(),
            FlowError::Invoke(e) => e.code(),
            FlowError::InitFailed { .. }
            | FlowError::Fatal { .. }
            | FlowError::ElementFailed { .. }
            | FlowError::Supervision { .. }
            | FlowError::HostPanic { .. } => ErrorCode::FatalComponentError,
            FlowError::RestartIntensity { code, .. } => *code,
            FlowError::Ownership { source, .. } => source.code(),
            FlowError::DeadlineExceeded { .. } => ErrorCode::FlowDeadlineExceeded,
            FlowError::UnknownPort { .. } => ErrorCode::RouterPortUnknown,
            FlowError::QueueFull { .. }
            | FlowError::Cancelled { .. }
            | FlowError::Stalled { .. } => ErrorCode::FlowCancelled,
        }
    }

    fn location(&self) -> Option<String> {
        match self {
            FlowError::Engine(e) => e.location(),
            FlowError::Invoke(e) => e.location(),
            FlowError::InitFailed { component, .. } => {
                Some(format!("component `{component}`, function `init`"))
            }
            FlowError::Fatal {
                component,
                function,
                ..
            }
            | FlowError::ElementFailed {
                component,
                function,
                ..
            } => Some(format!("component `{component}`, function `{function}`")),
            FlowError::RestartIntensity { component, .. }
            | FlowError::Supervision { component, .. } => Some(format!("component `{component}`")),
            FlowError::Ownership { component, .. } => Some(format!("component `{component}`")),
            FlowError::UnknownPort { component, .. } => Some(format!("router `{component}`")),
            FlowError::QueueFull { stream, .. } => Some(format!("stream `{stream}`")),
            FlowError::Topology(_)
            | FlowError::HostPanic { .. }
            | FlowError::DeadlineExceeded { .. }
            | FlowError::Cancelled { .. }
            | FlowError::Stalled { .. } => None,
        }
    }

    fn help(&self) -> String {
        match self {
            FlowError::Engine(e) => e.help(),
            FlowError::Invoke(e) => e.help(),
            FlowError::InitFailed { error, .. } if error.starts_with("unavailable(") => {
                "the node could not reach what it needs (a server, a stream, a file): start it or \
                 fix the address in the node's `config`, then run again"
                    .into()
            }
            FlowError::InitFailed { .. } => {
                "check the node's `config` string in Torvyn.toml; the component rejected it".into()
            }
            FlowError::DeadlineExceeded { .. } => {
                "raise --timeout, or find the slow component with `torvyn trace`".into()
            }
            FlowError::RestartIntensity {
                cause_help,
                restarts,
                window_ms,
                ..
            } => format!(
                "{cause_help} (supervision allows {restarts} restart(s) per {window_ms} ms: [flow.<name>.supervision] max_restarts / restart_window_ms)"
            ),
            FlowError::ElementFailed { .. } => {
                "the node's on_error policy is `fail`; choose skip, retry or dead-letter to keep the flow running".into()
            }
            FlowError::Supervision { .. } => {
                "give the node a `dead-letter` edge (from = { node = \"<node>\", port = \"dead-letter\" }) or a dead_letter_file".into()
            }
            other => other.code().default_help().into(),
        }
    }
}
