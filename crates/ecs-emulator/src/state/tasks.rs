//! Tasks as objects: every task a service, a task set or RunTask starts is a record of its
//! own, with its lifecycle in time (PROVISIONING, PENDING, RUNNING, then STOPPED by way of
//! STOPPING and DEPROVISIONING), and ListTasks, DescribeTasks, RunTask and StopTask answer
//! from them. The running and pending counts of services, deployments and task sets are the
//! numbers of their tasks in those states ([`Tasks`]).
//!
//! Times within a stage are computed when a task is rendered: a task created at `t` whose
//! start is due at `t + d` is PROVISIONING (awsvpc only) for the first 30% of `d`, then
//! PENDING; it is connected at 20% of `d` and pulls its images from 60% to 90% of `d`, and is
//! RUNNING from the event that starts it (A46: the records show connectivity about 4 s,
//! the pull about 12 s and the start about 16-20 s after creation). A task stopped while it
//! runs stays RUNNING, desired STOPPED, for half its stop delay, then DEPROVISIONING (awsvpc)
//! or STOPPING, then STOPPED; one stopped before it ran is STOPPED at once, as StopTask's
//! recorded answer shows (aws-cli example stop-task: `stoppingAt` equals `stoppedAt`).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use ecs_model::types::*;

use super::{page, ts, Ctx, State};
use crate::error::ApiError;
use crate::scheduler::{Event, ServiceKey, SetKey};

/// How long a STOPPED task stays visible to ListTasks and DescribeTasks (A47).
pub(super) const STOPPED_VISIBLE: Duration = Duration::from_secs(3600);

/// Tasks DescribeTasks takes at once.
const MAX_DESCRIBE_TASKS: usize = 100;

/// Tasks RunTask starts at once.
const MAX_RUN_COUNT: i32 = 10;

/// The tasks that count for a service, deployment or task set: RUNNING ones, oldest first, and
/// PENDING ones in batches that start together. Their number is the owner's running and
/// pending count.
#[derive(Default)]
pub(super) struct Tasks {
    running: Vec<String>,
    batches: Vec<(u64, Vec<String>)>,
    next_batch: u64,
}

impl Tasks {
    pub(super) fn running(&self) -> i32 {
        i32::try_from(self.running.len()).unwrap_or(i32::MAX)
    }

    pub(super) fn pending(&self) -> i32 {
        let n: usize = self.batches.iter().map(|(_, ids)| ids.len()).sum();
        i32::try_from(n).unwrap_or(i32::MAX)
    }

    pub(super) fn total(&self) -> i32 {
        self.running().saturating_add(self.pending())
    }

    /// A new batch of PENDING tasks; its id.
    pub(super) fn add(&mut self, ids: Vec<String>) -> u64 {
        self.next_batch += 1;
        self.batches.push((self.next_batch, ids));
        self.next_batch
    }

    /// Removes the batch (it started or failed); its tasks.
    pub(super) fn take(&mut self, batch: u64) -> Vec<String> {
        match self.batches.iter().position(|(b, _)| *b == batch) {
            Some(i) => self.batches.remove(i).1,
            None => vec![],
        }
    }

    /// The tasks are RUNNING.
    pub(super) fn start(&mut self, ids: &[String]) {
        self.running.extend(ids.iter().cloned());
    }

    /// Takes up to `n` tasks out, PENDING ones first (newest first), then RUNNING ones (newest
    /// first, A46): the cancelled and the stopped ones.
    pub(super) fn shrink(&mut self, mut n: usize) -> (Vec<String>, Vec<String>) {
        let mut cancelled = vec![];
        while n > 0 {
            let Some((_, ids)) = self.batches.last_mut() else {
                break;
            };
            match ids.pop() {
                Some(id) => {
                    cancelled.push(id);
                    n -= 1;
                }
                None => {
                    self.batches.pop();
                }
            }
        }
        self.batches.retain(|(_, ids)| !ids.is_empty());
        (cancelled, self.stop_running(n))
    }

    /// Takes up to `n` RUNNING tasks out, newest first.
    pub(super) fn stop_running(&mut self, n: usize) -> Vec<String> {
        let keep = self.running.len().saturating_sub(n);
        self.running.split_off(keep)
    }

    /// Takes every task out: the PENDING ones, then the RUNNING ones.
    pub(super) fn clear(&mut self) -> (Vec<String>, Vec<String>) {
        let pending = self.batches.drain(..).flat_map(|(_, ids)| ids).collect();
        (pending, std::mem::take(&mut self.running))
    }

    /// Takes the PENDING tasks out.
    pub(super) fn clear_pending(&mut self) -> Vec<String> {
        self.batches.drain(..).flat_map(|(_, ids)| ids).collect()
    }

    /// Takes one task out; whether it was RUNNING (`None`: it was not here).
    pub(super) fn remove(&mut self, id: &str) -> Option<bool> {
        if let Some(i) = self.running.iter().position(|t| t == id) {
            self.running.remove(i);
            return Some(true);
        }
        for (_, ids) in &mut self.batches {
            if let Some(i) = ids.iter().position(|t| t == id) {
                ids.remove(i);
                self.batches.retain(|(_, ids)| !ids.is_empty());
                return Some(false);
            }
        }
        None
    }

    /// Every task, RUNNING ones first.
    pub(super) fn ids(&self) -> impl Iterator<Item = &String> {
        self.running
            .iter()
            .chain(self.batches.iter().flat_map(|(_, ids)| ids))
    }
}

/// What a task belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Owner {
    TaskSet {
        service: String,
        set: String,
    },
    Deployment {
        service: String,
        deployment: String,
    },
    /// Started by RunTask.
    Standalone,
}

/// What a new task is made of, from its owner's configuration.
#[derive(Clone)]
pub(super) struct TaskSpec {
    pub task_definition: String,
    pub group: String,
    pub started_by: Option<String>,
    pub launch_type: Option<LaunchType>,
    pub capacity_provider: Option<String>,
    pub platform_version: Option<String>,
    pub platform_family: Option<String>,
    pub network: Option<AwsVpcConfiguration>,
    pub enable_execute_command: bool,
    pub overrides: Option<TaskOverride>,
    pub tags: Vec<Tag>,
}

/// Where a task set's or deployment's tasks run.
pub(super) struct Placement<'a> {
    pub launch_type: &'a Option<LaunchType>,
    pub strategy: &'a Option<Vec<CapacityProviderStrategyItem>>,
    pub platform_version: &'a Option<String>,
    pub network: &'a Option<NetworkConfiguration>,
}

impl TaskSpec {
    /// A task of the service `service`, started by its task set or deployment `owner_id`.
    fn of_service(
        service: &str,
        owner_id: &str,
        task_definition: String,
        at: Placement,
        enable_execute_command: bool,
    ) -> TaskSpec {
        TaskSpec {
            task_definition,
            group: format!("service:{service}"),
            started_by: Some(owner_id.to_owned()),
            launch_type: task_launch_type(at.launch_type, at.strategy),
            capacity_provider: capacity_provider_of(at.strategy),
            platform_version: at.platform_version.clone(),
            platform_family: super::services::platform_family(at.launch_type, at.strategy),
            network: at
                .network
                .as_ref()
                .and_then(|n| n.awsvpc_configuration.clone()),
            enable_execute_command,
            overrides: None,
            tags: vec![],
        }
    }
}

/// Why a task stopped, and who stopped it.
#[derive(Clone, Debug)]
pub(super) struct StopCause {
    pub code: TaskStopCode,
    pub reason: String,
}

impl StopCause {
    /// The service scheduler stopped it on behalf of a deployment or task set (`ecs-svc/<n>`),
    /// in AWS's words (A48).
    pub(super) fn scaling(owner_id: &str) -> StopCause {
        StopCause {
            code: TaskStopCode::ServiceSchedulerInitiated,
            reason: format!("Scaling activity initiated by (deployment {owner_id})"),
        }
    }

