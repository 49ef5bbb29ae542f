//! Capability scopes and the directional rule: a broader grant satisfies
//! a narrower request, never the reverse.
//!
//! - Paths (`/data/input`): a grant covers its directory and everything
//!   below it, compared component by component (`/data/in` does not cover
//!   `/data/input`). `..` is refused when parsing: fail closed.
//! - Network endpoints (`host:port`): `*` matches any host, `*.example.com`
//!   any sub-domain, ports are a number, a `low-high` range or `*`.
//! - Names (buffer pools): equal names only.

use std::fmt;

/// What a scoped capability is limited to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A directory subtree, normalized (no trailing `/`, no `.` segments).
    Path(String),
    /// `host:port` pattern.
    Endpoint {
        /// Host, `*` or `*.suffix`.
        host: String,
        /// Inclusive port range.
        ports: (u16, u16),
    },
    /// A named resource (a buffer pool).
    Name(String),
}

impl Scope {
    /// Parses a path scope; `None` when it escapes with `..` or is empty.
    pub fn path(text: &str) -> Option<Scope> {
        let absolute = text.starts_with('/');
        let mut parts = Vec::new();
        for part in text.split('/') {
            match part {
                "" | "." => {}
                ".." => return None,
                p => parts.push(p),
            }
        }
        if parts.is_empty() && !absolute {
            return None;
        }
        let joined = parts.join("/");
        Some(Scope::Path(if absolute {
            format!("/{joined}")
        } else {
            joined
        }))
    }

    /// Parses `host:port`, `host:low-high`, `host:*` or `host`.
    pub fn endpoint(text: &str) -> Option<Scope> {
        let (host, ports) = match text.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (text, "*"),
        };
        if host.is_empty() {
            return None;
        }
        let ports = match ports {
            "*" => (0, u16::MAX),
            p => match p.split_once('-') {
                Some((lo, hi)) => (lo.parse().ok()?, hi.parse().ok()?),
                None => {
                    let port = p.parse().ok()?;
                    (port, port)
                }
            },
        };
        (ports.0 <= ports.1).then(|| Scope::Endpoint {
            host: host.to_ascii_lowercase(),
            ports,
        })
    }

    /// Whether a grant scoped to `self` satisfies a request scoped to `request`.
    pub fn covers(&self, request: &Scope) -> bool {
        match (self, request) {
            (Scope::Path(grant), Scope::Path(want)) => {
                grant == want
                    || grant == "/"
                    || want
                        .strip_prefix(grant.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            }
            (
                Scope::Endpoint {
                    host: gh,
                    ports: gp,
                },
                Scope::Endpoint {
                    host: wh,
                    ports: wp,
                },
            ) => host_covers(gh, wh) && gp.0 <= wp.0 && wp.1 <= gp.1,
            (Scope::Name(g), Scope::Name(w)) => g == w,
            _ => false,
        }
    }
}

fn host_covers(grant: &str, want: &str) -> bool {
    if grant == "*" || grant == want {
        return true;
    }
    match grant.strip_prefix("*.") {
        // `*.example.com` covers `a.example.com` and `*.a.example.com`,
        // not `example.com` itself.
        Some(suffix) => want
            .trim_start_matches("*.")
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with('.')),
        None => false,
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Path(p) | Scope::Name(p) => f.write_str(p),
            Scope::Endpoint { host, ports } => match ports {
                (0, u16::MAX) => write!(f, "{host}:*"),
                (lo, hi) if lo == hi => write!(f, "{host}:{lo}"),
                (lo, hi) => write!(f, "{host}:{lo}-{hi}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Scope {
        Scope::path(s).unwrap()
    }

    fn e(s: &str) -> Scope {
        Scope::endpoint(s).unwrap()
    }

    #[test]
    fn a_directory_grant_covers_its_subtree_only() {
        assert!(p("/data").covers(&p("/data/input")));
        assert!(p("/data/").covers(&p("/data/input/deep/file")));
        assert!(p("/data/input").covers(&p("/data/input")));
        assert!(p("/").covers(&p("/etc")));
        // The reverse never holds.
        assert!(!p("/data/input").covers(&p("/data")));
        // Component-wise, not string prefixes.
        assert!(!p("/data/in").covers(&p("/data/input")));
        assert!(!p("/data").covers(&p("/database")));
    }

    #[test]
    fn paths_are_normalized_and_escapes_refused() {
        assert_eq!(p("/data/./input/"), Scope::Path("/data/input".into()));
        assert_eq!(p("data//x"), Scope::Path("data/x".into()));
        assert!(Scope::path("/data/../etc").is_none());
        assert!(Scope::path("").is_none());
    }

    #[test]
    fn endpoint_grants_cover_narrower_hosts_and_ports() {
        assert!(e("*:*").covers(&e("api.example.com:443")));
        assert!(e("*.example.com:443").covers(&e("api.example.com:443")));
        assert!(e("*.example.com:*").covers(&e("*.eu.example.com:8000-8080")));
        assert!(e("db.local:5000-6000").covers(&e("db.local:5432")));
        assert!(!e("api.example.com:443").covers(&e("*.example.com:443")));
        assert!(!e("*.example.com:443").covers(&e("example.com:443")));
        assert!(!e("db.local:5432").covers(&e("db.local:5000-6000")));
        assert!(!e("db.local:5432").covers(&e("other.local:5432")));
    }

    #[test]
    fn scopes_of_different_kinds_never_cover_each_other() {
        assert!(!p("/data").covers(&Scope::Name("data".into())));
        assert!(Scope::Name("fast".into()).covers(&Scope::Name("fast".into())));
        assert!(!Scope::Name("fast".into()).covers(&Scope::Name("slow".into())));
    }
}
