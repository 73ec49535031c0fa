//! The in-memory control plane of one region: clusters, task definitions, services and task
//! sets, and the documented task-set semantics. Every answer is built from the generated
//! `ecs_model` types.
//!
//! Task counts are simulated lazily: when a task set's target count changes, the new tasks
//! wait as PENDING until `now + task_delay` and then count as RUNNING; [`State::advance`]
//! brings every set up to the current time before each request is handled.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use ecs_model::semantics::computed_desired_count_for;
use ecs_model::types::*;
use ecs_model::Decimal;
use serde_json::Value;

use crate::clock::{to_datetime, IdSource};
use crate::error::ApiError;

/// Behaviour settings.
#[derive(Clone, Debug)]
pub struct Settings {
    pub region: String,
    pub account_id: String,
    /// How long a new task stays PENDING before it is RUNNING. Zero makes every change take
    /// effect at once.
    pub task_delay: Duration,
    /// How long a deleted task set or service stays DRAINING before it is gone (INACTIVE).
    pub drain_delay: Duration,
    /// Task sets a service may hold at once (AWS answers the sixth CreateTaskSet with an
    /// InvalidParameterException).
    pub max_task_sets_per_service: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            task_delay: Duration::from_millis(100),
            drain_delay: Duration::from_millis(500),
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

struct ClusterRecord {
    name: String,
    arn: String,
    active: bool,
    tags: Vec<Tag>,
    settings: Option<Vec<ClusterSetting>>,
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
    created_at: SystemTime,
    tags: Vec<Tag>,
    client_token: Option<(String, Value)>,
    task_sets: Vec<TaskSetRecord>,
    /// Id of the single deployment an ECS-controller service reports.
    deployment_id: String,
    /// When a DRAINING service becomes INACTIVE.
    inactive_at: Option<SystemTime>,
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
    /// PENDING tasks and when they become RUNNING.
    pending: Vec<(i32, SystemTime)>,
    created_at: SystemTime,
    updated_at: SystemTime,
    stability: StabilityStatus,
    stability_at: SystemTime,
    /// The set cannot be STEADY_STATE before this time.
    settle_at: SystemTime,
    /// When a DRAINING set is gone.
    drained_at: Option<SystemTime>,
    tags: Vec<Tag>,
    client_token: Option<(String, Value)>,
}

/// One region's resources.
pub struct State {
    settings: Settings,
    clusters: BTreeMap<String, ClusterRecord>,
    task_definitions: BTreeMap<String, Vec<TaskDefRecord>>,
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

/// The last `/`-separated part of an ARN's resource, or the name itself.
fn arn_resource(value: &str) -> Option<&str> {
    let mut parts = value.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    parts.nth(4)
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
        State {
            settings,
            clusters: BTreeMap::new(),
            task_definitions: BTreeMap::new(),
        }
    }

    fn arn(&self, resource: &str) -> String {
        format!(
            "arn:aws:ecs:{}:{}:{resource}",
            self.settings.region, self.settings.account_id
        )
    }

    fn cluster_name(param: Option<&str>) -> String {
        match param {
            None => "default".to_owned(),
            Some(p) => match arn_resource(p) {
                Some(r) => r.strip_prefix("cluster/").unwrap_or(r).to_owned(),
                None => p.to_owned(),
            },
        }
    }

    fn service_name(param: &str) -> String {
        match arn_resource(param) {
            Some(r) => r.rsplit('/').next().unwrap_or(r).to_owned(),
            None => param.to_owned(),
        }
    }

    fn task_set_id(param: &str) -> String {
        match arn_resource(param) {
            // task-set/<cluster>/<service>/ecs-svc/<digits>
            Some(r) => r.splitn(4, '/').nth(3).unwrap_or(r).to_owned(),
            None => param.to_owned(),
        }
    }