    /// Its image could not be pulled (A39).
    fn pull_failed(image: &str) -> StopCause {
        StopCause {
            code: TaskStopCode::TaskFailedToStart,
            reason: format!(
                "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref {image}: not found"
            ),
        }
    }
}

/// One container of a task, as its definition names it.
struct ContainerRecord {
    id: String,
    name: String,
    image: Option<String>,
    cpu: Option<i32>,
    memory: Option<i32>,
    memory_reservation: Option<i32>,
    port_mappings: Vec<PortMapping>,
}

/// The elastic network interface of an awsvpc task.
struct Eni {
    attachment_id: String,
    eni_id: String,
    mac: String,
    private_ip: String,
    subnet: String,
}

pub(super) struct TaskRecord {
    /// Creation order in its cluster (ListTasks answers in this order).
    seq: u64,
    id: String,
    arn: String,
    pub(super) owner: Owner,
    spec: TaskSpec,
    cpu: Option<String>,
    memory: Option<String>,
    containers: Vec<ContainerRecord>,
    eni: Option<Eni>,
    availability_zone: String,
    created_at: SystemTime,
    /// When its start is due (the event that makes it RUNNING).
    start_due: SystemTime,
    started_at: Option<SystemTime>,
    /// Desired STOPPED from then on, and why.
    stopping_at: Option<SystemTime>,
    stop_cause: Option<StopCause>,
    /// When its stop is due (STOPPED from then on, by the event that stops it).
    stop_due: Option<SystemTime>,
    /// Until when it stays RUNNING, desired STOPPED, while its load-balancer targets drain.
    draining_until: Option<SystemTime>,
    stopped_at: Option<SystemTime>,
    /// Whether it still counts as RUNNING for its owner while it stops: a DRAINING task set or
    /// service keeps its tasks counted until they are all stopped.
    counted_while_stopping: bool,
}

impl TaskRecord {
    pub(super) fn id(&self) -> &str {
        &self.id
    }

    pub(super) fn task_definition(&self) -> &str {
        &self.spec.task_definition
    }

    /// Desired STOPPED.
    pub(super) fn is_stopping(&self) -> bool {
        self.stopping_at.is_some()
    }

    fn awsvpc(&self) -> bool {
        self.eni.is_some()
    }

    /// Its last status at `now`, and its version: AWS counts every change of its last or
    /// desired status (aws-cli run-task example 2: PROVISIONING at version 1; the StopTask API
    /// reference: version 4 for a Fargate task RUNNING and desired STOPPED).
    fn status_at(&self, now: SystemTime) -> (TaskStatus, i64) {
        let mut trail = vec![];
        if self.awsvpc() {
            trail.push(TaskStatus::Provisioning);
            if self.started_at.is_some()
                || now.min(self.stopped_at.unwrap_or(now)) >= self.pending_at()
            {
                trail.push(TaskStatus::Pending);
            }
        } else {
            trail.push(TaskStatus::Pending);
        }
        let mut changes = 0;
        if self.started_at.is_some() {
            trail.push(TaskStatus::Running);
            if let Some(stopping) = self.stopping_at {
                // Desired STOPPED is a change of its own; then, halfway to the stop, the
                // task deprovisions its interface (awsvpc) or stops its containers.
                changes += 1;
                // Its targets drain first: DEACTIVATING (the task lifecycle of the ECS
                // developer guide: deregistration from target groups happens there).
                if self.draining_until.is_some() && !self.counted_while_stopping && now > stopping {
                    trail.push(TaskStatus::Deactivating);
                }
                let from = self.draining_until.unwrap_or(stopping).max(stopping);
                let due = self.stop_due.unwrap_or(from);
                let half = due.duration_since(from).unwrap_or_default() / 2;
                // The call that stops it answers it RUNNING, whatever the delays.
                if !self.counted_while_stopping
                    && ((now >= from + half && now > from) || self.stopped_at.is_some())
                {
                    trail.push(if self.awsvpc() {
                        TaskStatus::Deprovisioning
                    } else {
                        TaskStatus::Stopping
                    });
                }
            }
        }
        if self.stopped_at.is_some_and(|t| t <= now) {
            trail.push(TaskStatus::Stopped);
        }
        let version = i64::try_from(trail.len() + changes).unwrap_or(i64::MAX);
        let last = trail.pop().unwrap_or(TaskStatus::Pending);
        (last, version)
    }

    /// The end of PROVISIONING: 30% of the way to its start.
    fn pending_at(&self) -> SystemTime {
        self.created_at + self.start_span().mul_f64(0.3)
    }

    fn start_span(&self) -> Duration {
        self.start_due
            .duration_since(self.created_at)
            .unwrap_or_default()
    }

    /// A time of its start phase, if it has come by `now` and the task did not stop before.
    fn phase_at(&self, fraction: f64, now: SystemTime) -> Option<SystemTime> {
        let t = self.created_at + self.start_span().mul_f64(fraction);
        let end = self.stopped_at.unwrap_or(now).min(now);
        (t <= end || self.started_at.is_some()).then_some(t)
    }

    fn render(&self, cluster_arn: &str, now: SystemTime, with_tags: bool) -> Task {
        let (last, version) = self.status_at(now);
        let desired = if self.stopping_at.is_some() {
            TaskStatus::Stopped
        } else {
            TaskStatus::Running
        };
        let started = self.started_at.filter(|t| *t <= now);
        let container_status = match last.as_str() {
            "PROVISIONING" | "PENDING" => "PENDING",
            "STOPPED" => "STOPPED",
            _ => "RUNNING",
        };
        let containers = self
            .containers
            .iter()
            .map(|c| {
                self.render_container(
                    c,
                    cluster_arn,
                    container_status,
                    started.is_some(),
                    last != TaskStatus::Provisioning,
                )
            })
            .collect();
        let attachments = self
            .eni
            .as_ref()
            .map(|eni| {
                // PRECREATED with only its subnet while the task provisions (aws-cli run-task
                // example 2), ATTACHED while it runs, DELETED once it stopped.
                let status = match last.as_str() {
                    "PROVISIONING" => "PRECREATED",
                    "STOPPED" => "DELETED",
                    _ => "ATTACHED",
                };
                let detail = |name: &str, value: &str| {
                    KeyValuePair::builder()
                        .name(name.to_owned())
                        .value(value.to_owned())
                        .build()
                };
                vec![Attachment::builder()
                    .id(eni.attachment_id.clone())
                    .r#type("ElasticNetworkInterface")
                    .status(status)
                    .set_details(Some(if status == "PRECREATED" {
                        vec![detail("subnetId", &eni.subnet)]
                    } else {
                        vec![
                            detail("subnetId", &eni.subnet),
                            detail("networkInterfaceId", &eni.eni_id),
                            detail("macAddress", &eni.mac),
                            detail(
                                "privateDnsName",
                                &format!("ip-{}.ec2.internal", eni.private_ip.replace('.', "-")),
                            ),
                            detail("privateIPv4Address", &eni.private_ip),
                        ]
                    }))
                    .build()]
            })
            .unwrap_or_default();
        let fargate = self.spec.platform_version.is_some();
        let connected = self.phase_at(0.2, now);
        let stopped = self.stopped_at.filter(|t| *t <= now);
        Task::builder()
            .set_attachments(Some(attachments))
            .set_attributes(Some(vec![Attribute::builder()
                .name("ecs.cpu-architecture")
                .value("x86_64")
                .build()]))
            .availability_zone(self.availability_zone.clone())
            .set_capacity_provider_name(self.spec.capacity_provider.clone())
            .cluster_arn(cluster_arn.to_owned())
            .set_connectivity(connected.map(|_| Connectivity::Connected))
            .set_connectivity_at(connected.and_then(ts))
            .set_containers(Some(containers))
            .set_cpu(self.cpu.clone())
            .set_created_at(ts(self.created_at))
            .desired_status(desired)
            .enable_execute_command(self.spec.enable_execute_command)
            .set_execution_stopped_at(stopped.and_then(ts))
            .group(self.spec.group.clone())
            .health_status(HealthStatus::UnknownValue)
            .last_status(last)
            .set_launch_type(self.spec.launch_type.clone())
            .set_memory(self.memory.clone())
            .set_overrides(Some(self.spec.overrides.clone().unwrap_or_else(|| {
                TaskOverride::builder()
                    .set_container_overrides(Some(
                        self.containers
                            .iter()
                            .map(|c| ContainerOverride::builder().name(c.name.clone()).build())
                            .collect(),
                    ))
                    .set_inference_accelerator_overrides(Some(vec![]))
                    .build()
            })))
            .set_platform_version(self.spec.platform_version.clone())
            .set_platform_family(self.spec.platform_family.clone())
            .set_pull_started_at(self.phase_at(0.6, now).and_then(ts))
            .set_pull_stopped_at(self.phase_at(0.9, now).and_then(ts))
            .set_started_at(started.and_then(ts))
            .set_started_by(self.spec.started_by.clone())
            .set_stop_code(self.stop_cause.as_ref().map(|c| c.code.clone()))
            .set_stopped_at(stopped.and_then(ts))
            .set_stopped_reason(self.stop_cause.as_ref().map(|c| c.reason.clone()))
            .set_stopping_at(self.stopping_at.and_then(ts))
            .set_tags(with_tags.then(|| self.spec.tags.clone()).or(Some(vec![])))
            .task_arn(self.arn.clone())
            .task_definition_arn(self.spec.task_definition.clone())
            .version(version)
            .set_ephemeral_storage(
                fargate.then(|| EphemeralStorage::builder().size_in_gi_b(20).build()),
            )
            .set_fargate_ephemeral_storage(
                fargate.then(|| TaskEphemeralStorage::builder().size_in_gi_b(20).build()),
            )
            .build()
    }

