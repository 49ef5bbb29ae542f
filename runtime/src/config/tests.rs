//! End-to-end tests of manifest loading: the spec's example manifests,
//! defaults, every error code with its location, and layering.

use std::path::{Path, PathBuf};

use super::*;
use crate::error::{Coded, ErrorCode};

fn load(text: &str) -> Result<Manifest, ConfigError> {
    Manifest::from_str_at(text, Path::new("Torvyn.toml"))
}

fn err(text: &str) -> ConfigError {
    match load(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

const HEADER: &str = "[torvyn]\nname = \"t\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n";

fn with_header(rest: &str) -> String {
    format!("{HEADER}{rest}")
}

/// Spec, "Hello World" example.
const HELLO_WORLD: &str = r#"[torvyn]
name = "hello-world"
version = "0.1.0"
contract_version = "0.1.0"
description = "The simplest possible Torvyn pipeline"

# Declare the two components in this workspace.
[[component]]
name = "hello-source"
path = "components/hello-source"

[[component]]
name = "hello-sink"
path = "components/hello-sink"

# Define the pipeline flow.
[flow.main]
description = "Source produces greetings, sink prints them"

[flow.main.nodes.source]
component = "hello-source"
interface = "torvyn:streaming/source"
config = '{"count": 5}'

[flow.main.nodes.sink]
component = "hello-sink"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = { node = "source", port = "output" }
to = { node = "sink", port = "input" }
"#;

/// Spec, "Stream Transform" example.
const STREAM_TRANSFORM: &str = r#"[torvyn]
name = "stream-transform"
version = "0.1.0"
contract_version = "0.1.0"
description = "JSON event transformation pipeline"

[[component]]
name = "json-source"
path = "components/json-source"

[[component]]
name = "json-transform"
path = "components/json-transform"

[[component]]
name = "json-sink"
path = "components/json-sink"

[flow.main]
description = "Source → Transform → Sink"

[flow.main.nodes.source]
component = "json-source"
interface = "torvyn:streaming/source"

[flow.main.nodes.transform]
component = "json-transform"
interface = "torvyn:streaming/processor"

[flow.main.nodes.sink]
component = "json-sink"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = { node = "source", port = "output" }
to = { node = "transform", port = "input" }

[[flow.main.edges]]
from = { node = "transform", port = "output" }
to = { node = "sink", port = "input" }
"#;

/// Spec, "Backpressure Demo" example (flow-level `default_queue_depth`).
const BACKPRESSURE_DEMO: &str = r#"[torvyn]
name = "backpressure-demo"
version = "0.1.0"
contract_version = "0.1.0"
description = "Demonstrates backpressure between a fast source and slow sink"

[[component]]
name = "fast-source"
path = "components/fast-source"

[[component]]
name = "slow-sink"
path = "components/slow-sink"

[flow.main]
description = "Fast source → Slow sink (backpressure active)"

# Override queue depth to a small value so backpressure activates quickly.
default_queue_depth = 16

[flow.main.nodes.source]
component = "fast-source"
interface = "torvyn:streaming/source"
config = "1000"

[flow.main.nodes.sink]
component = "slow-sink"
interface = "torvyn:streaming/sink"
config = "100000"

[[flow.main.edges]]
from = { node = "source", port = "output" }
to = { node = "sink", port = "input" }
"#;

/// Spec, "Fan-Out" example (router ports).
const FAN_OUT: &str = r#"[torvyn]
name = "fan-out"
version = "0.1.0"
contract_version = "0.1.0"
description = "Fan-out pipeline with router"

[[component]]
name = "event-source"
path = "components/event-source"

[[component]]
name = "event-router"
path = "components/event-router"

[[component]]
name = "metric-processor"
path = "components/metric-processor"

[[component]]
name = "log-processor"
path = "components/log-processor"

[[component]]
name = "metric-sink"
path = "components/metric-sink"

[[component]]
name = "log-sink"
path = "components/log-sink"

[flow.main]
description = "Source → Router → (Metrics branch, Logs branch)"

[flow.main.nodes.source]
component = "event-source"
interface = "torvyn:streaming/source"

[flow.main.nodes.router]
component = "event-router"
interface = "torvyn:filtering/router"

[flow.main.nodes.metric-proc]
component = "metric-processor"
interface = "torvyn:streaming/processor"

[flow.main.nodes.log-proc]
component = "log-processor"
interface = "torvyn:streaming/processor"

[flow.main.nodes.metric-sink]
component = "metric-sink"
interface = "torvyn:streaming/sink"

[flow.main.nodes.log-sink]
component = "log-sink"
interface = "torvyn:streaming/sink"

# Source feeds the router.
[[flow.main.edges]]
from = { node = "source", port = "output" }
to = { node = "router", port = "input" }

# Router "metrics" port feeds the metrics branch.
[[flow.main.edges]]
from = { node = "router", port = "metrics" }
to = { node = "metric-proc", port = "input" }

# Router "logs" port feeds the logs branch.
[[flow.main.edges]]
from = { node = "router", port = "logs" }
to = { node = "log-proc", port = "input" }

# Each branch flows to its sink.
[[flow.main.edges]]
from = { node = "metric-proc", port = "output" }
to = { node = "metric-sink", port = "input" }

[[flow.main.edges]]
from = { node = "log-proc", port = "output" }
to = { node = "log-sink", port = "input" }
"#;

/// Spec, "Your First Component": a component project with a one-node
/// flow appended.
const FIRST_COMPONENT: &str = r#"[torvyn]
name = "my-transform"
version = "0.1.0"
contract_version = "0.1.0"

[[component]]
name = "my-transform"
path = "."
language = "rust"

[flow.main]
description = "Pass-through transform with built-in test source"

[flow.main.nodes.transform]
component = "file://./target/wasm32-wasip2/debug/my_transform.wasm"
interface = "torvyn:streaming/processor"
"#;

/// Spec, "Capabilities": component manifest with a single `[component]`.
const CAPABILITIES: &str = r#"[torvyn]
name = "my-transform"
version = "0.2.0"
contract_version = "0.1.0"

[component]
name = "my-transform"
version = "0.2.0"

[capabilities.required]
# WASI capabilities this component needs to function
wasi-filesystem-read = true
wasi-clocks = true

[capabilities.optional]
# Capabilities that enhance functionality but are not required
wasi-random = true
# Explicitly declare capabilities not needed (aids auditing)
wasi-network-egress = false

[capabilities.torvyn]
# Torvyn-specific resource requirements
max-buffer-size = "16MiB"
max-memory = "64MiB"
buffer-pool-access = "default"

[security]
default_capability_policy = "deny-all"

[security.grants.my-transform]
capabilities = [
    "wasi:filesystem/read:/data/input",
    "wasi:clocks/wall-clock",
    "wasi:random/random",
]

[security.grants.my-sink]
capabilities = [
    "wasi:filesystem/write:/data/output",
]
"#;

#[test]
fn hello_world_parses_with_the_right_values() {
    let m = load(HELLO_WORLD).unwrap();
    assert_eq!(m.torvyn.name, "hello-world");
    assert_eq!(m.torvyn.version, "0.1.0");
    assert_eq!(m.torvyn.contract_version, "0.1.0");
    assert_eq!(
        m.torvyn.description,
        "The simplest possible Torvyn pipeline"
    );
    assert!(m.torvyn.authors.is_empty());
    let names: Vec<_> = m
        .components
        .iter()
        .map(|c| (c.name.as_str(), c.path.as_str(), c.language))
        .collect();
    assert_eq!(
        names,
        [
            ("hello-source", "components/hello-source", Language::Rust),
            ("hello-sink", "components/hello-sink", Language::Rust)
        ]
    );
    let (name, flow) = m.flow(None).unwrap();
    assert_eq!(name, "main");
    assert_eq!(
        flow.description,
        "Source produces greetings, sink prints them"
    );
    let nodes: Vec<_> = flow
        .nodes()
        .map(|(n, d)| {
            (
                n,
                d.component.as_str(),
                d.interface.as_str(),
                d.config.as_str(),
            )
        })
        .collect();
    assert_eq!(
        nodes,
        [
            (
                "source",
                "hello-source",
                "torvyn:streaming/source",
                "{\"count\": 5}"
            ),
            ("sink", "hello-sink", "torvyn:streaming/sink", ""),
        ]
    );
    assert_eq!(flow.edges().len(), 1);
    let edge = &flow.edges()[0];
    assert_eq!(
        (edge.from.node.as_str(), edge.from.port.as_str()),
        ("source", "output")
    );
    assert_eq!(
        (edge.to.node.as_str(), edge.to.port.as_str()),
        ("sink", "input")
    );
    assert_eq!(edge.stream_name(), "source-to-sink");
    assert_eq!(m.runtime, RuntimeConfig::default());
    assert_eq!(m.observability, ObservabilityConfig::default());
}

#[test]
fn the_checked_in_hello_world_example_parses() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/hello-world/Torvyn.toml");
    if path.exists() {
        let m = Manifest::load(&path).unwrap();
        assert_eq!(m.torvyn.name, "hello-world");
    }
}

#[test]
fn the_other_example_manifests_parse() {
    let m = load(STREAM_TRANSFORM).unwrap();
    let order: Vec<&str> = m
        .flow(Some("main"))
        .unwrap()
        .1
        .nodes()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(order, ["source", "transform", "sink"]);

    let m = load(BACKPRESSURE_DEMO).unwrap();
    let (_, flow) = m.flow(None).unwrap();
    assert_eq!(flow.default_queue_depth, Some(16));
    let resolved = m.stream_backpressure(flow, &flow.edges[0]);
    assert_eq!(
        (resolved.queue_depth, resolved.policy),
        (16, BackpressurePolicy::Block)
    );
    assert_eq!(flow.node("sink").unwrap().config, "100000");

    let m = load(FAN_OUT).unwrap();
    let (_, flow) = m.flow(None).unwrap();
    let order: Vec<&str> = flow.nodes().map(|(n, _)| n).collect();
    assert_eq!(
        order,
        [
            "source",
            "router",
            "metric-proc",
            "log-proc",
            "metric-sink",
            "log-sink"
        ]
    );
    let ports: Vec<&str> = flow.edges().iter().map(|e| e.from.port.as_str()).collect();
    assert_eq!(ports, ["output", "metrics", "logs", "output", "output"]);
    assert_eq!(m.components.len(), 6);

    let m = load(FIRST_COMPONENT).unwrap();
    assert!(m.flow(None).unwrap().1.edges().is_empty());
}

#[test]
fn the_capabilities_chapter_manifest_parses() {
    let m = load(CAPABILITIES).unwrap();
    assert_eq!(m.components.len(), 1);
    assert_eq!(m.components[0].version.as_deref(), Some("0.2.0"));
    assert_eq!(m.components[0].path, ".");
    assert_eq!(
        m.capabilities.required_ids().collect::<Vec<_>>(),
        ["wasi-filesystem-read", "wasi-clocks"]
    );
    assert_eq!(
        m.capabilities.optional_ids().collect::<Vec<_>>(),
        ["wasi-random"]
    );
    assert_eq!(
        m.capabilities.declined_ids().collect::<Vec<_>>(),
        ["wasi-network-egress"]
    );
    assert_eq!(m.capabilities.torvyn.max_buffer_size, ByteSize::mib(16));
    assert_eq!(
        m.security.default_capability_policy,
        CapabilityPolicy::DenyAll
    );
    assert_eq!(m.security.grants_for("my-transform").len(), 3);
    assert_eq!(
        m.security.grants_for("my-sink"),
        ["wasi:filesystem/write:/data/output"]
    );
    assert!(m.security.grants_for("nobody").is_empty());
    assert_eq!(
        m.security.grants.keys().collect::<Vec<_>>(),
        ["my-transform", "my-sink"]
    );
    assert!(matches!(m.flow(None), Err(ConfigError::NoFlows)));
}

#[test]
fn the_backpressure_chapter_spellings_parse() {
    let text = with_header(
        r#"
[runtime.backpressure]
default_queue_depth = 64
default_policy = "block"
low_watermark_ratio = 0.5

[flow.main.nodes.transform]
component = "t.wasm"
interface = "torvyn:streaming/processor"

[flow.main.nodes.sink]
component = "s.wasm"
interface = "torvyn:streaming/sink"

# Override for a specific stream
[flow.main.edges.transform-to-sink]
from = { node = "transform", port = "output" }
to = { node = "sink", port = "input" }

[flow.main.edges.transform-to-sink.backpressure]
queue_depth = 256
policy = "drop-oldest"
low_watermark_ratio = 0.25
"#,
    );
    let m = load(&text).unwrap();
    let (_, flow) = m.flow(None).unwrap();
    let edge = &flow.edges[0];
    assert_eq!(edge.stream_name(), "transform-to-sink");
    let resolved = m.stream_backpressure(flow, edge);
    assert_eq!(resolved.queue_depth, 256);
    assert_eq!(resolved.policy, BackpressurePolicy::DropOldest);
    assert_eq!(resolved.low_watermark_ratio, 0.25);
}

#[test]
fn the_production_guide_spellings_parse() {
    let text = with_header(
        r#"
[observability]
metrics_enabled = true
prometheus_enabled = true
otlp_export_interval_s = 30

[observability.tracing]
level = "production"
tracing_exporter = "otlp-grpc"
tracing_endpoint = "http://your-otel-collector:4317"
sample_rate = 0.01
error_promote = true
latency_promote_threshold_ms = 10
"#,
    );
    let m = load(&text).unwrap();
    assert_eq!(
        m.observability.tracing_exporter,
        Some(TracingExporter::OtlpGrpc)
    );
    assert_eq!(
        m.observability.tracing_endpoint,
        "http://your-otel-collector:4317"
    );
    assert_eq!(m.observability.otlp_metrics_interval_s, 30);
}

#[test]
fn defaults_follow_the_reference() {
    let m = load(HEADER).unwrap();
    assert!(m.components.is_empty() && m.flows.is_empty());
    assert_eq!(m.runtime.worker_threads, None);
    assert_eq!(m.runtime.max_memory_per_component, ByteSize::mib(64));
    assert_eq!(m.runtime.fuel_per_invocation, 0);
    assert_eq!(m.runtime.max_invocation_time_ms, 1000);
    assert_eq!(m.runtime.component_init_timeout_ms, 5000);
    assert_eq!(m.runtime.component_teardown_timeout_ms, 2000);
    assert_eq!(m.runtime.backpressure.default_queue_depth, 64);
    assert_eq!(
        m.runtime.backpressure.backpressure_policy,
        BackpressurePolicy::Block
    );
    assert_eq!(m.runtime.backpressure.low_watermark_ratio, 0.5);
    let pools = &m.runtime.pools;
    assert_eq!(
        (
            pools.small_pool_size,
            pools.medium_pool_size,
            pools.large_pool_size,
            pools.huge_pool_size
        ),
        (4096, 1024, 256, 32)
    );
    assert_eq!(pools.exhaustion_policy, ExhaustionPolicy::FallbackAlloc);
    let o = &m.observability;
    assert_eq!(o.level, ObservabilityLevel::Production);
    assert!(
        o.tracing_enabled
            && o.error_promote
            && o.metrics_enabled
            && o.prometheus_enabled
            && !o.otlp_metrics_enabled
    );
    assert_eq!(o.tracing_exporter, None);
    assert_eq!(o.exporter(), TracingExporter::Stdout);
    assert_eq!(o.tracing_endpoint, "");
    assert_eq!(o.sample_rate, 0.01);
    assert_eq!(
        (
            o.latency_promote_threshold_ms,
            o.otlp_metrics_interval_s,
            o.ring_buffer_capacity
        ),
        (10, 15, 64)
    );
    assert_eq!(
        m.security.default_capability_policy,
        CapabilityPolicy::DenyAll
    );
    assert!(m.security.audit_enabled);
    assert_eq!(m.security.audit_target, AuditTarget::File);
    assert!(m.security.grants.is_empty());
    assert_eq!(m.registry.default, "");
    assert_eq!(m.capabilities.torvyn, TorvynCapabilities::default());
    assert_eq!(m.capabilities.torvyn.max_memory, ByteSize::mib(64));
    assert_eq!(m.capabilities.torvyn.buffer_pool_access, "default");
}

#[test]
fn every_documented_value_is_accepted() {
    let text = with_header(
        r#"description = "d"
authors = ["Alice <alice@example.com>"]
license = "Apache-2.0"
repository = "https://example.com/r"

[[component]]
name = "c"
path = "components/c"
language = "zig"
build_command = "zig build"

[runtime]
worker_threads = 2
max_memory_per_component = "512KiB"
fuel_per_invocation = 0
component_init_timeout_ms = 100
component_teardown_timeout_ms = 50

[runtime.backpressure]
default_queue_depth = 8
backpressure_policy = "rate-limit"
max_elements_per_second = 100
low_watermark_ratio = 0.75

[runtime.pools]
small_pool_size = 0
medium_pool_size = 1
large_pool_size = 2
huge_pool_size = 3
exhaustion_policy = "error"

[observability]
level = "diagnostic"
tracing_enabled = false
tracing_exporter = "none"
sample_rate = 1.0
otlp_metrics_enabled = true
ring_buffer_capacity = 128

[security]
default_capability_policy = "allow-all"
audit_enabled = false
audit_target = "event-sink"

[registry]
default = "ghcr.io/acme"
"#,
    );
    let m = load(&text).unwrap();
    assert_eq!(m.torvyn.authors, ["Alice <alice@example.com>"]);
    assert_eq!(m.components[0].language, Language::Zig);
    assert_eq!(m.components[0].build_command.as_deref(), Some("zig build"));
    assert_eq!(m.runtime.worker_threads, Some(2));
    assert_eq!(m.runtime.max_memory_per_component.bytes(), 512 * 1024);
    assert_eq!(m.runtime.fuel_limit(), None);
    assert_eq!(
        m.runtime.backpressure.backpressure_policy,
        BackpressurePolicy::RateLimit
    );
    assert_eq!(m.runtime.backpressure.max_elements_per_second, Some(100));
    assert_eq!(m.runtime.pools.exhaustion_policy, ExhaustionPolicy::Error);
    assert_eq!(m.observability.level, ObservabilityLevel::Diagnostic);
    assert_eq!(
        m.observability.tracing_exporter,
        Some(TracingExporter::Disabled)
    );
    assert_eq!(m.security.audit_target, AuditTarget::EventSink);
    assert_eq!(m.registry.default, "ghcr.io/acme");
}

#[test]
fn flows_keep_file_order_and_the_first_is_the_default() {
    let text = with_header(
        r#"
[flow.zeta.nodes.only]
component = "a.wasm"
interface = "torvyn:streaming/source"

[flow.alpha.nodes.only]
component = "a.wasm"
interface = "torvyn:streaming/source"
"#,
    );
    let m = load(&text).unwrap();
    assert_eq!(m.flow_names().collect::<Vec<_>>(), ["zeta", "alpha"]);
    assert_eq!(m.flow(None).unwrap().0, "zeta");
    assert_eq!(m.flow(Some("alpha")).unwrap().0, "alpha");
    let unknown = m.flow(Some("alpah")).unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::ConstraintViolation);
    assert!(
        unknown.to_string().contains("defined flows: zeta, alpha"),
        "{unknown}"
    );
    assert_eq!(unknown.help(), "did you mean `alpha`?");
    let far = m.flow(Some("production")).unwrap_err();
    assert_eq!(far.help(), "pass --flow with one of: zeta, alpha");
    let none = load(HEADER).unwrap().flow(Some("main")).unwrap_err();
    assert!(matches!(none, ConfigError::NoFlows));
    assert!(none.help().contains("[flow.main]"));
}

