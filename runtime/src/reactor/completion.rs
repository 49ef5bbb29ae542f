//! The completion tracker: for each element pulled from a source that
//! acknowledges its input (a `builtin:nats-source`), how many of its
//! derivatives are still in flight — queued on a stream, in a stage's
//! hands, or held by a sink that has not confirmed it yet. When the count
//! reaches zero every sink the element reached accepted it (or a filter
//! dropped it, or the `skip` policy disposed of it), and the source hears
//! that it may acknowledge the element.
//!
//! Elements are identified by the sequence the host assigns at the source,
//! which processors' outputs keep. The table is allocated once, at the
//! flow's start, with room for every element the flow can hold: nothing on
//! the hot path allocates, locks or sends a message. It is open addressing
//! with linear probing and backward-shift deletion (no tombstones).
//! Operations on a sequence the tracker does not know (an element of an
//! ordinary source, an aggregate) do nothing.

/// One tracked element.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// Sequence + 1 (0: the slot is free).
    key: u64,
    /// Live derivatives.
    live: u32,
    /// The source node it came from.
    source: u32,
    /// What the source said identifies it (a stream sequence).
    origin: u64,
}

/// A completed element: every derivative was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completed {
    /// The element's sequence.
    pub sequence: u64,
    /// The source node it came from.
    pub source: usize,
}

/// The tracked elements of one flow.
#[derive(Debug)]
pub struct CompletionTracker {
    slots: Box<[Slot]>,
    /// `slots.len() - 1` (the length is a power of two).
    mask: usize,
    /// Tracked elements now.
    len: usize,
    /// Most elements tracked at once (three quarters of the slots: probes
    /// stay short).
    limit: usize,
}

impl CompletionTracker {
    /// A tracker for up to `elements` elements in flight at once.
    pub fn with_capacity(elements: usize) -> Self {
        let slots = (elements.max(1) * 4 / 3 + 1).next_power_of_two();
        Self {
            slots: vec![Slot::default(); slots].into_boxed_slice(),
            mask: slots - 1,
            len: 0,
            limit: elements.max(1),
        }
    }

    /// Whether another element can be tracked (a source that acknowledges
    /// is not pulled while there is no room).
    pub fn has_room(&self) -> bool {
        self.len < self.limit
    }

