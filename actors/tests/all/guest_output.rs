//! An embedder can take the guests' stdout (`EngineConfig::guest_outputs`,
//! what `torvyn run` does to keep its progress line on a shared
//! terminal): every byte the guests print reaches its sink, in order.

use crate::common::*;

#[test]
fn guest_stdout_goes_to_the_embedders_sink_when_it_takes_it() {
    let (engine, captured) = engine_capturing_stdout();
    let stages = source_sink_on(&engine, 20, "slow-sink", r#"{"log_lengths": 1}"#);
    let host = host_on(&engine, 1);
    let id = host.start_flow(spec("captured", stages)).expect("starts");
    host.await_completion(id).expect("completes");
    host.shutdown();
    let text = captured.text();
    assert_eq!(text.matches("[slow-sink] len=").count(), 20, "{text}");
    assert!(text.ends_with("[slow-sink] received=20\n"), "{text}");
}