#[test]
fn locations_of_values_are_available_to_other_modules() {
    let m = load(HELLO_WORLD).unwrap();
    assert_eq!(
        m.location_of(&["flow", "main", "edges", "0", "to", "node"])
            .as_deref(),
        Some("Torvyn.toml:31:15")
    );
    assert_eq!(
        m.location_of(&["flow", "main", "nodes", "sink"]).as_deref(),
        Some("Torvyn.toml:25:1")
    );
    assert_eq!(m.location_of(&["runtime"]), None);
}

// ---- errors ---------------------------------------------------------------

#[test]
fn missing_manifest_is_e0001_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Torvyn.toml");
    let e = Manifest::load(&path).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ManifestNotFound);
    assert_eq!(e.location(), Some(path.display().to_string()));
    assert!(e.to_string().contains(&path.display().to_string()));
    let e = Manifest::load_layered(&path, LayerSources::default()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ManifestNotFound);
}

#[test]
fn toml_syntax_error_is_e0002_with_line_and_column() {
    let e = err("[torvyn]\nname = \"t\"\nversion \"0.1.0\"\n");
    assert_eq!(e.code(), ErrorCode::ManifestParseError);
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:3:9"));
    assert!(
        e.to_string().starts_with("Torvyn.toml is not valid TOML: "),
        "{e}"
    );

    let e = err(&with_header(
        "[runtime]\nworker_threads = 4\nworker_threads = 5\n",
    ));
    assert_eq!(e.code(), ErrorCode::ManifestParseError);
    assert!(
        e.location().unwrap().starts_with("Torvyn.toml:7:"),
        "{:?}",
        e.location()
    );
}

