//! Exact `computedDesiredCount` and the answer invariants.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecs_model::semantics::{self, computed_desired_count, ids, DesiredCountError, TaskSetContext};
use ecs_model::types::*;
use ecs_model::Decimal;
use proptest::prelude::*;
use serde_json::json;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn documented_examples_round_up() {
    // "if the computed desired count is 1.2, it rounds up to 2 tasks"
    assert_eq!(computed_desired_count(4, d("30")).unwrap(), 2); // 1.2
    assert_eq!(computed_desired_count(3, d("33.3")).unwrap(), 1); // 0.999
    assert_eq!(computed_desired_count(10, d("50")).unwrap(), 5);
    assert_eq!(computed_desired_count(10, d("0")).unwrap(), 0);
    assert_eq!(computed_desired_count(0, d("100")).unwrap(), 0);
    assert_eq!(computed_desired_count(7, d("100")).unwrap(), 7);
    assert_eq!(computed_desired_count(1, d("0.0001")).unwrap(), 1);
    assert_eq!(
        computed_desired_count(i32::MAX, d("100")).unwrap(),
        i32::MAX
    );
    // 2147483647 x 0.999999999 = 2147483644.852516353
    assert_eq!(
        computed_desired_count(i32::MAX, d("99.9999999")).unwrap(),
        2_147_483_645
    );
}

#[test]
fn exact_where_f64_multiply_then_ceil_is_wrong() {
    // 250 x 64.4 / 100 is exactly 161; in f64 it comes out as 161.00000000000003.
    let naive = (250.0_f64 * 64.4 / 100.0).ceil() as i32;
    assert_eq!(naive, 162);
    assert_eq!(computed_desired_count(250, d("64.4")).unwrap(), 161);
    // The same value arriving as a JSON double on the wire.
    let scale: Scale = serde_json::from_value(json!({"value": 64.4, "unit": "PERCENT"})).unwrap();
    assert_eq!(
        semantics::computed_desired_count_for(250, &scale).unwrap(),
        161
    );
    assert_eq!(computed_desired_count(375, d("8.8")).unwrap(), 33);
}

#[test]
fn bad_inputs_are_errors() {
    assert_eq!(
        computed_desired_count(-1, d("50")),
        Err(DesiredCountError::NegativeDesiredCount(-1))
    );
    assert!(matches!(
        computed_desired_count(1, d("100.1")),
        Err(DesiredCountError::ScaleOutOfRange(_))
    ));
    assert!(matches!(
        computed_desired_count(1, d("-0.1")),
        Err(DesiredCountError::ScaleOutOfRange(_))
    ));
    let scale = Scale::builder()
        .value(d("10"))
        .unit(ScaleUnit::from("PERMILLE"))
        .build();
    assert!(matches!(
        semantics::computed_desired_count_for(5, &scale),
        Err(DesiredCountError::UnknownUnit(_))
    ));
}

proptest! {
    /// Against an independent integer reference: scale as hundredths of a percent.
    #[test]
    fn matches_integer_reference(desired in 0i32..=100_000, hundredths in 0u32..=10_000) {
        let expected = ((i64::from(desired) * i64::from(hundredths)) + 9_999) / 10_000;
        let text = format!("{}.{:02}", hundredths / 100, hundredths % 100);
        prop_assert_eq!(i64::from(computed_desired_count(desired, d(&text)).unwrap()), expected);
        // And through the wire: a JSON double.
        let wire: Decimal = serde_json::from_str(&format!("{}", f64::from(hundredths) / 100.0)).unwrap();
        prop_assert_eq!(i64::from(computed_desired_count(desired, wire).unwrap()), expected);
    }

    /// Never above the service's desired count, never negative, monotonic in the scale.
    #[test]
    fn bounded_and_monotonic(desired in 0i32..=i32::MAX, a in 0u32..=1_000_000, b in 0u32..=1_000_000) {
        let (lo, hi) = (a.min(b), a.max(b));
        let at = |n: u32| computed_desired_count(desired, Decimal::new(rust_decimal::Decimal::new(i64::from(n), 4))).unwrap();
        prop_assert!(at(lo) <= at(hi));
        prop_assert!(at(hi) <= desired && at(lo) >= 0);
    }
}

fn task_set(v: serde_json::Value) -> TaskSet {
    serde_json::from_value(v).unwrap()
}

fn rules(v: &[ecs_model::Violation]) -> Vec<&'static str> {
    v.iter().map(|v| v.rule).collect()
}

#[test]
fn a_consistent_task_set_has_no_invariant_violations() {
    let ts = task_set(json!({
        "id": "ecs-svc/1234567890123456789",
        "taskSetArn": "arn:aws:ecs:us-east-1:123456789012:task-set/prod/web/ecs-svc/1234567890123456789",
        "status": "ACTIVE", "computedDesiredCount": 2, "pendingCount": 0, "runningCount": 2,
        "createdAt": 1557128360.831, "updatedAt": 1557128360.831,
        "scale": {"value": 30.0, "unit": "PERCENT"}, "stabilityStatus": "STEADY_STATE"
    }));
    let ctx = TaskSetContext {
        desired_counts: &[4],
        ..Default::default()
    };
    assert_eq!(semantics::task_set_invariants(&ts, ctx), vec![]);
}

