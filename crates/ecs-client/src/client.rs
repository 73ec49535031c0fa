//! [`EcsClient`]: awsJson1_1 over one pooled HTTP client, SigV4-signed, with validation,
//! retries and timeouts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use ecs_model::{Operation, OperationInfo, Validate, ValidationError};
use serde_json::Value;
use tracing::Instrument;

use crate::config::Config;
use crate::error::{ConfigError, Error, ErrorCode, RawResponse, ServiceError};
use crate::retry::{self, Failure};
use crate::signer::{self, Root, Signed, Signer};
use crate::validation::{self, ValidationMode};

/// awsJson1_1 content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Operations whose `clientToken` the client fills with a UUID when the caller leaves it
/// unset, so that retries are idempotent. The model marks neither member as an idempotency
/// token; the operations' documentation describes the token's purpose.
pub const CLIENT_TOKEN_OPERATIONS: &[&str] = &["CreateTaskSet", "CreateService"];

/// awsQuery content type (ELBv2).
pub const QUERY_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// How one call goes on the wire: the protocol's headers and signing name, and whether the
/// call may be repeated after it was sent.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    pub name: &'static str,
    /// `X-Amz-Target` (awsJson1_1); `None` for awsQuery.
    pub target: Option<&'static str>,
    pub content_type: &'static str,
    pub signing_name: &'static str,
    pub safe_to_repeat: bool,
}

impl Call {
    fn json(op: &OperationInfo, safe_to_repeat: bool) -> Call {
        Call {
            name: op.name,
            target: Some(op.target),
            content_type: CONTENT_TYPE,
            signing_name: ecs_model::SIGNING_NAME,
            safe_to_repeat,
        }
    }

    fn is_query(&self) -> bool {
        self.target.is_none()
    }
}

/// Per-call overrides.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallOptions {
    /// Validation mode for this call instead of the client's.
    pub validation: Option<ValidationMode>,
    /// Attempts for this call instead of the client's retry setting.
    pub max_attempts: Option<u32>,
}

impl CallOptions {
    /// This call's validation mode instead of the client's.
    pub fn validation(mut self, mode: ValidationMode) -> Self {
        self.validation = Some(mode);
        self
    }

    /// At most `n` attempts for this call, the first included.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n);
        self
    }
}

/// An ECS client. Cheap to clone: clones share the connection pool.
#[derive(Clone, Debug)]
pub struct EcsClient {
    config: Config,
    http: reqwest::Client,
    signing: Arc<Signing>,
}

/// The quick signer and the endpoints' roots it signs for (`None`: an endpoint with a path,
/// signed by `aws-sigv4`'s general signer).
#[derive(Debug)]
struct Signing {
    signer: Signer,
    ecs: Option<Root>,
    elbv2: Option<Root>,
}

impl EcsClient {
    /// A client for `config`; fails only when the HTTP client cannot be built.
    pub fn new(config: Config) -> Result<EcsClient, ConfigError> {
        // reqwest is built without a bundled crypto provider; use ring (quicker to build than
        // aws-lc). Another provider already installed by the process is fine too.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeouts.connect)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ConfigError::Http(e.to_string()))?;
        let signing = Arc::new(Signing {
            signer: Signer::default(),
            ecs: Root::of(&config.endpoint),
            elbv2: Root::of(&config.elbv2_endpoint),
        });
        Ok(EcsClient {
            config,
            http,
            signing,
        })
    }

    /// A client configured from the environment and the shared AWS files (static keys only;
    /// see [`EcsClient::from_aws_chain`] for the whole chain).
    pub fn from_env() -> Result<EcsClient, ConfigError> {
        EcsClient::new(Config::from_env()?)
    }

    /// A client whose region and credentials come from the AWS SDKs' chain, as the AWS CLI
    /// finds them (SSO, roles, `credential_process`, web identity, container and instance
    /// credentials), refreshed before they expire. Feature `aws-config`.
    #[cfg(feature = "aws-config")]
    pub async fn from_aws_chain() -> Result<EcsClient, ConfigError> {
        EcsClient::new(Config::builder().build_with_aws_chain().await?)
    }

    /// The configuration the client was made with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sends one operation with the client's settings.
    pub async fn send<O: Operation>(&self, input: O::Input) -> Result<O::Output, Error> {
        self.send_with::<O>(input, CallOptions::default()).await
    }

