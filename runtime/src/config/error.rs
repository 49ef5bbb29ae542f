//! [`ConfigError`]: everything that can go wrong loading a manifest, with
//! the stable code, the place it came from and a fix.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Coded, ErrorCode};

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A TOML file; `line` and `column` are 1-based (column in characters).
    File {
        /// The file, as it was named to the loader.
        path: PathBuf,
        /// Line and column, when known.
        position: Option<(usize, usize)>,
    },
    /// A `TORVYN_*` environment variable.
    Env {
        /// The variable's name.
        var: String,
    },
    /// A `--config key=value` command-line override.
    Override {
        /// The argument as given.
        arg: String,
    },
    /// Not written anywhere: the built-in default.
    Builtin,
}

impl Origin {
    pub(crate) fn file(path: impl Into<PathBuf>, position: Option<(usize, usize)>) -> Self {
        Origin::File {
            path: path.into(),
            position,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                path,
                position: Some((line, column)),
            } => {
                write!(f, "{}:{line}:{column}", path.display())
            }
            Origin::File {
                path,
                position: None,
            } => write!(f, "{}", path.display()),
            Origin::Env { var } => write!(f, "environment variable {var}"),
            Origin::Override { arg } => write!(f, "--config {arg}"),
            Origin::Builtin => f.write_str("built-in defaults"),
        }
    }
}

/// A configuration error. Every variant maps to a stable [`ErrorCode`]
/// and, through [`Coded`], renders with its location and a fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// E0001: the manifest does not exist.
    #[error("Torvyn.toml not found at `{}`", .path.display())]
    ManifestNotFound {
        /// The path that was tried.
        path: PathBuf,
    },

    /// E0001: the manifest (or user config) exists but cannot be read.
    #[error("cannot read `{}`: {source}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },

    /// E0002: the file is not valid TOML.
    #[error("{} is not valid TOML: {message}", file_name(.origin))]
    Syntax {
        /// File, line and column of the error.
        origin: Origin,
        /// The parser's message.
        message: String,
    },

    /// E0701: a key that is not part of the configuration schema.
    #[error("unknown field `{field}` in {table}")]
    UnknownField {
        /// The key as written.
        field: String,
        /// The table it was found in, e.g. `[runtime.backpressure]`.
        table: String,
        /// Where the key was written.
        origin: Origin,
        /// The nearest valid field name, if one is close.
        suggestion: Option<String>,
        /// The valid names at that place.
        valid: Vec<String>,
    },

    /// E0700: a value of the wrong type.
    #[error("`{field}` has the wrong type: expected {expected}, found {found}")]
    InvalidType {
        /// Dotted path of the field, e.g. `runtime.worker_threads`.
        field: String,
        /// What the schema wants (`integer`, `string`, ...).
        expected: String,
        /// What was written.
        found: String,
        /// Where it was written.
        origin: Origin,
    },

    /// E0702: a value of the right type that is out of range, not one of
    /// the allowed values, or inconsistent with the rest of the manifest.
    #[error("invalid value for `{field}`: {reason}")]
    InvalidValue {
        /// Dotted path of the field.
        field: String,
        /// What is wrong.
        reason: String,
        /// Where it was written.
        origin: Origin,
        /// How to fix it, when more specific than the code's generic fix.
        hint: Option<String>,
    },

    /// E0702: a required field is absent.
    #[error("missing required field `{field}` in {table}")]
    MissingField {
        /// The missing key.
        field: String,
        /// The table that should contain it.
        table: String,
        /// Where that table was written.
        origin: Origin,
    },

    /// E0702: `--flow <name>` names no flow of the manifest.
    #[error("no flow named `{name}` in the manifest (defined flows: {})", .available.join(", "))]
    UnknownFlow {
        /// The requested name.
        name: String,
        /// The flows that do exist, in file order.
        available: Vec<String>,
        /// The nearest flow name, if one is close.
        suggestion: Option<String>,
    },

    /// E0702: a flow was requested but the manifest defines none.
    #[error("the manifest defines no flows")]
    NoFlows,

    /// Several schema errors found in one pass (never fewer than two);
    /// the first one gives the code, every one is reported.
    #[error("{}", multiple_summary(.0))]
    Multiple(Vec<ConfigError>),
}

fn multiple_summary(all: &[ConfigError]) -> String {
    match all {
        [] => "configuration errors".into(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more configuration errors)", rest.len()),
    }
}

fn file_name(origin: &Origin) -> String {
    match origin {
        Origin::File { path, .. } => path.display().to_string(),
        other => other.to_string(),
    }
}

impl Coded for ConfigError {
    fn code(&self) -> ErrorCode {
        match self {
            ConfigError::ManifestNotFound { .. } | ConfigError::Unreadable { .. } => {
                ErrorCode::ManifestNotFound
            }
            ConfigError::Syntax { .. } => ErrorCode::ManifestParseError,
            ConfigError::UnknownField { .. } => ErrorCode::UnknownField,
            ConfigError::InvalidType { .. } => ErrorCode::InvalidFieldType,
            ConfigError::InvalidValue { .. }
            | ConfigError::MissingField { .. }
            | ConfigError::UnknownFlow { .. }
            | ConfigError::NoFlows => ErrorCode::ConstraintViolation,
            ConfigError::Multiple(all) => all
                .first()
                .map_or(ErrorCode::ConstraintViolation, Coded::code),
        }
    }

