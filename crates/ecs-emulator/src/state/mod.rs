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

mod sim;
mod task_sets;

use task_sets::TaskSets;

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
    definition: TaskDefinition,
    tags: Vec<Tag>,
}

/// Fargate platform versions (Linux and Windows) that exist; others answer
/// PlatformUnknownException (A30).
const FARGATE_PLATFORM_VERSIONS: &[&str] = &["LATEST", "1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"];

/// What every request that places tasks shares (CreateService, CreateTaskSet, UpdateService):
/// a platform version only for Fargate and only one that exists (A28, A30), no placement
/// constraints on Fargate (A31), placement strategy fields that fit their type (A34), and a
/// strategy of several providers with a weight above 0 (A29).
fn check_placement(
    launch_type: Option<&LaunchType>,
    platform_version: Option<&str>,
    placement_constraints: Option<&[PlacementConstraint]>,
    placement_strategy: Option<&[PlacementStrategy]>,
    strategy: Option<&[CapacityProviderStrategyItem]>,
) -> Result<(), ApiError> {
    for rule in placement_strategy.unwrap_or_default() {
        let field = rule.field.as_deref();
        let bad = match rule.r#type {
            Some(PlacementStrategyType::Binpack) => !matches!(field, Some("cpu" | "memory")),
            Some(PlacementStrategyType::Random) => field.is_some(),
            _ => false,
        };
        if bad {
            return Err(ApiError::invalid(format!(
                "The placement strategy field {} does not fit its type: binpack takes cpu or memory, random takes no field.",
                field.unwrap_or("(none)")
            )));
        }
    }
    if let Some(version) = platform_version {
        if matches!(
            launch_type,
            Some(LaunchType::Ec2) | Some(LaunchType::External)
        ) {
            return Err(ApiError::invalid(
                "The platform version must be null when specifying an EC2 launch type.",
            ));
        }
        if !FARGATE_PLATFORM_VERSIONS.contains(&version) {
            return Err(ApiError::new(
                400,
                "PlatformUnknownException",
                format!("The specified platform version ({version}) does not exist."),
            ));
        }
    }
    if launch_type == Some(&LaunchType::Fargate)
        && placement_constraints.is_some_and(|c| !c.is_empty())
    {
        return Err(ApiError::invalid(
            "Task placement constraints are not supported for the Fargate launch type.",
        ));
    }
    if let Some(strategy) = strategy {
        if strategy.len() > 1 && strategy.iter().all(|i| i.weight.unwrap_or(0) == 0) {
            return Err(ApiError::invalid(
                "At least one capacity provider in a strategy of several must have a weight greater than 0.",
            ));
        }
    }
    Ok(())
}

/// The image tag that never pulls (A39): a task of a task definition with such an image fails
/// to start, again and again, as a task whose image does not exist does on AWS.
pub(crate) const UNPULLABLE_TAG: &str = "no-such-tag";

/// Whether `image` names the tag that never pulls.
fn unpullable(image: &str) -> bool {
    let name = image.rsplit('/').next().unwrap_or(image);
    name.rsplit_once(':')
        .is_some_and(|(_, tag)| tag == UNPULLABLE_TAG)
}

/// Platform versions before 1.4.0, which lack what later ones added (A37).
const FARGATE_BEFORE_1_4: &[&str] = &["1.0.0", "1.1.0", "1.2.0", "1.3.0"];

/// A37: a task definition with ephemeral storage needs Fargate platform 1.4.0 or later
/// (PlatformTaskDefinitionIncompatibilityException), and FARGATE_SPOT needs 1.3.0 or later
/// (InvalidParameterException).
fn check_platform_fits(
    definition: &TaskDefinition,
    platform_version: Option<&str>,
    strategy: Option<&[CapacityProviderStrategyItem]>,
) -> Result<(), ApiError> {
    let Some(version) = platform_version else {
        return Ok(());
    };
    let spot = strategy
        .unwrap_or_default()
        .iter()
        .any(|i| i.capacity_provider.as_deref() == Some("FARGATE_SPOT"));
    if spot && FARGATE_BEFORE_1_4[..3].contains(&version) {
        return Err(ApiError::invalid(format!(
            "FARGATE_SPOT runs on platform version 1.3.0 or later, not {version}."
        )));
    }
    if definition.ephemeral_storage.is_some() && FARGATE_BEFORE_1_4.contains(&version) {
        return Err(ApiError::new(
            400,
            "PlatformTaskDefinitionIncompatibilityException",
            format!("The task definition's ephemeral storage needs platform version 1.4.0 or later, not {version}."),
        ));
    }
    Ok(())
}

/// What Service Connect refuses (A36): a portName that no port mapping of the task definition
/// names, a discoveryName over 64 characters, a service with no client alias or more than one,
/// a dnsName over 127 characters or with characters outside a-z 0-9 _ - . (or starting with
/// a hyphen), and on Fargate a log driver other than awslogs, splunk and awsfirelens.
fn check_service_connect(
    config: &ServiceConnectConfiguration,
    definition: Option<&TaskDefinition>,
    launch_type: Option<&LaunchType>,
) -> Result<(), ApiError> {
    let port_names: Vec<&str> = definition
        .and_then(|d| d.container_definitions.as_deref())
        .unwrap_or_default()
        .iter()
        .flat_map(|c| c.port_mappings.as_deref().unwrap_or_default())
        .filter_map(|m| m.name.as_deref())
        .collect();
    for service in config.services.as_deref().unwrap_or_default() {
        let port_name = service.port_name.as_deref().unwrap_or_default();
        if !port_names.contains(&port_name) {
            return Err(ApiError::invalid(format!(
                "Service Connect portName {port_name} does not name a port mapping of the task definition."
            )));
        }
        if service
            .discovery_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > 64)
        {
            return Err(ApiError::invalid(
                "A Service Connect discoveryName has at most 64 characters.",
            ));
        }
        let aliases = service.client_aliases.as_deref().unwrap_or_default();
        if aliases.len() != 1 {
            return Err(ApiError::invalid(format!(
                "A Service Connect service takes exactly one client alias with a port; {} given.",
                aliases.len()
            )));
        }
        for alias in aliases {
            if let Some(dns) = alias.dns_name.as_deref() {
                let fits = dns.chars().count() <= 127
                    && !dns.starts_with('-')
                    && dns.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.')
                    });
                if !fits {
                    return Err(ApiError::invalid(format!(
                        "The Service Connect dnsName {dns} is not a DNS name of at most 127 characters."
                    )));
                }
            }
        }
    }
    if launch_type == Some(&LaunchType::Fargate) {
        if let Some(driver) = config
            .log_configuration
            .as_ref()
            .and_then(|l| l.log_driver.as_ref())
        {
            if !matches!(
                driver,
                LogDriver::Awslogs | LogDriver::Splunk | LogDriver::Awsfirelens
            ) {
                return Err(ApiError::invalid(
                    "On Fargate, Service Connect logs go to awslogs, splunk or awsfirelens.",
                ));
            }
        }
    }
    Ok(())
}

/// AWS's message when a grace period is given to a service without a load balancer
/// (hashicorp/terraform-provider-aws issue 31104).
const GRACE_PERIOD_NEEDS_LOAD_BALANCER: &str =
    "Health check grace period is only valid for services configured to use load balancers";

struct ClusterRecord {
    name: String,
    arn: String,
    active: bool,
    tags: Vec<Tag>,
    settings: Option<Vec<ClusterSetting>>,
    /// The capacity providers associated with the cluster, and its default strategy.
    capacity_providers: Vec<String>,
    default_strategy: Vec<CapacityProviderStrategyItem>,
    configuration: Option<ClusterConfiguration>,
    services: BTreeMap<String, ServiceRecord>,
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
    /// Kept as given and shown on the deployments it starts (seed 001).
    service_connect: Option<ServiceConnectConfiguration>,
    created_at: SystemTime,
    tags: Vec<Tag>,
    client_token: Option<(String, Value)>,
    task_sets: TaskSets,
    /// The deployments of an ECS-controller service, newest (PRIMARY) first; EXTERNAL services
    /// have none.
    deployments: Vec<DeploymentRecord>,
    /// Bumped at every change of the deployments, so stale completion events are ignored.
    deployment_generation: u64,
}

/// One deployment of an ECS-controller service: its tasks are simulated like a task set's.
struct DeploymentRecord {
    id: String,
    status: DeploymentStatus,
    task_definition: Option<String>,
    launch_type: Option<LaunchType>,
    capacity_provider_strategy: Option<Vec<CapacityProviderStrategyItem>>,
    platform_version: Option<String>,
    network_configuration: Option<NetworkConfiguration>,
    service_connect: Option<ServiceConnectConfiguration>,
    desired: i32,
    running: i32,
    pending: Tasks,
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
            .map(|s| (s.running, s.pending.count()));
        let deployments = self
            .deployments
            .iter()
            .map(|d| (d.running, d.pending.count()));
        sets.chain(deployments)
            .fold((0, 0), |(r, p), (sr, sp)| (r + sr, p + sp))
    }
}

