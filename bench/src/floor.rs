//! A departing target for the fail-fast measurement: the reference emulator (fast timing) behind
//! a loopback proxy that, with `floor`, answers every task set's `computedDesiredCount` rounded
//! down instead of up (`floor(desiredCount × scale / 100)`, exact on decimals), as an emulator
//! that multiplies and truncates would. Without `floor` the proxy only forwards, so the passing
//! run pays the same hop.

use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tokio::net::TcpListener;

const PREFIX: &str = "AmazonEC2ContainerServiceV20141113.";

struct Proxy {
    upstream: String,
    engine: Arc<ecs_emulator::Engine>,
    client: Client<HttpConnector, Full<Bytes>>,
    floor: bool,
}

/// Serves on 127.0.0.1:`port` until killed; prints the URL once listening.
pub async fn serve(port: u16, floor: bool) -> Result<()> {
    let emulator = ecs_emulator::Emulator::builder()
        .profile(ecs_emulator::TimingProfile::Fast, 1.0)
        .start()
        .await
        .context("starting the reference emulator")?;
    let proxy = Arc::new(Proxy {
        upstream: emulator.url(),
        engine: emulator.shared_engine(),
        client: Client::builder(TokioExecutor::new()).build_http(),
        floor,
    });
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    println!("http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let proxy = proxy.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let proxy = proxy.clone();
                async move { proxy.forward(req).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

impl Proxy {
    async fn forward(
        &self,
        req: Request<hyper::body::Incoming>,
    ) -> Result<Response<Full<Bytes>>, std::io::Error> {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map_err(std::io::Error::other)?
            .to_bytes();
        let op = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.strip_prefix(PREFIX))
            .unwrap_or("")
            .to_owned();
        let uri = format!(
            "{}{}",
            self.upstream,
            parts.uri.path_and_query().map_or("/", |p| p.as_str())
        );
        let mut out = Request::builder().method(parts.method.clone()).uri(uri);
        for (name, value) in &parts.headers {
            if name != hyper::header::HOST {
                out = out.header(name, value);
            }
        }
        let out = out
            .body(Full::new(body.clone()))
            .map_err(std::io::Error::other)?;
        let answer = self
            .client
            .request(out)
            .await
            .map_err(std::io::Error::other)?;
        let (mut parts, answer) = answer.into_parts();
        let mut bytes = answer
            .collect()
            .await
            .map_err(std::io::Error::other)?
            .to_bytes();
        if self.floor && parts.status == 200 {
            if let Some(floored) = self.floored(&op, &body, &bytes) {
                bytes = Bytes::from(floored);
                parts.headers.remove(hyper::header::CONTENT_LENGTH);
            }
        }
        Ok(Response::from_parts(parts, Full::new(bytes)))
    }

    /// The answer with every task set's count floored, or `None` to leave it as it came.
    fn floored(&self, op: &str, request: &[u8], answer: &[u8]) -> Option<Vec<u8>> {
        let mut answer: Value = serde_json::from_slice(answer).ok()?;
        match op {
            "DescribeServices" => {
                for service in answer.get_mut("services")?.as_array_mut()? {
                    let desired = service.get("desiredCount").and_then(Value::as_i64)?;
                    floor_sets(service.get_mut("taskSets"), desired);
                }
            }
            "DescribeTaskSets" => {
                let request: Value = serde_json::from_slice(request).ok()?;
                let desired = self.desired_count(&request)?;
                floor_sets(answer.get_mut("taskSets"), desired);
            }
            _ => return None,
        }
        serde_json::to_vec(&answer).ok()
    }

    /// The service's desired count, asked of the engine directly.
    fn desired_count(&self, request: &Value) -> Option<i64> {
        let ask =
            json!({"cluster": request.get("cluster")?, "services": [request.get("service")?]});
        let target = format!("{PREFIX}DescribeServices");
        let answer = self
            .engine
            .handle(Some(&target), None, &serde_json::to_vec(&ask).ok()?)
            .ok()?;
        let answer: Value = serde_json::from_slice(&answer).ok()?;
        answer.pointer("/services/0/desiredCount")?.as_i64()
    }
}

fn floor_sets(sets: Option<&mut Value>, desired: i64) {
    let Some(sets) = sets.and_then(Value::as_array_mut) else {
        return;
    };
    for set in sets {
        let Some(scale) = set
            .pointer("/scale/value")
            .and_then(|v| Decimal::from_str(&v.to_string()).ok())
        else {
            continue;
        };
        let floor = (Decimal::from(desired) * scale / Decimal::from(100)).floor();
        let floor = i64::try_from(floor).unwrap_or(0);
        if let Some(count) = set.get_mut("computedDesiredCount") {
            if count.as_i64().is_some_and(|c| c > floor) {
                *count = json!(floor);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_exactly() {
        let mut sets = json!([
            {"scale": {"value": 30.0, "unit": "PERCENT"}, "computedDesiredCount": 2},
            {"scale": {"value": 64.4, "unit": "PERCENT"}, "computedDesiredCount": 161},
            {"scale": {"value": 33.3, "unit": "PERCENT"}, "computedDesiredCount": 0}
        ]);
        floor_sets(Some(&mut sets), 4);
        assert_eq!(sets[0]["computedDesiredCount"], 1);
        let mut exact = json!([{"scale": {"value": 64.4}, "computedDesiredCount": 161}]);
        floor_sets(Some(&mut exact), 250);
        assert_eq!(
            exact[0]["computedDesiredCount"], 161,
            "250 × 64.4% is exactly 161"
        );
        assert_eq!(sets[2]["computedDesiredCount"], 0);
    }
}
