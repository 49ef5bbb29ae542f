//! `metrics-emitter`: a managed transform that passes each payload through
//! (copied into a new buffer, like `passthrough`) and uses the
//! `torvyn:capabilities` host services:
//!
//! - per element: `counter-add("elements", 1, [parity=even|odd])` and
//!   `histogram-record("payload_bytes", len)`, then
//!   `gauge-set("last_sequence", sequence)`;
//! - at `init`: `flow-metadata.info()`, printed as
//!   `[metrics-emitter] flow=<id> name=<flow> node=<node>`.
//!
//! A refused call is printed once per service as
//! `[metrics-emitter] <service> refused: <message>` and the element still
//! passes through: an ungranted service costs the component its metrics,
//! not its data.

wit_bindgen::generate!({
    inline: r#"
        package torvyn-test:metrics-emitter;

        world metrics-emitter {
            import torvyn:streaming/types@0.1.0;
            import torvyn:streaming/buffer-allocator@0.1.0;
            import torvyn:capabilities/metrics@0.1.0;
            import torvyn:capabilities/flow-metadata@0.1.0;

            export torvyn:streaming/processor@0.1.0;
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
    world: "torvyn-test:metrics-emitter/metrics-emitter",
    generate_all,
});

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::processor::{Guest as ProcessorGuest, ProcessResult};
use guest_util::Global;
use torvyn::capabilities::{flow_metadata, metrics};
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, StreamElement};

#[derive(Default)]
struct MetricsEmitter {
    /// A refusal was printed already.
    told: bool,
}

static STATE: Global<MetricsEmitter> = Global::new();

fn refused(service: &str, error: metrics::MetricsError) {
    STATE.with(|s| {
        if !s.told {
            s.told = true;
            let message = match error {
                metrics::MetricsError::Denied(m) => format!("denied: {m}"),
                metrics::MetricsError::Invalid(m) => format!("invalid: {m}"),
                metrics::MetricsError::LimitExceeded(m) => format!("limit: {m}"),
            };
            println!("[metrics-emitter] {service} refused: {message}");
        }
    });
}

impl LifecycleGuest for MetricsEmitter {
    fn init(_config: String) -> Result<(), ProcessError> {
        STATE.set(MetricsEmitter::default());
        match flow_metadata::info() {
            Ok(info) => println!(
                "[metrics-emitter] flow={} name={} node={}",
                info.flow_id, info.flow_name, info.node_name
            ),
            Err(message) => println!("[metrics-emitter] flow-metadata refused: {message}"),
        }
        Ok(())
    }

    fn teardown() {}
}

impl ProcessorGuest for MetricsEmitter {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let bytes = input.payload.read_all();
        let parity = if input.meta.sequence % 2 == 0 { "even" } else { "odd" };
        let label = metrics::Label {
            name: "parity".into(),
            value: parity.into(),
        };
        if let Err(e) = metrics::counter_add("elements", 1, &[label]) {
            refused("metrics", e);
        }
        if let Err(e) = metrics::histogram_record("payload_bytes", bytes.len() as f64, &[]) {
            refused("metrics", e);
        }
        if let Err(e) = metrics::gauge_set("last_sequence", input.meta.sequence as f64, &[]) {
            refused("metrics", e);
        }
        let buffer = buffer_allocator::allocate(bytes.len() as u64).map_err(|e| {
            ProcessError::Unavailable(format!("metrics-emitter: allocate failed: {e:?}"))
        })?;
        buffer
            .append(&bytes)
            .map_err(|e| ProcessError::Internal(format!("metrics-emitter: append failed: {e:?}")))?;
        buffer.set_content_type(&input.meta.content_type);
        Ok(ProcessResult::Emit(OutputElement {
            meta: input.meta.clone(),
            payload: buffer.freeze(),
        }))
    }
}

export!(MetricsEmitter);