impl DeploymentRecord {
    /// A new PRIMARY deployment of the service's current configuration, IN_PROGRESS.
    fn new(svc: &ServiceRecord, id: String, now: SystemTime) -> DeploymentRecord {
        DeploymentRecord {
            id,
            status: DeploymentStatus::PRIMARY,
            task_definition: svc.task_definition.clone(),
            launch_type: svc.launch_type.clone(),
            capacity_provider_strategy: svc.capacity_provider_strategy.clone(),
            platform_version: resolved_platform_version(&svc.launch_type, &svc.platform_version),
            network_configuration: svc.network_configuration.clone(),
            service_connect: svc.service_connect.clone(),
            desired: svc.desired_count,
            running: 0,
            pending: Tasks::default(),
            rollout: DeploymentRolloutState::InProgress,
            rollout_reason: None,
            failed: 0,
            created_at: now,
            updated_at: now,
        }
    }
}

/// PENDING tasks, in batches that start together.
#[derive(Default)]
struct Tasks {
    batches: Vec<(u64, i32)>,
    next_batch: u64,
}

impl Tasks {
    fn count(&self) -> i32 {
        self.batches.iter().map(|(_, n)| n).sum()
    }

    /// A new batch of `n` PENDING tasks; its id.
    fn add(&mut self, n: i32) -> u64 {
        self.next_batch += 1;
        self.batches.push((self.next_batch, n));
        self.next_batch
    }

    /// Removes the batch (it started); how many tasks it had.
    fn take(&mut self, batch: u64) -> i32 {
        match self.batches.iter().position(|(b, _)| *b == batch) {
            Some(i) => self.batches.remove(i).1,
            None => 0,
        }
    }

    /// Starts or stops tasks so that `running` plus the PENDING ones is `target`: a new
    /// PENDING batch for what is missing (its id is returned, to schedule its start), or the
    /// excess cancelled, PENDING tasks first. Returns whether anything changed.
    fn reconcile(&mut self, running: &mut i32, target: i32) -> (bool, Option<u64>) {
        let have = *running + self.count();
        if target > have {
            (true, Some(self.add(target - have)))
        } else if target < have {
            let excess = have - target;
            *running -= excess - self.cancel(excess);
            (true, None)
        } else {
            (false, None)
        }
    }

    /// Cancels up to `n` PENDING tasks, newest first; how many were cancelled.
    fn cancel(&mut self, mut n: i32) -> i32 {
        let mut cancelled = 0;
        while n > 0 {
            match self.batches.last_mut() {
                Some((_, k)) if *k > n => {
                    *k -= n;
                    cancelled += n;
                    n = 0;
                }
                Some((_, k)) => {
                    n -= *k;
                    cancelled += *k;
                    self.batches.pop();
                }
                None => break,
            }
        }
        cancelled
    }