#[test]
fn unknown_field_is_e0701_with_place_and_suggestion() {
    let e = err(&with_header(
        "\n[runtime.backpressure]\ndefualt_queue_depth = 32\n",
    ));
    assert_eq!(e.code(), ErrorCode::UnknownField);
    assert_eq!(
        e.to_string(),
        "unknown field `defualt_queue_depth` in [runtime.backpressure]"
    );
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:7:1"));
    assert_eq!(e.help(), "did you mean `default_queue_depth`?");
    let rendered = e.diagnostic().to_string();
    assert!(
        rendered.starts_with("error[E0701]: unknown field"),
        "{rendered}"
    );
}

#[test]
fn unknown_fields_are_found_at_every_depth() {
    // top level
    let e = err(&with_header("[runtme]\nworker_threads = 1\n"));
    assert_eq!(
        (e.code(), e.help()),
        (
            ErrorCode::UnknownField,
            "did you mean `runtime`?".to_string()
        )
    );
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:5:2"));
    // inside a node of a flow
    let e = err(&with_header(
        "[flow.main.nodes.a]\ncomponent = \"a\"\ninterface = \"i\"\nconfg = \"{}\"\n",
    ));
    assert_eq!(
        e.to_string(),
        "unknown field `confg` in [flow.main.nodes.a]"
    );
    assert_eq!(e.help(), "did you mean `config`?");
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:8:1"));
    // inside an inline table of an edge
    let e = err(&with_header(
        "[flow.main.nodes.a]\ncomponent = \"a\"\ninterface = \"i\"\n[[flow.main.edges]]\nfrom = { node = \"a\", prot = \"output\" }\nto = { node = \"a\", port = \"input\" }\n",
    ));
    // Both problems of the misspelled key are reported: the unknown
    // field first, then the field it should have been.
    let all = e.diagnostics();
    assert_eq!(
        all.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
        [
            "unknown field `prot` in [flow.main.edges[0].from]",
            "missing required field `port` in [flow.main.edges[0].from]"
        ]
    );
    assert_eq!(e.help(), "did you mean `port`?");
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:9:22"));
    // nothing close: list the valid names
    let e = err(&with_header("[registry]\nmirror = \"x\"\n"));
    assert_eq!(e.help(), "remove the field, or use one of: default");
}

