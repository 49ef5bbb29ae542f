//! [`InterfaceRef`]: one imported or exported interface of a world, named
//! the way WIT writes it (`wasi:filesystem/preopens@0.2.3`).

use semver::Version;
use std::fmt;
use wit_parser::{InterfaceId, Resolve};

/// A fully qualified interface name with its package version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InterfaceRef {
    /// `wasi`, `torvyn`, …
    pub namespace: String,
    /// `filesystem`, `streaming`, …
    pub package: String,
    /// `preopens`, `types`, …
    pub interface: String,
    /// The package version, when the package is versioned.
    pub version: Option<Version>,
}

impl InterfaceRef {
    /// The reference of interface `id` in `resolve`; `None` for an
    /// anonymous (inline) interface, which belongs to no package.
    pub fn of(resolve: &Resolve, id: InterfaceId) -> Option<Self> {
        let iface = &resolve.interfaces[id];
        let name = iface.name.as_ref()?;
        let package = &resolve.packages[iface.package?].name;
        Some(InterfaceRef {
            namespace: package.namespace.clone(),
            package: package.name.clone(),
            interface: name.clone(),
            version: package.version.clone(),
        })
    }

    /// Parses `ns:pkg/iface` or `ns:pkg/iface@1.2.3`.
    pub fn parse(text: &str) -> Option<Self> {
        let (name, version) = match text.split_once('@') {
            Some((name, v)) => (name, Some(Version::parse(v).ok()?)),
            None => (text, None),
        };
        let (namespace, rest) = name.split_once(':')?;
        let (package, interface) = rest.split_once('/')?;
        if [namespace, package, interface].iter().any(|s| s.is_empty()) {
            return None;
        }
        Some(InterfaceRef {
            namespace: namespace.into(),
            package: package.into(),
            interface: interface.into(),
            version,
        })
    }

    /// `ns:pkg/iface`, without the version.
    pub fn unversioned(&self) -> String {
        format!("{}:{}/{}", self.namespace, self.package, self.interface)
    }

    /// `ns:pkg`, without the version.
    pub fn package_name(&self) -> String {
        format!("{}:{}", self.namespace, self.package)
    }
}

impl fmt::Display for InterfaceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.unversioned())?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_and_without_version() {
        let r = InterfaceRef::parse("wasi:filesystem/preopens@0.2.3").unwrap();
        assert_eq!(r.unversioned(), "wasi:filesystem/preopens");
        assert_eq!(r.version, Some(Version::new(0, 2, 3)));
        assert_eq!(r.to_string(), "wasi:filesystem/preopens@0.2.3");
        let r = InterfaceRef::parse("torvyn:streaming/types").unwrap();
        assert_eq!(r.package_name(), "torvyn:streaming");
        assert!(InterfaceRef::parse("nonsense").is_none());
        assert!(InterfaceRef::parse("a:/b").is_none());
    }
}
