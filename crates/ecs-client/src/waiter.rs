//! Waiting for a task set to reach `STEADY_STATE`.
//!
//! Why not the `ServicesStable` waiter of the other SDKs: its success condition is that the
//! service has exactly one entry in `deployments` and `runningCount == desiredCount`. A
//! service with the EXTERNAL deployment controller reports its rollout as `taskSets`, and its
//! `deployments` list is empty, so the condition never holds and that waiter always times out.
//! The state that matters for an external controller is each task set's `stabilityStatus`.

use ecs_model::operations;
use std::time::{Duration, Instant};

use ecs_model::types::{DescribeTaskSetsRequest, Failure, StabilityStatus, TaskSet, TaskSetStatus};

use crate::{EcsClient, Error};

/// How long and how often to poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaiterConfig {
    /// Give up after this long.
    pub max_wait: Duration,
    /// First delay between polls; doubled after each poll up to `max_delay`.
    pub min_delay: Duration,
    /// The longest delay between two polls.
    pub max_delay: Duration,
}

impl Default for WaiterConfig {
    fn default() -> Self {
        WaiterConfig {
            max_wait: Duration::from_secs(600),
            min_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(15),
        }
    }
}

/// Why waiting ended without a steady state. Each variant keeps the last task set seen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    #[error("task set {task_set} did not reach STEADY_STATE within {waited:?}")]
    /// The deadline passed.
    Timeout {
        /// The task set waited for.
        task_set: String,
        /// How long it waited.
        waited: Duration,
        /// The task set as last described.
        last: Option<Box<TaskSet>>,
    },
    #[error("task set {task_set} no longer exists{}", .failure.as_ref().and_then(|f| f.reason.as_deref()).map(|r| format!(" ({r})")).unwrap_or_default())]
    /// The task set is gone (deleted, or never existed).
    Disappeared {
        /// The task set waited for.
        task_set: String,
        /// The task set as last described.
        last: Option<Box<TaskSet>>,
        /// The failure DescribeTaskSets gave for it.
        failure: Option<Box<Failure>>,
    },
    #[error("task set {task_set} is DRAINING and will not become steady")]
    /// The task set is DRAINING.
    Draining {
        /// The task set waited for.
        task_set: String,
        /// The task set as last described.
        last: Box<TaskSet>,
    },
    #[error(transparent)]
    /// A DescribeTaskSets call failed.
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
            WaitError::Call(_) => None,
        }
    }
}

impl EcsClient {
    /// Polls DescribeTaskSets until `task_set` (id or ARN) is in `STEADY_STATE`, and returns it.
    pub async fn wait_for_task_set_steady_state(
        &self,
        cluster: &str,
        service: &str,
        task_set: &str,
        config: WaiterConfig,
    ) -> Result<TaskSet, WaitError> {
        let started = Instant::now();
        let mut delay = config.min_delay;
        let mut last: Option<Box<TaskSet>> = None;
        loop {
            let answer = self
                .send::<operations::DescribeTaskSets>(DescribeTaskSetsRequest {
                    cluster: Some(cluster.to_owned()),
                    service: Some(service.to_owned()),
                    task_sets: Some(vec![task_set.to_owned()]),
                    ..Default::default()
                })
                .await?;
            let current = answer.task_sets.unwrap_or_default().into_iter().next();
            let Some(current) = current else {
                let failure = answer
                    .failures
                    .unwrap_or_default()
                    .into_iter()
                    .next()
                    .map(Box::new);
                return Err(WaitError::Disappeared {
                    task_set: task_set.to_owned(),
                    last,
                    failure,
                });
            };
            if current.status.as_ref() == Some(&TaskSetStatus::DRAINING) {
                return Err(WaitError::Draining {
                    task_set: task_set.to_owned(),
                    last: Box::new(current),
                });
            }
            if current.stability_status == Some(StabilityStatus::SteadyState) {
                return Ok(current);
            }
            last = Some(Box::new(current));
            let waited = started.elapsed();
            if waited >= config.max_wait {
                return Err(WaitError::Timeout {
                    task_set: task_set.to_owned(),
                    waited,
                    last,
                });
            }
            tokio::time::sleep(delay.min(config.max_wait - waited)).await;
            delay = (delay * 2).min(config.max_delay);
        }
    }
}
