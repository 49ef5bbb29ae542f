//! [`ContractError`]: WIT that does not parse or resolve, worlds without a
//! Torvyn export, components that cannot be decoded, and contracts that do
//! not fit together across an edge.

use crate::error::{Coded, ErrorCode};
use std::path::PathBuf;

/// A contract problem, with its stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContractError {
    /// E0100: a .wit file does not parse.
    #[error("WIT syntax error: {message}")]
    WitSyntax {
        /// `file:line:col`.
        location: Option<String>,
        /// The parser's message.
        message: String,
    },
    /// E0101: a `use` or package reference does not resolve.
    #[error("WIT resolution error: {message}")]
    WitResolution {
        /// `file:line:col`.
        location: Option<String>,
        /// The resolver's message.
        message: String,
    },
    /// E0102: a world exports no Torvyn processing interface.
    #[error("world `{world}` exports no Torvyn processing interface (exports: {exports})")]
    WorldIncomplete {
        /// The world, `pkg:name/world`.
        world: String,
        /// Where it is defined.
        location: Option<String>,
        /// What it exports, comma-separated, or `nothing`.
        exports: String,
    },
    /// E0110: a deprecated contract version is targeted.
    #[error("{what} targets deprecated contract version {version}")]
    Deprecated {
        /// What targets it (`[torvyn] contract_version`, a WIT package).
        what: String,
        /// The version.
        version: String,
        /// Where.
        location: Option<String>,
    },
    /// E0210: a component file cannot be read or is not a component.
    #[error("cannot read the contract of component {}: {reason}", .path.display())]
    ComponentUnreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// E0201: the two sides target different major versions of a package.
    #[error("{} but {}: different major versions", side(.consumer, "targets", .package, .consumer_version), side(.provider, "targets", .package, .provider_version))]
    MajorVersionMismatch {
        /// Where: the edge (or the node) in Torvyn.toml, when known.
        location: Option<String>,
        /// The consuming side (downstream node, or a component vs the runtime).
        consumer: String,
        /// Its version.
        consumer_version: String,
        /// The providing side.
        provider: String,
        /// Its version.
        provider_version: String,
        /// `torvyn:streaming`.
        package: String,
    },
    /// E0201: the consumer needs a newer minor version than the provider has.
    #[error("{} but {}", side(.consumer, "requires", .package, .consumer_version), side(.provider, "provides only", .package, .provider_version))]
    ProviderTooOld {
        /// Where: the edge (or the node) in Torvyn.toml, when known.
        location: Option<String>,
        /// The consuming side.
        consumer: String,
        /// The version it requires.
        consumer_version: String,
        /// The providing side.
        provider: String,
        /// The version it provides.
        provider_version: String,
        /// `torvyn:streaming`.
        package: String,
    },
    /// E0200: the consumer uses an item the provider's contract lacks.
    #[error("{} uses {item}, which {} does not have", side(.consumer, "", .package, .consumer_version), side(.provider, "", .package, .provider_version))]
    MissingItem {
        /// Where: the edge (or the node) in Torvyn.toml, when known.
        location: Option<String>,
        /// The consuming side.
        consumer: String,
        /// Its version.
        consumer_version: String,
        /// The providing side.
        provider: String,
        /// Its version.
        provider_version: String,
        /// `torvyn:streaming`.
        package: String,
        /// What is missing: ``field `priority` of record `element-meta` ``.
        item: String,
    },
    /// E0204, found statically: an edge leaves a router through a port
    /// no `route` result can name, or twice to the same node.
    #[error("edge `{edge}` leaves router `{router}` {problem}")]
    RouterPort {
        /// The router node.
        router: String,
        /// The edge's stream name.
        edge: String,
        /// What is wrong with the port.
        problem: String,
        /// Where the edge is written.
        location: Option<String>,
    },
    /// E0203: a node's declared interface is not exported by its component.
    #[error("node `{node}` declares interface `{interface}`, but its component does not export it (exports: {exports})")]
    NotExported {
        /// Node name.
        node: String,
        /// Where the node's `interface` is written.
        location: Option<String>,
        /// The declared interface.
        interface: String,
        /// What the component does export.
        exports: String,
    },
}

/// The name the runtime goes by as one side of a comparison.
pub(crate) const RUNTIME: &str = "the runtime";

/// One side of a comparison for a message: ```enricher` (compiled
/// against torvyn:streaming@0.1.0)``, or with a `verb`, ```enricher`
/// requires torvyn:streaming@0.2.0``; the runtime "implements" its version.
fn side(name: &str, verb: &str, package: &str, version: &str) -> String {
    match (name == RUNTIME, verb.is_empty()) {
        (true, true) => format!("the runtime (which implements {package}@{version})"),
        (true, false) => format!("the runtime implements only {package}@{version}"),
        (false, true) => format!("`{name}` (compiled against {package}@{version})"),
        (false, false) => format!("`{name}` {verb} {package}@{version}"),
    }
}

