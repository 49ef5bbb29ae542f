//! The WIT bindings of `torvyn:batching/batched-source` (see `batch-bindgen`
//! for why not `wit_bindgen::generate!`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    batch_bindgen::write_bindings("batched-source")?;
    Ok(())
}
