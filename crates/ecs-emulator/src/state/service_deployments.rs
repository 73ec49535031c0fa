//! The read side of service deployments (2024): every deployment of an ECS-controller service
//! is a service deployment with a target service revision, kept for the service's life
//! (ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions and
//! `Service.currentServiceDeployment`).
//!
//! A service deployment is PENDING until the scheduler acts on it, IN_PROGRESS until its tasks
//! run, then SUCCESSFUL. A newer deployment stops one still in progress (STOPPED); a circuit
//! breaker that trips stops it (no rollback) or rolls it back (ROLLBACK_IN_PROGRESS, then
//! ROLLBACK_SUCCESSFUL once the last revision that succeeded runs again, on that revision: AWS
//! makes no new revision for a rollback). The ECS developer guide documents these states; the
//! aws-cli examples of 2024 record one SUCCESSFUL deployment, its revision created about 1.6 s
//! before it and started 1.6 s after it.

use std::time::{Duration, SystemTime};

use ecs_model::types::*;

use super::{page, ts, Ctx, DeploymentRecord, ServiceRecord, State};
use crate::error::ApiError;

/// ARNs DescribeServiceDeployments and DescribeServiceRevisions take at once.
const MAX_DESCRIBE: usize = 20;

/// How long before its deployment a revision is created (the 2024 record: 1.6 s).
const REVISION_LEAD: Duration = Duration::from_millis(1_600);

/// One revision: the configuration a deployment runs.
pub(super) struct RevisionRecord {
    pub(super) arn: String,
    task_definition: Option<String>,
    launch_type: Option<LaunchType>,
    capacity_provider_strategy: Option<Vec<CapacityProviderStrategyItem>>,
    platform_version: Option<String>,
    network_configuration: Option<NetworkConfiguration>,
    load_balancers: Vec<LoadBalancer>,
    service_registries: Vec<ServiceRegistry>,
    service_connect: Option<ServiceConnectConfiguration>,
    volume_configurations: Vec<ServiceVolumeConfiguration>,
    container_images: Vec<ContainerImage>,
    created_at: SystemTime,
}

/// Counts of a revision frozen when its deployment finished.
#[derive(Clone, Copy, Default)]
struct Counts {
    requested: i32,
    running: i32,
    pending: i32,
}

pub(super) struct ServiceDeploymentRecord {
    pub(super) arn: String,
    /// The deployments (`ecs-svc/<n>`) that carry it: the one it started, and the one that
    /// rolls it back, if any.
    pub(super) deployments: Vec<String>,
    target: String,
    sources: Vec<String>,
    pub(super) status: ServiceDeploymentStatus,
    pub(super) status_reason: Option<String>,
    pub(super) configuration: DeploymentConfiguration,
    created_at: SystemTime,
    started_at: Option<SystemTime>,
    pub(super) finished_at: Option<SystemTime>,
    stopped_at: Option<SystemTime>,
    pub(super) updated_at: SystemTime,
    pub(super) rollback: Option<Rollback>,
    /// The stages of a BLUE_GREEN, LINEAR or CANARY deployment.
    pub(super) native: Option<super::native::Run>,
    /// When a rolling deployment met its early success criteria.
    pub(super) early_success_at: Option<SystemTime>,
    failures: i32,
    threshold: i32,
    /// The counts of the target and the sources when it finished.
    frozen: Option<(Counts, Vec<Counts>)>,
}

impl ServiceDeploymentRecord {
    pub(super) fn finished(&self) -> bool {
        !matches!(
            self.status,
            ServiceDeploymentStatus::Pending
                | ServiceDeploymentStatus::InProgress
                | ServiceDeploymentStatus::RollbackRequested
                | ServiceDeploymentStatus::RollbackInProgress
                | ServiceDeploymentStatus::StopRequested
        )
    }
}

/// The id of a service deployment: 21 URL-safe characters, as the records show.
fn deployment_id(rng: &mut fastrand::Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..21)
        .map(|_| char::from(ALPHABET[rng.usize(0..ALPHABET.len())]))
        .collect()
}

impl ServiceRecord {
    fn counts_of(&self, deployment: &str) -> Option<Counts> {
        self.deployments
            .iter()
            .find(|d| d.id == deployment)
            .map(|d| Counts {
                requested: d.desired,
                running: d.tasks.running(),
                pending: d.tasks.pending(),
            })
    }

