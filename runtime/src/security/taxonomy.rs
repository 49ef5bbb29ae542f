//! The capability taxonomy (spec: "Capability Taxonomy"): WASI-aligned
//! capabilities and Torvyn-specific ones, their canonical identifiers
//! (`wasi:filesystem/read`, optionally scoped: `wasi:filesystem/read:/data`)
//! and the short names component manifests use in `[capabilities.*]`
//! (`wasi-filesystem-read`, `wasi-clocks`, …; one short name may stand for
//! several capabilities).

use super::scope::Scope;
use std::fmt;

/// One kind of permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CapabilityKind {
    /// Read files under a directory subtree.
    FilesystemRead,
    /// Write files under a directory subtree.
    FilesystemWrite,
    /// Open outgoing TCP connections.
    TcpConnect,
    /// Accept incoming TCP connections.
    TcpListen,
    /// Send and receive UDP datagrams.
    Udp,
    /// Make outgoing HTTP requests.
    HttpOutgoing,
    /// Read the wall clock.
    WallClock,
    /// Read the monotonic clock.
    MonotonicClock,
    /// Cryptographically secure random bytes.
    Random,
    /// Insecure (fast) random bytes and seed.
    InsecureRandom,
    /// Environment variables.
    Environment,
    /// Write to standard output.
    Stdout,
    /// Write to standard error.
    Stderr,
    /// Allocate from a named buffer pool.
    BufferPool,
    /// Emit backpressure signals.
    Backpressure,
    /// Inspect flow metadata.
    FlowMetadata,
    /// Query runtime diagnostics.
    Diagnostics,
    /// Emit custom metrics.
    CustomMetrics,
}

/// How a capability of a kind can be scoped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// Not scopable.
    None,
    /// A directory subtree.
    Path,
    /// A `host:port` pattern.
    Endpoint,
    /// A name.
    Name,
}

impl CapabilityKind {
    /// Every kind, in taxonomy order.
    pub const ALL: [CapabilityKind; 18] = [
        CapabilityKind::FilesystemRead,
        CapabilityKind::FilesystemWrite,
        CapabilityKind::TcpConnect,
        CapabilityKind::TcpListen,
        CapabilityKind::Udp,
        CapabilityKind::HttpOutgoing,
        CapabilityKind::WallClock,
        CapabilityKind::MonotonicClock,
        CapabilityKind::Random,
        CapabilityKind::InsecureRandom,
        CapabilityKind::Environment,
        CapabilityKind::Stdout,
        CapabilityKind::Stderr,
        CapabilityKind::BufferPool,
        CapabilityKind::Backpressure,
        CapabilityKind::FlowMetadata,
        CapabilityKind::Diagnostics,
        CapabilityKind::CustomMetrics,
    ];

    /// The canonical identifier, as grants write it.
    pub const fn id(self) -> &'static str {
        use CapabilityKind::*;
        match self {
            FilesystemRead => "wasi:filesystem/read",
            FilesystemWrite => "wasi:filesystem/write",
            TcpConnect => "wasi:sockets/tcp-connect",
            TcpListen => "wasi:sockets/tcp-listen",
            Udp => "wasi:sockets/udp",
            HttpOutgoing => "wasi:http/outgoing-handler",
            WallClock => "wasi:clocks/wall-clock",
            MonotonicClock => "wasi:clocks/monotonic-clock",
            Random => "wasi:random/random",
            InsecureRandom => "wasi:random/insecure",
            Environment => "wasi:cli/environment",
            Stdout => "wasi:cli/stdout",
            Stderr => "wasi:cli/stderr",
            BufferPool => "torvyn:resources/buffer-pool",
            Backpressure => "torvyn:streaming/backpressure",
            FlowMetadata => "torvyn:streaming/flow-metadata",
            Diagnostics => "torvyn:runtime/diagnostics",
            CustomMetrics => "torvyn:observability/custom-metrics",
        }
    }

    /// How it is scoped.
    pub const fn scope_kind(self) -> ScopeKind {
        use CapabilityKind::*;
        match self {
            FilesystemRead | FilesystemWrite => ScopeKind::Path,
            TcpConnect | TcpListen | Udp | HttpOutgoing => ScopeKind::Endpoint,
            BufferPool => ScopeKind::Name,
            _ => ScopeKind::None,
        }
    }

    /// Whether every component has it without a grant. Only standard
    /// output and standard error are: the spec's examples print from their
    /// sinks with no grants (README: "Capabilities").
    pub const fn is_ambient(self) -> bool {
        matches!(self, CapabilityKind::Stdout | CapabilityKind::Stderr)
    }
}

