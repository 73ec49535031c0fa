//! What the controller reads from ECS. When a task set has settled is ecs-client's judgement
//! ([`ecs_client::waiter::judge_task_set`]), the one its waiter uses too.
//!
//! Every decision is taken on a DescribeServices answer (one call shows the desired count and
//! every task set, DRAINING ones included), never on the answer of the call that changed the
//! set: CreateTaskSet and UpdateTaskSet answer the `computedDesiredCount` from before the
//! scheduler acted on them (`conformance/evidence/`, rule `ts.computed-desired-count.answer-before-recompute`).

use ecs_model::types::{DeploymentControllerType, Service, TaskSet, TaskSetStatus};

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
        TaskSet::builder()
            .set_network_configuration(s.network_configuration.clone())
            .set_load_balancers(s.load_balancers.clone())
            .set_service_registries(s.service_registries.clone())
            .set_launch_type(s.launch_type.clone())
            .set_capacity_provider_strategy(s.capacity_provider_strategy.clone())
            .set_platform_version(s.platform_version.clone())
            .build()
    }

    pub fn set(&self, id: &str) -> Option<&TaskSet> {
        self.sets.iter().find(|s| s.id.as_deref() == Some(id))
    }

    pub fn primary(&self) -> Option<&TaskSet> {
        self.sets.iter().find(|s| is(s, &TaskSetStatus::Primary))
    }

    /// The set whose `externalId` is `external_id`; a live one before a DRAINING one.
    pub fn labelled(&self, external_id: &str) -> Option<&TaskSet> {
        let mut found = self
            .sets
            .iter()
            .filter(|s| s.external_id.as_deref() == Some(external_id));
        let first = found.clone().find(|s| !is(s, &TaskSetStatus::Draining));
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
            .filter(|s| is(s, &TaskSetStatus::Draining))
            .count()
    }
}

pub(crate) fn is(set: &TaskSet, status: &TaskSetStatus) -> bool {
    set.status.as_ref() == Some(status)
}

pub(crate) fn id_of(set: &TaskSet) -> String {
    set.id.clone().unwrap_or_default()
}

pub(crate) use ecs_client::waiter::scale_of;
pub use ecs_client::waiter::Counts;
pub(crate) use ecs_client::waiter::{judge_task_set as judge, Judgement, Target};
