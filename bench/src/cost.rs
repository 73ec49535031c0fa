//! Client cost per call: this client, aws-sdk-ecs, boto3 and a bare hyper client (no signing, no
//! serde), one after another against the same canned loopback server with identical bodies.
//!
//! CPU is measured, not wall time: the process's CPU time over the calls minus what the
//! server's own thread used (asked for at `GET /cpu`), so each figure is what the client spent
//! building, signing, sending and decoding. boto3 reports `time.process_time()` of its own
//! process. Rounds are interleaved, and each figure is the median over the rounds.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use bytes::Bytes;
use ecs_client::EcsClient;
use ecs_model::operations::{CreateTaskSet, DescribeTaskSets};
use ecs_model::types::{CreateTaskSetRequest, DescribeTaskSetsRequest};
use http_body_util::{BodyExt, Full};
use serde::Serialize;
use serde_json::Value;

use crate::canned::CannedServer;
use crate::payloads::{self, answers};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    CreateTaskSet,
    DescribeTaskSets1,
    DescribeTaskSets100,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [
        Scenario::CreateTaskSet,
        Scenario::DescribeTaskSets1,
        Scenario::DescribeTaskSets100,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Scenario::CreateTaskSet => "CreateTaskSet",
            Scenario::DescribeTaskSets1 => "DescribeTaskSets (1 set)",
            Scenario::DescribeTaskSets100 => "DescribeTaskSets (100 sets)",
        }
    }

    fn op(self) -> &'static str {
        match self {
            Scenario::CreateTaskSet => "CreateTaskSet",
            _ => "DescribeTaskSets",
        }
    }

    fn request(self) -> Value {
        match self {
            Scenario::CreateTaskSet => payloads::create_task_set_request(payloads::SERVICE),
            _ => payloads::describe_task_sets_request(
                payloads::SERVICE,
                &[payloads::DESCRIBED_ID.to_owned()],
            ),
        }
    }

    /// Task sets the answer holds (checked on every client's answer).
    fn sets(self) -> usize {
        match self {
            Scenario::CreateTaskSet | Scenario::DescribeTaskSets1 => 1,
            Scenario::DescribeTaskSets100 => 100,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Measurement {
    pub scenario: &'static str,
    pub client: String,
    pub calls: u64,
    /// Median over the rounds of CPU microseconds per call.
    pub cpu_us_per_call: f64,
    /// Median over the rounds of wall microseconds per call.
    pub wall_us_per_call: f64,
}

pub struct Options<'a> {
    pub calls: u64,
    pub rounds: usize,
    /// A Python with boto3, and the script that drives it; boto3 is skipped when absent.
    pub python: Option<&'a Path>,
    pub boto3_script: &'a Path,
    /// Run only this client (for profiling): `ecs-client`, `aws-sdk-ecs`, `hyper`, `boto3`.
    pub only: Option<&'a str>,
}

pub fn run(options: &Options) -> Result<Vec<Measurement>> {
    let answers = answers()?;
    let wanted = |client: &str| options.only.is_none_or(|o| o == client);
    let mut out = vec![];
    for scenario in Scenario::ALL {
        let answer = match scenario {
            Scenario::CreateTaskSet => answers.create_task_set.clone(),
            Scenario::DescribeTaskSets1 => answers.describe_1.clone(),
            Scenario::DescribeTaskSets100 => answers.describe_100.clone(),
        };
        let server = CannedServer::start(answer)?;
        let url = server.url();
        let calls = match scenario {
            Scenario::DescribeTaskSets100 => options.calls / 4,
            _ => options.calls,
        }
        .max(10);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let mut rounds: Vec<Vec<(String, f64, f64)>> = vec![];
        runtime.block_on(async {
            let ours = payloads::client(&url)?;
            let inputs = Inputs::new()?;
            let sdk = sdk(&url);
            let mut bare = Bare::connect(&server, scenario).await?;
            for _ in 0..options.rounds {
                let mut round = vec![];
                if wanted("ecs-client") {
                    let call = || ours_call(&ours, &inputs, scenario);
                    round.push(measure(&url, "ecs-client", calls, call).await?);
                }
                if wanted("aws-sdk-ecs") {
                    let call = || sdk_call(&sdk, scenario);
                    round.push(measure(&url, "aws-sdk-ecs", calls, call).await?);
                }
                if wanted("hyper") {
                    let call = async || bare.call().await;
                    let name = "hyper, no signing or serde";
                    round.push(measure(&url, name, calls, call).await?);
                }
                rounds.push(round);
            }
            Ok::<_, anyhow::Error>(())
        })?;
        if let Some(python) = options.python.filter(|_| wanted("boto3")) {
            for round in rounds.iter_mut() {
                round.push(boto3(python, options.boto3_script, &url, scenario, calls)?);
            }
        }
        for i in 0..rounds.first().map_or(0, Vec::len) {
            let client = rounds[0][i].0.clone();
            out.push(Measurement {
                scenario: scenario.label(),
                client,
                calls,
                cpu_us_per_call: median(rounds.iter().map(|r| r[i].1).collect()),
                wall_us_per_call: median(rounds.iter().map(|r| r[i].2).collect()),
            });
        }
        drop(server);
    }
    Ok(out)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The canned server's thread CPU, asked for over a connection of its own.
async fn server_cpu(url: &str) -> Result<Duration> {
    let addr = url.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    let task = tokio::spawn(conn);
    let req = http::Request::get("/cpu")
        .header("host", addr)
        .body(Full::new(Bytes::new()))?;
    let body = sender
        .send_request(req)
        .await?
        .into_body()
        .collect()
        .await?;
    drop(sender);
    let _ = task.await;
    let nanos: u64 = std::str::from_utf8(&body.to_bytes())?.trim().parse()?;
    Ok(Duration::from_nanos(nanos))
}

/// Warms up, then times `calls` calls: (client, CPU µs per call, wall µs per call).
async fn measure(
    url: &str,
    client: &str,
    calls: u64,
    mut call: impl AsyncFnMut() -> Result<()>,
) -> Result<(String, f64, f64)> {
    for _ in 0..(calls / 10).max(20) {
        call().await?;
    }
    let server_before = server_cpu(url).await?;
    let cpu_before = cpu_time::ProcessTime::now();
    let started = Instant::now();
    for _ in 0..calls {
        call().await?;
    }
    let wall = started.elapsed();
    let cpu = cpu_before.elapsed();
    let server = server_cpu(url).await?.saturating_sub(server_before);
    let per = |d: Duration| d.as_secs_f64() * 1e6 / calls as f64;
    Ok((
        client.to_owned(),
        per(cpu.saturating_sub(server)),
        per(wall),
    ))
}

/// Typed inputs, built once and cloned per call (as a caller holding its request would).
struct Inputs {
    create: CreateTaskSetRequest,
    describe: DescribeTaskSetsRequest,
}

impl Inputs {
    fn new() -> Result<Inputs> {
        Ok(Inputs {
            create: ecs_model::from_value(&payloads::create_task_set_request(payloads::SERVICE))?,
            describe: ecs_model::from_value(&payloads::describe_task_sets_request(
                payloads::SERVICE,
                &[payloads::DESCRIBED_ID.to_owned()],
            ))?,
        })
    }
}

async fn ours_call(client: &EcsClient, inputs: &Inputs, scenario: Scenario) -> Result<()> {
    let sets = match scenario {
        Scenario::CreateTaskSet => {
            let out = client.send::<CreateTaskSet>(inputs.create.clone()).await?;
            usize::from(out.task_set.is_some())
        }
        _ => {
            let out = client
                .send::<DescribeTaskSets>(inputs.describe.clone())
                .await?;
            out.task_sets.map_or(0, |s| s.len())
        }
    };
    ensure!(sets == scenario.sets(), "ecs-client read {sets} task sets");
    Ok(())
}

fn sdk(url: &str) -> aws_sdk_ecs::Client {
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version(aws_sdk_ecs::config::BehaviorVersion::latest())
        .region(aws_sdk_ecs::config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            "AKIDBENCHEXAMPLE",
            "bench-secret-not-a-real-key",
            None,
            None,
            "bench",
        ))
        .build();
    aws_sdk_ecs::Client::from_conf(config)
}

async fn sdk_call(client: &aws_sdk_ecs::Client, scenario: Scenario) -> Result<()> {
    use aws_sdk_ecs::types::{
        AssignPublicIp, AwsVpcConfiguration, LaunchType, LoadBalancer, NetworkConfiguration, Scale,
        ScaleUnit,
    };
    let sets = match scenario {
        Scenario::CreateTaskSet => {
            let vpc = AwsVpcConfiguration::builder()
                .subnets("subnet-0a1b2c3d")
                .subnets("subnet-1a2b3c4d")
                .subnets("subnet-2a3b4c5d")
                .security_groups("sg-0a1b2c3d")
                .assign_public_ip(AssignPublicIp::Disabled)
                .build()?;
            let out = client
                .create_task_set()
                .cluster(payloads::CLUSTER)
                .service(payloads::SERVICE)
                .task_definition("web:1")
                .external_id("deploy-42")
                .launch_type(LaunchType::Fargate)
                .network_configuration(
                    NetworkConfiguration::builder()
                        .awsvpc_configuration(vpc)
                        .build(),
                )
                .load_balancers(
                    LoadBalancer::builder()
                        .target_group_arn("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123456789abcdef")
                        .container_name("web")
                        .container_port(8080)
                        .build(),
                )
                .scale(Scale::builder().value(50.0).unit(ScaleUnit::Percent).build())
                .send()
                .await?;
            usize::from(out.task_set.is_some())
        }
        _ => {
            let out = client
                .describe_task_sets()
                .cluster(payloads::CLUSTER)
                .service(payloads::SERVICE)
                .task_sets(payloads::DESCRIBED_ID)
                .send()
                .await?;
            out.task_sets.map_or(0, |s| s.len())
        }
    };
    ensure!(sets == scenario.sets(), "aws-sdk-ecs read {sets} task sets");
    Ok(())
}

/// The floor: one kept-alive HTTP/1.1 connection, a prebuilt request, the body collected.
pub struct Bare {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    /// `X-Amz-Target` (awsJson); `None` for a form (awsQuery).
    target: Option<http::HeaderValue>,
    body: Bytes,
    host: http::HeaderValue,
}

impl Bare {
    async fn connect(server: &CannedServer, scenario: Scenario) -> Result<Bare> {
        let target = http::HeaderValue::from_str(&format!(
            "{}.{}",
            ecs_model::TARGET_PREFIX,
            scenario.op()
        ))?;
        Self::open(server, Some(target), scenario.request().to_string()).await
    }

    /// The floor for an awsQuery call: the form prebuilt.
    async fn connect_form(server: &CannedServer, form: String) -> Result<Bare> {
        Self::open(server, None, form).await
    }

    async fn open(
        server: &CannedServer,
        target: Option<http::HeaderValue>,
        body: String,
    ) -> Result<Bare> {
        let stream = tokio::net::TcpStream::connect(server.addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Bare {
            sender,
            target,
            body: Bytes::from(body),
            host: http::HeaderValue::from_str(&server.addr.to_string())?,
        })
    }

    async fn call(&mut self) -> Result<()> {
        let mut req = http::Request::new(Full::new(self.body.clone()));
        *req.method_mut() = http::Method::POST;
        let headers = req.headers_mut();
        headers.insert("host", self.host.clone());
        match &self.target {
            Some(target) => {
                headers.insert(
                    "content-type",
                    http::HeaderValue::from_static("application/x-amz-json-1.1"),
                );
                headers.insert("x-amz-target", target.clone());
            }
            None => {
                headers.insert(
                    "content-type",
                    http::HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
            }
        }
        self.sender.ready().await?;
        let response = self.sender.send_request(req).await?;
        if !response.status().is_success() {
            bail!("HTTP {}", response.status());
        }
        let body = response.into_body().collect().await?.to_bytes();
        ensure!(!body.is_empty(), "empty answer");
        Ok(())
    }
}

#[derive(serde::Deserialize)]
struct PythonFigures {
    cpu_s: f64,
    wall_s: f64,
    calls: u64,
}

fn boto3(
    python: &Path,
    script: &Path,
    url: &str,
    scenario: Scenario,
    calls: u64,
) -> Result<(String, f64, f64)> {
    // boto3 is some 50 times slower per call; fewer calls keep the run short.
    let calls = (calls / 5).max(10);
    let output = Command::new(python)
        .arg(script)
        .arg(url)
        .arg(scenario.op())
        .arg(calls.to_string())
        .arg(scenario.sets().to_string())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !output.status.success() {
        bail!(
            "boto3 driver failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let figures: PythonFigures = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "boto3 driver said {:?}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    let per = |s: f64| s * 1e6 / figures.calls as f64;
    Ok(("boto3".to_owned(), per(figures.cpu_s), per(figures.wall_s)))
}

/// The ELBv2 scenario: DescribeTargetHealth of a group of 10 targets, answered with the XML the
/// reference emulator writes, through this project's generated client (`EcsClient::elbv2`),
/// aws-sdk-elasticloadbalancingv2 and the bare floor. The measurement behind the choice of
/// ELBv2 client (see docs/performance.md).
pub const ELBV2_SCENARIO: &str = "DescribeTargetHealth (10 targets)";

const TARGET_GROUP: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/0123456789abcdef";

fn target_health_answer() -> Vec<u8> {
    use ecs_model::elbv2::types::*;
    let output = DescribeTargetHealthOutput::builder()
        .set_target_health_descriptions(Some(
            (0..10)
                .map(|i| {
                    TargetHealthDescription::builder()
                        .target(
                            TargetDescription::builder()
                                .id(format!("10.0.1.{}", 10 + i))
                                .port(8080)
                                .availability_zone("us-east-1a")
                                .build(),
                        )
                        .health_check_port("8080")
                        .set_target_health(Some(
                            TargetHealth::builder()
                                .state(if i < 8 { "healthy" } else { "initial" })
                                .set_reason((i >= 8).then(|| "Elb.InitialHealthChecking".into()))
                                .set_description(
                                    (i >= 8).then(|| "Initial health checks in progress".into()),
                                )
                                .build(),
                        ))
                        .build()
                })
                .collect(),
        ))
        .build();
    ecs_model::query::answer_xml::<ecs_model::elbv2::operations::DescribeTargetHealth>(
        &output,
        ecs_model::elbv2::XML_NAMESPACE,
        "00000000-0000-4000-8000-000000000000",
    )
    .into_bytes()
}

pub fn run_elbv2(options: &Options) -> Result<Vec<Measurement>> {
    use ecs_model::elbv2::operations::DescribeTargetHealth;
    use ecs_model::elbv2::types::DescribeTargetHealthInput;
    let wanted = |client: &str| options.only.is_none_or(|o| o == client);
    let server = CannedServer::start_typed(target_health_answer(), "text/xml")?;
    let url = server.url();
    let calls = options.calls.max(10);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut rounds: Vec<Vec<(String, f64, f64)>> = vec![];
    runtime.block_on(async {
        let ours = payloads::client(&url)?.elbv2();
        let input = DescribeTargetHealthInput::builder()
            .target_group_arn(TARGET_GROUP)
            .build();
        let sdk = elbv2_sdk(&url);
        let form = ecs_model::query::request_body::<DescribeTargetHealth>(
            &input,
            ecs_model::elbv2::API_VERSION,
        );
        let mut bare = Bare::connect_form(&server, form).await?;
        for _ in 0..options.rounds {
            let mut round = vec![];
            if wanted("ecs-client") {
                let call = async || {
                    let out = ours.send::<DescribeTargetHealth>(input.clone()).await?;
                    let n = out.target_health_descriptions.map_or(0, |d| d.len());
                    ensure!(n == 10, "ecs-client read {n} targets");
                    Ok(())
                };
                round.push(measure(&url, "ecs-client (EcsClient::elbv2)", calls, call).await?);
            }
            if wanted("aws-sdk-elasticloadbalancingv2") {
                let call = async || {
                    let out = sdk
                        .describe_target_health()
                        .target_group_arn(TARGET_GROUP)
                        .send()
                        .await?;
                    let n = out.target_health_descriptions().len();
                    ensure!(n == 10, "aws-sdk-elasticloadbalancingv2 read {n} targets");
                    Ok(())
                };
                round.push(measure(&url, "aws-sdk-elasticloadbalancingv2", calls, call).await?);
            }
            if wanted("hyper") {
                let call = async || bare.call().await;
                round.push(measure(&url, "hyper, no signing or parsing", calls, call).await?);
            }
            rounds.push(round);
        }
        Ok::<_, anyhow::Error>(())
    })?;
    let mut out = vec![];
    for i in 0..rounds.first().map_or(0, Vec::len) {
        out.push(Measurement {
            scenario: ELBV2_SCENARIO,
            client: rounds[0][i].0.clone(),
            calls,
            cpu_us_per_call: median(rounds.iter().map(|r| r[i].1).collect()),
            wall_us_per_call: median(rounds.iter().map(|r| r[i].2).collect()),
        });
    }
    Ok(out)
}

fn elbv2_sdk(url: &str) -> aws_sdk_elasticloadbalancingv2::Client {
    use aws_sdk_elasticloadbalancingv2::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_elasticloadbalancingv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(
            "AKIDBENCHEXAMPLE",
            "bench-secret-not-a-real-key",
            None,
            None,
            "bench",
        ))
        .build();
    aws_sdk_elasticloadbalancingv2::Client::from_conf(config)
}
