//! Where the signing credentials come from: fixed keys, or a provider (the AWS credential
//! chain, a role, a process) that is asked again before the credentials it gave expire.
//!
//! A provider's credentials are kept and reused while they have more than
//! [`REFRESH_BEFORE_EXPIRY`] left (or half their lifetime, for short ones); credentials without
//! an expiry are fetched again after [`REREAD_AFTER`], so rotated files are picked up. Callers
//! waiting at the moment of a refresh share one fetch. When a refresh fails while the kept
//! credentials are still valid, they are used until they expire (and the failure is logged):
//! a brief outage of the credential source does not stop a long deployment.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::identity::Identity;

/// Where the time for signing (and for judging expiry) comes from; tests pin it.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// How long before their expiry a provider's credentials are fetched again.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// How long credentials without an expiry are reused before the provider is asked again.
pub const REREAD_AFTER: Duration = Duration::from_secs(15 * 60);

/// After a failed refresh, while the kept credentials are still valid, how long calls sign
/// with them before the provider is asked again (so an outage of the source does not make
/// every call wait for it).
pub const RETRY_REFRESH_AFTER: Duration = Duration::from_secs(30);

/// The credentials a client signs with.
#[derive(Clone)]
pub(crate) enum CredentialSource {
    /// Fixed keys, turned into a signing identity once.
    Static(Credentials, Identity),
    /// A provider, with its last credentials kept.
    Provider(Arc<Refreshing>),
}

impl std::fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // `Credentials`' own Debug redacts the secret and the session token.
            CredentialSource::Static(c, _) => c.fmt(f),
            // A provider's own Debug may show what it holds.
            CredentialSource::Provider(_) => f.write_str("Provider(..)"),
        }
    }
}

impl CredentialSource {
    pub(crate) fn fixed(credentials: Credentials) -> CredentialSource {
        let identity = Identity::from(credentials.clone());
        CredentialSource::Static(credentials, identity)
    }

    pub(crate) fn provider(provider: SharedCredentialsProvider, clock: Clock) -> CredentialSource {
        CredentialSource::Provider(Arc::new(Refreshing {
            provider,
            kept: tokio::sync::Mutex::new(Kept::default()),
            clock,
        }))
    }

    /// The identity to sign the next request with.
    pub(crate) async fn identity(&self) -> Result<Identity, CredentialsError> {
        match self {
            CredentialSource::Static(_, identity) => Ok(identity.clone()),
            CredentialSource::Provider(r) => r.get().await.map(Identity::from),
        }
    }

    /// Whether fixed credentials are a session's (they carry a token): temporary credentials
    /// come from a real account, and are refused for a plain-http endpoint elsewhere. A
    /// provider's are judged when they are fetched ([`carries_session`]).
    pub(crate) fn is_session(&self) -> bool {
        match self {
            CredentialSource::Static(c, _) => c.session_token().is_some(),
            CredentialSource::Provider(_) => false,
        }
    }
}

/// Whether a signing identity carries a session token.
pub(crate) fn carries_session(identity: &Identity) -> bool {
    identity
        .data::<Credentials>()
        .is_some_and(|c| c.session_token().is_some())
}

/// A provider and the credentials it last gave, with when it gave them.
pub(crate) struct Refreshing {
    provider: SharedCredentialsProvider,
    kept: tokio::sync::Mutex<Kept>,
    clock: Clock,
}

/// The last credentials and when they were fetched, and when a refresh last failed.
#[derive(Default)]
struct Kept {
    credentials: Option<(Credentials, SystemTime)>,
    failed_at: Option<SystemTime>,
}

impl Refreshing {
    async fn get(&self) -> Result<Credentials, CredentialsError> {
        // Held across the fetch: concurrent callers wait for one refresh instead of each
        // asking the provider.
        let mut kept = self.kept.lock().await;
        let now = (self.clock)();
        let valid = |c: &Credentials| c.expiry().is_none_or(|at| at > now);
        if let Some((credentials, fetched)) = kept.credentials.as_ref() {
            let backing_off = kept.failed_at.is_some_and(|at| {
                now.duration_since(at)
                    .is_ok_and(|since| since < RETRY_REFRESH_AFTER)
            });
            if fresh(credentials, *fetched, now) || (backing_off && valid(credentials)) {
                return Ok(credentials.clone());
            }
        }
        match self.provider.provide_credentials().await {
            Ok(credentials) => {
                kept.credentials = Some((credentials.clone(), now));
                kept.failed_at = None;
                Ok(credentials)
            }
            Err(e) => {
                kept.failed_at = Some(now);
                match kept.credentials.as_ref() {
                    Some((credentials, _)) if valid(credentials) => {
                        tracing::warn!(
                            error = %e,
                            "refreshing credentials failed; signing with the previous ones until they expire"
                        );
                        Ok(credentials.clone())
                    }
                    _ => Err(e),
                }
            }
        }
    }
}

