//! ELBv2 on the ECS endpoint: resources, weighted forwards, target health in time, ECS
//! registering and deregistering its tasks, refusals in AWS's words, and the awsQuery wire.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ecs_emulator::{ApiError, Emulator, Engine, Fault, ManualClock, SequentialIds, Timing};
use ecs_model::elbv2::operations::*;
use ecs_model::elbv2::types::*;
use serde_json::{json, Value};

/// One load-balancer second is 1 ms: a target is healthy 150 ms after registration and drains
/// for 300 ms (the defaults). ECS stages take 100 ms each.
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

struct World {
    engine: Engine,
    clock: ManualClock,
}

impl World {
    fn new() -> World {
        let clock = ManualClock::at_example_time();
        let engine = Emulator::builder()
            .timing(timing())
            .clock(clock.clone())
            .ids(SequentialIds::default())
            .log_calls()
            .engine();
        World { engine, clock }
    }

    fn ecs(&self, op: &str, body: Value) -> Result<Value, ApiError> {
        let target = format!("AmazonEC2ContainerServiceV20141113.{op}");
        self.engine
            .handle(Some(&target), None, &serde_json::to_vec(&body).unwrap())
            .map(|b| serde_json::from_slice(&b).unwrap())
    }

    fn elb<O: ecs_model::query::QueryOperation>(&self, input: O::Input) -> O::Output {
        self.engine
            .call_elbv2::<O>(&input)
            .unwrap_or_else(|e| panic!("{}: {e}", O::NAME))
    }

    fn tick(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }

    /// An ALB, two ip target groups `blue` and `green`, and a listener on port 80 forwarding
    /// 100/0 to them. Answers (listener, blue, green).
    fn balancer(&self) -> (String, String, String) {
        let lb = self.elb::<CreateLoadBalancer>(
            CreateLoadBalancerInput::builder()
                .name("web")
                .set_subnets(Some(vec!["subnet-1".into(), "subnet-2".into()]))
                .build(),
        );
        let lb_arn = lb.load_balancers.unwrap()[0]
            .load_balancer_arn
            .clone()
            .unwrap();
        let group = |name: &str| {
            self.elb::<CreateTargetGroup>(
                CreateTargetGroupInput::builder()
                    .name(name)
                    .protocol("HTTP")
                    .port(80)
                    .vpc_id("vpc-1")
                    .target_type("ip")
                    .build(),
            )
            .target_groups
            .unwrap()[0]
                .target_group_arn
                .clone()
                .unwrap()
        };
        let (blue, green) = (group("blue"), group("green"));
        let listener = self.elb::<CreateListener>(
            CreateListenerInput::builder()
                .load_balancer_arn(lb_arn)
                .protocol("HTTP")
                .port(80)
                .set_default_actions(Some(vec![Action::forward_weighted([
                    (&blue, 100),
                    (&green, 0),
                ])]))
                .build(),
        );
        let listener = listener.listeners.unwrap()[0].listener_arn.clone().unwrap();
        (listener, blue, green)
    }

    fn health(&self, group: &str) -> Vec<(String, String)> {
        self.elb::<DescribeTargetHealth>(
            DescribeTargetHealthInput::builder()
                .target_group_arn(group)
                .build(),
        )
        .target_health_descriptions
        .unwrap_or_default()
        .into_iter()
        .map(|d| {
            (
                d.target.and_then(|t| t.id).unwrap_or_default(),
                d.target_health.and_then(|h| h.state).unwrap_or_default(),
            )
        })
        .collect()
    }

    /// Cluster `c`, an awsvpc task definition and a Fargate service `s` of `n` tasks behind
    /// `group`.
    fn service(&self, group: &str, n: i32) {
        self.ecs("CreateCluster", json!({"clusterName": "c"}))
            .unwrap();
        self.ecs("RegisterTaskDefinition", json!({"family": "web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512", "containerDefinitions": [{"name": "web", "image": "nginx", "portMappings": [{"containerPort": 80}]}]})).unwrap();
        self.ecs("CreateService", json!({"cluster": "c", "serviceName": "s", "taskDefinition": "web", "desiredCount": n, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
            "loadBalancers": [{"targetGroupArn": group, "containerName": "web", "containerPort": 80}]})).unwrap();
    }
}

fn weights(actions: &[Action]) -> Vec<i32> {
    actions[0]
        .forward_config
        .as_ref()
        .and_then(|f| f.target_groups.clone())
        .unwrap_or_default()
        .iter()
        .map(|t| t.weight.unwrap_or(-1))
        .collect()
}

