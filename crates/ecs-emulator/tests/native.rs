//! ECS's own deployment strategies in the emulator: BLUE_GREEN, LINEAR and CANARY move the
//! weights of the listener rules in the ELBv2 emulation stage by stage, bake, run lifecycle
//! hooks (Lambda answers and PAUSE hooks), and roll back on a failed hook, a timeout, an
//! alarm or StopServiceDeployment; the service-deployment API shows every step. Refusals are
//! in AWS's words where the record has them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ecs_emulator::{
    AlarmState, ApiError, Emulator, Engine, HookBehaviour, HookReply, ManualClock, SequentialIds,
    Timing,
};
use ecs_model::elbv2::operations::*;
use ecs_model::elbv2::types::*;
use serde_json::{json, Value};

/// One AWS second of bakes and hooks is 1 ms (a minute is 60 ms); ECS stages take 100 ms.
fn timing() -> Timing {
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

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:hook";
const ROLE: &str = "arn:aws:iam::123456789012:role/ecs-infrastructure";

struct World {
    engine: Engine,
    clock: ManualClock,
    blue: String,
    green: String,
    production: String,
    test: String,
}

impl World {
    fn new() -> World {
        World::with_timing(timing())
    }

    /// An ALB with a production listener (80) and a test listener (8080), each forwarding
    /// 100/0 to the target groups `blue` and `green`; cluster `c` and an awsvpc task
    /// definition `web` (revisions 1 to 3).
    fn with_timing(timing: Timing) -> World {
        let clock = ManualClock::at_example_time();
        let engine = Emulator::builder()
            .timing(timing)
            .clock(clock.clone())
            .ids(SequentialIds::default())
            .engine();
        let elb = |engine: &Engine| {
            let lb = engine
                .call_elbv2::<CreateLoadBalancer>(
                    &CreateLoadBalancerInput::builder()
                        .name("web")
                        .set_subnets(Some(vec!["subnet-1".into(), "subnet-2".into()]))
                        .build(),
                )
                .unwrap();
            lb.load_balancers.unwrap()[0]
                .load_balancer_arn
                .clone()
                .unwrap()
        };
        let lb = elb(&engine);
        let group = |name: &str| {
            engine
                .call_elbv2::<CreateTargetGroup>(
                    &CreateTargetGroupInput::builder()
                        .name(name)
                        .protocol("HTTP")
                        .port(80)
                        .vpc_id("vpc-1")
                        .target_type("ip")
                        .build(),
                )
                .unwrap()
                .target_groups
                .unwrap()[0]
                .target_group_arn
                .clone()
                .unwrap()
        };
        let (blue, green) = (group("blue"), group("green"));
        let listener_rule = |port: i32| {
            let listener = engine
                .call_elbv2::<CreateListener>(
                    &CreateListenerInput::builder()
                        .load_balancer_arn(lb.clone())
                        .protocol("HTTP")
                        .port(port)
                        .set_default_actions(Some(vec![Action::forward_weighted([
                            (&blue, 100),
                            (&green, 0),
                        ])]))
                        .build(),
                )
                .unwrap()
                .listeners
                .unwrap()[0]
                .listener_arn
                .clone()
                .unwrap();
            engine
                .call_elbv2::<DescribeRules>(
                    &DescribeRulesInput::builder().listener_arn(listener).build(),
                )
                .unwrap()
                .rules
                .unwrap()[0]
                .rule_arn
                .clone()
                .unwrap()
        };
        let (production, test) = (listener_rule(80), listener_rule(8080));
        let w = World {
            engine,
            clock,
            blue,
            green,
            production,
            test,
        };
        w.ecs("CreateCluster", json!({"clusterName": "c"})).unwrap();
        for image in ["nginx:1", "nginx:2", "nginx:3"] {
            w.ecs("RegisterTaskDefinition", json!({"family": "web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512", "containerDefinitions": [{"name": "web", "image": image, "portMappings": [{"containerPort": 80}]}]})).unwrap();
        }
        w
    }

    fn ecs(&self, op: &str, body: Value) -> Result<Value, ApiError> {
        let target = format!("AmazonEC2ContainerServiceV20141113.{op}");
        self.engine
            .handle(Some(&target), None, &serde_json::to_vec(&body).unwrap())
            .map(|b| serde_json::from_slice(&b).unwrap())
    }

    fn tick(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }

    fn balancers(&self) -> Value {
        json!([{"targetGroupArn": self.blue, "containerName": "web", "containerPort": 80,
            "advancedConfiguration": {"alternateTargetGroupArn": self.green,
                "productionListenerRule": self.production, "testListenerRule": self.test, "roleArn": ROLE}}])
    }

    /// Service `s` of `n` tasks with `config` as its deployment configuration, its first
    /// deployment done. Answers the first deployment's ARN.
    fn service(&self, n: i32, config: Value) -> String {
        let created = self
            .ecs("CreateService", json!({"cluster": "c", "serviceName": "s", "taskDefinition": "web:1", "desiredCount": n, "launchType": "FARGATE",
                "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
                "loadBalancers": self.balancers(), "deploymentConfiguration": config}))
            .unwrap();
        let arn = created["service"]["currentServiceDeployment"]
            .as_str()
            .unwrap()
            .to_owned();
        self.until(&arn, "SUCCESSFUL", 20_000);
        arn
    }

    /// UpdateService to `web:<revision>`: answers the new service deployment's ARN.
    fn deploy(&self, revision: u32) -> String {
        let answer = self
            .ecs(
                "UpdateService",
                json!({"cluster": "c", "service": "s", "taskDefinition": format!("web:{revision}")}),
            )
            .unwrap();
        answer["service"]["currentServiceDeployment"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn deployment(&self, arn: &str) -> Value {
        let d = self
            .ecs(
                "DescribeServiceDeployments",
                json!({"serviceDeploymentArns": [arn]}),
            )
            .unwrap();
        d["serviceDeployments"][0].clone()
    }

    /// Ticks 2 ms at a time until the deployment's status is `status`; answers the stages
    /// seen on the way, each once, in order (a stage lasts at least 5 AWS seconds, 5 ms).
    fn until(&self, arn: &str, status: &str, max_ms: u64) -> Vec<String> {
        let mut stages: Vec<String> = vec![];
        for _ in 0..max_ms / 2 {
            let d = self.deployment(arn);
            if let Some(s) = d["lifecycleStage"].as_str() {
                if stages.last().map(String::as_str) != Some(s) {
                    stages.push(s.to_owned());
                }
            }
            if d["status"] == status {
                return stages;
            }
            self.tick(2);
        }
        panic!("{arn} never reached {status}: {:#}", self.deployment(arn));
    }

    /// Ticks until a hook of the deployment waits for action; answers its id.
    fn awaiting(&self, arn: &str, max_ms: u64) -> String {
        for _ in 0..max_ms / 10 {
            let d = self.deployment(arn);
            if let Some(h) = d["lifecycleHookDetails"]
                .as_array()
                .and_then(|hooks| hooks.iter().find(|h| h["status"] == "AWAITING_ACTION"))
            {
                return h["hookId"].as_str().unwrap().to_owned();
            }
            self.tick(10);
        }
        panic!("no hook awaits action: {:#}", self.deployment(arn));
    }

    /// (blue, green) weights of a rule.
    fn weights(&self, rule: &str) -> (i32, i32) {
        let rules = self
            .engine
            .call_elbv2::<DescribeRules>(
                &DescribeRulesInput::builder()
                    .set_rule_arns(Some(vec![rule.to_owned()]))
                    .build(),
            )
            .unwrap()
            .rules
            .unwrap();
        let groups = rules[0].actions.as_ref().unwrap()[0]
            .forward_config
            .as_ref()
            .unwrap()
            .target_groups
            .clone()
            .unwrap();
        let of = |g: &str| {
            groups
                .iter()
                .find(|t| t.target_group_arn.as_deref() == Some(g))
                .and_then(|t| t.weight)
                .unwrap_or(0)
        };
        (of(&self.blue), of(&self.green))
    }

    fn registered(&self, group: &str) -> usize {
        self.engine
            .call_elbv2::<DescribeTargetHealth>(
                &DescribeTargetHealthInput::builder()
                    .target_group_arn(group)
                    .build(),
            )
            .unwrap()
            .target_health_descriptions
            .unwrap_or_default()
            .iter()
            .filter(|d| {
                d.target_health.as_ref().and_then(|h| h.state.as_deref()) != Some("draining")
            })
            .count()
    }

    /// Tasks not STOPPED whose task definition ends with `suffix`.
    fn running_of(&self, suffix: &str) -> usize {
        let listed = self
            .ecs(
                "ListTasks",
                json!({"cluster": "c", "desiredStatus": "RUNNING"}),
            )
            .unwrap();
        let arns = listed["taskArns"].as_array().cloned().unwrap_or_default();
        if arns.is_empty() {
            return 0;
        }
        let tasks = self
            .ecs("DescribeTasks", json!({"cluster": "c", "tasks": arns}))
            .unwrap();
        tasks["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["taskDefinitionArn"].as_str().unwrap().ends_with(suffix))
            .filter(|t| t["lastStatus"] != "STOPPED")
            .count()
    }

    /// Ticks until the deployment is at `stage`.
    fn at_stage(&self, arn: &str, stage: &str) {
        for _ in 0..5_000 {
            if self.deployment(arn)["lifecycleStage"] == stage {
                return;
            }
            self.tick(1);
        }
        panic!("{arn} never at {stage}: {:#}", self.deployment(arn));
    }

    fn service_answer(&self) -> Value {
        self.ecs(
            "DescribeServices",
            json!({"cluster": "c", "services": ["s"]}),
        )
        .unwrap()["services"][0]
            .clone()
    }
}

fn code(e: &ApiError) -> String {
    serde_json::from_slice::<Value>(&e.body()).unwrap()["__type"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn message(e: &ApiError) -> String {
    serde_json::from_slice::<Value>(&e.body()).unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn blue_green_goes_through_every_documented_stage_and_swaps_the_groups() {
    let w = World::new();
    let first = w.service(2, json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}));
    // The first deployment has no blue: its tasks go to the group without production traffic,
    // which then takes it all.
    assert_eq!(w.weights(&w.production), (0, 100));
    assert_eq!(w.weights(&w.test), (0, 100));
    assert_eq!(w.registered(&w.green), 2);
    assert_eq!(w.deployment(&first)["lifecycleStage"], "CLEAN_UP");

    let second = w.deploy(2);
    let d = w.deployment(&second);
    assert_eq!(d["status"], "PENDING");
    assert_eq!(d["deploymentConfiguration"]["strategy"], "BLUE_GREEN");
    let stages = w.until(&second, "SUCCESSFUL", 20_000);
    assert_eq!(
        stages,
        [
            "PRE_SCALE_UP",
            "SCALE_UP",
            "POST_SCALE_UP",
            "TEST_TRAFFIC_SHIFT",
            "POST_TEST_TRAFFIC_SHIFT",
            "PRE_PRODUCTION_TRAFFIC_SHIFT",
            "PRODUCTION_TRAFFIC_SHIFT",
            "POST_PRODUCTION_TRAFFIC_SHIFT",
            "BAKE_TIME",
            "CLEAN_UP",
        ]
    );
    // Green of the second deployment is the first one's blue group.
    assert_eq!(w.weights(&w.production), (100, 0));
    assert_eq!(w.weights(&w.test), (100, 0));
    let d = w.deployment(&second);
    assert_eq!(
        d["targetServiceRevision"]["requestedProductionTrafficWeight"],
        100.0
    );
    assert_eq!(
        d["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"],
        0.0
    );
    assert_eq!(d["targetServiceRevision"]["runningTaskCount"], 2);
    w.tick(1_000); // blue's targets drain (300 AWS seconds), then its tasks stop
    assert_eq!(w.registered(&w.blue), 2);
    assert_eq!(
        w.registered(&w.green),
        0,
        "blue's tasks left the other group"
    );
    let svc = w.service_answer();
    assert_eq!(svc["deployments"].as_array().unwrap().len(), 1);
    assert_eq!(svc["runningCount"], 2);
    assert_eq!(
        svc["taskDefinition"].as_str().unwrap().rsplit(':').next(),
        Some("2")
    );
}

#[test]
fn blue_green_keeps_blue_running_through_the_bake() {
    let w = World::new();
    w.service(2, json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5}));
    let second = w.deploy(2);
    w.until(&second, "IN_PROGRESS", 1_000);
    for _ in 0..2_000 {
        if w.deployment(&second)["lifecycleStage"] == "BAKE_TIME" {
            break;
        }
        w.tick(10);
    }
    let svc = w.service_answer();
    // Both revisions run, each its full count: the service is not at its desired count alone.
    assert_eq!(svc["runningCount"], 4, "{svc:#}");
    let deployments = svc["deployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 2);
    assert_eq!(deployments[0]["status"], "PRIMARY");
    assert_eq!(deployments[0]["rolloutState"], "IN_PROGRESS");
    assert_eq!(w.deployment(&second)["status"], "IN_PROGRESS");
    // The bake is five minutes: 300 ms here.
    w.tick(250);
    assert_eq!(w.deployment(&second)["status"], "IN_PROGRESS");
    w.until(&second, "SUCCESSFUL", 200);
}

#[test]
fn linear_shifts_production_step_by_step_with_a_bake_between_steps() {
    let w = World::new();
    let config = json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 1}});
    w.service(8, config);
    // After the first deployment production is on green; the second moves it back to blue.
    let second = w.deploy(2);
    let mut seen: Vec<(i32, i32)> = vec![];
    for _ in 0..3_000 {
        let weights = w.weights(&w.production);
        if seen.last() != Some(&weights) {
            seen.push(weights);
        }
        if w.deployment(&second)["status"] == "SUCCESSFUL" {
            break;
        }
        w.tick(5);
    }
    assert_eq!(seen, [(0, 100), (25, 75), (50, 50), (75, 25), (100, 0)]);
    let d = w.deployment(&second);
    assert_eq!(
        d["deploymentConfiguration"]["linearConfiguration"]["stepPercent"],
        25.0
    );
}

#[test]
fn a_linear_step_bake_is_taken_between_steps() {
    let w = World::new();
    let config = json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 2}});
    w.service(1, config);
    let second = w.deploy(2);
    for _ in 0..2_000 {
        if w.weights(&w.production) == (50, 50) {
            break;
        }
        w.tick(1);
    }
    assert_eq!(w.weights(&w.production), (50, 50));
    let d = w.deployment(&second);
    assert_eq!(d["lifecycleStage"], "PRODUCTION_TRAFFIC_SHIFT");
    assert_eq!(
        d["targetServiceRevision"]["requestedProductionTrafficWeight"],
        50.0
    );
    // The shift stage (5 ms), two minutes of bake (120 ms), the next PRE_PRODUCTION stage
    // (5 ms), then the shift.
    w.tick(120);
    assert_eq!(w.weights(&w.production), (50, 50), "still baking");
    w.tick(12);
    assert_eq!(w.weights(&w.production), (100, 0));
}

