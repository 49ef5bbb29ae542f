//! Builds the [`Sink`] for the configured exporter, on the caller's
//! thread, so configuration mistakes surface from `SpanExporter::start`.

use super::config::{ExportConfig, StdStream};
use super::error::ExportError;
use super::http::OtlpHttp;
use super::sink::{JsonLines, Sink};
use torvyn_runtime::config::TracingExporter;

/// The sink for `config`, or `None` when export is disabled.
pub(crate) fn build_sink(config: &ExportConfig) -> Result<Option<Box<dyn Sink>>, ExportError> {
    let sink: Box<dyn Sink> = match config.exporter {
        TracingExporter::Disabled => return Ok(None),
        TracingExporter::OtlpHttp => Box::new(OtlpHttp::new(
            config.http_url()?,
            config.headers.clone(),
            config.compression,
        )),
        TracingExporter::OtlpGrpc => super::grpc::OtlpGrpc::connect_lazy(config)?,
        TracingExporter::Stdout => match config.std_stream()? {
            StdStream::Stdout => Box::new(JsonLines::new(std::io::stdout())),
            StdStream::Stderr => Box::new(JsonLines::new(std::io::stderr())),
        },
        TracingExporter::File => {
            let path = config.file_path()?;
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| ExportError::File {
                    path: path.to_string(),
                    source,
                })?;
            Box::new(JsonLines::new(file))
        }
    };
    Ok(Some(sink))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_valid_config_builds_a_sink() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("t.jsonl");
        let file = file.to_str().expect("utf-8 path");
        assert!(
            build_sink(&ExportConfig::new(TracingExporter::Disabled, ""))
                .expect("none")
                .is_none()
        );
        for (exporter, endpoint) in [
            (TracingExporter::OtlpHttp, "http://127.0.0.1:1"),
            (TracingExporter::Stdout, "stderr"),
            (TracingExporter::File, file),
        ] {
            assert!(build_sink(&ExportConfig::new(exporter, endpoint))
                .expect(endpoint)
                .is_some());
        }
    }

    #[test]
    fn an_unwritable_file_is_a_startup_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("missing-dir").join("t.jsonl");
        let path = path.to_str().expect("utf-8 path");
        let err = build_sink(&ExportConfig::new(TracingExporter::File, path))
            .err()
            .expect("no directory");
        assert!(matches!(err, ExportError::File { .. }), "{err}");
    }
}
