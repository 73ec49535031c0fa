//! Waiters, and the one judgement of "settled" they share with ecs-deploy.
//!
//! A task set has settled at a scale when one DescribeServices answer shows all of:
//!
//! 1. the scale asked for (the change has reached the answer at all);
//! 2. `computedDesiredCount` equal to `ceil(desiredCount x scale / 100)`, computed exactly on
//!    decimals from the desired count in the same answer;
//! 3. that many tasks running and none pending;
//! 4. `STEADY_STATE`;
//! 5. when the caller made the change, a `stabilityStatusAt` no earlier than the change's
//!    `updatedAt`, so a STEADY_STATE left from before the change is not taken for the new one.
//!
//! ECS answers are eventually consistent: right after UpdateTaskSet, DescribeServices may
//! still show the STEADY_STATE from before the recompute (rule
//! `ts.computed-desired-count.answer-before-recompute`). A waiter that returns on the first
//! STEADY_STATE returns on that stale answer; these do not ([`judge_task_set`]).
//!
//! Why not the `ServicesStable` waiter of the other SDKs: its success condition is that the
//! service has exactly one entry in `deployments` and `runningCount == desiredCount`. A
//! service with the EXTERNAL deployment controller reports its rollout as `taskSets`, and its
//! `deployments` list is empty, so the condition never holds and that waiter always times out.
//! [`ServicesStable`] judges each service by its controller.
//!
//! Waiters sleep on tokio's clock ([`tokio::time`]), so a test under paused time runs them
//! without waiting.

use std::future::Future;
use std::time::Duration;

use ecs_model::semantics::computed_desired_count;
use ecs_model::types::{
    DeploymentControllerType, DescribeServicesRequest, Service, StabilityStatus, TaskSet,
    TaskSetStatus,
};
use ecs_model::{operations, DateTime, Decimal};
use tokio::time::Instant;

use crate::{EcsClient, Error};

/// A task set's counts as one answer showed them, with the count expected of it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// `ceil(desiredCount x scale / 100)` for the scale waited for, computed exactly.
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

/// What a wait for a task set waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// The scale, in percent of the service's desired count.
    pub percent: Decimal,
    /// When the caller made the change (the `updatedAt` its UpdateTaskSet or CreateTaskSet
    /// answered); `None` when it does not know (a resumed process).
    pub since: Option<DateTime>,
}

/// Whether a task set has settled, and if not, why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// All five conditions hold.
    Settled,
    /// The first condition that does not hold.
    Waiting(&'static str),
}

/// The scale a task set shows, in percent (0 when the answer has none).
pub fn scale_of(set: &TaskSet) -> Decimal {
    set.scale
        .as_ref()
        .and_then(|s| s.value)
        .unwrap_or(Decimal::ZERO)
}