    fn render_container(
        &self,
        c: &ContainerRecord,
        cluster_arn: &str,
        status: &str,
        started: bool,
        provisioned: bool,
    ) -> Container {
        let prefix = cluster_arn
            .split_once(":cluster/")
            .map_or(cluster_arn, |(p, _)| p);
        let cluster = cluster_arn.rsplit('/').next().unwrap_or_default();
        let network_interfaces = self
            .eni
            .as_ref()
            .filter(|_| provisioned)
            .map(|eni| {
                vec![NetworkInterface::builder()
                    .attachment_id(eni.attachment_id.clone())
                    .private_ipv4_address(eni.private_ip.clone())
                    .build()]
            })
            .unwrap_or_default();
        // Once it runs, a bridge or host task binds its ports on the host; an awsvpc one uses
        // its own interface and answers an empty list (aws-cli describe-tasks example 2).
        let network_bindings = started.then(|| {
            if self.awsvpc() {
                return vec![];
            }
            c.port_mappings
                .iter()
                .map(|m| {
                    NetworkBinding::builder()
                        .bind_ip("0.0.0.0")
                        .set_container_port(m.container_port)
                        .set_host_port(m.host_port.or(m.container_port))
                        .protocol(m.protocol.clone().unwrap_or(TransportProtocol::Tcp))
                        .build()
                })
                .collect()
        });
        Container::builder()
            .container_arn(format!("{prefix}:container/{cluster}/{}/{}", self.id, c.id))
            .task_arn(self.arn.clone())
            .name(c.name.clone())
            .set_image(c.image.clone())
            .set_runtime_id(started.then(|| format!("{}-{}", self.id, 1_000_000_000u64 + self.seq)))
            .last_status(status.to_owned())
            .set_network_bindings(network_bindings)
            .set_network_interfaces(Some(network_interfaces))
            .health_status(HealthStatus::UnknownValue)
            .cpu(c.cpu.unwrap_or(0).to_string())
            .set_memory(c.memory.map(|m| m.to_string()))
            .set_memory_reservation(c.memory_reservation.map(|m| m.to_string()))
            .build()
    }

    /// Whether ListTasks' `desiredStatus` filter takes it.
    fn desired_is(&self, want: &DesiredStatus) -> bool {
        match want {
            DesiredStatus::Stopped => self.stopping_at.is_some(),
            _ => self.stopping_at.is_none(),
        }
    }
}

/// The tasks of one cluster, by id.
#[derive(Default)]
pub(super) struct TaskStore {
    tasks: BTreeMap<String, TaskRecord>,
    seq: u64,
}

impl TaskStore {
    pub(super) fn get(&self, id: &str) -> Option<&TaskRecord> {
        self.tasks.get(id)
    }

    /// Whether any task is not stopping (AWS refuses to delete the cluster then).
    pub(super) fn any_active(&self) -> bool {
        self.tasks.values().any(|t| t.stopping_at.is_none())
    }

    /// Forgets tasks STOPPED longer than [`STOPPED_VISIBLE`] ago.
    fn expire(&mut self, now: SystemTime) {
        self.tasks
            .retain(|_, t| t.stopped_at.is_none_or(|s| s + STOPPED_VISIBLE > now));
    }
}

/// A random lowercase hex string of `n` digits.
fn hex(rng: &mut fastrand::Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rng.u32(0..16), 16).unwrap_or('0'))
        .collect()
}

fn uuid(rng: &mut fastrand::Rng) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 12)
    )
}

impl State {
    /// The spec of the tasks a task set starts.
    pub(super) fn set_task_spec(&self, key: &SetKey) -> Option<TaskSpec> {
        let svc = self
            .clusters
            .get(&key.cluster)?
            .services
            .get(&key.service)?;
        let set = svc.task_sets.get(&key.set)?;
        Some(TaskSpec::of_service(
            &key.service,
            &set.id,
            set.task_definition.clone(),
            Placement {
                launch_type: &set.launch_type,
                strategy: &set.capacity_provider_strategy,
                platform_version: &set.platform_version,
                network: &set.network_configuration,
            },
            svc.enable_execute_command,
        ))
    }

    /// The spec of the tasks a deployment starts.
    pub(super) fn deployment_task_spec(
        &self,
        key: &ServiceKey,
        deployment: &str,
    ) -> Option<TaskSpec> {
        let svc = self
            .clusters
            .get(&key.cluster)?
            .services
            .get(&key.service)?;
        let dep = svc.deployments.iter().find(|d| d.id == deployment)?;
        Some(TaskSpec::of_service(
            &key.service,
            &dep.id,
            dep.task_definition.clone()?,
            Placement {
                launch_type: &dep.launch_type,
                strategy: &dep.capacity_provider_strategy,
                platform_version: &dep.platform_version,
                network: &dep.network_configuration,
            },
            svc.enable_execute_command,
        ))
    }

