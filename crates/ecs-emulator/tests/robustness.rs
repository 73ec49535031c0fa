//! Any bytes and any JSON to any operation: an answer or an AWS-shaped 4xx, never a panic or a
//! server fault; and the invariants hold after arbitrary sequences of operations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ecs_emulator::{Emulator, Engine, ManualClock, SequentialIds, IMPLEMENTED, IMPLEMENTED_ELBV2};
use proptest::prelude::*;
use serde_json::{json, Value};

fn engine() -> (Engine, ManualClock) {
    let clock = ManualClock::at_example_time();
    let engine = Emulator::builder()
        .task_delay(Duration::from_millis(100))
        .clock(clock.clone())
        .ids(SequentialIds::default())
        .engine();
    (engine, clock)
}

fn target(op: &str) -> String {
    format!("AmazonEC2ContainerServiceV20141113.{op}")
}

const KEYS: &[&str] = &[
    "cluster",
    "service",
    "serviceName",
    "clusterName",
    "taskSet",
    "taskSets",
    "primaryTaskSet",
    "taskDefinition",
    "family",
    "containerDefinitions",
    "name",
    "image",
    "scale",
    "value",
    "unit",
    "desiredCount",
    "deploymentController",
    "type",
    "force",
    "tags",
    "key",
    "resourceArn",
    "tagKeys",
    "include",
    "clientToken",
    "launchType",
    "networkConfiguration",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-5i64..200).prop_map(Value::from),
        (-10.0f64..150.0).prop_map(Value::from),
        prop::sample::select(vec![
            "c",
            "s",
            "web",
            "web:1",
            "EXTERNAL",
            "PERCENT",
            "ecs-svc/1000000000000000002",
            "TAGS",
            "",
            "arn:aws:ecs:us-east-1:123456789012:service/c/s"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn seeded() -> (Engine, ManualClock) {
    let (e, clock) = engine();
    for (op, body) in [
        ("CreateCluster", json!({"clusterName": "c"})),
        (
            "RegisterTaskDefinition",
            json!({"family": "web", "containerDefinitions": [{"name": "web", "image": "x", "memory": 128}]}),
        ),
        (
            "CreateService",
            json!({"cluster": "c", "serviceName": "s", "desiredCount": 3, "deploymentController": {"type": "EXTERNAL"}}),
        ),
        (
            "CreateTaskSet",
            json!({"cluster": "c", "service": "s", "taskDefinition": "web:1", "scale": {"value": 50.0, "unit": "PERCENT"}}),
        ),
    ] {
        e.handle(Some(&target(op)), None, &serde_json::to_vec(&body).unwrap())
            .unwrap();
    }
    (e, clock)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_get_a_4xx(op in prop::sample::select(IMPLEMENTED), bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        let (e, _) = engine();
        if let Err(err) = e.handle(Some(&target(op)), None, &bytes) {
            prop_assert!((400..500).contains(&err.status), "{err:?}");
        }
    }

    #[test]
    fn arbitrary_requests_keep_the_invariants(steps in prop::collection::vec((prop::sample::select(IMPLEMENTED), arb_json(), 0u64..150), 1..12)) {
        let (e, clock) = seeded();
        for (op, body, wait) in steps {
            match e.handle(Some(&target(op)), None, &serde_json::to_vec(&body).unwrap()) {
                Ok(answer) => prop_assert!(serde_json::from_slice::<Value>(&answer).is_ok()),
                Err(err) => prop_assert!((400..500).contains(&err.status), "{op} {body}: {err:?}"),
            }
            clock.advance(Duration::from_millis(wait));
            let problems = e.check_invariants();
            prop_assert!(problems.is_empty(), "{op} {body}: {problems:?}");
        }
    }
}

/// Form members of the ELBv2 operations, and values that fit some of them and break others.
const FORM_KEYS: &[&str] = &[
    "Name",
    "Names.member.1",
    "Protocol",
    "Port",
    "VpcId",
    "TargetType",
    "Subnets.member.1",
    "Subnets.member.2",
    "LoadBalancerArn",
    "LoadBalancerArns.member.1",
    "TargetGroupArn",
    "TargetGroupArns.member.1",
    "ListenerArn",
    "ListenerArns.member.1",
    "RuleArn",
    "DefaultActions.member.1.Type",
    "DefaultActions.member.1.TargetGroupArn",
    "DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn",
    "DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight",
    "DefaultActions",
    "Actions.member.1.Type",
    "Conditions.member.1.Field",
    "Priority",
    "Targets.member.1.Id",
    "Targets.member.1.Port",
    "Attributes.member.1.Key",
    "Attributes.member.1.Value",
    "ResourceArns.member.1",
    "Tags.member.1.Key",
    "Tags.member.1.Value",
    "TagKeys.member.1",
    "PageSize",
    "Marker",
    "HealthCheckIntervalSeconds",
    "HealthCheckTimeoutSeconds",
    "HealthyThresholdCount",
];

const FORM_VALUES: &[&str] = &[
    "",
    "web",
    "80",
    "0",
    "-1",
    "99999999999",
    "1000",
    "HTTP",
    "TCP",
    "ip",
    "instance",
    "lambda",
    "forward",
    "true",
    "10.0.0.1",
    "i-0f76fade",
    "subnet-1",
    "vpc-1",
    "default",
    "deregistration_delay.timeout_seconds",
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0000000000000000",
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0000000000000000",
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0000000000000000/0000000000000000",
    "<&'\">",
];

fn arb_form() -> impl Strategy<Value = Vec<(&'static str, &'static str)>> {
    prop::collection::vec(
        (
            prop::sample::select(FORM_KEYS),
            prop::sample::select(FORM_VALUES),
        ),
        0..10,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256), ..ProptestConfig::default() })]

    /// ELBv2 on the same endpoint: any form to any action is answered with XML that parses,
    /// or refused with a 4xx; the ECS invariants hold throughout, tasks registered or not.
    #[test]
    fn arbitrary_forms_to_every_elbv2_action_get_xml_or_a_4xx(steps in prop::collection::vec((prop::sample::select(IMPLEMENTED_ELBV2), arb_form(), 0u64..200_000), 1..10)) {
        let (e, clock) = seeded();
        for (action, members, wait) in steps {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("Action", action).append_pair("Version", "2015-12-01");
            for (k, v) in &members {
                form.append_pair(k, v);
            }
            let body = form.finish();
            match e.handle_query(None, body.as_bytes(), "r") {
                Ok(answer) => {
                    let text = String::from_utf8(answer).unwrap();
                    prop_assert!(roxmltree::Document::parse(&text).is_ok(), "{body}: {text}");
                }
                Err(err) => prop_assert!((400..500).contains(&err.status), "{body}: {err:?}"),
            }
            clock.advance(Duration::from_millis(wait));
            let problems = e.check_invariants();
            prop_assert!(problems.is_empty(), "{body}: {problems:?}");
        }
    }
}
