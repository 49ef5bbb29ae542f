//! The shape of Torvyn.toml: every section, key, type, allowed value,
//! range and default of the spec's Configuration Reference, in one place.
//!
//! The loader checks each layer against this description (unknown
//! fields, types, ranges) before serde sees it, the environment and
//! `--config` layers use it to find and coerce keys, and the JSON
//! Schemas in `config-schemas/` are generated from it. Tests keep it in
//! step with the serde structs and their `Default`s.

use std::sync::OnceLock;

use serde_json::{json, Value as Json};

/// A string format checked beyond "is a string".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// Lowercase identifier: a letter, then letters, digits, `-`, `_`.
    Identifier,
    /// Semantic version `MAJOR.MINOR.PATCH[-pre][+build]`.
    SemVer,
}

impl Pattern {
    pub fn regex(self) -> &'static str {
        match self {
            Pattern::Identifier => "^[a-z][a-z0-9_-]*$",
            Pattern::SemVer => {
                "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$"
            }
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Pattern::Identifier => {
                "a lowercase identifier (letters, digits, `-`, `_`; starting with a letter)"
            }
            Pattern::SemVer => "a semantic version such as \"0.1.0\"",
        }
    }

    pub fn matches(self, s: &str) -> bool {
        match self {
            Pattern::Identifier => {
                s.starts_with(|c: char| c.is_ascii_lowercase())
                    && s.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
                    })
            }
            Pattern::SemVer => {
                let (core, build) = match s.split_once('+') {
                    Some((core, build)) => (core, Some(build)),
                    None => (s, None),
                };
                let (core, pre) = match core.split_once('-') {
                    Some((core, pre)) => (core, Some(pre)),
                    None => (core, None),
                };
                let ident = |t: &str| {
                    !t.is_empty()
                        && t.split('.').all(|p| {
                            !p.is_empty()
                                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        })
                };
                let numbers: Vec<&str> = core.split('.').collect();
                numbers.len() == 3
                    && numbers.iter().all(|n| {
                        !n.is_empty()
                            && n.chars().all(|c| c.is_ascii_digit())
                            && (n.len() == 1 || !n.starts_with('0'))
                    })
                    && pre.is_none_or(ident)
                    && build.is_none_or(ident)
            }
        }
    }
}

/// What a value must look like.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Str {
        non_empty: bool,
        pattern: Option<Pattern>,
    },
    Int {
        min: i64,
        max: i64,
    },
    /// A float (integers are accepted); bounds are exclusive when flagged.
    Float {
        min: f64,
        max: f64,
        exclusive: bool,
    },
    Bool,
    /// One of a closed set of strings.
    Enum(&'static [&'static str]),
    /// A size string (`"64MiB"`) or a byte count.
    Size {
        min: u64,
    },
    StrList,
    Table(TableShape),
    /// A table with free keys (flow names, node names, grants).
    Map {
        value: Box<Shape>,
        key_kind: &'static str,
    },
    /// An array of tables. With `single_table`, a lone table (`[component]`)
    /// means a one-element array. With `keyed_by`, a table of named tables
    /// (`[flow.main.edges.<name>]`) is accepted; each key becomes that field.
    List {
        item: Box<Shape>,
        single_table: bool,
        keyed_by: Option<&'static str>,
    },
}

/// A table with a fixed set of keys.
#[derive(Debug, Clone, Default)]
pub(crate) struct TableShape {
    pub fields: Vec<Field>,
}

/// One key of a [`TableShape`].
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
    pub default: Option<Json>,
    pub doc: &'static str,
    /// Other spellings the spec uses for the same key.
    pub aliases: &'static [&'static str],
    /// The field is a sub-table whose keys belong to the parent
    /// (`[observability.tracing]` holds `[observability]` keys).
    pub inline: bool,
}

impl Field {
    fn new(name: &'static str, shape: Shape, doc: &'static str) -> Self {
        Field {
            name,
            shape,
            required: false,
            default: None,
            doc,
            aliases: &[],
            inline: false,
        }
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }

    fn default(mut self, value: Json) -> Self {
        self.default = Some(value);
        self
    }

    fn alias(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }
}

impl TableShape {
    fn new(fields: Vec<Field>) -> Self {
        TableShape { fields }
    }

    /// The field named `name` or one of its aliases.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.name == name || f.aliases.contains(&name))
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.name).collect()
    }
}