#[test]
fn a_service_task_is_registered_when_running_healthy_after_five_intervals_and_drains_when_stopped()
{
    let w = World::new();
    let (_, blue, _) = w.balancer();
    w.service(&blue, 1);
    assert!(
        w.health(&blue).is_empty(),
        "nothing registered before a task runs"
    );
    w.tick(200); // recompute (100 ms), launch, start (100 ms): RUNNING
    let targets = w.health(&blue);
    assert_eq!(targets.len(), 1, "{targets:?}");
    assert_eq!(targets[0].1, "initial");
    w.tick(149);
    assert_eq!(w.health(&blue)[0].1, "initial", "5 × 30 s not yet passed");
    w.tick(1);
    assert_eq!(w.health(&blue)[0].1, "healthy");

    w.ecs(
        "UpdateService",
        json!({"cluster": "c", "service": "s", "desiredCount": 0}),
    )
    .unwrap();
    w.tick(100); // the recompute stops the task: its target drains
    assert_eq!(w.health(&blue)[0].1, "draining");
    let last_status = || {
        let listed = w
            .ecs(
                "ListTasks",
                json!({"cluster": "c", "desiredStatus": "STOPPED"}),
            )
            .unwrap();
        let tasks = w
            .ecs(
                "DescribeTasks",
                json!({"cluster": "c", "tasks": listed["taskArns"]}),
            )
            .unwrap();
        tasks["tasks"][0]["lastStatus"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    w.tick(299);
    assert_eq!(w.health(&blue)[0].1, "draining");
    assert_eq!(
        last_status(),
        "DEACTIVATING",
        "the task waits for its target to drain"
    );
    w.tick(1);
    assert!(w.health(&blue).is_empty(), "gone after the 300 s delay");
    w.tick(100);
    assert_eq!(last_status(), "STOPPED", "then stops after the stop delay");
}

#[test]
fn a_group_no_listener_uses_reports_unused_and_ecs_refuses_it() {
    let w = World::new();
    let (_, _, _) = w.balancer();
    let lonely = w
        .elb::<CreateTargetGroup>(
            CreateTargetGroupInput::builder()
                .name("lonely")
                .protocol("HTTP")
                .port(80)
                .vpc_id("vpc-1")
                .target_type("ip")
                .build(),
        )
        .target_groups
        .unwrap()[0]
        .target_group_arn
        .clone()
        .unwrap();
    w.elb::<RegisterTargets>(
        RegisterTargetsInput::builder()
            .target_group_arn(lonely.clone())
            .set_targets(Some(vec![TargetDescription::builder()
                .id("10.0.0.9")
                .build()]))
            .build(),
    );
    assert_eq!(
        w.health(&lonely),
        vec![("10.0.0.9".into(), "unused".into())]
    );
    w.ecs("CreateCluster", json!({"clusterName": "c"})).unwrap();
    w.ecs("RegisterTaskDefinition", json!({"family": "web", "networkMode": "awsvpc", "containerDefinitions": [{"name": "web", "image": "nginx", "memory": 128, "portMappings": [{"containerPort": 80}]}]})).unwrap();
    let e = w
        .ecs("CreateService", json!({"cluster": "c", "serviceName": "s", "taskDefinition": "web", "desiredCount": 1,
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
            "loadBalancers": [{"targetGroupArn": lonely, "containerName": "web", "containerPort": 80}]}))
        .unwrap_err();
    assert_eq!(e.code, "InvalidParameterException");
    assert_eq!(
        e.message,
        format!("The target group with targetGroupArn {lonely} does not have an associated load balancer.")
    );
}

#[test]
fn weights_move_on_the_listener_and_refusals_carry_aws_words() {
    let w = World::new();
    let (listener, blue, green) = w.balancer();
    let changed = w.elb::<ModifyListener>(
        ModifyListenerInput::builder()
            .listener_arn(listener.clone())
            .set_default_actions(Some(vec![Action::forward_weighted([
                (&blue, 90),
                (&green, 10),
            ])]))
            .build(),
    );
    assert_eq!(
        weights(
            &changed.listeners.unwrap()[0]
                .default_actions
                .clone()
                .unwrap()
        ),
        vec![90, 10]
    );
    let described = w.elb::<DescribeListeners>(
        DescribeListenersInput::builder()
            .set_listener_arns(Some(vec![listener.clone()]))
            .build(),
    );
    assert_eq!(
        weights(
            &described.listeners.unwrap()[0]
                .default_actions
                .clone()
                .unwrap()
        ),
        vec![90, 10]
    );
    let rules = w.elb::<DescribeRules>(
        DescribeRulesInput::builder()
            .listener_arn(listener.clone())
            .build(),
    );
    let rules = rules.rules.unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].is_default, Some(true));
    assert_eq!(
        weights(rules[0].actions.as_deref().unwrap()),
        vec![90, 10],
        "the default rule follows the listener"
    );

    let refused = |groups: &[(&str, i32)]| {
        w.engine
            .call_elbv2::<ModifyListener>(
                &ModifyListenerInput::builder()
                    .listener_arn(listener.clone())
                    .set_default_actions(Some(vec![Action::forward_weighted(
                        groups.iter().copied(),
                    )]))
                    .build(),
            )
            .unwrap_err()
    };
    let e = refused(&[(&blue, 1000), (&green, 0)]);
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            "ValidationError",
            "The weight for each target group must be between 0 and 999, inclusive"
        )
    );
    let gone =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/0123456789abcdef";
    let e = refused(&[(gone, 1)]);
    assert_eq!(
        (e.code, e.message),
        (
            "TargetGroupNotFound",
            format!("Target groups '{gone}' not found")
        )
    );
    let e = w
        .engine
        .call_elbv2::<DeleteTargetGroup>(
            &DeleteTargetGroupInput::builder()
                .target_group_arn(blue.clone())
                .build(),
        )
        .unwrap_err();
    assert_eq!(
        (e.code, e.message),
        (
            "ResourceInUse",
            format!("Target group '{blue}' is currently in use by a listener or a rule")
        )
    );
    let e = w
        .engine
        .call_elbv2::<DescribeTargetGroups>(
            &DescribeTargetGroupsInput::builder()
                .set_target_group_arns(Some(vec![gone.into()]))
                .build(),
        )
        .unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        ("TargetGroupNotFound", "One or more target groups not found")
    );
    let described = w.elb::<DescribeTargetGroups>(
        DescribeTargetGroupsInput::builder()
            .set_target_group_arns(Some(vec![blue.clone()]))
            .build(),
    );
    let group = &described.target_groups.unwrap()[0];
    assert_eq!(
        (
            group.health_check_interval_seconds,
            group.health_check_timeout_seconds,
            group.healthy_threshold_count,
            group.unhealthy_threshold_count
        ),
        (Some(30), Some(5), Some(5), Some(2)),
        "the HTTP defaults of the AWS CLI's create-target-group example"
    );
    assert_eq!(group.load_balancer_arns.as_ref().map(Vec::len), Some(1));
}

