//! `fs-reader`: a managed source (`torvyn:streaming/managed-source`) that
//! emits the content of one file, read with `std::fs` (so the component
//! imports `wasi:filesystem` and needs a filesystem grant to see anything).
//!
//! Config (`lifecycle.init`, JSON object):
//!
//! - `path` (default `/data/input/a.txt`): the file to read, as the guest
//!   sees it (a granted directory is preopened at the grant's path).
//! - `repeat` (default 1): how many times to emit it; 0 = forever.
//! - `clock_reads` (default 0): wall-clock reads per pull (the capability
//!   tests count the denials of an ungranted clock).
//! - `write_path` (default none): a file to (try to) write on each pull;
//!   the outcome is not emitted (the capability tests count a refused
//!   write under a read-only grant).
//!
//! Each `pull` reads the file with `std::fs::read_to_string` and emits its
//! content as one `text/plain` element (`meta.sequence` = the pull's
//! index); if reading fails it emits the text `ERROR: <io::ErrorKind as
//! Debug>` instead (e.g. `ERROR: NotFound`), so a test can see a denial.
//! After `repeat` elements, `pull` returns `none`.

wit_bindgen::generate!({
    world: "torvyn:streaming/managed-source",
    path: [
        "../../../wit/streaming",
        "../../../wit/resources",
        "../../../wit/filtering",
        "../../../wit/aggregation",
    ],
});

use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use exports::torvyn::streaming::source::Guest as SourceGuest;
use guest_util::{Config, Global};
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{BackpressureSignal, ElementMeta, OutputElement, ProcessError};

const CONTENT_TYPE: &str = "text/plain";
const DEFAULT_PATH: &str = "/data/input/a.txt";

struct FsReader {
    path: String,
    repeat: u64,
    clock_reads: u64,
    write_path: Option<String>,
    emitted: u64,
}

impl Default for FsReader {
    fn default() -> Self {
        FsReader {
            path: DEFAULT_PATH.to_string(),
            repeat: 1,
            clock_reads: 0,
            write_path: None,
            emitted: 0,
        }
    }
}

static STATE: Global<FsReader> = Global::new();

impl LifecycleGuest for FsReader {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        let path = parsed
            .str_opt("path")
            .map_err(ProcessError::InvalidInput)?
            .unwrap_or(DEFAULT_PATH)
            .to_string();
        let repeat = parsed.u64_or("repeat", 1).map_err(ProcessError::InvalidInput)?;
        let clock_reads = parsed
            .u64_or("clock_reads", 0)
            .map_err(ProcessError::InvalidInput)?;
        let write_path = parsed
            .str_opt("write_path")
            .map_err(ProcessError::InvalidInput)?
            .map(str::to_string);
        STATE.set(FsReader {
            path,
            repeat,
            clock_reads,
            write_path,
            emitted: 0,
        });
        Ok(())
    }

    fn teardown() {}
}

impl SourceGuest for FsReader {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        STATE.with(|s| {
            if s.repeat != 0 && s.emitted >= s.repeat {
                return Ok(None);
            }
            let sequence = s.emitted;
            s.emitted += 1;
            for _ in 0..s.clock_reads {
                std::hint::black_box(std::time::SystemTime::now());
            }
            if let Some(path) = &s.write_path {
                let _ = std::fs::write(path, b"written by fs-reader");
            }
            let text = match std::fs::read_to_string(&s.path) {
                Ok(content) => content,
                Err(e) => format!("ERROR: {:?}", e.kind()),
            };
            let bytes = text.as_bytes();
            let buffer = buffer_allocator::allocate(bytes.len() as u64).map_err(|e| {
                ProcessError::Unavailable(format!("fs-reader: allocate failed: {e:?}"))
            })?;
            buffer
                .append(bytes)
                .map_err(|e| ProcessError::Internal(format!("fs-reader: append failed: {e:?}")))?;
            buffer.set_content_type(CONTENT_TYPE);
            Ok(Some(OutputElement {
                meta: ElementMeta {
                    sequence,
                    timestamp_ns: 0,
                    content_type: CONTENT_TYPE.to_string(),
                },
                payload: buffer.freeze(),
            }))
        })
    }

    fn notify_backpressure(_signal: BackpressureSignal) {}
}

export!(FsReader);
