//! Loading a project's WIT with `wit-parser`: finding the contract roots
//! (`wit/`, or each package folder under it, plus each component's own
//! `wit/`), parsing each with its `deps/`, and turning parser errors into
//! E0100 (syntax) or E0101 (resolution) with `file:line:col`.

use super::error::ContractError;
use std::path::{Path, PathBuf};
use wit_parser::{PackageId, ParseError, ParseErrorKind, Resolve, ResolveError, Span};

/// One parsed contract root.
#[derive(Debug, Clone)]
pub struct WitRoot {
    /// The directory parsed.
    pub dir: PathBuf,
    /// Its package and every dependency.
    pub resolve: Resolve,
    /// The root package.
    pub package: PackageId,
    /// The .wit files of the root package (deps not counted).
    pub files: usize,
}

impl WitRoot {
    /// `file:line:col` of `span`, relative to `base` when inside it.
    pub fn location(&self, span: Span, base: &Path) -> String {
        relative(&self.resolve.render_location(span), base)
    }
}

/// Directories holding .wit files directly.
fn has_wit_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "wit"))
        })
        .unwrap_or(false)
}

/// The contract roots under `wit_dir`: the folder itself when it holds
/// .wit files, otherwise each sub-folder (but `deps`) that does.
pub fn roots_in(wit_dir: &Path) -> Vec<PathBuf> {
    if !wit_dir.is_dir() {
        return Vec::new();
    }
    if has_wit_files(wit_dir) {
        return vec![wit_dir.to_path_buf()];
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(wit_dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "deps"))
                .filter(|p| has_wit_files(p))
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Parses the package in `dir` (and its `deps/`). `base` shortens the
/// paths in locations.
pub fn load(dir: &Path, base: &Path) -> Result<WitRoot, ContractError> {
    let mut resolve = Resolve::default();
    match resolve.push_dir(dir) {
        Ok((package, sources)) => Ok(WitRoot {
            dir: dir.to_path_buf(),
            files: sources.package_paths(package).map_or(0, Iterator::count),
            resolve,
            package,
        }),
        Err(error) => Err(classify(&resolve, &error, dir, base)),
    }
}

/// Parses one WIT document `text` as if read from `path` (relative to
/// `base`), without touching the filesystem: the same errors as [`load`].
pub fn load_source(path: &Path, text: &str, base: &Path) -> Result<WitRoot, ContractError> {
    let mut resolve = Resolve::default();
    let shown = path.display().to_string();
    match resolve.push_source(&shown, text) {
        Ok(package) => Ok(WitRoot {
            dir: path.parent().unwrap_or(Path::new("")).to_path_buf(),
            files: 1,
            resolve,
            package,
        }),
        Err(error) => Err(classify(&resolve, &error, path, base)),
    }
}

fn classify(resolve: &Resolve, error: &anyhow::Error, dir: &Path, base: &Path) -> ContractError {
    for layer in error.chain() {
        if let Some(parse) = layer.downcast_ref::<ParseError>() {
            let kind = parse.kind();
            let location = Some(relative(&resolve.render_location(kind.span()), base));
            let message = kind.to_string();
            return match kind {
                ParseErrorKind::ItemNotFound { .. } => {
                    ContractError::WitResolution { location, message }
                }
                _ => ContractError::WitSyntax { location, message },
            };
        }
        if let Some(resolution) = layer.downcast_ref::<ResolveError>() {
            let kind = resolution.kind();
            return ContractError::WitResolution {
                location: Some(relative(&resolve.render_location(kind.span()), base)),
                message: first_line(&kind.to_string()),
            };
        }
    }
    ContractError::WitSyntax {
        location: Some(relative(&dir.display().to_string(), base)),
        message: format!("{error:#}"),
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).to_string()
}

fn relative(location: &str, base: &Path) -> String {
    let prefix = format!("{}/", base.display());
    location
        .strip_prefix(&prefix)
        .unwrap_or(location)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Coded, ErrorCode};

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn a_syntax_error_is_e0100_with_file_line_and_column() {
        let p = project(&[(
            "wit/world.wit",
            "package a:b@0.1.0;\n\nworld w {\n  export foo: func( -> u32;\n}\n",
        )]);
        let err = load(&p.path().join("wit"), p.path()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::WitSyntaxError);
        assert_eq!(
            err.location().as_deref(),
            Some("wit/world.wit:4:21"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_package_is_e0101() {
        let p = project(&[(
            "wit/world.wit",
            "package a:b@0.1.0;\n\nworld w {\n  import nope:missing/thing@1.0.0;\n}\n",
        )]);
        let err = load(&p.path().join("wit"), p.path()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::WitResolutionError, "{err}");
        assert!(
            err.location().unwrap().starts_with("wit/world.wit:4:"),
            "{err:?}"
        );
    }

    #[test]
    fn an_unknown_local_name_is_e0101() {
        let p = project(&[(
            "wit/world.wit",
            "package a:b@0.1.0;\n\ninterface i {\n  use types.{nothing};\n}\n",
        )]);
        let err = load(&p.path().join("wit"), p.path()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::WitResolutionError, "{err}");
    }

    #[test]
    fn a_source_string_fails_like_a_file() {
        let err = load_source(
            Path::new("wit/world.wit"),
            "package a:b@0.1.0;\n\nworld w {\n  export foo: func( -> u32;\n}\n",
            Path::new(""),
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::WitSyntaxError);
        assert_eq!(err.location().as_deref(), Some("wit/world.wit:4:21"));
        let ok = load_source(
            Path::new("w.wit"),
            "package a:b;\nworld w {}\n",
            Path::new(""),
        );
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn roots_are_the_wit_folder_or_its_package_folders() {
        let p = project(&[
            ("a/wit/x.wit", "package a:b;\n"),
            ("b/wit/pkg/x.wit", "package a:c;\n"),
            ("b/wit/deps/d/x.wit", "package a:d;\n"),
        ]);
        assert_eq!(
            roots_in(&p.path().join("a/wit")),
            vec![p.path().join("a/wit")]
        );
        assert_eq!(
            roots_in(&p.path().join("b/wit")),
            vec![p.path().join("b/wit/pkg")]
        );
        assert!(roots_in(&p.path().join("none")).is_empty());
    }
}
