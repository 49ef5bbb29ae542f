//! The structural half of the compatibility check: given two views of the
//! same interface (a consumer's and a provider's, each as its component
//! was compiled), list what the consumer uses that the provider lacks —
//! types, record fields, enum and variant cases, functions — by name, with
//! field and parameter types compared structurally.
//!
//! wit-bindgen trims imports to what a component uses, so only items
//! present on the consumer's side are checked, and a type absent from the
//! provider's decoded WIT is only reported when `complete_provider` says
//! the provider's view is the whole interface (the runtime's own WIT).

use wit_parser::{Function, InterfaceId, Resolve, Type, TypeDefKind, TypeId};

/// One side of a comparison.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    /// The resolve the interface lives in.
    pub resolve: &'a Resolve,
    /// The interface.
    pub interface: InterfaceId,
}

/// What the consumer uses and the provider lacks, described for people
/// (``field `priority` of record `element-meta` ``). `check_functions`
/// also compares functions (against the runtime, which implements them;
/// across an edge, neither side implements the other's imports).
pub fn missing_items(
    consumer: Side<'_>,
    provider: Side<'_>,
    complete_provider: bool,
    check_functions: bool,
) -> Vec<String> {
    let mut missing = Vec::new();
    let c_iface = &consumer.resolve.interfaces[consumer.interface];
    let p_iface = &provider.resolve.interfaces[provider.interface];
    for (name, &c_ty) in &c_iface.types {
        match p_iface.types.get(name) {
            Some(&p_ty) => compare_types(
                name,
                consumer.resolve,
                c_ty,
                provider.resolve,
                p_ty,
                &mut missing,
            ),
            None if complete_provider => missing.push(format!("type `{name}`")),
            None => {}
        }
    }
    if check_functions {
        for (name, c_fn) in &c_iface.functions {
            match p_iface.functions.get(name) {
                Some(p_fn) => {
                    let (c_sig, p_sig) = (
                        signature(consumer.resolve, c_fn),
                        signature(provider.resolve, p_fn),
                    );
                    if c_sig != p_sig {
                        missing.push(format!(
                            "{} with signature `{c_sig}` (the provider has `{p_sig}`)",
                            describe_function(name)
                        ));
                    }
                }
                None => missing.push(describe_function(name)),
            }
        }
    }
    missing
}

fn describe_function(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("[method]") {
        format!("method `{rest}`")
    } else if let Some(rest) = name.strip_prefix("[static]") {
        format!("static function `{rest}`")
    } else if let Some(rest) = name.strip_prefix("[constructor]") {
        format!("constructor of `{rest}`")
    } else {
        format!("function `{name}`")
    }
}

fn compare_types(
    name: &str,
    c: &Resolve,
    c_ty: TypeId,
    p: &Resolve,
    p_ty: TypeId,
    missing: &mut Vec<String>,
) {
    let (ck, pk) = (&c.types[c_ty].kind, &p.types[p_ty].kind);
    match (ck, pk) {
        (TypeDefKind::Record(cr), TypeDefKind::Record(pr)) => {
            for field in &cr.fields {
                match pr.fields.iter().find(|f| f.name == field.name) {
                    None => missing.push(format!("field `{}` of record `{name}`", field.name)),
                    Some(pf) => {
                        let (cs, ps) = (render(c, &field.ty), render(p, &pf.ty));
                        if cs != ps {
                            missing.push(format!(
                                "field `{}` of record `{name}` of type `{cs}` (the provider's is `{ps}`)",
                                field.name
                            ));
                        }
                    }
                }
            }
        }
        (TypeDefKind::Variant(cv), TypeDefKind::Variant(pv)) => {
            for case in &cv.cases {
                if !pv.cases.iter().any(|pc| pc.name == case.name) {
                    missing.push(format!("case `{}` of variant `{name}`", case.name));
                }
            }
        }
        (TypeDefKind::Enum(ce), TypeDefKind::Enum(pe)) => {
            for case in &ce.cases {
                if !pe.cases.iter().any(|pc| pc.name == case.name) {
                    missing.push(format!("case `{}` of enum `{name}`", case.name));
                }
            }
        }
        (TypeDefKind::Flags(cf), TypeDefKind::Flags(pf)) => {
            for flag in &cf.flags {
                if !pf.flags.iter().any(|f| f.name == flag.name) {
                    missing.push(format!("flag `{}` of flags `{name}`", flag.name));
                }
            }
        }
        (TypeDefKind::Resource, TypeDefKind::Resource) => {}
        (a, b) if a.as_str() != b.as_str() => missing.push(format!(
            "type `{name}` as a {} (the provider's is a {})",
            a.as_str(),
            b.as_str()
        )),
        _ => {
            let (cs, ps) = (render_def(c, c_ty), render_def(p, p_ty));
            if cs != ps {
                missing.push(format!("type `{name}` = `{cs}` (the provider's is `{ps}`)"));
            }
        }
    }
}

