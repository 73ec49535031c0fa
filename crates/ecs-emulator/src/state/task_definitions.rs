//! Task definitions: RegisterTaskDefinition, DescribeTaskDefinition,
//! DeregisterTaskDefinition, and how a family name or an ARN resolves to a revision.

use super::*;

/// Whether `image` names the tag that never pulls.
fn unpullable(image: &str) -> bool {
    let name = image.rsplit('/').next().unwrap_or(image);
    name.rsplit_once(':')
        .is_some_and(|(_, tag)| tag == UNPULLABLE_TAG)
}

/// What AWS fills in where a registration leaves it out (every recorded answer of
/// RegisterTaskDefinition, DescribeTaskDefinition and DeregisterTaskDefinition in
/// conformance/evidence/): each container's `environment`, `mountPoints`, `portMappings` and
/// `volumesFrom` as empty lists, the definition's `volumes` and `placementConstraints` too; a
/// port mapping's protocol is `tcp`, and under awsvpc its host port is the container port (the
/// API reference: awsvpc takes no other host port).
fn fill_definition_defaults(definition: &mut TaskDefinition) {
    let awsvpc = definition.network_mode == Some(NetworkMode::Awsvpc);
    for c in definition.container_definitions.iter_mut().flatten() {
        c.environment.get_or_insert_with(Vec::new);
        c.mount_points.get_or_insert_with(Vec::new);
        c.volumes_from.get_or_insert_with(Vec::new);
        for m in c.port_mappings.get_or_insert_with(Vec::new) {
            if m.protocol.is_none() && m.container_port.is_some() {
                m.protocol = Some(TransportProtocol::Tcp);
            }
            if awsvpc && m.host_port.is_none() {
                m.host_port = m.container_port;
            }
        }
    }
    definition.volumes.get_or_insert_with(Vec::new);
    definition
        .placement_constraints
        .get_or_insert_with(Vec::new);
}

/// A task's memory in MiB as RegisterTaskDefinition takes it: `512`, or with a unit (`1 GB`,
/// `1GB`, `512 MiB`).
fn task_memory_mib(text: &str) -> Option<i64> {
    let t = text.trim().to_ascii_lowercase();
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    let n: i64 = digits.parse().ok()?;
    match t[digits.len()..].trim() {
        "" | "mb" | "mib" => Some(n),
        "gb" | "gib" => n.checked_mul(1024),
        _ => None,
    }
}

/// The memory checks AWS makes at registration, in its words: every container needs `memory`
/// or `memoryReservation` unless the task has a memory (aws/aws-cli issue 4453, 2019), and no
/// container may have more than the task (pulumi/pulumi-awsx issues 188 and 1220).
fn check_memory(req: &RegisterTaskDefinitionRequest) -> Result<(), ApiError> {
    let task = req.memory.as_deref().and_then(task_memory_mib);
    for c in req.container_definitions.iter().flatten() {
        let name = c.name.as_deref().unwrap_or_default();
        if req.memory.is_none() && c.memory.is_none() && c.memory_reservation.is_none() {
            return Err(ApiError::client(format!(
                "Invalid setting for container '{name}'. At least one of 'memory' or 'memoryReservation' must be specified."
            )));
        }
        if let (Some(task), Some(memory)) = (task, c.memory) {
            if i64::from(memory) > task {
                return Err(ApiError::client(format!(
                    "The 'memory' setting for container '{name}' is greater than for the task."
                )));
            }
        }
    }
    Ok(())
}

/// The caller as `createdBy` and `registeredBy` show it: the emulator signs no principal but
/// the account's own (A43).
pub(super) fn principal_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