#[test]
fn canary_with_a_pause_hook_waits_for_continue_then_succeeds() {
    let w = World::new();
    let config = json!({"strategy": "CANARY",
        "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 0},
        "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"]}]});
    // The first deployment pauses too: continue it.
    let created = w
        .ecs("CreateService", json!({"cluster": "c", "serviceName": "s", "taskDefinition": "web:1", "desiredCount": 2, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
            "loadBalancers": w.balancers(), "deploymentConfiguration": config}))
        .unwrap();
    let first = created["service"]["currentServiceDeployment"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..2 {
        let hook = w.awaiting(&first, 5_000);
        w.ecs(
            "ContinueServiceDeployment",
            json!({"serviceDeploymentArn": first, "hookId": hook}),
        )
        .unwrap();
    }
    w.until(&first, "SUCCESSFUL", 5_000);

    let second = w.deploy(2);
    let hook = w.awaiting(&second, 5_000);
    assert!(hook.starts_with("ecs-pause-"), "{hook}");
    let d = w.deployment(&second);
    assert_eq!(d["lifecycleStage"], "PRE_PRODUCTION_TRAFFIC_SHIFT");
    assert_eq!(d["lifecycleHookDetails"][0]["targetType"], "PAUSE");
    assert_eq!(d["lifecycleHookDetails"][0]["timeoutAction"], "ROLLBACK");
    assert!(d["lifecycleHookDetails"][0].get("targetArn").is_none());
    assert_eq!(w.weights(&w.production), (0, 100), "nothing shifted yet");
    assert_eq!(w.weights(&w.test), (100, 0), "test traffic is on green");
    // It waits as long as nobody continues.
    w.tick(500);
    assert_eq!(w.deployment(&second)["status"], "IN_PROGRESS");
    w.ecs(
        "ContinueServiceDeployment",
        json!({"serviceDeploymentArn": second, "hookId": hook}),
    )
    .unwrap();
    assert_eq!(w.weights(&w.production), (10, 90), "the canary share");
    // Before the second step the hook waits again, with a new id.
    let again = w.awaiting(&second, 5_000);
    assert_ne!(again, hook);
    // The first id is spent.
    let spent = w
        .ecs(
            "ContinueServiceDeployment",
            json!({"serviceDeploymentArn": second, "hookId": hook}),
        )
        .unwrap_err();
    assert_eq!(
        message(&spent),
        "Provided hookId is either completed, unavailable, or not associated with the given Resource ARN"
    );
    w.ecs(
        "ContinueServiceDeployment",
        json!({"serviceDeploymentArn": second, "hookId": again, "action": "CONTINUE"}),
    )
    .unwrap();
    w.until(&second, "SUCCESSFUL", 5_000);
    assert_eq!(w.weights(&w.production), (100, 0));
    let late = w
        .ecs(
            "ContinueServiceDeployment",
            json!({"serviceDeploymentArn": second, "hookId": again}),
        )
        .unwrap_err();
    assert_eq!(
        message(&late),
        "Continuing a service deployment is not allowed for service deployment in terminal states."
    );
}

