//! Bindings for the batch test guests, generated in their `build.rs`.
//!
//! wit-bindgen 0.36 (and 0.46, 0.63) cannot lift a `list<stream-element>`
//! parameter of an export: each element's borrowed handles are kept in one
//! local declared outside the lifting loop, which the next element
//! overwrites while the previous element still borrows it (E0506). This
//! generates exactly what `wit_bindgen::generate!` would, then keeps those
//! handles in a vector reserved for the whole list (never reallocated, so
//! the borrows stay valid), dropped after the call as before: every
//! borrowed handle is still dropped before the export returns.

use std::path::{Path, PathBuf};
use wit_bindgen_core::wit_parser::Resolve;

/// The WIT packages the guests see, under the repository's `wit/`.
const PACKAGES: [&str; 5] = ["streaming", "resources", "filtering", "aggregation", "batching"];

/// Writes `$OUT_DIR/bindings.rs` for `world` of `torvyn:batching`, to
/// `include!` in place of `wit_bindgen::generate!`. The WIT is the
/// repository's: the nearest `wit/` above the guest crate that holds
/// `batching/`.
pub fn write_bindings(world: &str) -> anyhow::Result<()> {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let wit = crate_dir
        .ancestors()
        .map(|dir| dir.join("wit"))
        .find(|wit| wit.join("batching").is_dir())
        .ok_or_else(|| anyhow::anyhow!("no wit/batching above {}", crate_dir.display()))?;
    let mut resolve = Resolve::default();
    let mut last = None;
    for package in PACKAGES {
        let dir = wit.join(package);
        println!("cargo:rerun-if-changed={}", dir.display());
        let (id, _) = resolve.push_path(&dir)?;
        last = Some(id);
    }
    let package = last.ok_or_else(|| anyhow::anyhow!("no WIT package"))?;
    let world = resolve.select_world(package, Some(world))?;
    let opts = wit_bindgen_rust::Opts {
        generate_all: true,
        ..Default::default()
    };
    let mut files = Default::default();
    opts.build().generate(&resolve, world, &mut files)?;
    let (_, source) = files
        .iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("wit-bindgen wrote nothing"))?;
    let fixed = fix_list_handles(std::str::from_utf8(source)?);
    let out = Path::new(&std::env::var("OUT_DIR")?).join("bindings.rs");
    std::fs::write(out, fixed)?;
    Ok(())
}

/// In every lifting loop (`for i in 0..LEN {`), a handle local assigned
/// there (`handleN = EXPR;` … `&handleN`) becomes a vector of handles
/// reserved for `LEN` elements, each element borrowing its own entry.
/// Handle names are numbered per function, so each function is fixed on
/// its own.
pub fn fix_list_handles(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 1024);
    let mut function: Vec<&str> = Vec::new();
    for line in source.lines() {
        if line.contains("unsafe fn ") && !function.is_empty() {
            fix_function(&function, &mut out);
            function.clear();
        }
        function.push(line);
    }
    fix_function(&function, &mut out);
    out
}

fn fix_function(lines: &[&str], out: &mut String) {
    let mut len: Option<String> = None;
    let mut names: Vec<String> = Vec::new();
    for line in lines {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("for i in 0..") {
            len = rest.strip_suffix('{').map(|s| s.trim().to_string());
        } else if len.is_some() {
            if let Some(name) = assigned_handle(t) {
                names.push(name);
            }
        }
    }
    let Some(len) = len else {
        for line in lines {
            out.push_str(line);
            out.push('\n');
        }
        return;
    };
    for line in lines {
        let t = line.trim();
        let mut l = line.to_string();
        for name in &names {
            l = l.replace(
                &format!("let {name};"),
                &format!("let mut {name} = _rt::Vec::new();"),
            );
            if let Some(expr) = t.strip_prefix(&format!("{name} = ")) {
                let expr = expr.strip_suffix(';').unwrap_or(expr);
                l = format!(
                    "if {name}.capacity() == 0 {{ {name}.reserve_exact({len}); }} {name}.push({expr});"
                );
            } else if t == format!("&{name}") {
                l = format!("&*{name}.as_ptr().add({name}.len() - 1)");
            }
        }
        out.push_str(&l);
        out.push('\n');
    }
}

/// `handleN = EXPR;`: `Some("handleN")`.
fn assigned_handle(line: &str) -> Option<String> {
    let (name, _) = line.split_once(" = ")?;
    let digits = name.strip_prefix("handle")?;
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::fix_list_handles;

    #[test]
    fn a_handle_lifted_in_a_loop_gets_one_slot_per_element() {
        let generated = "pub unsafe fn _export_push_batch_cabi<T: Guest>(arg0: *mut u8,arg1: usize,) -> *mut u8 {_rt::run_ctors_once();let handle6;
let len9 = arg1;
for i in 0..len9 {
payload: {
handle6 = Buffer::from_handle(l5 as u32);
&handle6
},
}
pub unsafe fn _export_push_cabi<T: Guest>(arg4: i32) -> *mut u8 {let handle6;
payload: {
handle6 = Buffer::from_handle(arg4 as u32);
&handle6
},
}
";
        let fixed = fix_list_handles(generated);
        let (batch, single) = fixed.split_at(fixed.find("_export_push_cabi").expect("second fn"));
        assert!(batch.contains("let mut handle6 = _rt::Vec::new();"), "{batch}");
        assert!(
            batch.contains("if handle6.capacity() == 0 { handle6.reserve_exact(len9); } handle6.push(Buffer::from_handle(l5 as u32));"),
            "{batch}"
        );
        assert!(batch.contains("&*handle6.as_ptr().add(handle6.len() - 1)"), "{batch}");
        // The same name outside a loop, in another function, is untouched.
        assert!(single.contains("let handle6;"), "{single}");
        assert!(single.contains("\n&handle6\n"), "{single}");
    }
}
