//! JSON Schemas (draft 2020-12) for Torvyn.toml, generated from
//! [`schema`](super::schema) so they cannot drift from what the loader
//! accepts. The checked-in copies live in `config-schemas/`; a test
//! fails when they are stale (regenerate with
//! `TORVYN_BLESS_SCHEMAS=1 cargo test -p torvyn-runtime --lib config`).

use serde_json::{json, Value as Json};

use super::schema::{self, Field, Shape, TableShape, COMPONENT_SECTIONS};

const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Matches what [`parse_size`](super::units::parse_size) accepts.
const SIZE_PATTERN: &str = "^\\s*[0-9][0-9_]*(\\.[0-9]+)?\\s*([kKmMgGtT][iI]?)?[bB]?\\s*$";

/// JSON with object keys in insertion order (serde_json's map sorts).
enum J {
    Raw(Json),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn obj(pairs: Vec<(&str, J)>) -> J {
        J::Obj(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    fn raw(value: Json) -> J {
        J::Raw(value)
    }

    fn push(&mut self, key: &str, value: J) {
        if let J::Obj(pairs) = self {
            pairs.push((key.to_string(), value));
        }
    }

    fn prepend(&mut self, key: &str, value: J) {
        if let J::Obj(pairs) = self {
            pairs.insert(0, (key.to_string(), value));
        }
    }

    fn write(&self, out: &mut String, indent: usize) {
        let pad = |n: usize| "  ".repeat(n);
        match self {
            J::Raw(value) => out.push_str(&value.to_string()),
            J::Arr(items)
                if items
                    .iter()
                    .all(|i| matches!(i, J::Raw(v) if !v.is_object() && !v.is_array())) =>
            {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out, indent);
                }
                out.push(']');
            }
            J::Arr(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    item.write(out, indent + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push(']');
            }
            J::Obj(pairs) if pairs.is_empty() => out.push_str("{}"),
            J::Obj(pairs) => {
                out.push_str("{\n");
                for (i, (key, value)) in pairs.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    out.push_str(&Json::String(key.clone()).to_string());
                    out.push_str(": ");
                    value.write(out, indent + 1);
                    out.push_str(if i + 1 < pairs.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push('}');
            }
        }
    }
}

fn shape_json(shape: &Shape) -> J {
    match shape {
        Shape::Str { non_empty, pattern } => {
            let mut j = J::obj(vec![("type", J::raw(json!("string")))]);
            if *non_empty {
                j.push("minLength", J::raw(json!(1)));
            }
            if let Some(p) = pattern {
                j.push("pattern", J::raw(json!(p.regex())));
            }
            j
        }
        Shape::Int { min, max } => {
            let mut j = J::obj(vec![
                ("type", J::raw(json!("integer"))),
                ("minimum", J::raw(json!(min))),
            ]);
            if *max != i64::MAX {
                j.push("maximum", J::raw(json!(max)));
            }
            j
        }
        Shape::Float {
            min,
            max,
            exclusive,
        } => {
            let (lo, hi) = if *exclusive {
                ("exclusiveMinimum", "exclusiveMaximum")
            } else {
                ("minimum", "maximum")
            };
            J::obj(vec![
                ("type", J::raw(json!("number"))),
                (lo, J::raw(json!(min))),
                (hi, J::raw(json!(max))),
            ])
        }
        Shape::Bool => J::obj(vec![("type", J::raw(json!("boolean")))]),
        Shape::Enum(values) => J::obj(vec![
            ("type", J::raw(json!("string"))),
            (
                "enum",
                J::Arr(values.iter().map(|v| J::raw(json!(v))).collect()),
            ),
        ]),
        Shape::Size { min } => J::obj(vec![
            ("type", J::raw(json!(["string", "integer"]))),
            ("pattern", J::raw(json!(SIZE_PATTERN))),
            ("minimum", J::raw(json!(min))),
        ]),
        Shape::StrList => J::obj(vec![
            ("type", J::raw(json!("array"))),
            ("items", J::obj(vec![("type", J::raw(json!("string")))])),
        ]),
        Shape::Table(table) => table_json(table, None),
        Shape::Map { value, key_kind } => J::obj(vec![
            ("type", J::raw(json!("object"))),
            (
                "description",
                J::raw(json!(format!("Keyed by {key_kind} name."))),
            ),
            ("additionalProperties", shape_json(value)),
        ]),
        Shape::List {
            item,
            single_table,
            keyed_by,
        } => {
            let array = J::obj(vec![
                ("type", J::raw(json!("array"))),
                ("items", shape_json(item)),
            ]);
            match (keyed_by, item.as_ref()) {
                (Some(key), Shape::Table(table)) => J::obj(vec![(
                    "anyOf",
                    J::Arr(vec![
                        array,
                        J::obj(vec![
                            ("type", J::raw(json!("object"))),
                            ("description", J::raw(json!(format!("Keyed by {key}.")))),
                            ("additionalProperties", table_json(table, Some(*key))),
                        ]),
                    ]),
                )]),
                _ if *single_table => {
                    J::obj(vec![("anyOf", J::Arr(vec![array, shape_json(item)]))])
                }
                _ => array,
            }
        }
    }
}

fn field_json(field: &Field, alias_of: Option<&str>) -> J {
    let mut j = shape_json(&field.shape);
    let doc = match alias_of {
        Some(name) => format!("Alias of `{name}`."),
        None => field.doc.to_string(),
    };
    j.prepend("description", J::raw(json!(doc)));
    if let Some(default) = &field.default {
        j.push("default", J::raw(default.clone()));
    }
    j
}

fn table_json(table: &TableShape, without: Option<&str>) -> J {
    table_json_of(table.fields.iter().filter(|f| Some(f.name) != without))
}

fn table_json_of<'a>(fields: impl Iterator<Item = &'a Field> + Clone) -> J {
    let mut properties = Vec::new();
    for field in fields.clone() {
        properties.push((field.name.to_string(), field_json(field, None)));
        for alias in field.aliases {
            properties.push((alias.to_string(), field_json(field, Some(field.name))));
        }
    }
    let required: Vec<J> = fields
        .filter(|f| f.required)
        .map(|f| J::raw(json!(f.name)))
        .collect();
    let mut j = J::obj(vec![
        ("type", J::raw(json!("object"))),
        ("additionalProperties", J::raw(json!(false))),
        ("properties", J::Obj(properties)),
    ]);
    if !required.is_empty() {
        j.push("required", J::Arr(required));
    }
    j
}

fn document<'a>(
    title: &str,
    description: &str,
    fields: impl Iterator<Item = &'a Field> + Clone,
) -> String {
    let mut j = table_json_of(fields);
    j.prepend("description", J::raw(json!(description)));
    j.prepend("title", J::raw(json!(title)));
    j.prepend("$schema", J::raw(json!(DRAFT)));
    let mut out = String::new();
    j.write(&mut out, 0);
    out.push('\n');
    out
}

