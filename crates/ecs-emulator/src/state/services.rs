//! Services: CreateService, DescribeServices, UpdateService, DeleteService, ListServices, the
//! request checks they share with task sets (placement, platform fit, Service Connect) and how a
//! service is answered.

use super::tasks::StopCause;
use super::*;

/// What every request that places tasks shares (CreateService, CreateTaskSet, UpdateService):
/// a platform version only for Fargate and only one that exists (A28, A30), no placement
/// constraints on Fargate (A31), placement strategy fields that fit their type (A34), and a
/// strategy of several providers with a weight above 0 (A29).
pub(super) fn check_placement(
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

/// A37: a task definition with ephemeral storage needs Fargate platform 1.4.0 or later
/// (PlatformTaskDefinitionIncompatibilityException), and FARGATE_SPOT needs 1.3.0 or later
/// (InvalidParameterException).
pub(super) fn check_platform_fits(
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

/// Whether tasks run on Fargate: the FARGATE launch type, or a strategy of Fargate providers.
pub(super) fn on_fargate(
    launch_type: &Option<LaunchType>,
    strategy: &Option<Vec<CapacityProviderStrategyItem>>,
) -> bool {
    *launch_type == Some(LaunchType::Fargate)
        || strategy.iter().flatten().any(|i| {
            matches!(
                i.capacity_provider.as_deref(),
                Some("FARGATE" | "FARGATE_SPOT")
            )
        })
}

/// What a Fargate service and its deployments answer as `platformFamily`: `Linux` (aws-cli
/// examples update-service 1 and 2, 2025), none elsewhere.
pub(super) fn platform_family(
    launch_type: &Option<LaunchType>,
    strategy: &Option<Vec<CapacityProviderStrategyItem>>,
) -> Option<String> {
    on_fargate(launch_type, strategy).then(|| "Linux".to_owned())
}

/// The ARN of the service revision a deployment runs: the service's ARN with the kind
/// `service-revision` and the deployment's number (`ecs-svc/<n>` runs revision `<n>`).
pub(super) fn revision_arn(service_arn: &str, deployment: &str) -> String {
    let number = deployment.rsplit('/').next().unwrap_or(deployment);
    format!(
        "{}/{number}",
        service_arn.replacen(":service/", ":service-revision/", 1)
    )
}

/// The deployment configuration a service keeps: what was given, with AWS's defaults for the
/// rest (200 and 100 percent; for the ECS controller, alarms off with no names, as the 2025
/// aws-cli examples of update-service answer, the circuit breaker off, ROLLING, no bake time).
fn deployment_configuration_defaults(
    mut given: DeploymentConfiguration,
    controller: DeploymentControllerType,
) -> DeploymentConfiguration {
    given.maximum_percent = given.maximum_percent.or(Some(200));
    given.minimum_healthy_percent = given.minimum_healthy_percent.or(Some(100));
    if controller == DeploymentControllerType::Ecs {
        given.alarms.get_or_insert_with(|| {
            DeploymentAlarms::builder()
                .set_alarm_names(Some(vec![]))
                .rollback(false)
                .enable(false)
                .build()
        });
        // The circuit breaker off, the ROLLING strategy without a bake time: every
        // CreateService and DescribeServices answer recorded since 2024 (2025 for these two).
        given.deployment_circuit_breaker.get_or_insert_with(|| {
            DeploymentCircuitBreaker::builder()
                .enable(false)
                .rollback(false)
                .build()
        });
        given.strategy.get_or_insert(DeploymentStrategy::Rolling);
        given.bake_time_in_minutes.get_or_insert(0);
    }
    given
}

/// UpdateService's deployment configuration: the parts given replace the service's, the rest
/// keep their values, and what was never set has AWS's defaults (as CreateService answers
/// them).
fn merged_configuration(
    current: &DeploymentConfiguration,
    v: &DeploymentConfiguration,
    controller: DeploymentControllerType,
) -> DeploymentConfiguration {
    let merged = DeploymentConfiguration::builder()
        .set_deployment_circuit_breaker(
            v.deployment_circuit_breaker
                .clone()
                .or_else(|| current.deployment_circuit_breaker.clone()),
        )
        .set_maximum_percent(v.maximum_percent.or(current.maximum_percent))
        .set_minimum_healthy_percent(
            v.minimum_healthy_percent
                .or(current.minimum_healthy_percent),
        )
        .set_alarms(v.alarms.clone().or_else(|| current.alarms.clone()))
        .set_strategy(v.strategy.clone().or_else(|| current.strategy.clone()))
        .set_bake_time_in_minutes(v.bake_time_in_minutes.or(current.bake_time_in_minutes))
        .set_lifecycle_hooks(
            v.lifecycle_hooks
                .clone()
                .or_else(|| current.lifecycle_hooks.clone()),
        )
        .set_linear_configuration(
            v.linear_configuration
                .clone()
                .or_else(|| current.linear_configuration.clone()),
        )
        .set_canary_configuration(
            v.canary_configuration
                .clone()
                .or_else(|| current.canary_configuration.clone()),
        )
        .set_early_success_criteria(
            v.early_success_criteria
                .clone()
                .or_else(|| current.early_success_criteria.clone()),
        )
        .set_unknown_fields(v.unknown_fields.clone())
        .build();
    deployment_configuration_defaults(merged, controller)
}

/// The launch type and platform version a service or task set takes: EC2 when neither a launch
/// type nor a capacity provider strategy is given, and LATEST on Fargate without a version.
pub(super) fn launch_defaults(
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
        .or_else(|| on_fargate(&launch_type, strategy).then(|| "LATEST".to_owned()));
    (launch_type, platform_version)
}

/// What a task set or deployment answers as its platform version: AWS resolves LATEST to the
/// concrete current version (the 2020 transcript answers "1.3.0", then current; the
/// create-service example shows the service LATEST and its deployment "1.3.0").
pub(super) fn resolved_platform_version(
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

impl State {
    /// The strategy a request places with: its own, or, with neither a launch type nor a
    /// strategy, the cluster's default (A33). Every provider must be associated with the
    /// cluster.
    pub(super) fn placement_strategy(
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
                .map(|mut i| {
                    i.weight.get_or_insert(0);
                    i.base.get_or_insert(0);
                    i
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

    pub(super) fn service_mut(
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

    pub(super) fn render_service(
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
            .map(|d| {
                Deployment::builder()
                    .id(d.id.clone())
                    .status(d.status.clone())
                    .set_task_definition(d.task_definition.clone())
                    .desired_count(d.desired)
                    .pending_count(d.tasks.pending())
                    .running_count(d.tasks.running())
                    .failed_tasks(d.failed)
                    .set_rollout_state_reason(d.rollout_reason.clone())
                    .set_created_at(ts(d.created_at))
                    .set_updated_at(ts(d.updated_at))
                    .set_launch_type(d.launch_type.clone())
                    .set_capacity_provider_strategy(d.capacity_provider_strategy.clone())
                    .set_platform_version(d.platform_version.clone())
                    .set_platform_family(platform_family(
                        &d.launch_type,
                        &d.capacity_provider_strategy,
                    ))
                    .set_network_configuration(d.network_configuration.clone())
                    .set_service_connect_configuration(d.service_connect.clone())
                    .set_volume_configurations(
                        (!d.volume_configurations.is_empty())
                            .then(|| d.volume_configurations.clone()),
                    )
                    .rollout_state(d.rollout.clone())
                    .build()
            })
            .collect();
        Service::builder()
            .service_arn(svc.arn.clone())
            .service_name(name.to_owned())
            .cluster_arn(cluster.arn.clone())
            .set_load_balancers(Some(svc.load_balancers.clone()))
            .set_service_registries(Some(svc.service_registries.clone()))
            .status(svc.status.clone())
            .desired_count(svc.desired_count)
            .running_count(running)
            .pending_count(pending)
            .set_launch_type(svc.launch_type.clone())
            .set_capacity_provider_strategy(svc.capacity_provider_strategy.clone())
            .set_platform_version(svc.platform_version.clone())
            .set_platform_family(platform_family(
                &svc.launch_type,
                &svc.capacity_provider_strategy,
            ))
            .set_task_definition(svc.task_definition.clone())
            .deployment_configuration(svc.deployment_configuration.clone())
            // Only EXTERNAL and CODE_DEPLOY services have task sets; a service shows their
            // tags, an empty list included (t-kikuc/note's DescribeServices of 2024).
            .set_task_sets(Some(
                svc.task_sets
                    .iter()
                    .map(|t| t.render(&svc.arn, &cluster.arn, true))
                    .collect(),
            ))
            // One revision per deployment, named by the deployment's number, with its counts
            // (the CreateService answers recorded in 2026).
            .set_current_service_revisions((svc.controller == DeploymentControllerType::Ecs).then(
                || {
                    // A rollback runs a revision an older deployment ran: it is listed once.
                    let mut seen = std::collections::BTreeSet::new();
                    svc.deployments
                        .iter()
                        .filter(|d| seen.insert(d.revision.clone()))
                        .map(|d| {
                            ServiceCurrentRevisionSummary::builder()
                                .arn(d.revision.clone())
                                .requested_task_count(d.desired)
                                .running_task_count(d.tasks.running())
                                .pending_task_count(d.tasks.pending())
                                .build()
                        })
                        .collect()
                },
            ))
            .set_current_service_deployment(svc.current_service_deployment())
            .resource_management_type(ResourceManagementType::Customer)
            .set_deployments(Some(deployments))
            // The role given (a name becomes the account's role ARN, as the aws-cli example
            // create-service with a load balancer answers), else the service-linked role.
            .role_arn(match &svc.role {
                Some(role) if role.starts_with("arn:") => role.clone(),
                Some(role) => format!("arn:aws:iam::{}:role/{role}", self.settings.account_id),
                None => format!(
                    "arn:aws:iam::{}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
                    self.settings.account_id
                ),
            })
            .set_events(Some(vec![]))
            .set_created_at(ts(svc.created_at))
            .set_placement_constraints(Some(svc.placement_constraints.clone()))
            .set_placement_strategy(Some(svc.placement_strategy.clone()))
            .set_network_configuration(svc.network_configuration.clone())
            // 0 when not set (aws-cli examples update-service 1 and 2, recorded in 2025).
            .health_check_grace_period_seconds(svc.health_check_grace_period_seconds.unwrap_or(0))
            .scheduling_strategy(svc.scheduling_strategy.clone())
            .deployment_controller(
                DeploymentController::builder()
                    .r#type(svc.controller.clone())
                    .build(),
            )
            .set_tags(with_tags.then(|| svc.tags.clone()))
            .enable_ecs_managed_tags(svc.enable_ecs_managed_tags)
            .propagate_tags(svc.propagate_tags.clone())
            .enable_execute_command(svc.enable_execute_command)
            .availability_zone_rebalancing(svc.availability_zone_rebalancing.clone())
            // The caller's identity; the emulator knows no principal but the account's (A43).
            .created_by(super::task_definitions::principal_arn(
                &self.settings.account_id,
            ))
            .build()
    }

    pub(super) fn service_answer(
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
        mut req: CreateServiceRequest,
        ctx: &Ctx,
    ) -> Result<CreateServiceResponse, ApiError> {
        // An empty strategy is no strategy (Terraform's provider always sends one).
        req.capacity_provider_strategy = req.capacity_provider_strategy.filter(|s| !s.is_empty());
        if req.desired_count.is_some_and(|d| d < 0) {
            return Err(ApiError::invalid("desiredCount cannot be negative."));
        }
        self.check_target_groups(
            req.load_balancers.as_deref().unwrap_or_default(),
            req.task_definition.as_deref(),
        )?;
        check_tasks_quota(req.desired_count)?;
        let service_deployment = self.service_deployment_id();
        let definition = req
            .task_definition
            .as_deref()
            .and_then(|t| self.resolve_task_definition(t).ok())
            .map(|r| r.definition.clone());
        let with_tags = req.tags.as_ref().is_some_and(|t| !t.is_empty());
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
        // The cluster first: a missing one is ClusterNotFound whatever else is wrong.
        self.active_cluster(req.cluster.as_deref())?;
        let deployment_configuration = super::native::check_configuration(
            deployment_configuration_defaults(
                req.deployment_configuration.clone().unwrap_or_default(),
                controller.clone(),
            ),
            controller.clone(),
            req.load_balancers.as_deref().unwrap_or_default(),
            &self.elbv2,
        )?;
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
            if existing.status != ServiceStatus::Inactive {
                let same_token = match (&existing.client_token, &req.client_token) {
                    (Some((t, f)), Some(token)) => t == token && *f == fp,
                    _ => false,
                };
                if same_token {
                    return Ok(CreateServiceResponse::builder()
                        .service(self.service_answer(cluster_param.as_deref(), &name, false)?)
                        .build());
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
            status: ServiceStatus::Active,
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
            deployment_configuration,
            scheduling_strategy: req
                .scheduling_strategy
                .clone()
                .unwrap_or(SchedulingStrategy::Replica),
            enable_ecs_managed_tags: req.enable_ecs_managed_tags.unwrap_or(false),
            propagate_tags: req.propagate_tags.clone().unwrap_or(PropagateTags::None),
            enable_execute_command: req.enable_execute_command.unwrap_or(false),
            availability_zone_rebalancing: req
                .availability_zone_rebalancing
                .clone()
                .unwrap_or_else(|| default_rebalancing(controller_of(&req), &req)),
            service_connect: req.service_connect_configuration.clone(),
            role: req.role.clone().filter(|r| !r.is_empty()),
            volume_configurations: req.volume_configurations.clone().unwrap_or_default(),
            created_at: ctx.now,
            tags: req.tags.clone().unwrap_or_default(),
            client_token: req.client_token.clone().map(|t| (t, fp)),
            task_sets: TaskSets::default(),
            deployments: vec![],
            deployment_generation: 0,
            history: vec![],
            revisions: vec![],
        };
        let mut record = record;
        let mut first_set = None;
        let new_id = || format!("ecs-svc/{}", ctx.ids.task_set_digits());
        match record.controller {
            DeploymentControllerType::Ecs => {
                // The first deployment too answers desiredCount 0 until the scheduler acts
                // (every CreateService answer recorded since 2024; the 2016-2019 examples
                // showed the service's count).
                record
                    .deployments
                    .push(DeploymentRecord::new(&record, new_id(), 0, ctx.now));
                record.open_service_deployment(0, definition.as_ref(), service_deployment, ctx.now);
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
        // AWS answers the tags of the request (aws-cli example create-service 1); with none,
        // no tags member (example 2).
        let answer = self.service_answer(cluster_param.as_deref(), &name, with_tags)?;
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
        Ok(CreateServiceResponse::builder().service(answer).build())
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
        Ok(DescribeServicesResponse::builder()
            .set_services(Some(services))
            .set_failures(Some(failures))
            .build())
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
        // The groups fit the revision the service will run: the one asked for, else its own.
        let running = td.clone().or_else(|| {
            self.clusters
                .get(&Self::cluster_name(req.cluster.as_deref()))
                .and_then(|c| c.services.get(&name))
                .and_then(|s| s.task_definition.clone())
        });
        self.check_target_groups(
            req.load_balancers.as_deref().unwrap_or_default(),
            running.as_deref(),
        )?;
        check_tasks_quota(req.desired_count)?;
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
        // The configuration the service will deploy with, checked before anything changes.
        let checked_configuration = match self
            .clusters
            .get(&Self::cluster_name(req.cluster.as_deref()))
            .and_then(|c| c.services.get(&name))
            .filter(|s| s.status == ServiceStatus::Active)
        {
            Some(current)
                if req.deployment_configuration.is_some() || req.load_balancers.is_some() =>
            {
                let merged = match &req.deployment_configuration {
                    Some(v) => merged_configuration(
                        &current.deployment_configuration,
                        v,
                        current.controller.clone(),
                    ),
                    None => current.deployment_configuration.clone(),
                };
                Some(super::native::check_configuration(
                    merged,
                    current.controller.clone(),
                    req.load_balancers
                        .as_deref()
                        .unwrap_or(&current.load_balancers),
                    &self.elbv2,
                )?)
            }
            _ => None,
        };
        let svc = self.service_mut(req.cluster.as_deref(), req.service.as_deref())?;
        if svc.status != ServiceStatus::Active {
            return Err(ApiError::service_not_active());
        }
        // AWS's words, without a final period (gruntwork-io/cloud-nuke issue 219, 2021).
        if svc.scheduling_strategy == SchedulingStrategy::Daemon && req.desired_count.is_some() {
            return Err(ApiError::invalid("The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again"));
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
            // A42: keeping the value the service has is no change.
            (
                "availabilityZoneRebalancing",
                req.availability_zone_rebalancing
                    .as_ref()
                    .is_some_and(|v| *v != svc.availability_zone_rebalancing),
            ),
        ];
        // A24: each restricted controller, what else it keeps, and where a change goes instead.
        let restriction = match svc.controller {
            DeploymentControllerType::CodeDeploy => {
                // AWS's own message for a new task definition; ours names the others.
                if req.task_definition.is_some() {
                    return Err(ApiError::invalid("Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment."));
                }
                // AWS's words (hashicorp/terraform-provider-aws issue 8005, 2020).
                if req.network_configuration.is_some() {
                    return Err(ApiError::invalid("Unable to update network parameters on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment."));
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
            if let Some(v) = &req.volume_configurations {
                svc.volume_configurations = v.clone();
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
        if let Some(v) = &req.availability_zone_rebalancing {
            svc.availability_zone_rebalancing = v.clone();
        }
        if let Some(v) = req.enable_execute_command {
            svc.enable_execute_command = v;
        }
        if let Some(checked) = checked_configuration {
            svc.deployment_configuration = checked;
        }
        let desired_changed = req.desired_count.is_some_and(|d| d != svc.desired_count);
        if let Some(desired) = req.desired_count {
            svc.desired_count = desired;
        }
        let cluster_name = Self::cluster_name(req.cluster.as_deref());
        let mut deployment_to_launch = None;
        let mut opened = None;
        if svc.controller == DeploymentControllerType::Ecs {
            if redeploy {
                for d in &mut svc.deployments {
                    if d.status == DeploymentStatus::Primary {
                        d.status = DeploymentStatus::Active;
                        d.updated_at = ctx.now;
                    }
                }
                let id = format!("ecs-svc/{}", ctx.ids.task_set_digits());
                // The new deployment answers desiredCount 0 until the scheduler acts
                // (aws-cli example update-service 1).
                let mut fresh = DeploymentRecord::new(svc, id, 0, ctx.now);
                // Unless the load balancers change, it registers where the serving deployment
                // does (after a native deployment, the group production traffic goes to).
                if req.load_balancers.is_none() {
                    fresh.load_balancers = svc
                        .deployments
                        .iter()
                        .find(|d| d.rollout == DeploymentRolloutState::Completed)
                        .and_then(|d| d.load_balancers.clone());
                }
                svc.deployments.insert(0, fresh);
                svc.deployment_generation += 1;
                opened = svc.task_definition.clone();
            } else if desired_changed {
                // The deployment takes the new count when the scheduler acts on it
                // (aws-cli example update-service 2 answers the service at 2, its deployment 1).
                svc.deployment_generation += 1;
            }
            if redeploy || desired_changed {
                deployment_to_launch = svc.deployments.first().map(|d| d.id.clone());
            }
        }
        let sets_to_recompute: Vec<String> = if desired_changed {
            svc.task_sets
                .iter()
                .filter(|s| s.status != TaskSetStatus::Draining)
                .map(|s| s.id.clone())
                .collect()
        } else {
            vec![]
        };
        if let Some(td) = opened {
            let definition = self
                .resolve_task_definition(&td)
                .ok()
                .map(|r| r.definition.clone());
            let id = self.service_deployment_id();
            let svc = self.service_mut(req.cluster.as_deref(), req.service.as_deref())?;
            svc.open_service_deployment(0, definition.as_ref(), id, ctx.now);
        }
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
        Ok(UpdateServiceResponse::builder().service(answer).build())
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
        let mut cancelled = vec![];
        let mut draining = vec![];
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
                svc.status = ServiceStatus::Draining;
                svc.desired_count = 0;
                just_drained = true;
                svc.stop_unfinished_deployments(ctx.now);
                for set in svc
                    .task_sets
                    .iter_mut()
                    .filter(|s| s.status != TaskSetStatus::Draining)
                {
                    set.start_draining(ctx.now);
                    draining_sets.push(set.id.clone());
                }
                busy = svc.task_counts() != (0, 0);
                svc.deployment_generation += 1;
                for d in &mut svc.deployments {
                    d.desired = 0;
                    let cause = StopCause::scaling(&d.id);
                    cancelled.push((cause.clone(), d.tasks.clear_pending()));
                    // The running ones count until they stopped (A48).
                    draining.push((cause, d.tasks.ids().cloned().collect::<Vec<_>>()));
                }
            }
        }
        let answer = self.service_answer(req.cluster.as_deref(), &name, false)?;
        for (cause, ids) in cancelled {
            self.stop_tasks(&cluster_name, &ids, &cause, ctx.now);
        }
        for (cause, ids) in draining {
            self.drain_tasks(&cluster_name, &ids, &cause, ctx.now);
            self.schedule(
                ctx.now,
                sim::Stage::Stop,
                Event::TasksStopped {
                    cluster: cluster_name.clone(),
                    ids,
                },
            );
        }
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
        Ok(DeleteServiceResponse::builder().service(answer).build())
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
            .filter(|s| s.status != ServiceStatus::Inactive)
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
        Ok(ListServicesResponse::builder()
            .set_service_arns(Some(arns[start..end].to_vec()))
            .set_next_token((end < arns.len()).then(|| format!("svc-{end}")))
            .build())
    }
}

/// The controller a CreateService request asks for (ECS when it names none).
/// Tasks one service may run (the Service Quotas default, "Tasks per service": 5,000).
const MAX_TASKS_PER_SERVICE: i32 = 5_000;

/// A desired count above the quota is refused (A51: the message is ours).
fn check_tasks_quota(desired: Option<i32>) -> Result<(), ApiError> {
    match desired {
        Some(d) if d > MAX_TASKS_PER_SERVICE => Err(ApiError::invalid(format!(
            "desiredCount {d} is above the {MAX_TASKS_PER_SERVICE} tasks a service may run."
        ))),
        _ => Ok(()),
    }
}

fn controller_of(req: &CreateServiceRequest) -> DeploymentControllerType {
    req.deployment_controller
        .as_ref()
        .and_then(|d| d.r#type.clone())
        .unwrap_or(DeploymentControllerType::Ecs)
}

/// A42: since September 2025 a new service rebalances across Availability Zones unless it
/// cannot: ECS's own deployments of a REPLICA service whose maximumPercent is above 100
/// (hashicorp/terraform-provider-aws issue 43238 and PR 44117, ansible-collections/community.aws
/// PR 2483; AWS's refusal "Availability Zone Rebalancing does not support maximumPercent <= 100
/// % as deployment configuration.").
fn default_rebalancing(
    controller: DeploymentControllerType,
    req: &CreateServiceRequest,
) -> AvailabilityZoneRebalancing {
    let replica = req
        .scheduling_strategy
        .as_ref()
        .is_none_or(|s| *s == SchedulingStrategy::Replica);
    let max_percent = req
        .deployment_configuration
        .as_ref()
        .and_then(|d| d.maximum_percent)
        .unwrap_or(200);
    if controller == DeploymentControllerType::Ecs && replica && max_percent > 100 {
        AvailabilityZoneRebalancing::Enabled
    } else {
        AvailabilityZoneRebalancing::Disabled
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::fixtures::service;
    use super::super::testing::Region;
    use super::*;

    #[test]
    fn an_external_service_has_no_deployments_and_an_ecs_one_has_its_primary() {
        let mut r = Region::new();
        let external = service(&mut r, DeploymentControllerType::External, 3);
        assert_eq!(external.desired_count, Some(3));
        assert_eq!(external.deployments, Some(vec![]));
        assert_eq!(external.task_definition, None);
        let listed = r
            .call(
                State::list_services,
                ListServicesRequest::builder().cluster("c").build(),
            )
            .unwrap();
        assert_eq!(listed.service_arns.map(|a| a.len()), Some(1));

        let mut r = Region::new();
        let ecs = service(&mut r, DeploymentControllerType::Ecs, 2);
        let deployments = ecs.deployments.unwrap();
        assert_eq!(deployments.len(), 1);
        assert_eq!(
            deployments[0].status.as_ref().map(|s| s.as_str()),
            Some("PRIMARY")
        );
    }

    #[test]
    fn a_second_service_of_the_same_name_is_refused_while_the_first_is_active() {
        let mut r = Region::new();
        service(&mut r, DeploymentControllerType::External, 1);
        let again = r.call(
            State::create_service,
            CreateServiceRequest::builder()
                .cluster("c")
                .service_name("svc")
                .desired_count(1)
                .deployment_controller(DeploymentController::of(DeploymentControllerType::External))
                .build(),
        );
        let e = again.unwrap_err();
        assert_eq!(e.code, "InvalidParameterException", "{e}");
    }
}
