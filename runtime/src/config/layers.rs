//! The configuration layers above and below the project manifest
//! (spec "Configuration Merging Rules", lowest precedence first):
//!
//! 1. built-in defaults (the typed structs' `Default`s);
//! 2. the global user config, `$TORVYN_HOME/config.toml` (default
//!    `~/.config/torvyn/config.toml`) — only `[runtime]`, `[observability]`,
//!    `[security]` and `[registry]` may appear there;
//! 3. the project manifest, `Torvyn.toml`;
//! 4. environment variables `TORVYN_<SECTION>_<KEY>`, e.g.
//!    `TORVYN_RUNTIME_WORKER_THREADS`, `TORVYN_RUNTIME_BACKPRESSURE_DEFAULT_QUEUE_DEPTH`;
//! 5. `--config key=value` overrides with dotted keys, e.g.
//!    `runtime.fuel_per_invocation=0`.
//!
//! Each layer becomes a located tree; trees are merged table by table.

use std::path::{Path, PathBuf};

use super::error::{ConfigError, Origin};
use super::normalize::normalize_layer;
use super::schema::{self, Field, Shape, TableShape, GLOBAL_SECTIONS};
use super::suggest::nearest;
use super::tree::{KeyPath, Kind, Node};

/// Where the layers around the project manifest come from. The
/// environment is passed in explicitly so that loading is a pure function
/// of its inputs (tests never touch the process environment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerSources {
    /// The global user config; a path that does not exist is skipped.
    pub user_config: Option<PathBuf>,
    /// Environment variables; only `TORVYN_RUNTIME_*`,
    /// `TORVYN_OBSERVABILITY_*`, `TORVYN_SECURITY_*` and `TORVYN_REGISTRY_*`
    /// are configuration (others, like `TORVYN_LOG`, are ignored here).
    /// Empty values are treated as unset.
    pub env: Vec<(String, String)>,
    /// `--config key=value` arguments, in command-line order (later wins).
    pub overrides: Vec<String>,
}

impl LayerSources {
    /// The sources of a real run: this process's environment, the user
    /// config it points to, and the given `--config` arguments.
    pub fn from_process(overrides: Vec<String>) -> Self {
        let env: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k.starts_with("TORVYN_") || k == "HOME")
            .collect();
        LayerSources {
            user_config: default_user_config_path(&env),
            env,
            overrides,
        }
    }
}

/// `$TORVYN_HOME/config.toml`, else `$HOME/.config/torvyn/config.toml`.
pub fn default_user_config_path(env: &[(String, String)]) -> Option<PathBuf> {
    let var = |name: &str| {
        env.iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    if let Some(home) = var("TORVYN_HOME") {
        return Some(Path::new(home).join("config.toml"));
    }
    var("HOME").map(|home| {
        Path::new(home)
            .join(".config")
            .join("torvyn")
            .join("config.toml")
    })
}

/// Reads and parses a file layer.
pub(crate) fn read_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ConfigError::ManifestNotFound {
            path: path.to_path_buf(),
        },
        _ => ConfigError::Unreadable {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// The global user config layer; `None` if the file does not exist.
pub(crate) fn user_layer(path: &Path) -> Result<Option<Node>, ConfigError> {
    if !path.exists() {
        return Ok(None);
    }
    let text = read_file(path)?;
    let mut root = Node::parse(&text, path)?;
    for entry in root.entries().unwrap_or_default() {
        if !GLOBAL_SECTIONS.contains(&entry.key.as_str()) {
            return Err(ConfigError::UnknownField {
                field: entry.key.clone(),
                table: "the user config (only [runtime], [observability], [security] and [registry] apply there)"
                    .to_string(),
                origin: entry.key_origin.clone(),
                suggestion: nearest(&entry.key, GLOBAL_SECTIONS.iter().copied()),
                valid: GLOBAL_SECTIONS.iter().map(|s| s.to_string()).collect(),
            });
        }
    }
    normalize_layer(&mut root)?;
    Ok(Some(root))
}

/// The environment layer.
pub(crate) fn env_layer(env: &[(String, String)]) -> Result<Node, ConfigError> {
    let mut root = Node::empty_table(Origin::Builtin);
    for (var, value) in env {
        let Some(rest) = var.strip_prefix("TORVYN_") else {
            continue;
        };
        let rest = rest.to_ascii_lowercase();
        let Some(section) = GLOBAL_SECTIONS
            .iter()
            .find(|s| rest.starts_with(&format!("{s}_")))
        else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let origin = Origin::Env { var: var.clone() };
        let table = section_shape(section);
        let key = &rest[section.len() + 1..];
        let Some((mut path, field)) = resolve_env_key(table, key) else {
            let valid = env_names(table, &format!("TORVYN_{}", section.to_ascii_uppercase()));
            return Err(ConfigError::UnknownField {
                field: var.clone(),
                table: format!("the environment (it maps to no key of [{section}])"),
                origin,
                suggestion: nearest(var, valid.iter().map(String::as_str)),
                valid,
            });
        };
        path.insert(0, section.to_string());
        let field_path = KeyPath(
            path.iter()
                .map(|k| super::tree::Seg::Key(k.clone()))
                .collect(),
        );
        let node = coerce(value, &field.shape, &origin, &field_path)?;
        root.insert_path(&path, node, &origin);
    }
    normalize_layer(&mut root)?;
    Ok(root)
}

fn section_shape(section: &str) -> &'static TableShape {
    static EMPTY: std::sync::OnceLock<TableShape> = std::sync::OnceLock::new();
    schema::manifest()
        .field(section)
        .and_then(|f| f.shape.as_table())
        .unwrap_or_else(|| EMPTY.get_or_init(TableShape::default))
}

/// Splits `default_queue_depth` or `backpressure_default_queue_depth`
/// (lowercased, section prefix removed) into a key path of `table`.
fn resolve_env_key<'a>(table: &'a TableShape, key: &str) -> Option<(Vec<String>, &'a Field)> {
    for field in &table.fields {
        let scalar = !matches!(
            field.shape,
            Shape::Table(_) | Shape::Map { .. } | Shape::List { .. }
        );
        if scalar && (field.name == key || field.aliases.iter().any(|a| a == key)) {
            return Some((vec![key.to_string()], field));
        }
    }
    for field in table.fields.iter().filter(|f| !f.inline) {
        if let (Shape::Table(sub), Some(rest)) =
            (&field.shape, key.strip_prefix(&format!("{}_", field.name)))
        {
            if let Some((mut path, found)) = resolve_env_key(sub, rest) {
                path.insert(0, field.name.to_string());
                return Some((path, found));
            }
        }
    }
    None
}

