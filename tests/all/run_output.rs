//! Which stream carries what in `torvyn run`: the guests' output on
//! stdout, the runtime's lines (header, summary, errors, the live progress
//! line) on stderr, and the progress line only when stderr is a terminal.

use crate::harness::{command, component, torvyn, Project, Run, PROCESSOR, SINK, SOURCE};
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;

/// The `[hello-sink]` lines of hello-world's expected-output.txt.
fn hello_sink_lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("expected-output.txt"))
        .expect("expected-output.txt")
        .lines()
        .filter(|l| l.starts_with("[hello-sink]"))
        .map(str::to_string)
        .collect()
}

/// With stdout piped, stdout is exactly the guest's lines, and stderr has
/// the whole summary and no progress line (stderr is no terminal either).
#[test]
fn piped_stdout_carries_only_guest_lines_and_stderr_the_summary() {
    let dir = torvyn_e2e::hello_world_dir();
    torvyn_e2e::build_hello_world();
    let run = torvyn(&dir, &["run", "flow.main"]);
    run.expect_code(0);
    let stdout: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(stdout, hello_sink_lines(&dir), "stdout: guests only");
    for needle in [
        "[torvyn] Running flow 'main'",
        "[torvyn] Flow 'main' completed. 5 elements processed.",
        "Duration: ",
        "Copies: 10",
        "Peak queue depth: 1",
        "[torvyn] Throughput: ~",
    ] {
        assert!(run.stderr.contains(needle), "{needle:?} in\n{}", run.stderr);
    }
    assert!(!run.stderr.contains("[hello-sink]"), "{}", run.stderr);
    assert!(
        !run.stderr.contains(['\r', '\x1b']),
        "no progress drawing on a pipe:\n{:?}",
        run.stderr
    );
}

/// A flow that fails to start leaves stdout empty: the error goes to stderr,
/// and no summary is printed.
#[test]
fn piped_stdout_stays_empty_when_the_flow_fails() {
    let project = failing_project();
    let run = project.run(&["run", "flow.main"]);
    run.expect_code(1);
    assert_eq!(run.stdout, "", "stdout: nothing but guest output");
    assert!(run.stderr.contains("error["), "{}", run.stderr);
    assert!(!run.stderr.contains("completed."), "{}", run.stderr);
    assert!(!run.stderr.contains("Throughput:"), "{}", run.stderr);
}

