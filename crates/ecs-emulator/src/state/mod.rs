//! The in-memory control plane of one region: clusters, task definitions, services and task
//! sets, and the documented task-set semantics. Every answer is built from the generated
//! `ecs_model` types.
//!
//! Time is simulated by an event queue ([`crate::scheduler`]): a mutating call changes what it
//! changes and answers at once, with counts as they were; the recompute of
//! `computedDesiredCount`, task starts and stops, STEADY_STATE and drains are events due later
//! ([`crate::timing::Timing`]). [`State::advance`] applies every event due by the time of a
//! request before the request is handled.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use ecs_model::arn;
use ecs_model::semantics::computed_desired_count_for;
use ecs_model::types::*;
use ecs_model::Decimal;
use serde_json::Value;

use crate::clock::{to_datetime, IdSource};
use crate::error::ApiError;
use crate::scheduler::{Event, Queue, ServiceKey, SetKey};
use crate::timing::Timing;

mod clusters;
mod elbv2;
mod native;
mod service_deployments;
mod services;
mod sim;
mod tags;
mod task_definitions;
mod task_sets;
mod tasks;

pub(crate) use elbv2::{missing as missing_member, ElbCtx, Elbv2};
use services::{check_placement, check_platform_fits, launch_defaults, resolved_platform_version};

use task_sets::TaskSets;
use tasks::{TaskStore, Tasks};

/// Behaviour settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The default region.
    pub region: String,
    /// The account id in ARNs.
    pub account_id: String,
    /// How long each stage of the emulated scheduler takes.
    pub timing: Timing,
    /// Seed of the jitter; `None` picks one at random.
    pub seed: Option<u64>,
    /// Task sets a service may hold at once (AWS answers the sixth CreateTaskSet with an
    /// InvalidParameterException).
    pub max_task_sets_per_service: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            timing: Timing::default(),
            seed: None,
            max_task_sets_per_service: 5,
        }
    }
}

const MAX_TAGS_PER_RESOURCE: usize = 50;
const MAX_DESCRIBE_SERVICES: usize = 10;

struct TaskDefRecord {
    /// Registration order across all families.
    seq: u64,
    definition: TaskDefinition,
    tags: Vec<Tag>,
}

/// Fargate platform versions (Linux and Windows) that exist; others answer
/// PlatformUnknownException (A30).
const FARGATE_PLATFORM_VERSIONS: &[&str] = &["LATEST", "1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"];

/// The image tag that never pulls (A39): a task of a task definition with such an image fails
/// to start, again and again, as a task whose image does not exist does on AWS.
pub(crate) const UNPULLABLE_TAG: &str = "no-such-tag";

/// Platform versions before 1.4.0, which lack what later ones added (A37).
const FARGATE_BEFORE_1_4: &[&str] = &["1.0.0", "1.1.0", "1.2.0", "1.3.0"];

/// AWS's message when a grace period is given to a service without a load balancer
/// (hashicorp/terraform-provider-aws issue 31104).
const GRACE_PERIOD_NEEDS_LOAD_BALANCER: &str =
    "Health check grace period is only valid for services configured to use load balancers";

struct ClusterRecord {
    /// When it was first created, in creation order (ListClusters answers in this order).
    seq: u64,
    name: String,
    arn: String,
    active: bool,
    /// PROVISIONING: created with capacity providers of its own (A44), until the scheduler
    /// has made their attachments.
    provisioning: bool,
    tags: Vec<Tag>,
    settings: Option<Vec<ClusterSetting>>,
    /// The capacity providers associated with the cluster, and its default strategy.
    capacity_providers: Vec<String>,
    default_strategy: Vec<CapacityProviderStrategyItem>,
    configuration: Option<ClusterConfiguration>,
    service_connect_defaults: Option<ClusterServiceConnectDefaults>,
    services: BTreeMap<String, ServiceRecord>,
    /// Every task of the cluster, of services, task sets and RunTask alike.
    tasks: TaskStore,
}