#[test]
fn faults_and_the_call_log_cover_elbv2_calls() {
    let w = World::new();
    let (listener, blue, green) = w.balancer();
    w.engine.inject(Fault::Throttle {
        operation: "ModifyListener".into(),
        times: 1,
    });
    let input = ModifyListenerInput::builder()
        .listener_arn(listener)
        .set_default_actions(Some(vec![Action::forward_weighted([
            (&blue, 0),
            (&green, 100),
        ])]))
        .build();
    let e = w.engine.call_elbv2::<ModifyListener>(&input).unwrap_err();
    assert_eq!(
        (e.status, e.code, e.message.as_str()),
        (400, "Throttling", "Rate exceeded")
    );
    w.elb::<ModifyListener>(input);
    let calls = w.engine.calls_of("ModifyListener");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].error_code(), Some("Throttling"));
    assert_eq!(
        calls[1].input["DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight"],
        "100"
    );
}

#[tokio::test]
async fn one_endpoint_answers_ecs_in_json_and_elbv2_in_xml() {
    let emulator = Emulator::builder().timing(timing()).start().await.unwrap();
    let config = ecs_client::Config::local(emulator.url()).unwrap();
    let ecs = ecs_client::EcsClient::new(config).unwrap();
    let elb = ecs.elbv2();
    // Through the client: signed for `elasticloadbalancing`, answered in XML, read back.
    let created = elb
        .send::<CreateTargetGroup>(
            CreateTargetGroupInput::builder()
                .name("web")
                .protocol("HTTP")
                .port(80)
                .vpc_id("vpc-1")
                .target_type("ip")
                .build(),
        )
        .await
        .unwrap();
    assert_eq!(
        created.target_groups.unwrap()[0].target_type.as_deref(),
        Some("ip")
    );
    let e = elb
        .send::<DescribeTargetGroups>(
            DescribeTargetGroupsInput::builder()
                .set_names(Some(vec!["nope".into()]))
                .build(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("TargetGroupNotFound"));
    let e = elb
        .send::<DescribeTargetHealth>(DescribeTargetHealthInput::default())
        .await
        .unwrap_err();
    assert!(matches!(e, ecs_client::Error::Validation { .. }), "{e}");
    // ECS on the same port still answers JSON.
    ecs.send::<ecs_model::operations::ListClusters>(Default::default())
        .await
        .unwrap();

    // The raw answer: AWS's error envelope.
    let http = reqwest::Client::new();
    let answer = http
        .post(emulator.url())
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body("Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert_eq!(answer.headers()["content-type"], "text/xml");
    let body = answer.text().await.unwrap();
    assert!(body.starts_with("<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><Error><Type>Sender</Type><Code>TargetGroupNotFound</Code><Message>One or more target groups not found</Message></Error><RequestId>"), "{body}");
    let answer = http
        .post(emulator.url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=DescribeLoadBalancers&Version=2015-12-01")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body = answer.text().await.unwrap();
    assert!(
        body.starts_with("<DescribeLoadBalancersResponse xmlns="),
        "{body}"
    );
    assert!(body.contains("<DescribeLoadBalancersResult><LoadBalancers></LoadBalancers></DescribeLoadBalancersResult>"), "{body}");
    emulator.shutdown().await;
}
