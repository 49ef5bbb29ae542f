//! What both IPC baselines share: their command line, the message they
//! send, latency recording (an HDR histogram of per-message end-to-end
//! latency, source send → sink receive) and the JSON result, whose field
//! names match `torvyn bench --report-format json` (`throughput_eps`,
//! `latency_p50_us`, `latency_p99_us`, `total_copies`).

use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// Default messages in flight at most (the Torvyn flow's queue depth is
/// 64 too). `--window 1` is a synchronous call chain: one message at a
/// time, as a single Torvyn flow moves one element at a time.
pub const WINDOW: usize = 64;

/// `--iterations N --payload-size N --warmup N [--window N] [--output json]`, or
/// `--serve ADDRESS` for the processor's child process.
#[derive(Debug, Clone)]
pub struct Args {
    pub iterations: u64,
    pub payload_size: usize,
    pub warmup: u64,
    pub window: usize,
    pub serve: Option<String>,
}

impl Args {
    /// Parses the process arguments (defaults: 100,000 × 64 B, 1,000 warmup).
    pub fn parse() -> Result<Self, String> {
        let mut args = Args {
            iterations: 100_000,
            payload_size: 64,
            warmup: 1_000,
            window: WINDOW,
            serve: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or(format!("{flag} needs a value"));
            match flag.as_str() {
                "--iterations" => args.iterations = number(&value()?)?,
                "--payload-size" => args.payload_size = number(&value()?)? as usize,
                "--warmup" => args.warmup = number(&value()?)?,
                "--window" => args.window = (number(&value()?)? as usize).max(1),
                "--output" => {
                    let v = value()?;
                    if v != "json" {
                        return Err(format!("--output {v}: only json is written"));
                    }
                }
                "--serve" => args.serve = Some(value()?),
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(args)
    }

    /// The arguments a child process gets to serve at `address`.
    pub fn serve_args(address: &str) -> Vec<String> {
        vec!["--serve".into(), address.into()]
    }
}

fn number(s: &str) -> Result<u64, String> {
    s.parse().map_err(|_| format!("`{s}` is not a number"))
}

/// The source's message: `payload_size` bytes, `a`..`z` repeating.
pub fn message(payload_size: usize) -> Vec<u8> {
    (0..payload_size).map(|i| b'a' + (i % 26) as u8).collect()
}

/// The processor's work: the payload with the 8-byte timestamp appended.
pub fn stamp(payload: &[u8], timestamp_ns: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(payload);
    out.extend_from_slice(&timestamp_ns.to_le_bytes());
    out
}

/// The timestamp the processor appended (the last 8 bytes).
pub fn stamped_time(stamped: &[u8]) -> u64 {
    let mut ts = [0u8; 8];
    if stamped.len() >= 8 {
        ts.copy_from_slice(&stamped[stamped.len() - 8..]);
    }
    u64::from_le_bytes(ts)
}

/// Nanoseconds since the recorder's start (the client's clock).
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn new() -> Self {
        Clock(Instant::now())
    }
    pub fn now_ns(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// Latencies of the measured messages (the warmup ones are not recorded).
pub struct Recorder {
    warmup: u64,
    seen: u64,
    histogram: Histogram<u64>,
    started: Option<Instant>,
    finished: Option<Instant>,
}

impl Recorder {
    pub fn new(warmup: u64) -> Self {
        Self {
            warmup,
            seen: 0,
            histogram: Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram bounds"),
            // With no warmup the window opens now.
            started: (warmup == 0).then(Instant::now),
            finished: None,
        }
    }

    /// One message reached the sink `latency_ns` after the source sent it.
    pub fn record(&mut self, latency_ns: u64) {
        self.seen += 1;
        if self.seen == self.warmup {
            self.started = Some(Instant::now());
        }
        if self.seen > self.warmup {
            let _ = self.histogram.record(latency_ns.max(1));
            self.finished = Some(Instant::now());
        }
    }

    /// The JSON result.
    pub fn result(&self, method: &str, args: &Args, copies_per_element: u64) -> serde_json::Value {
        let measured = match (self.started, self.finished) {
            (Some(a), Some(b)) => b.duration_since(a),
            _ => Duration::ZERO,
        };
        let n = self.histogram.len();
        let us = |ns: u64| (ns as f64 / 1_000.0 * 1_000.0).round() / 1_000.0;
        let q = |q: f64| us(self.histogram.value_at_quantile(q));
        serde_json::json!({
            "method": method,
            "throughput_eps": if measured.is_zero() { 0.0 } else { (n as f64 / measured.as_secs_f64()).round() },
            "latency_p50_us": q(0.50),
            "latency_p90_us": q(0.90),
            "latency_p99_us": q(0.99),
            "latency_p999_us": q(0.999),
            "latency_max_us": us(self.histogram.max()),
            "total_copies": n * copies_per_element,
            "copies_per_element": copies_per_element,
            "elements": n,
            "measured_s": measured.as_secs_f64(),
            "settings": {
                "iterations": args.iterations,
                "payload_size": args.payload_size,
                "warmup": args.warmup,
                "window": args.window,
            },
            "machine": {
                "os": std::env::consts::OS,
                "arch": std::env::consts::ARCH,
                "cpus": std::thread::available_parallelism().map_or(1, |c| c.get()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_appends_and_reads_back_the_time() {
        let m = message(64);
        assert_eq!(m.len(), 64);
        let s = stamp(&m, 0x0102_0304_0506_0708);
        assert_eq!(s.len(), 72);
        assert_eq!(&s[..64], &m[..]);
        assert_eq!(stamped_time(&s), 0x0102_0304_0506_0708);
    }

    #[test]
    fn warmup_messages_are_not_measured() {
        let mut r = Recorder::new(2);
        for ns in [1_000_000, 1_000_000, 5_000, 7_000] {
            r.record(ns);
        }
        let args = Args {
            iterations: 2,
            payload_size: 64,
            warmup: 2,
            window: 1,
            serve: None,
        };
        let json = r.result("x", &args, 3);
        assert_eq!(json["elements"], 2);
        assert_eq!(json["total_copies"], 6);
        assert!(json["latency_p99_us"].as_f64().unwrap() < 10.0);
    }
}
