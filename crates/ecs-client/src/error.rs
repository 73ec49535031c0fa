//! Errors. A service error carries the modeled exception (or the unknown code) and the raw
//! answer; an answer that cannot be read keeps its status, headers and body, because that is
//! exactly what a conformance report needs when an implementation answers something odd.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use ecs_model::errors::ModeledError;
use ecs_model::ValidationError;

/// The raw HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text, lossily, for messages.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An error code from the service: one the model knows, or another.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    Modeled(ModeledError),
    Other(String),
}

impl ErrorCode {
    pub fn from_code(code: &str) -> ErrorCode {
        ModeledError::from_code(code)
            .map_or_else(|| ErrorCode::Other(code.to_owned()), ErrorCode::Modeled)
    }

    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Modeled(m) => m.code(),
            ErrorCode::Other(s) => s,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answer in the awsJson1_1 shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceError {
    pub operation: &'static str,
    pub code: ErrorCode,
    pub message: Option<String>,
    pub request_id: Option<String>,
    pub raw: RawResponse,
}

impl ServiceError {
    /// Whether this is the given modeled exception.
    pub fn is(&self, error: ModeledError) -> bool {
        self.code == ErrorCode::Modeled(error)
    }
}

/// Everything a call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input broke rules the validation mode enforces; nothing was sent.
    #[error("{operation}: request not sent: {source}")]
    Validation {
        operation: &'static str,
        #[source]
        source: ValidationError,
    },
    /// The service answered with an error.
    #[error("{}: {} (HTTP {}){}", .0.operation, .0.code, .0.raw.status, .0.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Service(Box<ServiceError>),
    /// The answer could not be read as the operation's output or as an error.
    #[error("{operation}: unreadable answer (HTTP {}): {reason}", .raw.status)]
    Unparseable {
        operation: &'static str,
        reason: String,
        raw: Box<RawResponse>,
    },
    /// Connecting, sending or receiving failed.
    #[error("{operation}: transport error: {source}")]
    Transport {
        operation: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// One attempt took longer than the per-attempt timeout.
    #[error("{operation}: no complete answer within {timeout:?}")]
    AttemptTimeout {
        operation: &'static str,
        timeout: Duration,
    },
    /// The call, retries included, took longer than the overall timeout.
    #[error("{operation}: gave up after the overall timeout of {timeout:?}")]
    OverallTimeout {
        operation: &'static str,
        timeout: Duration,
    },
    /// The request could not be signed.
    #[error("{operation}: signing failed: {reason}")]
    Signing {
        operation: &'static str,
        reason: String,
    },
    /// The input could not be serialised.
    #[error("{operation}: could not serialise the request: {source}")]
    Serialize {
        operation: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// The service error, if the service answered with one.
    pub fn service_error(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The service's error as operation `O`'s error enum, when this is a service error answered
    /// to a call of `O`: `e.operation_error::<operations::CreateTaskSet>()` gives a
    /// `CreateTaskSetError` to match on. Codes the model does not list for `O` come back as
    /// its opaque `Unhandled` case.
    pub fn operation_error<O: ecs_model::Operation>(&self) -> Option<O::Error> {
        use ecs_model::OperationError as _;
        match self {
            Error::Service(e) if e.operation == O::INFO.name => {
                Some(O::Error::from_code(e.code.as_str()))
            }
            _ => None,
        }
    }

    /// The raw answer, when there was one.
    pub fn raw_response(&self) -> Option<&RawResponse> {
        match self {
            Error::Service(e) => Some(&e.raw),
            Error::Unparseable { raw, .. } => Some(raw),
            _ => None,
        }
    }
}

/// A configuration that cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("no region: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile region) or pass one")]
    NoRegion,
    #[error("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile {profile:?} keys")]
    NoCredentials { profile: String },
    #[error("endpoint {url:?}: {reason}")]
    BadEndpoint { url: String, reason: String },
    #[error("{}: {reason}", .path.display())]
    ProfileFile { path: PathBuf, reason: String },
    #[error("building the HTTP client: {0}")]
    Http(String),
}