impl Shape {
    /// How the expected type is named in messages.
    pub fn expected(&self) -> String {
        match self {
            Shape::Str { .. } | Shape::Enum(_) => "string".into(),
            Shape::Int { .. } => "integer".into(),
            Shape::Float { .. } => "float".into(),
            Shape::Bool => "boolean".into(),
            Shape::Size { .. } => "size string such as \"64MiB\" (or a byte count)".into(),
            Shape::StrList => "array of strings".into(),
            Shape::Table(_) | Shape::Map { .. } => "table".into(),
            Shape::List { .. } => "array of tables".into(),
        }
    }

    pub fn as_table(&self) -> Option<&TableShape> {
        match self {
            Shape::Table(table) => Some(table),
            _ => None,
        }
    }
}

fn string() -> Shape {
    Shape::Str {
        non_empty: false,
        pattern: None,
    }
}

fn non_empty() -> Shape {
    Shape::Str {
        non_empty: true,
        pattern: None,
    }
}

fn pattern(pattern: Pattern) -> Shape {
    Shape::Str {
        non_empty: true,
        pattern: Some(pattern),
    }
}

fn int(min: i64, max: i64) -> Shape {
    Shape::Int { min, max }
}

const U32: i64 = u32::MAX as i64;

/// `block`, `drop-oldest`, ... — the stream overflow policies.
pub(crate) const BACKPRESSURE_POLICIES: &[&str] =
    &["block", "drop-oldest", "drop-newest", "error", "rate-limit"];

fn ratio() -> Shape {
    Shape::Float {
        min: 0.0,
        max: 1.0,
        exclusive: true,
    }
}

/// `[torvyn]`.
fn project() -> TableShape {
    TableShape::new(vec![
        Field::new(
            "name",
            pattern(Pattern::Identifier),
            "Project name (lowercase, hyphens allowed).",
        )
        .required(),
        Field::new(
            "version",
            pattern(Pattern::SemVer),
            "Project version (semantic versioning, e.g. \"0.1.0\").",
        )
        .required(),
        Field::new(
            "contract_version",
            pattern(Pattern::SemVer),
            "Torvyn contract version this project targets.",
        )
        .required(),
        Field::new(
            "description",
            string(),
            "Human-readable project description.",
        )
        .default(json!("")),
        Field::new("authors", Shape::StrList, "Author names and emails.").default(json!([])),
        Field::new("license", string(), "SPDX license identifier.").default(json!("")),
        Field::new("repository", string(), "Source repository URL.").default(json!("")),
    ])
}

/// One `[[component]]`.
fn component() -> TableShape {
    TableShape::new(vec![
        Field::new("name", non_empty(), "Component name within this project.").required(),
        Field::new(
            "path",
            non_empty(),
            "Path to the component source root, relative to the project root.",
        )
        .default(json!(".")),
        Field::new(
            "language",
            Shape::Enum(&["rust", "go", "python", "zig"]),
            "Implementation language.",
        )
        .default(json!("rust")),
        Field::new(
            "build_command",
            non_empty(),
            "Custom build command (default: auto-detected).",
        ),
        Field::new(
            "version",
            pattern(Pattern::SemVer),
            "Component version (single-component `[component]` form).",
        ),
    ])
}

/// `[flow.<name>.nodes.<node>]`.
fn node() -> TableShape {
    TableShape::new(vec![
        Field::new(
            "component",
            non_empty(),
            "Path to a compiled .wasm file, registry reference or declared component name.",
        )
        .required(),
        Field::new(
            "interface",
            non_empty(),
            "Torvyn interface the component implements (e.g. torvyn:streaming/processor).",
        )
        .required(),
        Field::new(
            "config",
            string(),
            "Configuration string passed to lifecycle.init(). JSON recommended.",
        )
        .default(json!("")),
        Field::new(
            "fan_out",
            Shape::Enum(&["min-demand", "independent"]),
            "Fan-out gating: min-demand (never outrun the slowest consumer) or independent (faster branches pull ahead; a full branch misses elements, counted as lagged).",
        )
        .default(json!("min-demand")),
        Field::new(
            "merge",
            Shape::Enum(&["round-robin", "priority"]),
            "Fan-in merge: round-robin (equal turns) or priority (highest edge priority first).",
        )
        .default(json!("round-robin")),
        Field::new(
            "restart",
            Shape::Enum(&["permanent", "transient", "temporary"]),
            "When the component is restarted after failing: permanent (after a trap or a fatal error), transient (after a trap only) or temporary (never; the node closes).",
        )
        .default(json!("permanent")),
        Field::new(
            "on_error",
            Shape::Enum(&["skip", "retry", "dead-letter", "fail"]),
            "What happens to an element the component failed on: skip (counted), retry (up to `retries` times, then dead-letter if possible), dead-letter or fail (the flow).",
        )
        .default(json!("skip")),
        Field::new(
            "retries",
            int(0, U32),
            "Retries under on_error = \"retry\".",
        )
        .default(json!(3)),
        Field::new(
            "dead_letter_file",
            non_empty(),
            "JSON-lines file receiving dead letters when the node has no `dead-letter` edge (relative to the manifest).",
        ),
    ])
}

