//! Response-side semantics shared by the reference emulator and the conformance harness: the
//! exact `computedDesiredCount`, and invariants every task-set answer must satisfy.

use crate::types::{Scale, ScaleUnit, Service, TaskSet};
use crate::validate::{Violation, ViolationKind};
use crate::Decimal;

/// Ids of the invariants checked by [`task_set_invariants`] and [`service_invariants`].
pub mod ids {
    pub const COMPUTED_DESIRED_COUNT: &str = "inv.computed-desired-count";
    pub const STEADY_STATE_COUNTS: &str = "inv.steady-state-counts";
    pub const CREATED_NOT_AFTER_UPDATED: &str = "inv.created-not-after-updated";
    pub const COUNTS_NON_NEGATIVE: &str = "inv.counts-non-negative";
    pub const STATUS_KNOWN: &str = "inv.task-set-status-known";
    pub const SCALE_RANGE: &str = "inv.scale-range";
    pub const ARN_ENDS_WITH_ID: &str = "inv.task-set-arn-ends-with-id";
    pub const SINGLE_PRIMARY: &str = "inv.single-primary";
    pub const TAGS_ONLY_WHEN_ASKED: &str = "inv.tags-only-when-asked";
}

/// Why a desired count could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesiredCountError {
    #[error("desiredCount {0} is negative")]
    NegativeDesiredCount(i32),
    #[error("scale {0} is outside 0..=100 percent")]
    ScaleOutOfRange(Decimal),
    #[error("scale unit {0} is not PERCENT")]
    UnknownUnit(String),
    #[error("desiredCount {desired} x scale {scale}% does not fit the arithmetic")]
    Overflow { desired: i32, scale: Decimal },
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

/// What the caller knows beyond the task set itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskSetContext {
    /// The owning service's `desiredCount`, when known.
    pub service_desired_count: Option<i32>,
    /// Whether the request asked for tags (`include: ["TAGS"]`).
    pub tags_requested: bool,
}

/// Invariants of one task set as answered by an implementation. Paths are relative to the task
/// set; an absent member is not checked here (presence is the fixtures' business).
pub fn task_set_invariants(ts: &TaskSet, ctx: TaskSetContext) -> Vec<Violation> {
    let mut out = Vec::new();
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
        if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
            out.push(violation(
                "scale.value",
                ids::SCALE_RANGE,
                format!("scale {value} is outside 0..=100"),
            ));
        }
    }
    if let (Some(desired), Some(scale), Some(actual)) = (
        ctx.service_desired_count,
        &ts.scale,
        ts.computed_desired_count,
    ) {
        if let Ok(expected) = computed_desired_count_for(desired, scale) {
            if expected != actual {
                out.push(violation(
                    "computedDesiredCount",
                    ids::COMPUTED_DESIRED_COUNT,
                    format!(
                        "{actual}, but ceil({desired} x {}% / 100) = {expected}",
                        scale.value.unwrap_or(Decimal::ZERO)
                    ),
                ));
            }
        }
    }
    if ts.stability_status.as_ref().map(|s| s.as_str()) == Some("STEADY_STATE") {
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
        if created > updated {
            out.push(violation(
                "updatedAt",
                ids::CREATED_NOT_AFTER_UPDATED,
                format!("createdAt {created} is after updatedAt {updated}"),
            ));
        }
    }
    if let Some(status) = &ts.status {
        if !status.is_known() {
            out.push(violation(
                "status",
                ids::STATUS_KNOWN,
                format!("status {status:?} is not PRIMARY, ACTIVE or DRAINING"),
            ));
        }
    }
    if let (Some(arn), Some(id)) = (&ts.task_set_arn, &ts.id) {
        if !arn.ends_with(&format!("/{id}")) {
            out.push(violation(
                "taskSetArn",
                ids::ARN_ENDS_WITH_ID,
                format!("{arn} does not end with /{id}"),
            ));
        }
    }
    if !ctx.tags_requested && ts.tags.as_ref().is_some_and(|t| !t.is_empty()) {
        out.push(violation(
            "tags",
            ids::TAGS_ONLY_WHEN_ASKED,
            "tags returned although include did not ask for TAGS".to_owned(),
        ));
    }
    out
}

/// Invariants of a service and its task sets: at most one PRIMARY, and each task set's own
/// invariants against the service's desired count.
pub fn service_invariants(service: &Service, tags_requested: bool) -> Vec<Violation> {
    let mut out = Vec::new();
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
    let ctx = TaskSetContext {
        service_desired_count: service.desired_count,
        tags_requested,
    };
    for (i, ts) in sets.iter().enumerate() {
        for mut v in task_set_invariants(ts, ctx) {
            v.path = format!("taskSets[{i}].{}", v.path);
            out.push(v);
        }
    }
    out
}
