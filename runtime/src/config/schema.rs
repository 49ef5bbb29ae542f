//! The shape of Torvyn.toml as the loader walks it: every section, key,
//! type, allowed value and bound, compiled from the JSON Schema that
//! `schemars` derives from the configuration types (see
//! [`jsonschema`](super::jsonschema)); nothing here is written by hand.
//!
//! The loader checks each layer against this shape (unknown fields,
//! types, ranges) before serde sees it, and the environment and
//! `--config` layers use it to find and coerce keys. Besides the standard
//! keywords (`properties`, `required`, `type`, `enum`/`const`,
//! `minimum`/`maximum`, `exclusiveMinimum`/`exclusiveMaximum`,
//! `minLength`, `pattern`, `items`, `additionalProperties`, `$ref`), the
//! compiler reads four extension keywords for the spec's other
//! spellings: `x-aliases` (other names of a key), `x-inline` (a sub-table
//! whose keys belong to its parent), `x-single-table` (a lone table means
//! a one-element array) and `x-keyed-by` (a table of named tables means
//! an array, each name becoming that field).

use std::sync::OnceLock;

use serde_json::{Map, Value as Json};

/// A string format checked beyond "is a string".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// Lowercase identifier: a letter, then letters, digits, `-`, `_`.
    Identifier,
    /// Semantic version `MAJOR.MINOR.PATCH[-pre][+build]`.
    SemVer,
}

impl Pattern {
    /// The regular expression of the JSON Schema's `pattern`.
    pub const fn regex(self) -> &'static str {
        match self {
            Pattern::Identifier => "^[a-z][a-z0-9_-]*$",
            Pattern::SemVer => {
                "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$"
            }
        }
    }

    /// The pattern whose regular expression is `regex`.
    fn from_regex(regex: &str) -> Option<Pattern> {
        [Pattern::Identifier, Pattern::SemVer]
            .into_iter()
            .find(|p| p.regex() == regex)
    }

    /// How messages name what the value should be.
    pub fn describe(self) -> &'static str {
        match self {
            Pattern::Identifier => {
                "a lowercase identifier (letters, digits, `-`, `_`; starting with a letter)"
            }
            Pattern::SemVer => "a semantic version such as \"0.1.0\"",
        }
    }

    /// Whether `s` matches (checked by hand: no regex engine needed).
    pub fn matches(self, s: &str) -> bool {
        match self {
            Pattern::Identifier => {
                s.starts_with(|c: char| c.is_ascii_lowercase())
                    && s.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
                    })
            }
            Pattern::SemVer => {
                let (core, build) = match s.split_once('+') {
                    Some((core, build)) => (core, Some(build)),
                    None => (s, None),
                };
                let (core, pre) = match core.split_once('-') {
                    Some((core, pre)) => (core, Some(pre)),
                    None => (core, None),
                };
                let ident = |t: &str| {
                    !t.is_empty()
                        && t.split('.').all(|p| {
                            !p.is_empty()
                                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        })
                };
                let numbers: Vec<&str> = core.split('.').collect();
                numbers.len() == 3
                    && numbers.iter().all(|n| {
                        !n.is_empty()
                            && n.chars().all(|c| c.is_ascii_digit())
                            && (n.len() == 1 || !n.starts_with('0'))
                    })
                    && pre.is_none_or(ident)
                    && build.is_none_or(ident)
            }
        }
    }
}

/// What a value must look like.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Str {
        non_empty: bool,
        pattern: Option<Pattern>,
    },
    Int {
        min: i64,
        max: i64,
    },
    /// A float (integers are accepted); bounds are exclusive when flagged.
    Float {
        min: f64,
        max: f64,
        exclusive: bool,
    },
    Bool,
    /// One of a closed set of strings.
    Enum(Vec<String>),
    /// A size string (`"64MiB"`) or a byte count.
    Size {
        min: u64,
    },
    StrList,
    Table(TableShape),
    /// A table with free keys (flow names, node names, grants).
    Map {
        value: Box<Shape>,
    },
    /// An array of tables. With `single_table`, a lone table (`[component]`)
    /// means a one-element array. With `keyed_by`, a table of named tables
    /// (`[flow.main.edges.<name>]`) is accepted; each key becomes that field.
    List {
        item: Box<Shape>,
        single_table: bool,
        keyed_by: Option<String>,
    },
    /// A schema the compiler does not model; serde alone checks it (a
    /// test keeps Torvyn.toml free of them).
    Any,
}

