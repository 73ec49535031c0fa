//! `ecs-deploy`: one deployment of an EXTERNAL ECS service, from a terminal or a CI job; and
//! `ecs-deploy status` / `ecs-deploy abort` to see and stop one from elsewhere.
//!
//! Exit codes of a deployment: 0 deployed, 3 rolled back (an abort included), 1 failed (needs
//! a look, or a re-run to resume), 2 usage or configuration, 130 interrupted and left to be
//! resumed (or interrupted before it changed anything). `abort` exits 0 once the deployment
//! is rolled back, 1 otherwise.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ecs_client::{Config, EcsClient};
use ecs_deploy::strategy::parse_duration;
use ecs_deploy::{
    Deployer, Deployment, DeploymentId, Event, GateContext, Outcome, Report, Strategy, Timeouts,
    Traffic,
};

#[derive(Parser, Debug)]
#[command(
    name = "ecs-deploy",
    version,
    about = "Deploys a task definition to an EXTERNAL ECS service with task sets: blue/green, canary or linear, with rollback",
    after_help = "Exit codes: 0 deployed, 3 rolled back, 1 failed, 2 usage, 130 interrupted and left to be resumed.\n\
Region and credentials come from the AWS SDKs' chain, as the AWS CLI v2 finds them: the environment, the profile (keys, SSO, role_arn, credential_process, web identity), web identity from AWS_WEB_IDENTITY_TOKEN_FILE, container credentials, then the instance's role; they are refreshed before they expire.\n\
Running the same command again after an interruption resumes the deployment.\n\
`ecs-deploy status` shows where a service's deployment stands; `ecs-deploy abort` rolls it back.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(flatten)]
    deploy: DeployArgs,
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Where the service's deployment stands: the lease, an abort request, the last rollback,
    /// and every task set with its counts.
    Status {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        connection: Connection,
        /// text, or json (one object).
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
    /// Rolls back the deployment in progress on the service: asks the run holding the lease to
    /// roll back and watches it do so, or, when no run holds it (a crashed one), rolls back
    /// here.
    Abort {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        connection: Connection,
        /// Who asks (recorded on the service); `$USER@host` when not given.
        #[arg(long)]
        by: Option<String>,
        /// How long to watch the run holding the lease roll back, or to roll back here.
        #[arg(long, value_parser = parse_duration, default_value = "15m")]
        timeout: Duration,
        /// Time between two reads of the service.
        #[arg(long, value_parser = parse_duration, default_value = "5s")]
        poll_interval: Duration,
    },
}

#[derive(Args, Debug)]
struct Target {
    /// The cluster (name or ARN).
    #[arg(long)]
    cluster: String,
    /// The service (name or ARN).
    #[arg(long)]
    service: String,
}

#[derive(Args, Debug, Clone)]
struct Connection {
    /// An endpoint other than AWS's (an emulator), for ECS and, with traffic, ELBv2 alike.
    /// Without it, ELBv2 goes to `AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2`, `AWS_ENDPOINT_URL`
    /// or the region's endpoint (`AWS_ENDPOINT_URL_ECS` is for ECS only).
    #[arg(long)]
    endpoint: Option<String>,
    /// The region (else AWS_REGION, AWS_DEFAULT_REGION or the profile's).
    #[arg(long)]
    region: Option<String>,
    /// The shared-config profile (else AWS_PROFILE or `default`).
    #[arg(long)]
    profile: Option<String>,
    /// Sign requests to a plain http:// endpoint on another machine even with a session's or
    /// the chain's credentials (refused without it).
    #[arg(long)]
    allow_plain_http: bool,
}

