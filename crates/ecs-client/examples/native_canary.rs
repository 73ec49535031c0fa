//! ECS's own CANARY deployment with a PAUSE lifecycle hook, for teams whose controller drives
//! native deployments: an ALB with a production and a test listener in front of two target
//! groups, an ECS-controller service deploying with `strategy: CANARY`, and a PAUSE hook at
//! POST_TEST_TRAFFIC_SHIFT.
//!
//! - First run (revision 2): wait for the hook to be AWAITING_ACTION, check the weights on
//!   both listener rules (test traffic on the new revision, production still on the old one),
//!   continue, and see the deployment SUCCESSFUL with production on the new revision.
//! - Second run (revision 3): wait for the hook again, continue with ROLLBACK, and see
//!   ROLLBACK_SUCCESSFUL with the weights and the task definition back on revision 2.
//!
//! ```sh
//! ecs-conformance serve --port 4599 &
//! cargo run -p ecs-client --features full --example native_canary -- --endpoint http://127.0.0.1:4599
//! ```
//!
//! ELBv2 calls go to the same endpoint (the reference emulator answers both services there).
//! Against a local endpoint with no credentials set, dummy credentials and `us-east-1` are
//! used.

use std::time::{Duration, Instant};

use ecs_client::EcsClient;
use ecs_model::elbv2::operations::{
    CreateListener, CreateLoadBalancer, CreateTargetGroup, DeleteLoadBalancer, DescribeRules,
};
use ecs_model::elbv2::types::{
    Action, CreateListenerInput, CreateLoadBalancerInput, CreateTargetGroupInput,
    DeleteLoadBalancerInput, DescribeRulesInput, TargetGroupTuple,
};
use ecs_model::types::*;

#[path = "support/mod.rs"]
mod support;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("native canary failed: {e}");
        std::process::exit(1);
    }
}

/// The load balancer: production and test rules, each forwarding to two groups.
struct Balancer {
    load_balancer: String,
    production_rule: String,
    test_rule: String,
    groups: [String; 2],
}

async fn run() -> Result<()> {
    let args = support::args("native_canary");
    let ecs = support::client(&args.endpoint)?;
    let wait = args.wait;
    let suffix = support::suffix()?;
    let cluster = format!("canary-{suffix}");
    ecs.create_cluster().cluster_name(&cluster).send().await?;
    let lb = balancer(&ecs, &suffix).await?;
    let result = deploy(&ecs, &cluster, &lb, wait).await;
    let _ = ecs
        .delete_service()
        .cluster(&cluster)
        .service("web")
        .force(true)
        .send()
        .await;
    let _ = ecs
        .elbv2()
        .send::<DeleteLoadBalancer>(
            DeleteLoadBalancerInput::builder()
                .load_balancer_arn(lb.load_balancer.clone())
                .build(),
        )
        .await;
    result
}

/// An ALB, two `ip` target groups, and two listeners (80 production, 8080 test) whose default
/// rules forward 100/0 to them.
async fn balancer(ecs: &EcsClient, suffix: &str) -> Result<Balancer> {
    let elb = ecs.elbv2();
    let lb = elb
        .send::<CreateLoadBalancer>(
            CreateLoadBalancerInput::builder()
                .name(format!("canary-{suffix}"))
                .set_subnets(Some(vec![
                    "subnet-0a1b2c3d".into(),
                    "subnet-0b2c3d4e".into(),
                ]))
                .build(),
        )
        .await?
        .load_balancers
        .and_then(|l| l.into_iter().next())
        .ok_or("CreateLoadBalancer answered no load balancer")?;
    let mut groups = vec![];
    for color in ["one", "two"] {
        let group = elb
            .send::<CreateTargetGroup>(
                CreateTargetGroupInput::builder()
                    .name(format!("{color}-{suffix}"))
                    .protocol("HTTP")
                    .port(80)
                    .set_vpc_id(lb.vpc_id.clone())
                    .target_type("ip")
                    // Healthy after 2 checks 5 s apart, as the ECS guide suggests for deployments.
                    .health_check_interval_seconds(5)
                    .health_check_timeout_seconds(2)
                    .healthy_threshold_count(2)
                    .build(),
            )
            .await?
            .target_groups
            .and_then(|g| g.into_iter().next())
            .and_then(|g| g.target_group_arn)
            .ok_or("CreateTargetGroup answered no group")?;
        groups.push(group);
    }
    let groups: [String; 2] = [groups[0].clone(), groups[1].clone()];
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
            .ok_or("CreateListener answered no listener")?;
        let rule = elb
            .send::<DescribeRules>(DescribeRulesInput::builder().listener_arn(listener).build())
            .await?
            .rules
            .and_then(|r| r.into_iter().find(|r| r.is_default == Some(true)))
            .and_then(|r| r.rule_arn)
            .ok_or("the listener has no default rule")?;
        rules.push(rule);
    }
    Ok(Balancer {
        load_balancer: lb.load_balancer_arn.unwrap_or_default(),
        production_rule: rules[0].clone(),
        test_rule: rules[1].clone(),
        groups,
    })
}