struct ServiceRecord {
    arn: String,
    status: ServiceStatus,
    controller: DeploymentControllerType,
    desired_count: i32,
    task_definition: Option<String>,
    launch_type: Option<LaunchType>,
    capacity_provider_strategy: Option<Vec<CapacityProviderStrategyItem>>,
    platform_version: Option<String>,
    network_configuration: Option<NetworkConfiguration>,
    load_balancers: Vec<LoadBalancer>,
    service_registries: Vec<ServiceRegistry>,
    placement_constraints: Vec<PlacementConstraint>,
    placement_strategy: Vec<PlacementStrategy>,
    health_check_grace_period_seconds: Option<i32>,
    deployment_configuration: DeploymentConfiguration,
    scheduling_strategy: SchedulingStrategy,
    enable_ecs_managed_tags: bool,
    propagate_tags: PropagateTags,
    enable_execute_command: bool,
    /// A42: as given, else ENABLED where ECS can rebalance the service, else DISABLED.
    availability_zone_rebalancing: AvailabilityZoneRebalancing,
    /// Kept as given and shown on the deployments it starts (seed 001).
    service_connect: Option<ServiceConnectConfiguration>,
    /// The IAM role given to CreateService, as given.
    role: Option<String>,
    /// The volumes each task gets (EBS), shown on the deployments that use them.
    volume_configurations: Vec<ServiceVolumeConfiguration>,
    created_at: SystemTime,
    tags: Vec<Tag>,
    client_token: Option<(String, Value)>,
    task_sets: TaskSets,
    /// The deployments of an ECS-controller service, newest (PRIMARY) first; EXTERNAL services
    /// have none.
    deployments: Vec<DeploymentRecord>,
    /// Bumped at every change of the deployments, so stale completion events are ignored.
    deployment_generation: u64,
    /// Its service deployments, oldest first, and the revisions they run (ECS controller).
    history: Vec<service_deployments::ServiceDeploymentRecord>,
    revisions: Vec<service_deployments::RevisionRecord>,
}

/// One deployment of an ECS-controller service: its tasks are simulated like a task set's.
struct DeploymentRecord {
    id: String,
    /// The ARN of the service revision it runs.
    revision: String,
    status: DeploymentStatus,
    task_definition: Option<String>,
    launch_type: Option<LaunchType>,
    capacity_provider_strategy: Option<Vec<CapacityProviderStrategyItem>>,
    platform_version: Option<String>,
    network_configuration: Option<NetworkConfiguration>,
    service_connect: Option<ServiceConnectConfiguration>,
    volume_configurations: Vec<ServiceVolumeConfiguration>,
    desired: i32,
    /// The balancers its tasks register in, when not the service's (a native deployment's
    /// green registers in the other target group of each pair).
    load_balancers: Option<Vec<LoadBalancer>>,
    /// Its RUNNING and PENDING tasks.
    tasks: Tasks,
    rollout: DeploymentRolloutState,
    rollout_reason: Option<String>,
    /// Tasks that failed to start (A39).
    failed: i32,
    created_at: SystemTime,
    updated_at: SystemTime,
}

impl ServiceRecord {
    /// RUNNING and PENDING tasks: those of its task sets (EXTERNAL) or its deployments.
    fn task_counts(&self) -> (i32, i32) {
        let sets = self
            .task_sets
            .iter()
            .map(|s| (s.tasks.running(), s.tasks.pending()));
        let deployments = self
            .deployments
            .iter()
            .map(|d| (d.tasks.running(), d.tasks.pending()));
        sets.chain(deployments)
            .fold((0, 0), |(r, p), (sr, sp)| (r + sr, p + sp))
    }
}

impl DeploymentRecord {
    /// A new PRIMARY deployment of the service's current configuration, IN_PROGRESS.
    fn new(svc: &ServiceRecord, id: String, desired: i32, now: SystemTime) -> DeploymentRecord {
        DeploymentRecord {
            rollout_reason: Some(format!("ECS deployment {id} in progress.")),
            revision: services::revision_arn(&svc.arn, &id),
            id,
            status: DeploymentStatus::Primary,
            task_definition: svc.task_definition.clone(),
            launch_type: svc.launch_type.clone(),
            capacity_provider_strategy: svc.capacity_provider_strategy.clone(),
            platform_version: resolved_platform_version(&svc.launch_type, &svc.platform_version),
            network_configuration: svc.network_configuration.clone(),
            service_connect: svc.service_connect.clone(),
            volume_configurations: svc.volume_configurations.clone(),
            desired,
            load_balancers: None,
            tasks: Tasks::default(),
            rollout: DeploymentRolloutState::InProgress,
            failed: 0,
            created_at: now,
            updated_at: now,
        }
    }
}

