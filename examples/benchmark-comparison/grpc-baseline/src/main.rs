//! The comparison pipeline over gRPC (tonic, HTTP/2 on 127.0.0.1).
//!
//! The processor runs in a child process (this binary with `--serve
//! 127.0.0.1:0`, which prints the address it bound). The parent opens one
//! bidirectional stream: the source task sends elements (at most
//! `--window` in flight), the processor answers each with the 8-byte
//! timestamp appended, and the sink loop records send → receive latency.
//!
//! Copies of the payload per message, counted along the code path: the
//! source copies its message into the request (1), prost encodes it into
//! tonic's buffer (1), the kernel copies it in and out of the socket (2),
//! prost decodes it into the server's `Vec` (1), the processor builds the
//! stamped payload (1), prost encodes the answer (1), the kernel copies it
//! in and out (2), prost decodes it in the client (1): 10 (HTTP/2 framing
//! may add more inside hyper).

use common::{message, stamp, stamped_time, Args, Clock, Recorder};
use std::pin::Pin;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

pub mod pipeline {
    tonic::include_proto!("pipeline");
}

use pipeline::stamp_client::StampClient;
use pipeline::stamp_server::{Stamp, StampServer};
use pipeline::Element;

/// Payload copies per message (see the module comment).
const COPIES_PER_ELEMENT: u64 = 10;

struct Processor;

type Answers = Pin<Box<dyn Stream<Item = Result<Element, Status>> + Send>>;

#[tonic::async_trait]
impl Stamp for Processor {
    type ProcessStream = Answers;

    // tonic's `Status` is what the generated trait returns; it is large.
    #[allow(clippy::result_large_err)]
    async fn process(
        &self,
        request: Request<Streaming<Element>>,
    ) -> Result<Response<Self::ProcessStream>, Status> {
        let answers = request.into_inner().map(|element| {
            let element = element?;
            Ok(Element {
                payload: stamp(&element.payload, element.timestamp_ns),
                timestamp_ns: element.timestamp_ns,
            })
        });
        Ok(Response::new(Box::pin(answers)))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("grpc-baseline: {e}");
            std::process::exit(2);
        }
    };
    let result = match &args.serve {
        Some(address) => serve(address).await,
        None => run(&args).await,
    };
    if let Err(e) = result {
        eprintln!("grpc-baseline: {e}");
        std::process::exit(1);
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn serve(address: &str) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("{}", listener.local_addr()?);
    // Nagle's algorithm off on every connection, as on the client.
    let incoming = TcpListenerStream::new(listener).map(|stream| {
        if let Ok(stream) = &stream {
            let _ = stream.set_nodelay(true);
        }
        stream
    });
    tonic::transport::Server::builder()
        .add_service(StampServer::new(Processor))
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}

async fn run(args: &Args) -> Result<(), Error> {
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(Args::serve_args("127.0.0.1:0"))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout from the processor")?;
    let address = BufReader::new(stdout)
        .lines()
        .next_line()
        .await?
        .ok_or("the processor did not start")?;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let mut client = StampClient::new(channel);

    let total = args.warmup + args.iterations;
    let clock = Clock::new();
    let window = args.window;
    let (requests, outgoing) = mpsc::channel::<Element>(window);
    let credits = std::sync::Arc::new(tokio::sync::Semaphore::new(window));
    let payload = message(args.payload_size);
    let source_credits = credits.clone();
    let source = tokio::spawn(async move {
        for _ in 0..total {
            let Ok(permit) = source_credits.acquire().await else {
                return;
            };
            permit.forget();
            let element = Element {
                payload: payload.clone(),
                timestamp_ns: clock.now_ns(),
            };
            if requests.send(element).await.is_err() {
                return;
            }
        }
    });

    let mut answers = client
        .process(ReceiverStream::new(outgoing))
        .await?
        .into_inner();
    let mut recorder = Recorder::new(args.warmup);
    for _ in 0..total {
        let answer = answers.message().await?.ok_or("the stream ended early")?;
        let sent = stamped_time(&answer.payload);
        recorder.record(clock.now_ns().saturating_sub(sent));
        credits.add_permits(1);
    }
    source.await?;
    let _ = child.kill().await;
    println!(
        "{}",
        recorder.result(&format!("grpc (window {window})"), args, COPIES_PER_ELEMENT)
    );
    Ok(())
}
