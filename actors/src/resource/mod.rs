//! [`ResourceActor`]: the host's buffer pools, the global buffer-budget
//! ledger and the leak check at flow teardown.
//!
//! The actor owns the process-wide [`SharedPool`] (`[runtime.pools]`,
//! pre-allocated at start). A starting flow reserves its budget here and
//! gets the pool back in the reply; its resource manager then allocates
//! from a small per-flow cache refilled from that pool in batches (never a
//! message or a lock per element) and gives everything back at teardown.
//! This actor then checks that the finished flow holds nothing: no live
//! buffer, no pool buffer left outside the shared pool.

pub mod messages;

use crate::error::HostError;
use crate::ids::FlowId;
use actix::prelude::*;
use messages::{FlowTeardown, Reserve, Stats};
use std::collections::HashMap;
use std::sync::Arc;
use torvyn_runtime::error::{Coded, ErrorCode};
use torvyn_runtime::resources::{PoolConfig, SharedPool, SharedTierStats, Tier};

/// What the ResourceActor has counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceStats {
    /// The global budget (`None` = unlimited).
    pub budget_bytes: Option<u64>,
    /// Bytes reserved by running flows.
    pub reserved_bytes: u64,
    /// Flows holding a reservation.
    pub active_flows: usize,
    /// Flows torn down so far.
    pub flows_torn_down: u64,
    /// Reservations refused (budget exhausted).
    pub refused: u64,
    /// Flows that ended normally with buffers still alive, or that did not
    /// give every pool buffer back.
    pub leaking_flows: Vec<(FlowId, usize)>,
    /// The shared pools, per tier (small, medium, large, huge).
    pub pools: [SharedTierStats; 4],
}

impl ResourceStats {
    /// Pool buffers out of the shared pools (in flows' caches or live).
    pub fn pool_buffers_outstanding(&self) -> u64 {
        self.pools.iter().map(SharedTierStats::outstanding).sum()
    }
}

/// Owns the shared pools and the global buffer budget.
#[derive(Debug)]
pub struct ResourceActor {
    budget: Option<u64>,
    pool: Arc<SharedPool>,
    reservations: HashMap<FlowId, u64>,
    stats: ResourceStats,
}

impl ResourceActor {
    /// An actor enforcing `budget` bytes across all flows (`None`:
    /// account only), owning pre-allocated pools sized by `pools`.
    pub fn new(budget: Option<u64>, pools: PoolConfig) -> Self {
        Self {
            budget,
            pool: SharedPool::preallocated(pools),
            reservations: HashMap::new(),
            stats: ResourceStats {
                budget_bytes: budget,
                ..ResourceStats::default()
            },
        }
    }
}

impl Actor for ResourceActor {
    type Context = Context<Self>;
}

/// A flow's reservation did not fit in the global budget (E0310).
#[derive(Debug, thiserror::Error)]
#[error("flow needs {requested} bytes of buffer budget but only {available} of {budget} are free")]
pub struct BudgetRefused {
    /// Bytes asked for.
    pub requested: u64,
    /// Bytes free.
    pub available: u64,
    /// The global budget.
    pub budget: u64,
}

impl Coded for BudgetRefused {
    fn code(&self) -> ErrorCode {
        ErrorCode::BudgetExceeded
    }

    fn help(&self) -> String {
        "wait for running flows to finish, raise the host's buffer budget, or lower [runtime] max_memory_per_component".into()
    }
}

impl Handler<Reserve> for ResourceActor {
    type Result = Result<Arc<SharedPool>, HostError>;

    fn handle(&mut self, msg: Reserve, _: &mut Context<Self>) -> Self::Result {
        if let Some(budget) = self.budget {
            let available = budget.saturating_sub(self.stats.reserved_bytes);
            if msg.bytes > available {
                self.stats.refused += 1;
                let refused = BudgetRefused {
                    requested: msg.bytes,
                    available,
                    budget,
                };
                return Err(HostError::flow(msg.flow, &refused, None));
            }
        }
        self.stats.reserved_bytes += msg.bytes;
        self.reservations.insert(msg.flow, msg.bytes);
        self.stats.active_flows = self.reservations.len();
        Ok(Arc::clone(&self.pool))
    }
}

impl Handler<FlowTeardown> for ResourceActor {
    type Result = ();

    fn handle(&mut self, msg: FlowTeardown, _: &mut Context<Self>) {
        if let Some(bytes) = self.reservations.remove(&msg.flow) {
            self.stats.reserved_bytes -= bytes;
        }
        self.stats.active_flows = self.reservations.len();
        self.stats.flows_torn_down += 1;
        if msg.live_buffers > 0 && !msg.cancelled {
            tracing::error!(flow = %msg.flow, live_buffers = msg.live_buffers, "flow leaked buffers");
            self.stats.leaking_flows.push((msg.flow, msg.live_buffers));
        } else if msg.pool_buffers_held > 0 {
            tracing::error!(flow = %msg.flow, held = msg.pool_buffers_held, "flow kept pool buffers after teardown");
            self.stats
                .leaking_flows
                .push((msg.flow, msg.pool_buffers_held as usize));
        }
    }
}

impl Handler<Stats> for ResourceActor {
    type Result = MessageResult<Stats>;

    fn handle(&mut self, _: Stats, _: &mut Context<Self>) -> Self::Result {
        let mut stats = self.stats.clone();
        stats.pools = Tier::ALL.map(|tier| self.pool.stats(tier));
        MessageResult(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The budget refuses what does not fit, frees on teardown, and a flow
    /// that ended normally with live buffers is recorded as a leak.
    #[test]
    fn test_resource_actor_budget_and_leak_check() {
        let sys = System::new();
        sys.block_on(async {
            let addr = ResourceActor::new(Some(100), PoolConfig::default()).start();
            let a = FlowId::new(1);
            let b = FlowId::new(2);
            assert!(addr
                .send(Reserve { flow: a, bytes: 60 })
                .await
                .unwrap()
                .is_ok());
            let refused = addr.send(Reserve { flow: b, bytes: 60 }).await.unwrap();
            assert_eq!(refused.unwrap_err().code(), ErrorCode::BudgetExceeded);
            addr.do_send(FlowTeardown {
                flow: a,
                live_buffers: 2,
                pool_buffers_held: 0,
                cancelled: false,
            });
            assert!(addr
                .send(Reserve { flow: b, bytes: 60 })
                .await
                .unwrap()
                .is_ok());
            addr.do_send(FlowTeardown {
                flow: b,
                live_buffers: 3,
                pool_buffers_held: 0,
                cancelled: true,
            });
            let stats = addr.send(Stats).await.unwrap();
            assert_eq!(stats.reserved_bytes, 0);
            assert_eq!(stats.refused, 1);
            assert_eq!(stats.leaking_flows, vec![(a, 2)]);
        });
    }
}
