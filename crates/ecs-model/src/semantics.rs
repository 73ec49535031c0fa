//! Response-side semantics shared by the reference emulator and the conformance harness: the
//! exact `computedDesiredCount`, and invariants every task-set answer must satisfy.
//!
//! ECS is eventually consistent: a call that changes a service's desired count or a task set's
//! scale answers with the `computedDesiredCount` from before the change, and the value settles
//! seconds later (see `conformance/evidence/`). The invariants therefore judge an answer against
//! [`Observations`], everything an observer has seen of the service and the task set, and
//! accept a count that any seen (desiredCount, scale) pair gives, or 0 (a set not yet computed).

use std::collections::BTreeMap;

use crate::types::{Scale, ScaleUnit, Service, TaskSet};
use crate::validate::{Violation, ViolationKind};
use crate::Decimal;

/// Ids of the invariants checked by [`task_set_invariants`] and [`service_invariants`].
pub mod ids {
    /// `computedDesiredCount` is the ceiling of desired count times scale.
    pub const COMPUTED_DESIRED_COUNT: &str = "inv.computed-desired-count";
    /// A STEADY_STATE task set runs its computed desired count, none pending.
    pub const STEADY_STATE_COUNTS: &str = "inv.steady-state-counts";
    /// `createdAt` is not after `updatedAt`.
    pub const CREATED_NOT_AFTER_UPDATED: &str = "inv.created-not-after-updated";
    /// Counts are never negative.
    pub const COUNTS_NON_NEGATIVE: &str = "inv.counts-non-negative";
    /// A task set's status is one the model lists.
    pub const STATUS_KNOWN: &str = "inv.task-set-status-known";
    /// A scale lies in 0..=100 percent.
    pub const SCALE_RANGE: &str = "inv.scale-range";
    /// A task set's ARN ends with its id.
    pub const ARN_ENDS_WITH_ID: &str = "inv.task-set-arn-ends-with-id";
    /// A service has at most one PRIMARY task set.
    pub const SINGLE_PRIMARY: &str = "inv.single-primary";
    /// Tags are answered only when asked for.
    pub const TAGS_ONLY_WHEN_ASKED: &str = "inv.tags-only-when-asked";
}

/// Why a desired count could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesiredCountError {
    #[error("desiredCount {0} is negative")]
    /// The desired count is below zero.
    NegativeDesiredCount(i32),
    #[error("scale {0} is outside 0..=100 percent")]
    /// The scale is outside 0..=100 percent.
    ScaleOutOfRange(Decimal),
    #[error("scale unit {0} is not PERCENT")]
    /// The scale's unit is not `PERCENT`.
    UnknownUnit(String),
    #[error("desiredCount {desired} x scale {scale}% does not fit the arithmetic")]
    /// The product does not fit an `i32`.
    Overflow {
        /// The desired count.
        desired: i32,
        /// The scale, in percent.
        scale: Decimal,
    },
}

/// `ceil(desired_count * scale / 100)`, computed exactly on decimals: 1.2 tasks rounds up to
/// 2, and 3 tasks at 33.3% is 0.999, which rounds up to 1. Never an `f64` multiply-then-ceil.
pub fn computed_desired_count(
    desired_count: i32,
    scale_percent: Decimal,
) -> Result<i32, DesiredCountError> {
    if desired_count < 0 {
        return Err(DesiredCountError::NegativeDesiredCount(desired_count));
    }
    if scale_percent < Decimal::ZERO || scale_percent > Decimal::ONE_HUNDRED {
        return Err(DesiredCountError::ScaleOutOfRange(scale_percent));
    }
    let overflow = || DesiredCountError::Overflow {
        desired: desired_count,
        scale: scale_percent,
    };
    let product = rust_decimal::Decimal::from(desired_count)
        .checked_mul(scale_percent.get())
        .ok_or_else(overflow)?;
    let tasks = product
        .checked_div(rust_decimal::Decimal::ONE_HUNDRED)
        .ok_or_else(overflow)?
        .ceil();
    // 0 <= tasks <= desired_count, so it fits an i32.
    rust_decimal::prelude::ToPrimitive::to_i32(&tasks).ok_or_else(overflow)
}

/// The computed desired count for a [`Scale`] as sent on the wire: a missing unit is taken as
/// PERCENT (the only unit there is); an unknown unit is an error.
pub fn computed_desired_count_for(
    desired_count: i32,
    scale: &Scale,
) -> Result<i32, DesiredCountError> {
    if let Some(unit) = &scale.unit {
        if *unit != ScaleUnit::Percent {
            return Err(DesiredCountError::UnknownUnit(unit.as_str().to_owned()));
        }
    }
    computed_desired_count(desired_count, scale.value.unwrap_or(Decimal::ZERO))
}

fn violation(path: &str, rule: &'static str, message: String) -> Violation {
    Violation {
        path: path.to_owned(),
        rule,
        kind: ViolationKind::Invalid,
        message,
    }
}

