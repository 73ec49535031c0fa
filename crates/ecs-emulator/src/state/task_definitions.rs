//! Task definitions: RegisterTaskDefinition, DescribeTaskDefinition,
//! DeregisterTaskDefinition, and how a family name or an ARN resolves to a revision.

use super::*;

/// Whether `image` names the tag that never pulls.
fn unpullable(image: &str) -> bool {
    let name = image.rsplit('/').next().unwrap_or(image);
    name.rsplit_once(':')
        .is_some_and(|(_, tag)| tag == UNPULLABLE_TAG)
}

impl State {
    pub(super) fn resolve_task_definition(&self, param: &str) -> Result<&TaskDefRecord, ApiError> {
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
            DeregisterTaskDefinitionRequest {
                task_definition: Some("web:2".into()),
                ..Default::default()
            },
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