    /// Creates `n` PENDING (or PROVISIONING) tasks of `spec` in `cluster`; their ids. Their
    /// start is planned with [`State::plan_start`].
    pub(super) fn create_tasks(
        &mut self,
        cluster: &str,
        owner: Owner,
        spec: &TaskSpec,
        n: usize,
        now: SystemTime,
    ) -> Vec<String> {
        let definition = self
            .resolve_task_definition(&spec.task_definition)
            .ok()
            .map(|r| r.definition.clone())
            .unwrap_or_default();
        let region = self.settings.region.clone();
        let Some(c) = self.clusters.get_mut(cluster) else {
            return vec![];
        };
        let cluster_arn = c.arn.clone();
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            let rng = &mut self.rng;
            let id = hex(rng, 32);
            let containers: Vec<ContainerRecord> = definition
                .container_definitions
                .iter()
                .flatten()
                .map(|d| ContainerRecord {
                    id: uuid(rng),
                    name: d.name.clone().unwrap_or_default(),
                    image: d.image.clone(),
                    cpu: d.cpu,
                    memory: d.memory,
                    memory_reservation: d.memory_reservation,
                    port_mappings: d.port_mappings.clone().unwrap_or_default(),
                })
                .collect();
            let eni = spec.network.as_ref().map(|net| {
                let subnets = net.subnets.clone().unwrap_or_default();
                let subnet = subnets
                    .get(rng.usize(0..subnets.len().max(1)))
                    .cloned()
                    .unwrap_or_default();
                Eni {
                    attachment_id: uuid(rng),
                    eni_id: format!("eni-{}", hex(rng, 17)),
                    mac: format!(
                        "0a:{}:{}:{}:{}:{}",
                        hex(rng, 2),
                        hex(rng, 2),
                        hex(rng, 2),
                        hex(rng, 2),
                        hex(rng, 2)
                    ),
                    private_ip: format!("10.0.{}.{}", rng.u8(0..=255), rng.u8(2..=254)),
                    subnet,
                }
            });
            // The zone follows the subnet, so a task of a subnet always lands in one zone.
            let zone_of = |s: &str| {
                let sum: u32 = s.bytes().map(u32::from).sum();
                char::from(b'a' + u8::try_from(sum % 3).unwrap_or(0))
            };
            let zone = match &eni {
                Some(e) => zone_of(&e.subnet),
                None => char::from(b'a' + rng.u8(0..3)),
            };
            let (cpu, memory) = task_size(&definition);
            c.tasks.seq += 1;
            let record = TaskRecord {
                seq: c.tasks.seq,
                arn: format!(
                    "{}:task/{}/{id}",
                    cluster_arn.split_once(":cluster/").map_or("", |(p, _)| p),
                    c.name
                ),
                id: id.clone(),
                owner: owner.clone(),
                spec: spec.clone(),
                cpu,
                memory,
                containers,
                eni,
                availability_zone: format!("{region}{zone}"),
                created_at: now,
                start_due: now,
                started_at: None,
                stopping_at: None,
                stop_cause: None,
                stop_due: None,
                draining_until: None,
                stopped_at: None,
                counted_while_stopping: false,
            };
            c.tasks.tasks.insert(id.clone(), record);
            ids.push(id);
        }
        ids
    }

    /// When the tasks' start is due (their PROVISIONING and PENDING phases stretch to it).
    pub(super) fn plan_start(&mut self, cluster: &str, ids: &[String], due: SystemTime) {
        if let Some(c) = self.clusters.get_mut(cluster) {
            for id in ids {
                if let Some(t) = c.tasks.tasks.get_mut(id) {
                    t.start_due = due;
                }
            }
        }
    }

    /// Whether a task of the service owned by a deployment it no longer has is not STOPPED
    /// yet.
    pub(super) fn retired_tasks_stopping(&self, key: &crate::scheduler::ServiceKey) -> bool {
        let Some(c) = self.clusters.get(&key.cluster) else {
            return false;
        };
        let Some(svc) = c.services.get(&key.service) else {
            return false;
        };
        c.tasks.tasks.values().any(|t| {
            t.stopped_at.is_none()
                && matches!(&t.owner, Owner::Deployment { service, deployment }
                    if *service == key.service
                        && !svc.deployments.iter().any(|d| &d.id == deployment))
        })
    }

    /// The tasks are RUNNING from `at`; ECS registers them in their target groups.
    pub(super) fn tasks_running(&mut self, cluster: &str, ids: &[String], at: SystemTime) {
        if let Some(c) = self.clusters.get_mut(cluster) {
            for id in ids {
                if let Some(t) = c.tasks.tasks.get_mut(id) {
                    t.started_at = Some(at);
                    t.start_due = at;
                }
            }
        }
        for id in ids {
            for (group, ip, port, zone) in self.task_targets(cluster, id) {
                self.elbv2.register_task(&group, &ip, port, &zone, at);
            }
        }
    }

    /// Where ECS registers a task: for each of its owner's load balancers with a target group,
    /// (group, the ENI's address, the container port, the zone). awsvpc tasks only (targets of
    /// type `ip`); the emulator has no container instances to register by instance id.
    fn task_targets(&self, cluster: &str, id: &str) -> Vec<(String, String, i32, String)> {
        let Some(c) = self.clusters.get(cluster) else {
            return vec![];
        };
        let Some(t) = c.tasks.tasks.get(id) else {
            return vec![];
        };
        let Some(eni) = &t.eni else {
            return vec![];
        };
        let balancers = match &t.owner {
            Owner::TaskSet { service, set } => c
                .services
                .get(service)
                .and_then(|s| s.task_sets.get(set))
                .map(|s| s.load_balancers.clone()),
            Owner::Deployment {
                service,
                deployment,
            } => c.services.get(service).map(|s| {
                s.deployments
                    .iter()
                    .find(|d| &d.id == deployment)
                    .and_then(|d| d.load_balancers.clone())
                    .unwrap_or_else(|| s.load_balancers.clone())
            }),
            Owner::Standalone => None,
        };
        balancers
            .unwrap_or_default()
            .iter()
            .filter_map(|lb| {
                Some((
                    lb.target_group_arn.clone()?,
                    eni.private_ip.clone(),
                    lb.container_port?,
                    t.availability_zone.clone(),
                ))
            })
            .collect()
    }

    /// ECS deregisters tasks that are to stop from their target groups; answers how long the
    /// longest deregistration delay lasts.
    fn deregister_task_targets(
        &mut self,
        cluster: &str,
        ids: &[String],
        at: SystemTime,
    ) -> Duration {
        let mut longest = 0;
        for id in ids {
            for (group, ip, port, _) in self.task_targets(cluster, id) {
                if let Some(delay) = self.elbv2.deregister_task(&group, &ip, port, at) {
                    longest = longest.max(delay);
                }
            }
        }
        self.settings
            .timing
            .health_second
            .saturating_mul(u32::try_from(longest).unwrap_or(u32::MAX))
    }

    /// The tasks failed to start: STOPPED at once, with the pull error (A39).
    pub(super) fn tasks_failed(&mut self, cluster: &str, ids: &[String], at: SystemTime) {
        let Some(c) = self.clusters.get_mut(cluster) else {
            return;
        };
        for id in ids {
            if let Some(t) = c.tasks.tasks.get_mut(id) {
                let image = t
                    .containers
                    .iter()
                    .filter_map(|c| c.image.as_deref())
                    .find(|i| i.ends_with(super::UNPULLABLE_TAG))
                    .unwrap_or_default()
                    .to_owned();
                t.start_due = at;
                t.stopping_at = Some(at);
                t.stop_due = Some(at);
                t.stopped_at = Some(at);
                t.stop_cause = Some(StopCause::pull_failed(&image));
            }
        }
        self.note_stopped(at);
    }

    /// The tasks are to stop, and no longer count for their owner: PENDING ones are STOPPED at
    /// once, RUNNING ones when the stop delay has passed.
    pub(super) fn stop_tasks(
        &mut self,
        cluster: &str,
        ids: &[String],
        cause: &StopCause,
        at: SystemTime,
    ) {
        let mut stopping = vec![];
        if let Some(c) = self.clusters.get_mut(cluster) {
            for id in ids {
                let Some(t) = c.tasks.tasks.get_mut(id) else {
                    continue;
                };
                if t.stopped_at.is_some() {
                    continue;
                }
                if t.stopping_at.is_none() {
                    t.stopping_at = Some(at);
                    t.stop_cause = Some(cause.clone());
                }
                t.counted_while_stopping = false;
                if t.started_at.is_some() {
                    stopping.push(id.clone());
                } else {
                    t.stop_due = Some(at);
                    t.stopped_at = Some(at);
                }
            }
        }
        self.note_stopped(at);
        if !stopping.is_empty() {
            let draining = self.deregister_task_targets(cluster, &stopping, at);
            let stage = if draining.is_zero() {
                super::sim::Stage::Stop
            } else {
                super::sim::Stage::StopAfterDraining(draining)
            };
            let due = self.schedule(
                at,
                stage,
                Event::TasksStopped {
                    cluster: cluster.to_owned(),
                    ids: stopping.clone(),
                },
            );
            if let Some(c) = self.clusters.get_mut(cluster) {
                for id in &stopping {
                    if let Some(t) = c.tasks.tasks.get_mut(id) {
                        t.stop_due = Some(due);
                        t.draining_until =
                            (!draining.is_zero()).then(|| super::elbv2::after(at, draining));
                    }
                }
            }
        }
    }

    /// The tasks are desired STOPPED but count for their owner until [`State::tasks_stopped`]:
    /// a DRAINING task set or service.
    pub(super) fn drain_tasks(
        &mut self,
        cluster: &str,
        ids: &[String],
        cause: &StopCause,
        at: SystemTime,
    ) {
        // Their targets drain from now; the set's own drain delay decides when they stop.
        self.deregister_task_targets(cluster, ids, at);
        if let Some(c) = self.clusters.get_mut(cluster) {
            for id in ids {
                if let Some(t) = c.tasks.tasks.get_mut(id) {
                    if t.stopping_at.is_none() {
                        t.stopping_at = Some(at);
                        t.stop_cause = Some(cause.clone());
                        t.counted_while_stopping = true;
                    }
                }
            }
        }
    }

    /// The tasks are STOPPED (those not stopped already), and out of their owner's counts.
    pub(super) fn tasks_stopped(&mut self, cluster: &str, ids: &[String], at: SystemTime) {
        self.note_stopped(at);
        let Some(c) = self.clusters.get_mut(cluster) else {
            return;
        };
        for id in ids {
            let Some(t) = c.tasks.tasks.get_mut(id) else {
                continue;
            };
            if t.stopped_at.is_some() {
                continue;
            }
            t.stopped_at = Some(at);
            t.stop_due = Some(at);
            t.counted_while_stopping = false;
            let owner = t.owner.clone();
            if let Some(svc) = match &owner {
                Owner::TaskSet { service, .. } | Owner::Deployment { service, .. } => {
                    c.services.get_mut(service)
                }
                Owner::Standalone => None,
            } {
                match &owner {
                    Owner::TaskSet { set, .. } => {
                        if let Some(s) = svc.task_sets.get_mut(set) {
                            s.tasks.remove(id);
                        }
                    }
                    Owner::Deployment { deployment, .. } => {
                        if let Some(d) = svc.deployments.iter_mut().find(|d| &d.id == deployment) {
                            d.tasks.remove(id);
                        }
                    }
                    Owner::Standalone => {}
                }
            }
        }
    }

    /// Forgets every cluster's tasks STOPPED more than an hour ago.
    pub(super) fn expire_tasks(&mut self, now: SystemTime) {
        if self.next_task_expiry.is_some_and(|t| t <= now) {
            for c in self.clusters.values_mut() {
                c.tasks.expire(now);
            }
            self.next_task_expiry = self
                .clusters
                .values()
                .flat_map(|c| c.tasks.tasks.values())
                .filter_map(|t| t.stopped_at)
                .min()
                .map(|s| s + STOPPED_VISIBLE);
        }
    }

    /// Notes that a task stopped at `at`, so that it is forgotten in time.
    fn note_stopped(&mut self, at: SystemTime) {
        let expiry = at + STOPPED_VISIBLE;
        if self.next_task_expiry.is_none_or(|t| t > expiry) {
            self.next_task_expiry = Some(expiry);
        }
    }

    /// What must hold between the tasks and the counts: every task an owner counts exists,
    /// belongs to it and is in the state it is counted in (RUNNING: started and not stopped;
    /// PENDING: neither), and every task of a service or task set that is desired RUNNING is
    /// counted by its owner.
    pub(super) fn task_invariants(&self) -> Vec<String> {
        let mut problems = vec![];
        for c in self.clusters.values() {
            let mut counted = std::collections::BTreeSet::new();
            for (name, svc) in &c.services {
                let owners = svc
                    .task_sets
                    .iter()
                    .map(|s| {
                        let owner = Owner::TaskSet {
                            service: name.clone(),
                            set: s.id.clone(),
                        };
                        (owner, &s.tasks)
                    })
                    .chain(svc.deployments.iter().map(|d| {
                        let owner = Owner::Deployment {
                            service: name.clone(),
                            deployment: d.id.clone(),
                        };
                        (owner, &d.tasks)
                    }));
                for (owner, tasks) in owners {
                    let running = tasks.running.iter().map(|id| (id, true));
                    let pending = tasks
                        .batches
                        .iter()
                        .flat_map(|(_, ids)| ids)
                        .map(|id| (id, false));
                    for (id, is_running) in running.chain(pending) {
                        counted.insert(id.clone());
                        let Some(t) = c.tasks.get(id) else {
                            problems
                                .push(format!("{owner:?} counts task {id}, which does not exist"));
                            continue;
                        };
                        if t.owner != owner {
                            problems.push(format!("{owner:?} counts task {id} of {:?}", t.owner));
                        }
                        let stopped = t.stopped_at.is_some();
                        let started = t.started_at.is_some();
                        if stopped || started != is_running {
                            problems.push(format!(
                                "{owner:?} counts task {id} as {} but it is {}",
                                if is_running { "RUNNING" } else { "PENDING" },
                                if stopped {
                                    "STOPPED"
                                } else if started {
                                    "RUNNING"
                                } else {
                                    "PENDING"
                                }
                            ));
                        }
                    }
                }
            }
            for t in c.tasks.tasks.values() {
                // A stopping task is counted until it stopped (a drain), or its stop is due.
                if t.stopping_at.is_some() && t.stopped_at.is_none() {
                    let held = t.counted_while_stopping && counted.contains(&t.id);
                    let due =
                        !t.counted_while_stopping && t.stop_due.is_some() && t.started_at.is_some();
                    if !held && !due {
                        problems.push(format!(
                            "task {} of {:?} is stopping but will never stop",
                            t.id, t.owner
                        ));
                    }
                }
                if t.owner != Owner::Standalone && !t.is_stopping() && !counted.contains(&t.id) {
                    problems.push(format!(
                        "task {} of {:?} is desired RUNNING but not counted",
                        t.id, t.owner
                    ));
                }
            }
        }
        problems
    }

    // -----------------------------------------------------------------------------------------
    // Operations

    /// ListTasks: the cluster's tasks (creation order), filtered by service, family,
    /// startedBy, launch type and desired status (RUNNING unless asked), 100 a page.
    pub fn list_tasks(
        &mut self,
        req: ListTasksRequest,
        ctx: &Ctx,
    ) -> Result<ListTasksResponse, ApiError> {
        // startedBy is a filter of its own (the API reference; AWS's words from
        // aws/aws-sdk-go-v2 issue 1893).
        if req.started_by.is_some()
            && (req.service_name.is_some()
                || req.family.is_some()
                || req.launch_type.is_some()
                || req.container_instance.is_some())
        {
            return Err(ApiError::invalid(
                "cannot specify startedBy with other arguments",
            ));
        }
        let cluster = self.active_cluster(req.cluster.as_deref())?;
        if let Some(service) = &req.service_name {
            let name = super::State::service_name(service);
            if !cluster.services.contains_key(&name) {
                return Err(ApiError::service_not_found());
            }
        }
        if req.container_instance.is_some() {
            // The emulator has no container instances (A49): nothing runs on any.
            return Err(ApiError::invalid("Invalid containerInstance specified."));
        }
        let desired = req.desired_status.clone().unwrap_or(DesiredStatus::Running);
        // "Although you can filter results based on a desired status of PENDING, this doesn't
        // return any results" (the API reference): no task is ever desired PENDING.
        let none = desired == DesiredStatus::Pending;
        let service = req.service_name.as_deref().map(State::service_name);
        let family = req.family.as_deref();
        let mut tasks: Vec<&TaskRecord> = cluster
            .tasks
            .tasks
            .values()
            .filter(|_| !none)
            .filter(|t| t.stopped_at.is_none_or(|s| s + STOPPED_VISIBLE > ctx.now))
            .filter(|t| t.desired_is(&desired))
            .filter(|t| {
                service.as_ref().is_none_or(|s| match &t.owner {
                    Owner::TaskSet { service, .. } | Owner::Deployment { service, .. } => {
                        service == s
                    }
                    Owner::Standalone => false,
                })
            })
            .filter(|t| family.is_none_or(|f| family_of(&t.spec.task_definition) == f))
            .filter(|t| {
                req.started_by
                    .as_ref()
                    .is_none_or(|s| t.spec.started_by.as_ref() == Some(s))
            })
            .filter(|t| {
                req.launch_type
                    .as_ref()
                    .is_none_or(|l| t.spec.launch_type.as_ref() == Some(l))
            })
            .collect();
        tasks.sort_by_key(|t| t.seq);
        let arns: Vec<String> = tasks.iter().map(|t| t.arn.clone()).collect();
        let (task_arns, next_token) = page(
            &arns,
            req.max_results,
            req.next_token.as_deref(),
            100,
            100,
            "tasks",
        )?;
        Ok(ListTasksResponse::builder()
            .set_task_arns(Some(task_arns))
            .set_next_token(next_token)
            .build())
    }

    /// DescribeTasks: up to 100 tasks by id or ARN; unknown ones are MISSING failures.
    pub fn describe_tasks(
        &mut self,
        req: DescribeTasksRequest,
        ctx: &Ctx,
    ) -> Result<DescribeTasksResponse, ApiError> {
        let wanted = req.tasks.unwrap_or_default();
        if wanted.is_empty() {
            // AWS's words (aws/copilot-cli issue 3551).
            return Err(ApiError::invalid("Tasks cannot be empty."));
        }
        if wanted.len() > MAX_DESCRIBE_TASKS {
            // AWS's words (gchq/sleeper issue 555, remind101/empire issue 647).
            return Err(ApiError::invalid(format!(
                "taskIds can have at most {MAX_DESCRIBE_TASKS} items."
            )));
        }
        let with_tags = req
            .include
            .as_ref()
            .is_some_and(|i| i.contains(&TaskField::Tags));
        let cluster = self.active_cluster(req.cluster.as_deref())?;
        let mut tasks = vec![];
        let mut failures = vec![];
        for param in wanted {
            let id = param.rsplit('/').next().unwrap_or(&param);
            match cluster
                .tasks
                .get(id)
                .filter(|t| t.stopped_at.is_none_or(|s| s + STOPPED_VISIBLE > ctx.now))
            {
                Some(t) => tasks.push(t.render(&cluster.arn, ctx.now, with_tags)),
                // AWS names a task given by id with its whole ARN (aws/aws-sdk-ruby pull 1748).
                None => {
                    let arn = if param.starts_with("arn:") {
                        param.clone()
                    } else {
                        format!(
                            "{}:task/{}/{id}",
                            cluster.arn.split_once(":cluster/").map_or("", |(p, _)| p),
                            cluster.name
                        )
                    };
                    failures.push(super::missing_entry(arn, None))
                }
            }
        }
        Ok(DescribeTasksResponse::builder()
            .set_tasks(Some(tasks))
            .set_failures(Some(failures))
            .build())
    }

    /// StopTask: the task is desired STOPPED at once; a service's scheduler starts another in
    /// its place. The answer shows the task as the call left it.
    pub fn stop_task(
        &mut self,
        req: StopTaskRequest,
        ctx: &Ctx,
    ) -> Result<StopTaskResponse, ApiError> {
        let param = req.task.clone().unwrap_or_default();
        let id = param.rsplit('/').next().unwrap_or(&param).to_owned();
        let reason = req.reason.clone().unwrap_or_default();
        if reason.len() > 255 {
            return Err(ApiError::invalid(
                "Reason cannot be longer than 255 characters.",
            ));
        }
        let cluster = self.active_cluster(req.cluster.as_deref())?;
        let cluster_name = cluster.name.clone();
        let Some(task) = cluster.tasks.get(&id) else {
            return Err(ApiError::invalid("The referenced task was not found."));
        };
        let owner = task.owner.clone();
        if task.stopping_at.is_none() {
            // Out of its owner's counts, and the owner's scheduler is told.
            let c = self.clusters.get_mut(&cluster_name);
            let mut relaunch = None;
            if let Some(c) = c {
                match &owner {
                    Owner::TaskSet { service, set } => {
                        if let Some(s) = c
                            .services
                            .get_mut(service)
                            .and_then(|svc| svc.task_sets.get_mut(set))
                        {
                            if s.tasks.remove(&id).is_some() {
                                s.generation += 1;
                                if s.stability == StabilityStatus::SteadyState {
                                    s.stability = StabilityStatus::Stabilizing;
                                    s.stability_at = ctx.now;
                                }
                                relaunch = Some(Event::Launch {
                                    key: SetKey {
                                        cluster: cluster_name.clone(),
                                        service: service.clone(),
                                        set: set.clone(),
                                    },
                                });
                            }
                        }
                    }
                    Owner::Deployment {
                        service,
                        deployment,
                    } => {
                        if let Some(svc) = c.services.get_mut(service) {
                            let primary = svc.deployments.first().map(|d| d.id.clone());
                            if let Some(d) =
                                svc.deployments.iter_mut().find(|d| &d.id == deployment)
                            {
                                d.tasks.remove(&id);
                            }
                            if let Some(primary) = primary {
                                relaunch = Some(Event::DeploymentLaunch {
                                    key: ServiceKey {
                                        cluster: cluster_name.clone(),
                                        service: service.clone(),
                                    },
                                    deployment: primary,
                                });
                            }
                        }
                    }
                    Owner::Standalone => {}
                }
            }
            let cause = StopCause {
                code: TaskStopCode::UserInitiated,
                reason: if reason.is_empty() {
                    "Task stopped by user".to_owned()
                } else {
                    reason
                },
            };
            self.stop_tasks(&cluster_name, std::slice::from_ref(&id), &cause, ctx.now);
            if let Some(event) = relaunch {
                self.schedule(ctx.now, super::sim::Stage::Launch, event);
            }
        }
        let c = self
            .clusters
            .get(&cluster_name)
            .ok_or_else(ApiError::cluster_not_found)?;
        let answer = c.tasks.get(&id).map(|t| t.render(&c.arn, ctx.now, true));
        Ok(StopTaskResponse::builder().set_task(answer).build())
    }

    /// RunTask: `count` (1..=10) standalone tasks of a task definition, in the group
    /// `family:<family>` unless one is given. They run until StopTask stops them.
    pub fn run_task(
        &mut self,
        req: RunTaskRequest,
        ctx: &Ctx,
    ) -> Result<RunTaskResponse, ApiError> {
        let count = req.count.unwrap_or(1);
        if !(1..=MAX_RUN_COUNT).contains(&count) {
            return Err(ApiError::invalid(format!(
                "count must be between 1 and {MAX_RUN_COUNT}."
            )));
        }
        let td_param = req.task_definition.clone().unwrap_or_default();
        let strategy = req
            .capacity_provider_strategy
            .clone()
            .filter(|s| !s.is_empty());
        let cluster = self.active_cluster(req.cluster.as_deref())?;
        let cluster_name = cluster.name.clone();
        let record = self
            .resolve_task_definition(&td_param)
            .map_err(|_| ApiError::client("TaskDefinition not found."))?;
        let definition = record.definition.clone();
        let td_arn = definition.task_definition_arn.clone().unwrap_or_default();
        let strategy = match (&req.launch_type, strategy) {
            (Some(_), _) => None,
            (None, Some(s)) => Some(s),
            (None, None) => {
                let c = self.active_cluster(Some(&cluster_name))?;
                (!c.default_strategy.is_empty()).then(|| c.default_strategy.clone())
            }
        };
        let (launch_type, platform_version) =
            super::launch_defaults(&req.launch_type, &strategy, &req.platform_version);
        let fargate = super::services::on_fargate(&launch_type, &strategy);
        let awsvpc = definition.network_mode == Some(NetworkMode::Awsvpc);
        let network = req
            .network_configuration
            .as_ref()
            .and_then(|n| n.awsvpc_configuration.clone());
        if awsvpc
            && network
                .as_ref()
                .and_then(|n| n.subnets.as_ref())
                .is_none_or(|s| s.is_empty())
        {
            return Err(ApiError::invalid(
                "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
            ));
        }
        if fargate
            && !definition
                .compatibilities
                .iter()
                .flatten()
                .any(|c| *c == Compatibility::Fargate)
        {
            return Err(ApiError::invalid(
                "Task definition does not support launch_type FARGATE.",
            ));
        }
        let family = definition.family.clone().unwrap_or_default();
        let spec = TaskSpec {
            task_definition: td_arn,
            group: req.group.clone().unwrap_or(format!("family:{family}")),
            started_by: req.started_by.clone(),
            launch_type: task_launch_type(&launch_type, &strategy),
            capacity_provider: capacity_provider_of(&strategy),
            platform_version: if fargate {
                super::resolved_platform_version(&Some(LaunchType::Fargate), &platform_version)
            } else {
                None
            },
            platform_family: fargate.then(|| "Linux".to_owned()),
            network: awsvpc.then_some(network).flatten(),
            enable_execute_command: req.enable_execute_command.unwrap_or(false),
            overrides: req.overrides.clone(),
            tags: req.tags.clone().unwrap_or_default(),
        };
        let n = usize::try_from(count).unwrap_or(1);
        let ids = self.create_tasks(&cluster_name, Owner::Standalone, &spec, n, ctx.now);
        let due = self.schedule(
            ctx.now,
            super::sim::Stage::TaskStart,
            Event::StandaloneStarted {
                cluster: cluster_name.clone(),
                ids: ids.clone(),
            },
        );
        self.plan_start(&cluster_name, &ids, due);
        let c = self
            .clusters
            .get(&cluster_name)
            .ok_or_else(ApiError::cluster_not_found)?;
        let tasks = ids
            .iter()
            .filter_map(|id| c.tasks.get(id))
            .map(|t| t.render(&c.arn, ctx.now, true))
            .collect();
        Ok(RunTaskResponse::builder()
            .set_tasks(Some(tasks))
            .set_failures(Some(vec![]))
            .build())
    }
}

