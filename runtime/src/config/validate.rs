//! Checks a merged configuration tree against the schema: unknown keys
//! (E0701, with the nearest valid name), wrong types (E0700), values out
//! of range or not in the allowed set, and missing required keys (E0702).
//! Runs before serde so that every error carries its origin.

use super::error::ConfigError;
use super::schema::{self, Shape, TableShape};
use super::suggest::nearest;
use super::tree::{KeyPath, Kind, Node};
use super::units::parse_size;

/// Checks a whole manifest-shaped tree.
pub(crate) fn check_manifest(root: &Node) -> Result<(), ConfigError> {
    check_table(root, schema::manifest(), &KeyPath::default())
}

/// Checks `node` against `shape`.
pub(crate) fn check(node: &Node, shape: &Shape, path: &KeyPath) -> Result<(), ConfigError> {
    match shape {
        Shape::Table(table) => check_table(node, table, path),
        Shape::Map { value, .. } => {
            let entries = node
                .entries()
                .ok_or_else(|| wrong_type(node, shape, path))?;
            gather(
                entries
                    .iter()
                    .map(|e| check(&e.value, value, &path.key(&e.key))),
            )
        }
        Shape::List { item, .. } => match &node.kind {
            Kind::Array(items) => gather(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, n)| check(n, item, &path.index(i))),
            ),
            _ => Err(wrong_type(node, shape, path)),
        },
        Shape::Str { non_empty, pattern } => {
            let Kind::Str(s) = &node.kind else {
                return Err(wrong_type(node, shape, path));
            };
            if *non_empty && s.trim().is_empty() {
                return Err(invalid(node, path, "it must not be empty".into(), None));
            }
            match pattern {
                Some(p) if !p.matches(s) => Err(invalid(
                    node,
                    path,
                    format!("`{s}` is not {}", p.describe()),
                    None,
                )),
                _ => Ok(()),
            }
        }
        Shape::Int { min, max } => {
            let Kind::Int(i) = node.kind else {
                return Err(wrong_type(node, shape, path));
            };
            if (*min..=*max).contains(&i) {
                return Ok(());
            }
            let reason = if i < *min {
                format!("it must be at least {min}, not {i}")
            } else {
                format!("it must be at most {max}, not {i}")
            };
            let hint = if *min == 0 && path.to_string().ends_with("fuel_per_invocation") {
                "use 0 for unlimited fuel, or a positive budget such as 1000000".to_string()
            } else if *max == i64::MAX {
                format!("use an integer of at least {min}")
            } else {
                format!("use an integer from {min} to {max}")
            };
            Err(invalid(node, path, reason, Some(hint)))
        }
        Shape::Float {
            min,
            max,
            exclusive,
        } => {
            let x = match node.kind {
                Kind::Float(x) => x,
                // Integers are accepted where a float is expected (`ratio = 1`),
                // as serde would; the conversion is exact for the small values
                // that can be in range.
                Kind::Int(i) => i as f64,
                _ => return Err(wrong_type(node, shape, path)),
            };
            let (inside, range) = if *exclusive {
                (
                    x > *min && x < *max,
                    format!("greater than {min} and less than {max}"),
                )
            } else {
                (x >= *min && x <= *max, format!("from {min} to {max}"))
            };
            if inside {
                return Ok(());
            }
            Err(invalid(
                node,
                path,
                format!("it must be {range}, not {x}"),
                Some(format!("use a number {range}")),
            ))
        }
        Shape::Bool => match node.kind {
            Kind::Bool(_) => Ok(()),
            _ => Err(wrong_type(node, shape, path)),
        },
        Shape::Enum(allowed) => {
            let Kind::Str(s) = &node.kind else {
                return Err(wrong_type(node, shape, path));
            };
            if allowed.iter().any(|a| a == s) {
                return Ok(());
            }
            let hint = match nearest(s, allowed.iter().map(String::as_str)) {
                Some(name) => format!("did you mean `{name}`?"),
                None => format!("use one of: {}", allowed.join(", ")),
            };
            Err(invalid(
                node,
                path,
                format!("`{s}` is not one of: {}", allowed.join(", ")),
                Some(hint),
            ))
        }
        Shape::Size { min } => {
            let bytes = match &node.kind {
                Kind::Str(s) => parse_size(s).map_err(|e| {
                    invalid(
                        node,
                        path,
                        e.reason,
                        Some("write a size like \"64MiB\", \"512KiB\" or \"1GiB\"".into()),
                    )
                })?,
                Kind::Int(i) => u64::try_from(*i)
                    .map_err(|_| invalid(node, path, "sizes cannot be negative".into(), None))?,
                _ => return Err(wrong_type(node, shape, path)),
            };
            if bytes < *min {
                return Err(invalid(
                    node,
                    path,
                    format!("the size must be at least {min} byte(s)"),
                    None,
                ));
            }
            Ok(())
        }
        Shape::Any => Ok(()),
        Shape::StrList => match &node.kind {
            Kind::Array(items) => {
                gather(items.iter().enumerate().map(|(i, item)| match item.kind {
                    Kind::Str(_) => Ok(()),
                    _ => Err(ConfigError::InvalidType {
                        field: path.index(i).to_string(),
                        expected: "string".into(),
                        found: item.type_name().into(),
                        origin: item.origin.clone(),
                    }),
                }))
            }
            _ => Err(wrong_type(node, shape, path)),
        },
    }
}

fn check_table(node: &Node, table: &TableShape, path: &KeyPath) -> Result<(), ConfigError> {
    let Some(entries) = node.entries() else {
        return Err(ConfigError::InvalidType {
            field: path.to_string(),
            expected: "table".into(),
            found: node.type_name().into(),
            origin: node.origin.clone(),
        });
    };
    let mut results = Vec::new();
    for entry in entries {
        let Some(field) = table.field(&entry.key) else {
            let names = table.names();
            results.push(Err(ConfigError::UnknownField {
                field: entry.key.clone(),
                table: path.table_name(),
                origin: entry.key_origin.clone(),
                suggestion: nearest(&entry.key, names.iter().copied()),
                valid: names.iter().map(|n| n.to_string()).collect(),
            }));
            continue;
        };
        results.push(check(&entry.value, &field.shape, &path.key(&entry.key)));
    }
    for field in table.fields.iter().filter(|f| f.required) {
        if !entries.iter().any(|e| e.key == field.name) {
            let is_section = matches!(field.shape, Shape::Table(_));
            results.push(Err(ConfigError::MissingField {
                field: field.name.to_string(),
                table: if is_section && path.0.is_empty() {
                    "the manifest".into()
                } else {
                    path.table_name()
                },
                origin: node.origin.clone(),
            }));
        }
    }
    gather(results.into_iter())
}

/// Every error of `results`, flattened: none, one, or
/// [`ConfigError::Multiple`].
fn gather(results: impl Iterator<Item = Result<(), ConfigError>>) -> Result<(), ConfigError> {
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(()) => {}
            Err(ConfigError::Multiple(inner)) => errors.extend(inner),
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(ConfigError::Multiple(errors)),
    }
}

fn wrong_type(node: &Node, shape: &Shape, path: &KeyPath) -> ConfigError {
    ConfigError::InvalidType {
        field: path.to_string(),
        expected: shape.expected(),
        found: node.type_name().to_string(),
        origin: node.origin.clone(),
    }
}

fn invalid(node: &Node, path: &KeyPath, reason: String, hint: Option<String>) -> ConfigError {
    ConfigError::InvalidValue {
        field: path.to_string(),
        reason,
        origin: node.origin.clone(),
        hint,
    }
}
