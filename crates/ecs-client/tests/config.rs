//! Region, credentials and endpoint resolution.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use ecs_client::config::default_endpoint;
use ecs_client::{Config, ConfigError};

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const KEYS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
    ("AWS_SECRET_ACCESS_KEY", "secret"),
];

#[test]
fn endpoint_precedence() {
    let base = [KEYS[0], KEYS[1], ("AWS_REGION", "eu-west-1")];
    let build = |extra: &[(&str, &str)]| {
        let mut e = env(&base);
        e.extend(env(extra));
        Config::builder()
            .env(e)
            .build()
            .unwrap()
            .endpoint()
            .to_owned()
    };
    assert_eq!(build(&[]), "https://ecs.eu-west-1.amazonaws.com");
    assert_eq!(
        build(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:1/")]),
        "http://127.0.0.1:1"
    );
    assert_eq!(
        build(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_ECS", "http://127.0.0.1:2")
        ]),
        "http://127.0.0.1:2"
    );
    let explicit = Config::builder()
        .env(env(&base))
        .endpoint("http://localhost:3")
        .build()
        .unwrap();
    assert_eq!(explicit.endpoint(), "http://localhost:3");
    assert_eq!(
        explicit.elbv2_endpoint(),
        "http://localhost:3",
        "an explicit endpoint (an emulator) serves ELBv2 too"
    );
}

#[test]
fn the_elbv2_endpoint_is_its_own_unless_one_url_covers_both() {
    let base = [KEYS[0], KEYS[1], ("AWS_REGION", "eu-west-1")];
    let build = |extra: &[(&str, &str)]| {
        let mut e = env(&base);
        e.extend(env(extra));
        let c = Config::builder().env(e).build().unwrap();
        (c.endpoint().to_owned(), c.elbv2_endpoint().to_owned())
    };
    assert_eq!(
        build(&[]),
        (
            "https://ecs.eu-west-1.amazonaws.com".to_owned(),
            "https://elasticloadbalancing.eu-west-1.amazonaws.com".to_owned()
        )
    );
    assert_eq!(
        build(&[("AWS_ENDPOINT_URL_ECS", "http://127.0.0.1:2")]).1,
        "https://elasticloadbalancing.eu-west-1.amazonaws.com",
        "the ECS override is for ECS only, as in the AWS SDKs"
    );
    assert_eq!(
        build(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:1")]),
        (
            "http://127.0.0.1:1".to_owned(),
            "http://127.0.0.1:1".to_owned()
        )
    );
    assert_eq!(
        build(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            (
                "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2",
                "http://127.0.0.1:3"
            )
        ])
        .1,
        "http://127.0.0.1:3"
    );
    let cn = Config::builder()
        .env(env(&[KEYS[0], KEYS[1], ("AWS_REGION", "cn-north-1")]))
        .build()
        .unwrap();
    assert_eq!(
        cn.elbv2_endpoint(),
        "https://elasticloadbalancing.cn-north-1.amazonaws.com.cn"
    );
}

#[test]
fn region_precedence_and_partitions() {
    let r = |pairs: &[(&str, &str)]| {
        let mut e = env(&KEYS);
        e.extend(env(pairs));
        Config::builder()
            .env(e)
            .build()
            .map(|c| c.region().to_owned())
    };
    assert_eq!(
        r(&[("AWS_DEFAULT_REGION", "us-west-2")]).unwrap(),
        "us-west-2"
    );
    assert_eq!(
        r(&[
            ("AWS_DEFAULT_REGION", "us-west-2"),
            ("AWS_REGION", "ap-south-1")
        ])
        .unwrap(),
        "ap-south-1"
    );
    assert_eq!(r(&[]).unwrap_err(), ConfigError::NoRegion);
    assert_eq!(
        default_endpoint("cn-north-1"),
        "https://ecs.cn-north-1.amazonaws.com.cn"
    );
    assert_eq!(
        default_endpoint("us-gov-west-1"),
        "https://ecs.us-gov-west-1.amazonaws.com"
    );
    assert_eq!(
        default_endpoint("us-iso-east-1"),
        "https://ecs.us-iso-east-1.c2s.ic.gov"
    );
    assert_eq!(
        default_endpoint("us-isob-east-1"),
        "https://ecs.us-isob-east-1.sc2s.sgov.gov"
    );
}