/// Whether `set` has settled at `target` in a service of `desired` tasks (the module's five
/// conditions), and the counts it shows.
pub fn judge_task_set(set: &TaskSet, desired: i32, target: &Target) -> (Judgement, Counts) {
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

/// Whether `service` is stable, judged by its deployment controller:
///
/// - task sets (EXTERNAL, CODE_DEPLOY, or any service that shows task sets): every live set
///   settled at its own scale ([`judge_task_set`]; a set updated at or after `after` must
///   show a steady state dated no earlier) and no DRAINING set left;
/// - deployments (ECS): one deployment, its `rolloutState` (when shown) COMPLETED,
///   `runningCount == desiredCount`, nothing pending, and, with `after`, the deployment
///   updated no earlier than it (an answer from before an UpdateService shows the old
///   deployment, stable).
///
/// `Err` is a state the service will not leave on its own (INACTIVE, DRAINING).
pub fn judge_service(service: &Service, after: Option<DateTime>) -> Result<Judgement, String> {
    let name = service.service_name.as_deref().unwrap_or("the service");
    match service.status.as_ref().map(|s| s.as_str()) {
        Some("INACTIVE") | Some("DRAINING") => {
            return Err(format!(
                "{name} is {} and will not become stable",
                service.status.as_ref().map_or("", |s| s.as_str())
            ))
        }
        _ => {}
    }
    let controller = service
        .deployment_controller
        .as_ref()
        .and_then(|d| d.r#type.clone())
        .unwrap_or(DeploymentControllerType::Ecs);
    let sets = service.task_sets.as_deref().unwrap_or_default();
    if controller != DeploymentControllerType::Ecs || !sets.is_empty() {
        let desired = service.desired_count.unwrap_or(0);
        for set in sets {
            if set.status.as_ref() == Some(&TaskSetStatus::Draining) {
                return Ok(Judgement::Waiting("a DRAINING task set is still draining"));
            }
            // Only a set the change touched must show a steady state dated after it; the
            // others keep their older date.
            let touched = matches!((after, set.updated_at), (Some(a), Some(u)) if u >= a);
            let target = Target {
                percent: scale_of(set),
                since: after.filter(|_| touched),
            };
            if let (Judgement::Waiting(why), _) = judge_task_set(set, desired, &target) {
                return Ok(Judgement::Waiting(why));
            }
        }
        return Ok(Judgement::Settled);
    }
    let deployments = service.deployments.as_deref().unwrap_or_default();
    let [deployment] = deployments else {
        return Ok(Judgement::Waiting(if deployments.is_empty() {
            "no deployment shown yet"
        } else {
            "more than one deployment (a rollout in progress)"
        }));
    };
    if deployment
        .rollout_state
        .as_ref()
        .is_some_and(|s| s.as_str() != "COMPLETED")
    {
        return Ok(Judgement::Waiting(
            "the deployment's rollout is not COMPLETED",
        ));
    }
    if service.running_count != service.desired_count || service.pending_count.unwrap_or(0) != 0 {
        return Ok(Judgement::Waiting("runningCount is not desiredCount yet"));
    }
    if matches!((after, deployment.updated_at), (Some(after), Some(at)) if at < after) {
        return Ok(Judgement::Waiting("the answer predates the change"));
    }
    Ok(Judgement::Settled)
}

/// How long and how often to poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaiterConfig {
    /// Give up after this long.
    pub max_wait: Duration,
    /// First delay between polls; doubled after each poll up to `max_delay`.
    pub min_delay: Duration,
    /// The longest delay between two polls.
    pub max_delay: Duration,
    /// How long a task set may be missing from the answers before it is taken for deleted
    /// (an answer right after a CreateTaskSet may not show the set yet).
    pub read_lag: Duration,
}

impl Default for WaiterConfig {
    fn default() -> Self {
        WaiterConfig {
            max_wait: Duration::from_secs(600),
            min_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(15),
            read_lag: Duration::from_secs(30),
        }
    }
}

/// Why waiting ended without success.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The deadline passed.
    #[error("{what} did not settle within {waited:?}: {why}")]
    Timeout {
        /// What was waited for (`task set ecs-svc/1 at 50%`, `services web, api`).
        what: String,
        /// How long it waited.
        waited: Duration,
        /// Why the last answer was not settled.
        why: String,
        /// The task set as last seen (task-set waits).
        last: Option<Box<TaskSet>>,
    },
    /// The task set was missing from the answers for longer than the read lag.
    #[error("task set {task_set} is no longer on service {service}")]
    Disappeared {
        /// The task set waited for.
        task_set: String,
        /// Its service.
        service: String,
        /// The task set as last seen, if it was.
        last: Option<Box<TaskSet>>,
    },
    /// The task set is DRAINING.
    #[error("task set {task_set} is DRAINING and will not settle")]
    Draining {
        /// The task set waited for.
        task_set: String,
        /// The task set as last seen.
        last: Box<TaskSet>,
    },
    /// A service is missing, INACTIVE or DRAINING.
    #[error("{0}")]
    Service(String),
    /// The waiter was not told what to wait for.
    #[error("the waiter needs {0}")]
    Incomplete(&'static str),
    /// A DescribeServices call failed.
    #[error(transparent)]
    Call(#[from] Error),
}

impl WaitError {
    /// The last task set seen before giving up, if any was.
    pub fn last_seen(&self) -> Option<&TaskSet> {
        match self {
            WaitError::Timeout { last, .. } | WaitError::Disappeared { last, .. } => {
                last.as_deref()
            }
            WaitError::Draining { last, .. } => Some(last),
            _ => None,
        }
    }
}

/// What one answer says about a wait.
pub(crate) enum Poll<T> {
    Done(T),
    Waiting(String),
}

/// Polls `fetch` until `look` says done or fails, sleeping on tokio's clock between polls
/// (exponential from `min_delay` to `max_delay`), for at most `max_wait`.
pub(crate) async fn poll<A, T, F, Fut>(
    config: &WaiterConfig,
    what: &str,
    mut fetch: F,
    mut look: impl FnMut(A) -> Result<Poll<T>, WaitError>,
    mut last_set: impl FnMut() -> Option<Box<TaskSet>>,
) -> Result<T, WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<A, Error>>,
{
    let started = Instant::now();
    // A zero delay would never grow: polls are at least this far apart.
    let floor = Duration::from_millis(1);
    let mut delay = config.min_delay.max(floor);
    loop {
        let why = match look(fetch().await?)? {
            Poll::Done(value) => return Ok(value),
            Poll::Waiting(why) => why,
        };
        let waited = started.elapsed();
        if waited >= config.max_wait {
            return Err(WaitError::Timeout {
                what: what.to_owned(),
                waited,
                why,
                last: last_set(),
            });
        }
        tokio::time::sleep(delay.min(config.max_wait - waited)).await;
        delay = delay
            .saturating_mul(2)
            .min(config.max_delay.max(config.min_delay).max(floor));
    }
}

/// A task set that settled, and the counts of the answer that showed it.
#[derive(Clone, Debug, PartialEq)]
pub struct Settled {
    /// The task set as that answer showed it.
    pub task_set: TaskSet,
    /// Its counts.
    pub counts: Counts,
}

/// Waits until a task set has settled ([`judge_task_set`]). From
/// [`EcsClient::wait_until_task_set_settled`].
#[derive(Debug)]
#[must_use = "a waiter does nothing until `send` is awaited"]
pub struct TaskSetSettled<'a> {
    client: &'a EcsClient,
    common: Common,
    service: Option<String>,
    task_set: Option<String>,
    scale: Option<Decimal>,
}

/// What both waiters take: the cluster, the date of the change, the deadline and delays.
#[derive(Debug, Default)]
struct Common {
    cluster: Option<String>,
    after: Option<DateTime>,
    config: WaiterConfig,
}

/// The setters both waiters share.
macro_rules! common_setters {
    () => {
        /// The cluster (name or ARN; the default cluster when not given).
        pub fn cluster(mut self, cluster: impl Into<String>) -> Self {
            self.common.cluster = Some(cluster.into());
            self
        }

        /// The date of the change waited for (the `updatedAt` its call answered): a settled
        /// state dated before it is not taken.
        pub fn after(mut self, updated_at: DateTime) -> Self {
            self.common.after = Some(updated_at);
            self
        }

        /// Deadline, delays and read lag.
        pub fn config(mut self, config: WaiterConfig) -> Self {
            self.common.config = config;
            self
        }

        /// Give up after `max_wait`.
        pub fn max_wait(mut self, max_wait: Duration) -> Self {
            self.common.config.max_wait = max_wait;
            self
        }
    };
}

impl<'a> TaskSetSettled<'a> {
    common_setters!();

    /// The service (name or ARN). Required.
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// The task set (id or ARN). Required.
    pub fn task_set(mut self, task_set: impl Into<String>) -> Self {
        self.task_set = Some(task_set.into());
        self
    }

    /// The scale to settle at, in percent; when not given, the scale each answer shows.
    pub fn scale(mut self, percent: impl Into<Decimal>) -> Self {
        self.scale = Some(percent.into());
        self
    }

    /// Polls DescribeServices until the task set has settled.
    pub async fn send(self) -> Result<Settled, WaitError> {
        let service = self
            .service
            .clone()
            .ok_or(WaitError::Incomplete("a service"))?;
        let task_set = self
            .task_set
            .clone()
            .ok_or(WaitError::Incomplete("a task set"))?;
        let what = match self.scale {
            Some(p) => format!("task set {task_set} at {p}%"),
            None => format!("task set {task_set}"),
        };
        let last: std::cell::RefCell<Option<Box<TaskSet>>> = Default::default();
        let mut missing_since: Option<Instant> = None;
        let request = DescribeServicesRequest::builder()
            .set_cluster(self.common.cluster.clone())
            .set_services(Some(vec![service.clone()]))
            .build();
        let client = self.client;
        poll(
            &self.common.config,
            &what,
            || client.send::<operations::DescribeServices>(request.clone()),
            |answer| {
                let Some(svc) = answer
                    .services
                    .unwrap_or_default()
                    .into_iter()
                    .find(|s| s.status.as_ref().is_none_or(|st| st.as_str() != "INACTIVE"))
                else {
                    return Err(WaitError::Service(format!(
                        "service {service} is missing or INACTIVE"
                    )));
                };
                let found = svc
                    .task_sets
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .find(|s| {
                        s.id.as_deref() == Some(task_set.as_str())
                            || s.task_set_arn.as_deref() == Some(task_set.as_str())
                    });
                let Some(set) = found else {
                    let since = *missing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.common.config.read_lag {
                        return Err(WaitError::Disappeared {
                            task_set: task_set.clone(),
                            service: service.clone(),
                            last: last.borrow_mut().take(),
                        });
                    }
                    return Ok(Poll::Waiting("the task set is not shown (yet)".into()));
                };
                missing_since = None;
                if set.status.as_ref() == Some(&TaskSetStatus::Draining) {
                    return Err(WaitError::Draining {
                        task_set: task_set.clone(),
                        last: Box::new(set),
                    });
                }
                let target = Target {
                    percent: self.scale.unwrap_or_else(|| scale_of(&set)),
                    since: self.common.after,
                };
                let (judgement, counts) =
                    judge_task_set(&set, svc.desired_count.unwrap_or(0), &target);
                match judgement {
                    Judgement::Settled => Ok(Poll::Done(Settled {
                        task_set: set,
                        counts,
                    })),
                    Judgement::Waiting(why) => {
                        *last.borrow_mut() = Some(Box::new(set));
                        Ok(Poll::Waiting(format!("{why} ({counts})")))
                    }
                }
            },
            || last.borrow_mut().take(),
        )
        .await
    }
}

/// Waits until services are stable ([`judge_service`]). From
/// [`EcsClient::wait_until_services_stable`].
#[derive(Debug)]
#[must_use = "a waiter does nothing until `send` is awaited"]
pub struct ServicesStable<'a> {
    client: &'a EcsClient,
    common: Common,
    services: Vec<String>,
}

