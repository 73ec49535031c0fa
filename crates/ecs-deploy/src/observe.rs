//! What the controller reads from ECS, and when it takes a task set to have settled.
//!
//! Every decision is taken on a DescribeServices answer (one call shows the desired count and
//! every task set, DRAINING ones included), never on the answer of the call that changed the
//! set: CreateTaskSet and UpdateTaskSet answer the `computedDesiredCount` from before the
//! scheduler acted on them (`conformance/evidence/`, rule `ts.computed-desired-count.answer-before-recompute`).

use ecs_model::semantics::computed_desired_count;
use ecs_model::types::{
    DeploymentControllerType, Service, StabilityStatus, TaskSet, TaskSetStatus,
};
use ecs_model::{DateTime, Decimal};

/// A service as one DescribeServices answer shows it.
#[derive(Clone, Debug)]
pub(crate) struct ServiceView {
    pub desired: i32,
    pub controller: Option<DeploymentControllerType>,
    pub sets: Vec<TaskSet>,
    pub service: Service,
}

impl ServiceView {
    pub fn new(service: Service) -> ServiceView {
        ServiceView {
            desired: service.desired_count.unwrap_or(0),
            controller: service
                .deployment_controller
                .as_ref()
                .and_then(|d| d.r#type.clone()),
            sets: service.task_sets.clone().unwrap_or_default(),
            service,
        }
    }

    /// What a first task set copies when there is no primary to copy: the service's own
    /// launch settings, as a task set would hold them.
    pub fn launch_template(&self) -> TaskSet {
        let s = &self.service;
        TaskSet {
            network_configuration: s.network_configuration.clone(),
            load_balancers: s.load_balancers.clone(),
            service_registries: s.service_registries.clone(),
            launch_type: s.launch_type.clone(),
            capacity_provider_strategy: s.capacity_provider_strategy.clone(),
            platform_version: s.platform_version.clone(),
            ..Default::default()
        }
    }

    pub fn set(&self, id: &str) -> Option<&TaskSet> {
        self.sets.iter().find(|s| s.id.as_deref() == Some(id))
    }

    pub fn primary(&self) -> Option<&TaskSet> {
        self.sets.iter().find(|s| is(s, &TaskSetStatus::PRIMARY))
    }

    /// The set whose `externalId` is `external_id`; a live one before a DRAINING one.
    pub fn labelled(&self, external_id: &str) -> Option<&TaskSet> {
        let mut found = self
            .sets
            .iter()
            .filter(|s| s.external_id.as_deref() == Some(external_id));
        let first = found.clone().find(|s| !is(s, &TaskSetStatus::DRAINING));
        first.or_else(|| found.next())
    }

    /// The lease tag on the service, when it holds one this tool wrote.
    pub fn lease(&self) -> Option<crate::lease::Lease> {
        let tags = self.service.tags.as_deref().unwrap_or_default();
        crate::lease::find(tags, crate::lease::TAG_LEASE).and_then(crate::lease::Lease::parse)
    }

    /// The abort request on the service, if any.
    pub fn abort(&self) -> Option<crate::lease::AbortRequest> {
        let tags = self.service.tags.as_deref().unwrap_or_default();
        crate::lease::find(tags, crate::lease::TAG_ABORT)
            .and_then(crate::lease::AbortRequest::parse)
    }

    /// The record of the last rollback begun on the service, if any.
    pub fn rolled_back(&self) -> Option<crate::lease::RollbackRecord> {
        let tags = self.service.tags.as_deref().unwrap_or_default();
        crate::lease::find(tags, crate::lease::TAG_ROLLED_BACK)
            .and_then(crate::lease::RollbackRecord::parse)
    }

    pub fn draining(&self) -> usize {
        self.sets
            .iter()
            .filter(|s| is(s, &TaskSetStatus::DRAINING))
            .count()
    }
}

pub(crate) fn is(set: &TaskSet, status: &TaskSetStatus) -> bool {
    set.status.as_ref() == Some(status)
}

pub(crate) fn id_of(set: &TaskSet) -> String {
    set.id.clone().unwrap_or_default()
}

pub(crate) fn scale_of(set: &TaskSet) -> Decimal {
    set.scale
        .as_ref()
        .and_then(|s| s.value)
        .unwrap_or(Decimal::ZERO)
}

/// A task set's counts as one answer showed them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// `ceil(desiredCount x scale / 100)` for the scale the step asked for, computed exactly.
    pub expected: i32,
    /// `computedDesiredCount` as shown.
    pub computed: Option<i32>,
    /// `runningCount` as shown.
    pub running: Option<i32>,
    /// `pendingCount` as shown.
    pub pending: Option<i32>,
    /// `stabilityStatus` as shown.
    pub stability: Option<String>,
}

