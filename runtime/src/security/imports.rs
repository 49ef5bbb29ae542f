//! Which capability a WIT import needs. A component that imports
//! `wasi:filesystem/preopens` needs filesystem read or write; one that
//! imports `wasi:sockets/tcp` needs TCP connect or listen; and so on.
//! Interfaces that give no authority (`wasi:io/*`, `wasi:cli/exit`,
//! `wasi:cli/stdin` (always empty), the terminal interfaces) and the
//! Torvyn stream interfaces need none.
//!
//! `wasi:cli/environment` needs none either: Rust's standard library on
//! `wasm32-wasip2` imports it into every component (for `std::env`), so
//! the import says nothing about intent. What it returns is the authority,
//! and that is empty unless `wasi:cli/environment` is granted.

use super::taxonomy::CapabilityKind;
use crate::interface_ref::InterfaceRef;

/// A capability an import needs: any one of `any_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportNeed {
    /// The import, as written in the component (`wasi:filesystem/preopens@0.2.3`).
    pub import: String,
    /// The kinds, any of which justifies it.
    pub any_of: &'static [CapabilityKind],
}

/// The capability `import` needs, if any.
pub fn need_of(import: &InterfaceRef) -> Option<ImportNeed> {
    use CapabilityKind::{
        CustomMetrics, Diagnostics, FilesystemRead, FilesystemWrite, FlowMetadata, HttpOutgoing,
        InsecureRandom, MonotonicClock, Random, Stderr, Stdout, TcpConnect, TcpListen, Udp,
        WallClock,
    };
    let any_of: &'static [CapabilityKind] =
        match (import.package_name().as_str(), import.interface.as_str()) {
            ("wasi:filesystem", _) => &[FilesystemRead, FilesystemWrite],
            ("wasi:sockets", "tcp" | "tcp-create-socket") => &[TcpConnect, TcpListen],
            ("wasi:sockets", "udp" | "udp-create-socket") => &[Udp],
            ("wasi:sockets", _) => &[TcpConnect, TcpListen, Udp],
            ("wasi:http", _) => &[HttpOutgoing],
            ("wasi:clocks", "wall-clock") => &[WallClock],
            ("wasi:clocks", "monotonic-clock") => &[MonotonicClock],
            ("wasi:clocks", _) => &[WallClock, MonotonicClock],
            ("wasi:random", "random") => &[Random],
            ("wasi:random", _) => &[InsecureRandom],
            ("wasi:cli", "stdout") => &[Stdout],
            ("wasi:cli", "stderr") => &[Stderr],
            ("torvyn:capabilities", "metrics") => &[CustomMetrics],
            ("torvyn:capabilities", "flow-metadata") => &[FlowMetadata],
            ("torvyn:capabilities", "diagnostics") => &[Diagnostics],
            _ => return None,
        };
    Some(ImportNeed {
        import: import.to_string(),
        any_of,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(text: &str) -> Option<&'static [CapabilityKind]> {
        need_of(&InterfaceRef::parse(text).unwrap()).map(|n| n.any_of)
    }

    #[test]
    fn authority_bearing_imports_need_capabilities() {
        use CapabilityKind::*;
        assert_eq!(
            need("wasi:filesystem/preopens@0.2.3"),
            Some(&[FilesystemRead, FilesystemWrite][..])
        );
        assert_eq!(need("wasi:clocks/wall-clock@0.2.0"), Some(&[WallClock][..]));
        assert_eq!(
            need("wasi:random/insecure-seed@0.2.0"),
            Some(&[InsecureRandom][..])
        );
        assert_eq!(
            need("wasi:sockets/tcp@0.2.0"),
            Some(&[TcpConnect, TcpListen][..])
        );
        assert_eq!(
            need("torvyn:capabilities/metrics@0.1.0"),
            Some(&[CustomMetrics][..])
        );
        assert_eq!(
            need("torvyn:capabilities/flow-metadata@0.1.0"),
            Some(&[FlowMetadata][..])
        );
    }

    #[test]
    fn plumbing_and_stream_imports_need_nothing() {
        assert_eq!(need("wasi:io/streams@0.2.0"), None);
        assert_eq!(need("wasi:cli/exit@0.2.0"), None);
        assert_eq!(need("wasi:cli/stdin@0.2.0"), None);
        assert_eq!(need("wasi:cli/environment@0.2.6"), None);
        assert_eq!(need("torvyn:streaming/buffer-allocator@0.1.0"), None);
    }
}
