//! `cargo xtask conformance`: the main job. Loads the rule catalog and the fixtures, starts or
//! reaches the target, runs the suite and reports.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use ecs_client::{Config, EcsClient, RetryConfig, Timeouts};
use ecs_emulator::{Emulator, TimingProfile};
use ecs_harness::report::Baseline;
use ecs_harness::{Catalog, Profile, Report, RunOptions, TargetInfo};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Junit,
    Markdown,
    /// One self-contained page: rules matrix, root causes, per-case differences.
    Html,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// `reference` (the in-process reference emulator, the default), `moto`, `moto-ext`,
    /// `ministack`, `fakecloud` (each installed once and started on a free loopback port), or
    /// `endpoint` (see --endpoint).
    #[arg(long, default_value = "reference")]
    target: String,
    /// The name reports and baselines give the target (default: --target, or `endpoint`).
    #[arg(long)]
    target_name: Option<String>,
    /// The target's version for reports and baselines (default: the pinned version, or what
    /// the endpoint says of itself).
    #[arg(long)]
    target_version: Option<String>,
    /// Any ECS endpoint (implies --target endpoint). Region and credentials come from the
    /// environment and the shared AWS files, as for any SDK.
    #[arg(long)]
    endpoint: Option<String>,
    /// Cases run at once.
    #[arg(long, default_value_t = 16)]
    jobs: usize,
    /// Keep cases by id text, `rule:<id>` or `tag:<tag>` (repeatable; any match keeps a case).
    #[arg(long)]
    filter: Vec<String>,
    /// Longest wait for one answer, in seconds.
    #[arg(long, default_value_t = 30)]
    step_timeout_secs: u64,
    /// Report format for --out.
    #[arg(long, value_enum, requires = "out")]
    format: Option<Format>,
    /// Where to write the report (JSON when --format is not given).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Compare with this baseline: exit non-zero only when a case's status changed.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Write this run's statuses as a baseline file.
    #[arg(long)]
    write_baseline: Option<PathBuf>,
    /// Also list passing rules and blocked cases.
    #[arg(long)]
    verbose: bool,
    /// Fixture directory (default: the repository's `fixtures/`).
    #[arg(long)]
    fixtures: Option<PathBuf>,
    /// Run against every published target in turn: the reference emulator, moto, moto-ext,
    /// ministack, and fakecloud when its binary is cached.
    #[arg(long)]
    all_targets: bool,
    /// With --all-targets: write conformance/results/ and the matrices in conformance/README.md
    /// and README.md.
    #[arg(long, requires = "all_targets")]
    pub write_matrix: bool,
    /// The reference emulator's timing shape: instant, fast (the default) or aws.
    #[arg(long, default_value = "fast")]
    timing: TimingProfile,
    /// Multiplies every delay of --timing (0.1 runs AWS's shape ten times faster).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// A target profile (TOML: name, region, capabilities, [placement]); the default is the
    /// built-in one of --target (conformance/targets/), or none for --endpoint.
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Print what the run would create on the target, then exit without sending a request.
    #[arg(long)]
    plan: bool,
}

impl Args {
    /// The reference run `cargo xtask test` makes, writing a JSON report to `out`.
    pub fn for_ci(out: &std::path::Path) -> Args {
        Args {
            target: "reference".into(),
            target_name: None,
            target_version: None,
            endpoint: None,
            jobs: 16,
            filter: vec![],
            step_timeout_secs: 30,
            format: Some(Format::Json),
            out: Some(out.to_path_buf()),
            baseline: None,
            write_baseline: None,
            verbose: false,
            fixtures: None,
            all_targets: false,
            write_matrix: false,
            timing: TimingProfile::Fast,
            time_scale: 1.0,
            profile: None,
            plan: false,
        }
    }

    /// The reference run in another timing shape.
    pub fn with_timing(mut self, timing: TimingProfile, time_scale: f64) -> Args {
        self.timing = timing;
        self.time_scale = time_scale;
        self
    }