impl std::fmt::Display for Counts {
    /// `computed 4/10 running 2 pending 2 STABILIZING`: computed of expected; `-` for a
    /// member the answer did not have.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |v: Option<i32>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        write!(
            f,
            "computed {}/{} running {} pending {} {}",
            n(self.computed),
            self.expected,
            n(self.running),
            n(self.pending),
            self.stability.as_deref().unwrap_or("-")
        )
    }
}

/// Why a set has not settled yet, or that it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Judgement {
    Settled,
    Waiting(&'static str),
}

/// What a step waits for: the set at `percent`, steady after the change made at `since` (the
/// `updatedAt` the mutating call answered, when this process made it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target {
    pub percent: Decimal,
    pub since: Option<DateTime>,
}

/// Whether `set` has settled at `target` in a service of `desired` tasks.
///
/// Settled means all of: the scale shown is the one asked for (the change has reached the
/// answer at all); `computedDesiredCount` is the exact count for that scale; that many tasks
/// run and none is pending; the set is STEADY_STATE; and when this process made the change,
/// the steady state is dated at or after it, so a STEADY_STATE left from before the change
/// (when the new scale happens to give the same count) is not taken for the new one.
pub(crate) fn judge(set: &TaskSet, desired: i32, target: &Target) -> (Judgement, Counts) {
    let expected = computed_desired_count(desired, target.percent).unwrap_or(0);
    let counts = Counts {
        expected,
        computed: set.computed_desired_count,
        running: set.running_count,
        pending: set.pending_count,
        stability: set.stability_status.as_ref().map(|s| s.as_str().to_owned()),
    };
    let judgement = if scale_of(set) != target.percent {
        Judgement::Waiting("the new scale is not shown yet")
    } else if set.computed_desired_count != Some(expected) {
        Judgement::Waiting("computedDesiredCount is not recomputed yet")
    } else if set.running_count != Some(expected) || set.pending_count.unwrap_or(0) != 0 {
        Judgement::Waiting("tasks are starting or stopping")
    } else if set.stability_status != Some(StabilityStatus::SteadyState) {
        Judgement::Waiting("the set is not STEADY_STATE")
    } else if matches!((target.since, set.stability_status_at), (Some(since), Some(at)) if at < since)
    {
        Judgement::Waiting("the steady state shown predates the change")
    } else {
        Judgement::Settled
    };
    (judgement, counts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ecs_model::types::Scale;

    fn set(
        scale: i32,
        computed: i32,
        running: i32,
        pending: i32,
        steady: bool,
        at: i64,
    ) -> TaskSet {
        TaskSet {
            scale: Some(Scale::percent(scale)),
            computed_desired_count: Some(computed),
            running_count: Some(running),
            pending_count: Some(pending),
            stability_status: Some(if steady {
                StabilityStatus::SteadyState
            } else {
                StabilityStatus::Stabilizing
            }),
            stability_status_at: Some(DateTime::from_secs(at)),
            ..Default::default()
        }
    }

    fn target(percent: i32, since: Option<i64>) -> Target {
        Target {
            percent: Decimal::from(percent),
            since: since.map(DateTime::from_secs),
        }
    }

    #[test]
    fn only_the_exact_count_running_steady_after_the_change_is_settled() {
        // 50 tasks at 20%: 10.
        let t = target(20, Some(100));
        let settled = set(20, 10, 10, 0, true, 120);
        assert_eq!(judge(&settled, 50, &t).0, Judgement::Settled);
        assert_eq!(judge(&settled, 50, &t).1.expected, 10);
        for (case, why) in [
            (set(0, 0, 0, 0, true, 120), "the new scale is not shown yet"),
            // The answer of UpdateTaskSet: the scale is new, the count is the old one.
            (
                set(20, 0, 0, 0, false, 100),
                "computedDesiredCount is not recomputed yet",
            ),
            (
                set(20, 10, 4, 6, false, 110),
                "tasks are starting or stopping",
            ),
            (
                set(20, 10, 10, 0, false, 110),
                "the set is not STEADY_STATE",
            ),
            (
                set(20, 10, 10, 0, true, 90),
                "the steady state shown predates the change",
            ),
        ] {
            assert_eq!(judge(&case, 50, &t).0, Judgement::Waiting(why));
        }
        // Resumed (the change was made by an earlier process): the date cannot be compared.
        assert_eq!(
            judge(&set(20, 10, 10, 0, true, 90), 50, &target(20, None)).0,
            Judgement::Settled
        );
    }

    #[test]
    fn the_expected_count_rounds_up_exactly() {
        // 3 tasks at 33.3% is 0.999 tasks: 1.
        let t = Target {
            percent: "33.3".parse().unwrap(),
            since: None,
        };
        let mut s = set(0, 1, 1, 0, true, 0);
        s.scale = Some(Scale::percent(t.percent));
        assert_eq!(
            judge(&s, 3, &t),
            (
                Judgement::Settled,
                Counts {
                    expected: 1,
                    computed: Some(1),
                    running: Some(1),
                    pending: Some(0),
                    stability: Some("STEADY_STATE".into()),
                }
            )
        );
    }
}
