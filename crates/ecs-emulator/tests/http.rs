//! The emulator over HTTP: the blue/green lifecycle through the project's client, protocol
//! errors on the wire, and correctness under concurrent clients.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecs_model::operations;
use std::time::Duration;

use ecs_client::{Config, EcsClient, Error, WaiterConfig};
use ecs_emulator::{Emulator, TimingProfile};
use ecs_model::errors::ModeledError;
use ecs_model::types::*;
use ecs_model::Decimal;

fn client(url: &str) -> EcsClient {
    let config = Config::local(url).unwrap();
    EcsClient::new(config).unwrap()
}

fn percent(n: i32) -> Option<Scale> {
    Some(
        Scale::builder()
            .value(Decimal::from(n))
            .unit(ScaleUnit::Percent)
            .build(),
    )
}

fn waiter() -> WaiterConfig {
    WaiterConfig {
        max_wait: Duration::from_secs(10),
        min_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        ..WaiterConfig::default()
    }
}

/// The client's waiter for `id` of `prod/web`, settled at what `changed` shows.
async fn wait_settled(
    ecs: &EcsClient,
    id: &str,
    changed: &TaskSet,
) -> Result<TaskSet, ecs_client::WaitError> {
    let mut wait = ecs
        .wait_until_task_set_settled()
        .cluster("prod")
        .service("web")
        .task_set(id)
        .config(waiter());
    if let Some(percent) = changed.scale.as_ref().and_then(|s| s.value) {
        wait = wait.scale(percent);
    }
    if let Some(at) = changed.updated_at {
        wait = wait.after(at);
    }
    wait.send().await.map(|s| s.task_set)
}

async fn setup(ecs: &EcsClient, cluster: &str, desired: i32) {
    ecs.send::<operations::CreateCluster>(
        CreateClusterRequest::builder()
            .cluster_name(cluster)
            .build(),
    )
    .await
    .unwrap();
    for image in ["nginx:1.26", "nginx:1.27"] {
        ecs.send::<operations::RegisterTaskDefinition>(
            RegisterTaskDefinitionRequest::builder()
                .family("web")
                .set_container_definitions(Some(vec![ContainerDefinition::builder()
                    .name("web")
                    .image(image)
                    .memory(128)
                    .build()]))
                .build(),
        )
        .await
        .unwrap();
    }
    ecs.send::<operations::CreateService>(
        CreateServiceRequest::builder()
            .cluster(cluster)
            .service_name("web")
            .desired_count(desired)
            .deployment_controller(
                DeploymentController::builder()
                    .r#type(DeploymentControllerType::External)
                    .build(),
            )
            .build(),
    )
    .await
    .unwrap();
}

async fn create_set(ecs: &EcsClient, cluster: &str, td: &str, scale: i32) -> TaskSet {
    ecs.send::<operations::CreateTaskSet>(
        CreateTaskSetRequest::builder()
            .cluster(cluster)
            .service("web")
            .task_definition(td)
            .set_scale(percent(scale))
            .build(),
    )
    .await
    .unwrap()
    .task_set
    .unwrap()
}

