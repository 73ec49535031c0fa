//! Deployments of Amazon ECS services that use the EXTERNAL deployment controller, with task
//! sets: blue/green, canary and linear, each step waited for properly, with rollback, one run
//! at a time per service, and resumable after a crash.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ecs_deploy::{Deployer, Deployment, Outcome};
//!
//! let ecs = ecs_client::EcsClient::from_env()?;
//! let deployment = Deployment::new("prod", "web", "web:42", "canary:10%,5m".parse()?);
//! let report = Deployer::new(ecs)
//!     .health_gate(|cx| async move { if cx.counts.running == Some(cx.counts.expected) { Ok(()) } else { Err("short of tasks".into()) } })
//!     .on_event(|e| eprintln!("{e}"))
//!     .run(&deployment)
//!     .await;
//! assert!(matches!(report.outcome, Outcome::Succeeded), "{:?}", report.outcome);
//! # Ok(()) }
//! ```
//!
//! # What a deployment does
//!
//! 1. Resolves the task definition to a revision (DescribeTaskDefinition: a family names its
//!    latest ACTIVE revision). A derived id is derived from that revision, so `web` after
//!    `web:2` was registered is a new deployment, not a "resume" of the last one.
//! 2. Reads the service (DescribeServices, tags included). It must use the EXTERNAL
//!    controller. Its primary task set, if any, is the one being replaced.
//! 3. Takes the service's lease ([`lease::TAG_LEASE`]): a tag naming this run and its expiry,
//!    written, left a poll interval to land, and read back. While another run holds a live
//!    lease, this run waits up to [`Timeouts::lease_wait`] and then stops
//!    ([`DeployError::Leased`]) without changing anything. The lease is renewed at every read
//!    of the service (every poll interval, bakes and health gates included), checked before
//!    every change, and removed when the run ends.
//! 4. Makes room: sets earlier runs of this tool left ACTIVE (interrupted deployments of
//!    other ids, which this one supersedes) are deleted. A service holds at most
//!    [`MAX_TASK_SETS`] task sets, DRAINING ones included; when it is full, DRAINING sets are
//!    waited for. Anything else filling the service stops the deployment before it changes
//!    anything ([`DeployError::NoRoom`]).
//! 5. Creates the new task set at the first step's scale: the old primary's network, load
//!    balancers, registries, launch type or capacity providers and platform version, with the
//!    resolved revision; `clientToken` is the deployment id and `externalId` is
//!    `ecs-deploy/<id>`.
//! 6. For each step of the [`Strategy`]: UpdateTaskSet to the step's scale, wait until the set
//!    has settled, bake, ask the health gate.
//! 7. UpdateServicePrimaryTaskSet to the new set; wait until it shows as PRIMARY; ask the gate.
//!    Past that gate is the point of no return.
//! 8. Retires the old set: scale 0, settled, DeleteTaskSet (`force` only if it is still above
//!    0), wait until the service no longer shows it.
//!
//! # Guarantees
//!
//! - **No decision on an unsettled count.** A step is done only when a DescribeServices
//!   answer shows the new set settled by [`ecs_client::waiter::judge_task_set`], the judgement
//!   the client's waiter uses too: the step's scale, `computedDesiredCount` equal to
//!   `ceil(desiredCount x scale / 100)` (computed exactly, on decimals), that many tasks
//!   running, none pending, STEADY_STATE, and (when this run made the change) a
//!   `stabilityStatusAt` not before the change's `updatedAt`. The answer of CreateTaskSet or
//!   UpdateTaskSet is never read for counts: it holds the value from before the scheduler acted.
//! - **A lagging read is not a deletion.** A set missing from the service's answers is taken
//!   for deleted only once it has been missing for [`Timeouts::read_lag`] (ECS reads are
//!   eventually consistent); a DRAINING set is taken for deleted at once.
//! - **No duplicate task sets.** The only CreateTaskSet carries the deployment id as its
//!   client token, whether the client retries it, the controller repeats it, or a re-run does.
//! - **One run at a time per service**, by the lease (step 3), as far as tags can give it
//!   (ECS has no conditional write: see the assumptions). A run that finds another's lease,
//!   or lets its own lapse, stops without another change ([`DeployError::LeaseLost`],
//!   [`DeployError::LeaseLapsed`]).
//! - **Every wait has a deadline** ([`Timeouts`]); a call that fails in a way that may pass
//!   (throttling, 5xx, a lost connection) is repeated within the stage's deadline. Every
//!   input is bounded ([`Timeouts::validate`], [`Strategy::validate`]); a value out of bounds
//!   fails the run before its first call ([`DeployError::Invalid`]).
//! - **Rollback before the point of no return.** A failed gate, a deadline, an abort
//!   ([`Deployer::request_abort`], [`Deployer::roll_back`]) or an error that will not pass, at
//!   any time up to the gate after the switch, first records the rollback on the service
//!   ([`lease::TAG_ROLLED_BACK`]), then puts the old set back as the primary at its recorded
//!   scale, deletes the new set (`force` while its scale is above 0), waits until it is gone
//!   and the old set is steady, and reports [`Outcome::RolledBack`] with the reason. An abort
//!   is read at every read of the service, during bakes and gates too.
//!   The old set keeps its full scale until the switch, so rolling back never waits for it to
//!   grow.
//! - **Resumable.** A run keeps no state of its own: run the same [`Deployment`] again
//!   (same id) after a crash or a dropped future and it reads the service, finds its set by
//!   `externalId`, learns what it replaced from the set's tags ([`TAG_REPLACES`],
//!   [`TAG_REPLACES_SCALE`]) and goes on from there: the step the set's scale has reached, the
//!   gate after the switch, the retirement, or the rollback that was under way (the record
//!   names it, whether the new set is still there or already deleted). A crashed run's lease
//!   lapses after [`Timeouts::lease_ttl`]; the re-run waits for that.
//! - **Progress is visible**: every [`Event`] goes to `tracing` (spans `deployment` and
//!   `step`), to the callback of [`Deployer::on_event`], and as JSON ([`Event::to_json`]).
//!   [`Deployer::status`] shows where a service's deployment stands.
//!
//! # Requirements
//!
//! Besides the task-set calls, a run calls `ecs:DescribeTaskDefinition`, `ecs:TagResource`
//! and `ecs:UntagResource` (the lease and the rollback record are tags on the service), so
//! its role needs those permissions; the service must be taggable (the long ARN format) and
//! have room for three more tags under ECS's 50.
//!
//! # Assumptions
//!
//! - Nobody else changes the service's task sets during the deployment. A set that vanishes
//!   under it stops the deployment ([`DeployError::Vanished`]).
//! - The service's `desiredCount` may change (an autoscaler); each poll computes the expected
//!   count from the desired count in the same answer.
//! - A tag written on the service shows in DescribeServices within one poll interval: the
//!   lease protocol reads its own write back after that long, and two runs that wrote within
//!   it both see the later writer's lease (this project's assumption, not a documented AWS
//!   bound; a run that finds another's lease on a later check stops, [`DeployError::LeaseLost`]).
//! - Traffic is the caller's: ecs-deploy moves capacity between task sets and switches the
//!   primary. Shifting load-balancer weights between the sets' target groups belongs in the
//!   health gate, which is called at each step with the new set's scale.
//! - A deployment id is used for one deployment. After a rollback a re-run of the same id
//!   finishes that rollback and does not go forward; deploy again under a new id (a derived id
//!   changes with the revision; pass one explicitly to retry the same revision).
//! - A resumed run that finds its set already PRIMARY asks the gate after the switch again
//!   (it cannot know whether the first run's gate answered).
#![warn(missing_docs)]

mod deploy;
pub mod event;
pub mod id;
pub mod lease;
mod observe;
pub mod status;
pub mod strategy;
pub mod traffic;

pub use deploy::{
    DeployError, Deployer, Deployment, GateContext, GateFuture, Outcome, Report, Timeouts,
    MAX_DEADLINE, MAX_TASK_SETS, MIN_POLL_INTERVAL, TAG_REPLACES, TAG_REPLACES_SCALE,
};
pub use event::Event;
pub use id::{DeploymentId, DeploymentIdError};
pub use observe::Counts;
pub use status::{SetStatus, Status};
pub use strategy::{Step, Strategy, StrategyError};
pub use traffic::{Traffic, Weights};

/// The repository README's examples (model, client and deployments) are compiled as doctests
/// here, where all three crates are in scope.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

/// The crate README's example, compiled.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeDoctests;
