//! A minimal HTTP/1.1 client for the inspection API tests: one request per
//! connection (`Connection: close`), over a Unix socket or TCP.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

/// An answer: status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// Headers, lowercased names.
    pub headers: Vec<(String, String)>,
    /// Body, as text.
    pub body: String,
}

impl HttpReply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Where to connect.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A Unix domain socket.
    Unix(&'a Path),
    /// A TCP address (`127.0.0.1:9464`).
    Tcp(&'a str),
}

/// Sends one request (`extra_headers` as `Name: value` lines) and reads
/// the whole reply.
pub fn http(
    target: Target<'_>,
    method: &str,
    path: &str,
    extra_headers: &[&str],
    body: &str,
) -> HttpReply {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in extra_headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut raw = Vec::new();
    match target {
        Target::Unix(path) => {
            let mut s = std::os::unix::net::UnixStream::connect(path)
                .unwrap_or_else(|e| panic!("connect {}: {e}", path.display()));
            s.write_all(request.as_bytes()).expect("write");
            s.read_to_end(&mut raw).expect("read");
        }
        Target::Tcp(addr) => {
            let mut s = std::net::TcpStream::connect(addr)
                .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
            s.write_all(request.as_bytes()).expect("write");
            s.read_to_end(&mut raw).expect("read");
        }
    }
    parse(&String::from_utf8_lossy(&raw))
}

fn parse(raw: &str) -> HttpReply {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {raw:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    HttpReply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// Runs `promtool check metrics` on `text`; panics with its output when it
/// rejects it. When promtool is missing, says so loudly and checks nothing,
/// unless `TORVYN_REQUIRE_TOOLS=1` (`.ci/run` installs it and sets that).
pub fn promtool_check_metrics(text: &str) {
    if !crate::tools::outside_tool(
        "promtool",
        "Debian package `prometheus`",
        "that promtool accepts the /metrics exposition",
    ) {
        return;
    }
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool runs (Debian package `prometheus`; .ci/run installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool finishes");
    assert!(
        out.status.success(),
        "promtool check metrics rejected the output:\n{}{}\n--- metrics ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
}
