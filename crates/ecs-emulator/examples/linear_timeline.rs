//! The timeline of one native LINEAR deployment in the reference emulator, in AWS's timing
//! shape at a time scale: an ALB with production and test listeners in front of two `ip`
//! target groups (ELBv2's default health checks: healthy after 5 × 30 s), an ECS-controller
//! service of 8 Fargate tasks with `strategy: LINEAR`, 25% steps and 1-minute step bakes, its
//! first deployment settled, then a new revision deployed and watched to SUCCESSFUL by a
//! poller that reads DescribeServiceDeployments every 5 AWS seconds.
//!
//! Prints each stage and production share as the poller saw them (wall time since the
//! UpdateService), the wall time of the deployment, and every API call the emulator received
//! during it, by operation.
//!
//! ```sh
//! cargo run -p ecs-emulator --example linear_timeline -- --time-scale 0.05
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use ecs_client::{Config, EcsClient};
use ecs_emulator::{Emulator, TimingProfile};
use ecs_model::elbv2::operations::{
    CreateListener, CreateLoadBalancer, CreateTargetGroup, DescribeRules,
};
use ecs_model::elbv2::types::{
    Action, CreateListenerInput, CreateLoadBalancerInput, CreateTargetGroupInput,
    DescribeRulesInput,
};
use ecs_model::operations;
use ecs_model::types::*;