struct TaskSetRecord {
    id: String,
    arn: String,
    status: TaskSetStatus,
    task_definition: String,
    external_id: Option<String>,
    launch_type: Option<LaunchType>,
    capacity_provider_strategy: Option<Vec<CapacityProviderStrategyItem>>,
    platform_version: Option<String>,
    network_configuration: Option<NetworkConfiguration>,
    load_balancers: Vec<LoadBalancer>,
    service_registries: Vec<ServiceRegistry>,
    scale: Decimal,
    computed: i32,
    /// Its RUNNING and PENDING tasks.
    tasks: Tasks,
    created_at: SystemTime,
    updated_at: SystemTime,
    stability: StabilityStatus,
    stability_at: SystemTime,
    /// Bumped at every change that can affect convergence; events carry the value they were
    /// scheduled under.
    generation: u64,
    /// Generation of the recompute that is due, if one is.
    recompute_due: Option<u64>,
    tags: Vec<Tag>,
    client_token: Option<(String, Value)>,
    /// The cluster's KMS key for Fargate ephemeral storage, for a set that runs on Fargate.
    ephemeral_kms: Option<String>,
}

impl TaskSetRecord {
    /// The PRIMARY task set at 100% that a CODE_DEPLOY service starts with: the service's own
    /// task definition and placement.
    fn primary_of(
        svc: &ServiceRecord,
        cluster: &str,
        service: &str,
        id: String,
        now: SystemTime,
    ) -> TaskSetRecord {
        let arn_prefix = svc
            .arn
            .split_once(":service/")
            .map_or(String::new(), |(p, _)| p.to_owned());
        TaskSetRecord {
            arn: format!("{arn_prefix}:task-set/{cluster}/{service}/{id}"),
            id,
            status: TaskSetStatus::Primary,
            task_definition: svc.task_definition.clone().unwrap_or_default(),
            external_id: None,
            launch_type: svc.launch_type.clone(),
            capacity_provider_strategy: svc.capacity_provider_strategy.clone(),
            platform_version: resolved_platform_version(&svc.launch_type, &svc.platform_version),
            network_configuration: svc.network_configuration.clone(),
            load_balancers: svc.load_balancers.clone(),
            service_registries: svc.service_registries.clone(),
            scale: Decimal::ONE_HUNDRED,
            computed: 0,
            tasks: Tasks::default(),
            created_at: now,
            updated_at: now,
            stability: StabilityStatus::Stabilizing,
            stability_at: now,
            generation: 0,
            recompute_due: None,
            tags: vec![],
            client_token: None,
            ephemeral_kms: None,
        }
    }
}

/// One region's resources.
pub struct State {
    settings: Settings,
    clusters: BTreeMap<String, ClusterRecord>,
    task_definitions: BTreeMap<String, Vec<TaskDefRecord>>,
    queue: Queue,
    rng: fastrand::Rng,
    /// Faults a test injected into the scheduler.
    faults: crate::faults::SchedulerFaults,
    /// When the oldest STOPPED task is to be forgotten, if any task is STOPPED.
    next_task_expiry: Option<SystemTime>,
    /// The region's load balancers, target groups and targets.
    elbv2: Elbv2,
    /// What the hooks' Lambda functions and the alarms answer.
    outside: crate::outside::Outside,
}

/// What an operation handler gets besides its input.
pub struct Ctx<'a> {
    pub now: SystemTime,
    pub ids: &'a dyn IdSource,
    /// The request body as JSON, for idempotency fingerprints.
    pub raw: &'a Value,
}

fn ts(t: SystemTime) -> Option<aws_smithy_types::DateTime> {
    Some(to_datetime(t))
}

fn fingerprint(raw: &Value) -> Value {
    let mut v = raw.clone();
    if let Value::Object(map) = &mut v {
        map.remove("clientToken");
    }
    v
}

impl State {
    pub fn new(settings: Settings) -> Self {
        let rng = match settings.seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        State {
            settings,
            clusters: BTreeMap::new(),
            task_definitions: BTreeMap::new(),
            queue: Queue::default(),
            rng,
            faults: Default::default(),
            next_task_expiry: None,
            elbv2: Elbv2::default(),
            outside: Default::default(),
        }
    }

