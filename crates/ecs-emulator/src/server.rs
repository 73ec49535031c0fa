//! The HTTP side: awsJson1_1 over HTTP/1.1 on a loopback port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};

use crate::engine::Engine;
use crate::error::ApiError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

fn request_id() -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..0x1000),
        fastrand::u16(..0x1000),
        fastrand::u64(..1 << 48)
    )
}

fn reply(status: u16, body: Vec<u8>, error: Option<&str>) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-requestid", request_id());
    if let Some(code) = error {
        builder = builder.header("x-amzn-errortype", code);
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn error_reply(e: &ApiError) -> Response<Full<Bytes>> {
    reply(e.status, e.body(), Some(e.code))
}

/// An awsQuery (ELBv2) error: AWS's XML envelope.
fn query_error_reply(e: &ApiError) -> Response<Full<Bytes>> {
    let id = request_id();
    let body = ecs_model::query::error_xml(
        e.code,
        &e.message,
        e.status < 500,
        ecs_model::elbv2::XML_NAMESPACE,
        &id,
    );
    xml_reply(e.status, body.into_bytes(), &id)
}

/// An awsQuery (ELBv2) answer: XML, with the request id in the header and the body.
fn xml_reply(status: u16, body: Vec<u8>, request_id: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .header("x-amzn-requestid", request_id)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// The region named in a SigV4 `Authorization` header's credential scope.
fn region_of(req: &Request<Incoming>) -> Option<String> {
    let auth = req.headers().get("authorization")?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    let mut parts = scope.split('/');
    parts.nth(2).filter(|r| !r.is_empty()).map(str::to_owned)
}

/// Marks a response that must not be sent: the connection is closed instead (an injected
/// fault).
#[derive(Clone, Copy, Debug)]
struct Drop;

pub async fn handle(
    engine: Arc<Engine>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let started = Instant::now();
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let label = target
        .as_deref()
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("-")
        .to_owned();
    let response = if req.uri().path().starts_with(crate::control::CONTROL_PREFIX) {
        control_reply(&engine, req, peer).await
    } else {
        answer(&engine, req).await
    };
    if response.extensions().get::<Drop>().is_some() {
        tracing::info!(target: "ecs_emulator", "{peer} {label} dropped (injected fault)");
        return Err(std::io::Error::other(
            "connection dropped by an injected fault",
        ));
    }
    tracing::info!(
        target: "ecs_emulator",
        "{peer} {label} {} {}ms",
        response.status().as_u16(),
        started.elapsed().as_millis()
    );
    Ok(response)
}

/// A request on the control path (see [`crate::control`]).
async fn control_reply(
    engine: &Engine,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let origin = req
        .headers()
        .get("origin")
        .map(|v| v.to_str().unwrap_or("?").to_owned());
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let body = serde_json::json!({"message": format!("the body could not be read: {e}")});
            return json_reply(400, &body);
        }
    };
    let answer = crate::control::control(engine, peer, &method, &path, origin.as_deref(), &body);
    json_reply(answer.status, &answer.body)
}

fn json_reply(status: u16, body: &serde_json::Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

async fn answer(engine: &Engine, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() == Method::GET && req.uri().path() == "/health" {
        return reply(200, br#"{"status":"ok"}"#.to_vec(), None);
    }
    if req.method() != Method::POST || req.uri().path() != "/" {
        return error_reply(&ApiError::unknown_operation(format!(
            "{} {} is not an ECS request; ECS takes POST /.",
            req.method(),
            req.uri().path()
        )));
    }
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let query = media == "application/x-www-form-urlencoded";
    if !query
        && !matches!(
            media.as_str(),
            "application/x-amz-json-1.1" | "application/x-amz-json-1.0" | "application/json"
        )
    {
        return error_reply(&ApiError::unsupported_media_type(&content_type));
    }
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let region = region_of(&req);
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            let e = ApiError::body_too_large(MAX_BODY_BYTES);
            return if query {
                query_error_reply(&e)
            } else {
                error_reply(&e)
            };
        }
        Err(e) => {
            let e = ApiError::serialization(format!("The body could not be read: {e}"));
            return if query {
                query_error_reply(&e)
            } else {
                error_reply(&e)
            };
        }
    };
    if query {
        // ELBv2 (awsQuery) on the same endpoint: one AWS_ENDPOINT_URL covers both services.
        let id = request_id();
        return match engine.handle_query(region.as_deref(), &body, &id) {
            Ok(xml) => xml_reply(200, xml, &id),
            Err(e) if e.is_dropped() => {
                let mut response = Response::new(Full::new(Bytes::new()));
                response.extensions_mut().insert(Drop);
                response
            }
            Err(e) => query_error_reply(&e),
        };
    }
    match engine.handle(target.as_deref(), region.as_deref(), &body) {
        Ok(json) => reply(200, json, None),
        Err(e) if e.is_dropped() => {
            let mut response = Response::new(Full::new(Bytes::new()));
            response.extensions_mut().insert(Drop);
            response
        }
        Err(e) => error_reply(&e),
    }
}
