//! The canonical WIT contracts in `wit/` parse, resolve, and define exactly
//! the packages, interfaces, functions and worlds of the spec's WIT Interface
//! Reference.
//!
//! The four package directories are pushed into one [`wit_parser::Resolve`]
//! in the order the host uses: `streaming`, `resources`, `filtering`,
//! `aggregation` (the later three refer to `torvyn:streaming/types@0.1.0`
//! by name, so `streaming` must come first; `wit/` has no `deps/` folders).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use wit_parser::{
    Docs, Function, Handle, InterfaceId, PackageId, Resolve, Type, TypeDefKind, WorldId, WorldItem,
};

/// Package directories under `wit/`, in resolution order.
const PACKAGE_DIRS: [&str; 4] = ["streaming", "resources", "filtering", "aggregation"];

fn wit_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit")
}

fn load() -> Resolve {
    let mut resolve = Resolve::default();
    for dir in PACKAGE_DIRS {
        let path = wit_root().join(dir);
        if let Err(e) = resolve.push_dir(&path) {
            panic!(
                "failed to resolve {}: {}",
                path.display(),
                resolve.render_error(&e)
            );
        }
    }
    resolve
}

fn package(resolve: &Resolve, name: &str) -> PackageId {
    resolve
        .packages
        .iter()
        .find(|(_, p)| p.name.to_string() == name)
        .map(|(id, _)| id)
        .unwrap_or_else(|| {
            let names: Vec<String> = resolve
                .packages
                .iter()
                .map(|(_, p)| p.name.to_string())
                .collect();
            panic!("package {name} not found; have {names:?}")
        })
}

/// `"torvyn:streaming/types@0.1.0"` → its interface.
fn interface(resolve: &Resolve, qualified: &str) -> InterfaceId {
    let (pkg, rest) = qualified.split_once('/').expect("qualified interface name");
    let (iface, version) = rest.split_once('@').expect("versioned interface name");
    let pkg = package(resolve, &format!("{pkg}@{version}"));
    *resolve.packages[pkg]
        .interfaces
        .get(iface)
        .unwrap_or_else(|| panic!("interface {qualified} not found"))
}

/// `"torvyn:streaming/transform@0.1.0"` → its world.
fn world(resolve: &Resolve, qualified: &str) -> WorldId {
    let (pkg, rest) = qualified.split_once('/').expect("qualified world name");
    let (name, version) = rest.split_once('@').expect("versioned world name");
    let pkg = package(resolve, &format!("{pkg}@{version}"));
    *resolve.packages[pkg]
        .worlds
        .get(name)
        .unwrap_or_else(|| panic!("world {qualified} not found"))
}

fn function<'a>(resolve: &'a Resolve, iface: &str, name: &str) -> &'a Function {
    let id = interface(resolve, iface);
    resolve.interfaces[id]
        .functions
        .get(name)
        .unwrap_or_else(|| panic!("{iface} has no function {name}"))
}

fn param_names(f: &Function) -> Vec<&str> {
    f.params.iter().map(|p| p.name.as_str()).collect()
}

fn type_id(resolve: &Resolve, iface: &str, name: &str) -> wit_parser::TypeId {
    let id = interface(resolve, iface);
    *resolve.interfaces[id]
        .types
        .get(name)
        .unwrap_or_else(|| panic!("{iface} has no type {name}"))
}

/// Follows `use` aliases to the defining type.
fn resolve_alias(resolve: &Resolve, mut id: wit_parser::TypeId) -> wit_parser::TypeId {
    while let TypeDefKind::Type(Type::Id(inner)) = resolve.types[id].kind {
        id = inner;
    }
    id
}

/// Renders a type the way WIT spells it (enough to pin down signatures).
fn render(resolve: &Resolve, ty: &Type) -> String {
    let id = match ty {
        Type::Id(id) => *id,
        other => return wit_primitive(other).to_string(),
    };
    let def = &resolve.types[id];
    if let Some(name) = &def.name {
        return name.clone();
    }
    match &def.kind {
        TypeDefKind::Handle(Handle::Own(r)) => render(resolve, &Type::Id(*r)),
        TypeDefKind::Handle(Handle::Borrow(r)) => {
            format!("borrow<{}>", render(resolve, &Type::Id(*r)))
        }
        TypeDefKind::List(t) => format!("list<{}>", render(resolve, t)),
        TypeDefKind::Option(t) => format!("option<{}>", render(resolve, t)),
        TypeDefKind::Result(r) => {
            let ok =
                r.ok.as_ref()
                    .map_or("_".to_string(), |t| render(resolve, t));
            let err = r
                .err
                .as_ref()
                .map_or("_".to_string(), |t| render(resolve, t));
            format!("result<{ok}, {err}>")
        }
        other => format!("{other:?}"),
    }
}

