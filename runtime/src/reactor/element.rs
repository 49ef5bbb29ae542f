//! [`QueuedElement`]: what a ring queue holds between two stages — the
//! element's sequence, timestamp and the handle of its payload buffer
//! (never the bytes; the content type travels with the buffer).

use super::clock::Tick;
use crate::resources::BufferId;

/// One stream element waiting between two stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedElement {
    /// Sequence assigned at the source (from 0, in source order).
    pub sequence: u64,
    /// Wall-clock ns since the Unix epoch, assigned at the source.
    pub timestamp_ns: u64,
    /// The payload buffer (in transit).
    pub buffer: BufferId,
    /// When it entered its current queue (the end of the call that
    /// produced it); `Tick::default()` when calls are not timed.
    pub enqueued: Tick,
}