    /// Brings simulated task counts and drains up to `now`.
    pub fn advance(&mut self, now: SystemTime) {
        for cluster in self.clusters.values_mut() {
            for svc in cluster.services.values_mut() {
                for set in &mut svc.task_sets {
                    set.advance(now);
                }
                svc.task_sets
                    .retain(|s| s.drained_at.is_none_or(|at| at > now));
                if let Some(at) = svc.inactive_at {
                    if at <= now {
                        svc.status = ServiceStatus::INACTIVE;
                        svc.task_sets.clear();
                        svc.inactive_at = None;
                    }
                }
            }
        }
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
        let spec = match arn_resource(param) {
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
            .flat_map(|s| &s.task_sets)
            .fold((0, 0), |(r, p), s| (r + s.running, p + s.pending_count()));
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
            capacity_providers: Some(vec![]),
            default_capacity_provider_strategy: Some(vec![]),
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
                services: BTreeMap::new(),
            });
        if !cluster.active {
            cluster.active = true;
            cluster.tags = req.tags.unwrap_or_default();
            cluster.settings = req.settings;
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
        let spec = arn_resource(&param)
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
        let external = svc.controller == DeploymentControllerType::External;
        let running: i32 = svc.task_sets.iter().map(|s| s.running).sum();
        let pending: i32 = svc.task_sets.iter().map(TaskSetRecord::pending_count).sum();
        let deployments = if external || svc.status == ServiceStatus::INACTIVE {
            vec![]
        } else {
            vec![Deployment {
                id: Some(svc.deployment_id.clone()),
                status: Some(DeploymentStatus::PRIMARY),
                task_definition: svc.task_definition.clone(),
                desired_count: Some(svc.desired_count),
                pending_count: Some(0),
                running_count: Some(svc.desired_count),
                created_at: ts(svc.created_at),
                updated_at: ts(svc.created_at),
                launch_type: svc.launch_type.clone(),
                rollout_state: Some(DeploymentRolloutState::Completed),
                ..Default::default()
            }]
        };
        Service {
            service_arn: Some(svc.arn.clone()),
            service_name: Some(name.to_owned()),
            cluster_arn: Some(cluster.arn.clone()),
            load_balancers: Some(svc.load_balancers.clone()),
            service_registries: Some(svc.service_registries.clone()),
            status: Some(svc.status.clone()),
            desired_count: Some(svc.desired_count),
            running_count: Some(if external {
                running
            } else if svc.status == ServiceStatus::ACTIVE {
                svc.desired_count
            } else {
                0
            }),
            pending_count: Some(if external { pending } else { 0 }),
            launch_type: svc.launch_type.clone(),
            capacity_provider_strategy: svc.capacity_provider_strategy.clone(),
            platform_version: svc.platform_version.clone(),
            task_definition: svc.task_definition.clone(),
            deployment_configuration: Some(svc.deployment_configuration.clone()),
            task_sets: Some(if external {
                svc.task_sets
                    .iter()
                    .map(|t| t.render(&svc.arn, &cluster.arn, false))
                    .collect()
            } else {
                vec![]
            }),
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
        let cluster_param = req.cluster.clone();
        let arn_prefix = self.arn("service");
        let fp = fingerprint(ctx.raw);
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
        let (launch_type, platform_version) = launch_defaults(
            &req.launch_type,
            &req.capacity_provider_strategy,
            &req.platform_version,
        );
        let record = ServiceRecord {
            arn: format!("{arn_prefix}/{}/{name}", cluster.name),
            status: ServiceStatus::ACTIVE,
            controller,
            desired_count: req.desired_count.unwrap_or(0),
            task_definition,
            platform_version,
            launch_type,
            capacity_provider_strategy: req.capacity_provider_strategy.clone(),
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
            created_at: ctx.now,
            tags: req.tags.clone().unwrap_or_default(),
            client_token: req.client_token.clone().map(|t| (t, fp)),
            task_sets: vec![],
            deployment_id: format!("ecs-svc/{}", ctx.ids.task_set_digits()),
            inactive_at: None,
        };
        cluster.services.insert(name.clone(), record);
        Ok(CreateServiceResponse {
            service: Some(self.service_answer(cluster_param.as_deref(), &name, false)?),
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
        let delay = self.settings.task_delay;
        let svc = self.service_mut(req.cluster.as_deref(), req.service.as_deref())?;
        if svc.status != ServiceStatus::ACTIVE {
            return Err(ApiError::service_not_active());
        }
        if svc.controller == DeploymentControllerType::External {
            let forbidden: Vec<&str> = [
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
            ]
            .into_iter()
            .filter_map(|(n, set)| set.then_some(n))
            .collect();
            if !forbidden.is_empty() {
                return Err(ApiError::invalid(format!(
                    "A service with the EXTERNAL deployment controller cannot update {} with UpdateService; create a new task set instead.",
                    forbidden.join(", ")
                )));
            }
        } else {
            if let Some(td) = td {
                svc.task_definition = Some(td);
            }
            if let Some(n) = &req.network_configuration {
                svc.network_configuration = Some(with_default_public_ip(n.clone()));
            }
            if let Some(v) = &req.platform_version {
                svc.platform_version = Some(v.clone());
            }
            if let Some(v) = &req.load_balancers {
                svc.load_balancers = v.clone();
            }
            if let Some(v) = &req.service_registries {
                svc.service_registries = v.clone();
            }
            if let Some(v) = &req.capacity_provider_strategy {
                svc.capacity_provider_strategy = Some(v.clone());
                svc.launch_type = None;
            }
        }
        if let Some(v) = &req.placement_constraints {
            svc.placement_constraints = v.clone();
        }
        if let Some(v) = &req.placement_strategy {
            svc.placement_strategy = v.clone();
        }
        if let Some(v) = req.health_check_grace_period_seconds {
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
        if let Some(desired) = req.desired_count {
            if desired < 0 {
                return Err(ApiError::invalid("desiredCount cannot be negative."));
            }
            svc.desired_count = desired;
            for set in svc
                .task_sets
                .iter_mut()
                .filter(|s| s.status != TaskSetStatus::DRAINING)
            {
                set.retarget(desired, ctx.now, delay);
            }
        }
        Ok(UpdateServiceResponse {
            service: Some(self.service_answer(req.cluster.as_deref(), &name, false)?),
            ..Default::default()
        })
    }

    pub fn delete_service(
        &mut self,
        req: DeleteServiceRequest,
        ctx: &Ctx,
    ) -> Result<DeleteServiceResponse, ApiError> {
        let name = Self::service_name(req.service.as_deref().unwrap_or_default());
        let delay = self.settings.drain_delay;
        let svc = self.service_mut(req.cluster.as_deref(), req.service.as_deref())?;
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
                for set in svc
                    .task_sets
                    .iter_mut()
                    .filter(|s| s.status != TaskSetStatus::DRAINING)
                {
                    set.start_draining(ctx.now, delay);
                }
                svc.inactive_at = Some(ctx.now + delay);
            }
        }
        let answer = self.service_answer(req.cluster.as_deref(), &name, false)?;
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

    pub fn create_task_set(
        &mut self,
        req: CreateTaskSetRequest,
        ctx: &Ctx,
    ) -> Result<CreateTaskSetResponse, ApiError> {
        let td = self.task_definition_arn(req.task_definition.as_deref().unwrap_or_default())?;
        let delay = self.settings.task_delay;
        let max_sets = self.settings.max_task_sets_per_service;
        let arn_prefix = self.arn("task-set");
        let cluster_name = Self::cluster_name(req.cluster.as_deref());
        let fp = fingerprint(ctx.raw);
        let svc = self.task_set_service(req.cluster.as_deref(), req.service.as_deref())?;
        let cluster_arn = cluster_arn_of(&svc.arn);
        if let Some(token) = &req.client_token {
            if let Some(existing) = svc
                .task_sets
                .iter()
                .find(|s| s.client_token.as_ref().is_some_and(|(t, _)| t == token))
            {
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
            return Err(ApiError::invalid(format!(
                "The service already has {max_sets} task sets, the most it can hold."
            )));
        }
        let id = format!("ecs-svc/{}", ctx.ids.task_set_digits());
        let service_name = svc.arn.rsplit('/').next().unwrap_or_default().to_owned();
        let (launch_type, platform_version) = launch_defaults(
            &req.launch_type,
            &req.capacity_provider_strategy,
            &req.platform_version,
        );
        let scale = req
            .scale
            .as_ref()
            .and_then(|s| s.value)
            .unwrap_or(Decimal::ZERO);
        let mut set = TaskSetRecord {
            arn: format!("{arn_prefix}/{cluster_name}/{service_name}/{id}"),
            id,
            status: TaskSetStatus::ACTIVE,
            task_definition: td,
            external_id: req.external_id.clone(),
            platform_version,
            launch_type,
            capacity_provider_strategy: req.capacity_provider_strategy.clone(),
            network_configuration: req
                .network_configuration
                .clone()
                .map(with_default_public_ip),
            load_balancers: req.load_balancers.clone().unwrap_or_default(),
            service_registries: req.service_registries.clone().unwrap_or_default(),
            scale,
            computed: 0,
            running: 0,
            pending: vec![],
            created_at: ctx.now,
            updated_at: ctx.now,
            stability: StabilityStatus::Stabilizing,
            stability_at: ctx.now,
            settle_at: ctx.now,
            drained_at: None,
            tags: req.tags.clone().unwrap_or_default(),
            client_token: req.client_token.clone().map(|t| (t, fp)),
        };
        set.retarget(svc.desired_count, ctx.now, delay);
        set.advance(ctx.now);
        let answer = set.render(&svc.arn, &cluster_arn, false);
        svc.task_sets.push(set);
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
        let svc = self.task_set_service(req.cluster.as_deref(), req.service.as_deref())?;
        let cluster_arn = cluster_arn_of(&svc.arn);
        let named = req.task_sets.as_ref().filter(|t| !t.is_empty());
        let (task_sets, failures) = match named {
            None => (
                svc.task_sets
                    .iter()
                    .map(|s| s.render(&svc.arn, &cluster_arn, with_tags))
                    .collect(),
                vec![],
            ),
            Some(wanted) => {
                let mut found = vec![];
                let mut failures = vec![];
                for param in wanted {
                    let id = Self::task_set_id(param);
                    match svc.task_sets.iter().find(|s| s.id == id) {
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
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(ApiError::task_set_not_found)
    }

    pub fn update_task_set(
        &mut self,
        req: UpdateTaskSetRequest,
        ctx: &Ctx,
    ) -> Result<UpdateTaskSetResponse, ApiError> {
        let delay = self.settings.task_delay;
        let svc = self.task_set_service(req.cluster.as_deref(), req.service.as_deref())?;
        let (desired, svc_arn) = (svc.desired_count, svc.arn.clone());
        let set = Self::task_set_mut(svc, req.task_set.as_deref())?;
        if set.status == TaskSetStatus::DRAINING {
            return Err(ApiError::invalid("A DRAINING task set cannot be updated."));
        }
        set.scale = req
            .scale
            .as_ref()
            .and_then(|s| s.value)
            .unwrap_or(Decimal::ZERO);
        set.retarget(desired, ctx.now, delay);
        set.advance(ctx.now);
        Ok(UpdateTaskSetResponse {
            task_set: Some(set.render(&svc_arn, &cluster_arn_of(&svc_arn), false)),
            ..Default::default()
        })
    }

    pub fn delete_task_set(
        &mut self,
        req: DeleteTaskSetRequest,
        ctx: &Ctx,
    ) -> Result<DeleteTaskSetResponse, ApiError> {
        let delay = self.settings.drain_delay;
        let svc = self.task_set_service(req.cluster.as_deref(), req.service.as_deref())?;
        let svc_arn = svc.arn.clone();
        let set = Self::task_set_mut(svc, req.task_set.as_deref())?;
        if set.status != TaskSetStatus::DRAINING {
            if set.scale > Decimal::ZERO && req.force != Some(true) {
                return Err(ApiError::invalid(
                    "The task set is not scaled down to zero; set force to delete it anyway.",
                ));
            }
            set.start_draining(ctx.now, delay);
        }
        Ok(DeleteTaskSetResponse {
            task_set: Some(set.render(&svc_arn, &cluster_arn_of(&svc_arn), false)),
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
        let index = svc
            .task_sets
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(ApiError::task_set_not_found)?;
        if svc.task_sets[index].status == TaskSetStatus::DRAINING {
            return Err(ApiError::invalid(
                "A DRAINING task set cannot become the primary task set.",
            ));
        }
        for (i, set) in svc.task_sets.iter_mut().enumerate() {
            if i == index && set.status != TaskSetStatus::PRIMARY {
                set.status = TaskSetStatus::PRIMARY;
                set.updated_at = ctx.now;
            } else if i != index && set.status == TaskSetStatus::PRIMARY {
                set.status = TaskSetStatus::ACTIVE;
                set.updated_at = ctx.now;
            }
        }
        // The service takes on the primary task set's parameters.
        let primary = &svc.task_sets[index];
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
        let resource =
            arn_resource(arn).ok_or_else(|| ApiError::invalid(format!("{arn} is not an ARN.")))?;
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
                let set = svc
                    .task_sets
                    .iter_mut()
                    .find(|s| s.id == id)
                    .ok_or_else(not_found)?;
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
                let mut ids: Vec<&str> = svc.task_sets.iter().map(|s| s.id.as_str()).collect();
                ids.sort_unstable();
                ids.dedup();
                if ids.len() != svc.task_sets.len() {
                    problems.push(format!("{}/{name}: duplicated task set ids", c.name));
                }
                for s in &svc.task_sets {
                    let expected =
                        computed_desired_count_for(svc.desired_count, &scale_of(s.scale))
                            .unwrap_or(-1);
                    if s.status != TaskSetStatus::DRAINING && s.computed != expected {
                        problems.push(format!("{}: computed {} != {expected}", s.id, s.computed));
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
    fn pending_count(&self) -> i32 {
        self.pending.iter().map(|(n, _)| n).sum()
    }

    /// Recomputes the target count from the service's desired count and the scale, starts or
    /// stops tasks, and makes the set STABILIZING until `now + delay`.
    fn retarget(&mut self, desired: i32, now: SystemTime, delay: Duration) {
        // The scale was validated (0..=100) and desired counts are never negative.
        self.computed = computed_desired_count_for(desired, &scale_of(self.scale)).unwrap_or(0);
        let total = self.running + self.pending_count();
        if self.computed > total {
            self.pending.push((self.computed - total, now + delay));
        } else {
            let mut excess = total - self.computed;
            while excess > 0 {
                match self.pending.last_mut() {
                    Some((n, _)) if *n > excess => {
                        *n -= excess;
                        excess = 0;
                    }
                    Some((n, _)) => {
                        excess -= *n;
                        self.pending.pop();
                    }
                    None => {
                        self.running -= excess;
                        excess = 0;
                    }
                }
            }
        }
        self.settle_at = now + delay;
        self.stability = StabilityStatus::Stabilizing;
        self.stability_at = now;
        self.updated_at = now;
    }

    /// PENDING tasks whose time has come are RUNNING; a converged set becomes STEADY_STATE at
    /// the moment it converged.
    fn advance(&mut self, now: SystemTime) {
        if self.status == TaskSetStatus::DRAINING {
            return;
        }
        let mut last_ready = None;
        self.pending.retain(|(n, ready)| {
            if *ready <= now {
                self.running += n;
                last_ready = Some(last_ready.map_or(*ready, |l: SystemTime| l.max(*ready)));
                false
            } else {
                true
            }
        });
        if self.stability == StabilityStatus::Stabilizing
            && now >= self.settle_at
            && self.pending.is_empty()
            && self.running == self.computed
        {
            let at = last_ready.map_or(self.settle_at, |r| r.max(self.settle_at));
            self.stability = StabilityStatus::SteadyState;
            self.stability_at = at;
            self.updated_at = self.updated_at.max(at);
        }
    }

    fn start_draining(&mut self, now: SystemTime, delay: Duration) {
        self.status = TaskSetStatus::DRAINING;
        self.pending.clear();
        self.stability = StabilityStatus::Stabilizing;
        self.stability_at = now;
        self.updated_at = now;
        self.drained_at = Some(now + delay);
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
            pending_count: Some(self.pending_count()),
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
            ..Default::default()
        }
    }
}
