//! Per-element tracing: what each component call did to each element,
//! recorded on the hot path into pre-sized storage and drained by the
//! flow's driver between batches.
//!
//! # Modes
//!
//! - [`TraceMode::Off`]: nothing is recorded.
//! - [`TraceMode::Sampled`] (the `production` level): an element is
//!   *sampled* when a hash of its sequence falls under the sample rate
//!   (head-based: the decision is the same at every stage). Its calls are
//!   recorded in detail (buffers, sizes, copies) and exported. Every other
//!   call leaves a small record in a ring of the last
//!   `ring_buffer_capacity` calls; when an element fails (error
//!   promotion) or is slow (tail-latency promotion: one call, or its
//!   end-to-end latency, over the threshold), its records still in the
//!   ring are exported retroactively and its later calls in detail.
//!
//!   When the flow's shape leaves an element one way to each node (no
//!   fan-in, no aggregator, no dead-letter stream: see [`NodePath`]), an
//!   untimed call that passed its element on says nothing its element's
//!   later calls do not: such calls skip the ring, and a promotion
//!   exports them rebuilt from the path (placed at the element's
//!   timestamp, unmeasured, as an untimed ring record would be).
//! - [`TraceMode::Full`] (the `diagnostic` level): every call in detail,
//!   plus backpressure, pause and restart events, plus (optionally) the
//!   first bytes of each element's payload.
//!
//! # Costs
//!
//! Recording is a copy of a record into storage whose capacity was
//! reserved before (a 32-byte [`CallRecord`] into the ring for an
//! unsampled call, a [`StageRecord`] into the export buffer for a detailed
//! one): no allocation once warm, no lock, no message.
//! Records that cannot be kept because nobody drained the export buffer
//! in time are counted in [`TraceRecorder::dropped`].

mod recorder;
mod records;
mod ring;
mod sampling;
mod settings;
#[cfg(test)]
mod tests;

pub use crate::trace_context::{lower_hex, TraceContext};
pub use recorder::TraceRecorder;
pub use records::{BackpressurePhase, BufferRef, StageOp, StageOutcome, StageRecord, TraceRecord};
pub use ring::{CallRecord, NodePath};
pub use sampling::{
    timing_every_for, CallClass, CallGate, PRODUCTION_TIMED_PER_SECOND, PRODUCTION_TIMING_EVERY,
};
pub use settings::{TraceMode, TraceSettings, PREVIEW_BYTES};
