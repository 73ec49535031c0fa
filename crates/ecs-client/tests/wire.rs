//! The client against wiremock: what goes on the wire, how answers and errors are read, and
//! how retries, timeouts and validation behave.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ecs_client::{
    CallOptions, Config, EcsClient, Error, ErrorCode, RetryConfig, Timeouts, ValidationMode,
    WaitError, WaiterConfig,
};
use ecs_model::errors::ModeledError;
use ecs_model::operations;
use ecs_model::types::*;
use ecs_model::Operation;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

// AWS's documented example credentials.
const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "session-token-example";

fn fixed_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_440_938_160) // 2015-08-30T12:36:00Z
}

fn client_with(
    server: &MockServer,
    retry: RetryConfig,
    timeouts: Timeouts,
    validation: ValidationMode,
) -> EcsClient {
    let config = Config::builder()
        .env(HashMap::new())
        .region("us-east-1")
        .endpoint(server.uri())
        .static_credentials(KEY_ID, SECRET, Some(TOKEN))
        .clock(fixed_time)
        .retry(RetryConfig {
            initial_backoff: Duration::from_millis(5),
            ..retry
        })
        .timeouts(timeouts)
        .validation(validation)
        .build()
        .unwrap();
    EcsClient::new(config).unwrap()
}

fn client(server: &MockServer) -> EcsClient {
    client_with(
        server,
        RetryConfig::default(),
        Timeouts::default(),
        ValidationMode::Standard,
    )
}

fn describe_request() -> DescribeTaskSetsRequest {
    DescribeTaskSetsRequest::builder()
        .cluster("prod")
        .service("web")
        .build()
}

fn create_request() -> CreateTaskSetRequest {
    CreateTaskSetRequest::builder()
        .cluster("prod")
        .service("web")
        .task_definition("web:7")
        .set_scale(Some(
            Scale::builder()
                .set_value(Some("50".parse().unwrap()))
                .unit(ScaleUnit::Percent)
                .build(),
        ))
        .build()
}

/// A server that gives every request the same answer.
async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn header_of(r: &Request, name: &str) -> String {
    r.headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn request_shape_and_signature() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/"))
        .and(header("content-type", "application/x-amz-json-1.1"))
        .and(header(
            "x-amz-target",
            "AmazonEC2ContainerServiceV20141113.DescribeTaskSets",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"taskSets": [{"id": "ecs-svc/1", "computedDesiredCount": 0}], "failures": []}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let answer = client(&server)
        .send::<operations::DescribeTaskSets>(describe_request())
        .await
        .unwrap();
    assert_eq!(answer.task_sets.unwrap()[0].computed_desired_count, Some(0));

    let reqs = received(&server).await;
    let r = &reqs[0];
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).unwrap(),
        json!({"cluster": "prod", "service": "web"})
    );
    assert_eq!(header_of(r, "x-amz-date"), "20150830T123600Z");
    assert_eq!(header_of(r, "x-amz-security-token"), TOKEN);
    let auth = header_of(r, "authorization");
    assert!(
        auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ecs/aws4_request, "
        ),
        "{auth}"
    );
    assert!(
        auth.contains(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"
        ),
        "{auth}"
    );
}