/// The weight each group has on a rule.
async fn weights(ecs: &EcsClient, lb: &Balancer, rule: &str) -> Result<[i32; 2]> {
    let rules = ecs
        .elbv2()
        .send::<DescribeRules>(
            DescribeRulesInput::builder()
                .set_rule_arns(Some(vec![rule.to_owned()]))
                .build(),
        )
        .await?
        .rules
        .unwrap_or_default();
    let tuples: Vec<TargetGroupTuple> = rules
        .iter()
        .flat_map(|r| r.actions.iter().flatten())
        .flat_map(|a| a.forward_config.iter())
        .flat_map(|f| f.target_groups.iter().flatten())
        .cloned()
        .collect();
    let of = |g: &str| {
        tuples
            .iter()
            .find(|t| t.target_group_arn.as_deref() == Some(g))
            .and_then(|t| t.weight)
            .unwrap_or(0)
    };
    Ok([of(&lb.groups[0]), of(&lb.groups[1])])
}

async fn register(ecs: &EcsClient, cluster: &str, image: &str) -> Result<String> {
    let td = ecs
        .register_task_definition()
        .family(format!("{cluster}-web"))
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .container_definitions(
            ContainerDefinition::builder()
                .name("web")
                .image(image)
                .set_port_mappings(Some(vec![PortMapping::builder()
                    .container_port(80)
                    .build()]))
                .build(),
        )
        .send()
        .await?;
    td.task_definition
        .and_then(|t| t.task_definition_arn)
        .ok_or_else(|| "RegisterTaskDefinition answered no ARN".into())
}

/// The service deployment `arn` as it stands.
async fn deployment(ecs: &EcsClient, arn: &str) -> Result<ServiceDeployment> {
    ecs.describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await?
        .service_deployments
        .and_then(|d| d.into_iter().next())
        .ok_or_else(|| format!("{arn} is not described").into())
}

