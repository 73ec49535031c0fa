//! `ecs-deploy`: one deployment of an EXTERNAL ECS service, from a terminal or a CI job.
//!
//! Exit codes: 0 deployed, 3 rolled back, 1 failed (needs a look, or a re-run to resume),
//! 2 usage or configuration.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ecs_client::{Config, EcsClient};
use ecs_deploy::strategy::parse_duration;
use ecs_deploy::{Deployer, Deployment, DeploymentId, GateContext, Outcome, Strategy, Timeouts};

#[derive(Parser, Debug)]
#[command(
    name = "ecs-deploy",
    version,
    about = "Deploys a task definition to an EXTERNAL ECS service with task sets: blue/green, canary or linear, with rollback",
    after_help = "Exit codes: 0 deployed, 3 rolled back, 1 failed, 2 usage.\n\
Region and credentials come from the environment and the shared AWS files, as the AWS CLI reads them.\n\
Running the same command again after an interruption resumes the deployment."
)]
struct Args {
    /// The cluster (name or ARN).
    #[arg(long)]
    cluster: String,
    /// The service (name or ARN); it must use the EXTERNAL deployment controller.
    #[arg(long)]
    service: String,
    /// The task definition of the new task set (family, family:revision or ARN).
    #[arg(long)]
    task_definition: String,
    /// blue-green[:BAKE], canary:PERCENT%,BAKE or linear:PERCENT%,INTERVAL (e.g. linear:20%,1m).
    #[arg(long, default_value = "blue-green")]
    strategy: Strategy,
    /// The deployment id (client token and task-set label, up to 36 characters); derived from
    /// the cluster, service, task definition and strategy when not given.
    #[arg(long)]
    deployment_id: Option<String>,
    /// An endpoint other than AWS's (an emulator).
    #[arg(long)]
    endpoint: Option<String>,
    /// The region (else AWS_REGION, AWS_DEFAULT_REGION or the profile's).
    #[arg(long)]
    region: Option<String>,
    /// The shared-config profile (else AWS_PROFILE or `default`).
    #[arg(long)]
    profile: Option<String>,
    /// A shell command asked at each step after its bake and after the switch: exit 0 to go on,
    /// anything else to roll back. It sees ECS_DEPLOY_ID, ECS_DEPLOY_AT, ECS_DEPLOY_TASK_SET,
    /// ECS_DEPLOY_PERCENT, ECS_DEPLOY_RUNNING and ECS_DEPLOY_EXPECTED.
    #[arg(long)]
    health_check: Option<String>,
    /// Time between two reads of the service while waiting.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    poll_interval: Duration,
    /// Deadline of one step (scale change to settled).
    #[arg(long, value_parser = parse_duration, default_value = "15m")]
    step_timeout: Duration,
    /// Deadline of the health check's answer.
    #[arg(long, value_parser = parse_duration, default_value = "5m")]
    health_check_timeout: Duration,
    /// Deadline of the rollback.
    #[arg(long, value_parser = parse_duration, default_value = "15m")]
    rollback_timeout: Duration,
    /// Also print every intermediate count, not only a line per step.
    #[arg(long, short)]
    verbose: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = if args.verbose {
        "ecs_deploy=debug"
    } else {
        "off"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ecs-deploy: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(deploy(args))
}

async fn deploy(args: Args) -> ExitCode {
    let mut config = Config::builder();
    if let Some(endpoint) = &args.endpoint {
        config = config.endpoint(endpoint);
    }
    if let Some(region) = &args.region {
        config = config.region(region);
    }
    if let Some(profile) = &args.profile {
        config = config.profile(profile);
    }
    let client = match config.build().and_then(EcsClient::new) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ecs-deploy: {e}");
            return ExitCode::from(2);
        }
    };
    let mut deployment = Deployment::new(
        &args.cluster,
        &args.service,
        &args.task_definition,
        args.strategy.clone(),
    );
    if let Some(id) = &args.deployment_id {
        match DeploymentId::new(id) {
            Ok(id) => deployment = deployment.with_id(id),
            Err(e) => {
                eprintln!("ecs-deploy: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let timeouts = Timeouts {
        poll_interval: args.poll_interval,
        step: args.step_timeout,
        gate: args.health_check_timeout,
        rollback: args.rollback_timeout,
        ..Timeouts::default()
    };
    let verbose = args.verbose;
    let mut deployer = Deployer::new(client).timeouts(timeouts).on_event(move |e| {
        if verbose || !matches!(e, ecs_deploy::Event::Waiting { .. }) {
            eprintln!("{e}");
        }
    });
    if let Some(command) = args.health_check.clone() {
        deployer = deployer.health_gate(move |cx| shell_gate(command.clone(), cx));
    }
    eprintln!(
        "deploying {} to {}/{} with {} (deployment {})",
        deployment.task_definition,
        deployment.cluster,
        deployment.service,
        deployment.strategy,
        deployment.id
    );
    let report = deployer.run(&deployment).await;
    let calls = report.api_calls;
    let took = humantime::format_duration(Duration::from_secs(report.elapsed.as_secs()));
    match &report.outcome {
        Outcome::Succeeded => eprintln!(
            "deployed: {} is the primary task set ({calls} calls, {took})",
            report.new_task_set.as_deref().unwrap_or("-")
        ),
        Outcome::RolledBack(why) => {
            eprintln!("rolled back ({calls} calls, {took}): {why}")
        }
        Outcome::Failed(why) => eprintln!("failed ({calls} calls, {took}): {why}"),
    }
    ExitCode::from(u8::try_from(report.exit_code()).unwrap_or(1))
}

/// The health check as a shell command: exit 0 is yes; otherwise the last line it wrote is
/// the reason.
async fn shell_gate(command: String, cx: GateContext) -> Result<(), String> {
    let output = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .env("ECS_DEPLOY_ID", &cx.deployment)
        .env("ECS_DEPLOY_AT", &cx.at)
        .env("ECS_DEPLOY_TASK_SET", &cx.task_set)
        .env("ECS_DEPLOY_PERCENT", cx.percent.to_string())
        .env(
            "ECS_DEPLOY_RUNNING",
            cx.counts.running.unwrap_or(0).to_string(),
        )
        .env("ECS_DEPLOY_EXPECTED", cx.counts.expected.to_string())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run the health check {command:?}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    let last = said
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    Err(format!(
        "the health check exited with {}: {last}",
        output.status
    ))
}