    /// ECS's check of the target groups a service or task set names: one this region's ELBv2
    /// side holds must be reached from a load balancer (recorded: "The target group with
    /// targetGroupArn ... does not have an associated load balancer.", an
    /// InvalidParameterException of CreateService, UpdateService and CreateTaskSet; the
    /// research notes cite Reckon-Limited/containerless#9 and terraform-provider-aws's retry on
    /// it). A group the emulator does not hold is taken as it was before ELBv2 existed here
    /// (assumed, A57: no AWS record shows the answer for a group that does not exist, and the
    /// suite's fixtures and replayed records name groups outside the emulator).
    ///
    /// Before that, a group's target type must fit the task definition's network mode
    /// (recorded: "The provided target group ... has target type instance, which is
    /// incompatible with the awsvpc network mode specified in the task definition.", pasted
    /// from CreateService and UpdateService errors in several public repositories; the `ip`
    /// and `bridge` case in the same words, from the title of a public question). The type is
    /// checked before the association, as a pasted Terraform session met them in that order.
    fn check_target_groups(
        &self,
        balancers: &[LoadBalancer],
        task_definition: Option<&str>,
    ) -> Result<(), ApiError> {
        let mode = task_definition
            .and_then(|td| self.resolve_task_definition(td).ok())
            .map(|r| {
                r.definition
                    .network_mode
                    .clone()
                    .unwrap_or(NetworkMode::Bridge)
            });
        let groups = || {
            balancers
                .iter()
                .filter_map(|l| l.target_group_arn.as_deref())
        };
        for arn in groups() {
            let clash = match (self.elbv2.target_type(arn), &mode) {
                (Some("instance"), Some(NetworkMode::Awsvpc)) => Some(("instance", "awsvpc")),
                (Some("ip"), Some(NetworkMode::Bridge)) => Some(("ip", "bridge")),
                (Some("ip"), Some(NetworkMode::Host)) => Some(("ip", "host")),
                _ => None,
            };
            if let Some((kind, mode)) = clash {
                return Err(ApiError::invalid(format!(
                    "The provided target group {arn} has target type {kind}, which is incompatible with the {mode} network mode specified in the task definition."
                )));
            }
        }
        for arn in groups() {
            if self.elbv2.has_target_group(arn) && !self.elbv2.is_associated(arn) {
                return Err(ApiError::invalid(format!(
                    "The target group with targetGroupArn {arn} does not have an associated load balancer."
                )));
            }
        }
        Ok(())
    }

