//! The generated builders and open enums, as a caller outside the crate uses them (structures
//! are `#[non_exhaustive]`, so this is the only way to make one here).

use ecs_model::types::{
    AwsVpcConfiguration, CreateTaskSetRequest, NetworkConfiguration, Scale, ScaleBuilder,
    ScaleUnit, Tag, TaskSet, TaskSetStatus,
};
use ecs_model::{from_json, Decimal, Validate};

#[test]
fn a_builder_sets_each_member_it_is_given_and_nothing_else() {
    let scale = Scale::builder().value(25).unit(ScaleUnit::Percent).build();
    assert_eq!(scale.value, Some(Decimal::from(25)));
    assert_eq!(scale.unit, Some(ScaleUnit::Percent));
    assert!(scale.unknown_fields.is_empty());
    assert_eq!(Scale::builder().build(), Scale::default());
}

#[test]
fn list_setters_append_and_set_replaces_or_clears() {
    let vpc = AwsVpcConfiguration::builder()
        .subnets("subnet-1")
        .subnets(String::from("subnet-2"))
        .security_groups("sg-1")
        .assign_public_ip(ecs_model::types::AssignPublicIp::Enabled)
        .build();
    assert_eq!(
        vpc.subnets,
        Some(vec!["subnet-1".to_owned(), "subnet-2".to_owned()])
    );
    let replaced = ecs_model::types::AwsVpcConfigurationBuilder::from(vpc.clone())
        .set_subnets(Some(vec!["subnet-9".into()]))
        .set_security_groups(None)
        .build();
    assert_eq!(replaced.subnets, Some(vec!["subnet-9".to_owned()]));
    assert_eq!(replaced.security_groups, None);
    // The builder started from `vpc` and kept what it did not touch.
    assert_eq!(
        replaced.assign_public_ip,
        Some(ecs_model::types::AssignPublicIp::Enabled)
    );
}

#[test]
fn nested_builders_give_the_same_request_as_the_wire_form() {
    let built = CreateTaskSetRequest::builder()
        .cluster("prod")
        .service("web")
        .task_definition("web:7")
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(AwsVpcConfiguration::builder().subnets("subnet-1").build())
                .build(),
        )
        .scale(Scale::percent(12.5))
        .tags(Tag::builder().key("team").value("blue").build())
        .build();
    let read: CreateTaskSetRequest = from_json(
        br#"{"cluster":"prod","service":"web","taskDefinition":"web:7",
            "networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-1"]}},
            "scale":{"value":12.5,"unit":"PERCENT"},"tags":[{"key":"team","value":"blue"}]}"#,
    )
    .unwrap();
    assert_eq!(built, read);
    assert!(built.validate().is_ok(), "{:?}", built.validate());
}

#[test]
fn a_builder_that_went_out_of_range_is_still_caught_by_validation() {
    let request = CreateTaskSetRequest::builder()
        .cluster("prod")
        .service("web")
        .task_definition("web:7")
        .scale(ScaleBuilder::default().value(Decimal::from(150)).build())
        .build();
    let err = request.validate().unwrap_err();
    assert_eq!(err.violations[0].path, "scale.value");
}

#[test]
fn open_enums_match_by_variant_and_keep_values_they_do_not_list() {
    let describe = |status: &str| -> &'static str {
        let ts: TaskSet = from_json(format!(r#"{{"status":"{status}"}}"#).as_bytes()).unwrap();
        match ts.status {
            Some(TaskSetStatus::Primary) => "primary",
            Some(TaskSetStatus::Active) => "active",
            Some(TaskSetStatus::Draining) => "draining",
            Some(_) => "other",
            None => "none",
        }
    };
    assert_eq!(describe("PRIMARY"), "primary");
    assert_eq!(describe("ACTIVE"), "active");
    assert_eq!(describe("DRAINING"), "draining");
    assert_eq!(describe("STANDBY"), "other");

    let unknown = TaskSetStatus::from("STANDBY");
    assert!(!unknown.is_known());
    assert_eq!(unknown.as_str(), "STANDBY");
    assert_eq!(unknown, "STANDBY");
    assert_eq!(serde_json::to_string(&unknown).unwrap(), r#""STANDBY""#);
    assert_eq!(TaskSetStatus::from("PRIMARY"), TaskSetStatus::Primary);
    assert_eq!(TaskSetStatus::VALUES, ["PRIMARY", "ACTIVE", "DRAINING"]);
}

#[test]
fn scale_percent_takes_integers_decimals_and_doubles_exactly() {
    let exact = |s: &str| Some(s.parse::<Decimal>().unwrap());
    assert_eq!(Scale::percent(12.5).value, exact("12.5"));
    assert_eq!(Scale::percent(33.3).value, exact("33.3"));
    assert_eq!(Scale::percent(64.4_f64).value, exact("64.4"));
    assert_eq!(Scale::percent(50).value, exact("50"));
    assert_eq!(
        Scale::percent(exact("66.67").unwrap()).value,
        exact("66.67")
    );
    assert!(Scale::try_percent(f64::NAN).is_err());
    // 64.4 % of 250 is 161 exactly; an f64 multiply-then-ceil says 162.
    let scale = Scale::percent(64.4).value.unwrap();
    assert_eq!(
        ecs_model::semantics::computed_desired_count(250, scale).unwrap(),
        161
    );
}