    /// The same run with a target profile.
    pub fn with_profile(mut self, profile: PathBuf) -> Args {
        self.profile = Some(profile);
        self
    }
}

/// Exit codes of `cargo xtask conformance` (and the installable tool).
pub mod exit {
    /// Every case passed (or was skipped), or no change against the baseline.
    pub const PASSED: i32 = 0;
    /// The target departs from the suite (or from its baseline).
    pub const DEPARTURES: i32 = 1;
    /// Invalid fixtures or usage (an empty or unknown filter included).
    pub const USAGE: i32 = 2;
    /// The target is unreachable, or is not an ECS endpoint.
    pub const UNREACHABLE: i32 = 3;
    /// The harness failed: a case ended in a harness error, or the run could not be made.
    pub const HARNESS: i32 = 4;
}

pub fn run(args: &Args) -> Result<i32> {
    let result = if args.plan {
        plan_only(args)
    } else if args.all_targets {
        crate::matrix::run_all(args)
    } else {
        run_one(args).map(|(code, _)| code)
    };
    Ok(match result {
        Ok(code) => code,
        Err(e) => exit_code_of(&e),
    })
}

/// Prints `e` and says which exit code it stands for.
pub fn exit_code_of(e: &anyhow::Error) -> i32 {
    if e.is::<InvalidFixtures>() {
        return exit::USAGE;
    }
    eprintln!("error: {e:#}");
    if e.is::<Usage>() {
        exit::USAGE
    } else if e.is::<Unreachable>() {
        exit::UNREACHABLE
    } else {
        exit::HARNESS
    }
}

/// A usage error (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The target cannot be reached, or is not ECS (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub String);

/// The fixture directory did not load; its problems were printed.
#[derive(Debug)]
pub struct InvalidFixtures;

impl std::fmt::Display for InvalidFixtures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the fixtures are invalid (see above)")
    }
}

impl std::error::Error for InvalidFixtures {}

/// The published targets, in matrix order.
pub const ALL_TARGETS: &[&str] = &["reference", "moto", "moto-ext", "ministack", "fakecloud"];

impl Args {
    /// The same options against another named target, without reports or baselines.
    pub fn for_target(&self, target: &str) -> Args {
        Args {
            target: target.to_owned(),
            target_name: None,
            target_version: None,
            endpoint: None,
            jobs: self.jobs,
            filter: self.filter.clone(),
            step_timeout_secs: self.step_timeout_secs,
            format: None,
            out: None,
            baseline: None,
            write_baseline: None,
            verbose: self.verbose,
            fixtures: self.fixtures.clone(),
            all_targets: false,
            write_matrix: false,
            timing: self.timing,
            time_scale: self.time_scale,
            profile: None,
            plan: false,
        }
    }

    /// A run of `target` against its committed baseline, as `cargo xtask test` makes it.
    pub fn against_baseline(target: &str, baseline: PathBuf) -> Args {
        let mut args = Args::for_ci(&PathBuf::new()).for_target(target);
        args.baseline = Some(baseline);
        args
    }
}

/// `--plan`: what the run would create on the target; no request is sent.
fn plan_only(args: &Args) -> Result<i32> {
    let Some((_, _, cases)) = load_cases(args.fixtures.as_deref(), &args.filter)? else {
        return Err(InvalidFixtures.into());
    };
    let profile = resolve_profile(args)?;
    print!("{}", plan(&cases, &profile, args.endpoint.as_deref()));
    Ok(0)
}

