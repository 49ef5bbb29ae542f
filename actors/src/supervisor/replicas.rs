//! Replicated flows (`[flow.<name>] replicas = N`): N copies of one flow,
//! each a flow of its own (own id, FlowSupervisor, FlowActor and
//! component instances) on a different worker arbiter, under one parent
//! id — the one `start_flow` returns.
//!
//! - Each replica's components learn their partition (index, count)
//!   through `flow-metadata.partition()`; a `--limit` is split between
//!   the replicas (the flow pulls at most that many elements in all).
//! - Control requests on the parent (pause, resume, drain, cancel,
//!   priority, faults) go to every replica; inspecting it adds up their
//!   counters and reports; awaiting it returns one report (totals and a
//!   per-replica breakdown, [`FlowReport::replicas`]).
//! - One supervision policy: each replica restarts its components (and,
//!   under `flow_restart = "on-failure"`, itself) under the flow's
//!   settings; a replica that fails past that intensity fails the whole
//!   flow, and the other replicas are cancelled. The flow's outcome is
//!   the first failure, with the merged report.

use super::messages::{CancelFlow, FlowExited, FlowOutcome, InspectFlow, StartFlow};
use super::{budget_of, FlowRecord, Supervisor};
use crate::counters::CounterSnapshot;
use crate::error::HostError;
use crate::flow::FlowInspection;
use crate::ids::{FlowId, ReplicaOf};
use crate::resource::messages::{FlowTeardown, Reserve};
use crate::state::FlowState;
use actix::prelude::*;
use tokio::sync::oneshot;
use torvyn_runtime::error::{Coded, ErrorCode};
use torvyn_runtime::reactor::{merge_replicas, Partition};

/// A replicated flow while any of its replicas runs.
pub(super) struct Group {
    /// The replicas, by partition index.
    pub(super) replicas: Vec<FlowId>,
    /// How each replica ended, by index.
    ended: Vec<Option<(FlowOutcome, FlowInspection)>>,
    /// The first replica failure: the flow's outcome.
    failure: Option<HostError>,
    pub(super) waiters: Vec<oneshot::Sender<FlowOutcome>>,
}

/// Element limit of replica `index` of `count` when the flow may pull
/// `limit` in all: an equal share, the first `limit % count` replicas one
/// more.
fn share(limit: u64, index: u32, count: u32) -> u64 {
    let count = u64::from(count);
    limit / count + u64::from(u64::from(index) < limit % count)
}

impl Supervisor {
    /// The replicas of `id` while it is a running replicated flow.
    pub(super) fn replicas_of(&self, id: FlowId) -> Option<Vec<FlowId>> {
        self.groups.get(&id).map(|g| g.replicas.clone())
    }

    /// Starts `spec.settings.replicas` replicas of `spec` under one parent
    /// id: reserves each one's budget, then spawns each on the
    /// least-loaded arbiter (round-robin among equals, so N replicas on N
    /// arbiters take N different ones).
    pub(super) fn start_replicas(
        &mut self,
        StartFlow(spec): StartFlow,
    ) -> ResponseActFuture<Self, Result<FlowId, HostError>> {
        let count = spec.settings.replicas.max(1);
        let parent = FlowId::new(self.next_id);
        let ids: Vec<FlowId> = (1..=u64::from(count))
            .map(|k| FlowId::new(self.next_id + k))
            .collect();
        self.next_id += 1 + u64::from(count);
        let reserves: Vec<_> = ids
            .iter()
            .map(|&flow| {
                self.resource.send(Reserve {
                    flow,
                    bytes: budget_of(&spec),
                })
            })
            .collect();
        let waited = async move {
            let mut pools = Vec::with_capacity(reserves.len());
            for reserve in reserves {
                pools.push(reserve.await);
            }
            pools
        };
        Box::pin(waited.into_actor(self).map(move |results, act, ctx| {
            let mut pools = Vec::with_capacity(results.len());
            let mut refused = None;
            for result in results {
                match result {
                    Ok(Ok(pool)) => pools.push(Some(pool)),
                    Ok(Err(e)) => {
                        refused = refused.or(Some(e));
                        pools.push(None);
                    }
                    Err(_) => {
                        refused = refused.or(Some(HostError::HostStopped));
                        pools.push(None);
                    }
                }
            }
            if let Some(e) = refused {
                // Nothing started: give back what was reserved.
                for (&flow, _) in ids.iter().zip(&pools).filter(|(_, p)| p.is_some()) {
                    act.resource.do_send(FlowTeardown {
                        flow,
                        live_buffers: 0,
                        pool_buffers_held: 0,
                        cancelled: true,
                    });
                }
                return Err(e);
            }
            let pools = pools.into_iter().flatten();
            for (index, (&id, pool)) in (0u32..).zip(ids.iter().zip(pools)) {
                let mut replica = spec.clone();
                replica.settings.shared_pool = Some(pool);
                replica.settings.partition = Partition { index, count };
                replica.settings.element_limit = spec
                    .settings
                    .element_limit
                    .map(|limit| share(limit, index, count));
                act.replica_parent.insert(
                    id,
                    ReplicaOf {
                        parent,
                        index,
                        count,
                    },
                );
                act.spawn_flow(id, replica, ctx);
            }
            act.groups.insert(
                parent,
                Group {
                    replicas: ids,
                    ended: (0..count).map(|_| None).collect(),
                    failure: None,
                    waiters: Vec::new(),
                },
            );
            Ok(parent)
        }))
    }

