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
    /// A failed task start tried again (A39): the task delay, at least [`MIN_RETRY`].
    Retry,
    Now,
}

/// The shortest time between two starts of a task that fails, so that a failing task never
/// spins, even with no delays.
const MIN_RETRY: Duration = Duration::from_millis(50);

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
            Stage::Recompute => (
                t.recompute_delay + self.faults.slow_recompute,
                t.recompute_jitter,
            ),
            Stage::Launch => (t.launch_delay, Duration::ZERO),
            Stage::TaskStart => (t.task_delay, t.task_jitter),
            Stage::Steady => (t.steady_delay, Duration::ZERO),
            Stage::Stop => (t.stop_delay, Duration::ZERO),
            Stage::Drain => (t.drain_delay, Duration::ZERO),
            Stage::Retry => (t.task_delay.max(MIN_RETRY), t.task_jitter),
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
                let fails = self
                    .set_mut(&key)
                    .map(|s| s.task_definition.clone())
                    .is_some_and(|td| self.tasks_stuck(&key.service, &td));
                if fails {
                    // The tasks stop before RUNNING and are started again, so they stay PENDING.
                    if let Some(set) = self.set_mut(&key) {
                        let failed = set.pending.take(batch);
                        if failed > 0 && set.status != TaskSetStatus::DRAINING {
                            let batch = set.pending.add(failed);
                            self.schedule(at, Stage::Retry, Event::TasksStarted { key, batch });
                        }
                    }
                    return;
                }
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
            Event::ClusterProvisioned { cluster } => {
                if let Some(c) = self.clusters.get_mut(&cluster) {
                    c.provisioning = false;
                }
            }
            Event::DeploymentTasksStarted {
                key,
                deployment,
                batch,
            } => self.deployment_tasks_started(at, key, deployment, batch),
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
                        dep.rollout_reason = Some(format!("ECS deployment {} completed.", dep.id));
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

    /// Starts the PRIMARY deployment's tasks. With older deployments still running, it rolls
    /// within the service's deployment configuration (A40): at most maximumPercent of the
    /// desired count (rounded down) run or start at once, and older tasks are stopped only
    /// while minimumHealthyPercent (rounded up) of it stays RUNNING.
    fn deployment_launch(&mut self, at: SystemTime, key: ServiceKey, deployment: String) {
        let Some(svc) = self.service_rec(&key) else {
            return;
        };
        if svc
            .deployments
            .first()
            .is_none_or(|d| d.id != deployment || d.rollout == DeploymentRolloutState::Failed)
        {
            return;
        }
        let desired = svc.desired_count;
        let max_percent = svc.deployment_configuration.maximum_percent.unwrap_or(200);
        let min_percent = svc
            .deployment_configuration
            .minimum_healthy_percent
            .unwrap_or(100);
        let (old_running, old_pending) = svc.deployments[1..]
            .iter()
            .fold((0, 0), |(r, p), d| (r + d.running, p + d.pending.count()));
        let dep = &mut svc.deployments[0];
        // The scheduler acts: the deployment takes the service's desired count now.
        if dep.desired != desired {
            dep.desired = desired;
            dep.updated_at = at;
        }
        let new_total = dep.running + dep.pending.count();
        let want = dep.desired - new_total;
        let mut start_batch = None;
        let mut stopping = false;
        if want <= 0 || old_running + old_pending == 0 {
            start_batch = dep.pending.reconcile(&mut dep.running, dep.desired).1;
        } else {
            let max_total = desired.saturating_mul(max_percent) / 100;
            let min_healthy = (desired.saturating_mul(min_percent) + 99) / 100;
            let room = max_total - old_running - old_pending - new_total;
            let start = room.clamp(0, want);
            if start > 0 {
                start_batch = Some(dep.pending.add(start));
            }
            let healthy = old_running + dep.running;
            let mut stop = (healthy - min_healthy)
                .min(want - start)
                .min(old_running)
                .max(0);
            // The oldest deployments' tasks go first.
            for old in svc.deployments[1..].iter_mut().rev() {
                let k = stop.min(old.running);
                old.running -= k;
                stop -= k;
                stopping |= k > 0;
            }
        }
        if let Some(batch) = start_batch {
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
        if stopping {
            // Once they are gone there is room for more new tasks.
            self.schedule(
                at,
                Stage::Stop,
                Event::DeploymentLaunch {
                    key: key.clone(),
                    deployment: deployment.clone(),
                },
            );
        }
        self.check_deployment(at, key, deployment);
    }

    /// A batch of a deployment's tasks reached RUNNING, or failed to start (A39). Failures
    /// count in failedTasks; past the circuit breaker's threshold the deployment is FAILED and
    /// starts nothing more, and with rollback the last completed deployment comes back.
    fn deployment_tasks_started(
        &mut self,
        at: SystemTime,
        key: ServiceKey,
        deployment: String,
        batch: u64,
    ) {
        let td = self.service_rec(&key).and_then(|s| {
            s.deployments
                .iter()
                .find(|d| d.id == deployment)
                .and_then(|d| d.task_definition.clone())
        });
        // A test's stuck tasks wait without failing; tasks whose image does not exist fail.
        let held = self.faults.stuck_services.contains(&key.service);
        let fails = td.is_some_and(|td| self.tasks_fail(&td));
        let Some(svc) = self.service_rec(&key) else {
            return;
        };
        let breaker = svc
            .deployment_configuration
            .deployment_circuit_breaker
            .as_ref()
            .filter(|b| b.enable == Some(true))
            .map(|b| b.rollback == Some(true));
        let threshold = ((svc.desired_count + 1) / 2).clamp(3, 200);
        let Some(dep) = svc.deployments.iter_mut().find(|d| d.id == deployment) else {
            return;
        };
        let n = dep.pending.take(batch);
        if held && !fails {
            if n > 0 {
                let batch = dep.pending.add(n);
                self.schedule(
                    at,
                    Stage::Retry,
                    Event::DeploymentTasksStarted {
                        key,
                        deployment,
                        batch,
                    },
                );
            }
            return;
        }
        if !fails {
            dep.running += n;
            self.deployment_launch(at, key, deployment);
            return;
        }
        dep.failed += n;
        dep.updated_at = at;
        match breaker {
            Some(rollback) if dep.failed >= threshold => {
                dep.rollout = DeploymentRolloutState::Failed;
                dep.rollout_reason = Some(format!(
                    "ECS deployment circuit breaker: tasks failed to start ({} of a threshold of {threshold}).",
                    dep.failed
                ));
                dep.pending.clear();
                if rollback {
                    self.roll_back(at, key);
                }
            }
            _ if n > 0 => {
                let batch = dep.pending.add(n);
                self.schedule(
                    at,
                    Stage::Retry,
                    Event::DeploymentTasksStarted {
                        key,
                        deployment,
                        batch,
                    },
                );
            }
            _ => {}
        }
    }

    /// Brings the last completed deployment back as a new PRIMARY deployment; the failed one
    /// becomes ACTIVE and goes when the new one completes.
    fn roll_back(&mut self, at: SystemTime, key: ServiceKey) {
        let id = format!(
            "ecs-svc/{}",
            self.rng
                .u64(1_000_000_000_000_000_000..=9_999_999_999_999_999_999)
        );
        let Some(svc) = self.service_rec(&key) else {
            return;
        };
        let Some(previous) = svc
            .deployments
            .iter()
            .skip(1)
            .find(|d| d.rollout == DeploymentRolloutState::Completed)
            .map(|d| d.task_definition.clone())
        else {
            return;
        };
        svc.task_definition = previous;
        for d in &mut svc.deployments {
            d.status = DeploymentStatus::ACTIVE;
        }
        let fresh = DeploymentRecord::new(svc, id.clone(), svc.desired_count, at);
        svc.deployments.insert(0, fresh);
        svc.deployment_generation += 1;
        self.schedule(
            at,
            Stage::Recompute,
            Event::DeploymentLaunch {
                key,
                deployment: id,
            },
        );
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
