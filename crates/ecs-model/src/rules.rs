//! Documented rules that the service model does not encode: limits and exclusions stated only
//! in the documentation's prose. The generated validators call these functions for the shapes
//! listed under `documented_rules` in `model/codegen.json`, wherever those shapes appear.
//!
//! Each rule has an id (reported in [`Violation::rule`](crate::Violation)) and names where it
//! is documented; [`DOCUMENTED_RULES`] is the catalog.
//!
//! Some documented limits need no code here because the model already carries them and the
//! generated validators report them as `model.*`: at most 50 tags, tag keys of 1..=128 and
//! values of 0..=256 characters with the tag pattern (`Tags`, `TagKey`, `TagValue`), the
//! scale unit PERCENT (`ScaleUnit` has that one value), weights 0..=1000 and bases 0..=100000
//! in a capacity provider strategy. `healthCheckGracePeriodSeconds` "up to 2,147,483,647" is
//! the range of its `i32` type: a larger number fails to decode, with its JSON path.

use crate::types::{
    AwsVpcConfiguration, CapacityProviderStrategyItem, CreateServiceRequest, CreateTaskSetRequest,
    PlacementConstraint, PlacementConstraintType, PlacementStrategy, Scale, ServiceRegistry, Tag,
};
use crate::validate::{Checker, ViolationKind};
use crate::Decimal;

/// Rule ids.
pub mod ids {
    /// `scale.value` lies in 0..=100 (percent).
    pub const SCALE_RANGE: &str = "doc.scale.range";
    /// At most 16 subnets in an awsvpc configuration.
    pub const SUBNETS_MAX: &str = "doc.awsvpc.subnets-max";
    /// At most 5 security groups in an awsvpc configuration.
    pub const SECURITY_GROUPS_MAX: &str = "doc.awsvpc.security-groups-max";
    /// `launchType` and `capacityProviderStrategy` are never both given.
    pub const LAUNCH_TYPE_XOR_STRATEGY: &str = "doc.launch-type-xor-capacity-provider-strategy";
    /// At most one provider of a strategy has a base.
    pub const STRATEGY_SINGLE_BASE: &str = "doc.capacity-provider-strategy.single-base";
    /// At most 20 providers in a strategy.
    pub const STRATEGY_MAX: &str = "doc.capacity-provider-strategy.max";
    /// A service registry names `port` or `containerName`/`containerPort`, not both.
    pub const REGISTRY_PORT_XOR_CONTAINER: &str = "doc.service-registry.port-xor-container";
    /// A service registry's `containerName` and `containerPort` come together.
    pub const REGISTRY_CONTAINER_PAIR: &str = "doc.service-registry.container-pair";
    /// Tag keys are unique within one request.
    pub const TAGS_UNIQUE_KEYS: &str = "doc.tags.unique-keys";
    /// Tag keys do not start with the reserved `aws:` prefix.
    pub const TAGS_RESERVED_PREFIX: &str = "doc.tags.reserved-prefix";
    /// At most 10 placement constraints.
    pub const PLACEMENT_CONSTRAINTS_MAX: &str = "doc.placement-constraints.max";
    /// A placement constraint's expression is at most 2000 characters.
    pub const PLACEMENT_EXPRESSION_LENGTH: &str = "doc.placement-constraint.expression-length";
    /// A `distinctInstance` constraint has no expression.
    pub const PLACEMENT_DISTINCT_INSTANCE_EXPRESSION: &str =
        "doc.placement-constraint.distinct-instance-expression";
    /// At most 5 placement strategies.
    pub const PLACEMENT_STRATEGIES_MAX: &str = "doc.placement-strategies.max";
    /// A client token is at most 36 characters.
    pub const CLIENT_TOKEN: &str = "doc.client-token";
}

/// The limits, as numbers.
pub mod limits {
    /// Subnets allowed in one awsvpc configuration.
    pub const MAX_SUBNETS: usize = 16;
    /// Security groups allowed in one awsvpc configuration.
    pub const MAX_SECURITY_GROUPS: usize = 5;
    /// The seed pages (and older API references) say 6; the current ECS API reference says 20.
    pub const MAX_CAPACITY_PROVIDERS: usize = 20;
    /// Placement constraints allowed on one request.
    pub const MAX_PLACEMENT_CONSTRAINTS: usize = 10;
    /// Characters allowed in one placement expression.
    pub const MAX_PLACEMENT_EXPRESSION_CHARS: usize = 2000;
    /// Placement strategies allowed on one request.
    pub const MAX_PLACEMENT_STRATEGIES: usize = 5;
    /// Characters allowed in a client token.
    pub const MAX_CLIENT_TOKEN_CHARS: usize = 36;
    /// The tag key prefix reserved for AWS.
    pub const RESERVED_TAG_PREFIX: &str = "aws:";
}