    /// Elements tracked now.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Starts tracking `sequence` from `source`, held once by the pull
    /// that produced it. `false` when there is no room (or it is tracked
    /// already).
    // HOT PATH
    pub fn track(&mut self, sequence: u64, source: usize, origin: u64) -> bool {
        if !self.has_room() {
            return false;
        }
        let key = sequence.wrapping_add(1);
        let mut i = self.home(sequence);
        loop {
            let slot = &mut self.slots[i];
            if slot.key == key {
                return false;
            }
            if slot.key == 0 {
                *slot = Slot {
                    key,
                    live: 1,
                    source: source as u32,
                    origin,
                };
                self.len += 1;
                return true;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// What the source said identifies `sequence`, if it is tracked.
    // HOT PATH
    pub fn origin(&self, sequence: u64) -> Option<(usize, u64)> {
        self.find(sequence)
            .map(|i| (self.slots[i].source as usize, self.slots[i].origin))
    }

    /// One more derivative of `sequence` is in flight (queued on a stream,
    /// or held by a sink until it confirms).
    // HOT PATH
    pub fn hold(&mut self, sequence: u64) {
        if let Some(i) = self.find(sequence) {
            self.slots[i].live += 1;
        }
    }

    /// One derivative of `sequence` was handled; the element when it was
    /// the last.
    // HOT PATH
    pub fn release(&mut self, sequence: u64) -> Option<Completed> {
        let i = self.find(sequence)?;
        let slot = &mut self.slots[i];
        slot.live = slot.live.saturating_sub(1);
        if slot.live > 0 {
            return None;
        }
        let source = slot.source as usize;
        self.remove_at(i);
        Some(Completed { sequence, source })
    }

    /// Stops tracking `sequence` without completing it (a sink failed it:
    /// its source must not acknowledge it); its source, if it was tracked.
    pub fn abandon(&mut self, sequence: u64) -> Option<usize> {
        let i = self.find(sequence)?;
        let source = self.slots[i].source as usize;
        self.remove_at(i);
        Some(source)
    }

    fn home(&self, sequence: u64) -> usize {
        // Fibonacci hashing: consecutive sequences spread over the table.
        (sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & self.mask
    }

    fn find(&self, sequence: u64) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let key = sequence.wrapping_add(1);
        let mut i = self.home(sequence);
        loop {
            let slot = &self.slots[i];
            if slot.key == key {
                return Some(i);
            }
            if slot.key == 0 {
                return None;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Frees slot `i`, shifting back the entries after it that probed past
    /// it (so lookups never stop early at the hole).
    fn remove_at(&mut self, mut hole: usize) {
        self.len -= 1;
        let mut i = hole;
        loop {
            i = (i + 1) & self.mask;
            let slot = self.slots[i];
            if slot.key == 0 {
                break;
            }
            let home = self.home(slot.key - 1);
            // The entry may move into the hole if its home is not in the
            // cyclic range (hole, i].
            let stays = if hole <= i {
                hole < home && home <= i
            } else {
                hole < home || home <= i
            };
            if !stays {
                self.slots[hole] = slot;
                hole = i;
            }
        }
        self.slots[hole] = Slot::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn an_element_completes_when_its_last_derivative_is_handled() {
        let mut t = CompletionTracker::with_capacity(8);
        assert!(t.track(7, 2, 700));
        assert_eq!(t.origin(7), Some((2, 700)));
        // Fanned out to two streams, then the pull's own hold ends.
        t.hold(7);
        t.hold(7);
        assert_eq!(t.release(7), None);
        assert_eq!(t.release(7), None);
        assert_eq!(
            t.release(7),
            Some(Completed {
                sequence: 7,
                source: 2
            })
        );
        assert!(t.is_empty());
        assert_eq!(t.origin(7), None);
    }

    #[test]
    fn unknown_sequences_are_ignored_and_a_full_tracker_refuses() {
        let mut t = CompletionTracker::with_capacity(2);
        t.hold(99);
        assert_eq!(t.release(99), None);
        assert_eq!(t.abandon(99), None);
        assert!(t.track(1, 0, 0));
        assert!(!t.track(1, 0, 0), "tracked twice");
        assert!(t.track(2, 0, 0));
        assert!(!t.has_room());
        assert!(!t.track(3, 0, 0), "full");
        assert_eq!(t.abandon(1), Some(0));
        assert!(t.has_room());
        assert_eq!(t.len(), 1);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Track(u64),
        Hold(u64),
        Release(u64),
        Abandon(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        // A small key space: collisions and re-use of freed slots are common.
        let seq = 0u64..48;
        prop_oneof![
            seq.clone().prop_map(Op::Track),
            seq.clone().prop_map(Op::Hold),
            seq.clone().prop_map(Op::Release),
            seq.prop_map(Op::Abandon),
        ]
    }

    proptest! {
        /// The table behaves as a map from sequence to live count.
        #[test]
        fn the_tracker_matches_a_map(ops in proptest::collection::vec(op(), 1..400)) {
            let mut t = CompletionTracker::with_capacity(16);
            let mut model: HashMap<u64, u32> = HashMap::new();
            for op in ops {
                match op {
                    Op::Track(s) => {
                        let fits = model.len() < 16 && !model.contains_key(&s);
                        prop_assert_eq!(t.track(s, (s % 3) as usize, s * 10), fits);
                        if fits {
                            model.insert(s, 1);
                        }
                    }
                    Op::Hold(s) => {
                        t.hold(s);
                        if let Some(live) = model.get_mut(&s) {
                            *live += 1;
                        }
                    }
                    Op::Release(s) => {
                        let expected = match model.get_mut(&s) {
                            Some(live) if *live <= 1 => {
                                model.remove(&s);
                                Some(Completed { sequence: s, source: (s % 3) as usize })
                            }
                            Some(live) => {
                                *live -= 1;
                                None
                            }
                            None => None,
                        };
                        prop_assert_eq!(t.release(s), expected);
                    }
                    Op::Abandon(s) => {
                        let expected = model.remove(&s).map(|_| (s % 3) as usize);
                        prop_assert_eq!(t.abandon(s), expected);
                    }
                }
                prop_assert_eq!(t.len(), model.len());
                for &s in model.keys() {
                    prop_assert_eq!(t.origin(s), Some(((s % 3) as usize, s * 10)));
                }
            }
        }
    }
}
