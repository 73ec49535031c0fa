//! The controller: a deployment as a plan of steps over one EXTERNAL service, driven from
//! what the service shows, so that it can be stopped at any point and run again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ecs_client::EcsClient;
use ecs_model::errors::DeleteTaskSetError;
use ecs_model::types::{
    CreateTaskSetRequest, DeleteTaskSetRequest, DeploymentControllerType, DescribeServicesRequest,
    DescribeServicesResponse, DescribeTaskDefinitionRequest, DescribeTaskSetsRequest, LoadBalancer,
    Scale, ServiceField, ServiceStatus, TagResourceRequest, TaskSet, TaskSetField, TaskSetStatus,
    UntagResourceRequest, UpdateServicePrimaryTaskSetRequest, UpdateTaskSetRequest,
};
use ecs_model::{operations, DateTime, Decimal, Operation};
use tokio::time::Instant;
use tracing::Instrument;

use crate::event::Event;
use crate::id::{DeploymentId, EXTERNAL_ID_PREFIX};
use crate::lease::{self, Lease, RollbackRecord, TAG_ABORT, TAG_LEASE, TAG_ROLLED_BACK};
use crate::observe::{id_of, is, judge, scale_of, Counts, Judgement, ServiceView, Target};
use crate::strategy::{Step, Strategy};
use crate::traffic::{self, Route, Traffic, Weights};
use ecs_model::elbv2::{operations as elb, types as elbt};
use ecs_model::query::QueryOperation;

/// Task sets a service may hold at once, DRAINING ones included (the ECS quota "task sets
/// per service"; the sixth CreateTaskSet is refused, rule `ts.limit-per-service`).
pub const MAX_TASK_SETS: usize = 5;

/// Tag on the new task set naming the task set it replaces, so a resumed run knows which set
/// to retire or to restore after the switch.
pub const TAG_REPLACES: &str = "ecs-deploy:replaces";
/// Tag on the new task set holding the replaced set's scale, restored on rollback.
pub const TAG_REPLACES_SCALE: &str = "ecs-deploy:replaces-scale";
/// Tag on the new task set holding the production forward's weights at the start (`old/new`),
/// restored on rollback.
pub const TAG_WEIGHTS_BEFORE: &str = "ecs-deploy:weights-before";
/// Tag on the new task set naming the production listener (or rule) traffic moves through, so
/// that a resume or an abort without the traffic options still puts the weights back.
pub const TAG_LISTENER: &str = "ecs-deploy:listener";
/// Tag on the new task set naming the test listener, when there is one.
pub const TAG_TEST_LISTENER: &str = "ecs-deploy:test-listener";

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
    /// The deployment's id: the CreateTaskSet client token and the new set's label. A
    /// derived id ([`Deployment::new`]) is derived again, when the run starts, from the
    /// revision the task definition resolves to, so `web` names a new deployment once
    /// `web:2` is registered.
    pub id: DeploymentId,
    /// Whether `id` was derived (and is derived again from the resolved revision).
    derived_id: bool,
    /// The listener whose weights move with the steps, and the target groups
    /// ([`crate::traffic`]); `None`: only capacity moves, and the new set takes the old
    /// set's load balancers.
    pub traffic: Option<Traffic>,
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
            derived_id: true,
            traffic: None,
        }
    }

    /// The same deployment shifting traffic through `traffic`'s listener.
    pub fn with_traffic(mut self, traffic: Traffic) -> Deployment {
        self.traffic = Some(traffic);
        self
    }

    /// The same deployment under another id, used as given.
    pub fn with_id(mut self, id: DeploymentId) -> Deployment {
        self.id = id;
        self.derived_id = false;
        self
    }

    /// The id of this deployment once its task definition resolves to `arn`.
    fn id_for(&self, arn: &str) -> DeploymentId {
        if self.derived_id {
            DeploymentId::derive(
                &self.cluster,
                &self.service,
                arn,
                &self.strategy.to_string(),
            )
        } else {
            self.id.clone()
        }
    }

    /// Whether the id was derived rather than given.
    pub fn derived_id(&self) -> bool {
        self.derived_id
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
    /// How long a task set may be missing from the service's answers before it is taken for
    /// deleted: ECS reads are eventually consistent, and an answer right after a change may
    /// not show it yet.
    pub read_lag: Duration,
    /// How long the lease on the service lasts unless renewed (it is renewed while the run
    /// waits, once less than half is left).
    pub lease_ttl: Duration,
    /// How long a run waits for another run's lease to be released or to lapse before it
    /// stops ([`DeployError::Leased`]).
    pub lease_wait: Duration,
}

/// The shortest poll interval [`Timeouts::validate`] accepts.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(10);
/// The longest deadline [`Timeouts::validate`] accepts: a week.
pub const MAX_DEADLINE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

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
            read_lag: Duration::from_secs(30),
            lease_ttl: min(2),
            lease_wait: min(3),
        }
    }
}

impl Timeouts {
    /// Every duration multiplied by `factor` (for an emulator running AWS's timing at a time
    /// scale). Saturates: a factor that is not a finite number above 0 gives zero or
    /// [`Duration::MAX`], which [`Timeouts::validate`] then refuses; it never panics.
    pub fn scaled(&self, factor: f64) -> Timeouts {
        let s = |d: Duration| {
            let secs = d.as_secs_f64() * factor;
            if secs.is_nan() || secs <= 0.0 {
                Duration::ZERO
            } else {
                Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
            }
        };
        let mut t = *self;
        for d in t.all_mut() {
            *d = s(*d);
        }
        t
    }

    fn all(&self) -> [Duration; 10] {
        [
            self.poll_interval,
            self.room,
            self.step,
            self.gate,
            self.switch,
            self.retire,
            self.rollback,
            self.read_lag,
            self.lease_ttl,
            self.lease_wait,
        ]
    }

    fn all_mut(&mut self) -> [&mut Duration; 10] {
        [
            &mut self.poll_interval,
            &mut self.room,
            &mut self.step,
            &mut self.gate,
            &mut self.switch,
            &mut self.retire,
            &mut self.rollback,
            &mut self.read_lag,
            &mut self.lease_ttl,
            &mut self.lease_wait,
        ]
    }

    /// Whether a run can use these: a poll interval of at least [`MIN_POLL_INTERVAL`] and
    /// every duration at most [`MAX_DEADLINE`], the lease's lifetime longer than two poll
    /// intervals (it is renewed while waiting).
    pub fn validate(&self) -> Result<(), DeployError> {
        let names = [
            "poll interval",
            "room deadline",
            "step deadline",
            "health-gate deadline",
            "switch deadline",
            "retirement deadline",
            "rollback deadline",
            "read lag",
            "lease lifetime",
            "lease wait",
        ];
        let invalid = |what: String| Err(DeployError::Invalid { what });
        let fmt = |d: Duration| humantime::format_duration(d).to_string();
        for (name, d) in names.iter().zip(self.all()) {
            if d > MAX_DEADLINE {
                return invalid(format!(
                    "the {name} of {} is longer than the limit of {}",
                    fmt(d),
                    fmt(MAX_DEADLINE)
                ));
            }
        }
        if self.poll_interval < MIN_POLL_INTERVAL {
            return invalid(format!(
                "the poll interval of {} is shorter than {}",
                fmt(self.poll_interval),
                fmt(MIN_POLL_INTERVAL)
            ));
        }
        if self.lease_ttl <= self.poll_interval.saturating_mul(2) {
            return invalid(format!(
                "the lease lifetime of {} is not longer than two poll intervals ({} each)",
                fmt(self.lease_ttl),
                fmt(self.poll_interval)
            ));
        }
        Ok(())
    }
}