/// Whether credentials fetched at `fetched` can still be used at `now` without asking again.
fn fresh(credentials: &Credentials, fetched: SystemTime, now: SystemTime) -> bool {
    match credentials.expiry() {
        Some(expiry) => {
            let lifetime = expiry.duration_since(fetched).unwrap_or_default();
            let window = REFRESH_BEFORE_EXPIRY.min(lifetime / 2);
            expiry.duration_since(now).is_ok_and(|left| left > window)
        }
        None => now
            .duration_since(fetched)
            .is_ok_and(|age| age < REREAD_AFTER),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Mutex;

    use aws_credential_types::provider::future;

    /// A provider that hands out numbered credentials valid for `lifetime` from the shared
    /// clock, or fails when told to.
    #[derive(Debug)]
    struct Numbered {
        calls: AtomicU32,
        lifetime: Option<Duration>,
        now: Arc<Mutex<SystemTime>>,
        failing: Arc<Mutex<bool>>,
    }

    impl ProvideCredentials for Numbered {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let now = *self.now.lock().unwrap();
            if *self.failing.lock().unwrap() {
                return future::ProvideCredentials::ready(Err(CredentialsError::provider_error(
                    "the source is down",
                )));
            }
            future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKID{n}"),
                "secret",
                Some("token".into()),
                self.lifetime.map(|l| now + l),
                "numbered",
            )))
        }
    }

    struct Setup {
        source: CredentialSource,
        provider: Arc<Numbered>,
        now: Arc<Mutex<SystemTime>>,
        failing: Arc<Mutex<bool>>,
    }

    fn setup(lifetime: Option<Duration>) -> Setup {
        let now = Arc::new(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        ));
        let failing = Arc::new(Mutex::new(false));
        let provider = Arc::new(Numbered {
            calls: AtomicU32::new(0),
            lifetime,
            now: now.clone(),
            failing: failing.clone(),
        });
        let clock_now = now.clone();
        let source = CredentialSource::provider(
            SharedCredentialsProvider::new(ArcProvider(provider.clone())),
            Arc::new(move || *clock_now.lock().unwrap()),
        );
        Setup {
            source,
            provider,
            now,
            failing,
        }
    }

    #[derive(Debug)]
    struct ArcProvider(Arc<Numbered>);

    impl ProvideCredentials for ArcProvider {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.0.provide_credentials()
        }
    }

    async fn key(source: &CredentialSource) -> String {
        let identity = source.identity().await.unwrap();
        identity
            .data::<Credentials>()
            .unwrap()
            .access_key_id()
            .to_owned()
    }

    fn advance(s: &Setup, by: Duration) {
        let mut now = s.now.lock().unwrap();
        *now += by;
    }

    #[tokio::test]
    async fn credentials_are_reused_until_five_minutes_before_they_expire() {
        let s = setup(Some(Duration::from_secs(3600)));
        assert_eq!(key(&s.source).await, "AKID1");
        advance(&s, Duration::from_secs(54 * 60));
        assert_eq!(key(&s.source).await, "AKID1", "6 minutes left");
        advance(&s, Duration::from_secs(2 * 60));
        assert_eq!(key(&s.source).await, "AKID2", "4 minutes left");
        assert_eq!(s.provider.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn short_lived_credentials_are_refreshed_at_half_their_life() {
        let s = setup(Some(Duration::from_secs(4 * 60)));
        assert_eq!(key(&s.source).await, "AKID1");
        advance(&s, Duration::from_secs(60));
        assert_eq!(key(&s.source).await, "AKID1");
        advance(&s, Duration::from_secs(70));
        assert_eq!(key(&s.source).await, "AKID2");
    }

    #[tokio::test]
    async fn credentials_without_expiry_are_read_again_after_fifteen_minutes() {
        let s = setup(None);
        assert_eq!(key(&s.source).await, "AKID1");
        advance(&s, Duration::from_secs(14 * 60));
        assert_eq!(key(&s.source).await, "AKID1");
        advance(&s, Duration::from_secs(2 * 60));
        assert_eq!(key(&s.source).await, "AKID2");
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_valid_credentials_and_fails_once_they_expire() {
        let s = setup(Some(Duration::from_secs(3600)));
        assert_eq!(key(&s.source).await, "AKID1");
        *s.failing.lock().unwrap() = true;
        advance(&s, Duration::from_secs(58 * 60));
        assert_eq!(key(&s.source).await, "AKID1", "2 minutes left: still signs");
        assert_eq!(s.provider.calls.load(Ordering::SeqCst), 2);
        // Within 30 s of the failure the source is not asked again.
        advance(&s, Duration::from_secs(20));
        assert_eq!(key(&s.source).await, "AKID1");
        assert_eq!(s.provider.calls.load(Ordering::SeqCst), 2);
        advance(&s, Duration::from_secs(3 * 60));
        let e = s.source.identity().await.unwrap_err();
        assert!(matches!(e, CredentialsError::ProviderError(_)), "{e:?}");
        *s.failing.lock().unwrap() = false;
        assert_eq!(key(&s.source).await, "AKID4");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let s = setup(Some(Duration::from_secs(3600)));
        let keys = futures_join(&s.source).await;
        assert!(keys.iter().all(|k| k == "AKID1"), "{keys:?}");
        assert_eq!(s.provider.calls.load(Ordering::SeqCst), 1);
    }

    async fn futures_join(source: &CredentialSource) -> Vec<String> {
        let mut handles = vec![];
        for _ in 0..16 {
            let source = source.clone();
            handles.push(tokio::spawn(async move { key(&source).await }));
        }
        let mut keys = vec![];
        for h in handles {
            keys.push(h.await.unwrap());
        }
        keys
    }

    #[tokio::test]
    async fn a_session_is_known_by_its_token() {
        let plain = CredentialSource::fixed(Credentials::new("a", "b", None, None, "t"));
        let session =
            CredentialSource::fixed(Credentials::new("a", "b", Some("c".into()), None, "t"));
        assert!(!plain.is_session());
        assert!(session.is_session());
        assert!(carries_session(&session.identity().await.unwrap()));
        assert!(!carries_session(&plain.identity().await.unwrap()));
        // A provider's credentials are judged once fetched (the numbered ones carry a token).
        let provided = setup(None).source;
        assert!(!provided.is_session());
        assert!(carries_session(&provided.identity().await.unwrap()));
        assert!(!format!("{session:?}").contains("\"b\""));
    }
}
