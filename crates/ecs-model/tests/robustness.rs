//! Arbitrary JSON, shaped from real member names so that decoding reaches deep: decoding and
//! validating never panic, and whatever decodes is a fixed point of serialise-then-decode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecs_model::types::*;
use ecs_model::Validate;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

const KEYS: &[&str] = &[
    "taskSets",
    "taskSet",
    "scale",
    "value",
    "unit",
    "createdAt",
    "updatedAt",
    "tags",
    "key",
    "status",
    "launchType",
    "networkConfiguration",
    "awsvpcConfiguration",
    "subnets",
    "securityGroups",
    "computedDesiredCount",
    "failures",
    "arn",
    "capacityProviderStrategy",
    "base",
    "weight",
    "serviceRegistries",
    "port",
    "containerName",
    "clientToken",
    "cluster",
    "service",
    "taskDefinition",
    "include",
    "stabilityStatus",
    "unknownThing",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1.0e12f64..1.0e12).prop_map(Value::from),
        prop::sample::select(vec![
            "PERCENT",
            "FARGATE",
            "PRIMARY",
            "STEADY_STATE",
            "aws:x",
            "",
            "ORBITAL"
        ])
        .prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn check<T: DeserializeOwned + Serialize + Validate + PartialEq + std::fmt::Debug>(
    json: &Value,
) -> Result<(), TestCaseError> {
    if let Ok(typed) = ecs_model::from_value::<T>(json) {
        let _ = typed.violations();
        let again: T = ecs_model::from_value(&serde_json::to_value(&typed).unwrap()).unwrap();
        prop_assert_eq!(again, typed);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512), ..ProptestConfig::default() })]

    #[test]
    fn decoding_arbitrary_json_never_panics(json in arb_json()) {
        check::<DescribeTaskSetsResponse>(&json)?;
        check::<CreateTaskSetRequest>(&json)?;
        check::<UpdateServiceRequest>(&json)?;
        check::<TaskSet>(&json)?;
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = ecs_model::from_json::<DescribeTaskSetsResponse>(&bytes);
    }
}

/// The reference: parse the shortest text (None where it has more than 9 fraction digits,
/// which DateTime refuses).
fn epoch_by_text(v: f64) -> Option<aws_smithy_types::DateTime> {
    let text = format!("{v}");
    let text = if text == "-0" { "0".to_owned() } else { text };
    aws_smithy_types::DateTime::from_str(&text, aws_smithy_types::date_time::Format::EpochSeconds)
        .ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2000), ..ProptestConfig::default() })]

    /// The whole-millisecond fast path gives exactly what parsing the shortest text gives, and
    /// refuses exactly what it refuses.
    #[test]
    fn epoch_fast_path_matches_the_shortest_text(ms in 0i64..100_000_000_000_000, micros in 0u32..1000, any in -1e12f64..2e11) {
        for v in [ms as f64 / 1000.0, (ms as f64 + f64::from(micros) / 1000.0) / 1000.0, any, any.abs(), (any * 1000.0).round() / 1000.0] {
            prop_assert_eq!(ecs_model::wire::epoch_from_f64(v).ok(), epoch_by_text(v), "{}", v);
        }
    }

    /// The exact-arithmetic path of `Decimal::from_f64` gives what parsing the shortest text
    /// gives, for percents, short fractions and any double.
    #[test]
    fn decimal_fast_path_matches_the_shortest_text(
        m in -1_000_000_000_000i64..1_000_000_000_000,
        k in 0u32..9,
        any in any::<f64>(),
    ) {
        let short = m as f64 / 10f64.powi(k as i32);
        for v in [short, any, any / 1e300, (any % 1e9).abs()] {
            let by_text = format!("{v}");
            let by_text = if by_text == "-0" { "0".to_owned() } else { by_text };
            // Compared as text too: equal decimals of different scales (50 and 50.0) print
            // differently.
            let expected = by_text.parse::<ecs_model::Decimal>().ok().map(|d| d.to_string());
            let fast = ecs_model::Decimal::from_f64(v).ok().map(|d| d.to_string());
            prop_assert_eq!(fast, expected, "{}", v);
        }
    }
}