impl<'a> ServicesStable<'a> {
    common_setters!();

    /// One more service (name or ARN); at least one is required, at most 10 (one
    /// DescribeServices call).
    pub fn services(mut self, service: impl Into<String>) -> Self {
        self.services.push(service.into());
        self
    }

    /// Polls DescribeServices until every service is stable; answers them as last shown.
    pub async fn send(self) -> Result<Vec<Service>, WaitError> {
        if self.services.is_empty() {
            return Err(WaitError::Incomplete("at least one service"));
        }
        if self.services.len() > 10 {
            return Err(WaitError::Incomplete(
                "at most 10 services (one DescribeServices call)",
            ));
        }
        let what = format!("services {}", self.services.join(", "));
        let request = DescribeServicesRequest::builder()
            .set_cluster(self.common.cluster.clone())
            .set_services(Some(self.services.clone()))
            .build();
        let client = self.client;
        let after = self.common.after;
        poll(
            &self.common.config,
            &what,
            || client.send::<operations::DescribeServices>(request.clone()),
            |answer| {
                if let Some(failure) = answer.failures.as_deref().unwrap_or_default().first() {
                    return Err(WaitError::Service(format!(
                        "service {} is {}",
                        failure.arn.as_deref().unwrap_or("?"),
                        failure.reason.as_deref().unwrap_or("not found")
                    )));
                }
                let services = answer.services.unwrap_or_default();
                for service in &services {
                    if let Judgement::Waiting(why) =
                        judge_service(service, after).map_err(WaitError::Service)?
                    {
                        let name = service.service_name.as_deref().unwrap_or("?");
                        return Ok(Poll::Waiting(format!("{name}: {why}")));
                    }
                }
                Ok(Poll::Done(services))
            },
            || None,
        )
        .await
    }
}