#[test]
fn canary_rolled_back_from_a_pause_hook_puts_the_weights_back_on_blue() {
    let w = World::new();
    w.service(2, json!({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 1}}));
    w.ecs("UpdateService", json!({"cluster": "c", "service": "s", "deploymentConfiguration": {
        "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_PRODUCTION_TRAFFIC_SHIFT"],
            "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"}}]}}))
        .unwrap();
    let second = w.deploy(2);
    let hook = w.awaiting(&second, 10_000);
    // Green of the second deployment is the group `blue` (the first one's took `green`).
    assert_eq!(w.weights(&w.production), (100, 0), "production is on green");
    w.ecs(
        "ContinueServiceDeployment",
        json!({"serviceDeploymentArn": second, "hookId": hook, "action": "ROLLBACK"}),
    )
    .unwrap();
    w.until(&second, "ROLLBACK_SUCCESSFUL", 5_000);
    assert_eq!(w.weights(&w.production), (0, 100), "back on blue");
    assert_eq!(w.weights(&w.test), (0, 100));
    let d = w.deployment(&second);
    assert!(d["rollback"]["serviceRevisionArn"].is_string());
    let svc = w.service_answer();
    assert_eq!(
        svc["taskDefinition"].as_str().unwrap().rsplit(':').next(),
        Some("1"),
        "blue's revision again"
    );
    w.tick(1_000);
    assert_eq!(w.service_answer()["runningCount"], 2);
    assert_eq!(w.registered(&w.green), 2, "blue's tasks serve");
    assert_eq!(w.registered(&w.blue), 0, "green's tasks are gone");
}

