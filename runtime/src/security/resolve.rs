//! Link-time capability resolution (spec: "Capability Resolution Flow"):
//!
//! 1. Cross-check the manifest against the component's imports, both
//!    ways (E0103): every import that needs a capability must be declared
//!    (required or optional), and nothing declared `= false` may be used.
//! 2. Intersect what the component requests with what the operator
//!    grants: every required capability must be satisfied by a grant
//!    (E0202); optional ones without a grant are skipped.
//!
//! The result is the set of grants the component may exercise — the
//! operator's scopes, since a grant satisfies a request by covering it.

use super::error::SecurityError;
use super::imports::need_of;
use super::taxonomy::{self, Capability, CapabilityKind};
use crate::config::{CapabilitiesConfig, CapabilityPolicy};
use crate::interface_ref::InterfaceRef;

/// What a component declared, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declared {
    /// `[capabilities.required]` entries set to `true`: (as written, parsed).
    pub required: Vec<(String, Vec<Capability>)>,
    /// `[capabilities.optional]` entries set to `true`.
    pub optional: Vec<(String, Vec<Capability>)>,
    /// Entries set to `false`.
    pub declined: Vec<(String, Vec<Capability>)>,
}

impl Declared {
    /// Parses a manifest's `[capabilities]`; `place` names it in errors.
    pub fn parse(config: &CapabilitiesConfig, place: &str) -> Result<Self, SecurityError> {
        let parse_all = |ids: Vec<&str>, table: &str| {
            ids.into_iter()
                .map(|id| {
                    taxonomy::parse(id)
                        .map(|caps| (id.to_string(), caps))
                        .map_err(|e| SecurityError::UnknownCapability {
                            text: e.text,
                            place: format!("[capabilities.{table}] of {place}"),
                            reason: e.reason,
                            suggestion: e.suggestion,
                            location: None,
                        })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Declared {
            required: parse_all(config.required_ids().collect(), "required")?,
            optional: parse_all(config.optional_ids().collect(), "optional")?,
            declined: parse_all(config.declined_ids().collect(), "required/optional")?,
        })
    }

    fn declares(&self, kind: CapabilityKind) -> bool {
        self.required
            .iter()
            .chain(&self.optional)
            .any(|(_, caps)| caps.iter().any(|c| c.kind == kind))
    }
}

/// E0103: checks `declared` against `imports` in both directions.
/// `manifest` names the component manifest in diagnostics. The first
/// mismatch is the error; [`cross_check_all`] lists every one.
pub fn cross_check(
    component: &str,
    declared: &Declared,
    imports: &[InterfaceRef],
    manifest: &str,
) -> Result<(), SecurityError> {
    match cross_check_all(component, declared, imports, manifest)
        .into_iter()
        .next()
    {
        Some(first) => Err(first),
        None => Ok(()),
    }
}

/// E0103: every import whose capability `declared` does not declare (or
/// declines), one error per import.
pub fn cross_check_all(
    component: &str,
    declared: &Declared,
    imports: &[InterfaceRef],
    manifest: &str,
) -> Vec<SecurityError> {
    let mut errors = Vec::new();
    for import in imports {
        let Some(need) = need_of(import) else {
            continue;
        };
        if need.any_of.iter().all(|k| k.is_ambient())
            || need.any_of.iter().any(|k| declared.declares(*k))
        {
            continue;
        }
        if let Some((text, _)) = declared
            .declined
            .iter()
            .find(|(_, caps)| caps.iter().any(|c| need.any_of.contains(&c.kind)))
        {
            errors.push(SecurityError::DeclinedButImported {
                component: component.into(),
                declared: text.clone(),
                import: need.import,
                manifest: manifest.into(),
            });
            continue;
        }
        errors.push(SecurityError::UndeclaredImport {
            component: component.into(),
            import: need.import,
            needs: short_name(need.any_of[0]),
            manifest: manifest.into(),
        });
    }
    errors
}

/// The manifest short name for `kind` (`wasi-filesystem-read`).
fn short_name(kind: CapabilityKind) -> String {
    use CapabilityKind::*;
    match kind {
        FilesystemRead => "wasi-filesystem-read",
        FilesystemWrite => "wasi-filesystem-write",
        TcpConnect => "wasi-sockets-tcp-connect",
        TcpListen => "wasi-sockets-tcp-listen",
        Udp => "wasi-sockets-udp",
        HttpOutgoing => "wasi-http-outgoing",
        WallClock => "wasi-wall-clock",
        MonotonicClock => "wasi-monotonic-clock",
        Random => "wasi-random",
        InsecureRandom => "wasi-insecure-random",
        Environment => "wasi-environment",
        Stdout => "wasi-stdout",
        Stderr => "wasi-stderr",
        BufferPool => "torvyn-buffer-pool",
        Backpressure => "torvyn-backpressure",
        FlowMetadata => "torvyn-flow-metadata",
        Diagnostics => "torvyn-diagnostics",
        CustomMetrics => "torvyn-custom-metrics",
    }
    .to_string()
}

/// A component's resolved capability set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedCapabilities {
    /// The component (node) name.
    pub component: String,
    /// What it may exercise: the grants that satisfy one of its requests.
    pub granted: Vec<Capability>,
    /// Optional requests nobody granted (the component must cope).
    pub skipped: Vec<String>,
}

/// Parses the grant strings of `[security.grants.<component>]`.
pub fn parse_grants(component: &str, grants: &[String]) -> Result<Vec<Capability>, SecurityError> {
    let mut parsed = Vec::new();
    for grant in grants {
        let caps = taxonomy::parse(grant).map_err(|e| SecurityError::UnknownCapability {
            text: e.text,
            place: format!("[security.grants.{component}]"),
            reason: e.reason,
            suggestion: e.suggestion,
            location: None,
        })?;
        parsed.extend(caps);
    }
    Ok(parsed)
}

/// E0202: intersects `declared` with `grants` under `policy`; the first
/// required capability not granted is the error ([`resolve_all`] lists
/// every one).
pub fn resolve(
    component: &str,
    declared: &Declared,
    grants: &[Capability],
    policy: CapabilityPolicy,
) -> Result<ResolvedCapabilities, SecurityError> {
    resolve_all(component, declared, grants, policy).map_err(|mut errors| errors.remove(0))
}

/// E0202: intersects `declared` with `grants` under `policy`; every
/// required capability not granted is an error (never an empty list).
pub fn resolve_all(
    component: &str,
    declared: &Declared,
    grants: &[Capability],
    policy: CapabilityPolicy,
) -> Result<ResolvedCapabilities, Vec<SecurityError>> {
    let mut errors = Vec::new();
    let mut resolved = ResolvedCapabilities {
        component: component.into(),
        ..ResolvedCapabilities::default()
    };
    let mut take = |request: &Capability| -> bool {
        if policy == CapabilityPolicy::AllowAll {
            let cap = request.clone();
            if !resolved.granted.contains(&cap) {
                resolved.granted.push(cap);
            }
            return true;
        }
        let mut any = false;
        for grant in grants.iter().filter(|g| g.satisfies(request)) {
            any = true;
            if !resolved.granted.contains(grant) {
                resolved.granted.push(grant.clone());
            }
        }
        any
    };
    for (text, caps) in &declared.required {
        for request in caps {
            if !take(request) {
                let granted = if grants.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (granted: {})",
                        grants
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                errors.push(SecurityError::NotGranted {
                    component: component.into(),
                    capability: request.to_string(),
                    declared_as: text.clone(),
                    granted,
                    example: example_grant(request),
                });
            }
        }
    }
    for (text, caps) in &declared.optional {
        let mut all = true;
        for request in caps {
            all &= take(request);
        }
        if !all {
            resolved.skipped.push(text.clone());
        }
    }
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(errors)
    }
}