/// One catalog entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocumentedRule {
    /// The rule id (`doc.*`).
    pub id: &'static str,
    /// The rule, in this project's words.
    pub summary: &'static str,
    /// Where it is documented (seed file names are in `shared/docs/seeds/`).
    pub source: &'static str,
    /// The shapes whose validators check it.
    pub shapes: &'static [&'static str],
}

/// Every documented rule the validators check beyond the model's traits.
pub const DOCUMENTED_RULES: &[DocumentedRule] = &[
    DocumentedRule {
        id: ids::SCALE_RANGE,
        summary: "a task set's scale value is a percentage from 0 to 100 inclusive",
        source: "seed 002 CreateTaskSet, scale.value",
        shapes: &["Scale"],
    },
    DocumentedRule {
        id: ids::SUBNETS_MAX,
        summary: "at most 16 subnets per awsvpcConfiguration",
        source: "seed 002 CreateTaskSet and seed 001 UpdateService, awsvpcConfiguration.subnets",
        shapes: &["AwsVpcConfiguration"],
    },
    DocumentedRule {
        id: ids::SECURITY_GROUPS_MAX,
        summary: "at most 5 security groups per awsvpcConfiguration",
        source: "seed 002 CreateTaskSet and seed 001 UpdateService, awsvpcConfiguration.securityGroups",
        shapes: &["AwsVpcConfiguration"],
    },
    DocumentedRule {
        id: ids::LAUNCH_TYPE_XOR_STRATEGY,
        summary: "launchType and capacityProviderStrategy are mutually exclusive",
        source: "seed 002 CreateTaskSet, launchType and capacityProviderStrategy",
        shapes: &["CreateTaskSetRequest", "CreateServiceRequest"],
    },
    DocumentedRule {
        id: ids::STRATEGY_SINGLE_BASE,
        summary: "only one capacity provider in a strategy may define a base (a base of 0 equals the default and is not counted)",
        source: "seed 002 CreateTaskSet, capacityProviderStrategy[].base",
        shapes: &["CapacityProviderStrategy"],
    },
    DocumentedRule {
        id: ids::STRATEGY_MAX,
        summary: "a capacity provider strategy holds at most 20 providers (the seed pages still say 6; the limit was raised)",
        source: "seed 002 CreateTaskSet, capacityProviderStrategy (6); current ECS API reference (20)",
        shapes: &["CapacityProviderStrategy"],
    },
    DocumentedRule {
        id: ids::REGISTRY_PORT_XOR_CONTAINER,
        summary: "a service registry takes either containerName with containerPort, or port, not both",
        source: "seed 002 CreateTaskSet, serviceRegistries[].port and containerName",
        shapes: &["ServiceRegistry"],
    },
    DocumentedRule {
        id: ids::REGISTRY_CONTAINER_PAIR,
        summary: "containerName and containerPort of a service registry go together",
        source: "seed 002 CreateTaskSet, serviceRegistries[].containerName and containerPort",
        shapes: &["ServiceRegistry"],
    },
    DocumentedRule {
        id: ids::TAGS_UNIQUE_KEYS,
        summary: "each tag key appears once per resource",
        source: "seed 001 UpdateService / seed 002 CreateTaskSet, tags",
        shapes: &["Tags"],
    },
    DocumentedRule {
        id: ids::TAGS_RESERVED_PREFIX,
        summary: "tag keys and values must not start with aws: in any letter case",
        source: "seed 002 CreateTaskSet, tags",
        shapes: &["Tags"],
    },
    DocumentedRule {
        id: ids::PLACEMENT_CONSTRAINTS_MAX,
        summary: "at most 10 placement constraints",
        source: "seed 001 UpdateService, placementConstraints",
        shapes: &["PlacementConstraints"],
    },
    DocumentedRule {
        id: ids::PLACEMENT_EXPRESSION_LENGTH,
        summary: "a placement constraint expression has at most 2000 characters",
        source: "seed 001 UpdateService, placementConstraints[].expression",
        shapes: &["PlacementConstraint"],
    },
    DocumentedRule {
        id: ids::PLACEMENT_DISTINCT_INSTANCE_EXPRESSION,
        summary: "a distinctInstance placement constraint takes no expression",
        source: "seed 001 UpdateService, placementConstraints[].expression",
        shapes: &["PlacementConstraint"],
    },
    DocumentedRule {
        id: ids::PLACEMENT_STRATEGIES_MAX,
        summary: "at most 5 placement strategy rules",
        source: "seed 001 UpdateService, placementStrategy",
        shapes: &["PlacementStrategies"],
    },
    DocumentedRule {
        id: ids::CLIENT_TOKEN,
        summary: "clientToken has at most 36 characters, each ASCII 33..=126",
        source: "ECS API reference, CreateTaskSet and CreateService clientToken",
        shapes: &["CreateTaskSetRequest", "CreateServiceRequest"],
    },
];

