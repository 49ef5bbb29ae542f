//! The ownership state machine of every host-managed buffer.
//!
//! ```text
//!   Pooled --acquire(o)--> Owned(o) --borrow--> Borrowed(o, 1..) --end_borrow--> Owned(o)
//!   Owned(o) --transfer(p)--> Owned(p)
//!   Owned(o) --send--> Transit --receive(o)--> Owned(o)
//!   Owned(o) --release--> Pooled
//! ```
//!
//! `Transit` is "owned by the host, between stages": a buffer a component
//! returned, waiting in a queue. Every other move is an error: transfer,
//! send or release while borrowed is E0304, using a pooled buffer is E0303,
//! acting as an owner you are not is E0302.

use super::error::ResourceError;
use super::handle::ComponentId;
use std::fmt;

/// Who owns a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    /// The host runtime itself (the stage loop).
    Host,
    /// A component instance of the flow.
    Component(ComponentId),
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Host => f.write_str("host"),
            Owner::Component(c) => write!(f, "{c}"),
        }
    }
}

/// The state of one buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnershipState {
    /// In a pool: no handles, stale content.
    Pooled,
    /// Exactly one owner, no borrows.
    Owned(Owner),
    /// An owner plus `borrows` (> 0) read-only borrows scoped to calls.
    Borrowed {
        /// The owner, whose handle stays valid.
        owner: Owner,
        /// Outstanding borrows, always > 0.
        borrows: u32,
    },
    /// Owned by the host between stages (queued).
    Transit,
}

impl OwnershipState {
    /// Pooled → Owned(owner).
    pub fn acquire(self, owner: Owner) -> Result<Self, ResourceError> {
        match self {
            OwnershipState::Pooled => Ok(OwnershipState::Owned(owner)),
            other => Err(invalid("acquire", other)),
        }
    }

    /// Owned(o) | Borrowed(o, n) → Borrowed(o, n + 1).
    pub fn borrow(self) -> Result<Self, ResourceError> {
        match self {
            OwnershipState::Owned(owner) => Ok(OwnershipState::Borrowed { owner, borrows: 1 }),
            OwnershipState::Borrowed { owner, borrows } => Ok(OwnershipState::Borrowed {
                owner,
                borrows: borrows
                    .checked_add(1)
                    .ok_or_else(|| invalid("borrow", self))?,
            }),
            OwnershipState::Pooled => Err(ResourceError::StaleHandle {
                operation: "borrow",
            }),
            OwnershipState::Transit => Err(invalid("borrow", self)),
        }
    }

    /// Borrowed(o, n) → Borrowed(o, n - 1), or Owned(o) when the last borrow ends.
    pub fn end_borrow(self) -> Result<Self, ResourceError> {
        match self {
            OwnershipState::Borrowed { owner, borrows: 1 } => Ok(OwnershipState::Owned(owner)),
            OwnershipState::Borrowed { owner, borrows } => Ok(OwnershipState::Borrowed {
                owner,
                borrows: borrows - 1,
            }),
            other => Err(invalid("end_borrow", other)),
        }
    }

    /// Owned(from) → Owned(to), checked against the claimed current owner.
    pub fn transfer(self, from: Owner, to: Owner) -> Result<Self, ResourceError> {
        self.check_owner(from, "transfer")?;
        Ok(OwnershipState::Owned(to))
    }

    /// Owned(from) → Transit: the owner hands the buffer to the host's queues.
    pub fn send(self, from: Owner) -> Result<Self, ResourceError> {
        self.check_owner(from, "send")?;
        Ok(OwnershipState::Transit)
    }

    /// Transit → Owned(to): the host takes the buffer off a queue for `to`.
    pub fn receive(self, to: Owner) -> Result<Self, ResourceError> {
        match self {
            OwnershipState::Transit => Ok(OwnershipState::Owned(to)),
            OwnershipState::Pooled => Err(ResourceError::StaleHandle {
                operation: "receive",
            }),
            other => Err(invalid("receive", other)),
        }
    }