impl fmt::Display for CapabilityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The manifest short names and what each stands for.
const SHORT_NAMES: &[(&str, &[CapabilityKind])] = {
    use CapabilityKind::*;
    &[
        ("wasi-filesystem-read", &[FilesystemRead]),
        ("wasi-filesystem-write", &[FilesystemWrite]),
        ("wasi-network-egress", &[TcpConnect, Udp, HttpOutgoing]),
        ("wasi-network-ingress", &[TcpListen]),
        ("wasi-sockets-tcp-connect", &[TcpConnect]),
        ("wasi-sockets-tcp-listen", &[TcpListen]),
        ("wasi-sockets-udp", &[Udp]),
        ("wasi-http-outgoing", &[HttpOutgoing]),
        ("wasi-clocks", &[WallClock, MonotonicClock]),
        ("wasi-wall-clock", &[WallClock]),
        ("wasi-monotonic-clock", &[MonotonicClock]),
        ("wasi-random", &[Random]),
        ("wasi-insecure-random", &[InsecureRandom]),
        ("wasi-environment", &[Environment]),
        ("wasi-stdout", &[Stdout]),
        ("wasi-stderr", &[Stderr]),
        ("torvyn-buffer-pool", &[BufferPool]),
        ("torvyn-backpressure", &[Backpressure]),
        ("torvyn-flow-metadata", &[FlowMetadata]),
        ("torvyn-diagnostics", &[Diagnostics]),
        ("torvyn-custom-metrics", &[CustomMetrics]),
    ]
};

/// A capability, possibly scoped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Capability {
    /// Its kind.
    pub kind: CapabilityKind,
    /// Its scope; `None` is unscoped (the whole filesystem, any host, …).
    pub scope: Option<Scope>,
}

impl Capability {
    /// An unscoped capability.
    pub const fn unscoped(kind: CapabilityKind) -> Self {
        Capability { kind, scope: None }
    }

    /// Whether this capability, granted, satisfies `request`: same kind,
    /// and an unscoped grant, an unscoped request (the component leaves the
    /// scope to the operator), or a grant scope that covers the request's.
    pub fn satisfies(&self, request: &Capability) -> bool {
        self.kind == request.kind
            && match (&self.scope, &request.scope) {
                (None, _) | (Some(_), None) => true,
                (Some(grant), Some(want)) => grant.covers(want),
            }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.id())?;
        if let Some(scope) = &self.scope {
            write!(f, ":{scope}")?;
        }
        Ok(())
    }
}

/// Why a capability string was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCapability {
    /// The string as written.
    pub text: String,
    /// What is wrong.
    pub reason: String,
    /// The nearest known identifier, if any is close.
    pub suggestion: Option<String>,
}

