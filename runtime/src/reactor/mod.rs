//! The reactor core: bounded ring queues, credit ledgers, backpressure
//! policies and the synchronous stage loop that moves elements through a
//! flow's DAG.
//!
//! A flow is described by [`spec`] (stages, streams, settings), checked by
//! [`validate`], and run by [`flow`] (building, scheduling, stepping,
//! routing, failures, observation, reports). [`trace`] is its per-element
//! trace, [`supervision`] its restart and error policies.

pub mod backpressure;
pub mod clock;
pub mod completion;
pub mod credit;
pub mod element;
pub mod error;
pub mod events;
pub mod flow;
pub mod histogram;
pub mod latency;
pub mod queue;
pub mod replicas;
pub mod report;
pub mod spec;
pub mod trace;
pub mod validate;

pub use backpressure::{Policy, StreamSettings};
pub use credit::{CreditError, CreditLedger};
pub use element::QueuedElement;
pub use error::FlowError;
pub use events::FlowEvent;
pub use histogram::{FlowHistograms, HistogramCounts, HistogramSlot, LogHistogram, SampleBuffer};
pub use latency::{HistogramSnapshot, LatencySnapshot};
pub use queue::BoundedQueue;
pub use replicas::merge_replicas;
pub use report::{FlowReport, ReplicaReport, StageReport, StreamReport};
pub use trace::{
    NodePath, TraceContext, TraceMode, TraceRecord, TraceSettings, PRODUCTION_TIMING_EVERY,
};
pub mod supervision;

pub use flow::{Flow, LinearFlow};
pub use spec::{
    EdgeSpec, FanOut, FlowProgress, FlowSettings, FlowSpec, Merge, NodeScheduling, Partition,
    StageComponent, StageRole, StageSpec,
};
pub use validate::{validate_graph, validate_linear};