#[test]
fn wrong_type_is_e0700_with_field_expected_type_and_position() {
    let e = err(&with_header("[runtime]\nworker_threads = \"four\"\n"));
    assert_eq!(e.code(), ErrorCode::InvalidFieldType);
    assert_eq!(
        e.to_string(),
        "`runtime.worker_threads` has the wrong type: expected integer, found string"
    );
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:6:18"));
    assert_eq!(e.help(), "write the value as an integer");

    let e = err(&with_header("[observability]\ntracing_enabled = \"yes\"\n"));
    assert_eq!(e.code(), ErrorCode::InvalidFieldType);
    let e = err(&with_header(
        "[security.grants.x]\ncapabilities = [\"a\", 3]\n",
    ));
    assert_eq!(e.code(), ErrorCode::InvalidFieldType);
    assert!(
        e.to_string().contains("security.grants.x.capabilities[1]"),
        "{e}"
    );
    let e = err(&with_header("[runtime]\nmax_memory_per_component = true\n"));
    assert_eq!(e.code(), ErrorCode::InvalidFieldType);
    let e = err(&format!("runtime = 5\n{HEADER}"));
    assert_eq!(e.code(), ErrorCode::InvalidFieldType);
    let e = err(&with_header("[[flow]]\nx = 1\n"));
    assert_eq!(e.code(), ErrorCode::InvalidFieldType);
}