/// `now + d`, or a far instant when that does not fit (never a panic).
fn later(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .or_else(|| now.checked_add(MAX_DEADLINE))
        .unwrap_or(now)
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
    /// A resumed run found that an earlier run of this deployment had begun to roll back (the
    /// service's [`crate::lease::TAG_ROLLED_BACK`] names it, or its set was already deleted);
    /// this run finished the rollback. A rolled-back deployment is not run forward again:
    /// deploy the revision again under a new id.
    #[error("an earlier run of this deployment was rolling back{}; the rollback is finished (to deploy this revision again, give the deployment a new id)", .reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    EarlierRollback {
        /// The reason the earlier run recorded, when it got to record one.
        reason: Option<String>,
    },
    /// The traffic configuration does not fit the load balancer or the service (a listener
    /// without a forward to the groups, no group to take traffic from); nothing was changed.
    #[error("traffic: {what}")]
    Traffic {
        /// What does not fit.
        what: String,
    },
    /// A value given to the deployment is out of bounds (a strategy, a deadline); nothing was
    /// called.
    #[error("invalid deployment: {what}")]
    Invalid {
        /// What, and the bound.
        what: String,
    },
    /// The deployment id is already the label of a task set of another task definition: an
    /// explicit id used again for a different revision.
    #[error("deployment id {deployment} already labels task set {task_set} of {found}, not {wanted}; give this deployment an id of its own")]
    IdInUse {
        /// The id.
        deployment: String,
        /// The task set it labels.
        task_set: String,
        /// That set's task definition.
        found: String,
        /// The task definition this deployment resolves to.
        wanted: String,
    },
    /// Another run holds the service's lease ([`crate::lease::TAG_LEASE`]) and did not release
    /// it within [`Timeouts::lease_wait`]. Nothing was changed.
    #[error("another ecs-deploy run ({owner}, deployment {deployment}) holds service {service} until {until}; wait for it, or `ecs-deploy abort` it")]
    Leased {
        /// The service.
        service: String,
        /// The holder's deployment.
        deployment: String,
        /// The holding run.
        owner: String,
        /// When its lease lapses unless renewed (RFC 3339).
        until: String,
    },
    /// This run's lease was taken over by another run (this run's lapsed while it could not
    /// renew it). The run stops without another change.
    #[error("the lease on service {service} is now held by {owner} (deployment {deployment}); this run stopped changing it")]
    LeaseLost {
        /// The service.
        service: String,
        /// The new holder's deployment.
        deployment: String,
        /// The new holder.
        owner: String,
    },
    /// This run's lease lapsed before it could renew it: another run may have held the
    /// service meanwhile. The run stops without another change; run it again to resume.
    #[error("this run's lease on service {service} lapsed before it was renewed; it stopped changing the service (run it again to resume)")]
    LeaseLapsed {
        /// The service.
        service: String,
    },
    /// `ecs-deploy abort` (or [`Deployer::roll_back`]) asked for a rollback.
    #[error("aborted by {by}")]
    Aborted {
        /// Who asked.
        by: String,
    },
    /// An abort came after the point of no return: the new set is the primary and the old
    /// one is being retired; a re-run finishes the retirement.
    #[error("the deployment is past the point of no return ({task_set} is the primary and the old set is being retired); run it again to finish")]
    PastNoReturn {
        /// The new primary.
        task_set: String,
    },
    /// There is nothing of this deployment on the service to roll back.
    #[error("no task set of deployment {deployment} on the service: nothing to roll back")]
    NothingToRollBack {
        /// The deployment id.
        deployment: String,
    },
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
    /// The report of a deployment that failed before its run started (its task definition
    /// could not be resolved, say): no call of a run, nothing changed.
    pub fn failed_before_start(deployment: &Deployment, error: DeployError) -> Report {
        Report {
            deployment: deployment.id.clone(),
            outcome: Outcome::Failed(error),
            new_task_set: None,
            old_task_set: None,
            api_calls: 0,
            elapsed: Duration::ZERO,
        }
    }

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
///
/// Each run writes its own name in the service's lease ([`crate::lease::TAG_LEASE`]): the
/// deployer's name and a run number, so two runs exclude each other whether they come from one
/// deployer (or its clones) or two. A run of the same deployer for the same deployment takes
/// over the lease of one that was dropped (the rollback after an interrupt) without waiting
/// for it to lapse.
#[derive(Clone)]
pub struct Deployer {
    client: EcsClient,
    timeouts: Timeouts,
    gate: Option<Gate>,
    listener: Option<Listener>,
    owner: String,
    runs: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Deployer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployer")
            .field("timeouts", &self.timeouts)
            .field("gate", &self.gate.is_some())
            .field("listener", &self.listener.is_some())
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// What a run is asked to do.
#[derive(Clone, Debug)]
enum Mode {
    /// Go forward (or resume forward).
    Deploy,
    /// Undo what the deployment did, up to the point of no return.
    RollBack { by: String },
}

impl Deployer {
    /// A deployer over `client`, with the default timeouts, no gate and no listener.
    pub fn new(client: EcsClient) -> Deployer {
        Deployer {
            client,
            timeouts: Timeouts::default(),
            gate: None,
            listener: None,
            owner: lease::new_owner(),
            runs: Arc::default(),
        }
    }

    /// The stages' deadlines and the poll interval (checked when a run starts:
    /// [`Timeouts::validate`]).
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

    /// The name this deployer's runs write in a service's lease, before their run number
    /// (`host/pid/nonce`).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The client this deployer calls ECS with.
    pub fn client(&self) -> &EcsClient {
        &self.client
    }

    /// `deployment` with its task definition resolved to a revision's ARN (a family names its
    /// latest ACTIVE revision) and, when its id was derived, the id derived from that
    /// revision: the deployment a run of `deployment` would make now. Running the answer
    /// (after an interrupt, say) names the same deployment even if a newer revision has been
    /// registered since.
    pub async fn resolve(&self, deployment: &Deployment) -> Result<Deployment, DeployError> {
        let mut run = self.new_run(deployment, Mode::Deploy);
        run.resolve(later(self.timeouts.step)).await?;
        Ok(Deployment {
            id: run.id,
            task_definition: run.task_definition,
            derived_id: false,
            ..deployment.clone()
        })
    }

    /// Runs `deployment` to its end: success, rollback or failure. Running it again after a
    /// crash (or after the future was dropped) picks up from what the service shows.
    pub async fn run(&self, deployment: &Deployment) -> Report {
        self.start(deployment, Mode::Deploy).await
    }

    /// Rolls `deployment` back from wherever it stands, as a failed gate would: the old set
    /// primary again at its scale, the new set deleted. Refused past the point of no return
    /// ([`DeployError::PastNoReturn`]) and when the service holds nothing of the deployment
    /// ([`DeployError::NothingToRollBack`]). `by` is who asked, for the report.
    pub async fn roll_back(&self, deployment: &Deployment, by: &str) -> Report {
        self.start(deployment, Mode::RollBack { by: by.to_owned() })
            .await
    }

    /// A run of `deployment` that has learnt nothing yet, with a run number of its own.
    fn new_run<'a>(&'a self, deployment: &'a Deployment, mode: Mode) -> Run<'a> {
        Run {
            d: self,
            dep: deployment,
            id: deployment.id.clone(),
            task_definition: deployment.task_definition.clone(),
            mode,
            calls: 0,
            new: None,
            old: None,
            old_scale: Decimal::ONE_HUNDRED,
            service_arn: None,
            owner: format!(
                "{}.{}",
                self.owner,
                self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ),
            lease_until: None,
            lease_held: false,
            rolling_back: false,
            past_no_return: false,
            traffic: None,
            healthy_targets: 0,
        }
    }

    /// One operation, sent once (the client's own retries apply); for the calls made outside
    /// a run ([`Deployer::status`], [`Deployer::request_abort`]).
    pub(crate) async fn send_once<O: Operation>(
        &self,
        input: O::Input,
    ) -> Result<O::Output, DeployError> {
        self.client
            .send::<O>(input)
            .await
            .map_err(|source| DeployError::Call {
                operation: O::INFO.name,
                source,
            })
    }

