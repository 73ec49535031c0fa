//! A deployment against the reference emulator in AWS's timing shape: the service of
//! `--desired` tasks runs `web:1`, and `web:2` goes out with `--strategy`.
//!
//! `cargo run -p ecs-deploy --example emulated -- --desired 50 --strategy linear:20%,0s --time-scale 1`
//! is AWS's pace; the default time scale (0.02) runs the same shape fifty times faster. It
//! prints a line per event with the time since the start, then the wall time and the calls
//! made (the controller's count and the requests the emulator received, by operation).
//!
//! With `--traffic`, the service's tasks run in awsvpc behind an application load balancer of
//! the emulator (ELBv2's default health checks: healthy after 5 × 30 s, 300 s to drain), the
//! new set gets its own target group, and each step shifts the listener's weights once the
//! new targets are healthy; the run ends with the weights over time.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
#[path = "../tests/support/balancer.rs"]
mod balancer;
use ecs_client::{Config, EcsClient};
use ecs_deploy::{Deployer, Deployment, Event, Outcome, Strategy, Timeouts, Traffic};
use ecs_emulator::{Emulator, TimingProfile};
use ecs_model::types::{ContainerDefinition, DeploymentController, DeploymentControllerType};

#[derive(Parser)]
struct Args {
    /// The service's desired count.
    #[arg(long, default_value_t = 10)]
    desired: i32,
    /// The strategy of the deployment of web:2.
    #[arg(long, default_value = "linear:20%,1m")]
    strategy: Strategy,
    /// AWS's delays (and the strategy's bake times) multiplied by this.
    #[arg(long, default_value_t = 0.02)]
    time_scale: f64,
    /// Behind a load balancer: shift the listener's weights with the steps.
    #[arg(long)]
    traffic: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("emulated deployment: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let emulator = Emulator::builder()
        .profile(TimingProfile::Aws, args.time_scale)
        .log_calls()
        .start()
        .await?;
    let ecs = EcsClient::new(Config::local(emulator.url())?)?;
    let timeouts = Timeouts::default().scaled(args.time_scale.min(1.0));
    let traffic = if args.traffic {
        let b = balancer::behind_a_balancer(&ecs, "demo", args.desired, balancer::Health::DEFAULTS)
            .await;
        println!(
            "service demo/svc runs web:1 behind {} (blue); deploying web:2 with {} at time scale {}",
            b.listener, args.strategy, args.time_scale
        );
        Some(Traffic::through(b.listener))
    } else {
        first_deployment(&ecs, &args, timeouts).await?;
        None
    };

    let strategy = scale_bakes(&args.strategy, args.time_scale);
    let service = if traffic.is_some() { "svc" } else { "web" };
    let mut deployment = Deployment::new("demo", service, "web:2", strategy);
    if let Some(traffic) = traffic {
        deployment = deployment.with_traffic(traffic);
    }
    let weights = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
    let record = weights.clone();
    let from = emulator.engine().calls().len();
    let started = Instant::now();
    let report = Deployer::new(ecs)
        .timeouts(timeouts)
        .on_event(move |e| {
            let at = started.elapsed().as_secs_f64();
            if let Event::Shifted {
                old_weight,
                new_weight,
                ..
            } = e
            {
                if let Ok(mut w) = record.lock() {
                    w.push((at, *old_weight, *new_weight));
                }
            }
            if !matches!(e, Event::Waiting { .. }) {
                println!("{at:>8.1}s  {e}");
            }
        })
        .run(&deployment)
        .await;
    let requests = emulator.engine().calls().split_off(from);
    let mut by_operation: BTreeMap<&str, usize> = BTreeMap::new();
    for call in &requests {
        *by_operation.entry(call.operation.as_str()).or_default() += 1;
    }
    println!(
        "{:?} in {:.1} s: {} calls by the controller, {} requests received ({})",
        report.outcome,
        report.elapsed.as_secs_f64(),
        report.api_calls,
        requests.len(),
        by_operation
            .iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Ok(w) = weights.lock() {
        if !w.is_empty() {
            println!("weights over time (old/new):");
            for (at, old, new) in w.iter() {
                println!("{at:>8.1}s  {old}/{new}");
            }
        }
    }
    Ok(match report.outcome {
        Outcome::Succeeded => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}

/// Task definitions web:1 and web:2 and the EXTERNAL service demo/web running web:1 (its first
/// deployment, by ecs-deploy).
async fn first_deployment(
    ecs: &EcsClient,
    args: &Args,
    timeouts: Timeouts,
) -> Result<(), Box<dyn std::error::Error>> {
    ecs.create_cluster().cluster_name("demo").send().await?;
    for _ in 0..2 {
        ecs.register_task_definition()
            .family("web")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("web")
                    .image("public.ecr.aws/nginx/nginx:1.27")
                    .memory(128)
                    .build(),
            )
            .send()
            .await?;
    }
    ecs.create_service()
        .cluster("demo")
        .service_name("web")
        .desired_count(args.desired)
        .deployment_controller(DeploymentController::of(DeploymentControllerType::External))
        .send()
        .await?;
    let first = Deployment::new(
        "demo",
        "web",
        "web:1",
        Strategy::BlueGreen {
            bake: Default::default(),
        },
    );
    let report = Deployer::new(ecs.clone())
        .timeouts(timeouts)
        .run(&first)
        .await;
    if !matches!(report.outcome, Outcome::Succeeded) {
        return Err(format!("setting up web:1: {:?}", report.outcome).into());
    }
    println!(
        "service demo/web runs web:1 in {} ({} tasks); deploying web:2 with {} at time scale {}",
        report.new_task_set.unwrap_or_default(),
        args.desired,
        args.strategy,
        args.time_scale
    );
    Ok(())
}

/// The strategy with its bake times at the emulator's time scale.
fn scale_bakes(strategy: &Strategy, scale: f64) -> Strategy {
    match strategy.clone() {
        Strategy::BlueGreen { bake } => Strategy::BlueGreen {
            bake: bake.mul_f64(scale),
        },
        Strategy::Canary { percent, bake } => Strategy::Canary {
            percent,
            bake: bake.mul_f64(scale),
        },
        Strategy::Linear { percent, interval } => Strategy::Linear {
            percent,
            interval: interval.mul_f64(scale),
        },
    }
}
