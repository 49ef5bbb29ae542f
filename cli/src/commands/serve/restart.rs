//! The restart policy of `torvyn serve`: whether a failed flow is started
//! again. A small, replaceable piece (per-flow supervision settings from
//! Torvyn.toml may provide it later).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What happens to a flow that fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RestartPolicy {
    /// Leave it failed.
    Never,
    /// Start it again from its spec, within the restart intensity.
    OnFailure,
}

/// A policy with its intensity: at most `max` restarts in any `window`.
#[derive(Debug, Clone)]
pub struct RestartBudget {
    policy: RestartPolicy,
    max: u32,
    window: Duration,
    /// When the restarts inside the current window happened, oldest first.
    recent: VecDeque<Instant>,
}

/// The answer for one failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Restart; this is restart number `n` in the window.
    Restart(u32),
    /// Leave the flow failed: the policy is `never`.
    NeverRestart,
    /// Leave the flow failed: `max` restarts already happened in the window.
    IntensityExceeded,
}

impl RestartBudget {
    /// `policy` allowing `max` restarts per `window`.
    pub fn new(policy: RestartPolicy, max: u32, window: Duration) -> Self {
        Self {
            policy,
            max,
            window,
            recent: VecDeque::new(),
        }
    }

    /// Decides for a failure at `now`, recording the restart if granted.
    pub fn on_failure(&mut self, now: Instant) -> Decision {
        if self.policy == RestartPolicy::Never {
            return Decision::NeverRestart;
        }
        while let Some(&oldest) = self.recent.front() {
            if now.duration_since(oldest) >= self.window {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        if self.recent.len() as u32 >= self.max {
            return Decision::IntensityExceeded;
        }
        self.recent.push_back(now);
        Decision::Restart(self.recent.len() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn never_leaves_a_flow_failed() {
        let mut budget = RestartBudget::new(RestartPolicy::Never, 3, MINUTE);
        assert_eq!(budget.on_failure(Instant::now()), Decision::NeverRestart);
    }

    #[test]
    fn on_failure_restarts_up_to_the_intensity_then_gives_up() {
        let mut budget = RestartBudget::new(RestartPolicy::OnFailure, 3, MINUTE);
        let t = Instant::now();
        assert_eq!(budget.on_failure(t), Decision::Restart(1));
        assert_eq!(budget.on_failure(t), Decision::Restart(2));
        assert_eq!(budget.on_failure(t), Decision::Restart(3));
        assert_eq!(budget.on_failure(t), Decision::IntensityExceeded);
    }

    #[test]
    fn restarts_older_than_the_window_no_longer_count() {
        let mut budget = RestartBudget::new(RestartPolicy::OnFailure, 2, MINUTE);
        let t = Instant::now();
        assert_eq!(budget.on_failure(t), Decision::Restart(1));
        assert_eq!(budget.on_failure(t + MINUTE / 2), Decision::Restart(2));
        assert_eq!(
            budget.on_failure(t + MINUTE / 2),
            Decision::IntensityExceeded
        );
        // The first restart leaves the window: one slot frees up.
        assert_eq!(budget.on_failure(t + MINUTE), Decision::Restart(2));
    }

    #[test]
    fn zero_restarts_allowed_gives_up_at_once() {
        let mut budget = RestartBudget::new(RestartPolicy::OnFailure, 0, MINUTE);
        assert_eq!(
            budget.on_failure(Instant::now()),
            Decision::IntensityExceeded
        );
    }
}