fn example_grant(request: &Capability) -> String {
    match (&request.scope, request.kind.scope_kind()) {
        (Some(_), _) => request.to_string(),
        (None, taxonomy::ScopeKind::Path) => format!("{}:<directory>", request.kind.id()),
        (None, taxonomy::ScopeKind::Endpoint) => format!("{}:<host>:<port>", request.kind.id()),
        (None, _) => request.kind.id().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};
    use indexmap::IndexMap;

    fn declared(required: &[&str], optional: &[&str], declined: &[&str]) -> Declared {
        let map = |ids: &[&str], on: bool| {
            ids.iter()
                .map(|i| (i.to_string(), on))
                .collect::<IndexMap<_, _>>()
        };
        let mut config = CapabilitiesConfig {
            required: map(required, true),
            optional: map(optional, true),
            ..CapabilitiesConfig::default()
        };
        config.optional.extend(map(declined, false));
        Declared::parse(&config, "Torvyn.toml").unwrap()
    }

    fn imports(names: &[&str]) -> Vec<InterfaceRef> {
        names
            .iter()
            .map(|n| InterfaceRef::parse(n).unwrap())
            .collect()
    }

    #[test]
    fn an_undeclared_import_is_e0103() {
        let err = cross_check(
            "reader",
            &declared(&[], &[], &[]),
            &imports(&["wasi:filesystem/preopens@0.2.3"]),
            "Torvyn.toml",
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::CapabilityMismatch);
        assert!(
            err.to_string().contains("wasi:filesystem/preopens@0.2.3"),
            "{err}"
        );
        assert!(
            err.help().contains("wasi-filesystem-read"),
            "{}",
            err.help()
        );
    }

    #[test]
    fn a_declined_capability_that_is_imported_is_e0103() {
        let err = cross_check(
            "x",
            &declared(&[], &[], &["wasi-network-egress"]),
            &imports(&["wasi:sockets/tcp@0.2.0"]),
            "Torvyn.toml",
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::CapabilityMismatch);
        assert!(
            err.to_string().contains("wasi-network-egress = false"),
            "{err}"
        );
    }

    #[test]
    fn declared_imports_and_ambient_ones_pass() {
        let d = declared(
            &["wasi-filesystem-read"],
            &["wasi-clocks"],
            &["wasi-network-egress"],
        );
        cross_check(
            "x",
            &d,
            &imports(&[
                "wasi:filesystem/types@0.2.3",
                "wasi:clocks/wall-clock@0.2.3",
                "wasi:cli/stderr@0.2.3",
                "wasi:io/streams@0.2.3",
            ]),
            "Torvyn.toml",
        )
        .unwrap();
    }

    #[test]
    fn an_ungranted_required_capability_is_e0202() {
        let d = declared(&["wasi-filesystem-read"], &[], &[]);
        let err = resolve("reader", &d, &[], CapabilityPolicy::DenyAll).unwrap_err();
        assert_eq!(err.code(), ErrorCode::CapabilityNotGranted);
        assert!(
            err.help().contains("wasi:filesystem/read:<directory>"),
            "{}",
            err.help()
        );
        // The wrong kind does not help either.
        let grants = parse_grants("reader", &["wasi:filesystem/write:/data".into()]).unwrap();
        assert!(resolve("reader", &d, &grants, CapabilityPolicy::DenyAll).is_err());
    }

    #[test]
    fn a_scoped_grant_satisfies_an_unscoped_request_and_is_what_resolves() {
        let d = declared(&["wasi-filesystem-read"], &[], &[]);
        let grants = parse_grants(
            "reader",
            &[
                "wasi:filesystem/read:/data/input".into(),
                "wasi:clocks/wall-clock".into(),
            ],
        )
        .unwrap();
        let r = resolve("reader", &d, &grants, CapabilityPolicy::DenyAll).unwrap();
        // Only what was requested: the clock grant is not exercised.
        assert_eq!(r.granted, vec![grants[0].clone()]);
    }

    #[test]
    fn a_narrower_grant_never_satisfies_a_broader_scoped_request() {
        let mut config = CapabilitiesConfig::default();
        config
            .required
            .insert("wasi:filesystem/read:/data".into(), true);
        let d = Declared::parse(&config, "Torvyn.toml").unwrap();
        let narrow = parse_grants("r", &["wasi:filesystem/read:/data/input".into()]).unwrap();
        assert_eq!(
            resolve("r", &d, &narrow, CapabilityPolicy::DenyAll)
                .unwrap_err()
                .code(),
            ErrorCode::CapabilityNotGranted
        );
        let broad = parse_grants("r", &["wasi:filesystem/read:/".into()]).unwrap();
        assert!(resolve("r", &d, &broad, CapabilityPolicy::DenyAll).is_ok());
    }

    #[test]
    fn ungranted_optional_capabilities_are_skipped() {
        let d = declared(&[], &["wasi-random"], &[]);
        let r = resolve("x", &d, &[], CapabilityPolicy::DenyAll).unwrap();
        assert!(r.granted.is_empty());
        assert_eq!(r.skipped, ["wasi-random"]);
    }

    #[test]
    fn allow_all_grants_every_request() {
        let d = declared(&["wasi-clocks"], &[], &[]);
        let r = resolve("x", &d, &[], CapabilityPolicy::AllowAll).unwrap();
        assert_eq!(r.granted.len(), 2);
    }

    #[test]
    fn unknown_grant_strings_are_refused() {
        let err = parse_grants("x", &["wasi:filesytem/read:/data".into()]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConstraintViolation);
        assert_eq!(err.help(), "did you mean `wasi:filesystem/read`?");
    }
}
