//! Client configuration: region, credentials, endpoint, timeouts, retries and validation, and
//! their resolution from the environment and the shared AWS files.
//!
//! Resolution order, most specific first:
//! - region: explicit, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`;
//! - credentials: explicit (keys, or a provider: [`ConfigBuilder::credentials_provider`]),
//!   `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), the profile's static
//!   keys (`AWS_PROFILE`, else `default`) in `AWS_SHARED_CREDENTIALS_FILE`
//!   (`~/.aws/credentials`), then in `AWS_CONFIG_FILE` (`~/.aws/config`). That is all the
//!   lean build reads. With the `aws-config` feature, [`ConfigBuilder::build_with_aws_chain`]
//!   resolves region and credentials as the AWS SDKs do instead (SSO, `role_arn`,
//!   `credential_process`, web identity, container credentials, IMDS), refreshed before they
//!   expire ([`crate::credentials`]);
//! - endpoint: explicit, `AWS_ENDPOINT_URL_ECS`, `AWS_ENDPOINT_URL`, the profile's
//!   `endpoint_url`, then the regional endpoint of the region's partition (see
//!   [`default_endpoint`]);
//! - the ELBv2 endpoint ([`crate::Elbv2Client`]): explicit (`elbv2_endpoint`, else an explicit
//!   `endpoint`, which then serves both services, as an emulator does),
//!   `AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2`, `AWS_ENDPOINT_URL`, the profile's
//!   `endpoint_url`, then the region's `elasticloadbalancing` endpoint. `AWS_ENDPOINT_URL_ECS`
//!   does not apply to it, as in the AWS SDKs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;

use crate::credentials::CredentialSource;
use crate::error::ConfigError;
use crate::profile::ProfileSet;
use crate::retry::RetryConfig;
use crate::validation::ValidationMode;

pub use crate::credentials::Clock;

/// A resolved client configuration.
#[derive(Clone)]
pub struct Config {
    pub(crate) region: String,
    pub(crate) credentials: CredentialSource,
    pub(crate) endpoint: String,
    pub(crate) elbv2_endpoint: String,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryConfig,
    pub(crate) validation: ValidationMode,
    pub(crate) clock: Clock,
    pub(crate) allow_plain_http: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The credentials' Debug redacts the secret and the session token.
        f.debug_struct("Config")
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .field("endpoint", &self.endpoint)
            .field("elbv2_endpoint", &self.elbv2_endpoint)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("validation", &self.validation)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A builder that resolves from the process environment unless told otherwise.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Everything from the process environment and the shared AWS files.
    pub fn from_env() -> Result<Config, ConfigError> {
        ConfigBuilder::default().build()
    }

    /// A configuration for a local endpoint such as an emulator in a test: region us-east-1,
    /// dummy static credentials, and nothing read from the environment or the shared AWS files.
    pub fn local(url: impl Into<String>) -> Result<Config, ConfigError> {
        Self::local_builder(url).build()
    }

    /// [`Config::local`] as a builder, to change retries, timeouts or the region.
    pub fn local_builder(url: impl Into<String>) -> ConfigBuilder {
        ConfigBuilder::default()
            .env(HashMap::new())
            .region("us-east-1")
            .endpoint(url)
            .static_credentials("AKIDLOCALEXAMPLE", "local-secret", None)
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The endpoint URL requests go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The endpoint URL ELBv2 requests go to.
    pub fn elbv2_endpoint(&self) -> &str {
        &self.elbv2_endpoint
    }

    /// The connect, per-attempt and overall timeouts.
    pub fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    /// How failed attempts are retried.
    pub fn retry(&self) -> &RetryConfig {
        &self.retry
    }

    /// How inputs are validated before they are sent.
    pub fn validation(&self) -> ValidationMode {
        self.validation
    }
}

/// Connect, per-attempt and overall time limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a TCP (and TLS) connection.
    pub connect: Duration,
    /// One attempt: sending the request and reading the whole answer.
    pub attempt: Duration,
    /// The whole call, all attempts and back-off included.
    pub overall: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(3),
            attempt: Duration::from_secs(30),
            overall: Duration::from_secs(90),
        }
    }
}