impl State {
    pub(super) fn resolve_task_definition(&self, param: &str) -> Result<&TaskDefRecord, ApiError> {
        let spec = match arn::Arn::parse(param).map(|a| a.resource) {
            Some(r) => r.strip_prefix("task-definition/").unwrap_or(r),
            None => param,
        };
        // AWS's words for CreateService (Cloud-CV/EvalAI issue 2419, 2019).
        let missing = || ApiError::client("TaskDefinition not found.");
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
    pub(super) fn tasks_fail(&self, task_definition: &str) -> bool {
        self.resolve_task_definition(task_definition)
            .ok()
            .and_then(|r| r.definition.container_definitions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.image.as_deref().is_some_and(unpullable)))
    }

    pub(super) fn task_definition_arn(&self, param: &str) -> Result<String, ApiError> {
        let record = self.resolve_task_definition(param)?;
        record
            .definition
            .task_definition_arn
            .clone()
            .ok_or_else(|| ApiError::client("task definition without ARN"))
    }

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
        check_memory(&req)?;
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
        // What the task definition can run on: EXTERNAL (ECS Anywhere) for every network mode
        // but awsvpc, then EC2, then FARGATE (aws-cli examples register-task-definition and
        // describe-task-definition of 2022-2024 answer ["EXTERNAL", "EC2"]).
        let mut compatibilities = vec![];
        if req.network_mode != Some(NetworkMode::Awsvpc) {
            compatibilities.push(Compatibility::External);
        }
        compatibilities.push(Compatibility::Ec2);
        if req
            .requires_compatibilities
            .as_ref()
            .is_some_and(|c| c.contains(&Compatibility::Fargate))
            || req.network_mode == Some(NetworkMode::Awsvpc)
        {
            compatibilities.push(Compatibility::Fargate);
        }
        fill_definition_defaults(&mut definition);
        definition.registered_by = Some(principal_arn(&self.settings.account_id));
        definition.task_definition_arn = Some(arn);
        definition.revision = Some(i32::try_from(revision).unwrap_or(i32::MAX));
        definition.status = Some(TaskDefinitionStatus::Active);
        definition.compatibilities = Some(compatibilities);
        definition.registered_at = ts(ctx.now);
        let tags = req.tags.unwrap_or_default();
        let seq = self.task_definitions.values().map(Vec::len).sum::<usize>() as u64;
        self.task_definitions
            .entry(family)
            .or_default()
            .push(TaskDefRecord {
                seq,
                definition: definition.clone(),
                tags: tags.clone(),
            });
        Ok(RegisterTaskDefinitionResponse::builder()
            .task_definition(definition)
            .set_tags((!tags.is_empty()).then_some(tags))
            .build())
    }

    pub fn describe_task_definition(
        &mut self,
        req: DescribeTaskDefinitionRequest,
        _ctx: &Ctx,
    ) -> Result<DescribeTaskDefinitionResponse, ApiError> {
        // AWS's words (a recorded AWS CLI run in getmoto/moto PR 5910, 2023).
        let record = self
            .resolve_task_definition(req.task_definition.as_deref().unwrap_or_default())
            .map_err(|_| ApiError::client("Unable to describe task definition."))?;
        let with_tags = req
            .include
            .as_ref()
            .is_some_and(|i| i.contains(&TaskDefinitionField::Tags));
        // Without include, an empty list (aws-cli example describe-task-definition, 2024).
        Ok(DescribeTaskDefinitionResponse::builder()
            .task_definition(record.definition.clone())
            .set_tags(Some(if with_tags {
                record.tags.clone()
            } else {
                vec![]
            }))
            .build())
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
        Ok(DeregisterTaskDefinitionResponse::builder()
            .task_definition(record.definition.clone())
            .build())
    }
}

impl State {
    /// Whether a family has an ACTIVE revision.
    fn family_active(revisions: &[TaskDefRecord]) -> bool {
        revisions
            .iter()
            .any(|r| r.definition.status == Some(TaskDefinitionStatus::Active))
    }