/// Runs one target; the exit code and the report.
pub fn run_one(args: &Args) -> Result<(i32, Report)> {
    let Some((catalog, _, cases)) = load_cases(args.fixtures.as_deref(), &args.filter)? else {
        return Err(InvalidFixtures.into());
    };
    let profile = resolve_profile(args)?;
    // Before touching a host that is not this machine, say what the run will create there.
    if args.endpoint.as_deref().is_some_and(|e| !is_loopback(e)) {
        print!("{}", plan(&cases, &profile, args.endpoint.as_deref()));
    }
    let mut prepared = prepare(
        &args.target,
        args.endpoint.as_deref(),
        args.step_timeout_secs,
        TimingChoice {
            profile: args.timing,
            time_scale: args.time_scale,
        },
        profile.region.as_deref(),
    )?;
    prepared.preflight()?;
    if let Some(name) = &args.target_name {
        prepared.target.name = name.clone();
    }
    if let Some(version) = &args.target_version {
        prepared.target.version = version.clone();
    }
    eprintln!("{}", profile.describe());
    let started_at = humantime(SystemTime::now());
    let clock = Instant::now();
    eprintln!(
        "running {} cases against {} {} ({})",
        cases.len(),
        prepared.target.name,
        prepared.target.version,
        prepared.target.endpoint
    );
    let target = prepared.target.clone();
    let server_log = prepared._server.as_ref().map(|s| s.log().clone());
    let results = prepared.run_cases(cases, args.jobs, args.step_timeout_secs, &profile)?;
    let mut report = Report::new(
        target,
        started_at,
        clock.elapsed().as_millis() as u64,
        results,
        &catalog,
    );
    // The server has stopped (run_cases dropped it): its log is complete.
    if let Some(log) = server_log.and_then(|p| std::fs::read_to_string(p).ok()) {
        report.annotate_server_log(&log);
    }
    print!("{}", report.terminal(args.verbose));
    if let Some(out) = &args.out {
        let text = match args.format.unwrap_or(Format::Json) {
            Format::Json => report.to_json(),
            Format::Junit => report.junit(),
            Format::Markdown => report.markdown(),
            Format::Html => ecs_harness::html::html(std::slice::from_ref(&report)),
        };
        std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
        eprintln!("report written to {}", out.display());
    }
    if let Some(path) = &args.write_baseline {
        let mut baseline = report.baseline();
        if is_loopback(&baseline.target.endpoint) {
            // A local target's port changes every run.
            baseline.target.endpoint = "127.0.0.1 (started by cargo xtask)".into();
        }
        let text = serde_json::to_string_pretty(&baseline)? + "\n";
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("baseline written to {}", path.display());
    }
    if report.has_errors() {
        eprintln!(
            "error: {} case(s) ended in a harness error; this run proves nothing either way",
            report.count(ecs_harness::Status::Error)
        );
        return Ok((exit::HARNESS, report));
    }
    if let Some(path) = &args.baseline {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let baseline: Baseline =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let diff = baseline.diff(&report);
        if diff.is_empty() {
            println!("no change from the baseline {}", path.display());
            return Ok((exit::PASSED, report));
        }
        print!("{}", diff.describe());
        return Ok((exit::DEPARTURES, report));
    }
    let code = if report.all_passed() {
        exit::PASSED
    } else {
        exit::DEPARTURES
    };
    Ok((code, report))
}

/// The catalog, the fixture directory and the selected cases; `None` after printing the
/// problems of an invalid fixture directory. A filter that selects nothing is a usage error.
pub fn load_cases(
    fixtures: Option<&std::path::Path>,
    filter: &[String],
) -> Result<Option<(Catalog, PathBuf, Vec<ecs_harness::Case>)>> {
    let root = crate::project_root();
    let catalog = Catalog::load(&root.join("conformance/rules.json"))?;
    let dir = fixtures.map_or_else(|| root.join("fixtures"), PathBuf::from);
    let cases = match ecs_harness::load_dir(&dir, &catalog) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return Ok(None);
        }
    };
    let cases =
        ecs_harness::select_cases(cases, filter, &catalog).map_err(|e| Usage(e.to_string()))?;
    Ok(Some((catalog, dir, cases)))
}

/// A target ready to run against.
pub struct Prepared {
    pub runtime: tokio::runtime::Runtime,
    pub emulator: Option<Emulator>,
    pub target: TargetInfo,
    pub client: EcsClient,
    /// A third-party server this run started; dropping it stops it.
    pub _server: Option<crate::targets::Server>,
}