/// counter-source → error-processor whose init fails → quiet-sink.
fn failing_project() -> Project {
    let source = component("counter-source");
    let broken = component("error-processor");
    let sink = component("quiet-sink");
    Project::linear(&[
        ("source", &source, SOURCE, r#"{"count": 10}"#),
        ("broken", &broken, PROCESSOR, r#"{"kind": "no-such-kind"}"#),
        ("sink", &sink, SINK, "{}"),
    ])
}

/// Runs `torvyn <args>` in `dir` with stderr on a pseudo-terminal and
/// stdout piped: (exit code, stdout, everything written to the terminal).
fn run_with_terminal_stderr(dir: &Path, args: &[&str]) -> Run {
    let (master, slave) = open_pty();
    let mut child = command(dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave))
        .spawn()
        .expect("the torvyn binary runs");
    let reader = read_terminal(master);
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read stdout");
    let status = child.wait().expect("torvyn exits");
    // Our copy of the slave went into the child's Command, dropped with it.
    let stderr = reader.join().expect("pty reader");
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// Runs `torvyn <args>` in `dir` with stdout and stderr on the same
/// pseudo-terminal, as in an interactive shell: (exit code, everything
/// written to the terminal).
fn run_on_terminal(dir: &Path, args: &[&str]) -> (i32, String) {
    let (master, slave) = open_pty();
    let second = slave.try_clone().expect("dup the pty slave");
    let child = command(dir, args)
        .stdout(Stdio::from(slave))
        .stderr(Stdio::from(second))
        .spawn()
        .expect("the torvyn binary runs");
    let reader = read_terminal(master);
    let output = child.wait_with_output().expect("torvyn exits");
    let seen = reader.join().expect("pty reader");
    (output.status.code().unwrap_or(-1), seen)
}

/// Removes ANSI escape sequences (the progress line's cursor moves and
/// erasures).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// In an interactive shell stdout and stderr are one terminal: the
/// progress line is drawn, and every line a guest prints reaches the
/// terminal whole, on a line of its own — never cut by the progress line.
#[test]
fn a_shared_terminal_gets_the_progress_line_and_whole_guest_lines() {
    let (source, sink) = (component("counter-source"), component("slow-sink"));
    let project = Project::linear(&[
        ("source", &source, SOURCE, r#"{"count": 300}"#),
        (
            "sink",
            &sink,
            SINK,
            r#"{"log_lengths": 1, "spin": 2000000}"#,
        ),
    ]);
    let (code, seen) = run_on_terminal(project.path(), &["run", "flow.main"]);
    assert_eq!(code, 0, "{seen}");
    let text = strip_ansi(&seen);
    let first_progress = text
        .find(" elements | ")
        .unwrap_or_else(|| panic!("no progress line on the shared terminal: {seen:?}"));
    let last_length = text.rfind("[slow-sink] len=").expect("guest lines");
    assert!(
        first_progress < last_length,
        "the progress line is drawn while the guest prints: {seen:?}"
    );
    // Each guest line is whole: after the progress line is cleared (a
    // carriage return) it starts a line, and it ends with its newline.
    let guest_lines: Vec<&str> = text
        .split(['\r', '\n'])
        .filter(|l| l.contains("[slow-sink]"))
        .collect();
    let lengths = guest_lines
        .iter()
        .filter(|l| **l == "[slow-sink] len=64")
        .count();
    assert_eq!(lengths, 300, "whole guest lines: {guest_lines:?}");
    assert!(
        guest_lines.contains(&"[slow-sink] received=300"),
        "{guest_lines:?}"
    );
    assert_eq!(
        guest_lines.len(),
        301,
        "no guest line cut or merged with the progress line: {guest_lines:?}"
    );
    let summary = text
        .rfind("Flow 'main' completed. 300 elements processed.")
        .unwrap_or_else(|| panic!("no summary in {text:?}"));
    assert!(text[summary..].contains("Throughput: ~"));
}

/// Everything written to the terminal of `master`, read on a thread
/// until the last slave closes.
fn read_terminal(master: OwnedFd) -> std::thread::JoinHandle<String> {
    let mut terminal = std::fs::File::from(master);
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut chunk = [0u8; 4096];
        // Linux reports EIO on the master once the last slave fd closes.
        while let Ok(n) = terminal.read(&mut chunk) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8_lossy(&seen).into_owned()
    })
}

/// A pseudo-terminal 120 columns wide: (master, slave).
fn open_pty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two fds into the out-pointers; the name and
    // termios pointers may be null, and `size` outlives the call.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both fds were just opened by openpty and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// On a terminal's stderr (stdout piped), the live progress line shows
/// the flow's state, elements, throughput and errors, and is cleared
/// before the summary, which still follows; stdout is unchanged.
#[test]
fn terminal_stderr_shows_the_progress_line_then_the_summary() {
    let dir = torvyn_e2e::hello_world_dir();
    torvyn_e2e::build_hello_world();
    let run = run_with_terminal_stderr(&dir, &["run", "flow.main"]);
    run.expect_code(0);
    let stdout: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(stdout, hello_sink_lines(&dir), "stdout: guests only");
    let progress = run
        .stderr
        .find(" elements | ")
        .unwrap_or_else(|| panic!("no progress line in {:?}", run.stderr));
    assert!(run.stderr[progress..].contains(" elem/s | "));
    assert!(run.stderr[progress..].contains(" errors"));
    let summary = run
        .stderr
        .rfind("Flow 'main' completed. 5 elements processed.")
        .unwrap_or_else(|| panic!("no summary in {:?}", run.stderr));
    assert!(progress < summary, "progress before the summary");
    assert!(run.stderr[summary..].contains("Throughput: ~"));
    assert!(
        !run.stderr[summary..].contains(" elements | "),
        "the line is not redrawn after the summary: {:?}",
        &run.stderr[summary..]
    );
}

/// With `--format json` a terminal's stderr gets no progress line, and
/// stdout ends with the JSON summary.
#[test]
fn terminal_stderr_gets_no_progress_line_with_json_output() {
    let dir = torvyn_e2e::hello_world_dir();
    torvyn_e2e::build_hello_world();
    let run = run_with_terminal_stderr(&dir, &["run", "flow.main", "--format", "json"]);
    run.expect_code(0);
    assert!(
        !run.stderr.contains(" elements | "),
        "no progress line with --format json: {:?}",
        run.stderr
    );
    let json = crate::harness::json_summary(&run);
    assert_eq!(json["elements_delivered"], 5);
}

/// A flow that fails on a terminal's stderr: the progress line is cleared
/// and the error is reported, with no summary.
#[test]
fn terminal_stderr_reports_a_failure_after_the_progress_line() {
    let project = failing_project();
    let run = run_with_terminal_stderr(project.path(), &["run", "flow.main"]);
    run.expect_code(1);
    let progress = run
        .stderr
        .find(" elements | ")
        .unwrap_or_else(|| panic!("no progress line in {:?}", run.stderr));
    let error = run
        .stderr
        .rfind("error[")
        .unwrap_or_else(|| panic!("no error in {:?}", run.stderr));
    assert!(progress < error, "the error follows the progress line");
    assert!(!run.stderr.contains("completed."), "{:?}", run.stderr);
}

/// counter-source (never ends) → passthrough → quiet-sink.
fn endless_project() -> Project {
    let (source, pass, sink) = (
        component("counter-source"),
        component("passthrough"),
        component("quiet-sink"),
    );
    Project::linear(&[
        ("source", &source, SOURCE, r#"{"count": 0}"#),
        ("pass", &pass, PROCESSOR, ""),
        ("sink", &sink, SINK, ""),
    ])
}

/// Starts `torvyn run` on an endless flow, waits until it runs, sends
/// `signal` (`then`, a second one, after the first was heard), and
/// returns (exit code, stdout, stderr).
fn interrupt_run(signal: i32, then: Option<i32>) -> (i32, String, String) {
    use std::io::{BufRead, BufReader};
    let project = endless_project();
    let mut child = command(project.path(), &["run", "flow.main"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("torvyn run starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut lines = Vec::new();
    let mut wait_for = |needle: &str, lines: &mut Vec<String>| loop {
        let mut line = String::new();
        let read = stderr.read_line(&mut line).expect("read stderr");
        assert!(
            read > 0,
            "stderr ended before {needle:?}:\n{}",
            lines.join("")
        );
        lines.push(line.clone());
        if line.contains(needle) {
            return;
        }
    };
    wait_for("Running flow 'main'", &mut lines);
    let pid = child.id() as i32;
    // SAFETY: kill(2) on our own child's pid has no memory effects.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill failed");
    if let Some(second) = then {
        wait_for("draining the flow", &mut lines);
        // SAFETY: as above.
        assert_eq!(unsafe { libc::kill(pid, second) }, 0, "kill failed");
    }
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("read stderr");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read stdout");
    let status = child.wait().expect("torvyn run exits");
    (status.code().unwrap_or(-1), stdout, lines.concat() + &rest)
}

/// Ctrl+C drains: what was pulled reaches the sink, the sink completes (its
/// final line on stdout), the summary says so, and the exit code is 130.
#[test]
fn sigint_drains_the_flow_prints_the_summary_and_exits_130() {
    let (code, stdout, stderr) = interrupt_run(libc::SIGINT, None);
    assert_eq!(code, 130, "stderr:\n{stderr}");
    assert!(stderr.contains("SIGINT: draining the flow"), "{stderr}");
    let received: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("[quiet-sink] received="))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the sink completed; stdout:\n{stdout}"));
    let summary = format!("Flow 'main' interrupted by SIGINT. {received} elements processed.");
    assert!(stderr.contains(&summary), "{summary:?} in\n{stderr}");
    assert!(stderr.contains("Throughput:"), "{stderr}");
}

/// SIGTERM does the same with 143; a second signal cancels at once and
/// still prints the summary of what ran.
#[test]
fn sigterm_exits_143_and_a_second_signal_cancels() {
    let (code, _, stderr) = interrupt_run(libc::SIGTERM, None);
    assert_eq!(code, 143, "stderr:\n{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM."), "{stderr}");

    // The drain may end the flow before the second signal lands; either
    // way the run ends with the summary and 130.
    let (code, _, stderr) = interrupt_run(libc::SIGINT, Some(libc::SIGINT));
    assert_eq!(code, 130, "stderr:\n{stderr}");
    assert!(stderr.contains("interrupted by SIGINT."), "{stderr}");
}

/// Under `--format json` stdout carries only the JSON: the guests' lines
/// move to stderr, for `run` and `trace` alike.
#[test]
fn json_format_keeps_stdout_for_the_json_alone() {
    let dir = torvyn_e2e::hello_world_dir();
    torvyn_e2e::build_hello_world();
    let run = torvyn(&dir, &["run", "flow.main", "--format", "json"]);
    run.expect_code(0);
    let json: serde_json::Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", run.stdout));
    assert_eq!(json["elements_delivered"], 5, "{json}");
    assert!(
        run.stderr
            .contains("[hello-sink] Received 5 messages total."),
        "{}",
        run.stderr
    );

    let trace = torvyn(
        &dir,
        &["trace", "flow.main", "--limit", "2", "--format", "json"],
    );
    trace.expect_code(0);
    // JSON lines: the flow, each element, the summary.
    let records: Vec<serde_json::Value> = trace
        .stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\n{}", trace.stdout))
        })
        .collect();
    assert_eq!(records.first().map(|r| &r["type"]), Some(&"flow".into()));
    assert_eq!(records.last().map(|r| &r["type"]), Some(&"summary".into()));
    assert!(trace.stderr.contains("[hello-sink]"), "{}", trace.stderr);
}

/// `torvyn … | head`: a reader that goes away ends the command as SIGPIPE
/// ends Unix tools (status 141), never with a panic.
#[test]
fn a_closed_stdout_pipe_ends_the_command_quietly() {
    let dir = torvyn_e2e::hello_world_dir();
    torvyn_e2e::build_hello_world();
    let mut child = command(&dir, &["check", "--manifest", "Torvyn.toml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("torvyn starts");
    // Close the read end before torvyn writes its report.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("torvyn ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}
