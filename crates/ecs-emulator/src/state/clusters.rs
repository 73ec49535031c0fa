//! Clusters: CreateCluster, DescribeClusters, DeleteCluster, and how a cluster is answered.

use super::sim::Stage;
use super::*;

impl State {
    pub(super) fn render_cluster(c: &ClusterRecord, with_tags: bool) -> Cluster {
        let active_services = c
            .services
            .values()
            .filter(|s| s.status == ServiceStatus::Active)
            .count();
        let (running, pending) = c
            .services
            .values()
            .map(ServiceRecord::task_counts)
            .fold((0, 0), |(r, p), (sr, sp)| (r + sr, p + sp));
        Cluster::builder()
            .cluster_arn(c.arn.clone())
            .cluster_name(c.name.clone())
            .status(match (c.active, c.provisioning) {
                (true, true) => ClusterStatus::Provisioning,
                (true, false) => ClusterStatus::Active,
                (false, _) => ClusterStatus::Inactive,
            })
            .registered_container_instances_count(0)
            .running_tasks_count(running)
            .pending_tasks_count(pending)
            .active_services_count(i32::try_from(active_services).unwrap_or(i32::MAX))
            .set_statistics(Some(vec![]))
            .set_tags(with_tags.then(|| c.tags.clone()))
            .set_settings(c.settings.clone())
            .set_configuration(c.configuration.clone())
            .set_capacity_providers(Some(c.capacity_providers.clone()))
            .set_default_capacity_provider_strategy(Some(c.default_strategy.clone()))
            .set_service_connect_defaults(c.service_connect_defaults.clone())
            .build()
    }

    pub fn create_cluster(
        &mut self,
        req: CreateClusterRequest,
        ctx: &Ctx,
    ) -> Result<CreateClusterResponse, ApiError> {
        let name = req.cluster_name.unwrap_or_else(|| "default".to_owned());
        if !valid_name(&name) {
            return Err(ApiError::invalid(
                "A cluster name has up to 255 letters, numbers, hyphens and underscores.",
            ));
        }
        let arn = self.arn(&format!("cluster/{name}"));
        let seq = self.clusters.len() as u64;
        let ns = self.namespace_arn_prefix();
        let cluster = self
            .clusters
            .entry(name.clone())
            .or_insert_with(|| ClusterRecord {
                seq,
                name: name.clone(),
                arn,
                active: false,
                provisioning: false,
                tags: vec![],
                settings: None,
                capacity_providers: vec![],
                default_strategy: vec![],
                configuration: None,
                service_connect_defaults: None,
                services: BTreeMap::new(),
                tasks: Default::default(),
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
            // A44: providers of its own (Auto Scaling groups) need attachments first; the
            // aws-cli example create-cluster with capacity providers answers PROVISIONING.
            cluster.provisioning = providers
                .iter()
                .any(|p| !matches!(p.as_str(), "FARGATE" | "FARGATE_SPOT"));
            cluster.tags = req.tags.unwrap_or_default();
            cluster.settings = req.settings;
            cluster.capacity_providers = providers;
            cluster.default_strategy = with_zero_defaults(strategy);
            cluster.configuration = req.configuration;
            cluster.service_connect_defaults = req
                .service_connect_defaults
                .as_ref()
                .map(|d| namespace_defaults(d, &ns));
            cluster.services.clear();
            // A cluster created again starts without the tasks of the one deleted (A49).
            cluster.tasks = Default::default();
        }
        let answer = Self::render_cluster(cluster, true);
        if cluster.provisioning {
            self.schedule(
                ctx.now,
                Stage::Recompute,
                Event::ClusterProvisioned {
                    cluster: name.clone(),
                },
            );
        }
        Ok(CreateClusterResponse::builder().cluster(answer).build())
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
        // A45: asked to include anything, AWS answers tags and settings as lists, empty ones
        // included (aws-cli example describe-clusters with ATTACHMENTS, 2022).
        let with_lists = req.include.as_ref().is_some_and(|i| !i.is_empty());
        let names = req.clusters.unwrap_or_else(|| vec!["default".to_owned()]);
        let mut clusters = vec![];
        let mut failures = vec![];
        for param in names {
            let name = Self::cluster_name(Some(&param));
            match self.clusters.get(&name) {
                Some(c) => {
                    let mut cluster = Self::render_cluster(c, with_tags);
                    if with_lists {
                        cluster.tags.get_or_insert_with(Vec::new);
                        cluster.settings.get_or_insert_with(Vec::new);
                    }
                    clusters.push(cluster)
                }
                None => failures.push(missing_entry(self.arn(&format!("cluster/{name}")), None)),
            }
        }
        Ok(DescribeClustersResponse::builder()
            .set_clusters(Some(clusters))
            .set_failures(Some(failures))
            .build())
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
            .any(|s| s.status != ServiceStatus::Inactive)
        {
            return Err(ApiError::cluster_contains_services());
        }
        if cluster.tasks.any_active() {
            return Err(ApiError::cluster_contains_tasks());
        }
        cluster.active = false;
        Ok(DeleteClusterResponse::builder()
            .cluster(Self::render_cluster(cluster, true))
            .build())
    }
}

impl State {
    /// ListClusters: the ACTIVE clusters' ARNs, in creation order (the recorded answers of the
    /// aws-cli and botocore examples list them so), 100 a page by default.
    pub fn list_clusters(
        &mut self,
        req: ListClustersRequest,
        _ctx: &Ctx,
    ) -> Result<ListClustersResponse, ApiError> {
        let mut clusters: Vec<&ClusterRecord> =
            self.clusters.values().filter(|c| c.active).collect();
        clusters.sort_by_key(|c| c.seq);
        let arns: Vec<String> = clusters.iter().map(|c| c.arn.clone()).collect();
        let (arns, next_token) = page(
            &arns,
            req.max_results,
            req.next_token.as_deref(),
            100,
            100,
            "clusters",
        )?;
        Ok(ListClustersResponse::builder()
            .set_cluster_arns(Some(arns))
            .set_next_token(next_token)
            .build())
    }