#[derive(Parser, Debug)]
#[command(about = "Wall time and API calls of a LINEAR 25% deployment of 8 tasks")]
struct Args {
    /// The time scale of AWS's timing shape (1 is real time).
    #[arg(long, default_value_t = 0.05)]
    time_scale: f64,
    /// Tasks of the service.
    #[arg(long, default_value_t = 8)]
    tasks: i32,
    /// AWS seconds between two polls of the watcher.
    #[arg(long, default_value_t = 5.0)]
    poll_seconds: f64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let emulator = Emulator::builder()
        .profile(TimingProfile::Aws, args.time_scale)
        .log_calls()
        .start()
        .await?;
    let ecs = EcsClient::new(Config::local(emulator.url())?)?;
    let elb = ecs.elbv2();
    let lb = elb
        .send::<CreateLoadBalancer>(
            CreateLoadBalancerInput::builder()
                .name("web")
                .set_subnets(Some(vec!["subnet-1".into(), "subnet-2".into()]))
                .build(),
        )
        .await?
        .load_balancers
        .and_then(|l| l.into_iter().next())
        .context("no load balancer")?;
    let mut groups = vec![];
    for name in ["blue", "green"] {
        groups.push(
            elb.send::<CreateTargetGroup>(
                CreateTargetGroupInput::builder()
                    .name(name)
                    .protocol("HTTP")
                    .port(80)
                    .set_vpc_id(lb.vpc_id.clone())
                    .target_type("ip")
                    .build(),
            )
            .await?
            .target_groups
            .and_then(|g| g.into_iter().next())
            .and_then(|g| g.target_group_arn)
            .context("no target group")?,
        );
    }
    let mut rules = vec![];
    for port in [80, 8080] {
        let listener = elb
            .send::<CreateListener>(
                CreateListenerInput::builder()
                    .set_load_balancer_arn(lb.load_balancer_arn.clone())
                    .protocol("HTTP")
                    .port(port)
                    .set_default_actions(Some(vec![Action::forward_weighted([
                        (&groups[0], 100),
                        (&groups[1], 0),
                    ])]))
                    .build(),
            )
            .await?
            .listeners
            .and_then(|l| l.into_iter().next())
            .and_then(|l| l.listener_arn)
            .context("no listener")?;
        rules.push(
            elb.send::<DescribeRules>(DescribeRulesInput::builder().listener_arn(listener).build())
                .await?
                .rules
                .and_then(|r| r.into_iter().next())
                .and_then(|r| r.rule_arn)
                .context("no rule")?,
        );
    }
    ecs.send::<operations::CreateCluster>(
        CreateClusterRequest::builder().cluster_name("c").build(),
    )
    .await?;
    for image in ["nginx:1.27", "nginx:1.28"] {
        ecs.send::<operations::RegisterTaskDefinition>(
            RegisterTaskDefinitionRequest::builder()
                .family("web")
                .network_mode(NetworkMode::Awsvpc)
                .set_requires_compatibilities(Some(vec![Compatibility::Fargate]))
                .cpu("256")
                .memory("512")
                .set_container_definitions(Some(vec![ContainerDefinition::builder()
                    .name("web")
                    .image(image)
                    .set_port_mappings(Some(vec![PortMapping::builder()
                        .container_port(80)
                        .build()]))
                    .build()]))
                .build(),
        )
        .await?;
    }
    let created = ecs
        .send::<operations::CreateService>(
            CreateServiceRequest::builder()
                .cluster("c")
                .service_name("web")
                .task_definition("web:1")
                .desired_count(args.tasks)
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
                .set_load_balancers(Some(vec![LoadBalancer::builder()
                    .target_group_arn(groups[0].clone())
                    .container_name("web")
                    .container_port(80)
                    .advanced_configuration(
                        AdvancedConfiguration::builder()
                            .alternate_target_group_arn(groups[1].clone())
                            .production_listener_rule(rules[0].clone())
                            .test_listener_rule(rules[1].clone())
                            .role_arn("arn:aws:iam::123456789012:role/ecs-lb")
                            .build(),
                    )
                    .build()]))
                .deployment_configuration(
                    DeploymentConfiguration::builder()
                        .strategy(DeploymentStrategy::Linear)
                        .linear_configuration(
                            LinearConfiguration::builder()
                                .step_percent(ecs_model::Decimal::from(25))
                                .step_bake_time_in_minutes(1)
                                .build(),
                        )
                        .bake_time_in_minutes(0)
                        .build(),
                )
                .build(),
        )
        .await?;
    let poll = Duration::from_secs_f64(args.poll_seconds * args.time_scale);
    let first = created
        .service
        .and_then(|s| s.current_service_deployment)
        .context("no service deployment")?;
    let started = Instant::now();
    watch(&ecs, &first, poll, false).await?;
    println!(
        "first deployment (no blue): SUCCESSFUL after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let calls_before = emulator.engine().calls().len();
    let started = Instant::now();
    let updated = ecs
        .send::<operations::UpdateService>(
            UpdateServiceRequest::builder()
                .cluster("c")
                .service("web")
                .task_definition("web:2")
                .build(),
        )
        .await?;
    let second = updated
        .service
        .and_then(|s| s.current_service_deployment)
        .context("no service deployment")?;
    watch(&ecs, &second, poll, true).await?;
    let wall = started.elapsed();
    let mut by_op: BTreeMap<String, usize> = BTreeMap::new();
    for c in &emulator.engine().calls()[calls_before..] {
        *by_op.entry(c.operation.clone()).or_default() += 1;
    }
    let total: usize = by_op.values().sum();
    println!(
        "LINEAR 25% of {} tasks, 1-minute step bakes, time scale {}: SUCCESSFUL {:.1} s after UpdateService ({:.0} s of AWS time); {total} API calls: {by_op:?}",
        args.tasks,
        args.time_scale,
        wall.as_secs_f64(),
        wall.as_secs_f64() / args.time_scale,
    );
    emulator.shutdown().await;
    Ok(())
}

/// Polls the deployment until it is SUCCESSFUL, printing each new stage and share.
async fn watch(ecs: &EcsClient, arn: &str, poll: Duration, print: bool) -> Result<()> {
    let started = Instant::now();
    let mut last = String::new();
    loop {
        let d = ecs
            .send::<operations::DescribeServiceDeployments>(
                DescribeServiceDeploymentsRequest::builder()
                    .set_service_deployment_arns(Some(vec![arn.to_owned()]))
                    .build(),
            )
            .await?
            .service_deployments
            .and_then(|d| d.into_iter().next())
            .context("not described")?;
        let share = d
            .target_service_revision
            .as_ref()
            .and_then(|r| r.requested_production_traffic_weight)
            .map(|w| w.to_string())
            .unwrap_or_default();
        let now = format!(
            "{} {} production {share}%",
            d.status.as_ref().map(|s| s.as_str()).unwrap_or("-"),
            d.lifecycle_stage
                .as_ref()
                .map(|s| s.as_str())
                .unwrap_or("-"),
        );
        if print && now != last {
            println!("  {:>7.1} s  {now}", started.elapsed().as_secs_f64());
        }
        last = now;
        match d.status {
            Some(ServiceDeploymentStatus::Successful) => return Ok(()),
            Some(ServiceDeploymentStatus::InProgress) | Some(ServiceDeploymentStatus::Pending) => {}
            other => anyhow::bail!("{arn} ended {other:?}: {:?}", d.status_reason),
        }
        tokio::time::sleep(poll).await;
    }
}