#[test]
fn out_of_range_values_are_e0702() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[runtime.backpressure]\nlow_watermark_ratio = 1.0\n",
            "runtime.backpressure.low_watermark_ratio",
            "6:23",
        ),
        (
            "[runtime.backpressure]\nlow_watermark_ratio = 0\n",
            "runtime.backpressure.low_watermark_ratio",
            "6:23",
        ),
        (
            "[runtime.backpressure]\ndefault_queue_depth = 0\n",
            "runtime.backpressure.default_queue_depth",
            "6:23",
        ),
        (
            "[runtime]\nfuel_per_invocation = -1\n",
            "runtime.fuel_per_invocation",
            "6:23",
        ),
        (
            "[observability]\nsample_rate = 1.5\n",
            "observability.sample_rate",
            "6:15",
        ),
        (
            "[observability]\nsample_rate = -0.1\n",
            "observability.sample_rate",
            "6:15",
        ),
        (
            "[observability]\nring_buffer_capacity = 1048577\n",
            "observability.ring_buffer_capacity",
            "6:24",
        ),
        (
            "[runtime.backpressure]\nbackpressure_policy = \"drop-oldst\"\n",
            "runtime.backpressure.backpressure_policy",
            "6:23",
        ),
        (
            "[runtime]\nmax_memory_per_component = \"64MB!\"\n",
            "runtime.max_memory_per_component",
            "6:28",
        ),
        (
            "[runtime]\nmax_memory_per_component = \"0MiB\"\n",
            "runtime.max_memory_per_component",
            "6:28",
        ),
        (
            "[runtime]\nworker_threads = 0\n",
            "runtime.worker_threads",
            "6:18",
        ),
        (
            "[observability]\nlevel = \"verbose\"\n",
            "observability.level",
            "6:9",
        ),
        (
            "[runtime.pools]\nexhaustion_policy = \"panic\"\n",
            "runtime.pools.exhaustion_policy",
            "6:21",
        ),
        (
            "[runtime.backpressure]\ndefault_queue_depth = 5000000000\n",
            "runtime.backpressure.default_queue_depth",
            "6:23",
        ),
    ];
    for (rest, field, position) in cases {
        let e = err(&with_header(rest));
        assert_eq!(e.code(), ErrorCode::ConstraintViolation, "{rest}: {e}");
        assert!(
            e.to_string()
                .starts_with(&format!("invalid value for `{field}`")),
            "{e}"
        );
        assert_eq!(
            e.location(),
            Some(format!("Torvyn.toml:{position}")),
            "{rest}"
        );
    }
    let e = err(&with_header(
        "[runtime.backpressure]\nbackpressure_policy = \"drop-oldst\"\n",
    ));
    assert_eq!(e.help(), "did you mean `drop-oldest`?");
    let e = err(&with_header("[runtime]\nfuel_per_invocation = -1\n"));
    assert!(e.to_string().contains("at least 0, not -1"), "{e}");
    assert!(e.help().contains("0 for unlimited"), "{}", e.help());
    let e = err(&with_header(
        "[runtime.backpressure]\nlow_watermark_ratio = 1.0\n",
    ));
    assert_eq!(
        e.to_string(),
        "invalid value for `runtime.backpressure.low_watermark_ratio`: it must be greater than 0 and less than 1, not 1"
    );
}