    fn clear(&mut self) {
        self.batches.clear();
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
    running: i32,
    pending: Tasks,
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
            status: TaskSetStatus::PRIMARY,
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
            running: 0,
            pending: Tasks::default(),
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
        }
    }

    /// The scheduler faults in force from now on.
    pub(crate) fn set_faults(&mut self, faults: crate::faults::SchedulerFaults) {
        self.faults = faults;
    }

    /// Whether the tasks of `service` never start: their image does not exist (A39), or a test
    /// made them stuck.
    fn tasks_stuck(&self, service: &str, task_definition: &str) -> bool {
        self.faults.stuck_services.contains(service) || self.tasks_fail(task_definition)
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

    /// The strategy a request places with: its own, or, with neither a launch type nor a
    /// strategy, the cluster's default (A33). Every provider must be associated with the
    /// cluster.
    fn placement_strategy(
        &self,
        cluster: Option<&str>,
        launch_type: Option<&LaunchType>,
        strategy: Option<&Vec<CapacityProviderStrategyItem>>,
    ) -> Result<Option<Vec<CapacityProviderStrategyItem>>, ApiError> {
        let Some(c) = self.clusters.get(&Self::cluster_name(cluster)) else {
            return Ok(strategy.cloned());
        };
        let strategy = match strategy {
            Some(s) => Some(s.clone()),
            None if launch_type.is_none() && !c.default_strategy.is_empty() => {
                Some(c.default_strategy.clone())
            }
            None => None,
        };
        // A provider without a weight or base has 0 of each (seeds 000-004), and says so.
        let strategy = strategy.map(|items| {
            items
                .into_iter()
                .map(|i| CapacityProviderStrategyItem {
                    weight: Some(i.weight.unwrap_or(0)),
                    base: Some(i.base.unwrap_or(0)),
                    ..i
                })
                .collect::<Vec<_>>()
        });
        for item in strategy.iter().flatten() {
            let name = item.capacity_provider.as_deref().unwrap_or_default();
            if !c.capacity_providers.iter().any(|p| p == name) {
                return Err(ApiError::invalid(format!(
                    "The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster ({name}). Associate the capacity provider with the cluster or specify a valid capacity provider and try again."
                )));
            }
        }
        Ok(strategy)
    }

    fn active_cluster(&mut self, param: Option<&str>) -> Result<&mut ClusterRecord, ApiError> {
        let name = Self::cluster_name(param);
        match self.clusters.get_mut(&name) {
            Some(c) if c.active => Ok(c),
            _ => Err(ApiError::cluster_not_found()),
        }
    }

    fn service_mut(
        &mut self,
        cluster: Option<&str>,
        service: Option<&str>,
    ) -> Result<&mut ServiceRecord, ApiError> {
        let name = Self::service_name(service.unwrap_or_default());
        let cluster = self.active_cluster(cluster)?;
        cluster
            .services
            .get_mut(&name)
            .ok_or_else(ApiError::service_not_found)
    }

    /// A service that task-set operations may act on: ACTIVE and EXTERNAL.
    fn task_set_service(
        &mut self,
        cluster: Option<&str>,
        service: Option<&str>,
    ) -> Result<&mut ServiceRecord, ApiError> {
        let svc = self.service_mut(cluster, service)?;
        if svc.status != ServiceStatus::ACTIVE {
            return Err(ApiError::service_not_active());
        }
        if svc.controller != DeploymentControllerType::External {
            return Err(ApiError::invalid("Task sets can only be managed on services whose deployment controller is EXTERNAL."));
        }
        Ok(svc)
    }

    fn resolve_task_definition(&self, param: &str) -> Result<&TaskDefRecord, ApiError> {
        let spec = match arn::Arn::parse(param).map(|a| a.resource) {
            Some(r) => r.strip_prefix("task-definition/").unwrap_or(r),
            None => param,
        };
        let missing = || ApiError::client(format!("Task definition {param} was not found."));
        let (family, revision) = match spec.rsplit_once(':') {
            Some((f, r)) => (f, Some(r.parse::<usize>().map_err(|_| missing())?)),
            None => (spec, None),
        };
        let revisions = self.task_definitions.get(family).ok_or_else(missing)?;
        match revision {
            Some(n) => revisions.get(n.wrapping_sub(1)).ok_or_else(missing),
            None => revisions
                .iter()
                .rev()
                .find(|r| r.definition.status == Some(TaskDefinitionStatus::Active))
                .ok_or_else(missing),
        }
    }

    /// Whether the tasks of `task_definition` fail to start (A39).
    fn tasks_fail(&self, task_definition: &str) -> bool {
        self.resolve_task_definition(task_definition)
            .ok()
            .and_then(|r| r.definition.container_definitions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.image.as_deref().is_some_and(unpullable)))
    }

    fn task_definition_arn(&self, param: &str) -> Result<String, ApiError> {
        let record = self.resolve_task_definition(param)?;
        record
            .definition
            .task_definition_arn
            .clone()
            .ok_or_else(|| ApiError::client("task definition without ARN"))
    }

    // -----------------------------------------------------------------------------------------
    // Clusters

    fn render_cluster(c: &ClusterRecord, with_tags: bool) -> Cluster {
        let active_services = c
            .services
            .values()
            .filter(|s| s.status == ServiceStatus::ACTIVE)
            .count();
        let (running, pending) = c
            .services
            .values()
            .map(ServiceRecord::task_counts)
            .fold((0, 0), |(r, p), (sr, sp)| (r + sr, p + sp));
        Cluster {
            cluster_arn: Some(c.arn.clone()),
            cluster_name: Some(c.name.clone()),
            status: Some(if c.active {
                ClusterStatus::ACTIVE
            } else {
                ClusterStatus::INACTIVE
            }),
            registered_container_instances_count: Some(0),
            running_tasks_count: Some(running),
            pending_tasks_count: Some(pending),
            active_services_count: Some(i32::try_from(active_services).unwrap_or(i32::MAX)),
            statistics: Some(vec![]),
            tags: with_tags.then(|| c.tags.clone()),
            settings: c.settings.clone(),
            configuration: c.configuration.clone(),
            capacity_providers: Some(c.capacity_providers.clone()),
            default_capacity_provider_strategy: Some(c.default_strategy.clone()),
            ..Default::default()
        }
    }

    pub fn create_cluster(
        &mut self,
        req: CreateClusterRequest,
        _ctx: &Ctx,
    ) -> Result<CreateClusterResponse, ApiError> {
        let name = req.cluster_name.unwrap_or_else(|| "default".to_owned());
        if !valid_name(&name) {
            return Err(ApiError::invalid(
                "A cluster name has up to 255 letters, numbers, hyphens and underscores.",
            ));
        }
        let arn = self.arn(&format!("cluster/{name}"));
        let cluster = self
            .clusters
            .entry(name.clone())
            .or_insert_with(|| ClusterRecord {
                name: name.clone(),
                arn,
                active: false,
                tags: vec![],
                settings: None,
                capacity_providers: vec![],
                default_strategy: vec![],
                configuration: None,
                services: BTreeMap::new(),
            });
        if !cluster.active {
            let providers = req.capacity_providers.unwrap_or_default();
            let strategy = req.default_capacity_provider_strategy.unwrap_or_default();
            if let Some(item) = strategy.iter().find(|i| {
                !providers.contains(i.capacity_provider.as_ref().unwrap_or(&String::new()))
            }) {
                return Err(ApiError::invalid(format!(
                    "The default capacity provider strategy names {}, which is not among the cluster's capacity providers.",
                    item.capacity_provider.as_deref().unwrap_or_default()
                )));
            }
            cluster.active = true;
            cluster.tags = req.tags.unwrap_or_default();
            cluster.settings = req.settings;
            cluster.capacity_providers = providers;
            cluster.default_strategy = strategy;
            cluster.configuration = req.configuration;
            cluster.services.clear();
        }
        Ok(CreateClusterResponse {
            cluster: Some(Self::render_cluster(cluster, true)),
            ..Default::default()
        })
    }

    pub fn describe_clusters(
        &mut self,
        req: DescribeClustersRequest,
        _ctx: &Ctx,
    ) -> Result<DescribeClustersResponse, ApiError> {
        let with_tags = req
            .include
            .as_ref()
            .is_some_and(|i| i.contains(&ClusterField::Tags));
        let names = req.clusters.unwrap_or_else(|| vec!["default".to_owned()]);
        let mut clusters = vec![];
        let mut failures = vec![];
        for param in names {
            let name = Self::cluster_name(Some(&param));
            match self.clusters.get(&name) {
                Some(c) => clusters.push(Self::render_cluster(c, with_tags)),
                None => failures.push(missing_entry(self.arn(&format!("cluster/{name}")), None)),
            }
        }
        Ok(DescribeClustersResponse {
            clusters: Some(clusters),
            failures: Some(failures),
            ..Default::default()
        })
    }

    pub fn delete_cluster(
        &mut self,
        req: DeleteClusterRequest,
        _ctx: &Ctx,
    ) -> Result<DeleteClusterResponse, ApiError> {
        let cluster = self.active_cluster(req.cluster.as_deref())?;
        if cluster
            .services
            .values()
            .any(|s| s.status != ServiceStatus::INACTIVE)
        {
            return Err(ApiError::cluster_contains_services());
        }
        cluster.active = false;
        Ok(DeleteClusterResponse {
            cluster: Some(Self::render_cluster(cluster, true)),
            ..Default::default()
        })
    }

    // -----------------------------------------------------------------------------------------
    // Task definitions

    pub fn register_task_definition(
        &mut self,
        req: RegisterTaskDefinitionRequest,
        ctx: &Ctx,
    ) -> Result<RegisterTaskDefinitionResponse, ApiError> {
        let family = req.family.clone().unwrap_or_default();
        if !valid_name(&family) {
            return Err(ApiError::client(
                "A family has up to 255 letters, numbers, hyphens and underscores.",
            ));
        }
        if req.container_definitions.as_ref().is_none_or(Vec::is_empty) {
            return Err(ApiError::client("Container list cannot be empty."));
        }
        let revision = self.task_definitions.get(&family).map_or(0, Vec::len) + 1;
        let arn = self.arn(&format!("task-definition/{family}:{revision}"));
        // Every request member that TaskDefinition also has is echoed, through the model.
        let mut value = serde_json::to_value(&req).map_err(|e| ApiError::client(e.to_string()))?;
        let known = ecs_model::schema::document()["$defs"]["TaskDefinition"]["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if let Value::Object(map) = &mut value {
            map.retain(|k, _| known.contains_key(k));
        }
        let mut definition: TaskDefinition =
            ecs_model::from_value(&value).map_err(|e| ApiError::client(e.to_string()))?;
        let mut compatibilities = vec![Compatibility::Ec2];
        if req
            .requires_compatibilities
            .as_ref()
            .is_some_and(|c| c.contains(&Compatibility::Fargate))
            || req.network_mode == Some(NetworkMode::Awsvpc)
        {
            compatibilities.push(Compatibility::Fargate);
        }
        definition.task_definition_arn = Some(arn);
        definition.revision = Some(i32::try_from(revision).unwrap_or(i32::MAX));
        definition.status = Some(TaskDefinitionStatus::Active);
        definition.compatibilities = Some(compatibilities);
        definition.registered_at = ts(ctx.now);
        let tags = req.tags.unwrap_or_default();
        self.task_definitions
            .entry(family)
            .or_default()
            .push(TaskDefRecord {
                definition: definition.clone(),
                tags: tags.clone(),
            });
        Ok(RegisterTaskDefinitionResponse {
            task_definition: Some(definition),
            tags: (!tags.is_empty()).then_some(tags),
            ..Default::default()
        })
    }

    pub fn describe_task_definition(
        &mut self,
        req: DescribeTaskDefinitionRequest,
        _ctx: &Ctx,
    ) -> Result<DescribeTaskDefinitionResponse, ApiError> {
        let record =
            self.resolve_task_definition(req.task_definition.as_deref().unwrap_or_default())?;
        let with_tags = req
            .include
            .as_ref()
            .is_some_and(|i| i.contains(&TaskDefinitionField::Tags));
        Ok(DescribeTaskDefinitionResponse {
            task_definition: Some(record.definition.clone()),
            tags: with_tags.then(|| record.tags.clone()),
            ..Default::default()
        })
    }

    pub fn deregister_task_definition(
        &mut self,
        req: DeregisterTaskDefinitionRequest,
        ctx: &Ctx,
    ) -> Result<DeregisterTaskDefinitionResponse, ApiError> {
        let param = req.task_definition.unwrap_or_default();
        let spec = arn::Arn::parse(&param)
            .map(|a| a.resource)
            .map(|r| r.strip_prefix("task-definition/").unwrap_or(r))
            .unwrap_or(&param);
        if !spec.contains(':') {
            return Err(ApiError::client(
                "A revision is required to deregister a task definition.",
            ));
        }
        let arn = self.task_definition_arn(&param)?;
        let record = self
            .task_definitions
            .values_mut()
            .flatten()
            .find(|r| r.definition.task_definition_arn.as_deref() == Some(arn.as_str()))
            .ok_or_else(|| ApiError::client("Task definition not found."))?;
        if record.definition.status == Some(TaskDefinitionStatus::Active) {
            record.definition.status = Some(TaskDefinitionStatus::Inactive);
            record.definition.deregistered_at = ts(ctx.now);
        }
        Ok(DeregisterTaskDefinitionResponse {
            task_definition: Some(record.definition.clone()),
            ..Default::default()
        })
    }

    // -----------------------------------------------------------------------------------------
    // Services

    fn render_service(
        &self,
        cluster: &ClusterRecord,
        name: &str,
        svc: &ServiceRecord,
        with_tags: bool,
    ) -> Service {
        let (running, pending) = svc.task_counts();
        let deployments = svc
            .deployments
            .iter()
            .map(|d| Deployment {
                id: Some(d.id.clone()),
                status: Some(d.status.clone()),
                task_definition: d.task_definition.clone(),
                desired_count: Some(d.desired),
                pending_count: Some(d.pending.count()),
                running_count: Some(d.running),
                failed_tasks: Some(d.failed),
                rollout_state_reason: d.rollout_reason.clone(),
                created_at: ts(d.created_at),
                updated_at: ts(d.updated_at),
                launch_type: d.launch_type.clone(),
                capacity_provider_strategy: d.capacity_provider_strategy.clone(),
                platform_version: d.platform_version.clone(),
                network_configuration: d.network_configuration.clone(),
                service_connect_configuration: d.service_connect.clone(),
                rollout_state: Some(d.rollout.clone()),
                ..Default::default()
            })
            .collect();
        Service {
            service_arn: Some(svc.arn.clone()),
            service_name: Some(name.to_owned()),
            cluster_arn: Some(cluster.arn.clone()),
            load_balancers: Some(svc.load_balancers.clone()),
            service_registries: Some(svc.service_registries.clone()),
            status: Some(svc.status.clone()),
            desired_count: Some(svc.desired_count),
            running_count: Some(running),
            pending_count: Some(pending),
            launch_type: svc.launch_type.clone(),
            capacity_provider_strategy: svc.capacity_provider_strategy.clone(),
            platform_version: svc.platform_version.clone(),
            task_definition: svc.task_definition.clone(),
            deployment_configuration: Some(svc.deployment_configuration.clone()),
            // Only EXTERNAL and CODE_DEPLOY services have task sets.
            task_sets: Some(
                svc.task_sets
                    .iter()
                    .map(|t| t.render(&svc.arn, &cluster.arn, false))
                    .collect(),
            ),
            deployments: Some(deployments),
            role_arn: Some(format!(
                "arn:aws:iam::{}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
                self.settings.account_id
            )),
            events: Some(vec![]),
            created_at: ts(svc.created_at),
            placement_constraints: Some(svc.placement_constraints.clone()),
            placement_strategy: Some(svc.placement_strategy.clone()),
            network_configuration: svc.network_configuration.clone(),
            health_check_grace_period_seconds: svc.health_check_grace_period_seconds,
            scheduling_strategy: Some(svc.scheduling_strategy.clone()),
            deployment_controller: Some(DeploymentController {
                r#type: Some(svc.controller.clone()),
                ..Default::default()
            }),
            tags: with_tags.then(|| svc.tags.clone()),
            enable_ecs_managed_tags: Some(svc.enable_ecs_managed_tags),
            propagate_tags: Some(svc.propagate_tags.clone()),
            enable_execute_command: Some(svc.enable_execute_command),
            ..Default::default()
        }
    }

    fn service_answer(
        &self,
        cluster: Option<&str>,
        name: &str,
        with_tags: bool,
    ) -> Result<Service, ApiError> {
        let cname = Self::cluster_name(cluster);
        let c = self
            .clusters
            .get(&cname)
            .ok_or_else(ApiError::cluster_not_found)?;
        let svc = c
            .services
            .get(name)
            .ok_or_else(ApiError::service_not_found)?;
        Ok(self.render_service(c, name, svc, with_tags))
    }

    pub fn create_service(
        &mut self,
        req: CreateServiceRequest,
        ctx: &Ctx,
    ) -> Result<CreateServiceResponse, ApiError> {
        let name = req.service_name.clone().unwrap_or_default();
        if !valid_name(&name) {
            return Err(ApiError::invalid(
                "A service name has up to 255 letters, numbers, hyphens and underscores.",
            ));
        }
        let controller = req
            .deployment_controller
            .as_ref()
            .and_then(|d| d.r#type.clone())
            .unwrap_or(DeploymentControllerType::Ecs);
        let task_definition =
            match &req.task_definition {
                Some(td) => Some(self.task_definition_arn(td)?),
                None if controller == DeploymentControllerType::External => None,
                None => return Err(ApiError::invalid(
                    "A task definition is required unless the deployment controller is EXTERNAL.",
                )),
            };
        if let Some(arn) = &task_definition {
            let definition = &self.resolve_task_definition(arn)?.definition;
            check_platform_fits(
                definition,
                req.platform_version.as_deref(),
                req.capacity_provider_strategy.as_deref(),
            )?;
            if let Some(config) = &req.service_connect_configuration {
                check_service_connect(config, Some(definition), req.launch_type.as_ref())?;
            }
        } else if let Some(config) = &req.service_connect_configuration {
            check_service_connect(config, None, req.launch_type.as_ref())?;
        }
        let cluster_param = req.cluster.clone();
        let arn_prefix = self.arn("service");
        let fp = fingerprint(ctx.raw);
        let strategy = self.placement_strategy(
            cluster_param.as_deref(),
            req.launch_type.as_ref(),
            req.capacity_provider_strategy.as_ref(),
        )?;
        let cluster = self.active_cluster(cluster_param.as_deref())?;
        if let Some(existing) = cluster.services.get(&name) {
            if existing.status != ServiceStatus::INACTIVE {
                let same_token = match (&existing.client_token, &req.client_token) {
                    (Some((t, f)), Some(token)) => t == token && *f == fp,
                    _ => false,
                };
                if same_token {
                    return Ok(CreateServiceResponse {
                        service: Some(self.service_answer(
                            cluster_param.as_deref(),
                            &name,
                            false,
                        )?),
                        ..Default::default()
                    });
                }
                return Err(ApiError::invalid("A service with this name already exists in the cluster; creation is not idempotent."));
            }
        }
        if req.health_check_grace_period_seconds.is_some()
            && req.load_balancers.as_ref().is_none_or(Vec::is_empty)
        {
            return Err(ApiError::invalid(GRACE_PERIOD_NEEDS_LOAD_BALANCER));
        }
        check_placement(
            req.launch_type.as_ref(),
            req.platform_version.as_deref(),
            req.placement_constraints.as_deref(),
            req.placement_strategy.as_deref(),
            req.capacity_provider_strategy.as_deref(),
        )?;
        if req.launch_type == Some(LaunchType::Fargate)
            && req.scheduling_strategy == Some(SchedulingStrategy::Daemon)
        {
            return Err(ApiError::invalid(
                "The DAEMON scheduling strategy is not supported for the Fargate launch type.",
            ));
        }
        let circuit_breaker = req
            .deployment_configuration
            .as_ref()
            .is_some_and(|d| d.deployment_circuit_breaker.is_some());
        if circuit_breaker && controller != DeploymentControllerType::Ecs {
            return Err(ApiError::invalid(
                "The deployment circuit breaker is only supported for services with the ECS deployment controller.",
            ));
        }
        if controller == DeploymentControllerType::CodeDeploy
            && req.load_balancers.as_ref().is_some_and(|l| l.len() > 1)
        {
            return Err(ApiError::invalid(
                "Multiple target groups are not supported for services with the CODE_DEPLOY deployment controller.",
            ));
        }
        let (launch_type, platform_version) =
            launch_defaults(&req.launch_type, &strategy, &req.platform_version);
        let record = ServiceRecord {
            arn: format!("{arn_prefix}/{}/{name}", cluster.name),
            status: ServiceStatus::ACTIVE,
            controller,
            desired_count: req.desired_count.unwrap_or(0),
            task_definition,
            platform_version,
            launch_type,
            capacity_provider_strategy: strategy,
            network_configuration: req
                .network_configuration
                .clone()
                .map(with_default_public_ip),
            load_balancers: req.load_balancers.clone().unwrap_or_default(),
            service_registries: req.service_registries.clone().unwrap_or_default(),
            placement_constraints: req.placement_constraints.clone().unwrap_or_default(),
            placement_strategy: req.placement_strategy.clone().unwrap_or_default(),
            health_check_grace_period_seconds: req.health_check_grace_period_seconds,
            deployment_configuration: req.deployment_configuration.clone().unwrap_or(
                DeploymentConfiguration {
                    maximum_percent: Some(200),
                    minimum_healthy_percent: Some(100),
                    ..Default::default()
                },
            ),
            scheduling_strategy: req
                .scheduling_strategy
                .clone()
                .unwrap_or(SchedulingStrategy::Replica),
            enable_ecs_managed_tags: req.enable_ecs_managed_tags.unwrap_or(false),
            propagate_tags: req.propagate_tags.clone().unwrap_or(PropagateTags::None),
            enable_execute_command: req.enable_execute_command.unwrap_or(false),
            service_connect: req.service_connect_configuration.clone(),
            created_at: ctx.now,
            tags: req.tags.clone().unwrap_or_default(),
            client_token: req.client_token.clone().map(|t| (t, fp)),
            task_sets: TaskSets::default(),
            deployments: vec![],
            deployment_generation: 0,
        };
        let mut record = record;
        let mut first_set = None;
        let new_id = || format!("ecs-svc/{}", ctx.ids.task_set_digits());
        match record.controller {
            DeploymentControllerType::Ecs => {
                record
                    .deployments
                    .push(DeploymentRecord::new(&record, new_id(), ctx.now));
            }
            // A blue/green service runs its first revision as a PRIMARY task set at 100% and has
            // no deployments (A35).
            DeploymentControllerType::CodeDeploy => {
                let set =
                    TaskSetRecord::primary_of(&record, &cluster.name, &name, new_id(), ctx.now);
                first_set = Some(set.id.clone());
                record.task_sets.push(set);
            }
            _ => {}
        }
        let first_deployment = record.deployments.first().map(|d| d.id.clone());
        let cluster_name = cluster.name.clone();
        cluster.services.insert(name.clone(), record);
        // The answer shows the service before the scheduler starts any task.
        let answer = self.service_answer(cluster_param.as_deref(), &name, false)?;
        if let Some(set) = first_set {
            let key = SetKey {
                cluster: cluster_name.clone(),
                service: name.clone(),
                set,
            };
            self.schedule_recompute(key, ctx.now);
        }
        if let Some(id) = first_deployment {
            self.schedule_deployment(cluster_name, name, id, ctx.now);
        }
        Ok(CreateServiceResponse {
            service: Some(answer),
            ..Default::default()
        })
    }

    pub fn describe_services(
        &mut self,
        req: DescribeServicesRequest,
        _ctx: &Ctx,
    ) -> Result<DescribeServicesResponse, ApiError> {
        let names = req.services.unwrap_or_default();
        if names.len() > MAX_DESCRIBE_SERVICES {
            return Err(ApiError::invalid(format!(
                "At most {MAX_DESCRIBE_SERVICES} services can be described at once."
            )));
        }
        let with_tags = req
            .include
            .as_ref()
            .is_some_and(|i| i.contains(&ServiceField::Tags));
        let cluster_name = Self::cluster_name(req.cluster.as_deref());
        let cluster = self
            .clusters
            .get(&cluster_name)
            .filter(|c| c.active)
            .ok_or_else(ApiError::cluster_not_found)?;
        let mut services = vec![];
        let mut failures = vec![];
        for param in names {
            let name = Self::service_name(&param);
            match cluster.services.get(&name) {
                Some(svc) => services.push(self.render_service(cluster, &name, svc, with_tags)),
                None => failures.push(missing_entry(
                    format!("{}/{}/{name}", self.arn("service"), cluster.name),
                    None,
                )),
            }
        }
        Ok(DescribeServicesResponse {
            services: Some(services),
            failures: Some(failures),
            ..Default::default()
        })
    }

    pub fn update_service(
        &mut self,
        req: UpdateServiceRequest,
        ctx: &Ctx,
    ) -> Result<UpdateServiceResponse, ApiError> {
        let name = Self::service_name(req.service.as_deref().unwrap_or_default());
        let td = match &req.task_definition {
            Some(td) => Some(self.task_definition_arn(td)?),
            None => None,
        };
        if req.desired_count.is_some_and(|d| d < 0) {
            return Err(ApiError::invalid("desiredCount cannot be negative."));
        }
        if let Some(config) = &req.service_connect_configuration {
            let cluster = Self::cluster_name(req.cluster.as_deref());
            let current = self
                .clusters
                .get(&cluster)
                .and_then(|c| c.services.get(&name));
            if let Some(current) = current {
                let arn = td.clone().or_else(|| current.task_definition.clone());
                let definition = match &arn {
                    Some(arn) => Some(&self.resolve_task_definition(arn)?.definition),
                    None => None,
                };
                check_service_connect(config, definition, current.launch_type.as_ref())?;
            }
        }
        let cluster_default = self
            .clusters
            .get(&Self::cluster_name(req.cluster.as_deref()))
            .map(|c| c.default_strategy.clone())
            .unwrap_or_default();
        let svc = self.service_mut(req.cluster.as_deref(), req.service.as_deref())?;
        if svc.status != ServiceStatus::ACTIVE {
            return Err(ApiError::service_not_active());
        }
        // A38: a service placed by a strategy of its own cannot go back to the cluster's
        // default (an empty strategy).
        let own_strategy = svc
            .capacity_provider_strategy
            .as_ref()
            .is_some_and(|s| !s.is_empty() && *s != cluster_default);
        if own_strategy
            && req
                .capacity_provider_strategy
                .as_ref()
                .is_some_and(Vec::is_empty)
        {
            return Err(ApiError::invalid(
                "A service that uses its own capacity provider strategy cannot be updated to use the cluster's default capacity provider strategy.",
            ));
        }
        let mut redeploy = false;
        // What each controller lets UpdateService change (seed 001): the rest is refused.
        let restricted = [
            ("taskDefinition", req.task_definition.is_some()),
            ("networkConfiguration", req.network_configuration.is_some()),
            ("platformVersion", req.platform_version.is_some()),
            ("loadBalancers", req.load_balancers.is_some()),
            (
                "capacityProviderStrategy",
                req.capacity_provider_strategy.is_some(),
            ),
            ("serviceRegistries", req.service_registries.is_some()),
            ("forceNewDeployment", req.force_new_deployment == Some(true)),
            ("enableExecuteCommand", req.enable_execute_command.is_some()),
            (
                "serviceConnectConfiguration",
                req.service_connect_configuration.is_some(),
            ),
            ("volumeConfigurations", req.volume_configurations.is_some()),
            (
                "vpcLatticeConfigurations",
                req.vpc_lattice_configurations.is_some(),
            ),
            (
                "availabilityZoneRebalancing",
                req.availability_zone_rebalancing.is_some(),
            ),
        ];
        // A24: each restricted controller, what else it keeps, and where a change goes instead.
        let restriction = match svc.controller {
            DeploymentControllerType::CodeDeploy => {
                // AWS's own message for a new task definition; ours names the others.
                if req.task_definition.is_some() {
                    return Err(ApiError::invalid("Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment."));
                }
                Some((
                    "CODE_DEPLOY",
                    false,
                    "create a new CodeDeploy deployment instead",
                ))
            }
            DeploymentControllerType::External => Some((
                "EXTERNAL",
                req.deployment_configuration.is_some(),
                "create a new task set instead",
            )),
            _ => None,
        };
        if let Some((controller, deployment_configuration, instead)) = restriction {
            let forbidden: Vec<&str> = restricted
                .into_iter()
                .chain([("deploymentConfiguration", deployment_configuration)])
                .filter_map(|(n, set)| set.then_some(n))
                .collect();
            if !forbidden.is_empty() {
                return Err(ApiError::invalid(format!(
                    "A service with the {controller} deployment controller cannot update {} with UpdateService; {instead}.",
                    forbidden.join(", ")
                )));
            }
        }
        check_placement(
            svc.launch_type.as_ref(),
            req.platform_version.as_deref(),
            req.placement_constraints.as_deref(),
            req.placement_strategy.as_deref(),
            req.capacity_provider_strategy.as_deref(),
        )?;
        if svc.controller == DeploymentControllerType::External {
        } else {
            // Any change of what the tasks run, or forceNewDeployment, starts a new deployment.
            redeploy = req.force_new_deployment == Some(true);
            if let Some(td) = td {
                redeploy |= svc.task_definition.as_ref() != Some(&td);
                svc.task_definition = Some(td);
            }
            if let Some(n) = &req.network_configuration {
                svc.network_configuration = Some(with_default_public_ip(n.clone()));
                redeploy = true;
            }
            if let Some(v) = &req.platform_version {
                svc.platform_version = Some(v.clone());
                redeploy = true;
            }
            if let Some(v) = &req.load_balancers {
                svc.load_balancers = v.clone();
                redeploy = true;
            }
            if let Some(v) = &req.service_registries {
                svc.service_registries = v.clone();
                redeploy = true;
            }
            if let Some(v) = &req.service_connect_configuration {
                svc.service_connect = Some(v.clone());
                redeploy = true;
            }
            if let Some(v) = &req.capacity_provider_strategy {
                svc.capacity_provider_strategy = Some(v.clone());
                svc.launch_type = None;
                redeploy = true;
            }
        }
        if let Some(v) = &req.placement_constraints {
            svc.placement_constraints = v.clone();
        }
        if let Some(v) = &req.placement_strategy {
            svc.placement_strategy = v.clone();
        }
        if let Some(v) = req.health_check_grace_period_seconds {
            // A23: only a service that uses a load balancer takes a grace period; an EXTERNAL
            // service uses one through its task sets.
            let uses_load_balancer = !svc.load_balancers.is_empty()
                || svc.task_sets.iter().any(|ts| !ts.load_balancers.is_empty());
            if !uses_load_balancer {
                return Err(ApiError::invalid(GRACE_PERIOD_NEEDS_LOAD_BALANCER));
            }
            svc.health_check_grace_period_seconds = Some(v);
        }
        if let Some(v) = req.enable_ecs_managed_tags {
            svc.enable_ecs_managed_tags = v;
        }
        if let Some(v) = &req.propagate_tags {
            svc.propagate_tags = v.clone();
        }
        if let Some(v) = req.enable_execute_command {
            svc.enable_execute_command = v;
        }
        if let Some(v) = &req.deployment_configuration {
            svc.deployment_configuration = v.clone();
        }
        let desired_changed = req.desired_count.is_some_and(|d| d != svc.desired_count);
        if let Some(desired) = req.desired_count {
            svc.desired_count = desired;
        }
        let cluster_name = Self::cluster_name(req.cluster.as_deref());
        let mut deployment_to_launch = None;
        if svc.controller == DeploymentControllerType::Ecs {
            if redeploy {
                for d in &mut svc.deployments {
                    if d.status == DeploymentStatus::PRIMARY {
                        d.status = DeploymentStatus::ACTIVE;
                        d.updated_at = ctx.now;
                    }
                }
                let id = format!("ecs-svc/{}", ctx.ids.task_set_digits());
                let fresh = DeploymentRecord::new(svc, id, ctx.now);
                svc.deployments.insert(0, fresh);
                svc.deployment_generation += 1;
            } else if desired_changed {
                if let Some(primary) = svc.deployments.first_mut() {
                    primary.desired = svc.desired_count;
                    primary.updated_at = ctx.now;
                }
                svc.deployment_generation += 1;
            }
            if redeploy || desired_changed {
                deployment_to_launch = svc.deployments.first().map(|d| d.id.clone());
            }
        }
        let sets_to_recompute: Vec<String> = if desired_changed {
            svc.task_sets
                .iter()
                .filter(|s| s.status != TaskSetStatus::DRAINING)
                .map(|s| s.id.clone())
                .collect()
        } else {
            vec![]
        };
        // The answer shows the counts from before the scheduler acts on the change.
        let answer = self.service_answer(req.cluster.as_deref(), &name, false)?;
        for set in sets_to_recompute {
            let key = SetKey {
                cluster: cluster_name.clone(),
                service: name.clone(),
                set,
            };
            self.schedule_recompute(key, ctx.now);
        }
        if let Some(id) = deployment_to_launch {
            self.schedule_deployment(cluster_name, name, id, ctx.now);
        }
        Ok(UpdateServiceResponse {
            service: Some(answer),
            ..Default::default()
        })
    }

    pub fn delete_service(
        &mut self,
        req: DeleteServiceRequest,
        ctx: &Ctx,
    ) -> Result<DeleteServiceResponse, ApiError> {
        let name = Self::service_name(req.service.as_deref().unwrap_or_default());
        let cluster_name = Self::cluster_name(req.cluster.as_deref());
        let svc = self.service_mut(req.cluster.as_deref(), req.service.as_deref())?;
        let mut draining_sets = vec![];
        let mut busy = false;
        let mut just_drained = false;
        match svc.status.as_str() {
            "INACTIVE" => return Err(ApiError::service_not_found()),
            "DRAINING" => {}
            _ => {
                if svc.desired_count > 0
                    && req.force != Some(true)
                    && svc.scheduling_strategy == SchedulingStrategy::Replica
                {
                    return Err(ApiError::invalid("The service cannot be deleted while its desiredCount is above 0 unless force is set."));
                }
                svc.status = ServiceStatus::DRAINING;
                svc.desired_count = 0;
                just_drained = true;
                for set in svc
                    .task_sets
                    .iter_mut()
                    .filter(|s| s.status != TaskSetStatus::DRAINING)
                {
                    set.start_draining(ctx.now);
                    draining_sets.push(set.id.clone());
                }
                busy = svc.task_counts() != (0, 0);
                svc.deployment_generation += 1;
                for d in &mut svc.deployments {
                    d.desired = 0;
                    d.pending.clear();
                }
            }
        }
        let answer = self.service_answer(req.cluster.as_deref(), &name, false)?;
        for set in draining_sets {
            let key = SetKey {
                cluster: cluster_name.clone(),
                service: name.clone(),
                set,
            };
            self.schedule_drain(key, ctx.now);
        }
        if just_drained {
            // The service is INACTIVE once its tasks stopped and it drained.
            let key = ServiceKey {
                cluster: cluster_name,
                service: name.clone(),
            };
            let stop = if busy {
                self.settings.timing.stop_delay
            } else {
                Duration::ZERO
            };
            self.schedule(
                ctx.now + stop,
                sim::Stage::Drain,
                Event::ServiceInactive { key },
            );
        }
        Ok(DeleteServiceResponse {
            service: Some(answer),
            ..Default::default()
        })
    }

    pub fn list_services(
        &mut self,
        req: ListServicesRequest,
        _ctx: &Ctx,
    ) -> Result<ListServicesResponse, ApiError> {
        let cluster = self.active_cluster(req.cluster.as_deref())?;
        let max = req.max_results.unwrap_or(10);
        if !(1..=100).contains(&max) {
            return Err(ApiError::invalid("maxResults must be between 1 and 100."));
        }
        let arns: Vec<String> = cluster
            .services
            .values()
            .filter(|s| s.status != ServiceStatus::INACTIVE)
            .filter(|s| {
                req.launch_type
                    .as_ref()
                    .is_none_or(|l| s.launch_type.as_ref() == Some(l))
            })
            .filter(|s| {
                req.scheduling_strategy
                    .as_ref()
                    .is_none_or(|l| s.scheduling_strategy == *l)
            })
            .map(|s| s.arn.clone())
            .collect();
        let start = match &req.next_token {
            Some(t) => t
                .strip_prefix("svc-")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n <= arns.len())
                .ok_or_else(|| ApiError::invalid("Invalid nextToken."))?,
            None => 0,
        };
        let end = (start + usize::try_from(max).unwrap_or(10)).min(arns.len());
        Ok(ListServicesResponse {
            service_arns: Some(arns[start..end].to_vec()),
            next_token: (end < arns.len()).then(|| format!("svc-{end}")),
            ..Default::default()
        })
    }

    // -----------------------------------------------------------------------------------------
    // Task sets

    /// What CreateTaskSet refuses in a set's load balancers, registries, platform version and
    /// capacity provider strategy (A26-A29).
    fn check_task_set_request(&self, req: &CreateTaskSetRequest) -> Result<(), ApiError> {
        let record =
            self.resolve_task_definition(req.task_definition.as_deref().unwrap_or_default())?;
        let load_balancers = req.load_balancers.as_deref().unwrap_or_default();
        if load_balancers.len() > 1 {
            return Err(ApiError::invalid(
                "A task set takes one load balancer: multiple target groups are not supported for external deployments.",
            ));
        }
        let containers = record
            .definition
            .container_definitions
            .as_deref()
            .unwrap_or_default();
        for lb in load_balancers {
            if lb.load_balancer_name.is_some() || lb.target_group_arn.is_none() {
                return Err(ApiError::invalid(
                    "A task set's load balancer is an Application or Network Load Balancer target group: give targetGroupArn, not loadBalancerName.",
                ));
            }
            let Some(name) = lb.container_name.as_deref() else {
                return Err(ApiError::invalid(
                    "containerName is required for a load balancer of a task set.",
                ));
            };
            let Some(container) = containers.iter().find(|c| c.name.as_deref() == Some(name))
            else {
                return Err(ApiError::invalid(format!(
                    "The container {name} does not exist in the task definition."
                )));
            };
            if let Some(port) = lb.container_port {
                let ports = container.port_mappings.as_deref().unwrap_or_default();
                if !ports.iter().any(|m| m.container_port == Some(port)) {
                    return Err(ApiError::invalid(format!(
                        "The container {name} did not have a container port {port} defined."
                    )));
                }
            }
        }
        // bridge and host network modes (bridge is the default) name the container and port;
        // awsvpc may give only a port (A27).
        let bridge_or_host = matches!(
            record.definition.network_mode,
            None | Some(NetworkMode::Bridge) | Some(NetworkMode::Host)
        );
        let registries = req.service_registries.as_deref().unwrap_or_default();
        if bridge_or_host && registries.iter().any(|r| r.container_name.is_none()) {
            return Err(ApiError::invalid(
                "With the bridge or host network mode, a service registry names the containerName and containerPort from the task definition.",
            ));
        }
        if req.service_registries.as_ref().is_some_and(|r| r.len() > 1) {
            return Err(ApiError::invalid(
                "Multiple service registries are not supported; give at most one.",
            ));
        }
        check_placement(
            req.launch_type.as_ref(),
            req.platform_version.as_deref(),
            None,
            None,
            req.capacity_provider_strategy.as_deref(),
        )?;
        check_platform_fits(
            &record.definition,
            req.platform_version.as_deref(),
            req.capacity_provider_strategy.as_deref(),
        )
    }

    pub fn create_task_set(
        &mut self,
        req: CreateTaskSetRequest,
        ctx: &Ctx,
    ) -> Result<CreateTaskSetResponse, ApiError> {
        self.check_task_set_request(&req)?;
        let strategy = self.placement_strategy(
            req.cluster.as_deref(),
            req.launch_type.as_ref(),
            req.capacity_provider_strategy.as_ref(),
        )?;
        let td = self.task_definition_arn(req.task_definition.as_deref().unwrap_or_default())?;
        let on_fargate = req.launch_type == Some(LaunchType::Fargate)
            || strategy.iter().flatten().any(|i| {
                matches!(
                    i.capacity_provider.as_deref(),
                    Some("FARGATE" | "FARGATE_SPOT")
                )
            });
        let ephemeral_kms = self
            .clusters
            .get(&Self::cluster_name(req.cluster.as_deref()))
            .and_then(|c| c.configuration.as_ref())
            .and_then(|c| c.managed_storage_configuration.as_ref())
            .and_then(|m| m.fargate_ephemeral_storage_kms_key_id.clone())
            .filter(|_| on_fargate);
        let max_sets = self.settings.max_task_sets_per_service;
        let arn_prefix = self.arn("task-set");
        let cluster_name = Self::cluster_name(req.cluster.as_deref());
        let fp = fingerprint(ctx.raw);
        let svc = self.task_set_service(req.cluster.as_deref(), req.service.as_deref())?;
        let cluster_arn = cluster_arn_of(&svc.arn);
        if let Some(token) = &req.client_token {
            if let Some(existing) = svc.task_sets.by_token(token) {
                if existing
                    .client_token
                    .as_ref()
                    .is_some_and(|(_, f)| *f == fp)
                {
                    return Ok(CreateTaskSetResponse {
                        task_set: Some(existing.render(&svc.arn, &cluster_arn, false)),
                        ..Default::default()
                    });
                }
                return Err(ApiError::invalid(
                    "The clientToken was already used with different parameters.",
                ));
            }
        }
        if svc.task_sets.len() >= max_sets {
            // AWS's wording (conformance/evidence/: public reports of the sixth CreateTaskSet).
            return Err(ApiError::invalid(format!(
                "{max_sets} deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit."
            )));
        }
        let id = format!("ecs-svc/{}", ctx.ids.task_set_digits());
        let service_name = arn::service_name(&svc.arn).to_owned();
        let (launch_type, platform_version) =
            launch_defaults(&req.launch_type, &strategy, &req.platform_version);
        let platform_version = resolved_platform_version(&launch_type, &platform_version);
        let scale = req
            .scale
            .as_ref()
            .and_then(|s| s.value)
            .unwrap_or(Decimal::ZERO);
        let set = TaskSetRecord {
            arn: format!("{arn_prefix}/{cluster_name}/{service_name}/{id}"),
            id,
            status: TaskSetStatus::ACTIVE,
            task_definition: td,
            external_id: req.external_id.clone(),
            platform_version,
            launch_type,
            capacity_provider_strategy: strategy,
            network_configuration: req
                .network_configuration
                .clone()
                .map(with_default_public_ip),
            load_balancers: req.load_balancers.clone().unwrap_or_default(),
            service_registries: req.service_registries.clone().unwrap_or_default(),
            scale,
            // A new set answers 0: the scheduler computes its count after the call.
            computed: 0,
            running: 0,
            pending: Tasks::default(),
            created_at: ctx.now,
            updated_at: ctx.now,
            stability: StabilityStatus::Stabilizing,
            stability_at: ctx.now,
            generation: 0,
            recompute_due: None,
            tags: req.tags.clone().unwrap_or_default(),
            client_token: req.client_token.clone().map(|t| (t, fp)),
            ephemeral_kms,
        };
        let answer = set.render(&svc.arn, &cluster_arn, false);
        let key = SetKey {
            cluster: cluster_name,
            service: service_name,
            set: set.id.clone(),
        };
        svc.task_sets.push(set);
        self.schedule_recompute(key, ctx.now);
        Ok(CreateTaskSetResponse {
            task_set: Some(answer),
            ..Default::default()
        })
    }

    pub fn describe_task_sets(
        &mut self,
        req: DescribeTaskSetsRequest,
        _ctx: &Ctx,
    ) -> Result<DescribeTaskSetsResponse, ApiError> {
        let with_tags = req
            .include
            .as_ref()
            .is_some_and(|i| i.contains(&TaskSetField::Tags));
        // AWS refuses a DescribeTaskSets that names no task set, before it looks the cluster or
        // service up (observed: aws-cli#5380).
        let Some(wanted) = req.task_sets.as_ref().filter(|t| !t.is_empty()) else {
            return Err(ApiError::invalid("TaskSets cannot be empty."));
        };
        let svc = self.task_set_service(req.cluster.as_deref(), req.service.as_deref())?;
        let cluster_arn = cluster_arn_of(&svc.arn);
        let (task_sets, failures) = {
            {
                let mut found = vec![];
                let mut failures = vec![];
                for param in wanted {
                    let id = Self::task_set_id(param);
                    match svc.task_sets.get(&id) {
                        Some(s) => found.push(s.render(&svc.arn, &cluster_arn, with_tags)),
                        None => failures.push(missing_entry(
                            param.clone(),
                            Some("No task set with this id or ARN in the service.".into()),
                        )),
                    }
                }
                (found, failures)
            }
        };
        Ok(DescribeTaskSetsResponse {
            task_sets: Some(task_sets),
            failures: Some(failures),
            ..Default::default()
        })
    }

    fn task_set_mut<'s>(
        svc: &'s mut ServiceRecord,
        param: Option<&str>,
    ) -> Result<&'s mut TaskSetRecord, ApiError> {
        let id = Self::task_set_id(param.unwrap_or_default());
        svc.task_sets
            .get_mut(&id)
            .ok_or_else(ApiError::task_set_not_found)
    }

    /// The task set a call names, its service's ARN, and the key events about it carry.
    fn task_set_target(
        &mut self,
        cluster: Option<&str>,
        service: Option<&str>,
        task_set: Option<&str>,
    ) -> Result<(&mut TaskSetRecord, String, SetKey), ApiError> {
        let cluster_name = Self::cluster_name(cluster);
        let svc = self.task_set_service(cluster, service)?;
        let svc_arn = svc.arn.clone();
        let service_name = arn::service_name(&svc_arn).to_owned();
        let set = Self::task_set_mut(svc, task_set)?;
        let key = SetKey {
            cluster: cluster_name,
            service: service_name,
            set: set.id.clone(),
        };
        Ok((set, svc_arn, key))
    }

    pub fn update_task_set(
        &mut self,
        req: UpdateTaskSetRequest,
        ctx: &Ctx,
    ) -> Result<UpdateTaskSetResponse, ApiError> {
        let (set, svc_arn, key) = self.task_set_target(
            req.cluster.as_deref(),
            req.service.as_deref(),
            req.task_set.as_deref(),
        )?;
        if set.status == TaskSetStatus::DRAINING {
            return Err(ApiError::invalid("A DRAINING task set cannot be updated."));
        }
        set.scale = req
            .scale
            .as_ref()
            .and_then(|s| s.value)
            .unwrap_or(Decimal::ZERO);
        // The answer keeps the count from before the change; the scheduler recomputes it later.
        set.stability = StabilityStatus::Stabilizing;
        set.stability_at = ctx.now;
        set.updated_at = ctx.now;
        let answer = set.render(&svc_arn, &cluster_arn_of(&svc_arn), false);
        self.schedule_recompute(key, ctx.now);
        Ok(UpdateTaskSetResponse {
            task_set: Some(answer),
            ..Default::default()
        })
    }

    pub fn delete_task_set(
        &mut self,
        req: DeleteTaskSetRequest,
        ctx: &Ctx,
    ) -> Result<DeleteTaskSetResponse, ApiError> {
        let (set, svc_arn, key) = self.task_set_target(
            req.cluster.as_deref(),
            req.service.as_deref(),
            req.task_set.as_deref(),
        )?;
        let mut started = false;
        if set.status != TaskSetStatus::DRAINING {
            if set.scale > Decimal::ZERO && req.force != Some(true) {
                return Err(ApiError::invalid(
                    "The task set is not scaled down to zero; set force to delete it anyway.",
                ));
            }
            set.start_draining(ctx.now);
            started = true;
        }
        let answer = set.render(&svc_arn, &cluster_arn_of(&svc_arn), false);
        if started {
            self.schedule_drain(key, ctx.now);
        }
        Ok(DeleteTaskSetResponse {
            task_set: Some(answer),
            ..Default::default()
        })
    }

    pub fn update_service_primary_task_set(
        &mut self,
        req: UpdateServicePrimaryTaskSetRequest,
        ctx: &Ctx,
    ) -> Result<UpdateServicePrimaryTaskSetResponse, ApiError> {
        let svc = self.task_set_service(req.cluster.as_deref(), req.service.as_deref())?;
        let id = Self::task_set_id(req.primary_task_set.as_deref().unwrap_or_default());
        let status = &svc
            .task_sets
            .get(&id)
            .ok_or_else(ApiError::task_set_not_found)?
            .status;
        if *status == TaskSetStatus::DRAINING {
            return Err(ApiError::invalid(
                "A DRAINING task set cannot become the primary task set.",
            ));
        }
        for set in svc.task_sets.iter_mut() {
            let chosen = set.id == id;
            if chosen && set.status != TaskSetStatus::PRIMARY {
                set.status = TaskSetStatus::PRIMARY;
                set.updated_at = ctx.now;
            } else if !chosen && set.status == TaskSetStatus::PRIMARY {
                set.status = TaskSetStatus::ACTIVE;
                set.updated_at = ctx.now;
            }
        }
        // The service takes on the primary task set's parameters.
        let primary = svc
            .task_sets
            .get(&id)
            .ok_or_else(ApiError::task_set_not_found)?;
        svc.task_definition = Some(primary.task_definition.clone());
        svc.launch_type = primary.launch_type.clone();
        svc.capacity_provider_strategy = primary.capacity_provider_strategy.clone();
        svc.platform_version = primary.platform_version.clone();
        svc.network_configuration = primary.network_configuration.clone();
        svc.load_balancers = primary.load_balancers.clone();
        svc.service_registries = primary.service_registries.clone();
        let answer = primary.render(&svc.arn, &cluster_arn_of(&svc.arn), false);
        Ok(UpdateServicePrimaryTaskSetResponse {
            task_set: Some(answer),
            ..Default::default()
        })
    }

    // -----------------------------------------------------------------------------------------
    // Tags

    fn tags_of(&mut self, arn: &str) -> Result<&mut Vec<Tag>, ApiError> {
        let resource = arn::Arn::parse(arn)
            .map(|a| a.resource)
            .ok_or_else(|| ApiError::invalid(format!("{arn} is not an ARN.")))?;
        let (kind, rest) = resource
            .split_once('/')
            .ok_or_else(|| ApiError::invalid(format!("{arn} names no resource.")))?;
        let not_found = || ApiError::resource_not_found(arn);
        match kind {
            "cluster" => match self.clusters.get_mut(rest) {
                Some(c) if c.active => Ok(&mut c.tags),
                _ => Err(ApiError::cluster_not_found()),
            },
            "service" => {
                let (cluster, service) = rest.split_once('/').ok_or_else(not_found)?;
                let c = self
                    .clusters
                    .get_mut(cluster)
                    .filter(|c| c.active)
                    .ok_or_else(ApiError::cluster_not_found)?;
                let svc = c
                    .services
                    .get_mut(service)
                    .filter(|s| s.status != ServiceStatus::INACTIVE)
                    .ok_or_else(not_found)?;
                Ok(&mut svc.tags)
            }
            "task-set" => {
                let mut parts = rest.splitn(3, '/');
                let (Some(cluster), Some(service), Some(id)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(not_found());
                };
                let c = self
                    .clusters
                    .get_mut(cluster)
                    .filter(|c| c.active)
                    .ok_or_else(ApiError::cluster_not_found)?;
                let svc = c.services.get_mut(service).ok_or_else(not_found)?;
                let set = svc.task_sets.get_mut(id).ok_or_else(not_found)?;
                Ok(&mut set.tags)
            }
            "task-definition" => {
                let arn_owned = self.task_definition_arn(rest).map_err(|_| not_found())?;
                self.task_definitions
                    .values_mut()
                    .flatten()
                    .find(|r| {
                        r.definition.task_definition_arn.as_deref() == Some(arn_owned.as_str())
                    })
                    .map(|r| &mut r.tags)
                    .ok_or_else(not_found)
            }
            _ => Err(ApiError::invalid(format!(
                "{arn} is not a taggable ECS resource."
            ))),
        }
    }

    pub fn tag_resource(
        &mut self,
        req: TagResourceRequest,
        _ctx: &Ctx,
    ) -> Result<TagResourceResponse, ApiError> {
        let tags = self.tags_of(req.resource_arn.as_deref().unwrap_or_default())?;
        let mut merged = tags.clone();
        for tag in req.tags.unwrap_or_default() {
            match merged.iter_mut().find(|t| t.key == tag.key) {
                Some(existing) => existing.value = tag.value,
                None => merged.push(tag),
            }
        }
        if merged.len() > MAX_TAGS_PER_RESOURCE {
            return Err(ApiError::invalid(format!(
                "A resource holds at most {MAX_TAGS_PER_RESOURCE} tags."
            )));
        }
        *tags = merged;
        Ok(TagResourceResponse::default())
    }

    pub fn untag_resource(
        &mut self,
        req: UntagResourceRequest,
        _ctx: &Ctx,
    ) -> Result<UntagResourceResponse, ApiError> {
        let keys = req.tag_keys.unwrap_or_default();
        let tags = self.tags_of(req.resource_arn.as_deref().unwrap_or_default())?;
        tags.retain(|t| !t.key.as_ref().is_some_and(|k| keys.contains(k)));
        Ok(UntagResourceResponse::default())
    }

    pub fn list_tags_for_resource(
        &mut self,
        req: ListTagsForResourceRequest,
        _ctx: &Ctx,
    ) -> Result<ListTagsForResourceResponse, ApiError> {
        let tags = self.tags_of(req.resource_arn.as_deref().unwrap_or_default())?;
        Ok(ListTagsForResourceResponse {
            tags: Some(tags.clone()),
            ..Default::default()
        })
    }

    /// Invariants that must hold between any two requests (checked by the tests under load).
    pub fn check_invariants(&self) -> Vec<String> {
        let mut problems = vec![];
        for c in self.clusters.values() {
            for (name, svc) in &c.services {
                let primaries = svc
                    .task_sets
                    .iter()
                    .filter(|s| s.status == TaskSetStatus::PRIMARY)
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
                    if s.status != TaskSetStatus::DRAINING
                        && s.recompute_due.is_none()
                        && s.computed != expected
                    {
                        problems.push(format!("{}: computed {} != {expected}", s.id, s.computed));
                    }
                    if s.stability == StabilityStatus::SteadyState
                        && (s.running != s.computed || s.pending.count() != 0)
                    {
                        problems.push(format!(
                            "{}: STEADY_STATE with running {} pending {} computed {}",
                            s.id,
                            s.running,
                            s.pending.count(),
                            s.computed
                        ));
                    }
                    if s.running < 0 || s.pending.count() < 0 {
                        problems.push(format!("{}: negative task count", s.id));
                    }
                }
            }
        }
        problems
    }
}

