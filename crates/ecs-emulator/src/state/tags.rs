//! Tags on clusters, services and task sets: TagResource, UntagResource, ListTagsForResource.

use super::*;

impl State {
    pub(super) fn tags_of(&mut self, arn: &str) -> Result<&mut Vec<Tag>, ApiError> {
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
                    .filter(|s| s.status != ServiceStatus::Inactive)
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
        Ok(ListTagsForResourceResponse::builder()
            .set_tags(Some(tags.clone()))
            .build())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::testing::Region;
    use super::*;

    fn tag(key: &str, value: &str) -> Tag {
        Tag::builder().key(key).value(value).build()
    }

    #[test]
    fn tags_are_added_listed_replaced_and_removed_by_key() {
        let mut r = Region::new();
        let arn = r
            .call(
                State::create_cluster,
                CreateClusterRequest::builder().cluster_name("c").build(),
            )
            .unwrap()
            .cluster
            .unwrap()
            .cluster_arn
            .unwrap();
        let add = |tags: Vec<Tag>| {
            TagResourceRequest::builder()
                .resource_arn(arn.clone())
                .set_tags(Some(tags))
                .build()
        };
        r.call(
            State::tag_resource,
            add(vec![tag("team", "a"), tag("Team", "b")]),
        )
        .unwrap();
        r.call(State::tag_resource, add(vec![tag("team", "c")]))
            .unwrap();
        r.call(
            State::untag_resource,
            UntagResourceRequest::builder()
                .resource_arn(arn.clone())
                .set_tag_keys(Some(vec!["Team".into()]))
                .build(),
        )
        .unwrap();
        let listed = r
            .call(
                State::list_tags_for_resource,
                ListTagsForResourceRequest::builder()
                    .resource_arn(arn.clone())
                    .build(),
            )
            .unwrap();
        assert_eq!(
            listed.tags,
            Some(vec![tag("team", "c")]),
            "keys are case-sensitive"
        );
        let missing = r.call(
            State::list_tags_for_resource,
            ListTagsForResourceRequest::builder()
                .resource_arn("arn:aws:ecs:us-east-1:123456789012:cluster/nope")
                .build(),
        );
        assert!(missing.is_err());
    }
}
