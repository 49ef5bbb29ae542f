//! What can go wrong in `torvyn bench` before or after the flow runs.

use std::path::PathBuf;
use torvyn_runtime::error::{Coded, ErrorCode};

/// A `torvyn bench` error with its stable code.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// `--duration 0s`.
    #[error("--duration must be longer than zero")]
    ZeroDuration,
    /// `--regression-threshold` is negative or not a number.
    #[error("--regression-threshold `{0}` is not a percentage >= 0")]
    BadThreshold(String),
    /// `--baseline` is not a plain file name.
    #[error("baseline name `{0}` is not a plain name")]
    BadBaselineName(String),
    /// `--input NODE=CONFIG` names a node that is not a source of the flow.
    #[error("--input names `{node}`, which is not a source of flow '{flow}' (sources: {sources})")]
    UnknownSource {
        node: String,
        flow: String,
        sources: String,
    },
    /// `--input @FILE` could not be read.
    #[error("cannot read --input file `{}`: {source}", path.display())]
    InputUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The `--compare` file does not exist or cannot be read.
    #[error("cannot read the baseline `{}`: {source}", path.display())]
    BaselineUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The `--compare` file is not a benchmark report.
    #[error("`{}` is not a benchmark report: {reason}", path.display())]
    BaselineInvalid { path: PathBuf, reason: String },
    /// Writing the report or the baseline failed.
    #[error("cannot write `{}`: {source}", path.display())]
    WriteFailed {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Coded for BenchError {
    fn code(&self) -> ErrorCode {
        match self {
            BenchError::ZeroDuration
            | BenchError::BadThreshold(_)
            | BenchError::BadBaselineName(_)
            | BenchError::UnknownSource { .. }
            | BenchError::InputUnreadable { .. }
            // A baseline is a file named on the command line, like
            // `--input @FILE`: E0600 is the spec's code for a packaged
            // component artifact (`torvyn pack` / `publish`), not for it.
            | BenchError::BaselineUnreadable { .. }
            | BenchError::BaselineInvalid { .. }
            | BenchError::WriteFailed { .. } => ErrorCode::ConstraintViolation,
        }
    }

    fn help(&self) -> String {
        match self {
            BenchError::ZeroDuration => "write a duration like `5s` or `500ms`".into(),
            BenchError::BadThreshold(_) => "write a percentage like `10` or `2.5`".into(),
            BenchError::BadBaselineName(_) => {
                "use letters, digits, `.`, `_` and `-` only; the baseline is saved as .torvyn/bench/<NAME>.json".into()
            }
            BenchError::UnknownSource { .. } => {
                "write --input CONFIG for every source, or --input NODE=CONFIG for one".into()
            }
            BenchError::InputUnreadable { .. } => "check the path after `@`".into(),
            BenchError::BaselineUnreadable { .. } => {
                "save a baseline first with `torvyn bench --baseline NAME` (written to .torvyn/bench/NAME.json)".into()
            }
            BenchError::BaselineInvalid { .. } => {
                "pass a JSON report written by `torvyn bench --report-format json` or `--baseline`; it needs numeric `throughput_eps` and `latency_p99_us`".into()
            }
            BenchError::WriteFailed { .. } => "check that the directory exists and is writable".into(),
        }
    }
}