/// What an observer has seen of services and task sets: every desired count of a service and
/// every scale of a task set, in the order seen. Services are keyed by name (the last part of
/// their ARN, as AWS has answered both ARN formats), task sets by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observations {
    desired: BTreeMap<String, Vec<i32>>,
    scales: BTreeMap<String, Vec<Decimal>>,
}

/// The key of a service: its name, the last `/`-separated part of an ARN.
fn service_key(arn_or_name: &str) -> &str {
    arn_or_name.rsplit('/').next().unwrap_or(arn_or_name)
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, value: T) {
    if !list.contains(&value) {
        list.push(value);
    }
}

impl Observations {
    /// A service (by ARN or name) had this desired count.
    pub fn observe_desired(&mut self, service: &str, desired: i32) {
        push_new(
            self.desired
                .entry(service_key(service).to_owned())
                .or_default(),
            desired,
        );
    }

    /// A task set (by id) had this scale.
    pub fn observe_scale(&mut self, task_set_id: &str, scale: Decimal) {
        push_new(
            self.scales.entry(task_set_id.to_owned()).or_default(),
            scale,
        );
    }

    /// Records what one answer said of a task set.
    pub fn observe_task_set(&mut self, ts: &TaskSet) {
        if let (Some(id), Some(value)) = (&ts.id, ts.scale.as_ref().and_then(|s| s.value)) {
            self.observe_scale(id, value);
        }
    }

    /// The service's desired count and the scales of its task sets.
    pub fn observe_service(&mut self, svc: &Service) {
        let name = svc.service_arn.as_deref().or(svc.service_name.as_deref());
        if let (Some(name), Some(d)) = (name, svc.desired_count) {
            self.observe_desired(name, d);
        }
        for ts in svc.task_sets.as_deref().unwrap_or_default() {
            self.observe_task_set(ts);
        }
    }

    /// Every desired count seen for the service (by ARN or name).
    pub fn desired_counts(&self, service: &str) -> &[i32] {
        self.desired
            .get(service_key(service))
            .map_or(&[], Vec::as_slice)
    }

    /// Every scale seen for the task set (by id).
    pub fn scales(&self, task_set_id: &str) -> &[Decimal] {
        self.scales.get(task_set_id).map_or(&[], Vec::as_slice)
    }

    /// The context for checking `ts`: what was seen of its service and of it.
    pub fn context_for<'a>(&'a self, ts: &TaskSet, tags_requested: bool) -> TaskSetContext<'a> {
        TaskSetContext {
            desired_counts: ts
                .service_arn
                .as_deref()
                .map_or(&[], |arn| self.desired_counts(arn)),
            scales_seen: ts.id.as_deref().map_or(&[], |id| self.scales(id)),
            tags_requested,
        }
    }
}

/// What the caller knows beyond the task set itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskSetContext<'a> {
    /// Every desiredCount the owning service is known to have had; empty when unknown (then
    /// the count is not checked).
    pub desired_counts: &'a [i32],
    /// Every scale the task set is known to have had (its current one is always used).
    pub scales_seen: &'a [Decimal],
    /// Whether the request asked for tags (`include: ["TAGS"]`).
    pub tags_requested: bool,
}

/// Invariants of one task set as answered by an implementation. Paths are relative to the task
/// set; an absent member is not checked here (presence is the fixtures' business).
pub fn task_set_invariants(ts: &TaskSet, ctx: TaskSetContext) -> Vec<Violation> {
    task_set_invariants_checked(ts, ctx).0
}