    /// ListTaskDefinitionFamilies: families with an ACTIVE revision (`status` ACTIVE, the
    /// default), with none (INACTIVE) or all, whose name starts with `familyPrefix`; in the
    /// order the families were first registered, as the recorded answers list them.
    pub fn list_task_definition_families(
        &mut self,
        req: ListTaskDefinitionFamiliesRequest,
        _ctx: &Ctx,
    ) -> Result<ListTaskDefinitionFamiliesResponse, ApiError> {
        let status = req
            .status
            .clone()
            .unwrap_or(TaskDefinitionFamilyStatus::Active);
        let mut families: Vec<(&String, &Vec<TaskDefRecord>)> = self
            .task_definitions
            .iter()
            .filter(|(f, _)| {
                req.family_prefix
                    .as_deref()
                    .is_none_or(|p| f.starts_with(p))
            })
            .filter(|(_, revisions)| match status {
                TaskDefinitionFamilyStatus::Active => Self::family_active(revisions),
                TaskDefinitionFamilyStatus::Inactive => !Self::family_active(revisions),
                _ => true,
            })
            .collect();
        families.sort_by_key(|(_, revisions)| revisions.first().map(|r| r.seq));
        let names: Vec<String> = families.into_iter().map(|(f, _)| f.clone()).collect();
        let (families, next_token) = page(
            &names,
            req.max_results,
            req.next_token.as_deref(),
            100,
            100,
            "families",
        )?;
        Ok(ListTaskDefinitionFamiliesResponse::builder()
            .set_families(Some(families))
            .set_next_token(next_token)
            .build())
    }

    /// ListTaskDefinitions: the ARNs of the ACTIVE (default) or INACTIVE revisions, of one
    /// family when `familyPrefix` names it (the API takes the whole family name), by family
    /// and revision, ascending unless `sort` is DESC.
    pub fn list_task_definitions(
        &mut self,
        req: ListTaskDefinitionsRequest,
        _ctx: &Ctx,
    ) -> Result<ListTaskDefinitionsResponse, ApiError> {
        let status = req.status.clone().unwrap_or(TaskDefinitionStatus::Active);
        let mut arns: Vec<String> = self
            .task_definitions
            .iter()
            .filter(|(f, _)| req.family_prefix.as_deref().is_none_or(|p| *f == p))
            .flat_map(|(_, revisions)| revisions)
            .filter(|r| r.definition.status.as_ref() == Some(&status))
            .filter_map(|r| r.definition.task_definition_arn.clone())
            .collect();
        if req.sort == Some(SortOrder::Desc) {
            arns.reverse();
        }
        let (arns, next_token) = page(
            &arns,
            req.max_results,
            req.next_token.as_deref(),
            100,
            100,
            "revisions",
        )?;
        Ok(ListTaskDefinitionsResponse::builder()
            .set_task_definition_arns(Some(arns))
            .set_next_token(next_token)
            .build())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::fixtures::register;
    use super::super::testing::Region;
    use super::*;

    #[test]
    fn revisions_count_up_and_a_family_name_means_the_latest_active_one() {
        let mut r = Region::new();
        assert_eq!(register(&mut r, "nginx:1.26").revision, Some(1));
        assert_eq!(register(&mut r, "nginx:1.27").revision, Some(2));
        let latest = r.state.task_definition_arn("web").unwrap();
        assert!(latest.ends_with(":task-definition/web:2"), "{latest}");
        r.call(
            State::deregister_task_definition,
            DeregisterTaskDefinitionRequest::builder()
                .task_definition("web:2")
                .build(),
        )
        .unwrap();
        let latest = r.state.task_definition_arn("web").unwrap();
        assert!(latest.ends_with(":task-definition/web:1"), "{latest}");
        assert!(r.state.task_definition_arn("nothing").is_err());
    }

    #[test]
    fn an_image_tag_that_does_not_exist_never_pulls() {
        assert!(unpullable(&format!(
            "public.ecr.aws/nginx/nginx:{UNPULLABLE_TAG}"
        )));
        assert!(!unpullable("public.ecr.aws/nginx/nginx:1.27"));
    }
}
