//! ECS's own deployment strategies: BLUE_GREEN (2025-07), LINEAR and CANARY (2025-10), with
//! bake times, lifecycle hooks (AWS_LAMBDA, and PAUSE since 2026-05) and rollback.
//!
//! A deployment of such a service runs a plan of lifecycle stages in the order the ECS
//! developer guide documents ("How Amazon ECS blue/green deployments work", and the linear and
//! canary pages): RECONCILE_SERVICE (only when more than one revision is active),
//! PRE_SCALE_UP, SCALE_UP (green runs its full count and serves nothing), POST_SCALE_UP,
//! TEST_TRAFFIC_SHIFT (the test rule sends everything to green), POST_TEST_TRAFFIC_SHIFT, then
//! for each production step PRE_PRODUCTION_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT
//! (BLUE_GREEN: one step to 100%; CANARY: the canary share, its bake, then 100%; LINEAR: one
//! more step share at a time, the step bake between steps but not after 100%),
//! POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME (`bakeTimeInMinutes`, blue and green both run),
//! CLEAN_UP (blue scaled to 0). Hooks run at their stages once the stage's own work is done;
//! the next stage starts when every hook of the stage succeeded.
//!
//! A failed hook, a hook timeout whose action is ROLLBACK, a tripped circuit breaker, an alarm
//! in ALARM or StopServiceDeployment roll the deployment back: documented, there is no
//! ROLLBACK stage; the PRODUCTION_TRAFFIC_SHIFT and TEST_TRAFFIC_SHIFT hooks run again with
//! the weights back on blue, then green goes. A deployment with no blue to go back to ends
//! ROLLBACK_FAILED, "No rollback candidate was found to run the rollback." (observed in the
//! Terraform provider's acceptance tests).
//!
//! Minutes (bakes, hook timeouts) and a hook's seconds pass at the timing's
//! [`health_second`](crate::Timing::health_second), the AWS second the ELBv2 side counts in;
//! with the instant timing they take no time, except a hook's timeout, which counts at least
//! 1 ms per AWS second (a PAUSE hook must wait to be continued).

use std::time::{Duration, SystemTime};

use ecs_model::types::*;
use rust_decimal::Decimal;

use super::tasks::StopCause;
use super::{ts, ServiceRecord, State};
use crate::error::ApiError;
use crate::outside::HookReply;
use crate::scheduler::{Event, ServiceKey};

/// Documented: on IN_PROGRESS, ECS invokes the hook again after `callBackDelay`, 30 s by
/// default.
const CALLBACK_SECONDS: f64 = 30.0;

/// The least time a stage lasts, in AWS seconds (assumed, A70: no record gives a stage's
/// length; ECS changes listener rules and reads them back, and a poller sees every stage).
const STAGE_SECONDS: f64 = 5.0;

/// Documented: a hook's timeout is 1440 minutes unless configured.
const DEFAULT_HOOK_TIMEOUT_MINUTES: i32 = 1440;

/// The observed reason of a deployment whose first revision fails.
pub(super) const NO_ROLLBACK_CANDIDATE: &str =
    "No rollback candidate was found to run the rollback.";

/// What a stage does before its hooks run.
#[derive(Clone, Debug, PartialEq)]
enum Act {
    /// Nothing but its hooks.
    Hooks,
    /// Another deployment was still under way: its tasks go and all traffic is on blue again
    /// before green starts (RECONCILE_SERVICE).
    Reconcile,
    /// Green starts its full count; done once every task runs.
    ScaleUp,
    /// The test rules send this share (percent) to green.
    Test(Decimal),
    /// The production rules send this share (percent) to green.
    Production(Decimal),
    /// A bake of so many minutes.
    Bake(i32),
    /// Blue is scaled to 0 (forward), at the end of the stage, when the deployment succeeds.
    CleanUp,
    /// Green is scaled to 0 and blue is PRIMARY again (rollback).
    Restore,
}

#[derive(Clone, Debug)]
struct Item {
    stage: &'static str,
    act: Act,
    hooks: bool,
}

impl Item {
    fn new(stage: &'static str, act: Act, hooks: bool) -> Item {
        Item { stage, act, hooks }
    }
}

/// One load balancer of the service: its rules and which of its two groups is blue.
#[derive(Clone, Debug)]
pub(super) struct Pair {
    production_rule: Option<String>,
    test_rule: Option<String>,
    blue: String,
    green: String,
}

/// A hook invocation in the current stage.
#[derive(Clone, Debug)]
struct HookRun {
    hook: DeploymentLifecycleHook,
    id: String,
    status: DeploymentLifecycleHookStatus,
    /// When it times out.
    expires: Option<SystemTime>,
    /// The time shown as `expiresAt`.
    shown_expiry: SystemTime,
    /// When the next invocation of a Lambda hook is due, or its reply arrives.
    due: Option<SystemTime>,
    /// A reply on its way (the function's latency).
    pending: Option<HookReply>,
    invocations: usize,
}

impl HookRun {
    fn pause(&self) -> bool {
        self.hook.target_type.as_ref() == Some(&DeploymentLifecycleHookTargetType::Pause)
    }

    fn timeout_action(&self) -> DeploymentLifecycleHookAction {
        self.hook
            .timeout_configuration
            .as_ref()
            .and_then(|t| t.action.clone())
            .unwrap_or(DeploymentLifecycleHookAction::Rollback)
    }

    fn open(&self) -> bool {
        matches!(
            self.status,
            DeploymentLifecycleHookStatus::InProgress
                | DeploymentLifecycleHookStatus::AwaitingAction
        )
    }
}

/// The state of one native deployment, kept with its service deployment.
#[derive(Clone, Debug)]
pub(super) struct Run {
    plan: Vec<Item>,
    index: usize,
    acted: bool,
    bake_until: Option<SystemTime>,
    hooks: Vec<HookRun>,
    /// None until the first step reads the rules.
    pairs: Option<Vec<Pair>>,
    /// The deployment (`ecs-svc/...`) green runs as.
    pub(super) green: String,
    /// The revision serving production when the run began (blue).
    blue_revision: Option<String>,
    /// Green's share of production and test traffic, in percent.
    production: Decimal,
    test: Decimal,
    /// Green may start its tasks (SCALE_UP reached).
    pub(super) scaling: bool,
    pub(super) rolling_back: bool,
    /// The stage shown as `lifecycleStage`.
    stage: &'static str,
    /// Bumped whenever the next wake-up changes; older wake-ups are ignored.
    generation: u64,
}

/// What one pass over a run asks for next.
enum Next {
    /// Go on at once.
    Again,
    /// Wait for something to happen, waking up at this time if given.
    Wait(Option<SystemTime>),
    /// The run is over.
    Done,
}

/// How a stage's hooks stand.
enum Hooks {
    Passed,
    Waiting(Option<SystemTime>),
    Failed(String),
}