    /// Owned(owner) | Transit → Pooled. A buffer in transit belongs to the
    /// host, so the host may release it (dropped elements).
    pub fn release(self, owner: Owner) -> Result<Self, ResourceError> {
        if self == OwnershipState::Transit && owner == Owner::Host {
            return Ok(OwnershipState::Pooled);
        }
        self.check_owner(owner, "release")?;
        Ok(OwnershipState::Pooled)
    }

    /// The current owner, if the buffer is owned or borrowed.
    pub fn owner(self) -> Option<Owner> {
        match self {
            OwnershipState::Owned(o) | OwnershipState::Borrowed { owner: o, .. } => Some(o),
            OwnershipState::Transit => Some(Owner::Host),
            OwnershipState::Pooled => None,
        }
    }

    /// Succeeds when the state is `Owned(expected)`; names the precise
    /// violation otherwise.
    fn check_owner(self, expected: Owner, operation: &'static str) -> Result<(), ResourceError> {
        match self {
            OwnershipState::Owned(o) if o == expected => Ok(()),
            OwnershipState::Owned(actual) => Err(ResourceError::NotOwner {
                operation,
                claimed: expected,
                actual,
            }),
            OwnershipState::Borrowed { borrows, .. } => {
                Err(ResourceError::BorrowsOutstanding { operation, borrows })
            }
            OwnershipState::Pooled => Err(ResourceError::StaleHandle { operation }),
            OwnershipState::Transit => Err(invalid(operation, self)),
        }
    }
}

fn invalid(operation: &'static str, from: OwnershipState) -> ResourceError {
    ResourceError::InvalidTransition { operation, from }
}

