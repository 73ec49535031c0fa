//! The AWS SDKs' credential and region chain, through `aws-config` (feature `aws-config`).
//!
//! [`ConfigBuilder::build_with_aws_chain`] resolves what the builder was not given the way
//! the AWS SDKs and the AWS CLI v2 do:
//!
//! - region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, then the instance's
//!   (IMDS);
//! - credentials: the environment's keys, then the profile (`AWS_PROFILE`, or
//!   [`ConfigBuilder::profile`]): static keys, `role_arn` with `source_profile` or
//!   `credential_source`, `credential_process`, SSO (`sso_session`), `web_identity_token_file`;
//!   then web identity from `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` (how CI systems
//!   reach AWS through OIDC), container credentials
//!   (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `_FULL_URI`), then the instance's role (IMDS).
//!
//! The provider the chain yields is wrapped in the client's own refreshing cache
//! ([`crate::credentials`]): `aws-config`'s provider does not cache by itself, its cache lives
//! in the SDKs' request pipeline, which this client does not use.
//!
//! The chain's own calls (STS, SSO, the container and instance endpoints) go through reqwest
//! with ring, the HTTP stack the client already has ([`ReqwestHttpClient`]), rather than
//! `aws-config`'s default HTTP client, which would add hyper's legacy client and aws-lc (a C
//! library) to the build. Endpoint resolution is unchanged: the ECS endpoint still comes from
//! the builder, `AWS_ENDPOINT_URL_ECS`, `AWS_ENDPOINT_URL` or the profile. Note that the chain
//! sends STS calls to `AWS_ENDPOINT_URL` too, when it is set and `AWS_ENDPOINT_URL_STS` is not,
//! as every AWS SDK does.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

use crate::config::{Config, ConfigBuilder};
use crate::error::ConfigError;

/// The behaviour version the chain is loaded with: pinned, so that a newer `aws-config`
/// changes no default (timeouts, retries) without a change here.
fn behavior_version() -> BehaviorVersion {
    BehaviorVersion::v2026_01_12()
}

impl ConfigBuilder {
    /// Resolves region and credentials through the AWS SDKs' chain (see [`crate::chain`]),
    /// for what the builder was not given, then builds as [`ConfigBuilder::build`] does.
    /// The chain reads the process environment and the shared files even when
    /// [`ConfigBuilder::env`] gave a map (which still applies to the endpoint).
    ///
    /// Loading reads files and may ask the instance for its region; the credentials are
    /// fetched at the first call, and again before they expire. A chain that finds no
    /// credentials fails that call with [`crate::Error::Credentials`], naming every source it
    /// tried.
    pub async fn build_with_aws_chain(self) -> Result<Config, ConfigError> {
        let mut loader =
            aws_config::defaults(behavior_version()).http_client(ReqwestHttpClient::new());
        if let Some(profile) = self.profile_name() {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = self.region_name() {
            loader = loader.region(Region::new(region.to_owned()));
        }
        let sdk = loader.load().await;
        let mut builder = self;
        if builder.region_name().is_none() {
            match sdk.region() {
                Some(region) => builder = builder.region(region.as_ref()),
                None => return Err(ConfigError::NoRegion),
            }
        }
        if !builder.has_credentials() {
            let provider = sdk.credentials_provider().ok_or_else(|| {
                ConfigError::Chain("the chain has no credentials provider".into())
            })?;
            builder = builder.shared_credentials_provider(provider);
        }
        builder.build()
    }
}

/// `aws-config`'s HTTP client, made of reqwest: no redirects, no proxy (the instance and
/// container endpoints hand out credentials and must be reached directly), and the connect
/// and read timeouts each of the chain's calls asks for (the instance endpoint's are one
/// second, so a machine that is not an EC2 instance answers quickly). One connector, with its
/// connection pool, per set of timeouts.
#[derive(Clone, Debug, Default)]
pub struct ReqwestHttpClient {
    connectors: std::sync::Arc<std::sync::Mutex<Connectors>>,
}

/// The connectors made so far, by (connect timeout, read timeout).
type Connectors =
    std::collections::HashMap<(Option<Duration>, Option<Duration>), SharedHttpConnector>;

impl ReqwestHttpClient {
    /// A client; installs ring as the process's TLS provider unless one is installed.
    pub fn new() -> ReqwestHttpClient {
        let _ = rustls::crypto::ring::default_provider().install_default();
        ReqwestHttpClient::default()
    }
}

impl HttpClient for ReqwestHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(connector) = connectors.get(&key) {
            return connector.clone();
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Some(connect) = settings.connect_timeout() {
            builder = builder.connect_timeout(connect);
        }
        if let Some(read) = settings.read_timeout() {
            builder = builder.read_timeout(read);
        }
        let connector = SharedHttpConnector::new(ReqwestConnector {
            client: builder.build().map_err(|e| e.to_string()),
            timeout: settings
                .connect_timeout()
                .zip(settings.read_timeout())
                .map(|(c, r)| c + r + Duration::from_secs(1)),
        });
        connectors.insert(key, connector.clone());
        connector
    }
}

#[derive(Debug)]
struct ReqwestConnector {
    client: Result<reqwest::Client, String>,
    timeout: Option<Duration>,
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        let timeout = self.timeout;
        HttpConnectorFuture::new(async move {
            let client = client.map_err(|e| ConnectorError::other(e.into(), None))?;
            let method = reqwest::Method::from_bytes(request.method().as_bytes())
                .map_err(|e| ConnectorError::user(e.into()))?;
            let mut out = client.request(method, request.uri());
            for (name, value) in request.headers() {
                out = out.header(name, value);
            }
            // The chain's requests (STS forms, the instance's token PUT) are in memory.
            let body = request
                .body()
                .bytes()
                .map(<[u8]>::to_vec)
                .unwrap_or_default();
            out = out.body(body);
            if let Some(t) = timeout {
                out = out.timeout(t);
            }
            let answer = out.send().await.map_err(connector_error)?;
            let status = StatusCode::try_from(answer.status().as_u16())
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            let headers: Vec<(String, String)> = answer
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let bytes = answer.bytes().await.map_err(connector_error)?;
            let mut response = HttpResponse::new(status, SdkBody::from(bytes));
            for (k, v) in headers {
                response
                    .headers_mut()
                    .try_append(k, v)
                    .map_err(|e| ConnectorError::other(e.into(), None))?;
            }
            Ok(response)
        })
    }
}

fn connector_error(e: reqwest::Error) -> ConnectorError {
    if e.is_timeout() {
        ConnectorError::timeout(e.into())
    } else if e.is_connect() || e.is_request() || e.is_body() {
        ConnectorError::io(e.into())
    } else {
        ConnectorError::other(e.into(), None)
    }
}