fn endpoint(port_doc: &'static str) -> Shape {
    Shape::Table(TableShape::new(vec![
        Field::new("node", non_empty(), "Node name.").required(),
        Field::new("port", non_empty(), port_doc).required(),
    ]))
}

/// `backpressure` of one edge (per-stream overrides).
fn stream_backpressure() -> TableShape {
    TableShape::new(vec![
        Field::new(
            "queue_depth",
            int(1, U32),
            "Bounded queue capacity of this stream.",
        ),
        Field::new(
            "policy",
            Shape::Enum(BACKPRESSURE_POLICIES),
            "Overflow policy of this stream.",
        ),
        Field::new(
            "low_watermark_ratio",
            ratio(),
            "Queue depth ratio at which backpressure deactivates.",
        ),
        Field::new(
            "max_elements_per_second",
            int(1, i64::MAX),
            "Throughput cap for the rate-limit policy.",
        ),
    ])
}

/// One `[[flow.<name>.edges]]`.
fn edge() -> TableShape {
    TableShape::new(vec![
        Field::new(
            "name",
            non_empty(),
            "Stream name (default: \"<from.node>-to-<to.node>\").",
        ),
        Field::new(
            "from",
            endpoint("Output port name (usually \"output\")."),
            "Upstream end.",
        )
        .required(),
        Field::new(
            "to",
            endpoint("Input port name (usually \"input\")."),
            "Downstream end.",
        )
        .required(),
        Field::new(
            "backpressure",
            Shape::Table(stream_backpressure()),
            "Per-stream backpressure overrides.",
        ),
        Field::new(
            "priority",
            int(0, U32),
            "Merge priority at the downstream node when its merge is \"priority\" (higher first).",
        )
        .default(json!(0)),
    ])
}

/// `[flow.<name>]`.
fn flow() -> TableShape {
    TableShape::new(vec![
        Field::new("description", string(), "Human-readable flow description.").default(json!("")),
        Field::new(
            "default_queue_depth",
            int(1, U32),
            "Queue capacity of this flow's streams (overrides [runtime.backpressure]).",
        ),
        Field::new(
            "backpressure_policy",
            Shape::Enum(BACKPRESSURE_POLICIES),
            "Overflow policy of this flow's streams.",
        )
        .alias(&["default_policy"]),
        Field::new(
            "low_watermark_ratio",
            ratio(),
            "Low watermark of this flow's streams.",
        ),
        Field::new(
            "max_elements_per_second",
            int(1, i64::MAX),
            "Throughput cap for the rate-limit policy.",
        ),
        Field::new(
            "nodes",
            Shape::Map {
                value: Box::new(Shape::Table(node())),
                key_kind: "node",
            },
            "Component nodes, by node name.",
        )
        .default(json!({})),
        Field::new(
            "edges",
            Shape::List {
                item: Box::new(Shape::Table(edge())),
                single_table: false,
                keyed_by: Some("name"),
            },
            "Stream connections.",
        )
        .default(json!([])),
        Field::new(
            "supervision",
            Shape::Table(supervision()),
            "Restart strategy and intensity of this flow's components.",
        ),
    ])
}