#[test]
fn a_pause_hook_that_times_out_rolls_back_or_continues_as_configured() {
    for (action, end) in [
        ("ROLLBACK", "ROLLBACK_SUCCESSFUL"),
        ("CONTINUE", "SUCCESSFUL"),
    ] {
        let w = World::new();
        w.service(1, json!({"strategy": "BLUE_GREEN"}));
        w.ecs(
            "UpdateService",
            json!({"cluster": "c", "service": "s", "deploymentConfiguration": {
            "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"],
                "timeoutConfiguration": {"timeoutInMinutes": 2, "action": action}}]}}),
        )
        .unwrap();
        let second = w.deploy(2);
        w.awaiting(&second, 5_000);
        w.tick(110);
        assert_eq!(w.deployment(&second)["status"], "IN_PROGRESS", "{action}");
        w.until(&second, end, 5_000);
        if action == "ROLLBACK" {
            assert_eq!(
                w.deployment(&second)["statusReason"],
                "Service deployment rolled back because POST_SCALE_UP pause hook timed out."
            );
        }
    }
}

#[test]
fn lambda_hooks_are_asked_again_while_in_progress_and_a_failure_rolls_back() {
    let w = World::new();
    w.service(1, json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [
        {"hookTargetArn": LAMBDA, "roleArn": ROLE, "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]}));
    w.engine.set_hook(
        LAMBDA,
        HookBehaviour::after_in_progress(2, HookReply::Succeeded),
    );
    let second = w.deploy(2);
    for _ in 0..2_000 {
        if w.deployment(&second)["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT" {
            break;
        }
        w.tick(5);
    }
    let d = w.deployment(&second);
    assert_eq!(d["lifecycleHookDetails"][0]["status"], "IN_PROGRESS");
    assert_eq!(d["lifecycleHookDetails"][0]["targetArn"], LAMBDA);
    assert!(d["lifecycleHookDetails"][0]["hookId"]
        .as_str()
        .unwrap()
        .starts_with("ecs-lambda-"));
    // Asked again after 30 s twice: 60 ms.
    w.tick(50);
    assert_eq!(
        w.deployment(&second)["lifecycleStage"],
        "POST_TEST_TRAFFIC_SHIFT"
    );
    w.until(&second, "SUCCESSFUL", 5_000);

    w.engine
        .set_hook(LAMBDA, HookBehaviour::always(HookReply::Failed));
    let third = w.deploy(3);
    w.until(&third, "ROLLBACK_SUCCESSFUL", 10_000);
    assert_eq!(
        w.deployment(&third)["statusReason"],
        format!("Service deployment rolled back because POST_TEST_TRAFFIC_SHIFT lifecycle hook(s) failed. Lifecycle hook target {LAMBDA} returned FAILED status.")
    );
    assert_eq!(w.weights(&w.test), (100, 0), "test traffic back on blue");
}

#[test]
fn a_traffic_shift_hook_runs_again_in_the_rollback_and_answers_its_rollback_replies() {
    let w = World::new();
    w.service(
        1,
        json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [
        {"hookTargetArn": LAMBDA, "roleArn": ROLE, "lifecycleStages": ["TEST_TRAFFIC_SHIFT"]}]}),
    );
    // Fails on the way forward, approves the rollback's shift back.
    w.engine.set_hook(
        LAMBDA,
        HookBehaviour::always(HookReply::Failed).in_rollback(vec![HookReply::Succeeded]),
    );
    let second = w.deploy(2);
    w.until(&second, "ROLLBACK_SUCCESSFUL", 10_000);
    assert_eq!(
        w.deployment(&second)["statusReason"],
        format!("Service deployment rolled back because TEST_TRAFFIC_SHIFT lifecycle hook(s) failed. Lifecycle hook target {LAMBDA} returned FAILED status.")
    );
    // Revision 1 serves from the group named `green`: test traffic is back there.
    assert_eq!(
        w.weights(&w.test),
        (0, 100),
        "test traffic back on revision 1"
    );

    // A function that fails every time fails the rollback's shift too, where it stands.
    w.engine
        .set_hook(LAMBDA, HookBehaviour::always(HookReply::Failed));
    let third = w.deploy(3);
    w.until(&third, "ROLLBACK_FAILED", 10_000);
}

#[test]
fn a_first_deployment_that_fails_has_no_rollback_candidate() {
    let w = World::new();
    w.engine
        .set_hook(LAMBDA, HookBehaviour::always(HookReply::Failed));
    let created = w
        .ecs("CreateService", json!({"cluster": "c", "serviceName": "s", "taskDefinition": "web:1", "desiredCount": 1, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
            "loadBalancers": w.balancers(), "deploymentConfiguration": {"strategy": "BLUE_GREEN",
            "lifecycleHooks": [{"hookTargetArn": LAMBDA, "roleArn": ROLE, "lifecycleStages": ["PRE_SCALE_UP"]}]}}))
        .unwrap();
    let arn = created["service"]["currentServiceDeployment"]
        .as_str()
        .unwrap()
        .to_owned();
    w.until(&arn, "ROLLBACK_FAILED", 5_000);
    assert_eq!(
        w.deployment(&arn)["statusReason"],
        "No rollback candidate was found to run the rollback."
    );
}

#[test]
fn stop_rolls_back_a_deployment_in_progress_and_refuses_a_finished_one() {
    let w = World::new();
    let first = w.service(
        2,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 30}),
    );
    let second = w.deploy(2);
    for _ in 0..2_000 {
        if w.deployment(&second)["lifecycleStage"] == "BAKE_TIME" {
            break;
        }
        w.tick(10);
    }
    let abort = w
        .ecs(
            "StopServiceDeployment",
            json!({"serviceDeploymentArn": second, "stopType": "ABORT"}),
        )
        .unwrap_err();
    assert_eq!(code(&abort), "InvalidParameterException");
    let stopped = w
        .ecs(
            "StopServiceDeployment",
            json!({"serviceDeploymentArn": second, "stopType": "ROLLBACK"}),
        )
        .unwrap();
    assert_eq!(stopped["serviceDeploymentArn"], second.as_str());
    assert_eq!(w.deployment(&second)["status"], "ROLLBACK_REQUESTED");
    w.until(&second, "ROLLBACK_SUCCESSFUL", 5_000);
    assert_eq!(
        w.weights(&w.production),
        (0, 100),
        "production back on the first revision"
    );

    let finished = w
        .ecs(
            "StopServiceDeployment",
            json!({"serviceDeploymentArn": first}),
        )
        .unwrap_err();
    assert_eq!(code(&finished), "ConflictException");
    let missing = w
        .ecs(
            "StopServiceDeployment",
            json!({"serviceDeploymentArn": "arn:aws:ecs:us-east-1:123456789012:service-deployment/c/s/nothing"}),
        )
        .unwrap_err();
    assert_eq!(code(&missing), "ServiceDeploymentNotFoundException");
    assert_eq!(message(&missing), "The service deployment does not exist.");
    let bad_hook = w
        .ecs(
            "ContinueServiceDeployment",
            json!({"serviceDeploymentArn": second, "hookId": "nothing"}),
        )
        .unwrap_err();
    assert_eq!(
        message(&bad_hook),
        "Continuing a service deployment is not allowed for service deployment in terminal states."
    );
}

