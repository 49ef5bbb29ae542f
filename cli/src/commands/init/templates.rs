//! The project templates of `torvyn init`: files under `cli/templates/`
//! and the canonical WIT packages under `wit/`, embedded in the binary,
//! rendered with `{{name}}`-style substitution into the files of a new
//! project.

use super::Language;
use std::path::PathBuf;
use torvyn_runtime::assembly::toolchains::python;

/// A project template (`--template`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    Source,
    BatchSource,
    Sink,
    Transform,
    Filter,
    Router,
    Aggregator,
    FullPipeline,
    Empty,
}

impl Template {
    /// Every template, in the order `--help` and the wizard list them.
    pub const ALL: [Template; 9] = [
        Template::Transform,
        Template::Source,
        Template::BatchSource,
        Template::Sink,
        Template::Filter,
        Template::Router,
        Template::Aggregator,
        Template::FullPipeline,
        Template::Empty,
    ];

    /// The name `--template` takes.
    pub fn name(self) -> &'static str {
        match self {
            Template::Source => "source",
            Template::BatchSource => "batch-source",
            Template::Sink => "sink",
            Template::Transform => "transform",
            Template::Filter => "filter",
            Template::Router => "router",
            Template::Aggregator => "aggregator",
            Template::FullPipeline => "full-pipeline",
            Template::Empty => "empty",
        }
    }

    /// One line on what the template creates (the wizard's menu).
    pub fn summary(self) -> &'static str {
        match self {
            Template::Source => "a source that produces elements",
            Template::BatchSource => {
                "a source that also produces elements in batches (torvyn:batching)"
            }
            Template::Sink => "a sink that consumes elements",
            Template::Transform => "a stateless transform (processor)",
            Template::Filter => "a filter that keeps or drops elements",
            Template::Router => "a router that sends elements to named ports",
            Template::Aggregator => "an aggregator that summarises elements",
            Template::FullPipeline => "source, transform and sink, wired in a flow",
            Template::Empty => "a manifest and the contracts, no component",
        }
    }

    /// The template called `name`.
    pub fn from_name(name: &str) -> Option<Template> {
        Template::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Names of every template, for messages.
    pub fn names() -> Vec<&'static str> {
        Template::ALL.into_iter().map(Template::name).collect()
    }

    fn manifest(self) -> &'static str {
        match self {
            // The same flow: the node's role is `source`; the runtime finds
            // the batch form in the component itself.
            Template::Source | Template::BatchSource => {
                include_str!("../../../templates/source/Torvyn.toml")
            }
            Template::Sink => include_str!("../../../templates/sink/Torvyn.toml"),
            Template::Transform => include_str!("../../../templates/transform/Torvyn.toml"),
            Template::Filter => include_str!("../../../templates/filter/Torvyn.toml"),
            Template::Router => include_str!("../../../templates/router/Torvyn.toml"),
            Template::Aggregator => include_str!("../../../templates/aggregator/Torvyn.toml"),
            Template::FullPipeline => {
                include_str!("../../../templates/full-pipeline/Torvyn.toml")
            }
            Template::Empty => include_str!("../../../templates/empty/Torvyn.toml"),
        }
    }

    /// Whether the template has an implementation in `language`: every
    /// template in Rust; in Python, those whose components all have an
    /// `app.py` (today: every one; `empty` has no component).
    pub fn supports(self, language: Language) -> bool {
        match language {
            Language::Rust => true,
            Language::Python => match (self, self.root_component()) {
                (_, Some(kind)) => kind.python.is_some(),
                (Template::FullPipeline, None) => PIPELINE.iter().all(|k| k.python.is_some()),
                (_, None) => true,
            },
            Language::Go | Language::Zig => false,
        }
    }

    /// The template's component at the project root, if it has one there.
    fn root_component(self) -> Option<&'static Kind> {
        match self {
            Template::Source => Some(&SOURCE),
            Template::BatchSource => Some(&BATCH_SOURCE),
            Template::Sink => Some(&SINK),
            Template::Transform => Some(&TRANSFORM),
            Template::Filter => Some(&FILTER),
            Template::Router => Some(&ROUTER),
            Template::Aggregator => Some(&AGGREGATOR),
            Template::FullPipeline | Template::Empty => None,
        }
    }
}

/// One kind of component: its world, example and stub implementations
/// (Rust, and Python where there is one), and the Torvyn WIT packages its
/// world uses.
struct Kind {
    /// `components/<dir>` in the full-pipeline template.
    dir: &'static str,
    world: &'static str,
    example: &'static str,
    stub: &'static str,
    /// `app.py`: example and stub.
    python: Option<(&'static str, &'static str)>,
    packages: &'static [&'static Package],
}