    async fn start(&self, deployment: &Deployment, mode: Mode) -> Report {
        let started = Instant::now();
        let span = tracing::info_span!(
            "deployment",
            given_id = %deployment.id,
            cluster = %deployment.cluster,
            service = %deployment.service,
            strategy = %deployment.strategy,
        );
        let mut run = self.new_run(deployment, mode);
        let outcome = async {
            let outcome = run.drive().await;
            run.release().await;
            outcome
        }
        .instrument(span)
        .await;
        match &outcome {
            Outcome::Succeeded => tracing::info!(deployment = %run.id, "succeeded"),
            Outcome::RolledBack(e) => {
                tracing::warn!(deployment = %run.id, "rolled back: {e}")
            }
            Outcome::Failed(e) => tracing::error!(deployment = %run.id, "failed: {e}"),
        }
        Report {
            deployment: run.id.clone(),
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
    /// The deployment id, derived again from the resolved revision when it was derived.
    id: DeploymentId,
    /// The task definition, resolved to a revision's ARN before anything is created.
    task_definition: String,
    mode: Mode,
    calls: u32,
    new: Option<String>,
    old: Option<String>,
    old_scale: Decimal,
    service_arn: Option<String>,
    /// This run's name in the lease: the deployer's and a run number.
    owner: String,
    /// When the lease this run wrote lapses, by this process's clock.
    lease_until: Option<SystemTime>,
    /// Whether this run holds the service's lease (confirmed by a read after writing it).
    lease_held: bool,
    rolling_back: bool,
    /// The switch and its gate passed: what is left is the retirement, never undone.
    past_no_return: bool,
    /// The listeners and groups traffic moves through, once resolved.
    traffic: Option<Routes>,
    /// How many targets of the new set the last health check asked for.
    healthy_targets: i32,
}

/// Traffic as resolved for one run.
#[derive(Clone, Debug)]
struct Routes {
    production: Route,
    test: Option<Route>,
    old_group: String,
    new_group: String,
    /// The production forward's weights at the start (restored on rollback).
    before: Weights,
    /// The test forward's, when there is a test listener.
    test_before: Option<Weights>,
}

impl Routes {
    /// The tag value recording the weights at the start: `old/new`, then the test
    /// listener's.
    fn tag(&self) -> String {
        match self.test_before {
            Some(t) => format!("{} {}", self.before.to_tag(), t.to_tag()),
            None => self.before.to_tag(),
        }
    }
}

/// What a stage's error leads to: a rollback, except when the service is no longer this
/// run's to change.
fn undo(e: DeployError) -> Stop {
    match e {
        DeployError::LeaseLost { .. }
        | DeployError::LeaseLapsed { .. }
        | DeployError::Leased { .. } => Stop::Fail(e),
        e => Stop::Rollback(e),
    }
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

/// The tags an earlier run wrote on the new set.
struct Recorded {
    replaces: Option<String>,
    replaces_scale: Option<Decimal>,
    weights_before: Option<String>,
    listener: Option<String>,
    test_listener: Option<String>,
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
                Err(e)
                    if e.is_retryable()
                        && Instant::now()
                            .checked_add(backoff)
                            .is_some_and(|t| t < deadline) =>
                {
                    self.emit(Event::Retrying {
                        operation,
                        error: e.to_string(),
                    });
                    tokio::time::sleep(backoff).await;
                    if operation != "TagResource" {
                        self.renew_if_due().await;
                    }
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

    /// The service as DescribeServices shows it now, tags included. While this run holds the
    /// lease, every read also checks it (renewing it once less than half its lifetime is
    /// left) and looks for an abort request naming this deployment.
    async fn view(&mut self, deadline: Instant) -> Result<ServiceView, DeployError> {
        let view = self.read_service(deadline).await?;
        if !self.lease_held {
            return Ok(view);
        }
        let view = self.check_lease(view, deadline).await?;
        if !self.rolling_back && !self.past_no_return {
            if let Some(abort) = view.abort().filter(|a| a.deployment == self.id.as_str()) {
                return Err(DeployError::Aborted { by: abort.by });
            }
        }
        Ok(view)
    }

    async fn read_service(&mut self, deadline: Instant) -> Result<ServiceView, DeployError> {
        let (cluster, service) = (&self.dep.cluster, &self.dep.service);
        let answer = self
            .send::<operations::DescribeServices>(service_request(cluster, service), deadline)
            .await?;
        let view = service_view(answer, cluster, service)?;
        if self.service_arn.is_none() {
            self.service_arn = view.service.service_arn.clone();
        }
        Ok(view)
    }

    /// The lease as `view` shows it, while this run believes it holds it. Another owner's
    /// lease shown for longer than [`Timeouts::read_lag`] means the lease was taken over
    /// ([`DeployError::LeaseLost`]); a shorter sighting may be a read from before this run
    /// took it, and is read again. A lease this run let lapse is not silently taken back:
    /// another run may have held the service meanwhile ([`DeployError::LeaseLapsed`]). A
    /// renewal that fails is tried again at the next read while the lease still runs.
    async fn check_lease(
        &mut self,
        mut view: ServiceView,
        deadline: Instant,
    ) -> Result<ServiceView, DeployError> {
        let mut foreign_since: Option<Instant> = None;
        while let Some(other) = view.lease().filter(|l| l.owner != self.owner) {
            let since = *foreign_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= self.t().read_lag || Instant::now() >= deadline {
                self.lease_held = false;
                return Err(DeployError::LeaseLost {
                    service: self.dep.service.clone(),
                    deployment: other.deployment,
                    owner: other.owner,
                });
            }
            self.pause(deadline).await;
            view = self.read_service(deadline).await?;
        }
        let left = self.lease_left();
        if left.is_zero() {
            self.lease_held = false;
            return Err(DeployError::LeaseLapsed {
                service: self.dep.service.clone(),
            });
        }
        if left < self.t().lease_ttl / 2 {
            // Bounded by what is left of the lease: past that, renewing would be blind.
            if let Err(e) = self.write_lease(Instant::now() + left).await {
                tracing::warn!("the lease was not renewed ({left:?} left of it): {e}");
            }
        }
        Ok(view)
    }

    /// Tags the service with this run's lease, lasting [`Timeouts::lease_ttl`] from now.
    async fn write_lease(&mut self, deadline: Instant) -> Result<(), DeployError> {
        let (req, until) = self.lease_request();
        self.send::<operations::TagResource>(req, deadline).await?;
        self.lease_until = Some(until);
        Ok(())
    }

    /// The TagResource of this run's lease, lasting [`Timeouts::lease_ttl`] from now, and the
    /// expiry it writes (in milliseconds, as the tag holds it: this run renews by that, not
    /// by a finer clock).
    fn lease_request(&self) -> (TagResourceRequest, SystemTime) {
        let until = SystemTime::now()
            .checked_add(self.t().lease_ttl)
            .unwrap_or_else(SystemTime::now);
        let until = std::time::UNIX_EPOCH
            + Duration::from_millis(
                until
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            );
        let lease = Lease {
            deployment: self.id.to_string(),
            owner: self.owner.clone(),
            until,
        };
        let req = TagResourceRequest::builder()
            .resource_arn(self.service_arn.clone().unwrap_or_default())
            .set_tags(Some(vec![lease::tag(TAG_LEASE, &lease.value())]))
            .build();
        (req, until)
    }

    /// What is left of the lease this run wrote, by this process's clock (zero once lapsed,
    /// or when it wrote none).
    fn lease_left(&self) -> Duration {
        self.lease_until
            .and_then(|until| until.duration_since(SystemTime::now()).ok())
            .unwrap_or(Duration::ZERO)
    }

    /// Between the attempts of a call that keeps failing (throttling can last longer than
    /// half a lease): renews the lease when it is due and still running, with one
    /// TagResource of its own (not through [`Run::call`], which is what is waiting). A failure
    /// is left to the next read of the service.
    async fn renew_if_due(&mut self) {
        if !self.lease_held {
            return;
        }
        let left = self.lease_left();
        if left.is_zero() || left >= self.t().lease_ttl / 2 {
            return;
        }
        let (req, until) = self.lease_request();
        self.calls += 1;
        match self.d.client.send::<operations::TagResource>(req).await {
            Ok(_) => self.lease_until = Some(until),
            Err(e) => tracing::warn!("the lease was not renewed between retries: {e}"),
        }
    }

    /// Whether `lease` binds this run: live, and neither this run's nor one a dropped run of
    /// the same deployer held for the same deployment (which this run takes over, as a
    /// rollback after an interrupt does).
    fn binds(&self, lease: &Lease) -> bool {
        let ours = lease.owner == self.owner
            || (lease.owner.starts_with(&format!("{}.", self.d.owner))
                && lease.deployment == self.id.as_str());
        !ours && lease.live(SystemTime::now())
    }

    /// Takes the service's lease: waits (up to [`Timeouts::lease_wait`]) while another run's
    /// lease is live, writes this run's (a write that does not land within a poll interval
    /// starts over from a fresh read: a late write could overwrite a lease taken meanwhile),
    /// waits a poll interval for a concurrent writer's tag to land, and reads it back;
    /// whoever wrote last holds it. ECS has no conditional tag write, so this excludes runs
    /// that see each other's tags within a poll interval, not more. Answers the read that
    /// showed it held.
    async fn acquire_lease(&mut self, mut view: ServiceView) -> Result<ServiceView, Stop> {
        let waiting_until = later(self.t().lease_wait);
        let mut announced: Option<Lease> = None;
        loop {
            if let Some(holder) = view.lease().filter(|l| self.binds(l)) {
                if Instant::now() >= waiting_until {
                    return Err(Stop::Fail(DeployError::Leased {
                        service: self.dep.service.clone(),
                        deployment: holder.deployment,
                        owner: holder.owner,
                        until: lease::rfc3339(holder.until),
                    }));
                }
                if announced.as_ref() != Some(&holder) {
                    self.emit(Event::WaitingForLease {
                        deployment: holder.deployment.clone(),
                        owner: holder.owner.clone(),
                        until: lease::rfc3339(holder.until),
                    });
                    announced = Some(holder);
                }
                self.pause(waiting_until).await;
            } else {
                let written = self.write_lease(later(self.t().poll_interval)).await;
                if written.is_ok() {
                    tokio::time::sleep(self.t().poll_interval).await;
                }
                let deadline = later(self.t().step);
                view = self.read_service(deadline).await.map_err(Stop::Fail)?;
                if written.is_ok() && view.lease().is_some_and(|l| l.owner == self.owner) {
                    self.lease_held = true;
                    return Ok(view);
                }
                // Another run wrote after this one (the lease is its, and this run waits), or
                // the write did not land in time (tried again from this fresh read).
                self.lease_until = None;
                if Instant::now() >= waiting_until {
                    let why = match written {
                        Err(e) => format!("the lease could not be written: {e}"),
                        Ok(()) => "the lease written did not show on the service".to_owned(),
                    };
                    return Err(Stop::Fail(DeployError::Deadline {
                        what: "the service's lease".into(),
                        waited: self.t().lease_wait,
                        last: why,
                    }));
                }
                continue;
            }
            view = self
                .read_service(later(self.t().step))
                .await
                .map_err(Stop::Fail)?;
        }
    }

    /// At the end of a run: removes the lease (when this run still holds it) and an abort
    /// request naming this deployment. A failure here leaves the lease to lapse.
    async fn release(&mut self) {
        if !self.lease_held {
            return;
        }
        let deadline = later(self.t().switch);
        let mut keys = vec![TAG_LEASE.to_owned()];
        let view = match self.read_service(deadline).await {
            Ok(view) => view,
            Err(e) => {
                tracing::warn!("the lease was not released (it lapses on its own): {e}");
                return;
            }
        };
        if view.lease().is_some_and(|l| l.owner != self.owner) {
            return;
        }
        if view
            .abort()
            .is_some_and(|a| a.deployment == self.id.as_str())
        {
            keys.push(TAG_ABORT.to_owned());
        }
        let req = UntagResourceRequest::builder()
            .set_resource_arn(self.service_arn.clone())
            .set_tag_keys(Some(keys))
            .build();
        match self.send::<operations::UntagResource>(req, deadline).await {
            Ok(_) => self.lease_held = false,
            Err(e) => tracing::warn!("the lease was not released (it lapses on its own): {e}"),
        }
    }

    /// Before a change: while this run holds the lease, a read that checks it.
    async fn guard(&mut self, deadline: Instant) -> Result<(), DeployError> {
        if self.lease_held {
            self.view(deadline).await?;
        }
        Ok(())
    }

    /// Resolves the task definition to a revision's ARN (a family names its latest ACTIVE
    /// revision), and derives the id again from it when the id was derived.
    async fn resolve(&mut self, deadline: Instant) -> Result<(), DeployError> {
        let req = DescribeTaskDefinitionRequest::builder()
            .task_definition(self.dep.task_definition.clone())
            .build();
        let answer = self
            .send::<operations::DescribeTaskDefinition>(req, deadline)
            .await?;
        if let Some(arn) = answer.task_definition.and_then(|t| t.task_definition_arn) {
            self.id = self.dep.id_for(&arn);
            self.task_definition = arn;
        }
        Ok(())
    }

    async fn drive(&mut self) -> Outcome {
        let valid = self.t().validate().and_then(|()| {
            self.dep
                .strategy
                .validate()
                .map_err(|e| DeployError::Invalid {
                    what: e.to_string(),
                })
        });
        if let Err(e) = valid {
            return Outcome::Failed(e);
        }
        match self.plan().await {
            Ok(()) => Outcome::Succeeded,
            Err(Stop::Fail(e)) => Outcome::Failed(e),
            Err(Stop::Rollback(cause)) => {
                self.rolling_back = true;
                self.emit(Event::RollingBack {
                    reason: cause.to_string(),
                });
                match self.rollback(&cause).await {
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
        let deadline = later(self.t().step);
        self.resolve(deadline).await.map_err(Stop::Fail)?;
        let view = self.read_service(deadline).await.map_err(Stop::Fail)?;
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
        let view = self.acquire_lease(view).await?;
        // An abort asked while no run held the lease: this run carries it out.
        if let Some(abort) = view.abort().filter(|a| a.deployment == self.id.as_str()) {
            self.mode = Mode::RollBack { by: abort.by };
        }
        let label = self.id.external_id();
        let ours = view.labelled(&label).cloned();
        let rolled_back = view
            .rolled_back()
            .filter(|r| r.deployment == self.id.as_str())
            .map(|r| r.reason);
        let steps = self.dep.strategy.steps().map_err(|e| {
            Stop::Fail(DeployError::Invalid {
                what: e.to_string(),
            })
        })?;
        let Some(ours) = ours else {
            if matches!(self.mode, Mode::RollBack { .. }) && rolled_back.is_none() {
                // A set created just before an interrupt may not show yet.
                let mut missing = Missing::new(self.t().read_lag);
                let label = label.clone();
                let mut found = None;
                while missing.absent(&label).is_ok() && Instant::now() < deadline {
                    self.pause(deadline).await;
                    let again = self.view(deadline).await.map_err(Stop::Fail)?;
                    if let Some(set) = again.labelled(&label) {
                        found = Some((set.clone(), again));
                        break;
                    }
                }
                let Some((set, again)) = found else {
                    return Err(Stop::Fail(DeployError::NothingToRollBack {
                        deployment: self.id.to_string(),
                    }));
                };
                return self.resume(set, again, steps, rolled_back).await;
            }
            // The primary (if any) is what this deployment replaces (or, after a rollback
            // that deleted the new set, what is left to settle).
            let primary = view.primary().cloned();
            self.old = primary.as_ref().map(id_of);
            self.old_scale = primary.as_ref().map_or(Decimal::ONE_HUNDRED, scale_of);
            self.prepare_traffic(
                self.dep.traffic.clone(),
                primary.as_ref(),
                None,
                None,
                deadline,
            )
            .await
            .map_err(Stop::Fail)?;
            // Weight on the new group at a fresh start serves a set an interrupted deployment
            // left (deleted by make_room below): put it all on the old group first.
            if rolled_back.is_none() {
                self.reset_traffic(deadline).await.map_err(undo)?;
            }
            self.emit(Event::Started {
                deployment: self.id.to_string(),
                desired_count: view.desired,
                replacing: self.old.clone(),
                resumed: rolled_back
                    .is_some()
                    .then(|| "rolled back earlier; its task set is deleted".into()),
            });
            if let Some(reason) = rolled_back {
                return Err(Stop::Rollback(DeployError::EarlierRollback {
                    reason: Some(reason),
                }));
            }
            let template = primary.clone().unwrap_or_else(|| view.launch_template());
            self.make_room(view).await?;
            let first = steps[0].percent;
            let (ours, since) = self.create(&template, first).await?;
            return self
                .steps_and_switch(ours, steps, 0, Some(first), Some(since))
                .await;
        };
        self.resume(ours, view, steps, rolled_back).await
    }

    /// An earlier run of this deployment got as far as `ours`: goes on from where it stands.
    async fn resume(
        &mut self,
        ours: TaskSet,
        view: ServiceView,
        steps: Vec<Step>,
        rolled_back: Option<String>,
    ) -> Result<(), Stop> {
        // An earlier run of this deployment got this far: find what it replaced.
        let ours_id = id_of(&ours);
        self.new = Some(ours_id.clone());
        if matches!(self.mode, Mode::Deploy) {
            let found = ours.task_definition.clone().unwrap_or_default();
            if found != self.task_definition {
                self.new = None;
                return Err(Stop::Fail(DeployError::IdInUse {
                    deployment: self.id.to_string(),
                    task_set: ours_id,
                    found,
                    wanted: self.task_definition.clone(),
                }));
            }
        }
        let recorded = self.recorded(&ours_id).await.map_err(Stop::Fail)?;
        self.old = recorded
            .replaces
            .or_else(|| view.primary().filter(|p| p.id != ours.id).map(id_of));
        self.old_scale = recorded
            .replaces_scale
            .or_else(|| self.old.as_deref().and_then(|o| view.set(o)).map(scale_of))
            .unwrap_or(Decimal::ONE_HUNDRED);
        let old_set = self.old.as_deref().and_then(|o| view.set(o)).cloned();
        let deadline = later(self.t().step);
        // The listener the first run shifted, when this run was not told (an abort, a re-run
        // without the options).
        let given = self.dep.traffic.clone().or_else(|| {
            recorded.listener.clone().map(|listener| Traffic {
                test_listener: recorded.test_listener.clone(),
                ..Traffic::through(listener)
            })
        });
        let prepared = self
            .prepare_traffic(
                given,
                old_set.as_ref(),
                Some(&ours),
                recorded.weights_before.as_deref(),
                deadline,
            )
            .await;
        if let Err(e) = prepared {
            // Past the switch only the old set's retirement is left, which needs no traffic.
            if is(&ours, &TaskSetStatus::Primary) && !matches!(self.mode, Mode::RollBack { .. }) {
                tracing::warn!("traffic is left as it is: {e}");
                self.traffic = None;
            } else {
                return Err(Stop::Fail(e));
            }
        }
        let status = ours.status.as_ref().map_or("", |s| s.as_str()).to_owned();
        self.emit(Event::Started {
            deployment: self.id.to_string(),
            desired_count: view.desired,
            replacing: self.old.clone(),
            resumed: Some(format!("{ours_id} is {status} at {}%", scale_of(&ours))),
        });
        if is(&ours, &TaskSetStatus::Draining) || rolled_back.is_some() {
            return Err(Stop::Rollback(DeployError::EarlierRollback {
                reason: rolled_back,
            }));
        }
        let rolling_back_by = match &self.mode {
            Mode::RollBack { by } => Some(by.clone()),
            Mode::Deploy => None,
        };
        if is(&ours, &TaskSetStatus::Primary) {
            let old_live = self
                .old
                .as_deref()
                .and_then(|o| view.set(o))
                .filter(|s| !is(s, &TaskSetStatus::Draining))
                .cloned();
            // Switched, the old set not yet touched: the gate after the switch again (or the
            // rollback asked for). Else the retirement goes on where it stopped (scaled down,
            // DRAINING, or gone).
            let before_retirement = old_live.is_some_and(|old| {
                scale_of(&old) == self.old_scale && self.old_scale > Decimal::ZERO
            });
            match (before_retirement, rolling_back_by) {
                (true, Some(by)) => return Err(Stop::Rollback(DeployError::Aborted { by })),
                (true, None) => self.after_switch_gate(&ours_id, &view).await?,
                (false, Some(_)) => {
                    return Err(Stop::Fail(DeployError::PastNoReturn { task_set: ours_id }))
                }
                (false, None) => {}
            }
            self.past_no_return = true;
            return self.retire().await.map_err(Stop::Fail);
        }
        if let Some(by) = rolling_back_by {
            return Err(Stop::Rollback(DeployError::Aborted { by }));
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

    /// What the first run wrote on the new set: the set it replaces and that set's scale.
    async fn recorded(&mut self, ours: &str) -> Result<Recorded, DeployError> {
        let deadline = later(self.t().step);
        let req = DescribeTaskSetsRequest::builder()
            .cluster(self.dep.cluster.clone())
            .service(self.dep.service.clone())
            .set_task_sets(Some(vec![ours.to_owned()]))
            .set_include(Some(vec![TaskSetField::Tags]))
            .build();
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
        let tag = |key: &str| lease::find(&tags, key).map(str::to_owned);
        Ok(Recorded {
            replaces: tag(TAG_REPLACES),
            replaces_scale: tag(TAG_REPLACES_SCALE).and_then(|s| s.parse().ok()),
            weights_before: tag(TAG_WEIGHTS_BEFORE),
            listener: tag(TAG_LISTENER),
            test_listener: tag(TAG_TEST_LISTENER),
        })
    }

    /// Makes room for one more task set: deletes the sets earlier runs of ecs-deploy left
    /// ACTIVE (not the primary: interrupted deployments of other ids, which this one
    /// supersedes; no other run holds the service, by the lease), and, when the service is
    /// full, waits for DRAINING ones to go.
    async fn make_room(&mut self, mut view: ServiceView) -> Result<(), Stop> {
        let deadline = later(self.t().room);
        let mut last_reported = None;
        loop {
            let leftovers: Vec<TaskSet> = view
                .sets
                .iter()
                .filter(|s| {
                    is(s, &TaskSetStatus::Active)
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
            if view.sets.len() < MAX_TASK_SETS {
                return Ok(());
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
    /// One ELBv2 operation, through [`Run::call`].
    async fn elb<O: QueryOperation>(
        &mut self,
        input: O::Input,
        deadline: Instant,
    ) -> Result<O::Output, DeployError> {
        self.call(O::NAME, deadline, |c| {
            let input = input.clone();
            async move { c.elbv2().send::<O>(input).await }
        })
        .await
    }

    /// The actions of a listener (its default actions) or a rule.
    async fn route_actions(
        &mut self,
        route: &Route,
        deadline: Instant,
    ) -> Result<Vec<elbt::Action>, DeployError> {
        let actions = match route {
            Route::Listener(arn) => self
                .elb::<elb::DescribeListeners>(
                    elbt::DescribeListenersInput::builder()
                        .set_listener_arns(Some(vec![arn.clone()]))
                        .build(),
                    deadline,
                )
                .await?
                .listeners
                .unwrap_or_default()
                .into_iter()
                .next()
                .and_then(|l| l.default_actions),
            Route::Rule(arn) => {
                let rule = self
                    .elb::<elb::DescribeRules>(
                        elbt::DescribeRulesInput::builder()
                            .set_rule_arns(Some(vec![arn.clone()]))
                            .build(),
                        deadline,
                    )
                    .await?
                    .rules
                    .unwrap_or_default()
                    .into_iter()
                    .next();
                if rule.as_ref().and_then(|r| r.is_default) == Some(true) {
                    // ModifyRule does not change a default rule's actions: ModifyListener does.
                    return Err(DeployError::Traffic {
                        what: format!("{arn} is its listener's default rule: give the listener"),
                    });
                }
                rule.and_then(|r| r.actions)
            }
        };
        actions.ok_or_else(|| DeployError::Traffic {
            what: format!("{} has no actions", route.arn()),
        })
    }

    /// Resolves the listeners and target groups of the deployment's traffic, and reads the
    /// weights they forward with now (or takes those an earlier run recorded). Changes
    /// nothing.
    async fn prepare_traffic(
        &mut self,
        given: Option<Traffic>,
        old_set: Option<&TaskSet>,
        ours: Option<&TaskSet>,
        recorded: Option<&str>,
        deadline: Instant,
    ) -> Result<(), DeployError> {
        let Some(given) = given else {
            return Ok(());
        };
        let invalid = |what: String| DeployError::Traffic { what };
        let production = Route::of(&given.listener).map_err(invalid)?;
        let test = given
            .test_listener
            .as_deref()
            .map(Route::of)
            .transpose()
            .map_err(invalid)?;
        let actions = self.route_actions(&production, deadline).await?;
        let group_of = |set: Option<&TaskSet>| {
            set.and_then(|s| s.load_balancers.as_ref())
                .and_then(|l| l.iter().find_map(|b| b.target_group_arn.clone()))
        };
        // A resumed run whose old set is gone (retired) finds the old group as the one the
        // forward names besides the new set's.
        let ours_group = given.target_group.clone().or_else(|| group_of(ours));
        let old_group = given
            .old_target_group
            .clone()
            .or_else(|| group_of(old_set))
            .or_else(|| {
                ours_group
                    .as_deref()
                    .and_then(|g| traffic::other_group(&actions, g))
            })
            .ok_or_else(|| {
                invalid("no target group to shift traffic from: the primary task set has no load balancer; give the old target group".into())
            })?;
        let new_group = ours_group
            .or_else(|| traffic::other_group(&actions, &old_group))
            .ok_or_else(|| {
                invalid(format!(
                    "the forward of {} names no second group besides {old_group}; give the new set's target group",
                    production.arn()
                ))
            })?;
        if new_group == old_group {
            return Err(invalid(format!(
                "the new set needs a target group of its own, not the old set's {old_group}"
            )));
        }
        let no_forward = |route: &Route| {
            invalid(format!(
                "{} forwards to neither {old_group} nor {new_group}",
                route.arn()
            ))
        };
        let mut before = traffic::weights_in(&actions, &old_group, &new_group)
            .ok_or_else(|| no_forward(&production))?;
        if !traffic::names(&actions, &old_group) {
            return Err(invalid(format!(
                "{} does not forward to the old group {old_group}, so no traffic can move from it",
                production.arn()
            )));
        }
        let mut test_before = None;
        if let Some(test) = &test {
            let actions = self.route_actions(test, deadline).await?;
            test_before = Some(
                traffic::weights_in(&actions, &old_group, &new_group)
                    .ok_or_else(|| no_forward(test))?,
            );
        }
        if let Some(tag) = recorded {
            let mut parts = tag.split_whitespace().map(Weights::from_tag);
            if let Some(Some(w)) = parts.next() {
                before = w;
            }
            if let (Some(Some(w)), Some(_)) = (parts.next(), &test_before) {
                test_before = Some(w);
            }
        }
        self.traffic = Some(Routes {
            production,
            test,
            old_group,
            new_group,
            before,
            test_before,
        });
        Ok(())
    }

    /// The load balancers of a new task set: with traffic, the new group with the old set's
    /// container and port; without, the old set's.
    fn balancers_for(&self, like: &TaskSet) -> Result<Option<Vec<LoadBalancer>>, DeployError> {
        let theirs = like.load_balancers.clone().filter(|l| !l.is_empty());
        let Some(routes) = &self.traffic else {
            return Ok(theirs);
        };
        let Some(mut balancer) = theirs
            .and_then(|l| l.into_iter().next())
            .filter(|b| b.container_name.is_some() && b.container_port.is_some())
        else {
            return Err(DeployError::Traffic {
                what: "the new task set takes its container name and port from the primary task set's load balancer, and there is none".into(),
            });
        };
        balancer.target_group_arn = Some(routes.new_group.clone());
        balancer.load_balancer_name = None;
        Ok(Some(vec![balancer]))
    }

    /// At a fresh start: a forward that gives the new group weight (left by an interrupted
    /// deployment) is put all on the old group, and that is the weights to restore.
    async fn reset_traffic(&mut self, deadline: Instant) -> Result<(), DeployError> {
        let Some(mut routes) = self.traffic.clone() else {
            return Ok(());
        };
        let all_old = Weights { old: 100, new: 0 };
        if routes.before.new > 0 {
            let production = routes.production.clone();
            self.shift(&routes, &production, all_old, deadline).await?;
            routes.before = all_old;
        }
        if let (Some(test), Some(w)) = (routes.test.clone(), routes.test_before) {
            if w.new > 0 {
                self.shift(&routes, &test, all_old, deadline).await?;
                routes.test_before = Some(all_old);
            }
        }
        self.traffic = Some(routes);
        Ok(())
    }

    /// Sets `route`'s forward to `weights` (old/new). The lease is checked first.
    async fn shift(
        &mut self,
        routes: &Routes,
        route: &Route,
        weights: Weights,
        deadline: Instant,
    ) -> Result<(), DeployError> {
        let actions = self.route_actions(route, deadline).await?;
        let Some(actions) =
            traffic::reweigh(&actions, &routes.old_group, &routes.new_group, weights)
        else {
            return Err(DeployError::Traffic {
                what: format!(
                    "{} no longer forwards to {} or {}",
                    route.arn(),
                    routes.old_group,
                    routes.new_group
                ),
            });
        };
        self.guard(deadline).await?;
        match route {
            Route::Listener(arn) => {
                self.elb::<elb::ModifyListener>(
                    elbt::ModifyListenerInput::builder()
                        .listener_arn(arn.clone())
                        .set_default_actions(Some(actions))
                        .build(),
                    deadline,
                )
                .await?;
            }
            Route::Rule(arn) => {
                self.elb::<elb::ModifyRule>(
                    elbt::ModifyRuleInput::builder()
                        .rule_arn(arn.clone())
                        .set_actions(Some(actions))
                        .build(),
                    deadline,
                )
                .await?;
            }
        }
        self.emit(Event::Shifted {
            listener: route.arn().to_owned(),
            old_weight: weights.old,
            new_weight: weights.new,
        });
        Ok(())
    }

    /// The weights found at the start, back on the production listener (and the test one).
    async fn restore_traffic(
        &mut self,
        routes: &Routes,
        deadline: Instant,
    ) -> Result<(), DeployError> {
        let mut back = vec![(routes.production.clone(), routes.before)];
        if let (Some(test), Some(w)) = (&routes.test, routes.test_before) {
            back.push((test.clone(), w));
        }
        for (route, weights) in back {
            let actions = self.route_actions(&route, deadline).await?;
            match traffic::weights_in(&actions, &routes.old_group, &routes.new_group) {
                Some(now) if now == weights => continue,
                Some(_) => {}
                None => {
                    // Changed by someone else: not ours to put back; the capacity rollback
                    // goes on.
                    tracing::warn!(
                        "{} no longer forwards to {} or {}: its weights are left as they are",
                        route.arn(),
                        routes.old_group,
                        routes.new_group
                    );
                    continue;
                }
            }
            self.shift(routes, &route, weights, deadline).await?;
            self.emit(Event::TrafficRestored {
                listener: route.arn().to_owned(),
                old_weight: weights.old,
                new_weight: weights.new,
            });
        }
        Ok(())
    }

    /// Waits until the new group holds at least `expected` targets, every one healthy
    /// (DescribeTargetHealth; targets draining are not counted), reading the service meanwhile
    /// so the lease stays renewed.
    async fn await_healthy(
        &mut self,
        routes: &Routes,
        expected: i32,
        deadline: Instant,
    ) -> Result<(), DeployError> {
        let started = Instant::now();
        let group = routes.new_group.clone();
        loop {
            let answer = self
                .elb::<elb::DescribeTargetHealth>(
                    elbt::DescribeTargetHealthInput::builder()
                        .target_group_arn(group.clone())
                        .build(),
                    deadline,
                )
                .await?;
            let states: Vec<String> = answer
                .target_health_descriptions
                .unwrap_or_default()
                .into_iter()
                .filter_map(|d| d.target_health.and_then(|h| h.state))
                .filter(|s| s != "draining")
                .collect();
            let healthy = states.iter().filter(|s| *s == "healthy").count();
            let want = usize::try_from(expected).unwrap_or(0);
            if healthy >= want && healthy == states.len() {
                self.healthy_targets = expected;
                self.emit(Event::Healthy {
                    target_group: group,
                    targets: healthy,
                });
                return Ok(());
            }
            let last = format!(
                "{healthy} of {want} targets healthy ({})",
                states.join(", ")
            );
            if Instant::now() >= deadline {
                return Err(DeployError::Deadline {
                    what: format!("every target of the new task set healthy in {group}"),
                    waited: started.elapsed(),
                    last,
                });
            }
            self.pause(deadline).await;
            self.keep_alive().await?;
        }
    }

    async fn create(
        &mut self,
        like: &TaskSet,
        percent: Decimal,
    ) -> Result<(String, DateTime), Stop> {
        let deadline = later(self.t().step);
        let load_balancers = self.balancers_for(like).map_err(Stop::Fail)?;
        let capacity_provider_strategy = like
            .capacity_provider_strategy
            .clone()
            .filter(|l| !l.is_empty());
        let req = CreateTaskSetRequest::builder()
            .cluster(self.dep.cluster.clone())
            .service(self.dep.service.clone())
            .task_definition(self.task_definition.clone())
            .external_id(self.id.external_id())
            .client_token(self.id.to_string())
            .scale(Scale::percent(percent))
            .set_network_configuration(like.network_configuration.clone())
            .set_load_balancers(load_balancers)
            .set_service_registries(like.service_registries.clone().filter(|l| !l.is_empty()))
            // A launch type and a capacity provider strategy exclude each other.
            .set_launch_type(
                like.launch_type
                    .clone()
                    .filter(|_| capacity_provider_strategy.is_none()),
            )
            .set_capacity_provider_strategy(capacity_provider_strategy)
            .set_platform_version(like.platform_version.clone())
            .set_tags({
                let mut tags = vec![];
                if let Some(old) = &like.id {
                    tags.push(lease::tag(TAG_REPLACES, old));
                    tags.push(lease::tag(TAG_REPLACES_SCALE, &scale_of(like).to_string()));
                }
                if let Some(routes) = &self.traffic {
                    tags.push(lease::tag(TAG_WEIGHTS_BEFORE, &routes.tag()));
                    tags.push(lease::tag(TAG_LISTENER, routes.production.arn()));
                    if let Some(test) = &routes.test {
                        tags.push(lease::tag(TAG_TEST_LISTENER, test.arn()));
                    }
                }
                (!tags.is_empty()).then_some(tags)
            })
            .build();
        self.guard(deadline).await.map_err(Stop::Fail)?;
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
        let req = UpdateTaskSetRequest::builder()
            .cluster(self.dep.cluster.clone())
            .service(self.dep.service.clone())
            .task_set(task_set.to_owned())
            .scale(Scale::percent(percent))
            .build();
        self.guard(deadline).await?;
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
        let req = UpdateServicePrimaryTaskSetRequest::builder()
            .cluster(self.dep.cluster.clone())
            .service(self.dep.service.clone())
            .primary_task_set(task_set.to_owned())
            .build();
        self.guard(deadline).await?;
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
        let req = DeleteTaskSetRequest::builder()
            .cluster(self.dep.cluster.clone())
            .service(self.dep.service.clone())
            .task_set(task_set.to_owned())
            .force(force)
            .build();
        self.guard(deadline).await?;
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
        let deadline = later(budget);
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
        let mut missing = Missing::new(self.t().read_lag);
        let (view, counts) = self
            .wait_until(what, budget, |view| {
                let Some(set) = view.set(task_set) else {
                    missing.absent(task_set)?;
                    return Ok(Look::NotYet {
                        last: NOT_SHOWN.into(),
                        event: None,
                    });
                };
                missing.present();
                if is(set, &TaskSetStatus::Draining) {
                    return Err(DeployError::Vanished {
                        task_set: task_set.to_owned(),
                    });
                }
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

    /// Asks the health gate, reading the service every poll interval while it thinks (the
    /// lease renewed and checked, an abort request read).
    async fn gate(
        &mut self,
        at: String,
        task_set: &str,
        percent: Decimal,
        counts: Counts,
    ) -> Result<(), DeployError> {
        if let Some(gate) = self.d.gate.clone() {
            let cx = GateContext {
                deployment: self.id.to_string(),
                at: at.clone(),
                task_set: task_set.to_owned(),
                percent,
                counts,
            };
            let mut answer = gate(cx);
            let deadline = later(self.t().gate);
            let answered = loop {
                tokio::select! {
                    said = &mut answer => break Some(said),
                    _ = tokio::time::sleep_until(deadline) => break None,
                    _ = tokio::time::sleep(self.t().poll_interval) => self.keep_alive().await?,
                }
            };
            match answered {
                Some(Ok(())) => {}
                Some(Err(reason)) => return Err(DeployError::Gate { at, reason }),
                None => {
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

    /// Holds for `duration` (a bake), reading the service every poll interval meanwhile.
    async fn hold(&mut self, duration: Duration) -> Result<(), DeployError> {
        let until = later(duration);
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            tokio::time::sleep(self.t().poll_interval.min(left)).await;
            if Instant::now() < until {
                self.keep_alive().await?;
            }
        }
    }

    /// While this run holds the lease: one read of the service, which renews and checks the
    /// lease and looks for an abort request.
    async fn keep_alive(&mut self) -> Result<(), DeployError> {
        if self.lease_held {
            self.view(later(self.t().step)).await?;
        }
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
                let deadline = later(self.t().step);
                if current != Some(step.percent) {
                    since = self
                        .update_scale(&ours, step.percent, deadline)
                        .await
                        .map_err(undo)?;
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
                    .map_err(undo)?;
                if let Some(routes) = self.traffic.clone() {
                    self.await_healthy(&routes, counts.running.unwrap_or(0), deadline)
                        .await
                        .map_err(undo)?;
                    // Blue/green with a test listener: the last step opens the test listener;
                    // production follows once the gate passed.
                    match (&routes.test, i + 1 == n) {
                        (Some(test), true) => {
                            self.shift(&routes, test, Weights::at(Decimal::ONE_HUNDRED), deadline)
                                .await
                        }
                        _ => {
                            self.shift(
                                &routes,
                                &routes.production,
                                Weights::at(step.percent),
                                deadline,
                            )
                            .await
                        }
                    }
                    .map_err(undo)?;
                }
                if !step.bake.is_zero() {
                    self.emit(Event::Baking {
                        step: i + 1,
                        duration: step.bake,
                    });
                    self.hold(step.bake).await.map_err(undo)?;
                }
                self.gate(
                    format!("at step {}/{n} ({}%)", i + 1, step.percent),
                    &ours,
                    step.percent,
                    counts,
                )
                .await
                .map_err(undo)
            }
            .instrument(span)
            .await?;
            since = None;
        }
        // The switch: production traffic first, when a test listener held it back.
        let deadline = later(self.t().switch);
        if let Some(routes) = self.traffic.clone().filter(|r| r.test.is_some()) {
            let expected = self.healthy_targets;
            self.await_healthy(&routes, expected, deadline)
                .await
                .map_err(undo)?;
            self.shift(
                &routes,
                &routes.production,
                Weights::at(Decimal::ONE_HUNDRED),
                deadline,
            )
            .await
            .map_err(undo)?;
        }
        self.make_primary(&ours, deadline).await.map_err(undo)?;
        let budget = deadline.saturating_duration_since(Instant::now());
        let what = format!("{ours} shown as the primary task set");
        let mut missing = Missing::new(self.t().read_lag);
        let view = self
            .wait_until(what, budget, |view| match view.set(&ours) {
                Some(s) if is(s, &TaskSetStatus::Primary) => Ok(Look::Done(view)),
                Some(s) if !is(s, &TaskSetStatus::Draining) => {
                    missing.present();
                    Ok(Look::NotYet {
                        last: "not PRIMARY yet".into(),
                        event: None,
                    })
                }
                Some(_) => Err(DeployError::Vanished {
                    task_set: ours.clone(),
                }),
                None => {
                    missing.absent(&ours)?;
                    Ok(Look::NotYet {
                        last: NOT_SHOWN.into(),
                        event: None,
                    })
                }
            })
            .await
            .map_err(undo)?;
        self.emit(Event::Switched {
            primary: ours.clone(),
        });
        if self.old.is_some() {
            self.after_switch_gate(&ours, &view).await?;
        }
        self.past_no_return = true;
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
        .map_err(undo)
    }

    /// The point of no return is behind: scale the old set to 0, delete it, wait until it is
    /// gone.
    async fn retire(&mut self) -> Result<(), DeployError> {
        let Some(old) = self.old.clone() else {
            return Ok(());
        };
        let deadline = later(self.t().retire);
        let view = self.view(deadline).await?;
        let Some(set) = view.set(&old).cloned() else {
            return self.retire_gone().await;
        };
        if !is(&set, &TaskSetStatus::Draining) {
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
    async fn rollback(&mut self, cause: &DeployError) -> Result<(), DeployError> {
        let deadline = later(self.t().rollback);
        let mut view = self.view(deadline).await?;
        let label = self.id.external_id();
        let mut ours = view.labelled(&label).cloned();
        // The new set is known to exist (this run made or found it): an answer without it may
        // be from before, and is read again until the read lag has passed.
        if let (None, Some(id)) = (&ours, self.new.clone()) {
            let mut missing = Missing::new(self.t().read_lag);
            while missing.absent(&id).is_ok() && Instant::now() < deadline {
                self.pause(deadline).await;
                view = self.view(deadline).await?;
                ours = view.labelled(&label).cloned();
                if ours.is_some() {
                    break;
                }
            }
        }
        // The intent first, so that a crash from here on resumes into the rollback.
        if !matches!(cause, DeployError::EarlierRollback { .. }) {
            // Best effort: without the record the rollback still happens; only a crash in its
            // middle would then resume forward.
            if let Err(e) = self.record_rollback(&cause.to_string(), deadline).await {
                if matches!(
                    e,
                    DeployError::LeaseLost { .. } | DeployError::LeaseLapsed { .. }
                ) {
                    return Err(e);
                }
                tracing::warn!("the rollback was not recorded on the service: {e}");
            }
        }
        let mut old_set = None;
        if let Some(old) = self.old.clone() {
            let mut missing = Missing::new(self.t().read_lag);
            old_set = Some(loop {
                match view.set(&old) {
                    Some(set) if !is(set, &TaskSetStatus::Draining) => break set.clone(),
                    // Deleting the new set now would leave the service with nothing to run.
                    Some(_) => return Err(DeployError::Vanished { task_set: old }),
                    None => {
                        missing.absent(&old)?;
                        if Instant::now() >= deadline {
                            return Err(DeployError::Vanished { task_set: old });
                        }
                        self.pause(deadline).await;
                        view = self.view(deadline).await?;
                    }
                }
            });
        }
        // Traffic back first, once the old set is known to be there: it still runs, at its
        // scale, and serves again before any capacity changes.
        if let Some(routes) = self.traffic.clone() {
            self.restore_traffic(&routes, deadline).await?;
        }
        if let (Some(old), Some(old_set)) = (self.old.clone(), old_set) {
            if !is(&old_set, &TaskSetStatus::Primary) {
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
            if !is(ours, &TaskSetStatus::Draining) {
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

    /// Records on the service ([`TAG_ROLLED_BACK`]) that this deployment's rollback began,
    /// and why.
    async fn record_rollback(
        &mut self,
        reason: &str,
        deadline: Instant,
    ) -> Result<(), DeployError> {
        self.guard(deadline).await?;
        let record = RollbackRecord {
            deployment: self.id.to_string(),
            reason: reason.to_owned(),
        };
        let req = TagResourceRequest::builder()
            .set_resource_arn(self.service_arn.clone())
            .set_tags(Some(vec![lease::tag(TAG_ROLLED_BACK, &record.value())]))
            .build();
        self.send::<operations::TagResource>(req, deadline).await?;
        Ok(())
    }
}

/// The DescribeServices of every read of a service: tags included, for the lease, an abort
/// request and the rollback record.
pub(crate) fn service_request(cluster: &str, service: &str) -> DescribeServicesRequest {
    DescribeServicesRequest::builder()
        .cluster(cluster.to_owned())
        .set_services(Some(vec![service.to_owned()]))
        .set_include(Some(vec![ServiceField::Tags]))
        .build()
}

/// The live (not INACTIVE) service of a DescribeServices answer.
pub(crate) fn service_view(
    answer: DescribeServicesResponse,
    cluster: &str,
    service: &str,
) -> Result<ServiceView, DeployError> {
    answer
        .services
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.status != Some(ServiceStatus::Inactive))
        .map(ServiceView::new)
        .ok_or_else(|| DeployError::ServiceNotFound {
            cluster: cluster.to_owned(),
            service: service.to_owned(),
        })
}

/// What a wait shows while the set is missing from the answers.
const NOT_SHOWN: &str = "not shown by the service yet (an answer from before the change?)";

/// How long a task set has been missing from the service's answers: ECS reads are eventually
/// consistent, so one answer without it proves nothing; missing for [`Timeouts::read_lag`],
/// it is taken for deleted.
struct Missing {
    since: Option<Instant>,
    lag: Duration,
}

impl Missing {
    fn new(lag: Duration) -> Missing {
        Missing { since: None, lag }
    }

    /// The set was not in an answer: `Ok` while that may be a lagging read.
    fn absent(&mut self, task_set: &str) -> Result<(), DeployError> {
        let since = *self.since.get_or_insert_with(Instant::now);
        if since.elapsed() >= self.lag {
            return Err(DeployError::Vanished {
                task_set: task_set.to_owned(),
            });
        }
        Ok(())
    }

    /// The set was in an answer.
    fn present(&mut self) {
        self.since = None;
    }
}
