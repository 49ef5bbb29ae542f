//! [`CreditLedger`]: the demand counter of one stream, with the rules of
//! Reactive Streams:
//!
//! - 1.1 a producer never emits more than it was granted;
//! - 2.1 no demand, no delivery;
//! - 3.5–3.7 cancel is idempotent and stops delivery at once; grants after
//!   cancel are no-ops;
//! - 3.9 a grant of zero is an error;
//! - 3.17 demand adds up and saturates at `u64::MAX` instead of overflowing.
//!
//! A stream starts with credit equal to its queue capacity; enqueuing
//! consumes one credit, the consumer taking an element grants one back.

/// Why a credit operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreditError {
    /// No credit left: the producer must wait (2.1).
    #[error("no demand credit left")]
    NoCredit,
    /// The stream was cancelled (3.5–3.7).
    #[error("the stream was cancelled")]
    Cancelled,
    /// A grant of zero (3.9).
    #[error("a grant of zero credits is not allowed")]
    ZeroGrant,
}

/// The demand counter of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditLedger {
    credit: u64,
    granted: u64,
    consumed: u64,
    cancelled: bool,
}

impl CreditLedger {
    /// A ledger holding `initial` credits (the queue capacity).
    pub fn new(initial: u64) -> Self {
        Self {
            credit: initial,
            granted: initial,
            consumed: 0,
            cancelled: false,
        }
    }

    /// Credits available now (0 once cancelled).
    pub fn available(&self) -> u64 {
        if self.cancelled {
            0
        } else {
            self.credit
        }
    }

    /// Takes one credit to emit one element.
    // HOT PATH
    pub fn consume(&mut self) -> Result<(), CreditError> {
        if self.cancelled {
            return Err(CreditError::Cancelled);
        }
        if self.credit == 0 {
            return Err(CreditError::NoCredit);
        }
        self.credit -= 1;
        self.consumed += 1;
        Ok(())
    }

    /// Adds `n` credits; saturates. A no-op after cancel.
    // HOT PATH
    pub fn grant(&mut self, n: u64) -> Result<(), CreditError> {
        if n == 0 {
            return Err(CreditError::ZeroGrant);
        }
        if self.cancelled {
            return Ok(());
        }
        self.credit = self.credit.saturating_add(n);
        self.granted = self.granted.saturating_add(n);
        Ok(())
    }

    /// Cancels the stream; idempotent.
    pub fn cancel(&mut self) {
        self.cancelled = true;
    }

    /// Whether the stream was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// Credits ever granted, the initial ones included (saturating).
    pub fn granted(&self) -> u64 {
        self.granted
    }

    /// Credits ever consumed (elements emitted).
    pub fn consumed(&self) -> u64 {
        self.consumed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone, Copy)]
    enum Op {
        Produce,
        Grant(u64),
        Cancel,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Produce),
            3 => (0u64..5).prop_map(Op::Grant),
            1 => Just(Op::Cancel),
            1 => Just(Op::Grant(u64::MAX)),
        ]
    }

    proptest! {
        /// 1.1 / 2.1: emitted never exceeds granted, and every refused
        /// emission happened with no credit or after cancel.
        #[test]
        fn never_emits_more_than_granted(initial in 0u64..20, ops in proptest::collection::vec(op(), 0..200)) {
            let mut ledger = CreditLedger::new(initial);
            let mut emitted: u64 = 0;
            let mut granted: u128 = u128::from(initial);
            for op in ops {
                match op {
                    Op::Produce => match ledger.consume() {
                        Ok(()) => emitted += 1,
                        Err(CreditError::NoCredit) => prop_assert_eq!(ledger.available(), 0),
                        Err(CreditError::Cancelled) => prop_assert!(ledger.is_cancelled()),
                        Err(CreditError::ZeroGrant) => prop_assert!(false, "consume never reports a zero grant"),
                    },
                    Op::Grant(n) => {
                        let result = ledger.grant(n);
                        if n == 0 {
                            // 3.9
                            prop_assert_eq!(result, Err(CreditError::ZeroGrant));
                        } else {
                            prop_assert!(result.is_ok());
                            if !ledger.is_cancelled() {
                                granted += u128::from(n);
                            }
                        }
                    }
                    Op::Cancel => ledger.cancel(),
                }
                prop_assert!(u128::from(emitted) <= granted);
                prop_assert_eq!(ledger.consumed(), emitted);
            }
        }

        /// 3.5–3.7: after cancel nothing is delivered, whatever happens next;
        /// cancelling again changes nothing.
        #[test]
        fn cancel_is_idempotent_and_final(initial in 1u64..20, after in proptest::collection::vec(op(), 0..50)) {
            let mut ledger = CreditLedger::new(initial);
            ledger.cancel();
            let snapshot = ledger.clone();
            ledger.cancel();
            prop_assert_eq!(&ledger, &snapshot);
            for op in after {
                match op {
                    Op::Produce => prop_assert_eq!(ledger.consume(), Err(CreditError::Cancelled)),
                    Op::Grant(n) => { let _ = ledger.grant(n); }
                    Op::Cancel => ledger.cancel(),
                }
                prop_assert_eq!(ledger.available(), 0);
                prop_assert_eq!(ledger.consumed(), 0);
            }
        }

        /// 3.17: demand adds up and saturates instead of overflowing.
        #[test]
        fn demand_saturates(grants in proptest::collection::vec(1u64..=u64::MAX, 1..10)) {
            let mut ledger = CreditLedger::new(0);
            let mut expected: u64 = 0;
            for n in grants {
                ledger.grant(n).unwrap();
                expected = expected.saturating_add(n);
                prop_assert_eq!(ledger.available(), expected);
            }
        }
    }

    #[test]
    fn initial_credit_is_the_queue_capacity() {
        let mut ledger = CreditLedger::new(2);
        assert_eq!(ledger.available(), 2);
        ledger.consume().unwrap();
        ledger.consume().unwrap();
        assert_eq!(ledger.consume(), Err(CreditError::NoCredit));
        ledger.grant(1).unwrap();
        assert!(ledger.consume().is_ok());
    }
}
