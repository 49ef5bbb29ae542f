//! The comparison pipeline over a Unix domain socket.
//!
//! The processor runs in a child process (this binary with `--serve PATH`)
//! listening on a Unix socket; the parent is the source (one thread) and
//! the sink (another). The source writes frames `len: u32 | timestamp: u64
//! | payload`, at most `--window` in flight; the processor answers each
//! with `len: u32 | payload | timestamp` (the 8-byte timestamp appended);
//! the sink reads the answers and records send → receive latency.
//!
//! Copies of the payload per message, counted along the code path: the
//! source builds its frame (1), the kernel copies it in and out of the
//! socket (2), the processor copies it out of its read buffer (1) and
//! into its answer with the timestamp (1), the kernel copies the answer in
//! and out (2), and the sink copies it out of its read buffer (1): 8.

use common::{message, stamp, stamped_time, Args, Clock, Recorder};
use std::io::{BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Command, Stdio};
use std::sync::mpsc::sync_channel;
use std::time::Duration;

/// Payload copies per message (see the module comment).
const COPIES_PER_ELEMENT: u64 = 8;

fn main() {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("unix-socket-baseline: {e}");
            std::process::exit(2);
        }
    };
    let result = match &args.serve {
        Some(path) => serve(path),
        None => run(&args),
    };
    if let Err(e) = result {
        eprintln!("unix-socket-baseline: {e}");
        std::process::exit(1);
    }
}

/// The processor: one connection, one answer per frame.
fn serve(path: &str) -> std::io::Result<()> {
    let listener = UnixListener::bind(path)?;
    println!("ready");
    std::io::stdout().flush()?;
    let (stream, _) = listener.accept()?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut frame = Vec::new();
    loop {
        let mut len = [0u8; 4];
        if reader.read_exact(&mut len).is_err() {
            return Ok(()); // the client is done
        }
        frame.resize(u32::from_le_bytes(len) as usize, 0);
        reader.read_exact(&mut frame)?;
        let (ts, payload) = frame.split_at(8);
        let ts = u64::from_le_bytes(ts.try_into().unwrap_or([0; 8]));
        let answer = stamp(payload, ts);
        let mut out = Vec::with_capacity(4 + answer.len());
        out.extend_from_slice(&(answer.len() as u32).to_le_bytes());
        out.extend_from_slice(&answer);
        writer.write_all(&out)?;
    }
}

fn run(args: &Args) -> std::io::Result<()> {
    let path = std::env::temp_dir().join(format!("torvyn-uds-bench-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut child = Command::new(std::env::current_exe()?)
        .args(Args::serve_args(&path.to_string_lossy()))
        .stdout(Stdio::piped())
        .spawn()?;
    // Wait for "ready".
    if let Some(out) = child.stdout.as_mut() {
        let mut byte = [0u8; 1];
        while out.read(&mut byte)? == 1 && byte[0] != b'\n' {}
    }
    let stream = UnixStream::connect(&path)?;
    let total = args.warmup + args.iterations;
    let clock = Clock::new();
    let (credit_tx, credit_rx) = sync_channel::<()>(args.window);

    let mut writer = stream.try_clone()?;
    let payload = message(args.payload_size);
    let source = std::thread::spawn(move || -> std::io::Result<()> {
        let mut frame = Vec::with_capacity(12 + payload.len());
        for _ in 0..total {
            credit_tx
                .send(())
                .map_err(|_| std::io::Error::other("sink stopped"))?;
            frame.clear();
            frame.extend_from_slice(&((8 + payload.len()) as u32).to_le_bytes());
            frame.extend_from_slice(&clock.now_ns().to_le_bytes());
            frame.extend_from_slice(&payload);
            writer.write_all(&frame)?;
        }
        Ok(())
    });

    let mut reader = BufReader::new(stream.try_clone()?);
    let mut recorder = Recorder::new(args.warmup);
    let mut answer = Vec::new();
    for _ in 0..total {
        let mut len = [0u8; 4];
        reader.read_exact(&mut len)?;
        answer.resize(u32::from_le_bytes(len) as usize, 0);
        reader.read_exact(&mut answer)?;
        let sent = stamped_time(&answer);
        recorder.record(clock.now_ns().saturating_sub(sent));
        let _ = credit_rx.recv_timeout(Duration::from_secs(5));
    }
    source
        .join()
        .map_err(|_| std::io::Error::other("source panicked"))??;
    // The processor sees end of stream and exits.
    let _ = stream.shutdown(std::net::Shutdown::Both);
    drop(reader);
    let _ = child.wait();
    let _ = std::fs::remove_file(&path);
    println!(
        "{}",
        recorder.result(
            &format!("unix-socket (window {})", args.window),
            args,
            COPIES_PER_ELEMENT
        )
    );
    Ok(())
}
