//! Component supervision inside a flow, in the style of OTP supervisors.
//!
//! A component *exits abnormally* when a call traps (any trap: a panic,
//! `unreachable`, fuel or deadline exhaustion, a stack overflow, the memory
//! limit) or returns `process-error::fatal`. What happens next:
//!
//! - its node's [`RestartType`] decides whether it is restarted:
//!   `permanent` (default) after either exit, `transient` only after a trap
//!   (a `fatal` return is the component's own decision to stop), `temporary`
//!   never;
//! - the flow's [`Strategy`] decides which components restart with it:
//!   `one_for_one` (default) just it, `one_for_all` every component of the
//!   flow, `rest_for_one` it and every component after it in the flow's
//!   topological order. A restart is a fresh `Store` instantiated from the
//!   cached `InstancePre`, then `lifecycle.init(config)` again; a trapped
//!   instance is never called again. Queued elements are host buffers and
//!   survive restarts;
//! - the flow's restart intensity ([`Intensity`], default 3 restarts in
//!   5 s) bounds how often: one more restart fails the flow with the
//!   original error's code;
//! - a component that is not restarted *ends*: its node closes, what is
//!   queued for it is dropped (counted), producers that feed only closed
//!   streams end too, and the rest of the flow carries on to completion.
//!
//! The element in hand when the component failed, and the element of every
//! non-fatal `process-error` (`invalid-input`, `unavailable`, `internal`),
//! go through the node's [`ErrorPolicy`]: `skip` (default, counted), `retry`
//! (call again, on the fresh instance after a restart, up to `retries`
//! times, then dead-letter if the node has a dead-letter destination, else
//! skip), `dead-letter` (to the node's `dead-letter` port, an edge to any
//! sink, or a JSON-lines file) or `fail` (the flow fails with the error).
//! `deadline-exceeded` is counted as a timeout, then follows the policy.
//! A normal end (a source's end of stream) is never a reason to restart.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The upstream port of dead-letter streams: an edge from a node's
/// `dead-letter` port receives the elements the node failed on.
pub const DEAD_LETTER_PORT: &str = "dead-letter";

/// Which components restart together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Only the failed component.
    #[default]
    OneForOne,
    /// Every component of the flow.
    OneForAll,
    /// The failed component and every component after it in topological
    /// order.
    RestForOne,
}

/// When a node's component is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartType {
    /// After a trap or a `fatal` error.
    #[default]
    Permanent,
    /// After a trap only.
    Transient,
    /// Never.
    Temporary,
}

/// Why a component exited abnormally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// A trap (including fuel, deadline, stack and memory limits).
    Trap,
    /// A `process-error::fatal` return.
    Fatal,
}

impl RestartType {
    /// Whether a component of this type restarts after `exit`.
    pub fn restarts_after(self, exit: ExitKind) -> bool {
        match self {
            RestartType::Permanent => true,
            RestartType::Transient => exit == ExitKind::Trap,
            RestartType::Temporary => false,
        }
    }
}

/// What happens to an element a component failed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorPolicy {
    /// Drop it (counted).
    #[default]
    Skip,
    /// Call again with it, up to `retries` times; then dead-letter it if
    /// the node has a destination, else skip it.
    Retry {
        /// Further attempts after the first.
        retries: u32,
    },
    /// Send it to the node's dead-letter destination.
    DeadLetter,
    /// Fail the flow.
    Fail,
}

/// Restart intensity: at most `max_restarts` within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intensity {
    /// Restarts allowed in the window.
    pub max_restarts: u32,
    /// The sliding window.
    pub window: Duration,
}

impl Default for Intensity {
    /// The intensity of a default `[flow.<name>.supervision]`.
    fn default() -> Self {
        let defaults = crate::config::SupervisionDef::default();
        Self {
            max_restarts: defaults.max_restarts,
            window: Duration::from_millis(defaults.restart_window_ms),
        }
    }
}

/// A flow's supervision settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlowSupervision {
    /// Which components restart together.
    pub strategy: Strategy,
    /// How often.
    pub intensity: Intensity,
}

