//! The contract the runtime itself implements: the canonical WIT under
//! `wit/`, compiled into the binary, parsed once. Components are checked
//! against it (version rules and every function and type they import).

use std::sync::OnceLock;
use wit_parser::{Resolve, SourceMap};

const PACKAGES: &[&[(&str, &str)]] = &[
    &[
        (
            "wit/streaming/types.wit",
            include_str!("../../../wit/streaming/types.wit"),
        ),
        (
            "wit/streaming/buffer-allocator.wit",
            include_str!("../../../wit/streaming/buffer-allocator.wit"),
        ),
        (
            "wit/streaming/lifecycle.wit",
            include_str!("../../../wit/streaming/lifecycle.wit"),
        ),
        (
            "wit/streaming/processor.wit",
            include_str!("../../../wit/streaming/processor.wit"),
        ),
        (
            "wit/streaming/sink.wit",
            include_str!("../../../wit/streaming/sink.wit"),
        ),
        (
            "wit/streaming/source.wit",
            include_str!("../../../wit/streaming/source.wit"),
        ),
        (
            "wit/streaming/worlds.wit",
            include_str!("../../../wit/streaming/worlds.wit"),
        ),
    ],
    &[(
        "wit/resources/buffer-ops.wit",
        include_str!("../../../wit/resources/buffer-ops.wit"),
    )],
    &[
        (
            "wit/filtering/filter.wit",
            include_str!("../../../wit/filtering/filter.wit"),
        ),
        (
            "wit/filtering/router.wit",
            include_str!("../../../wit/filtering/router.wit"),
        ),
        (
            "wit/filtering/worlds.wit",
            include_str!("../../../wit/filtering/worlds.wit"),
        ),
    ],
    &[
        (
            "wit/aggregation/aggregator.wit",
            include_str!("../../../wit/aggregation/aggregator.wit"),
        ),
        (
            "wit/aggregation/worlds.wit",
            include_str!("../../../wit/aggregation/worlds.wit"),
        ),
    ],
    &[(
        "wit/capabilities/capabilities.wit",
        include_str!("../../../wit/capabilities/capabilities.wit"),
    )],
    &[
        (
            "wit/batching/batch.wit",
            include_str!("../../../wit/batching/batch.wit"),
        ),
        (
            "wit/batching/worlds.wit",
            include_str!("../../../wit/batching/worlds.wit"),
        ),
    ],
];

/// The runtime's canonical contract (`None` only if the WIT compiled into
/// the binary is broken, which a unit test rules out).
pub fn host_contract() -> Option<&'static Resolve> {
    static HOST: OnceLock<Option<Resolve>> = OnceLock::new();
    HOST.get_or_init(|| {
        let mut resolve = Resolve::default();
        for package in PACKAGES {
            let mut map = SourceMap::default();
            for (path, text) in *package {
                map.push_str(path, *text);
            }
            let group = map.parse().ok()?;
            resolve.push_group(group).ok()?;
        }
        Some(resolve)
    })
    .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_wit_parses() {
        let resolve = host_contract().expect("canonical WIT");
        let names: Vec<String> = resolve
            .packages
            .iter()
            .map(|(_, p)| p.name.to_string())
            .collect();
        assert!(
            names.contains(&"torvyn:streaming@0.1.0".to_string()),
            "{names:?}"
        );
        assert!(
            names.contains(&"torvyn:aggregation@0.1.0".to_string()),
            "{names:?}"
        );
        assert!(
            names.contains(&"torvyn:batching@0.1.0".to_string()),
            "{names:?}"
        );
    }
}