fn wit_primitive(ty: &Type) -> &'static str {
    match ty {
        Type::Bool => "bool",
        Type::U8 => "u8",
        Type::U64 => "u64",
        Type::String => "string",
        other => panic!("unexpected primitive {other:?} in canonical WIT"),
    }
}

/// `(param names, param types, result)` of a function, rendered as WIT.
fn signature(resolve: &Resolve, f: &Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, render(resolve, &p.ty)))
        .collect();
    match &f.result {
        Some(r) => format!("func({}) -> {}", params.join(", "), render(resolve, r)),
        None => format!("func({})", params.join(", ")),
    }
}

fn world_interfaces<'a>(
    resolve: &Resolve,
    items: impl Iterator<Item = &'a WorldItem>,
) -> BTreeSet<String> {
    items
        .map(|item| match item {
            WorldItem::Interface { id, .. } => resolve.id_of(*id).expect("named interface"),
            other => panic!("canonical worlds only import/export interfaces, found {other:?}"),
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const TYPES: &str = "torvyn:streaming/types@0.1.0";
const ALLOCATOR: &str = "torvyn:streaming/buffer-allocator@0.1.0";
const PROCESSOR: &str = "torvyn:streaming/processor@0.1.0";
const SOURCE: &str = "torvyn:streaming/source@0.1.0";
const SINK: &str = "torvyn:streaming/sink@0.1.0";
const LIFECYCLE: &str = "torvyn:streaming/lifecycle@0.1.0";
const BUFFER_OPS: &str = "torvyn:resources/buffer-ops@0.1.0";
const FILTER: &str = "torvyn:filtering/filter@0.1.0";
const ROUTER: &str = "torvyn:filtering/router@0.1.0";
const AGGREGATOR: &str = "torvyn:aggregation/aggregator@0.1.0";

#[test]
fn packages_and_interfaces_exist() {
    let resolve = load();
    let expected: [(&str, &[&str]); 4] = [
        (
            "torvyn:streaming@0.1.0",
            &[
                "types",
                "buffer-allocator",
                "processor",
                "source",
                "sink",
                "lifecycle",
            ],
        ),
        ("torvyn:resources@0.1.0", &["buffer-ops"]),
        ("torvyn:filtering@0.1.0", &["filter", "router"]),
        ("torvyn:aggregation@0.1.0", &["aggregator"]),
    ];
    for (pkg, interfaces) in expected {
        let id = package(&resolve, pkg);
        let have: BTreeSet<String> = resolve.packages[id].interfaces.keys().cloned().collect();
        assert_eq!(have, set(interfaces), "interfaces of {pkg}");
    }
}

#[test]
fn types_interface_matches_reference() {
    let resolve = load();
    let types = interface(&resolve, TYPES);

    // Every function of `types` is a resource method or constructor-free
    // method; check the full, exact set with signatures.
    let mut have: Vec<(String, String)> = resolve.interfaces[types]
        .functions
        .values()
        .map(|f| (f.name.clone(), signature(&resolve, f)))
        .collect();
    have.sort();
    let mut expected: Vec<(String, String)> = [
        ("[method]buffer.size", "func(self: borrow<buffer>) -> u64"),
        ("[method]buffer.content-type", "func(self: borrow<buffer>) -> string"),
        ("[method]buffer.read", "func(self: borrow<buffer>, offset: u64, len: u64) -> list<u8>"),
        ("[method]buffer.read-all", "func(self: borrow<buffer>) -> list<u8>"),
        (
            "[method]mutable-buffer.write",
            "func(self: borrow<mutable-buffer>, offset: u64, bytes: list<u8>) -> result<_, buffer-error>",
        ),
        (
            "[method]mutable-buffer.append",
            "func(self: borrow<mutable-buffer>, bytes: list<u8>) -> result<_, buffer-error>",
        ),
        ("[method]mutable-buffer.size", "func(self: borrow<mutable-buffer>) -> u64"),
        ("[method]mutable-buffer.capacity", "func(self: borrow<mutable-buffer>) -> u64"),
        ("[method]mutable-buffer.set-content-type", "func(self: borrow<mutable-buffer>, content-type: string)"),
        ("[method]mutable-buffer.freeze", "func(self: borrow<mutable-buffer>) -> buffer"),
        ("[method]flow-context.trace-id", "func(self: borrow<flow-context>) -> string"),
        ("[method]flow-context.span-id", "func(self: borrow<flow-context>) -> string"),
        ("[method]flow-context.deadline-ns", "func(self: borrow<flow-context>) -> u64"),
        ("[method]flow-context.flow-id", "func(self: borrow<flow-context>) -> string"),
    ]
    .iter()
    .map(|(n, s)| (n.to_string(), s.to_string()))
    .collect();
    expected.sort();
    assert_eq!(have, expected);

    let type_names: BTreeSet<String> = resolve.interfaces[types].types.keys().cloned().collect();
    assert_eq!(
        type_names,
        set(&[
            "buffer",
            "mutable-buffer",
            "flow-context",
            "element-meta",
            "stream-element",
            "output-element",
            "process-result",
            "process-error",
            "buffer-error",
            "backpressure-signal",
        ])
    );

    for resource in ["buffer", "mutable-buffer", "flow-context"] {
        let id = type_id(&resolve, TYPES, resource);
        assert!(
            matches!(resolve.types[id].kind, TypeDefKind::Resource),
            "{resource} is a resource"
        );
    }

    let record_fields = |name: &str| -> Vec<(String, String)> {
        match &resolve.types[type_id(&resolve, TYPES, name)].kind {
            TypeDefKind::Record(r) => r
                .fields
                .iter()
                .map(|f| (f.name.clone(), render(&resolve, &f.ty)))
                .collect(),
            other => panic!("{name} should be a record, is {other:?}"),
        }
    };
    let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        record_fields("element-meta"),
        pairs(&[
            ("sequence", "u64"),
            ("timestamp-ns", "u64"),
            ("content-type", "string")
        ])
    );
    assert_eq!(
        record_fields("stream-element"),
        pairs(&[
            ("meta", "element-meta"),
            ("payload", "borrow<buffer>"),
            ("context", "borrow<flow-context>")
        ])
    );
    assert_eq!(
        record_fields("output-element"),
        pairs(&[("meta", "element-meta"), ("payload", "buffer")])
    );

    let variant_cases = |name: &str| -> Vec<(String, String)> {
        match &resolve.types[type_id(&resolve, TYPES, name)].kind {
            TypeDefKind::Variant(v) => v
                .cases
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.ty.as_ref().map_or(String::new(), |t| render(&resolve, t)),
                    )
                })
                .collect(),
            other => panic!("{name} should be a variant, is {other:?}"),
        }
    };
    assert_eq!(
        variant_cases("process-result"),
        pairs(&[("emit", "output-element"), ("drop", "")])
    );
    assert_eq!(
        variant_cases("process-error"),
        pairs(&[
            ("invalid-input", "string"),
            ("unavailable", "string"),
            ("internal", "string"),
            ("deadline-exceeded", ""),
            ("fatal", "string"),
        ])
    );
    assert_eq!(
        variant_cases("buffer-error"),
        pairs(&[
            ("capacity-exceeded", ""),
            ("out-of-bounds", ""),
            ("allocation-failed", "string")
        ])
    );

    match &resolve.types[type_id(&resolve, TYPES, "backpressure-signal")].kind {
        TypeDefKind::Enum(e) => {
            let cases: Vec<&str> = e.cases.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(cases, ["ready", "pause"]);
        }
        other => panic!("backpressure-signal should be an enum, is {other:?}"),
    }
}

