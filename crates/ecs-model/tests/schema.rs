//! The generated JSON Schemas validate raw JSON through the `jsonschema` crate: forward
//! compatible (unknown members and enum values pass), strict on types, nesting and limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};

fn validator(shape: &str) -> jsonschema::Validator {
    let schema = ecs_model::schema::for_shape(shape).unwrap();
    jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("schema of {shape} does not compile: {e}"))
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_schema_document_is_draft_2020_12_and_names_its_generator() {
    let doc = ecs_model::schema::document();
    assert_eq!(
        doc["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(doc["$comment"]
        .as_str()
        .unwrap()
        .contains("cargo xtask codegen"));
    assert!(ecs_model::schema::for_shape("NoSuchShape").is_none());
}

#[test]
fn seed_responses_validate() {
    for (seed, shape) in [
        ("000", "UpdateServicePrimaryTaskSetResponse"),
        ("001", "UpdateServiceResponse"),
        ("002", "CreateTaskSetResponse"),
        ("004", "DescribeTaskSetsResponse"),
    ] {
        let json = support::python_dict_after(&support::seed(seed), "Response Syntax");
        assert_eq!(
            errors(&validator(shape), &json),
            Vec::<String>::new(),
            "seed {seed}"
        );
    }
    let older = support::r_list_after(&support::seed("003"), "A list with the following syntax:");
    assert_eq!(
        errors(&validator("UpdateServiceResponse"), &older),
        Vec::<String>::new(),
        "seed 003"
    );
}

#[test]
fn unknown_members_and_enum_values_validate() {
    let v = validator("DescribeTaskSetsResponse");
    let answer = json!({
        "taskSets": [{"id": "ecs-svc/1", "launchType": "ORBITAL", "status": "PAUSED", "newThing": {"a": 1},
                      "scale": {"value": 12.5, "unit": "PERMILLE"}}],
        "failures": [],
        "somethingNew": true
    });
    assert_eq!(errors(&v, &answer), Vec::<String>::new());
}

#[test]
fn wrong_types_nesting_and_limits_do_not_validate() {
    let v = validator("DescribeTaskSetsResponse");
    let cases = [
        (
            json!({"taskSets": [{"computedDesiredCount": "1"}]}),
            "/taskSets/0/computedDesiredCount",
        ),
        (json!({"taskSets": {"id": "a"}}), "/taskSets"),
        (
            json!({"taskSets": [{"launchType": 3}]}),
            "/taskSets/0/launchType",
        ),
        (json!({"taskSets": [{"scale": [50]}]}), "/taskSets/0/scale"),
        (
            json!({"taskSets": [{"createdAt": "2015-01-01"}]}),
            "/taskSets/0/createdAt",
        ),
        (
            json!({"taskSets": [{"runningCount": 2147483648i64}]}),
            "/taskSets/0/runningCount",
        ),
        (
            json!({"taskSets": [{"runningCount": 1.5}]}),
            "/taskSets/0/runningCount",
        ),
        (json!({"taskSets": [{"id": null}]}), "/taskSets/0/id"),
        (
            json!({"taskSets": [{"tags": [{"key": "bad#key"}]}]}),
            "/taskSets/0/tags/0/key",
        ),
        (json!({"failures": [{"arn": ["x"]}]}), "/failures/0/arn"),
        (json!("<html>"), ""),
    ];
    for (answer, path) in cases {
        let errs: Vec<String> = v
            .iter_errors(&answer)
            .map(|e| e.instance_path().to_string())
            .collect();
        assert!(
            errs.iter().any(|p| p == path),
            "{answer} should fail at {path:?}, got {errs:?}"
        );
    }
}

#[test]
fn required_members_are_required_in_requests() {
    let v = validator("CreateTaskSetRequest");
    assert!(!v.is_valid(&json!({"cluster": "c", "service": "s"})));
    assert!(v.is_valid(&json!({"cluster": "c", "service": "s", "taskDefinition": "t"})));
}

#[test]
fn every_operation_schema_compiles() {
    // One validator per operation input and output: 176 compilations of the whole document.
    for op in ecs_model::operations::OPERATIONS {
        for shape in [op.input_shape, op.output_shape] {
            let v = validator(shape);
            assert!(
                v.is_valid(&json!({})) || shape.ends_with("Request"),
                "{shape}: an empty answer is valid"
            );
        }
    }
}
