//! A rolling Fargate service and a standalone task driven through aws-sdk-ecs, with the SDK's
//! own waiters (services-stable, tasks-running, tasks-stopped, services-inactive), against the
//! endpoint given: `interop-rust-sdk http://127.0.0.1:PORT`. Exits non-zero, naming the step,
//! when an answer is not what the SDK or AWS would have it be.

use std::process::ExitCode;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_ecs::client::Waiters;
use aws_sdk_ecs::config::{BehaviorVersion, Region};
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType,
    NetworkConfiguration, NetworkMode,
};
use aws_sdk_ecs::Client;

/// The longest a waiter may wait.
const WAIT: Duration = Duration::from_secs(300);

type Result<T> = std::result::Result<T, String>;

fn check(condition: bool, what: &str, checks: &mut u32) -> Result<()> {
    if !condition {
        return Err(format!("check failed: {what}"));
    }
    *checks += 1;
    Ok(())
}

fn step<T, E: std::fmt::Debug>(what: &str, r: std::result::Result<T, E>) -> Result<T> {
    r.map_err(|e| format!("{what}: {e:?}"))
}

async fn run(endpoint: &str) -> Result<u32> {
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("ap-southeast-2"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::from_keys(
            "AKIDEXAMPLE",
            "emulator-secret",
            None,
        ))
        .build();
    let ecs = Client::from_conf(config);
    let mut checks = 0;
    let network = NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .subnets("subnet-0a1b2c3d")
                .security_groups("sg-0a1b2c3d")
                .assign_public_ip(AssignPublicIp::Disabled)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .build();
    step(
        "CreateCluster",
        ecs.create_cluster().cluster_name("sdk").send().await,
    )?;
    step(
        "RegisterTaskDefinition",
        ecs.register_task_definition()
            .family("web")
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .cpu("256")
            .memory("512")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("web")
                    .image("public.ecr.aws/nginx/nginx:1.27")
                    .essential(true)
                    .build(),
            )
            .send()
            .await,
    )?;
    step(
        "CreateService",
        ecs.create_service()
            .cluster("sdk")
            .service_name("web")
            .task_definition("web")
            .desired_count(2)
            .launch_type(LaunchType::Fargate)
            .network_configuration(network.clone())
            .send()
            .await,
    )?;
    let stable = step(
        "services-stable",
        ecs.wait_until_services_stable()
            .cluster("sdk")
            .services("web")
            .wait(WAIT)
            .await,
    )?;
    let services = stable.into_result().map_err(|e| format!("{e:?}"))?;
    let svc = &services.services()[0];
    check(
        svc.running_count() == 2,
        "services-stable: both tasks run",
        &mut checks,
    )?;
    check(
        svc.current_service_deployment().is_some(),
        "the service names its current service deployment",
        &mut checks,
    )?;
    let arns = step(
        "ListTasks",
        ecs.list_tasks()
            .cluster("sdk")
            .service_name("web")
            .send()
            .await,
    )?
    .task_arns()
    .to_vec();
    check(
        arns.len() == 2,
        "ListTasks lists the two tasks",
        &mut checks,
    )?;
    step(
        "tasks-running",
        ecs.wait_until_tasks_running()
            .cluster("sdk")
            .set_tasks(Some(arns.clone()))
            .wait(WAIT)
            .await,
    )?;
    let run = step(
        "RunTask",
        ecs.run_task()
            .cluster("sdk")
            .task_definition("web")
            .launch_type(LaunchType::Fargate)
            .network_configuration(network)
            .send()
            .await,
    )?;
    let task = run.tasks()[0].task_arn().unwrap_or_default().to_owned();
    check(
        run.tasks()[0].last_status() == Some("PROVISIONING"),
        "RunTask answers PROVISIONING",
        &mut checks,
    )?;
    step(
        "tasks-running (RunTask)",
        ecs.wait_until_tasks_running()
            .cluster("sdk")
            .tasks(&task)
            .wait(WAIT)
            .await,
    )?;
    step(
        "StopTask",
        ecs.stop_task().cluster("sdk").task(&task).send().await,
    )?;
    step(
        "tasks-stopped",
        ecs.wait_until_tasks_stopped()
            .cluster("sdk")
            .tasks(&task)
            .wait(WAIT)
            .await,
    )?;
    let deployments = step(
        "ListServiceDeployments",
        ecs.list_service_deployments()
            .cluster("sdk")
            .service("web")
            .send()
            .await,
    )?;
    check(
        deployments.service_deployments().len() == 1,
        "one service deployment",
        &mut checks,
    )?;
    step(
        "DeleteService",
        ecs.delete_service()
            .cluster("sdk")
            .service("web")
            .force(true)
            .send()
            .await,
    )?;
    step(
        "services-inactive",
        ecs.wait_until_services_inactive()
            .cluster("sdk")
            .services("web")
            .wait(WAIT)
            .await,
    )?;
    step(
        "DeleteCluster",
        ecs.delete_cluster().cluster("sdk").send().await,
    )?;
    Ok(checks)
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(endpoint) = std::env::args().nth(1) else {
        eprintln!("usage: interop-rust-sdk ENDPOINT_URL");
        return ExitCode::from(2);
    };
    match run(&endpoint).await {
        Ok(checks) => {
            println!("aws-sdk-ecs: {checks} checks passed, every waiter done");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("aws-sdk-ecs: {why}");
            ExitCode::FAILURE
        }
    }
}