#[test]
fn stop_rolls_a_rolling_deployment_back_onto_the_last_revision_that_completed() {
    let w = World::new();
    w.ecs("CreateService", json!({"cluster": "c", "serviceName": "r", "taskDefinition": "web:1", "desiredCount": 2, "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}}))
        .unwrap();
    w.tick(1_000);
    let answer = w
        .ecs(
            "UpdateService",
            json!({"cluster": "c", "service": "r", "taskDefinition": "web:2"}),
        )
        .unwrap();
    let second = answer["service"]["currentServiceDeployment"]
        .as_str()
        .unwrap()
        .to_owned();
    w.tick(150);
    w.ecs(
        "StopServiceDeployment",
        json!({"serviceDeploymentArn": second, "stopType": "ROLLBACK"}),
    )
    .unwrap();
    w.until(&second, "ROLLBACK_SUCCESSFUL", 5_000);
    let svc = w
        .ecs(
            "DescribeServices",
            json!({"cluster": "c", "services": ["r"]}),
        )
        .unwrap();
    assert!(svc["services"][0]["taskDefinition"]
        .as_str()
        .unwrap()
        .ends_with(":1"));
}

#[test]
fn an_alarm_in_alarm_rolls_back_a_deployment_that_watches_it() {
    let w = World::new();
    w.service(
        1,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 30,
        "alarms": {"alarmNames": ["errors"], "enable": true, "rollback": true}}),
    );
    let second = w.deploy(2);
    for _ in 0..2_000 {
        if w.deployment(&second)["lifecycleStage"] == "BAKE_TIME" {
            break;
        }
        w.tick(10);
    }
    w.engine.set_alarm("other", AlarmState::Alarm);
    w.tick(10);
    assert_eq!(w.deployment(&second)["status"], "IN_PROGRESS");
    w.engine.set_alarm("errors", AlarmState::Alarm);
    let d = w.deployment(&second);
    assert_eq!(d["status"], "ROLLBACK_IN_PROGRESS");
    assert!(d["statusReason"].as_str().unwrap().contains("errors"));
    w.until(&second, "ROLLBACK_SUCCESSFUL", 5_000);
}

#[test]
fn native_strategies_are_refused_without_what_they_need() {
    let w = World::new();
    let create = |lbs: Value, config: Value, controller: &str| {
        w.ecs("CreateService", json!({"cluster": "c", "serviceName": "x", "taskDefinition": "web:1", "desiredCount": 1, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
            "deploymentController": {"type": controller},
            "loadBalancers": lbs, "deploymentConfiguration": config}))
        .unwrap_err()
    };
    let plain = json!([{"targetGroupArn": w.blue, "containerName": "web", "containerPort": 80}]);
    let e = create(plain.clone(), json!({"strategy": "LINEAR"}), "ECS");
    assert_eq!(code(&e), "ClientException");
    assert_eq!(
        message(&e),
        "advancedConfiguration field is required for all loadBalancers when using the linear deployment strategy"
    );
    let e = create(plain, json!({"strategy": "CANARY"}), "ECS");
    assert_eq!(
        message(&e),
        "advancedConfiguration field is required for all loadBalancers when using the canary deployment strategy"
    );
    let e = create(w.balancers(), json!({"strategy": "BLUE_GREEN"}), "EXTERNAL");
    assert_eq!(code(&e), "InvalidParameterException");
    for bad in [
        json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.5}}),
        json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 10.05}}),
        json!({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.0}}),
        json!({"strategy": "CANARY", "canaryConfiguration": {"canaryBakeTimeInMinutes": 1441}}),
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": -1}),
        json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["TEST_TRAFFIC_SHIFT"]}]}),
        json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"lifecycleStages": ["PRE_SCALE_UP"]}]}),
        json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["PRE_SCALE_UP"], "timeoutConfiguration": {"timeoutInMinutes": 20161}}]}),
        json!({"strategy": "BLUE_GREEN", "earlySuccessCriteria": {"enable": true, "healthyPercent": 50}}),
    ] {
        let e = create(w.balancers(), bad.clone(), "ECS");
        assert_eq!(
            code(&e),
            "InvalidParameterException",
            "{bad}: {}",
            message(&e)
        );
    }
    let e = create(
        w.balancers(),
        json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["PRODUCTION_TRAFFIC_SHIFT"]}]}),
        "ECS",
    );
    assert_eq!(
        message(&e),
        "Invalid lifecycle stage provided for Pause Hook"
    );
    let same = json!([{"targetGroupArn": w.blue, "containerName": "web", "containerPort": 80,
        "advancedConfiguration": {"alternateTargetGroupArn": w.green,
            "productionListenerRule": w.production, "testListenerRule": w.production, "roleArn": ROLE}}]);
    let e = create(same, json!({"strategy": "BLUE_GREEN"}), "ECS");
    assert_eq!(
        message(&e),
        format!(
            "The following rules cannot be used as both production and test listener rules: {}",
            w.production
        )
    );
    // A configuration of another strategy is left out, the strategy's own defaults filled in.
    let ok = w
        .ecs("CreateService", json!({"cluster": "c", "serviceName": "y", "taskDefinition": "web:1", "desiredCount": 0, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
            "loadBalancers": w.balancers(), "deploymentConfiguration": {"strategy": "LINEAR", "canaryConfiguration": {"canaryPercent": 5.0}}}))
        .unwrap();
    let config = &ok["service"]["deploymentConfiguration"];
    assert!(config.get("canaryConfiguration").is_none(), "{config:#}");
    assert_eq!(config["linearConfiguration"]["stepPercent"], 10.0);
    assert_eq!(config["linearConfiguration"]["stepBakeTimeInMinutes"], 6);
}

