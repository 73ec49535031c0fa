//! One test per documented rule (and per listed assumption), through the engine with a manual
//! clock and sequential ids, so every time and identifier is exact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ecs_emulator::{ApiError, Emulator, Engine, ManualClock, SequentialIds, Timing, TimingProfile};
use serde_json::{json, Value};

const T0: f64 = 1_557_128_360.0;

/// Exact stages for these tests: recompute 100 ms after a call, tasks PENDING at once and
/// RUNNING 100 ms later, STEADY_STATE 50 ms after that; stop and drain 100 ms each.
fn test_timing() -> Timing {
    let ms = Duration::from_millis;
    Timing {
        recompute_delay: ms(100),
        recompute_jitter: Duration::ZERO,
        launch_delay: Duration::ZERO,
        task_delay: ms(100),
        task_jitter: Duration::ZERO,
        steady_delay: ms(50),
        stop_delay: ms(100),
        drain_delay: ms(100),
        health_second: ms(1),
    }
}

struct World {
    engine: Engine,
    clock: ManualClock,
}

impl World {
    fn new() -> World {
        let clock = ManualClock::at_example_time();
        let engine = Emulator::builder()
            .timing(test_timing())
            .clock(clock.clone())
            .ids(SequentialIds::default())
            .region("us-west-2")
            .engine();
        World { engine, clock }
    }

    fn call(&self, op: &str, body: Value) -> Result<Value, ApiError> {
        let target = format!("AmazonEC2ContainerServiceV20141113.{op}");
        let bytes = serde_json::to_vec(&body).unwrap();
        self.engine
            .handle(Some(&target), None, &bytes)
            .map(|b| serde_json::from_slice(&b).unwrap())
    }

    fn ok(&self, op: &str, body: Value) -> Value {
        self.call(op, body.clone())
            .unwrap_or_else(|e| panic!("{op} {body}: {e}"))
    }

    fn err(&self, op: &str, body: Value) -> ApiError {
        match self.call(op, body.clone()) {
            Ok(v) => panic!("{op} {body} should fail, answered {v}"),
            Err(e) => e,
        }
    }

    fn tick(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }

    /// Cluster `c`, task definition `web:1` and `web:2`, EXTERNAL service `s` with `desired` tasks.
    fn external_service(desired: i32) -> World {
        let w = World::new();
        w.ok("CreateCluster", json!({"clusterName": "c"}));
        for image in ["nginx:1", "nginx:2"] {
            w.ok("RegisterTaskDefinition", json!({"family": "web", "containerDefinitions": [{"name": "web", "image": image, "memory": 128, "portMappings": [{"containerPort": 80}]}]}));
        }
        w.ok(
            "CreateService",
            json!({"cluster": "c", "serviceName": "s", "desiredCount": desired, "deploymentController": {"type": "EXTERNAL"}}),
        );
        w
    }