fn signature(resolve: &Resolve, f: &Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, render(resolve, &p.ty)))
        .collect();
    match &f.result {
        Some(ty) => format!("func({}) -> {}", params.join(", "), render(resolve, ty)),
        None => format!("func({})", params.join(", ")),
    }
}

/// A type as WIT writes it; named types by name.
fn render(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "s8".into(),
        Type::S16 => "s16".into(),
        Type::S32 => "s32".into(),
        Type::S64 => "s64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::ErrorContext => "error-context".into(),
        Type::Id(id) => match &resolve.types[*id].name {
            Some(name) => name.clone(),
            None => render_def(resolve, *id),
        },
    }
}

fn render_opt(resolve: &Resolve, ty: &Option<Type>) -> String {
    ty.as_ref().map_or("_".into(), |t| render(resolve, t))
}

/// The structure of an anonymous (or aliased) type.
fn render_def(resolve: &Resolve, id: TypeId) -> String {
    match &resolve.types[id].kind {
        TypeDefKind::List(t) => format!("list<{}>", render(resolve, t)),
        TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", render(resolve, t)),
        TypeDefKind::Map(k, v) => format!("map<{}, {}>", render(resolve, k), render(resolve, v)),
        TypeDefKind::Option(t) => format!("option<{}>", render(resolve, t)),
        TypeDefKind::Result(r) => format!(
            "result<{}, {}>",
            render_opt(resolve, &r.ok),
            render_opt(resolve, &r.err)
        ),
        TypeDefKind::Tuple(t) => format!(
            "tuple<{}>",
            t.types
                .iter()
                .map(|t| render(resolve, t))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        TypeDefKind::Handle(wit_parser::Handle::Own(r)) => {
            format!("own<{}>", render(resolve, &Type::Id(*r)))
        }
        TypeDefKind::Handle(wit_parser::Handle::Borrow(r)) => {
            format!("borrow<{}>", render(resolve, &Type::Id(*r)))
        }
        TypeDefKind::Future(t) => format!("future<{}>", render_opt(resolve, t)),
        TypeDefKind::Stream(t) => format!("stream<{}>", render_opt(resolve, t)),
        TypeDefKind::Type(t) => render(resolve, t),
        other => other.as_str().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types_of(wit: &str) -> (Resolve, InterfaceId) {
        let mut resolve = Resolve::default();
        let pkg = resolve.push_source("t.wit", wit).unwrap();
        let id = resolve.packages[pkg].interfaces["types"];
        (resolve, id)
    }

    const V1: &str = "package torvyn:streaming@0.1.0;\ninterface types {\n  record element-meta { sequence: u64, content-type: string }\n  enum backpressure-signal { ready, pause }\n  resource buffer { size: func() -> u64; }\n}\n";
    const V2: &str = "package torvyn:streaming@0.2.0;\ninterface types {\n  record element-meta { sequence: u64, content-type: string, priority: u8 }\n  enum backpressure-signal { ready, pause }\n  resource buffer { size: func() -> u64; peek: func() -> u8; }\n}\n";

    #[test]
    fn a_field_the_provider_lacks_is_named() {
        let (c, ci) = types_of(V2);
        let (p, pi) = types_of(V1);
        let missing = missing_items(
            Side {
                resolve: &c,
                interface: ci,
            },
            Side {
                resolve: &p,
                interface: pi,
            },
            false,
            false,
        );
        assert_eq!(missing, ["field `priority` of record `element-meta`"]);
    }

    #[test]
    fn an_older_consumer_fits_a_newer_provider() {
        let (c, ci) = types_of(V1);
        let (p, pi) = types_of(V2);
        assert!(missing_items(
            Side {
                resolve: &c,
                interface: ci
            },
            Side {
                resolve: &p,
                interface: pi
            },
            true,
            true
        )
        .is_empty());
    }

    #[test]
    fn functions_are_compared_when_asked() {
        let (c, ci) = types_of(V2);
        let (p, pi) = types_of(V1);
        let missing = missing_items(
            Side {
                resolve: &c,
                interface: ci,
            },
            Side {
                resolve: &p,
                interface: pi,
            },
            true,
            true,
        );
        assert!(
            missing.contains(&"method `buffer.peek`".to_string()),
            "{missing:?}"
        );
    }

    #[test]
    fn a_changed_field_type_is_reported() {
        let (c, ci) = types_of(&V1.replace("sequence: u64", "sequence: u32"));
        let (p, pi) = types_of(V1);
        let missing = missing_items(
            Side {
                resolve: &c,
                interface: ci,
            },
            Side {
                resolve: &p,
                interface: pi,
            },
            false,
            false,
        );
        assert_eq!(missing.len(), 1);
        assert!(
            missing[0].contains("`u32`") && missing[0].contains("`u64`"),
            "{missing:?}"
        );
    }
}
