//! The runner against targets that misbehave: each fault becomes a failed step with its
//! reason, a failed setup blocks the rest of its case, an unimplemented operation is reported
//! once as not implemented, and the run always completes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use ecs_client::EcsClient;
use ecs_harness::runner::{run, RunOptions, Status};
use ecs_harness::Case;
use serde_json::{json, Value};
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(url: &str) -> EcsClient {
    common::client(url, Duration::from_secs(10))
}

fn case(id: &str, steps: Value) -> Case {
    serde_json::from_value(json!({"id": id, "rules": ["ts.describe.names-required"], "provenance": {"kind": "derived", "from": "test"}, "steps": steps})).unwrap()
}

fn describe(expect: Value) -> Value {
    json!({"op": "DescribeTaskSets", "request": {"cluster": "c", "service": "s"}, "expect": expect})
}

fn options() -> RunOptions {
    RunOptions {
        jobs: 4,
        step_timeout: Duration::from_millis(500),
        progress: false,
        poll_cap: None,
        ..RunOptions::default()
    }
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

async fn single(server_url: &str, steps: Value) -> ecs_harness::runner::CaseResult {
    run(&client(server_url), vec![case("c", steps)], &options(), "t")
        .await
        .unwrap()
        .remove(0)
}

#[tokio::test]
async fn a_hanging_target_fails_the_step_within_the_timeout() {
    let server = answering(
        ResponseTemplate::new(200)
            .set_delay(Duration::from_secs(5))
            .set_body_json(json!({})),
    )
    .await;
    let started = Instant::now();
    let r = single(&server.uri(), json!([describe(json!({"body": {}}))])).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(r.status, Status::Failed);
    assert!(
        r.steps[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("no answer within"),
        "{:?}",
        r.steps[0]
    );
}

#[tokio::test]
async fn a_reset_connection_fails_the_step() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    let r = single(&url, json!([describe(json!({"body": {}}))])).await;
    assert_eq!(r.status, Status::Failed);
    assert!(
        r.steps[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("no usable answer"),
        "{:?}",
        r.steps[0]
    );
}

#[tokio::test]
async fn html_garbage_and_truncated_answers_fail_with_their_reason() {
    for (template, needle) in [
        (
            ResponseTemplate::new(500).set_body_raw(
                "<html><body>Internal Server Error</body></html>",
                "text/html",
            ),
            "HTTP 500 <html>",
        ),
        (
            ResponseTemplate::new(200)
                .set_body_raw("\u{0}\u{1}garbage", "application/octet-stream"),
            "not JSON",
        ),
        (
            ResponseTemplate::new(200)
                .set_body_raw("{\"taskSets\": [", "application/x-amz-json-1.1"),
            "not JSON",
        ),
        (
            ResponseTemplate::new(200).set_body_raw("{}", "text/html"),
            "",
        ),
    ] {
        let server = answering(template).await;
        let r = single(
            &server.uri(),
            json!([describe(json!({"body": {"taskSets": []}}))]),
        )
        .await;
        assert_eq!(r.status, Status::Failed, "{needle}");
        let text = format!("{:?}", r.steps[0]);
        assert!(text.contains(needle), "{needle}: {text}");
    }
}

#[tokio::test]
async fn a_wrong_error_code_or_a_success_where_an_error_is_expected_fails() {
    let server =
        answering(ResponseTemplate::new(400).set_body_json(json!({"__type": "ClientException"})))
            .await;
    let r = single(
        &server.uri(),
        json!([describe(json!({"error": "ClusterNotFoundException"}))]),
    )
    .await;
    assert_eq!(r.steps[0].failures[0].path, "__type");
    assert_eq!(r.steps[0].failures[0].actual, "ClientException");
    let server = answering(ResponseTemplate::new(200).set_body_json(json!({"taskSets": []}))).await;
    let r = single(
        &server.uri(),
        json!([describe(json!({"error": "ClusterNotFoundException"}))]),
    )
    .await;
    assert!(r.steps[0].failures[0].actual.starts_with("HTTP 200"));
}

#[tokio::test]
async fn a_failed_setup_blocks_the_rest_and_unimplemented_operations_are_reported_once() {
    let server = MockServer::start().await;
    Mock::given(header(
        "x-amz-target",
        "AmazonEC2ContainerServiceV20141113.CreateCluster",
    ))
    .respond_with(ResponseTemplate::new(500).set_body_raw("<html>crash</html>", "text/html"))
    .mount(&server)
    .await;
    Mock::given(header(
        "x-amz-target",
        "AmazonEC2ContainerServiceV20141113.CreateService",
    ))
    .respond_with(
        ResponseTemplate::new(400).set_body_json(json!({"__type": "UnknownOperationException"})),
    )
    .mount(&server)
    .await;
    let blocked = case(
        "blocked",
        json!([{"op": "CreateCluster", "setup": true, "request": {"clusterName": "x"}, "capture": {"arn": "cluster.clusterArn"}},
               describe(json!({"body": {}})),
               {"op": "DescribeTaskSets", "request": {"cluster": "{{arn}}", "service": "s"}}]),
    );
    let na1 = case(
        "na-1",
        json!([{"op": "CreateService", "setup": true, "request": {"serviceName": "a"}}, describe(json!({"body": {}}))]),
    );
    let na2 = case(
        "na-2",
        json!([{"op": "CreateService", "request": {"serviceName": "b"}}]),
    );
    let results = run(
        &client(&server.uri()),
        vec![blocked, na1, na2],
        &options(),
        "t",
    )
    .await
    .unwrap();
    assert_eq!(results[0].status, Status::Blocked);
    assert_eq!(
        results[0].steps[0].status,
        Status::Failed,
        "the setup step itself failed, with its reason"
    );
    assert!(results[0].steps[1..]
        .iter()
        .all(|s| s.status == Status::Blocked));
    assert_eq!(results[1].status, Status::NotImplemented);
    assert_eq!(results[2].status, Status::NotImplemented);
    let report = common::report_of(&server.uri(), results);
    assert_eq!(report.not_implemented, vec!["CreateService".to_owned()]);
    assert!(report
        .terminal(false)
        .contains("not implemented by the target: CreateService"));
}

#[tokio::test]
async fn polling_retries_until_the_expectation_holds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"taskSets": [{"stabilityStatus": "STABILIZING"}]})),
        )
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"taskSets": [{"stabilityStatus": "STEADY_STATE"}]})),
        )
        .mount(&server)
        .await;
    let mut step = describe(json!({"body": {"taskSets": [{"stabilityStatus": "STEADY_STATE"}]}}));
    step["poll"] = json!({"timeout_ms": 5000, "interval_ms": 10});
    let r = single(&server.uri(), json!([step])).await;
    assert_eq!(r.status, Status::Passed, "{r:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

/// A raw HTTP server that reads a request and then behaves as `answer` says.
async fn raw_server<F, Fut>(answer: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = std::sync::Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = stream.read(&mut buf).await;
                answer(stream).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn a_body_cut_off_mid_way_fails_the_step() {
    use tokio::io::AsyncWriteExt;
    let url = raw_server(|mut s| async move {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: 100\r\n\r\n{\"taskSets\": [").await;
        let _ = s.shutdown().await;
    })
    .await;
    let r = single(&url, json!([describe(json!({"body": {}}))])).await;
    assert_eq!(r.status, Status::Failed);
    assert!(
        r.steps[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("no usable answer"),
        "{:?}",
        r.steps[0]
    );
}

#[tokio::test]
async fn a_slow_trickle_is_cut_at_the_step_timeout() {
    use tokio::io::AsyncWriteExt;
    let url = raw_server(|mut s| async move {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: 1000\r\n\r\n").await;
        for _ in 0..1000 {
            if s.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let started = Instant::now();
    let r = single(&url, json!([describe(json!({"body": {}}))])).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.status, Status::Failed);
    assert!(
        r.steps[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("no answer within"),
        "{:?}",
        r.steps[0]
    );
}

#[tokio::test]
async fn a_huge_answer_is_checked_without_trouble() {
    let sets: Vec<Value> = (0..20_000)
        .map(|i| json!({"id": format!("ecs-svc/{i}"), "status": "ACTIVE", "runningCount": -1}))
        .collect();
    let server = answering(
        ResponseTemplate::new(200).set_body_json(json!({"taskSets": sets, "failures": []})),
    )
    .await;
    let r = single(
        &server.uri(),
        json!([describe(json!({"body": {"failures": []}}))]),
    )
    .await;
    assert_eq!(
        r.status,
        Status::Failed,
        "20,000 negative counts break the invariant"
    );
    let counts = r.steps[0]
        .failures
        .iter()
        .filter(|f| f.rules == ["inv.counts-non-negative"])
        .count();
    assert_eq!(counts, 20_000);
}

#[tokio::test]
async fn a_setup_step_that_only_breaks_the_schema_does_not_block() {
    let server = MockServer::start().await;
    Mock::given(header(
        "x-amz-target",
        "AmazonEC2ContainerServiceV20141113.CreateCluster",
    ))
    .respond_with(
        ResponseTemplate::new(200)
            .set_body_json(json!({"cluster": {"clusterName": "x", "configuration": null}})),
    )
    .mount(&server)
    .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"taskSets": [], "failures": []})),
        )
        .mount(&server)
        .await;
    let r = single(
        &server.uri(),
        json!([{"op": "CreateCluster", "setup": true, "request": {"clusterName": "x"}}, describe(json!({"body": {"taskSets": []}}))]),
    )
    .await;
    assert_eq!(
        r.steps[1].status,
        Status::Passed,
        "the check still ran: {r:?}"
    );
    assert_eq!(
        r.status,
        Status::Failed,
        "the schema failure is still a failure"
    );
    // A null member is matched as absent and reported under its own rule.
    assert_eq!(r.steps[0].failures[0].rules, ["wire.no-null-members"]);
    assert_eq!(r.steps[0].failures[0].path, "cluster.configuration");
}