/// A fixed time, fixed credentials, endpoint and body give a fixed signature: any change in
/// what is signed (headers, body, canonicalisation, scope) changes the pinned value. botocore
/// 1.44.5's `SigV4Auth`, given the same request, credentials and time, computes the same
/// signature.
#[tokio::test]
async fn signing_test_vector() {
    let config = Config::builder()
        .env(HashMap::new())
        .region("us-east-1")
        .static_credentials(KEY_ID, SECRET, Some(TOKEN))
        .clock(fixed_time)
        .build()
        .unwrap();
    assert_eq!(config.endpoint(), "https://ecs.us-east-1.amazonaws.com");
    let client = EcsClient::new(config).unwrap();
    let body = bytes::Bytes::from_static(br#"{"cluster":"prod","service":"web"}"#);
    let request = client
        .prepare_request(&operations::DescribeTaskSets::INFO, body)
        .await
        .unwrap();
    let h = |name: &str| {
        request
            .headers()
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(request.method(), "POST");
    assert_eq!(request.uri(), "https://ecs.us-east-1.amazonaws.com/");
    assert_eq!(h("x-amz-date"), "20150830T123600Z");
    assert_eq!(h("x-amz-security-token"), TOKEN);
    assert_eq!(
        h("authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ecs/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
         Signature=82255c8a85f4b3dda0ad09466a9d2d0f1d3b20066d176a58e98ddfb6c67635ad"
    );
}

#[tokio::test]
async fn every_documented_error_form_is_read() {
    let cases: Vec<(ResponseTemplate, ErrorCode, Option<&str>)> = vec![
        (
            ResponseTemplate::new(400)
                .insert_header(
                    "x-amzn-errortype",
                    "ClusterNotFoundException:http://internal.amazon.com/coral/com.amazonaws.ecs/",
                )
                .set_body_json(json!({"message": "Cluster not found."})),
            ErrorCode::Modeled(ModeledError::ClusterNotFoundException),
            Some("Cluster not found."),
        ),
        (
            ResponseTemplate::new(400).set_body_json(
                json!({"__type": "com.amazonaws.ecs#ServiceNotFoundException", "message": "m"}),
            ),
            ErrorCode::Modeled(ModeledError::ServiceNotFoundException),
            Some("m"),
        ),
        (
            ResponseTemplate::new(400).set_body_json(
                json!({"__type": "aws.example#FutureError:http://x/", "Message": "M"}),
            ),
            ErrorCode::Other("FutureError".into()),
            Some("M"),
        ),
        (
            ResponseTemplate::new(400).set_body_json(json!({"__type": "TaskSetNotFoundException"})),
            ErrorCode::Modeled(ModeledError::TaskSetNotFoundException),
            None,
        ),
        (
            ResponseTemplate::new(400)
                .set_body_json(json!({"code": "InvalidParameterException", "message": "bad"})),
            ErrorCode::Modeled(ModeledError::InvalidParameterException),
            Some("bad"),
        ),
    ];
    for (template, code, message) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(template.insert_header("x-amzn-requestid", "req-1"))
            .mount(&server)
            .await;
        let err = client(&server)
            .send::<operations::DescribeTaskSets>(describe_request())
            .await
            .unwrap_err();
        let e = err
            .service_error()
            .unwrap_or_else(|| panic!("not a service error: {err}"));
        assert_eq!(e.code, code);
        assert_eq!(e.message.as_deref(), message);
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
        assert_eq!(
            received(&server).await.len(),
            1,
            "client errors are not retried"
        );
    }
}

#[tokio::test]
async fn an_html_500_is_kept_raw_after_the_retries() {
    let page = "<!doctype html><title>500 Internal Server Error</title>";
    let server = answering(ResponseTemplate::new(500).set_body_raw(page, "text/html")).await;
    let err = client(&server)
        .send::<operations::DescribeTaskSets>(describe_request())
        .await
        .unwrap_err();
    let Error::Unparseable { raw, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(raw.status, 500);
    assert!(err.is_retryable(), "a 5xx may pass");
    assert_eq!(raw.body_text(), page);
    assert_eq!(raw.header("content-type"), Some("text/html"));
    assert_eq!(
        received(&server).await.len(),
        3,
        "5xx is retried up to max_attempts"
    );
}

#[tokio::test]
async fn a_2xx_that_is_not_the_output_shape_is_unparseable_with_its_body() {
    let server =
        answering(ResponseTemplate::new(200).set_body_raw("{\"taskSets\": 5}", "application/json"))
            .await;
    let err = client(&server)
        .send::<operations::DescribeTaskSets>(describe_request())
        .await
        .unwrap_err();
    let Error::Unparseable { reason, raw, .. } = &err else {
        panic!("{err}")
    };
    assert!(reason.starts_with("taskSets:"), "{reason}");
    assert!(
        !err.is_retryable(),
        "a 2xx that cannot be read will not change"
    );
    assert_eq!(raw.body_text(), "{\"taskSets\": 5}");
}

#[tokio::test]
async fn retries_send_the_same_client_token_and_stop_on_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"__type": "ServerException", "message": "try again"})),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"taskSet": {"id": "ecs-svc/9"}})),
        )
        .mount(&server)
        .await;
    let answer = client(&server)
        .send::<operations::CreateTaskSet>(create_request())
        .await
        .unwrap();
    assert_eq!(answer.task_set.unwrap().id.as_deref(), Some("ecs-svc/9"));
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 3);
    let tokens: Vec<String> = reqs
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["clientToken"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(uuid::Uuid::parse_str(&tokens[0]).is_ok(), "{}", tokens[0]);
    assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");

    // A token the caller set is kept.
    let server = answering(ResponseTemplate::new(200).set_body_json(json!({}))).await;
    let mut req = create_request();
    req.client_token = Some("mine".into());
    client(&server)
        .send::<operations::CreateTaskSet>(req)
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&received(&server).await[0].body).unwrap()["clientToken"],
        "mine"
    );
}