    fn create_set(&self, scale: f64) -> Value {
        self.ok(
            "CreateTaskSet",
            json!({"cluster": "c", "service": "s", "taskDefinition": "web:1", "scale": {"value": scale, "unit": "PERCENT"},
                   "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}}),
        )["taskSet"]
            .clone()
    }

    /// Every task set of service `s`, through DescribeServices (DescribeTaskSets needs ids).
    fn all(&self) -> Value {
        self.ok(
            "DescribeServices",
            json!({"cluster": "c", "services": ["s"]}),
        )["services"][0]["taskSets"]
            .clone()
    }

    fn set(&self, id: &str) -> Value {
        self.describe(&[id])["taskSets"][0].clone()
    }

    fn describe(&self, ids: &[&str]) -> Value {
        self.ok(
            "DescribeTaskSets",
            json!({"cluster": "c", "service": "s", "taskSets": ids}),
        )
    }
}

#[test]
fn create_task_set_answers_with_aws_formats_and_defaults() {
    let w = World::external_service(1);
    let ts = w.ok(
        "CreateTaskSet",
        json!({"cluster": "c", "service": "s", "taskDefinition": "web:1"}),
    )["taskSet"]
        .clone();
    assert_eq!(ts["id"], "ecs-svc/1000000000000000001");
    assert_eq!(
        ts["taskSetArn"],
        "arn:aws:ecs:us-west-2:123456789012:task-set/c/s/ecs-svc/1000000000000000001"
    );
    assert_eq!(
        ts["serviceArn"],
        "arn:aws:ecs:us-west-2:123456789012:service/c/s"
    );
    assert_eq!(
        ts["clusterArn"],
        "arn:aws:ecs:us-west-2:123456789012:cluster/c"
    );
    assert_eq!(
        ts["taskDefinition"],
        "arn:aws:ecs:us-west-2:123456789012:task-definition/web:1"
    );
    assert_eq!(ts["status"], "ACTIVE");
    assert_eq!(ts["launchType"], "EC2");
    assert_eq!(ts["scale"], json!({"value": 0.0, "unit": "PERCENT"}));
    assert_eq!(ts["loadBalancers"], json!([]));
    assert_eq!(ts["serviceRegistries"], json!([]));
    assert_eq!(ts["stabilityStatus"], "STABILIZING");
    assert_eq!(ts["createdAt"], json!(T0 as i64));
    assert_eq!(ts["createdAt"], ts["updatedAt"]);
    // CreateTaskSet answers its tags, an empty list included (the 2020 transcript, A14).
    assert_eq!(ts["tags"], json!([]));
    let ts = w.create_set(50.0);
    assert_eq!(
        ts["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"],
        "DISABLED"
    );
}

#[test]
fn computed_desired_count_answers_the_old_value_then_rounds_up_after_the_recompute() {
    let w = World::external_service(3);
    let ts = w.create_set(33.3);
    assert_eq!(ts["computedDesiredCount"], 0, "a new set answers 0");
    let id = ts["id"].as_str().unwrap().to_owned();
    w.tick(99);
    assert_eq!(w.set(&id)["computedDesiredCount"], 0, "not yet recomputed");
    w.tick(1);
    assert_eq!(w.set(&id)["computedDesiredCount"], 1, "ceil(3 x 0.333) = 1");
    let svc = w.ok(
        "UpdateService",
        json!({"cluster": "c", "service": "s", "desiredCount": 10}),
    )["service"]
        .clone();
    assert_eq!(svc["desiredCount"], 10);
    assert_eq!(
        svc["taskSets"][0]["computedDesiredCount"], 1,
        "answered before the recompute"
    );
    w.tick(100);
    assert_eq!(
        w.set(&id)["computedDesiredCount"],
        4,
        "ceil(10 x 0.333) = 4"
    );
    let ts = w.ok("UpdateTaskSet", json!({"cluster": "c", "service": "s", "taskSet": id, "scale": {"value": 12.5, "unit": "PERCENT"}}));
    assert_eq!(
        ts["taskSet"]["computedDesiredCount"], 4,
        "the previous value"
    );
    assert_eq!(ts["taskSet"]["scale"]["value"], 12.5);
    w.tick(100);
    assert_eq!(w.set(&id)["computedDesiredCount"], 2, "ceil(1.25) = 2");
    w.ok(
        "UpdateService",
        json!({"cluster": "c", "service": "s", "desiredCount": 250}),
    );
    w.ok("UpdateTaskSet", json!({"cluster": "c", "service": "s", "taskSet": id, "scale": {"value": 64.4, "unit": "PERCENT"}}));
    w.tick(100);
    assert_eq!(
        w.set(&id)["computedDesiredCount"],
        161,
        "exact: 250 x 64.4% = 161"
    );
    assert_eq!(w.engine.check_invariants(), Vec::<String>::new());
}

#[test]
fn a_change_during_a_pending_recompute_moves_the_recompute() {
    let w = World::external_service(10);
    let id = w.create_set(50.0)["id"].as_str().unwrap().to_owned();
    w.tick(60);
    w.ok("UpdateTaskSet", json!({"cluster": "c", "service": "s", "taskSet": id, "scale": {"value": 20.0, "unit": "PERCENT"}}));
    w.tick(60);
    assert_eq!(
        w.set(&id)["computedDesiredCount"],
        0,
        "the first recompute was superseded"
    );
    w.tick(40);
    assert_eq!(
        w.set(&id)["computedDesiredCount"],
        2,
        "ceil(10 x 20%) with the scale of the last call"
    );
}

#[test]
fn tasks_go_pending_then_running_and_the_set_becomes_steady() {
    let w = World::external_service(4);
    let ts = w.create_set(50.0);
    let id = ts["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (ts["pendingCount"].clone(), ts["runningCount"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(ts["stabilityStatusAt"], ts["createdAt"]);
    w.tick(100);
    let ts = w.set(&id);
    assert_eq!(
        (
            ts["computedDesiredCount"].clone(),
            ts["pendingCount"].clone(),
            ts["runningCount"].clone()
        ),
        (json!(2), json!(2), json!(0)),
        "the recompute launches the tasks"
    );
    assert_eq!(ts["stabilityStatus"], "STABILIZING");
    assert_eq!(
        ts["stabilityStatusAt"],
        json!(T0 as i64),
        "the recompute does not move stabilityStatusAt"
    );
    w.tick(100);
    let ts = w.set(&id);
    assert_eq!(
        (
            ts["pendingCount"].clone(),
            ts["runningCount"].clone(),
            ts["stabilityStatus"].clone()
        ),
        (json!(0), json!(2), json!("STABILIZING")),
        "running, not yet steady"
    );
    w.tick(50);
    let ts = w.set(&id);
    assert_eq!(ts["stabilityStatus"], "STEADY_STATE");
    assert_eq!(ts["stabilityStatusAt"], json!(T0 + 0.25));
    assert_eq!(ts["updatedAt"], json!(T0 + 0.25));
    // Scaling down: the answer keeps the old count; the recompute stops the excess task.
    w.tick(1000);
    let ts = w.ok("UpdateTaskSet", json!({"cluster": "c", "service": "s", "taskSet": id, "scale": {"value": 25.0, "unit": "PERCENT"}}))["taskSet"].clone();
    assert_eq!(
        (
            ts["computedDesiredCount"].clone(),
            ts["runningCount"].clone(),
            ts["stabilityStatus"].clone()
        ),
        (json!(2), json!(2), json!("STABILIZING"))
    );
    assert_eq!(ts["stabilityStatusAt"], json!(T0 + 1.25));
    w.tick(100);
    let ts = w.set(&id);
    assert_eq!(
        (
            ts["computedDesiredCount"].clone(),
            ts["runningCount"].clone()
        ),
        (json!(1), json!(1))
    );
    w.tick(50);
    assert_eq!(w.set(&id)["stabilityStatus"], "STEADY_STATE");
}

#[test]
fn a_scale_zero_set_is_steady_once_recomputed() {
    let w = World::external_service(4);
    let ts = w.create_set(0.0);
    assert_eq!(
        ts["stabilityStatus"], "STABILIZING",
        "as AWS's create-task-set example answers"
    );
    let id = ts["id"].as_str().unwrap().to_owned();
    w.tick(150);
    let ts = w.set(&id);
    assert_eq!(ts["stabilityStatus"], "STEADY_STATE");
    assert_eq!(ts["stabilityStatusAt"], ts["updatedAt"]);
}

#[test]
fn instant_profile_answers_the_state_before_and_settles_by_the_next_request() {
    let clock = ManualClock::at_example_time();
    let engine = Emulator::builder()
        .profile(TimingProfile::Instant, 1.0)
        .clock(clock)
        .engine();
    let call = |op: &str, body: Value| {
        let target = format!("AmazonEC2ContainerServiceV20141113.{op}");
        serde_json::from_slice::<Value>(
            &engine
                .handle(Some(&target), None, &serde_json::to_vec(&body).unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    call("CreateCluster", json!({"clusterName": "c"}));
    call(
        "RegisterTaskDefinition",
        json!({"family": "web", "containerDefinitions": [{"name": "web", "image": "x", "memory": 128}]}),
    );
    call(
        "CreateService",
        json!({"cluster": "c", "serviceName": "s", "desiredCount": 2, "deploymentController": {"type": "EXTERNAL"}}),
    );
    let ts = call(
        "CreateTaskSet",
        json!({"cluster": "c", "service": "s", "taskDefinition": "web", "scale": {"value": 100.0, "unit": "PERCENT"}}),
    );
    assert_eq!(ts["taskSet"]["stabilityStatus"], "STABILIZING");
    assert_eq!(ts["taskSet"]["computedDesiredCount"], 0);
    let id = ts["taskSet"]["id"].clone();
    let ts = call(
        "DescribeTaskSets",
        json!({"cluster": "c", "service": "s", "taskSets": [id]}),
    );
    assert_eq!(ts["taskSets"][0]["stabilityStatus"], "STEADY_STATE");
    assert_eq!(ts["taskSets"][0]["runningCount"], 2);
    assert_eq!(engine.scheduled_events(), 0);
}

#[test]
fn ecs_services_roll_out_a_new_primary_deployment() {
    let w = World::new();
    w.ok("CreateCluster", json!({"clusterName": "c"}));
    for image in ["nginx:1", "nginx:2"] {
        w.ok("RegisterTaskDefinition", json!({"family": "web", "containerDefinitions": [{"name": "web", "image": image, "memory": 128, "portMappings": [{"containerPort": 80}]}]}));
    }
    let svc = w.ok(
        "CreateService",
        json!({"cluster": "c", "serviceName": "r", "taskDefinition": "web:1", "desiredCount": 2}),
    )["service"]
        .clone();
    assert_eq!(
        (svc["runningCount"].clone(), svc["pendingCount"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(svc["deployments"][0]["status"], "PRIMARY");
    assert_eq!(svc["deployments"][0]["rolloutState"], "IN_PROGRESS");
    w.tick(250);
    let describe = || {
        w.ok(
            "DescribeServices",
            json!({"cluster": "c", "services": ["r"]}),
        )["services"][0]
            .clone()
    };
    let svc = describe();
    assert_eq!(svc["runningCount"], 2);
    assert_eq!(svc["deployments"][0]["rolloutState"], "COMPLETED");
    let svc = w.ok(
        "UpdateService",
        json!({"cluster": "c", "service": "r", "taskDefinition": "web:2"}),
    )["service"]
        .clone();
    let deployments = svc["deployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 2, "{deployments:?}");
    assert_eq!(
        (
            deployments[0]["status"].clone(),
            deployments[0]["rolloutState"].clone(),
            deployments[0]["runningCount"].clone()
        ),
        (json!("PRIMARY"), json!("IN_PROGRESS"), json!(0))
    );
    assert_eq!(
        deployments[0]["taskDefinition"],
        "arn:aws:ecs:us-west-2:123456789012:task-definition/web:2"
    );
    assert_eq!(
        (
            deployments[1]["status"].clone(),
            deployments[1]["runningCount"].clone()
        ),
        (json!("ACTIVE"), json!(2))
    );
    w.tick(250);
    let svc = describe();
    let deployments = svc["deployments"].as_array().unwrap();
    assert_eq!(
        deployments.len(),
        1,
        "the old deployment is retired: {deployments:?}"
    );
    assert_eq!(deployments[0]["rolloutState"], "COMPLETED");
    assert_eq!(svc["runningCount"], 2);
}

#[test]
fn primary_switch_moves_status_and_the_service_takes_the_primary_parameters() {
    let w = World::external_service(2);
    let blue = w.create_set(100.0)["id"].as_str().unwrap().to_owned();
    let green = w
        .ok(
            "CreateTaskSet",
            json!({"cluster": "c", "service": "s", "taskDefinition": "web:2", "launchType": "FARGATE",
                   "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-g"], "assignPublicIp": "ENABLED"}},
                   "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/g/1", "containerName": "web", "containerPort": 80}],
                   "scale": {"value": 100.0, "unit": "PERCENT"}}),
        )["taskSet"]["taskSetArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let ts = w.ok(
        "UpdateServicePrimaryTaskSet",
        json!({"cluster": "c", "service": "s", "primaryTaskSet": blue}),
    )["taskSet"]
        .clone();
    assert_eq!(ts["status"], "PRIMARY");
    // By ARN this time.
    let ts = w.ok(
        "UpdateServicePrimaryTaskSet",
        json!({"cluster": "c", "service": "s", "primaryTaskSet": green}),
    )["taskSet"]
        .clone();
    assert_eq!(ts["status"], "PRIMARY");
    let sets = w.all();
    let status_of = |id: &str| {
        sets.as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of(&blue), "ACTIVE");
    let svc = w.ok(
        "DescribeServices",
        json!({"cluster": "c", "services": ["s"]}),
    )["services"][0]
        .clone();
    assert_eq!(
        svc["taskDefinition"],
        "arn:aws:ecs:us-west-2:123456789012:task-definition/web:2"
    );
    assert_eq!(svc["launchType"], "FARGATE");
    assert_eq!(
        svc["platformVersion"], "1.4.0",
        "the primary's resolved platform version"
    );
    assert_eq!(
        svc["networkConfiguration"]["awsvpcConfiguration"]["subnets"],
        json!(["subnet-g"])
    );
    assert_eq!(svc["loadBalancers"][0]["containerPort"], 80);
    assert_eq!(
        svc["deployments"],
        json!([]),
        "EXTERNAL services report no deployments"
    );
    assert_eq!(svc["taskSets"].as_array().unwrap().len(), 2);
}

#[test]
fn delete_needs_force_only_for_the_primary_drains_then_disappears() {
    let w = World::external_service(2);
    // A8, decided by the record: the PRIMARY set needs force, in AWS's words.
    let primary = w.create_set(100.0)["id"].as_str().unwrap().to_owned();
    w.ok(
        "UpdateServicePrimaryTaskSet",
        json!({"cluster": "c", "service": "s", "primaryTaskSet": primary}),
    );
    let e = w.err(
        "DeleteTaskSet",
        json!({"cluster": "c", "service": "s", "taskSet": primary}),
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            "InvalidParameterException",
            "Primary TaskSet cannot be deleted"
        )
    );
    // Any other set goes at any scale, without force.
    let id = w.create_set(50.0)["id"].as_str().unwrap().to_owned();
    let ts = w.ok(
        "DeleteTaskSet",
        json!({"cluster": "c", "service": "s", "taskSet": id}),
    )["taskSet"]
        .clone();
    assert_eq!(ts["status"], "DRAINING");
    assert_eq!(ts["stabilityStatus"], "STABILIZING");
    assert_eq!(w.describe(&[&id])["taskSets"][0]["status"], "DRAINING");
    let e = w.err("UpdateTaskSet", json!({"cluster": "c", "service": "s", "taskSet": id, "scale": {"value": 10.0, "unit": "PERCENT"}}));
    assert_eq!(e.code, "InvalidParameterException");
    w.tick(100);
    let answer = w.describe(&[&id]);
    assert_eq!(answer["taskSets"], json!([]));
    assert_eq!(
        answer["failures"],
        json!([{"arn": id, "reason": "MISSING", "detail": "No task set with this id or ARN in the service."}])
    );
    let e = w.err(
        "DeleteTaskSet",
        json!({"cluster": "c", "service": "s", "taskSet": id}),
    );
    assert_eq!(e.code, "TaskSetNotFoundException");
    // force deletes the primary too.
    let ts = w.ok(
        "DeleteTaskSet",
        json!({"cluster": "c", "service": "s", "taskSet": primary, "force": true}),
    )["taskSet"]
        .clone();
    assert_eq!(ts["status"], "DRAINING");
}

#[test]
fn describe_task_sets_lists_all_reports_failures_and_tags_only_on_request() {
    let w = World::external_service(1);
    let a = w
        .ok("CreateTaskSet", json!({"cluster": "c", "service": "s", "taskDefinition": "web:1", "tags": [{"key": "color", "value": "blue"}]}))["taskSet"]
        .clone();
    assert_eq!(a["tags"], json!([{"key": "color", "value": "blue"}]));
    let b = w.create_set(0.0)["id"].as_str().unwrap().to_owned();
    for body in [
        json!({"cluster": "c", "service": "s"}),
        json!({"cluster": "c", "service": "s", "taskSets": []}),
    ] {
        let e = w.err("DescribeTaskSets", body);
        assert_eq!(
            (e.code, e.message.as_str()),
            ("InvalidParameterException", "TaskSets cannot be empty.")
        );
    }
    let both = w.describe(&[a["id"].as_str().unwrap(), &b]);
    assert_eq!(both["taskSets"].as_array().unwrap().len(), 2);
    assert_eq!(both["failures"], json!([]));
    assert!(both["taskSets"][0].get("tags").is_none());
    let tagged = w.ok(
        "DescribeTaskSets",
        json!({"cluster": "c", "service": "s", "taskSets": [a["taskSetArn"]], "include": ["TAGS"]}),
    );
    assert_eq!(
        tagged["taskSets"][0]["tags"],
        json!([{"key": "color", "value": "blue"}])
    );
    let missing = w.describe(&["ecs-svc/999", a["id"].as_str().unwrap()]);
    assert_eq!(missing["taskSets"].as_array().unwrap().len(), 1);
    assert_eq!(missing["failures"][0]["arn"], "ecs-svc/999");
    assert_eq!(missing["failures"][0]["reason"], "MISSING");
}

#[test]
fn task_sets_need_an_active_external_service() {
    let w = World::external_service(1);
    w.ok("CreateService", json!({"cluster": "c", "serviceName": "rolling", "taskDefinition": "web", "desiredCount": 1}));
    for (op, extra) in [
        ("CreateTaskSet", json!({"taskDefinition": "web:1"})),
        ("DescribeTaskSets", json!({})),
    ] {
        let mut body = json!({"cluster": "c", "service": "rolling"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        assert_eq!(w.err(op, body).code, "InvalidParameterException", "{op}");
    }
    assert_eq!(
        w.err(
            "DescribeTaskSets",
            json!({"cluster": "c", "service": "nope", "taskSets": ["ecs-svc/1"]})
        )
        .code,
        "ServiceNotFoundException"
    );
    assert_eq!(
        w.err(
            "DescribeTaskSets",
            json!({"cluster": "nope", "service": "s", "taskSets": ["ecs-svc/1"]})
        )
        .code,
        "ClusterNotFoundException"
    );
    w.ok(
        "DeleteService",
        json!({"cluster": "c", "service": "s", "force": true}),
    );
    assert_eq!(
        w.err(
            "CreateTaskSet",
            json!({"cluster": "c", "service": "s", "taskDefinition": "web:1"})
        )
        .code,
        "ServiceNotActiveException"
    );
    w.tick(100);
    let svc = w.ok(
        "DescribeServices",
        json!({"cluster": "c", "services": ["s"]}),
    )["services"][0]
        .clone();
    assert_eq!(svc["status"], "INACTIVE");
}

#[test]
fn update_service_on_external_services_is_restricted() {
    let w = World::external_service(1);
    for (member, value) in [
        ("taskDefinition", json!("web:2")),
        (
            "networkConfiguration",
            json!({"awsvpcConfiguration": {"subnets": ["s"]}}),
        ),
        ("platformVersion", json!("1.4.0")),
        ("loadBalancers", json!([])),
        (
            "capacityProviderStrategy",
            json!([{"capacityProvider": "FARGATE"}]),
        ),
        ("serviceRegistries", json!([])),
        (
            "deploymentConfiguration",
            json!({"maximumPercent": 150, "minimumHealthyPercent": 50}),
        ),
        ("enableExecuteCommand", json!(true)),
    ] {
        let e = w.err(
            "UpdateService",
            json!({"cluster": "c", "service": "s", member: value}),
        );
        assert_eq!(e.code, "InvalidParameterException", "{member}");
    }
    // A grace period needs a load balancer; an EXTERNAL service has one through a task set.
    let e = w.err(
        "UpdateService",
        json!({"cluster": "c", "service": "s", "healthCheckGracePeriodSeconds": 30}),
    );
    assert!(e
        .message
        .contains("only valid for services configured to use load balancers"));
    w.ok(
        "CreateTaskSet",
        json!({"cluster": "c", "service": "s", "taskDefinition": "web:1",
               "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/blue/0123456789abcdef", "containerName": "web", "containerPort": 80}]}),
    );
    // What an EXTERNAL service may change, in the older (R page) request shape.
    let svc = w.ok(
        "UpdateService",
        json!({"cluster": "c", "service": "s", "desiredCount": 3, "healthCheckGracePeriodSeconds": 30,
               "placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}]}),
    )["service"]
        .clone();
    assert_eq!(svc["desiredCount"], 3);
    assert_eq!(svc["healthCheckGracePeriodSeconds"], 30);
}

#[test]
fn update_service_on_code_deploy_services_is_restricted() {
    let w = World::external_service(1);
    w.ok(
        "CreateService",
        json!({"cluster": "c", "serviceName": "bg", "taskDefinition": "web:1", "desiredCount": 1,
               "deploymentController": {"type": "CODE_DEPLOY"},
               "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/blue/0123456789abcdef", "containerName": "web", "containerPort": 80}]}),
    );
    let e = w.err(
        "UpdateService",
        json!({"cluster": "c", "service": "bg", "taskDefinition": "web:2"}),
    );
    assert_eq!(e.code, "InvalidParameterException");
    assert!(e.message.starts_with(
        "Unable to update task definition on services with a CODE_DEPLOY deployment controller."
    ));
    let e = w.err(
        "UpdateService",
        json!({"cluster": "c", "service": "bg", "platformVersion": "1.4.0"}),
    );
    assert_eq!(e.code, "InvalidParameterException");
    let svc = w.ok(
        "UpdateService",
        json!({"cluster": "c", "service": "bg", "desiredCount": 2, "healthCheckGracePeriodSeconds": 60,
               "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 50}}),
    )["service"]
        .clone();
    assert_eq!(svc["desiredCount"], 2);
    assert_eq!(svc["deploymentConfiguration"]["minimumHealthyPercent"], 50);
}

#[test]
fn client_tokens_make_creation_idempotent() {
    let w = World::external_service(1);
    let body =
        json!({"cluster": "c", "service": "s", "taskDefinition": "web:1", "clientToken": "tok-1"});
    let first = w.ok("CreateTaskSet", body.clone());
    let again = w.ok("CreateTaskSet", body);
    assert_eq!(first["taskSet"]["id"], again["taskSet"]["id"]);
    assert_eq!(w.all().as_array().unwrap().len(), 1);
    let e = w.err(
        "CreateTaskSet",
        json!({"cluster": "c", "service": "s", "taskDefinition": "web:2", "clientToken": "tok-1"}),
    );
    assert_eq!(e.code, "InvalidParameterException");
    let svc = json!({"cluster": "c", "serviceName": "t", "deploymentController": {"type": "EXTERNAL"}, "clientToken": "svc-tok"});
    assert_eq!(
        w.ok("CreateService", svc.clone())["service"]["serviceArn"],
        w.ok("CreateService", svc)["service"]["serviceArn"]
    );
}

#[test]
fn a_service_holds_at_most_five_task_sets() {
    let w = World::external_service(1);
    for _ in 0..5 {
        w.create_set(0.0);
    }
    let e = w.err(
        "CreateTaskSet",
        json!({"cluster": "c", "service": "s", "taskDefinition": "web:1"}),
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        ("InvalidParameterException", "5 deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit."),
        "AWS's answer, as public reports show it"
    );
}

#[test]
fn invalid_requests_are_rejected_with_every_violation() {
    let w = World::external_service(1);
    let e = w.err(
        "CreateTaskSet",
        json!({"cluster": "c", "service": "s", "taskDefinition": "web:1", "scale": {"value": 150.0, "unit": "PERCENT"},
               "subnets_are_not_here": 1, "networkConfiguration": {"awsvpcConfiguration": {"subnets": (0..17).map(|i| format!("subnet-{i}")).collect::<Vec<_>>()}}}),
    );
    assert_eq!(e.code, "InvalidParameterException");
    assert!(
        e.message.contains("scale.value") && e.message.contains("subnets"),
        "{}",
        e.message
    );
    // Where AWS's words are recorded, they are the answer (A1, A41); an empty strategy with a
    // launch type is no conflict.
    let e = w.err(
        "CreateTaskSet",
        json!({"cluster": "c", "service": "s", "taskDefinition": "web:1",
               "launchType": "FARGATE", "capacityProviderStrategy": [{"capacityProvider": "FARGATE"}]}),
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        ("InvalidParameterException", "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
    );
    w.ok(
        "CreateTaskSet",
        json!({"cluster": "c", "service": "s", "taskDefinition": "web:1", "launchType": "EC2", "capacityProviderStrategy": []}),
    );
    let e = w.err("CreateTaskSet", json!({"cluster": "c", "service": "s"}));
    assert!(e.message.contains("taskDefinition"), "{}", e.message);
    let e = w.err(
        "CreateTaskSet",
        json!({"cluster": 5, "service": "s", "taskDefinition": "web:1"}),
    );
    assert_eq!((e.code, e.status), ("SerializationException", 400));
    assert!(e.message.starts_with("cluster"), "{}", e.message);
    let e = w.err(
        "CreateTaskSet",
        json!({"cluster": "c", "service": "s", "taskDefinition": "nope:1"}),
    );
    assert_eq!(e.code, "ClientException");
}

#[test]
fn clusters_task_definitions_services_and_tags() {
    let w = World::external_service(1);
    let c = w.ok(
        "DescribeClusters",
        json!({"clusters": ["c", "arn:aws:ecs:us-west-2:123456789012:cluster/zz"]}),
    );
    assert_eq!(c["clusters"][0]["activeServicesCount"], 1);
    assert_eq!(c["failures"][0]["reason"], "MISSING");
    assert_eq!(
        w.err("DeleteCluster", json!({"cluster": "c"})).code,
        "ClusterContainsServicesException"
    );
    let td =
        w.ok("DescribeTaskDefinition", json!({"taskDefinition": "web"}))["taskDefinition"].clone();
    assert_eq!(td["revision"], 2);
    assert_eq!(td["status"], "ACTIVE");
    let td = w.ok(
        "DeregisterTaskDefinition",
        json!({"taskDefinition": "web:2"}),
    )["taskDefinition"]
        .clone();
    assert_eq!(td["status"], "INACTIVE");
    assert_eq!(
        w.ok("DescribeTaskDefinition", json!({"taskDefinition": "web"}))["taskDefinition"]
            ["revision"],
        1
    );
    let arn = w.create_set(0.0)["taskSetArn"].as_str().unwrap().to_owned();
    w.ok("TagResource", json!({"resourceArn": arn, "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]}));
    w.ok(
        "UntagResource",
        json!({"resourceArn": arn, "tagKeys": ["a"]}),
    );
    assert_eq!(
        w.ok("ListTagsForResource", json!({"resourceArn": arn}))["tags"],
        json!([{"key": "b", "value": "2"}])
    );
    let e = w.err("TagResource", json!({"resourceArn": "arn:aws:ecs:us-west-2:123456789012:service/c/none", "tags": [{"key": "a"}]}));
    assert_eq!(e.code, "ResourceNotFoundException");
    let list = w.ok("ListServices", json!({"cluster": "c", "maxResults": 1}));
    assert_eq!(
        list["serviceArns"],
        json!(["arn:aws:ecs:us-west-2:123456789012:service/c/s"])
    );
    assert!(list.get("nextToken").is_none());
    w.ok(
        "UpdateService",
        json!({"cluster": "c", "service": "s", "desiredCount": 0}),
    );
    w.ok("DeleteService", json!({"cluster": "c", "service": "s"}));
    w.tick(100);
    let c = w.ok("DeleteCluster", json!({"cluster": "c"}));
    assert_eq!(c["cluster"]["status"], "INACTIVE");
}

#[test]
fn protocol_errors_are_aws_shaped() {
    let w = World::new();
    let e = w.engine.handle(None, None, b"{}").unwrap_err();
    assert_eq!(e.code, "UnknownOperationException");
    let e = w
        .engine
        .handle(
            Some("AmazonEC2ContainerServiceV20141113.StartTask"),
            None,
            b"{}",
        )
        .unwrap_err();
    assert_eq!(e.code, "UnknownOperationException");
    assert!(e.message.contains("not implemented"));
    let e = w
        .engine
        .handle(Some("DynamoDB_20120810.GetItem"), None, b"{}")
        .unwrap_err();
    assert_eq!(e.code, "UnknownOperationException");
    for body in [&b"{not json"[..], b"[1,2]", b"\"x\"", b"\xff\xfe"] {
        let e = w
            .engine
            .handle(
                Some("AmazonEC2ContainerServiceV20141113.DescribeClusters"),
                None,
                body,
            )
            .unwrap_err();
        assert_eq!(e.code, "SerializationException", "{body:?}");
    }
    // An empty body is an empty request.
    assert!(w
        .engine
        .handle(
            Some("AmazonEC2ContainerServiceV20141113.DescribeClusters"),
            None,
            b""
        )
        .is_ok());
}

#[test]
fn regions_are_separate() {
    let w = World::new();
    let target = "AmazonEC2ContainerServiceV20141113.CreateCluster";
    let a: Value = serde_json::from_slice(
        &w.engine
            .handle(Some(target), Some("eu-west-1"), br#"{"clusterName":"x"}"#)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        a["cluster"]["clusterArn"],
        "arn:aws:ecs:eu-west-1:123456789012:cluster/x"
    );
    let d: Value = serde_json::from_slice(
        &w.engine
            .handle(
                Some("AmazonEC2ContainerServiceV20141113.DescribeClusters"),
                Some("ap-south-1"),
                br#"{"clusters":["x"]}"#,
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(d["failures"][0]["reason"], "MISSING");
}

/// A26-A29: what CreateTaskSet refuses in a set's load balancers, registries, platform version
/// and strategy, each with InvalidParameterException naming the problem.
#[test]
fn create_task_set_refuses_what_the_task_definition_and_the_pages_rule_out() {
    let w = World::new();
    w.ok("CreateCluster", json!({"clusterName": "c"}));
    w.ok("RegisterTaskDefinition", json!({"family": "web", "containerDefinitions": [{"name": "web", "image": "x", "memory": 128, "portMappings": [{"containerPort": 80}]}]}));
    w.ok("CreateService", json!({"cluster": "c", "serviceName": "s", "desiredCount": 1, "deploymentController": {"type": "EXTERNAL"}}));
    let tg = "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/g/1";
    let sd = "arn:aws:servicediscovery:us-west-2:123456789012:service/srv-1";
    let base = json!({"cluster": "c", "service": "s", "taskDefinition": "web"});
    for (extra, words) in [
        (
            json!({"loadBalancers": [{"targetGroupArn": tg, "containerName": "web", "containerPort": 80}, {"targetGroupArn": tg, "containerName": "web", "containerPort": 80}]}),
            "multiple target groups",
        ),
        (
            json!({"loadBalancers": [{"targetGroupArn": tg, "containerName": "api", "containerPort": 80}]}),
            "container api does not exist",
        ),
        (
            json!({"loadBalancers": [{"targetGroupArn": tg, "containerName": "web", "containerPort": 81}]}),
            "did not have a container port 81",
        ),
        (
            json!({"loadBalancers": [{"targetGroupArn": tg, "containerPort": 80}]}),
            "containerName is required",
        ),
        (
            json!({"serviceRegistries": [{"registryArn": sd, "containerName": "web", "containerPort": 80}, {"registryArn": sd, "containerName": "web", "containerPort": 80}]}),
            "Multiple service registries",
        ),
        (
            json!({"serviceRegistries": [{"registryArn": sd, "port": 80}]}),
            "bridge or host network mode",
        ),
        (
            json!({"launchType": "EC2", "platformVersion": "1.4.0"}),
            "platform version must be null",
        ),
        (
            json!({"capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 0}, {"capacityProvider": "FARGATE_SPOT"}]}),
            "weight greater than 0",
        ),
    ] {
        let mut req = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            req[k] = v.clone();
        }
        let e = w.err("CreateTaskSet", req);
        assert_eq!(e.code, "InvalidParameterException", "{extra}");
        assert!(e.message.contains(words), "{extra}: {}", e.message);
    }
    // The same members, well formed, are accepted.
    let mut ok = base.clone();
    ok["loadBalancers"] =
        json!([{"targetGroupArn": tg, "containerName": "web", "containerPort": 80}]);
    ok["serviceRegistries"] =
        json!([{"registryArn": sd, "containerName": "web", "containerPort": 80}]);
    w.ok("CreateTaskSet", ok);
}
