//! A flow's ends: which source feeds it and which sink drains it when the
//! manifest or the command line says so.
//!
//! - A flow with no source gets `builtin:test-source` (or `--input`) in a
//!   node named `source`, feeding every node that has no input; a flow
//!   with no sink gets `builtin:stdout-sink` (or `--output`) in a node
//!   named `sink`, fed by every node whose output goes nowhere — as the
//!   Quickstart's processor-only flow runs.
//! - `--input` replaces the flow's one source and `--output` its one
//!   sink, keeping their node names and streams.

use super::AssemblyError;
use crate::config::{Endpoint, FlowDef, NodeDef};
use crate::connectors::{ConnectorKind, Settings};
use crate::engine::TorvynInterface;
use crate::error::{Diagnostic, ErrorCode};
use std::borrow::Cow;

/// A connector chosen on the command line (`--input`, `--output`).
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointOverride {
    kind: ConnectorKind,
    settings: Settings,
}

impl EndpointOverride {
    /// `--input`: `-` or `stdin` (standard input's lines), `generator` or
    /// `test-source`, optionally with settings (`generator:count=100,size=64`),
    /// or else a file path (its lines; relative to the current directory).
    pub fn input(text: &str) -> Result<Self, AssemblyError> {
        let (name, pairs) = text.split_once(':').unwrap_or((text, ""));
        let kind = match name {
            "-" | "stdin" => Some(ConnectorKind::StdinSource),
            "generator" => Some(ConnectorKind::Generator),
            "test-source" | "test" => Some(ConnectorKind::TestSource),
            _ => None,
        };
        match kind {
            Some(kind) => Ok(Self {
                kind,
                settings: Settings::from_pairs(pairs).map_err(|e| bad("--input", text, &e.0))?,
            }),
            None => Self::file(ConnectorKind::FileSource, "--input", text),
        }
    }

    /// `--output`: `-` or `stdout` (one line per element), or else a file
    /// path (relative to the current directory; written anew).
    pub fn output(text: &str) -> Result<Self, AssemblyError> {
        match text {
            "-" | "stdout" => Ok(Self {
                kind: ConnectorKind::StdoutSink,
                settings: Settings::default(),
            }),
            _ => Self::file(ConnectorKind::FileSink, "--output", text),
        }
    }

    fn file(kind: ConnectorKind, flag: &str, path: &str) -> Result<Self, AssemblyError> {
        let absolute = std::path::absolute(path).map_err(|e| bad(flag, path, &e.to_string()))?;
        let mut settings = Settings::default();
        settings.set("path", absolute.to_string_lossy().into_owned());
        Ok(Self { kind, settings })
    }

    /// The connector.
    pub fn kind(&self) -> ConnectorKind {
        self.kind
    }

    fn apply(&self, node: &mut NodeDef) {
        node.component = self.kind.reference();
        node.config = self.settings.to_json();
    }
}

fn bad(flag: &str, value: &str, reason: &str) -> AssemblyError {
    AssemblyError::new(vec![Diagnostic {
        code: ErrorCode::ConstraintViolation,
        message: format!("{flag} {value}: {reason}"),
        location: None,
        help: format!(
            "{flag} takes {}",
            if flag == "--input" {
                "a file path, `-` for standard input, or `generator[:count=N,size=B,rate=R]`"
            } else {
                "a file path, or `-` for standard output"
            }
        ),
    }])
}

/// `--input` and `--output`, when given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Endpoints {
    /// Replaces the flow's source.
    pub input: Option<EndpointOverride>,
    /// Replaces the flow's sink.
    pub output: Option<EndpointOverride>,
    /// Attached to a flow with no sink when `output` is not given
    /// (default: `builtin:stdout-sink`; `torvyn bench` discards).
    pub missing_sink: Option<EndpointOverride>,
}

impl EndpointOverride {
    /// `builtin:discard-sink`: what `torvyn bench` attaches to a flow with
    /// no sink.
    pub fn discard() -> Self {
        Self {
            kind: ConnectorKind::DiscardSink,
            settings: Settings::default(),
        }
    }
}