#[tokio::test]
async fn throttling_is_retried_up_to_the_attempt_limit() {
    let server = answering(
        ResponseTemplate::new(400)
            .set_body_json(json!({"__type": "ThrottlingException", "message": "Rate exceeded"})),
    )
    .await;
    let c = client_with(
        &server,
        RetryConfig {
            max_attempts: 4,
            ..RetryConfig::default()
        },
        Timeouts::default(),
        ValidationMode::Standard,
    );
    let err = c
        .send::<operations::DescribeTaskSets>(describe_request())
        .await
        .unwrap_err();
    assert_eq!(
        err.service_error().unwrap().code,
        ErrorCode::Other("ThrottlingException".into())
    );
    assert!(err.is_retryable());
    assert_eq!(received(&server).await.len(), 4);
    // Per call.
    let err = c
        .send_with::<operations::DescribeTaskSets>(
            describe_request(),
            CallOptions::default().max_attempts(1),
        )
        .await;
    assert!(err.is_err());
    assert_eq!(received(&server).await.len(), 5);
}

fn short_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(1),
        attempt: Duration::from_millis(200),
        overall: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn attempt_timeouts_hold_and_do_not_duplicate_unsafe_calls() {
    let server = answering(
        ResponseTemplate::new(200)
            .set_delay(Duration::from_secs(2))
            .set_body_json(json!({})),
    )
    .await;
    let c = client_with(
        &server,
        RetryConfig::default(),
        short_timeouts(),
        ValidationMode::Standard,
    );

    // CreateCluster is neither read-only nor idempotent and carries no token: one attempt only.
    let started = std::time::Instant::now();
    let err = c
        .send::<operations::CreateCluster>(CreateClusterRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AttemptTimeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(received(&server).await.len(), 1);

    // DescribeTaskSets is read-only: retried.
    let err = c
        .send::<operations::DescribeTaskSets>(describe_request())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AttemptTimeout { .. }), "{err}");
    assert_eq!(received(&server).await.len(), 4);
}