/// The production shares, in percent, a strategy's steps reach (documented: LINEAR's steps are
/// cumulative, the last one 100; CANARY is the canary share then 100; BLUE_GREEN is 100).
fn production_steps(config: &DeploymentConfiguration) -> Vec<Decimal> {
    let hundred = Decimal::ONE_HUNDRED;
    let strategy = config
        .strategy
        .clone()
        .unwrap_or(DeploymentStrategy::Rolling);
    if strategy == DeploymentStrategy::Linear {
        let step = config
            .linear_configuration
            .as_ref()
            .and_then(|l| l.step_percent)
            .map(|d| d.get())
            .unwrap_or(Decimal::TEN);
        let mut steps = vec![];
        let mut share = step;
        while share < hundred && step > Decimal::ZERO {
            steps.push(share);
            share += step;
        }
        steps.push(hundred);
        steps
    } else if strategy == DeploymentStrategy::Canary {
        let canary = config
            .canary_configuration
            .as_ref()
            .and_then(|c| c.canary_percent)
            .map(|d| d.get())
            .unwrap_or(Decimal::from(5));
        if canary < hundred {
            vec![canary, hundred]
        } else {
            vec![hundred]
        }
    } else {
        vec![hundred]
    }
}

/// The minutes between two production steps.
fn step_bake(config: &DeploymentConfiguration) -> i32 {
    let strategy = config
        .strategy
        .clone()
        .unwrap_or(DeploymentStrategy::Rolling);
    if strategy == DeploymentStrategy::Linear {
        config
            .linear_configuration
            .as_ref()
            .and_then(|l| l.step_bake_time_in_minutes)
            .unwrap_or(6)
    } else {
        config
            .canary_configuration
            .as_ref()
            .and_then(|c| c.canary_bake_time_in_minutes)
            .unwrap_or(10)
    }
}

/// The stages of a forward deployment.
fn forward_plan(config: &DeploymentConfiguration, reconcile: bool) -> Vec<Item> {
    let mut plan = vec![];
    if reconcile {
        plan.push(Item::new("RECONCILE_SERVICE", Act::Reconcile, true));
    }
    plan.push(Item::new("PRE_SCALE_UP", Act::Hooks, true));
    plan.push(Item::new("SCALE_UP", Act::ScaleUp, false));
    plan.push(Item::new("POST_SCALE_UP", Act::Hooks, true));
    plan.push(Item::new(
        "TEST_TRAFFIC_SHIFT",
        Act::Test(Decimal::ONE_HUNDRED),
        true,
    ));
    plan.push(Item::new("POST_TEST_TRAFFIC_SHIFT", Act::Hooks, true));
    let steps = production_steps(config);
    let last = steps.len().saturating_sub(1);
    for (i, share) in steps.into_iter().enumerate() {
        plan.push(Item::new("PRE_PRODUCTION_TRAFFIC_SHIFT", Act::Hooks, true));
        plan.push(Item::new(
            "PRODUCTION_TRAFFIC_SHIFT",
            Act::Production(share),
            true,
        ));
        if i < last {
            plan.push(Item::new(
                "PRODUCTION_TRAFFIC_SHIFT",
                Act::Bake(step_bake(config)),
                false,
            ));
        }
    }
    plan.push(Item::new("POST_PRODUCTION_TRAFFIC_SHIFT", Act::Hooks, true));
    plan.push(Item::new(
        "BAKE_TIME",
        Act::Bake(config.bake_time_in_minutes.unwrap_or(0)),
        false,
    ));
    plan.push(Item::new("CLEAN_UP", Act::CleanUp, false));
    plan
}

/// The weights a share of green is written as on a rule (assumed, A60: whole percentages as
/// they are, 5 and 95; a share with a tenth, 12.5, as tenths, 125 and 875, which keeps both
/// under ELBv2's 999).
pub(super) fn weights_of(share: Decimal) -> (i32, i32) {
    let hundred = Decimal::ONE_HUNDRED;
    let share = share.clamp(Decimal::ZERO, hundred);
    let to_i32 = |d: Decimal| i32::try_from(d.round().mantissa()).unwrap_or(0);
    if share.fract().is_zero() {
        let g = to_i32(share.trunc());
        (g, 100 - g)
    } else {
        let g = to_i32((share * Decimal::TEN).round());
        (g, 1000 - g)
    }
}

/// Largest bake or step bake, in minutes (documented: "Valid values are 0 to 1440 minutes").
const MAX_BAKE_MINUTES: i32 = 1440;

/// Largest hook timeout, in minutes (documented: 1 to 20160).
const MAX_HOOK_TIMEOUT_MINUTES: i32 = 20_160;

/// The stages a PAUSE hook may wait at (the troubleshooting guide's list).
const PAUSE_STAGES: &[&str] = &[
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
];

/// A share in percent that is a multiple of 0.1 within `low..=100`.
fn valid_share(d: Option<ecs_model::Decimal>, low: Decimal) -> bool {
    d.is_none_or(|d| {
        let d = d.get();
        d >= low && d <= Decimal::ONE_HUNDRED && (d * Decimal::TEN).fract().is_zero()
    })
}

fn valid_bake(m: Option<i32>) -> bool {
    m.is_none_or(|m| (0..=MAX_BAKE_MINUTES).contains(&m))
}

/// A refusal in the words of the developer guide's troubleshooting page for load balancers
/// (its code assumed, A66: ClientException, the code of the one recorded sibling).
fn lb_refusal(message: impl Into<String>) -> ApiError {
    ApiError::client(message)
}

