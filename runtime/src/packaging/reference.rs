//! [`OciReference`]: `HOST[:PORT]/REPO:TAG` or `HOST[:PORT]/REPO@sha256:HEX`
//! (a node's `component = "oci://…"`, `torvyn inspect oci://…`), and
//! [`RegistryTarget`]: `HOST[:PORT][/NAMESPACE]` (`torvyn publish
//! --registry`, `[registry] default`).

use std::fmt;

/// The scheme of a registry component reference.
pub const SCHEME: &str = "oci://";

/// A malformed registry reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{reference}` is not a registry reference: {reason}")]
pub struct ReferenceError {
    /// The text as written.
    pub reference: String,
    /// What is wrong with it.
    pub reason: String,
}

/// What a reference pins: a tag (resolved to a digest when used) or a
/// manifest digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pin {
    /// `:TAG`.
    Tag(String),
    /// `@sha256:HEX` (the manifest's digest, lowercase hex).
    Digest(String),
}

/// A component in an OCI registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OciReference {
    /// `HOST` or `HOST:PORT`.
    pub registry: String,
    /// The repository path (`team/name`).
    pub repository: String,
    /// Tag or digest.
    pub pin: Pin,
}

impl OciReference {
    /// Parses `oci://HOST[:PORT]/REPO(:TAG|@sha256:HEX)` (the scheme is
    /// optional).
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        let fail = |reason: &str| ReferenceError {
            reference: text.to_string(),
            reason: reason.to_string(),
        };
        let rest = text.strip_prefix(SCHEME).unwrap_or(text);
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| fail("expected HOST[:PORT]/REPOSITORY:TAG"))?;
        check_registry(registry).map_err(|r| fail(&r))?;
        let (repository, pin) = if let Some((repo, digest)) = path.split_once('@') {
            let hex = digest
                .strip_prefix("sha256:")
                .ok_or_else(|| fail("a digest must be `sha256:` and 64 hex digits"))?;
            if !is_sha256_hex(hex) {
                return Err(fail("a digest must be `sha256:` and 64 hex digits"));
            }
            (repo, Pin::Digest(hex.to_string()))
        } else {
            // The tag follows the last `:` after the last `/`.
            let last = path.rsplit('/').next().unwrap_or(path);
            let Some((_, tag)) = last.rsplit_once(':') else {
                return Err(fail(
                    "name a tag (`:1.0.0`) or a digest (`@sha256:…`); there is no implicit `latest`",
                ));
            };
            check_tag(tag).map_err(|r| fail(&r))?;
            (
                &path[..path.len() - tag.len() - 1],
                Pin::Tag(tag.to_string()),
            )
        };
        check_repository(repository).map_err(|r| fail(&r))?;
        Ok(Self {
            registry: registry.to_string(),
            repository: repository.to_string(),
            pin,
        })
    }

    /// The same repository pinned to manifest digest `hex`.
    pub fn at_digest(&self, hex: &str) -> Self {
        Self {
            pin: Pin::Digest(hex.to_string()),
            ..self.clone()
        }
    }

    /// Whether the registry is on this machine (plain HTTP is allowed only
    /// there).
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.registry)
    }

    /// The client library's reference.
    pub(crate) fn to_client(&self) -> oci_client::Reference {
        match &self.pin {
            Pin::Tag(tag) => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                tag.clone(),
            ),
            Pin::Digest(hex) => oci_client::Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                format!("sha256:{hex}"),
            ),
        }
    }
}

impl fmt::Display for OciReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.registry, self.repository)?;
        match &self.pin {
            Pin::Tag(tag) => write!(f, ":{tag}"),
            Pin::Digest(hex) => write!(f, "@sha256:{hex}"),
        }
    }
}

/// Where `torvyn publish` pushes: `HOST[:PORT][/NAMESPACE]`; a component
/// goes to repository `NAMESPACE/<component name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryTarget {
    /// `HOST` or `HOST:PORT`.
    pub registry: String,
    /// Repository prefix, possibly empty.
    pub namespace: String,
}

impl RegistryTarget {
    /// Parses `[oci://|https://|http://]HOST[:PORT][/NAMESPACE]`.
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        let fail = |reason: String| ReferenceError {
            reference: text.to_string(),
            reason,
        };
        let rest = [SCHEME, "https://", "http://"]
            .iter()
            .find_map(|s| text.strip_prefix(s))
            .unwrap_or(text)
            .trim_end_matches('/');
        let (registry, namespace) = rest.split_once('/').unwrap_or((rest, ""));
        check_registry(registry).map_err(fail)?;
        if !namespace.is_empty() {
            check_repository(namespace).map_err(fail)?;
        }
        Ok(Self {
            registry: registry.to_string(),
            namespace: namespace.to_string(),
        })
    }

    /// The reference of component `name` tagged `tag` in this registry.
    pub fn reference(&self, name: &str, tag: &str) -> Result<OciReference, ReferenceError> {
        let repository = if self.namespace.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.namespace)
        };
        let text = format!("{SCHEME}{}/{repository}:{tag}", self.registry);
        OciReference::parse(&text)
    }
}

