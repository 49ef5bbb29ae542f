//! Generates the gRPC client and server from proto/pipeline.proto.
//!
//! The .proto file is parsed by `protox` (pure Rust), so building needs no
//! `protoc` binary; tonic-build generates the code from its descriptors.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/pipeline.proto");
    let descriptors = protox::compile(["proto/pipeline.proto"], ["proto"])?;
    tonic_build::configure().compile_fds(descriptors)?;
    Ok(())
}