/// The deployment's arguments. The three that name it are checked after parsing (clap does not
/// lift a flattened argument's `required` for a subcommand), with clap's own error.
#[derive(Args, Debug)]
struct DeployArgs {
    /// The cluster (name or ARN). Required.
    #[arg(long)]
    cluster: Option<String>,
    /// The service (name or ARN); it must use the EXTERNAL deployment controller. Required.
    #[arg(long)]
    service: Option<String>,
    /// The task definition of the new task set (family, family:revision or ARN). A family is
    /// resolved to its latest ACTIVE revision before anything is changed. Required.
    #[arg(long)]
    task_definition: Option<String>,
    /// blue-green[:BAKE], canary:PERCENT%,BAKE or linear:PERCENT%,INTERVAL (e.g. linear:20%,1m).
    #[arg(long, default_value = "blue-green")]
    strategy: Strategy,
    /// The deployment id (client token and task-set label, up to 36 characters); derived from
    /// the cluster, service, resolved task definition and strategy when not given.
    #[arg(long)]
    deployment_id: Option<String>,
    /// Shift traffic through this listener (or listener rule) ARN: at each step, once every
    /// target of the new task set is healthy, its forward action gets the step's weights
    /// (canary 10% forwards 10 to the new target group and 90 to the old). Without it only
    /// capacity moves.
    #[arg(long)]
    listener: Option<String>,
    /// Blue/green: a test listener (or rule) that forwards all to the new target group before
    /// the production listener does, for the last gate to try.
    #[arg(long, requires = "listener")]
    test_listener: Option<String>,
    /// The new task set's target group; by default the group the listener's forward names
    /// besides the old one.
    #[arg(long, requires = "listener")]
    target_group: Option<String>,
    /// The old task set's target group; by default the primary task set's.
    #[arg(long, requires = "listener")]
    old_target_group: Option<String>,
    /// A shell command asked at each step after its bake and after the switch: exit 0 to go on,
    /// anything else to roll back. It sees ECS_DEPLOY_ID, ECS_DEPLOY_AT, ECS_DEPLOY_TASK_SET,
    /// ECS_DEPLOY_PERCENT, ECS_DEPLOY_RUNNING and ECS_DEPLOY_EXPECTED.
    #[arg(long)]
    health_check: Option<String>,
    /// On SIGTERM or Ctrl-C: roll back (as a failed gate would), or leave the deployment as it
    /// stands for a re-run to resume (exit 130).
    #[arg(long, value_enum, default_value = "rollback")]
    on_interrupt: OnInterrupt,
    /// text (a line per step on stderr), or json (one JSON object per event on stdout, then
    /// one for the outcome).
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    /// Time between two reads of the service while waiting (at least 10ms).
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
    /// Deadline for room on a full service (DRAINING task sets to go).
    #[arg(long, value_parser = parse_duration, default_value = "10m")]
    room_timeout: Duration,
    /// Deadline of the switch (the new set shown as the primary).
    #[arg(long, value_parser = parse_duration, default_value = "5m")]
    switch_timeout: Duration,
    /// Deadline of the old set's retirement (scaled to 0, deleted, gone).
    #[arg(long, value_parser = parse_duration, default_value = "15m")]
    retire_timeout: Duration,
    /// How long a task set may be missing from the service's answers before it is taken
    /// for deleted (ECS reads are eventually consistent).
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    read_lag: Duration,
    /// How long the lease on the service lasts unless renewed.
    #[arg(long, value_parser = parse_duration, default_value = "2m")]
    lease_ttl: Duration,
    /// How long to wait for another run's lease before stopping.
    #[arg(long, value_parser = parse_duration, default_value = "3m")]
    lease_wait: Duration,
    /// Also print every intermediate count, not only a line per step.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum OnInterrupt {
    Rollback,
    Leave,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Output {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.is_none() {
        use clap::CommandFactory;
        let d = &cli.deploy;
        for (value, flag) in [
            (&d.cluster, "--cluster <CLUSTER>"),
            (&d.service, "--service <SERVICE>"),
            (&d.task_definition, "--task-definition <TASK_DEFINITION>"),
        ] {
            if value.is_none() {
                Cli::command()
                    .error(
                        clap::error::ErrorKind::MissingRequiredArgument,
                        format!("the following required argument was not provided: {flag}"),
                    )
                    .exit();
            }
        }
    }
    let verbose = cli.command.is_none() && cli.deploy.verbose;
    let filter = if verbose { "ecs_deploy=debug" } else { "off" };
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
    runtime.block_on(async move {
        match cli.command {
            None => deploy(cli.deploy, cli.connection).await,
            Some(Command::Status {
                target,
                connection,
                output,
            }) => status(target, connection, output).await,
            Some(Command::Abort {
                target,
                connection,
                by,
                timeout,
                poll_interval,
            }) => abort(target, connection, by, timeout, poll_interval).await,
        }
    })
}

async fn client(connection: &Connection) -> Result<EcsClient, ExitCode> {
    let mut config = Config::builder().allow_plain_http(connection.allow_plain_http);
    if let Some(endpoint) = &connection.endpoint {
        config = config.endpoint(endpoint);
    }
    if let Some(region) = &connection.region {
        config = config.region(region);
    }
    if let Some(profile) = &connection.profile {
        config = config.profile(profile);
    }
    if let Some(host) = connection
        .endpoint
        .as_deref()
        .and_then(ecs_client::config::plain_http_elsewhere)
    {
        eprintln!("ecs-deploy: warning: requests signed with your credentials go to {host} over plain http");
    }
    let config = config.build_with_aws_chain().await;
    config.and_then(EcsClient::new).map_err(|e| {
        eprintln!("ecs-deploy: {e}");
        ExitCode::from(2)
    })
}

async fn deploy(args: DeployArgs, connection: Connection) -> ExitCode {
    let client = match client(&connection).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut deployment = Deployment::new(
        args.cluster.clone().unwrap_or_default(),
        args.service.clone().unwrap_or_default(),
        args.task_definition.clone().unwrap_or_default(),
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
    if let Some(listener) = &args.listener {
        deployment = deployment.with_traffic(Traffic {
            listener: listener.clone(),
            test_listener: args.test_listener.clone(),
            target_group: args.target_group.clone(),
            old_target_group: args.old_target_group.clone(),
        });
    }
    let timeouts = Timeouts {
        poll_interval: args.poll_interval,
        room: args.room_timeout,
        step: args.step_timeout,
        gate: args.health_check_timeout,
        switch: args.switch_timeout,
        retire: args.retire_timeout,
        rollback: args.rollback_timeout,
        read_lag: args.read_lag,
        lease_ttl: args.lease_ttl,
        lease_wait: args.lease_wait,
    };
    if let Err(e) = timeouts.validate() {
        eprintln!("ecs-deploy: {e}");
        return ExitCode::from(2);
    }
    let (verbose, output) = (args.verbose, args.output);
    // Whether the deployment has changed the service (a set created, or found from an
    // earlier run): an interrupt before that leaves nothing to roll back.
    let touched = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = touched.clone();
    let mut deployer = Deployer::new(client).timeouts(timeouts).on_event(move |e| {
        if matches!(
            e,
            Event::Created { .. }
                | Event::Started {
                    resumed: Some(_),
                    ..
                }
        ) {
            seen.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        match output {
            Output::Json => println!("{}", json_line(e.to_json())),
            Output::Text => {
                if verbose || !matches!(e, Event::Waiting { .. }) {
                    eprintln!("{e}");
                }
            }
        }
    });
    if let Some(command) = args.health_check.clone() {
        deployer = deployer.health_gate(move |cx| shell_gate(command.clone(), cx));
    }
    // Resolved once: an interrupt's rollback names the same deployment even if a newer
    // revision of the family is registered meanwhile.
    let deployment = match deployer.resolve(&deployment).await {
        Ok(d) => d,
        Err(e) => return finish(&Report::failed_before_start(&deployment, e), output),
    };
    if output == Output::Text {
        eprintln!(
            "deploying {} to {}/{} with {} (deployment {})",
            deployment.task_definition,
            deployment.cluster,
            deployment.service,
            deployment.strategy,
            deployment.id
        );
    }
    let mut run = Box::pin(deployer.run(&deployment));
    let signal = tokio::select! {
        report = &mut run => return finish(&report, output),
        signal = interrupted() => signal,
    };
    drop(run);
    // The run's future is dropped: nothing more is sent on its behalf.
    let by = format!("{signal} to ecs-deploy");
    let on_interrupt = if touched.load(std::sync::atomic::Ordering::SeqCst) {
        args.on_interrupt
    } else {
        // Nothing changed yet: nothing to roll back, only the lease to give back.
        OnInterrupt::Leave
    };
    match on_interrupt {
        OnInterrupt::Rollback => {
            if output == Output::Text {
                eprintln!("interrupted ({signal}): rolling back");
            }
            let rollback = deployer.roll_back(&deployment, &by);
            tokio::pin!(rollback);
            tokio::select! {
                report = &mut rollback => finish(&report, output),
                again = interrupted() => {
                    eprintln!("interrupted again ({again}): the rollback is left as it stands; `ecs-deploy abort` or the same command finishes it");
                    ExitCode::from(130)
                }
            }
        }
        OnInterrupt::Leave => {
            let released = deployer
                .release_lease(&deployment.cluster, &deployment.service)
                .await;
            let note = match released {
                Ok(true) => "lease released",
                Ok(false) => "no lease of this run to release",
                Err(_) => "the lease could not be released and lapses on its own",
            };
            let changed = touched.load(std::sync::atomic::Ordering::SeqCst);
            match output {
                Output::Json => println!(
                    "{}",
                    json_line(serde_json::json!({
                        "event": "interrupted",
                        "signal": signal,
                        "left": if changed { "resumable" } else { "unchanged" },
                        "lease": note,
                    }))
                ),
                Output::Text if changed => eprintln!(
                    "interrupted ({signal}): left as it stands ({note}); run the same command again to resume, or `ecs-deploy abort` to roll back"
                ),
                Output::Text => eprintln!(
                    "interrupted ({signal}) before any change to the service ({note})"
                ),
            }
            ExitCode::from(130)
        }
    }
}

/// The name of the first SIGINT (Ctrl-C) or SIGTERM received.
async fn interrupted() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

fn json_line(mut value: serde_json::Value) -> String {
    if let Some(object) = value.as_object_mut() {
        let now = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
        object.insert("time".into(), serde_json::Value::String(now));
    }
    value.to_string()
}

fn finish(report: &Report, output: Output) -> ExitCode {
    let calls = report.api_calls;
    let took = humantime::format_duration(Duration::from_secs(report.elapsed.as_secs()));
    let (outcome, reason) = match &report.outcome {
        Outcome::Succeeded => ("succeeded", None),
        Outcome::RolledBack(why) => ("rolled_back", Some(why.to_string())),
        Outcome::Failed(why) => ("failed", Some(why.to_string())),
    };
    match output {
        Output::Json => println!(
            "{}",
            json_line(serde_json::json!({
                "event": "finished",
                "outcome": outcome,
                "reason": reason,
                "deployment": report.deployment.as_str(),
                "new_task_set": report.new_task_set,
                "old_task_set": report.old_task_set,
                "api_calls": calls,
                "elapsed_seconds": report.elapsed.as_secs_f64(),
                "exit_code": report.exit_code(),
            }))
        ),
        Output::Text => match &report.outcome {
            Outcome::Succeeded => eprintln!(
                "deployed: {} is the primary task set (deployment {}, {calls} calls, {took})",
                report.new_task_set.as_deref().unwrap_or("-"),
                report.deployment
            ),
            Outcome::RolledBack(why) => {
                eprintln!("rolled back ({calls} calls, {took}): {why}")
            }
            Outcome::Failed(why) => eprintln!("failed ({calls} calls, {took}): {why}"),
        },
    }
    ExitCode::from(u8::try_from(report.exit_code()).unwrap_or(1))
}

async fn status(target: Target, connection: Connection, output: Output) -> ExitCode {
    let client = match client(&connection).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    match Deployer::new(client)
        .status(&target.cluster, &target.service)
        .await
    {
        Ok(status) => {
            match output {
                Output::Json => println!("{}", status.to_json()),
                Output::Text => print!("{status}"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ecs-deploy status: {e}");
            ExitCode::from(1)
        }
    }
}

async fn abort(
    target: Target,
    connection: Connection,
    by: Option<String>,
    timeout: Duration,
    poll_interval: Duration,
) -> ExitCode {
    let client = match client(&connection).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let by = by.unwrap_or_else(|| {
        let user = std::env::var("USER").unwrap_or_else(|_| "someone".into());
        format!("{user}@{}", ecs_deploy::lease::host_name())
    });
    let timeouts = Timeouts {
        poll_interval,
        rollback: timeout,
        ..Timeouts::default()
    };
    if let Err(e) = timeouts.validate() {
        eprintln!("ecs-deploy abort: {e}");
        return ExitCode::from(2);
    }
    let deployer = Deployer::new(client)
        .timeouts(timeouts)
        .on_event(|e| eprintln!("{e}"));
    let (cluster, service) = (target.cluster.as_str(), target.service.as_str());
    match deployer.request_abort(cluster, service, &by).await {
        Err(e) => {
            eprintln!("ecs-deploy abort: {e}");
            return ExitCode::from(1);
        }
        Ok(Some(deployment)) => {
            eprintln!("asked the run of deployment {deployment} to roll back; watching it");
            let deadline = tokio::time::Instant::now() + timeout.min(ecs_deploy::MAX_DEADLINE);
            loop {
                tokio::time::sleep(poll_interval).await;
                match deployer.status(cluster, service).await {
                    Ok(status) if !status.lease_live => {
                        let rolled_back = status
                            .rolled_back
                            .as_ref()
                            .is_some_and(|r| r.deployment == deployment)
                            && !status
                                .task_sets
                                .iter()
                                .any(|s| s.deployment.as_deref() == Some(deployment.as_str()));
                        if rolled_back {
                            print!("{status}");
                            eprintln!("deployment {deployment} is rolled back");
                            return ExitCode::SUCCESS;
                        }
                        if status.abort.is_none() {
                            print!("{status}");
                            eprintln!("the run ended without rolling back (past the point of no return, or it failed): see above");
                            return ExitCode::from(1);
                        }
                        // The lease lapsed with the request unread: the run is gone.
                        eprintln!("the run holding the service is gone; rolling back here");
                        break;
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("ecs-deploy abort: {e}"),
                }
                if tokio::time::Instant::now() >= deadline {
                    eprintln!(
                        "the run still holds the service after {}",
                        humantime::format_duration(timeout)
                    );
                    return ExitCode::from(1);
                }
            }
        }
        Ok(None) => {}
    }
    // No run holds the service: the deployment in progress, if any, is rolled back here.
    let status = match deployer.status(cluster, service).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ecs-deploy abort: {e}");
            return ExitCode::from(1);
        }
    };
    // The deployment in progress: a set of ecs-deploy's that is ACTIVE, or PRIMARY beside
    // another live set (switched, the old set not yet retired). The one the abort request or
    // the lapsed lease names comes first; then an ACTIVE one; then a PRIMARY one.
    let live: Vec<&ecs_deploy::SetStatus> = status
        .task_sets
        .iter()
        .filter(|s| s.status != "DRAINING")
        .collect();
    let in_flight = |s: &ecs_deploy::SetStatus| {
        s.deployment.is_some() && (s.status != "PRIMARY" || live.len() > 1)
    };
    let named = status
        .abort
        .as_ref()
        .map(|a| a.deployment.clone())
        .or_else(|| status.lease.as_ref().map(|l| l.deployment.clone()));
    let newest = named
        .and_then(|d| {
            live.iter()
                .copied()
                .find(|s| in_flight(s) && s.deployment.as_deref() == Some(d.as_str()))
        })
        .or_else(|| {
            live.iter()
                .copied()
                .find(|s| in_flight(s) && s.status != "PRIMARY")
        })
        .or_else(|| live.iter().copied().find(|s| in_flight(s)));
    let Some(set) = newest else {
        eprintln!("no deployment in progress on {service}: nothing to abort");
        return ExitCode::from(1);
    };
    let Some(id) = set
        .deployment
        .as_deref()
        .and_then(|d| DeploymentId::new(d).ok())
    else {
        eprintln!("no deployment in progress on {service}: nothing to abort");
        return ExitCode::from(1);
    };
    eprintln!("no run holds the service: rolling back deployment {id} here");
    let d = Deployment::new(
        cluster,
        service,
        &set.task_definition,
        Strategy::BlueGreen {
            bake: Duration::ZERO,
        },
    )
    .with_id(id);
    let report = deployer.roll_back(&d, &by).await;
    match &report.outcome {
        Outcome::RolledBack(_) => {
            eprintln!("deployment {} is rolled back", report.deployment);
            ExitCode::SUCCESS
        }
        _ => finish(&report, Output::Text),
    }
}

/// Kills the health check's process group when dropped before the check ended.
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.0 {
            // The group id is the shell's pid (`process_group(0)`); `kill` ships with every Unix.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// The health check as a shell command: exit 0 is yes; otherwise the last line it wrote is
/// the reason.
async fn shell_gate(command: String, cx: GateContext) -> Result<(), String> {
    let mut gate = tokio::process::Command::new("sh");
    gate.arg("-c")
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
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so that a gate given up on (its deadline passed, the deployment
    // interrupted) takes what it started with it, not only the shell.
    #[cfg(unix)]
    gate.process_group(0);
    let child = gate
        .spawn()
        .map_err(|e| format!("cannot run the health check {command:?}: {e}"))?;
    let group = GroupGuard(child.id());
    let output = child
        .wait_with_output()
        .await
        .map_err(|e| format!("the health check {command:?} failed to run: {e}"))?;
    std::mem::forget(group);
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