impl ContractError {
    /// (consumer, its version, provider, its version, package) of a
    /// version or structural mismatch.
    fn sides(&self) -> Option<(&str, &str, &str, &str, &str)> {
        match self {
            ContractError::MajorVersionMismatch {
                consumer,
                consumer_version,
                provider,
                provider_version,
                package,
                ..
            }
            | ContractError::ProviderTooOld {
                consumer,
                consumer_version,
                provider,
                provider_version,
                package,
                ..
            }
            | ContractError::MissingItem {
                consumer,
                consumer_version,
                provider,
                provider_version,
                package,
                ..
            } => Some((
                consumer,
                consumer_version,
                provider,
                provider_version,
                package,
            )),
            _ => None,
        }
    }
}

impl Coded for ContractError {
    fn code(&self) -> ErrorCode {
        match self {
            ContractError::WitSyntax { .. } => ErrorCode::WitSyntaxError,
            ContractError::WitResolution { .. } => ErrorCode::WitResolutionError,
            ContractError::WorldIncomplete { .. } => ErrorCode::WorldIncomplete,
            ContractError::Deprecated { .. } => ErrorCode::DeprecatedContractVersion,
            ContractError::ComponentUnreadable { .. } => ErrorCode::ComponentNotFound,
            ContractError::MajorVersionMismatch { .. } | ContractError::ProviderTooOld { .. } => {
                ErrorCode::VersionMismatch
            }
            ContractError::MissingItem { .. } => ErrorCode::InterfaceIncompatible,
            ContractError::NotExported { .. } => ErrorCode::TopologyInvalid,
            ContractError::RouterPort { .. } => ErrorCode::RouterPortUnknown,
        }
    }

    fn location(&self) -> Option<String> {
        match self {
            ContractError::WitSyntax { location, .. }
            | ContractError::WitResolution { location, .. }
            | ContractError::WorldIncomplete { location, .. }
            | ContractError::Deprecated { location, .. } => location.clone(),
            ContractError::ComponentUnreadable { path, .. } => Some(path.display().to_string()),
            ContractError::MajorVersionMismatch {
                consumer, location, ..
            }
            | ContractError::ProviderTooOld {
                consumer, location, ..
            }
            | ContractError::MissingItem {
                consumer, location, ..
            } => Some(
                location
                    .clone()
                    .unwrap_or_else(|| format!("node `{consumer}`")),
            ),
            ContractError::RouterPort {
                router, location, ..
            } => Some(
                location
                    .clone()
                    .unwrap_or_else(|| format!("router `{router}` in Torvyn.toml")),
            ),
            ContractError::NotExported { node, location, .. } => Some(
                location
                    .clone()
                    .unwrap_or_else(|| format!("node `{node}` in Torvyn.toml")),
            ),
        }
    }

    fn help(&self) -> String {
        if let Some((consumer, cv, provider, pv, package)) = self.sides() {
            if provider == RUNTIME {
                return format!(
                    "this runtime implements {package}@{pv}: compile `{consumer}` against {package}@{pv}"
                );
            }
            if consumer == RUNTIME {
                return format!(
                    "this runtime implements {package}@{cv}: compile `{provider}` against {package}@{cv}"
                );
            }
        }
        match self {
            ContractError::WitResolution { .. } => {
                "ensure the referenced package exists in wit/deps/ and the `use` names an existing interface or type".into()
            }
            ContractError::WorldIncomplete { .. } => {
                "export at least one of: torvyn:streaming/processor, source, sink, torvyn:filtering/filter, router, torvyn:aggregation/aggregator".into()
            }
            ContractError::Deprecated { .. } => format!(
                "target contract version {} (set [torvyn] contract_version and the WIT package versions)",
                super::version::CURRENT_CONTRACT
            ),
            ContractError::ComponentUnreadable { .. } => {
                "check the node's `component` path, or build the component first (`cargo build --release --target wasm32-wasip2`)".into()
            }
            ContractError::MajorVersionMismatch { consumer, provider, package, .. } => format!(
                "recompile `{consumer}` or `{provider}` so both target the same major version of {package}"
            ),
            ContractError::ProviderTooOld { provider, package, consumer_version, .. }
            | ContractError::MissingItem { provider, package, consumer_version, .. } => format!(
                "recompile `{provider}` against {package}@{consumer_version} or later, or compile the consumer against an older version"
            ),
            ContractError::RouterPort { .. } => {
                "name each router port after a value its `route` returns (e.g. `from = { node = \"router\", port = \"metrics\" }`), one edge per port and destination".into()
            }
            ContractError::NotExported { .. } => {
                "set `interface` to one the component exports, or use a component that exports it".into()
            }
            other => other.code().default_help().into(),
        }
    }
}