#[test]
fn early_success_completes_a_rolling_deployment_at_the_healthy_percent() {
    for cleanup in ["DEFERRED", "BLOCKING"] {
        let w = World::new();
        w.ecs("CreateService", json!({"cluster": "c", "serviceName": "r", "taskDefinition": "web:1", "desiredCount": 4, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
            "deploymentConfiguration": {"maximumPercent": 150, "minimumHealthyPercent": 50,
                "earlySuccessCriteria": {"enable": true, "healthyPercent": 50, "sourceServiceRevisionCleanup": cleanup}}}))
            .unwrap();
        w.tick(1_000);
        let answer = w
            .ecs(
                "UpdateService",
                json!({"cluster": "c", "service": "r", "taskDefinition": "web:2"}),
            )
            .unwrap();
        let arn = answer["service"]["currentServiceDeployment"]
            .as_str()
            .unwrap()
            .to_owned();
        w.until(&arn, "SUCCESSFUL", 5_000);
        let d = w.deployment(&arn);
        let frozen = d["targetServiceRevision"]["runningTaskCount"]
            .as_i64()
            .unwrap();
        let old_running = w.running_of(":1");
        if cleanup == "DEFERRED" {
            assert_eq!(frozen, 2, "successful at half of the count, frozen there");
        } else {
            // Successful only once the older tasks are STOPPED; by then the rest of the new
            // revision may have started (outside the deployment).
            assert_eq!(old_running, 0, "BLOCKING: the older tasks are gone first");
            assert!((2..=4).contains(&frozen), "{frozen}");
        }
        let svc = w
            .ecs(
                "DescribeServices",
                json!({"cluster": "c", "services": ["r"]}),
            )
            .unwrap();
        let deployments = svc["services"][0]["deployments"].as_array().unwrap().len();
        assert_eq!(
            deployments, 1,
            "{cleanup}: the older revision is being removed"
        );
        w.tick(1_000);
        let svc = w
            .ecs(
                "DescribeServices",
                json!({"cluster": "c", "services": ["r"]}),
            )
            .unwrap();
        assert_eq!(
            svc["services"][0]["runningCount"], 4,
            "{cleanup}: scaled to the full count"
        );
        assert_eq!(
            svc["services"][0]["deploymentConfiguration"]["earlySuccessCriteria"]
                ["sourceServiceRevisionCleanup"],
            cleanup
        );
    }
    // The defaults echoed for a disabled configuration (observed).
    let w = World::new();
    let created = w
        .ecs("CreateService", json!({"cluster": "c", "serviceName": "d", "taskDefinition": "web:1", "desiredCount": 0, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
            "deploymentConfiguration": {"earlySuccessCriteria": {"enable": false}}}))
        .unwrap();
    assert_eq!(
        created["service"]["deploymentConfiguration"]["earlySuccessCriteria"],
        json!({"enable": false, "healthyPercent": 100, "sourceServiceRevisionCleanup": "BLOCKING"})
    );
}