    /// The deployment (`ecs-svc/<n>`) whose revision is `revision`, if one is current.
    fn deployment_of_revision(&self, revision: &str) -> Option<&DeploymentRecord> {
        self.deployments.iter().find(|d| d.revision == revision)
    }

    fn entry_of(&mut self, deployment: &str) -> Option<&mut ServiceDeploymentRecord> {
        self.history
            .iter_mut()
            .rev()
            .find(|e| e.deployments.iter().any(|d| d == deployment))
    }

    /// The ARN of the service deployment a service answers as current.
    pub(super) fn current_service_deployment(&self) -> Option<String> {
        self.history.last().map(|e| e.arn.clone())
    }

    /// A new deployment (the first one, or one UpdateService started): its revision, and its
    /// service deployment, PENDING; one still in progress is STOPPED.
    pub(super) fn open_service_deployment(
        &mut self,
        deployment: usize,
        definition: Option<&TaskDefinition>,
        id: String,
        now: SystemTime,
    ) {
        let Some(dep) = self.deployments.get(deployment) else {
            return;
        };
        let revision = RevisionRecord {
            arn: dep.revision.clone(),
            task_definition: dep.task_definition.clone(),
            launch_type: dep.launch_type.clone(),
            capacity_provider_strategy: dep.capacity_provider_strategy.clone(),
            platform_version: dep.platform_version.clone(),
            network_configuration: dep.network_configuration.clone(),
            load_balancers: self.load_balancers.clone(),
            service_registries: self.service_registries.clone(),
            service_connect: dep.service_connect.clone(),
            volume_configurations: dep.volume_configurations.clone(),
            container_images: definition
                .and_then(|d| d.container_definitions.as_ref())
                .map(|c| {
                    c.iter()
                        .map(|c| {
                            ContainerImage::builder()
                                .set_container_name(c.name.clone())
                                .set_image(c.image.clone())
                                .image_digest(image_digest(c.image.as_deref().unwrap_or("")))
                                .build()
                        })
                        .collect()
                })
                .unwrap_or_default(),
            created_at: now.checked_sub(REVISION_LEAD).unwrap_or(now),
        };
        let target = revision.arn.clone();
        let sources = self
            .deployments
            .iter()
            .filter(|d| d.id != dep.id)
            .map(|d| d.revision.clone())
            .collect();
        let dep_id = dep.id.clone();
        let threshold = (self.desired_count.saturating_add(1) / 2).clamp(3, 200);
        for e in self.history.iter_mut().filter(|e| !e.finished()) {
            e.status = ServiceDeploymentStatus::Stopped;
            e.status_reason = Some("A newer service deployment replaced it.".into());
            e.stopped_at = Some(now);
            e.updated_at = now;
            // Its hooks wait no more; the new deployment reconciles its tasks and traffic.
            if let Some(run) = &mut e.native {
                run.abandon();
            }
        }
        let arn = format!(
            "{}/{id}",
            self.arn.replacen(":service/", ":service-deployment/", 1)
        );
        let strategy = self
            .deployment_configuration
            .strategy
            .clone()
            .unwrap_or(DeploymentStrategy::Rolling);
        let native = (strategy != DeploymentStrategy::Rolling).then(|| {
            // Documented: RECONCILE_SERVICE when more than one revision is active.
            let reconcile = self.deployments.len() > 2;
            super::native::Run::new(&self.deployment_configuration, dep_id.clone(), reconcile)
        });
        self.revisions.push(revision);
        self.history.push(ServiceDeploymentRecord {
            native,
            early_success_at: None,
            arn,
            deployments: vec![dep_id],
            target,
            sources,
            status: ServiceDeploymentStatus::Pending,
            status_reason: None,
            configuration: self.deployment_configuration.clone(),
            created_at: now,
            started_at: None,
            finished_at: None,
            stopped_at: None,
            updated_at: now,
            rollback: None,
            failures: 0,
            threshold,
            frozen: None,
        });
    }

    /// DeleteService: every service deployment still under way is STOPPED where it is.
    pub(super) fn stop_unfinished_deployments(&mut self, now: SystemTime) {
        for e in self.history.iter_mut().filter(|e| !e.finished()) {
            e.status = ServiceDeploymentStatus::Stopped;
            e.status_reason = Some("The service was deleted.".into());
            e.stopped_at = Some(now);
            e.finished_at = Some(now);
            e.updated_at = now;
            if let Some(run) = &mut e.native {
                run.abandon();
            }
        }
    }

