//! An embedder can take the guests' stdout (`EngineConfig::guest_outputs`,
//! what `torvyn run` does to keep its progress line on a shared
//! terminal): every byte the guests print reaches its sink, in order.

use crate::common::*;
use torvyn_runtime::engine::{EngineConfig, WasmEngine};

/// Guest output the embedder takes instead of the process's stdout.
#[derive(Default)]
struct Captured(std::sync::Mutex<Vec<u8>>, std::sync::atomic::AtomicUsize);

impl torvyn_runtime::engine::GuestOutput for Captured {
    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

#[test]
fn guest_stdout_goes_to_the_embedders_sink_when_it_takes_it() {
    let captured = std::sync::Arc::new(Captured::default());
    let engine = WasmEngine::new(EngineConfig {
        cache_dir: None,
        guest_outputs: torvyn_runtime::engine::GuestOutputs {
            stdout: Some(captured.clone()),
            stderr: None,
        },
        ..EngineConfig::default()
    })
    .expect("engine");
    let stages = source_sink_on(&engine, 20, "slow-sink", r#"{"log_lengths": 1}"#);
    let host = host_on(&engine, 1);
    let id = host.start_flow(spec("captured", stages)).expect("starts");
    host.await_completion(id).expect("completes");
    host.shutdown();
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text.matches("[slow-sink] len=").count(), 20, "{text}");
    assert!(text.ends_with("[slow-sink] received=20\n"), "{text}");
}
