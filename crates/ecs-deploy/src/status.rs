//! Where the deployments of a service stand, as `ecs-deploy status` shows them: the lease,
//! an abort request, and every task set with its counts and the tags ecs-deploy wrote.

use std::fmt;
use std::time::SystemTime;

use ecs_model::types::{
    DescribeTaskSetsRequest, TagResourceRequest, TaskSetField, UntagResourceRequest,
};
use ecs_model::{operations, Decimal};
use serde_json::{json, Value};

use crate::deploy::{service_request, service_view, DeployError, Deployer};
use crate::id::EXTERNAL_ID_PREFIX;
use crate::lease::{self, AbortRequest, Lease, RollbackRecord, TAG_ABORT, TAG_LEASE};
use crate::observe::{scale_of, ServiceView};
use crate::{TAG_REPLACES, TAG_REPLACES_SCALE};

/// A service's deployments as one read shows them.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// The service's ARN.
    pub service: String,
    /// Its desired count.
    pub desired_count: i32,
    /// The lease, when a run holds (or held, and crashed) it.
    pub lease: Option<Lease>,
    /// Whether the lease still binds.
    pub lease_live: bool,
    /// An abort request not yet carried out.
    pub abort: Option<AbortRequest>,
    /// The last rollback begun on the service.
    pub rolled_back: Option<RollbackRecord>,
    /// The task sets, the primary first.
    pub task_sets: Vec<SetStatus>,
}

/// One task set.
#[derive(Clone, Debug, PartialEq)]
pub struct SetStatus {
    /// Its id.
    pub id: String,
    /// PRIMARY, ACTIVE or DRAINING.
    pub status: String,
    /// The ecs-deploy deployment it belongs to (from its `externalId`), if any.
    pub deployment: Option<String>,
    /// Its task definition.
    pub task_definition: String,
    /// Its scale, in percent.
    pub scale: Decimal,
    /// `computedDesiredCount`, `runningCount`, `pendingCount`.
    pub counts: (i32, i32, i32),
    /// STEADY_STATE or STABILIZING.
    pub stability: String,
    /// The set it replaces ([`TAG_REPLACES`]) and that set's scale.
    pub replaces: Option<(String, String)>,
}

