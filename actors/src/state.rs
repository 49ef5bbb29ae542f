//! The flow state machine (spec: "Created → Validated → Instantiated →
//! Running → Draining → Completed, with Suspended and Failed").
//!
//! ```text
//! Created ─▶ Validated ─▶ Instantiated ─▶ Running ─▶ Draining ─▶ Completed
//!    │           │              │          │  ▲          │
//!    │           │              │          ▼  │          │
//!    │           │              │        Suspended       │
//!    └───────────┴──────────────┴──────────┴─────────────┴──▶ Failed
//! ```
//!
//! Every state but the two terminal ones (`Completed`, `Failed`) may fail;
//! a cancelled flow ends `Failed` with code E0402. Every other pair is an
//! [`InvalidTransition`].

use std::fmt;
use torvyn_runtime::error::{Coded, ErrorCode};

/// Where a flow is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowState {
    /// Accepted by the host; nothing checked yet.
    Created,
    /// Its topology and stage roles were checked.
    Validated,
    /// Every component is instantiated and initialised.
    Instantiated,
    /// Elements are moving.
    Running,
    /// Paused by an operator; resumes into `Running`.
    Suspended,
    /// The source ended; the last elements are reaching the sink.
    Draining,
    /// Every element was delivered and the flow is torn down (terminal).
    Completed,
    /// The flow failed or was cancelled (terminal).
    Failed,
}

impl FlowState {
    /// Every state, in lifecycle order.
    pub const ALL: [FlowState; 8] = [
        FlowState::Created,
        FlowState::Validated,
        FlowState::Instantiated,
        FlowState::Running,
        FlowState::Suspended,
        FlowState::Draining,
        FlowState::Completed,
        FlowState::Failed,
    ];

    /// Whether `self → next` is a transition of the state machine.
    pub fn can_transition_to(self, next: FlowState) -> bool {
        use FlowState::*;
        matches!(
            (self, next),
            (Created, Validated)
                | (Validated, Instantiated)
                | (Instantiated, Running)
                | (Running, Suspended)
                | (Suspended, Running)
                | (Running, Draining)
                | (Draining, Completed)
                | (
                    Created | Validated | Instantiated | Running | Suspended | Draining,
                    Failed
                )
        )
    }

    /// The checked transition: `next`, or an error naming both states.
    pub fn transition_to(self, next: FlowState) -> Result<FlowState, InvalidTransition> {
        if self.can_transition_to(next) {
            Ok(next)
        } else {
            Err(InvalidTransition {
                from: self,
                to: next,
            })
        }
    }

    /// `Completed` or `Failed`: no transition leaves these.
    pub fn is_terminal(self) -> bool {
        matches!(self, FlowState::Completed | FlowState::Failed)
    }

    /// The compact encoding stored in [`FlowCounters`](crate::FlowCounters).
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Decodes [`FlowState::as_u8`].
    pub fn from_u8(v: u8) -> Option<FlowState> {
        FlowState::ALL.get(usize::from(v)).copied()
    }
}

impl fmt::Display for FlowState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A transition the state machine does not have (e.g. pausing a completed
/// flow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a flow cannot go from {from} to {to}")]
pub struct InvalidTransition {
    /// The state the flow is in.
    pub from: FlowState,
    /// The state that was asked for.
    pub to: FlowState,
}

impl Coded for InvalidTransition {
    /// The spec has no dedicated code for a control command that does not
    /// apply to the flow's state; E0702 ("a value is out of range") is the
    /// closest.
    fn code(&self) -> ErrorCode {
        ErrorCode::ConstraintViolation
    }

    fn help(&self) -> String {
        format!(
            "the flow is {}; pause applies to a running flow, resume to a suspended one",
            self.from
        )
    }
}

#[cfg(test)]
mod tests {
    use super::FlowState::{self, *};
    use proptest::prelude::*;

    #[test]
    fn test_flow_state_full_happy_path_reaches_completed() {
        let mut s = Created;
        for next in [Validated, Instantiated, Running, Draining, Completed] {
            s = s.transition_to(next).expect("happy path");
        }
        assert!(s.is_terminal());
    }

    #[test]
    fn test_flow_state_created_to_running_is_an_error() {
        let e = Created.transition_to(Running).unwrap_err();
        assert_eq!((e.from, e.to), (Created, Running));
    }

    #[test]
    fn test_flow_state_pause_and_resume_round_trip() {
        let s = Running.transition_to(Suspended).unwrap();
        assert_eq!(s.transition_to(Running), Ok(Running));
        assert!(Suspended.transition_to(Draining).is_err());
    }

    #[test]
    fn test_flow_state_u8_round_trips() {
        for s in FlowState::ALL {
            assert_eq!(FlowState::from_u8(s.as_u8()), Some(s));
        }
        assert_eq!(FlowState::from_u8(8), None);
    }

    /// The table the state machine must equal (spec ~line 7878).
    fn expected(from: FlowState, to: FlowState) -> bool {
        let forward = [
            (Created, Validated),
            (Validated, Instantiated),
            (Instantiated, Running),
            (Running, Suspended),
            (Suspended, Running),
            (Running, Draining),
            (Draining, Completed),
        ];
        forward.contains(&(from, to)) || (to == Failed && !from.is_terminal())
    }

    fn any_state() -> impl Strategy<Value = FlowState> {
        (0u8..8).prop_map(|v| FlowState::from_u8(v).expect("in range"))
    }

    proptest! {
        /// Every pair of states is either a listed transition or an error.
        #[test]
        fn test_flow_state_every_pair_matches_the_table(from in any_state(), to in any_state()) {
            prop_assert_eq!(from.transition_to(to).is_ok(), expected(from, to));
        }

        /// No transition leaves a terminal state.
        #[test]
        fn test_flow_state_terminal_states_are_final(
            terminal in prop_oneof![Just(Completed), Just(Failed)],
            to in any_state(),
        ) {
            prop_assert!(terminal.transition_to(to).is_err());
        }

        /// A random walk that only takes accepted transitions always starts
        /// at Created, never revisits Created/Validated/Instantiated, and
        /// reaches Completed only through Draining.
        #[test]
        fn test_flow_state_random_walks_respect_the_lifecycle(steps in proptest::collection::vec(any_state(), 0..64)) {
            let mut state = Created;
            let mut seen_running = false;
            for next in steps {
                match state.transition_to(next) {
                    Ok(n) => {
                        if n == Completed { prop_assert_eq!(state, Draining); }
                        if matches!(n, Created | Validated | Instantiated) { prop_assert!(!seen_running); }
                        seen_running |= n == Running;
                        state = n;
                    }
                    Err(e) => {
                        prop_assert_eq!(e.from, state);
                        prop_assert_eq!(e.to, next);
                    }
                }
            }
        }
    }
}