impl Prepared {
    /// One ListClusters within 10 s: a target that is not there, or is not ECS, stops the run
    /// here (exit 3). What the answer says of the server names an endpoint's version.
    pub fn preflight(&mut self) -> Result<()> {
        let identity = self
            .runtime
            .block_on(ecs_harness::preflight::preflight(
                &self.client,
                &self.target.endpoint,
                Duration::from_secs(10),
            ))
            .map_err(|e| Unreachable(e.to_string()))?;
        if self.target.version == "unknown" {
            let said = self
                .runtime
                .block_on(ecs_harness::preflight::version_endpoint(
                    &self.target.endpoint,
                    Duration::from_secs(2),
                ));
            if let Some(version) = said.or(identity.server) {
                self.target.version = version;
            }
        }
        Ok(())
    }

    /// Runs `cases` against the target, then stops the embedded emulator; a third-party server
    /// stops when `self` is dropped at the end.
    pub fn run_cases(
        self,
        cases: Vec<ecs_harness::Case>,
        jobs: usize,
        step_timeout_secs: u64,
        profile: &Profile,
    ) -> Result<Vec<ecs_harness::runner::CaseResult>> {
        let options = RunOptions {
            jobs,
            step_timeout: Duration::from_secs(step_timeout_secs),
            progress: std::io::stderr().is_terminal(),
            // Third-party emulators settle at once or never: a long poll only delays a failure.
            poll_cap: (self.emulator.is_none() && self._server.is_some())
                .then(|| Duration::from_secs(5)),
            capabilities: profile.capabilities.clone(),
            placement: profile.placement.clone(),
        };
        let run_id = format!("{:05x}", fastrand::u32(..0x10_0000));
        let results =
            self.runtime
                .block_on(ecs_harness::run(&self.client, cases, &options, &run_id));
        if let Some(emulator) = self.emulator {
            self.runtime.block_on(emulator.shutdown());
        }
        Ok(results?)
    }
}

/// The reference emulator's timing.
#[derive(Clone, Copy, Debug)]
pub struct TimingChoice {
    pub profile: TimingProfile,
    pub time_scale: f64,
}

impl Default for TimingChoice {
    fn default() -> Self {
        TimingChoice {
            profile: TimingProfile::Fast,
            time_scale: 1.0,
        }
    }
}

/// Whether an endpoint is on this machine.
pub fn is_loopback(endpoint: &str) -> bool {
    [
        "http://127.",
        "http://localhost",
        "http://[::1]",
        "https://127.",
        "https://localhost",
    ]
    .iter()
    .any(|p| endpoint.starts_with(p))
}

/// The profile of a run: `--profile`, else the target's built-in one, else (an endpoint) none.
pub fn resolve_profile(args: &Args) -> Result<Profile> {
    if let Some(path) = &args.profile {
        return Ok(Profile::load(path)?);
    }
    if args.endpoint.is_some() {
        return Ok(Profile {
            name: "endpoint".into(),
            ..Profile::default()
        });
    }
    builtin_profile(&args.target)
}

/// `conformance/targets/<target>.toml`.
pub fn builtin_profile(target: &str) -> Result<Profile> {
    let path = crate::project_root()
        .join("conformance/targets")
        .join(format!("{target}.toml"));
    if !path.exists() {
        bail!(
            "no built-in profile for target {target:?} ({} does not exist)",
            path.display()
        );
    }
    Ok(Profile::load(&path)?)
}

