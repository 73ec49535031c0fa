//! The controller: a deployment as a plan of steps over one EXTERNAL service, driven from
//! what the service shows, so that it can be stopped at any point and run again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ecs_client::EcsClient;
use ecs_model::errors::DeleteTaskSetError;
use ecs_model::types::{
    CreateTaskSetRequest, DeleteTaskSetRequest, DeploymentControllerType, DescribeServicesRequest,
    DescribeTaskSetsRequest, Scale, Service, ServiceStatus, TaskSet, TaskSetField, TaskSetStatus,
    UpdateServicePrimaryTaskSetRequest, UpdateTaskSetRequest,
};
use ecs_model::{operations, DateTime, Decimal, Operation};
use tokio::time::Instant;
use tracing::Instrument;

use crate::event::Event;
use crate::id::{DeploymentId, EXTERNAL_ID_PREFIX};
use crate::observe::{id_of, is, judge, scale_of, Counts, Judgement, ServiceView, Target};
use crate::strategy::{Step, Strategy};

/// Task sets a service may hold at once, DRAINING ones included (the ECS quota "task sets
/// per service"; the sixth CreateTaskSet is refused, rule `ts.limit-per-service`).
pub const MAX_TASK_SETS: usize = 5;

/// Tag on the new task set naming the task set it replaces, so a resumed run knows which set
/// to retire or to restore after the switch.
pub const TAG_REPLACES: &str = "ecs-deploy:replaces";
/// Tag on the new task set holding the replaced set's scale, restored on rollback.
pub const TAG_REPLACES_SCALE: &str = "ecs-deploy:replaces-scale";

/// What to deploy where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// The cluster (name or ARN).
    pub cluster: String,
    /// The service (name or ARN); it must use the EXTERNAL deployment controller.
    pub service: String,
    /// The task definition of the new task set (`family`, `family:revision` or an ARN).
    pub task_definition: String,
    /// How the new set grows.
    pub strategy: Strategy,
    /// The deployment's id: the CreateTaskSet client token and the new set's label.
    pub id: DeploymentId,
}

impl Deployment {
    /// A deployment whose id is derived from the four values ([`DeploymentId::derive`]).
    pub fn new(
        cluster: impl Into<String>,
        service: impl Into<String>,
        task_definition: impl Into<String>,
        strategy: Strategy,
    ) -> Deployment {
        let (cluster, service, task_definition) =
            (cluster.into(), service.into(), task_definition.into());
        let id = DeploymentId::derive(&cluster, &service, &task_definition, &strategy.to_string());
        Deployment {
            cluster,
            service,
            task_definition,
            strategy,
            id,
        }
    }

    /// The same deployment under another id.
    pub fn with_id(mut self, id: DeploymentId) -> Deployment {
        self.id = id;
        self
    }
}

/// How long each stage may take, and how often the service is read while waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Between two reads of the service while waiting.
    pub poll_interval: Duration,
    /// Waiting for DRAINING task sets to go when the service is full.
    pub room: Duration,
    /// One step: from the scale change to the set settled.
    pub step: Duration,
    /// One answer of the health gate.
    pub gate: Duration,
    /// From UpdateServicePrimaryTaskSet to the new primary shown.
    pub switch: Duration,
    /// Retiring the old set: scaled to 0, deleted, gone.
    pub retire: Duration,
    /// The whole rollback.
    pub rollback: Duration,
}

impl Default for Timeouts {
    /// For AWS: a step of a large set may take many minutes (tasks start in tens of seconds,
    /// in batches), and a DRAINING set lingers while its targets deregister.
    fn default() -> Self {
        let min = |m: u64| Duration::from_secs(60 * m);
        Timeouts {
            poll_interval: Duration::from_secs(5),
            room: min(10),
            step: min(15),
            gate: min(5),
            switch: min(5),
            retire: min(15),
            rollback: min(15),
        }
    }
}

impl Timeouts {
    /// Every duration multiplied by `factor` (for an emulator running AWS's timing at a time
    /// scale).
    pub fn scaled(&self, factor: f64) -> Timeouts {
        let s = |d: Duration| d.mul_f64(factor.max(0.0));
        Timeouts {
            poll_interval: s(self.poll_interval),
            room: s(self.room),
            step: s(self.step),
            gate: s(self.gate),
            switch: s(self.switch),
            retire: s(self.retire),
            rollback: s(self.rollback),
        }
    }
}