/// Flow `name` as it runs: with a source and a sink attached where it has
/// none, and `endpoints` replacing its own. Unchanged when there is
/// nothing to do.
pub fn complete_flow<'a>(
    name: &str,
    flow: &'a FlowDef,
    endpoints: &Endpoints,
) -> Result<Cow<'a, FlowDef>, AssemblyError> {
    if flow.nodes.is_empty() {
        // Nothing to attach to: the graph check says what is wrong.
        return Ok(Cow::Borrowed(flow));
    }
    let mut completed = Cow::Borrowed(flow);
    for end in [End::Input, End::Output] {
        let wanted = match end {
            End::Input => endpoints.input.as_ref(),
            End::Output => endpoints.output.as_ref(),
        };
        let existing: Vec<String> = completed
            .nodes
            .iter()
            .filter(|(_, n)| TorvynInterface::from_wit_name(&n.interface) == Some(end.interface()))
            .map(|(name, _)| name.clone())
            .collect();
        match (existing.as_slice(), wanted) {
            ([], wanted) => {
                let fallback = match end {
                    End::Input => None,
                    End::Output => endpoints.missing_sink.as_ref(),
                };
                let connector = wanted
                    .or(fallback)
                    .cloned()
                    .unwrap_or_else(|| end.default_connector());
                attach(completed.to_mut(), end, &connector);
            }
            ([one], Some(connector)) => {
                if let Some(node) = completed.to_mut().nodes.get_mut(one) {
                    connector.apply(node);
                }
            }
            (many, Some(_)) => {
                return Err(AssemblyError::new(vec![Diagnostic {
                    code: ErrorCode::TopologyInvalid,
                    message: format!(
                        "{} replaces the flow's one {}, but flow `{name}` has {}: {}",
                        end.flag(),
                        end.role(),
                        many.len(),
                        many.join(", ")
                    ),
                    location: None,
                    help: format!(
                        "set the {} in Torvyn.toml instead (`component = \"builtin:…\"` on the node to replace)",
                        end.role()
                    ),
                }]))
            }
            (_, None) => {}
        }
    }
    Ok(completed)
}

#[derive(Debug, Clone, Copy)]
enum End {
    Input,
    Output,
}

impl End {
    fn interface(self) -> TorvynInterface {
        match self {
            End::Input => TorvynInterface::Source,
            End::Output => TorvynInterface::Sink,
        }
    }

    fn role(self) -> &'static str {
        match self {
            End::Input => "source",
            End::Output => "sink",
        }
    }

    fn flag(self) -> &'static str {
        match self {
            End::Input => "--input",
            End::Output => "--output",
        }
    }

    fn default_connector(self) -> EndpointOverride {
        EndpointOverride {
            kind: match self {
                End::Input => ConnectorKind::TestSource,
                End::Output => ConnectorKind::StdoutSink,
            },
            settings: Settings::default(),
        }
    }
}

/// Adds `connector` as node `source` (or `sink`; a free name) wired to
/// every node with no input (or no output). Routers are left alone: their
/// outputs are ports the manifest names.
fn attach(flow: &mut FlowDef, end: End, connector: &EndpointOverride) {
    let name = free_name(flow, end.role());
    let loose: Vec<String> = flow
        .nodes
        .iter()
        .filter(|(node, def)| {
            let interface = TorvynInterface::from_wit_name(&def.interface);
            match end {
                End::Input => {
                    interface != Some(TorvynInterface::Source)
                        && !flow.edges.iter().any(|e| &e.to.node == *node)
                }
                End::Output => {
                    interface != Some(TorvynInterface::Sink)
                        && interface != Some(TorvynInterface::Router)
                        && !flow.edges.iter().any(|e| &e.from.node == *node)
                }
            }
        })
        .map(|(node, _)| node.clone())
        .collect();
    let mut node: NodeDef = match toml::from_str(&format!(
        "component = \"\"\ninterface = \"{}\"\n",
        end.interface()
    )) {
        Ok(node) => node,
        Err(_) => return,
    };
    connector.apply(&mut node);
    flow.nodes.insert(name.clone(), node);
    for other in loose {
        let (from, to) = match end {
            End::Input => (name.clone(), other),
            End::Output => (other, name.clone()),
        };
        flow.edges.push(crate::config::EdgeDef {
            name: None,
            from: Endpoint {
                node: from,
                port: "output".into(),
            },
            to: Endpoint {
                node: to,
                port: "input".into(),
            },
            backpressure: None,
            priority: 0,
        });
    }
}

