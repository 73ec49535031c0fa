//! A loopback HTTP/1.1 server that answers every POST with the same canned bytes, on a thread
//! and single-threaded runtime of its own, so the CPU it spends can be told apart from the
//! client's: `GET /cpu` answers the nanoseconds of CPU its thread has used.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub struct CannedServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CannedServer {
    pub fn start(answer: Vec<u8>) -> Result<CannedServer> {
        Self::start_typed(answer, "application/x-amz-json-1.1")
    }

    /// A server answering `answer` as `content_type` (`text/xml` for awsQuery).
    pub fn start_typed(answer: Vec<u8>, content_type: &'static str) -> Result<CannedServer> {
        let answer = Bytes::from(answer);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<SocketAddr, String>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("canned-server".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                runtime.block_on(serve(answer, content_type, ready_tx, stop_rx));
            })
            .context("spawning the canned server")?;
        let addr = ready_rx
            .recv()
            .context("the canned server thread ended")?
            .map_err(|e| anyhow::anyhow!("canned server: {e}"))?;
        Ok(CannedServer {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(
    answer: Bytes,
    content_type: &'static str,
    ready: std::sync::mpsc::Sender<Result<SocketAddr, String>>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = match TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await {
        Ok(l) => l,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    let _ = ready.send(Ok(addr));
    let answer = Arc::new(answer);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let answer = answer.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let answer = answer.clone();
                        async move { Ok::<_, std::convert::Infallible>(reply(&req, &answer, content_type)) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

fn reply(
    req: &Request<hyper::body::Incoming>,
    answer: &Bytes,
    content_type: &'static str,
) -> Response<Full<Bytes>> {
    let body = if req.method() == Method::GET && req.uri().path() == "/cpu" {
        Bytes::from(thread_cpu_nanos().to_string())
    } else {
        // The request body is not read: hyper drains it before the next request on the
        // connection, and every client pays the same.
        answer.clone()
    };
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert("content-type", http::HeaderValue::from_static(content_type));
    headers.insert(
        "x-amzn-requestid",
        http::HeaderValue::from_static("00000000-0000-4000-8000-000000000000"),
    );
    response
}

fn thread_cpu_nanos() -> u128 {
    cpu_time::ThreadTime::now().as_duration().as_nanos()
}
