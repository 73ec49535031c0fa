//! The AWS credential chain (feature `aws-config`), end to end: a profile whose credentials
//! come from a `credential_process`, and web identity against a local STS. Each case runs in a
//! child process of this test binary with an environment of its own (the chain reads the
//! process environment, and tests in one process share it).
#![cfg(feature = "aws-config")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ecs_client::{Config, EcsClient, Error};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header_exists, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A scratch directory for one case.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ecs-client-chain-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the ignored test `child` in a child process with only `env` (and PATH), and fails with
/// its output when it fails.
fn in_child(child: &str, env: &[(&str, String)]) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--ignored", "--exact", child, "--nocapture"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // No instance to ask: the chain's last source answers at once.
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{child} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{child} did not run: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn files(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("HOME", dir.display().to_string()),
        ("AWS_CONFIG_FILE", dir.join("config").display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("credentials").display().to_string(),
        ),
    ]
}

/// An ECS endpoint that answers ListClusters and keeps the requests.
async fn ecs() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"clusterArns": []})))
        .mount(&server)
        .await;
    server
}

/// A client for `ecs` whose region and credentials come from the chain.
async fn chain_client(ecs: &MockServer) -> EcsClient {
    let config = Config::builder()
        .endpoint(ecs.uri())
        .build_with_aws_chain()
        .await
        .unwrap();
    EcsClient::new(config).unwrap()
}

/// The access key id and region an ECS request was signed with, and its session token.
fn signed_with(request: &Request) -> (String, String, Option<String>) {
    let auth = request
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    let credential = auth
        .split("Credential=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    let parts: Vec<&str> = credential.split('/').collect();
    let token = request
        .headers
        .get("x-amz-security-token")
        .map(|v| v.to_str().unwrap().to_owned());
    (parts[0].to_owned(), parts[2].to_owned(), token)
}

#[test]
fn a_profile_with_credential_process_signs_with_the_process_credentials() {
    let dir = scratch("process");
    let script = dir.join("creds.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"test-process-key\", \"SecretAccessKey\": \"s\", \"SessionToken\": \"process-token\", \"Expiration\": \"2099-01-01T00:00:00Z\"}'\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("config"),
        format!(
            "[profile deployer]\ncredential_process = sh {}\nregion = eu-west-3\n",
            script.display()
        ),
    )
    .unwrap();
    let mut env = files(&dir);
    env.push(("AWS_PROFILE", "deployer".into()));
    in_child("child_credential_process", &env);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
#[ignore = "run by a_profile_with_credential_process_signs_with_the_process_credentials"]
async fn child_credential_process() {
    let ecs = ecs().await;
    let client = chain_client(&ecs).await;
    assert_eq!(
        client.config().region(),
        "eu-west-3",
        "the profile's region"
    );
    client.list_clusters().send().await.unwrap();
    client.list_clusters().send().await.unwrap();
    let requests = ecs.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(
            signed_with(r),
            (
                "test-process-key".into(),
                "eu-west-3".into(),
                Some("process-token".into())
            )
        );
    }
}

#[test]
fn web_identity_assumes_the_role_at_sts_once_and_signs_with_the_session() {
    let dir = scratch("web-identity");
    std::fs::write(dir.join("token"), "oidc-token-from-ci").unwrap();
    let mut env = files(&dir);
    env.extend([
        (
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            dir.join("token").display().to_string(),
        ),
        (
            "AWS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/deployer".into(),
        ),
        ("AWS_ROLE_SESSION_NAME", "ci-run".into()),
        ("AWS_REGION", "us-west-2".into()),
    ]);
    in_child("child_web_identity", &env);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
#[ignore = "run by web_identity_assumes_the_role_at_sts_once_and_signs_with_the_session"]
async fn child_web_identity() {
    let sts = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=AssumeRoleWithWebIdentity"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>test-web-identity-key</AccessKeyId>
      <SecretAccessKey>web-identity-secret</SecretAccessKey>
      <SessionToken>web-identity-token</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/deployer/ci-run</Arn>
      <AssumedRoleId>AROAEXAMPLE:ci-run</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>5a5ab6b1-0000-4000-8000-000000000000</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#,
            "text/xml",
        ))
        .mount(&sts)
        .await;
    // The chain's STS endpoint comes from the profile's `services` section, which every AWS
    // SDK honours (as it does AWS_ENDPOINT_URL_STS, whose value is not known before the stub
    // has a port).
    let dir = PathBuf::from(std::env::var("HOME").unwrap());
    std::fs::write(
        dir.join("config"),
        format!(
            "[default]\nservices = local\n\n[services local]\nsts =\n  endpoint_url = {}\n",
            sts.uri()
        ),
    )
    .unwrap();
    let ecs = ecs().await;
    let client = chain_client(&ecs).await;
    client.list_clusters().send().await.unwrap();
    client.list_clusters().send().await.unwrap();
    for r in ecs.received_requests().await.unwrap() {
        assert_eq!(
            signed_with(&r),
            (
                "test-web-identity-key".into(),
                "us-west-2".into(),
                Some("web-identity-token".into())
            )
        );
    }
    let assumed = sts.received_requests().await.unwrap();
    assert_eq!(
        assumed.len(),
        1,
        "the session is kept until it nears expiry"
    );
    let form = String::from_utf8_lossy(&assumed[0].body).into_owned();
    for part in [
        "WebIdentityToken=oidc-token-from-ci",
        "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeployer",
        "RoleSessionName=ci-run",
    ] {
        assert!(form.contains(part), "{form}");
    }
}

#[test]
fn no_credentials_anywhere_fails_the_call_naming_the_chain() {
    let dir = scratch("none");
    let mut env = files(&dir);
    env.push(("AWS_REGION", "us-east-1".into()));
    in_child("child_no_credentials", &env);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
#[ignore = "run by no_credentials_anywhere_fails_the_call_naming_the_chain"]
async fn child_no_credentials() {
    let ecs = ecs().await;
    let client = chain_client(&ecs).await;
    let e = client.list_clusters().send().await.unwrap_err();
    assert!(matches!(*e, Error::Credentials { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with("ListClusters: no credentials to sign with:"),
        "{text}"
    );
    assert!(
        ecs.received_requests().await.unwrap().is_empty(),
        "nothing unsigned was sent"
    );
}
