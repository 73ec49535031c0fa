//! Round trips: the seed pages' request and response syntax, older API shapes, unknown values
//! and fields, absent-versus-zero, and decode errors that name the JSON path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use ecs_model::types::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// Deserialises `json` as `T`, serialises it back, and requires the same JSON.
fn round_trip<T: Serialize + DeserializeOwned>(what: &str, json: &Value) -> T {
    let typed: T =
        ecs_model::from_value(json).unwrap_or_else(|e| panic!("{what}: does not deserialise: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(&back, json, "{what}: re-serialised JSON differs");
    typed
}

#[test]
fn epoch_days_of_known_dates() {
    assert_eq!(support::epoch_days(1970, 1, 1), 0);
    assert_eq!(support::epoch_days(2015, 1, 1) * 86_400, 1_420_070_400);
}

#[test]
fn seed_request_syntax_round_trips() {
    let primary = support::calls(
        &support::seed("000"),
        "client.update_service_primary_task_set(",
    );
    let update = support::calls(&support::seed("001"), "client.update_service(");
    let create = support::calls(&support::seed("002"), "client.create_task_set(");
    let describe = support::calls(&support::seed("004"), "client.describe_task_sets(");
    let update_r = support::calls(&support::seed("003"), "svc$update_service(");
    assert_eq!((primary.len(), create.len(), describe.len()), (1, 1, 1));
    // The UpdateService pages have the syntax block and two worked examples each.
    assert_eq!((update.len(), update_r.len()), (3, 3));

    let r: UpdateServicePrimaryTaskSetRequest = round_trip("000 request", &primary[0]);
    assert_eq!(r.primary_task_set.as_deref(), Some("string"));

    let r: UpdateServiceRequest = round_trip("001 request", &update[0]);
    assert_eq!(r.force_new_deployment, Some(true));
    assert!(
        r.service_connect_configuration.is_some(),
        "the newer page carries serviceConnectConfiguration"
    );
    for (i, call) in update.iter().enumerate().skip(1) {
        let r: UpdateServiceRequest = round_trip(&format!("001 example {i}"), call);
        assert_eq!(r.service.as_deref(), Some("my-http-service"));
    }

    let r: CreateTaskSetRequest = round_trip("002 request", &create[0]);
    let scale = r.scale.unwrap();
    assert_eq!(scale.value.unwrap().to_string(), "123");
    assert_eq!(scale.unit, Some(ScaleUnit::Percent));
    assert_eq!(r.launch_type, Some(LaunchType::Ec2));
    assert_eq!(
        r.network_configuration
            .unwrap()
            .awsvpc_configuration
            .unwrap()
            .assign_public_ip,
        Some(AssignPublicIp::Enabled)
    );

    let r: DescribeTaskSetsRequest = round_trip("004 request", &describe[0]);
    assert_eq!(r.include, Some(vec![TaskSetField::Tags]));

    for (i, call) in update_r.iter().enumerate() {
        let r: UpdateServiceRequest = round_trip(&format!("003 request {i}"), call);
        assert!(r.service.is_some());
        assert!(r.unknown_fields.is_empty());
    }
    let example: UpdateServiceRequest = ecs_model::from_value(&update_r[2]).unwrap();
    assert_eq!(example.desired_count, Some(10));
}

#[test]
fn seed_response_syntax_round_trips() {
    let r: UpdateServicePrimaryTaskSetResponse = round_trip(
        "000 response",
        &support::python_dict_after(&support::seed("000"), "Response Syntax"),
    );
    let ts = r.task_set.unwrap();
    assert_eq!(ts.computed_desired_count, Some(123));
    assert_eq!(ts.created_at.map(|t| t.secs()), Some(1_420_070_400));
    assert_eq!(ts.stability_status, Some(StabilityStatus::SteadyState));
    assert_eq!(ts.status.as_ref().map(|s| s.as_str()), Some("string"));

    let r: UpdateServiceResponse = round_trip(
        "001 response",
        &support::python_dict_after(&support::seed("001"), "Response Syntax"),
    );
    let svc = r.service.unwrap();
    assert!(svc.task_sets.as_ref().is_some_and(|t| !t.is_empty()));
    assert!(svc.deployments.as_ref().is_some_and(|d| !d.is_empty()));

    let r: CreateTaskSetResponse = round_trip(
        "002 response",
        &support::python_dict_after(&support::seed("002"), "Response Syntax"),
    );
    assert_eq!(
        r.task_set.unwrap().scale.unwrap().unit,
        Some(ScaleUnit::Percent)
    );

    let r: DescribeTaskSetsResponse = round_trip(
        "004 response",
        &support::python_dict_after(&support::seed("004"), "Response Syntax"),
    );
    let ts = &r.task_sets.unwrap()[0];
    assert!(
        ts.fargate_ephemeral_storage.is_some(),
        "the 004 page's TaskSet carries fargateEphemeralStorage"
    );
    assert_eq!(r.failures.unwrap()[0].reason.as_deref(), Some("string"));
}

#[test]
fn older_update_service_response_from_the_r_page_deserialises() {
    let json = support::r_list_after(&support::seed("003"), "A list with the following syntax:");
    let r: UpdateServiceResponse = round_trip("003 response", &json);
    let svc = r.service.unwrap();
    // Members of the newer API are absent, not defaulted.
    let deployment = &svc.deployments.as_ref().unwrap()[0];
    assert_eq!(deployment.service_connect_configuration, None);
    assert!(deployment.unknown_fields.is_empty());
    assert_eq!(
        svc.deployment_controller.as_ref().map(|d| d.r#type.clone()),
        Some(Some(DeploymentControllerType::Ecs))
    );
    let ts = &svc.task_sets.unwrap()[0];
    assert_eq!(ts.launch_type, Some(LaunchType::Ec2));
    assert_eq!(ts.fargate_ephemeral_storage, None);
    assert_eq!(ts.updated_at.map(|t| t.secs()), Some(1_420_070_400));
}

#[test]
fn unknown_enum_values_and_unknown_fields_survive_a_round_trip() {
    let json = json!({
        "taskSets": [{
            "id": "ecs-svc/1234567890123456789",
            "status": "PAUSED",
            "launchType": "ORBITAL",
            "stabilityStatus": "WOBBLING",
            "scale": {"value": 50.0, "unit": "PERMILLE", "precision": 3},
            "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "burst": true}],
            "futureMember": {"nested": [1, 2, {"deep": null}]}
        }],
        "failures": [],
        "nextToken": "not-in-this-model"
    });
    let r: DescribeTaskSetsResponse = round_trip("forward compatible answer", &json);
    let ts = &r.task_sets.as_ref().unwrap()[0];
    assert_eq!(ts.launch_type, Some(LaunchType::from("ORBITAL")));
    // The value is kept opaque: matched as Unknown, read through the enum.
    assert!(matches!(ts.launch_type, Some(LaunchType::Unknown(_))));
    assert_eq!(
        ts.launch_type.as_ref().map(LaunchType::as_str),
        Some("ORBITAL")
    );
    assert_eq!(ts.stability_status, Some(StabilityStatus::from("WOBBLING")));
    assert!(!ts.status.as_ref().unwrap().is_known());
    assert_eq!(ts.unknown_fields["futureMember"]["nested"][1], json!(2));
    assert_eq!(
        ts.scale.as_ref().unwrap().unknown_fields["precision"],
        json!(3)
    );
    assert_eq!(r.unknown_fields["nextToken"], json!("not-in-this-model"));
    assert_eq!(
        r.failures.as_deref(),
        Some(&[][..]),
        "an empty list stays an empty list"
    );
}

#[test]
fn an_absent_member_is_not_zero() {
    let zero: TaskSet =
        serde_json::from_value(json!({"computedDesiredCount": 0, "tags": []})).unwrap();
    let absent: TaskSet = serde_json::from_value(json!({})).unwrap();
    assert_eq!(zero.computed_desired_count, Some(0));
    assert_eq!(zero.tags, Some(vec![]));
    assert_eq!(absent.computed_desired_count, None);
    assert_eq!(absent.tags, None);
    assert_eq!(serde_json::to_value(&absent).unwrap(), json!({}));
    // JSON null reads as absent.
    let null: TaskSet = serde_json::from_value(json!({"runningCount": null})).unwrap();
    assert_eq!(null.running_count, None);
}

#[test]
fn timestamps_keep_their_fractions() {
    let json = json!({"createdAt": 1557128401.102, "updatedAt": 1557128401});
    let ts: TaskSet = round_trip("timestamps", &json);
    let created = ts.created_at.unwrap();
    assert_eq!(
        (created.secs(), created.subsec_nanos()),
        (1_557_128_401, 102_000_000)
    );
    assert_eq!(ts.updated_at.unwrap().subsec_nanos(), 0);
}

#[test]
fn open_status_values_read_as_their_variants() {
    let ts: TaskSet = serde_json::from_value(json!({"status": "DRAINING"})).unwrap();
    assert_eq!(ts.status, Some(TaskSetStatus::Draining));
    assert!(ts.status.unwrap().is_known());
    assert_eq!(TaskSetStatus::VALUES, ["PRIMARY", "ACTIVE", "DRAINING"]);
}

#[test]
fn decode_errors_name_the_json_path() {
    let err = ecs_model::from_json::<CreateServiceRequest>(
        br#"{"serviceName":"a","healthCheckGracePeriodSeconds":2147483648}"#,
    )
    .unwrap_err();
    assert_eq!(err.path, "healthCheckGracePeriodSeconds");
    assert_eq!(err.line, 1);

    let err = ecs_model::from_json::<DescribeTaskSetsResponse>(
        br#"{"taskSets":[{"id":"a"},{"scale":{"value":"fifty"}}]}"#,
    )
    .unwrap_err();
    assert_eq!(err.path, "taskSets[1].scale.value");
    assert!(err.message.contains("number"), "{err}");

    let err = ecs_model::from_json::<DescribeTaskSetsResponse>(br#"{"taskSets":{"id":"a"}}"#)
        .unwrap_err();
    assert_eq!(err.path, "taskSets");

    let err = ecs_model::from_json::<TaskSet>(b"<html>500</html>").unwrap_err();
    assert_eq!(err.path, "");
    assert!(err.to_string().starts_with("(document)"), "{err}");
}