#[tokio::test]
async fn blue_green_lifecycle_through_the_client() {
    let emulator = Emulator::builder()
        .profile(TimingProfile::Fast, 1.0)
        .start()
        .await
        .unwrap();
    let ecs = client(&emulator.url());
    setup(&ecs, "prod", 4).await;

    let blue = create_set(&ecs, "prod", "web:1", 100).await;
    let blue_id = blue.id.clone().unwrap();
    assert_eq!(
        blue.stability_status,
        Some(StabilityStatus::Stabilizing),
        "STABILIZING is observable"
    );
    assert_eq!(
        (
            blue.computed_desired_count,
            blue.pending_count,
            blue.running_count
        ),
        (Some(0), Some(0), Some(0)),
        "the answer comes before the scheduler computes the count"
    );
    ecs.send::<operations::UpdateServicePrimaryTaskSet>(
        UpdateServicePrimaryTaskSetRequest::builder()
            .cluster("prod")
            .service("web")
            .primary_task_set(blue_id.clone())
            .build(),
    )
    .await
    .unwrap();
    let steady = wait_settled(&ecs, &blue_id, &blue).await.unwrap();
    assert_eq!(
        (steady.running_count, steady.pending_count),
        (Some(4), Some(0))
    );
    assert!(steady.updated_at >= steady.created_at);

    let green = create_set(&ecs, "prod", "web:2", 0).await;
    let green_id = green.id.clone().unwrap();
    let scaled = ecs
        .send::<operations::UpdateTaskSet>(
            UpdateTaskSetRequest::builder()
                .cluster("prod")
                .service("web")
                .task_set(green_id.clone())
                .set_scale(percent(30))
                .build(),
        )
        .await
        .unwrap()
        .task_set
        .unwrap();
    assert_eq!(
        scaled.computed_desired_count,
        Some(0),
        "the count from before the change"
    );
    let settled = wait_settled(&ecs, &green_id, &scaled).await.unwrap();
    assert_eq!(
        settled.computed_desired_count,
        Some(2),
        "ceil(4 x 30%) = ceil(1.2) = 2"
    );

    let primary = ecs
        .send::<operations::UpdateServicePrimaryTaskSet>(
            UpdateServicePrimaryTaskSetRequest::builder()
                .cluster("prod")
                .service("web")
                .primary_task_set(green.task_set_arn.clone().unwrap())
                .build(),
        )
        .await
        .unwrap()
        .task_set
        .unwrap();
    assert_eq!(primary.status, Some(TaskSetStatus::Primary));

    let service = ecs
        .send::<operations::DescribeServices>(
            DescribeServicesRequest::builder()
                .cluster("prod")
                .set_services(Some(vec!["web".into()]))
                .build(),
        )
        .await
        .unwrap()
        .services
        .unwrap()
        .remove(0);
    assert_eq!(
        service.task_definition, green.task_definition,
        "the service takes the primary's task definition"
    );
    let violations = {
        let mut seen = ecs_model::semantics::Observations::default();
        seen.observe_service(&service);
        ecs_model::semantics::service_invariants(&service, &seen, false)
    };
    assert!(violations.is_empty(), "{violations:?}");

    // The PRIMARY set is not deleted without force (AWS's record); the old one is, at 100%.
    let err = ecs
        .send::<operations::DeleteTaskSet>(
            DeleteTaskSetRequest::builder()
                .cluster("prod")
                .service("web")
                .task_set(green_id.clone())
                .build(),
        )
        .await
        .unwrap_err();
    assert!(
        err.service_error()
            .unwrap()
            .is(ModeledError::InvalidParameterException),
        "{err}"
    );
    assert_eq!(
        err.service_error().unwrap().message.as_deref(),
        Some("Primary TaskSet cannot be deleted")
    );
    let drained = ecs
        .send::<operations::DeleteTaskSet>(
            DeleteTaskSetRequest::builder()
                .cluster("prod")
                .service("web")
                .task_set(blue_id.clone())
                .build(),
        )
        .await
        .unwrap()
        .task_set
        .unwrap();
    assert_eq!(drained.status, Some(TaskSetStatus::Draining));
    let gone = wait_settled(&ecs, &blue_id, &drained).await.unwrap_err();
    assert!(
        matches!(
            gone,
            ecs_client::WaitError::Draining { .. } | ecs_client::WaitError::Disappeared { .. }
        ),
        "{gone}"
    );
    // fast timing: stopped after 50 ms, gone 500 ms later.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let after = ecs
        .send::<operations::DescribeTaskSets>(
            DescribeTaskSetsRequest::builder()
                .cluster("prod")
                .service("web")
                .set_task_sets(Some(vec![blue_id.clone()]))
                .build(),
        )
        .await
        .unwrap();
    assert_eq!(after.task_sets, Some(vec![]));
    assert_eq!(
        after.failures.unwrap()[0].reason.as_deref(),
        Some("MISSING")
    );
    emulator.shutdown().await;
}

async fn raw_post(
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Option<String>, serde_json::Value) {
    let http = reqwest_client();
    let mut req = http.post(format!("{url}/")).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let code = resp
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = resp.bytes().await.unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, code, json)
}

fn reqwest_client() -> reqwest::Client {
    // Building an EcsClient installs the process's TLS crypto provider, which reqwest needs
    // even for plain HTTP.
    let _ = client("http://127.0.0.1:1");
    reqwest::Client::new()
}

