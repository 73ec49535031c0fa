//! SigV4 for the one request shape the client sends, with the signing key kept for the day.
//!
//! Every call is `POST /` to the endpoint's root, with no query, and signs the same headers:
//! `content-type`, `host`, `x-amz-date`, `x-amz-security-token` when the credentials carry a
//! session, and `x-amz-target` for awsJson1_1. For that shape the canonical request can be
//! written in one pass, and the signing key (four chained HMACs of the secret, the date, the
//! region and the service) is the same for every call of a UTC day. `aws-sigv4`'s general
//! signer rebuilds both on every call, which profiled at half of the client's own work on a
//! small call (bench/notes.md). The signature is still computed with `aws-sigv4`'s own
//! [`generate_signing_key`] and [`calculate_signature`]; only the canonical request and the
//! cache are written here, and a property test checks every header against `aws-sigv4`'s
//! general signer. An endpoint with a path, a query or user information does not take this
//! path: the client signs those with `aws-sigv4`'s general signer.

use std::sync::Mutex;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use sha2::{Digest, Sha256};

/// An endpoint the quick path can sign for: its root URL and the `host` value AWS's signer
/// derives from it (the port left out when it is the scheme's default).
#[derive(Clone, Debug)]
pub(crate) struct Root {
    pub url: reqwest::Url,
    pub host: String,
}

impl Root {
    /// The root of `endpoint` (a normalised endpoint: no trailing slash), or `None` when the
    /// endpoint has a path, a query or user information.
    ///
    /// The host is the one the request goes to: reqwest's URL lowercases it, rewrites IP
    /// addresses to their usual form and drops a default port, and hyper writes the `Host`
    /// header from that URL, so the signed value is taken from the same URL.
    pub fn of(endpoint: &str) -> Option<Root> {
        let url = reqwest::Url::parse(&format!("{endpoint}/")).ok()?;
        if !matches!(url.scheme(), "http" | "https")
            || url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return None;
        }
        let name = url.host_str()?;
        let host = match url.port() {
            Some(port) => format!("{name}:{port}"),
            None => name.to_owned(),
        };
        Some(Root { url, host })
    }
}

/// The headers a signed request adds: `x-amz-date`, `authorization`, and the session token
/// when there is one.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Signed {
    pub amz_date: String,
    pub authorization: String,
    pub security_token: Option<String>,
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signature is no secret (it is sent in the clear over http too); the session
        // token is.
        f.debug_struct("Signed")
            .field("amz_date", &self.amz_date)
            .field("authorization", &self.authorization)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

/// A signing key and what it was derived from. The secret is kept only as its SHA-256, so the
/// cache holds no copy of it.
struct Key {
    access_key_id: String,
    secret_sha256: [u8; 32],
    date: String,
    region: String,
    service: &'static str,
    key: [u8; 32],
}

/// Signing keys of the last few (credentials, day, region, service) tuples.
#[derive(Default)]
pub(crate) struct Signer {
    keys: Mutex<Vec<Key>>,
}

/// How many signing keys are kept: one per service the client calls (ECS and ELBv2), and the
/// day or credentials before a change.
const KEYS_KEPT: usize = 4;

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

/// What one request is: everything the canonical request holds besides the endpoint.
pub(crate) struct Request<'a> {
    pub host: &'a str,
    pub content_type: &'a str,
    pub target: Option<&'a str>,
    pub body: &'a [u8],
    pub region: &'a str,
    pub service: &'static str,
    pub time: SystemTime,
}

