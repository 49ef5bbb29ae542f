//! JSON Schemas (draft 2020-12) of Torvyn.toml, derived with `schemars`
//! from the configuration types: each key's type, doc comment, default
//! and bounds are written once, on its field. The loader compiles the
//! same schema into the shape it checks layers against (see
//! [`schema`](super::schema)). The checked-in copies live in
//! `config-schemas/`; a test fails when they are stale (regenerate with
//! `TORVYN_BLESS_SCHEMAS=1 cargo test -p torvyn-runtime --lib config`).
//!
//! The derived schema describes the canonical form of each key; its
//! extension keywords name the other spellings the spec uses. The
//! published documents spell those out in standard keywords too, so that
//! editors accept them: an alias becomes a property of its own, and
//! `x-single-table` / `x-keyed-by` arrays accept their table forms.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value as Json};

use super::manifest::Manifest;
use super::schema::COMPONENT_SECTIONS;

/// The derived schema of a whole Torvyn.toml, as `schemars` gives it
/// (plus the upper bound of `u32` keys, which it leaves out).
pub(crate) fn manifest_schema() -> Json {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Manifest>()
        .to_value();
    bound_u32(&mut schema);
    schema
}

/// Adds `maximum` to every `uint32` schema that has none.
fn bound_u32(schema: &mut Json) {
    match schema {
        Json::Object(map) => {
            if map.get("format") == Some(&json!("uint32")) && !map.contains_key("maximum") {
                map.insert("maximum".into(), json!(u32::MAX));
            }
            map.values_mut().for_each(bound_u32);
        }
        Json::Array(items) => items.iter_mut().for_each(bound_u32),
        _ => {}
    }
}

/// `config-schemas/pipeline.schema.json`: every section of Torvyn.toml.
pub fn pipeline_schema() -> String {
    document(
        "Torvyn pipeline manifest (Torvyn.toml)",
        "Project metadata, components, flows, and runtime, observability, security and registry settings.",
        None,
    )
}

/// `config-schemas/component.schema.json`: the sections of a component
/// manifest (`[torvyn]`, `[[component]]`, `[capabilities.*]`).
pub fn component_schema() -> String {
    document(
        "Torvyn component manifest (Torvyn.toml)",
        "Project metadata, the component declaration and the capabilities the component requires.",
        Some(COMPONENT_SECTIONS),
    )
}

/// The published document: the derived schema (restricted to `sections`
/// when given) with its other spellings spelled out.
fn document(title: &str, description: &str, sections: Option<&[&str]>) -> String {
    let mut schema = manifest_schema();
    if let Json::Object(root) = &mut schema {
        root.insert("title".into(), json!(title));
        root.insert("description".into(), json!(description));
        if let Some(sections) = sections {
            keep_sections(root, sections);
        }
    }
    spell_out(&mut schema);
    let mut out = serde_json::to_string_pretty(&schema).unwrap_or_default();
    out.push('\n');
    out
}

/// Keeps only `sections` of the root and the definitions they use.
fn keep_sections(root: &mut Map<String, Json>, sections: &[&str]) {
    if let Some(Json::Object(properties)) = root.get_mut("properties") {
        properties.retain(|name, _| sections.contains(&name.as_str()));
    }
    if let Some(Json::Array(required)) = root.get_mut("required") {
        required.retain(|name| name.as_str().is_some_and(|n| sections.contains(&n)));
    }
    let Some(Json::Object(defs)) = root.remove("$defs") else {
        return;
    };
    let mut used = BTreeSet::new();
    let mut pending = refs(root.get("properties").unwrap_or(&Json::Null));
    while let Some(name) = pending.pop() {
        if let (true, Some(def)) = (used.insert(name.clone()), defs.get(&name)) {
            pending.extend(refs(def));
        }
    }
    let defs: Map<String, Json> = defs
        .into_iter()
        .filter(|(name, _)| used.contains(name))
        .collect();
    root.insert("$defs".into(), Json::Object(defs));
}

/// The definitions `schema` refers to.
fn refs(schema: &Json) -> Vec<String> {
    match schema {
        Json::Object(map) => map
            .iter()
            .flat_map(|(key, value)| match (key.as_str(), value) {
                ("$ref", Json::String(r)) => r
                    .strip_prefix("#/$defs/")
                    .map(String::from)
                    .into_iter()
                    .collect(),
                _ => refs(value),
            })
            .collect(),
        Json::Array(items) => items.iter().flat_map(refs).collect(),
        _ => Vec::new(),
    }
}

