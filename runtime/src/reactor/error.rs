//! Flow errors: why a flow could not be built or did not complete.

use crate::engine::{EngineError, InvokeError};
use crate::error::{Coded, ErrorCode};
use crate::resources::ResourceError;

/// A flow failed to start or to run to completion.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The node graph cannot run (cycle, wrong roles, not linear yet, …).
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
            FlowError::InitFailed { .. } | FlowError::Fatal { .. } => {
                ErrorCode::FatalComponentError
            }
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
            } => Some(format!("component `{component}`, function `{function}`")),
            FlowError::Ownership { component, .. } => Some(format!("component `{component}`")),
            FlowError::UnknownPort { component, .. } => Some(format!("router `{component}`")),
            FlowError::QueueFull { stream, .. } => Some(format!("stream `{stream}`")),
            FlowError::Topology(_)
            | FlowError::DeadlineExceeded { .. }
            | FlowError::Cancelled { .. }
            | FlowError::Stalled { .. } => None,
        }
    }

    fn help(&self) -> String {
        match self {
            FlowError::Engine(e) => e.help(),
            FlowError::Invoke(e) => e.help(),
            FlowError::InitFailed { .. } => {
                "check the node's `config` string in Torvyn.toml; the component rejected it".into()
            }
            FlowError::DeadlineExceeded { .. } => {
                "raise --timeout, or find the slow component with `torvyn trace`".into()
            }
            other => other.code().default_help().into(),
        }
    }
}