/// A table with a fixed set of keys.
#[derive(Debug, Clone, Default)]
pub(crate) struct TableShape {
    pub fields: Vec<Field>,
}

/// One key of a [`TableShape`].
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: String,
    pub shape: Shape,
    pub required: bool,
    /// Other spellings the spec uses for the same key (`x-aliases`).
    pub aliases: Vec<String>,
    /// The field is a sub-table whose keys belong to the parent
    /// (`[observability.tracing]` holds `[observability]` keys; `x-inline`).
    pub inline: bool,
}

impl TableShape {
    /// The field named `name` or one of its aliases.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.name == name || f.aliases.iter().any(|a| a == name))
    }

    pub fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.name.as_str()).collect()
    }
}

impl Shape {
    /// How the expected type is named in messages.
    pub fn expected(&self) -> String {
        match self {
            Shape::Str { .. } | Shape::Enum(_) => "string".into(),
            Shape::Int { .. } => "integer".into(),
            Shape::Float { .. } => "float".into(),
            Shape::Bool => "boolean".into(),
            Shape::Size { .. } => "size string such as \"64MiB\" (or a byte count)".into(),
            Shape::StrList => "array of strings".into(),
            Shape::Table(_) | Shape::Map { .. } => "table".into(),
            Shape::List { .. } => "array of tables".into(),
            Shape::Any => "value".into(),
        }
    }

    pub fn as_table(&self) -> Option<&TableShape> {
        match self {
            Shape::Table(table) => Some(table),
            _ => None,
        }
    }
}

/// The sections a global user config (and the environment) may set.
pub(crate) const GLOBAL_SECTIONS: &[&str] = &["runtime", "observability", "security", "registry"];

/// The sections of a component manifest (a subset of [`manifest`]).
pub(crate) const COMPONENT_SECTIONS: &[&str] = &["torvyn", "component", "capabilities"];

/// The whole Torvyn.toml, compiled once from the derived JSON Schema.
pub(crate) fn manifest() -> &'static TableShape {
    static SCHEMA: OnceLock<TableShape> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema = super::jsonschema::manifest_schema();
        let compiler = Compiler {
            defs: schema.get("$defs").and_then(Json::as_object),
        };
        compiler.table(&schema)
    })
}

/// Turns JSON Schema objects into [`Shape`]s, following `$ref`s into
/// `$defs`.
struct Compiler<'a> {
    defs: Option<&'a Map<String, Json>>,
}