    fn location(&self) -> Option<String> {
        match self {
            ConfigError::ManifestNotFound { path } | ConfigError::Unreadable { path, .. } => {
                Some(path.display().to_string())
            }
            ConfigError::Syntax { origin, .. }
            | ConfigError::UnknownField { origin, .. }
            | ConfigError::InvalidType { origin, .. }
            | ConfigError::InvalidValue { origin, .. }
            | ConfigError::MissingField { origin, .. } => match origin {
                Origin::Builtin => None,
                other => Some(other.to_string()),
            },
            ConfigError::UnknownFlow { .. } | ConfigError::NoFlows => None,
            ConfigError::Multiple(all) => all.first().and_then(Coded::location),
        }
    }

    fn help(&self) -> String {
        match self {
            ConfigError::UnknownField { suggestion: Some(name), .. } => {
                format!("did you mean `{name}`?")
            }
            ConfigError::UnknownField { valid, .. } if valid.is_empty() => {
                "remove the field; nothing is configurable here".to_string()
            }
            ConfigError::UnknownField { valid, .. } => {
                format!("remove the field, or use one of: {}", valid.join(", "))
            }
            ConfigError::InvalidType { expected, .. } => {
                format!("write the value as {}", with_article(expected))
            }
            ConfigError::InvalidValue { hint: Some(hint), .. } => hint.clone(),
            ConfigError::MissingField { field, table, .. } => format!("add `{field} = ...` to {table}"),
            ConfigError::UnknownFlow { suggestion: Some(name), .. } => format!("did you mean `{name}`?"),
            ConfigError::UnknownFlow { available, .. } => {
                format!("pass --flow with one of: {}", available.join(", "))
            }
            ConfigError::NoFlows => {
                "add a [flow.main] section with [flow.main.nodes.<name>] entries and [[flow.main.edges]]"
                    .to_string()
            }
            ConfigError::Multiple(all) if !all.is_empty() => all[0].help(),
            _ => self.code().default_help().to_string(),
        }
    }

    fn diagnostics(&self) -> Vec<crate::error::Diagnostic> {
        match self {
            ConfigError::Multiple(all) => all.iter().flat_map(Coded::diagnostics).collect(),
            other => vec![other.diagnostic()],
        }
    }
}

fn with_article(noun: &str) -> String {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {noun}")
    } else {
        format!("a {noun}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_render_as_locations() {
        assert_eq!(
            Origin::file("Torvyn.toml", Some((3, 7))).to_string(),
            "Torvyn.toml:3:7"
        );
        assert_eq!(Origin::file("Torvyn.toml", None).to_string(), "Torvyn.toml");
        assert_eq!(
            Origin::Env {
                var: "TORVYN_RUNTIME_WORKER_THREADS".into()
            }
            .to_string(),
            "environment variable TORVYN_RUNTIME_WORKER_THREADS"
        );
        assert_eq!(
            Origin::Override {
                arg: "a.b=1".into()
            }
            .to_string(),
            "--config a.b=1"
        );
    }

    #[test]
    fn syntax_errors_render_like_the_spec_example() {
        let err = ConfigError::Syntax {
            origin: Origin::file("Torvyn.toml", Some((3, 7))),
            message: "expected `=`".into(),
        };
        assert_eq!(
            err.diagnostic().to_string(),
            "error[E0002]: Torvyn.toml is not valid TOML: expected `=`\n  --> Torvyn.toml:3:7\n  = help: check the indicated line and column for TOML syntax errors"
        );
    }

    #[test]
    fn help_names_the_nearest_field() {
        let err = ConfigError::UnknownField {
            field: "defualt_queue_depth".into(),
            table: "[runtime.backpressure]".into(),
            origin: Origin::file("Torvyn.toml", Some((2, 1))),
            suggestion: Some("default_queue_depth".into()),
            valid: vec![],
        };
        assert_eq!(err.code(), ErrorCode::UnknownField);
        assert_eq!(err.help(), "did you mean `default_queue_depth`?");
        assert_eq!(err.location().as_deref(), Some("Torvyn.toml:2:1"));
    }

    #[test]
    fn type_help_uses_the_right_article() {
        let err = |expected: &str| ConfigError::InvalidType {
            field: "x".into(),
            expected: expected.into(),
            found: "string".into(),
            origin: Origin::Builtin,
        };
        assert_eq!(err("integer").help(), "write the value as an integer");
        assert_eq!(err("boolean").help(), "write the value as a boolean");
        assert_eq!(
            err("array of strings").help(),
            "write the value as an array of strings"
        );
        assert_eq!(err("integer").location(), None);
    }
}