#[test]
fn interface_functions_match_reference() {
    let resolve = load();
    let expected: &[(&str, &[(&str, &str)])] = &[
        (
            ALLOCATOR,
            &[
                ("allocate", "func(capacity-hint: u64) -> result<mutable-buffer, buffer-error>"),
                ("clone-into-mutable", "func(source: borrow<buffer>) -> result<mutable-buffer, buffer-error>"),
            ],
        ),
        (
            BUFFER_OPS,
            &[
                ("allocate", "func(capacity-hint: u64) -> result<mutable-buffer, buffer-error>"),
                ("clone-into-mutable", "func(source: borrow<buffer>) -> result<mutable-buffer, buffer-error>"),
            ],
        ),
        (PROCESSOR, &[("process", "func(input: stream-element) -> result<process-result, process-error>")]),
        (
            SOURCE,
            &[
                ("pull", "func() -> result<option<output-element>, process-error>"),
                ("notify-backpressure", "func(signal: backpressure-signal)"),
            ],
        ),
        (
            SINK,
            &[
                ("push", "func(element: stream-element) -> result<backpressure-signal, process-error>"),
                ("complete", "func() -> result<_, process-error>"),
            ],
        ),
        (LIFECYCLE, &[("init", "func(config: string) -> result<_, process-error>"), ("teardown", "func()")]),
        (FILTER, &[("evaluate", "func(element: stream-element) -> result<bool, process-error>")]),
        (ROUTER, &[("route", "func(element: stream-element) -> result<list<string>, process-error>")]),
        (
            AGGREGATOR,
            &[
                ("ingest", "func(element: stream-element) -> result<option<output-element>, process-error>"),
                ("flush", "func() -> result<list<output-element>, process-error>"),
            ],
        ),
    ];
    for (iface, functions) in expected {
        let id = interface(&resolve, iface);
        let names: Vec<&str> = resolve.interfaces[id]
            .functions
            .keys()
            .map(String::as_str)
            .collect();
        let expected_names: Vec<&str> = functions.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, expected_names, "functions of {iface}");
        for (name, sig) in *functions {
            let f = function(&resolve, iface, name);
            assert_eq!(signature(&resolve, f), *sig, "{iface}#{name}");
        }
    }
    assert_eq!(
        param_names(function(&resolve, PROCESSOR, "process")),
        ["input"]
    );
}