const SOURCE: Kind = Kind {
    dir: "source",
    world: include_str!("../../../templates/source/world.wit"),
    example: include_str!("../../../templates/source/lib.rs"),
    stub: include_str!("../../../templates/source/stub.rs"),
    python: Some((
        include_str!("../../../templates/source/app.py"),
        include_str!("../../../templates/source/stub.py"),
    )),
    packages: &[&STREAMING, &RESOURCES],
};

/// A source with its batch form. Only the source: a batch processor or
/// sink takes `list<stream-element>`, whose borrowed handles
/// `wit_bindgen::generate!` cannot lift (E0506 in wit-bindgen 0.36–0.63),
/// so their templates would need a hand-patched binding.
const BATCH_SOURCE: Kind = Kind {
    dir: "source",
    world: include_str!("../../../templates/batch-source/world.wit"),
    example: include_str!("../../../templates/batch-source/lib.rs"),
    stub: include_str!("../../../templates/batch-source/stub.rs"),
    python: None,
    packages: &[&STREAMING, &RESOURCES, &BATCHING],
};

const SINK: Kind = Kind {
    dir: "sink",
    world: include_str!("../../../templates/sink/world.wit"),
    example: include_str!("../../../templates/sink/lib.rs"),
    stub: include_str!("../../../templates/sink/stub.rs"),
    python: Some((
        include_str!("../../../templates/sink/app.py"),
        include_str!("../../../templates/sink/stub.py"),
    )),
    packages: &[&STREAMING],
};

const TRANSFORM: Kind = Kind {
    dir: "transform",
    world: include_str!("../../../templates/transform/world.wit"),
    example: include_str!("../../../templates/transform/lib.rs"),
    stub: include_str!("../../../templates/transform/stub.rs"),
    python: Some((
        include_str!("../../../templates/transform/app.py"),
        include_str!("../../../templates/transform/stub.py"),
    )),
    packages: &[&STREAMING, &RESOURCES],
};

const FILTER: Kind = Kind {
    dir: "filter",
    world: include_str!("../../../templates/filter/world.wit"),
    example: include_str!("../../../templates/filter/lib.rs"),
    stub: include_str!("../../../templates/filter/stub.rs"),
    python: Some((
        include_str!("../../../templates/filter/app.py"),
        include_str!("../../../templates/filter/stub.py"),
    )),
    packages: &[&STREAMING, &FILTERING],
};

const ROUTER: Kind = Kind {
    dir: "router",
    world: include_str!("../../../templates/router/world.wit"),
    example: include_str!("../../../templates/router/lib.rs"),
    stub: include_str!("../../../templates/router/stub.rs"),
    python: Some((
        include_str!("../../../templates/router/app.py"),
        include_str!("../../../templates/router/stub.py"),
    )),
    packages: &[&STREAMING, &FILTERING],
};

const AGGREGATOR: Kind = Kind {
    dir: "aggregator",
    world: include_str!("../../../templates/aggregator/world.wit"),
    example: include_str!("../../../templates/aggregator/lib.rs"),
    stub: include_str!("../../../templates/aggregator/stub.rs"),
    python: Some((
        include_str!("../../../templates/aggregator/app.py"),
        include_str!("../../../templates/aggregator/stub.py"),
    )),
    packages: &[&STREAMING, &RESOURCES, &AGGREGATION],
};

/// The components of the full-pipeline template, in flow order.
const PIPELINE: [&Kind; 3] = [&SOURCE, &TRANSFORM, &SINK];

/// One canonical Torvyn WIT package, vendored as `wit/deps/<dir>/`.
pub(crate) struct Package {
    /// Its folder under `wit/deps/` (`streaming` for `torvyn:streaming`).
    pub(crate) dir: &'static str,
    /// Its files: name and the text embedded in the binary.
    pub(crate) files: &'static [(&'static str, &'static str)],
}

/// Every canonical package the binary carries (`torvyn doctor` checks a
/// project's vendored copies against them).
pub(crate) const PACKAGES: [&Package; 5] =
    [&STREAMING, &RESOURCES, &FILTERING, &AGGREGATION, &BATCHING];