/// Whether `registry` (`HOST[:PORT]`) names this machine.
pub fn is_loopback_host(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => registry.split(':').next().unwrap_or(registry),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `hex` is 64 lowercase hex digits.
pub fn is_sha256_hex(hex: &str) -> bool {
    hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_registry(registry: &str) -> Result<(), String> {
    if registry.is_empty() {
        return Err("the registry host is empty".into());
    }
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !registry.starts_with('[') => {
            (host, Some(port))
        }
        _ => (registry, None),
    };
    if let Some(port) = port {
        if !port.parse::<u16>().is_ok_and(|p| p != 0) {
            return Err(format!("`{port}` is not a port number"));
        }
    }
    let ok = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._[]:".contains(&b));
    if host.is_empty() || !ok {
        return Err(format!("`{host}` is not a host name"));
    }
    Ok(())
}

/// The distribution spec's repository grammar: lowercase path components
/// of `[a-z0-9]+` joined by `.`, `_`, `__` or `-`, separated by `/`.
fn check_repository(repository: &str) -> Result<(), String> {
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && c.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    };
    if repository.is_empty() || !repository.split('/').all(component_ok) {
        return Err(format!(
            "`{repository}` is not a repository name (lowercase letters, digits, `.`, `_`, `-`, separated by `/`)"
        ));
    }
    Ok(())
}

/// The distribution spec's tag grammar: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn check_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{tag}` is not a tag (letters, digits, `.`, `_`, `-`; at most 128)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn tags_and_digests_parse_with_ports_and_namespaces() {
        let r = OciReference::parse("oci://127.0.0.1:5000/team/upper:0.1.0").expect("parses");
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "team/upper");
        assert_eq!(r.pin, Pin::Tag("0.1.0".into()));
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), "oci://127.0.0.1:5000/team/upper:0.1.0");

        let text = format!("oci://ghcr.io/acme/upper@sha256:{HEX}");
        let d = OciReference::parse(&text).expect("parses");
        assert_eq!(d.pin, Pin::Digest(HEX.into()));
        assert!(!d.is_loopback());
        assert_eq!(d.to_string(), text);
        assert_eq!(
            d.to_client().to_string(),
            format!("ghcr.io/acme/upper@sha256:{HEX}")
        );
        assert!(OciReference::parse("localhost/x:1")
            .expect("ok")
            .is_loopback());
    }

    #[test]
    fn malformed_references_say_what_is_wrong() {
        for (text, says) in [
            ("oci://noslash", "HOST[:PORT]"),
            ("oci://host/repo", "name a tag"),
            ("oci://host:99999/repo:1", "port"),
            ("oci://host/Repo:1", "repository name"),
            ("oci://host/repo:-bad", "not a tag"),
            ("oci://host/repo@sha256:abc", "64 hex"),
            ("oci://host/repo@md5:abc", "sha256:"),
            ("oci:///repo:1", "host is empty"),
        ] {
            let error = OciReference::parse(text).expect_err(text);
            assert!(error.to_string().contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn a_registry_target_names_a_repository_per_component() {
        let t = RegistryTarget::parse("127.0.0.1:5000").expect("parses");
        assert_eq!(
            t.reference("upper", "0.1.0").expect("ok").to_string(),
            "oci://127.0.0.1:5000/upper:0.1.0"
        );
        let n = RegistryTarget::parse("https://ghcr.io/acme/").expect("parses");
        assert_eq!(n.namespace, "acme");
        assert_eq!(
            n.reference("upper", "1.0.0").expect("ok").to_string(),
            "oci://ghcr.io/acme/upper:1.0.0"
        );
        assert!(RegistryTarget::parse("").is_err());
        assert!(RegistryTarget::parse("host/UPPER").is_err());
        assert!(n.reference("Bad Name", "1").is_err());
    }

    #[test]
    fn loopback_hosts_are_recognized() {
        assert!(is_loopback_host("127.0.0.1:5000"));
        assert!(is_loopback_host("localhost"));
        assert!(is_loopback_host("[::1]:5000"));
        assert!(!is_loopback_host("10.0.0.1:5000"));
        assert!(!is_loopback_host("registry.example.com"));
    }
}
