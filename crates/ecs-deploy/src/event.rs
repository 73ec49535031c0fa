//! Progress, as events: each is logged through `tracing` and handed to the callback a caller
//! gives ([`crate::Deployer::on_event`]), so a CLI or a CI log can show every step with its
//! counts.

use std::fmt;
use std::time::Duration;

use ecs_model::Decimal;

use crate::observe::Counts;

/// Something the deployment did or saw. As JSON (`ecs-deploy --output json`), an object with
/// the variant's name in snake case under `event` and its fields in snake case; durations in
/// seconds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(
    tag = "event",
    rename_all = "snake_case",
    rename_all_fields = "snake_case"
)]
#[non_exhaustive]
pub enum Event {
    /// The deployment began (or resumed) with what the service showed.
    Started {
        /// The deployment id.
        deployment: String,
        /// The service's desired count.
        desired_count: i32,
        /// The primary task set being replaced, if there is one.
        replacing: Option<String>,
        /// What was found of an earlier run of the same deployment (`None`: a fresh start).
        resumed: Option<String>,
    },
    /// Another run holds the service's lease; waiting for it to be released or to lapse.
    WaitingForLease {
        /// The holder's deployment.
        deployment: String,
        /// The holding run.
        owner: String,
        /// When its lease lapses unless renewed (RFC 3339).
        until: String,
    },
    /// The service holds as many task sets as it may; waiting for DRAINING ones to go.
    WaitingForRoom {
        /// Task sets on the service, DRAINING ones included.
        task_sets: usize,
        /// Of which DRAINING.
        draining: usize,
    },
    /// A task set left by an earlier deployment of this tool, not the primary, was deleted
    /// to make room.
    RemovedLeftover {
        /// Its id.
        task_set: String,
        /// Its `externalId`.
        external_id: String,
    },
    /// The new task set exists.
    Created {
        /// Its id.
        task_set: String,
        /// The scale it was created at.
        percent: Decimal,
    },
    /// A task set was asked to scale.
    Scaled {
        /// Its id.
        task_set: String,
        /// The new scale.
        percent: Decimal,
    },
    /// A wait saw the set change but not settle yet (sent when what it shows changes).
    Waiting {
        /// The task set.
        task_set: String,
        /// What it waits for.
        why: &'static str,
        /// What the set shows.
        counts: Counts,
    },
    /// A step's set settled.
    Settled {
        /// The step (1-based) and how many there are; `None` outside the strategy's steps.
        step: Option<(usize, usize)>,
        /// The task set.
        task_set: String,
        /// Its scale.
        percent: Decimal,
        /// What it shows.
        counts: Counts,
    },
    /// Holding a settled step before the gate.
    Baking {
        /// The step (1-based).
        step: usize,
        /// For how long.
        #[serde(serialize_with = "seconds")]
        duration: Duration,
    },
    /// The health gate said yes.
    GatePassed {
        /// Where: `step 2/5 at 40%`, or `after the switch`.
        at: String,
    },
    /// The new set is the service's primary task set.
    Switched {
        /// The new primary.
        primary: String,
    },
    /// The old set is being retired (scaled to 0, then deleted).
    Retiring {
        /// Its id.
        task_set: String,
    },
    /// DeleteTaskSet was answered: the set is DRAINING.
    Deleted {
        /// Its id.
        task_set: String,
        /// Whether `force` was sent (the set was not at scale 0; harmless to AWS, which needs
        /// it only for a PRIMARY set).
        forced: bool,
    },
    /// A deleted set no longer shows on the service.
    Gone {
        /// Its id.
        task_set: String,
    },
    /// A call failed in a way that may pass; it is tried again within the stage's deadline.
    Retrying {
        /// The operation.
        operation: &'static str,
        /// The error, as text.
        error: String,
    },
    /// Rolling back, and why.
    RollingBack {
        /// The reason.
        reason: String,
    },
    /// The old set is the primary again.
    Restored {
        /// The old set.
        primary: String,
    },
    /// Every target of the new task set is healthy in its target group.
    Healthy {
        /// The new set's target group.
        target_group: String,
        /// How many targets.
        targets: usize,
    },
    /// A listener's (or rule's) forward was given new weights.
    Shifted {
        /// The listener or rule ARN.
        listener: String,
        /// The old group's weight.
        old_weight: i32,
        /// The new group's weight.
        new_weight: i32,
    },
    /// Rolling back: a listener forwards with the weights it had at the start again.
    TrafficRestored {
        /// The listener or rule ARN.
        listener: String,
        /// The old group's weight.
        old_weight: i32,
        /// The new group's weight.
        new_weight: i32,
    },
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Event {
    /// The event as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(
            |e| serde_json::json!({ "event": "unserialisable", "error": e.to_string() }),
        )
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Started {
                deployment,
                desired_count,
                replacing,
                resumed,
            } => {
                write!(f, "deployment {deployment}: desiredCount {desired_count}")?;
                match replacing {
                    Some(old) => write!(f, ", replacing {old}")?,
                    None => write!(f, ", no primary task set yet")?,
                }
                if let Some(r) = resumed {
                    write!(f, "; resuming: {r}")?;
                }
                Ok(())
            }
            Event::WaitingForLease {
                deployment,
                owner,
                until,
            } => write!(
                f,
                "waiting: run {owner} (deployment {deployment}) holds the service until {until}"
            ),
            Event::WaitingForRoom {
                task_sets,
                draining,
            } => write!(
                f,
                "{task_sets} task sets on the service ({draining} DRAINING): waiting for room"
            ),
            Event::RemovedLeftover {
                task_set,
                external_id,
            } => write!(f, "deleted leftover task set {task_set} ({external_id})"),
            Event::Created { task_set, percent } => {
                write!(f, "created {task_set} at {percent}%")
            }
            Event::Scaled { task_set, percent } => write!(f, "scaled {task_set} to {percent}%"),
            Event::Waiting {
                task_set,
                why,
                counts: c,
            } => write!(f, "  {task_set}: {c} ({why})"),
            Event::Settled {
                step,
                task_set,
                percent,
                counts: c,
            } => {
                if let Some((i, n)) = step {
                    write!(f, "step {i}/{n}: ")?;
                }
                write!(f, "{task_set} settled at {percent}%: {c}")
            }
            Event::Baking { step, duration } => write!(
                f,
                "step {step}: baking {}",
                humantime::format_duration(*duration)
            ),
            Event::GatePassed { at } => write!(f, "health gate passed {at}"),
            Event::Switched { primary } => write!(f, "{primary} is the primary task set"),
            Event::Retiring { task_set } => write!(f, "retiring {task_set}"),
            Event::Deleted { task_set, forced } => write!(
                f,
                "deleted {task_set}{}",
                if *forced { " (force)" } else { "" }
            ),
            Event::Gone { task_set } => write!(f, "{task_set} is gone"),
            Event::Retrying { operation, error } => write!(f, "{operation} again after: {error}"),
            Event::RollingBack { reason } => write!(f, "rolling back: {reason}"),
            Event::Restored { primary } => write!(f, "{primary} is the primary task set again"),
            Event::Healthy {
                target_group,
                targets,
            } => write!(f, "{targets} targets healthy in {target_group}"),
            Event::Shifted {
                listener,
                old_weight,
                new_weight,
            } => write!(f, "{listener} forwards old/new {old_weight}/{new_weight}"),
            Event::TrafficRestored {
                listener,
                old_weight,
                new_weight,
            } => write!(
                f,
                "{listener} forwards old/new {old_weight}/{new_weight} again"
            ),
        }
    }
}
