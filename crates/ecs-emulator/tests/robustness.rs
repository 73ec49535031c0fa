//! Any bytes and any JSON to any operation: an answer or an AWS-shaped 4xx, never a panic or a
//! server fault; and the invariants hold after arbitrary sequences of operations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ecs_emulator::{Emulator, Engine, ManualClock, SequentialIds, IMPLEMENTED};
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