/// Builds a [`Config`]; anything not set is resolved from the environment.
#[derive(Clone, Default)]
pub struct ConfigBuilder {
    region: Option<String>,
    credentials: Option<Credentials>,
    provider: Option<SharedCredentialsProvider>,
    allow_plain_http: bool,
    endpoint: Option<String>,
    elbv2_endpoint: Option<String>,
    profile: Option<String>,
    timeouts: Timeouts,
    retry: RetryConfig,
    validation: ValidationMode,
    clock: Option<Clock>,
    env: Option<HashMap<String, String>>,
}

impl ConfigBuilder {
    /// The region, instead of the environment's or the profile's.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The credentials, instead of the environment's or the profile's.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// A credentials provider, asked again before the credentials it gives expire (see
    /// [`crate::credentials`]); it wins over [`ConfigBuilder::credentials`].
    pub fn credentials_provider(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.provider = Some(SharedCredentialsProvider::new(provider));
        self
    }

    /// Sign requests to a plain `http://` endpoint outside this machine even with a session's
    /// credentials (temporary ones, which carry a token: a real account's). Without it such a
    /// configuration is refused at build time for fixed credentials, and each call fails
    /// before sending for a provider's session: the signed requests and the token would cross
    /// the network in the clear. Keys without a session token, as emulators take, are only
    /// warned about.
    pub fn allow_plain_http(mut self, allow: bool) -> Self {
        self.allow_plain_http = allow;
        self
    }

    #[cfg(feature = "aws-config")]
    pub(crate) fn shared_credentials_provider(
        mut self,
        provider: SharedCredentialsProvider,
    ) -> Self {
        self.provider = Some(provider);
        self
    }

    #[cfg(feature = "aws-config")]
    pub(crate) fn profile_name(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    #[cfg(feature = "aws-config")]
    pub(crate) fn region_name(&self) -> Option<&str> {
        self.region.as_deref()
    }

    #[cfg(feature = "aws-config")]
    pub(crate) fn has_credentials(&self) -> bool {
        self.provider.is_some() || self.credentials.is_some()
    }

    /// Static credentials, e.g. for an emulator that accepts any.
    pub fn static_credentials(
        self,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<&str>,
    ) -> Self {
        self.credentials(Credentials::new(
            access_key_id,
            secret_access_key,
            session_token.map(str::to_owned),
            None,
            "static",
        ))
    }

    /// The endpoint URL, instead of the Region's ECS endpoint.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The ELBv2 endpoint URL, instead of the Region's (or of [`ConfigBuilder::endpoint`],
    /// which serves both services when this is not set).
    pub fn elbv2_endpoint(mut self, url: impl Into<String>) -> Self {
        self.elbv2_endpoint = Some(url.into());
        self
    }

    /// The shared-config profile to read (default: `AWS_PROFILE`, else `default`).
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// The timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The retry policy.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The validation mode (default: `Standard`).
    pub fn validation(mut self, mode: ValidationMode) -> Self {
        self.validation = mode;
        self
    }

    /// The clock used for signing (tests pin it to get a fixed signature).
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Resolve from this map instead of the process environment (for tests and embedding).
    pub fn env(mut self, vars: HashMap<String, String>) -> Self {
        self.env = Some(vars);
        self
    }

    /// Resolves region, credentials and endpoint; fails naming what is missing.
    pub fn build(self) -> Result<Config, ConfigError> {
        let env = self.env.unwrap_or_else(|| std::env::vars().collect());
        let var = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
        let home = var("HOME").map(PathBuf::from);
        let profile_name = self
            .profile
            .clone()
            .or_else(|| var("AWS_PROFILE"))
            .unwrap_or_else(|| "default".to_owned());
        let files = ProfileSet::load(
            var("AWS_CONFIG_FILE")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".aws/config"))),
            var("AWS_SHARED_CREDENTIALS_FILE")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".aws/credentials"))),
        )?;
        let profile = files.profile(&profile_name);

        let region = self
            .region
            .or_else(|| var("AWS_REGION"))
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .or_else(|| profile.and_then(|p| p.get("region")).map(str::to_owned))
            .ok_or(ConfigError::NoRegion)?;

        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemTime::now));
        let credentials = match (self.provider, self.credentials) {
            (Some(provider), _) => CredentialSource::provider(provider, clock.clone()),
            (None, Some(c)) => CredentialSource::fixed(c),
            (None, None) => CredentialSource::fixed(
                match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
                    (Some(id), Some(secret)) => {
                        Credentials::new(id, secret, var("AWS_SESSION_TOKEN"), None, "environment")
                    }
                    _ => {
                        let p = profile.ok_or_else(|| ConfigError::NoCredentials {
                            profile: profile_name.clone(),
                        })?;
                        match (p.get("aws_access_key_id"), p.get("aws_secret_access_key")) {
                            (Some(id), Some(secret)) => Credentials::new(
                                id,
                                secret,
                                p.get("aws_session_token").map(str::to_owned),
                                None,
                                "profile",
                            ),
                            _ => {
                                return Err(ConfigError::NoCredentials {
                                    profile: profile_name.clone(),
                                })
                            }
                        }
                    }
                },
            ),
        };

        let profile_endpoint = || {
            profile
                .and_then(|p| p.get("endpoint_url"))
                .map(str::to_owned)
        };
        let elbv2_endpoint = self
            .elbv2_endpoint
            .or_else(|| self.endpoint.clone())
            .or_else(|| var("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2"))
            .or_else(|| var("AWS_ENDPOINT_URL"))
            .or_else(profile_endpoint)
            .unwrap_or_else(|| {
                default_endpoint(&region).replacen("://ecs.", "://elasticloadbalancing.", 1)
            });
        let elbv2_endpoint = normalise_endpoint(&elbv2_endpoint)?;
        let endpoint = self
            .endpoint
            .or_else(|| var("AWS_ENDPOINT_URL_ECS"))
            .or_else(|| var("AWS_ENDPOINT_URL"))
            .or_else(profile_endpoint)
            .unwrap_or_else(|| default_endpoint(&region));
        let endpoint = normalise_endpoint(&endpoint)?;
        for url in [&endpoint, &elbv2_endpoint] {
            if let Some(host) = plain_http_elsewhere(url) {
                if credentials.is_session() && !self.allow_plain_http {
                    return Err(ConfigError::PlainHttp { url: url.clone() });
                }
                tracing::warn!(
                    endpoint = %url,
                    "requests signed for {host} go over plain http"
                );
            }
        }

        Ok(Config {
            region,
            credentials,
            endpoint,
            elbv2_endpoint,
            timeouts: self.timeouts,
            retry: self.retry,
            validation: self.validation,
            clock,
            allow_plain_http: self.allow_plain_http,
        })
    }
}