#[test]
fn profiles_from_the_shared_files() {
    let dir = std::env::temp_dir().join(format!("ecs-client-profiles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config");
    let creds = dir.join("credentials");
    std::fs::write(&config, "[default]\nregion = eu-central-1\n[profile ci]\nregion = us-east-2\nendpoint_url = http://127.0.0.1:9\n").unwrap();
    std::fs::write(&creds, "[ci]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = s3cr3t\naws_session_token = tok\n").unwrap();
    let files = [
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap()),
    ];

    let mut e = env(&files);
    e.insert("AWS_PROFILE".into(), "ci".into());
    let c = Config::builder().env(e).build().unwrap();
    assert_eq!(c.region(), "us-east-2");
    assert_eq!(c.endpoint(), "http://127.0.0.1:9");
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("s3cr3t") && !debug.contains("tok\""),
        "{debug}"
    );

    // The default profile has a region but no keys.
    let err = Config::builder().env(env(&files)).build().unwrap_err();
    assert_eq!(
        err,
        ConfigError::NoCredentials {
            profile: "default".into()
        }
    );
    // Environment keys win over the profile's.
    let mut e = env(&files);
    e.extend(env(&KEYS));
    assert_eq!(
        Config::builder().env(e).build().unwrap().region(),
        "eu-central-1"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_endpoints_are_rejected_with_the_reason() {
    let e = env(&[KEYS[0], KEYS[1], ("AWS_REGION", "us-east-1")]);
    for url in ["ftp://x", "not a url", "http://"] {
        let err = Config::builder()
            .env(e.clone())
            .endpoint(url)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, ConfigError::BadEndpoint { .. }),
            "{url}: {err}"
        );
    }
}

/// Plain http to another machine: refused with a session's credentials or a provider's
/// unless allowed, only warned about with fixed keys (as emulators take); loopback is fine.
#[test]
fn plain_http_elsewhere_is_refused_for_credentials_worth_protecting() {
    use aws_credential_types::Credentials;
    let session = || {
        Credentials::new(
            "test-session-key",
            "secret",
            Some("token".into()),
            None,
            "t",
        )
    };
    let base = || Config::builder().env(env(&[])).region("us-east-1");
    for url in [
        "http://10.0.0.8:4566",
        "http://localstack:4566",
        "http://[fd00::1]:80",
    ] {
        let refused = base()
            .endpoint(url)
            .credentials(session())
            .build()
            .unwrap_err();
        assert_eq!(
            refused,
            ConfigError::PlainHttp {
                url: url.trim_end_matches('/').into()
            }
        );
        assert!(
            refused.to_string().contains("allow plain http explicitly"),
            "{refused}"
        );
        base()
            .endpoint(url)
            .credentials(session())
            .allow_plain_http(true)
            .build()
            .unwrap();
        base()
            .endpoint(url)
            .static_credentials("AKIDEXAMPLE", "secret", None)
            .build()
            .unwrap();
    }
    // The ELBv2 endpoint is checked as well.
    let e = base()
        .endpoint("https://ecs.example")
        .elbv2_endpoint("http://elb.example")
        .credentials(session())
        .build()
        .unwrap_err();
    assert!(matches!(e, ConfigError::PlainHttp { .. }), "{e:?}");
    for url in [
        "http://127.0.0.1:1",
        "http://localhost:2",
        "http://[::1]:3",
        "https://10.0.0.8",
    ] {
        base().endpoint(url).credentials(session()).build().unwrap();
    }
    assert_eq!(
        ecs_client::config::plain_http_elsewhere("http://LOCALHOST:9"),
        None
    );
    use ecs_client::config::is_loopback;
    for here in [
        "http://127.0.0.1:1",
        "https://localhost",
        "http://[0:0:0:0:0:0:0:1]:2",
        "http://127.9.9.9",
    ] {
        assert!(is_loopback(here), "{here}");
    }
    for elsewhere in [
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://10.0.0.1",
        "not a url",
    ] {
        assert!(!is_loopback(elsewhere), "{elsewhere}");
    }
}

/// A provider's credentials are known only at the call: a session's is refused there, before
/// anything is sent, for a plain-http endpoint on another machine.
#[tokio::test]
async fn a_providers_session_is_refused_over_plain_http_at_the_call() {
    use aws_credential_types::provider::{future, ProvideCredentials};
    use aws_credential_types::Credentials;

    #[derive(Debug)]
    struct Session(Option<&'static str>);
    impl ProvideCredentials for Session {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::ready(Ok(Credentials::new(
                "test-session-key",
                "secret",
                self.0.map(str::to_owned),
                None,
                "test",
            )))
        }
    }
    let client = |token, allow| {
        let config = Config::builder()
            .env(env(&[]))
            .region("us-east-1")
            // Not routable: a request that were sent would fail as a transport error.
            .endpoint("http://10.255.255.1:9")
            .credentials_provider(Session(token))
            .allow_plain_http(allow)
            .retry(ecs_client::RetryConfig::disabled())
            .timeouts(ecs_client::Timeouts {
                connect: std::time::Duration::from_millis(200),
                attempt: std::time::Duration::from_millis(300),
                overall: std::time::Duration::from_millis(500),
            })
            .build()
            .unwrap();
        ecs_client::EcsClient::new(config).unwrap()
    };
    let describe = |c: ecs_client::EcsClient| async move {
        c.send::<ecs_model::operations::DescribeClusters>(Default::default())
            .await
            .unwrap_err()
    };
    let refused = describe(client(Some("token"), false)).await;
    assert!(
        matches!(refused, ecs_client::Error::Signing { .. })
            && refused.to_string().contains("10.255.255.1 over plain http"),
        "{refused}"
    );
    // Allowed, or without a session token, the request goes out (and finds nobody there).
    for (token, allow) in [(Some("token"), true), (None, false)] {
        let e = describe(client(token, allow)).await;
        assert!(!matches!(e, ecs_client::Error::Signing { .. }), "{e}");
    }
}
