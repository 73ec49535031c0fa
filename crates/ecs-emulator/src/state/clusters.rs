//! Clusters: CreateCluster, DescribeClusters, DeleteCluster, and how a cluster is answered.

use super::*;

impl State {
    pub(super) fn render_cluster(c: &ClusterRecord, with_tags: bool) -> Cluster {
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
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::testing::Region;
    use super::*;

    #[test]
    fn a_cluster_is_created_described_and_deleted() {
        let mut r = Region::new();
        let made = r
            .call(
                State::create_cluster,
                CreateClusterRequest {
                    cluster_name: Some("c".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        let cluster = made.cluster.unwrap();
        assert_eq!(cluster.status.as_ref().map(|s| s.as_str()), Some("ACTIVE"));
        assert_eq!(
            cluster.cluster_arn.as_deref(),
            Some("arn:aws:ecs:us-east-1:123456789012:cluster/c")
        );
        let seen = r
            .call(
                State::describe_clusters,
                DescribeClustersRequest {
                    clusters: Some(vec!["c".into(), "missing".into()]),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(seen.clusters.map(|c| c.len()), Some(1));
        assert_eq!(seen.failures.unwrap()[0].reason.as_deref(), Some("MISSING"));
        let gone = r
            .call(
                State::delete_cluster,
                DeleteClusterRequest {
                    cluster: Some("c".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(
            gone.cluster.unwrap().status.as_ref().map(|s| s.as_str()),
            Some("INACTIVE")
        );
    }
}
