//! Archive sink, compiled against contract 1.0.0 (`contracts/1.0.0/`, a
//! major release): it cannot be linked behind components compiled against
//! 0.x (E0201, different major versions), whatever it does.

wit_bindgen::generate!({
    world: "data-sink",
    path: "../../contracts/1.0.0/streaming",
});

use exports::torvyn::streaming::sink::Guest as SinkGuest;
use torvyn::streaming::types::{BackpressureSignal, ProcessError, StreamElement};

struct ArchiveSink;

impl SinkGuest for ArchiveSink {
    fn push(element: StreamElement) -> Result<BackpressureSignal, ProcessError> {
        println!("[archive-sink] seq={}", element.meta.sequence);
        Ok(BackpressureSignal::Ready)
    }

    fn complete() -> Result<(), ProcessError> {
        Ok(())
    }
}

export!(ArchiveSink);
