//! The per-flow copy ledger: every copy of payload or metadata bytes, by
//! reason and by the component that caused it, plus the copy amplification
//! ratio (payload bytes copied ÷ payload bytes produced).
//!
//! Counters are pre-allocated when the flow is created; recording a copy
//! never allocates. Individual [`TransferRecord`]s are kept only when the
//! ledger was created with a record capacity (diagnostic level), in a
//! fixed-size ring that overwrites its oldest entries.

use super::handle::{BufferId, ComponentId};

/// Why bytes were copied (the spec's copy reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CopyReason {
    /// The canonical ABI marshaled element metadata into component memory.
    MetadataMarshal,
    /// `buffer.read` / `buffer.read-all`: host → component memory.
    PayloadRead,
    /// `mutable-buffer.write` / `append` (and `clone-into-mutable`): into a host buffer.
    PayloadWrite,
    /// A copy the host made for serialization or export.
    HostSerialize,
}

impl CopyReason {
    /// All reasons, in report order.
    pub const ALL: [CopyReason; 4] = [
        CopyReason::MetadataMarshal,
        CopyReason::PayloadRead,
        CopyReason::PayloadWrite,
        CopyReason::HostSerialize,
    ];

    /// Name as shown in reports.
    pub const fn name(self) -> &'static str {
        match self {
            CopyReason::MetadataMarshal => "MetadataMarshal",
            CopyReason::PayloadRead => "PayloadRead",
            CopyReason::PayloadWrite => "PayloadWrite",
            CopyReason::HostSerialize => "HostSerialize",
        }
    }

    /// Whether this reason moves payload bytes (counted in amplification).
    pub const fn is_payload(self) -> bool {
        matches!(self, CopyReason::PayloadRead | CopyReason::PayloadWrite)
    }

    const fn slot(self) -> usize {
        self as usize
    }
}

/// Copy operations and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyStats {
    /// Number of copy operations.
    pub operations: u64,
    /// Bytes copied.
    pub bytes: u64,
}

impl CopyStats {
    fn add(&mut self, bytes: u64) {
        self.operations += 1;
        self.bytes += bytes;
    }
}

/// One copy, kept at diagnostic level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferRecord {
    /// Nanoseconds since the ledger was created.
    pub timestamp_ns: u64,
    /// The buffer copied from or into.
    pub buffer: BufferId,
    /// The component that caused the copy.
    pub component: ComponentId,
    /// Bytes copied.
    pub bytes: u64,
    /// Why.
    pub reason: CopyReason,
}

/// The copy ledger of one flow.
#[derive(Debug)]
pub struct CopyLedger {
    by_reason: [CopyStats; 4],
    /// The sum of `by_reason`, kept as copies are recorded: traced calls
    /// read it twice each ([`Self::total`]).
    all: CopyStats,
    by_component: Vec<[CopyStats; 4]>,
    bytes_produced: u64,
    records: Vec<TransferRecord>,
    record_capacity: usize,
    next_record: usize,
    started: std::time::Instant,
}

impl CopyLedger {
    /// A ledger for `components` components keeping up to `record_capacity`
    /// individual records (0 keeps only the counters).
    pub fn new(components: usize, record_capacity: usize) -> Self {
        Self {
            by_reason: [CopyStats::default(); 4],
            all: CopyStats::default(),
            by_component: vec![[CopyStats::default(); 4]; components],
            bytes_produced: 0,
            records: Vec::with_capacity(record_capacity),
            record_capacity,
            next_record: 0,
            started: std::time::Instant::now(),
        }
    }

    /// Records one copy.
    // HOT PATH: no allocation (records go to a pre-sized ring).
    pub fn record(
        &mut self,
        component: ComponentId,
        buffer: BufferId,
        reason: CopyReason,
        bytes: u64,
    ) {
        self.by_reason[reason.slot()].add(bytes);
        self.all.add(bytes);
        if let Some(per) = self.by_component.get_mut(component.as_index()) {
            per[reason.slot()].add(bytes);
        }
        if self.record_capacity > 0 {
            let record = TransferRecord {
                timestamp_ns: self.started.elapsed().as_nanos() as u64,
                buffer,
                component,
                bytes,
                reason,
            };
            if self.records.len() < self.record_capacity {
                self.records.push(record);
            } else {
                self.records[self.next_record] = record;
            }
            self.next_record = (self.next_record + 1) % self.record_capacity;
        }
    }

