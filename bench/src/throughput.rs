//! Server throughput: C concurrent connections send the same pre-signed request for S seconds.
//!
//! The load generator is a pooled hyper client with requests signed once (servers under test
//! do not check signatures, but moto routes by the SigV4 scope), so it costs far less per
//! request than any server here and the figure is the server's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use ecs_client::{CallOptions, EcsClient};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use serde::Serialize;
use serde_json::Value;

use crate::payloads;

#[derive(Debug, Serialize)]
pub struct Throughput {
    pub scenario: String,
    pub concurrency: usize,
    pub seconds: f64,
    pub ok: u64,
    pub errors: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The first non-2xx answer, shortened, when there was one.
    pub first_error: Option<String>,
}

/// The scenarios, each with the service it runs on.
pub const SCENARIOS: &[(&str, &str, &str)] = &[
    ("DescribeTaskSets (1 set)", "DescribeTaskSets", "one"),
    ("DescribeTaskSets (100 sets)", "DescribeTaskSets", "hundred"),
    (CREATE_DELETE, "CreateTaskSet", "create"),
];

/// CreateTaskSet followed by DeleteTaskSet of the set it made, so a service never holds more
/// than a handful of live sets (AWS allows 5); one pair counts as one answer.
pub const CREATE_DELETE: &str = "CreateTaskSet + DeleteTaskSet";

/// The ids of the task sets each service of the scenarios holds.
pub type SetIds = std::collections::BTreeMap<String, Vec<String>>;

/// Creates the cluster, task definition, services and task sets the scenarios read; the ids of
/// the sets, which a DescribeTaskSets must name.
pub async fn setup(endpoint: &str) -> Result<SetIds> {
    let client = payloads::client(endpoint)?;
    let send = |op: &'static str, body: Value| {
        let client = &client;
        async move {
            let info = ecs_model::operation::find(op).context("operation")?;
            let raw = client
                .send_json(info, body, CallOptions::default())
                .await
                .with_context(|| format!("setup {op}"))?;
            if raw.status / 100 != 2 {
                bail!(
                    "setup {op}: HTTP {}: {}",
                    raw.status,
                    String::from_utf8_lossy(&raw.body[..raw.body.len().min(300)])
                );
            }
            Ok(raw.body)
        }
    };
    for (op, body) in payloads::setup_requests(&["one", "hundred", "create"], false) {
        send(op, body).await?;
    }
    let mut ids = SetIds::new();
    for (service, sets) in [("one", 1), ("hundred", 100)] {
        for _ in 0..sets {
            let answer = send(
                "CreateTaskSet",
                payloads::server_create_task_set_request(service),
            )
            .await?;
            ids.entry(service.to_owned())
                .or_default()
                .push(payloads::created_id(&answer)?);
        }
    }
    Ok(ids)
}

/// Sends one request and returns the body of a 2xx answer.
async fn exchange(
    http: &Client<HttpConnector, Full<Bytes>>,
    req: http::Request<Full<Bytes>>,
) -> Result<Bytes, String> {
    let response = http.request(req).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(200)
                .collect::<String>()
        ))
    }
}

/// DeleteTaskSet of the set a CreateTaskSet answer describes, signed now.
async fn delete_request(
    signer: &EcsClient,
    created: &Bytes,
) -> Result<http::Request<Full<Bytes>>, String> {
    let answer: Value = serde_json::from_slice(created).map_err(|e| e.to_string())?;
    let id = answer["taskSet"]["id"]
        .as_str()
        .ok_or("the CreateTaskSet answer has no taskSet.id")?;
    let body = serde_json::json!({
        "cluster": payloads::CLUSTER, "service": "create", "taskSet": id, "force": true
    });
    let info = ecs_model::operation::find("DeleteTaskSet").ok_or("DeleteTaskSet")?;
    let signed = signer
        .prepare_request(info, Bytes::from(body.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    let (parts, body) = signed.into_parts();
    Ok(http::Request::from_parts(parts, Full::new(body)))
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    endpoint: &str,
    scenario: &str,
    op: &str,
    service: &str,
    ids: &[String],
    concurrency: usize,
    duration: Duration,
) -> Result<Throughput> {
    let info = ecs_model::operation::find(op).context("operation")?;
    let body = match op {
        "CreateTaskSet" => payloads::server_create_task_set_request(service),
        _ => payloads::describe_task_sets_request(service, ids),
    };
    let signer = Arc::new(payloads::client(endpoint)?);
    let signed = signer
        .prepare_request(info, Bytes::from(body.to_string()))
        .await?;
    let signed = Arc::new(signed);
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let http: Client<HttpConnector, Full<Bytes>> =
        Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_max_idle_per_host(concurrency)
            .build(connector);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..concurrency {
        let http = http.clone();
        let signed = signed.clone();
        let stop = stop.clone();
        let pair = (scenario == CREATE_DELETE).then(|| signer.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies: Vec<u32> = vec![];
            let mut errors = 0u64;
            let mut first_error = None;
            while !stop.load(Ordering::Relaxed) {
                let mut req = http::Request::new(Full::new(signed.body().clone()));
                *req.method_mut() = http::Method::POST;
                *req.uri_mut() = signed.uri().clone();
                *req.headers_mut() = signed.headers().clone();
                let t = Instant::now();
                let mut outcome = exchange(&http, req).await;
                if let (Ok(answer), Some(signer)) = (&outcome, &pair) {
                    outcome = match delete_request(signer, answer).await {
                        Ok(delete) => exchange(&http, delete).await,
                        Err(e) => Err(e),
                    };
                }
                let outcome = outcome.map(|_| ());
                match outcome {
                    Ok(()) => latencies.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = vec![];
    let mut errors = 0;
    let mut first_error = None;
    for t in tasks {
        let (l, e, f) = t.await?;
        all.extend(l);
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((all.len() as f64 - 1.0) * p).round() as usize;
        f64::from(all[i]) / 1000.0
    };
    Ok(Throughput {
        scenario: scenario.to_owned(),
        concurrency,
        seconds,
        ok: all.len() as u64,
        errors,
        per_second: all.len() as f64 / seconds,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        first_error,
    })
}
