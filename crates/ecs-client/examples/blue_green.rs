//! A complete blue/green shift with task sets on an EXTERNAL service:
//! blue at 100% -> green created and scaled to 100% -> green made primary -> blue scaled to 0
//! and deleted -> green steady. Cleans up after itself.
//!
//! ```sh
//! cargo run -p ecs-client --example blue_green -- --endpoint http://127.0.0.1:4566
//! ```
//!
//! Credentials and region come from the environment as usual; against a local endpoint with
//! none set, dummy credentials and `us-east-1` are used.

use std::time::Duration;

use ecs_client::{EcsClient, WaiterConfig};
use ecs_model::types::*;

#[path = "support/mod.rs"]
mod support;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("blue/green failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let args = support::args("blue_green");
    let ecs = support::client(&args.endpoint)?;
    let waiter = WaiterConfig {
        max_wait: args.wait,
        min_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(2),
        ..WaiterConfig::default()
    };
    let suffix = support::suffix()?;
    let cluster = format!("bg-{suffix}");
    let service = "web".to_owned();
    ecs.create_cluster().cluster_name(&cluster).send().await?;
    println!("cluster {cluster} created");
    let result = shift(&ecs, &cluster, &service, waiter).await;
    cleanup(&ecs, &cluster, &service).await;
    result
}

async fn register(ecs: &EcsClient, image: &str) -> Result<String> {
    let answer = ecs
        .register_task_definition()
        .family("bg-web")
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .container_definitions(
            ContainerDefinition::builder()
                .name("web")
                .image(image)
                .memory(512)
                .set_port_mappings(Some(vec![PortMapping::builder()
                    .container_port(80)
                    .build()]))
                .build(),
        )
        .send()
        .await?;
    let arn = answer
        .task_definition
        .and_then(|t| t.task_definition_arn)
        .ok_or("RegisterTaskDefinition answered no ARN")?;
    println!("task definition {arn}");
    Ok(arn)
}

fn network() -> NetworkConfiguration {
    NetworkConfiguration::builder()
        .set_awsvpc_configuration(Some(
            AwsVpcConfiguration::builder()
                .set_subnets(Some(vec!["subnet-0a1b2c3d".into()]))
                .set_security_groups(Some(vec!["sg-0a1b2c3d".into()]))
                .assign_public_ip(AssignPublicIp::Disabled)
                .build(),
        ))
        .build()
}

async fn create_set(
    ecs: &EcsClient,
    cluster: &str,
    service: &str,
    task_definition: &str,
    scale: i32,
) -> Result<TaskSet> {
    let answer = ecs
        .create_task_set()
        .cluster(cluster)
        .service(service)
        .task_definition(task_definition)
        .launch_type(LaunchType::Fargate)
        .network_configuration(network())
        .scale(Scale::percent(scale))
        .send()
        .await?;
    let ts = answer
        .task_set
        .ok_or("CreateTaskSet answered no task set")?;
    println!(
        "task set {} created at {scale}%: computedDesiredCount {:?}",
        ts.id.as_deref().unwrap_or("?"),
        ts.computed_desired_count
    );
    Ok(ts)
}

/// Waits until `id` has settled at the scale `changed` (the answer of the call that changed
/// it) shows, with a steady state dated no earlier than that change.
async fn settle(
    ecs: &EcsClient,
    cluster: &str,
    service: &str,
    id: &str,
    changed: &TaskSet,
    waiter: WaiterConfig,
) -> Result<()> {
    let mut wait = ecs
        .wait_until_task_set_settled()
        .cluster(cluster)
        .service(service)
        .task_set(id)
        .config(waiter);
    if let Some(percent) = changed.scale.as_ref().and_then(|s| s.value) {
        wait = wait.scale(percent);
    }
    if let Some(at) = changed.updated_at {
        wait = wait.after(at);
    }
    let settled = wait.send().await?;
    println!("task set {id} settled: {}", settled.counts);
    Ok(())
}

async fn scale(
    ecs: &EcsClient,
    cluster: &str,
    service: &str,
    id: &str,
    to: i32,
) -> Result<TaskSet> {
    let answer = ecs
        .update_task_set()
        .cluster(cluster)
        .service(service)
        .task_set(id)
        .scale(Scale::percent(to))
        .send()
        .await?;
    let ts = answer
        .task_set
        .ok_or("UpdateTaskSet answered no task set")?;
    println!(
        "task set {id} scaled to {to}%: computedDesiredCount {:?}",
        ts.computed_desired_count
    );
    Ok(ts)
}