/// The deployment configuration a CreateService or UpdateService will deploy with, checked:
/// the strategy's own settings in their documented ranges, its hooks, and the load balancers
/// a non-ROLLING strategy needs. Answers it with the configuration of another strategy left
/// out (observed: a canaryConfiguration sent with BLUE_GREEN is not echoed) and the documented
/// defaults of its own filled in (assumed, A67).
pub(super) fn check_configuration(
    mut config: DeploymentConfiguration,
    controller: DeploymentControllerType,
    balancers: &[LoadBalancer],
    elbv2: &super::elbv2::Elbv2,
) -> Result<DeploymentConfiguration, ApiError> {
    let strategy = config.strategy.clone();
    let native = strategy
        .as_ref()
        .is_some_and(|s| *s != DeploymentStrategy::Rolling);
    if let Some(s) = strategy.as_ref().filter(|_| native) {
        // Observed (kayac/ecspresso#1082): early success is for ROLLING only.
        if config
            .early_success_criteria
            .as_ref()
            .is_some_and(|e| e.enable == Some(true))
        {
            return Err(ApiError::invalid(format!(
                "Early success criteria not supported for {} deployment strategy",
                s.as_str()
            )));
        }
        if controller != DeploymentControllerType::Ecs {
            // Assumed, A68: no record shows this refusal.
            return Err(ApiError::invalid(format!(
                "The {} deployment strategy is only supported for services that use the ECS deployment controller.",
                s.as_str()
            )));
        }
    }
    if !valid_bake(config.bake_time_in_minutes) {
        return Err(ApiError::invalid(
            "bakeTimeInMinutes must be between 0 and 1440.",
        ));
    }
    if strategy == Some(DeploymentStrategy::Linear) {
        let l = config
            .linear_configuration
            .get_or_insert_with(Default::default);
        if !valid_share(l.step_percent, Decimal::from(3)) {
            return Err(ApiError::invalid(
                "linearConfiguration.stepPercent must be a multiple of 0.1 from 3.0 to 100.0.",
            ));
        }
        if !valid_bake(l.step_bake_time_in_minutes) {
            return Err(ApiError::invalid(
                "linearConfiguration.stepBakeTimeInMinutes must be between 0 and 1440.",
            ));
        }
        l.step_percent
            .get_or_insert(ecs_model::Decimal::new(Decimal::TEN));
        l.step_bake_time_in_minutes.get_or_insert(6);
        config.canary_configuration = None;
    } else if strategy == Some(DeploymentStrategy::Canary) {
        let c = config
            .canary_configuration
            .get_or_insert_with(Default::default);
        if !valid_share(c.canary_percent, Decimal::new(1, 1)) {
            return Err(ApiError::invalid(
                "canaryConfiguration.canaryPercent must be a multiple of 0.1 from 0.1 to 100.0.",
            ));
        }
        if !valid_bake(c.canary_bake_time_in_minutes) {
            return Err(ApiError::invalid(
                "canaryConfiguration.canaryBakeTimeInMinutes must be between 0 and 1440.",
            ));
        }
        c.canary_percent
            .get_or_insert(ecs_model::Decimal::new(Decimal::from(5)));
        c.canary_bake_time_in_minutes.get_or_insert(10);
        config.linear_configuration = None;
    } else if native {
        config.linear_configuration = None;
        config.canary_configuration = None;
    }
    let minimum = config.minimum_healthy_percent.unwrap_or(100);
    if let Some(e) = &mut config.early_success_criteria {
        // Assumed messages, A71: the ranges are documented ("must be between the service
        // minimumHealthyPercent and 100"), the refusals' words are not recorded.
        if e.healthy_percent.is_some_and(|p| !(0..=100).contains(&p)) {
            return Err(ApiError::invalid(
                "earlySuccessCriteria.healthyPercent must be between 0 and 100.",
            ));
        }
        // Documented: "You must also specify healthyPercent and sourceServiceRevisionCleanup".
        if e.enable == Some(true)
            && (e.healthy_percent.is_none() || e.source_service_revision_cleanup.is_none())
        {
            return Err(ApiError::invalid(
                "earlySuccessCriteria must specify healthyPercent and sourceServiceRevisionCleanup when enable is true.",
            ));
        }
        if e.enable == Some(true) && e.healthy_percent.is_some_and(|p| p < minimum) {
            return Err(ApiError::invalid(
                "earlySuccessCriteria.healthyPercent must be greater than or equal to the service's minimumHealthyPercent.",
            ));
        }
        // Observed (kayac/ecspresso#1082): DescribeServices answers 100 and BLOCKING when
        // they were not given.
        e.healthy_percent.get_or_insert(100);
        e.source_service_revision_cleanup
            .get_or_insert(ServiceRevisionCleanup::Blocking);
    }
    for hook in config.lifecycle_hooks.iter().flatten() {
        check_hook(hook)?;
    }
    if native {
        check_balancers(strategy.as_ref(), balancers, elbv2)?;
    }
    Ok(config)
}

fn check_hook(hook: &DeploymentLifecycleHook) -> Result<(), ApiError> {
    let kind = hook
        .target_type
        .clone()
        .unwrap_or(DeploymentLifecycleHookTargetType::AwsLambda);
    if !kind.is_known() {
        // Documented (troubleshooting guide).
        return Err(ApiError::invalid(
            "Invalid targetType. Valid values are: AWS_LAMBDA, PAUSE",
        ));
    }
    let stages = hook.lifecycle_stages.clone().unwrap_or_default();
    // Assumed, A69: the model says the stages must be given; no record shows the answer.
    if stages.is_empty() {
        return Err(ApiError::invalid(
            "lifecycleStages must be provided for a deployment lifecycle hook.",
        ));
    }
    if let Some(bad) = stages.iter().find(|s| !s.is_known()) {
        return Err(ApiError::invalid(format!(
            "Invalid lifecycle stage {}.",
            bad.as_str()
        )));
    }
    if kind == DeploymentLifecycleHookTargetType::Pause {
        if stages.iter().any(|s| !PAUSE_STAGES.contains(&s.as_str())) {
            // Documented (troubleshooting guide).
            return Err(ApiError::invalid(
                "Invalid lifecycle stage provided for Pause Hook",
            ));
        }
    } else if hook.hook_target_arn.as_deref().is_none_or(str::is_empty) {
        // Assumed, A69.
        return Err(ApiError::invalid(
            "hookTargetArn must be provided for an AWS_LAMBDA lifecycle hook.",
        ));
    }
    if let Some(t) = &hook.timeout_configuration {
        // Documented: 1 to 1440 minutes for a Lambda hook, up to 20160 for a PAUSE hook.
        let max = if kind == DeploymentLifecycleHookTargetType::Pause {
            MAX_HOOK_TIMEOUT_MINUTES
        } else {
            MAX_BAKE_MINUTES
        };
        if t.timeout_in_minutes
            .is_some_and(|m| !(1..=max).contains(&m))
        {
            // Assumed, A69 (the words; the ranges are documented).
            return Err(ApiError::invalid(format!(
                "timeoutConfiguration.timeoutInMinutes must be between 1 and {max} for a {} hook.",
                kind.as_str()
            )));
        }
    }
    Ok(())
}

