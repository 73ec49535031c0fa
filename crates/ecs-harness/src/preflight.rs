//! One cheap read before any case: is there an ECS endpoint at all? A closed port, a server
//! that does not speak HTTP, or one that does not answer in awsJson1_1 stops the run within
//! seconds with one line that says why, instead of 164 blocked cases minutes later.

use std::time::Duration;

use ecs_client::{CallOptions, EcsClient, Error as ClientError};
use serde_json::Value;

/// Why the target cannot be run against.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreflightError {
    /// Nothing answered: the connection was refused, reset or timed out.
    #[error("{endpoint} is unreachable: {reason}")]
    Unreachable {
        /// The endpoint.
        endpoint: String,
        /// What the connection attempt reported.
        reason: String,
    },
    /// Something answered, but not in HTTP.
    #[error("{endpoint} does not answer in HTTP: {reason}")]
    NotHttp {
        /// The endpoint.
        endpoint: String,
        /// What the HTTP client reported.
        reason: String,
    },
    /// An HTTP server answered, but not as an ECS endpoint does (awsJson1_1).
    #[error(
        "{endpoint} is not an ECS endpoint: ListClusters was answered with HTTP {status} {what}"
    )]
    NotEcs {
        /// The endpoint.
        endpoint: String,
        /// The HTTP status of the answer.
        status: u16,
        /// What the answer was instead.
        what: String,
    },
    /// An ECS endpoint refused the credentials: every case would fail the same way.
    #[error("{endpoint} refused the credentials: {code}{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Refused {
        /// The endpoint.
        endpoint: String,
        /// The error code of the refusal.
        code: String,
        /// Its message, if any.
        message: Option<String>,
    },
}

/// What the preflight learnt of the target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The `Server` header of the answer, when there was one.
    pub server: Option<String>,
}

/// What an emulator says of itself on a version endpoint: LocalStack and ministack answer
/// `GET /_localstack/health` (ministack also `/_ministack/health`) with a JSON `version`.
/// `None` when nothing answers so within `timeout`; real AWS never does.
pub async fn version_endpoint(endpoint: &str, timeout: Duration) -> Option<String> {
    // reqwest is built without a bundled crypto provider (as in ecs-client): install ring,
    // unless the process already has one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().timeout(timeout).build().ok()?;
    let base = endpoint.trim_end_matches('/');
    for (path, name) in [
        ("/_ministack/health", "ministack"),
        ("/_localstack/health", "localstack"),
    ] {
        let Ok(answer) = http.get(format!("{base}{path}")).send().await else {
            continue;
        };
        if !answer.status().is_success() {
            continue;
        }
        let Ok(body) = answer.bytes().await else {
            continue;
        };
        let version = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("version").and_then(Value::as_str).map(str::to_owned));
        if let Some(v) = version {
            return Some(format!("{name} {v}"));
        }
    }
    None
}

/// Error codes by which AWS (and emulators that check) refuse a caller's credentials.
const CREDENTIAL_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "AccessDeniedException",
];

/// Sends ListClusters once, with `timeout` for the whole exchange.
pub async fn preflight(
    client: &EcsClient,
    endpoint: &str,
    timeout: Duration,
) -> Result<Identity, PreflightError> {
    let op = ecs_model::operation::find("ListClusters").ok_or_else(|| PreflightError::NotEcs {
        endpoint: endpoint.to_owned(),
        status: 0,
        what: "(the model lacks ListClusters)".into(),
    })?;
    let answer = tokio::time::timeout(
        timeout,
        client.send_json(
            op,
            serde_json::json!({}),
            CallOptions::default().max_attempts(1),
        ),
    )
    .await;
    let raw = match answer {
        Err(_) => {
            return Err(PreflightError::Unreachable {
                endpoint: endpoint.to_owned(),
                reason: format!("no answer within {timeout:?}"),
            })
        }
        Ok(Err(e)) => return Err(transport(endpoint, &e)),
        Ok(Ok(raw)) => raw,
    };
    let server = raw.header("server").map(str::to_owned);
    let json: Option<Value> = serde_json::from_slice(&raw.body).ok();
    if raw.status / 100 == 2 {
        if json.as_ref().is_some_and(Value::is_object) {
            return Ok(Identity { server });
        }
        return Err(PreflightError::NotEcs {
            endpoint: endpoint.to_owned(),
            status: raw.status,
            what: format!("and a body that is not a JSON object: {}", excerpt(&raw)),
        });
    }
    match ecs_client::error_code(&raw) {
        Some(code) if CREDENTIAL_CODES.contains(&code.as_str()) => Err(PreflightError::Refused {
            endpoint: endpoint.to_owned(),
            code,
            message: json
                .as_ref()
                .and_then(|v| v.get("message").or_else(|| v.get("Message")))
                .and_then(Value::as_str)
                .map(str::to_owned),
        }),
        // An awsJson error answer: it speaks the protocol (ListClusters may be refused for
        // its own reasons); the cases will say the rest.
        Some(_) => Ok(Identity { server }),
        None => Err(PreflightError::NotEcs {
            endpoint: endpoint.to_owned(),
            status: raw.status,
            what: match crate::text::key_line(&raw.body_text()) {
                Some(line) => format!("without an awsJson error code: {line:?}"),
                None => format!("without an awsJson error code: {}", excerpt(&raw)),
            },
        }),
    }
}

fn excerpt(raw: &ecs_client::RawResponse) -> String {
    crate::text::one_line(&raw.body_text(), 120)
}

fn transport(endpoint: &str, e: &ClientError) -> PreflightError {
    // The whole chain: reqwest puts "connection refused" or the parse error in its sources.
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !reason.contains(&text) {
            reason = format!("{reason}: {text}");
        }
        source = s.source();
    }
    let lower = reason.to_ascii_lowercase();
    let unreachable = matches!(
        e,
        ClientError::AttemptTimeout { .. } | ClientError::OverallTimeout { .. }
    ) || [
        "connect",
        "refused",
        "timed out",
        "dns",
        "resolve",
        "unreachable",
    ]
    .iter()
    .any(|w| lower.contains(w));
    if unreachable {
        PreflightError::Unreachable {
            endpoint: endpoint.to_owned(),
            reason,
        }
    } else {
        PreflightError::NotHttp {
            endpoint: endpoint.to_owned(),
            reason,
        }
    }
}
