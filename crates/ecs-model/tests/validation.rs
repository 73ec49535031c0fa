//! Validators: each documented (prose) rule with a passing and a failing input at its limit,
//! each model trait, and one request that breaks many rules at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecs_model::rules::{ids, DOCUMENTED_RULES};
use ecs_model::types::*;
use ecs_model::{Validate, Violation, ViolationKind};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

fn violations<T: DeserializeOwned + Validate>(json: Value) -> Vec<Violation> {
    let typed: T = ecs_model::from_value(&json).unwrap();
    typed.violations()
}

fn create_task_set(extra: Value) -> Value {
    let mut base = json!({"cluster": "c", "service": "s", "taskDefinition": "td:1"});
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

fn create_service(extra: Value) -> Value {
    let mut base = json!({"serviceName": "s"});
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

fn ids_of(v: &[Violation]) -> Vec<(&'static str, String)> {
    v.iter().map(|v| (v.rule, v.path.clone())).collect()
}

fn strings(n: usize, prefix: &str) -> Value {
    Value::Array((0..n).map(|i| json!(format!("{prefix}-{i}"))).collect())
}

fn awsvpc(subnets: usize, groups: usize) -> Value {
    json!({"networkConfiguration": {"awsvpcConfiguration": {"subnets": strings(subnets, "subnet"), "securityGroups": strings(groups, "sg")}}})
}

fn providers(n: usize, bases: &[i64]) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| {
            let mut item = json!({"capacityProvider": format!("cp-{i}"), "weight": 1});
            if let Some(b) = bases.get(i) {
                item["base"] = json!(b);
            }
            item
        })
        .collect();
    json!({"capacityProviderStrategy": items})
}

fn constraints(n: usize, ty: &str, expression: Option<String>) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|_| match &expression {
            Some(e) => json!({"type": ty, "expression": e}),
            None => json!({"type": ty}),
        })
        .collect();
    json!({"placementConstraints": items})
}

fn strategies(n: usize) -> Value {
    json!({"placementStrategy": (0..n).map(|_| json!({"type": "spread", "field": "attribute:ecs.availability-zone"})).collect::<Vec<_>>()})
}

/// (rule, operation input, a request just inside the rule, a request just outside it, path).
type Example = (
    &'static str,
    fn(Value) -> Vec<Violation>,
    Value,
    Value,
    &'static str,
);

fn ts(v: Value) -> Vec<Violation> {
    violations::<CreateTaskSetRequest>(v)
}
fn svc(v: Value) -> Vec<Violation> {
    violations::<CreateServiceRequest>(v)
}
fn usvc(v: Value) -> Vec<Violation> {
    violations::<UpdateServiceRequest>(v)
}