/// The load balancers of a BLUE_GREEN, LINEAR or CANARY service, in the troubleshooting
/// guide's words.
fn check_balancers(
    strategy: Option<&DeploymentStrategy>,
    balancers: &[LoadBalancer],
    elbv2: &super::elbv2::Elbv2,
) -> Result<(), ApiError> {
    let v1 = balancers
        .iter()
        .filter(|b| b.load_balancer_name.is_some())
        .count();
    let v2 = balancers
        .iter()
        .filter(|b| b.target_group_arn.is_some())
        .count();
    if v1 > 0 && v2 > 0 {
        return Err(lb_refusal(
            "All loadBalancers must be strictly either ELBv1 (defining loadBalancerName) or ELBv2 (defining targetGroupArn)",
        ));
    }
    let advanced = balancers
        .iter()
        .filter(|b| b.advanced_configuration.is_some())
        .count();
    if v1 > 0 && advanced > 0 {
        return Err(lb_refusal(
            "advancedConfiguration field is not allowed with ELBv1 loadBalancers",
        ));
    }
    if advanced > 0 && advanced < balancers.len() {
        return Err(lb_refusal(
            "Either all or none of the provided loadBalancers must have advancedConfiguration defined",
        ));
    }
    if !balancers.is_empty() && advanced == 0 {
        // Observed: ClientException, "the linear" (terraform-aws-modules/terraform-aws-ecs
        // #377, CreateService) and "the canary" (a pasted UpdateService); "the Blue/green" is
        // quoted second-hand only.
        let name = match strategy {
            Some(DeploymentStrategy::Linear) => "linear",
            Some(DeploymentStrategy::Canary) => "canary",
            _ => "Blue/green",
        };
        return Err(lb_refusal(format!(
            "advancedConfiguration field is required for all loadBalancers when using the {name} deployment strategy"
        )));
    }
    let mut groups: Vec<&str> = vec![];
    for b in balancers {
        let Some(adv) = &b.advanced_configuration else {
            continue;
        };
        for g in [
            b.target_group_arn.as_deref(),
            adv.alternate_target_group_arn.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            if groups.contains(&g) {
                return Err(lb_refusal(format!("Duplicate targetGroupArn found: {g}")));
            }
            groups.push(g);
        }
        let production = adv.production_listener_rule.as_deref().unwrap_or_default();
        let rule_form =
            |arn: &str| arn.contains(":listener-rule/app/") || arn.contains(":listener/net/");
        if !rule_form(production) {
            return Err(lb_refusal(format!(
                "productionListenerRule has an invalid ARN format. Must be RuleArn for ALB or ListenerArn for NLB. Got: {production}"
            )));
        }
        if adv.test_listener_rule.as_deref() == Some(production) {
            return Err(lb_refusal(format!(
                "The following rules cannot be used as both production and test listener rules: {production}"
            )));
        }
        // Only a rule the emulator holds can be read for its groups.
        if adv.test_listener_rule.is_none() && elbv2.has_rule(production) {
            let forwarded = elbv2.rule_weights(production);
            let has = |g: Option<&str>| g.is_some_and(|g| forwarded.iter().any(|(f, _)| f == g));
            if !(has(b.target_group_arn.as_deref())
                && has(adv.alternate_target_group_arn.as_deref()))
            {
                return Err(lb_refusal(
                    "For Application LoadBalancer, testListenerRule is required when productionListenerRule is not associated with both targetGroup and alternateTargetGroup",
                ));
            }
        }
    }
    Ok(())
}

impl Run {
    /// A run of `config` for the deployment `green`, with RECONCILE_SERVICE when other
    /// revisions are still active.
    pub(super) fn new(config: &DeploymentConfiguration, green: String, reconcile: bool) -> Run {
        Run {
            plan: forward_plan(config, reconcile),
            index: 0,
            acted: false,
            bake_until: None,
            hooks: vec![],
            pairs: None,
            green,
            blue_revision: None,
            production: Decimal::ZERO,
            test: Decimal::ZERO,
            scaling: false,
            rolling_back: false,
            stage: if reconcile {
                "RECONCILE_SERVICE"
            } else {
                "PRE_SCALE_UP"
            },
            generation: 0,
        }
    }

    pub(super) fn lifecycle_stage(&self) -> ServiceDeploymentLifecycleStage {
        ServiceDeploymentLifecycleStage::from(self.stage)
    }

    /// The hooks of the current stage, as `lifecycleHookDetails` answers them (assumed, A61:
    /// only the current stage's; the one recorded example shows a single paused hook).
    pub(super) fn hook_details(&self) -> Vec<DeploymentLifecycleHookDetail> {
        self.hooks
            .iter()
            .map(|h| {
                DeploymentLifecycleHookDetail::builder()
                    .hook_id(h.id.clone())
                    .target_type(
                        h.hook
                            .target_type
                            .clone()
                            .unwrap_or(DeploymentLifecycleHookTargetType::AwsLambda),
                    )
                    .set_target_arn(
                        (!h.pause())
                            .then(|| h.hook.hook_target_arn.clone())
                            .flatten(),
                    )
                    .status(h.status.clone())
                    .set_expires_at(ts(h.shown_expiry))
                    .timeout_action(h.timeout_action())
                    .build()
            })
            .collect()
    }

    /// Green's and blue's shares of production and test traffic.
    pub(super) fn shares(&self) -> (Decimal, Decimal) {
        (self.production, self.test)
    }

    /// The hook `id`, when it is waiting for ContinueServiceDeployment.
    pub(super) fn awaiting(&self, id: &str) -> bool {
        self.hooks.iter().any(|h| {
            h.id == id && h.pause() && h.status == DeploymentLifecycleHookStatus::AwaitingAction
        })
    }

    /// ContinueServiceDeployment on the hook `id`: CONTINUE lets the stage go on, ROLLBACK
    /// fails the hook.
    pub(super) fn resolve(&mut self, id: &str, rollback: bool) {
        for h in self.hooks.iter_mut().filter(|h| h.id == id) {
            h.status = if rollback {
                DeploymentLifecycleHookStatus::Failed
            } else {
                DeploymentLifecycleHookStatus::Succeeded
            };
        }
        self.generation += 1;
    }

    /// The revision that was blue.
    pub(super) fn blue_revision(&self) -> Option<&str> {
        self.blue_revision.as_deref()
    }

    /// A newer deployment replaced this one, or the service is deleted: no hook waits any
    /// more, and the run goes no further.
    pub(super) fn abandon(&mut self) {
        self.hooks.clear();
        self.index = self.plan.len();
        self.acted = true;
        self.generation += 1;
    }

    fn pairs(&self) -> &[Pair] {
        self.pairs.as_deref().unwrap_or_default()
    }
}

impl ServiceRecord {
    /// For the deployment `id`: None when no native run drives it; else whether it may start
    /// its tasks yet.
    pub(super) fn native_gate(&self, id: &str) -> Option<bool> {
        let run = self.history.last()?.native.as_ref()?;
        // While a rollback runs green starts nothing, and nothing completes it.
        (run.green == id).then_some(run.scaling && !run.rolling_back)
    }

    /// The ARN of the service deployment a native run drives now.
    fn running_native(&self) -> Option<String> {
        let e = self.history.last()?;
        let driven = matches!(
            e.status,
            ServiceDeploymentStatus::InProgress
                | ServiceDeploymentStatus::RollbackRequested
                | ServiceDeploymentStatus::RollbackInProgress
        );
        (driven && e.native.is_some() && self.status == ServiceStatus::Active)
            .then(|| e.arn.clone())
    }
}

/// `secs` seconds of `second` each (a duration too long to hold is as long as time goes).
fn scaled(second: Duration, secs: f64) -> Duration {
    Duration::try_from_secs_f64(second.as_secs_f64() * secs).unwrap_or(Duration::MAX)
}