/// A node's supervision settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeSupervision {
    /// When its component restarts.
    pub restart: RestartType,
    /// What happens to an element it failed on.
    pub on_error: ErrorPolicy,
    /// JSON-lines file for dead letters (when it has no `dead-letter` edge).
    pub dead_letter_file: Option<PathBuf>,
}

/// The restarts of one flow within the sliding window.
#[derive(Debug)]
pub struct RestartWindow {
    intensity: Intensity,
    recent: VecDeque<Instant>,
    total: u64,
}

impl RestartWindow {
    /// An empty window.
    pub fn new(intensity: Intensity) -> Self {
        Self {
            intensity,
            // Grows only as restarts happen: a huge `max_restarts` must
            // not reserve memory up front.
            recent: VecDeque::with_capacity((intensity.max_restarts as usize).min(16) + 1),
            total: 0,
        }
    }

    /// Records a restart at `now`; `false` when it is one too many.
    pub fn admit(&mut self, now: Instant) -> bool {
        while let Some(&first) = self.recent.front() {
            if now.duration_since(first) > self.intensity.window {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        if self.recent.len() >= self.intensity.max_restarts as usize {
            return false;
        }
        self.recent.push_back(now);
        self.total += 1;
        true
    }

    /// Restarts inside the window as of the last [`admit`](Self::admit).
    pub fn in_window(&self) -> u32 {
        self.recent.len() as u32
    }

    /// Restarts admitted so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The limits in force.
    pub fn intensity(&self) -> Intensity {
        self.intensity
    }
}

/// Whether a failed flow is started again (its FlowSupervisor's policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowRestartPolicy {
    /// Leave it failed.
    #[default]
    Never,
    /// Start it again from its plan, within the intensity.
    OnFailure,
}

/// A flow's restart policy as a whole: the level above component restarts.
/// The same [`RestartWindow`] bounds both levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowRestart {
    /// Restart or not; `None` leaves it to whoever runs the flow (`torvyn
    /// serve` restarts on failure, `torvyn run` and embedders do not).
    pub policy: Option<FlowRestartPolicy>,
    /// At most this many flow restarts in the window.
    pub intensity: Intensity,
    /// Delay before the first restart in the window; doubled for each
    /// further one.
    pub backoff: Duration,
}

impl Default for FlowRestart {
    fn default() -> Self {
        Self {
            policy: None,
            intensity: Intensity {
                max_restarts: 3,
                window: Duration::from_secs(60),
            },
            backoff: Duration::ZERO,
        }
    }
}

impl FlowRestart {
    /// The policy in force, `default` when none was set.
    pub fn policy_or(&self, default: FlowRestartPolicy) -> FlowRestartPolicy {
        self.policy.unwrap_or(default)
    }

    /// The delay before restart number `n` (1-based) of the window:
    /// `backoff`, doubled for each earlier restart, at most the window.
    pub fn delay_before(&self, n: u32) -> Duration {
        let doublings = n.saturating_sub(1).min(20);
        self.backoff
            .saturating_mul(1 << doublings)
            .min(self.intensity.window)
    }
}

/// A fault to inject into a running flow (tests only; see
/// [`FlowSettings::faults`](super::FlowSettings::faults)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The node whose component misbehaves.
    pub node: String,
    /// On its `at`-th invocation (1-based, counted over the node's life,
    /// restarts included).
    pub at: u64,
    /// How.
    pub kind: FaultKind,
}

/// How an injected fault misbehaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// The call traps (the instance is poisoned).
    Trap,
    /// The call returns this process-error (the guest is not called).
    Error(InjectedError),
    /// The call never returns: stopped as fuel / deadline exhaustion (E0401).
    Hang,
    /// The call grows memory past the limit (E0310).
    GrowMemory,
    /// The stage stalls this long before the call (the call then runs).
    Stall(Duration),
}

