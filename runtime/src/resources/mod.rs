//! The resource manager: host-managed buffers, who owns them, and every
//! copy made of their bytes.
//!
//! - [`handle`]: buffer ids (slot index + generation) and their wire form.
//! - [`ownership`]: the ownership state machine (Pooled → Owned → Borrowed → Owned → Pooled, plus Transit).
//! - [`pool`]: buffer tiers (256 B / 4 KiB / 64 KiB / 1 MiB) and a flow's buffer cache.
//! - [`shared_pool`]: the process-wide pools the caches refill from.
//! - [`ledger`]: the per-flow copy ledger and copy amplification.
//! - [`table`]: the generational resource table holding live buffers.
//! - [`manager`]: [`ResourceManager`], the façade the host functions and the stage loop use.

pub mod error;
pub mod handle;
pub mod ledger;
pub mod manager;
pub mod ownership;
pub mod pool;
pub mod shared_pool;
pub mod table;

pub use error::ResourceError;
pub use handle::{BufferId, ComponentId};
pub use ledger::{CopyLedger, CopyReason, CopyStats, TransferRecord};
pub use manager::{ResourceLimits, ResourceManager};
pub use ownership::{Owner, OwnershipState};
pub use pool::{BufferPool, ExhaustionPolicy, PoolConfig, PoolStats, Tier};
pub use shared_pool::{SharedPool, SharedTierStats};
pub use table::BufferKind;