/// Rewrites the extension keywords into standard ones, everywhere in
/// `schema`.
fn spell_out(schema: &mut Json) {
    match schema {
        Json::Object(map) => {
            if let Some(Json::Object(properties)) = map.get_mut("properties") {
                add_aliases(properties);
                for property in properties.values_mut() {
                    accept_table_forms(property);
                }
            }
            map.values_mut().for_each(spell_out);
        }
        Json::Array(items) => items.iter_mut().for_each(spell_out),
        _ => {}
    }
}

/// Each `x-aliases` name becomes a property with its key's schema.
fn add_aliases(properties: &mut Map<String, Json>) {
    let mut aliases = Vec::new();
    for (name, property) in properties.iter() {
        let names = property.get("x-aliases").and_then(Json::as_array);
        for alias in names.into_iter().flatten().filter_map(Json::as_str) {
            let mut schema = property.clone();
            if let Json::Object(map) = &mut schema {
                map.remove("x-aliases");
                map.remove("default");
                map.insert("description".into(), json!(format!("Alias of `{name}`.")));
            }
            aliases.push((alias.to_string(), schema));
        }
    }
    properties.extend(aliases);
}

/// An `x-single-table` array also accepts its item alone; an
/// `x-keyed-by` array also accepts a table of items keyed by name.
fn accept_table_forms(property: &mut Json) {
    let Json::Object(map) = property else {
        return;
    };
    let (Some(Json::String(kind)), Some(items)) = (map.get("type"), map.get("items").cloned())
    else {
        return;
    };
    if kind != "array" {
        return;
    }
    let table_form = if map.get("x-single-table") == Some(&json!(true)) {
        items
    } else if let Some(key) = map.get("x-keyed-by").and_then(Json::as_str) {
        json!({
            "type": "object",
            "description": format!("Keyed by {key}."),
            "additionalProperties": items,
        })
    } else {
        return;
    };
    let array = json!({ "type": "array", "items": map.remove("items") });
    map.remove("type");
    map.insert("anyOf".into(), json!([array, table_form]));
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

    fn schemas_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("config-schemas")
    }

    #[test]
    fn checked_in_schemas_are_current() {
        let bless = std::env::var_os("TORVYN_BLESS_SCHEMAS").is_some();
        for (file, generated) in [
            ("pipeline.schema.json", pipeline_schema()),
            ("component.schema.json", component_schema()),
        ] {
            let path = schemas_dir().join(file);
            if bless {
                std::fs::write(&path, &generated).unwrap();
            }
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                on_disk == generated,
                "{} is stale; regenerate with TORVYN_BLESS_SCHEMAS=1 cargo test -p torvyn-runtime --lib config",
                path.display()
            );
        }
    }

    #[test]
    fn schemas_are_valid_json_with_the_2020_12_dialect() {
        for text in [pipeline_schema(), component_schema()] {
            let json: Json = serde_json::from_str(&text).unwrap();
            assert_eq!(json["$schema"], DRAFT);
            assert_eq!(json["additionalProperties"], false);
            for name in refs(&json) {
                assert!(json["$defs"].get(&name).is_some(), "{name} is defined");
            }
        }
        let component: Json = serde_json::from_str(&component_schema()).unwrap();
        let sections: BTreeSet<&str> = component["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(sections, COMPONENT_SECTIONS.iter().copied().collect());
    }

    /// Defaults, bounds, enums and the other spellings reach the document.
    #[test]
    fn the_document_carries_defaults_bounds_and_spellings() {
        let json: Json = serde_json::from_str(&pipeline_schema()).unwrap();
        let defs = &json["$defs"];
        let backpressure = &defs["BackpressureConfig"]["properties"];
        assert_eq!(backpressure["default_queue_depth"]["default"], 64);
        assert_eq!(backpressure["default_queue_depth"]["minimum"], 1);
        assert_eq!(backpressure["backpressure_policy"]["default"], "block");
        assert!(backpressure["default_policy"].is_object());
        let runtime = &defs["RuntimeConfig"]["properties"];
        assert_eq!(runtime["max_memory_per_component"]["default"], "64MiB");
        let observability = &defs["ObservabilityConfig"]["properties"];
        assert!(observability["otlp_export_interval_s"].is_object());
        assert!(observability["tracing"]["properties"]["sample_rate"].is_object());
        let edges = &defs["FlowDef"]["properties"]["edges"];
        assert_eq!(edges["anyOf"].as_array().map(Vec::len), Some(2));
        let component = &json["properties"]["component"];
        assert_eq!(component["anyOf"].as_array().map(Vec::len), Some(2));
    }
}