/// A fresh hook id: `ecs-{type}-` and 43 URL-safe characters (documented format
/// `ecs-{hookType}-{id}`; the pause hook example of the developer guide; `lambda` for an
/// AWS_LAMBDA hook is assumed, A62).
fn hook_id(rng: &mut fastrand::Rng, pause: bool) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let id: String = (0..43)
        .map(|_| char::from(ALPHABET[rng.usize(0..ALPHABET.len())]))
        .collect();
    format!("ecs-{}-{id}", if pause { "pause" } else { "lambda" })
}

impl State {
    /// `secs` seconds of AWS time at this emulator's timing.
    fn aws_seconds(&self, secs: f64) -> Duration {
        scaled(self.settings.timing.health_second, secs)
    }

    /// `secs` seconds of a hook's time (latency, callback, timeout): at least 1 ms each, so
    /// that with the instant timing a hook still takes time, a PAUSE hook still waits and a
    /// timeout still comes.
    fn hook_seconds(&self, secs: f64) -> Duration {
        scaled(
            self.settings
                .timing
                .health_second
                .max(Duration::from_millis(1)),
            secs,
        )
    }

    /// Drives the native deployment of the service as far as it goes at `at`.
    pub(super) fn drive_native(&mut self, key: &ServiceKey, at: SystemTime) {
        // Each pass moves the plan on by one item or returns; a plan has at most a few
        // thousand items (LINEAR of 3% steps: about 100).
        for _ in 0..10_000 {
            let Some((arn, mut run)) = self.take_run(key) else {
                return;
            };
            let next = self.step(key, &arn, &mut run, at);
            let wake = match next {
                Next::Wait(Some(t)) => {
                    run.generation += 1;
                    Some((t, run.generation))
                }
                _ => None,
            };
            self.put_run(key, &arn, run);
            match next {
                Next::Again => continue,
                Next::Wait(_) | Next::Done => {
                    if let Some((t, generation)) = wake {
                        self.queue.push(
                            t,
                            Event::NativeWake {
                                key: key.clone(),
                                generation,
                            },
                        );
                    }
                    return;
                }
            }
        }
    }

    /// A wake-up of a native run: acted on when no later one replaced it.
    pub(super) fn native_wake(&mut self, key: &ServiceKey, generation: u64, at: SystemTime) {
        let current = self
            .service_rec(key)
            .and_then(|s| s.history.last())
            .and_then(|e| e.native.as_ref())
            .is_some_and(|r| r.generation == generation);
        if current {
            self.drive_native(key, at);
        }
    }

    fn take_run(&mut self, key: &ServiceKey) -> Option<(String, Run)> {
        let svc = self.service_rec(key)?;
        let arn = svc.running_native()?;
        let e = svc.history.last_mut()?;
        Some((arn, e.native.take()?))
    }

    fn put_run(&mut self, key: &ServiceKey, arn: &str, run: Run) {
        if let Some(e) = self
            .service_rec(key)
            .and_then(|s| s.history.iter_mut().rev().find(|e| e.arn == arn))
        {
            e.native = Some(run);
        }
    }

    /// One pass: the current item's work, then its hooks.
    fn step(&mut self, key: &ServiceKey, arn: &str, run: &mut Run, at: SystemTime) -> Next {
        // StopServiceDeployment asked for a rollback: nothing moves on until it starts.
        let requested = self
            .service_rec(key)
            .and_then(|s| s.history.iter().rev().find(|e| e.arn == arn))
            .is_some_and(|e| e.status == ServiceDeploymentStatus::RollbackRequested);
        if requested {
            return Next::Wait(None);
        }
        if run.pairs.is_none() {
            self.read_pairs(key, run);
        }
        if !run.rolling_back {
            if let Some(reason) = self.alarm_reason(key) {
                self.begin_rollback(key, arn, run, reason, at);
                return Next::Again;
            }
        }
        let Some(item) = run.plan.get(run.index).cloned() else {
            self.finish(key, arn, run, at);
            return Next::Done;
        };
        if !run.acted {
            run.acted = true;
            run.stage = item.stage;
            run.bake_until = Some(super::elbv2::after(at, self.aws_seconds(STAGE_SECONDS)));
            self.act(key, run, &item.act, at);
            if item.hooks {
                run.hooks = self.hooks_at(key, item.stage, at);
            }
            self.touch(key, arn, at);
        }
        if let Some(until) = run.bake_until.filter(|u| *u > at) {
            return Next::Wait(Some(until));
        }
        if item.act == Act::ScaleUp {
            if !self.green_ready(key, &run.green) {
                return Next::Wait(None);
            }
            // Assumed (A70): traffic moves only once green's targets pass the target group's
            // health checks.
            let second = self.settings.timing.health_second;
            let healthy = run
                .pairs()
                .iter()
                .filter_map(|p| self.elbv2.healthy_from(&p.green, second))
                .max();
            if let Some(t) = healthy.filter(|t| *t > at) {
                return Next::Wait(Some(t));
            }
        }
        if item.act == Act::CleanUp {
            // Blue goes and the deployment succeeds at once: no rollback can find green
            // serving with nothing to go back to.
            self.retire_blue(key, &run.green, at);
        }
        match self.poll_hooks(run, at) {
            Hooks::Waiting(t) => Next::Wait(t),
            Hooks::Failed(reason) => {
                self.begin_rollback(key, arn, run, reason, at);
                Next::Again
            }
            Hooks::Passed => {
                run.hooks.clear();
                run.index += 1;
                run.acted = false;
                run.bake_until = None;
                Next::Again
            }
        }
    }

    fn touch(&mut self, key: &ServiceKey, arn: &str, at: SystemTime) {
        if let Some(e) = self
            .service_rec(key)
            .and_then(|s| s.history.iter_mut().rev().find(|e| e.arn == arn))
        {
            e.updated_at = at;
        }
    }