impl EcsClient {
    /// A waiter for a task set to settle at its scale: the count asked for computed exactly,
    /// that many running, none pending, STEADY_STATE, and (with `.after(updated_at)`) a
    /// steady state dated no earlier than the change.
    ///
    /// ```no_run
    /// # async fn f(ecs: ecs_client::EcsClient, updated_at: ecs_model::DateTime) -> Result<(), ecs_client::WaitError> {
    /// let settled = ecs
    ///     .wait_until_task_set_settled()
    ///     .cluster("prod")
    ///     .service("web")
    ///     .task_set("ecs-svc/1234567890123456789")
    ///     .scale(20)
    ///     .after(updated_at)
    ///     .send()
    ///     .await?;
    /// println!("{}", settled.counts);
    /// # Ok(()) }
    /// ```
    pub fn wait_until_task_set_settled(&self) -> TaskSetSettled<'_> {
        TaskSetSettled {
            client: self,
            common: Common::default(),
            service: None,
            task_set: None,
            scale: None,
        }
    }

    /// A waiter for services to be stable, each judged by its deployment controller
    /// (deployments for ECS, task sets for EXTERNAL and CODE_DEPLOY).
    pub fn wait_until_services_stable(&self) -> ServicesStable<'_> {
        ServicesStable {
            client: self,
            common: Common::default(),
            services: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ecs_model::types::Scale;

    fn set(scale: i32, computed: i32, running: i32, steady: bool, at: i64) -> TaskSet {
        TaskSet::builder()
            .id("ecs-svc/1")
            .status(TaskSetStatus::Active)
            .scale(Scale::percent(scale))
            .computed_desired_count(computed)
            .running_count(running)
            .pending_count(0)
            .stability_status(if steady {
                StabilityStatus::SteadyState
            } else {
                StabilityStatus::Stabilizing
            })
            .stability_status_at(DateTime::from_secs(at))
            .build()
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
        let settled = set(20, 10, 10, true, 120);
        assert_eq!(judge_task_set(&settled, 50, &t).0, Judgement::Settled);
        assert_eq!(judge_task_set(&settled, 50, &t).1.expected, 10);
        let mut pending = set(20, 10, 4, false, 110);
        pending.pending_count = Some(6);
        for (case, why) in [
            (set(0, 0, 0, true, 120), "the new scale is not shown yet"),
            // The answer of UpdateTaskSet: the scale is new, the count is the old one.
            (
                set(20, 0, 0, true, 90),
                "computedDesiredCount is not recomputed yet",
            ),
            (pending, "tasks are starting or stopping"),
            (set(20, 10, 10, false, 110), "the set is not STEADY_STATE"),
            (
                set(20, 10, 10, true, 90),
                "the steady state shown predates the change",
            ),
        ] {
            assert_eq!(judge_task_set(&case, 50, &t).0, Judgement::Waiting(why));
        }
        // Resumed (the change was made by an earlier process): the date cannot be compared.
        assert_eq!(
            judge_task_set(&set(20, 10, 10, true, 90), 50, &target(20, None)).0,
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
        let mut s = set(0, 1, 1, true, 0);
        s.scale = Some(Scale::percent(t.percent));
        assert_eq!(
            judge_task_set(&s, 3, &t),
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

    /// The poll loop on tokio's clock: under paused time, a wait of three polls 60 s apart
    /// takes no real time, skips the stale STEADY_STATE that comes first, and its virtual
    /// elapsed time is the sum of its delays.
    #[tokio::test(start_paused = true)]
    async fn the_poll_loop_runs_under_paused_time_and_skips_a_stale_steady_state() {
        let answers = std::cell::RefCell::new(
            vec![
                // Stale: scale 50 shown, the count from before (2 of 10), STEADY_STATE.
                set(50, 2, 2, true, 90),
                set(50, 5, 3, false, 105),
                set(50, 5, 5, true, 130),
            ]
            .into_iter(),
        );
        let config = WaiterConfig {
            max_wait: Duration::from_secs(3600),
            min_delay: Duration::from_secs(60),
            max_delay: Duration::from_secs(60),
            read_lag: Duration::from_secs(30),
        };
        let polls = std::cell::Cell::new(0);
        let started = Instant::now();
        let real = std::time::Instant::now();
        let settled = poll(
            &config,
            "task set ecs-svc/1",
            || {
                polls.set(polls.get() + 1);
                let next = answers.borrow_mut().next();
                async move { Ok::<_, Error>(next) }
            },
            |answer: Option<TaskSet>| {
                let set = answer.unwrap();
                match judge_task_set(&set, 10, &target(50, Some(100))) {
                    (Judgement::Settled, _) => Ok(Poll::Done(set)),
                    (Judgement::Waiting(why), _) => Ok(Poll::Waiting(why.into())),
                }
            },
            || None,
        )
        .await
        .unwrap();
        assert_eq!(settled.running_count, Some(5));
        assert_eq!(polls.get(), 3);
        assert_eq!(started.elapsed(), Duration::from_secs(120));
        assert!(real.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn the_poll_loop_gives_up_at_its_deadline_with_the_last_reason() {
        let config = WaiterConfig {
            max_wait: Duration::from_secs(100),
            min_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(60),
            read_lag: Duration::from_secs(30),
        };
        let started = Instant::now();
        let err = poll(
            &config,
            "task set ecs-svc/1",
            || async { Ok::<_, Error>(()) },
            |()| Ok::<Poll<()>, _>(Poll::Waiting("the set is not STEADY_STATE".into())),
            || None,
        )
        .await
        .unwrap_err();
        // Polls at 0, 30, 90 and 100 (the deadline).
        assert_eq!(started.elapsed(), Duration::from_secs(100));
        let WaitError::Timeout { why, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(why, "the set is not STEADY_STATE");
    }
}
