//! Rewrites the alternative spellings the spec uses into one canonical
//! form, per layer and before layers are merged (so that, say, an
//! environment variable for `backpressure_policy` overrides a manifest
//! that wrote `default_policy`):
//!
//! - aliases: `[runtime.backpressure] default_policy` → `backpressure_policy`,
//!   `otlp_export_interval_s` → `otlp_metrics_interval_s`;
//! - `[observability.tracing]` keys move up into `[observability]`;
//! - a lone `[component]` table becomes a one-element `[[component]]`,
//!   or, in a component's own manifest (`[component]` with a `version`
//!   and no `[torvyn]`, as the security chapter writes it), `[torvyn]`;
//! - named edges `[flow.main.edges.<name>]` become `[[flow.main.edges]]`
//!   entries with `name = "<name>"`.

use super::error::ConfigError;
use super::schema::{Shape, TableShape};
use super::tree::{Entry, KeyPath, Kind, Node};

/// Normalizes one layer (a whole manifest-shaped tree) in place.
pub(crate) fn normalize_layer(root: &mut Node) -> Result<(), ConfigError> {
    component_metadata_to_torvyn(root);
    normalize_table(root, super::schema::manifest(), &KeyPath::default())
}

/// The security chapter writes a component's own manifest with its
/// metadata as `[component]` (`name`, `version`) where the configuration
/// reference writes `[torvyn]`: with no `[torvyn]`, a lone `[component]`
/// table that has a `version` (which a `[[component]]` declaration never
/// has) is the `[torvyn]` table, its `contract_version` the runtime's
/// current one when it names none.
fn component_metadata_to_torvyn(root: &mut Node) {
    let Kind::Table(entries) = &mut root.kind else {
        return;
    };
    if entries.iter().any(|e| e.key == "torvyn") {
        return;
    }
    let Some(entry) = entries.iter_mut().find(|e| {
        e.key == "component"
            && matches!(&e.value.kind, Kind::Table(fields) if fields.iter().any(|f| f.key == "version"))
    }) else {
        return;
    };
    entry.key = "torvyn".into();
    let origin = entry.value.origin.clone();
    if let Kind::Table(fields) = &mut entry.value.kind {
        if !fields.iter().any(|f| f.key == "contract_version") {
            fields.push(Entry {
                key: "contract_version".into(),
                key_origin: origin.clone(),
                value: Node::new(
                    Kind::Str(crate::contracts::version::CURRENT_CONTRACT.into()),
                    origin,
                ),
            });
        }
    }
}

