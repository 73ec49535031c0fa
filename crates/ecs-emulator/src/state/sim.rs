//! The emulated ECS scheduler: everything that happens after a call has answered. Handlers
//! change what the call changes and schedule events; [`State::advance`] applies the events due
//! by the time of the next request, in time order.

use std::time::{Duration, SystemTime};

use ecs_model::semantics::computed_desired_count_for;
use ecs_model::types::{
    DeploymentRolloutState, DeploymentStatus, ServiceStatus, StabilityStatus, TaskSetStatus,
};

use super::tasks::{Owner, StopCause};
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
    /// The stop delay after a target's deregistration delay: ECS stops a task behind a load
    /// balancer once its target has drained (documented, "Optimize load balancer connection
    /// draining parameters for Amazon ECS").
    StopAfterDraining(Duration),
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
        self.expire_tasks(now);
    }

    /// Events waiting to happen (for tests and diagnostics).
    pub fn scheduled_events(&self) -> usize {
        self.queue.len()
    }

    /// Schedules `event` after the delay of `stage` (with its jitter) from `from`; when it is
    /// due.
    pub(super) fn schedule(&mut self, from: SystemTime, stage: Stage, event: Event) -> SystemTime {
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
            Stage::StopAfterDraining(drain) => (drain.saturating_add(t.stop_delay), Duration::ZERO),
            Stage::Drain => (t.drain_delay, Duration::ZERO),
            Stage::Retry => (t.task_delay.max(MIN_RETRY), t.task_jitter),
            Stage::Now => (Duration::ZERO, Duration::ZERO),
        };
        let extra = match u64::try_from(jitter.as_nanos()) {
            Ok(0) | Err(_) => Duration::ZERO,
            Ok(n) => Duration::from_nanos(self.rng.u64(0..=n)),
        };
        let due = super::elbv2::after(from, base.saturating_add(extra));
        self.queue.push(due, event);
        due
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

    /// Starts draining a task set: its tasks are desired STOPPED (and count until they
    /// stopped), then it disappears.
    pub(super) fn schedule_drain(&mut self, key: SetKey, now: SystemTime) {
        let Some(set) = self.set_mut(&key) else {
            return;
        };
        let busy = set.tasks.total() > 0;
        let ids: Vec<String> = set.tasks.ids().cloned().collect();
        let cause = StopCause::scaling(&set.id);
        self.drain_tasks(&key.cluster, &ids, &cause, now);
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

    pub(super) fn service_rec(&mut self, key: &ServiceKey) -> Option<&mut ServiceRecord> {
        self.clusters
            .get_mut(&key.cluster)?
            .services
            .get_mut(&key.service)
    }

    fn apply(&mut self, at: SystemTime, event: Event) {
        match event {
            Event::Recompute { key, generation } => self.recompute(at, key, generation),
            Event::Launch { key } => self.launch(at, key),
            Event::TasksStarted { key, batch } => self.set_tasks_started(at, key, batch),
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
                    let (pending, running) = set.tasks.clear();
                    set.generation += 1;
                    let cluster = key.cluster.clone();
                    self.schedule(at, Stage::Drain, Event::SetDrained { key });
                    self.tasks_stopped(&cluster, &pending, at);
                    self.tasks_stopped(&cluster, &running, at);
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
                        .is_some_and(|s| s.status == TaskSetStatus::Draining)
                    {
                        svc.task_sets.remove(&key.set);
                    }
                }
            }
            Event::ServiceInactive { key } => {
                let mut left = vec![];
                if let Some(svc) = self.service_rec(&key) {
                    if svc.status == ServiceStatus::Draining {
                        svc.status = ServiceStatus::Inactive;
                        for set in svc.task_sets.iter_mut() {
                            let (p, r) = set.tasks.clear();
                            left.extend(p.into_iter().chain(r));
                        }
                        for d in &mut svc.deployments {
                            let (p, r) = d.tasks.clear();
                            left.extend(p.into_iter().chain(r));
                        }
                        svc.task_sets.clear();
                        svc.deployments.clear();
                        // AWS deletes a service's deployments with it.
                        svc.history.clear();
                        svc.revisions.clear();
                    }
                }
                self.tasks_stopped(&key.cluster, &left, at);
            }
            Event::DeploymentLaunch { key, deployment } => {
                self.deployment_launch(at, key, deployment)
            }
            Event::NativeWake { key, generation } => self.native_wake(&key, generation, at),
            Event::RollbackRequested { key, arn } => self.rollback_requested(&key, &arn, at),
            Event::EarlySuccess {
                key,
                arn,
                deferred,
                cleaned,
            } => self.early_success(at, &key, &arn, deferred, cleaned),
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
            Event::TasksStopped { cluster, ids } => self.tasks_stopped(&cluster, &ids, at),
            Event::StandaloneStarted { cluster, ids } => {
                self.standalone_started(at, &cluster, &ids)
            }
            Event::DeploymentCompleted {
                key,
                deployment,
                generation,
            } => {
                let mut retired = vec![];
                if let Some(svc) = self.service_rec(&key) {
                    // A rollback asked for (StopServiceDeployment) is not overtaken.
                    let stopping = svc.history.last().is_some_and(|e| {
                        e.status == ecs_model::types::ServiceDeploymentStatus::RollbackRequested
                            && e.deployments.contains(&deployment)
                    });
                    let current = svc.deployment_generation == generation && !stopping;
                    if let Some(dep) = svc
                        .deployments
                        .first_mut()
                        .filter(|d| current && d.id == deployment && d.converged())
                    {
                        dep.rollout = DeploymentRolloutState::Completed;
                        dep.rollout_reason = Some(format!("ECS deployment {} completed.", dep.id));
                        dep.updated_at = at;
                        svc.service_deployment_completed(&deployment, at);
                        // The older deployments' tasks are stopped and they are retired.
                        for old in svc.deployments.iter_mut().skip(1) {
                            let (p, r) = old.tasks.clear();
                            retired.push((StopCause::scaling(&old.id), p, r));
                        }
                    }
                }
                // Stopped while their deployments still say which groups they are in.
                let retiring = !retired.is_empty();
                for (cause, pending, running) in retired {
                    self.stop_tasks(&key.cluster, &pending, &cause, at);
                    self.stop_tasks(&key.cluster, &running, &cause, at);
                }
                if retiring {
                    if let Some(svc) = self.service_rec(&key) {
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
        if set.recompute_due != Some(generation) || set.status == TaskSetStatus::Draining {
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
        if set.status == TaskSetStatus::Draining {
            return;
        }
        let (target, have) = (set.computed, set.tasks.total());
        if target > have {
            self.start_set_tasks(at, &key, target - have, Stage::TaskStart);
        } else if target < have {
            let cause = StopCause::scaling(&set.id);
            let (cancelled, stopped) = set
                .tasks
                .shrink(usize::try_from(have - target).unwrap_or(0));
            set.generation += 1;
            self.stop_tasks(&key.cluster, &cancelled, &cause, at);
            self.stop_tasks(&key.cluster, &stopped, &cause, at);
        }
        self.check_converged(at, key);
    }

    /// Creates `n` tasks of the set as a PENDING batch and schedules their start.
    fn start_set_tasks(&mut self, at: SystemTime, key: &SetKey, n: i32, stage: Stage) {
        let Some(spec) = self.set_task_spec(key) else {
            return;
        };
        let owner = Owner::TaskSet {
            service: key.service.clone(),
            set: key.set.clone(),
        };
        let n = usize::try_from(n).unwrap_or(0);
        let ids = self.create_tasks(&key.cluster, owner, &spec, n, at);
        let Some(set) = self.set_mut(key) else {
            return;
        };
        set.generation += 1;
        let batch = set.tasks.add(ids.clone());
        let due = self.schedule(
            at,
            stage,
            Event::TasksStarted {
                key: key.clone(),
                batch,
            },
        );
        self.plan_start(&key.cluster, &ids, due);
    }

    /// A batch of a task set's tasks is due to start: they run, or (A39) they fail and others
    /// take their place, or (a test's stuck service) they wait.
    fn set_tasks_started(&mut self, at: SystemTime, key: SetKey, batch: u64) {
        let held = self.faults.stuck_services.contains(&key.service);
        let fails = self
            .set_mut(&key)
            .map(|s| s.task_definition.clone())
            .is_some_and(|td| self.tasks_fail(&td));
        let Some(set) = self.set_mut(&key) else {
            return;
        };
        // A draining set's batch stays for SetStopped, which stops it with the rest.
        if set.status == TaskSetStatus::Draining {
            return;
        }
        let ids = set.tasks.take(batch);
        if ids.is_empty() {
            return;
        }
        if held && !fails {
            let batch = set.tasks.add(ids.clone());
            let due = self.schedule(
                at,
                Stage::Retry,
                Event::TasksStarted {
                    key: key.clone(),
                    batch,
                },
            );
            self.plan_start(&key.cluster, &ids, due);
            return;
        }
        if fails {
            // The tasks stop before RUNNING and others start, so the set stays PENDING.
            let n = i32::try_from(ids.len()).unwrap_or(0);
            self.tasks_failed(&key.cluster, &ids, at);
            self.start_set_tasks(at, &key, n, Stage::Retry);
            return;
        }
        set.tasks.start(&ids);
        set.generation += 1;
        self.tasks_running(&key.cluster, &ids, at);
        self.check_converged(at, key);
    }

    /// Tasks RunTask started are due to start: those not stopped run, or fail (A39).
    fn standalone_started(&mut self, at: SystemTime, cluster: &str, ids: &[String]) {
        let Some(c) = self.clusters.get(cluster) else {
            return;
        };
        let live: Vec<(String, String)> = ids
            .iter()
            .filter_map(|id| c.tasks.get(id))
            .filter(|t| !t.is_stopping())
            .map(|t| (t.id().to_owned(), t.task_definition().to_owned()))
            .collect();
        for (id, td) in live {
            if self.tasks_fail(&td) {
                self.tasks_failed(cluster, std::slice::from_ref(&id), at);
            } else {
                self.tasks_running(cluster, std::slice::from_ref(&id), at);
            }
        }
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
        let (old_running, old_pending) = svc.deployments[1..].iter().fold((0, 0), |(r, p), d| {
            (r + d.tasks.running(), p + d.tasks.pending())
        });
        svc.service_deployment_started(&deployment, at);
        // A native deployment starts green's tasks at SCALE_UP, all of them, and stops none
        // of blue's (they go at CLEAN_UP).
        let gate = svc.native_gate(&deployment);
        let in_progress = svc
            .history
            .last()
            .is_some_and(|e| e.status == ecs_model::types::ServiceDeploymentStatus::InProgress);
        if gate == Some(false) {
            self.drive_native(&key, at);
            return;
        }
        // An alarm already in ALARM rolls a rolling deployment back as soon as it starts.
        if gate.is_none() && in_progress {
            if let Some(reason) = self.alarm_reason(&key) {
                self.roll_back(at, key, Some(reason));
                return;
            }
        }
        let Some(svc) = self.service_rec(&key) else {
            return;
        };
        let (old_running, old_pending) = if gate.is_some() {
            (0, 0)
        } else {
            (old_running, old_pending)
        };
        let dep = &mut svc.deployments[0];
        // The scheduler acts: the deployment takes the service's desired count now.
        if dep.desired != desired {
            dep.desired = desired;
            dep.updated_at = at;
        }
        let new_total = dep.tasks.total();
        let want = dep.desired - new_total;
        let mut start = 0;
        let mut stops = vec![];
        if want <= 0 || old_running + old_pending == 0 {
            if want > 0 {
                start = want;
            } else if want < 0 {
                let (cancelled, stopped) = dep.tasks.shrink(usize::try_from(-want).unwrap_or(0));
                let cause = StopCause::scaling(&dep.id);
                stops.push((cause.clone(), cancelled));
                stops.push((cause, stopped));
            }
        } else {
            let max_total = desired.saturating_mul(max_percent) / 100;
            let min_healthy = (desired.saturating_mul(min_percent) + 99) / 100;
            let room = max_total - old_running - old_pending - new_total;
            start = room.clamp(0, want);
            let healthy = old_running + dep.tasks.running();
            let mut stop = (healthy - min_healthy)
                .min(want - start)
                .min(old_running)
                .max(0);
            // The oldest deployments' tasks go first, each stopped on its own deployment's
            // behalf (A48).
            for old in svc.deployments[1..].iter_mut().rev() {
                let k = stop.min(old.tasks.running());
                stop -= k;
                if k > 0 {
                    let ids = old.tasks.stop_running(usize::try_from(k).unwrap_or(0));
                    stops.push((StopCause::scaling(&old.id), ids));
                }
            }
        }
        let stopping = stops.iter().any(|(_, ids)| !ids.is_empty());
        for (cause, ids) in stops {
            self.stop_tasks(&key.cluster, &ids, &cause, at);
        }
        if start > 0 {
            self.start_deployment_tasks(at, &key, &deployment, start, Stage::TaskStart);
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
        self.check_early_success(at, &key, &deployment);
        self.check_deployment(at, key, deployment);
    }

    /// Early success criteria (ROLLING only; documented, "Early success criteria for Amazon
    /// ECS deployments"): once the new revision runs the healthy percent of the desired count
    /// (rounded up, at least one task), and any alarm bake time has passed, the service
    /// deployment is SUCCESSFUL; the older tasks are removed first (BLOCKING, the default) or
    /// after (DEFERRED), and the new revision scales to its full count outside the deployment.
    fn check_early_success(&mut self, at: SystemTime, key: &ServiceKey, deployment: &str) {
        let Some(svc) = self.service_rec(key) else {
            return;
        };
        let Some(criteria) = svc
            .deployment_configuration
            .early_success_criteria
            .clone()
            .filter(|c| c.enable == Some(true))
        else {
            return;
        };
        let Some(entry) = svc.history.last().filter(|e| {
            e.status == ecs_model::types::ServiceDeploymentStatus::InProgress
                && e.deployments.first().map(String::as_str) == Some(deployment)
                && e.early_success_at.is_none()
        }) else {
            return;
        };
        let arn = entry.arn.clone();
        let percent = criteria.healthy_percent.unwrap_or(100).clamp(0, 100);
        let needed = ((svc.desired_count.saturating_mul(percent) + 99) / 100).max(1);
        let running = svc
            .deployments
            .first()
            .filter(|d| d.id == deployment)
            .map_or(0, |d| d.tasks.running());
        if running < needed {
            return;
        }
        // With alarm-based rollback the bake time passes first.
        let alarms = svc
            .deployment_configuration
            .alarms
            .as_ref()
            .is_some_and(|a| a.enable == Some(true) && a.rollback == Some(true));
        let bake = if alarms {
            svc.deployment_configuration
                .bake_time_in_minutes
                .unwrap_or(0)
                .max(0)
        } else {
            0
        };
        let deferred = criteria.source_service_revision_cleanup
            == Some(ecs_model::types::ServiceRevisionCleanup::Deferred);
        if let Some(e) = svc.history.last_mut() {
            e.early_success_at = Some(at);
        }
        let wait = self
            .settings
            .timing
            .health_second
            .saturating_mul(u32::try_from(bake).unwrap_or(0).saturating_mul(60));
        self.queue.push(
            super::elbv2::after(at, wait),
            Event::EarlySuccess {
                key: key.clone(),
                arn,
                deferred,
                cleaned: false,
            },
        );
    }

    /// Early success reached: the older deployments' tasks are stopped; the service
    /// deployment is SUCCESSFUL at once (DEFERRED) or once they stopped (BLOCKING, `cleaned`).
    pub(super) fn early_success(
        &mut self,
        at: SystemTime,
        key: &ServiceKey,
        arn: &str,
        deferred: bool,
        cleaned: bool,
    ) {
        let Some(svc) = self.service_rec(key) else {
            return;
        };
        let Some(first) = svc
            .history
            .iter()
            .find(|e| e.arn == arn && !e.finished())
            .and_then(|e| e.deployments.first().cloned())
        else {
            return;
        };
        if svc.deployments.first().map(|d| &d.id) != Some(&first) {
            return;
        }
        if !cleaned {
            let mut retired = vec![];
            for old in svc.deployments.iter_mut().skip(1) {
                let (p, r) = old.tasks.clear();
                retired.push((StopCause::scaling(&old.id), p, r));
            }
            for (cause, pending, running) in retired {
                self.stop_tasks(&key.cluster, &pending, &cause, at);
                self.stop_tasks(&key.cluster, &running, &cause, at);
            }
            if let Some(svc) = self.service_rec(key) {
                svc.deployments.truncate(1);
                svc.deployment_generation += 1;
            }
            if !deferred {
                self.schedule(
                    at,
                    Stage::Stop,
                    Event::EarlySuccess {
                        key: key.clone(),
                        arn: arn.to_owned(),
                        deferred,
                        cleaned: true,
                    },
                );
                return;
            }
        }
        // BLOCKING: successful only once the older tasks are STOPPED (behind a load balancer
        // they drain first).
        if !deferred && self.retired_tasks_stopping(key) {
            self.schedule(
                at,
                Stage::Stop,
                Event::EarlySuccess {
                    key: key.clone(),
                    arn: arn.to_owned(),
                    deferred,
                    cleaned: true,
                },
            );
            return;
        }
        let Some(svc) = self.service_rec(key) else {
            return;
        };
        svc.freeze_counts(arn);
        if let Some(e) = svc.history.iter_mut().find(|e| e.arn == arn) {
            e.status = ecs_model::types::ServiceDeploymentStatus::Successful;
            e.finished_at = Some(at);
            e.updated_at = at;
        }
    }

    /// Creates `n` tasks of the deployment as a PENDING batch and schedules their start.
    fn start_deployment_tasks(
        &mut self,
        at: SystemTime,
        key: &ServiceKey,
        deployment: &str,
        n: i32,
        stage: Stage,
    ) {
        let Some(spec) = self.deployment_task_spec(key, deployment) else {
            return;
        };
        let owner = Owner::Deployment {
            service: key.service.clone(),
            deployment: deployment.to_owned(),
        };
        let n = usize::try_from(n).unwrap_or(0);
        let ids = self.create_tasks(&key.cluster, owner, &spec, n, at);
        let Some(dep) = self
            .service_rec(key)
            .and_then(|s| s.deployments.iter_mut().find(|d| d.id == deployment))
        else {
            return;
        };
        let batch = dep.tasks.add(ids.clone());
        let due = self.schedule(
            at,
            stage,
            Event::DeploymentTasksStarted {
                key: key.clone(),
                deployment: deployment.to_owned(),
                batch,
            },
        );
        self.plan_start(&key.cluster, &ids, due);
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
        let threshold = (svc.desired_count.saturating_add(1) / 2).clamp(3, 200);
        let primary = svc.deployments.first().is_some_and(|d| d.id == deployment);
        let native = svc.native_gate(&deployment).is_some();
        let Some(dep) = svc.deployments.iter_mut().find(|d| d.id == deployment) else {
            return;
        };
        let ids = dep.tasks.take(batch);
        if ids.is_empty() {
            return;
        }
        if held && !fails {
            let batch = dep.tasks.add(ids.clone());
            let due = self.schedule(
                at,
                Stage::Retry,
                Event::DeploymentTasksStarted {
                    key: key.clone(),
                    deployment,
                    batch,
                },
            );
            self.plan_start(&key.cluster, &ids, due);
            return;
        }
        if !fails {
            dep.tasks.start(&ids);
            self.tasks_running(&key.cluster, &ids, at);
            self.deployment_launch(at, key, deployment);
            return;
        }
        let n = i32::try_from(ids.len()).unwrap_or(0);
        dep.failed = dep.failed.saturating_add(n);
        dep.updated_at = at;
        if !primary {
            // An older deployment starts nothing more, and its failures trip no breaker; the
            // room its tasks held is the PRIMARY deployment's again.
            self.tasks_failed(&key.cluster, &ids, at);
            let primary = self
                .service_rec(&key)
                .and_then(|s| s.deployments.first())
                .map(|d| d.id.clone());
            if let Some(deployment) = primary {
                self.schedule(at, Stage::Now, Event::DeploymentLaunch { key, deployment });
            }
            return;
        }
        let tripped = breaker.is_some() && dep.failed >= threshold;
        if tripped && native {
            // Observed (the Terraform provider's acceptance tests): a native deployment rolls
            // back, in these words.
            dep.rollout = DeploymentRolloutState::Failed;
            let cancelled = dep.tasks.clear_pending();
            let cause = StopCause::scaling(&dep.id);
            let failed = dep.failed;
            svc.service_deployment_failed(&deployment, failed, false, None, at);
            self.tasks_failed(&key.cluster, &ids, at);
            self.stop_tasks(&key.cluster, &cancelled, &cause, at);
            self.native_failed(
                &key,
                "Service deployment rolled back because the circuit breaker threshold was exceeded."
                    .to_owned(),
                at,
            );
            return;
        }
        let mut cancelled = vec![];
        if tripped {
            dep.rollout = DeploymentRolloutState::Failed;
            dep.rollout_reason = Some(format!(
                "ECS deployment circuit breaker: tasks failed to start ({} of a threshold of {threshold}).",
                dep.failed
            ));
            cancelled = dep.tasks.clear_pending();
        }
        let cause = StopCause::scaling(&dep.id);
        let failed = dep.failed;
        if !(tripped && breaker == Some(true)) {
            svc.service_deployment_failed(&deployment, failed, tripped, None, at);
        }
        self.tasks_failed(&key.cluster, &ids, at);
        self.stop_tasks(&key.cluster, &cancelled, &cause, at);
        match breaker {
            Some(true) if tripped => self.roll_back(at, key, None),
            _ if !tripped => {
                self.start_deployment_tasks(at, &key, &deployment, n, Stage::Retry);
            }
            _ => {}
        }
    }

    /// Brings the last completed deployment back as a new PRIMARY deployment; the failed one
    /// becomes ACTIVE and goes when the new one completes. `reason` is why, when not the
    /// circuit breaker.
    pub(super) fn roll_back(&mut self, at: SystemTime, key: ServiceKey, reason: Option<String>) {
        let id = format!(
            "ecs-svc/{}",
            self.rng
                .u64(1_000_000_000_000_000_000..=9_999_999_999_999_999_999)
        );
        let Some(svc) = self.service_rec(&key) else {
            return;
        };
        let (failed_id, failures) = svc
            .deployments
            .first()
            .map(|d| (d.id.clone(), d.failed))
            .unwrap_or_default();
        let Some((previous, revision)) = svc
            .deployments
            .iter()
            .skip(1)
            .find(|d| d.rollout == DeploymentRolloutState::Completed)
            .map(|d| (d.task_definition.clone(), d.revision.clone()))
        else {
            match reason {
                Some(_) => svc.service_deployment_rollback_failed(&failed_id, at),
                None => svc.service_deployment_failed(&failed_id, failures, true, None, at),
            }
            return;
        };
        svc.task_definition = previous;
        let groups = svc
            .deployments
            .iter()
            .skip(1)
            .find(|d| d.rollout == DeploymentRolloutState::Completed)
            .and_then(|d| d.load_balancers.clone());
        for d in &mut svc.deployments {
            d.status = DeploymentStatus::Active;
        }
        // AWS makes no new revision for a rollback: the last one that succeeded runs again.
        let mut fresh = DeploymentRecord::new(svc, id.clone(), svc.desired_count, at);
        fresh.revision = revision.clone();
        fresh.load_balancers = groups;
        match reason {
            Some(reason) => {
                svc.service_deployment_rolled_back(&failed_id, &id, &revision, reason, at)
            }
            None => svc.service_deployment_failed(
                &failed_id,
                failures,
                true,
                Some((&id, &revision)),
                at,
            ),
        }
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

    /// The PRIMARY deployment completes once all its tasks run (a native one goes on to its
    /// next stage).
    fn check_deployment(&mut self, at: SystemTime, key: ServiceKey, deployment: String) {
        let Some(svc) = self.service_rec(&key) else {
            return;
        };
        if svc.native_gate(&deployment).is_some() {
            self.drive_native(&key, at);
            return;
        }
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
        self.status != TaskSetStatus::Draining
            && self.recompute_due.is_none()
            && self.tasks.pending() == 0
            && self.tasks.running() == self.computed
    }
}

impl DeploymentRecord {
    fn converged(&self) -> bool {
        self.status == DeploymentStatus::Primary
            && self.tasks.pending() == 0
            && self.tasks.running() == self.desired
    }
}
