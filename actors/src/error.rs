//! [`HostError`]: why a handle call failed, each with a stable code.

use crate::ids::FlowId;
use crate::state::InvalidTransition;
use torvyn_runtime::assembly::AssemblyError;
use torvyn_runtime::error::{Coded, Diagnostic, ErrorCode};
use torvyn_runtime::reactor::FlowReport;

/// A [`TorvynHandle`](crate::TorvynHandle) call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HostError {
    /// The flow failed (trap, fatal error, deadline, topology…) or was
    /// cancelled (E0402). The diagnostic carries the flow's own code.
    #[error("{flow} failed: {}", diagnostic.message)]
    Flow {
        /// Which flow.
        flow: FlowId,
        /// Code, message, location and fix of the failure.
        diagnostic: Diagnostic,
        /// The flow's counters at the moment it stopped, if it got that far.
        report: Option<Box<FlowReport>>,
    },
    /// No flow with this id was started on this host, or it finished so
    /// long ago that the host has forgotten it.
    #[error("no flow {0} on this host")]
    UnknownFlow(FlowId),
    /// The control command does not apply to the flow's current state.
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// The host was shut down (or its actor system stopped).
    #[error("the Torvyn host is shut down")]
    HostStopped,
    /// The host could not start (thread spawn, engine setup).
    #[error("the Torvyn host could not start: {0}")]
    Startup(String),
    /// The metrics catalog could not be rendered.
    #[error("the metrics could not be exported: {0}")]
    Metrics(String),
    /// A manifest, a flow plan or an exporter setting is invalid: every
    /// problem found, each with its code (E0001, E0203, E0210, E07xx, …).
    #[error(transparent)]
    Invalid(#[from] AssemblyError),
}

impl HostError {
    /// The failure of a flow, from its runtime error.
    pub(crate) fn flow(flow: FlowId, error: &dyn Coded, report: Option<FlowReport>) -> Self {
        HostError::Flow {
            flow,
            diagnostic: error.diagnostic(),
            report: report.map(Box::new),
        }
    }
}

impl Coded for HostError {
    fn code(&self) -> ErrorCode {
        match self {
            HostError::Flow { diagnostic, .. } => diagnostic.code,
            HostError::InvalidTransition(e) => e.code(),
            // The spec has no code for an unknown flow id; E0702 ("a value
            // is out of range") is the closest.
            HostError::UnknownFlow(_) => ErrorCode::ConstraintViolation,
            // Shutting the host down stops (cancels) what still runs.
            HostError::HostStopped => ErrorCode::FlowCancelled,
            HostError::Startup(_) | HostError::Metrics(_) => ErrorCode::ConstraintViolation,
            HostError::Invalid(e) => e.code(),
        }
    }

    fn location(&self) -> Option<String> {
        match self {
            HostError::Flow { diagnostic, .. } => diagnostic.location.clone(),
            HostError::UnknownFlow(id) => Some(id.to_string()),
            HostError::Invalid(e) => e.location(),
            _ => None,
        }
    }

    fn help(&self) -> String {
        match self {
            HostError::Flow { diagnostic, .. } => diagnostic.help.clone(),
            HostError::InvalidTransition(e) => e.help(),
            HostError::UnknownFlow(_) => "use the FlowId that start_flow returned; a flow that finished long ago is forgotten (TorvynHostBuilder::finished_outcomes_retained keeps more)".into(),
            HostError::HostStopped => "start a new host with TorvynHost::builder()".into(),
            HostError::Startup(_) => {
                "check [runtime] worker_threads and the engine settings".into()
            }
            HostError::Metrics(_) => "this is a Torvyn bug; please report it".into(),
            HostError::Invalid(e) => e.help(),
        }
    }

    fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            HostError::Invalid(e) => e.diagnostics(),
            other => vec![other.diagnostic()],
        }
    }
}

/// The failure recorded when an operator cancels a flow (E0402).
#[derive(Debug, thiserror::Error)]
#[error("flow `{flow}` was cancelled by operator command")]
pub(crate) struct Cancelled {
    pub(crate) flow: String,
}

impl Coded for Cancelled {
    fn code(&self) -> ErrorCode {
        ErrorCode::FlowCancelled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_host_error_cancelled_flow_carries_e0402() {
        let e = HostError::flow(
            FlowId::new(3),
            &Cancelled {
                flow: "main".into(),
            },
            None,
        );
        assert_eq!(e.code(), ErrorCode::FlowCancelled);
        assert!(e.to_string().contains("flow-3 failed"));
    }
}