/// `[flow.<name>.supervision]`.
fn supervision() -> TableShape {
    TableShape::new(vec![
        Field::new(
            "strategy",
            Shape::Enum(&["one_for_one", "one_for_all", "rest_for_one"]),
            "Which components restart with a failed one: just it, all, or it and those after it in topological order.",
        )
        .default(json!("one_for_one")),
        Field::new(
            "max_restarts",
            int(0, U32),
            "Restarts allowed within restart_window_ms; one more fails the flow.",
        )
        .default(json!(3)),
        Field::new(
            "restart_window_ms",
            int(1, i64::MAX),
            "The restart intensity's sliding window, in milliseconds.",
        )
        .default(json!(5000)),
        Field::new(
            "flow_restart",
            Shape::Enum(&["never", "on-failure"]),
            "Whether the whole flow is started again when it fails. Unset: torvyn serve restarts on failure, torvyn run and embedders do not.",
        ),
        Field::new(
            "flow_max_restarts",
            int(0, U32),
            "Flow restarts allowed within flow_restart_window_ms; one more leaves the flow failed.",
        )
        .default(json!(3)),
        Field::new(
            "flow_restart_window_ms",
            int(1, i64::MAX),
            "The sliding window of flow_max_restarts, in milliseconds.",
        )
        .default(json!(60000)),
        Field::new(
            "flow_restart_backoff_ms",
            int(0, i64::MAX),
            "Delay before the first flow restart in a window, in milliseconds; each further restart waits twice as long.",
        )
        .default(json!(0)),
    ])
}

/// `[runtime.backpressure]`.
fn backpressure() -> TableShape {
    TableShape::new(vec![
        Field::new(
            "default_queue_depth",
            int(1, U32),
            "Default bounded queue capacity per stream.",
        )
        .default(json!(64)),
        Field::new(
            "backpressure_policy",
            Shape::Enum(BACKPRESSURE_POLICIES),
            "Default overflow policy.",
        )
        .default(json!("block"))
        .alias(&["default_policy"]),
        Field::new(
            "low_watermark_ratio",
            ratio(),
            "Queue depth ratio at which backpressure deactivates.",
        )
        .default(json!(0.5)),
        Field::new(
            "max_elements_per_second",
            int(1, i64::MAX),
            "Throughput cap for the rate-limit policy.",
        ),
    ])
}

/// `[runtime.pools]`.
fn pools() -> TableShape {
    TableShape::new(vec![
        Field::new(
            "small_pool_size",
            int(0, U32),
            "Number of 256-byte buffers pre-allocated.",
        )
        .default(json!(4096)),
        Field::new(
            "medium_pool_size",
            int(0, U32),
            "Number of 4 KiB buffers pre-allocated.",
        )
        .default(json!(1024)),
        Field::new(
            "large_pool_size",
            int(0, U32),
            "Number of 64 KiB buffers pre-allocated.",
        )
        .default(json!(256)),
        Field::new(
            "huge_pool_size",
            int(0, U32),
            "Maximum cached 1 MiB buffers (on demand).",
        )
        .default(json!(32)),
        Field::new(
            "exhaustion_policy",
            Shape::Enum(&["fallback-alloc", "error"]),
            "Policy when a pool tier is empty.",
        )
        .default(json!("fallback-alloc")),
    ])
}

/// `[runtime]`.
fn runtime() -> TableShape {
    TableShape::new(vec![
        Field::new(
            "worker_threads",
            int(1, U32),
            "Worker thread count (default: CPU count).",
        ),
        Field::new(
            "max_memory_per_component",
            Shape::Size { min: 1 },
            "Wasm linear memory limit per component instance.",
        )
        .default(json!("64MiB")),
        Field::new(
            "fuel_per_invocation",
            int(0, i64::MAX),
            "Wasmtime fuel budget per component call; 0 = unlimited.",
        )
        .default(json!(0)),
        Field::new(
            "max_invocation_time_ms",
            int(0, i64::MAX),
            "Wall-clock deadline per component call in milliseconds (epoch interruption); 0 = none.",
        )
        .default(json!(1000)),
        Field::new(
            "component_init_timeout_ms",
            int(1, i64::MAX),
            "Timeout for lifecycle.init() calls.",
        )
        .default(json!(5000)),
        Field::new(
            "component_teardown_timeout_ms",
            int(1, i64::MAX),
            "Timeout for lifecycle.teardown() calls.",
        )
        .default(json!(2000)),
        Field::new(
            "backpressure",
            Shape::Table(backpressure()),
            "Global backpressure defaults.",
        ),
        Field::new("pools", Shape::Table(pools()), "Buffer pool configuration."),
    ])
}