/// `base`, or `base-2`, `base-3`, … when a node already has that name.
fn free_name(flow: &FlowDef, base: &str) -> String {
    if !flow.nodes.contains_key(base) {
        return base.to_string();
    }
    (2..)
        .map(|i| format!("{base}-{i}"))
        .find(|name| !flow.nodes.contains_key(name))
        .unwrap_or_else(|| base.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Manifest;
    use crate::error::Coded;
    use std::path::Path;

    fn flow(nodes: &str) -> FlowDef {
        let text = format!(
            "[torvyn]\nname = \"x\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n{nodes}"
        );
        let manifest = Manifest::from_str_at(&text, Path::new("Torvyn.toml")).expect("parses");
        manifest.flows["main"].clone()
    }

    const TRANSFORM_ONLY: &str = "[flow.main.nodes.transform]\ncomponent = \"file://t.wasm\"\ninterface = \"torvyn:streaming/processor\"\n";

    const SOURCE_TO_SINK: &str = "[flow.main.nodes.src]\ncomponent = \"file://s.wasm\"\ninterface = \"torvyn:streaming/source\"\n[flow.main.nodes.out]\ncomponent = \"file://k.wasm\"\ninterface = \"torvyn:streaming/sink\"\n[[flow.main.edges]]\nfrom = { node = \"src\", port = \"output\" }\nto = { node = \"out\", port = \"input\" }\n";

    #[test]
    fn a_processor_only_flow_gets_the_test_source_and_the_stdout_sink() {
        let flow = flow(TRANSFORM_ONLY);
        let completed = complete_flow("main", &flow, &Endpoints::default()).expect("completes");
        assert_eq!(completed.nodes["source"].component, "builtin:test-source");
        assert_eq!(completed.nodes["sink"].component, "builtin:stdout-sink");
        let edges: Vec<(String, String)> = completed
            .edges
            .iter()
            .map(|e| (e.from.node.clone(), e.to.node.clone()))
            .collect();
        assert_eq!(
            edges,
            [
                ("source".to_string(), "transform".to_string()),
                ("transform".to_string(), "sink".to_string())
            ]
        );
    }

    #[test]
    fn a_complete_flow_is_left_as_it_is() {
        let flow = flow(SOURCE_TO_SINK);
        let completed = complete_flow("main", &flow, &Endpoints::default()).expect("completes");
        assert!(matches!(completed, Cow::Borrowed(_)));
    }

    #[test]
    fn overrides_replace_the_flows_source_and_sink_in_place() {
        let flow = flow(SOURCE_TO_SINK);
        let endpoints = Endpoints {
            input: Some(EndpointOverride::input("generator:count=5,size=8").expect("parses")),
            output: Some(EndpointOverride::output("out.txt").expect("parses")),
            missing_sink: None,
        };
        let completed = complete_flow("main", &flow, &endpoints).expect("completes");
        assert_eq!(completed.nodes["src"].component, "builtin:generator");
        let config: serde_json::Value =
            serde_json::from_str(&completed.nodes["src"].config).expect("json");
        assert_eq!(config["count"], 5);
        assert_eq!(completed.nodes["out"].component, "builtin:file-sink");
        assert!(completed.nodes["out"].config.contains("out.txt"));
        assert_eq!(completed.edges.len(), 1);
    }

    #[test]
    fn input_spellings_choose_their_connectors() {
        let kind = |text| EndpointOverride::input(text).expect("parses").kind();
        assert_eq!(kind("-"), ConnectorKind::StdinSource);
        assert_eq!(kind("stdin"), ConnectorKind::StdinSource);
        assert_eq!(kind("generator"), ConnectorKind::Generator);
        assert_eq!(kind("test-source:count=3"), ConnectorKind::TestSource);
        assert_eq!(kind("data/events.txt"), ConnectorKind::FileSource);
        assert_eq!(
            EndpointOverride::output("-").expect("parses").kind(),
            ConnectorKind::StdoutSink
        );
        let e = EndpointOverride::input("generator:count").expect_err("no value");
        assert_eq!(e.code(), ErrorCode::ConstraintViolation);
        assert!(e.help().contains("--input takes"), "{}", e.help());
    }

    #[test]
    fn an_override_of_one_of_several_sources_is_refused() {
        let two_sources = format!(
            "{SOURCE_TO_SINK}[flow.main.nodes.src2]\ncomponent = \"file://s.wasm\"\ninterface = \"torvyn:streaming/source\"\n[[flow.main.edges]]\nfrom = {{ node = \"src2\", port = \"output\" }}\nto = {{ node = \"out\", port = \"input\" }}\n"
        );
        let flow = flow(&two_sources);
        let endpoints = Endpoints {
            input: Some(EndpointOverride::input("-").expect("parses")),
            output: None,
            missing_sink: None,
        };
        let e = complete_flow("main", &flow, &endpoints).expect_err("ambiguous");
        assert_eq!(e.code(), ErrorCode::TopologyInvalid);
        assert!(e.to_string().contains("src, src2"), "{e}");
    }

    #[test]
    fn an_attached_node_takes_a_free_name() {
        let taken = "[flow.main.nodes.source]\ncomponent = \"file://t.wasm\"\ninterface = \"torvyn:streaming/processor\"\n";
        let flow = flow(taken);
        let completed = complete_flow("main", &flow, &Endpoints::default()).expect("completes");
        assert_eq!(completed.nodes["source-2"].component, "builtin:test-source");
    }
}