    /// UpdateCluster: settings (merged by name), configuration and Service Connect defaults.
    pub fn update_cluster(
        &mut self,
        req: UpdateClusterRequest,
        _ctx: &Ctx,
    ) -> Result<UpdateClusterResponse, ApiError> {
        let ns = self.namespace_arn_prefix();
        let cluster = self.active_cluster(req.cluster.as_deref())?;
        if let Some(settings) = req.settings {
            let kept = cluster.settings.get_or_insert_with(Vec::new);
            for s in settings {
                match kept.iter_mut().find(|k| k.name == s.name) {
                    Some(k) => *k = s,
                    None => kept.push(s),
                }
            }
        }
        if let Some(configuration) = req.configuration {
            cluster.configuration = Some(configuration);
        }
        if let Some(defaults) = req.service_connect_defaults {
            cluster.service_connect_defaults = Some(namespace_defaults(&defaults, &ns));
        }
        Ok(UpdateClusterResponse::builder()
            .cluster(Self::render_cluster(cluster, true))
            .build())
    }

    /// PutClusterCapacityProviders: replaces the providers and the default strategy; the
    /// strategy may name only providers of the list.
    pub fn put_cluster_capacity_providers(
        &mut self,
        req: PutClusterCapacityProvidersRequest,
        _ctx: &Ctx,
    ) -> Result<PutClusterCapacityProvidersResponse, ApiError> {
        let providers = req.capacity_providers.unwrap_or_default();
        let strategy = req.default_capacity_provider_strategy.unwrap_or_default();
        let cluster = self.active_cluster(req.cluster.as_deref())?;
        if let Some(item) = strategy
            .iter()
            .find(|i| !providers.contains(i.capacity_provider.as_ref().unwrap_or(&String::new())))
        {
            return Err(ApiError::invalid(format!(
                "The default capacity provider strategy names {}, which is not among the cluster's capacity providers.",
                item.capacity_provider.as_deref().unwrap_or_default()
            )));
        }
        cluster.capacity_providers = providers;
        cluster.default_strategy = with_zero_defaults(strategy);
        Ok(PutClusterCapacityProvidersResponse::builder()
            .cluster(Self::render_cluster(cluster, true))
            .build())
    }
}

/// The Service Connect defaults a cluster keeps: a namespace given by name becomes the ARN of
/// the Cloud Map namespace AWS creates for it (the aws-cli example update-cluster answers an
/// ARN for a name); an ARN is kept.
fn namespace_defaults(
    given: &ClusterServiceConnectDefaultsRequest,
    (prefix, id): &(String, String),
) -> ClusterServiceConnectDefaults {
    let namespace = given.namespace.clone().unwrap_or_default();
    ClusterServiceConnectDefaults::builder()
        .namespace(if namespace.starts_with("arn:") {
            namespace
        } else {
            format!("{prefix}ns-{id}")
        })
        .build()
}

impl State {
    /// `arn:aws:servicediscovery:<region>:<account>:namespace/` and a fresh namespace id.
    fn namespace_arn_prefix(&mut self) -> (String, String) {
        let id: String = (0..16)
            .map(|_| {
                let n = self.rng.u8(0..36);
                char::from(if n < 10 { b'0' + n } else { b'a' + n - 10 })
            })
            .collect();
        (
            format!(
                "arn:aws:servicediscovery:{}:{}:namespace/",
                self.settings.region, self.settings.account_id
            ),
            id,
        )
    }
}

/// A strategy item without a weight or a base has 0 of each, and says so (the recorded answers
/// of create-cluster and put-cluster-capacity-providers).
fn with_zero_defaults(
    items: Vec<CapacityProviderStrategyItem>,
) -> Vec<CapacityProviderStrategyItem> {
    items
        .into_iter()
        .map(|mut i| {
            i.weight.get_or_insert(0);
            i.base.get_or_insert(0);
            i
        })
        .collect()
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
                CreateClusterRequest::builder().cluster_name("c").build(),
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
                DescribeClustersRequest::builder()
                    .set_clusters(Some(vec!["c".into(), "missing".into()]))
                    .build(),
            )
            .unwrap();
        assert_eq!(seen.clusters.map(|c| c.len()), Some(1));
        assert_eq!(seen.failures.unwrap()[0].reason.as_deref(), Some("MISSING"));
        let gone = r
            .call(
                State::delete_cluster,
                DeleteClusterRequest::builder().cluster("c").build(),
            )
            .unwrap();
        assert_eq!(
            gone.cluster.unwrap().status.as_ref().map(|s| s.as_str()),
            Some("INACTIVE")
        );
    }
}
