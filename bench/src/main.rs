//! `ecs-bench`: the measuring side of `cargo xtask bench`. Each subcommand prints JSON on
//! stdout; the xtask runs them, computes the ratios and writes `docs/performance.md`.

mod canned;
mod cost;
mod floor;
mod payloads;
mod throughput;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ecs-bench")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// CPU per call of each client against the canned loopback server.
    Cost {
        #[arg(long, default_value_t = 4000)]
        calls: u64,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// A Python with boto3 installed; boto3 is skipped without it.
        #[arg(long)]
        python: Option<PathBuf>,
        #[arg(long, default_value = "bench/python/boto3_cost.py")]
        boto3_script: PathBuf,
        /// Only this client (for profiling): ecs-client, aws-sdk-ecs, hyper or boto3.
        #[arg(long)]
        only: Option<String>,
    },
    /// The reference emulator on 127.0.0.1:<port>, built like the benchmarks (release), with
    /// the task-set limit raised so one service can hold 100 sets, and the default (AWS-shaped)
    /// timing.
    Emulator {
        #[arg(long)]
        port: u16,
    },
    /// The reference emulator behind a loopback proxy on 127.0.0.1:<port>; with --floor the
    /// proxy rounds every computedDesiredCount down (a departing target).
    FloorProxy {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        floor: bool,
    },
    /// Throughput of a server: every scenario at each concurrency.
    Throughput {
        #[arg(long)]
        endpoint: String,
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        #[arg(long, value_delimiter = ',', default_value = "1,32")]
        concurrency: Vec<usize>,
    },
    /// Writes the canned answers (create-task-set.json, describe-task-sets-1.json,
    /// describe-task-sets-100.json) into a directory, to look at.
    Answers {
        #[arg(long)]
        out: PathBuf,
    },
    /// Decodes the canned DescribeTaskSets answer of 100 sets N times with ecs-model and prints
    /// the mean; the call to profile decoding alone (`valgrind --tool=callgrind`).
    Decode {
        #[arg(long, default_value_t = 1000)]
        iterations: u32,
    },
    /// The loopback limit: the pre-signed load generator against the canned server.
    Loopback {
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        #[arg(long, value_delimiter = ',', default_value = "1,16,32")]
        concurrency: Vec<usize>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Cost {
            calls,
            rounds,
            python,
            boto3_script,
            only,
        } => {
            let options = cost::Options {
                calls,
                rounds,
                python: python.as_deref(),
                boto3_script: &boto3_script,
                only: only.as_deref(),
            };
            let mut out = cost::run(&options)?;
            out.extend(cost::run_elbv2(&options)?);
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Cmd::Emulator { port } => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async {
                let emulator = ecs_emulator::Emulator::builder()
                    .port(port)
                    .max_task_sets_per_service(usize::MAX)
                    // Default timing: deleted sets stay DRAINING for a while, as on AWS; the
                    // scheduler's event queue never walks them.
                    .start()
                    .await?;
                println!("{}", emulator.url());
                std::future::pending::<()>().await;
                Ok::<_, anyhow::Error>(())
            })?;
        }
        Cmd::Decode { iterations } => {
            let bytes = payloads::answers()?.describe_100;
            let started = std::time::Instant::now();
            for _ in 0..iterations {
                let decoded: ecs_model::types::DescribeTaskSetsResponse =
                    ecs_model::from_json(std::hint::black_box(&bytes))?;
                std::hint::black_box(decoded);
            }
            let mean = started.elapsed() / iterations.max(1);
            println!(
                "decode DescribeTaskSets (100 sets, {} bytes): {mean:?}",
                bytes.len()
            );
        }
        Cmd::FloorProxy { port, floor } => {
            tokio::runtime::Runtime::new()?.block_on(floor::serve(port, floor))?;
        }
        Cmd::Throughput {
            endpoint,
            seconds,
            concurrency,
        } => {
            let runtime = tokio::runtime::Runtime::new()?;
            let out = runtime.block_on(async {
                let ids = throughput::setup(&endpoint).await?;
                let mut out = vec![];
                for (scenario, op, service) in throughput::SCENARIOS {
                    let named = ids.get(*service).cloned().unwrap_or_default();
                    for c in &concurrency {
                        out.push(
                            throughput::run(
                                &endpoint,
                                scenario,
                                op,
                                service,
                                &named,
                                *c,
                                Duration::from_secs_f64(seconds),
                            )
                            .await?,
                        );
                    }
                }
                Ok::<_, anyhow::Error>(out)
            })?;
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Cmd::Answers { out } => {
            let a = payloads::answers()?;
            std::fs::create_dir_all(&out)?;
            std::fs::write(out.join("create-task-set.json"), &a.create_task_set)?;
            std::fs::write(out.join("describe-task-sets-1.json"), &a.describe_1)?;
            std::fs::write(out.join("describe-task-sets-100.json"), &a.describe_100)?;
        }
        Cmd::Loopback {
            seconds,
            concurrency,
        } => {
            let answers = payloads::answers()?;
            let server = canned::CannedServer::start(answers.describe_1)?;
            let runtime = tokio::runtime::Runtime::new()?;
            let out = runtime.block_on(async {
                let mut out = vec![];
                for c in &concurrency {
                    out.push(
                        throughput::run(
                            &server.url(),
                            "DescribeTaskSets (1 set), canned",
                            "DescribeTaskSets",
                            "one",
                            &[payloads::DESCRIBED_ID.to_owned()],
                            *c,
                            Duration::from_secs_f64(seconds),
                        )
                        .await?,
                    );
                }
                Ok::<_, anyhow::Error>(out)
            })?;
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    Ok(())
}