/// The launch type a task shows: the one asked for, else that of its capacity provider
/// (FARGATE for Fargate's, EC2 for an Auto Scaling group's: aws-cli example run-task 1 answers
/// EC2 with `capacityProviderName` set).
fn task_launch_type(
    launch_type: &Option<LaunchType>,
    strategy: &Option<Vec<CapacityProviderStrategyItem>>,
) -> Option<LaunchType> {
    if launch_type.is_some() {
        return launch_type.clone();
    }
    let provider = capacity_provider_of(strategy)?;
    Some(if matches!(provider.as_str(), "FARGATE" | "FARGATE_SPOT") {
        LaunchType::Fargate
    } else {
        LaunchType::Ec2
    })
}

/// The family of a task definition ARN (`...:task-definition/<family>:<revision>`).
fn family_of(task_definition: &str) -> &str {
    let spec = task_definition
        .rsplit_once(":task-definition/")
        .map_or(task_definition, |(_, s)| s);
    spec.rsplit_once(':').map_or(spec, |(f, _)| f)
}

/// The capacity provider a task of this strategy runs on: the first one with weight (or
/// base), as a one-provider strategy places every task there (A46).
fn capacity_provider_of(strategy: &Option<Vec<CapacityProviderStrategyItem>>) -> Option<String> {
    strategy.as_ref().and_then(|s| {
        s.iter()
            .find(|i| i.base.unwrap_or(0) > 0 || i.weight.unwrap_or(0) > 0)
            .or_else(|| s.first())
            .and_then(|i| i.capacity_provider.clone())
    })
}

