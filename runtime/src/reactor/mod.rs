//! The reactor core: bounded ring queues, credit ledgers, backpressure
//! policies and the synchronous stage loop that moves elements through a
//! flow's DAG.

pub mod backpressure;
pub mod clock;
pub mod credit;
pub mod element;
pub mod error;
pub mod events;
pub mod histogram;
pub mod latency;
pub mod queue;
pub mod report;
pub mod stage_loop;
pub mod trace;

pub use backpressure::{Policy, StreamSettings};
pub use credit::{CreditError, CreditLedger};
pub use element::QueuedElement;
pub use error::FlowError;
pub use events::FlowEvent;
pub use histogram::{FlowHistograms, HistogramCounts, HistogramSlot, LogHistogram, SampleBuffer};
pub use latency::{HistogramSnapshot, LatencySnapshot};
pub use queue::BoundedQueue;
pub use report::{FlowReport, StageReport, StreamReport};
pub use trace::{
    NodePath, TraceContext, TraceMode, TraceRecord, TraceSettings, PRODUCTION_TIMING_EVERY,
};
pub mod supervision;

pub use stage_loop::{
    validate_graph, validate_linear, EdgeSpec, FanOut, Flow, FlowProgress, FlowSettings, FlowSpec,
    LinearFlow, Merge, NodeScheduling, StageRole, StageSpec,
};
