//! Elastic Load Balancing v2 on the ECS endpoint: application load balancers, target groups,
//! listeners and rules with weighted forwards, targets with their health in time, and tags.
//!
//! It lives in each region's [`State`](super::State), under the same lock as ECS, because ECS
//! registers a task's IP in its target group when the task is RUNNING and deregisters it when
//! the task is to stop (see `State::register_task_targets`).
//!
//! Time (documented unless marked): a registered target is `initial` until it has passed
//! `HealthyThresholdCount` checks `HealthCheckIntervalSeconds` apart (5 × 30 s = 150 s with
//! the defaults: the ECS developer guide, "Optimize load balancer health check parameters"),
//! then `healthy`; a deregistered one is `draining` for the group's
//! `deregistration_delay.timeout_seconds` (default 300), then gone. A group no listener or
//! rule forwards to reports its targets `unused` / `Target.NotInUse` (recorded in the AWS CLI's
//! describe-target-health example). These seconds pass at the emulator's
//! [`Timing::health_second`](crate::Timing::health_second).
//!
//! Messages are AWS's where the record has them (a comment names the record: an AWS CLI
//! example or an issue thread with the error as AWS answered it); the others are assumptions,
//! numbered as in the crate documentation's table of assumptions.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use ecs_model::elbv2::types::*;
use ecs_model::DateTime;

use crate::error::ApiError;

/// Target group attributes and their defaults (ALB target groups, documented in the ALB user
/// guide's "Target group attributes").
const TARGET_GROUP_ATTRIBUTES: &[(&str, &str)] = &[
    ("deregistration_delay.timeout_seconds", "300"),
    ("stickiness.enabled", "false"),
    ("stickiness.type", "lb_cookie"),
    ("stickiness.lb_cookie.duration_seconds", "86400"),
    ("stickiness.app_cookie.cookie_name", ""),
    ("stickiness.app_cookie.duration_seconds", "86400"),
    ("load_balancing.algorithm.type", "round_robin"),
    ("load_balancing.algorithm.anomaly_mitigation", "off"),
    (
        "load_balancing.cross_zone.enabled",
        "use_load_balancer_configuration",
    ),
    ("slow_start.duration_seconds", "0"),
    (
        "target_group_health.dns_failover.minimum_healthy_targets.count",
        "1",
    ),
    (
        "target_group_health.dns_failover.minimum_healthy_targets.percentage",
        "off",
    ),
    (
        "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count",
        "1",
    ),
    (
        "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage",
        "off",
    ),
];

/// How long a new load balancer answers `provisioning` (assumed, A52: AWS takes minutes; the
/// `LoadBalancerAvailable` waiter polls every 15 s).
const PROVISIONING_SECONDS: u64 = 60;

/// Largest weight of a target group in a forward (documented: 0 to 999).
const MAX_WEIGHT: i32 = 999;

struct LoadBalancerRecord {
    lb: LoadBalancer,
    created: SystemTime,
}

struct TargetRecord {
    id: String,
    port: i32,
    zone: Option<String>,
    registered: SystemTime,
    deregistered: Option<SystemTime>,
}

struct TargetGroupRecord {
    group: TargetGroup,
    attributes: BTreeMap<String, String>,
    targets: Vec<TargetRecord>,
}

impl TargetGroupRecord {
    fn delay_seconds(&self) -> u64 {
        self.attributes
            .get("deregistration_delay.timeout_seconds")
            .and_then(|v| v.parse().ok())
            .unwrap_or(300)
    }

    fn healthy_after_seconds(&self) -> u64 {
        let g = &self.group;
        let interval = u64::try_from(g.health_check_interval_seconds.unwrap_or(30)).unwrap_or(30);
        let threshold = u64::try_from(g.healthy_threshold_count.unwrap_or(5)).unwrap_or(5);
        interval * threshold
    }
}

struct ListenerRecord {
    listener: Listener,
}

struct RuleRecord {
    listener: String,
    rule: Rule,
}

/// One region's ELBv2 resources.
#[derive(Default)]
pub(crate) struct Elbv2 {
    load_balancers: Vec<LoadBalancerRecord>,
    target_groups: Vec<TargetGroupRecord>,
    listeners: Vec<ListenerRecord>,
    rules: Vec<RuleRecord>,
    tags: BTreeMap<String, Vec<Tag>>,
}

/// What a handler needs besides its input.
pub(crate) struct ElbCtx<'a> {
    pub now: SystemTime,
    pub region: &'a str,
    pub account: &'a str,
    /// How long one load-balancer second lasts.
    pub second: Duration,
    pub rng: &'a mut fastrand::Rng,
}

impl ElbCtx<'_> {
    fn arn(&self, resource: &str) -> String {
        format!(
            "arn:aws:elasticloadbalancing:{}:{}:{resource}",
            self.region, self.account
        )
    }

    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.rng.u32(0..16), 16).unwrap_or('0'))
            .collect()
    }

    fn seconds(&self, n: u64) -> Duration {
        self.second
            .saturating_mul(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "ValidationError", message)
}

fn error(code: &'static str, message: impl Into<String>) -> ApiError {
    let status = ecs_model::elbv2::ERRORS
        .iter()
        .find(|e| e.code == code)
        .map_or(400, |e| e.status);
    ApiError::new(status, code, message)
}

fn tg_not_found() -> ApiError {
    error("TargetGroupNotFound", "One or more target groups not found")
}

fn lb_not_found() -> ApiError {
    error(
        "LoadBalancerNotFound",
        "One or more load balancers not found",
    )
}

fn listener_not_found() -> ApiError {
    error("ListenerNotFound", "One or more listeners not found")
}

fn rule_not_found() -> ApiError {
    error("RuleNotFound", "One or more rules not found")
}

/// The first required member an input lacks, in AWS's validation words (assumed, A53: the
/// awsJson "1 validation error detected" form).
pub(crate) fn missing(member: &str) -> ApiError {
    let mut chars = member.chars();
    let lower = chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default();
    validation(format!(
        "1 validation error detected: Value null at '{lower}' failed to satisfy constraint: Member must not be null"
    ))
}

/// A time as AWS answers it: to the millisecond.
fn ts(t: SystemTime) -> DateTime {
    let d = DateTime::from(t);
    DateTime::from_millis(d.to_millis().unwrap_or_default())
}

/// A name of a load balancer or target group: 1 to 32 letters, digits and hyphens, not
/// starting or ending with a hyphen (documented in the model's `Name` members).
fn check_name(kind: &str, name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(validation(format!(
            "{kind} name '{name}' can have a maximum of 32 characters, can contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen"
        )))
    }
}

/// The zone of a subnet: the same function the ECS side uses for a task's ENI, so a task and
/// its target agree.
pub(crate) fn zone_of(region: &str, subnet: &str) -> String {
    let sum: u32 = subnet.bytes().map(u32::from).sum();
    format!(
        "{region}{}",
        char::from(b'a' + u8::try_from(sum % 3).unwrap_or(0))
    )
}

