//! Host-wide figures of the metrics catalog's system section that no actor
//! counts itself: the worker schedulers' wake-ups and idle time
//! (`system.scheduler.*`, from each worker arbiter's tokio runtime) and
//! the process's memory (`system.memory.*`).

use std::time::{Duration, Instant};
use tokio::runtime::RuntimeMetrics;

/// The schedulers of the worker arbiters that run the flows.
#[derive(Debug, Clone)]
pub struct WorkerSchedulers {
    runtimes: Vec<RuntimeMetrics>,
    started: Instant,
}

/// What the worker schedulers did since the host started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SchedulerStats {
    /// Times a worker parked for lack of work and was woken again
    /// (`system.scheduler.wakeups`).
    pub wakeups: u64,
    /// Time the workers spent with no task to run, summed over workers
    /// (`system.scheduler.idle_ns`).
    pub idle: Duration,
}

impl WorkerSchedulers {
    /// The schedulers of `runtimes` (one per worker arbiter, each a
    /// single-threaded runtime), started now.
    pub fn new(runtimes: Vec<RuntimeMetrics>) -> Self {
        Self {
            runtimes,
            started: Instant::now(),
        }
    }

    /// Wake-ups and idle time so far.
    pub fn stats(&self) -> SchedulerStats {
        let elapsed = self.started.elapsed();
        let mut stats = SchedulerStats::default();
        for runtime in &self.runtimes {
            for worker in 0..runtime.num_workers() {
                stats.wakeups += runtime.worker_park_count(worker);
                let busy = runtime.worker_total_busy_duration(worker);
                stats.idle += elapsed.saturating_sub(busy);
            }
        }
        stats
    }
}

/// The process's resident memory in bytes (`None` where `/proc` is not
/// there to tell).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_rss(&status)
}

/// `VmRSS:   123456 kB` → bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line["VmRSS:".len()..].split_whitespace();
    let kib: u64 = words.next()?.parse().ok()?;
    (words.next()? == "kB").then_some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_parsed_and_anything_else_is_not() {
        let status = "Name:\ttorvyn\nVmPeak:\t  9000 kB\nVmRSS:\t   2048 kB\nThreads:\t4\n";
        assert_eq!(parse_vm_rss(status), Some(2048 * 1024));
        assert_eq!(parse_vm_rss("VmRSS:\t12 MB\n"), None);
        assert_eq!(parse_vm_rss("VmRSS:\tmany kB\n"), None);
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }

    #[test]
    fn resident_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let bytes = resident_bytes().expect("/proc/self/statm");
            // A test process holds at least a few pages and far less than 1 TiB.
            assert!(bytes > 64 * 1024, "{bytes}");
            assert!(bytes < 1 << 40, "{bytes}");
        }
    }

    #[test]
    fn a_busy_then_idle_worker_counts_idle_time_and_wakeups() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let schedulers = WorkerSchedulers::new(vec![runtime.metrics()]);
        for _ in 0..3 {
            // Nothing to run until another thread answers: the worker parks.
            let (tx, rx) = tokio::sync::oneshot::channel();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                let _ = tx.send(());
            });
            runtime.block_on(rx).unwrap();
        }
        let stats = schedulers.stats();
        assert!(stats.wakeups >= 3, "{stats:?}");
        assert!(stats.idle >= Duration::from_millis(10), "{stats:?}");
        assert!(stats.idle <= schedulers.started.elapsed(), "{stats:?}");
    }
}
