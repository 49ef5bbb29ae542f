//! `partition-source`: a managed source (`torvyn:streaming/managed-source`
//! plus `torvyn:capabilities/flow-metadata`) for replicated flows. At
//! `init` it asks `flow-metadata.partition()` which replica it runs in
//! (`index` of `count`) and then emits only the elements of its partition:
//! element `i` of `0..count` (config) when `i % partitions == index`.
//! Without the `torvyn-flow-metadata` grant it refuses to start.
//!
//! Config (`lifecycle.init`, JSON object, every key optional):
//!
//! - `count` (default 1000): elements of the whole flow, over all
//!   partitions; `0` means never-ending.
//! - `payload_size` (default 64): bytes per payload.
//! - `fail_index`: the replica with this index traps on its pull after
//!   `fail_after` (default 0) elements — for supervision tests.
//!
//! Element `i` carries `guest_util::counter_payload(i, payload_size)` (as
//! `counter-source`'s) and `meta.sequence = i`, so the union of every
//! replica's output is exactly `counter-source`'s.

wit_bindgen::generate!({
    inline: r#"
        package torvyn-test:partition-source;

        world partition-source {
            import torvyn:streaming/types@0.1.0;
            import torvyn:streaming/buffer-allocator@0.1.0;
            import torvyn:capabilities/flow-metadata@0.1.0;

            export torvyn:streaming/source@0.1.0;
            export torvyn:streaming/lifecycle@0.1.0;
        }
    "#,
    path: [
        "../../../wit/streaming",
        "../../../wit/resources",
        "../../../wit/filtering",
        "../../../wit/aggregation",
        "../../../wit/capabilities",
    ],
    world: "torvyn-test:partition-source/partition-source",
    generate_all,
});

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::source::Guest as SourceGuest;
use guest_util::{counter_payload, Config, Global};
use torvyn::capabilities::flow_metadata;
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{BackpressureSignal, ElementMeta, OutputElement, ProcessError};

const CONTENT_TYPE: &str = "text/plain";

struct PartitionSource {
    /// Elements of the whole flow; 0 = unbounded.
    count: u64,
    payload_size: u64,
    /// This replica and the number of replicas.
    index: u64,
    partitions: u64,
    /// The next element index of this partition.
    next: u64,
    /// Trap after this many elements of ours (`fail_index` matched).
    fail_after: Option<u64>,
    emitted: u64,
}

impl Default for PartitionSource {
    /// Before `init`: the whole flow's first 1000 elements.
    fn default() -> Self {
        PartitionSource {
            count: 1000,
            payload_size: 64,
            index: 0,
            partitions: 1,
            next: 0,
            fail_after: None,
            emitted: 0,
        }
    }
}

static STATE: Global<PartitionSource> = Global::new();

impl LifecycleGuest for PartitionSource {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        let partition = flow_metadata::partition().map_err(ProcessError::Internal)?;
        let index = u64::from(partition.index);
        let fail_index = parsed
            .get("fail_index")
            .map(|_| parsed.u64_or("fail_index", 0))
            .transpose()
            .map_err(ProcessError::InvalidInput)?;
        let fail_after = parsed
            .u64_or("fail_after", 0)
            .map_err(ProcessError::InvalidInput)?;
        STATE.set(PartitionSource {
            count: parsed
                .u64_or("count", 1000)
                .map_err(ProcessError::InvalidInput)?,
            payload_size: parsed
                .u64_or("payload_size", 64)
                .map_err(ProcessError::InvalidInput)?,
            index,
            partitions: u64::from(partition.count.max(1)),
            next: index,
            fail_after: (fail_index == Some(index)).then_some(fail_after),
            emitted: 0,
        });
        Ok(())
    }

    fn teardown() {}
}

impl SourceGuest for PartitionSource {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        STATE.with(|s| {
            if s.fail_after.is_some_and(|after| s.emitted >= after) {
                panic!("partition-source: replica {} fails as configured", s.index);
            }
            if s.count != 0 && s.next >= s.count {
                return Ok(None);
            }
            let i = s.next;
            let payload = counter_payload(i, s.payload_size as usize);
            let buffer = buffer_allocator::allocate(s.payload_size).map_err(|e| {
                ProcessError::Unavailable(format!("partition-source: allocate failed: {e:?}"))
            })?;
            buffer.append(&payload).map_err(|e| {
                ProcessError::Internal(format!("partition-source: append failed: {e:?}"))
            })?;
            buffer.set_content_type(CONTENT_TYPE);
            let payload = buffer.freeze();
            s.next += s.partitions;
            s.emitted += 1;
            Ok(Some(OutputElement {
                meta: ElementMeta {
                    sequence: i,
                    timestamp_ns: 0,
                    content_type: CONTENT_TYPE.to_string(),
                },
                payload,
            }))
        })
    }

    fn notify_backpressure(_signal: BackpressureSignal) {}
}

export!(PartitionSource);
