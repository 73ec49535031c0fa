//! The load balancer of the traffic scenarios and of the `emulated --traffic` example: an
//! ALB in front of an EXTERNAL service whose primary task set serves through target group
//! `blue`, with `green` waiting for the new set. Shared by `tests/traffic.rs` and
//! `examples/emulated.rs` (by path), so both set up the same thing.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use ecs_client::EcsClient;
use ecs_model::elbv2::operations::*;
use ecs_model::elbv2::types::{
    Action, CreateListenerInput, CreateLoadBalancerInput, CreateTargetGroupInput,
    DescribeTargetHealthInput, ModifyTargetGroupAttributesInput, TargetGroupAttribute,
};
use ecs_model::types::*;

/// The load balancer of a scenario.
pub struct Balancer {
    pub listener: String,
    pub test_listener: String,
    pub blue: String,
    pub green: String,
}

/// A forward to blue and green at these weights.
pub fn forward(b: &Balancer, blue: i32, green: i32) -> Action {
    Action::forward_weighted([(&b.blue, blue), (&b.green, green)])
}

/// How the target groups check health and drain, in the load balancer's seconds.
#[derive(Clone, Copy, Debug)]
pub struct Health {
    pub interval: i32,
    pub timeout: i32,
    pub healthy_threshold: i32,
    pub deregistration_delay: u32,
}

impl Health {
    /// ELBv2's defaults for an HTTP group: 30 s × 5 passes to healthy, 300 s to drain.
    pub const DEFAULTS: Health = Health {
        interval: 30,
        timeout: 5,
        healthy_threshold: 5,
        deregistration_delay: 300,
    };
    /// What AWS's ECS guide suggests for fast deployments: 5 s × 2 passes (10 s to
    /// healthy), and a short drain (30 s).
    pub const FAST: Health = Health {
        interval: 5,
        timeout: 2,
        healthy_threshold: 2,
        deregistration_delay: 30,
    };
}

/// Cluster `cluster` and the EXTERNAL service `svc` of `desired` awsvpc tasks running `web:1`
/// in a primary task set registered in `blue`; an ALB with a production listener (port 80)
/// and a test listener (port 8080), both forwarding blue 100 / green 0; `web:2` registered
/// too. Answers once every task of `web:1` is a healthy target of blue.
pub async fn behind_a_balancer(
    ecs: &EcsClient,
    cluster: &str,
    desired: i32,
    health: Health,
) -> Balancer {
    let elb = ecs.elbv2();
    let lb = elb
        .send::<CreateLoadBalancer>(
            CreateLoadBalancerInput::builder()
                .name("web")
                .set_subnets(Some(vec![
                    "subnet-0a1b2c3d".into(),
                    "subnet-0b2c3d4e".into(),
                ]))
                .build(),
        )
        .await
        .unwrap()
        .load_balancers
        .unwrap()
        .remove(0);
    let mut groups = vec![];
    for name in ["blue", "green"] {
        let group = elb
            .send::<CreateTargetGroup>(
                CreateTargetGroupInput::builder()
                    .name(name)
                    .protocol("HTTP")
                    .port(80)
                    .set_vpc_id(lb.vpc_id.clone())
                    .target_type("ip")
                    .health_check_interval_seconds(health.interval)
                    .health_check_timeout_seconds(health.timeout)
                    .healthy_threshold_count(health.healthy_threshold)
                    .build(),
            )
            .await
            .unwrap()
            .target_groups
            .unwrap()
            .remove(0)
            .target_group_arn
            .unwrap();
        elb.send::<ModifyTargetGroupAttributes>(
            ModifyTargetGroupAttributesInput::builder()
                .target_group_arn(group.clone())
                .set_attributes(Some(vec![TargetGroupAttribute::builder()
                    .key("deregistration_delay.timeout_seconds")
                    .value(health.deregistration_delay.to_string())
                    .build()]))
                .build(),
        )
        .await
        .unwrap();
        groups.push(group);
    }
    let mut b = Balancer {
        listener: String::new(),
        test_listener: String::new(),
        blue: groups[0].clone(),
        green: groups[1].clone(),
    };
    for port in [80, 8080] {
        let listener = elb
            .send::<CreateListener>(
                CreateListenerInput::builder()
                    .set_load_balancer_arn(lb.load_balancer_arn.clone())
                    .protocol("HTTP")
                    .port(port)
                    .set_default_actions(Some(vec![forward(&b, 100, 0)]))
                    .build(),
            )
            .await
            .unwrap()
            .listeners
            .unwrap()
            .remove(0)
            .listener_arn
            .unwrap();
        if port == 80 {
            b.listener = listener;
        } else {
            b.test_listener = listener;
        }
    }

    ecs.create_cluster()
        .cluster_name(cluster)
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
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
                    .set_port_mappings(Some(vec![PortMapping::builder()
                        .container_port(80)
                        .build()]))
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    ecs.create_service()
        .cluster(cluster)
        .service_name("svc")
        .desired_count(desired)
        .deployment_controller(DeploymentController::of(DeploymentControllerType::External))
        .send()
        .await
        .unwrap();
    let set = ecs
        .create_task_set()
        .cluster(cluster)
        .service("svc")
        .task_definition("web:1")
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
                .target_group_arn(b.blue.clone())
                .container_name("web")
                .container_port(80)
                .build(),
        )
        .scale(Scale::percent(100))
        .send()
        .await
        .unwrap()
        .task_set
        .unwrap();
    ecs.update_service_primary_task_set()
        .cluster(cluster)
        .service("svc")
        .primary_task_set(set.id.unwrap())
        .send()
        .await
        .unwrap();
    // Until the old set serves: every task a healthy target of blue.
    while healthy(ecs, &b.blue).await < usize::try_from(desired).unwrap() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    b
}

/// Healthy targets of a group.
pub async fn healthy(ecs: &EcsClient, group: &str) -> usize {
    ecs.elbv2()
        .send::<DescribeTargetHealth>(
            DescribeTargetHealthInput::builder()
                .target_group_arn(group)
                .build(),
        )
        .await
        .unwrap()
        .target_health_descriptions
        .unwrap_or_default()
        .iter()
        .filter(|d| d.target_health.as_ref().and_then(|h| h.state.as_deref()) == Some("healthy"))
        .count()
}

pub fn weights_of(b: &Balancer, actions: &[Action]) -> (i32, i32) {
    let tuples = actions[0]
        .forward_config
        .as_ref()
        .and_then(|f| f.target_groups.clone())
        .unwrap_or_default();
    let weight = |g: &str| {
        tuples
            .iter()
            .find(|t| t.target_group_arn.as_deref() == Some(g))
            .and_then(|t| t.weight)
            .unwrap_or(0)
    };
    (weight(&b.blue), weight(&b.green))
}