/// Every environment variable name that maps into `table`.
fn env_names(table: &TableShape, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    for field in table.fields.iter().filter(|f| !f.inline) {
        let name = format!("{prefix}_{}", field.name.to_ascii_uppercase());
        match &field.shape {
            Shape::Table(sub) => names.extend(env_names(sub, &name)),
            Shape::Map { .. } | Shape::List { .. } => {}
            _ => names.push(name),
        }
    }
    names
}

/// The `--config` layer.
pub(crate) fn override_layer(args: &[String]) -> Result<Node, ConfigError> {
    let mut root = Node::empty_table(Origin::Builtin);
    for arg in args {
        let origin = Origin::Override { arg: arg.clone() };
        let bad = |reason: String| {
            ConfigError::InvalidValue {
            field: arg.clone(),
            reason,
            origin: origin.clone(),
            hint: Some("write overrides as KEY=VALUE with a dotted key, e.g. --config runtime.fuel_per_invocation=0".into()),
        }
        };
        let (key, raw) = arg
            .split_once('=')
            .ok_or_else(|| bad("expected KEY=VALUE".into()))?;
        let keys = toml_edit::Key::parse(key.trim())
            .map_err(|_| bad(format!("`{}` is not a valid dotted key", key.trim())))?;
        let keys: Vec<String> = keys.iter().map(|k| k.get().to_string()).collect();
        let shape = resolve_override_key(&keys, &origin)?;
        let field_path = KeyPath(
            keys.iter()
                .map(|k| super::tree::Seg::Key(k.clone()))
                .collect(),
        );
        let node = coerce(raw.trim(), shape, &origin, &field_path)?;
        root.insert_path(&keys, node, &origin);
    }
    normalize_layer(&mut root)?;
    Ok(root)
}

/// The shape at a dotted override key, or why there is none.
fn resolve_override_key<'a>(keys: &[String], origin: &Origin) -> Result<&'a Shape, ConfigError> {
    let mut table = schema::manifest();
    let mut shape: Option<&Shape> = None;
    let mut path = KeyPath::default();
    for key in keys {
        let next: &Shape = match shape {
            None | Some(Shape::Table(_)) => {
                let current = match shape {
                    Some(Shape::Table(t)) => t,
                    _ => table,
                };
                let Some(field) = current.field(key) else {
                    let names = current.names();
                    return Err(ConfigError::UnknownField {
                        field: key.clone(),
                        table: path.table_name(),
                        origin: origin.clone(),
                        suggestion: nearest(key, names.iter().copied()),
                        valid: names.iter().map(|n| n.to_string()).collect(),
                    });
                };
                &field.shape
            }
            Some(Shape::Map { value, .. }) => value.as_ref(),
            Some(Shape::List { .. }) => {
                return Err(ConfigError::InvalidValue {
                    field: path.to_string(),
                    reason: "entries of an array of tables cannot be overridden one by one".into(),
                    origin: origin.clone(),
                    hint: Some(format!(
                        "override the whole array: --config '{path}=[{{ ... }}]'"
                    )),
                })
            }
            Some(_) => {
                return Err(ConfigError::InvalidValue {
                    field: path.to_string(),
                    reason: format!("`{path}` is not a table, so it has no key `{key}`"),
                    origin: origin.clone(),
                    hint: None,
                })
            }
        };
        if let Shape::Table(t) = next {
            table = t;
        }
        shape = Some(next);
        path = path.key(key);
    }
    shape.ok_or_else(|| ConfigError::InvalidValue {
        field: String::new(),
        reason: "the key is empty".into(),
        origin: origin.clone(),
        hint: None,
    })
}

