//! The emulated ECS scheduler: everything that happens after a call has answered. Handlers
//! change what the call changes and schedule events; [`State::advance`] applies the events due
//! by the time of the next request, in time order.

use std::time::{Duration, SystemTime};

use ecs_model::semantics::computed_desired_count_for;
use ecs_model::types::{
    DeploymentRolloutState, DeploymentStatus, ServiceStatus, StabilityStatus, TaskSetStatus,
};

use super::{scale_of, DeploymentRecord, ServiceRecord, State, TaskSetRecord};
use crate::scheduler::{Event, ServiceKey, SetKey};

/// Which delay of [`crate::timing::Timing`] an event waits for.
#[derive(Clone, Copy, Debug)]
pub(super) enum Stage {
    Recompute,
    Launch,
    TaskStart,
    Steady,
    Stop,
    Drain,
    Now,
}

impl State {
    /// Applies every event due by `now`, in time order; each at its own due time.
    pub fn advance(&mut self, now: SystemTime) {
        while let Some((at, event)) = self.queue.pop_due(now) {
            self.apply(at, event);
        }
    }

    /// Events waiting to happen (for tests and diagnostics).
    pub fn scheduled_events(&self) -> usize {
        self.queue.len()
    }

    /// Schedules `event` after the delay of `stage` (with its jitter) from `from`.
    pub(super) fn schedule(&mut self, from: SystemTime, stage: Stage, event: Event) {
        let t = &self.settings.timing;
        let (base, jitter) = match stage {
            Stage::Recompute => (t.recompute_delay, t.recompute_jitter),
            Stage::Launch => (t.launch_delay, Duration::ZERO),
            Stage::TaskStart => (t.task_delay, t.task_jitter),
            Stage::Steady => (t.steady_delay, Duration::ZERO),
            Stage::Stop => (t.stop_delay, Duration::ZERO),
            Stage::Drain => (t.drain_delay, Duration::ZERO),
            Stage::Now => (Duration::ZERO, Duration::ZERO),
        };
        let extra = match u64::try_from(jitter.as_nanos()) {
            Ok(0) | Err(_) => Duration::ZERO,
            Ok(n) => Duration::from_nanos(self.rng.u64(0..=n)),
        };
        self.queue.push(from + base + extra, event);
    }

    /// Marks a task set's count as due for recompute and schedules the recompute.
    pub(super) fn schedule_recompute(&mut self, key: SetKey, now: SystemTime) {
        let Some(set) = self.set_mut(&key) else {
            return;
        };
        set.generation += 1;
        let generation = set.generation;
        set.recompute_due = Some(generation);
        self.schedule(now, Stage::Recompute, Event::Recompute { key, generation });
    }

    /// Starts draining a task set: it stops its tasks, then disappears.
    pub(super) fn schedule_drain(&mut self, key: SetKey, now: SystemTime) {
        let busy = self
            .set_mut(&key)
            .is_some_and(|s| s.running + s.pending.count() > 0);
        let stage = if busy { Stage::Stop } else { Stage::Now };
        self.schedule(now, stage, Event::SetStopped { key });
    }

    /// Schedules a deployment of `cluster`/`service` to start (or stop) tasks towards its
    /// desired count.
    pub(super) fn schedule_deployment(
        &mut self,
        cluster: String,
        service: String,
        deployment: String,
        now: SystemTime,
    ) {
        let key = ServiceKey { cluster, service };
        self.schedule(
            now,
            Stage::Recompute,
            Event::DeploymentLaunch { key, deployment },
        );
    }

    fn set_mut(&mut self, key: &SetKey) -> Option<&mut TaskSetRecord> {
        self.clusters
            .get_mut(&key.cluster)?
            .services
            .get_mut(&key.service)?
            .task_sets
            .get_mut(&key.set)
    }

    fn service_rec(&mut self, key: &ServiceKey) -> Option<&mut ServiceRecord> {
        self.clusters
            .get_mut(&key.cluster)?
            .services
            .get_mut(&key.service)
    }

