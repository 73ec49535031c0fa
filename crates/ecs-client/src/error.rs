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
    /// The HTTP status.
    pub status: u16,
    /// The headers, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as received.
    pub body: Bytes,
}

impl RawResponse {
    /// The first header named `name` (case-insensitive).
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
    /// An exception the model lists.
    Modeled(ModeledError),
    /// A code the model does not list.
    Other(String),
}

impl ErrorCode {
    /// The code for a bare error code (no namespace).
    pub fn from_code(code: &str) -> ErrorCode {
        ModeledError::from_code(code)
            .map_or_else(|| ErrorCode::Other(code.to_owned()), ErrorCode::Modeled)
    }

    /// The wire code.
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
    /// The operation called.
    pub operation: &'static str,
    /// The error code.
    pub code: ErrorCode,
    /// The service's message, if it sent one.
    pub message: Option<String>,
    /// The request id the service gave the call.
    pub request_id: Option<String>,
    /// The answer as received.
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
        /// The operation called.
        operation: &'static str,
        #[source]
        /// What the input broke.
        source: ValidationError,
    },
    /// The service answered with an error.
    #[error("{}: {} (HTTP {}){}", .0.operation, .0.code, .0.raw.status, .0.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Service(Box<ServiceError>),
    /// The answer could not be read as the operation's output or as an error.
    #[error("{operation}: unreadable answer (HTTP {}): {reason}", .raw.status)]
    Unparseable {
        /// The operation called.
        operation: &'static str,
        /// Why the answer could not be read.
        reason: String,
        /// The answer as received.
        raw: Box<RawResponse>,
    },
    /// Connecting, sending or receiving failed.
    #[error("{operation}: transport error: {source}")]
    Transport {
        /// The operation called.
        operation: &'static str,
        #[source]
        /// What the HTTP client reported.
        source: reqwest::Error,
    },
    /// One attempt took longer than the per-attempt timeout.
    #[error("{operation}: no complete answer within {timeout:?}")]
    AttemptTimeout {
        /// The operation called.
        operation: &'static str,
        /// The per-attempt timeout.
        timeout: Duration,
    },
    /// The call, retries included, took longer than the overall timeout.
    #[error("{operation}: gave up after the overall timeout of {timeout:?}")]
    OverallTimeout {
        /// The operation called.
        operation: &'static str,
        /// The overall timeout.
        timeout: Duration,
    },
    /// The request could not be signed.
    #[error("{operation}: signing failed: {reason}")]
    Signing {
        /// The operation called.
        operation: &'static str,
        /// Why signing failed.
        reason: String,
    },
    /// No credentials to sign with: the credentials provider failed.
    #[error("{operation}: no credentials to sign with: {reason}")]
    Credentials {
        /// The operation called.
        operation: &'static str,
        /// What the provider reported, with its causes.
        reason: String,
        /// Whether the provider may succeed if asked again (it timed out or its source
        /// failed), rather than being misconfigured.
        retryable: bool,
    },
    /// The input could not be serialised.
    #[error("{operation}: could not serialise the request: {source}")]
    Serialize {
        /// The operation called.
        operation: &'static str,
        #[source]
        /// What serde_json reported.
        source: serde_json::Error,
    },
}

impl Error {
    /// The service's error code, when the service answered with an error (ECS or ELBv2).
    pub fn code(&self) -> Option<&str> {
        self.service_error().map(|e| e.code.as_str())
    }

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

    /// Whether trying the same call again later may succeed: throttling, a transient code or
    /// a 5xx answer, a transport failure or a timeout. Client errors, validation, signing and
    /// serialisation failures are not. The client's own retries have already been spent when
    /// a caller sees the error; this tells a caller with its own deadline (a deployment
    /// controller) whether to keep trying. Whether a repeat is *harmless* is the caller's to
    /// judge: it is for idempotent calls and for calls carrying a client token.
    pub fn is_retryable(&self) -> bool {
        use crate::retry::{classify, Failure};
        match self {
            Error::Service(e) => {
                classify(e.raw.status, Some(e.code.as_str())) == Failure::Retryable
            }
            Error::Unparseable { raw, .. } => raw.status >= 500 || raw.status == 429,
            Error::Transport { .. }
            | Error::AttemptTimeout { .. }
            | Error::OverallTimeout { .. } => true,
            Error::Credentials { retryable, .. } => *retryable,
            Error::Validation { .. } | Error::Signing { .. } | Error::Serialize { .. } => false,
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

/// A failed call of one operation, as that operation's request builder answers it
/// (`client.create_task_set()..send().await`): the client's [`Error`] and, when the service
/// answered with an error, that error read as the operation's own error enum `E`
/// ([`ecs_model::errors`]).
///
/// Generated `is_<exception>()` methods test the code against the exceptions the model lists
/// for the operation (`err.is_service_not_found_exception()`); [`CallError::message`] and
/// [`CallError::request_id`] keep the rest of the answer. Everything [`Error`] offers is
/// reachable through `Deref` (`err.code()`, `err.is_retryable()`), and `?` converts it into
/// an [`Error`].
#[derive(Debug)]
pub struct CallError<E> {
    error: Error,
    kind: Option<E>,
}

impl<E: ecs_model::OperationError> CallError<E> {
    /// Reads `error` as a failure of the operation whose error enum is `E` (the request
    /// builders of that operation call it with their own errors).
    pub(crate) fn new(error: Error) -> Self {
        let kind = error.service_error().map(|s| E::from_code(s.code.as_str()));
        CallError { error, kind }
    }
}

impl<E> CallError<E> {
    /// The service's error as the operation's error enum; `None` when the call failed without
    /// an error answer (validation, transport, timeouts, an unreadable answer).
    pub fn kind(&self) -> Option<&E> {
        self.kind.as_ref()
    }

    /// The service's message, if it sent one.
    pub fn message(&self) -> Option<&str> {
        self.error
            .service_error()
            .and_then(|s| s.message.as_deref())
    }

    /// The request id the service gave the call, if it answered.
    pub fn request_id(&self) -> Option<&str> {
        self.error
            .service_error()
            .and_then(|s| s.request_id.as_deref())
    }

    /// The client's error.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The client's error, owned.
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl<E> std::ops::Deref for CallError<E> {
    type Target = Error;
    fn deref(&self) -> &Error {
        &self.error
    }
}

impl<E> From<CallError<E>> for Error {
    fn from(e: CallError<E>) -> Error {
        e.error
    }
}

impl<E> std::fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.error, f)
    }
}

impl<E: std::fmt::Debug> std::error::Error for CallError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

/// A configuration that cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("no region: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile region) or pass one")]
    /// No region was given or found.
    NoRegion,
    #[error("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile {profile:?} keys")]
    /// No credentials were given or found.
    NoCredentials {
        /// The profile that was read.
        profile: String,
    },
    #[error("endpoint {url:?}: {reason}")]
    /// The endpoint is not a usable URL.
    BadEndpoint {
        /// The endpoint given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    #[error("{}: {reason}", .path.display())]
    /// A shared config or credentials file could not be read.
    ProfileFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    #[error("building the HTTP client: {0}")]
    /// The HTTP client could not be built.
    Http(String),
    #[error("endpoint {url:?} is plain http to another machine, and the credentials are a session's: use https, or allow plain http explicitly")]
    /// Requests signed with a session's credentials would cross the network in the clear.
    PlainHttp {
        /// The endpoint.
        url: String,
    },
    #[error("the AWS credential chain: {0}")]
    /// The AWS credential and region chain could not be loaded (`aws-config` feature).
    Chain(String),
}