/// [`task_set_invariants`], and the rules the task set had the members to be checked by (a
/// rule that never appears here over a whole run observed nothing).
pub fn task_set_invariants_checked(
    ts: &TaskSet,
    ctx: TaskSetContext,
) -> (Vec<Violation>, Vec<&'static str>) {
    let mut out = Vec::new();
    let mut checked = Vec::new();
    if ts.computed_desired_count.is_some()
        || ts.pending_count.is_some()
        || ts.running_count.is_some()
    {
        checked.push(ids::COUNTS_NON_NEGATIVE);
    }
    for (name, value) in [
        ("computedDesiredCount", ts.computed_desired_count),
        ("pendingCount", ts.pending_count),
        ("runningCount", ts.running_count),
    ] {
        if let Some(v) = value.filter(|v| *v < 0) {
            out.push(violation(
                name,
                ids::COUNTS_NON_NEGATIVE,
                format!("{name} is {v}"),
            ));
        }
    }
    if let Some(value) = ts.scale.as_ref().and_then(|s| s.value) {
        checked.push(ids::SCALE_RANGE);
        if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
            out.push(violation(
                "scale.value",
                ids::SCALE_RANGE,
                format!("scale {value} is outside 0..=100"),
            ));
        }
    }
    if let (Some(&latest), Some(scale), Some(actual)) = (
        ctx.desired_counts.last(),
        &ts.scale,
        ts.computed_desired_count,
    ) {
        let current = scale.value.unwrap_or(Decimal::ZERO);
        let unit_ok = computed_desired_count_for(latest, scale).is_ok();
        if unit_ok {
            checked.push(ids::COMPUTED_DESIRED_COUNT);
        }
        let mut scales: Vec<Decimal> = ctx.scales_seen.to_vec();
        push_new(&mut scales, current);
        // 0 before the first recompute; otherwise a value some seen (desired, scale) gives.
        let possible = actual == 0
            || ctx.desired_counts.iter().any(|d| {
                scales
                    .iter()
                    .any(|s| computed_desired_count(*d, *s).ok() == Some(actual))
            });
        if unit_ok && !possible {
            let expected = computed_desired_count(latest, current).unwrap_or(-1);
            out.push(violation(
                "computedDesiredCount",
                ids::COMPUTED_DESIRED_COUNT,
                format!(
                    "{actual}, but ceil({latest} x {current}% / 100) = {expected}, and no earlier desiredCount or scale gives {actual} either"
                ),
            ));
        }
    }
    if ts.stability_status.as_ref().map(|s| s.as_str()) == Some("STEADY_STATE") {
        checked.push(ids::STEADY_STATE_COUNTS);
        if let (Some(running), Some(computed)) = (ts.running_count, ts.computed_desired_count) {
            if running != computed {
                out.push(violation(
                    "stabilityStatus",
                    ids::STEADY_STATE_COUNTS,
                    format!("STEADY_STATE with runningCount {running} != computedDesiredCount {computed}"),
                ));
            }
        }
        if let Some(pending) = ts.pending_count.filter(|p| *p != 0) {
            out.push(violation(
                "stabilityStatus",
                ids::STEADY_STATE_COUNTS,
                format!("STEADY_STATE with pendingCount {pending}"),
            ));
        }
    }
    if let (Some(created), Some(updated)) = (&ts.created_at, &ts.updated_at) {
        checked.push(ids::CREATED_NOT_AFTER_UPDATED);
        if created > updated {
            out.push(violation(
                "updatedAt",
                ids::CREATED_NOT_AFTER_UPDATED,
                format!("createdAt {created} is after updatedAt {updated}"),
            ));
        }
    }
    if let Some(status) = &ts.status {
        checked.push(ids::STATUS_KNOWN);
        if !status.is_known() {
            out.push(violation(
                "status",
                ids::STATUS_KNOWN,
                format!(
                    "status {} is not PRIMARY, ACTIVE or DRAINING",
                    status.as_str()
                ),
            ));
        }
    }
    if let (Some(arn), Some(id)) = (&ts.task_set_arn, &ts.id) {
        checked.push(ids::ARN_ENDS_WITH_ID);
        if !arn.ends_with(&format!("/{id}")) {
            out.push(violation(
                "taskSetArn",
                ids::ARN_ENDS_WITH_ID,
                format!("{arn} does not end with /{id}"),
            ));
        }
    }
    if !ctx.tags_requested {
        checked.push(ids::TAGS_ONLY_WHEN_ASKED);
        if ts.tags.as_ref().is_some_and(|t| !t.is_empty()) {
            out.push(violation(
                "tags",
                ids::TAGS_ONLY_WHEN_ASKED,
                "tags returned although include did not ask for TAGS".to_owned(),
            ));
        }
    }
    (out, checked)
}

/// Invariants of a service and its task sets: at most one PRIMARY, and each task set's own
/// invariants against what was observed (`observations` should already include this answer).
pub fn service_invariants(
    service: &Service,
    observations: &Observations,
    tags_requested: bool,
) -> Vec<Violation> {
    service_invariants_checked(service, observations, tags_requested).0
}

/// [`service_invariants`], and the rules it had the members to check (repeated per task set).
pub fn service_invariants_checked(
    service: &Service,
    observations: &Observations,
    tags_requested: bool,
) -> (Vec<Violation>, Vec<&'static str>) {
    let mut out = Vec::new();
    let mut checked = Vec::new();
    if service.task_sets.is_some() {
        checked.push(ids::SINGLE_PRIMARY);
    }
    let sets = service.task_sets.as_deref().unwrap_or_default();
    let primaries = sets
        .iter()
        .filter(|t| t.status.as_ref().is_some_and(|s| *s == "PRIMARY"))
        .count();
    if primaries > 1 {
        out.push(violation(
            "taskSets",
            ids::SINGLE_PRIMARY,
            format!("{primaries} task sets are PRIMARY"),
        ));
    }
    for (i, ts) in sets.iter().enumerate() {
        let mut ctx = observations.context_for(ts, tags_requested);
        if ctx.desired_counts.is_empty() {
            // A set in a service answer belongs to that service.
            let name = service
                .service_arn
                .as_deref()
                .or(service.service_name.as_deref());
            ctx.desired_counts = name.map_or(&[], |n| observations.desired_counts(n));
        }
        let (violations, rules) = task_set_invariants_checked(ts, ctx);
        checked.extend(rules);
        for mut v in violations {
            v.path = format!("taskSets[{i}].{}", v.path);
            out.push(v);
        }
    }
    (out, checked)
}