impl Elbv2 {
    fn group(&self, arn: &str) -> Option<&TargetGroupRecord> {
        self.target_groups
            .iter()
            .find(|g| g.group.target_group_arn.as_deref() == Some(arn))
    }

    fn group_mut(&mut self, arn: &str) -> Option<&mut TargetGroupRecord> {
        self.target_groups
            .iter_mut()
            .find(|g| g.group.target_group_arn.as_deref() == Some(arn))
    }

    fn load_balancer(&self, arn: &str) -> Option<&LoadBalancerRecord> {
        self.load_balancers
            .iter()
            .find(|l| l.lb.load_balancer_arn.as_deref() == Some(arn))
    }

    fn listener(&self, arn: &str) -> Option<&ListenerRecord> {
        self.listeners
            .iter()
            .find(|l| l.listener.listener_arn.as_deref() == Some(arn))
    }

    /// The target groups an action list forwards to.
    fn forwarded(actions: &[Action]) -> Vec<String> {
        let mut out = vec![];
        for a in actions {
            if let Some(arn) = &a.target_group_arn {
                out.push(arn.clone());
            }
            for t in a
                .forward_config
                .iter()
                .flat_map(|f| f.target_groups.iter().flatten())
            {
                if let Some(arn) = &t.target_group_arn {
                    out.push(arn.clone());
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The load balancers whose listeners or rules forward to `group`.
    fn balancers_of(&self, group: &str) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        let mut add = |listener: &str| {
            if let Some(l) = self.listener(listener) {
                if let Some(lb) = &l.listener.load_balancer_arn {
                    if !out.contains(lb) {
                        out.push(lb.clone());
                    }
                }
            }
        };
        for l in &self.listeners {
            let actions = l.listener.default_actions.as_deref().unwrap_or_default();
            if Self::forwarded(actions).iter().any(|a| a == group) {
                add(l.listener.listener_arn.as_deref().unwrap_or_default());
            }
        }
        for r in &self.rules {
            let actions = r.rule.actions.as_deref().unwrap_or_default();
            if Self::forwarded(actions).iter().any(|a| a == group) {
                add(&r.listener);
            }
        }
        out
    }

    /// Whether a target group exists here (ECS checks the groups of a service).
    pub(crate) fn has_target_group(&self, arn: &str) -> bool {
        self.group(arn).is_some()
    }

    /// A target group's target type (`ip`, `instance`), when the group exists here.
    pub(crate) fn target_type(&self, arn: &str) -> Option<&str> {
        self.group(arn)?.group.target_type.as_deref()
    }

    /// Whether a target group is reached from a load balancer.
    pub(crate) fn is_associated(&self, arn: &str) -> bool {
        !self.balancers_of(arn).is_empty()
    }

    /// Checks the actions of a listener or rule on `lb`: every target group exists, weights are
    /// in range and given when a forward names several groups, and no group already serves
    /// another load balancer. Fills in what AWS answers (assumed, A54: a single-group forward
    /// is answered both as `TargetGroupArn` and as a `ForwardConfig` of weight 1).
    fn check_actions(&self, lb: &str, actions: &mut [Action]) -> Result<(), ApiError> {
        if actions.is_empty() {
            // Assumed (A53's form): the model requires at least one action.
            return Err(validation(
                "1 validation error detected: Value '[]' at 'actions' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        for (i, a) in actions.iter_mut().enumerate() {
            if a.r#type.is_none() {
                return Err(missing(&format!("Actions.member.{}.Type", i + 1)));
            }
            if a.order.is_none() {
                a.order = Some(i32::try_from(i + 1).unwrap_or(1));
            }
            if a.r#type.as_deref() != Some("forward") {
                continue;
            }
            let tuples = a
                .forward_config
                .as_ref()
                .and_then(|f| f.target_groups.clone())
                .unwrap_or_default();
            let out_of_range = |w: &i32| !(0..=MAX_WEIGHT).contains(w);
            // aws/aws-cdk#24805 (2023): several groups sent without weights.
            if tuples
                .iter()
                .any(|t| t.weight.as_ref().is_some_and(out_of_range))
                || (tuples.len() > 1 && tuples.iter().any(|t| t.weight.is_none()))
            {
                return Err(validation(
                    "The weight for each target group must be between 0 and 999, inclusive",
                ));
            }
            let mut arns: Vec<String> = tuples
                .iter()
                .filter_map(|t| t.target_group_arn.clone())
                .collect();
            if let Some(arn) = &a.target_group_arn {
                if !arns.contains(arn) {
                    arns.push(arn.clone());
                }
            }
            if arns.is_empty() {
                return Err(validation("A target group ARN must be specified"));
            }
            // aws/copilot-cli#3833 (2022): a forward to a missing group.
            if let Some(gone) = arns.iter().find(|a| self.group(a).is_none()) {
                return Err(error(
                    "TargetGroupNotFound",
                    format!("Target groups '{gone}' not found"),
                ));
            }
            // hashicorp/terraform-provider-aws#22005: one load balancer per target group.
            if let Some(taken) = arns
                .iter()
                .find(|a| self.balancers_of(a).iter().any(|other| other != lb))
            {
                return Err(error(
                    "TargetGroupAssociationLimit",
                    format!("The following target groups cannot be associated with more than one load balancer: {taken}"),
                ));
            }
            if a.forward_config.is_none() {
                a.forward_config = Some(
                    ForwardActionConfig::builder()
                        .set_target_groups(Some(vec![TargetGroupTuple::builder()
                            .set_target_group_arn(a.target_group_arn.clone())
                            .weight(1)
                            .build()]))
                        .build(),
                );
            }
            if let Some(f) = &mut a.forward_config {
                if f.target_group_stickiness_config.is_none() {
                    f.target_group_stickiness_config = Some(
                        TargetGroupStickinessConfig::builder()
                            .enabled(false)
                            .build(),
                    );
                }
                if let Some(groups) = &mut f.target_groups {
                    for g in groups.iter_mut() {
                        g.weight.get_or_insert(1);
                    }
                    if groups.len() == 1 && a.target_group_arn.is_none() {
                        a.target_group_arn = groups[0].target_group_arn.clone();
                    }
                }
            }
        }
        Ok(())
    }

    /// The rule a deployment's `productionListenerRule` or `testListenerRule` names: a rule by
    /// its ARN, or a listener's default rule by the listener's ARN (the NLB form).
    fn deployment_rule(&self, arn: &str) -> Option<usize> {
        self.rules.iter().position(|r| {
            r.rule.rule_arn.as_deref() == Some(arn)
                || (r.rule.is_default == Some(true) && r.listener == arn)
        })
    }

    /// When every target still registered in `group` is healthy (None for a group this
    /// region does not hold): its registration plus interval × threshold, in load-balancer
    /// seconds of `second`.
    pub(crate) fn healthy_from(&self, group: &str, second: Duration) -> Option<SystemTime> {
        let g = self.group(group)?;
        let wait = if g.group.health_check_enabled == Some(false) {
            Duration::ZERO
        } else {
            second.saturating_mul(u32::try_from(g.healthy_after_seconds()).unwrap_or(u32::MAX))
        };
        Some(
            g.targets
                .iter()
                .filter(|t| t.deregistered.is_none())
                .map(|t| after(t.registered, wait))
                .max()
                .unwrap_or(SystemTime::UNIX_EPOCH),
        )
    }

    /// Whether `arn` names a rule or a listener this region holds.
    pub(crate) fn has_rule(&self, arn: &str) -> bool {
        self.deployment_rule(arn).is_some()
    }

    /// The target groups a rule's forward sends to, with their weights.
    pub(crate) fn rule_weights(&self, arn: &str) -> Vec<(String, i32)> {
        let Some(i) = self.deployment_rule(arn) else {
            return vec![];
        };
        self.rules[i]
            .rule
            .actions
            .iter()
            .flatten()
            .filter(|a| a.r#type.as_deref() == Some("forward"))
            .flat_map(|a| a.forward_config.iter())
            .flat_map(|f| f.target_groups.iter().flatten())
            .filter_map(|t| Some((t.target_group_arn.clone()?, t.weight.unwrap_or(1))))
            .collect()
    }

    /// ECS moves traffic: the rule's forward sends to exactly `weights` from now on (a
    /// listener's default rule changes the listener's default actions with it). False when the
    /// rule is gone.
    pub(crate) fn set_rule_weights(&mut self, arn: &str, weights: &[(String, i32)]) -> bool {
        let Some(i) = self.deployment_rule(arn) else {
            return false;
        };
        let tuples: Vec<TargetGroupTuple> = weights
            .iter()
            .map(|(g, w)| {
                TargetGroupTuple::builder()
                    .target_group_arn(g.clone())
                    .weight(*w)
                    .build()
            })
            .collect();
        let record = &mut self.rules[i];
        let actions = record.rule.actions.get_or_insert_with(Vec::new);
        let forward = match actions
            .iter()
            .position(|a| a.r#type.as_deref() == Some("forward"))
        {
            Some(f) => f,
            None => {
                actions.push(
                    Action::builder()
                        .r#type("forward")
                        .order(i32::try_from(actions.len() + 1).unwrap_or(1))
                        .build(),
                );
                actions.len() - 1
            }
        };
        let a = &mut actions[forward];
        a.target_group_arn = None;
        let f = a.forward_config.get_or_insert_with(Default::default);
        f.target_groups = Some(tuples);
        f.target_group_stickiness_config.get_or_insert(
            TargetGroupStickinessConfig::builder()
                .enabled(false)
                .build(),
        );
        if record.rule.is_default == Some(true) {
            let listener = record.listener.clone();
            let actions = record.rule.actions.clone();
            if let Some(l) = self
                .listeners
                .iter_mut()
                .find(|l| l.listener.listener_arn.as_deref() == Some(listener.as_str()))
            {
                l.listener.default_actions = actions;
            }
        }
        true
    }

    // -----------------------------------------------------------------------------------------
    // Load balancers

    pub(crate) fn create_load_balancer(
        &mut self,
        input: CreateLoadBalancerInput,
        ctx: &mut ElbCtx<'_>,
    ) -> Result<CreateLoadBalancerOutput, ApiError> {
        let name = input.name.clone().unwrap_or_default();
        check_name("Load balancer", &name)?;
        if name.starts_with("internal-") {
            return Err(validation(
                "Load balancer name cannot begin with 'internal-'",
            ));
        }
        let kind = input.r#type.clone().unwrap_or_else(|| "application".into());
        if kind != "application" {
            return Err(error(
                "UnsupportedProtocol",
                format!(
                    "The reference emulator models application load balancers only, not '{kind}'"
                ),
            ));
        }
        if let Some(existing) = self
            .load_balancers
            .iter()
            .find(|l| l.lb.load_balancer_name.as_deref() == Some(name.as_str()))
        {
            // Documented: creating a load balancer with the name of one that exists returns it.
            return Ok(CreateLoadBalancerOutput::builder()
                .set_load_balancers(Some(vec![self.shown(existing, ctx)]))
                .build());
        }
        let subnets: Vec<String> = input
            .subnets
            .clone()
            .or_else(|| {
                input
                    .subnet_mappings
                    .as_ref()
                    .map(|m| m.iter().filter_map(|s| s.subnet_id.clone()).collect())
            })
            .unwrap_or_default();
        if subnets.len() < 2 {
            return Err(validation(
                "At least two subnets in two different Availability Zones must be specified",
            ));
        }
        let scheme = input
            .scheme
            .clone()
            .unwrap_or_else(|| "internet-facing".into());
        let id = ctx.hex(16);
        let digits = ctx.rng.u64(100_000_000..10_000_000_000);
        let dns = format!(
            "{}{name}-{digits}.{}.elb.amazonaws.com",
            if scheme == "internal" {
                "internal-"
            } else {
                ""
            },
            ctx.region
        );
        let arn = ctx.arn(&format!("loadbalancer/app/{name}/{id}"));
        let lb = LoadBalancer::builder()
            .load_balancer_arn(arn.clone())
            .dns_name(dns)
            .canonical_hosted_zone_id("Z35SXDOTRQ7X7K")
            .created_time(ts(ctx.now))
            .load_balancer_name(name)
            .scheme(scheme)
            .vpc_id(vpc_of(ctx))
            .r#type(kind)
            .set_availability_zones(Some(
                subnets
                    .iter()
                    .map(|s| {
                        AvailabilityZone::builder()
                            .zone_name(zone_of(ctx.region, s))
                            .subnet_id(s.clone())
                            .build()
                    })
                    .collect(),
            ))
            .set_security_groups(Some(input.security_groups.clone().unwrap_or_default()))
            .set_ip_address_type(Some(
                input
                    .ip_address_type
                    .clone()
                    .unwrap_or_else(|| "ipv4".into()),
            ))
            .build();
        if let Some(tags) = input.tags.clone() {
            self.tags.insert(arn, tags);
        }
        let record = LoadBalancerRecord {
            lb,
            created: ctx.now,
        };
        let shown = self.shown(&record, ctx);
        self.load_balancers.push(record);
        Ok(CreateLoadBalancerOutput::builder()
            .set_load_balancers(Some(vec![shown]))
            .build())
    }

    fn shown(&self, record: &LoadBalancerRecord, ctx: &ElbCtx<'_>) -> LoadBalancer {
        let ready = after(record.created, ctx.seconds(PROVISIONING_SECONDS));
        let mut lb = record.lb.clone();
        lb.state = Some(
            LoadBalancerState::builder()
                .set_code(Some(
                    if ctx.now >= ready {
                        "active"
                    } else {
                        "provisioning"
                    }
                    .into(),
                ))
                .build(),
        );
        lb
    }

    pub(crate) fn describe_load_balancers(
        &mut self,
        input: DescribeLoadBalancersInput,
        ctx: &mut ElbCtx<'_>,
    ) -> Result<DescribeLoadBalancersOutput, ApiError> {
        let mut found = vec![];
        if let Some(arns) = &input.load_balancer_arns {
            for arn in arns {
                found.push(self.load_balancer(arn).ok_or_else(lb_not_found)?);
            }
        } else if let Some(names) = &input.names {
            for name in names {
                found.push(
                    self.load_balancers
                        .iter()
                        .find(|l| l.lb.load_balancer_name.as_deref() == Some(name.as_str()))
                        .ok_or_else(|| {
                            error(
                                "LoadBalancerNotFound",
                                format!("Load balancers '[{name}]' not found"),
                            )
                        })?,
                );
            }
        } else {
            found = self.load_balancers.iter().collect();
        }
        let (page, next) = page(found, input.marker.as_deref(), input.page_size)?;
        Ok(DescribeLoadBalancersOutput::builder()
            .set_load_balancers(Some(page.into_iter().map(|l| self.shown(l, ctx)).collect()))
            .set_next_marker(next)
            .build())
    }

    pub(crate) fn delete_load_balancer(
        &mut self,
        input: DeleteLoadBalancerInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<DeleteLoadBalancerOutput, ApiError> {
        let arn = input.load_balancer_arn.unwrap_or_default();
        let listeners: Vec<String> = self
            .listeners
            .iter()
            .filter(|l| l.listener.load_balancer_arn.as_deref() == Some(arn.as_str()))
            .filter_map(|l| l.listener.listener_arn.clone())
            .collect();
        for r in self
            .rules
            .iter()
            .filter(|r| listeners.contains(&r.listener))
        {
            if let Some(arn) = &r.rule.rule_arn {
                self.tags.remove(arn);
            }
        }
        for l in &listeners {
            self.tags.remove(l);
        }
        self.rules.retain(|r| !listeners.contains(&r.listener));
        self.listeners
            .retain(|l| l.listener.load_balancer_arn.as_deref() != Some(arn.as_str()));
        self.load_balancers
            .retain(|l| l.lb.load_balancer_arn.as_deref() != Some(arn.as_str()));
        self.tags.remove(&arn);
        Ok(DeleteLoadBalancerOutput::default())
    }

    // -----------------------------------------------------------------------------------------
    // Target groups

    pub(crate) fn create_target_group(
        &mut self,
        input: CreateTargetGroupInput,
        ctx: &mut ElbCtx<'_>,
    ) -> Result<CreateTargetGroupOutput, ApiError> {
        let name = input.name.clone().unwrap_or_default();
        check_name("Target group", &name)?;
        let target_type = input
            .target_type
            .clone()
            .unwrap_or_else(|| "instance".into());
        if target_type == "lambda" || target_type == "alb" {
            return Err(error(
                "InvalidConfigurationRequest",
                format!("The reference emulator does not model target type '{target_type}'"),
            ));
        }
        let protocol = input.protocol.clone().ok_or_else(|| missing("Protocol"))?;
        let port = input.port.ok_or_else(|| missing("Port"))?;
        let vpc = input.vpc_id.clone().ok_or_else(|| missing("VpcId"))?;
        let http = matches!(protocol.as_str(), "HTTP" | "HTTPS");
        let interval = input.health_check_interval_seconds.unwrap_or(30);
        let timeout = input
            .health_check_timeout_seconds
            .unwrap_or(if http { 5 } else { 10 });
        if !(5..=300).contains(&interval) {
            return Err(validation(format!(
                "Health check interval '{interval}' must be between '5' and '300'"
            )));
        }
        if timeout >= interval {
            // moto's wording; no AWS record (A55).
            return Err(validation(format!(
                "Health check timeout '{timeout}' must be smaller than the interval '{interval}'"
            )));
        }
        for (what, v) in [
            ("healthy", input.healthy_threshold_count),
            ("unhealthy", input.unhealthy_threshold_count),
        ] {
            if let Some(v) = v.filter(|v| !(2..=10).contains(v)) {
                return Err(validation(format!(
                    "Health check {what} threshold '{v}' must be between '2' and '10'"
                )));
            }
        }
        let group = TargetGroup::builder()
            .target_group_name(name.clone())
            .protocol(protocol.clone())
            .port(port)
            .vpc_id(vpc)
            .health_check_protocol(
                input
                    .health_check_protocol
                    .clone()
                    .unwrap_or_else(|| protocol.clone()),
            )
            .set_health_check_port(Some(
                input
                    .health_check_port
                    .clone()
                    .unwrap_or_else(|| "traffic-port".into()),
            ))
            .health_check_enabled(input.health_check_enabled.unwrap_or(true))
            .health_check_interval_seconds(interval)
            .health_check_timeout_seconds(timeout)
            .healthy_threshold_count(input.healthy_threshold_count.unwrap_or(5))
            .unhealthy_threshold_count(input.unhealthy_threshold_count.unwrap_or(2))
            .set_health_check_path(http.then(|| {
                input
                    .health_check_path
                    .clone()
                    .unwrap_or_else(|| "/".into())
            }))
            .set_matcher(http.then(|| {
                input
                    .matcher
                    .clone()
                    .unwrap_or(Matcher::builder().http_code("200").build())
            }))
            .target_type(target_type)
            .set_protocol_version(http.then(|| {
                input
                    .protocol_version
                    .clone()
                    .unwrap_or_else(|| "HTTP1".into())
            }))
            .set_ip_address_type(Some(
                input
                    .ip_address_type
                    .clone()
                    .unwrap_or_else(|| "ipv4".into()),
            ))
            .build();
        if let Some(existing) = self
            .target_groups
            .iter()
            .find(|g| g.group.target_group_name.as_deref() == Some(name.as_str()))
        {
            let mut same = existing.group.clone();
            same.target_group_arn = None;
            same.load_balancer_arns = None;
            if same == group {
                return Ok(CreateTargetGroupOutput::builder()
                    .set_target_groups(Some(vec![existing.group.clone()]))
                    .build());
            }
            // terraform-aws-modules/terraform-aws-alb#251 (2022).
            return Err(error(
                "DuplicateTargetGroupName",
                format!("A target group with the same name '{name}' exists, but with different settings"),
            ));
        }
        let id = ctx.hex(16);
        let arn = ctx.arn(&format!("targetgroup/{name}/{id}"));
        let mut group = group;
        group.target_group_arn = Some(arn.clone());
        if let Some(tags) = input.tags.clone() {
            self.tags.insert(arn, tags);
        }
        self.target_groups.push(TargetGroupRecord {
            group: group.clone(),
            attributes: TARGET_GROUP_ATTRIBUTES
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            targets: vec![],
        });
        Ok(CreateTargetGroupOutput::builder()
            .set_target_groups(Some(vec![group]))
            .build())
    }

    pub(crate) fn describe_target_groups(
        &mut self,
        input: DescribeTargetGroupsInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<DescribeTargetGroupsOutput, ApiError> {
        let mut found: Vec<&TargetGroupRecord> = vec![];
        if let Some(arns) = &input.target_group_arns {
            for arn in arns {
                found.push(self.group(arn).ok_or_else(tg_not_found)?);
            }
        } else if let Some(names) = &input.names {
            for name in names {
                found.push(
                    self.target_groups
                        .iter()
                        .find(|g| g.group.target_group_name.as_deref() == Some(name.as_str()))
                        .ok_or_else(tg_not_found)?,
                );
            }
        } else if let Some(lb) = &input.load_balancer_arn {
            if self.load_balancer(lb).is_none() {
                return Err(lb_not_found());
            }
            found = self
                .target_groups
                .iter()
                .filter(|g| {
                    self.balancers_of(g.group.target_group_arn.as_deref().unwrap_or_default())
                        .contains(lb)
                })
                .collect();
        } else {
            found = self.target_groups.iter().collect();
        }
        let (page, next) = page(found, input.marker.as_deref(), input.page_size)?;
        Ok(DescribeTargetGroupsOutput::builder()
            .set_target_groups(Some(
                page.into_iter()
                    .map(|g| {
                        let mut shown = g.group.clone();
                        shown.load_balancer_arns =
                            Some(self.balancers_of(
                                g.group.target_group_arn.as_deref().unwrap_or_default(),
                            ));
                        shown
                    })
                    .collect(),
            ))
            .set_next_marker(next)
            .build())
    }

    pub(crate) fn delete_target_group(
        &mut self,
        input: DeleteTargetGroupInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<DeleteTargetGroupOutput, ApiError> {
        let arn = input.target_group_arn.unwrap_or_default();
        if self.is_associated(&arn) {
            // aws/copilot-cli#2593 (2021).
            return Err(error(
                "ResourceInUse",
                format!("Target group '{arn}' is currently in use by a listener or a rule"),
            ));
        }
        self.target_groups
            .retain(|g| g.group.target_group_arn.as_deref() != Some(arn.as_str()));
        self.tags.remove(&arn);
        Ok(DeleteTargetGroupOutput::default())
    }

    pub(crate) fn describe_target_group_attributes(
        &mut self,
        input: DescribeTargetGroupAttributesInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<DescribeTargetGroupAttributesOutput, ApiError> {
        let g = self
            .group(input.target_group_arn.as_deref().unwrap_or_default())
            .ok_or_else(tg_not_found)?;
        Ok(DescribeTargetGroupAttributesOutput::builder()
            .set_attributes(Some(attributes(&g.attributes)))
            .build())
    }

    pub(crate) fn modify_target_group_attributes(
        &mut self,
        input: ModifyTargetGroupAttributesInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<ModifyTargetGroupAttributesOutput, ApiError> {
        let changes = input.attributes.unwrap_or_default();
        for a in &changes {
            let (key, value) = (
                a.key.as_deref().unwrap_or_default(),
                a.value.as_deref().unwrap_or_default(),
            );
            if key == "deregistration_delay.timeout_seconds"
                && value.parse::<u32>().map_or(true, |v| v > 3600)
            {
                return Err(validation(format!(
                    "'deregistration_delay.timeout_seconds' value '{value}' must be between '0-3600' inclusive"
                )));
            }
            if !TARGET_GROUP_ATTRIBUTES.iter().any(|(k, _)| *k == key) {
                return Err(validation(format!(
                    "Attribute key '{key}' is not recognized"
                )));
            }
        }
        let g = self
            .group_mut(input.target_group_arn.as_deref().unwrap_or_default())
            .ok_or_else(tg_not_found)?;
        for a in changes {
            g.attributes
                .insert(a.key.unwrap_or_default(), a.value.unwrap_or_default());
        }
        Ok(ModifyTargetGroupAttributesOutput::builder()
            .set_attributes(Some(attributes(&g.attributes)))
            .build())
    }

    // -----------------------------------------------------------------------------------------
    // Listeners and rules

    pub(crate) fn create_listener(
        &mut self,
        input: CreateListenerInput,
        ctx: &mut ElbCtx<'_>,
    ) -> Result<CreateListenerOutput, ApiError> {
        let lb_arn = input.load_balancer_arn.clone().unwrap_or_default();
        if self.load_balancer(&lb_arn).is_none() {
            return Err(lb_not_found());
        }
        let lb_path = lb_arn
            .split_once(":loadbalancer/")
            .map(|(_, p)| p.to_owned())
            .unwrap_or_default();
        let port = input.port.ok_or_else(|| missing("Port"))?;
        if self.listeners.iter().any(|l| {
            l.listener.load_balancer_arn.as_deref() == Some(lb_arn.as_str())
                && l.listener.port == Some(port)
        }) {
            return Err(error(
                "DuplicateListener",
                format!("A listener already exists on this port for this load balancer '{lb_arn}'"),
            ));
        }
        let mut actions = input
            .default_actions
            .clone()
            .ok_or_else(|| missing("DefaultActions"))?;
        self.check_actions(&lb_arn, &mut actions)?;
        let id = ctx.hex(16);
        let arn = ctx.arn(&format!("listener/{lb_path}/{id}"));
        let listener = Listener::builder()
            .listener_arn(arn.clone())
            .load_balancer_arn(lb_arn)
            .port(port)
            .set_protocol(Some(
                input.protocol.clone().unwrap_or_else(|| "HTTP".into()),
            ))
            .set_default_actions(Some(actions.clone()))
            .build();
        if let Some(tags) = input.tags.clone() {
            self.tags.insert(arn.clone(), tags);
        }
        let id = ctx.hex(16);
        let rule_arn = ctx.arn(&format!(
            "listener-rule/{}/{id}",
            arn.split_once(":listener/")
                .map(|(_, p)| p)
                .unwrap_or_default(),
        ));
        self.rules.push(RuleRecord {
            listener: arn,
            rule: Rule::builder()
                .rule_arn(rule_arn)
                .priority("default")
                .set_conditions(Some(vec![]))
                .set_actions(Some(actions))
                .is_default(true)
                .build(),
        });
        self.listeners.push(ListenerRecord {
            listener: listener.clone(),
        });
        Ok(CreateListenerOutput::builder()
            .set_listeners(Some(vec![listener]))
            .build())
    }

    pub(crate) fn describe_listeners(
        &mut self,
        input: DescribeListenersInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<DescribeListenersOutput, ApiError> {
        let mut found = vec![];
        if let Some(arns) = &input.listener_arns {
            for arn in arns {
                found.push(self.listener(arn).ok_or_else(listener_not_found)?);
            }
        } else if let Some(lb) = &input.load_balancer_arn {
            if self.load_balancer(lb).is_none() {
                return Err(lb_not_found());
            }
            found = self
                .listeners
                .iter()
                .filter(|l| l.listener.load_balancer_arn.as_deref() == Some(lb.as_str()))
                .collect();
        } else {
            return Err(validation(
                "You must specify either listener ARNs or a load balancer ARN",
            ));
        }
        let (page, next) = page(found, input.marker.as_deref(), input.page_size)?;
        Ok(DescribeListenersOutput::builder()
            .set_listeners(Some(page.into_iter().map(|l| l.listener.clone()).collect()))
            .set_next_marker(next)
            .build())
    }

    pub(crate) fn modify_listener(
        &mut self,
        input: ModifyListenerInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<ModifyListenerOutput, ApiError> {
        let arn = input.listener_arn.clone().unwrap_or_default();
        let current = self.listener(&arn).ok_or_else(listener_not_found)?;
        let lb = current
            .listener
            .load_balancer_arn
            .clone()
            .unwrap_or_default();
        let mut actions = input.default_actions.clone();
        if let Some(actions) = &mut actions {
            self.check_actions(&lb, actions)?;
        }
        let taken_ports: Vec<i32> = self
            .listeners
            .iter()
            .filter(|l| l.listener.load_balancer_arn.as_deref() == Some(lb.as_str()))
            .filter_map(|l| l.listener.port)
            .collect();
        let record = self
            .listeners
            .iter_mut()
            .find(|l| l.listener.listener_arn.as_deref() == Some(arn.as_str()))
            .ok_or_else(listener_not_found)?;
        if let Some(port) = input.port {
            if port != record.listener.port.unwrap_or_default() && taken_ports.contains(&port) {
                return Err(error(
                    "DuplicateListener",
                    format!("A listener already exists on this port for this load balancer '{lb}'"),
                ));
            }
            record.listener.port = Some(port);
        }
        if let Some(protocol) = input.protocol {
            record.listener.protocol = Some(protocol);
        }
        if let Some(actions) = actions {
            record.listener.default_actions = Some(actions.clone());
            if let Some(default) = self
                .rules
                .iter_mut()
                .find(|r| r.listener == arn && r.rule.is_default == Some(true))
            {
                default.rule.actions = Some(actions);
            }
        }
        let listener = self.listener(&arn).map(|l| l.listener.clone());
        Ok(ModifyListenerOutput::builder()
            .set_listeners(Some(listener.into_iter().collect()))
            .build())
    }

    pub(crate) fn delete_listener(
        &mut self,
        input: DeleteListenerInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<DeleteListenerOutput, ApiError> {
        let arn = input.listener_arn.unwrap_or_default();
        if self.listener(&arn).is_none() {
            return Err(listener_not_found());
        }
        self.listeners
            .retain(|l| l.listener.listener_arn.as_deref() != Some(arn.as_str()));
        for r in self.rules.iter().filter(|r| r.listener == arn) {
            if let Some(rule) = &r.rule.rule_arn {
                self.tags.remove(rule);
            }
        }
        self.rules.retain(|r| r.listener != arn);
        self.tags.remove(&arn);
        Ok(DeleteListenerOutput::default())
    }

    pub(crate) fn create_rule(
        &mut self,
        input: CreateRuleInput,
        ctx: &mut ElbCtx<'_>,
    ) -> Result<CreateRuleOutput, ApiError> {
        let listener_arn = input.listener_arn.clone().unwrap_or_default();
        let listener = self
            .listener(&listener_arn)
            .ok_or_else(listener_not_found)?;
        let lb = listener
            .listener
            .load_balancer_arn
            .clone()
            .unwrap_or_default();
        let priority = input.priority.ok_or_else(|| missing("Priority"))?;
        if !(1..=50_000).contains(&priority) {
            return Err(validation(format!(
                "Priority '{priority}' must be between '1' and '50000'"
            )));
        }
        if self.rules.iter().any(|r| {
            r.listener == listener_arn
                && r.rule.priority.as_deref() == Some(priority.to_string().as_str())
        }) {
            return Err(error(
                "PriorityInUse",
                format!("Priority '{priority}' is currently in use"),
            ));
        }
        let mut actions = input.actions.clone().ok_or_else(|| missing("Actions"))?;
        self.check_actions(&lb, &mut actions)?;
        let id = ctx.hex(16);
        let arn = ctx.arn(&format!(
            "listener-rule/{}/{id}",
            listener_arn
                .split_once(":listener/")
                .map(|(_, p)| p)
                .unwrap_or_default(),
        ));
        let rule = Rule::builder()
            .rule_arn(arn.clone())
            .priority(priority.to_string())
            .set_conditions(Some(input.conditions.clone().unwrap_or_default()))
            .set_actions(Some(actions))
            .is_default(false)
            .build();
        if let Some(tags) = input.tags.clone() {
            self.tags.insert(arn, tags);
        }
        self.rules.push(RuleRecord {
            listener: listener_arn,
            rule: rule.clone(),
        });
        Ok(CreateRuleOutput::builder()
            .set_rules(Some(vec![rule]))
            .build())
    }

    pub(crate) fn describe_rules(
        &mut self,
        input: DescribeRulesInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<DescribeRulesOutput, ApiError> {
        let mut found: Vec<&RuleRecord> = vec![];
        if let Some(arns) = &input.rule_arns {
            for arn in arns {
                found.push(
                    self.rules
                        .iter()
                        .find(|r| r.rule.rule_arn.as_deref() == Some(arn.as_str()))
                        .ok_or_else(rule_not_found)?,
                );
            }
        } else if let Some(listener) = &input.listener_arn {
            if self.listener(listener).is_none() {
                return Err(listener_not_found());
            }
            found = self
                .rules
                .iter()
                .filter(|r| &r.listener == listener)
                .collect();
            // By priority, the default rule last.
            found.sort_by_key(|r| {
                r.rule
                    .priority
                    .as_deref()
                    .and_then(|p| p.parse::<u32>().ok())
                    .unwrap_or(u32::MAX)
            });
        } else {
            return Err(validation(
                "You must specify either listener rule ARNs or a listener ARN",
            ));
        }
        let (page, next) = page(found, input.marker.as_deref(), input.page_size)?;
        Ok(DescribeRulesOutput::builder()
            .set_rules(Some(page.into_iter().map(|r| r.rule.clone()).collect()))
            .set_next_marker(next)
            .build())
    }

    pub(crate) fn modify_rule(
        &mut self,
        input: ModifyRuleInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<ModifyRuleOutput, ApiError> {
        let arn = input.rule_arn.clone().unwrap_or_default();
        let record = self
            .rules
            .iter()
            .find(|r| r.rule.rule_arn.as_deref() == Some(arn.as_str()))
            .ok_or_else(rule_not_found)?;
        let listener = record.listener.clone();
        let lb = self
            .listener(&listener)
            .and_then(|l| l.listener.load_balancer_arn.clone())
            .unwrap_or_default();
        let mut actions = input.actions.clone();
        if let Some(actions) = &mut actions {
            self.check_actions(&lb, actions)?;
        }
        let record = self
            .rules
            .iter_mut()
            .find(|r| r.rule.rule_arn.as_deref() == Some(arn.as_str()))
            .ok_or_else(rule_not_found)?;
        if let Some(conditions) = input.conditions {
            record.rule.conditions = Some(conditions);
        }
        if let Some(actions) = actions {
            record.rule.actions = Some(actions.clone());
            if record.rule.is_default == Some(true) {
                if let Some(l) = self
                    .listeners
                    .iter_mut()
                    .find(|l| l.listener.listener_arn.as_deref() == Some(listener.as_str()))
                {
                    l.listener.default_actions = Some(actions);
                }
            }
        }
        let rule = self
            .rules
            .iter()
            .find(|r| r.rule.rule_arn.as_deref() == Some(arn.as_str()))
            .map(|r| r.rule.clone());
        Ok(ModifyRuleOutput::builder()
            .set_rules(Some(rule.into_iter().collect()))
            .build())
    }

    pub(crate) fn delete_rule(
        &mut self,
        input: DeleteRuleInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<DeleteRuleOutput, ApiError> {
        let arn = input.rule_arn.unwrap_or_default();
        let rule = self
            .rules
            .iter()
            .find(|r| r.rule.rule_arn.as_deref() == Some(arn.as_str()))
            .ok_or_else(rule_not_found)?;
        if rule.rule.is_default == Some(true) {
            return Err(error(
                "OperationNotPermitted",
                format!("Default rule '{arn}' cannot be deleted"),
            ));
        }
        self.rules
            .retain(|r| r.rule.rule_arn.as_deref() != Some(arn.as_str()));
        self.tags.remove(&arn);
        Ok(DeleteRuleOutput::default())
    }

    // -----------------------------------------------------------------------------------------
    // Targets

    /// Registers targets at `now`; one registered (and not draining) already keeps its time.
    fn register(
        &mut self,
        group: &str,
        targets: &[(String, i32, Option<String>)],
        now: SystemTime,
    ) {
        let Some(g) = self.group_mut(group) else {
            return;
        };
        for (id, port, zone) in targets {
            if let Some(t) = g
                .targets
                .iter_mut()
                .find(|t| &t.id == id && t.port == *port)
            {
                if t.deregistered.is_some() {
                    t.registered = now;
                    t.deregistered = None;
                }
                continue;
            }
            g.targets.push(TargetRecord {
                id: id.clone(),
                port: *port,
                zone: zone.clone(),
                registered: now,
                deregistered: None,
            });
        }
    }

    /// Deregisters targets at `now` (they drain for the group's delay); answers the delay.
    fn deregister(&mut self, group: &str, targets: &[(String, i32)], now: SystemTime) -> u64 {
        let Some(g) = self.group_mut(group) else {
            return 0;
        };
        let mut changed = false;
        for (id, port) in targets {
            if let Some(t) = g
                .targets
                .iter_mut()
                .find(|t| &t.id == id && t.port == *port && t.deregistered.is_none())
            {
                t.deregistered = Some(now);
                changed = true;
            }
        }
        // Nothing newly draining (a task deregistered when its set began to drain): no wait.
        if changed {
            g.delay_seconds()
        } else {
            0
        }
    }

    /// ECS registering a task's ENI address (when the task is RUNNING): answers whether the
    /// group exists and took it.
    pub(crate) fn register_task(
        &mut self,
        group: &str,
        ip: &str,
        port: i32,
        zone: &str,
        now: SystemTime,
    ) -> bool {
        if self.group(group).is_none() {
            return false;
        }
        self.register(group, &[(ip.to_owned(), port, Some(zone.to_owned()))], now);
        true
    }

    /// ECS deregistering a task's address (when it is to stop): answers the seconds it drains.
    pub(crate) fn deregister_task(
        &mut self,
        group: &str,
        ip: &str,
        port: i32,
        now: SystemTime,
    ) -> Option<u64> {
        self.group(group)?;
        Some(self.deregister(group, &[(ip.to_owned(), port)], now))
    }

    /// Forgets targets whose draining is over.
    fn expire(&mut self, now: SystemTime, second: Duration) {
        for g in &mut self.target_groups {
            let delay = second.saturating_mul(u32::try_from(g.delay_seconds()).unwrap_or(u32::MAX));
            g.targets
                .retain(|t| t.deregistered.is_none_or(|d| after(d, delay) > now));
        }
    }

    pub(crate) fn register_targets(
        &mut self,
        input: RegisterTargetsInput,
        ctx: &mut ElbCtx<'_>,
    ) -> Result<RegisterTargetsOutput, ApiError> {
        let arn = input.target_group_arn.clone().unwrap_or_default();
        let g = self.group(&arn).ok_or_else(tg_not_found)?;
        let ip = g.group.target_type.as_deref() == Some("ip");
        let default_port = g.group.port.unwrap_or(80);
        let mut targets = vec![];
        for (i, t) in input.targets.unwrap_or_default().into_iter().enumerate() {
            let Some(id) = t.id.clone() else {
                return Err(missing(&format!("Targets.member.{}.Id", i + 1)));
            };
            if ip && id.parse::<std::net::IpAddr>().is_err() {
                return Err(error(
                    "InvalidTarget",
                    format!("The IP address '{id}' is not a valid IPv4 address"),
                ));
            }
            if !ip && !id.starts_with("i-") {
                return Err(error(
                    "InvalidTarget",
                    format!("The following targets are not valid instances: '{id}'"),
                ));
            }
            targets.push((
                id,
                t.port.unwrap_or(default_port),
                t.availability_zone.clone(),
            ));
        }
        self.register(&arn, &targets, ctx.now);
        Ok(RegisterTargetsOutput::default())
    }

    pub(crate) fn deregister_targets(
        &mut self,
        input: DeregisterTargetsInput,
        ctx: &mut ElbCtx<'_>,
    ) -> Result<DeregisterTargetsOutput, ApiError> {
        let arn = input.target_group_arn.clone().unwrap_or_default();
        let g = self.group(&arn).ok_or_else(tg_not_found)?;
        let default_port = g.group.port.unwrap_or(80);
        let mut targets = vec![];
        for (i, t) in input.targets.unwrap_or_default().into_iter().enumerate() {
            let Some(id) = t.id.clone() else {
                return Err(missing(&format!("Targets.member.{}.Id", i + 1)));
            };
            let port = t.port.unwrap_or(default_port);
            // A target draining already is deregistered again without complaint (a repeat
            // after a lost answer).
            if !g.targets.iter().any(|r| r.id == id && r.port == port) {
                return Err(error(
                    "InvalidTarget",
                    format!(
                        "The following targets are not registered in target group '{arn}': '{id}'"
                    ),
                ));
            }
            targets.push((id, port));
        }
        self.deregister(&arn, &targets, ctx.now);
        Ok(DeregisterTargetsOutput::default())
    }

    pub(crate) fn describe_target_health(
        &mut self,
        input: DescribeTargetHealthInput,
        ctx: &mut ElbCtx<'_>,
    ) -> Result<DescribeTargetHealthOutput, ApiError> {
        self.expire(ctx.now, ctx.second);
        let arn = input.target_group_arn.clone().unwrap_or_default();
        let g = self.group(&arn).ok_or_else(tg_not_found)?;
        let in_use = self.is_associated(&arn);
        let port = g
            .group
            .health_check_port
            .clone()
            .unwrap_or_else(|| "traffic-port".into());
        let describe = |t: &TargetRecord| {
            TargetHealthDescription::builder()
                .target(
                    TargetDescription::builder()
                        .id(t.id.clone())
                        .port(t.port)
                        .set_availability_zone(t.zone.clone())
                        .build(),
                )
                .health_check_port(if port == "traffic-port" {
                    t.port.to_string()
                } else {
                    port.clone()
                })
                .target_health(health(g, t, in_use, ctx))
                .build()
        };
        let descriptions = match &input.targets {
            Some(asked) => asked
                .iter()
                .map(|a| {
                    let id = a.id.clone().unwrap_or_default();
                    let port = a.port.unwrap_or(g.group.port.unwrap_or(80));
                    match g.targets.iter().find(|t| t.id == id && t.port == port) {
                        Some(t) => describe(t),
                        None => TargetHealthDescription::builder()
                            .target(TargetDescription::builder().id(id).port(port).build())
                            .set_target_health(Some(
                                TargetHealth::builder()
                                    .state("unused")
                                    .reason("Target.NotRegistered")
                                    .set_description(Some(
                                        "Target is not registered to the target group".into(),
                                    ))
                                    .build(),
                            ))
                            .build(),
                    }
                })
                .collect(),
            None => g.targets.iter().map(describe).collect(),
        };
        Ok(DescribeTargetHealthOutput::builder()
            .set_target_health_descriptions(Some(descriptions))
            .build())
    }

    // -----------------------------------------------------------------------------------------
    // Tags

    fn resource_exists(&self, arn: &str) -> Result<(), ApiError> {
        let found = if arn.contains(":targetgroup/") {
            self.group(arn).is_some()
        } else if arn.contains(":loadbalancer/") {
            self.load_balancer(arn).is_some()
        } else if arn.contains(":listener-rule/") {
            self.rules
                .iter()
                .any(|r| r.rule.rule_arn.as_deref() == Some(arn))
        } else if arn.contains(":listener/") {
            self.listener(arn).is_some()
        } else {
            return Err(validation(format!("'{arn}' must be in ARN format")));
        };
        if found {
            return Ok(());
        }
        Err(if arn.contains(":targetgroup/") {
            tg_not_found()
        } else if arn.contains(":loadbalancer/") {
            lb_not_found()
        } else if arn.contains(":listener-rule/") {
            rule_not_found()
        } else {
            listener_not_found()
        })
    }

    pub(crate) fn add_tags(
        &mut self,
        input: AddTagsInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<AddTagsOutput, ApiError> {
        let new = input.tags.unwrap_or_default();
        if let Some(i) = new.iter().position(|t| t.key.is_none()) {
            return Err(missing(&format!("Tags.member.{}.Key", i + 1)));
        }
        for arn in input.resource_arns.as_deref().unwrap_or_default() {
            self.resource_exists(arn)?;
        }
        for arn in input.resource_arns.unwrap_or_default() {
            let tags = self.tags.entry(arn).or_default();
            for t in &new {
                match tags.iter_mut().find(|x| x.key == t.key) {
                    Some(x) => x.value = t.value.clone(),
                    None => tags.push(t.clone()),
                }
            }
        }
        Ok(AddTagsOutput::default())
    }

    pub(crate) fn remove_tags(
        &mut self,
        input: RemoveTagsInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<RemoveTagsOutput, ApiError> {
        let keys = input.tag_keys.unwrap_or_default();
        for arn in input.resource_arns.as_deref().unwrap_or_default() {
            self.resource_exists(arn)?;
        }
        for arn in input.resource_arns.unwrap_or_default() {
            if let Some(tags) = self.tags.get_mut(&arn) {
                tags.retain(|t| !t.key.as_ref().is_some_and(|k| keys.contains(k)));
            }
        }
        Ok(RemoveTagsOutput::default())
    }

    pub(crate) fn describe_tags(
        &mut self,
        input: DescribeTagsInput,
        _: &mut ElbCtx<'_>,
    ) -> Result<DescribeTagsOutput, ApiError> {
        let mut out = vec![];
        for arn in input.resource_arns.unwrap_or_default() {
            self.resource_exists(&arn)?;
            out.push(
                TagDescription::builder()
                    .set_tags(Some(self.tags.get(&arn).cloned().unwrap_or_default()))
                    .resource_arn(arn)
                    .build(),
            );
        }
        Ok(DescribeTagsOutput::builder()
            .set_tag_descriptions(Some(out))
            .build())
    }
}

fn attributes(map: &BTreeMap<String, String>) -> Vec<TargetGroupAttribute> {
    map.iter()
        .map(|(k, v)| {
            TargetGroupAttribute::builder()
                .key(k.clone())
                .value(v.clone())
                .build()
        })
        .collect()
}

/// The account's one VPC in a region (assumed: the emulator has no EC2 side).
fn vpc_of(ctx: &ElbCtx<'_>) -> String {
    let sum: u64 = ctx.region.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("vpc-{:017x}", sum >> 4)
}

/// A target's health now (see the module documentation for the timeline).
fn health(g: &TargetGroupRecord, t: &TargetRecord, in_use: bool, ctx: &ElbCtx<'_>) -> TargetHealth {
    let state = |s: &str, reason: Option<&str>, description: Option<&str>| {
        TargetHealth::builder()
            .state(s)
            .set_reason(reason.map(Into::into))
            .set_description(description.map(Into::into))
            .build()
    };
    if t.deregistered.is_some() {
        // Recorded by users (the research notes, section 4.2).
        return state(
            "draining",
            Some("Target.DeregistrationInProgress"),
            Some("Target deregistration is in progress"),
        );
    }
    if !in_use {
        // aws-cli describe-target-health example.
        return state(
            "unused",
            Some("Target.NotInUse"),
            Some("Target group is not configured to receive traffic from the load balancer"),
        );
    }
    if g.group.health_check_enabled == Some(false) {
        return state(
            "unavailable",
            Some("Target.HealthCheckDisabled"),
            Some("Health checks are not enabled for this target"),
        );
    }
    let interval = ctx
        .seconds(u64::try_from(g.group.health_check_interval_seconds.unwrap_or(30)).unwrap_or(30));
    let healthy_at = after(t.registered, ctx.seconds(g.healthy_after_seconds()));
    if ctx.now >= healthy_at {
        return state("healthy", None, None);
    }
    if ctx.now < after(t.registered, interval) {
        // aws-cli describe-target-health example.
        state(
            "initial",
            Some("Elb.RegistrationInProgress"),
            Some("Target registration is in progress"),
        )
    } else {
        state(
            "initial",
            Some("Elb.InitialHealthChecking"),
            Some("Initial health checks in progress"),
        )
    }
}

/// `t + d`, or as far as time goes (a load-balancer second can be configured absurdly long).
pub(crate) fn after(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(u64::from(u32::MAX))))
        .unwrap_or(t)
}

/// A page of `items` from `marker` (an index this emulator handed out), at most `size` long
/// (1 to 400, documented; 400 by default).
fn page<T>(
    items: Vec<T>,
    marker: Option<&str>,
    size: Option<i32>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let size = match size {
        Some(s) if !(1..=400).contains(&s) => {
            return Err(validation(format!(
                "Page size '{s}' must be between '1' and '400'"
            )));
        }
        Some(s) => usize::try_from(s).unwrap_or(400),
        None => 400,
    };
    let start = match marker {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| validation(format!("Marker '{m}' is not valid")))?,
        None => 0,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(size).collect();
    let end = start + page.len();
    Ok((page, (end < total).then(|| end.to_string())))
}