/// What the health gate is asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateContext {
    /// The deployment id.
    pub deployment: String,
    /// Where: `step 2/5 at 40%`, or `after the switch`.
    pub at: String,
    /// The new task set.
    pub task_set: String,
    /// Its scale.
    pub percent: Decimal,
    /// Its counts as last read (settled).
    pub counts: Counts,
}

/// The health gate's answer: `Ok` to go on, `Err(reason)` to roll back.
pub type GateFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Gate = Arc<dyn Fn(GateContext) -> GateFuture + Send + Sync>;
type Listener = Arc<dyn Fn(&Event) + Send + Sync>;

/// Why a deployment did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The service does not exist (or is INACTIVE).
    #[error("service {service} not found in cluster {cluster}")]
    ServiceNotFound {
        /// The cluster.
        cluster: String,
        /// The service.
        service: String,
    },
    /// The service is not driven by the EXTERNAL deployment controller.
    #[error("service {service} uses the {controller} deployment controller; ecs-deploy drives EXTERNAL services")]
    NotExternal {
        /// The service.
        service: String,
        /// Its controller.
        controller: String,
    },
    /// A call failed and trying again would not help (or the stage's deadline passed while
    /// it kept failing).
    #[error("{source}")]
    Call {
        /// The operation.
        operation: &'static str,
        /// The client's error.
        #[source]
        source: ecs_client::Error,
    },
    /// A wait outlived its deadline.
    #[error("{what} did not happen within {}: last seen {last}", humantime::format_duration(Duration::from_millis(u64::try_from(.waited.as_millis()).unwrap_or(u64::MAX))))]
    Deadline {
        /// What was waited for.
        what: String,
        /// How long.
        waited: Duration,
        /// What the service showed last.
        last: String,
    },
    /// The health gate said no (or did not answer in time).
    #[error("health gate refused {at}: {reason}")]
    Gate {
        /// Where.
        at: String,
        /// Its reason.
        reason: String,
    },
    /// The service is full of task sets that are neither DRAINING nor ours to remove.
    #[error("service already holds {MAX_TASK_SETS} task sets and none is DRAINING or left over from ecs-deploy: {}", .task_sets.join(", "))]
    NoRoom {
        /// The task sets (`id status scale`).
        task_sets: Vec<String>,
    },
    /// A task set the deployment needs is gone or DRAINING (deleted by someone else).
    #[error("task set {task_set} was deleted while the deployment needed it")]
    Vanished {
        /// The task set.
        task_set: String,
    },
    /// A resumed run found this deployment's set already deleted: an earlier run was rolling
    /// back, and this one finished the rollback.
    #[error("an earlier run of this deployment was rolling back; the rollback is finished")]
    EarlierRollback,
    /// The rollback could not be finished.
    #[error("{cause}; then the rollback failed: {rollback}")]
    RollbackFailed {
        /// Why the rollback began.
        cause: Box<DeployError>,
        /// What stopped it.
        rollback: Box<DeployError>,
    },
}

/// How a deployment ended.
#[derive(Debug)]
pub enum Outcome {
    /// The new set is the primary at 100% and the old set is gone.
    Succeeded,
    /// The deployment was undone: the old set is the primary at its scale again and the new
    /// set is gone. Holds why.
    RolledBack(DeployError),
    /// The deployment stopped in a state that needs a person (or a re-run): the service could
    /// not be read or changed, the rollback failed, or a failure came after the point of no
    /// return (the switch and its gate passed, the old set being retired).
    Failed(DeployError),
}

/// What a run did.
#[derive(Debug)]
pub struct Report {
    /// The deployment id.
    pub deployment: DeploymentId,
    /// How it ended.
    pub outcome: Outcome,
    /// The new task set, once it existed.
    pub new_task_set: Option<String>,
    /// The task set it replaces, if the service had a primary one.
    pub old_task_set: Option<String>,
    /// Calls made to ECS (a call the client retried on its own counts once).
    pub api_calls: u32,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Report {
    /// The exit code a program reports: 0 succeeded, 3 rolled back, 1 failed.
    pub fn exit_code(&self) -> i32 {
        match self.outcome {
            Outcome::Succeeded => 0,
            Outcome::RolledBack(_) => 3,
            Outcome::Failed(_) => 1,
        }
    }
}

/// Runs deployments with one client, gate and listener.
#[derive(Clone)]
pub struct Deployer {
    client: EcsClient,
    timeouts: Timeouts,
    gate: Option<Gate>,
    listener: Option<Listener>,
}

impl std::fmt::Debug for Deployer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployer")
            .field("timeouts", &self.timeouts)
            .field("gate", &self.gate.is_some())
            .field("listener", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}

impl Deployer {
    /// A deployer over `client`, with the default timeouts, no gate and no listener.
    pub fn new(client: EcsClient) -> Deployer {
        Deployer {
            client,
            timeouts: Timeouts::default(),
            gate: None,
            listener: None,
        }
    }