#[test]
fn invalid_metadata_is_e0702() {
    let e = err(
        "[torvyn]\nname = \"Hello World\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n",
    );
    assert_eq!(e.code(), ErrorCode::ConstraintViolation);
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:2:8"));
    let e = err("[torvyn]\nname = \"x\"\nversion = \"1.0\"\ncontract_version = \"0.1.0\"\n");
    assert!(e.to_string().contains("torvyn.version"), "{e}");
    let e = err(&with_header(
        "[[component]]\nname = \"c\"\nlanguage = \"cobol\"\n",
    ));
    assert_eq!(e.code(), ErrorCode::ConstraintViolation);
}

#[test]
fn missing_required_fields_are_e0702_at_their_table() {
    let e = err("[runtime]\nworker_threads = 1\n");
    assert_eq!(e.code(), ErrorCode::ConstraintViolation);
    assert_eq!(
        e.to_string(),
        "missing required field `torvyn` in the manifest"
    );
    assert_eq!(e.help(), "add `torvyn = ...` to the manifest");

    let e = err("[torvyn]\nname = \"x\"\nversion = \"0.1.0\"\n");
    assert_eq!(
        e.to_string(),
        "missing required field `contract_version` in [torvyn]"
    );
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:1:1"));

    let e = err(&with_header("[flow.main.nodes.a]\ninterface = \"i\"\n"));
    assert_eq!(
        e.to_string(),
        "missing required field `component` in [flow.main.nodes.a]"
    );
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:5:1"));
}

#[test]
fn empty_node_component_is_e0702() {
    let e = err(&with_header(
        "[flow.main.nodes.a]\ncomponent = \"\"\ninterface = \"i\"\n",
    ));
    assert_eq!(e.code(), ErrorCode::ConstraintViolation);
    assert_eq!(
        e.to_string(),
        "invalid value for `flow.main.nodes.a.component`: it must not be empty"
    );
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:6:13"));
}

#[test]
fn edges_must_name_existing_nodes() {
    let e = err(&with_header(
        r#"[flow.main.nodes.source]
component = "a"
interface = "torvyn:streaming/source"
[flow.main.nodes.sink]
component = "b"
interface = "torvyn:streaming/sink"
[[flow.main.edges]]
from = { node = "source", port = "output" }
to = { node = "sinc", port = "input" }
"#,
    ));
    assert_eq!(e.code(), ErrorCode::ConstraintViolation);
    assert_eq!(
        e.to_string(),
        "invalid value for `flow.main.edges[0].to.node`: no node named `sinc` in flow `main`"
    );
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:13:15"));
    assert_eq!(e.help(), "did you mean `sink`?");
}