impl<'a> Compiler<'a> {
    /// `schema`, or what its `$ref` points to.
    fn target(&self, schema: &'a Json) -> &'a Json {
        let name = schema
            .get("$ref")
            .and_then(Json::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"));
        match name.and_then(|name| self.defs?.get(name)) {
            Some(target) => self.target(target),
            None => schema,
        }
    }

    /// The schema of an `Option`'s value: TOML has no null, so an
    /// `anyOf` with a `null` alternative is its other alternative.
    fn non_null(&self, schema: &'a Json) -> &'a Json {
        let schema = self.target(schema);
        if let Some(alternatives) = schema.get("anyOf").and_then(Json::as_array) {
            let values: Vec<&Json> = alternatives
                .iter()
                .filter(|a| a.get("type").and_then(Json::as_str) != Some("null"))
                .collect();
            if let [value] = values[..] {
                return self.non_null(value);
            }
        }
        schema
    }

    fn table(&self, schema: &'a Json) -> TableShape {
        let schema = self.target(schema);
        let required = strings(schema.get("required"));
        let Some(properties) = schema.get("properties").and_then(Json::as_object) else {
            return TableShape::default();
        };
        let fields = properties
            .iter()
            .map(|(name, property)| Field {
                name: name.clone(),
                shape: self.shape(property),
                required: required.contains(name),
                aliases: strings(property.get("x-aliases")),
                inline: flag(property, "x-inline"),
            })
            .collect();
        TableShape { fields }
    }

    /// The shape of a property's schema (whose own keywords carry the
    /// array extensions).
    fn shape(&self, property: &'a Json) -> Shape {
        let schema = self.non_null(property);
        if let Some(values) = enum_values(schema) {
            return Shape::Enum(values);
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Json::String(t)) => vec![t.as_str()],
            Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        let types: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
        let int = |key: &str| schema.get(key).and_then(Json::as_f64).map(|x| x as i64);
        let float = |key: &str| schema.get(key).and_then(Json::as_f64);
        match types[..] {
            ["object"] if schema.get("properties").is_some() => Shape::Table(self.table(schema)),
            ["object"] => match schema.get("additionalProperties") {
                Some(value) if value.is_object() => Shape::Map {
                    value: Box::new(self.shape(value)),
                },
                _ => Shape::Any,
            },
            ["array"] => {
                let item = schema.get("items").map_or(Shape::Any, |i| self.shape(i));
                if matches!(item, Shape::Str { .. }) {
                    return Shape::StrList;
                }
                Shape::List {
                    item: Box::new(item),
                    single_table: flag(property, "x-single-table"),
                    keyed_by: property
                        .get("x-keyed-by")
                        .and_then(Json::as_str)
                        .map(String::from),
                }
            }
            ["integer"] => Shape::Int {
                min: int("minimum").unwrap_or(i64::MIN),
                max: int("maximum").unwrap_or(i64::MAX),
            },
            ["number"] => {
                let exclusive = float("exclusiveMinimum").or(float("exclusiveMaximum"));
                Shape::Float {
                    min: float("exclusiveMinimum")
                        .or(float("minimum"))
                        .unwrap_or(f64::MIN),
                    max: float("exclusiveMaximum")
                        .or(float("maximum"))
                        .unwrap_or(f64::MAX),
                    exclusive: exclusive.is_some(),
                }
            }
            ["boolean"] => Shape::Bool,
            ["string"] => Shape::Str {
                non_empty: schema.get("minLength").and_then(Json::as_u64) >= Some(1),
                pattern: schema
                    .get("pattern")
                    .and_then(Json::as_str)
                    .and_then(Pattern::from_regex),
            },
            ["string", "integer"] | ["integer", "string"] => Shape::Size {
                min: schema.get("minimum").and_then(Json::as_u64).unwrap_or(0),
            },
            _ => Shape::Any,
        }
    }
}

/// The strings of an `enum`, or of a `oneOf`/`anyOf` of `const`s (the
/// form `schemars` gives enums whose variants have doc comments).
fn enum_values(schema: &Json) -> Option<Vec<String>> {
    if let Some(values) = schema.get("enum").and_then(Json::as_array) {
        return values
            .iter()
            .map(|v| v.as_str().map(String::from))
            .collect();
    }
    let alternatives = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Json::as_array)?;
    let mut values = Vec::new();
    for alternative in alternatives {
        match alternative.get("const") {
            Some(Json::String(value)) => values.push(value.clone()),
            _ => values.extend(enum_values(alternative)?),
        }
    }
    Some(values)
}

fn strings(value: Option<&Json>) -> Vec<String> {
    value
        .and_then(Json::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn flag(schema: &Json, keyword: &str) -> bool {
    schema.get(keyword).and_then(Json::as_bool) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        for ok in ["0.1.0", "1.2.3-alpha.1", "10.20.30+build.5", "1.0.0-rc-1+x"] {
            assert!(Pattern::SemVer.matches(ok), "{ok}");
        }
        for bad in ["0.1", "01.1.0", "1.2.3.4", "v1.2.3", "1.2.3-", "1.2.x", ""] {
            assert!(!Pattern::SemVer.matches(bad), "{bad}");
        }
        for ok in ["hello-world", "my_transform", "a1"] {
            assert!(Pattern::Identifier.matches(ok), "{ok}");
        }
        for bad in ["Hello", "1abc", "-x", "", "a b", "a.b"] {
            assert!(!Pattern::Identifier.matches(bad), "{bad}");
        }
    }

    fn table_at(path: &[&str]) -> &'static TableShape {
        let mut table = manifest();
        for key in path {
            let shape = &table.field(key).unwrap().shape;
            table = match shape {
                Shape::Map { value, .. } => value.as_table(),
                Shape::List { item, .. } => item.as_table(),
                other => other.as_table(),
            }
            .unwrap();
        }
        table
    }

    #[test]
    fn aliases_resolve_to_their_field() {
        let bp = table_at(&["runtime", "backpressure"]);
        assert_eq!(
            bp.field("default_policy").unwrap().name,
            "backpressure_policy"
        );
        let flow = table_at(&["flow"]);
        assert_eq!(
            flow.field("default_policy").unwrap().name,
            "backpressure_policy"
        );
        let observability = table_at(&["observability"]);
        assert_eq!(
            observability.field("otlp_export_interval_s").unwrap().name,
            "otlp_metrics_interval_s"
        );
        assert!(observability.field("tracing").unwrap().inline);
    }

    #[test]
    fn global_and_component_sections_exist() {
        for name in GLOBAL_SECTIONS.iter().chain(COMPONENT_SECTIONS) {
            assert!(manifest().field(name).is_some(), "{name}");
        }
    }

    /// Every key of Torvyn.toml compiles to a shape the loader checks.
    #[test]
    fn every_key_has_a_known_shape() {
        fn walk(shape: &Shape, path: &str) {
            match shape {
                Shape::Any => panic!("`{path}` compiled to no known shape"),
                Shape::Table(table) => {
                    for field in &table.fields {
                        walk(&field.shape, &format!("{path}.{}", field.name));
                    }
                }
                Shape::Map { value } => walk(value, &format!("{path}.*")),
                Shape::List { item, .. } => walk(item, &format!("{path}[]")),
                _ => {}
            }
        }
        walk(&Shape::Table(manifest().clone()), "");
    }

    #[test]
    fn bounds_defaults_and_spellings_come_from_the_types() {
        let depth = &table_at(&["runtime", "backpressure"])
            .field("default_queue_depth")
            .unwrap()
            .shape;
        assert!(matches!(depth, Shape::Int { min: 1, max } if *max == i64::from(u32::MAX)));
        let ratio = &table_at(&["flow", "edges", "backpressure"])
            .field("low_watermark_ratio")
            .unwrap()
            .shape;
        assert!(matches!(
            ratio,
            Shape::Float {
                exclusive: true,
                ..
            }
        ));
        let name = &table_at(&["torvyn"]).field("name").unwrap();
        assert!(name.required);
        assert!(matches!(
            name.shape,
            Shape::Str {
                non_empty: true,
                pattern: Some(Pattern::Identifier)
            }
        ));
        let memory = &table_at(&["runtime"])
            .field("max_memory_per_component")
            .unwrap()
            .shape;
        assert!(matches!(memory, Shape::Size { min: 1 }));
        let policy = &table_at(&["runtime", "pools"])
            .field("exhaustion_policy")
            .unwrap()
            .shape;
        assert!(matches!(policy, Shape::Enum(v) if v == &["fallback-alloc", "error"]));
        assert!(matches!(
            &manifest().field("component").unwrap().shape,
            Shape::List {
                single_table: true,
                ..
            }
        ));
        assert!(matches!(
            &table_at(&["flow"]).field("edges").unwrap().shape,
            Shape::List { keyed_by: Some(key), .. } if key == "name"
        ));
    }
}