    /// Sends one operation with per-call overrides.
    pub async fn send_with<O: Operation>(
        &self,
        input: O::Input,
        options: CallOptions,
    ) -> Result<O::Output, Error> {
        let op = &O::INFO;
        let mode = options.validation.unwrap_or(self.config.validation);
        let (fatal, warnings) = validation::partition(mode, input.violations());
        for v in &warnings {
            tracing::warn!(operation = op.name, path = %v.path, rule = v.rule, "{}", v.message);
        }
        if !fatal.is_empty() {
            return Err(Error::Validation {
                operation: op.name,
                source: ValidationError { violations: fatal },
            });
        }
        let serialize_error = |source| Error::Serialize {
            operation: op.name,
            source,
        };
        // Without a token to fill in, the input is written straight to bytes; with one, it goes
        // through a JSON value so the token can be added when the caller left it out.
        let raw = if token_member(op).is_some() {
            let body = serde_json::to_value(&input).map_err(serialize_error)?;
            self.send_json(op, body, options).await?
        } else {
            let bytes = Bytes::from(serde_json::to_vec(&input).map_err(serialize_error)?);
            self.send_bytes(op, bytes, false, options).await?
        };
        if raw.status / 100 != 2 {
            return Err(error_from_response(op.name, raw));
        }
        ecs_model::from_json::<O::Output>(&raw.body).map_err(|e| Error::Unparseable {
            operation: op.name,
            reason: e.to_string(),
            raw: Box::new(raw),
        })
    }

    /// Sends any JSON body as operation `op` and returns the final answer whatever its status
    /// (after retries). No validation: the conformance harness sends deliberately odd input.
    /// A `clientToken` is still filled in for [`CLIENT_TOKEN_OPERATIONS`] when absent.
    pub async fn send_json(
        &self,
        op: &OperationInfo,
        mut body: Value,
        options: CallOptions,
    ) -> Result<RawResponse, Error> {
        let mut has_token = false;
        if let Value::Object(map) = &mut body {
            if let Some(member) = token_member(op) {
                map.entry(member)
                    .or_insert_with(|| Value::String(uuid::Uuid::new_v4().to_string()));
                has_token = true;
            }
        }
        let bytes = Bytes::from(
            serde_json::to_vec(&body).map_err(|source| Error::Serialize {
                operation: op.name,
                source,
            })?,
        );
        self.send_bytes(op, bytes, has_token, options).await
    }

    /// Sends an encoded body, retrying as the operation allows, within the overall timeout.
    async fn send_bytes(
        &self,
        op: &OperationInfo,
        bytes: Bytes,
        has_token: bool,
        options: CallOptions,
    ) -> Result<RawResponse, Error> {
        let safe_to_repeat = op.readonly || op.idempotent || has_token;
        self.exchange(&Call::json(op, safe_to_repeat), bytes, options)
            .await
    }

    /// Sends an encoded body as `call`, retrying as it allows, within the overall timeout.
    pub(crate) async fn exchange(
        &self,
        call: &Call,
        bytes: Bytes,
        options: CallOptions,
    ) -> Result<RawResponse, Error> {
        let overall = self.config.timeouts.overall;
        match tokio::time::timeout(overall, self.execute(call, bytes, options)).await {
            Ok(result) => result,
            Err(_) => Err(Error::OverallTimeout {
                operation: call.name,
                timeout: overall,
            }),
        }
    }