fn examples() -> Vec<Example> {
    let scale = |v: Value| create_task_set(json!({"scale": {"value": v, "unit": "PERCENT"}}));
    let registry = |r: Value| create_task_set(json!({"serviceRegistries": [r]}));
    let tags = |t: Value| create_task_set(json!({"tags": t}));
    let upd = |extra: Value| {
        let mut base = json!({"service": "s"});
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    };
    vec![
        (
            ids::SCALE_RANGE,
            ts,
            scale(json!(100.0)),
            scale(json!(100.5)),
            "scale.value",
        ),
        (
            ids::SCALE_RANGE,
            ts,
            scale(json!(0.0)),
            scale(json!(-0.1)),
            "scale.value",
        ),
        (
            ids::SUBNETS_MAX,
            ts,
            create_task_set(awsvpc(16, 1)),
            create_task_set(awsvpc(17, 1)),
            "networkConfiguration.awsvpcConfiguration.subnets",
        ),
        (
            ids::SUBNETS_MAX,
            usvc,
            upd(awsvpc(16, 0)),
            upd(awsvpc(17, 0)),
            "networkConfiguration.awsvpcConfiguration.subnets",
        ),
        (
            ids::SECURITY_GROUPS_MAX,
            ts,
            create_task_set(awsvpc(1, 5)),
            create_task_set(awsvpc(1, 6)),
            "networkConfiguration.awsvpcConfiguration.securityGroups",
        ),
        (
            ids::LAUNCH_TYPE_XOR_STRATEGY,
            ts,
            create_task_set(json!({"launchType": "FARGATE"})),
            create_task_set(
                json!({"launchType": "FARGATE", "capacityProviderStrategy": [{"capacityProvider": "FARGATE"}]}),
            ),
            "capacityProviderStrategy",
        ),
        (
            ids::LAUNCH_TYPE_XOR_STRATEGY,
            svc,
            create_service(json!({"capacityProviderStrategy": [{"capacityProvider": "FARGATE"}]})),
            create_service(
                json!({"launchType": "EC2", "capacityProviderStrategy": [{"capacityProvider": "FARGATE"}]}),
            ),
            "capacityProviderStrategy",
        ),
        (
            ids::STRATEGY_SINGLE_BASE,
            ts,
            create_task_set(providers(3, &[2, 0, 0])),
            create_task_set(providers(3, &[2, 1])),
            "capacityProviderStrategy",
        ),
        (
            ids::STRATEGY_MAX,
            ts,
            create_task_set(providers(20, &[])),
            create_task_set(providers(21, &[])),
            "capacityProviderStrategy",
        ),
        (
            ids::REGISTRY_PORT_XOR_CONTAINER,
            ts,
            registry(json!({"registryArn": "arn:r", "port": 80})),
            registry(
                json!({"registryArn": "arn:r", "port": 80, "containerName": "web", "containerPort": 80}),
            ),
            "serviceRegistries[0]",
        ),
        (
            ids::REGISTRY_CONTAINER_PAIR,
            ts,
            registry(json!({"registryArn": "arn:r", "containerName": "web", "containerPort": 80})),
            registry(json!({"registryArn": "arn:r", "containerName": "web"})),
            "serviceRegistries[0].containerPort",
        ),
        (
            ids::TAGS_UNIQUE_KEYS,
            ts,
            tags(json!([{"key": "team", "value": "a"}, {"key": "Team", "value": "b"}])),
            tags(json!([{"key": "team", "value": "a"}, {"key": "team", "value": "b"}])),
            "tags[1].key",
        ),
        (
            ids::TAGS_RESERVED_PREFIX,
            ts,
            tags(json!([{"key": "awsome", "value": "team-aws:x"}])),
            tags(json!([{"key": "AwS:team", "value": "x"}])),
            "tags[0].key",
        ),
        (
            ids::TAGS_RESERVED_PREFIX,
            ts,
            tags(json!([{"key": "k", "value": "aws"}])),
            tags(json!([{"key": "k", "value": "aWs:v"}])),
            "tags[0].value",
        ),
        (
            ids::PLACEMENT_CONSTRAINTS_MAX,
            svc,
            create_service(constraints(10, "distinctInstance", None)),
            create_service(constraints(11, "distinctInstance", None)),
            "placementConstraints",
        ),
        (
            ids::PLACEMENT_EXPRESSION_LENGTH,
            usvc,
            upd(constraints(1, "memberOf", Some("é".repeat(2000)))),
            upd(constraints(1, "memberOf", Some("a".repeat(2001)))),
            "placementConstraints[0].expression",
        ),
        (
            ids::PLACEMENT_DISTINCT_INSTANCE_EXPRESSION,
            svc,
            create_service(constraints(
                1,
                "memberOf",
                Some("attribute:ecs.instance-type =~ t2.*".into()),
            )),
            create_service(constraints(
                1,
                "distinctInstance",
                Some("attribute:ecs.instance-type =~ t2.*".into()),
            )),
            "placementConstraints[0].expression",
        ),
        (
            ids::PLACEMENT_STRATEGIES_MAX,
            svc,
            create_service(strategies(5)),
            create_service(strategies(6)),
            "placementStrategy",
        ),
        (
            ids::CLIENT_TOKEN,
            ts,
            create_task_set(json!({"clientToken": "!".repeat(36)})),
            create_task_set(json!({"clientToken": "a".repeat(37)})),
            "clientToken",
        ),
        (
            ids::CLIENT_TOKEN,
            svc,
            create_service(json!({"clientToken": "~abc-123"})),
            create_service(json!({"clientToken": "has space"})),
            "clientToken",
        ),
        (
            ids::CLIENT_TOKEN,
            ts,
            create_task_set(json!({"clientToken": "x"})),
            create_task_set(json!({"clientToken": "caf\u{e9}"})),
            "clientToken",
        ),
    ]
}

#[test]
fn each_documented_rule_passes_inside_its_limit_and_fails_outside() {
    for (rule, check, pass, fail, path) in examples() {
        let ok = check(pass.clone());
        assert!(
            ok.is_empty(),
            "{rule}: expected no violation for {pass}\n got {:?}",
            ids_of(&ok)
        );
        let bad = check(fail.clone());
        assert_eq!(
            ids_of(&bad),
            vec![(rule, path.to_owned())],
            "{rule}: for {fail}"
        );
    }
}

#[test]
fn every_documented_rule_has_examples() {
    let covered: Vec<&str> = examples().iter().map(|e| e.0).collect();
    for rule in DOCUMENTED_RULES {
        assert!(
            covered.contains(&rule.id),
            "{} has no pass/fail example",
            rule.id
        );
        assert!(!rule.source.is_empty() && !rule.summary.is_empty());
    }
    let mut ids: Vec<&str> = DOCUMENTED_RULES.iter().map(|r| r.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), DOCUMENTED_RULES.len(), "rule ids are unique");
}