impl Status {
    /// As one JSON object.
    pub fn to_json(&self) -> Value {
        let time = lease::rfc3339;
        json!({
            "service": self.service,
            "desired_count": self.desired_count,
            "lease": self.lease.as_ref().map(|l| json!({
                "deployment": l.deployment,
                "owner": l.owner,
                "until": time(l.until),
                "live": self.lease_live,
            })),
            "abort": self.abort.as_ref().map(|a| json!({"deployment": a.deployment, "by": a.by})),
            "rolled_back": self.rolled_back.as_ref().map(|r| json!({"deployment": r.deployment, "reason": r.reason})),
            "task_sets": self.task_sets.iter().map(|s| json!({
                "id": s.id,
                "status": s.status,
                "deployment": s.deployment,
                "task_definition": s.task_definition,
                "scale": s.scale,
                "computed_desired_count": s.counts.0,
                "running_count": s.counts.1,
                "pending_count": s.counts.2,
                "stability_status": s.stability,
                "replaces": s.replaces.as_ref().map(|(id, scale)| json!({"task_set": id, "scale": scale})),
            })).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} (desiredCount {})", self.service, self.desired_count)?;
        match &self.lease {
            Some(l) => writeln!(
                f,
                "lease: deployment {} held by {} until {}{}",
                l.deployment,
                l.owner,
                lease::rfc3339(l.until),
                if self.lease_live {
                    ""
                } else {
                    " (lapsed: the run is gone)"
                }
            )?,
            None => writeln!(f, "lease: none (no run in progress)")?,
        }
        if let Some(a) = &self.abort {
            writeln!(f, "abort requested for {} by {}", a.deployment, a.by)?;
        }
        if let Some(r) = &self.rolled_back {
            let state = if self
                .task_sets
                .iter()
                .any(|s| s.deployment.as_deref() == Some(r.deployment.as_str()))
            {
                "rolling back"
            } else {
                "rolled back"
            };
            writeln!(f, "last rollback: {} {state}: {}", r.deployment, r.reason)?;
        }
        if self.task_sets.is_empty() {
            writeln!(f, "no task sets")?;
        }
        for s in &self.task_sets {
            let (computed, running, pending) = s.counts;
            write!(
                f,
                "{} {} {}% {} computed {computed} running {running} pending {pending} {}",
                s.id, s.status, s.scale, s.task_definition, s.stability
            )?;
            if let Some(d) = &s.deployment {
                write!(f, " deployment {d}")?;
            }
            if let Some((old, scale)) = &s.replaces {
                write!(f, " replacing {old} (at {scale}%)")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl Deployer {
    /// Where the deployments of `cluster`/`service` stand (one DescribeServices, and one
    /// DescribeTaskSets for the tags of the sets ecs-deploy made).
    pub async fn status(&self, cluster: &str, service: &str) -> Result<Status, DeployError> {
        let view = self.read(cluster, service).await?;
        let labelled: Vec<String> = view
            .sets
            .iter()
            .filter(|s| {
                s.external_id
                    .as_deref()
                    .is_some_and(|e| e.starts_with(EXTERNAL_ID_PREFIX))
            })
            .filter_map(|s| s.id.clone())
            .collect();
        let mut tags = std::collections::BTreeMap::new();
        if !labelled.is_empty() {
            let answer = self
                .send_once::<operations::DescribeTaskSets>(
                    DescribeTaskSetsRequest::builder()
                        .cluster(cluster.to_owned())
                        .service(service.to_owned())
                        .set_task_sets(Some(labelled))
                        .set_include(Some(vec![TaskSetField::Tags]))
                        .build(),
                )
                .await?;
            for set in answer.task_sets.unwrap_or_default() {
                tags.insert(
                    set.id.clone().unwrap_or_default(),
                    set.tags.unwrap_or_default(),
                );
            }
        }
        let mut sets = view.sets.clone();
        // The primary first, then the others in the answer's order.
        sets.sort_by_key(|s| s.status.as_ref().is_none_or(|st| st.as_str() != "PRIMARY"));
        let task_sets = sets
            .iter()
            .map(|s| {
                let id = s.id.clone().unwrap_or_default();
                let set_tags = tags.get(&id).map(Vec::as_slice).unwrap_or_default();
                let tag = |key: &str| lease::find(set_tags, key).map(str::to_owned);
                SetStatus {
                    status: s.status.as_ref().map_or("", |s| s.as_str()).to_owned(),
                    deployment: s
                        .external_id
                        .as_deref()
                        .and_then(|e| e.strip_prefix(EXTERNAL_ID_PREFIX))
                        .map(str::to_owned),
                    task_definition: s.task_definition.clone().unwrap_or_default(),
                    scale: scale_of(s),
                    counts: (
                        s.computed_desired_count.unwrap_or(0),
                        s.running_count.unwrap_or(0),
                        s.pending_count.unwrap_or(0),
                    ),
                    stability: s
                        .stability_status
                        .as_ref()
                        .map_or("", |s| s.as_str())
                        .to_owned(),
                    replaces: tag(TAG_REPLACES)
                        .map(|old| (old, tag(TAG_REPLACES_SCALE).unwrap_or_default())),
                    id,
                }
            })
            .collect();
        let lease = view.lease();
        Ok(Status {
            service: view.service.service_arn.clone().unwrap_or_default(),
            desired_count: view.desired,
            lease_live: lease.as_ref().is_some_and(|l| l.live(SystemTime::now())),
            lease,
            abort: view.abort(),
            rolled_back: view.rolled_back(),
            task_sets,
        })
    }

    /// Asks the run holding `cluster`/`service`'s lease to roll back: tags the service with
    /// an abort request ([`TAG_ABORT`]) naming that run's deployment, which the run reads on
    /// its next look at the service. Answers the deployment asked, or `None` when no live
    /// lease shows a run in progress (then [`Deployer::roll_back`] does the rollback here).
    pub async fn request_abort(
        &self,
        cluster: &str,
        service: &str,
        by: &str,
    ) -> Result<Option<String>, DeployError> {
        let view = self.read(cluster, service).await?;
        let Some(lease) = view.lease().filter(|l| l.live(SystemTime::now())) else {
            return Ok(None);
        };
        let request = AbortRequest {
            deployment: lease.deployment.clone(),
            by: by.to_owned(),
        };
        self.send_once::<operations::TagResource>(
            TagResourceRequest::builder()
                .set_resource_arn(view.service.service_arn.clone())
                .set_tags(Some(vec![lease::tag(TAG_ABORT, &request.value())]))
                .build(),
        )
        .await?;
        Ok(Some(lease.deployment))
    }

    /// Removes the service's lease when a run of this deployer holds it (after an interrupted
    /// run, so that a re-run need not wait for it to lapse). Answers whether it did.
    pub async fn release_lease(&self, cluster: &str, service: &str) -> Result<bool, DeployError> {
        let view = self.read(cluster, service).await?;
        let mine = format!("{}.", self.owner());
        if view.lease().is_none_or(|l| !l.owner.starts_with(&mine)) {
            return Ok(false);
        }
        self.send_once::<operations::UntagResource>(
            UntagResourceRequest::builder()
                .set_resource_arn(view.service.service_arn.clone())
                .set_tag_keys(Some(vec![TAG_LEASE.to_owned()]))
                .build(),
        )
        .await?;
        Ok(true)
    }

    async fn read(&self, cluster: &str, service: &str) -> Result<ServiceView, DeployError> {
        let answer = self
            .send_once::<operations::DescribeServices>(service_request(cluster, service))
            .await?;
        service_view(answer, cluster, service)
    }
}