    /// Which group of each load balancer is blue: the one the production rule weighs more
    /// (the target group when neither does); green is the other, and green's tasks register
    /// there.
    fn read_pairs(&mut self, key: &ServiceKey, run: &mut Run) {
        let Some(svc) = self.service_rec(key) else {
            return;
        };
        let balancers = svc.load_balancers.clone();
        // Blue is the deployment that completed last: its groups serve production.
        let serving = svc
            .deployments
            .iter()
            .find(|d| d.id != run.green && d.rollout == DeploymentRolloutState::Completed);
        run.blue_revision = serving.map(|d| d.revision.clone());
        let served = serving.is_some();
        let serving_groups: Option<Vec<LoadBalancer>> =
            serving.and_then(|d| d.load_balancers.clone());
        let mut pairs = vec![];
        let mut green_balancers = vec![];
        for (i, lb) in balancers.iter().enumerate() {
            let (Some(primary), Some(adv)) = (&lb.target_group_arn, &lb.advanced_configuration)
            else {
                green_balancers.push(lb.clone());
                continue;
            };
            let Some(alternate) = adv.alternate_target_group_arn.clone() else {
                green_balancers.push(lb.clone());
                continue;
            };
            let blue_is_alternate = match serving_groups
                .as_ref()
                .and_then(|g| g.get(i))
                .and_then(|g| g.target_group_arn.as_deref())
            {
                Some(g) => g == alternate,
                // The serving deployment registers where the service says: the target group.
                None if served => false,
                // Nothing served yet: the group the production rule weighs more (the target
                // group when neither).
                None => {
                    let weights = adv
                        .production_listener_rule
                        .as_deref()
                        .map(|r| self.elbv2.rule_weights(r))
                        .unwrap_or_default();
                    let weight = |g: &str| {
                        weights
                            .iter()
                            .filter(|(arn, _)| arn == g)
                            .map(|(_, w)| *w)
                            .sum::<i32>()
                    };
                    weight(&alternate) > weight(primary)
                }
            };
            let (blue, green) = if blue_is_alternate {
                (alternate, primary.clone())
            } else {
                (primary.clone(), alternate)
            };
            green_balancers.push(
                LoadBalancerBuilder::from(lb.clone())
                    .target_group_arn(green.clone())
                    .build(),
            );
            pairs.push(Pair {
                production_rule: adv.production_listener_rule.clone(),
                test_rule: adv.test_listener_rule.clone(),
                blue,
                green,
            });
        }
        let green = run.green.clone();
        if let Some(d) = self
            .service_rec(key)
            .and_then(|s| s.deployments.iter_mut().find(|d| d.id == green))
        {
            d.load_balancers = Some(green_balancers);
        }
        run.pairs = Some(pairs);
    }

    /// RECONCILE_SERVICE: the deployments a newer one replaced go (their tasks stop and
    /// deregister), and every rule sends everything to blue again.
    fn reconcile(&mut self, key: &ServiceKey, run: &mut Run, at: SystemTime) {
        let green = run.green.clone();
        let mut retired = vec![];
        let mut gone = vec![];
        if let Some(svc) = self.service_rec(key) {
            for d in svc
                .deployments
                .iter_mut()
                .filter(|d| d.id != green && d.rollout != DeploymentRolloutState::Completed)
            {
                let (p, r) = d.tasks.clear();
                retired.push((StopCause::scaling(&d.id), p, r));
                gone.push(d.id.clone());
            }
        }
        for (cause, pending, running) in retired {
            self.stop_tasks(&key.cluster, &pending, &cause, at);
            self.stop_tasks(&key.cluster, &running, &cause, at);
        }
        if let Some(svc) = self.service_rec(key) {
            svc.deployments.retain(|d| !gone.contains(&d.id));
            svc.deployment_generation += 1;
        }
        run.production = Decimal::ZERO;
        run.test = Decimal::ZERO;
        self.shift(run, false);
        self.shift(run, true);
    }

    /// Writes green's share on the production or test rules.
    fn shift(&mut self, run: &Run, test: bool) {
        let share = if test { run.test } else { run.production };
        let (g, b) = weights_of(share);
        for p in run.pairs() {
            let rule = if test {
                &p.test_rule
            } else {
                &p.production_rule
            };
            if let Some(rule) = rule {
                self.elbv2
                    .set_rule_weights(rule, &[(p.blue.clone(), b), (p.green.clone(), g)]);
            }
        }
    }

    fn act(&mut self, key: &ServiceKey, run: &mut Run, act: &Act, at: SystemTime) {
        match act {
            Act::Hooks => {}
            Act::ScaleUp => {
                run.scaling = true;
                self.schedule(
                    at,
                    super::sim::Stage::Launch,
                    Event::DeploymentLaunch {
                        key: key.clone(),
                        deployment: run.green.clone(),
                    },
                );
            }
            Act::Test(share) => {
                run.test = *share;
                self.shift(run, true);
            }
            Act::Production(share) => {
                run.production = *share;
                self.shift(run, false);
            }
            Act::Bake(minutes) => {
                let wait = self.aws_seconds(f64::from((*minutes).max(0)) * 60.0);
                run.bake_until = Some(super::elbv2::after(at, wait));
            }
            Act::Reconcile => self.reconcile(key, run, at),
            Act::CleanUp => {}
            Act::Restore => self.restore_blue(key, &run.green, at),
        }
    }

    /// Green's tasks all run at the service's count.
    fn green_ready(&mut self, key: &ServiceKey, green: &str) -> bool {
        let Some(svc) = self.service_rec(key) else {
            return false;
        };
        let desired = svc.desired_count;
        svc.deployments.iter().any(|d| {
            d.id == green
                && d.desired == desired
                && d.tasks.pending() == 0
                && d.tasks.running() == desired
        })
    }

    /// The hooks configured at `stage`, invoked (AWS_LAMBDA) or waiting (PAUSE).
    fn hooks_at(&mut self, key: &ServiceKey, stage: &str, at: SystemTime) -> Vec<HookRun> {
        let hooks: Vec<DeploymentLifecycleHook> = self
            .service_rec(key)
            .and_then(|s| s.history.last())
            .and_then(|e| e.configuration.lifecycle_hooks.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|h| {
                h.lifecycle_stages
                    .iter()
                    .flatten()
                    .any(|s| s.as_str() == stage)
            })
            .collect();
        hooks
            .into_iter()
            .map(|hook| {
                let pause =
                    hook.target_type.as_ref() == Some(&DeploymentLifecycleHookTargetType::Pause);
                let minutes = hook
                    .timeout_configuration
                    .as_ref()
                    .and_then(|t| t.timeout_in_minutes)
                    .unwrap_or(DEFAULT_HOOK_TIMEOUT_MINUTES)
                    .max(1);
                let wait = self.hook_seconds(f64::from(minutes) * 60.0);
                let expires = Some(super::elbv2::after(at, wait));
                let shown_expiry = super::elbv2::after(at, wait);
                HookRun {
                    id: hook_id(&mut self.rng, pause),
                    status: if pause {
                        DeploymentLifecycleHookStatus::AwaitingAction
                    } else {
                        DeploymentLifecycleHookStatus::InProgress
                    },
                    hook,
                    expires,
                    shown_expiry,
                    due: (!pause).then_some(at),
                    pending: None,
                    invocations: 0,
                }
            })
            .collect()
    }