/// What a run will create on the target, counted from the cases' steps.
pub fn plan(cases: &[ecs_harness::Case], profile: &Profile, endpoint: Option<&str>) -> String {
    use std::fmt::Write as _;
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    let options = RunOptions {
        capabilities: profile.capabilities.clone(),
        ..RunOptions::default()
    };
    let mut skipped = 0;
    for case in cases {
        if !options.missing(case).is_empty() {
            skipped += 1;
            continue;
        }
        for step in &case.steps {
            *counts.entry(step.op.as_str()).or_insert(0) += 1;
        }
    }
    let n = |op: &str| counts.get(op).copied().unwrap_or(0);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "plan: {} case(s) against {} ({}); {skipped} skipped for capabilities the profile lacks",
        cases.len() - skipped,
        endpoint.unwrap_or("the local target"),
        profile.describe()
    );
    let _ = writeln!(
        o,
        "  creates up to {} cluster(s), {} task definition revision(s), {} service(s) and {} task set(s), each named cf-<run>-<case>, and deletes them afterwards (DeleteService, DeleteCluster)",
        n("CreateCluster"),
        n("RegisterTaskDefinition"),
        n("CreateService"),
        n("CreateTaskSet")
    );
    if profile.capabilities.iter().any(|c| c == "tasks-run") {
        let _ = writeln!(
            o,
            "  task sets above scale 0 start tasks with the profile's placement: they run, and cost, until the run deletes them"
        );
    } else {
        let _ = writeln!(
            o,
            "  no case that needs running tasks runs; tasks the target places anyway stop when the run deletes the services"
        );
    }
    o
}

/// Starts the reference emulator or reaches the endpoint.
pub fn prepare(
    target: &str,
    endpoint: Option<&str>,
    step_timeout_secs: u64,
    timing: TimingChoice,
    region: Option<&str>,
) -> Result<Prepared> {
    let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    let target_name = if endpoint.is_some() {
        "endpoint"
    } else {
        target
    };
    let mut server = None;
    let (emulator, target) = match (target_name, endpoint) {
        ("reference", _) => {
            let emulator = runtime.block_on(
                Emulator::builder()
                    .profile(timing.profile, timing.time_scale)
                    .start(),
            )?;
            eprintln!(
                "reference emulator timing: {} at time scale {}",
                timing.profile, timing.time_scale
            );
            let target = TargetInfo {
                name: "reference".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                endpoint: emulator.url(),
            };
            (Some(emulator), target)
        }
        ("moto" | "moto-ext" | "ministack" | "fakecloud", _) => {
            let started = match target_name {
                "moto" => crate::targets::start_moto(),
                "moto-ext" => crate::targets::start_moto_ext(),
                "ministack" => crate::targets::start_ministack(),
                _ => crate::targets::start_fakecloud(),
            }
            .map_err(|e| Unreachable(format!("{e:#}")))?;
            eprintln!(
                "{} {} at {} (log: {})",
                started.name,
                started.version,
                started.url,
                started.log().display()
            );
            let target = TargetInfo {
                name: started.name.into(),
                version: started.version.into(),
                endpoint: started.url.clone(),
            };
            server = Some(started);
            (None, target)
        }
        ("endpoint", Some(url)) => (
            None,
            TargetInfo {
                name: "endpoint".into(),
                version: "unknown".into(),
                endpoint: url.to_owned(),
            },
        ),
        ("endpoint", None) => {
            return Err(Usage("--target endpoint needs --endpoint URL".into()).into())
        }
        (other, _) => {
            return Err(Usage(format!(
                "unknown target {other:?}: use {}, or --endpoint URL",
                ALL_TARGETS.join(", ")
            ))
            .into())
        }
    };
    let local = emulator.is_some() || server.is_some();
    let client = client_for(&target, local, step_timeout_secs, region)?;
    Ok(Prepared {
        runtime,
        emulator,
        target,
        client,
        _server: server,
    })
}

#[derive(clap::Args, Debug)]
pub struct RecordArgs {
    /// `reference`, or any endpoint with --endpoint.
    #[arg(long, default_value = "reference")]
    target: String,
    #[arg(long)]
    endpoint: Option<String>,
    /// Cases to record: id text, `rule:<id>` or `tag:<tag>` (repeatable).
    #[arg(long)]
    filter: Vec<String>,
    /// Only show which fixture files would change; exit non-zero if any would.
    #[arg(long)]
    check: bool,
    #[arg(long, default_value_t = 30)]
    step_timeout_secs: u64,
    /// Fixture directory (default: the repository's `fixtures/`).
    #[arg(long)]
    fixtures: Option<PathBuf>,
}

