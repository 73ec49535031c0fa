//! Snapshot tests of the API's shape: the operation table, the JSON Schema of the seed
//! operations, and a canonical serialised request of each seed operation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecs_model::operations::{self, OPERATIONS};
use ecs_model::types::*;
use ecs_model::{Operation, Validate};
use serde_json::{json, Value};

/// The operations built without the `full` feature (`default_operations` in model/codegen.json).
const DEFAULT_OPERATIONS: usize = 20;

#[test]
fn the_model_has_every_operation_and_shape() {
    let built = if cfg!(feature = "full") {
        88
    } else {
        DEFAULT_OPERATIONS
    };
    assert_eq!(OPERATIONS.len(), built);
    assert_eq!(ecs_model::OPERATION_COUNT, 88);
    assert_eq!(ecs_model::SHAPE_COUNT, 743);
    assert_eq!(ecs_model::schema::shapes().count(), 743);
}

/// The whole table, with `full` (as the workspace's tests build it).
#[cfg(feature = "full")]
#[test]
fn operation_table() {
    let table: String = OPERATIONS
        .iter()
        .map(|op| {
            let mut flags = Vec::new();
            if op.readonly {
                flags.push("readonly".to_owned());
            }
            if op.idempotent {
                flags.push("idempotent".to_owned());
            }
            if let Some(t) = op.idempotency_token {
                flags.push(format!("token={t}"));
            }
            let errors: Vec<&str> = op.errors.iter().map(|e| e.code()).collect();
            format!(
                "{} | {} | {} -> {} | {} | {}\n",
                op.name,
                op.target,
                op.input_shape,
                op.output_shape,
                errors.join(","),
                flags.join(",")
            )
        })
        .collect();
    insta::assert_snapshot!("operation_table", table);
}

#[test]
fn operations_are_found_by_name_and_target() {
    let op =
        ecs_model::operation::find("AmazonEC2ContainerServiceV20141113.CreateTaskSet").unwrap();
    assert_eq!(op, &operations::CreateTaskSet::INFO);
    assert_eq!(
        ecs_model::operation::find("DescribeTaskSets")
            .unwrap()
            .input_shape,
        "DescribeTaskSetsRequest"
    );
    assert!(ecs_model::operation::find("OtherService.CreateTaskSet").is_none());
    assert!(ecs_model::operation::find("NoSuchOperation").is_none());
}

fn defs() -> &'static serde_json::Map<String, Value> {
    ecs_model::schema::document()["$defs"].as_object().unwrap()
}

#[test]
fn schemas_of_the_seed_operations() {
    for (op, name) in [
        (operations::CreateTaskSet::INFO, "schema_create_task_set"),
        (
            operations::DescribeTaskSets::INFO,
            "schema_describe_task_sets",
        ),
        (
            operations::UpdateServicePrimaryTaskSet::INFO,
            "schema_update_service_primary_task_set",
        ),
        (operations::UpdateService::INFO, "schema_update_service"),
    ] {
        let schema = json!({
            "input": defs()[op.input_shape],
            "output": defs()[op.output_shape],
        });
        insta::assert_json_snapshot!(name, schema);
    }
    insta::assert_json_snapshot!(
        "schema_task_set",
        json!({"TaskSet": defs()["TaskSet"], "Scale": defs()["Scale"]})
    );
}

fn canonical_create_task_set() -> CreateTaskSetRequest {
    CreateTaskSetRequest::builder().service("web").cluster("prod").external_id("deploy-42").task_definition("arn:aws:ecs:us-east-1:123456789012:task-definition/web:7").set_network_configuration(Some(NetworkConfiguration::builder().set_awsvpc_configuration(Some(AwsVpcConfiguration::builder().set_subnets(Some(vec!["subnet-0a1b2c3d".into(), "subnet-4e5f6a7b".into()])).set_security_groups(Some(vec!["sg-0123456789abcdef0".into()])).assign_public_ip(AssignPublicIp::Disabled).build())).build())).set_load_balancers(Some(vec![LoadBalancer::builder().target_group_arn("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/0123456789abcdef").container_name("web").container_port(8080).build()])).launch_type(LaunchType::Fargate).platform_version("LATEST").set_scale(Some(Scale::builder().set_value(Some("33.3".parse().unwrap())).unit(ScaleUnit::Percent).build())).client_token("8f14e45f-ceea-467f-a0e6-6a1c2c4e5b6d").set_tags(Some(vec![Tag::builder().key("color").value("green").build()])).build()
}

#[test]
fn canonical_requests_of_the_seed_operations() {
    let create = canonical_create_task_set();
    assert_eq!(create.violations(), vec![]);
    insta::assert_json_snapshot!("request_create_task_set", create);

    let describe = DescribeTaskSetsRequest::builder()
        .cluster("prod")
        .service("web")
        .set_task_sets(Some(vec!["ecs-svc/1234567890123456789".into()]))
        .set_include(Some(vec![TaskSetField::Tags]))
        .build();
    assert_eq!(describe.violations(), vec![]);
    insta::assert_json_snapshot!("request_describe_task_sets", describe);

    let primary = UpdateServicePrimaryTaskSetRequest::builder()
        .cluster("prod")
        .service("web")
        .set_primary_task_set(Some(
            "arn:aws:ecs:us-east-1:123456789012:task-set/prod/web/ecs-svc/1234567890123456789"
                .into(),
        ))
        .build();
    assert_eq!(primary.violations(), vec![]);
    insta::assert_json_snapshot!("request_update_service_primary_task_set", primary);

    let update = UpdateServiceRequest::builder()
        .cluster("prod")
        .service("web")
        .desired_count(10)
        .health_check_grace_period_seconds(60)
        .set_placement_strategy(Some(vec![PlacementStrategy::builder()
            .r#type(PlacementStrategyType::Spread)
            .field("attribute:ecs.availability-zone")
            .build()]))
        .build();
    assert_eq!(update.violations(), vec![]);
    insta::assert_json_snapshot!("request_update_service", update);
}

/// The version constants say the botocore release the model derivative records.
#[test]
fn the_version_constants_match_the_model_provenance() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/model/PROVENANCE.json");
    let provenance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let recorded = provenance["version"].as_str().unwrap();
    assert_eq!(ecs_model::BOTOCORE_VERSION, recorded, "{path}");
    assert!(
        ecs_model::MODEL_SOURCE.starts_with(&format!("botocore {recorded},")),
        "{}",
        ecs_model::MODEL_SOURCE
    );
}