    async fn execute(
        &self,
        op: &Call,
        body: Bytes,
        options: CallOptions,
    ) -> Result<RawResponse, Error> {
        let safe_to_repeat = op.safe_to_repeat;
        let max_attempts = options
            .max_attempts
            .unwrap_or(self.config.retry.max_attempts)
            .max(1);
        let mut attempt = 1;
        loop {
            let span = tracing::info_span!(
                "ecs.call",
                operation = op.name,
                attempt,
                status = tracing::field::Empty,
                request_id = tracing::field::Empty
            );
            let started = Instant::now();
            let (result, failure) = self
                .attempt(op, body.clone())
                .instrument(span.clone())
                .await;
            if let Ok(raw) = &result {
                span.record("status", raw.status);
                if let Some(id) = raw.header("x-amzn-requestid") {
                    span.record("request_id", id);
                }
            }
            let retry = failure.is_some_and(|f| retry::should_retry(f, safe_to_repeat))
                && attempt < max_attempts;
            span.in_scope(|| {
                tracing::debug!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    ?failure,
                    retry,
                    "attempt finished"
                );
            });
            if !retry {
                return result;
            }
            let delay = self.config.retry.backoff(attempt + 1);
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// One attempt: the answer (or error) and, when it failed, how.
    async fn attempt(
        &self,
        op: &Call,
        body: Bytes,
    ) -> (Result<RawResponse, Error>, Option<Failure>) {
        let identity = match self.identity(op).await {
            Ok(i) => i,
            Err(e) => {
                let retryable = e.is_retryable();
                return (
                    Err(e),
                    Some(if retryable {
                        Failure::Retryable
                    } else {
                        Failure::Final
                    }),
                );
            }
        };
        if let Some(e) = self.plain_http_refusal(op, &identity) {
            return (Err(e), Some(Failure::Final));
        }
        let request = match self.signed_request(op, body, &identity) {
            Ok(r) => r,
            Err(e) => return (Err(e), Some(Failure::Final)),
        };
        let timeout = self.config.timeouts.attempt;
        let exchange = async {
            let response = self.http.execute(request).await?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>(RawResponse {
                status,
                headers,
                body,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Err(_) => (
                Err(Error::AttemptTimeout {
                    operation: op.name,
                    timeout,
                }),
                Some(Failure::AfterSend),
            ),
            Ok(Err(source)) => {
                let failure = if source.is_connect() {
                    Failure::Connect
                } else {
                    Failure::AfterSend
                };
                (
                    Err(Error::Transport {
                        operation: op.name,
                        source,
                    }),
                    Some(failure),
                )
            }
            Ok(Ok(raw)) if raw.status / 100 == 2 => (Ok(raw), None),
            Ok(Ok(raw)) => {
                let code = if op.is_query() {
                    query_error(&raw).map(|(code, _)| code)
                } else {
                    error_code(&raw)
                };
                let failure = retry::classify(raw.status, code.as_deref());
                (Ok(raw), Some(failure))
            }
        }
    }

    /// The identity to sign `op`'s next attempt with (a provider's credentials are refreshed
    /// before they expire).
    async fn identity(&self, op: &Call) -> Result<Identity, Error> {
        use aws_credential_types::provider::error::CredentialsError;
        self.config.credentials.identity().await.map_err(|e| {
            let mut reason = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                reason.push_str(": ");
                reason.push_str(&c.to_string());
                cause = c.source();
            }
            Error::Credentials {
                operation: op.name,
                reason,
                retryable: matches!(
                    e,
                    CredentialsError::ProviderTimedOut(_) | CredentialsError::ProviderError(_)
                ),
            }
        })
    }

    /// The refusal of a call that would send a session's signature over plain http to
    /// another machine (a provider's credentials are known only now).
    fn plain_http_refusal(&self, op: &Call, identity: &Identity) -> Option<Error> {
        if self.config.allow_plain_http || !crate::credentials::carries_session(identity) {
            return None;
        }
        let base = if op.is_query() {
            &self.config.elbv2_endpoint
        } else {
            &self.config.endpoint
        };
        let host = crate::config::plain_http_elsewhere(base)?;
        Some(Error::Signing {
            operation: op.name,
            reason: format!(
                "not signing with a session's credentials for {host} over plain http: use https, or allow plain http explicitly"
            ),
        })
    }

    fn signed_request(
        &self,
        op: &Call,
        body: Bytes,
        identity: &Identity,
    ) -> Result<reqwest::Request, Error> {
        if let Some((root, signed)) = self.quick_sign(op, &body, identity) {
            let mut request = reqwest::Request::new(reqwest::Method::POST, root.url.clone());
            add_signed_headers(request.headers_mut(), op, signed)?;
            *request.body_mut() = Some(reqwest::Body::from(body));
            return Ok(request);
        }
        let request = self.prepare(op, body, identity)?;
        reqwest::Request::try_from(request.map(reqwest::Body::from)).map_err(|e| Error::Signing {
            operation: op.name,
            reason: e.to_string(),
        })
    }

    /// The signature for `op` by the quick path, when the endpoint and the values allow it.
    fn quick_sign(&self, op: &Call, body: &[u8], identity: &Identity) -> Option<(&Root, Signed)> {
        let root = if op.is_query() {
            self.signing.elbv2.as_ref()
        } else {
            self.signing.ecs.as_ref()
        }?;
        let credentials = identity.data::<aws_credential_types::Credentials>()?;
        let request = signer::Request {
            host: &root.host,
            content_type: op.content_type,
            target: op.target,
            body,
            region: &self.config.region,
            service: op.signing_name,
            time: (self.config.clock)(),
        };
        let signed = self.signing.signer.sign(&request, credentials)?;
        Some((root, signed))
    }

    /// The signed HTTP request the client would send for `body` as operation `op`, signed at
    /// the configured clock's current time with the credentials the next call would use.
    /// Nothing is sent.
    pub async fn prepare_request(
        &self,
        op: &OperationInfo,
        body: Bytes,
    ) -> Result<http::Request<Bytes>, Error> {
        let call = Call::json(op, op.readonly || op.idempotent);
        let identity = self.identity(&call).await?;
        self.prepare(&call, body, &identity)
    }

    fn prepare(
        &self,
        op: &Call,
        body: Bytes,
        identity: &Identity,
    ) -> Result<http::Request<Bytes>, Error> {
        let signing_error = |reason: String| Error::Signing {
            operation: op.name,
            reason,
        };
        if let Some((root, signed)) = self.quick_sign(op, &body, identity) {
            let mut request = http::Request::builder()
                .method("POST")
                .uri(root.url.as_str())
                .body(body)
                .map_err(|e| signing_error(e.to_string()))?;
            add_signed_headers(request.headers_mut(), op, signed)?;
            return Ok(request);
        }
        self.prepare_general(op, body, identity)
    }

    /// [`EcsClient::prepare`] by `aws-sigv4`'s general signer: endpoints with a path, and values
    /// the quick path leaves to it.
    fn prepare_general(
        &self,
        op: &Call,
        body: Bytes,
        identity: &Identity,
    ) -> Result<http::Request<Bytes>, Error> {
        let signing_error = |reason: String| Error::Signing {
            operation: op.name,
            reason,
        };
        let base = if op.is_query() {
            &self.config.elbv2_endpoint
        } else {
            &self.config.endpoint
        };
        // Signed as reqwest sends it: its URL lowercases the host, rewrites addresses to their
        // usual form and drops a default port, and the Host header is written from it.
        let raw = format!("{base}/");
        let url = reqwest::Url::parse(&raw).map_or(raw, String::from);
        let time = (self.config.clock)();
        let params = v4::SigningParams::builder()
            .identity(identity)
            .region(&self.config.region)
            .name(op.signing_name)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| signing_error(e.to_string()))?
            .into();
        let mut headers = vec![("content-type", op.content_type)];
        if let Some(target) = op.target {
            headers.push(("x-amz-target", target));
        }
        let signable = SignableRequest::new(
            "POST",
            url.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(&body),
        )
        .map_err(|e| signing_error(e.to_string()))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| signing_error(e.to_string()))?
            .into_parts();
        let mut builder = http::Request::builder().method("POST").uri(&url);
        for (k, v) in &headers {
            builder = builder.header(*k, *v);
        }
        let mut request = builder
            .body(body.clone())
            .map_err(|e| signing_error(e.to_string()))?;
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }
}