    /// Invokes what is due, applies replies and timeouts, and says how the stage's hooks
    /// stand.
    fn poll_hooks(&mut self, run: &mut Run, at: SystemTime) -> Hooks {
        let callback = self.hook_seconds(CALLBACK_SECONDS);
        let mut failed = None;
        let stage = run.stage;
        let rolling_back = run.rolling_back;
        for h in run.hooks.iter_mut() {
            if !h.pause() && h.open() {
                while let Some(due) = h
                    .due
                    .filter(|d| *d <= at && h.expires.is_none_or(|e| *d < e))
                {
                    if let Some(reply) = h.pending.take() {
                        match reply {
                            HookReply::Succeeded => {
                                h.status = DeploymentLifecycleHookStatus::Succeeded;
                                h.due = None;
                            }
                            HookReply::Failed => {
                                h.status = DeploymentLifecycleHookStatus::Failed;
                                h.due = None;
                            }
                            HookReply::InProgress => {
                                h.due = Some(super::elbv2::after(due, callback));
                            }
                        }
                        continue;
                    }
                    let arn = h.hook.hook_target_arn.clone().unwrap_or_default();
                    let behaviour = self.outside.hook(&arn);
                    h.pending = Some(behaviour.reply(h.invocations, rolling_back));
                    h.invocations += 1;
                    let latency = self.hook_seconds(behaviour.latency.as_secs_f64());
                    h.due = Some(super::elbv2::after(due, latency));
                }
            }
            if h.open() && h.expires.is_some_and(|e| e <= at) {
                h.status = DeploymentLifecycleHookStatus::TimedOut;
                h.due = None;
                if h.timeout_action() == DeploymentLifecycleHookAction::Rollback {
                    failed.get_or_insert_with(|| {
                        if h.pause() {
                            format!("Service deployment rolled back because {stage} pause hook timed out.")
                        } else {
                            format!(
                                "Service deployment rolled back because {stage} lifecycle hook(s) failed. Lifecycle hook target {} timed out.",
                                h.hook.hook_target_arn.as_deref().unwrap_or_default()
                            )
                        }
                    });
                }
            }
            if h.status == DeploymentLifecycleHookStatus::Failed && failed.is_none() {
                failed = Some(if h.pause() {
                    format!("Service deployment rolled back because {stage} pause hook was rolled back.")
                } else {
                    // Documented in the troubleshooting guide's words.
                    format!(
                        "Service deployment rolled back because {stage} lifecycle hook(s) failed. Lifecycle hook target {} returned FAILED status.",
                        h.hook.hook_target_arn.as_deref().unwrap_or_default()
                    )
                });
            }
        }
        if let Some(reason) = failed {
            return Hooks::Failed(reason);
        }
        if run.hooks.iter().all(|h| !h.open()) {
            return Hooks::Passed;
        }
        let next = run
            .hooks
            .iter()
            .filter(|h| h.open())
            .flat_map(|h| [h.due, h.expires])
            .flatten()
            .min();
        Hooks::Waiting(next)
    }

    /// The reason to roll back for the service's alarms, when one of them is in ALARM and the
    /// configuration rolls back on alarms.
    pub(super) fn alarm_reason(&mut self, key: &ServiceKey) -> Option<String> {
        let config = self
            .service_rec(key)?
            .history
            .last()?
            .configuration
            .alarms
            .clone()?;
        if config.enable != Some(true) || config.rollback != Some(true) {
            return None;
        }
        let names = config.alarm_names.unwrap_or_default();
        let firing = self.outside.in_alarm(&names);
        if firing.is_empty() {
            return None;
        }
        let list: Vec<&str> = firing.iter().map(|s| s.as_str()).collect();
        // Assumed, A63: no recorded reason names the alarms.
        Some(format!(
            "Service deployment rolled back because alarm(s) {} went into ALARM state.",
            list.join(", ")
        ))
    }

    /// The deployment goes back: its shifts are undone (their hooks run again), then green
    /// goes. Without a blue to go back to, or failing during a rollback, it is ROLLBACK_FAILED.
    pub(super) fn begin_rollback(
        &mut self,
        key: &ServiceKey,
        arn: &str,
        run: &mut Run,
        reason: String,
        at: SystemTime,
    ) {
        let green = run.green.clone();
        let blue = self.service_rec(key).and_then(|s| {
            s.deployments
                .iter()
                .find(|d| d.id != green && d.rollout == DeploymentRolloutState::Completed)
                .map(|d| d.revision.clone())
        });
        let failed = run.rolling_back || blue.is_none();
        let Some(svc) = self.service_rec(key) else {
            return;
        };
        let Some(e) = svc.history.iter_mut().rev().find(|e| e.arn == arn) else {
            return;
        };
        e.updated_at = at;
        if failed {
            e.status = ServiceDeploymentStatus::RollbackFailed;
            e.status_reason = Some(if run.rolling_back {
                reason
            } else {
                NO_ROLLBACK_CANDIDATE.to_owned()
            });
            e.finished_at = Some(at);
            run.index = run.plan.len();
            run.hooks.clear();
            run.acted = true;
            let why = e.status_reason.clone();
            if let Some(d) = svc.deployments.iter_mut().find(|d| d.id == green) {
                d.rollout = DeploymentRolloutState::Failed;
                d.rollout_reason = why;
            }
            svc.freeze_counts(arn);
            return;
        }
        e.status = ServiceDeploymentStatus::RollbackInProgress;
        e.status_reason = Some(reason.clone());
        e.rollback = Some(
            Rollback::builder()
                .reason(reason)
                .set_started_at(ts(at))
                .set_service_revision_arn(blue)
                .build(),
        );
        let mut plan = vec![];
        if run.production > Decimal::ZERO {
            plan.push(Item::new(
                "PRODUCTION_TRAFFIC_SHIFT",
                Act::Production(Decimal::ZERO),
                true,
            ));
        }
        if run.test > Decimal::ZERO {
            plan.push(Item::new(
                "TEST_TRAFFIC_SHIFT",
                Act::Test(Decimal::ZERO),
                true,
            ));
        }
        plan.push(Item::new("CLEAN_UP", Act::Restore, false));
        run.plan = plan;
        run.index = 0;
        run.acted = false;
        run.hooks.clear();
        run.bake_until = None;
        run.rolling_back = true;
        run.scaling = false;
    }

    /// CLEAN_UP: every older deployment's tasks are stopped (they drain from blue's groups)
    /// and the deployments are retired.
    fn retire_blue(&mut self, key: &ServiceKey, green: &str, at: SystemTime) {
        let mut retired = vec![];
        if let Some(svc) = self.service_rec(key) {
            for d in svc.deployments.iter_mut().filter(|d| d.id != green) {
                let (p, r) = d.tasks.clear();
                retired.push((StopCause::scaling(&d.id), p, r));
            }
        }
        // Stopped while their deployments still say which groups they are registered in.
        for (cause, pending, running) in retired {
            self.stop_tasks(&key.cluster, &pending, &cause, at);
            self.stop_tasks(&key.cluster, &running, &cause, at);
        }
        if let Some(svc) = self.service_rec(key) {
            svc.deployments.retain(|d| d.id == green);
            svc.deployment_generation += 1;
        }
    }