    /// Runs one ELBv2 handler on this region's load balancers.
    pub(crate) fn elbv2<I, O>(
        &mut self,
        now: SystemTime,
        handler: fn(&mut Elbv2, I, &mut ElbCtx<'_>) -> Result<O, ApiError>,
        input: I,
    ) -> Result<O, ApiError> {
        let mut ctx = ElbCtx {
            now,
            region: &self.settings.region,
            account: &self.settings.account_id,
            second: self.settings.timing.health_second,
            rng: &mut self.rng,
        };
        handler(&mut self.elbv2, input, &mut ctx)
    }

    /// The delays of the emulated scheduler from now on; what is already scheduled keeps its
    /// moment.
    pub(crate) fn set_timing(&mut self, timing: crate::Timing) {
        self.settings.timing = timing;
    }

    /// The scheduler faults in force from now on.
    pub(crate) fn set_faults(&mut self, faults: crate::faults::SchedulerFaults) {
        self.faults = faults;
    }

    /// New answers of the hooks and alarms; a deployment an alarm now rolls back starts
    /// rolling back at `now`.
    pub(crate) fn set_outside(&mut self, outside: crate::outside::Outside, now: SystemTime) {
        self.advance(now);
        self.outside = outside;
        self.check_alarms(now);
    }

    fn arn(&self, resource: &str) -> String {
        arn::ecs(&self.settings.region, &self.settings.account_id, resource)
    }

    fn cluster_name(param: Option<&str>) -> String {
        param.map_or("default", arn::cluster_name).to_owned()
    }

    fn service_name(param: &str) -> String {
        arn::service_name(param).to_owned()
    }

    fn task_set_id(param: &str) -> String {
        arn::task_set_id(param).to_owned()
    }

    fn active_cluster(&mut self, param: Option<&str>) -> Result<&mut ClusterRecord, ApiError> {
        let name = Self::cluster_name(param);
        match self.clusters.get_mut(&name) {
            Some(c) if c.active => Ok(c),
            _ => Err(ApiError::cluster_not_found()),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Clusters

    // -----------------------------------------------------------------------------------------
    // Task definitions

    // -----------------------------------------------------------------------------------------
    // Services

    // -----------------------------------------------------------------------------------------
    // Task sets

    // -----------------------------------------------------------------------------------------
    // Tags

    /// Invariants that must hold between any two requests (checked by the tests under load).
    pub fn check_invariants(&self) -> Vec<String> {
        let mut problems = vec![];
        for c in self.clusters.values() {
            for (name, svc) in &c.services {
                let primaries = svc
                    .task_sets
                    .iter()
                    .filter(|s| s.status == TaskSetStatus::Primary)
                    .count();
                if primaries > 1 {
                    problems.push(format!("{}/{name}: {primaries} PRIMARY task sets", c.name));
                }
                // Task set ids are unique by construction (`TaskSets` is keyed by id).
                for s in svc.task_sets.iter() {
                    let expected =
                        computed_desired_count_for(svc.desired_count, &scale_of(s.scale))
                            .unwrap_or(-1);
                    // Until its recompute is due, a set shows the count from before the change.
                    if s.status != TaskSetStatus::Draining
                        && s.recompute_due.is_none()
                        && s.computed != expected
                    {
                        problems.push(format!("{}: computed {} != {expected}", s.id, s.computed));
                    }
                    if s.stability == StabilityStatus::SteadyState
                        && (s.tasks.running() != s.computed || s.tasks.pending() != 0)
                    {
                        problems.push(format!(
                            "{}: STEADY_STATE with running {} pending {} computed {}",
                            s.id,
                            s.tasks.running(),
                            s.tasks.pending(),
                            s.computed
                        ));
                    }
                }
            }
        }
        problems.extend(self.task_invariants());
        problems
    }
}

/// The current Fargate platform version on Linux, which AWS answers for task sets and
/// deployments where the request said LATEST or nothing.
pub const CURRENT_FARGATE_PLATFORM_VERSION: &str = "1.4.0";

/// One page of a listing, as AWS pages: at most `max_results` (1..=`cap`, `default` when not
/// given) items from where `next_token` (opaque, made by an earlier page) says, and the token of
/// the next page when there is one.
fn page<T: Clone>(
    items: &[T],
    max_results: Option<i32>,
    next_token: Option<&str>,
    default: i32,
    cap: i32,
    kind: &str,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = max_results.unwrap_or(default);
    if !(1..=cap).contains(&max) {
        return Err(ApiError::invalid(format!(
            "maxResults must be between 1 and {cap}."
        )));
    }
    let start = match next_token {
        Some(t) => t
            .strip_prefix(kind)
            .and_then(|n| n.strip_prefix('-'))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| ApiError::invalid("Invalid nextToken."))?,
        None => 0,
    };
    let end = (start + usize::try_from(max).unwrap_or(1)).min(items.len());
    Ok((
        items[start..end].to_vec(),
        (end < items.len()).then(|| format!("{kind}-{end}")),
    ))
}

/// A `failures` entry for something that does not exist.
fn missing_entry(arn: String, detail: Option<String>) -> Failure {
    Failure::builder()
        .arn(arn)
        .reason("MISSING")
        .set_detail(detail)
        .build()
}

/// Cluster, service and family names: 1..=255 letters, digits, hyphens and underscores.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn cluster_arn_of(service_arn: &str) -> String {
    let swapped = service_arn.replacen(":service/", ":cluster/", 1);
    swapped
        .rsplit_once('/')
        .map(|(c, _)| c.to_owned())
        .unwrap_or(swapped)
}

fn scale_of(value: Decimal) -> Scale {
    Scale::builder()
        .value(value)
        .unit(ScaleUnit::Percent)
        .build()
}

/// `assignPublicIp` defaults to DISABLED.
fn with_default_public_ip(mut n: NetworkConfiguration) -> NetworkConfiguration {
    if let Some(a) = &mut n.awsvpc_configuration {
        if a.assign_public_ip.is_none() {
            a.assign_public_ip = Some(AssignPublicIp::Disabled);
        }
    }
    n
}

impl TaskSetRecord {
    /// DRAINING from now on: the scheduler stops its tasks, then it disappears. It keeps its
    /// scale and computed count (A17).
    fn start_draining(&mut self, now: SystemTime) {
        self.status = TaskSetStatus::Draining;
        self.generation += 1;
        self.recompute_due = None;
        self.stability = StabilityStatus::Stabilizing;
        self.stability_at = now;
        self.updated_at = now;
    }