/// Adds the protocol's headers and the signature's to `headers`.
fn add_signed_headers(
    headers: &mut http::HeaderMap,
    op: &Call,
    signed: Signed,
) -> Result<(), Error> {
    use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
    let mut add = |name: HeaderName, v: &str, sensitive: bool| {
        // The quick signer takes only visible ASCII and spaces, so this does not fail; if it
        // ever did, the call fails rather than go without the header.
        let mut value = HeaderValue::from_str(v).map_err(|e| Error::Signing {
            operation: op.name,
            reason: format!("header {name}: {e}"),
        })?;
        value.set_sensitive(sensitive);
        headers.insert(name, value);
        Ok::<_, Error>(())
    };
    add(CONTENT_TYPE, op.content_type, false)?;
    if let Some(target) = op.target {
        add(HeaderName::from_static("x-amz-target"), target, false)?;
    }
    add(
        HeaderName::from_static("x-amz-date"),
        &signed.amz_date,
        false,
    )?;
    add(AUTHORIZATION, &signed.authorization, true)?;
    if let Some(token) = &signed.security_token {
        add(HeaderName::from_static("x-amz-security-token"), token, true)?;
    }
    Ok(())
}

/// The member that carries an operation's idempotency token, when the client fills one in.
fn token_member(op: &OperationInfo) -> Option<&'static str> {
    op.idempotency_token.or_else(|| {
        CLIENT_TOKEN_OPERATIONS
            .contains(&op.name)
            .then_some("clientToken")
    })
}