/// Turns text from the environment or the command line into a value of
/// `shape`: strings stay strings (quotes optional), numbers and booleans
/// are parsed, arrays and tables are read as TOML.
fn coerce(raw: &str, shape: &Shape, origin: &Origin, path: &KeyPath) -> Result<Node, ConfigError> {
    let wrong = || ConfigError::InvalidType {
        field: path.to_string(),
        expected: shape.expected(),
        found: format!("`{raw}`"),
        origin: origin.clone(),
    };
    let quoted = || match raw.parse::<toml_edit::Value>() {
        Ok(toml_edit::Value::String(s)) if raw.starts_with(['"', '\'']) => Some(s.value().clone()),
        _ => None,
    };
    let kind = match shape {
        Shape::Str { .. } | Shape::Enum(_) | Shape::Size { .. } => {
            Kind::Str(quoted().unwrap_or_else(|| raw.to_string()))
        }
        Shape::Int { .. } => Kind::Int(raw.replace('_', "").parse().map_err(|_| wrong())?),
        Shape::Float { .. } => Kind::Float(raw.replace('_', "").parse().map_err(|_| wrong())?),
        Shape::Bool => match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Kind::Bool(true),
            "false" | "0" | "no" | "off" => Kind::Bool(false),
            _ => return Err(wrong()),
        },
        Shape::StrList if !raw.starts_with('[') => Kind::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Node::new(Kind::Str(s.to_string()), origin.clone()))
                .collect(),
        ),
        Shape::StrList | Shape::Table(_) | Shape::Map { .. } | Shape::List { .. } | Shape::Any => {
            let value = raw.parse::<toml_edit::Value>().map_err(|_| wrong())?;
            Node::from_toml_edit(&value, origin).kind
        }
    };
    Ok(Node::new(kind, origin.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn env_vars_map_to_nested_keys() {
        let root = env_layer(&env(&[
            ("TORVYN_RUNTIME_WORKER_THREADS", "4"),
            ("TORVYN_RUNTIME_MAX_MEMORY_PER_COMPONENT", "128MiB"),
            ("TORVYN_RUNTIME_BACKPRESSURE_DEFAULT_QUEUE_DEPTH", "8"),
            (
                "TORVYN_RUNTIME_BACKPRESSURE_BACKPRESSURE_POLICY",
                "drop-oldest",
            ),
            ("TORVYN_RUNTIME_POOLS_EXHAUSTION_POLICY", "error"),
            ("TORVYN_OBSERVABILITY_LEVEL", "diagnostic"),
            ("TORVYN_OBSERVABILITY_SAMPLE_RATE", "0.5"),
            ("TORVYN_SECURITY_AUDIT_ENABLED", "false"),
            ("TORVYN_REGISTRY_DEFAULT", "ghcr.io/acme"),
            ("TORVYN_LOG", "debug"),
            ("TORVYN_HOME", "/x"),
            ("TORVYN_STATE_DIR", "/run/x"),
            ("PATH", "/bin"),
        ]))
        .unwrap();
        let get = |p: &[&str]| root.lookup(p).map(|n| n.to_toml());
        assert_eq!(
            get(&["runtime", "worker_threads"]),
            Some(toml::Value::Integer(4))
        );
        assert_eq!(
            get(&["runtime", "max_memory_per_component"]),
            Some(toml::Value::String("128MiB".into()))
        );
        assert_eq!(
            get(&["runtime", "backpressure", "default_queue_depth"]),
            Some(toml::Value::Integer(8))
        );
        assert_eq!(
            get(&["runtime", "backpressure", "backpressure_policy"]),
            Some(toml::Value::String("drop-oldest".into()))
        );
        assert_eq!(
            get(&["runtime", "pools", "exhaustion_policy"]),
            Some(toml::Value::String("error".into()))
        );
        assert_eq!(
            get(&["observability", "sample_rate"]),
            Some(toml::Value::Float(0.5))
        );
        assert_eq!(
            get(&["security", "audit_enabled"]),
            Some(toml::Value::Boolean(false))
        );
        assert_eq!(
            get(&["registry", "default"]),
            Some(toml::Value::String("ghcr.io/acme".into()))
        );
        let keys: Vec<&str> = root
            .entries()
            .unwrap()
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(keys, ["runtime", "observability", "security", "registry"]);
    }

    #[test]
    fn env_aliases_are_canonicalized() {
        let root = env_layer(&env(&[(
            "TORVYN_RUNTIME_BACKPRESSURE_DEFAULT_POLICY",
            "error",
        )]))
        .unwrap();
        assert!(root
            .lookup(&["runtime", "backpressure", "backpressure_policy"])
            .is_some());
    }

    #[test]
    fn unknown_env_var_names_itself_and_a_suggestion() {
        let err = env_layer(&env(&[("TORVYN_RUNTIME_WORKER_THREDS", "4")])).unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnknownField);
        assert_eq!(
            err.location().as_deref(),
            Some("environment variable TORVYN_RUNTIME_WORKER_THREDS")
        );
        assert_eq!(err.help(), "did you mean `TORVYN_RUNTIME_WORKER_THREADS`?");
    }

    #[test]
    fn env_value_of_the_wrong_type_names_the_variable() {
        let err = env_layer(&env(&[("TORVYN_RUNTIME_WORKER_THREADS", "many")])).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidFieldType);
        assert_eq!(
            err.location().as_deref(),
            Some("environment variable TORVYN_RUNTIME_WORKER_THREADS")
        );
        assert!(
            err.to_string().contains("expected integer, found `many`"),
            "{err}"
        );
    }

    #[test]
    fn empty_env_values_are_unset() {
        let root = env_layer(&env(&[("TORVYN_RUNTIME_WORKER_THREADS", "")])).unwrap();
        assert!(root.entries().unwrap().is_empty());
    }

    #[test]
    fn overrides_take_dotted_keys_and_typed_values() {
        let args: Vec<String> = [
            "runtime.fuel_per_invocation=0",
            "observability.level=off",
            "registry.default=\"quoted\"",
            "flow.main.nodes.source.config={\"count\": 3}",
            "security.grants.my-sink.capabilities=wasi:clocks/wall-clock, wasi:random/random",
            "runtime.backpressure = { default_queue_depth = 4 }",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let root = override_layer(&args).unwrap();
        let get = |p: &[&str]| root.lookup(p).map(|n| n.to_toml());
        assert_eq!(
            get(&["runtime", "fuel_per_invocation"]),
            Some(toml::Value::Integer(0))
        );
        assert_eq!(
            get(&["observability", "level"]),
            Some(toml::Value::String("off".into()))
        );
        assert_eq!(
            get(&["registry", "default"]),
            Some(toml::Value::String("quoted".into()))
        );
        assert_eq!(
            get(&["flow", "main", "nodes", "source", "config"]),
            Some(toml::Value::String("{\"count\": 3}".into()))
        );
        assert_eq!(
            get(&["security", "grants", "my-sink", "capabilities"]),
            Some(toml::Value::Array(vec![
                "wasi:clocks/wall-clock".into(),
                "wasi:random/random".into()
            ]))
        );
        assert_eq!(
            get(&["runtime", "backpressure", "default_queue_depth"]),
            Some(toml::Value::Integer(4))
        );
    }

    #[test]
    fn bad_overrides_name_the_argument() {
        let one = |s: &str| override_layer(&[s.to_string()]).unwrap_err();
        let err = one("runtime.fuel_per_invocaton=0");
        assert_eq!(err.code(), ErrorCode::UnknownField);
        assert_eq!(
            err.location().as_deref(),
            Some("--config runtime.fuel_per_invocaton=0")
        );
        assert_eq!(err.help(), "did you mean `fuel_per_invocation`?");

        let err = one("runtime.worker_threads=lots");
        assert_eq!(err.code(), ErrorCode::InvalidFieldType);

        let err = one("runtime.worker_threads");
        assert_eq!(err.code(), ErrorCode::ConstraintViolation);
        assert!(err.to_string().contains("expected KEY=VALUE"));

        let err = one("runtime.worker_threads.x=1");
        assert_eq!(err.code(), ErrorCode::ConstraintViolation);

        let err = one("component.name=x");
        assert_eq!(err.code(), ErrorCode::ConstraintViolation);
    }

    #[test]
    fn user_config_path_prefers_torvyn_home() {
        let both = env(&[("HOME", "/home/a"), ("TORVYN_HOME", "/opt/torvyn")]);
        assert_eq!(
            default_user_config_path(&both),
            Some(PathBuf::from("/opt/torvyn/config.toml"))
        );
        let home = env(&[("HOME", "/home/a")]);
        assert_eq!(
            default_user_config_path(&home),
            Some(PathBuf::from("/home/a/.config/torvyn/config.toml"))
        );
        assert_eq!(default_user_config_path(&[]), None);
    }
}