/// Normalizes `node` (which should have `shape`) in place.
fn normalize(node: &mut Node, shape: &Shape, path: &KeyPath) -> Result<(), ConfigError> {
    match shape {
        Shape::Table(table) => normalize_table(node, table, path),
        Shape::Map { value, .. } => {
            if let Kind::Table(entries) = &mut node.kind {
                for entry in entries {
                    normalize(&mut entry.value, value, &path.key(&entry.key))?;
                }
            }
            Ok(())
        }
        Shape::List {
            item,
            single_table,
            keyed_by,
        } => {
            if matches!(node.kind, Kind::Table(_)) {
                if let Some(name_field) = keyed_by {
                    reject_single_item(node, item, path)?;
                    named_tables_to_array(node, name_field, path)?;
                } else if *single_table {
                    let single = node.clone();
                    node.kind = Kind::Array(vec![single]);
                }
            }
            if let Kind::Array(items) = &mut node.kind {
                for (index, item_node) in items.iter_mut().enumerate() {
                    normalize(item_node, item, &path.index(index))?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn normalize_table(node: &mut Node, table: &TableShape, path: &KeyPath) -> Result<(), ConfigError> {
    let Kind::Table(entries) = &mut node.kind else {
        return Ok(());
    };

    // Sub-tables whose keys belong to this table.
    for inline in table.fields.iter().filter(|f| f.inline) {
        let Some(position) = entries
            .iter()
            .position(|e| e.key == inline.name && matches!(e.value.kind, Kind::Table(_)))
        else {
            continue;
        };
        let moved = entries.remove(position);
        if let Kind::Table(inner) = moved.value.kind {
            for entry in inner {
                if entries.iter().any(|e| e.key == entry.key) {
                    return Err(ConfigError::InvalidValue {
                        field: path.key(&entry.key).to_string(),
                        reason: format!(
                            "it is set both in {} and in {}",
                            path.table_name(),
                            path.key(&inline.name).table_name()
                        ),
                        origin: entry.key_origin,
                        hint: Some(format!(
                            "keep only one of the two; [{path}.{}] is an alias of [{path}]",
                            inline.name
                        )),
                    });
                }
                entries.push(entry);
            }
        }
    }

    // Aliases.
    for index in 0..entries.len() {
        let Some(field) = table.field(&entries[index].key) else {
            continue;
        };
        if field.name == entries[index].key {
            continue;
        }
        if entries.iter().any(|e| e.key == field.name) {
            let alias = &entries[index];
            return Err(ConfigError::InvalidValue {
                field: path.key(&field.name).to_string(),
                reason: format!(
                    "it is set twice, as `{}` and as its alias `{}`",
                    field.name, alias.key
                ),
                origin: alias.key_origin.clone(),
                hint: Some(format!("remove `{}`", alias.key)),
            });
        }
        entries[index].key = field.name.to_string();
    }

    for entry in entries.iter_mut() {
        if let Some(field) = table.field(&entry.key) {
            normalize(&mut entry.value, &field.shape, &path.key(&entry.key))?;
        }
    }
    Ok(())
}

/// `[flow.main.edges]` holding `from`/`to` directly is one edge written
/// as a table, not a table of named edges: say so instead of reporting
/// an edge named `from`.
fn reject_single_item(node: &Node, item: &Shape, path: &KeyPath) -> Result<(), ConfigError> {
    let (Some(entries), Shape::Table(table)) = (node.entries(), item) else {
        return Ok(());
    };
    match entries.iter().find(|e| table.field(&e.key).is_some()) {
        Some(entry) => Err(ConfigError::InvalidType {
            field: path.to_string(),
            expected: format!(
                "array of tables ([[{path}]]) or table of named entries ([{path}.<name>])"
            ),
            found: format!("a single table with `{}`", entry.key),
            origin: node.origin.clone(),
        }),
        None => Ok(()),
    }
}

/// `{ a = {...}, b = {...} }` → `[{ name = "a", ... }, { name = "b", ... }]`.
fn named_tables_to_array(
    node: &mut Node,
    name_field: &str,
    path: &KeyPath,
) -> Result<(), ConfigError> {
    let Kind::Table(entries) = std::mem::replace(&mut node.kind, Kind::Array(Vec::new())) else {
        return Ok(());
    };
    let mut items = Vec::with_capacity(entries.len());
    for entry in entries {
        let mut value = entry.value;
        if let Kind::Table(fields) = &mut value.kind {
            if let Some(existing) = fields.iter().find(|e| e.key == name_field) {
                return Err(ConfigError::InvalidValue {
                    field: path.key(&entry.key).key(name_field).to_string(),
                    reason: format!(
                        "the entry is already named `{}` by its table key",
                        entry.key
                    ),
                    origin: existing.key_origin.clone(),
                    hint: Some(format!("remove `{name_field}`")),
                });
            }
            let name = Node::new(Kind::Str(entry.key.clone()), entry.key_origin.clone());
            fields.insert(
                0,
                Entry {
                    key: name_field.to_string(),
                    key_origin: entry.key_origin.clone(),
                    value: name,
                },
            );
        }
        items.push(value);
    }
    node.kind = Kind::Array(items);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn normalized(text: &str) -> Result<Node, ConfigError> {
        let mut node = Node::parse(text, Path::new("T.toml"))?;
        normalize_layer(&mut node)?;
        Ok(node)
    }

    fn keys(node: &Node) -> Vec<String> {
        node.entries()
            .unwrap()
            .iter()
            .map(|e| e.key.clone())
            .collect()
    }

    #[test]
    fn aliases_become_canonical_names() {
        let root = normalized("[runtime.backpressure]\ndefault_policy = \"drop-oldest\"\n[observability]\notlp_export_interval_s = 5\n").unwrap();
        assert_eq!(
            keys(root.lookup(&["runtime", "backpressure"]).unwrap()),
            ["backpressure_policy"]
        );
        assert_eq!(
            keys(root.get("observability").unwrap()),
            ["otlp_metrics_interval_s"]
        );
    }

    #[test]
    fn a_component_manifests_metadata_table_is_torvyn() {
        let root = normalized(
            "[component]\nname = \"my-transform\"\nversion = \"0.2.0\"\n[capabilities.required]\nwasi-filesystem-read = true\n",
        )
        .unwrap();
        assert_eq!(keys(&root), ["torvyn", "capabilities"]);
        assert_eq!(
            keys(root.get("torvyn").unwrap()),
            ["name", "version", "contract_version"]
        );
        // A one-component declaration (no version) stays a [[component]].
        let root = normalized("[torvyn]\nname = \"x\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n[component]\nname = \"x\"\npath = \".\"\n").unwrap();
        assert_eq!(keys(&root), ["torvyn", "component"]);
    }

    #[test]
    fn alias_and_name_together_is_an_error() {
        let err = normalized(
            "[runtime.backpressure]\nbackpressure_policy = \"block\"\ndefault_policy = \"error\"\n",
        )
        .unwrap_err();
        assert!(
            matches!(&err, ConfigError::InvalidValue { field, .. } if field == "runtime.backpressure.backpressure_policy"),
            "{err:?}"
        );
        assert_eq!(
            crate::error::Coded::location(&err).as_deref(),
            Some("T.toml:3:1")
        );
    }

    #[test]
    fn observability_tracing_moves_up() {
        let root = normalized("[observability]\nmetrics_enabled = true\n[observability.tracing]\nlevel = \"diagnostic\"\nsample_rate = 0.5\n").unwrap();
        assert_eq!(
            keys(root.get("observability").unwrap()),
            ["metrics_enabled", "level", "sample_rate"]
        );
        let err = normalized(
            "[observability]\nlevel = \"off\"\n[observability.tracing]\nlevel = \"diagnostic\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("observability.level"), "{err}");
    }

    #[test]
    fn single_component_table_becomes_an_array() {
        let root = normalized("[component]\nname = \"my-transform\"\npath = \".\"\n").unwrap();
        assert!(
            matches!(&root.get("component").unwrap().kind, Kind::Array(items) if items.len() == 1)
        );
    }

    #[test]
    fn a_single_edge_table_is_a_type_error() {
        let err = normalized(
            "[flow.main.edges]\nfrom = { node = \"a\", port = \"output\" }\nto = { node = \"b\", port = \"input\" }\n",
        )
        .unwrap_err();
        assert_eq!(
            crate::error::Coded::code(&err),
            crate::error::ErrorCode::InvalidFieldType
        );
        assert!(err.to_string().contains("[[flow.main.edges]]"), "{err}");
        assert_eq!(
            crate::error::Coded::location(&err).as_deref(),
            Some("T.toml:1:1")
        );
    }

    #[test]
    fn named_edges_become_an_array_with_names() {
        let root = normalized("[flow.main.edges.transform-to-sink]\nfrom = { node = \"t\", port = \"output\" }\nto = { node = \"s\", port = \"input\" }\n[flow.main.edges.transform-to-sink.backpressure]\nqueue_depth = 256\n").unwrap();
        let edge = root.lookup(&["flow", "main", "edges", "0"]).unwrap();
        assert_eq!(keys(edge), ["name", "from", "to", "backpressure"]);
        assert!(
            matches!(&edge.get("name").unwrap().kind, Kind::Str(s) if s == "transform-to-sink")
        );
    }
}