#[tokio::test]
async fn the_overall_timeout_bounds_the_whole_call() {
    let server = answering(
        ResponseTemplate::new(200)
            .set_delay(Duration::from_secs(5))
            .set_body_json(json!({})),
    )
    .await;
    let timeouts = Timeouts {
        connect: Duration::from_secs(1),
        attempt: Duration::from_secs(10),
        overall: Duration::from_millis(300),
    };
    let c = client_with(
        &server,
        RetryConfig::default(),
        timeouts,
        ValidationMode::Standard,
    );
    let started = std::time::Instant::now();
    let err = c
        .send::<operations::DescribeTaskSets>(describe_request())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OverallTimeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = Config::builder()
        .env(HashMap::new())
        .region("us-east-1")
        .endpoint(format!("http://127.0.0.1:{port}"))
        .static_credentials(KEY_ID, SECRET, None)
        .retry(RetryConfig {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(1),
            ..RetryConfig::default()
        })
        .build()
        .unwrap();
    let err = EcsClient::new(config)
        .unwrap()
        .send::<operations::DescribeTaskSets>(describe_request())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn validation_modes() {
    let server = answering(ResponseTemplate::new(200).set_body_json(json!({}))).await;
    let c = client(&server);
    let mut too_many_subnets = create_request();
    too_many_subnets.network_configuration = Some(
        NetworkConfiguration::builder()
            .set_awsvpc_configuration(Some(
                AwsVpcConfiguration::builder()
                    .set_subnets(Some((0..17).map(|i| format!("subnet-{i}")).collect()))
                    .build(),
            ))
            .build(),
    );
    let mut missing_and_conflicting = CreateTaskSetRequest::builder()
        .launch_type(LaunchType::Fargate)
        .set_capacity_provider_strategy(Some(vec![CapacityProviderStrategyItem::builder()
            .capacity_provider("FARGATE")
            .build()]))
        .build();

    // Standard: an upper limit only warns; a missing member or a conflict stops the call.
    c.send::<operations::CreateTaskSet>(too_many_subnets.clone())
        .await
        .unwrap();
    let err = c
        .send::<operations::CreateTaskSet>(missing_and_conflicting.clone())
        .await
        .unwrap_err();
    let Error::Validation { source, .. } = &err else {
        panic!("{err}")
    };
    assert!(!err.is_retryable(), "the same input breaks the same rules");
    let rules: Vec<&str> = source.violations.iter().map(|v| v.rule).collect();
    assert_eq!(
        rules,
        [
            "model.required",
            "model.required",
            "model.required",
            "doc.launch-type-xor-capacity-provider-strategy"
        ]
    );
    assert_eq!(received(&server).await.len(), 1);

    // Enforce: the upper limit stops it too.
    let err = c
        .send_with::<operations::CreateTaskSet>(
            too_many_subnets.clone(),
            CallOptions::default().validation(ValidationMode::Enforce),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation { .. }));
    assert_eq!(received(&server).await.len(), 1);

    // Warn and Off: sent as it is.
    missing_and_conflicting.client_token = Some("t".into());
    c.send_with::<operations::CreateTaskSet>(
        missing_and_conflicting.clone(),
        CallOptions::default().validation(ValidationMode::Warn),
    )
    .await
    .unwrap();
    c.send_with::<operations::CreateTaskSet>(
        missing_and_conflicting,
        CallOptions::default().validation(ValidationMode::Off),
    )
    .await
    .unwrap();
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn raw_json_can_be_sent_for_deliberately_broken_requests() {
    let server = answering(
        ResponseTemplate::new(400).set_body_json(json!({"__type": "InvalidParameterException"})),
    )
    .await;
    let raw = client(&server)
        .send_json(
            &operations::DescribeTaskSets::INFO,
            json!({"cluster": 5}),
            CallOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(raw.status, 400);
    assert_eq!(
        serde_json::from_slice::<Value>(&received(&server).await[0].body).unwrap(),
        json!({"cluster": 5})
    );
}

#[tokio::test]
async fn secrets_never_appear_in_debug_output() {
    let server = MockServer::start().await;
    let c = client(&server);
    let debug = format!("{c:?} {:?}", c.config());
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(
        debug.contains(KEY_ID),
        "the key id is not secret and helps debugging"
    );
}

/// A DescribeServices answer: service `web` of 10 tasks with one task set `ecs-svc/1` at 50%.
fn service_answer(set: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "services": [{
            "serviceName": "web",
            "status": "ACTIVE",
            "desiredCount": 10,
            "deploymentController": {"type": "EXTERNAL"},
            "taskSets": [set],
        }],
        "failures": []
    }))
}