#[test]
fn cross_field_constraints() {
    // a flow without nodes
    let e = err(&with_header("[flow.main]\ndescription = \"empty\"\n"));
    assert_eq!(e.code(), ErrorCode::ConstraintViolation);
    assert!(e.to_string().contains("flow `main` has no nodes"), "{e}");
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:5:1"));
    // rate-limit without a rate
    let e = err(&with_header(
        "[runtime.backpressure]\nbackpressure_policy = \"rate-limit\"\n",
    ));
    assert_eq!(e.code(), ErrorCode::ConstraintViolation);
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:6:23"));
    // duplicate component names
    let e = err(&with_header(
        "[[component]]\nname = \"a\"\n[[component]]\nname = \"a\"\n",
    ));
    assert!(e.to_string().contains("declared twice"), "{e}");
    assert_eq!(e.location().as_deref(), Some("Torvyn.toml:8:8"));
}

// ---- layering -------------------------------------------------------------

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(manifest: &str, user: Option<&str>) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Torvyn.toml"), manifest).unwrap();
        if let Some(user) = user {
            std::fs::write(dir.path().join("config.toml"), user).unwrap();
        }
        Project { dir }
    }

    fn manifest(&self) -> PathBuf {
        self.dir.path().join("Torvyn.toml")
    }

    fn load(&self, env: &[(&str, &str)], overrides: &[&str]) -> Result<Manifest, ConfigError> {
        let sources = LayerSources {
            user_config: Some(self.dir.path().join("config.toml")),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            overrides: overrides.iter().map(|s| s.to_string()).collect(),
        };
        Manifest::load_layered(&self.manifest(), sources)
    }
}

#[test]
fn each_layer_beats_the_one_below() {
    let user = "[runtime]\nworker_threads = 2\nfuel_per_invocation = 10\ncomponent_init_timeout_ms = 11\ncomponent_teardown_timeout_ms = 12\n[observability]\nlevel = \"off\"\n";
    let manifest = with_header("[runtime]\nfuel_per_invocation = 20\ncomponent_init_timeout_ms = 21\ncomponent_teardown_timeout_ms = 22\n");
    let project = Project::new(&manifest, Some(user));
    let env = [
        ("TORVYN_RUNTIME_COMPONENT_INIT_TIMEOUT_MS", "31"),
        ("TORVYN_RUNTIME_COMPONENT_TEARDOWN_TIMEOUT_MS", "32"),
    ];
    let m = project
        .load(&env, &["runtime.component_teardown_timeout_ms=42"])
        .unwrap();
    // default < user
    assert_eq!(m.observability.level, ObservabilityLevel::Off);
    assert_eq!(m.runtime.worker_threads, Some(2));
    // user < manifest
    assert_eq!(m.runtime.fuel_per_invocation, 20);
    // manifest < env
    assert_eq!(m.runtime.component_init_timeout_ms, 31);
    // env < --config
    assert_eq!(m.runtime.component_teardown_timeout_ms, 42);
    // untouched values keep their defaults
    assert_eq!(m.runtime.backpressure.default_queue_depth, 64);
    // and every value remembers where it came from
    assert_eq!(
        m.location_of(&["runtime", "component_teardown_timeout_ms"])
            .as_deref(),
        Some("--config runtime.component_teardown_timeout_ms=42")
    );
    assert_eq!(
        m.location_of(&["runtime", "component_init_timeout_ms"])
            .as_deref(),
        Some("environment variable TORVYN_RUNTIME_COMPONENT_INIT_TIMEOUT_MS")
    );
    assert!(m
        .location_of(&["runtime", "worker_threads"])
        .unwrap()
        .ends_with("config.toml:2:18"));
}

#[test]
fn later_overrides_win_and_nested_env_vars_apply() {
    let project = Project::new(&with_header(""), None);
    let m = project
        .load(
            &[
                ("TORVYN_RUNTIME_BACKPRESSURE_DEFAULT_QUEUE_DEPTH", "8"),
                ("TORVYN_RUNTIME_MAX_MEMORY_PER_COMPONENT", "128MiB"),
            ],
            &[
                "runtime.fuel_per_invocation=5",
                "runtime.fuel_per_invocation=0",
            ],
        )
        .unwrap();
    assert_eq!(m.runtime.backpressure.default_queue_depth, 8);
    assert_eq!(m.runtime.max_memory_per_component, ByteSize::mib(128));
    assert_eq!(m.runtime.fuel_limit(), None);
}

#[test]
fn env_beats_an_aliased_manifest_key() {
    let project = Project::new(
        &with_header("[runtime.backpressure]\ndefault_policy = \"drop-newest\"\n"),
        None,
    );
    let m = project
        .load(
            &[("TORVYN_RUNTIME_BACKPRESSURE_BACKPRESSURE_POLICY", "error")],
            &[],
        )
        .unwrap();
    assert_eq!(
        m.runtime.backpressure.backpressure_policy,
        BackpressurePolicy::Error
    );
}