/// Whether `url` names this machine: `localhost` (any case), `127.0.0.0/8` or `::1`.
pub fn is_loopback(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The host of `url` when it is plain `http://` to a host other than this machine (see
/// [`is_loopback`]).
pub fn plain_http_elsewhere(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    if uri.scheme_str() != Some("http") || is_loopback(url) {
        return None;
    }
    Some(
        uri.host()?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
    )
}

/// The regional ECS endpoint. Partitions: `cn-*` regions use `amazonaws.com.cn`; the ISO
/// partitions (`us-iso-*`, `us-isob-*`) use `c2s.ic.gov` and `sc2s.sgov.gov`; GovCloud
/// (`us-gov-*`) and every other region use `amazonaws.com`.
pub fn default_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else if region.starts_with("us-isob-") {
        "sc2s.sgov.gov"
    } else if region.starts_with("us-iso-") {
        "c2s.ic.gov"
    } else {
        "amazonaws.com"
    };
    format!("https://ecs.{region}.{suffix}")
}

fn normalise_endpoint(url: &str) -> Result<String, ConfigError> {
    let parsed: http::Uri = url.parse().map_err(|e| ConfigError::BadEndpoint {
        url: url.to_owned(),
        reason: format!("{e}"),
    })?;
    match parsed.scheme_str() {
        Some("http" | "https") => {}
        _ => {
            return Err(ConfigError::BadEndpoint {
                url: url.to_owned(),
                reason: "the scheme must be http or https".into(),
            })
        }
    }
    if parsed.host().is_none() {
        return Err(ConfigError::BadEndpoint {
            url: url.to_owned(),
            reason: "no host".into(),
        });
    }
    Ok(url.trim_end_matches('/').to_owned())
}