/// Looks a rule up by id.
pub fn rule(id: &str) -> Option<&'static DocumentedRule> {
    DOCUMENTED_RULES.iter().find(|r| r.id == id)
}

pub(crate) fn scale(v: &Scale, c: &mut Checker) {
    if let Some(value) = v.value {
        if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
            // A percentage outside 0..=100 has no meaning; it is not a quota AWS could raise,
            // so it is reported as invalid rather than as an upper limit.
            c.report_at(
                "value",
                ids::SCALE_RANGE,
                ViolationKind::Invalid,
                format!("{value} is outside 0..=100 percent"),
            );
        }
    }
}

pub(crate) fn awsvpc_configuration(v: &AwsVpcConfiguration, c: &mut Checker) {
    if let Some(subnets) = &v.subnets {
        if subnets.len() > limits::MAX_SUBNETS {
            let msg = format!(
                "{} subnets, at most {} allowed",
                subnets.len(),
                limits::MAX_SUBNETS
            );
            c.report_at("subnets", ids::SUBNETS_MAX, ViolationKind::TooLong, msg);
        }
    }
    if let Some(groups) = &v.security_groups {
        if groups.len() > limits::MAX_SECURITY_GROUPS {
            let msg = format!(
                "{} security groups, at most {} allowed",
                groups.len(),
                limits::MAX_SECURITY_GROUPS
            );
            c.report_at(
                "securityGroups",
                ids::SECURITY_GROUPS_MAX,
                ViolationKind::TooLong,
                msg,
            );
        }
    }
}

pub(crate) fn capacity_provider_strategy(v: &[CapacityProviderStrategyItem], c: &mut Checker) {
    if v.len() > limits::MAX_CAPACITY_PROVIDERS {
        let msg = format!(
            "{} capacity providers, at most {} allowed",
            v.len(),
            limits::MAX_CAPACITY_PROVIDERS
        );
        c.report(ids::STRATEGY_MAX, ViolationKind::TooLong, msg);
    }
    let with_base = v.iter().filter(|i| i.base.is_some_and(|b| b > 0)).count();
    if with_base > 1 {
        c.report(
            ids::STRATEGY_SINGLE_BASE,
            ViolationKind::Conflict,
            format!("{with_base} capacity providers define a base, at most one may"),
        );
    }
}

pub(crate) fn service_registry(v: &ServiceRegistry, c: &mut Checker) {
    let container = v.container_name.is_some() || v.container_port.is_some();
    if v.port.is_some() && container {
        c.report(
            ids::REGISTRY_PORT_XOR_CONTAINER,
            ViolationKind::Conflict,
            "port and containerName/containerPort are both set",
        );
    }
    if v.container_name.is_some() != v.container_port.is_some() {
        let (field, other) = if v.container_name.is_some() {
            ("containerPort", "containerName")
        } else {
            ("containerName", "containerPort")
        };
        c.report_at(
            field,
            ids::REGISTRY_CONTAINER_PAIR,
            ViolationKind::Required,
            format!("required together with {other}"),
        );
    }
}

pub(crate) fn tags(v: &[Tag], c: &mut Checker) {
    let mut seen = std::collections::HashSet::new();
    for (i, tag) in v.iter().enumerate() {
        c.enter_index(i);
        if let Some(key) = &tag.key {
            if !seen.insert(key.as_str()) {
                c.report_at(
                    "key",
                    ids::TAGS_UNIQUE_KEYS,
                    ViolationKind::Conflict,
                    format!("tag key {key:?} repeats an earlier one"),
                );
            }
            if has_reserved_prefix(key) {
                c.report_at(
                    "key",
                    ids::TAGS_RESERVED_PREFIX,
                    ViolationKind::Invalid,
                    format!("tag key {key:?} uses the reserved aws: prefix"),
                );
            }
        }
        if let Some(value) = &tag.value {
            if has_reserved_prefix(value) {
                c.report_at(
                    "value",
                    ids::TAGS_RESERVED_PREFIX,
                    ViolationKind::Invalid,
                    format!("tag value {value:?} uses the reserved aws: prefix"),
                );
            }
        }
        c.leave();
    }
}