const STREAMING: Package = Package {
    dir: "streaming",
    files: &[
        (
            "types.wit",
            include_str!("../../../../wit/streaming/types.wit"),
        ),
        (
            "buffer-allocator.wit",
            include_str!("../../../../wit/streaming/buffer-allocator.wit"),
        ),
        (
            "lifecycle.wit",
            include_str!("../../../../wit/streaming/lifecycle.wit"),
        ),
        (
            "processor.wit",
            include_str!("../../../../wit/streaming/processor.wit"),
        ),
        (
            "sink.wit",
            include_str!("../../../../wit/streaming/sink.wit"),
        ),
        (
            "source.wit",
            include_str!("../../../../wit/streaming/source.wit"),
        ),
        (
            "worlds.wit",
            include_str!("../../../../wit/streaming/worlds.wit"),
        ),
    ],
};

const RESOURCES: Package = Package {
    dir: "resources",
    files: &[(
        "buffer-ops.wit",
        include_str!("../../../../wit/resources/buffer-ops.wit"),
    )],
};

const FILTERING: Package = Package {
    dir: "filtering",
    files: &[
        (
            "filter.wit",
            include_str!("../../../../wit/filtering/filter.wit"),
        ),
        (
            "router.wit",
            include_str!("../../../../wit/filtering/router.wit"),
        ),
        (
            "worlds.wit",
            include_str!("../../../../wit/filtering/worlds.wit"),
        ),
    ],
};

const AGGREGATION: Package = Package {
    dir: "aggregation",
    files: &[
        (
            "aggregator.wit",
            include_str!("../../../../wit/aggregation/aggregator.wit"),
        ),
        (
            "worlds.wit",
            include_str!("../../../../wit/aggregation/worlds.wit"),
        ),
    ],
};

const BATCHING: Package = Package {
    dir: "batching",
    files: &[
        (
            "batch.wit",
            include_str!("../../../../wit/batching/batch.wit"),
        ),
        (
            "worlds.wit",
            include_str!("../../../../wit/batching/worlds.wit"),
        ),
    ],
};

const GITIGNORE: &str = include_str!("../../../templates/common/gitignore");
const README: &str = include_str!("../../../templates/common/README.md");
const GITIGNORE_PYTHON: &str = include_str!("../../../templates/common/gitignore-python");
const README_PYTHON: &str = include_str!("../../../templates/common/README-python.md");
/// The `[capabilities.optional]` a Python component's WASI imports need.
const PYTHON_CAPABILITIES: &str =
    include_str!("../../../templates/common/python-capabilities.toml");
const CRATE_MANIFEST: &str = include_str!("../../../templates/common/Cargo.toml.tmpl");
const WORKSPACE_MANIFEST: &str = include_str!("../../../templates/full-pipeline/Cargo.toml.tmpl");
const MEMBER_MANIFEST: &str =
    include_str!("../../../templates/full-pipeline/component-Cargo.toml.tmpl");

/// What a template is rendered with.
pub struct Params<'a> {
    /// The project name (kebab-case).
    pub name: &'a str,
    /// `[torvyn] contract_version`.
    pub contract_version: &'a str,
    /// Whether to write the example implementation (else a stub).
    pub example: bool,
    /// The components' language (`--language`): Rust or Python.
    pub language: Language,
}

/// One file of a new project: its path relative to the project root.
pub struct File {
    pub path: PathBuf,
    pub text: String,
}

/// `text` with each `{{key}}` replaced by its value.
pub fn render(text: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(text.to_string(), |text, (key, value)| {
        text.replace(&format!("{{{{{key}}}}}"), value)
    })
}

/// Every file of a new project from `template`, in the order the tree
/// shows them (the vendored WIT packages last).
pub fn files(template: Template, params: &Params<'_>) -> Vec<File> {
    let file = |path: &str, text: String| File {
        path: PathBuf::from(path),
        text,
    };
    let python = params.language == Language::Python;
    let project_vars = [
        ("name", params.name),
        ("contract_version", params.contract_version),
        ("template", template.name()),
        ("language", params.language.manifest_name()),
        ("componentize_py", python::componentize_py_requirement()),
    ];
    let mut manifest = render(template.manifest(), &project_vars);
    if python && template != Template::Empty {
        manifest.push_str(PYTHON_CAPABILITIES);
    }
    let mut files = vec![file("Torvyn.toml", manifest)];
    let mut vendored = Vec::new();
    match (template, template.root_component()) {
        (_, Some(kind)) => {
            files.extend(component_files(
                "",
                kind,
                params.name,
                params,
                CRATE_MANIFEST,
            ));
            vendored.extend(vendor("", kind.packages));
        }
        (Template::FullPipeline, None) => {
            if !python {
                files.push(file("Cargo.toml", WORKSPACE_MANIFEST.to_string()));
            }
            for kind in PIPELINE {
                let base = format!("components/{}/", kind.dir);
                let name = format!("{}-{}", params.name, kind.dir);
                files.extend(component_files(&base, kind, &name, params, MEMBER_MANIFEST));
                vendored.extend(vendor(&base, kind.packages));
            }
        }
        (_, None) => {
            vendored.extend(vendor(
                "",
                &[&STREAMING, &RESOURCES, &FILTERING, &AGGREGATION],
            ));
        }
    }
    let (gitignore, readme) = if python {
        (GITIGNORE_PYTHON, README_PYTHON)
    } else {
        (GITIGNORE, README)
    };
    files.push(file(".gitignore", gitignore.to_string()));
    files.push(file("README.md", render(readme, &project_vars)));
    files.extend(vendored);
    files
}