fn task_set(status: &str, computed: i32, running: i32, stability: &str, at: i64) -> Value {
    json!({
        "id": "ecs-svc/1", "status": status, "scale": {"value": 50.0, "unit": "PERCENT"},
        "computedDesiredCount": computed, "runningCount": running, "pendingCount": 0,
        "stabilityStatus": stability, "stabilityStatusAt": at,
    })
}

fn fast_waiter() -> WaiterConfig {
    WaiterConfig {
        max_wait: Duration::from_millis(400),
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        read_lag: Duration::from_millis(30),
    }
}

/// Answers `answers` in order, then the last one for ever.
async fn answering_in_turn(answers: Vec<ResponseTemplate>) -> MockServer {
    let server = MockServer::start().await;
    let n = answers.len();
    for (i, answer) in answers.into_iter().enumerate() {
        let mock = Mock::given(method("POST")).respond_with(answer);
        let mock = if i + 1 < n {
            mock.up_to_n_times(1)
                .with_priority(u8::try_from(i + 1).unwrap())
        } else {
            mock.with_priority(u8::try_from(i + 1).unwrap())
        };
        mock.mount(&server).await;
    }
    server
}

/// The stale-answer case: right after UpdateTaskSet (answered `updatedAt` 100) the first
/// answer still shows STEADY_STATE, with the count from before the recompute; the waiter goes
/// on through the recompute to the steady state dated after the change.
#[tokio::test]
async fn the_waiter_does_not_take_a_stale_steady_state() {
    let server = answering_in_turn(vec![
        service_answer(task_set("ACTIVE", 2, 2, "STEADY_STATE", 90)),
        service_answer(task_set("ACTIVE", 5, 3, "STABILIZING", 101)),
        service_answer(task_set("ACTIVE", 5, 5, "STEADY_STATE", 90)),
        service_answer(task_set("ACTIVE", 5, 5, "STEADY_STATE", 130)),
    ])
    .await;
    let settled = client(&server)
        .wait_until_task_set_settled()
        .cluster("prod")
        .service("web")
        .task_set("ecs-svc/1")
        .scale(50)
        .after(ecs_model::DateTime::from_secs(100))
        .config(fast_waiter())
        .send()
        .await
        .unwrap();
    assert_eq!(settled.counts.expected, 5);
    assert_eq!(settled.task_set.running_count, Some(5));
    assert_eq!(
        settled.task_set.stability_status_at,
        Some(ecs_model::DateTime::from_secs(130))
    );
    let requests = received(&server).await;
    assert_eq!(requests.len(), 4, "every stale answer was read past");
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["services"], json!(["web"]));
    assert_eq!(body["cluster"], "prod");
}

#[tokio::test]
async fn the_waiter_gives_up_with_the_last_task_set_seen() {
    let server = answering_in_turn(vec![service_answer(task_set(
        "ACTIVE",
        5,
        3,
        "STABILIZING",
        1,
    ))])
    .await;
    let ecs = client(&server);
    let err = ecs
        .wait_until_task_set_settled()
        .service("web")
        .task_set("ecs-svc/1")
        .config(fast_waiter())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::Timeout { .. }), "{err}");
    assert_eq!(err.last_seen().unwrap().running_count, Some(3));
    assert!(
        err.to_string().contains("tasks are starting or stopping"),
        "{err}"
    );

    let server = answering_in_turn(vec![service_answer(task_set(
        "DRAINING",
        5,
        3,
        "STABILIZING",
        1,
    ))])
    .await;
    let err = client(&server)
        .wait_until_task_set_settled()
        .service("web")
        .task_set("ecs-svc/1")
        .config(fast_waiter())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::Draining { .. }), "{err}");

    // Shown once, then missing from every answer for longer than the read lag.
    let gone = ResponseTemplate::new(200).set_body_json(json!({
        "services": [{"serviceName": "web", "status": "ACTIVE", "desiredCount": 10, "taskSets": []}],
        "failures": []
    }));
    let server = answering_in_turn(vec![
        service_answer(task_set("ACTIVE", 5, 3, "STABILIZING", 1)),
        gone,
    ])
    .await;
    let err = client(&server)
        .wait_until_task_set_settled()
        .service("web")
        .task_set("ecs-svc/1")
        .config(fast_waiter())
        .send()
        .await
        .unwrap_err();
    let WaitError::Disappeared { last, .. } = &err else {
        panic!("{err}")
    };
    assert!(last.is_some());
    assert!(
        received(&server).await.len() >= 3,
        "one missing answer is not enough"
    );

    let err = client(&server)
        .wait_until_task_set_settled()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::Incomplete("a service")), "{err}");
}

