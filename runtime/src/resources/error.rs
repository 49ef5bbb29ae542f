//! Resource manager errors (E0300–E0399).

use super::ownership::{Owner, OwnershipState};
use crate::error::{Coded, ErrorCode};

/// What went wrong with a buffer operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    /// The handle's generation no longer matches its slot (use after release).
    #[error("stale buffer handle in `{operation}`: the buffer was already released")]
    StaleHandle {
        /// The operation attempted.
        operation: &'static str,
    },
    /// The caller does not own the buffer.
    #[error("`{operation}` by {claimed} on a buffer owned by {actual}")]
    NotOwner {
        /// The operation attempted.
        operation: &'static str,
        /// Who claimed ownership.
        claimed: Owner,
        /// Who actually owns it.
        actual: Owner,
    },
    /// The transition is not part of the ownership state machine.
    #[error("invalid ownership transition `{operation}` from state {from}")]
    InvalidTransition {
        /// The operation attempted.
        operation: &'static str,
        /// The state it was attempted from.
        from: OwnershipState,
    },
    /// Transfer or free while borrows are outstanding.
    #[error("cannot `{operation}` a buffer with {borrows} outstanding borrow(s)")]
    BorrowsOutstanding {
        /// The operation attempted.
        operation: &'static str,
        /// Outstanding borrows.
        borrows: u32,
    },
    /// The pool tier is empty and the exhaustion policy is `error`.
    #[error("buffer pool tier {tier} is exhausted ({capacity} buffers in use)")]
    PoolExhausted {
        /// Tier name (`small`, `medium`, …).
        tier: &'static str,
        /// Configured tier size.
        capacity: usize,
    },
    /// The resource table or the system allocator could not provide a buffer.
    #[error("buffer allocation of {bytes} bytes failed: {reason}")]
    AllocationFailed {
        /// Requested bytes.
        bytes: u64,
        /// Why.
        reason: &'static str,
    },
    /// A write would go past the buffer's capacity.
    #[error("write of {requested} bytes at offset {offset} exceeds buffer capacity {capacity}")]
    CapacityExceeded {
        /// Write offset.
        offset: u64,
        /// Bytes to write.
        requested: u64,
        /// Buffer capacity.
        capacity: u64,
    },
    /// A write offset lies beyond the current content.
    #[error("write offset {offset} is beyond the buffer's current size {size}")]
    OutOfBounds {
        /// Write offset.
        offset: u64,
        /// Current size.
        size: u64,
    },
    /// The component's buffer memory budget would be exceeded.
    #[error("{component} would hold {would_hold} bytes of host buffers, over its budget of {budget} bytes")]
    BudgetExceeded {
        /// The component.
        component: Owner,
        /// Bytes it would hold after the allocation.
        would_hold: u64,
        /// Its budget.
        budget: u64,
    },
    /// The operation needs a mutable buffer but got an immutable one, or the reverse,
    /// or the mutable buffer was already frozen.
    #[error("`{operation}` on a {actual} buffer")]
    WrongKind {
        /// The operation attempted.
        operation: &'static str,
        /// What the buffer actually is.
        actual: &'static str,
    },
}

impl Coded for ResourceError {
    fn code(&self) -> ErrorCode {
        match self {
            ResourceError::StaleHandle { .. } => ErrorCode::StaleHandle,
            ResourceError::NotOwner { .. } | ResourceError::InvalidTransition { .. } => {
                ErrorCode::NotOwner
            }
            ResourceError::BorrowsOutstanding { .. } => ErrorCode::BorrowsOutstanding,
            ResourceError::PoolExhausted { .. } => ErrorCode::PoolExhausted,
            ResourceError::AllocationFailed { .. } => ErrorCode::AllocationFailed,
            ResourceError::CapacityExceeded { .. } | ResourceError::OutOfBounds { .. } => {
                ErrorCode::CapacityExceeded
            }
            ResourceError::BudgetExceeded { .. } => ErrorCode::BudgetExceeded,
            ResourceError::WrongKind {
                actual: "frozen", ..
            } => ErrorCode::StaleHandle,
            ResourceError::WrongKind { .. } => ErrorCode::NotOwner,
        }
    }
}