/// A component's `wit/world.wit` and implementation under `base`: for
/// Rust, `Cargo.toml` (from `manifest`) and `src/lib.rs`; for Python,
/// `app.py`.
fn component_files(
    base: &str,
    kind: &Kind,
    name: &str,
    params: &Params<'_>,
    manifest: &str,
) -> Vec<File> {
    let crate_file = name.replace('-', "_");
    let vars = [
        ("name", name),
        ("crate", name),
        ("crate_file", crate_file.as_str()),
    ];
    let parts = match (params.language, kind.python) {
        (Language::Python, Some((example, stub))) => vec![
            ("wit/world.wit", kind.world),
            ("app.py", if params.example { example } else { stub }),
        ],
        _ => vec![
            ("Cargo.toml", manifest),
            ("wit/world.wit", kind.world),
            (
                "src/lib.rs",
                if params.example {
                    kind.example
                } else {
                    kind.stub
                },
            ),
        ],
    };
    parts
        .into_iter()
        .map(|(path, text)| File {
            path: PathBuf::from(format!("{base}{path}")),
            text: render(text, &vars),
        })
        .collect()
}

/// `packages` as files under `<base>wit/deps/`.
fn vendor(base: &str, packages: &[&Package]) -> Vec<File> {
    packages
        .iter()
        .flat_map(|package| {
            package.files.iter().map(move |(name, text)| File {
                path: PathBuf::from(format!("{base}wit/deps/{}/{name}", package.dir)),
                text: (*text).to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_replaces_every_placeholder() {
        assert_eq!(
            render(
                "{{name}}:{{crate}} {{name}}",
                &[("name", "a"), ("crate", "b")]
            ),
            "a:b a"
        );
    }

    #[test]
    fn no_placeholder_is_left_in_any_template() {
        let languages = [Language::Rust, Language::Python];
        for (template, language) in Template::ALL
            .into_iter()
            .flat_map(|t| languages.map(|l| (t, l)))
            .filter(|(t, l)| t.supports(*l))
        {
            for example in [true, false] {
                let params = Params {
                    name: "demo",
                    contract_version: "0.1.0",
                    example,
                    language,
                };
                for file in files(template, &params) {
                    assert!(
                        !file.text.contains("{{"),
                        "{} of {} keeps a placeholder",
                        file.path.display(),
                        template.name()
                    );
                }
            }
        }
    }

    #[test]
    fn python_projects_have_app_py_and_a_python_manifest_and_no_cargo() {
        for template in Template::ALL
            .into_iter()
            .filter(|t| !matches!(t, Template::Empty | Template::BatchSource))
        {
            assert!(template.supports(Language::Python), "{}", template.name());
            let params = Params {
                name: "demo",
                contract_version: "0.1.0",
                example: true,
                language: Language::Python,
            };
            let files = files(template, &params);
            let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
            assert!(
                paths.iter().any(|p| p.ends_with("app.py")),
                "{}: {paths:?}",
                template.name()
            );
            assert!(
                !paths
                    .iter()
                    .any(|p| p.ends_with("Cargo.toml") || p.ends_with(".rs")),
                "{}: {paths:?}",
                template.name()
            );
            let manifest = &files[0].text;
            assert!(manifest.contains("language = \"python\""), "{manifest}");
            assert!(!manifest.contains("language = \"rust\""), "{manifest}");
        }
        assert!(Template::ALL.iter().all(|t| t.supports(Language::Rust)));
        assert!(Template::ALL
            .iter()
            .all(|t| t.supports(Language::Python) == (*t != Template::BatchSource)));
        assert!(!Template::ALL.iter().any(|t| t.supports(Language::Go)));
    }

    #[test]
    fn template_names_round_trip_and_unknown_is_none() {
        for template in Template::ALL {
            assert_eq!(Template::from_name(template.name()), Some(template));
        }
        assert_eq!(Template::from_name("nosuch"), None);
    }
}