    fn render(&self, service_arn: &str, cluster_arn: &str, with_tags: bool) -> TaskSet {
        TaskSet::builder()
            .id(self.id.clone())
            .task_set_arn(self.arn.clone())
            .service_arn(service_arn.to_owned())
            .cluster_arn(cluster_arn.to_owned())
            .set_external_id(self.external_id.clone())
            .status(self.status.clone())
            .task_definition(self.task_definition.clone())
            .computed_desired_count(self.computed)
            .pending_count(self.tasks.pending())
            .running_count(self.tasks.running())
            .set_created_at(ts(self.created_at))
            .set_updated_at(ts(self.updated_at))
            .set_launch_type(self.launch_type.clone())
            .set_capacity_provider_strategy(self.capacity_provider_strategy.clone())
            .set_platform_version(self.platform_version.clone())
            .set_platform_family(services::platform_family(
                &self.launch_type,
                &self.capacity_provider_strategy,
            ))
            .set_network_configuration(self.network_configuration.clone())
            .set_load_balancers(Some(self.load_balancers.clone()))
            .set_service_registries(Some(self.service_registries.clone()))
            .scale(scale_of(self.scale))
            .stability_status(self.stability.clone())
            .set_stability_status_at(ts(self.stability_at))
            .set_tags(with_tags.then(|| self.tags.clone()))
            .set_fargate_ephemeral_storage(self.ephemeral_kms.as_ref().map(|k| {
                DeploymentEphemeralStorage::builder()
                    .kms_key_id(k.clone())
                    .build()
            }))
            .build()
    }
}

/// What the rooms' unit tests share: a state in the default settings and a way to call its
/// handlers at a chosen time, as the engine does.
#[cfg(test)]
pub(super) mod testing {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde_json::Value;

    use super::{Ctx, Settings, State};
    use crate::clock::SequentialIds;
    use crate::error::ApiError;

    /// `secs` after a fixed start.
    pub fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    /// A region's state and an id source.
    pub struct Region {
        pub state: State,
        ids: SequentialIds,
        /// The time of the next call.
        pub now: SystemTime,
    }

    impl Region {
        pub fn new() -> Region {
            Region {
                state: State::new(Settings::default()),
                ids: SequentialIds::default(),
                now: at(0),
            }
        }

        /// Calls `handler` with `input` at `self.now`, after the events due by then.
        pub fn call<I: serde::Serialize, O>(
            &mut self,
            handler: fn(&mut State, I, &Ctx) -> Result<O, ApiError>,
            input: I,
        ) -> Result<O, ApiError> {
            let raw = serde_json::to_value(&input).unwrap_or(Value::Null);
            self.state.advance(self.now);
            let ctx = Ctx {
                now: self.now,
                ids: &self.ids,
                raw: &raw,
            };
            handler(&mut self.state, input, &ctx)
        }

        /// Moves time forward and applies what is due.
        pub fn wait(&mut self, secs: u64) {
            self.now += Duration::from_secs(secs);
            self.state.advance(self.now);
        }
    }
}

/// Steps several rooms' tests share: a cluster `c`, the task definition `web` and a service.
#[cfg(test)]
pub(super) mod fixtures {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use ecs_model::types::*;

    use super::testing::Region;
    use super::State;

    /// A revision of the task definition `web`, one container running `image`.
    pub fn register(r: &mut Region, image: &str) -> TaskDefinition {
        r.call(
            State::register_task_definition,
            RegisterTaskDefinitionRequest::builder()
                .family("web")
                .set_container_definitions(Some(vec![ContainerDefinition::builder()
                    .name("web")
                    .image(image)
                    .memory(128)
                    .build()]))
                .build(),
        )
        .unwrap()
        .task_definition
        .unwrap()
    }

    /// Cluster `c`, task definition `web:1` and the service `svc` of `desired` tasks under
    /// `controller`.
    pub fn service(r: &mut Region, controller: DeploymentControllerType, desired: i32) -> Service {
        r.call(
            State::create_cluster,
            CreateClusterRequest::builder().cluster_name("c").build(),
        )
        .unwrap();
        register(r, "public.ecr.aws/nginx/nginx:1.27");
        let task_definition =
            (controller != DeploymentControllerType::External).then(|| "web".into());
        r.call(
            State::create_service,
            CreateServiceRequest::builder()
                .cluster("c")
                .service_name("svc")
                .desired_count(desired)
                .set_task_definition(task_definition)
                .deployment_controller(DeploymentController::of(controller))
                .build(),
        )
        .unwrap()
        .service
        .unwrap()
    }
}