/// The task's cpu and memory as AWS shows them: the task definition's task-level values, else
/// (EC2) the sum over its containers (aws-cli example describe-tasks, 2021: "10" and "300"
/// from one container of cpu 10 and memory 300).
fn task_size(definition: &TaskDefinition) -> (Option<String>, Option<String>) {
    let containers = definition.container_definitions.iter().flatten();
    let cpu = definition.cpu.clone().or_else(|| {
        let sum: i64 = containers
            .clone()
            .map(|c| i64::from(c.cpu.unwrap_or(0)))
            .sum();
        (sum > 0).then(|| sum.to_string())
    });
    let memory = definition.memory.clone().or_else(|| {
        let sum: i64 = containers
            .map(|c| i64::from(c.memory.or(c.memory_reservation).unwrap_or(0)))
            .sum();
        (sum > 0).then(|| sum.to_string())
    });
    (cpu, memory)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use ecs_model::types::*;

    use super::super::fixtures;
    use super::super::testing::Region;
    use super::super::State;

    fn list(r: &mut Region, req: ListTasksRequest) -> Vec<String> {
        r.call(State::list_tasks, req).unwrap().task_arns.unwrap()
    }

    fn describe(r: &mut Region, arns: Vec<String>) -> Vec<Task> {
        r.call(
            State::describe_tasks,
            DescribeTasksRequest::builder()
                .cluster("c")
                .set_tasks(Some(arns))
                .build(),
        )
        .unwrap()
        .tasks
        .unwrap()
    }

    fn stopped(r: &mut Region) -> Vec<String> {
        list(
            r,
            ListTasksRequest::builder()
                .cluster("c")
                .desired_status(DesiredStatus::Stopped)
                .build(),
        )
    }

    fn of_service(_r: &mut Region) -> ListTasksRequest {
        ListTasksRequest::builder()
            .cluster("c")
            .service_name("svc")
            .build()
    }

    #[test]
    fn a_service_s_tasks_go_from_pending_to_running() {
        let mut r = Region::new();
        fixtures::service(&mut r, DeploymentControllerType::Ecs, 2);
        assert!(r.state.check_invariants().is_empty());
        let req = of_service(&mut r);
        assert!(
            list(&mut r, req.clone()).is_empty(),
            "no task before the scheduler acts"
        );
        // The scheduler acts within 120 ms (the default timing); the tasks start 500 ms later
        // at the earliest.
        r.now += std::time::Duration::from_millis(300);
        let arns = list(&mut r, req.clone());
        assert_eq!(arns.len(), 2);
        let tasks = describe(&mut r, arns.clone());
        assert!(tasks
            .iter()
            .all(|t| t.last_status == Some(TaskStatus::Pending)));
        assert!(tasks
            .iter()
            .all(|t| t.group.as_deref() == Some("service:svc")));
        assert!(
            r.state.check_invariants().is_empty(),
            "{:?}",
            r.state.check_invariants()
        );
        r.wait(120);
        let tasks = describe(&mut r, arns);
        assert!(tasks
            .iter()
            .all(|t| t.last_status == Some(TaskStatus::Running)));
        assert!(tasks.iter().all(|t| t.started_at.is_some()));
        assert!(r.state.check_invariants().is_empty());
    }

    #[test]
    fn a_scale_in_stops_the_newest_tasks_on_behalf_of_their_deployment() {
        let mut r = Region::new();
        let svc = fixtures::service(&mut r, DeploymentControllerType::Ecs, 3);
        r.wait(120);
        let deployment = svc.deployments.unwrap()[0].id.clone().unwrap();
        r.call(
            State::update_service,
            UpdateServiceRequest::builder()
                .cluster("c")
                .service("svc")
                .desired_count(1)
                .build(),
        )
        .unwrap();
        r.wait(10);
        let gone = stopped(&mut r);
        assert_eq!(gone.len(), 2);
        let tasks = describe(&mut r, gone);
        for t in &tasks {
            assert_eq!(t.desired_status, Some(TaskStatus::Stopped));
            assert_eq!(t.stop_code, Some(TaskStopCode::ServiceSchedulerInitiated));
            assert_eq!(
                t.stopped_reason.as_deref(),
                Some(format!("Scaling activity initiated by (deployment {deployment})").as_str())
            );
        }
        assert!(r.state.check_invariants().is_empty());
        r.wait(120);
        let all = stopped(&mut r);
        let tasks = describe(&mut r, all);
        assert!(tasks
            .iter()
            .all(|t| t.last_status == Some(TaskStatus::Stopped)));
        // An hour after they stopped, they are gone.
        r.wait(3600);
        assert!(stopped(&mut r).is_empty());
        let req = of_service(&mut r);
        assert_eq!(list(&mut r, req).len(), 1);
    }

    #[test]
    fn a_stopped_task_of_a_service_is_replaced() {
        let mut r = Region::new();
        fixtures::service(&mut r, DeploymentControllerType::Ecs, 1);
        r.wait(120);
        let req = of_service(&mut r);
        let first = list(&mut r, req.clone());
        let answer = r
            .call(
                State::stop_task,
                StopTaskRequest::builder()
                    .cluster("c")
                    .task(first[0].clone())
                    .build(),
            )
            .unwrap()
            .task
            .unwrap();
        assert_eq!(answer.last_status, Some(TaskStatus::Running));
        assert_eq!(answer.desired_status, Some(TaskStatus::Stopped));
        assert_eq!(
            answer.stopped_reason.as_deref(),
            Some("Task stopped by user")
        );
        assert_eq!(answer.version, Some(3), "PENDING, RUNNING, desired STOPPED");
        assert!(r.state.check_invariants().is_empty());
        r.wait(120);
        let now = list(&mut r, req);
        assert_eq!(now.len(), 1);
        assert_ne!(now, first);
        assert_eq!(
            describe(&mut r, now)[0].last_status,
            Some(TaskStatus::Running)
        );
        let err = r
            .call(
                State::stop_task,
                StopTaskRequest::builder()
                    .cluster("c")
                    .task("0123456789abcdef0123456789abcdef")
                    .build(),
            )
            .unwrap_err();
        assert_eq!(err.code, "InvalidParameterException");
    }

    #[test]
    fn a_fargate_task_provisions_its_interface_then_runs_and_holds_the_cluster() {
        let mut r = Region::new();
        fixtures::service(&mut r, DeploymentControllerType::External, 0);
        r.call(
            State::register_task_definition,
            RegisterTaskDefinitionRequest::builder()
                .family("job")
                .network_mode(NetworkMode::Awsvpc)
                .set_requires_compatibilities(Some(vec![Compatibility::Fargate]))
                .cpu("256")
                .memory("512")
                .set_container_definitions(Some(vec![ContainerDefinition::builder()
                    .name("job")
                    .image("busybox")
                    .build()]))
                .build(),
        )
        .unwrap();
        let run = RunTaskRequest::builder()
            .cluster("c")
            .task_definition("job")
            .launch_type(LaunchType::Fargate)
            .set_network_configuration(Some(
                NetworkConfiguration::builder()
                    .set_awsvpc_configuration(Some(
                        AwsVpcConfiguration::builder()
                            .set_subnets(Some(vec!["subnet-1".into()]))
                            .build(),
                    ))
                    .build(),
            ))
            .build();
        let task = r
            .call(State::run_task, run.clone())
            .unwrap()
            .tasks
            .unwrap()
            .remove(0);
        assert_eq!(task.last_status, Some(TaskStatus::Provisioning));
        assert_eq!(task.version, Some(1));
        assert_eq!(task.group.as_deref(), Some("family:job"));
        assert_eq!(task.platform_version.as_deref(), Some("1.4.0"));
        let eni = &task.attachments.as_ref().unwrap()[0];
        assert_eq!(eni.status.as_deref(), Some("PRECREATED"));
        assert_eq!(
            eni.details.as_ref().unwrap().len(),
            1,
            "only the subnet yet"
        );
        r.wait(120);
        let task = describe(&mut r, vec![task.task_arn.unwrap()]).remove(0);
        assert_eq!(task.last_status, Some(TaskStatus::Running));
        assert_eq!(task.version, Some(3));
        let details = task.attachments.unwrap().remove(0).details.unwrap();
        assert!(details
            .iter()
            .any(|d| d.name.as_deref() == Some("privateIPv4Address")));
        let r2 = r.call(
            State::delete_service,
            DeleteServiceRequest::builder()
                .cluster("c")
                .service("svc")
                .force(true)
                .build(),
        );
        assert!(r2.is_ok());
        r.wait(120);
        let err = r
            .call(
                State::delete_cluster,
                DeleteClusterRequest::builder().cluster("c").build(),
            )
            .unwrap_err();
        assert_eq!(err.code, "ClusterContainsTasksException");
        let mut bad = run;
        bad.network_configuration = None;
        assert_eq!(
            r.call(State::run_task, bad).unwrap_err().code,
            "InvalidParameterException"
        );
    }

    #[test]
    fn a_deleted_task_set_s_tasks_count_until_they_stopped() {
        let mut r = Region::new();
        fixtures::service(&mut r, DeploymentControllerType::External, 2);
        let set = r
            .call(
                State::create_task_set,
                CreateTaskSetRequest::builder()
                    .cluster("c")
                    .service("svc")
                    .task_definition("web")
                    .scale(super::super::scale_of(ecs_model::Decimal::ONE_HUNDRED))
                    .build(),
            )
            .unwrap()
            .task_set
            .unwrap();
        r.wait(120);
        let id = set.id.unwrap();
        let by_set = ListTasksRequest::builder()
            .cluster("c")
            .started_by(id.clone())
            .build();
        let arns = list(&mut r, by_set.clone());
        assert_eq!(arns.len(), 2);
        r.call(
            State::delete_task_set,
            DeleteTaskSetRequest::builder()
                .cluster("c")
                .service("svc")
                .task_set(id.clone())
                .force(true)
                .build(),
        )
        .unwrap();
        let tasks = describe(&mut r, arns.clone());
        assert!(tasks
            .iter()
            .all(|t| t.desired_status == Some(TaskStatus::Stopped)
                && t.last_status == Some(TaskStatus::Running)));
        assert!(
            list(&mut r, by_set).is_empty(),
            "desired STOPPED: not listed by default"
        );
        assert!(r.state.check_invariants().is_empty());
        r.wait(120);
        let tasks = describe(&mut r, arns);
        assert!(tasks
            .iter()
            .all(|t| t.last_status == Some(TaskStatus::Stopped)));
        assert!(r.state.check_invariants().is_empty());
    }

    #[test]
    fn list_tasks_pages_as_aws_does() {
        let mut r = Region::new();
        fixtures::service(&mut r, DeploymentControllerType::Ecs, 3);
        r.wait(120);
        let mut req = of_service(&mut r);
        req.max_results = Some(2);
        let first = r.call(State::list_tasks, req.clone()).unwrap();
        assert_eq!(first.task_arns.as_ref().unwrap().len(), 2);
        req.next_token = first.next_token.clone();
        let second = r.call(State::list_tasks, req.clone()).unwrap();
        assert_eq!(second.task_arns.as_ref().unwrap().len(), 1);
        assert!(second.next_token.is_none());
        req.next_token = Some("not-a-token".into());
        assert_eq!(
            r.call(State::list_tasks, req.clone()).unwrap_err().code,
            "InvalidParameterException"
        );
        req.next_token = None;
        req.max_results = Some(101);
        assert_eq!(
            r.call(State::list_tasks, req).unwrap_err().code,
            "InvalidParameterException"
        );
        let missing = r
            .call(
                State::describe_tasks,
                DescribeTasksRequest::builder()
                    .cluster("c")
                    .set_tasks(Some(vec!["0123456789abcdef0123456789abcdef".into()]))
                    .build(),
            )
            .unwrap();
        let failure = &missing.failures.unwrap()[0];
        assert_eq!(failure.reason.as_deref(), Some("MISSING"));
        assert_eq!(
            failure.arn.as_deref(),
            Some("arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef")
        );
    }
}