/// The services waiter judges each service by its controller: an EXTERNAL service by its task
/// sets (the other SDKs' waiter, which wants one deployment, never succeeds for it), an ECS
/// service by its one deployment.
#[tokio::test]
async fn the_services_waiter_understands_task_sets_and_deployments() {
    let server = answering_in_turn(vec![
        service_answer(task_set("PRIMARY", 5, 3, "STABILIZING", 1)),
        service_answer(task_set("PRIMARY", 5, 5, "STEADY_STATE", 2)),
    ])
    .await;
    let services = client(&server)
        .wait_until_services_stable()
        .cluster("prod")
        .services("web")
        .config(fast_waiter())
        .send()
        .await
        .unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(received(&server).await.len(), 2);

    // Two sets, only one changed at 100: the other's older steady state is not held against it.
    let mut untouched = task_set("ACTIVE", 0, 0, "STEADY_STATE", 10);
    untouched["id"] = json!("ecs-svc/2");
    untouched["scale"] = json!({"value": 0.0, "unit": "PERCENT"});
    untouched["updatedAt"] = json!(10);
    let mut changed = task_set("PRIMARY", 5, 5, "STEADY_STATE", 120);
    changed["updatedAt"] = json!(100);
    let both = ResponseTemplate::new(200).set_body_json(json!({
        "services": [{"serviceName": "web", "status": "ACTIVE", "desiredCount": 10,
            "deploymentController": {"type": "EXTERNAL"}, "taskSets": [changed, untouched]}],
        "failures": []
    }));
    let server = answering_in_turn(vec![both]).await;
    client(&server)
        .wait_until_services_stable()
        .services("web")
        .after(ecs_model::DateTime::from_secs(100))
        .config(fast_waiter())
        .send()
        .await
        .unwrap();
    assert_eq!(received(&server).await.len(), 1);

    let rolling = |deployments: Value, running: i32| {
        ResponseTemplate::new(200).set_body_json(json!({
            "services": [{"serviceName": "api", "status": "ACTIVE", "desiredCount": 2,
                "runningCount": running, "pendingCount": 0, "deployments": deployments}],
            "failures": []
        }))
    };
    let server = answering_in_turn(vec![
        // An answer from before the UpdateService (at 100): the old deployment, complete.
        rolling(json!([{"id": "ecs-svc/old", "status": "PRIMARY", "rolloutState": "COMPLETED", "updatedAt": 50}]), 2),
        rolling(json!([{"id": "ecs-svc/new", "status": "PRIMARY", "rolloutState": "IN_PROGRESS", "updatedAt": 100},
                       {"id": "ecs-svc/old", "status": "ACTIVE", "rolloutState": "COMPLETED", "updatedAt": 50}]), 3),
        rolling(json!([{"id": "ecs-svc/new", "status": "PRIMARY", "rolloutState": "COMPLETED", "updatedAt": 120}]), 2),
    ])
    .await;
    client(&server)
        .wait_until_services_stable()
        .services("api")
        .after(ecs_model::DateTime::from_secs(100))
        .config(fast_waiter())
        .send()
        .await
        .unwrap();
    assert_eq!(
        received(&server).await.len(),
        3,
        "the stale stable answer was not taken"
    );

    let server = answering(ResponseTemplate::new(200).set_body_json(
        json!({"services": [], "failures": [{"arn": "arn:aws:ecs:us-east-1:1:service/c/gone", "reason": "MISSING"}]}),
    ))
    .await;
    let err = client(&server)
        .wait_until_services_stable()
        .services("gone")
        .config(fast_waiter())
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WaitError::Service(m) if m.contains("MISSING")),
        "{err}"
    );
}