impl fmt::Display for OwnershipState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnershipState::Pooled => f.write_str("Pooled"),
            OwnershipState::Owned(o) => write!(f, "Owned({o})"),
            OwnershipState::Borrowed { owner, borrows } => {
                write!(f, "Borrowed({owner}, {borrows})")
            }
            OwnershipState::Transit => f.write_str("Transit"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};
    use proptest::prelude::*;

    const SRC: Owner = Owner::Component(ComponentId(0));
    const SINK: Owner = Owner::Component(ComponentId(1));

    fn code(r: Result<OwnershipState, ResourceError>) -> ErrorCode {
        r.expect_err("transition should fail").code()
    }

    #[test]
    fn the_documented_lifecycle_is_valid() {
        let s = OwnershipState::Pooled.acquire(SRC).unwrap();
        assert_eq!(s, OwnershipState::Owned(SRC));
        let s = s.send(SRC).unwrap();
        assert_eq!(s, OwnershipState::Transit);
        let s = s.receive(Owner::Host).unwrap();
        let s = s.borrow().unwrap();
        assert_eq!(
            s,
            OwnershipState::Borrowed {
                owner: Owner::Host,
                borrows: 1
            }
        );
        let s = s.borrow().unwrap().end_borrow().unwrap();
        assert_eq!(
            s,
            OwnershipState::Borrowed {
                owner: Owner::Host,
                borrows: 1
            }
        );
        let s = s.end_borrow().unwrap();
        assert_eq!(s, OwnershipState::Owned(Owner::Host));
        let s = s.transfer(Owner::Host, SINK).unwrap();
        assert_eq!(s.release(SINK).unwrap(), OwnershipState::Pooled);
    }

    #[test]
    fn transit_buffers_can_be_released_by_the_host() {
        assert_eq!(
            OwnershipState::Transit.release(Owner::Host).unwrap(),
            OwnershipState::Pooled
        );
        assert_eq!(
            code(OwnershipState::Transit.release(SRC)),
            ErrorCode::NotOwner
        );
    }

    #[test]
    fn using_a_pooled_buffer_is_a_stale_handle() {
        let pooled = OwnershipState::Pooled;
        assert_eq!(code(pooled.borrow()), ErrorCode::StaleHandle);
        assert_eq!(code(pooled.release(SRC)), ErrorCode::StaleHandle);
        assert_eq!(code(pooled.transfer(SRC, SINK)), ErrorCode::StaleHandle);
        assert_eq!(code(pooled.send(SRC)), ErrorCode::StaleHandle);
        assert_eq!(code(pooled.receive(SRC)), ErrorCode::StaleHandle);
    }

    #[test]
    fn moving_or_freeing_a_borrowed_buffer_is_refused() {
        let borrowed = OwnershipState::Owned(SRC).borrow().unwrap();
        assert_eq!(code(borrowed.release(SRC)), ErrorCode::BorrowsOutstanding);
        assert_eq!(
            code(borrowed.transfer(SRC, SINK)),
            ErrorCode::BorrowsOutstanding
        );
        assert_eq!(code(borrowed.send(SRC)), ErrorCode::BorrowsOutstanding);
        assert_eq!(code(borrowed.acquire(SRC)), ErrorCode::NotOwner);
    }

    #[test]
    fn acting_for_another_owner_is_not_owner() {
        let owned = OwnershipState::Owned(SRC);
        assert_eq!(code(owned.release(SINK)), ErrorCode::NotOwner);
        assert_eq!(code(owned.transfer(SINK, Owner::Host)), ErrorCode::NotOwner);
        assert_eq!(code(owned.send(SINK)), ErrorCode::NotOwner);
    }

    #[test]
    fn invalid_transitions_are_errors() {
        assert!(OwnershipState::Owned(SRC).acquire(SINK).is_err());
        assert!(OwnershipState::Owned(SRC).end_borrow().is_err());
        assert!(OwnershipState::Owned(SRC).receive(SINK).is_err());
        assert!(OwnershipState::Transit.borrow().is_err());
        assert!(OwnershipState::Transit.end_borrow().is_err());
        assert!(OwnershipState::Transit.send(Owner::Host).is_err());
        assert!(OwnershipState::Pooled.end_borrow().is_err());
    }

    #[derive(Debug, Clone, Copy)]
    enum Op {
        Acquire,
        Borrow,
        EndBorrow,
        Send,
        Receive,
        Release,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            Just(Op::Acquire),
            Just(Op::Borrow),
            Just(Op::EndBorrow),
            Just(Op::Send),
            Just(Op::Receive),
            Just(Op::Release),
        ]
    }

    proptest! {
        /// A reference model (owner + borrow count) and the state machine
        /// agree on every random sequence; failed moves change nothing.
        #[test]
        fn state_machine_matches_a_reference_model(ops in proptest::collection::vec(op(), 0..64)) {
            let mut state = OwnershipState::Pooled;
            // model: None = pooled, Some((owner, borrows, in_transit))
            let mut model: Option<(Owner, u32, bool)> = None;
            for op in ops {
                let (next, expect_ok) = match op {
                    Op::Acquire => (state.acquire(SRC), model.is_none()),
                    Op::Borrow => (state.borrow(), matches!(model, Some((_, _, false)))),
                    Op::EndBorrow => (state.end_borrow(), matches!(model, Some((_, n, false)) if n > 0)),
                    Op::Send => (state.send(SRC), matches!(model, Some((o, 0, false)) if o == SRC)),
                    Op::Receive => (state.receive(Owner::Host), matches!(model, Some((_, _, true)))),
                    Op::Release => (state.release(Owner::Host), matches!(model, Some((Owner::Host, 0, _)) | Some((_, _, true)))),
                };
                prop_assert_eq!(next.is_ok(), expect_ok, "{:?} from {}", op, state);
                if let Ok(next) = next {
                    model = match (op, model) {
                        (Op::Acquire, _) => Some((SRC, 0, false)),
                        (Op::Borrow, Some((o, n, t))) => Some((o, n + 1, t)),
                        (Op::EndBorrow, Some((o, n, t))) => Some((o, n - 1, t)),
                        (Op::Send, Some((o, n, _))) => Some((o, n, true)),
                        (Op::Receive, Some(_)) => Some((Owner::Host, 0, false)),
                        (Op::Release, _) => None,
                        (_, m) => m,
                    };
                    state = next;
                }
                let borrowed = matches!(state, OwnershipState::Borrowed { .. });
                prop_assert_eq!(borrowed, matches!(model, Some((_, n, false)) if n > 0));
            }
        }
    }
}