    /// Records payload bytes that entered the flow (a component's output buffer).
    pub fn record_produced(&mut self, bytes: u64) {
        self.bytes_produced += bytes;
    }

    /// Totals for one reason.
    pub fn stats(&self, reason: CopyReason) -> CopyStats {
        self.by_reason[reason.slot()]
    }

    /// Totals for one reason caused by one component.
    pub fn component_stats(&self, component: ComponentId, reason: CopyReason) -> CopyStats {
        self.by_component
            .get(component.as_index())
            .map(|per| per[reason.slot()])
            .unwrap_or_default()
    }

    /// Payload copies (reads + writes): what `torvyn run` reports as "Copies".
    pub fn payload_copies(&self) -> CopyStats {
        let read = self.stats(CopyReason::PayloadRead);
        let write = self.stats(CopyReason::PayloadWrite);
        CopyStats {
            operations: read.operations + write.operations,
            bytes: read.bytes + write.bytes,
        }
    }

    /// Every copy of every reason.
    // HOT PATH (calls traced in detail): one load per word.
    pub fn total(&self) -> CopyStats {
        self.all
    }

    /// Payload bytes produced by components.
    pub fn bytes_produced(&self) -> u64 {
        self.bytes_produced
    }

    /// Payload bytes copied ÷ payload bytes produced (0.0 when nothing was produced).
    pub fn amplification(&self) -> f64 {
        if self.bytes_produced == 0 {
            0.0
        } else {
            self.payload_copies().bytes as f64 / self.bytes_produced as f64
        }
    }

    /// Kept records, oldest first.
    pub fn records(&self) -> Vec<TransferRecord> {
        if self.records.len() < self.record_capacity {
            self.records.clone()
        } else {
            let (newer, older) = self.records.split_at(self.next_record);
            older.iter().chain(newer).copied().collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: ComponentId = ComponentId(0);
    const B: ComponentId = ComponentId(1);

    fn buf(i: u32) -> BufferId {
        BufferId::new(i, 0)
    }

    #[test]
    fn counts_by_reason_and_component() {
        let mut ledger = CopyLedger::new(2, 0);
        ledger.record(A, buf(0), CopyReason::PayloadWrite, 64);
        ledger.record(B, buf(0), CopyReason::PayloadRead, 64);
        ledger.record(B, buf(0), CopyReason::MetadataMarshal, 26);
        assert_eq!(
            ledger.stats(CopyReason::PayloadWrite),
            CopyStats {
                operations: 1,
                bytes: 64
            }
        );
        assert_eq!(ledger.component_stats(B, CopyReason::PayloadRead).bytes, 64);
        assert_eq!(ledger.component_stats(A, CopyReason::PayloadRead).bytes, 0);
        assert_eq!(
            ledger.payload_copies(),
            CopyStats {
                operations: 2,
                bytes: 128
            }
        );
        assert_eq!(ledger.total().operations, 3);
        let summed = CopyReason::ALL
            .iter()
            .fold(CopyStats::default(), |acc, r| CopyStats {
                operations: acc.operations + ledger.stats(*r).operations,
                bytes: acc.bytes + ledger.stats(*r).bytes,
            });
        assert_eq!(ledger.total(), summed);
        assert!(ledger.records().is_empty());
    }

    #[test]
    fn amplification_is_payload_bytes_copied_over_produced() {
        let mut ledger = CopyLedger::new(1, 0);
        assert_eq!(ledger.amplification(), 0.0);
        ledger.record_produced(100);
        ledger.record(A, buf(0), CopyReason::PayloadWrite, 100);
        ledger.record(A, buf(0), CopyReason::PayloadRead, 100);
        ledger.record(A, buf(0), CopyReason::MetadataMarshal, 30);
        assert_eq!(ledger.amplification(), 2.0);
    }

    #[test]
    fn records_ring_keeps_the_newest_in_order() {
        let mut ledger = CopyLedger::new(1, 3);
        for i in 0..5 {
            ledger.record(A, buf(i), CopyReason::PayloadRead, u64::from(i));
        }
        let kept: Vec<u64> = ledger.records().iter().map(|r| r.bytes).collect();
        assert_eq!(kept, vec![2, 3, 4]);
    }
}