#[test]
fn a_lambda_hook_that_is_always_in_progress_times_out_even_with_the_instant_timing() {
    let w = World::with_timing(Timing::instant());
    w.engine
        .set_hook(LAMBDA, HookBehaviour::always(HookReply::InProgress));
    let created = w
        .ecs("CreateService", json!({"cluster": "c", "serviceName": "s", "taskDefinition": "web:1", "desiredCount": 1, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
            "loadBalancers": w.balancers(), "deploymentConfiguration": {"strategy": "BLUE_GREEN",
            "lifecycleHooks": [{"hookTargetArn": LAMBDA, "roleArn": ROLE, "lifecycleStages": ["PRE_SCALE_UP"],
                "timeoutConfiguration": {"timeoutInMinutes": 1, "action": "ROLLBACK"}}]}}))
        .unwrap();
    let arn = created["service"]["currentServiceDeployment"]
        .as_str()
        .unwrap()
        .to_owned();
    // Asked again every 30 ms (a hook's second is at least 1 ms), timed out after 60 ms.
    w.tick(30);
    assert_eq!(
        w.deployment(&arn)["lifecycleHookDetails"][0]["status"],
        "IN_PROGRESS"
    );
    w.tick(40);
    assert_eq!(w.deployment(&arn)["status"], "ROLLBACK_FAILED");
}

