//! The fixture loader and the matcher take any input without panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use ecs_harness::fixture::parse_file;
use ecs_harness::matcher::{check, lookup, substitute, Vars};
use proptest::prelude::*;
use serde_json::Value;

const WORDS: &[&str] = &[
    "cases",
    "id",
    "rules",
    "provenance",
    "kind",
    "documented",
    "derived",
    "assumed",
    "recorded",
    "source",
    "field",
    "from",
    "assumption",
    "steps",
    "op",
    "request",
    "expect",
    "body",
    "error",
    "capture",
    "poll",
    "timeout_ms",
    "setup",
    "@any",
    "@absent",
    "@token:a",
    "@unordered",
    "@arn:task-set",
    "{{unique}}",
    "{{x}}",
    "DescribeTaskSets",
    "x",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(WORDS).prop_map(Value::from),
        "[ -~]{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(WORDS), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn validator() -> jsonschema::Validator {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/schema/fixture.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft202012::new(&schema).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(500), ..ProptestConfig::default() })]

    #[test]
    fn the_loader_reports_instead_of_panicking(doc in arb_json(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let v = validator();
        let mut errors = vec![];
        let cases = parse_file("f.json", &doc.to_string(), &v, &mut errors);
        prop_assert!(cases.is_empty() || errors.is_empty());
        let mut errors = vec![];
        let _ = parse_file("f.json", &String::from_utf8_lossy(&bytes), &v, &mut errors);
        prop_assert!(errors.iter().all(|e| e.file == "f.json" && e.path.starts_with('/')));
    }

    #[test]
    fn matching_and_substitution_never_panic(expected in arb_json(), actual in arb_json(), path in "[$.a-z0-9\\[\\]]{0,12}") {
        let mut tokens = Vars::new();
        let mut out = vec![];
        check(&expected, Some(&actual), "", &mut tokens, &mut out);
        check(&expected, None, "", &mut tokens, &mut out);
        // A value always matches itself when it holds no matchers.
        if !expected.to_string().contains('@') {
            let mut same = vec![];
            check(&expected, Some(&expected), "", &mut Vars::new(), &mut same);
            prop_assert!(same.is_empty(), "{expected} does not match itself: {same:?}");
        }
        let vars: Vars = [("x".to_owned(), actual.clone()), ("unique".to_owned(), Value::from("u"))].into_iter().collect();
        let _ = substitute(&expected, &vars);
        let _ = lookup(&actual, &path);
    }
}
