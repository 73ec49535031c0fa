//! The identical request and answer bodies every client and server in the benchmarks uses.
//!
//! Answers are made by the reference emulator itself (manual clock, sequential ids), so they
//! carry every member a real answer does: network configuration, load balancers, scale, counts,
//! timestamps and stability status.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use ecs_emulator::{Emulator, ManualClock, SequentialIds, TimingProfile};
use serde_json::{json, Value};

pub const CLUSTER: &str = "bench";
pub const SERVICE: &str = "web";

/// The CreateTaskSet request every client sends (a Fargate task set behind a load balancer).
pub fn create_task_set_request(service: &str) -> Value {
    json!({
        "cluster": CLUSTER,
        "service": service,
        "taskDefinition": "web:1",
        "externalId": "deploy-42",
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": ["subnet-0a1b2c3d", "subnet-1a2b3c4d", "subnet-2a3b4c5d"],
            "securityGroups": ["sg-0a1b2c3d"],
            "assignPublicIp": "DISABLED"
        }},
        "loadBalancers": [{
            "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123456789abcdef",
            "containerName": "web",
            "containerPort": 8080
        }],
        "scale": {"value": 50.0, "unit": "PERCENT"}
    })
}

/// The task set the cost benchmark's clients name (the canned server answers every
/// DescribeTaskSets with the same set or sets; AWS refuses one that names none).
pub const DESCRIBED_ID: &str = "ecs-svc/1000000000000000001";

/// A DescribeTaskSets request naming `ids` (AWS answers InvalidParameterException "TaskSets
/// cannot be empty." to one that names none).
pub fn describe_task_sets_request(service: &str, ids: &[String]) -> Value {
    json!({"cluster": CLUSTER, "service": service, "taskSets": ids})
}

/// The id of the task set a CreateTaskSet answer holds.
pub fn created_id(answer: &[u8]) -> Result<String> {
    let v: Value = serde_json::from_slice(answer).context("CreateTaskSet answer")?;
    v["taskSet"]["id"]
        .as_str()
        .map(str::to_owned)
        .context("CreateTaskSet answer without taskSet.id")
}

/// Setup requests for a target: a cluster, a task definition (Fargate-ready when `fargate`) and
/// EXTERNAL services. `taskDefinition` is given on CreateService because fakecloud refuses an
/// EXTERNAL service without one; AWS and the reference emulator accept it either way.
pub fn setup_requests(services: &[&str], fargate: bool) -> Vec<(&'static str, Value)> {
    let task_definition = if fargate {
        json!({
            "family": "web",
            "requiresCompatibilities": ["FARGATE"],
            "networkMode": "awsvpc",
            "cpu": "256",
            "memory": "512",
            "containerDefinitions": [{"name": "web", "image": "public.ecr.aws/nginx/nginx:latest",
                "memory": 512, "portMappings": [{"containerPort": 8080}]}]
        })
    } else {
        json!({
            "family": "web",
            "containerDefinitions": [{"name": "web", "image": "public.ecr.aws/nginx/nginx:latest",
                "memory": 512}]
        })
    };
    let mut out = vec![
        ("CreateCluster", json!({"clusterName": CLUSTER})),
        ("RegisterTaskDefinition", task_definition),
    ];
    for s in services {
        out.push((
            "CreateService",
            json!({
                "cluster": CLUSTER,
                "serviceName": s,
                "taskDefinition": "web:1",
                "desiredCount": 10,
                "deploymentController": {"type": "EXTERNAL"}
            }),
        ));
    }
    out
}

/// The CreateTaskSet request of the server benchmarks: the clients' request without subnets
/// or target groups, which moto checks against its own EC2 and ELB state (and Fargate stays,
/// because moto places EC2 task sets on container instances).
pub fn server_create_task_set_request(service: &str) -> Value {
    let mut request = create_task_set_request(service);
    if let Some(map) = request.as_object_mut() {
        map.remove("networkConfiguration");
        map.remove("loadBalancers");
    }
    request
}

/// A client of this project for `endpoint`, with fixed credentials.
pub fn client(endpoint: &str) -> anyhow::Result<ecs_client::EcsClient> {
    let config = ecs_client::Config::builder()
        .region("us-east-1")
        .endpoint(endpoint)
        .static_credentials("AKIDBENCHEXAMPLE", "bench-secret-not-a-real-key", None)
        .build()?;
    Ok(ecs_client::EcsClient::new(config)?)
}

/// Canned answers: CreateTaskSet, DescribeTaskSets with one set, DescribeTaskSets with 100.
pub struct Answers {
    pub create_task_set: Vec<u8>,
    pub describe_1: Vec<u8>,
    pub describe_100: Vec<u8>,
}

pub fn answers() -> Result<Answers> {
    let clock = ManualClock::at_example_time();
    // Instant timing on a manual clock: every set is settled by the time it is described.
    let engine = Emulator::builder()
        .profile(TimingProfile::Instant, 1.0)
        .clock(clock.clone())
        .ids(SequentialIds::default())
        .max_task_sets_per_service(100)
        .engine();
    let call = |op: &str, body: &Value| -> Result<Vec<u8>> {
        let target = format!("{}.{op}", ecs_model::TARGET_PREFIX);
        engine
            .handle(Some(&target), None, body.to_string().as_bytes())
            .map_err(|e| anyhow!("{op}: {} {}", e.code, e.message))
    };
    for (op, body) in setup_requests(&["one", "hundred"], true) {
        call(op, &body)?;
    }
    let mut create = vec![];
    let mut hundred = vec![];
    for i in 0..100 {
        clock.advance(Duration::from_millis(10));
        let answer = call("CreateTaskSet", &create_task_set_request("hundred"))?;
        hundred.push(created_id(&answer)?);
        if i == 0 {
            create = answer;
        }
    }
    let one = vec![created_id(&call(
        "CreateTaskSet",
        &create_task_set_request("one"),
    )?)?];
    clock.advance(Duration::from_secs(1));
    let describe_1 = call("DescribeTaskSets", &describe_task_sets_request("one", &one))?;
    let describe_100 = call(
        "DescribeTaskSets",
        &describe_task_sets_request("hundred", &hundred),
    )?;
    let sets = |bytes: &[u8]| -> Result<usize> {
        let v: Value = serde_json::from_slice(bytes).context("canned answer")?;
        Ok(v["taskSets"].as_array().map_or(0, Vec::len))
    };
    anyhow::ensure!(sets(&describe_1)? == 1 && sets(&describe_100)? == 100);
    Ok(Answers {
        create_task_set: create,
        describe_1,
        describe_100,
    })
}