#[test]
fn overrides_can_reach_into_flows() {
    let project = Project::new(HELLO_WORLD, None);
    let m = project
        .load(&[], &["flow.main.nodes.source.config={\"count\": 3}"])
        .unwrap();
    assert_eq!(
        m.flow(None).unwrap().1.node("source").unwrap().config,
        "{\"count\": 3}"
    );
}

#[test]
fn layer_errors_name_their_source() {
    let project = Project::new(
        &with_header(""),
        Some("[runtime]\nworker_threads = \"x\"\n"),
    );
    let e = project.load(&[], &[]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidFieldType);
    assert!(
        e.location().unwrap().ends_with("config.toml:2:18"),
        "{:?}",
        e.location()
    );

    let project = Project::new(
        &with_header(""),
        Some("[flow.main.nodes.a]\ncomponent = \"x\"\n"),
    );
    let e = project.load(&[], &[]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnknownField);
    assert!(e.to_string().contains("the user config"), "{e}");

    let project = Project::new(&with_header(""), None);
    let e = project
        .load(&[("TORVYN_OBSERVABILITY_SAMPLE_RATE", "2")], &[])
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ConstraintViolation);
    assert_eq!(
        e.location().as_deref(),
        Some("environment variable TORVYN_OBSERVABILITY_SAMPLE_RATE")
    );

    let e = project
        .load(&[], &["runtime.backpressure.low_watermark_ratio=1.5"])
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ConstraintViolation);
    assert_eq!(
        e.location().as_deref(),
        Some("--config runtime.backpressure.low_watermark_ratio=1.5")
    );

    let e = project
        .load(&[("TORVYN_OBSERVABILITY_LEVL", "off")], &[])
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnknownField);
    assert_eq!(e.help(), "did you mean `TORVYN_OBSERVABILITY_LEVEL`?");
}

#[test]
fn a_missing_user_config_is_skipped() {
    let project = Project::new(&with_header(""), None);
    assert!(project.load(&[], &[]).is_ok());
}

/// The security chapter's component manifest (`[component]` with `name`
/// and `version`, then `[capabilities.required]`) loads like the
/// configuration reference's (`[torvyn]`), with the same validation.
#[test]
fn both_component_manifest_forms_load_alike() {
    let security_chapter = "[component]\nname = \"my-transform\"\nversion = \"0.2.0\"\n\n[capabilities.required]\nwasi-filesystem-read = true\nwasi-clocks = true\n\n[capabilities.optional]\nwasi-random = true\n";
    let reference = "[torvyn]\nname = \"my-transform\"\nversion = \"0.2.0\"\ncontract_version = \"0.1.0\"\n\n[capabilities.required]\nwasi-filesystem-read = true\nwasi-clocks = true\n\n[capabilities.optional]\nwasi-random = true\n";
    let a = load(security_chapter).expect("the [component] form loads");
    let b = load(reference).expect("the [torvyn] form loads");
    assert_eq!(a.torvyn, b.torvyn);
    assert_eq!(a.capabilities, b.capabilities);
    assert!(a.components.is_empty(), "{:?}", a.components);
    // The same checks apply: a bad version is refused in either form.
    let bad = security_chapter.replace("0.2.0", "two");
    assert!(load(&bad).is_err());
}

#[test]
fn a_named_buffer_pool_other_than_default_is_refused() {
    let ok = load(&format!(
        "{HEADER}\n[capabilities.torvyn]\nbuffer-pool-access = \"default\"\n"
    ));
    assert!(ok.is_ok(), "{ok:?}");
    let e = load(&format!(
        "{HEADER}\n[capabilities.torvyn]\nbuffer-pool-access = \"fast\"\n"
    ))
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ConstraintViolation);
    let text = e.to_string();
    assert!(
        text.contains("named pool `fast` is not supported"),
        "{text}"
    );
}

#[test]
fn a_component_needing_more_memory_than_the_host_allows_is_refused() {
    let fits = load(&format!(
        "{HEADER}\n[capabilities.torvyn]\nmax-memory = \"32MiB\"\n"
    ));
    assert!(fits.is_ok(), "{fits:?}");
    let e = load(&format!(
        "{HEADER}\n[capabilities.torvyn]\nmax-memory = \"128MiB\"\n"
    ))
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ConstraintViolation);
    assert!(e.to_string().contains("max_memory_per_component"), "{e}");
    let raised = load(&format!(
        "{HEADER}\n[runtime]\nmax_memory_per_component = \"256MiB\"\n[capabilities.torvyn]\nmax-memory = \"128MiB\"\n"
    ));
    assert!(raised.is_ok(), "{raised:?}");
}

#[test]
fn max_buffer_size_limits_the_flows_buffers() {
    let m = load(&format!(
        "{HEADER}\n[capabilities.torvyn]\nmax-buffer-size = \"1MiB\"\n"
    ))
    .unwrap();
    let settings = crate::flow_config::flow_settings(&m, "main");
    assert_eq!(settings.limits.max_buffer_size, 1 << 20);
}