    /// The stages' deadlines and the poll interval.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Deployer {
        self.timeouts = timeouts;
        self
    }

    /// The health gate, asked after each step settled and baked, and after the switch.
    /// `Err(reason)`, or no answer within [`Timeouts::gate`], rolls the deployment back.
    pub fn health_gate<F, Fut>(mut self, gate: F) -> Deployer
    where
        F: Fn(GateContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.gate = Some(Arc::new(move |cx| Box::pin(gate(cx))));
        self
    }

    /// A callback for every [`Event`] (they are also logged through `tracing`).
    pub fn on_event(mut self, listener: impl Fn(&Event) + Send + Sync + 'static) -> Deployer {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// Runs `deployment` to its end: success, rollback or failure. Running it again after a
    /// crash (or after the future was dropped) picks up from what the service shows.
    pub async fn run(&self, deployment: &Deployment) -> Report {
        let started = Instant::now();
        let span = tracing::info_span!(
            "deployment",
            id = %deployment.id,
            cluster = %deployment.cluster,
            service = %deployment.service,
            strategy = %deployment.strategy,
        );
        let mut run = Run {
            d: self,
            dep: deployment,
            calls: 0,
            new: None,
            old: None,
            old_scale: Decimal::ONE_HUNDRED,
        };
        let outcome = run.drive().instrument(span).await;
        match &outcome {
            Outcome::Succeeded => tracing::info!(deployment = %deployment.id, "succeeded"),
            Outcome::RolledBack(e) => {
                tracing::warn!(deployment = %deployment.id, "rolled back: {e}")
            }
            Outcome::Failed(e) => tracing::error!(deployment = %deployment.id, "failed: {e}"),
        }
        Report {
            deployment: deployment.id.clone(),
            outcome,
            new_task_set: run.new,
            old_task_set: run.old,
            api_calls: run.calls,
            elapsed: started.elapsed(),
        }
    }
}

/// One run's state: what it has learnt of the service so far.
struct Run<'a> {
    d: &'a Deployer,
    dep: &'a Deployment,
    calls: u32,
    new: Option<String>,
    old: Option<String>,
    old_scale: Decimal,
}

/// What one read of the service says about a wait.
enum Look<T> {
    /// Over, with what the wait answers.
    Done(T),
    /// Not yet: what was seen (for the deadline's message), and an event to send, if any.
    NotYet { last: String, event: Option<Event> },
}

/// What to do when a stage fails: undo, or stop.
enum Stop {
    Rollback(DeployError),
    Fail(DeployError),
}