#[test]
fn shared_types_are_the_streaming_types() {
    // Every package must use the one `torvyn:streaming/types` definition, not
    // a copy: the host relies on a single resource type for `buffer`.
    let resolve = load();
    let canonical_buffer = type_id(&resolve, TYPES, "buffer");
    for iface in [ALLOCATOR, BUFFER_OPS] {
        let buffer = type_id(&resolve, iface, "buffer");
        assert_eq!(
            resolve_alias(&resolve, buffer),
            canonical_buffer,
            "{iface} buffer"
        );
    }
    let canonical_element = type_id(&resolve, TYPES, "stream-element");
    for iface in [PROCESSOR, SINK, FILTER, ROUTER, AGGREGATOR] {
        let element = type_id(&resolve, iface, "stream-element");
        assert_eq!(
            resolve_alias(&resolve, element),
            canonical_element,
            "{iface} stream-element"
        );
    }
    // Guests import `ProcessResult` from the processor module: the
    // processor interface must `use` it.
    let result = type_id(&resolve, PROCESSOR, "process-result");
    assert_eq!(
        resolve_alias(&resolve, result),
        type_id(&resolve, TYPES, "process-result")
    );
}

#[test]
fn standard_worlds_match_reference_table() {
    let resolve = load();
    let expected: &[(&str, &[&str], &[&str])] = &[
        (
            "torvyn:streaming/transform@0.1.0",
            &[TYPES, ALLOCATOR],
            &[PROCESSOR],
        ),
        (
            "torvyn:streaming/managed-transform@0.1.0",
            &[TYPES, ALLOCATOR],
            &[PROCESSOR, LIFECYCLE],
        ),
        (
            "torvyn:streaming/data-source@0.1.0",
            &[TYPES, ALLOCATOR],
            &[SOURCE],
        ),
        (
            "torvyn:streaming/managed-source@0.1.0",
            &[TYPES, ALLOCATOR],
            &[SOURCE, LIFECYCLE],
        ),
        ("torvyn:streaming/data-sink@0.1.0", &[TYPES], &[SINK]),
        (
            "torvyn:streaming/managed-sink@0.1.0",
            &[TYPES],
            &[SINK, LIFECYCLE],
        ),
        ("torvyn:filtering/content-filter@0.1.0", &[TYPES], &[FILTER]),
        ("torvyn:filtering/content-router@0.1.0", &[TYPES], &[ROUTER]),
        (
            "torvyn:aggregation/stream-aggregator@0.1.0",
            &[TYPES, ALLOCATOR],
            &[AGGREGATOR, LIFECYCLE],
        ),
    ];
    for (name, imports, exports) in expected {
        let w = &resolve.worlds[world(&resolve, name)];
        assert_eq!(
            world_interfaces(&resolve, w.imports.values()),
            set(imports),
            "imports of {name}"
        );
        assert_eq!(
            world_interfaces(&resolve, w.exports.values()),
            set(exports),
            "exports of {name}"
        );
    }

    // No other worlds: the table is the complete list.
    let mut all: BTreeSet<String> = BTreeSet::new();
    for (_, pkg) in resolve.packages.iter() {
        for w in pkg.worlds.keys() {
            let mut name = pkg.name.clone();
            let version = name.version.take().expect("versioned package");
            all.insert(format!("{name}/{w}@{version}"));
        }
    }
    assert_eq!(
        all,
        expected.iter().map(|(n, _, _)| n.to_string()).collect()
    );
}

