//! No key of the reference is parsed and ignored: every key of the
//! checked-in pipeline schema (`config-schemas/pipeline.schema.json`, which
//! the typed configuration derives) must be read somewhere past parsing —
//! by the assembly, the engine, the stage loop, the actors or the CLI — or
//! be refused by a semantic check (`semantic.rs`). A key only the
//! configuration's own type files mention is parsed and ignored, and fails
//! this test.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every property name of the schema, as `(dotted path, name)`, with the
/// alias names (`x-aliases`) of each property, and without the inline
/// `[observability.tracing]` spelling (the same keys again).
fn schema_keys() -> (Vec<(String, String)>, BTreeSet<String>) {
    let text = std::fs::read_to_string(repo_root().join("config-schemas/pipeline.schema.json"))
        .expect("the checked-in schema");
    let schema: Value = serde_json::from_str(&text).expect("JSON");
    let defs = schema["$defs"].clone();
    let mut keys = Vec::new();
    let mut aliases = BTreeSet::new();
    let mut seen = BTreeSet::new();
    fn walk(
        node: &Value,
        path: &str,
        defs: &Value,
        keys: &mut Vec<(String, String)>,
        aliases: &mut BTreeSet<String>,
        seen: &mut BTreeSet<(String, String)>,
    ) {
        if let Some(reference) = node["$ref"].as_str() {
            let name = reference.rsplit('/').next().unwrap_or_default();
            if seen.insert((name.to_string(), path.to_string())) {
                walk(&defs[name], path, defs, keys, aliases, seen);
            }
        }
        if node["x-inline"] == true {
            return;
        }
        if let Some(properties) = node["properties"].as_object() {
            for (name, property) in properties {
                if property["x-inline"] == true {
                    // Another spelling of the keys around it.
                    continue;
                }
                for alias in property["x-aliases"].as_array().into_iter().flatten() {
                    aliases.insert(alias.as_str().unwrap_or_default().to_string());
                }
                let dotted = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                keys.push((dotted.clone(), name.clone()));
                walk(property, &dotted, defs, keys, aliases, seen);
            }
        }
        for nested in ["additionalProperties", "items"] {
            if node[nested].is_object() {
                walk(
                    &node[nested],
                    &format!("{path}.*"),
                    defs,
                    keys,
                    aliases,
                    seen,
                );
            }
        }
        for combinator in ["allOf", "anyOf", "oneOf"] {
            for variant in node[combinator].as_array().into_iter().flatten() {
                walk(variant, path, defs, keys, aliases, seen);
            }
        }
    }
    walk(&schema, "", &defs, &mut keys, &mut aliases, &mut seen);
    (keys, aliases)
}

/// The Rust sources that act on configuration: everything but the
/// configuration's own type, parsing and layering files.
fn consumer_sources() -> String {
    fn collect(dir: &Path, out: &mut String) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let in_config = path.parent().is_some_and(|p| p.ends_with("src/config"));
                let checks = path
                    .file_name()
                    .is_some_and(|n| n == "semantic.rs" || n == "validate.rs");
                if !in_config || checks {
                    out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
                    out.push('\n');
                }
            }
        }
    }
    let mut text = String::new();
    for dir in ["runtime/src", "actors/src", "cli/src"] {
        collect(&repo_root().join(dir), &mut text);
    }
    text
}

/// Whether `source` names field `field` as a whole identifier: a read
/// (`def.field`) or a destructuring (`let Def { field, .. } = def`).
fn reads(source: &str, field: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    source.match_indices(field).any(|(at, _)| {
        let before = source[..at].chars().next_back();
        let after = source[at + field.len()..].chars().next();
        before.is_none_or(|c| !ident(c)) && after.is_none_or(|c| !ident(c))
    })
}

#[test]
fn every_key_of_the_schema_is_read_past_parsing_or_refused() {
    let (keys, aliases) = schema_keys();
    assert!(keys.len() > 80, "the schema walk found {} keys", keys.len());
    let sources = consumer_sources();
    let ignored: Vec<&String> = keys
        .iter()
        .filter(|(_, name)| !aliases.contains(name))
        .filter(|(_, name)| !reads(&sources, &name.replace('-', "_")))
        .map(|(dotted, _)| dotted)
        .collect();
    assert!(
        ignored.is_empty(),
        "parsed and never read outside the configuration's type files: {ignored:#?}"
    );
}

#[test]
fn the_usage_check_can_fail() {
    let sources = "let a = config.used_key; let b = config.used_key_longer;";
    assert!(reads(sources, "used_key"));
    assert!(!reads(sources, "never_read"));
    assert!(!reads("config.used_keys", "used_key"));
    assert!(reads("let Def { used_key, .. } = def;", "used_key"));
}