/// The launch type and platform version a service or task set takes: EC2 when neither a launch
/// type nor a capacity provider strategy is given, and LATEST for FARGATE without a version.
fn launch_defaults(
    launch_type: &Option<LaunchType>,
    strategy: &Option<Vec<CapacityProviderStrategyItem>>,
    platform_version: &Option<String>,
) -> (Option<LaunchType>, Option<String>) {
    let launch_type = match (launch_type, strategy) {
        (Some(l), _) => Some(l.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(LaunchType::Ec2),
    };
    let platform_version = platform_version
        .clone()
        .or_else(|| (launch_type == Some(LaunchType::Fargate)).then(|| "LATEST".to_owned()));
    (launch_type, platform_version)
}

/// The current Fargate platform version on Linux, which AWS answers for task sets and
/// deployments where the request said LATEST or nothing.
pub const CURRENT_FARGATE_PLATFORM_VERSION: &str = "1.4.0";

/// What a task set or deployment answers as its platform version: AWS resolves LATEST to the
/// concrete current version (the 2020 transcript answers "1.3.0", then current; the
/// create-service example shows the service LATEST and its deployment "1.3.0").
fn resolved_platform_version(
    launch_type: &Option<LaunchType>,
    platform_version: &Option<String>,
) -> Option<String> {
    match platform_version.as_deref() {
        Some("LATEST") => Some(CURRENT_FARGATE_PLATFORM_VERSION.to_owned()),
        Some(v) => Some(v.to_owned()),
        None if *launch_type == Some(LaunchType::Fargate) => {
            Some(CURRENT_FARGATE_PLATFORM_VERSION.to_owned())
        }
        None => None,
    }
}

/// A `failures` entry for something that does not exist.
fn missing_entry(arn: String, detail: Option<String>) -> Failure {
    Failure {
        arn: Some(arn),
        reason: Some("MISSING".into()),
        detail,
        ..Default::default()
    }
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
    Scale {
        value: Some(value),
        unit: Some(ScaleUnit::Percent),
        ..Default::default()
    }
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
        self.status = TaskSetStatus::DRAINING;
        self.generation += 1;
        self.recompute_due = None;
        self.stability = StabilityStatus::Stabilizing;
        self.stability_at = now;
        self.updated_at = now;
    }

    fn render(&self, service_arn: &str, cluster_arn: &str, with_tags: bool) -> TaskSet {
        TaskSet {
            id: Some(self.id.clone()),
            task_set_arn: Some(self.arn.clone()),
            service_arn: Some(service_arn.to_owned()),
            cluster_arn: Some(cluster_arn.to_owned()),
            external_id: self.external_id.clone(),
            status: Some(self.status.clone()),
            task_definition: Some(self.task_definition.clone()),
            computed_desired_count: Some(self.computed),
            pending_count: Some(self.pending.count()),
            running_count: Some(self.running),
            created_at: ts(self.created_at),
            updated_at: ts(self.updated_at),
            launch_type: self.launch_type.clone(),
            capacity_provider_strategy: self.capacity_provider_strategy.clone(),
            platform_version: self.platform_version.clone(),
            network_configuration: self.network_configuration.clone(),
            load_balancers: Some(self.load_balancers.clone()),
            service_registries: Some(self.service_registries.clone()),
            scale: Some(scale_of(self.scale)),
            stability_status: Some(self.stability.clone()),
            stability_status_at: ts(self.stability_at),
            tags: with_tags.then(|| self.tags.clone()),
            fargate_ephemeral_storage: self.ephemeral_kms.as_ref().map(|k| {
                DeploymentEphemeralStorage {
                    kms_key_id: Some(k.clone()),
                    ..Default::default()
                }
            }),
            ..Default::default()
        }
    }
}