#[test]
fn every_item_is_documented() {
    let resolve = load();
    let mut missing = Vec::new();
    let mut check = |what: String, docs: &Docs| {
        if docs.contents.as_deref().is_none_or(|d| d.trim().is_empty()) {
            missing.push(what);
        }
    };
    for (_, pkg) in resolve.packages.iter() {
        check(format!("package {}", pkg.name), &pkg.docs);
        for (name, &id) in &pkg.interfaces {
            let iface = &resolve.interfaces[id];
            check(format!("interface {}/{name}", pkg.name), &iface.docs);
            for f in iface.functions.values() {
                check(format!("function {}/{name}#{}", pkg.name, f.name), &f.docs);
            }
            for (ty_name, &ty) in &iface.types {
                let def = &resolve.types[ty];
                match &def.kind {
                    // `use` aliases carry no docs of their own.
                    TypeDefKind::Type(_) => continue,
                    TypeDefKind::Record(r) => {
                        for field in &r.fields {
                            check(
                                format!("field {name}.{ty_name}.{}", field.name),
                                &field.docs,
                            );
                        }
                    }
                    TypeDefKind::Variant(v) => {
                        for case in &v.cases {
                            check(format!("case {name}.{ty_name}.{}", case.name), &case.docs);
                        }
                    }
                    TypeDefKind::Enum(e) => {
                        for case in &e.cases {
                            check(format!("case {name}.{ty_name}.{}", case.name), &case.docs);
                        }
                    }
                    _ => {}
                }
                check(format!("type {}/{name}.{ty_name}", pkg.name), &def.docs);
            }
        }
        for (name, &id) in &pkg.worlds {
            check(
                format!("world {}/{name}", pkg.name),
                &resolve.worlds[id].docs,
            );
        }
    }
    assert!(missing.is_empty(), "undocumented WIT items: {missing:#?}");
}

#[test]
fn syntax_error_in_types_fails_to_parse() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let broken_dir = tmp.path().join("streaming");
    std::fs::create_dir(&broken_dir).unwrap();
    for entry in std::fs::read_dir(wit_root().join("streaming")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), broken_dir.join(entry.file_name())).unwrap();
    }

    // The pristine copy resolves...
    Resolve::default()
        .push_dir(&broken_dir)
        .expect("unmodified copy of wit/streaming resolves");

    // ...and the same package with one syntax error does not.
    let types_path = broken_dir.join("types.wit");
    let original = std::fs::read_to_string(&types_path).unwrap();
    let needle = "size: func() -> u64;";
    assert!(original.contains(needle));
    std::fs::write(
        &types_path,
        original.replacen(needle, "size: func( -> u64;", 1),
    )
    .unwrap();

    let mut resolve = Resolve::default();
    let err = resolve
        .push_dir(&broken_dir)
        .expect_err("broken types.wit must not parse");
    // wit-parser 0.254 keeps spans out of the error's Display; the resolve's
    // source map renders them as `file:line:col` plus a snippet.
    let message = resolve.render_error(&err);
    assert!(
        message.contains("types.wit"),
        "error should name the broken file: {message}"
    );
    assert!(
        message.contains("func( -> u64"),
        "error should quote the broken line: {message}"
    );
}