    fn apply(&mut self, at: SystemTime, event: Event) {
        match event {
            Event::Recompute { key, generation } => self.recompute(at, key, generation),
            Event::Launch { key } => self.launch(at, key),
            Event::TasksStarted { key, batch } => {
                if let Some(set) = self.set_mut(&key) {
                    let started = set.pending.take(batch);
                    if started > 0 && set.status != TaskSetStatus::DRAINING {
                        set.running += started;
                        set.generation += 1;
                    }
                }
                self.check_converged(at, key);
            }
            Event::Steady { key, generation } => {
                if let Some(set) = self.set_mut(&key) {
                    if set.generation == generation
                        && set.converged()
                        && set.stability == StabilityStatus::Stabilizing
                    {
                        set.stability = StabilityStatus::SteadyState;
                        set.stability_at = at;
                        set.updated_at = set.updated_at.max(at);
                    }
                }
            }
            Event::SetStopped { key } => {
                if let Some(set) = self.set_mut(&key) {
                    set.running = 0;
                    set.pending.clear();
                    set.generation += 1;
                    self.schedule(at, Stage::Drain, Event::SetDrained { key });
                }
            }
            Event::SetDrained { key } => {
                if let Some(svc) = self.service_rec(&ServiceKey {
                    cluster: key.cluster.clone(),
                    service: key.service.clone(),
                }) {
                    if svc
                        .task_sets
                        .get(&key.set)
                        .is_some_and(|s| s.status == TaskSetStatus::DRAINING)
                    {
                        svc.task_sets.remove(&key.set);
                    }
                }
            }
            Event::ServiceInactive { key } => {
                if let Some(svc) = self.service_rec(&key) {
                    if svc.status == ServiceStatus::DRAINING {
                        svc.status = ServiceStatus::INACTIVE;
                        svc.task_sets.clear();
                        svc.deployments.clear();
                    }
                }
            }
            Event::DeploymentLaunch { key, deployment } => {
                self.deployment_launch(at, key, deployment)
            }
            Event::DeploymentTasksStarted {
                key,
                deployment,
                batch,
            } => {
                if let Some(dep) = self
                    .service_rec(&key)
                    .and_then(|s| s.deployments.iter_mut().find(|d| d.id == deployment))
                {
                    dep.running += dep.pending.take(batch);
                }
                self.check_deployment(at, key, deployment);
            }
            Event::DeploymentCompleted {
                key,
                deployment,
                generation,
            } => {
                if let Some(svc) = self.service_rec(&key) {
                    let current = svc.deployment_generation == generation;
                    if let Some(dep) = svc
                        .deployments
                        .first_mut()
                        .filter(|d| current && d.id == deployment && d.converged())
                    {
                        dep.rollout = DeploymentRolloutState::Completed;
                        dep.updated_at = at;
                        // The older deployments' tasks are stopped and they are retired.
                        svc.deployments.truncate(1);
                    }
                }
            }
        }
    }

    fn recompute(&mut self, at: SystemTime, key: SetKey, generation: u64) {
        let desired = self
            .service_rec(&ServiceKey {
                cluster: key.cluster.clone(),
                service: key.service.clone(),
            })
            .map(|s| s.desired_count);
        let Some(desired) = desired else { return };
        let Some(set) = self.set_mut(&key) else {
            return;
        };
        if set.recompute_due != Some(generation) || set.status == TaskSetStatus::DRAINING {
            return;
        }
        set.recompute_due = None;
        // Scales were validated (0..=100) and desired counts are never negative.
        let computed = computed_desired_count_for(desired, &scale_of(set.scale)).unwrap_or(0);
        if computed != set.computed {
            set.computed = computed;
            set.generation += 1;
            if set.stability != StabilityStatus::Stabilizing {
                set.stability = StabilityStatus::Stabilizing;
                set.stability_at = at;
            }
        }
        self.schedule(at, Stage::Launch, Event::Launch { key });
    }

    /// Starts or stops tasks so that running + pending is the computed count.
    fn launch(&mut self, at: SystemTime, key: SetKey) {
        let Some(set) = self.set_mut(&key) else {
            return;
        };
        if set.status == TaskSetStatus::DRAINING {
            return;
        }
        let (changed, batch) = set.pending.reconcile(&mut set.running, set.computed);
        if changed {
            set.generation += 1;
        }
        if let Some(batch) = batch {
            self.schedule(
                at,
                Stage::TaskStart,
                Event::TasksStarted {
                    key: key.clone(),
                    batch,
                },
            );
        }
        self.check_converged(at, key);
    }

    /// A STABILIZING set whose tasks all run becomes STEADY_STATE after the steady delay.
    fn check_converged(&mut self, at: SystemTime, key: SetKey) {
        let Some(set) = self.set_mut(&key) else {
            return;
        };
        if set.converged() && set.stability == StabilityStatus::Stabilizing {
            let generation = set.generation;
            self.schedule(at, Stage::Steady, Event::Steady { key, generation });
        }
    }

    fn deployment_launch(&mut self, at: SystemTime, key: ServiceKey, deployment: String) {
        let Some(dep) = self
            .service_rec(&key)
            .and_then(|s| s.deployments.iter_mut().find(|d| d.id == deployment))
        else {
            return;
        };
        let (_, batch) = dep.pending.reconcile(&mut dep.running, dep.desired);
        if let Some(batch) = batch {
            self.schedule(
                at,
                Stage::TaskStart,
                Event::DeploymentTasksStarted {
                    key: key.clone(),
                    deployment: deployment.clone(),
                    batch,
                },
            );
        }
        self.check_deployment(at, key, deployment);
    }

    /// The PRIMARY deployment completes once all its tasks run.
    fn check_deployment(&mut self, at: SystemTime, key: ServiceKey, deployment: String) {
        let Some(svc) = self.service_rec(&key) else {
            return;
        };
        let generation = svc.deployment_generation;
        let ready = svc.deployments.first().is_some_and(|d| {
            d.id == deployment && d.converged() && d.rollout == DeploymentRolloutState::InProgress
        });
        if ready {
            self.schedule(
                at,
                Stage::Steady,
                Event::DeploymentCompleted {
                    key,
                    deployment,
                    generation,
                },
            );
        }
    }
}

impl TaskSetRecord {
    /// Nothing left to do: no recompute due, nothing pending, every computed task running.
    pub(super) fn converged(&self) -> bool {
        self.status != TaskSetStatus::DRAINING
            && self.recompute_due.is_none()
            && self.pending.count() == 0
            && self.running == self.computed
    }
}

impl DeploymentRecord {
    fn converged(&self) -> bool {
        self.status == DeploymentStatus::PRIMARY
            && self.pending.count() == 0
            && self.running == self.desired
    }
}