/// `cargo xtask record`: the endpoint's answers become the selected cases' expectations.
pub fn record(args: &RecordArgs) -> Result<i32> {
    let Some((_, dir, cases)) = load_cases(args.fixtures.as_deref(), &args.filter)? else {
        return Ok(2);
    };
    let prepared = prepare(
        &args.target,
        args.endpoint.as_deref(),
        args.step_timeout_secs,
        TimingChoice::default(),
        None,
    )?;
    let target = prepared.target.clone();
    let profile = if args.endpoint.is_some() {
        Profile {
            name: "endpoint".into(),
            ..Profile::default()
        }
    } else {
        builtin_profile(&args.target)?
    };
    let results = prepared.run_cases(cases.clone(), 8, args.step_timeout_secs, &profile)?;
    let kind = if target.endpoint.contains(".amazonaws.com") {
        "aws".to_owned()
    } else {
        target.name.clone()
    };
    let date = humantime(SystemTime::now())
        .chars()
        .take(10)
        .collect::<String>();
    let mut recorded = vec![];
    for (case, result) in cases.iter().zip(&results) {
        match result.status {
            ecs_harness::Status::Passed | ecs_harness::Status::Failed => {
                recorded.push(ecs_harness::record::record_case(
                    case,
                    result,
                    &result.unique,
                    &kind,
                    &date,
                ));
            }
            other => eprintln!("not recorded: {} ({})", case.id, other.label()),
        }
    }
    let written = ecs_harness::record::write_back(&dir, &recorded, args.check)?;
    for line in &written.not_written {
        eprintln!("not written: {line}");
    }
    let changed = written.changed;
    for f in &changed {
        println!(
            "{} {f}",
            if args.check {
                "would change"
            } else {
                "recorded into"
            }
        );
    }
    println!(
        "{} case(s) recorded from {} ({}), {} file(s) {}",
        recorded.len(),
        target.name,
        target.endpoint,
        changed.len(),
        if args.check {
            "would change"
        } else {
            "changed"
        }
    );
    Ok(if args.check && !changed.is_empty() {
        1
    } else {
        0
    })
}

fn client_for(
    target: &TargetInfo,
    local_reference: bool,
    step_timeout_secs: u64,
    region: Option<&str>,
) -> Result<EcsClient> {
    let step = Duration::from_secs(step_timeout_secs);
    let mut builder = Config::builder()
        .endpoint(target.endpoint.clone())
        .timeouts(Timeouts {
            connect: Duration::from_secs(5).min(step),
            attempt: step,
            overall: step,
        })
        .retry(RetryConfig::disabled());
    if local_reference {
        builder = builder
            .env(HashMap::new())
            .region("us-east-1")
            .static_credentials("AKIDEXAMPLE", "reference-emulator", None);
    } else {
        let mut env: HashMap<String, String> = std::env::vars().collect();
        if let Some(region) = region {
            env.insert("AWS_REGION".into(), region.to_owned());
        }
        env.entry("AWS_REGION".into())
            .or_insert_with(|| "us-east-1".into());
        let loopback = is_loopback(&target.endpoint);
        if target.endpoint.starts_with("http://")
            && !loopback
            && env.contains_key("AWS_ACCESS_KEY_ID")
        {
            eprintln!(
                "warning: sending your AWS credentials' signatures to {} over plain http",
                target.endpoint
            );
        }
        if !env.contains_key("AWS_ACCESS_KEY_ID") && !env.contains_key("AWS_PROFILE") && loopback {
            env.insert("AWS_ACCESS_KEY_ID".into(), "AKIDEXAMPLE".into());
            env.insert("AWS_SECRET_ACCESS_KEY".into(), "local-emulator".into());
        }
        builder = builder.env(env);
    }
    Ok(EcsClient::new(builder.build()?)?)
}

/// RFC 3339 UTC, without pulling in a date crate.
fn humantime(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}
