//! Fuzz target: `torvyn_fuzz::artifact` (see ../src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = torvyn_fuzz::artifact(data);
});
