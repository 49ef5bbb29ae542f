//! Benchmark support: the bare-Wasmtime floor that Torvyn's stage loop is
//! measured against.
//!
//! [`bare::BarePipeline`] makes exactly the guest calls a source → sink
//! flow makes (`pull`, then `push` with a borrowed payload) through a
//! minimal host: buffers live in a plain slab, with no ownership tracking,
//! no copy ledger, no pools, no budgets and no queue. Whatever the stage
//! loop costs on top of it is Torvyn's overhead.

pub mod bare;
pub mod stages;