/// The `[observability]` keys (also valid inside `[observability.tracing]`).
fn observability_fields() -> Vec<Field> {
    vec![
        Field::new(
            "level",
            Shape::Enum(&["off", "production", "diagnostic"]),
            "Observability level.",
        )
        .default(json!("production")),
        Field::new("tracing_enabled", Shape::Bool, "Enable trace collection.").default(json!(true)),
        Field::new(
            "tracing_exporter",
            Shape::Enum(&["otlp-grpc", "otlp-http", "stdout", "file", "none"]),
            "Trace export target. Spans are exported only when this is set (the spec's default, stdout, stays inert so that stdout carries the components' output).",
        ),
        Field::new(
            "tracing_endpoint",
            string(),
            "OTLP endpoint URL (for otlp-grpc and otlp-http).",
        )
        .default(json!("")),
        Field::new(
            "sample_rate",
            Shape::Float {
                min: 0.0,
                max: 1.0,
                exclusive: false,
            },
            "Head-based trace sampling rate.",
        )
        .default(json!(0.01)),
        Field::new(
            "error_promote",
            Shape::Bool,
            "Promote errored flows to full tracing.",
        )
        .default(json!(true)),
        Field::new(
            "latency_promote_threshold_ms",
            int(0, i64::MAX),
            "Promote flows exceeding this latency.",
        )
        .default(json!(10)),
        Field::new("metrics_enabled", Shape::Bool, "Enable metrics collection.")
            .default(json!(true)),
        Field::new(
            "prometheus_enabled",
            Shape::Bool,
            "Serve /metrics on the inspection API.",
        )
        .default(json!(true)),
        Field::new(
            "otlp_metrics_enabled",
            Shape::Bool,
            "Push metrics via OTLP.",
        )
        .default(json!(false)),
        Field::new(
            "otlp_metrics_interval_s",
            int(1, i64::MAX),
            "OTLP metrics push interval in seconds.",
        )
        .default(json!(15))
        .alias(&["otlp_export_interval_s"]),
        Field::new(
            "ring_buffer_capacity",
            // A flow reserves 32 bytes per slot when it enters production
            // level: 1 Mi slots (32 MiB) is far past any useful window.
            int(1, 1 << 20),
            "Per-flow span ring buffer size for retroactive sampling (at most 1048576 calls, 32 bytes each).",
        )
        .default(json!(64)),
        Field::new(
            "inspection",
            Shape::Bool,
            "Serve the inspection API while `torvyn run` runs.",
        )
        .default(json!(false)),
        Field::new(
            "inspection_address",
            string(),
            "Inspection API address: \"\" for the Unix socket $TORVYN_STATE_DIR/torvyn.sock, or a loopback HOST:PORT for TCP.",
        )
        .default(json!("")),
        Field::new(
            "inspection_token",
            string(),
            "Bearer token required by the TCP inspection API.",
        )
        .default(json!("")),
    ]
}

/// `[observability]`.
fn observability() -> TableShape {
    let mut fields = observability_fields();
    let mut tracing = Field::new(
        "tracing",
        Shape::Table(TableShape::new(observability_fields())),
        "Alternative spelling: [observability] keys grouped under [observability.tracing].",
    );
    tracing.inline = true;
    fields.push(tracing);
    TableShape::new(fields)
}

/// `[security]`.
fn security() -> TableShape {
    let grant = TableShape::new(vec![Field::new(
        "capabilities",
        Shape::StrList,
        "Capabilities granted to the component, e.g. \"wasi:filesystem/read:/data/input\".",
    )
    .default(json!([]))]);
    TableShape::new(vec![
        Field::new(
            "default_capability_policy",
            Shape::Enum(&["deny-all", "allow-all"]),
            "Policy for capabilities without an explicit grant.",
        )
        .default(json!("deny-all")),
        Field::new(
            "audit_enabled",
            Shape::Bool,
            "Enable security audit logging.",
        )
        .default(json!(true)),
        Field::new(
            "audit_target",
            Shape::Enum(&["file", "stdout", "event-sink"]),
            "Audit log target.",
        )
        .default(json!("file")),
        Field::new(
            "grants",
            Shape::Map {
                value: Box::new(Shape::Table(grant)),
                key_kind: "component",
            },
            "Per-component capability grants.",
        )
        .default(json!({})),
    ])
}