impl Signer {
    /// The signature headers for `request`, or `None` when the quick path does not apply (a
    /// header value AWS's signer would rewrite), for the general signer to handle.
    pub fn sign(&self, request: &Request<'_>, credentials: &Credentials) -> Option<Signed> {
        let token = credentials.session_token();
        let plain = |v: &str| v.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        // Every value that goes into a header, so that each makes a valid header value.
        let values = [
            Some(request.content_type),
            request.target,
            token,
            Some(request.host),
            Some(credentials.access_key_id()),
            Some(request.region),
        ];
        // AWS's signer trims values and folds runs of spaces; ours have none to fold, and a
        // value that has is left to it.
        if values
            .iter()
            .flatten()
            .any(|v| !plain(v) || v.contains("  ") || v.starts_with(' ') || v.ends_with(' '))
        {
            return None;
        }
        let (date, amz_date) = timestamps(request.time)?;
        let mut creq = String::with_capacity(384 + token.map_or(0, str::len));
        creq.push_str("POST\n/\n\ncontent-type:");
        creq.push_str(request.content_type);
        creq.push_str("\nhost:");
        creq.push_str(request.host);
        creq.push_str("\nx-amz-date:");
        creq.push_str(&amz_date);
        if let Some(token) = token {
            creq.push_str("\nx-amz-security-token:");
            creq.push_str(token);
        }
        if let Some(target) = request.target {
            creq.push_str("\nx-amz-target:");
            creq.push_str(target);
        }
        let signed_headers = match (token.is_some(), request.target.is_some()) {
            (true, true) => "content-type;host;x-amz-date;x-amz-security-token;x-amz-target",
            (true, false) => "content-type;host;x-amz-date;x-amz-security-token",
            (false, true) => "content-type;host;x-amz-date;x-amz-target",
            (false, false) => "content-type;host;x-amz-date",
        };
        creq.push_str("\n\n");
        creq.push_str(signed_headers);
        creq.push('\n');
        push_hex(&mut creq, &Sha256::digest(request.body));

        let scope = format!("{date}/{}/{}/aws4_request", request.region, request.service);
        let mut string_to_sign = String::with_capacity(160);
        string_to_sign.push_str("AWS4-HMAC-SHA256\n");
        string_to_sign.push_str(&amz_date);
        string_to_sign.push('\n');
        string_to_sign.push_str(&scope);
        string_to_sign.push('\n');
        push_hex(&mut string_to_sign, &Sha256::digest(creq.as_bytes()));

        let key = self.key(credentials, &date, request)?;
        let signature = calculate_signature(key, string_to_sign.as_bytes());
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id()
        );
        Some(Signed {
            amz_date,
            authorization,
            security_token: token.map(str::to_owned),
        })
    }

    /// The signing key for `credentials` on `date`, derived once per (credentials, day,
    /// region, service).
    fn key(
        &self,
        credentials: &Credentials,
        date: &str,
        request: &Request<'_>,
    ) -> Option<[u8; 32]> {
        let secret_sha256: [u8; 32] = Sha256::digest(credentials.secret_access_key()).into();
        let matches = |k: &Key| {
            k.date == date
                && k.service == request.service
                && k.region == request.region
                && k.access_key_id == credentials.access_key_id()
                && k.secret_sha256 == secret_sha256
        };
        // A poisoned lock only means another call panicked while holding it; the keys it
        // holds are whole values, so they are still good. The lock is held only to look up or
        // store a key, never while signing.
        {
            let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(k) = keys.iter().find(|k| matches(k)) {
                return Some(k.key);
            }
        }
        let derived = generate_signing_key(
            credentials.secret_access_key(),
            request.time,
            request.region,
            request.service,
        );
        // An HMAC-SHA256 is always 32 bytes.
        let key = <[u8; 32]>::try_from(derived.as_ref()).ok()?;
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if !keys.iter().any(matches) {
            if keys.len() >= KEYS_KEPT {
                keys.remove(0);
            }
            keys.push(Key {
                access_key_id: credentials.access_key_id().to_owned(),
                secret_sha256,
                date: date.to_owned(),
                region: request.region.to_owned(),
                service: request.service,
                key,
            });
        }
        Some(key)
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

/// `YYYYMMDD` and `YYYYMMDDTHHMMSSZ` of `time` in UTC, the fraction dropped as AWS's signer
/// drops it; `None` before 1970 or after 9999.
fn timestamps(time: SystemTime) -> Option<(String, String)> {
    let secs = time.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    let whole = aws_smithy_types::DateTime::from_secs(i64::try_from(secs).ok()?);
    // RFC 3339 of whole seconds: `2019-05-06T07:39:20Z`.
    let text = whole
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .ok()?;
    let bytes = text.as_bytes();
    if text.len() != 20 || bytes.get(4) != Some(&b'-') {
        return None;
    }
    let date = format!("{}{}{}", &text[0..4], &text[5..7], &text[8..10]);
    let amz = format!(
        "{date}T{}{}{}Z",
        &text[11..13],
        &text[14..16],
        &text[17..19]
    );
    Some((date, amz))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    use aws_smithy_runtime_api::client::identity::Identity;
    use proptest::prelude::*;
    use std::time::Duration;

    /// What `aws-sigv4`'s general signer adds to the same request.
    fn general(url: &str, request: &Request<'_>, credentials: &Credentials) -> Signed {
        let identity = Identity::new(credentials.clone(), None);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(request.region)
            .name(request.service)
            .time(request.time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let mut headers = vec![("content-type", request.content_type)];
        if let Some(target) = request.target {
            headers.push(("x-amz-target", target));
        }
        let signable = SignableRequest::new(
            "POST",
            url,
            headers.into_iter(),
            SignableBody::Bytes(request.body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let (headers, query) = instructions.into_parts();
        assert!(query.is_empty());
        let get = |name: &str| {
            headers
                .iter()
                .find(|h| h.name() == name)
                .map(|h| h.value().to_owned())
        };
        assert_eq!(
            headers.len(),
            2 + usize::from(get("x-amz-security-token").is_some())
        );
        Signed {
            amz_date: get("x-amz-date").unwrap(),
            authorization: get("authorization").unwrap(),
            security_token: get("x-amz-security-token"),
        }
    }

    /// Spellings of root endpoints: default and explicit ports, zero-padded ports, upper-case
    /// hosts, a short IPv4 form, IPv6 in short and long forms.
    const ENDPOINTS: &[&str] = &[
        "http://127.0.0.1:4566",
        "http://localhost",
        "http://localhost:80",
        "https://ecs.us-east-1.amazonaws.com",
        "https://ecs.us-east-1.amazonaws.com:443",
        "https://emulator.internal:8443",
        "http://[::1]:5000",
        "http://LocalStack:4566",
        "http://localhost:04566",
        "http://localhost:080",
        "http://127.1:4566",
        "http://[0:0:0:0:0:0:0:1]:5000",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// The quick path adds exactly the headers `aws-sigv4`'s general signer adds, byte for
        /// byte, for any body, time, credentials, region, service and target, and keeps
        /// doing so with its cached key (the second call).
        #[test]
        fn signs_as_aws_sigv4_does(
            endpoint in proptest::sample::select(ENDPOINTS),
            body in proptest::collection::vec(any::<u8>(), 0..300),
            secs in 0u64..8_000_000_000,
            key_id in "[A-Z0-9]{16,20}",
            secret in "[A-Za-z0-9/+]{20,40}",
            token in proptest::option::of("[A-Za-z0-9/+=]{20,80}"),
            region in prop_oneof![Just("us-east-1"), Just("eu-west-3"), Just("cn-north-1")],
            service in prop_oneof![Just("ecs"), Just("elasticloadbalancing")],
            target in proptest::option::of(prop_oneof![
                Just("AmazonEC2ContainerServiceV20141113.CreateTaskSet"),
                Just("AmazonEC2ContainerServiceV20141113.DescribeTaskSets"),
            ]),
            content_type in prop_oneof![
                Just(crate::CONTENT_TYPE),
                Just(crate::QUERY_CONTENT_TYPE),
            ],
        ) {
            let root = Root::of(endpoint).expect("a root endpoint");
            let credentials = Credentials::new(key_id, secret, token, None, "test");
            let signer = Signer::default();
            let request = Request {
                host: &root.host,
                content_type,
                target,
                body: &body,
                region,
                service,
                time: SystemTime::UNIX_EPOCH + Duration::from_millis(secs * 1000 + 999),
            };
            let expected = general(root.url.as_str(), &request, &credentials);
            prop_assert_eq!(signer.sign(&request, &credentials), Some(expected.clone()));
            prop_assert_eq!(signer.sign(&request, &credentials), Some(expected));
        }
    }

    #[test]
    fn a_new_day_or_new_credentials_take_a_new_key() {
        let signer = Signer::default();
        let root = Root::of("http://127.0.0.1:4566").unwrap();
        let first = Credentials::new("AKIDFIRST", "secret-one", None, None, "test");
        let rotated = Credentials::new("AKIDFIRST", "secret-two", None, None, "test");
        let day = SystemTime::UNIX_EPOCH + Duration::from_secs(1_557_128_360);
        for (credentials, time) in [
            (&first, day),
            (&rotated, day),
            (&first, day + Duration::from_secs(86_400)),
            (&rotated, day + Duration::from_secs(86_400)),
            (&first, day),
        ] {
            let request = Request {
                host: &root.host,
                content_type: crate::CONTENT_TYPE,
                target: Some("AmazonEC2ContainerServiceV20141113.ListClusters"),
                body: b"{}",
                region: "us-east-1",
                service: "ecs",
                time,
            };
            assert_eq!(
                signer.sign(&request, credentials),
                Some(general(root.url.as_str(), &request, credentials))
            );
        }
        assert_eq!(signer.keys.lock().unwrap().len(), KEYS_KEPT);
    }

    #[test]
    fn endpoints_with_a_path_query_or_user_are_left_to_the_general_signer() {
        assert!(Root::of("http://localhost:4566/ecs").is_none());
        assert!(Root::of("http://localhost:4566/?x=1").is_none());
        assert!(Root::of("http://user@localhost:4566").is_none());
        assert!(Root::of("ftp://localhost").is_none());
    }

    /// The signed host is the one reqwest sends: the URL's, lowercased, the address in its
    /// usual form, the default port left out.
    #[test]
    fn the_signed_host_is_the_host_on_the_wire() {
        for (endpoint, host) in [
            ("http://localhost:80", "localhost"),
            ("http://localhost:080", "localhost"),
            ("https://localhost:4443", "localhost:4443"),
            (
                "https://ECS.us-east-1.AmazonAWS.com:443",
                "ecs.us-east-1.amazonaws.com",
            ),
            ("http://LocalStack:04566", "localstack:4566"),
            ("http://127.1:4566", "127.0.0.1:4566"),
            ("http://[0:0:0:0:0:0:0:1]:5000", "[::1]:5000"),
        ] {
            let root = Root::of(endpoint).unwrap();
            assert_eq!(root.host, host, "{endpoint}");
        }
    }

    /// An empty request to localhost without a target.
    fn plain_request() -> Request<'static> {
        Request {
            host: "localhost",
            content_type: crate::CONTENT_TYPE,
            target: None,
            body: b"",
            region: "us-east-1",
            service: "ecs",
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_557_128_360),
        }
    }

    #[test]
    fn a_control_character_in_a_signed_value_is_left_to_the_general_signer() {
        let signer = Signer::default();
        let credentials = Credentials::new("AKID\n", "secret", None, None, "t");
        assert_eq!(signer.sign(&plain_request(), &credentials), None);
        let good = Credentials::new("AKID", "secret", None, None, "t");
        let bad_region = Request {
            region: "us-east-1\r",
            ..plain_request()
        };
        assert_eq!(signer.sign(&bad_region, &good), None);
    }

    #[test]
    fn debug_hides_the_session_token() {
        let signed = Signed {
            amz_date: "20190506T073920Z".into(),
            authorization: "AWS4-HMAC-SHA256 ...".into(),
            security_token: Some("session-token-value".into()),
        };
        assert!(!format!("{signed:?}").contains("session-token-value"));
    }

    #[test]
    fn values_the_general_signer_would_fold_are_left_to_it() {
        let signer = Signer::default();
        let credentials = Credentials::new("AKID", "secret", Some("a  b".into()), None, "t");
        assert_eq!(signer.sign(&plain_request(), &credentials), None);
    }

    #[test]
    fn days_match_the_calendar() {
        let at = |s| timestamps(SystemTime::UNIX_EPOCH + Duration::from_secs(s)).unwrap();
        assert_eq!(at(0), ("19700101".into(), "19700101T000000Z".into()));
        assert_eq!(
            at(951_782_400),
            ("20000229".into(), "20000229T000000Z".into())
        );
        assert_eq!(
            at(1_557_128_360),
            ("20190506".into(), "20190506T073920Z".into())
        );
        assert_eq!(
            at(253_402_300_799),
            ("99991231".into(), "99991231T235959Z".into())
        );
        assert!(
            timestamps(SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_800)).is_none()
        );
    }
}
