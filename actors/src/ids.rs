//! [`FlowId`]: the host-unique identity of a running or finished flow.

use std::fmt;

/// Identifies one flow started on a host (`flow-7`). Never reused within a
/// host's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(u64);

impl FlowId {
    /// A flow id from its number.
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow-{}", self.0)
    }
}

/// Which replica of a replicated flow (`[flow.<name>] replicas`) a flow
/// is: each replica is a flow of its own (own id, arbiter, instances and
/// counters) under the flow the host returned when it started them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplicaOf {
    /// The replicated flow (what `start_flow` returned).
    pub parent: FlowId,
    /// This replica's partition index, 0-based.
    pub index: u32,
    /// The flow's replicas.
    pub count: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_flow_id_display_uses_the_flow_prefix() {
        assert_eq!(FlowId::new(7).to_string(), "flow-7");
        assert_eq!(FlowId::new(42), FlowId::new(42));
    }
}
