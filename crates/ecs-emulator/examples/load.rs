//! Load: many concurrent clients drive mixed task-set lifecycles against the
//! reference emulator over HTTP, with the emulator's invariants checked after every operation
//! (exactly one PRIMARY once chosen, no lost or duplicated task set, computedDesiredCount
//! consistent). At the end each client's own record of its task sets must equal what the
//! emulator describes. Prints throughput, latency percentiles and peak memory.
//!
//! `cargo xtask load` runs it as `cargo run -p ecs-emulator --example load -- --clients 64
//! --ops 10000`; `cargo xtask test` runs a bounded 16 x 250.

use ecs_model::operations;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ecs_client::{Config, EcsClient, RetryConfig};
use ecs_emulator::{Emulator, TimingProfile};
use ecs_model::errors::ModeledError;
use ecs_model::types::*;
use ecs_model::Decimal;

#[derive(clap::Parser, Debug, Clone)]
#[command(
    about = "Concurrent task-set lifecycles against the reference emulator, invariants checked after every operation"
)]
pub struct Args {
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Operations per client.
    #[arg(long, default_value_t = 10_000)]
    pub ops: usize,
}

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub operations: usize,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub peak_rss_kib: u64,
}

impl Outcome {
    pub fn describe(&self, clients: usize) -> String {
        format!(
            "{} operations from {clients} clients in {:.1} s: {:.0} ops/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms; peak RSS {:.1} MiB; invariants held after every operation",
            self.operations,
            self.elapsed.as_secs_f64(),
            self.operations as f64 / self.elapsed.as_secs_f64(),
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.max.as_secs_f64() * 1e3,
            self.peak_rss_kib as f64 / 1024.0
        )
    }
}

fn main() -> Result<()> {
    let args = <Args as clap::Parser>::parse();
    let outcome = run(&args)?;
    println!("{}", outcome.describe(args.clients));
    Ok(())
}

/// Peak resident set size of this process (the emulator runs in it), from /proc.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn scale(v: u32) -> Option<Scale> {
    Some(
        Scale::builder()
            .value(Decimal::from(i32::try_from(v).unwrap_or(0)))
            .unit(ScaleUnit::Percent)
            .build(),
    )
}

/// The time scale of the AWS timing shape under load.
pub const LOAD_TIME_SCALE: f64 = 0.001;

/// Every task set of a service, as DescribeServices lists them (DescribeTaskSets needs ids).
async fn task_sets_of(
    ecs: &EcsClient,
    cluster: Option<String>,
    service: Option<String>,
) -> Result<Vec<TaskSet>> {
    let answer = ecs
        .send::<operations::DescribeServices>(
            DescribeServicesRequest::builder()
                .set_cluster(cluster)
                .set_services(Some(service.into_iter().collect()))
                .build(),
        )
        .await?;
    Ok(answer
        .services
        .unwrap_or_default()
        .into_iter()
        .next()
        .and_then(|s| s.task_sets)
        .unwrap_or_default())
}

pub fn run(args: &Args) -> Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let emulator = Arc::new(
            // AWS's timing shape, a thousand times faster: answers come before the scheduler
            // acts, and counts settle milliseconds later, while the load runs.
            Emulator::builder()
                .profile(TimingProfile::Aws, LOAD_TIME_SCALE)
                .start()
                .await?,
        );
        let config = Config::local_builder(emulator.url())
            .retry(RetryConfig::disabled())
            .build()?;
        let ecs = EcsClient::new(config)?;
        ecs.send::<operations::CreateCluster>(
            CreateClusterRequest::builder().cluster_name("load").build(),
        )
        .await?;
        ecs.send::<operations::RegisterTaskDefinition>(
            RegisterTaskDefinitionRequest::builder()
                .family("load")
                .set_container_definitions(Some(vec![ContainerDefinition::builder()
                    .name("web")
                    .image("nginx")
                    .memory(128)
                    .build()]))
                .build(),
        )
        .await?;
        let broken = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for client in 0..args.clients {
            let ecs = ecs.clone();
            let emulator = emulator.clone();
            let broken = broken.clone();
            let ops = args.ops;
            tasks.spawn(async move { drive(client, ops, &ecs, &emulator, &broken).await });
        }
        let mut latencies = Vec::with_capacity(args.clients * args.ops);
        while let Some(joined) = tasks.join_next().await {
            latencies.extend(joined.context("a load client panicked")??);
        }
        let elapsed = started.elapsed();
        let problems = emulator.engine().check_invariants();
        if !problems.is_empty() {
            bail!("invariants broken at the end: {problems:?}");
        }
        latencies.sort_unstable();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or_default()
        };
        Ok(Outcome {
            operations: latencies.len(),
            elapsed,
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
            peak_rss_kib: peak_rss_kib(),
        })
    })
}