#[test]
fn a_rollback_is_not_overtaken_by_a_desired_count_change() {
    let w = World::new();
    w.service(2, json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5, "lifecycleHooks": [
        {"hookTargetArn": LAMBDA, "roleArn": ROLE, "lifecycleStages": ["PRODUCTION_TRAFFIC_SHIFT"]}]}));
    // The hook takes 100 AWS seconds (100 ms here), on the way forward and back.
    w.engine.set_hook(
        LAMBDA,
        HookBehaviour::always(HookReply::Succeeded).with_latency(Duration::from_secs(100)),
    );
    let second = w.deploy(2);
    w.at_stage(&second, "BAKE_TIME");
    w.ecs(
        "StopServiceDeployment",
        json!({"serviceDeploymentArn": second, "stopType": "ROLLBACK"}),
    )
    .unwrap();
    w.until(&second, "ROLLBACK_IN_PROGRESS", 2_000);
    w.ecs(
        "UpdateService",
        json!({"cluster": "c", "service": "s", "desiredCount": 3}),
    )
    .unwrap();
    w.tick(50);
    assert_eq!(w.deployment(&second)["status"], "ROLLBACK_IN_PROGRESS");
    w.until(&second, "ROLLBACK_SUCCESSFUL", 5_000);
    w.tick(1_000);
    let svc = w.service_answer();
    assert!(svc["taskDefinition"].as_str().unwrap().ends_with(":1"));
    assert_eq!(svc["runningCount"], 3, "blue runs the new count: {svc:#}");
    assert_eq!(w.running_of(":2"), 0, "green is gone");
    assert_eq!(
        w.weights(&w.production),
        (0, 100),
        "production on the first revision"
    );
}

#[test]
fn a_deployment_that_replaces_one_under_way_reconciles_first() {
    let w = World::new();
    let config = json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 5}});
    w.service(2, config);
    // Revision 1 serves from `green`; revision 2 starts in `blue` and takes 25%.
    let second = w.deploy(2);
    for _ in 0..5_000 {
        if w.weights(&w.production) == (25, 75) {
            break;
        }
        w.tick(1);
    }
    assert_eq!(w.weights(&w.production), (25, 75));
    let third = w.deploy(3);
    let d = w.deployment(&second);
    assert_eq!(d["status"], "STOPPED");
    assert_eq!(d["lifecycleHookDetails"], json!([]));
    let stages = w.until(&third, "SUCCESSFUL", 20_000);
    assert_eq!(stages[0], "RECONCILE_SERVICE", "{stages:?}");
    w.tick(1_000);
    assert_eq!(w.weights(&w.production), (100, 0));
    assert_eq!(
        w.running_of(":2"),
        0,
        "the replaced revision's tasks are gone"
    );
    assert_eq!(w.running_of(":1"), 0);
    assert_eq!(w.running_of(":3"), 2);
    assert_eq!(w.registered(&w.green), 0);
    assert_eq!(w.registered(&w.blue), 2);
    let svc = w.service_answer();
    assert_eq!(svc["deployments"].as_array().unwrap().len(), 1);
}

#[test]
fn a_stop_holds_the_deployment_where_it_is_until_the_rollback_starts() {
    let w = World::new();
    w.service(1, json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}));
    let second = w.deploy(2);
    w.at_stage(&second, "BAKE_TIME");
    // The bake ends in 60 ms; the rollback starts after the scheduler's 100 ms.
    w.ecs(
        "StopServiceDeployment",
        json!({"serviceDeploymentArn": second}),
    )
    .unwrap();
    w.tick(70);
    let d = w.deployment(&second);
    assert_eq!(d["status"], "ROLLBACK_REQUESTED");
    assert_eq!(d["lifecycleStage"], "BAKE_TIME", "nothing moved on");
    w.until(&second, "ROLLBACK_SUCCESSFUL", 5_000);
}