/// Parses a canonical identifier, optionally scoped
/// (`wasi:filesystem/read:/data/input`), or a manifest short name
/// (`wasi-clocks`), into the capabilities it stands for.
pub fn parse(text: &str) -> Result<Vec<Capability>, UnknownCapability> {
    let text = text.trim();
    if let Some((_, kinds)) = SHORT_NAMES.iter().find(|(name, _)| *name == text) {
        return Ok(kinds.iter().map(|k| Capability::unscoped(*k)).collect());
    }
    for kind in CapabilityKind::ALL {
        let Some(rest) = text.strip_prefix(kind.id()) else {
            continue;
        };
        if rest.is_empty() {
            return Ok(vec![Capability::unscoped(kind)]);
        }
        let Some(scope_text) = rest.strip_prefix(':') else {
            continue;
        };
        let unknown = |reason: String| UnknownCapability {
            text: text.to_string(),
            reason,
            suggestion: None,
        };
        let scope = match kind.scope_kind() {
            ScopeKind::None => {
                return Err(unknown(format!("`{}` cannot be scoped", kind.id())));
            }
            ScopeKind::Path => Scope::path(scope_text).ok_or_else(|| {
                unknown(format!(
                    "`{scope_text}` is not a usable directory (empty, or escapes with `..`)"
                ))
            })?,
            ScopeKind::Endpoint => Scope::endpoint(scope_text).ok_or_else(|| {
                unknown(format!(
                    "`{scope_text}` is not a `host:port` pattern (ports: a number, `low-high` or `*`)"
                ))
            })?,
            ScopeKind::Name => Scope::Name(scope_text.to_string()),
        };
        return Ok(vec![Capability {
            kind,
            scope: Some(scope),
        }]);
    }
    let known = SHORT_NAMES
        .iter()
        .map(|(n, _)| *n)
        .chain(CapabilityKind::ALL.iter().map(|k| k.id()));
    Err(UnknownCapability {
        text: text.to_string(),
        reason: "not a capability of the taxonomy".into(),
        suggestion: crate::config::nearest(
            text.split(':')
                .take(2)
                .collect::<Vec<_>>()
                .join(":")
                .as_str(),
            known,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_ids_parse_with_and_without_scope() {
        assert_eq!(
            parse("wasi:clocks/wall-clock").unwrap(),
            [Capability::unscoped(CapabilityKind::WallClock)]
        );
        assert_eq!(
            parse("wasi:filesystem/read:/data/input").unwrap(),
            [Capability {
                kind: CapabilityKind::FilesystemRead,
                scope: Scope::path("/data/input"),
            }]
        );
        assert_eq!(
            parse("wasi:sockets/tcp-connect:db.local:5432").unwrap()[0].scope,
            Scope::endpoint("db.local:5432")
        );
        for kind in CapabilityKind::ALL {
            assert_eq!(parse(kind.id()).unwrap(), [Capability::unscoped(kind)]);
        }
    }

    #[test]
    fn short_names_expand() {
        let clocks: Vec<CapabilityKind> = parse("wasi-clocks")
            .unwrap()
            .iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(
            clocks,
            [CapabilityKind::WallClock, CapabilityKind::MonotonicClock]
        );
        assert_eq!(
            parse("wasi-filesystem-read").unwrap()[0].kind,
            CapabilityKind::FilesystemRead
        );
        assert_eq!(parse("wasi-network-egress").unwrap().len(), 3);
    }

    #[test]
    fn unknown_or_badly_scoped_strings_are_refused() {
        let err = parse("wasi:filesytem/read").unwrap_err();
        assert_eq!(err.suggestion.as_deref(), Some("wasi:filesystem/read"));
        assert!(parse("wasi:clocks/wall-clock:/x").is_err());
        assert!(parse("wasi:filesystem/read:/data/../etc").is_err());
        assert!(parse("wasi:sockets/tcp-connect:host:99999").is_err());
        assert!(parse("wasi:filesystem/readx").is_err());
    }

    #[test]
    fn grants_satisfy_requests_in_one_direction() {
        let grant = &parse("wasi:filesystem/read:/data").unwrap()[0];
        let narrow = &parse("wasi:filesystem/read:/data/input").unwrap()[0];
        let unscoped = &parse("wasi:filesystem/read").unwrap()[0];
        assert!(grant.satisfies(narrow));
        assert!(!narrow.satisfies(grant));
        // An unscoped request leaves the scope to the operator.
        assert!(grant.satisfies(unscoped));
        // An unscoped grant satisfies everything of its kind.
        assert!(unscoped.satisfies(narrow));
        // Never across kinds.
        let write = &parse("wasi:filesystem/write:/data").unwrap()[0];
        assert!(!write.satisfies(narrow));
    }
}