    /// The scheduler acts on the deployment: IN_PROGRESS.
    pub(super) fn service_deployment_started(&mut self, deployment: &str, at: SystemTime) {
        if let Some(e) = self.entry_of(deployment) {
            if e.status == ServiceDeploymentStatus::Pending {
                e.status = ServiceDeploymentStatus::InProgress;
                e.started_at = Some(at);
                e.updated_at = at;
            }
        }
    }

    /// The deployment completed: SUCCESSFUL (ROLLBACK_SUCCESSFUL for a rollback), with the
    /// counts as they stood.
    pub(super) fn service_deployment_completed(&mut self, deployment: &str, at: SystemTime) {
        // The counts are those of the entry's own deployment (a rollback's entry targets the
        // revision that failed, not the one the rollback runs).
        let original = self
            .history
            .iter()
            .rev()
            .find(|e| e.deployments.iter().any(|d| d == deployment))
            .and_then(|e| e.deployments.first().cloned())
            .unwrap_or_else(|| deployment.to_owned());
        let counts = self.frozen_counts(&original);
        if let Some(e) = self.entry_of(deployment) {
            if e.finished() {
                // Early success marked it SUCCESSFUL already.
                return;
            }
            e.status = match e.status {
                ServiceDeploymentStatus::RollbackInProgress => {
                    ServiceDeploymentStatus::RollbackSuccessful
                }
                _ => ServiceDeploymentStatus::Successful,
            };
            e.finished_at = Some(at);
            e.updated_at = at;
            e.frozen = Some(counts);
        }
    }

    /// Tasks failed to start (A39): the failure count, and, past the threshold, STOPPED or a
    /// rollback onto `rollback_to` by the deployment `by`.
    pub(super) fn service_deployment_failed(
        &mut self,
        deployment: &str,
        failed: i32,
        tripped: bool,
        rollback: Option<(&str, &str)>,
        at: SystemTime,
    ) {
        let counts = self.frozen_counts(deployment);
        let Some(e) = self.entry_of(deployment) else {
            return;
        };
        e.failures = failed;
        e.updated_at = at;
        if !tripped {
            return;
        }
        let reason = "ECS deployment circuit breaker: tasks failed to start.".to_owned();
        e.status_reason = Some(reason.clone());
        match rollback {
            Some((by, revision)) => {
                e.status = ServiceDeploymentStatus::RollbackInProgress;
                e.deployments.push(by.to_owned());
                e.rollback = Some(
                    Rollback::builder()
                        .reason(reason)
                        .set_started_at(ts(at))
                        .service_revision_arn(revision.to_owned())
                        .build(),
                );
            }
            None => {
                e.status = ServiceDeploymentStatus::Stopped;
                e.stopped_at = Some(at);
                e.finished_at = Some(at);
                e.frozen = Some(counts);
            }
        }
    }

    /// A rollback asked for (StopServiceDeployment, an alarm) found no deployment that
    /// completed: ROLLBACK_FAILED (observed reason).
    pub(super) fn service_deployment_rollback_failed(&mut self, deployment: &str, at: SystemTime) {
        let counts = self.frozen_counts(deployment);
        if let Some(e) = self.entry_of(deployment) {
            e.status = ServiceDeploymentStatus::RollbackFailed;
            e.status_reason = Some(super::native::NO_ROLLBACK_CANDIDATE.to_owned());
            e.finished_at = Some(at);
            e.updated_at = at;
            e.frozen = Some(counts);
        }
    }

    /// A rollback for `reason` onto `revision`, run by the deployment `by`.
    pub(super) fn service_deployment_rolled_back(
        &mut self,
        deployment: &str,
        by: &str,
        revision: &str,
        reason: String,
        at: SystemTime,
    ) {
        if let Some(e) = self.entry_of(deployment) {
            e.status = ServiceDeploymentStatus::RollbackInProgress;
            e.status_reason = Some(reason.clone());
            e.updated_at = at;
            e.deployments.push(by.to_owned());
            e.rollback = Some(
                Rollback::builder()
                    .reason(reason)
                    .set_started_at(ts(at))
                    .service_revision_arn(revision.to_owned())
                    .build(),
            );
        }
    }

    /// Freezes the counts of the service deployment `arn` as they stand (it finished).
    pub(super) fn freeze_counts(&mut self, arn: &str) {
        let Some(original) = self
            .history
            .iter()
            .find(|e| e.arn == arn)
            .and_then(|e| e.deployments.first().cloned())
        else {
            return;
        };
        let counts = self.frozen_counts(&original);
        if let Some(e) = self.history.iter_mut().find(|e| e.arn == arn) {
            e.frozen = Some(counts);
        }
    }