#[test]
fn model_traits_are_checked() {
    // required
    let v = violations::<CreateTaskSetRequest>(json!({"cluster": "c"}));
    assert_eq!(
        ids_of(&v),
        [
            ("model.required", "service".to_owned()),
            ("model.required", "taskDefinition".to_owned())
        ]
    );
    // length: tag key 1..=128, tags 0..=50, tag value 0..=256
    let v = violations::<TagResourceRequest>(
        json!({"resourceArn": "a", "tags": [{"key": "", "value": "x".repeat(257)}]}),
    );
    assert_eq!(
        ids_of(&v),
        [
            ("model.length", "tags[0].key".to_owned()),
            ("model.length", "tags[0].value".to_owned())
        ]
    );
    assert_eq!(v[0].kind, ViolationKind::TooShort);
    assert_eq!(v[1].kind, ViolationKind::TooLong);
    let fifty: Vec<Value> = (0..51).map(|i| json!({"key": format!("k{i}")})).collect();
    let v = violations::<TagResourceRequest>(json!({"resourceArn": "a", "tags": fifty}));
    assert_eq!(ids_of(&v), [("model.length", "tags".to_owned())]);
    // range: capacity provider weight 0..=1000, base 0..=100000
    let v = violations::<CreateTaskSetRequest>(create_task_set(
        json!({"capacityProviderStrategy": [{"capacityProvider": "a", "weight": 1001, "base": -1}]}),
    ));
    assert_eq!(
        ids_of(&v),
        [
            (
                "model.range",
                "capacityProviderStrategy[0].weight".to_owned()
            ),
            ("model.range", "capacityProviderStrategy[0].base".to_owned())
        ]
    );
    // enum: a request may not carry a value the model does not list
    let v = violations::<CreateTaskSetRequest>(create_task_set(json!({"launchType": "ORBITAL"})));
    assert_eq!(ids_of(&v), [("model.enum", "launchType".to_owned())]);
    assert_eq!(v[0].kind, ViolationKind::NotInEnum);
    // pattern: the whole key must match, not a substring
    let v = violations::<TagResourceRequest>(
        json!({"resourceArn": "a", "tags": [{"key": "ok#not", "value": "v"}]}),
    );
    assert_eq!(ids_of(&v), [("model.pattern", "tags[0].key".to_owned())]);
    let v = violations::<TagResourceRequest>(
        json!({"resourceArn": "a", "tags": [{"key": "Ünïcode key_1:/=+-@", "value": ""}]}),
    );
    assert!(v.is_empty(), "{v:?}");
}

#[test]
fn unions_need_exactly_one_member() {
    let none = ServiceConnectContainerConfiguration::default();
    let v = none.violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].rule, "model.union");
    assert_eq!(v[0].kind, ViolationKind::Conflict);
}

#[test]
fn upper_limits_are_told_apart_from_other_violations() {
    let v = violations::<CreateTaskSetRequest>(create_task_set(awsvpc(17, 0)));
    assert!(v[0].kind.is_upper_limit());
    let v = violations::<CreateTaskSetRequest>(json!({}));
    assert!(v.iter().all(|v| !v.kind.is_upper_limit()));
    let v = violations::<CreateTaskSetRequest>(create_task_set(json!({"scale": {"value": 250.0}})));
    assert!(
        !v[0].kind.is_upper_limit(),
        "a scale above 100% is meaningless, not a quota"
    );
}

#[test]
fn one_call_reports_every_violation_of_a_request() {
    let request = json!({
        "cluster": "c",
        "taskDefinition": "td",
        "launchType": "FARGATE",
        "capacityProviderStrategy": [{"capacityProvider": "A", "base": 1}, {"capacityProvider": "B", "base": 2, "weight": 5000}],
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": strings(17, "subnet"), "securityGroups": strings(6, "sg")}},
        "serviceRegistries": [{"registryArn": "arn:r", "port": 53, "containerName": "dns"}],
        "scale": {"value": 100.01, "unit": "PERCENT"},
        "clientToken": "a token that is far too long for the documented limit",
        "tags": [{"key": "aws:owner", "value": "x"}, {"key": "aws:owner", "value": "y"}, {"key": "", "value": "z"}]
    });
    let typed: CreateTaskSetRequest = ecs_model::from_value(&request).unwrap();
    let err = typed.validate().unwrap_err();
    let report: String = err.violations.iter().map(|v| format!("{v}\n")).collect();
    insta::assert_snapshot!("create_task_set_many_violations", report);
    assert_eq!(err.violations.len(), 15);
}