/// A process-error kind to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InjectedError {
    /// `invalid-input`.
    InvalidInput,
    /// `unavailable`.
    Unavailable,
    /// `internal`.
    Internal,
    /// `deadline-exceeded`.
    DeadlineExceeded,
    /// `fatal`.
    Fatal,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn restart_types_follow_the_exit_kind() {
        use ExitKind::*;
        use RestartType::*;
        assert!(Permanent.restarts_after(Trap) && Permanent.restarts_after(Fatal));
        assert!(Transient.restarts_after(Trap) && !Transient.restarts_after(Fatal));
        assert!(!Temporary.restarts_after(Trap) && !Temporary.restarts_after(Fatal));
    }

    #[test]
    fn the_window_admits_max_restarts_then_refuses_until_it_slides() {
        let mut w = RestartWindow::new(Intensity {
            max_restarts: 3,
            window: Duration::from_secs(5),
        });
        let t0 = Instant::now();
        assert!(w.admit(t0));
        assert!(w.admit(t0 + Duration::from_secs(1)));
        assert!(w.admit(t0 + Duration::from_secs(2)), "just under the limit");
        assert!(!w.admit(t0 + Duration::from_secs(3)), "one too many");
        assert!(
            w.admit(t0 + Duration::from_millis(5_001)),
            "the first slid out"
        );
        assert_eq!(w.total(), 4);
    }

    #[test]
    fn a_huge_limit_reserves_nothing_up_front() {
        let mut w = RestartWindow::new(Intensity {
            max_restarts: u32::MAX,
            window: Duration::from_secs(1),
        });
        assert!(w.admit(Instant::now()));
        assert!(w.recent.capacity() < 1024);
    }

    #[test]
    fn zero_restarts_refuses_the_first() {
        let mut w = RestartWindow::new(Intensity {
            max_restarts: 0,
            window: Duration::from_secs(1),
        });
        assert!(!w.admit(Instant::now()));
    }

    #[test]
    fn flow_restart_backoff_doubles_up_to_the_window() {
        let restart = FlowRestart {
            policy: Some(FlowRestartPolicy::OnFailure),
            intensity: Intensity {
                max_restarts: 10,
                window: Duration::from_secs(1),
            },
            backoff: Duration::from_millis(100),
        };
        assert_eq!(restart.delay_before(1), Duration::from_millis(100));
        assert_eq!(restart.delay_before(2), Duration::from_millis(200));
        assert_eq!(restart.delay_before(3), Duration::from_millis(400));
        assert_eq!(restart.delay_before(9), Duration::from_secs(1));
        assert_eq!(restart.delay_before(u32::MAX), Duration::from_secs(1));
        assert_eq!(FlowRestart::default().delay_before(3), Duration::ZERO);
    }

    #[test]
    fn an_unset_flow_policy_takes_the_callers_default() {
        let unset = FlowRestart::default();
        assert_eq!(
            unset.policy_or(FlowRestartPolicy::OnFailure),
            FlowRestartPolicy::OnFailure
        );
        let never = FlowRestart {
            policy: Some(FlowRestartPolicy::Never),
            ..unset
        };
        assert_eq!(
            never.policy_or(FlowRestartPolicy::OnFailure),
            FlowRestartPolicy::Never
        );
    }

    proptest! {
        /// Whatever the arrival times, no window of `window` length ever
        /// contains more admitted restarts than `max_restarts`.
        #[test]
        fn never_more_than_max_in_any_window(
            max in 0u32..6,
            gaps in proptest::collection::vec(0u64..3000, 1..60),
        ) {
            let window = Duration::from_millis(2000);
            let mut w = RestartWindow::new(Intensity { max_restarts: max, window });
            let t0 = Instant::now();
            let mut t = t0;
            let mut admitted = Vec::new();
            for gap in gaps {
                t += Duration::from_millis(gap);
                if w.admit(t) {
                    admitted.push(t);
                }
            }
            for (i, &start) in admitted.iter().enumerate() {
                let inside = admitted[i..].iter().filter(|&&x| x.duration_since(start) <= window).count();
                prop_assert!(inside <= max as usize);
            }
        }
    }
}
