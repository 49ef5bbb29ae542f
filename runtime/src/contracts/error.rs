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
    #[error("`{consumer}` targets {package}@{consumer_version} but `{provider}` targets {package}@{provider_version}: different major versions")]
    MajorVersionMismatch {
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
    #[error("`{consumer}` requires {package}@{consumer_version} but `{provider}` provides only {package}@{provider_version}")]
    ProviderTooOld {
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
    #[error("`{consumer}` (compiled against {package}@{consumer_version}) uses {item}, which `{provider}` (compiled against {package}@{provider_version}) does not have")]
    MissingItem {
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
        }
    }

    fn location(&self) -> Option<String> {
        match self {
            ContractError::WitSyntax { location, .. }
            | ContractError::WitResolution { location, .. }
            | ContractError::WorldIncomplete { location, .. }
            | ContractError::Deprecated { location, .. } => location.clone(),
            ContractError::ComponentUnreadable { path, .. } => Some(path.display().to_string()),
            ContractError::MajorVersionMismatch { consumer, .. }
            | ContractError::ProviderTooOld { consumer, .. }
            | ContractError::MissingItem { consumer, .. } => Some(format!("node `{consumer}`")),
            ContractError::NotExported { node, location, .. } => Some(
                location
                    .clone()
                    .unwrap_or_else(|| format!("node `{node}` in Torvyn.toml")),
            ),
        }
    }

    fn help(&self) -> String {
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
            ContractError::NotExported { .. } => {
                "set `interface` to one the component exports, or use a component that exports it".into()
            }
            other => other.code().default_help().into(),
        }
    }
}
