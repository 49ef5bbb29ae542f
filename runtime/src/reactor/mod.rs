//! The reactor core: bounded ring queues and the synchronous stage loop
//! that moves elements from a source to a sink.

pub mod element;
pub mod error;
pub mod queue;
pub mod report;
pub mod stage_loop;

pub use element::QueuedElement;
pub use error::FlowError;
pub use queue::BoundedQueue;
pub use report::{FlowReport, StageReport};
pub use stage_loop::{
    validate_linear, FlowProgress, FlowSettings, LinearFlow, StageRole, StageSpec,
};