#[tokio::test]
async fn protocol_errors_on_the_wire() {
    let emulator = Emulator::start().await.unwrap();
    let url = emulator.url();
    let json = ("content-type", "application/x-amz-json-1.1");
    let target = (
        "x-amz-target",
        "AmazonEC2ContainerServiceV20141113.DescribeClusters",
    );

    let (status, code, body) = raw_post(&url, &[json], b"{}".to_vec()).await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("UnknownOperationException"))
    );
    assert_eq!(body["__type"], "UnknownOperationException");
    let (status, code, _) = raw_post(
        &url,
        &[("content-type", "text/plain"), target],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (415, Some("UnsupportedMediaTypeException"))
    );
    let (status, code, _) = raw_post(&url, &[json, target], b"{\"clusters\": [".to_vec()).await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("SerializationException"))
    );
    let (status, code, _) = raw_post(
        &url,
        &[json, target],
        vec![b' '; ecs_emulator::MAX_BODY_BYTES + 1],
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (413, Some("RequestEntityTooLargeException"))
    );
    let (status, _, body) = raw_post(&url, &[json, target], b"{}".to_vec()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["failures"][0]["reason"], "MISSING",
        "the default cluster does not exist yet"
    );
    let health = reqwest_client()
        .get(format!("{url}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let get = reqwest_client()
        .get(format!("{url}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status().as_u16(), 400);
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_client_reads_emulator_errors_as_modeled_exceptions() {
    let emulator = Emulator::start().await.unwrap();
    let ecs = client(&emulator.url());
    let err = ecs
        .send::<operations::DescribeTaskSets>(
            DescribeTaskSetsRequest::builder()
                .cluster("none")
                .service("web")
                .set_task_sets(Some(vec!["ecs-svc/1".into()]))
                .build(),
        )
        .await
        .unwrap_err();
    let Error::Service(e) = &err else {
        panic!("{err}")
    };
    assert!(e.is(ModeledError::ClusterNotFoundException));
    assert!(e.request_id.is_some());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_never_break_the_invariants() {
    let emulator = Emulator::builder()
        .task_delay(Duration::from_millis(5))
        .start()
        .await
        .unwrap();
    let ecs = client(&emulator.url());
    setup(&ecs, "load", 10).await;
    let mut ids = vec![];
    for scale in [100, 50, 25, 0] {
        ids.push(create_set(&ecs, "load", "web:1", scale).await.id.unwrap());
    }
    let mut tasks = vec![];
    for worker in 0..32usize {
        let ecs = ecs.clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            for step in 0..25usize {
                let id = ids[(worker + step) % ids.len()].clone();
                match step % 3 {
                    0 => {
                        ecs.send::<operations::UpdateServicePrimaryTaskSet>(
                            UpdateServicePrimaryTaskSetRequest::builder()
                                .cluster("load")
                                .service("web")
                                .primary_task_set(id)
                                .build(),
                        )
                        .await
                        .unwrap();
                    }
                    1 => {
                        ecs.send::<operations::UpdateTaskSet>(
                            UpdateTaskSetRequest::builder()
                                .cluster("load")
                                .service("web")
                                .task_set(id)
                                .set_scale(percent(
                                    i32::try_from((worker * 7 + step) % 101).unwrap(),
                                ))
                                .build(),
                        )
                        .await
                        .unwrap();
                    }
                    _ => {
                        ecs.send::<operations::UpdateService>(
                            UpdateServiceRequest::builder()
                                .cluster("load")
                                .service("web")
                                .desired_count(i32::try_from(worker % 20).unwrap())
                                .build(),
                        )
                        .await
                        .unwrap();
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(emulator.engine().check_invariants(), Vec::<String>::new());
    let answer = ecs
        .send::<operations::DescribeTaskSets>(
            DescribeTaskSetsRequest::builder()
                .cluster("load")
                .service("web")
                .set_task_sets(Some(ids.clone()))
                .build(),
        )
        .await
        .unwrap();
    let sets = answer.task_sets.unwrap();
    assert_eq!(sets.len(), 4, "no task set lost or duplicated");
    assert_eq!(
        sets.iter()
            .filter(|s| s.status == Some(TaskSetStatus::Primary))
            .count(),
        1
    );
    emulator.shutdown().await;
}

async fn control(
    url: &str,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let resp = reqwest_client()
        .request(method, format!("{url}/_emulator/{path}"))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn the_control_path_reaches_faults_hooks_the_call_log_and_reset() {
    use reqwest::Method;
    use serde_json::json;
    let emulator = Emulator::builder().log_calls().start().await.unwrap();
    let url = emulator.url();
    let json_type = ("content-type", "application/x-amz-json-1.1");
    let target = (
        "x-amz-target",
        "AmazonEC2ContainerServiceV20141113.CreateCluster",
    );
    let (status, _) = control(
        &url,
        Method::POST,
        "faults",
        json!({"fault": "throttle", "operation": "CreateCluster", "times": 1}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, code, _) = raw_post(
        &url,
        &[json_type, target],
        br#"{"clusterName": "c"}"#.to_vec(),
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("ThrottlingException"))
    );
    let (status, code, _) = raw_post(
        &url,
        &[json_type, target],
        br#"{"clusterName": "c"}"#.to_vec(),
    )
    .await;
    assert_eq!((status, code), (200, None), "the fault was for one call");

    let (status, body) = control(&url, Method::GET, "calls", json!(null)).await;
    assert_eq!(status, 200);
    let calls = body["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["error"]["code"], "ThrottlingException");
    assert_eq!(calls[1]["answer"]["cluster"]["clusterName"], "c");

    let (status, _) = control(&url, Method::POST, "hooks", json!({"hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:h", "replies": ["IN_PROGRESS", "FAILED"], "latencySeconds": 2})).await;
    assert_eq!(status, 200);
    let (status, body) = control(
        &url,
        Method::POST,
        "hooks",
        json!({"hookTargetArn": "h", "replies": ["MAYBE"]}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("/_emulator/hooks"),
        "{body}"
    );
    // Hooks and alarms reaching a deployment: the next test.
    let (status, _) = control(&url, Method::DELETE, "faults", json!(null)).await;
    assert_eq!(status, 200);
    let (status, _) = control(&url, Method::GET, "reset", json!(null)).await;
    assert_eq!(status, 405);
    let (status, _) = control(&url, Method::POST, "nothing", json!(null)).await;
    assert_eq!(status, 404);

    let (status, _) = control(&url, Method::POST, "reset", json!(null)).await;
    assert_eq!(status, 200);
    let (_, body) = control(&url, Method::GET, "calls", json!(null)).await;
    assert_eq!(body["calls"], json!([]), "reset empties the call log");
    let describe = (
        "x-amz-target",
        "AmazonEC2ContainerServiceV20141113.DescribeClusters",
    );
    let (_, _, body) = raw_post(
        &url,
        &[json_type, describe],
        br#"{"clusters": ["c"]}"#.to_vec(),
    )
    .await;
    assert_eq!(
        body["failures"][0]["reason"], "MISSING",
        "reset removed the cluster"
    );
    emulator.shutdown().await;
}

/// One ECS call over HTTP: its status and JSON body.
async fn ecs_call(url: &str, op: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let target = format!("AmazonEC2ContainerServiceV20141113.{op}");
    let (status, _, answer) = raw_post(
        url,
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", &target),
        ],
        body.to_string().into_bytes(),
    )
    .await;
    (status, answer)
}

/// Polls the service deployment `arn` over HTTP until `status` (10 s at most).
async fn deployment_until(url: &str, arn: &str, status: &str) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    for _ in 0..1_000 {
        let (_, body) = ecs_call(
            url,
            "DescribeServiceDeployments",
            serde_json::json!({"serviceDeploymentArns": [arn]}),
        )
        .await;
        last = body["serviceDeployments"][0].clone();
        if last["status"] == status {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{arn} never reached {status}: {last:#}");
}

/// A cluster `c`, three revisions of `web`, and the BLUE_GREEN service `s` with `config`, its
/// first deployment done (the target groups and the rule are examples the emulator passes over).
async fn native_world(url: &str, config: serde_json::Value) {
    use serde_json::json;
    ecs_call(url, "CreateCluster", json!({"clusterName": "c"})).await;
    for image in ["a", "b", "c"] {
        let (status, _) = ecs_call(url, "RegisterTaskDefinition", json!({"family": "web",
            "containerDefinitions": [{"name": "web", "image": image, "memory": 128, "portMappings": [{"containerPort": 80}]}]})).await;
        assert_eq!(status, 200);
    }
    let service = json!({"cluster": "c", "serviceName": "s", "taskDefinition": "web:1", "desiredCount": 1,
        "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1111111111111111",
            "containerName": "web", "containerPort": 80,
            "advancedConfiguration": {
                "alternateTargetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2222222222222222",
                "productionListenerRule": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/lb/3333333333333333/4444444444444444/5555555555555555",
                "roleArn": "arn:aws:iam::123456789012:role/ecs"}}],
        "deploymentConfiguration": config});
    let (status, body) = ecs_call(url, "CreateService", service).await;
    assert_eq!(status, 200, "{body}");
    let first = body["service"]["currentServiceDeployment"]
        .as_str()
        .unwrap()
        .to_owned();
    deployment_until(url, &first, "SUCCESSFUL").await;
}

/// UpdateService of `s` to `web:<revision>`: the new service deployment's ARN.
async fn deploy(url: &str, revision: u32) -> String {
    let (status, body) = ecs_call(
        url,
        "UpdateService",
        serde_json::json!({"cluster": "c", "service": "s", "taskDefinition": format!("web:{revision}")}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["service"]["currentServiceDeployment"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What the control path sets reaches a deployment: a hook's FAILED rolls it back, an alarm
/// set to ALARM rolls it back, and after a reset neither is remembered.
#[tokio::test]
async fn the_control_path_drives_deployments_and_reset_forgets_hooks_and_alarms() {
    use reqwest::Method;
    use serde_json::json;
    const HOOK: &str = "arn:aws:lambda:us-east-1:123456789012:function:check";
    let emulator = Emulator::builder()
        .profile(TimingProfile::Fast, 1.0)
        .start()
        .await
        .unwrap();
    let url = emulator.url();
    // A Lambda hook at POST_SCALE_UP, and an alarm watched with rollback.
    let config = json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
        "alarms": {"alarmNames": ["errors"], "enable": true, "rollback": true},
        "lifecycleHooks": [{"targetType": "AWS_LAMBDA", "hookTargetArn": HOOK,
            "roleArn": "arn:aws:iam::123456789012:role/hooks", "lifecycleStages": ["POST_SCALE_UP"]}]});
    native_world(&url, config.clone()).await;

    let (status, _) = control(
        &url,
        Method::POST,
        "hooks",
        json!({"hookTargetArn": HOOK, "replies": ["FAILED"]}),
    )
    .await;
    assert_eq!(status, 200);
    let second = deploy(&url, 2).await;
    let d = deployment_until(&url, &second, "ROLLBACK_SUCCESSFUL").await;
    assert_eq!(
        d["statusReason"],
        format!("Service deployment rolled back because POST_SCALE_UP lifecycle hook(s) failed. Lifecycle hook target {HOOK} returned FAILED status.")
    );

    // The function approves now, but the alarm the deployment watches is in ALARM.
    let (status, _) = control(
        &url,
        Method::POST,
        "hooks",
        json!({"hookTargetArn": HOOK, "replies": ["SUCCEEDED"]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = control(
        &url,
        Method::POST,
        "alarms",
        json!({"alarmName": "errors", "state": "ALARM"}),
    )
    .await;
    assert_eq!(status, 200);
    let third = deploy(&url, 3).await;
    let d = deployment_until(&url, &third, "ROLLBACK_SUCCESSFUL").await;
    assert!(
        d["statusReason"].as_str().unwrap().contains("errors"),
        "{d:#}"
    );

    // After a reset: the function approves at once and the alarm is OK.
    let (status, _) = control(&url, Method::POST, "reset", json!(null)).await;
    assert_eq!(status, 200);
    native_world(&url, config).await;
    let second = deploy(&url, 2).await;
    deployment_until(&url, &second, "SUCCESSFUL").await;
    emulator.shutdown().await;
}