    /// A rollback's last step: green's tasks are stopped, and the deployment that served
    /// production is PRIMARY again, with its task definition.
    fn restore_blue(&mut self, key: &ServiceKey, green: &str, at: SystemTime) {
        let mut stopped = vec![];
        if let Some(d) = self
            .service_rec(key)
            .and_then(|s| s.deployments.iter_mut().find(|d| d.id == green))
        {
            let (p, r) = d.tasks.clear();
            stopped.push((StopCause::scaling(&d.id), p, r));
        }
        for (cause, pending, running) in stopped {
            self.stop_tasks(&key.cluster, &pending, &cause, at);
            self.stop_tasks(&key.cluster, &running, &cause, at);
        }
        if let Some(svc) = self.service_rec(key) {
            svc.deployments.retain(|d| d.id != green);
            let desired = svc.desired_count;
            let mut relaunch = None;
            if let Some(blue) = svc
                .deployments
                .iter_mut()
                .find(|d| d.rollout == DeploymentRolloutState::Completed)
            {
                blue.status = DeploymentStatus::Primary;
                blue.updated_at = at;
                blue.desired = desired;
                relaunch = Some(blue.id.clone());
                let td = blue.task_definition.clone();
                svc.task_definition = td;
            }
            svc.deployments
                .sort_by_key(|d| d.status != DeploymentStatus::Primary);
            svc.deployment_generation += 1;
            // Blue runs its full count again (a task it lost during the run comes back).
            if let Some(deployment) = relaunch {
                self.schedule(
                    at,
                    super::sim::Stage::Launch,
                    Event::DeploymentLaunch {
                        key: key.clone(),
                        deployment,
                    },
                );
            }
        }
    }

    /// The plan is done: SUCCESSFUL (green COMPLETED), or ROLLBACK_SUCCESSFUL.
    fn finish(&mut self, key: &ServiceKey, arn: &str, run: &mut Run, at: SystemTime) {
        let green = run.green.clone();
        let Some(svc) = self.service_rec(key) else {
            return;
        };
        if let Some(d) = svc.deployments.iter_mut().find(|d| d.id == green) {
            d.rollout = DeploymentRolloutState::Completed;
            d.rollout_reason = Some(format!("ECS deployment {} completed.", d.id));
            d.updated_at = at;
        }
        let rolled_back = run.rolling_back;
        if let Some(e) = svc.history.iter_mut().rev().find(|e| e.arn == arn) {
            e.status = if rolled_back {
                ServiceDeploymentStatus::RollbackSuccessful
            } else {
                ServiceDeploymentStatus::Successful
            };
            e.finished_at = Some(at);
            e.updated_at = at;
        }
        svc.freeze_counts(arn);
    }

    /// A failure outside the stages (the circuit breaker) rolls the native deployment back.
    pub(super) fn native_failed(&mut self, key: &ServiceKey, reason: String, at: SystemTime) {
        let Some((arn, mut run)) = self.take_run(key) else {
            return;
        };
        self.begin_rollback(key, &arn, &mut run, reason, at);
        self.put_run(key, &arn, run);
        self.drive_native(key, at);
    }

    /// StopServiceDeployment (ROLLBACK) of a native deployment: rolled back from where it is.
    pub(super) fn stop_native(&mut self, key: &ServiceKey, at: SystemTime) {
        let Some((arn, mut run)) = self.take_run(key) else {
            return;
        };
        if !run.rolling_back {
            self.begin_rollback(
                key,
                &arn,
                &mut run,
                "Service deployment rolled back because of a StopServiceDeployment request."
                    .to_owned(),
                at,
            );
        }
        self.put_run(key, &arn, run);
        self.drive_native(key, at);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn config(strategy: DeploymentStrategy) -> DeploymentConfiguration {
        DeploymentConfiguration::builder()
            .strategy(strategy)
            .build()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn linear_steps_are_cumulative_and_end_at_one_hundred() {
        let mut c = config(DeploymentStrategy::Linear);
        c.linear_configuration = Some(
            LinearConfiguration::builder()
                .step_percent(ecs_model::Decimal::new(d("25")))
                .build(),
        );
        assert_eq!(production_steps(&c), [d("25"), d("50"), d("75"), d("100")]);
        c.linear_configuration = Some(
            LinearConfiguration::builder()
                .step_percent(ecs_model::Decimal::new(d("30")))
                .build(),
        );
        assert_eq!(production_steps(&c), [d("30"), d("60"), d("90"), d("100")]);
        // The documented default is 10%: ten steps.
        c.linear_configuration = None;
        assert_eq!(production_steps(&c).len(), 10);
    }

    #[test]
    fn canary_and_blue_green_steps() {
        let mut c = config(DeploymentStrategy::Canary);
        assert_eq!(production_steps(&c), [d("5"), d("100")]);
        c.canary_configuration = Some(
            CanaryConfiguration::builder()
                .canary_percent(ecs_model::Decimal::new(d("12.5")))
                .build(),
        );
        assert_eq!(production_steps(&c), [d("12.5"), d("100")]);
        assert_eq!(
            production_steps(&config(DeploymentStrategy::BlueGreen)),
            [d("100")]
        );
    }

    #[test]
    fn the_plan_bakes_between_steps_but_not_after_the_last() {
        let mut c = config(DeploymentStrategy::Linear);
        c.linear_configuration = Some(
            LinearConfiguration::builder()
                .step_percent(ecs_model::Decimal::new(d("50")))
                .step_bake_time_in_minutes(1)
                .build(),
        );
        c.bake_time_in_minutes = Some(3);
        let stages: Vec<(&str, Act)> = forward_plan(&c, false)
            .into_iter()
            .map(|i| (i.stage, i.act))
            .collect();
        let shift = "PRODUCTION_TRAFFIC_SHIFT";
        assert_eq!(
            stages,
            [
                ("PRE_SCALE_UP", Act::Hooks),
                ("SCALE_UP", Act::ScaleUp),
                ("POST_SCALE_UP", Act::Hooks),
                ("TEST_TRAFFIC_SHIFT", Act::Test(d("100"))),
                ("POST_TEST_TRAFFIC_SHIFT", Act::Hooks),
                ("PRE_PRODUCTION_TRAFFIC_SHIFT", Act::Hooks),
                (shift, Act::Production(d("50"))),
                (shift, Act::Bake(1)),
                ("PRE_PRODUCTION_TRAFFIC_SHIFT", Act::Hooks),
                (shift, Act::Production(d("100"))),
                ("POST_PRODUCTION_TRAFFIC_SHIFT", Act::Hooks),
                ("BAKE_TIME", Act::Bake(3)),
                ("CLEAN_UP", Act::CleanUp),
            ]
        );
        assert_eq!(
            forward_plan(&c, true)[0].stage,
            "RECONCILE_SERVICE",
            "a deployment over several active revisions reconciles first"
        );
    }

    #[test]
    fn weights_keep_the_share_exactly_within_elbv2_range() {
        assert_eq!(weights_of(d("0")), (0, 100));
        assert_eq!(weights_of(d("5")), (5, 95));
        assert_eq!(weights_of(d("100")), (100, 0));
        assert_eq!(weights_of(d("12.5")), (125, 875));
        assert_eq!(weights_of(d("0.1")), (1, 999));
        assert_eq!(weights_of(d("99.9")), (999, 1));
    }
}