impl Run<'_> {
    fn emit(&self, event: Event) {
        tracing::info!("{event}");
        if let Some(listener) = &self.d.listener {
            listener(&event);
        }
    }

    fn t(&self) -> &Timeouts {
        &self.d.timeouts
    }

    /// One call, tried again while it fails in a way that may pass and `deadline` allows.
    /// Every call ecs-deploy makes is harmless to repeat: reads, UpdateTaskSet and
    /// UpdateServicePrimaryTaskSet (they set a value), CreateTaskSet (it carries the client
    /// token), DeleteTaskSet (a second one finds the set DRAINING or gone).
    async fn call<T, F, Fut>(
        &mut self,
        operation: &'static str,
        deadline: Instant,
        mut f: F,
    ) -> Result<T, DeployError>
    where
        F: FnMut(EcsClient) -> Fut,
        Fut: Future<Output = Result<T, ecs_client::Error>>,
    {
        let mut backoff = self.t().poll_interval.min(Duration::from_secs(1));
        loop {
            self.calls += 1;
            match f(self.d.client.clone()).await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() && Instant::now() + backoff < deadline => {
                    self.emit(Event::Retrying {
                        operation,
                        error: e.to_string(),
                    });
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.t().poll_interval.max(backoff));
                }
                Err(source) => return Err(DeployError::Call { operation, source }),
            }
        }
    }

    /// One operation, through [`Run::call`].
    async fn send<O: Operation>(
        &mut self,
        input: O::Input,
        deadline: Instant,
    ) -> Result<O::Output, DeployError> {
        self.call(O::INFO.name, deadline, |c| {
            let input = input.clone();
            async move { c.send::<O>(input).await }
        })
        .await
    }

    /// The service as DescribeServices shows it now.
    async fn view(&mut self, deadline: Instant) -> Result<ServiceView, DeployError> {
        let req = DescribeServicesRequest {
            cluster: Some(self.dep.cluster.clone()),
            services: Some(vec![self.dep.service.clone()]),
            ..Default::default()
        };
        let answer = self
            .send::<operations::DescribeServices>(req, deadline)
            .await?;
        let found: Option<Service> = answer
            .services
            .unwrap_or_default()
            .into_iter()
            .find(|s| s.status != Some(ServiceStatus::INACTIVE));
        found
            .map(ServiceView::new)
            .ok_or_else(|| DeployError::ServiceNotFound {
                cluster: self.dep.cluster.clone(),
                service: self.dep.service.clone(),
            })
    }

    async fn drive(&mut self) -> Outcome {
        match self.plan().await {
            Ok(()) => Outcome::Succeeded,
            Err(Stop::Fail(e)) => Outcome::Failed(e),
            Err(Stop::Rollback(cause)) => {
                self.emit(Event::RollingBack {
                    reason: cause.to_string(),
                });
                match self.rollback().await {
                    Ok(()) => Outcome::RolledBack(cause),
                    Err(e) => Outcome::Failed(DeployError::RollbackFailed {
                        cause: Box::new(cause),
                        rollback: Box::new(e),
                    }),
                }
            }
        }
    }

    /// Reads the service, works out where this deployment stands, and goes on from there.
    async fn plan(&mut self) -> Result<(), Stop> {
        let deadline = Instant::now() + self.t().step;
        let view = self.view(deadline).await.map_err(Stop::Fail)?;
        if view.controller != Some(DeploymentControllerType::External) {
            return Err(Stop::Fail(DeployError::NotExternal {
                service: self.dep.service.clone(),
                // No controller shown means the default one, ECS.
                controller: view
                    .controller
                    .as_ref()
                    .map_or("ECS", |c| c.as_str())
                    .to_owned(),
            }));
        }
        let label = self.dep.id.external_id();
        let ours = view.labelled(&label).cloned();
        let steps = self.dep.strategy.steps();
        let Some(ours) = ours else {
            // A fresh start: the primary (if any) is what this deployment replaces.
            let primary = view.primary().cloned();
            self.old = primary.as_ref().map(id_of);
            self.old_scale = primary.as_ref().map_or(Decimal::ONE_HUNDRED, scale_of);
            self.emit(Event::Started {
                deployment: self.dep.id.to_string(),
                desired_count: view.desired,
                replacing: self.old.clone(),
                resumed: None,
            });
            let template = primary.clone().unwrap_or_else(|| view.launch_template());
            self.make_room(view).await?;
            let first = steps[0].percent;
            let (ours, since) = self.create(&template, first).await?;
            return self
                .steps_and_switch(ours, steps, 0, Some(first), Some(since))
                .await;
        };
        // An earlier run of this deployment got this far: find what it replaced.
        let ours_id = id_of(&ours);
        self.new = Some(ours_id.clone());
        let (old, old_scale) = self.recorded_old(&ours_id).await.map_err(Stop::Fail)?;
        self.old = old.or_else(|| view.primary().filter(|p| p.id != ours.id).map(id_of));
        self.old_scale = old_scale
            .or_else(|| self.old.as_deref().and_then(|o| view.set(o)).map(scale_of))
            .unwrap_or(Decimal::ONE_HUNDRED);
        let status = ours.status.as_ref().map_or("", |s| s.as_str()).to_owned();
        self.emit(Event::Started {
            deployment: self.dep.id.to_string(),
            desired_count: view.desired,
            replacing: self.old.clone(),
            resumed: Some(format!("{ours_id} is {status} at {}%", scale_of(&ours))),
        });
        if is(&ours, &TaskSetStatus::DRAINING) {
            return Err(Stop::Rollback(DeployError::EarlierRollback));
        }
        if is(&ours, &TaskSetStatus::PRIMARY) {
            let old_live = self
                .old
                .as_deref()
                .and_then(|o| view.set(o))
                .filter(|s| !is(s, &TaskSetStatus::DRAINING))
                .cloned();
            // Switched, the old set not yet touched: the gate after the switch again. Else
            // the retirement goes on where it stopped (scaled down, DRAINING, or gone).
            if old_live.is_some_and(|old| {
                scale_of(&old) == self.old_scale && self.old_scale > Decimal::ZERO
            }) {
                self.after_switch_gate(&ours_id, &view).await?;
            }
            return self.retire().await.map_err(Stop::Fail);
        }
        // ACTIVE: resume at the first step that is not below its scale.
        let at = scale_of(&ours);
        let first = steps
            .iter()
            .position(|s| s.percent >= at)
            .unwrap_or(steps.len() - 1);
        self.steps_and_switch(ours_id, steps, first, Some(at), None)
            .await
    }

    /// The set the deployment replaces and its scale, from the tags the first run wrote on
    /// the new set.
    async fn recorded_old(
        &mut self,
        ours: &str,
    ) -> Result<(Option<String>, Option<Decimal>), DeployError> {
        let deadline = Instant::now() + self.t().step;
        let req = DescribeTaskSetsRequest {
            cluster: Some(self.dep.cluster.clone()),
            service: Some(self.dep.service.clone()),
            task_sets: Some(vec![ours.to_owned()]),
            include: Some(vec![TaskSetField::Tags]),
            ..Default::default()
        };
        let answer = self
            .send::<operations::DescribeTaskSets>(req, deadline)
            .await?;
        let tags = answer
            .task_sets
            .unwrap_or_default()
            .into_iter()
            .next()
            .and_then(|s| s.tags)
            .unwrap_or_default();
        let tag = |key: &str| {
            tags.iter()
                .find(|t| t.key.as_deref() == Some(key))
                .and_then(|t| t.value.clone())
        };
        Ok((
            tag(TAG_REPLACES),
            tag(TAG_REPLACES_SCALE).and_then(|s| s.parse().ok()),
        ))
    }

    /// Makes room for one more task set: deletes sets left by earlier runs of ecs-deploy that
    /// are not the primary, and waits for DRAINING ones to go.
    async fn make_room(&mut self, mut view: ServiceView) -> Result<(), Stop> {
        let deadline = Instant::now() + self.t().room;
        let mut last_reported = None;
        loop {
            if view.sets.len() < MAX_TASK_SETS {
                return Ok(());
            }
            let leftovers: Vec<TaskSet> = view
                .sets
                .iter()
                .filter(|s| {
                    is(s, &TaskSetStatus::ACTIVE)
                        && s.external_id
                            .as_deref()
                            .is_some_and(|e| e.starts_with(EXTERNAL_ID_PREFIX))
                })
                .cloned()
                .collect();
            for set in &leftovers {
                let id = id_of(set);
                self.delete(&id, scale_of(set) > Decimal::ZERO, deadline)
                    .await
                    .map_err(Stop::Fail)?;
                self.emit(Event::RemovedLeftover {
                    task_set: id,
                    external_id: set.external_id.clone().unwrap_or_default(),
                });
            }
            let draining = view.draining() + leftovers.len();
            if draining == 0 {
                return Err(Stop::Fail(DeployError::NoRoom {
                    task_sets: view
                        .sets
                        .iter()
                        .map(|s| {
                            format!(
                                "{} {} {}%",
                                id_of(s),
                                s.status.as_ref().map_or("", |s| s.as_str()),
                                scale_of(s)
                            )
                        })
                        .collect(),
                }));
            }
            if last_reported != Some((view.sets.len(), draining)) {
                last_reported = Some((view.sets.len(), draining));
                self.emit(Event::WaitingForRoom {
                    task_sets: view.sets.len(),
                    draining,
                });
            }
            if Instant::now() >= deadline {
                return Err(Stop::Fail(DeployError::Deadline {
                    what: "room for a new task set".into(),
                    waited: self.t().room,
                    last: format!("{} task sets, {draining} DRAINING", view.sets.len()),
                }));
            }
            self.pause(deadline).await;
            view = self.view(deadline).await.map_err(Stop::Fail)?;
        }
    }

    async fn pause(&self, deadline: Instant) {
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(self.t().poll_interval.min(left)).await;
    }

    /// CreateTaskSet at `percent`, like `like` (the old primary) but for the task definition;
    /// answers the new set's id and `updatedAt`.
    async fn create(
        &mut self,
        like: &TaskSet,
        percent: Decimal,
    ) -> Result<(String, DateTime), Stop> {
        let deadline = Instant::now() + self.t().step;
        let capacity_provider_strategy = like
            .capacity_provider_strategy
            .clone()
            .filter(|l| !l.is_empty());
        let req = CreateTaskSetRequest {
            cluster: Some(self.dep.cluster.clone()),
            service: Some(self.dep.service.clone()),
            task_definition: Some(self.dep.task_definition.clone()),
            external_id: Some(self.dep.id.external_id()),
            client_token: Some(self.dep.id.to_string()),
            scale: Some(Scale::percent(percent)),
            network_configuration: like.network_configuration.clone(),
            load_balancers: like.load_balancers.clone().filter(|l| !l.is_empty()),
            service_registries: like.service_registries.clone().filter(|l| !l.is_empty()),
            // A launch type and a capacity provider strategy exclude each other.
            launch_type: like
                .launch_type
                .clone()
                .filter(|_| capacity_provider_strategy.is_none()),
            capacity_provider_strategy,
            platform_version: like.platform_version.clone(),
            tags: like.id.as_ref().map(|old| {
                vec![
                    tag(TAG_REPLACES, old),
                    tag(TAG_REPLACES_SCALE, &scale_of(like).to_string()),
                ]
            }),
            ..Default::default()
        };
        let answer = self
            .send::<operations::CreateTaskSet>(req, deadline)
            .await
            .map_err(Stop::Fail)?;
        let set = answer.task_set.unwrap_or_default();
        let id = id_of(&set);
        self.new = Some(id.clone());
        self.emit(Event::Created {
            task_set: id.clone(),
            percent,
        });
        // Deliberately not read: the answer's computedDesiredCount (0 for a new set).
        let since = set.updated_at.or(set.created_at);
        Ok((id, since.unwrap_or(DateTime::from_secs(0))))
    }

    async fn update_scale(
        &mut self,
        task_set: &str,
        percent: Decimal,
        deadline: Instant,
    ) -> Result<Option<DateTime>, DeployError> {
        let req = UpdateTaskSetRequest {
            cluster: Some(self.dep.cluster.clone()),
            service: Some(self.dep.service.clone()),
            task_set: Some(task_set.to_owned()),
            scale: Some(Scale::percent(percent)),
            ..Default::default()
        };
        let answer = self
            .send::<operations::UpdateTaskSet>(req, deadline)
            .await?;
        self.emit(Event::Scaled {
            task_set: task_set.to_owned(),
            percent,
        });
        Ok(answer.task_set.and_then(|s| s.updated_at))
    }

    async fn make_primary(&mut self, task_set: &str, deadline: Instant) -> Result<(), DeployError> {
        let req = UpdateServicePrimaryTaskSetRequest {
            cluster: Some(self.dep.cluster.clone()),
            service: Some(self.dep.service.clone()),
            primary_task_set: Some(task_set.to_owned()),
            ..Default::default()
        };
        self.send::<operations::UpdateServicePrimaryTaskSet>(req, deadline)
            .await?;
        Ok(())
    }

    async fn delete(
        &mut self,
        task_set: &str,
        force: bool,
        deadline: Instant,
    ) -> Result<(), DeployError> {
        let req = DeleteTaskSetRequest {
            cluster: Some(self.dep.cluster.clone()),
            service: Some(self.dep.service.clone()),
            task_set: Some(task_set.to_owned()),
            force: Some(force),
            ..Default::default()
        };
        let answer = self.send::<operations::DeleteTaskSet>(req, deadline).await;
        match answer {
            Ok(_) => {}
            // Deleted already (a repeat after an answer that was lost): nothing left to do.
            Err(DeployError::Call { source, .. })
                if source.operation_error::<operations::DeleteTaskSet>()
                    == Some(DeleteTaskSetError::TaskSetNotFoundException) => {}
            Err(e) => return Err(e),
        }
        self.emit(Event::Deleted {
            task_set: task_set.to_owned(),
            forced: force,
        });
        Ok(())
    }

    /// Reads the service every poll interval until `look` says the wait is over, or `budget`
    /// has passed ([`DeployError::Deadline`] naming `what` and what was seen last).
    async fn wait_until<T>(
        &mut self,
        what: String,
        budget: Duration,
        mut look: impl FnMut(ServiceView) -> Result<Look<T>, DeployError>,
    ) -> Result<T, DeployError> {
        let started = Instant::now();
        let deadline = started + budget;
        loop {
            let view = self.view(deadline).await?;
            let last = match look(view)? {
                Look::Done(value) => return Ok(value),
                Look::NotYet { last, event } => {
                    if let Some(event) = event {
                        self.emit(event);
                    }
                    last
                }
            };
            if Instant::now() >= deadline {
                return Err(DeployError::Deadline {
                    what,
                    waited: started.elapsed(),
                    last,
                });
            }
            self.pause(deadline).await;
        }
    }

    /// Polls until `task_set` has settled at `target`; answers the view that showed it.
    async fn settle(
        &mut self,
        task_set: &str,
        target: Target,
        step: Option<(usize, usize)>,
        budget: Duration,
    ) -> Result<(ServiceView, Counts), DeployError> {
        let mut shown: Option<(&'static str, Counts)> = None;
        let what = format!("{task_set} settling at {}%", target.percent);
        let (view, counts) = self
            .wait_until(what, budget, |view| {
                let set = view
                    .set(task_set)
                    .filter(|s| !is(s, &TaskSetStatus::DRAINING))
                    .ok_or_else(|| DeployError::Vanished {
                        task_set: task_set.to_owned(),
                    })?;
                let (judgement, counts) = judge(set, view.desired, &target);
                let Judgement::Waiting(why) = judgement else {
                    return Ok(Look::Done((view, counts)));
                };
                // An event only when what the set shows changes, not on every poll.
                let seen = Some((why, counts.clone()));
                let event = (shown != seen).then(|| Event::Waiting {
                    task_set: task_set.to_owned(),
                    why,
                    counts: counts.clone(),
                });
                shown = seen;
                Ok(Look::NotYet {
                    last: format!("{counts} ({why})"),
                    event,
                })
            })
            .await?;
        self.emit(Event::Settled {
            step,
            task_set: task_set.to_owned(),
            percent: target.percent,
            counts: counts.clone(),
        });
        Ok((view, counts))
    }

    /// Polls until `task_set` no longer shows on the service.
    async fn gone(&mut self, task_set: &str, budget: Duration) -> Result<(), DeployError> {
        self.wait_until(format!("{task_set} going away"), budget, |view| {
            Ok(match view.set(task_set) {
                None => Look::Done(()),
                Some(set) => Look::NotYet {
                    last: format!(
                        "{} with {:?} running",
                        set.status.as_ref().map_or("", |s| s.as_str()),
                        set.running_count
                    ),
                    event: None,
                },
            })
        })
        .await?;
        self.emit(Event::Gone {
            task_set: task_set.to_owned(),
        });
        Ok(())
    }

    async fn gate(
        &self,
        at: String,
        task_set: &str,
        percent: Decimal,
        counts: Counts,
    ) -> Result<(), DeployError> {
        if let Some(gate) = &self.d.gate {
            let cx = GateContext {
                deployment: self.dep.id.to_string(),
                at: at.clone(),
                task_set: task_set.to_owned(),
                percent,
                counts,
            };
            match tokio::time::timeout(self.t().gate, gate(cx)).await {
                Ok(Ok(())) => {}
                Ok(Err(reason)) => return Err(DeployError::Gate { at, reason }),
                Err(_) => {
                    return Err(DeployError::Gate {
                        at,
                        reason: format!(
                            "no answer within {}",
                            humantime::format_duration(self.t().gate)
                        ),
                    })
                }
            }
        }
        self.emit(Event::GatePassed { at });
        Ok(())
    }

    /// Steps `first..` of the strategy, then the switch and the retirement of the old set.
    async fn steps_and_switch(
        &mut self,
        ours: String,
        steps: Vec<Step>,
        first: usize,
        mut current: Option<Decimal>,
        mut since: Option<DateTime>,
    ) -> Result<(), Stop> {
        let n = steps.len();
        for (i, step) in steps.iter().enumerate().skip(first) {
            let span = tracing::info_span!("step", index = i + 1, of = n, percent = %step.percent);
            async {
                let deadline = Instant::now() + self.t().step;
                if current != Some(step.percent) {
                    since = self
                        .update_scale(&ours, step.percent, deadline)
                        .await
                        .map_err(Stop::Rollback)?;
                    current = Some(step.percent);
                }
                let target = Target {
                    percent: step.percent,
                    since,
                };
                let budget = deadline.saturating_duration_since(Instant::now());
                let (_, counts) = self
                    .settle(&ours, target, Some((i + 1, n)), budget)
                    .await
                    .map_err(Stop::Rollback)?;
                if !step.bake.is_zero() {
                    self.emit(Event::Baking {
                        step: i + 1,
                        duration: step.bake,
                    });
                    tokio::time::sleep(step.bake).await;
                }
                self.gate(
                    format!("at step {}/{n} ({}%)", i + 1, step.percent),
                    &ours,
                    step.percent,
                    counts,
                )
                .await
                .map_err(Stop::Rollback)
            }
            .instrument(span)
            .await?;
            since = None;
        }
        // The switch.
        let deadline = Instant::now() + self.t().switch;
        self.make_primary(&ours, deadline)
            .await
            .map_err(Stop::Rollback)?;
        let budget = deadline.saturating_duration_since(Instant::now());
        let what = format!("{ours} shown as the primary task set");
        let view = self
            .wait_until(what, budget, |view| match view.set(&ours) {
                Some(s) if is(s, &TaskSetStatus::PRIMARY) => Ok(Look::Done(view)),
                Some(s) if !is(s, &TaskSetStatus::DRAINING) => Ok(Look::NotYet {
                    last: "not PRIMARY yet".into(),
                    event: None,
                }),
                _ => Err(DeployError::Vanished {
                    task_set: ours.clone(),
                }),
            })
            .await
            .map_err(Stop::Rollback)?;
        self.emit(Event::Switched {
            primary: ours.clone(),
        });
        if self.old.is_some() {
            self.after_switch_gate(&ours, &view).await?;
        }
        self.retire().await.map_err(Stop::Fail)
    }

    async fn after_switch_gate(&mut self, ours: &str, view: &ServiceView) -> Result<(), Stop> {
        let set = view.set(ours).cloned().unwrap_or_default();
        let (_, counts) = judge(
            &set,
            view.desired,
            &Target {
                percent: Decimal::ONE_HUNDRED,
                since: None,
            },
        );
        self.gate(
            "after the switch".into(),
            ours,
            Decimal::ONE_HUNDRED,
            counts,
        )
        .await
        .map_err(Stop::Rollback)
    }

    /// The point of no return is behind: scale the old set to 0, delete it, wait until it is
    /// gone.
    async fn retire(&mut self) -> Result<(), DeployError> {
        let Some(old) = self.old.clone() else {
            return Ok(());
        };
        let deadline = Instant::now() + self.t().retire;
        let view = self.view(deadline).await?;
        let Some(set) = view.set(&old).cloned() else {
            return self.retire_gone().await;
        };
        if !is(&set, &TaskSetStatus::DRAINING) {
            self.emit(Event::Retiring {
                task_set: old.clone(),
            });
            let since = if scale_of(&set) != Decimal::ZERO {
                self.update_scale(&old, Decimal::ZERO, deadline).await?
            } else {
                None
            };
            let budget = deadline.saturating_duration_since(Instant::now());
            let (view, _) = self
                .settle(
                    &old,
                    Target {
                        percent: Decimal::ZERO,
                        since,
                    },
                    None,
                    budget,
                )
                .await?;
            let force = view.set(&old).is_some_and(|s| scale_of(s) > Decimal::ZERO);
            self.delete(&old, force, deadline).await?;
        }
        self.gone(&old, deadline.saturating_duration_since(Instant::now()))
            .await
    }

    async fn retire_gone(&mut self) -> Result<(), DeployError> {
        if let Some(old) = &self.old {
            self.emit(Event::Gone {
                task_set: old.clone(),
            });
        }
        Ok(())
    }

    /// Puts the old set back as the primary at its scale, deletes the new set and waits until
    /// it is gone and the old set is steady.
    async fn rollback(&mut self) -> Result<(), DeployError> {
        let started = Instant::now();
        let deadline = started + self.t().rollback;
        let view = self.view(deadline).await?;
        let ours = view.labelled(&self.dep.id.external_id()).cloned();
        if let Some(old) = self.old.clone() {
            let Some(old_set) = view
                .set(&old)
                .filter(|s| !is(s, &TaskSetStatus::DRAINING))
                .cloned()
            else {
                // Deleting the new set now would leave the service with nothing to run.
                return Err(DeployError::Vanished { task_set: old });
            };
            if !is(&old_set, &TaskSetStatus::PRIMARY) {
                self.make_primary(&old, deadline).await?;
                self.emit(Event::Restored {
                    primary: old.clone(),
                });
            }
            if scale_of(&old_set) != self.old_scale {
                let scale = self.old_scale;
                self.update_scale(&old, scale, deadline).await?;
            }
        }
        if let Some(ours) = &ours {
            let id = id_of(ours);
            self.new = Some(id.clone());
            if !is(ours, &TaskSetStatus::DRAINING) {
                self.delete(&id, scale_of(ours) > Decimal::ZERO, deadline)
                    .await?;
            }
            self.gone(&id, deadline.saturating_duration_since(Instant::now()))
                .await?;
        }
        if let Some(old) = self.old.clone() {
            let budget = deadline.saturating_duration_since(Instant::now());
            let target = Target {
                percent: self.old_scale,
                since: None,
            };
            self.settle(&old, target, None, budget).await?;
        }
        Ok(())
    }
}

fn tag(key: &str, value: &str) -> ecs_model::types::Tag {
    ecs_model::types::Tag {
        key: Some(key.to_owned()),
        value: Some(value.to_owned()),
        ..Default::default()
    }
}