/// Polls until `done` holds for the deployment (every 50 ms, at most `wait`).
async fn until(
    ecs: &EcsClient,
    arn: &str,
    wait: Duration,
    what: &str,
    done: impl Fn(&ServiceDeployment) -> bool,
) -> Result<ServiceDeployment> {
    let start = Instant::now();
    loop {
        let d = deployment(ecs, arn).await?;
        if done(&d) {
            return Ok(d);
        }
        if start.elapsed() > wait {
            return Err(format!(
                "{arn} not {what} after {wait:?}: status {:?}, stage {:?}",
                d.status, d.lifecycle_stage
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The id of the hook that waits for action.
fn awaiting(d: &ServiceDeployment) -> Option<String> {
    d.lifecycle_hook_details
        .iter()
        .flatten()
        .find(|h| h.status == Some(DeploymentLifecycleHookStatus::AwaitingAction))
        .and_then(|h| h.hook_id.clone())
}

fn status_is(status: ServiceDeploymentStatus) -> impl Fn(&ServiceDeployment) -> bool {
    move |d| d.status.as_ref() == Some(&status)
}

/// UpdateService to `task_definition`; answers the new service deployment's ARN.
async fn update(ecs: &EcsClient, cluster: &str, task_definition: &str) -> Result<String> {
    ecs.update_service()
        .cluster(cluster)
        .service("web")
        .task_definition(task_definition)
        .send()
        .await?
        .service
        .and_then(|s| s.current_service_deployment)
        .ok_or_else(|| "UpdateService answered no currentServiceDeployment".into())
}

fn check(ok: bool, what: String) -> Result<()> {
    if ok {
        println!("  ok: {what}");
        Ok(())
    } else {
        Err(what.into())
    }
}

async fn deploy(ecs: &EcsClient, cluster: &str, lb: &Balancer, wait: Duration) -> Result<()> {
    let revisions = [
        register(ecs, cluster, "public.ecr.aws/nginx/nginx:1.27").await?,
        register(ecs, cluster, "public.ecr.aws/nginx/nginx:1.28").await?,
        register(ecs, cluster, "public.ecr.aws/nginx/nginx:1.29").await?,
    ];
    let created = ecs
        .create_service()
        .cluster(cluster)
        .service_name("web")
        .task_definition(&revisions[0])
        .desired_count(2)
        .launch_type(LaunchType::Fargate)
        .network_configuration(
            NetworkConfiguration::builder()
                .set_awsvpc_configuration(Some(
                    AwsVpcConfiguration::builder()
                        .set_subnets(Some(vec!["subnet-0a1b2c3d".into()]))
                        .build(),
                ))
                .build(),
        )
        .load_balancers(
            LoadBalancer::builder()
                .target_group_arn(lb.groups[0].clone())
                .container_name("web")
                .container_port(80)
                .advanced_configuration(
                    AdvancedConfiguration::builder()
                        .alternate_target_group_arn(lb.groups[1].clone())
                        .production_listener_rule(lb.production_rule.clone())
                        .test_listener_rule(lb.test_rule.clone())
                        .role_arn("arn:aws:iam::123456789012:role/ecsInfrastructureRole")
                        .build(),
                )
                .build(),
        )
        .deployment_configuration(
            DeploymentConfiguration::builder()
                .strategy(DeploymentStrategy::Canary)
                .set_canary_configuration(Some(
                    CanaryConfiguration::builder()
                        .canary_percent(ecs_model::Decimal::from(20))
                        // Five minutes: long enough to see the canary share at any time scale the
                        // emulator runs at (300 ms with the fast timing).
                        .canary_bake_time_in_minutes(5)
                        .build(),
                ))
                .bake_time_in_minutes(1)
                .build(),
        )
        .send()
        .await?;
    let first = created
        .service
        .and_then(|s| s.current_service_deployment)
        .ok_or("CreateService answered no currentServiceDeployment")?;
    until(
        ecs,
        &first,
        wait,
        "successful",
        status_is(ServiceDeploymentStatus::Successful),
    )
    .await?;
    let before = weights(ecs, lb, &lb.production_rule).await?;
    println!("revision 1 serves production: weights {before:?}");
    // The group without production traffic takes the next revision.
    let new = usize::from(before[0] > before[1]);

    // From now on every deployment pauses after the test traffic moved.
    ecs.update_service()
        .cluster(cluster)
        .service("web")
        .deployment_configuration(
            DeploymentConfiguration::builder()
                .set_lifecycle_hooks(Some(vec![DeploymentLifecycleHook::builder()
                    .target_type(DeploymentLifecycleHookTargetType::Pause)
                    .set_lifecycle_stages(Some(vec![
                        DeploymentLifecycleHookStage::PostTestTrafficShift,
                    ]))
                    .timeout_configuration(
                        DeploymentLifecycleHookTimeoutConfiguration::builder()
                            .timeout_in_minutes(60)
                            .action(DeploymentLifecycleHookAction::Rollback)
                            .build(),
                    )
                    .build()]))
                .build(),
        )
        .send()
        .await?;

    println!("run 1: revision 2, continued at the hook");
    let second = update(ecs, cluster, &revisions[1]).await?;
    let paused = until(ecs, &second, wait, "paused", |d| awaiting(d).is_some()).await?;
    let hook = awaiting(&paused).ok_or("no hook id")?;
    check(
        paused.lifecycle_stage.as_ref()
            == Some(&ServiceDeploymentLifecycleStage::PostTestTrafficShift),
        format!("paused at {:?}", paused.lifecycle_stage),
    )?;
    let test = weights(ecs, lb, &lb.test_rule).await?;
    let production = weights(ecs, lb, &lb.production_rule).await?;
    check(
        test[new] == 100 && production[new] == 0,
        format!("test traffic on the new revision {test:?}, production not yet {production:?}"),
    )?;
    ecs.continue_service_deployment()
        .service_deployment_arn(&second)
        .hook_id(&hook)
        .send()
        .await?;
    let canary = until(ecs, &second, wait, "at the canary share", |d| {
        d.target_service_revision
            .as_ref()
            .and_then(|r| r.requested_production_traffic_weight)
            == Some(ecs_model::Decimal::from(20))
    })
    .await?;
    check(
        canary.status == Some(ServiceDeploymentStatus::InProgress),
        "20% of production on the new revision while the canary bakes".into(),
    )?;
    until(
        ecs,
        &second,
        wait,
        "successful",
        status_is(ServiceDeploymentStatus::Successful),
    )
    .await?;
    let production = weights(ecs, lb, &lb.production_rule).await?;
    check(
        production[new] == 100,
        format!("SUCCESSFUL, production on the new revision {production:?}"),
    )?;

    println!("run 2: revision 3, rolled back at the hook");
    let third = update(ecs, cluster, &revisions[2]).await?;
    let paused = until(ecs, &third, wait, "paused", |d| awaiting(d).is_some()).await?;
    let hook = awaiting(&paused).ok_or("no hook id")?;
    ecs.continue_service_deployment()
        .service_deployment_arn(&third)
        .hook_id(&hook)
        .action(DeploymentLifecycleHookAction::Rollback)
        .send()
        .await?;
    let rolled = until(
        ecs,
        &third,
        wait,
        "rolled back",
        status_is(ServiceDeploymentStatus::RollbackSuccessful),
    )
    .await?;
    let production = weights(ecs, lb, &lb.production_rule).await?;
    let test = weights(ecs, lb, &lb.test_rule).await?;
    check(
        production[new] == 100 && test[new] == 100,
        format!("ROLLBACK_SUCCESSFUL, traffic back on revision 2: production {production:?}, test {test:?}"),
    )?;
    let service = ecs
        .describe_services()
        .cluster(cluster)
        .services("web")
        .send()
        .await?
        .services
        .and_then(|s| s.into_iter().next())
        .ok_or("the service is not described")?;
    check(
        service.task_definition.as_deref() == Some(revisions[1].as_str()),
        format!(
            "the service runs revision 2 again ({})",
            rolled.status_reason.unwrap_or_default()
        ),
    )?;
    println!("native canary: both runs behaved as documented");
    Ok(())
}