    fn frozen_counts(&self, deployment: &str) -> (Counts, Vec<Counts>) {
        let target = self.counts_of(deployment).unwrap_or_default();
        let sources = self
            .history
            .iter()
            .rev()
            .find(|e| e.deployments.iter().any(|d| d == deployment))
            .map(|e| {
                e.sources
                    .iter()
                    .map(|r| {
                        self.deployment_of_revision(r)
                            .and_then(|d| self.counts_of(&d.id))
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default();
        (target, sources)
    }

    /// A revision's counts, and for a native deployment its shares of production and test
    /// traffic.
    fn summary(
        &self,
        arn: &str,
        counts: Counts,
        shares: Option<(rust_decimal::Decimal, rust_decimal::Decimal)>,
    ) -> ServiceRevisionSummary {
        ServiceRevisionSummary::builder()
            .arn(arn.to_owned())
            .requested_task_count(counts.requested)
            .running_task_count(counts.running)
            .pending_task_count(counts.pending)
            .set_requested_production_traffic_weight(shares.map(|s| ecs_model::Decimal::new(s.0)))
            .set_requested_test_traffic_weight(shares.map(|s| ecs_model::Decimal::new(s.1)))
            .build()
    }

    fn live_counts(&self, revision: &str) -> Counts {
        self.deployment_of_revision(revision)
            .and_then(|d| self.counts_of(&d.id))
            .unwrap_or_default()
    }

    fn render_deployment(
        &self,
        e: &ServiceDeploymentRecord,
        cluster_arn: &str,
    ) -> ServiceDeployment {
        let (target, sources) = match &e.frozen {
            Some((t, s)) => (*t, s.clone()),
            None => (
                self.live_counts(&e.target),
                e.sources.iter().map(|r| self.live_counts(r)).collect(),
            ),
        };
        let breaker = e
            .configuration
            .deployment_circuit_breaker
            .as_ref()
            .is_some_and(|b| b.enable == Some(true));
        let alarms = e
            .configuration
            .alarms
            .as_ref()
            .is_some_and(|a| a.enable == Some(true));
        let monitor = |on: bool| {
            if !on {
                ServiceDeploymentRollbackMonitorsStatus::Disabled
            } else if e.rollback.is_some() || e.status_reason.is_some() {
                ServiceDeploymentRollbackMonitorsStatus::Triggered
            } else if e.finished() {
                ServiceDeploymentRollbackMonitorsStatus::MonitoringComplete
            } else {
                ServiceDeploymentRollbackMonitorsStatus::Monitoring
            }
        };
        let green_shares = e.native.as_ref().map(|r| r.shares());
        ServiceDeployment::builder()
            .service_deployment_arn(e.arn.clone())
            .service_arn(self.arn.clone())
            .cluster_arn(cluster_arn.to_owned())
            .set_created_at(ts(e.created_at))
            .set_started_at(e.started_at.and_then(ts))
            .set_finished_at(e.finished_at.and_then(ts))
            .set_stopped_at(e.stopped_at.and_then(ts))
            .set_updated_at(ts(e.updated_at))
            .set_source_service_revisions(Some(
                e.sources
                    .iter()
                    .zip(sources)
                    .map(|(arn, c)| {
                        // Blue's share is what green does not take; another source revision
                        // (one a newer deployment replaced) serves nothing.
                        let blue = e.native.as_ref().map(|r| {
                            let (p, t) = r.shares();
                            let hundred = rust_decimal::Decimal::ONE_HUNDRED;
                            let zero = rust_decimal::Decimal::ZERO;
                            if r.blue_revision() == Some(arn.as_str()) {
                                (hundred - p, hundred - t)
                            } else {
                                (zero, zero)
                            }
                        });
                        self.summary(arn, c, blue)
                    })
                    .collect(),
            ))
            .target_service_revision(self.summary(&e.target, target, green_shares))
            .set_lifecycle_stage(e.native.as_ref().map(|r| r.lifecycle_stage()))
            .set_lifecycle_hook_details(e.native.as_ref().map(|r| r.hook_details()))
            .status(e.status.clone())
            .set_status_reason(e.status_reason.clone())
            .deployment_configuration(e.configuration.clone())
            .set_rollback(e.rollback.clone())
            .deployment_circuit_breaker(
                ServiceDeploymentCircuitBreaker::builder()
                    .status(monitor(breaker))
                    .failure_count(e.failures)
                    .threshold(e.threshold)
                    .build(),
            )
            .alarms(
                ServiceDeploymentAlarms::builder()
                    .status(monitor(alarms))
                    .build(),
            )
            .build()
    }

    fn render_revision(&self, r: &RevisionRecord, cluster_arn: &str) -> ServiceRevision {
        ServiceRevision::builder()
            .service_revision_arn(r.arn.clone())
            .service_arn(self.arn.clone())
            .cluster_arn(cluster_arn.to_owned())
            .set_task_definition(r.task_definition.clone())
            .set_capacity_provider_strategy(r.capacity_provider_strategy.clone())
            .set_launch_type(r.launch_type.clone())
            .set_platform_version(r.platform_version.clone())
            .set_platform_family(super::services::platform_family(
                &r.launch_type,
                &r.capacity_provider_strategy,
            ))
            .set_load_balancers((!r.load_balancers.is_empty()).then(|| r.load_balancers.clone()))
            .set_service_registries(
                (!r.service_registries.is_empty()).then(|| r.service_registries.clone()),
            )
            .set_network_configuration(r.network_configuration.clone())
            .set_container_images(Some(r.container_images.clone()))
            .guard_duty_enabled(false)
            // Off unless the service uses Service Connect (aws-cli example of 2024).
            .service_connect_configuration(r.service_connect.clone().unwrap_or_else(|| {
                ServiceConnectConfiguration::builder()
                    .enabled(false)
                    .build()
            }))
            .set_volume_configurations(
                (!r.volume_configurations.is_empty()).then(|| r.volume_configurations.clone()),
            )
            .set_created_at(ts(r.created_at))
            .build()
    }
}

/// A stable stand-in for the digest an image tag resolved to: `sha256:` and 64 hex digits,
/// the same for the same image.
fn image_digest(image: &str) -> String {
    let mut digits = String::with_capacity(64);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    while digits.len() < 64 {
        for b in image.bytes().chain(digits.len().to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        digits.push_str(&format!("{h:016x}"));
    }
    format!("sha256:{digits}")
}

/// The cluster, service and id an ARN of `kind` (`service-deployment`, `service-revision`)
/// names.
fn parts_of<'a>(arn: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    let rest = arn.split_once(&format!(":{kind}/"))?.1;
    let mut parts = rest.splitn(3, '/');
    Some((parts.next()?, parts.next()?))
}

impl State {
    /// A fresh service deployment id.
    pub(super) fn service_deployment_id(&mut self) -> String {
        deployment_id(&mut self.rng)
    }

    /// ListServiceDeployments: the service's deployments, newest first (A50), filtered by
    /// status and creation time, 20 a page by default and at most 100.
    pub fn list_service_deployments(
        &mut self,
        req: ListServiceDeploymentsRequest,
        _ctx: &Ctx,
    ) -> Result<ListServiceDeploymentsResponse, ApiError> {
        // A service ARN names its cluster (the aws-cli example of 2024 gives no cluster).
        let from_arn = req
            .service
            .as_deref()
            .and_then(|s| parts_of(s, "service"))
            .map(|(cluster, _)| cluster.to_owned());
        let cluster = self.active_cluster(req.cluster.as_deref().or(from_arn.as_deref()))?;
        let name = State::service_name(req.service.as_deref().unwrap_or_default());
        let svc = cluster
            .services
            .get(&name)
            .filter(|s| s.status != ServiceStatus::Inactive)
            .ok_or_else(ApiError::service_not_found)?;
        let after = req.created_at.as_ref().and_then(|c| c.after);
        let before = req.created_at.as_ref().and_then(|c| c.before);
        let briefs: Vec<ServiceDeploymentBrief> = svc
            .history
            .iter()
            .rev()
            .filter(|e| req.status.as_ref().is_none_or(|s| s.contains(&e.status)))
            .filter(|e| {
                let created = crate::clock::to_datetime(e.created_at);
                after.as_ref().is_none_or(|a| created.secs() >= a.secs())
                    && before.as_ref().is_none_or(|b| created.secs() <= b.secs())
            })
            .map(|e| {
                ServiceDeploymentBrief::builder()
                    .service_deployment_arn(e.arn.clone())
                    .service_arn(svc.arn.clone())
                    .cluster_arn(cluster.arn.clone())
                    .set_started_at(e.started_at.and_then(ts))
                    .set_created_at(ts(e.created_at))
                    .set_finished_at(e.finished_at.and_then(ts))
                    .target_service_revision_arn(e.target.clone())
                    .status(e.status.clone())
                    .set_status_reason(e.status_reason.clone())
                    .build()
            })
            .collect();
        let (service_deployments, next_token) = page(
            &briefs,
            req.max_results,
            req.next_token.as_deref(),
            20,
            100,
            "service-deployments",
        )?;
        Ok(ListServiceDeploymentsResponse::builder()
            .set_service_deployments(Some(service_deployments))
            .set_next_token(next_token)
            .build())
    }

    /// DescribeServiceDeployments: up to 20 by ARN; unknown ones are MISSING failures.
    pub fn describe_service_deployments(
        &mut self,
        req: DescribeServiceDeploymentsRequest,
        _ctx: &Ctx,
    ) -> Result<DescribeServiceDeploymentsResponse, ApiError> {
        let arns = req.service_deployment_arns.unwrap_or_default();
        let (found, failures) = self.by_arn(&arns, "service-deployment", |svc, arn, cluster| {
            let e = svc.history.iter().find(|e| e.arn == arn)?;
            Some(svc.render_deployment(e, cluster))
        })?;
        Ok(DescribeServiceDeploymentsResponse::builder()
            .set_service_deployments(Some(found))
            .set_failures(Some(failures))
            .build())
    }

    /// DescribeServiceRevisions: up to 20 by ARN; unknown ones are MISSING failures.
    pub fn describe_service_revisions(
        &mut self,
        req: DescribeServiceRevisionsRequest,
        _ctx: &Ctx,
    ) -> Result<DescribeServiceRevisionsResponse, ApiError> {
        let arns = req.service_revision_arns.unwrap_or_default();
        let (found, failures) = self.by_arn(&arns, "service-revision", |svc, arn, cluster| {
            let r = svc.revisions.iter().find(|r| r.arn == arn)?;
            Some(svc.render_revision(r, cluster))
        })?;
        Ok(DescribeServiceRevisionsResponse::builder()
            .set_service_revisions(Some(found))
            .set_failures(Some(failures))
            .build())
    }

    /// StopServiceDeployment: a deployment in progress is ROLLBACK_REQUESTED, and its rollback
    /// starts when the scheduler acts (documented: "moves to the ROLLBACK_REQUESTED state, and
    /// then the rollback operation starts"); one already stopping or rolling back goes on.
    /// Documented: "The valid values are ROLLBACK", so ABORT is refused (assumed, A64, as the
    /// messages for a finished deployment and an unknown one).
    pub fn stop_service_deployment(
        &mut self,
        req: StopServiceDeploymentRequest,
        ctx: &Ctx,
    ) -> Result<StopServiceDeploymentResponse, ApiError> {
        let arn = req.service_deployment_arn.unwrap_or_default();
        if req
            .stop_type
            .as_ref()
            .is_some_and(|t| *t != StopServiceDeploymentStopType::Rollback)
        {
            return Err(ApiError::invalid(
                "stopType ABORT is not supported. The valid value is ROLLBACK.",
            ));
        }
        let key = self.deployment_key(&arn)?;
        let svc = self.service_rec(&key).ok_or_else(deployment_not_found)?;
        let e = svc
            .history
            .iter_mut()
            .find(|e| e.arn == arn)
            .ok_or_else(deployment_not_found)?;
        match e.status {
            ServiceDeploymentStatus::Pending | ServiceDeploymentStatus::InProgress => {
                e.status = ServiceDeploymentStatus::RollbackRequested;
                e.updated_at = ctx.now;
                self.schedule(
                    ctx.now,
                    super::sim::Stage::Recompute,
                    crate::scheduler::Event::RollbackRequested {
                        key,
                        arn: arn.clone(),
                    },
                );
            }
            ServiceDeploymentStatus::StopRequested
            | ServiceDeploymentStatus::RollbackRequested
            | ServiceDeploymentStatus::RollbackInProgress => {}
            ref done => {
                return Err(ApiError::new(
                    400,
                    "ConflictException",
                    format!(
                        "The service deployment {arn} is {} and cannot be stopped.",
                        done.as_str()
                    ),
                ))
            }
        }
        Ok(StopServiceDeploymentResponse::builder()
            .service_deployment_arn(arn)
            .build())
    }

    /// ContinueServiceDeployment: a PAUSE hook waiting for action goes on (CONTINUE, the
    /// default) or fails (ROLLBACK). The messages are the troubleshooting guide's; their code
    /// is assumed (A65: InvalidParameterException; the operation has no ConflictException).
    pub fn continue_service_deployment(
        &mut self,
        req: ContinueServiceDeploymentRequest,
        ctx: &Ctx,
    ) -> Result<ContinueServiceDeploymentResponse, ApiError> {
        let arn = req.service_deployment_arn.unwrap_or_default();
        let hook = req.hook_id.unwrap_or_default();
        let key = self.deployment_key(&arn)?;
        let svc = self.service_rec(&key).ok_or_else(deployment_not_found)?;
        let e = svc
            .history
            .iter_mut()
            .find(|e| e.arn == arn)
            .ok_or_else(deployment_not_found)?;
        if e.finished() {
            return Err(ApiError::invalid(
                "Continuing a service deployment is not allowed for service deployment in terminal states.",
            ));
        }
        if !valid_hook_id(&hook) {
            return Err(ApiError::invalid(
                "Invalid hookId: hookId must follow the format: ecs-{hookType}-{id}",
            ));
        }
        let Some(run) = e.native.as_mut().filter(|r| r.awaiting(&hook)) else {
            return Err(ApiError::invalid(
                "Provided hookId is either completed, unavailable, or not associated with the given Resource ARN",
            ));
        };
        run.resolve(
            &hook,
            req.action == Some(DeploymentLifecycleHookAction::Rollback),
        );
        e.updated_at = ctx.now;
        self.drive_native(&key, ctx.now);
        Ok(ContinueServiceDeploymentResponse::builder()
            .service_deployment_arn(arn)
            .build())
    }

    /// The service a service-deployment ARN names.
    fn deployment_key(&self, arn: &str) -> Result<crate::scheduler::ServiceKey, ApiError> {
        let (cluster, service) =
            parts_of(arn, "service-deployment").ok_or_else(deployment_not_found)?;
        Ok(crate::scheduler::ServiceKey {
            cluster: cluster.to_owned(),
            service: service.to_owned(),
        })
    }

    /// A requested rollback starts: a native deployment goes back through its stages, a
    /// rolling one brings the last revision that completed back.
    pub(super) fn rollback_requested(
        &mut self,
        key: &crate::scheduler::ServiceKey,
        arn: &str,
        at: SystemTime,
    ) {
        let Some(svc) = self.service_rec(key) else {
            return;
        };
        let Some(e) = svc
            .history
            .iter()
            .find(|e| e.arn == arn)
            .filter(|e| e.status == ServiceDeploymentStatus::RollbackRequested)
        else {
            return;
        };
        if e.native.is_some() {
            self.stop_native(key, at);
        } else {
            // Assumed, A64: no recorded reason for a stop.
            self.roll_back(
                at,
                key.clone(),
                Some(
                    "Service deployment rolled back because of a StopServiceDeployment request."
                        .to_owned(),
                ),
            );
        }
    }

    /// After an alarm changed: every deployment in progress whose configuration rolls back on
    /// one of its alarms now in ALARM rolls back.
    pub(super) fn check_alarms(&mut self, now: SystemTime) {
        let mut native = vec![];
        let mut rolling = vec![];
        for (cname, c) in &self.clusters {
            for (sname, svc) in &c.services {
                let Some(e) = svc.history.last().filter(|e| !e.finished()) else {
                    continue;
                };
                let key = crate::scheduler::ServiceKey {
                    cluster: cname.clone(),
                    service: sname.clone(),
                };
                if e.native.is_some() {
                    native.push(key);
                } else if e.status == ServiceDeploymentStatus::InProgress {
                    rolling.push(key);
                }
            }
        }
        for key in native {
            self.drive_native(&key, now);
        }
        for key in rolling {
            if let Some(reason) = self.alarm_reason(&key) {
                self.roll_back(now, key, Some(reason));
            }
        }
    }

    /// 1..=20 ARNs of `kind`, each rendered by `render` (the service, the ARN, the cluster's
    /// ARN) or a MISSING failure.
    fn by_arn<T>(
        &self,
        arns: &[String],
        kind: &str,
        render: impl Fn(&ServiceRecord, &str, &str) -> Option<T>,
    ) -> Result<(Vec<T>, Vec<Failure>), ApiError> {
        let member = if kind == "service-deployment" {
            "serviceDeploymentArns"
        } else {
            "serviceRevisionArns"
        };
        check_count(arns, member)?;
        let mut found = vec![];
        let mut failures = vec![];
        for arn in arns {
            let hit = parts_of(arn, kind).and_then(|(cluster, service)| {
                let c = self.clusters.get(cluster)?;
                render(c.services.get(service)?, arn, &c.arn)
            });
            match hit {
                Some(x) => found.push(x),
                None => failures.push(super::missing_entry(arn.clone(), None)),
            }
        }
        Ok((found, failures))
    }
}

/// Documented message ("The service deployment does not exist."); the code is the model's
/// exception for it.
fn deployment_not_found() -> ApiError {
    ApiError::new(
        400,
        "ServiceDeploymentNotFoundException",
        "The service deployment does not exist.",
    )
}

/// The documented form of a hook id: `ecs-{hookType}-{id}`.
fn valid_hook_id(id: &str) -> bool {
    id.strip_prefix("ecs-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(kind, id)| {
            !kind.is_empty()
                && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                && !id.is_empty()
        })
}

/// 1..=20 ARNs (the API reference: "You can specify a maximum of 20 ARNs").
fn check_count(arns: &[String], member: &str) -> Result<(), ApiError> {
    if arns.is_empty() {
        return Err(ApiError::invalid(format!("{member} cannot be empty.")));
    }
    if arns.len() > MAX_DESCRIBE {
        return Err(ApiError::invalid(format!(
            "{member} can have at most {MAX_DESCRIBE} items."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use ecs_model::types::*;

    use super::super::fixtures;
    use super::super::testing::Region;
    use super::super::State;

    fn history(r: &mut Region) -> Vec<ServiceDeploymentBrief> {
        r.call(
            State::list_service_deployments,
            ListServiceDeploymentsRequest::builder()
                .cluster("c")
                .service("svc")
                .build(),
        )
        .unwrap()
        .service_deployments
        .unwrap()
    }

    #[test]
    fn a_tripped_circuit_breaker_rolls_back_onto_the_revision_that_succeeded() {
        let mut r = Region::new();
        let svc = fixtures::service(&mut r, DeploymentControllerType::Ecs, 1);
        let first = svc.current_service_deployment.clone().unwrap();
        assert_eq!(
            history(&mut r)[0].status,
            Some(ServiceDeploymentStatus::Pending)
        );
        r.wait(120);
        let done = history(&mut r);
        assert_eq!(done[0].status, Some(ServiceDeploymentStatus::Successful));
        let good = done[0].target_service_revision_arn.clone().unwrap();
        fixtures::register(&mut r, &format!("nginx:{}", crate::state::UNPULLABLE_TAG));
        let answer = r
            .call(
                State::update_service,
                UpdateServiceRequest::builder()
                    .cluster("c")
                    .service("svc")
                    .task_definition("web:2")
                    .deployment_configuration(
                        DeploymentConfiguration::builder()
                            .deployment_circuit_breaker(
                                DeploymentCircuitBreaker::builder()
                                    .enable(true)
                                    .rollback(true)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .unwrap()
            .service
            .unwrap();
        let second = answer.current_service_deployment.unwrap();
        assert_ne!(second, first);
        r.wait(600);
        let all = history(&mut r);
        assert_eq!(
            all.len(),
            2,
            "a rollback is no service deployment of its own"
        );
        assert_eq!(all[0].service_deployment_arn.as_ref(), Some(&second));
        assert_eq!(
            all[0].status,
            Some(ServiceDeploymentStatus::RollbackSuccessful)
        );
        let described = r
            .call(
                State::describe_service_deployments,
                DescribeServiceDeploymentsRequest::builder()
                    .set_service_deployment_arns(Some(vec![
                        second,
                        "arn:aws:ecs:us-east-1:123456789012:service-deployment/c/svc/nothing"
                            .into(),
                    ]))
                    .build(),
            )
            .unwrap();
        let d = &described.service_deployments.unwrap()[0];
        assert_eq!(
            d.rollback.as_ref().unwrap().service_revision_arn.as_ref(),
            Some(&good)
        );
        assert_eq!(
            d.deployment_circuit_breaker.as_ref().unwrap().status,
            Some(ServiceDeploymentRollbackMonitorsStatus::Triggered)
        );
        assert_eq!(
            described.failures.unwrap()[0].reason.as_deref(),
            Some("MISSING")
        );
        assert!(r.state.check_invariants().is_empty());
    }
}
