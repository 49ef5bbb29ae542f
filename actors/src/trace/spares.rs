//! [`SpareBuffers`]: emptied trace record buffers, kept for the flows to
//! fill again.
//!
//! A flow writes its trace records into a buffer, hands the buffer to the
//! trace thread and takes a spare to write on. New buffers cost a flow
//! dearly (an allocation, then a page fault for every 4 KiB it writes), so
//! the trace thread gives each buffer back once its records are read.
//!
//! The most recently given back is taken first: its memory is the most
//! likely to be still in cache. Taken in turn (a queue), a flow's
//! records went round every buffer of the pool, each long evicted by the
//! time it came back: about 0.4 % of a diagnostic flow's throughput in
//! the observability benchmark.

use std::sync::{Arc, Mutex, PoisonError};
use torvyn_runtime::reactor::TraceRecord;

/// Spare buffers kept at most: enough for every flow of a busy host to
/// find one.
const MAX_SPARES: usize = 32;

/// Buffers larger than this are freed rather than kept (a burst made them
/// large: that memory is released).
const MAX_SPARE_RECORDS: usize = 2048;

/// The host's spare record buffers, shared by its flows and the trace
/// thread.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpareBuffers {
    stack: Arc<Mutex<Vec<Vec<TraceRecord>>>>,
}

impl SpareBuffers {
    /// The most recently given back spare, or a new empty buffer.
    // WARM PATH: once per hand-off, never per element (an uncontended
    // lock: the trace thread takes it once per batch it reads).
    pub(crate) fn take(&self) -> Vec<TraceRecord> {
        self.stack
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default()
    }

    /// Empties `records` and keeps its memory for [`Self::take`], unless
    /// it has none or too much, or enough spares are kept already.
    // WARM PATH: once per hand-off.
    pub(crate) fn give_back(&self, mut records: Vec<TraceRecord>) {
        if records.capacity() == 0 || records.capacity() > MAX_SPARE_RECORDS {
            return;
        }
        records.clear();
        let mut stack = self.stack.lock().unwrap_or_else(PoisonError::into_inner);
        if stack.len() < MAX_SPARES {
            stack.push(records);
        }
    }

    /// Spares kept now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.stack
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_capacity(capacity: usize) -> Vec<TraceRecord> {
        Vec::with_capacity(capacity)
    }

    #[test]
    fn the_last_buffer_given_back_is_taken_first_and_emptied() {
        let spares = SpareBuffers::default();
        spares.give_back(with_capacity(10));
        let mut last = with_capacity(20);
        last.push(TraceRecord::SinkPaused {
            node: 0,
            at_unix_ns: 1,
        });
        let address = last.as_ptr();
        spares.give_back(last);
        let taken = spares.take();
        assert_eq!(taken.as_ptr(), address);
        assert!(taken.is_empty());
        assert_eq!(spares.take().capacity(), 10);
    }

    #[test]
    fn an_empty_pool_gives_a_new_buffer() {
        let spares = SpareBuffers::default();
        let taken = spares.take();
        assert_eq!(taken.capacity(), 0);
    }

    #[test]
    fn buffers_without_memory_or_with_too_much_are_not_kept() {
        let spares = SpareBuffers::default();
        spares.give_back(Vec::new());
        spares.give_back(with_capacity(MAX_SPARE_RECORDS + 1));
        assert_eq!(spares.len(), 0);
    }

    #[test]
    fn the_pool_keeps_at_most_its_limit() {
        let spares = SpareBuffers::default();
        for _ in 0..MAX_SPARES + 5 {
            spares.give_back(with_capacity(4));
        }
        assert_eq!(spares.len(), MAX_SPARES);
    }
}