/// `[registry]`.
fn registry() -> TableShape {
    TableShape::new(vec![Field::new(
        "default",
        string(),
        "Default OCI registry URL for torvyn publish.",
    )
    .default(json!(""))])
}

/// `[capabilities]`.
fn capabilities() -> TableShape {
    let flags = || Shape::Map {
        value: Box::new(Shape::Bool),
        key_kind: "capability",
    };
    let torvyn = TableShape::new(vec![
        Field::new(
            "max-buffer-size",
            Shape::Size { min: 1 },
            "Maximum single buffer size this component needs.",
        )
        .default(json!("16MiB")),
        Field::new(
            "max-memory",
            Shape::Size { min: 1 },
            "Maximum Wasm linear memory this component needs.",
        )
        .default(json!("64MiB")),
        Field::new(
            "buffer-pool-access",
            non_empty(),
            "Named buffer pool to use.",
        )
        .default(json!("default")),
    ]);
    TableShape::new(vec![
        Field::new(
            "required",
            flags(),
            "Capabilities the component needs; it will not link unless they are granted.",
        )
        .default(json!({})),
        Field::new(
            "optional",
            flags(),
            "Capabilities that enhance the component; it must cope with their absence.",
        )
        .default(json!({})),
        Field::new(
            "torvyn",
            Shape::Table(torvyn),
            "Torvyn-specific resource requirements.",
        ),
    ])
}

fn section(name: &'static str, table: TableShape, doc: &'static str) -> Field {
    Field::new(name, Shape::Table(table), doc)
}

/// The sections a global user config (and the environment) may set.
pub(crate) const GLOBAL_SECTIONS: &[&str] = &["runtime", "observability", "security", "registry"];

/// The whole Torvyn.toml.
pub(crate) fn manifest() -> &'static TableShape {
    static SCHEMA: OnceLock<TableShape> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        TableShape::new(vec![
            section("torvyn", project(), "Project metadata.").required(),
            Field::new(
                "component",
                Shape::List {
                    item: Box::new(Shape::Table(component())),
                    single_table: true,
                    keyed_by: None,
                },
                "Component declarations.",
            )
            .default(json!([])),
            Field::new(
                "flow",
                Shape::Map {
                    value: Box::new(Shape::Table(flow())),
                    key_kind: "flow",
                },
                "Flow definitions, by flow name; the first one is the default flow.",
            )
            .default(json!({})),
            section("runtime", runtime(), "Runtime configuration."),
            section(
                "observability",
                observability(),
                "Observability configuration.",
            ),
            section("security", security(), "Security configuration."),
            section("registry", registry(), "Registry configuration."),
            section(
                "capabilities",
                capabilities(),
                "Capabilities the component requires or can use.",
            ),
        ])
    })
}

/// The sections of a component manifest (a subset of [`manifest`]).
pub(crate) const COMPONENT_SECTIONS: &[&str] = &["torvyn", "component", "capabilities"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        for ok in ["0.1.0", "1.2.3-alpha.1", "10.20.30+build.5", "1.0.0-rc-1+x"] {
            assert!(Pattern::SemVer.matches(ok), "{ok}");
        }
        for bad in ["0.1", "01.1.0", "1.2.3.4", "v1.2.3", "1.2.3-", "1.2.x", ""] {
            assert!(!Pattern::SemVer.matches(bad), "{bad}");
        }
        for ok in ["hello-world", "my_transform", "a1"] {
            assert!(Pattern::Identifier.matches(ok), "{ok}");
        }
        for bad in ["Hello", "1abc", "-x", "", "a b", "a.b"] {
            assert!(!Pattern::Identifier.matches(bad), "{bad}");
        }
    }

    #[test]
    fn aliases_resolve_to_their_field() {
        let runtime = manifest()
            .field("runtime")
            .and_then(|f| f.shape.as_table())
            .unwrap();
        let bp = runtime
            .field("backpressure")
            .and_then(|f| f.shape.as_table())
            .unwrap();
        assert_eq!(
            bp.field("default_policy").unwrap().name,
            "backpressure_policy"
        );
    }

    #[test]
    fn global_and_component_sections_exist() {
        for name in GLOBAL_SECTIONS.iter().chain(COMPONENT_SECTIONS) {
            assert!(manifest().field(name).is_some(), "{name}");
        }
    }
}