/// A service error read as the operation's own error enum: a listed exception is its variant,
/// a code the operation does not list is `Unhandled` (opaque, with its code), and another
/// operation's view of the error is `None`.
#[tokio::test]
async fn errors_are_read_as_the_operations_error_enum() {
    use ecs_model::errors::{CreateTaskSetError, DeleteClusterError};
    use ecs_model::OperationError;
    let server = answering(ResponseTemplate::new(400).set_body_json(
        json!({"__type": "com.amazonaws.ecs#ServiceNotFoundException", "message": "m"}),
    ))
    .await;
    let ecs = client(&server);
    let e = ecs
        .create_task_set()
        .cluster("c")
        .service("s")
        .task_definition("td")
        .send()
        .await
        .unwrap_err();
    let typed = e.operation_error::<operations::CreateTaskSet>();
    assert_eq!(typed, Some(CreateTaskSetError::ServiceNotFoundException));
    assert_eq!(
        typed.as_ref().and_then(OperationError::modeled),
        Some(ModeledError::ServiceNotFoundException)
    );
    assert_eq!(e.operation_error::<operations::DeleteCluster>(), None);

    // DeleteCluster does not list ServiceNotFoundException: the code stays, opaque.
    let e = ecs.delete_cluster().cluster("c").send().await.unwrap_err();
    let typed = e.operation_error::<operations::DeleteCluster>().unwrap();
    assert!(matches!(typed, DeleteClusterError::Unhandled(_)));
    assert_eq!(typed.code(), "ServiceNotFoundException");
    assert_eq!(typed.modeled(), None);
}

/// What a request builder answers on failure: the operation's own error, tested with its
/// `is_<exception>()` methods, with the service's message and request id kept; the client's
/// `Error` stays reachable. A failure without an error answer has no kind, and every `is_*`
/// says no.
#[tokio::test]
async fn a_request_builders_failure_names_its_exception_and_keeps_message_and_request_id() {
    use ecs_model::errors::CreateTaskSetError;
    let server = answering(
        ResponseTemplate::new(400)
            .insert_header("x-amzn-RequestId", "0b1c-request")
            .set_body_json(json!({
                "__type": "com.amazonaws.ecs#ServiceNotFoundException",
                "message": "Service not found."
            })),
    )
    .await;
    let ecs = client(&server);
    let e = ecs
        .create_task_set()
        .cluster("c")
        .service("s")
        .task_definition("td")
        .send()
        .await
        .unwrap_err();
    assert!(e.is_service_not_found_exception(), "{e}");
    assert!(!e.is_cluster_not_found_exception());
    assert!(!e.is_invalid_parameter_exception());
    assert_eq!(
        e.kind(),
        Some(&CreateTaskSetError::ServiceNotFoundException)
    );
    assert!(e.kind().is_some_and(|k| !k.is_unhandled()));
    assert_eq!(e.message(), Some("Service not found."));
    assert_eq!(e.request_id(), Some("0b1c-request"));
    // Everything the client's error offers, through Deref, and `?` into it.
    assert_eq!(e.code(), Some("ServiceNotFoundException"));
    assert!(!e.is_retryable());
    let plain: Error = e.into();
    assert!(matches!(plain, Error::Service(_)), "{plain}");

    // Refused before sending (no task definition): no answer, so no kind.
    let e = ecs
        .create_task_set()
        .cluster("c")
        .service("s")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(*e, Error::Validation { .. }), "{e}");
    assert_eq!(e.kind(), None);
    assert!(!e.is_service_not_found_exception());
    assert_eq!((e.message(), e.request_id()), (None, None));
}