#[test]
fn each_invariant_catches_its_departure() {
    let ctx = TaskSetContext {
        desired_counts: &[4],
        ..Default::default()
    };
    let cases = [
        (
            json!({"computedDesiredCount": 1, "scale": {"value": 30.0, "unit": "PERCENT"}}),
            ids::COMPUTED_DESIRED_COUNT,
        ),
        (
            json!({"stabilityStatus": "STEADY_STATE", "computedDesiredCount": 2, "runningCount": 1, "pendingCount": 0}),
            ids::STEADY_STATE_COUNTS,
        ),
        (
            json!({"stabilityStatus": "STEADY_STATE", "computedDesiredCount": 2, "runningCount": 2, "pendingCount": 1}),
            ids::STEADY_STATE_COUNTS,
        ),
        (
            json!({"createdAt": 1557128361, "updatedAt": 1557128360}),
            ids::CREATED_NOT_AFTER_UPDATED,
        ),
        (json!({"runningCount": -1}), ids::COUNTS_NON_NEGATIVE),
        (json!({"status": "PAUSED"}), ids::STATUS_KNOWN),
        (
            json!({"scale": {"value": 120.0, "unit": "PERCENT"}}),
            ids::SCALE_RANGE,
        ),
        (
            json!({"id": "ecs-svc/1", "taskSetArn": "arn:aws:ecs:us-east-1:1:task-set/c/s/ecs-svc/2"}),
            ids::ARN_ENDS_WITH_ID,
        ),
        (
            json!({"tags": [{"key": "k", "value": "v"}]}),
            ids::TAGS_ONLY_WHEN_ASKED,
        ),
    ];
    for (json, rule) in cases {
        let got = semantics::task_set_invariants(&task_set(json.clone()), ctx);
        assert_eq!(rules(&got), vec![rule], "{json}");
    }
    // STABILIZING with counts not yet there is fine; tags are fine when asked for.
    let ok = task_set(
        json!({"stabilityStatus": "STABILIZING", "computedDesiredCount": 2, "runningCount": 0, "pendingCount": 2, "tags": [{"key": "k"}]}),
    );
    assert_eq!(
        semantics::task_set_invariants(
            &ok,
            TaskSetContext {
                desired_counts: &[4],
                scales_seen: &[],
                tags_requested: true
            }
        ),
        vec![]
    );
}

#[test]
fn a_service_has_at_most_one_primary_task_set() {
    let svc: Service = serde_json::from_value(json!({
        "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/c/web",
        "desiredCount": 10,
        "taskSets": [
            {"id": "a", "status": "PRIMARY", "computedDesiredCount": 10, "scale": {"value": 100.0, "unit": "PERCENT"}},
            {"id": "b", "status": "PRIMARY", "computedDesiredCount": 4, "scale": {"value": 50.0, "unit": "PERCENT"}}
        ]
    }))
    .unwrap();
    let mut seen = semantics::Observations::default();
    seen.observe_service(&svc);
    let got = semantics::service_invariants(&svc, &seen, false);
    assert_eq!(
        rules(&got),
        vec![ids::SINGLE_PRIMARY, ids::COMPUTED_DESIRED_COUNT]
    );
    assert_eq!(got[1].path, "taskSets[1].computedDesiredCount");
}

/// AWS answers a change with the count from before it and recomputes seconds later (the
/// update-task-set and update-service-primary-task-set examples of the AWS CLI): a count that an
/// earlier desiredCount or scale gives is not a departure; one that none gives is.
#[test]
fn a_count_from_before_the_change_is_accepted_until_it_settles() {
    let set = |computed: i32, scale: f64| {
        task_set(
            json!({"id": "ecs-svc/1", "serviceArn": "arn:aws:ecs:us-west-2:123456789012:service/MyCluster/MyService",
            "computedDesiredCount": computed, "scale": {"value": scale, "unit": "PERCENT"}}),
        )
    };
    let mut seen = semantics::Observations::default();
    seen.observe_desired(
        "arn:aws:ecs:us-west-2:123456789012:service/MyCluster/MyService",
        1,
    );
    seen.observe_task_set(&set(0, 0.0));
    // update-task-set: scale 50, still 0.
    let answer = set(0, 50.0);
    seen.observe_task_set(&answer);
    assert_eq!(
        semantics::task_set_invariants(&answer, seen.context_for(&answer, false)),
        vec![]
    );
    // update-service-primary-task-set 133 s later: ceil(1 x 50%) = 1.
    let settled = set(1, 50.0);
    assert_eq!(
        semantics::task_set_invariants(&settled, seen.context_for(&settled, false)),
        vec![]
    );
    // The old service ARN format (no cluster) names the same service.
    let mut old_arn = set(1, 50.0);
    old_arn.service_arn = Some("arn:aws:ecs:us-west-2:123456789012:service/MyService".into());
    assert_eq!(
        semantics::task_set_invariants(&old_arn, seen.context_for(&old_arn, false)),
        vec![]
    );
    // 250 x 64.4% is exactly 161: 162 is never right, whatever was seen before.
    let mut seen = semantics::Observations::default();
    seen.observe_desired("web", 250);
    let wrong = task_set(
        json!({"id": "x", "serviceArn": "arn:aws:ecs:us-east-1:1:service/c/web",
        "computedDesiredCount": 162, "scale": {"value": 64.4, "unit": "PERCENT"}}),
    );
    seen.observe_task_set(&wrong);
    let got = semantics::task_set_invariants(&wrong, seen.context_for(&wrong, false));
    assert_eq!(rules(&got), vec![ids::COMPUTED_DESIRED_COUNT]);
    assert!(got[0].message.contains("= 161"), "{}", got[0].message);
}