/// `aws:` in any letter case.
pub fn has_reserved_prefix(s: &str) -> bool {
    s.get(..limits::RESERVED_TAG_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(limits::RESERVED_TAG_PREFIX))
}

pub(crate) fn placement_constraints(v: &[PlacementConstraint], c: &mut Checker) {
    if v.len() > limits::MAX_PLACEMENT_CONSTRAINTS {
        let msg = format!(
            "{} placement constraints, at most {} allowed",
            v.len(),
            limits::MAX_PLACEMENT_CONSTRAINTS
        );
        c.report(ids::PLACEMENT_CONSTRAINTS_MAX, ViolationKind::TooLong, msg);
    }
}

pub(crate) fn placement_constraint(v: &PlacementConstraint, c: &mut Checker) {
    if let Some(expr) = &v.expression {
        let n = expr.chars().count();
        if n > limits::MAX_PLACEMENT_EXPRESSION_CHARS {
            let msg = format!(
                "{n} characters, at most {} allowed",
                limits::MAX_PLACEMENT_EXPRESSION_CHARS
            );
            c.report_at(
                "expression",
                ids::PLACEMENT_EXPRESSION_LENGTH,
                ViolationKind::TooLong,
                msg,
            );
        }
        if v.r#type == Some(PlacementConstraintType::DistinctInstance) {
            c.report_at(
                "expression",
                ids::PLACEMENT_DISTINCT_INSTANCE_EXPRESSION,
                ViolationKind::Conflict,
                "a distinctInstance constraint takes no expression",
            );
        }
    }
}

pub(crate) fn placement_strategies(v: &[PlacementStrategy], c: &mut Checker) {
    if v.len() > limits::MAX_PLACEMENT_STRATEGIES {
        let msg = format!(
            "{} placement strategies, at most {} allowed",
            v.len(),
            limits::MAX_PLACEMENT_STRATEGIES
        );
        c.report(ids::PLACEMENT_STRATEGIES_MAX, ViolationKind::TooLong, msg);
    }
}

pub(crate) fn create_task_set_request(v: &CreateTaskSetRequest, c: &mut Checker) {
    launch_type_xor_strategy(
        v.launch_type.is_some(),
        v.capacity_provider_strategy
            .as_ref()
            .is_some_and(|s| !s.is_empty()),
        c,
    );
    client_token(v.client_token.as_deref(), c);
}

pub(crate) fn create_service_request(v: &CreateServiceRequest, c: &mut Checker) {
    launch_type_xor_strategy(
        v.launch_type.is_some(),
        v.capacity_provider_strategy
            .as_ref()
            .is_some_and(|s| !s.is_empty()),
        c,
    );
    client_token(v.client_token.as_deref(), c);
}

/// AWS's own words for a request that breaks a documented rule, where a recorded answer shows
/// them (an emulator answers with these rather than the violation's text).
pub fn aws_message(rule: &str) -> Option<&'static str> {
    match rule {
        // pulumi/pulumi-awsx issue 599 (2020) and terraform-linters/tflint-ruleset-aws issue
        // 349 (2022), both InvalidParameterException; conformance/evidence/reports.launch-type-and-capacity-provider.json.
        ids::LAUNCH_TYPE_XOR_STRATEGY => Some(
            "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.",
        ),
        _ => None,
    }
}

/// Both set means a launch type and a strategy with at least one provider: the empty list that
/// Terraform's provider always sends with a launch type is accepted by AWS.
fn launch_type_xor_strategy(launch_type: bool, strategy: bool, c: &mut Checker) {
    if launch_type && strategy {
        c.report_at(
            "capacityProviderStrategy",
            ids::LAUNCH_TYPE_XOR_STRATEGY,
            ViolationKind::Conflict,
            "launchType and capacityProviderStrategy are both set; give one or neither",
        );
    }
}

fn client_token(token: Option<&str>, c: &mut Checker) {
    let Some(token) = token else { return };
    let n = token.chars().count();
    if n > limits::MAX_CLIENT_TOKEN_CHARS {
        let msg = format!(
            "{n} characters, at most {} allowed",
            limits::MAX_CLIENT_TOKEN_CHARS
        );
        c.report_at(
            "clientToken",
            ids::CLIENT_TOKEN,
            ViolationKind::TooLong,
            msg,
        );
    }
    if let Some(bad) = token.chars().find(|ch| !matches!(*ch as u32, 33..=126)) {
        let msg = format!("character {bad:?} is outside ASCII 33..=126");
        c.report_at(
            "clientToken",
            ids::CLIENT_TOKEN,
            ViolationKind::Invalid,
            msg,
        );
    }
}