/// The error code of an answer as the awsJson1_1 protocol defines it: the `X-Amzn-Errortype`
/// header, else `__type` (or `code`) in the body; anything after `:` is dropped, and so is a
/// `namespace#` prefix.
pub fn error_code(raw: &RawResponse) -> Option<String> {
    let from_body = || {
        let v: Value = serde_json::from_slice(&raw.body).ok()?;
        v.get("__type")
            .or_else(|| v.get("code"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let code = raw
        .header("x-amzn-errortype")
        .map(str::to_owned)
        .or_else(from_body)?;
    let code = code.split(':').next().unwrap_or_default();
    let code = code.rsplit('#').next().unwrap_or_default().trim();
    (!code.is_empty()).then(|| code.to_owned())
}

/// The code and message of an awsQuery error answer (XML).
pub(crate) fn query_error(raw: &RawResponse) -> Option<(String, String)> {
    ecs_model::query::parse_error(std::str::from_utf8(&raw.body).ok()?)
}

/// Builds the error for a non-2xx answer.
pub fn error_from_response(operation: &'static str, raw: RawResponse) -> Error {
    let Some(code) = error_code(&raw) else {
        return Error::Unparseable {
            operation,
            reason: format!("HTTP {} without an awsJson1_1 error code", raw.status),
            raw: Box::new(raw),
        };
    };
    let body: Option<Value> = serde_json::from_slice(&raw.body).ok();
    let message = body.as_ref().and_then(|b| {
        ["message", "Message", "errorMessage"]
            .iter()
            .find_map(|k| b.get(*k).and_then(Value::as_str).map(str::to_owned))
    });
    let request_id = raw.header("x-amzn-requestid").map(str::to_owned);
    Error::Service(Box::new(ServiceError {
        operation,
        code: ErrorCode::from_code(&code),
        message,
        request_id,
        raw,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use std::time::SystemTime;

    /// The quick signer's request and the general signer's are the same request: method, URI,
    /// and every header with its value, for spellings of an endpoint that reqwest normalises,
    /// with and without a session token, for both protocols.
    #[test]
    fn the_quick_and_the_general_signer_make_the_same_request() {
        const KEY_ID: &str = "AKIDEXAMPLE";
        const SECRET: &str = "wJalrXUtnFEMI/K7MDENG";
        for endpoint in [
            "http://127.0.0.1:4566",
            "http://LocalStack:04566",
            "http://localhost:80",
            "https://ECS.us-east-1.amazonaws.com",
            "http://[0:0:0:0:0:0:0:1]:5000",
        ] {
            for token in [None, Some("FwoGZXIvYXdzEBYaDH/session+token==")] {
                let token = token.map(str::to_owned);
                let config = Config::local_builder(endpoint)
                    .static_credentials(KEY_ID, SECRET, token.as_deref())
                    .clock(|| SystemTime::UNIX_EPOCH + Duration::from_secs(1_557_128_360))
                    .allow_plain_http(true)
                    .build()
                    .unwrap();
                let client = EcsClient::new(config).unwrap();
                let credentials = Credentials::new(KEY_ID, SECRET, token.clone(), None, "test");
                let identity = Identity::new(credentials, None);
                let ecs = <ecs_model::operations::DescribeTaskSets as Operation>::INFO;
                let calls = [
                    Call::json(&ecs, true),
                    Call {
                        name: "DescribeTargetHealth",
                        target: None,
                        content_type: QUERY_CONTENT_TYPE,
                        signing_name: "elasticloadbalancing",
                        safe_to_repeat: true,
                    },
                ];
                for call in calls {
                    let body = Bytes::from_static(b"{\"cluster\":\"c\",\"service\":\"s\"}");
                    let quick = client.quick_sign(&call, &body, &identity);
                    assert!(quick.is_some(), "{endpoint}");
                    let quick = client.prepare(&call, body.clone(), &identity).unwrap();
                    let general = client.prepare_general(&call, body, &identity).unwrap();
                    let headers = |r: &http::Request<Bytes>| {
                        let mut h: Vec<(String, String)> = r
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
                            .collect();
                        h.sort();
                        h
                    };
                    assert_eq!(quick.method(), general.method());
                    assert_eq!(quick.uri(), general.uri(), "{endpoint}");
                    assert_eq!(headers(&quick), headers(&general), "{endpoint} {token:?}");
                    // What reqwest sends goes to that same URI.
                    let sent = client
                        .signed_request(&call, quick.body().clone(), &identity)
                        .unwrap();
                    assert_eq!(sent.url().as_str(), quick.uri().to_string());
                }
            }
        }
    }
}