/// One client: its own EXTERNAL service and the task sets it knows of; returns per-op latencies.
async fn drive(
    client: usize,
    ops: usize,
    ecs: &EcsClient,
    emulator: &Emulator,
    broken: &AtomicBool,
) -> Result<Vec<Duration>> {
    let service = format!("svc-{client}");
    let req = |svc: &str| (Some("load".to_owned()), Some(svc.to_owned()));
    ecs.send::<operations::CreateService>(
        CreateServiceRequest::builder()
            .cluster("load")
            .service_name(service.clone())
            .desired_count(4)
            .deployment_controller(
                DeploymentController::builder()
                    .r#type(DeploymentControllerType::External)
                    .build(),
            )
            .build(),
    )
    .await?;
    let mut rng = fastrand::Rng::with_seed(client as u64);
    let mut mine: Vec<String> = Vec::new();
    let mut latencies = Vec::with_capacity(ops);
    for _ in 0..ops {
        if broken.load(Ordering::Relaxed) {
            bail!("stopped: another client saw a broken invariant");
        }
        let (cluster, svc) = req(&service);
        let op_started = Instant::now();
        match rng.u8(0..10) {
            0 | 1 if mine.len() < 4 => {
                let answer = ecs
                    .send::<operations::CreateTaskSet>(
                        CreateTaskSetRequest::builder()
                            .set_cluster(cluster)
                            .set_service(svc)
                            .task_definition("load")
                            .set_scale(scale(rng.u32(0..=100)))
                            .build(),
                    )
                    .await;
                match answer {
                    Ok(ts) => mine.push(
                        ts.task_set
                            .and_then(|t| t.id)
                            .context("CreateTaskSet answered no id")?,
                    ),
                    // Deleted sets count toward the limit of 5 until drained: a correct refusal.
                    Err(e)
                        if e.service_error()
                            .is_some_and(|s| s.is(ModeledError::InvalidParameterException)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            2 | 3 if !mine.is_empty() => {
                let id = mine[rng.usize(0..mine.len())].clone();
                ecs.send::<operations::UpdateTaskSet>(
                    UpdateTaskSetRequest::builder()
                        .set_cluster(cluster)
                        .set_service(svc)
                        .task_set(id)
                        .set_scale(scale(rng.u32(0..=100)))
                        .build(),
                )
                .await?;
            }
            4 if !mine.is_empty() => {
                let id = mine[rng.usize(0..mine.len())].clone();
                ecs.send::<operations::UpdateServicePrimaryTaskSet>(
                    UpdateServicePrimaryTaskSetRequest::builder()
                        .set_cluster(cluster)
                        .set_service(svc)
                        .primary_task_set(id)
                        .build(),
                )
                .await?;
            }
            5 => {
                ecs.send::<operations::UpdateService>(
                    UpdateServiceRequest::builder()
                        .set_cluster(cluster)
                        .set_service(svc)
                        .desired_count(rng.i32(0..=20))
                        .build(),
                )
                .await?;
            }
            6 if mine.len() > 1 => {
                let id = mine.remove(rng.usize(0..mine.len()));
                ecs.send::<operations::DeleteTaskSet>(
                    DeleteTaskSetRequest::builder()
                        .set_cluster(cluster)
                        .set_service(svc)
                        .task_set(id)
                        .force(true)
                        .build(),
                )
                .await?;
            }
            _ => {
                let primaries = task_sets_of(ecs, cluster, svc)
                    .await?
                    .iter()
                    .filter(|t| t.status == Some(TaskSetStatus::Primary))
                    .count();
                if primaries > 1 {
                    broken.store(true, Ordering::Relaxed);
                    bail!("{service}: {primaries} PRIMARY task sets");
                }
            }
        }
        latencies.push(op_started.elapsed());
        let problems = emulator.engine().check_invariants();
        if !problems.is_empty() {
            broken.store(true, Ordering::Relaxed);
            bail!("after an operation of {service}: {problems:?}");
        }
    }
    // No lost and no duplicated task set: what this client created and did not delete is
    // exactly what the emulator holds once the deleted ones have drained.
    let timing = emulator.engine().settings().timing.clone();
    tokio::time::sleep(timing.stop_delay + timing.drain_delay + Duration::from_millis(20)).await;
    let (cluster, svc) = req(&service);
    let held: BTreeSet<String> = task_sets_of(ecs, cluster, svc)
        .await?
        .into_iter()
        .filter_map(|t| t.id)
        .collect();
    let expected: BTreeSet<String> = mine.into_iter().collect();
    if held != expected {
        bail!("{service}: the emulator holds {held:?}, the client created and kept {expected:?}");
    }
    Ok(latencies)
}