async fn shift(ecs: &EcsClient, cluster: &str, service: &str, waiter: WaiterConfig) -> Result<()> {
    let blue_td = register(ecs, "public.ecr.aws/nginx/nginx:1.26").await?;
    let green_td = register(ecs, "public.ecr.aws/nginx/nginx:1.27").await?;
    ecs.create_service()
        .cluster(cluster)
        .service_name(service)
        .desired_count(4)
        .deployment_controller(DeploymentController::of(DeploymentControllerType::External))
        .send()
        .await?;
    println!("service {service} created (EXTERNAL, desiredCount 4)");

    let blue = create_set(ecs, cluster, service, &blue_td, 100).await?;
    let blue_id = blue.id.clone().ok_or("the blue task set has no id")?;
    ecs.update_service_primary_task_set()
        .cluster(cluster)
        .service(service)
        .primary_task_set(&blue_id)
        .send()
        .await?;
    settle(ecs, cluster, service, &blue_id, &blue, waiter).await?;
    println!("blue {blue_id} is PRIMARY and steady");

    let green = create_set(ecs, cluster, service, &green_td, 0).await?;
    let green_id = green.id.clone().ok_or("the green task set has no id")?;
    let scaled = scale(ecs, cluster, service, &green_id, 100).await?;
    settle(ecs, cluster, service, &green_id, &scaled, waiter).await?;
    println!("green {green_id} is steady at 100%");

    let answer = ecs
        .update_service_primary_task_set()
        .cluster(cluster)
        .service(service)
        .primary_task_set(&green_id)
        .send()
        .await?;
    let status = answer.task_set.and_then(|t| t.status);
    println!(
        "green is now {}",
        status.as_ref().map_or("?", |s| s.as_str())
    );
    if status != Some(TaskSetStatus::Primary) {
        return Err("UpdateServicePrimaryTaskSet did not make green PRIMARY".into());
    }

    scale(ecs, cluster, service, &blue_id, 0).await?;
    let deleted = ecs
        .delete_task_set()
        .cluster(cluster)
        .service(service)
        .task_set(&blue_id)
        .send()
        .await?;
    println!(
        "blue deleted: {}",
        deleted
            .task_set
            .and_then(|t| t.status)
            .as_ref()
            .map_or("?", |s| s.as_str())
    );
    let green = ecs
        .wait_until_task_set_settled()
        .cluster(cluster)
        .service(service)
        .task_set(&green_id)
        .config(waiter)
        .send()
        .await?
        .task_set;
    println!(
        "done: green {green_id} {} running {:?}/{:?}",
        green.status.as_ref().map_or("?", |s| s.as_str()),
        green.running_count,
        green.computed_desired_count
    );
    Ok(())
}

/// The fewest, most basic calls; failures are reported and do not stop the rest. A deleted
/// service drains before it is INACTIVE, and only then can its cluster go.
async fn cleanup(ecs: &EcsClient, cluster: &str, service: &str) {
    let report = |step: &str, result: std::result::Result<(), ecs_client::Error>| {
        if let Err(e) = result {
            eprintln!("cleanup: {step}: {e}");
        }
    };
    let scale_down = ecs
        .update_service()
        .cluster(cluster)
        .service(service)
        .desired_count(0);
    report(
        "scale service to 0",
        scale_down.send().await.map(drop).map_err(Into::into),
    );
    let delete = ecs
        .delete_service()
        .cluster(cluster)
        .service(service)
        .force(true);
    report(
        "delete service",
        delete.send().await.map(drop).map_err(Into::into),
    );
    for _ in 0..60 {
        let describe = ecs.describe_services().cluster(cluster).services(service);
        let inactive = match describe.send().await {
            Ok(answer) => answer
                .services
                .unwrap_or_default()
                .iter()
                .all(|s| s.status.as_ref().is_some_and(|st| *st == "INACTIVE")),
            Err(_) => true,
        };
        if inactive {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let delete = ecs.delete_cluster().cluster(cluster);
    report(
        "delete cluster",
        delete.send().await.map(drop).map_err(Into::into),
    );
    println!("cleaned up");
}