    /// Replica `msg.id` of a replicated flow ended: a failure fails the
    /// flow and cancels the other replicas; the last one to end settles
    /// the flow's outcome.
    pub(super) fn replica_exited(&mut self, msg: &FlowExited, ctx: &mut Context<Self>) {
        let Some(of) = self.replica_parent.get(&msg.id).copied() else {
            return;
        };
        let Some(group) = self.groups.get_mut(&of.parent) else {
            return;
        };
        if let Some(slot) = group.ended.get_mut(of.index as usize) {
            *slot = Some((msg.outcome.clone(), msg.inspection.clone()));
        }
        if let (Err(e), None) = (&msg.outcome, &group.failure) {
            group.failure = Some(e.clone());
            // A cancelled flow's replicas all end cancelled: no warning.
            if e.code() != ErrorCode::FlowCancelled {
                tracing::warn!(flow = %of.parent, replica = of.index, "a replica failed: cancelling the others");
            }
            for (other, ended) in group.replicas.iter().zip(&group.ended) {
                if ended.is_none() {
                    ctx.address().do_send(CancelFlow(*other));
                }
            }
        }
        if group.ended.iter().any(Option::is_none) {
            return;
        }
        let Some(group) = self.groups.remove(&of.parent) else {
            return;
        };
        for id in &group.replicas {
            self.replica_parent.remove(id);
        }
        // A replica's report is its outcome's when it completed, else its
        // last inspection's.
        let ended: Vec<FlowInspection> = group
            .ended
            .into_iter()
            .flatten()
            .map(|(outcome, mut inspection)| {
                if let Ok(report) = outcome {
                    inspection.report = Some(report);
                }
                inspection
            })
            .collect();
        let mut inspection = merge_inspections(of.parent, &ended);
        if let Some(HostError::Flow { diagnostic, .. }) = &group.failure {
            // The replica that failed first, not one cancelled after it.
            inspection.failure = Some(diagnostic.clone());
        }
        let outcome = match group.failure {
            None => inspection.report.clone().ok_or(HostError::HostStopped),
            Some(HostError::Flow {
                flow, diagnostic, ..
            }) => Err(HostError::Flow {
                flow,
                diagnostic,
                report: inspection.report.clone().map(Box::new),
            }),
            Some(other) => Err(other),
        };
        for waiter in group.waiters {
            let _ = waiter.send(outcome.clone());
        }
        self.flows.insert(
            of.parent,
            FlowRecord::Finished {
                outcome: Box::new(outcome),
                inspection: Box::new(inspection),
            },
        );
        self.remember_finished(of.parent);
    }

    /// The inspection of a running replicated flow: each replica's,
    /// added up.
    pub(super) fn inspect_replicas(
        &self,
        id: FlowId,
        replicas: Vec<FlowId>,
        ctx: &Context<Self>,
    ) -> ResponseActFuture<Self, Result<FlowInspection, HostError>> {
        let me = ctx.address();
        Box::pin(
            async move {
                let mut parts = Vec::with_capacity(replicas.len());
                for replica in replicas {
                    let inspection = me
                        .send(InspectFlow(replica))
                        .await
                        .map_err(|_| HostError::HostStopped)??;
                    parts.push(inspection);
                }
                Ok(merge_inspections(id, &parts))
            }
            .into_actor(self),
        )
    }
}

/// One inspection of a replicated flow from its replicas' (in index
/// order): the highest run, the combined state, counters added up, the
/// merged report and the first failure.
fn merge_inspections(id: FlowId, parts: &[FlowInspection]) -> FlowInspection {
    let states: Vec<FlowState> = parts.iter().map(|i| i.state).collect();
    let mut counters = CounterSnapshot::default();
    for i in parts {
        counters.add(&i.counters);
    }
    let reports = parts
        .iter()
        .zip(0u32..)
        .filter_map(|(i, index)| i.report.clone().map(|r| (index, i.id.to_string(), r)))
        .collect();
    let first = parts.first();
    FlowInspection {
        id,
        run: parts.iter().map(|i| i.run).max().unwrap_or(1),
        name: first.map(|i| i.name.clone()).unwrap_or_default(),
        state: combined_state(&states),
        priority: first.map(|i| i.priority).unwrap_or_default(),
        arbiter: first.map_or(0, |i| i.arbiter),
        counters,
        report: merge_replicas(reports),
        queue_depths: None,
        failure: parts.iter().find_map(|i| i.failure.clone()),
    }
}

/// The state of a replicated flow: failed once every replica ended and
/// one failed, completed once every one completed; before that, running
/// while any runs, else the least advanced replica's state.
pub(crate) fn combined_state(states: &[FlowState]) -> FlowState {
    if states.iter().all(|s| s.is_terminal()) {
        if states.contains(&FlowState::Failed) {
            FlowState::Failed
        } else {
            FlowState::Completed
        }
    } else if states.contains(&FlowState::Running) {
        FlowState::Running
    } else {
        states
            .iter()
            .copied()
            .find(|s| !s.is_terminal())
            .unwrap_or(FlowState::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_shared_out_to_the_element() {
        let shares: Vec<u64> = (0..3).map(|i| share(10, i, 3)).collect();
        assert_eq!(shares, [4, 3, 3]);
        assert_eq!((0..4).map(|i| share(2, i, 4)).sum::<u64>(), 2);
    }

    #[test]
    fn the_flow_is_running_while_a_replica_runs_and_failed_if_one_failed() {
        use FlowState::*;
        assert_eq!(combined_state(&[Completed, Running]), Running);
        assert_eq!(combined_state(&[Suspended, Suspended]), Suspended);
        assert_eq!(combined_state(&[Completed, Completed]), Completed);
        assert_eq!(combined_state(&[Failed, Completed]), Failed);
        assert_eq!(combined_state(&[Failed, Draining]), Draining);
    }
}
