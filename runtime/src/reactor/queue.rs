//! [`BoundedQueue`]: a fixed-capacity FIFO ring. Its storage is allocated
//! once at creation; pushing into a full queue hands the value back instead
//! of growing.

/// A fixed-capacity FIFO ring queue.
#[derive(Debug)]
pub struct BoundedQueue<T> {
    slots: Box<[Option<T>]>,
    head: usize,
    len: usize,
    peak: usize,
}

impl<T> BoundedQueue<T> {
    /// A queue holding at most `capacity` (≥ 1) values.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            slots: (0..capacity).map(|_| None).collect(),
            head: 0,
            len: 0,
            peak: 0,
        }
    }

    /// Appends `value`, or returns it when the queue is full.
    // HOT PATH
    pub fn push(&mut self, value: T) -> Result<(), T> {
        if self.len == self.slots.len() {
            return Err(value);
        }
        let tail = (self.head + self.len) % self.slots.len();
        self.slots[tail] = Some(value);
        self.len += 1;
        self.peak = self.peak.max(self.len);
        Ok(())
    }

    /// Removes the oldest value.
    // HOT PATH
    pub fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let value = self.slots[self.head].take();
        self.head = (self.head + 1) % self.slots.len();
        self.len -= 1;
        value
    }

    /// Values queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether no more values fit.
    pub fn is_full(&self) -> bool {
        self.len == self.slots.len()
    }

    /// Maximum values held at once.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Highest depth ever reached.
    pub fn peak(&self) -> usize {
        self.peak
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[test]
    fn refuses_to_grow_past_capacity() {
        let mut q = BoundedQueue::new(2);
        assert!(q.push(1).is_ok());
        assert!(q.push(2).is_ok());
        assert_eq!(q.push(3), Err(3));
        assert!(q.is_full());
        assert_eq!(q.pop(), Some(1));
        assert!(q.push(3).is_ok());
        assert_eq!((q.pop(), q.pop(), q.pop()), (Some(2), Some(3), None));
        assert_eq!(q.peak(), 2);
    }

    proptest! {
        /// The ring behaves as an unbounded FIFO truncated at its capacity.
        #[test]
        fn behaves_like_a_bounded_fifo(cap in 1usize..8, ops in proptest::collection::vec(any::<Option<u8>>(), 0..200)) {
            let mut q = BoundedQueue::new(cap);
            let mut model = VecDeque::new();
            for op in ops {
                match op {
                    Some(v) => {
                        let accepted = q.push(v).is_ok();
                        prop_assert_eq!(accepted, model.len() < cap);
                        if accepted { model.push_back(v); }
                    }
                    None => prop_assert_eq!(q.pop(), model.pop_front()),
                }
                prop_assert_eq!(q.len(), model.len());
                prop_assert!(q.len() <= cap);
            }
        }
    }
}