/// `config-schemas/pipeline.schema.json`: every section of Torvyn.toml.
pub fn pipeline_schema() -> String {
    document(
        "Torvyn pipeline manifest (Torvyn.toml)",
        "Project metadata, components, flows, and runtime, observability, security and registry settings.",
        schema::manifest().fields.iter(),
    )
}

/// `config-schemas/component.schema.json`: the sections of a component
/// manifest (`[torvyn]`, `[[component]]`, `[capabilities.*]`).
pub fn component_schema() -> String {
    document(
        "Torvyn component manifest (Torvyn.toml)",
        "Project metadata, the component declaration and the capabilities the component requires.",
        schema::manifest()
            .fields
            .iter()
            .filter(|f| COMPONENT_SECTIONS.contains(&f.name)),
    )
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
    use serde::Serialize;

    use super::*;
    use crate::config::*;

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

    /// The field names serde uses for `T` (from `deserialize_struct`).
    fn serde_fields<T: DeserializeOwned>() -> &'static [&'static str] {
        struct Probe<'a>(&'a Cell<&'static [&'static str]>);
        impl<'de> Deserializer<'de> for Probe<'_> {
            type Error = de::value::Error;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
                Err(de::Error::custom("probe"))
            }
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Self::Error> {
                self.0.set(fields);
                Err(de::Error::custom("probe"))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
                option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
            }
        }
        let cell = Cell::new(&[][..]);
        let _ = T::deserialize(Probe(&cell));
        cell.get()
    }

    /// Follows `path` in a JSON schema: a name steps into `properties`,
    /// `*` into `additionalProperties`, `[]` into array `items`; `anyOf`
    /// takes its first alternative.
    fn resolve<'a>(mut json: &'a Json, path: &[&str]) -> &'a Json {
        for step in path {
            if let Some(first) = json.get("anyOf").and_then(|a| a.get(0)) {
                json = first;
            }
            json = match *step {
                "*" => &json["additionalProperties"],
                "[]" => &json["items"],
                name => &json["properties"][name],
            };
        }
        if let Some(first) = json.get("anyOf").and_then(|a| a.get(0)) {
            json = first;
        }
        if json.get("type") == Some(&json!("array")) {
            json = &json["items"];
        }
        json
    }

    /// The Rust-side table at the same path.
    fn table_at(path: &[&str]) -> &'static TableShape {
        let mut shape_table = schema::manifest();
        let mut shape: Option<&Shape> = None;
        for step in path {
            let next = match (step, shape) {
                (&"*", Some(Shape::Map { value, .. })) => value.as_ref(),
                (&"[]", Some(Shape::List { item, .. })) => item.as_ref(),
                (name, _) => {
                    &shape_table
                        .field(name)
                        .unwrap_or_else(|| panic!("no `{name}`"))
                        .shape
                }
            };
            if let Shape::Table(t) = next {
                shape_table = t;
            }
            shape = Some(next);
        }
        if let Some(Shape::List { item, .. }) = shape {
            if let Shape::Table(t) = item.as_ref() {
                return t;
            }
        }
        shape_table
    }

    fn p(path: &'static [&'static str]) -> &'static [&'static str] {
        path
    }

    fn structs() -> Vec<(&'static [&'static str], &'static [&'static str])> {
        vec![
            (p(&[]), serde_fields::<Manifest>()),
            (p(&["torvyn"]), serde_fields::<ProjectMeta>()),
            (p(&["component"]), serde_fields::<ComponentDecl>()),
            (p(&["flow", "*"]), serde_fields::<FlowDef>()),
            (p(&["flow", "*", "nodes", "*"]), serde_fields::<NodeDef>()),
            (p(&["flow", "*", "edges"]), serde_fields::<EdgeDef>()),
            (
                &["flow", "*", "edges", "[]", "from"],
                serde_fields::<Endpoint>(),
            ),
            (
                &["flow", "*", "edges", "[]", "to"],
                serde_fields::<Endpoint>(),
            ),
            (
                &["flow", "*", "edges", "[]", "backpressure"],
                serde_fields::<StreamBackpressure>(),
            ),
            (p(&["runtime"]), serde_fields::<RuntimeConfig>()),
            (
                p(&["runtime", "backpressure"]),
                serde_fields::<BackpressureConfig>(),
            ),
            (p(&["runtime", "pools"]), serde_fields::<PoolConfig>()),
            (p(&["observability"]), serde_fields::<ObservabilityConfig>()),
            (p(&["security"]), serde_fields::<SecurityConfig>()),
            (
                p(&["security", "grants", "*"]),
                serde_fields::<CapabilityGrant>(),
            ),
            (p(&["registry"]), serde_fields::<RegistryConfig>()),
            (p(&["capabilities"]), serde_fields::<CapabilitiesConfig>()),
            (
                p(&["capabilities", "torvyn"]),
                serde_fields::<TorvynCapabilities>(),
            ),
        ]
    }

    #[test]
    fn every_serde_field_is_in_the_schema_and_nothing_else() {
        let pipeline: Json = serde_json::from_str(&pipeline_schema()).unwrap();
        let on_disk: Json = serde_json::from_str(
            &std::fs::read_to_string(schemas_dir().join("pipeline.schema.json"))
                .unwrap_or_default(),
        )
        .unwrap_or(Json::Null);
        for (path, fields) in structs() {
            assert!(!fields.is_empty(), "no serde fields found for {path:?}");
            let serde: BTreeSet<&str> = fields.iter().copied().collect();
            let table = table_at(path);
            let mut expected: BTreeSet<&str> = serde.clone();
            for field in &table.fields {
                expected.extend(field.aliases.iter().copied());
                if field.inline {
                    expected.insert(field.name);
                }
            }
            let rust: BTreeSet<&str> = table
                .fields
                .iter()
                .filter(|f| !f.inline)
                .flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()))
                .collect();
            assert_eq!(
                rust, serde,
                "schema.rs and the serde struct differ at {path:?}"
            );
            for json in [&pipeline, &on_disk] {
                let props = resolve(json, path)["properties"]
                    .as_object()
                    .unwrap_or_else(|| panic!("no properties at {path:?}"));
                let in_json: BTreeSet<&str> = props.keys().map(String::as_str).collect();
                assert_eq!(
                    in_json, expected,
                    "the JSON schema and the serde struct differ at {path:?}"
                );
            }
        }
        let component: Json = serde_json::from_str(&component_schema()).unwrap();
        for (path, fields) in structs()
            .into_iter()
            .filter(|(p, _)| p.first().is_some_and(|s| COMPONENT_SECTIONS.contains(s)))
        {
            let props = resolve(&component, path)["properties"].as_object().unwrap();
            for field in fields {
                assert!(
                    props.contains_key(*field),
                    "component schema lacks {path:?}.{field}"
                );
            }
        }
    }

    /// A JSON object with just the required fields of `table`, filled
    /// with valid placeholder values.
    fn minimal(table: &TableShape) -> Json {
        let mut object = serde_json::Map::new();
        for field in table.fields.iter().filter(|f| f.required) {
            let value = match &field.shape {
                Shape::Table(inner) => minimal(inner),
                Shape::Str {
                    pattern: Some(schema::Pattern::SemVer),
                    ..
                } => json!("0.1.0"),
                _ => json!("x"),
            };
            object.insert(field.name.to_string(), value);
        }
        Json::Object(object)
    }

    /// `T` deserialized from the minimal object must serialize every
    /// schema default, and nothing for optional fields without one.
    fn check_defaults<T: DeserializeOwned + Serialize>(path: &[&str]) {
        let table = table_at(path);
        let value: T = serde_json::from_value(minimal(table)).unwrap();
        let json = serde_json::to_value(&value).unwrap();
        for field in table.fields.iter().filter(|f| !f.required && !f.inline) {
            let actual = json.get(field.name);
            match (&field.default, &field.shape) {
                (Some(default), _) => {
                    assert_eq!(actual, Some(default), "default of {path:?}.{}", field.name)
                }
                (None, Shape::Table(_)) => assert!(actual.is_none_or(Json::is_object)),
                (None, _) => assert_eq!(
                    actual, None,
                    "{path:?}.{} should have no default",
                    field.name
                ),
            }
        }
    }

    #[test]
    fn schema_defaults_are_the_structs_defaults() {
        check_defaults::<ProjectMeta>(&["torvyn"]);
        check_defaults::<ComponentDecl>(&["component"]);
        check_defaults::<FlowDef>(&["flow", "*"]);
        check_defaults::<NodeDef>(&["flow", "*", "nodes", "*"]);
        check_defaults::<EdgeDef>(&["flow", "*", "edges"]);
        check_defaults::<StreamBackpressure>(&["flow", "*", "edges", "[]", "backpressure"]);
        check_defaults::<RuntimeConfig>(&["runtime"]);
        check_defaults::<BackpressureConfig>(&["runtime", "backpressure"]);
        check_defaults::<PoolConfig>(&["runtime", "pools"]);
        check_defaults::<ObservabilityConfig>(&["observability"]);
        check_defaults::<SecurityConfig>(&["security"]);
        check_defaults::<CapabilityGrant>(&["security", "grants", "*"]);
        check_defaults::<RegistryConfig>(&["registry"]);
        check_defaults::<CapabilitiesConfig>(&["capabilities"]);
        check_defaults::<TorvynCapabilities>(&["capabilities", "torvyn"]);
    }
}
