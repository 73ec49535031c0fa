//! `ecs-conformance run` and `record`: load the catalog and the cases, start the reference
//! emulator or reach the endpoint, run the suite, report.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use ecs_client::{Config, EcsClient, RetryConfig, Timeouts};
use ecs_emulator::{Emulator, TimingProfile};
use ecs_harness::report::Baseline;
use ecs_harness::{Catalog, Profile, Report, RunOptions, TargetInfo};

use crate::bundle::{Bundle, InvalidFixtures};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Junit,
    Markdown,
    /// One self-contained page: rules matrix, root causes, per-case differences.
    Html,
}

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// `reference` (the in-process reference emulator, the default) or `endpoint` (see
    /// --endpoint). moto, moto-ext, ministack and fakecloud are installed and started by
    /// `cargo xtask conformance --target NAME` in a checkout; one you started yourself is an
    /// endpoint: `--endpoint http://127.0.0.1:PORT --profile moto`.
    #[arg(long, default_value = "reference")]
    pub target: String,
    /// The name reports and baselines give the target (default: --target, or `endpoint`).
    #[arg(long)]
    pub target_name: Option<String>,
    /// The target's version for reports and baselines (default: this tool's version for the
    /// reference, or what the endpoint says of itself).
    #[arg(long)]
    pub target_version: Option<String>,
    /// How the target was installed, for reports and published results (`pip install
    /// moto[server]==5.2.5`, `cargo install fakecloud --version 0.51.0`); the reference says it
    /// is built in.
    #[arg(long, value_name = "TEXT")]
    pub target_installed: Option<String>,
    /// The digest of the container image the target runs from (`sha256:...`), for reports.
    #[arg(long, value_name = "DIGEST")]
    pub target_image_digest: Option<String>,
    /// Any ECS endpoint (implies --target endpoint). Region and credentials come from the
    /// environment and the shared AWS files, as for any SDK; a loopback endpoint without
    /// credentials gets dummy ones.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Cases run at once.
    #[arg(long, default_value_t = 16)]
    pub jobs: usize,
    /// Keep cases by id text, `rule:<id>` or `tag:<tag>` (repeatable; any match keeps a case).
    #[arg(long)]
    pub filter: Vec<String>,
    /// Longest wait for one answer, in seconds.
    #[arg(long, default_value_t = 30)]
    pub step_timeout_secs: u64,
    /// Longest a polling step waits for the target to settle, in seconds (default: the
    /// case's own timeout). Emulators that settle at once or never fail sooner with 5.
    #[arg(long)]
    pub poll_cap_secs: Option<u64>,
    /// How long a computed value (computedDesiredCount) must stay unchanged before a poll
    /// takes it as settled and fails at once if it is wrong, in seconds. The default is the
    /// longest recompute on record at AWS (8 s), times --time-scale when the embedded
    /// reference runs slower than AWS. Raise it for a target that recomputes more slowly.
    #[arg(long, value_parser = positive_secs)]
    pub settle_after_secs: Option<f64>,
    /// Report format for --out.
    #[arg(long, value_enum, requires = "out")]
    pub format: Option<Format>,
    /// Where to write the report (JSON when --format is not given).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Compare with this baseline: exit non-zero only when a case's status changed.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Write this run's statuses as a baseline file.
    #[arg(long)]
    pub write_baseline: Option<PathBuf>,
    /// What a written baseline says of a loopback endpoint (its port changes every run).
    #[arg(long, default_value = "127.0.0.1 (a local port)")]
    pub endpoint_label: String,
    /// The target server's log: requests it crashed on are named in the report.
    #[arg(long)]
    pub server_log: Option<PathBuf>,
    /// Also list passing rules and blocked cases.
    #[arg(long)]
    pub verbose: bool,
    /// A fixture directory instead of the embedded fixtures.
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// A rule catalog file instead of the embedded one.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// The reference emulator's timing shape: instant, fast (the default) or aws.
    #[arg(long, default_value = "fast")]
    pub timing: TimingProfile,
    /// Multiplies every delay of --timing (0.1 runs AWS's shape ten times faster).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// A built-in profile (reference, api-only, moto, moto-ext, ministack, fakecloud) or a
    /// profile file (TOML: name, region, capabilities, a `[placement]` table); the default is the
    /// target's built-in one, or none for --endpoint.
    #[arg(long)]
    pub profile: Option<String>,
    /// Print what the run would create on the target, then exit without sending a request.
    #[arg(long)]
    pub plan: bool,
    /// Cases skipped for a capability the profile lacks fail the run (exit 1): a run that
    /// checked less than the suite is not a pass. With --baseline, a skip the baseline does
    /// not record is a change anyway.
    #[arg(long)]
    pub strict: bool,
}

/// Exit codes of `ecs-conformance run` (and `cargo xtask conformance`).
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

/// Targets a checkout's `cargo xtask conformance` installs and starts; this tool reaches them
/// as endpoints.
pub const INSTALLED_TARGETS: &[&str] = &["moto", "moto-ext", "ministack", "fakecloud"];

/// `--plan`: what the run would create on the target; no request is sent.
fn plan_only(args: &Args) -> Result<i32> {
    let (_, cases) = load_cases(&bundle_of(args), &args.filter)?;
    let profile = resolve_profile(args)?;
    print!("{}", plan(&cases, &profile, args.endpoint.as_deref()));
    Ok(0)
}

/// Runs one target; the exit code and the report.
pub fn run_one(args: &Args) -> Result<(i32, Report)> {
    let (catalog, cases) = load_cases(&bundle_of(args), &args.filter)?;
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
    if prepared.emulator.is_some() {
        prepared.target.installed = Some(format!(
            "built into ecs-conformance {}",
            env!("CARGO_PKG_VERSION")
        ));
    }
    if let Some(installed) = &args.target_installed {
        prepared.target.installed = Some(installed.clone());
    }
    if let Some(digest) = &args.target_image_digest {
        prepared.target.image_digest = Some(digest.clone());
    }
    eprintln!("{}", profile.describe());
    let skips = skips_by_need(&cases, &profile);
    if let Some(line) = skip_line(&skips, cases.len(), args) {
        eprintln!("{line}");
    }
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
    let poll_cap = args.poll_cap_secs.map(Duration::from_secs);
    let results = prepared.run_cases(
        cases,
        args.jobs,
        args.step_timeout_secs,
        poll_cap,
        settle_window(args),
        &profile,
    )?;
    let mut report = Report::new(
        target,
        started_at,
        clock.elapsed().as_millis() as u64,
        results,
        &catalog,
    );
    report.suite.fixtures = args.fixtures.as_ref().map(|d| d.display().to_string());
    report.suite.rules = args.rules.as_ref().map(|r| r.display().to_string());
    report.suite.filter = args.filter.clone();
    if let Some(path) = &args.server_log {
        let log = std::fs::read_to_string(path)
            .with_context(|| format!("reading the server log {}", path.display()))?;
        report.annotate_server_log(&log);
    }
    print!("{}", report.terminal(args.verbose));
    if let Some(out) = &args.out {
        let text = match args.format.unwrap_or(Format::Json) {
            Format::Json => report.to_json().context("the report as JSON")?,
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
            baseline.target.endpoint = args.endpoint_label.clone();
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
        let diff = baseline.diff(&report, args.filter.is_empty());
        if diff.is_empty() {
            println!("no change from the baseline {}", path.display());
            return Ok((exit::PASSED, report));
        }
        print!("{}", diff.describe());
        return Ok((exit::DEPARTURES, report));
    }
    let skipped = report.count(ecs_harness::Status::Skipped);
    if args.strict && skipped > 0 {
        eprintln!(
            "error: --strict: {skipped} case(s) were skipped for capabilities the profile lacks; this run checked less than the suite"
        );
        return Ok((exit::DEPARTURES, report));
    }
    let code = if report.all_passed() {
        exit::PASSED
    } else {
        exit::DEPARTURES
    };
    Ok((code, report))
}

/// Each case with the capabilities it needs that the profile lacks (none: it runs).
fn gaps<'a>(
    cases: &'a [ecs_harness::Case],
    profile: &Profile,
) -> impl Iterator<Item = (&'a ecs_harness::Case, Vec<String>)> {
    let options = RunOptions {
        capabilities: profile.capabilities.clone(),
        ..RunOptions::default()
    };
    cases.iter().map(move |case| (case, options.missing(case)))
}

/// How many cases each missing capability keeps from running.
fn skips_by_need(
    cases: &[ecs_harness::Case],
    profile: &Profile,
) -> std::collections::BTreeMap<String, usize> {
    let mut skips = std::collections::BTreeMap::new();
    for (_, missing) in gaps(cases, profile) {
        for need in missing {
            *skips.entry(need).or_insert(0) += 1;
        }
    }
    skips
}

/// The line a run prints before its first case when cases will be skipped: how many, for
/// which capabilities, and for an endpoint without a profile how to run them.
fn skip_line(
    skips: &std::collections::BTreeMap<String, usize>,
    total: usize,
    args: &Args,
) -> Option<String> {
    let skipped: usize = skips.values().sum();
    if skipped == 0 {
        return None;
    }
    let needs: Vec<String> = skips.iter().map(|(n, k)| format!("{n} ({k})")).collect();
    let mut line = format!(
        "SKIPPING cases the profile cannot run: {} (of {total} cases, a case may need more than one)",
        needs.join(", ")
    );
    if args.endpoint.is_some() && args.profile.is_none() {
        line.push_str("; --endpoint without --profile assumes the target provides nothing beyond the API: pass --profile (a built-in name or a TOML file, see conformance/targets/) to run them");
    }
    if !args.strict {
        line.push_str("; --strict fails a run that skips");
    }
    Some(line)
}

fn bundle_of(args: &Args) -> Bundle {
    Bundle::new(args.fixtures.as_deref(), args.rules.as_deref())
}

/// The catalog and the selected cases. Invalid fixtures end in [`InvalidFixtures`] after their
/// problems are printed; a filter that selects nothing is a usage error.
pub fn load_cases(bundle: &Bundle, filter: &[String]) -> Result<(Catalog, Vec<ecs_harness::Case>)> {
    let catalog = bundle.catalog()?;
    let cases = bundle.cases(&catalog)?;
    let cases =
        ecs_harness::select_cases(cases, filter, &catalog).map_err(|e| Usage(e.to_string()))?;
    Ok((catalog, cases))
}

/// A target ready to run against.
pub struct Prepared {
    pub runtime: tokio::runtime::Runtime,
    pub emulator: Option<Emulator>,
    pub target: TargetInfo,
    pub client: EcsClient,
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

    /// Runs `cases` against the target, then stops the embedded emulator.
    pub fn run_cases(
        self,
        cases: Vec<ecs_harness::Case>,
        jobs: usize,
        step_timeout_secs: u64,
        poll_cap: Option<Duration>,
        settle_window: Duration,
        profile: &Profile,
    ) -> Result<Vec<ecs_harness::runner::CaseResult>> {
        let options = RunOptions {
            jobs,
            step_timeout: Duration::from_secs(step_timeout_secs),
            progress: std::io::stderr().is_terminal(),
            poll_cap,
            capabilities: profile.capabilities.clone(),
            placement: profile.placement.clone(),
            answer_shapes: Some(crate::bundle::answer_shapes()?),
            settle_window,
        };
        let run_id = format!("{:05x}", fastrand::u32(..0x10_0000));
        let results =
            self.runtime
                .block_on(ecs_harness::run(&self.client, cases, &options, &run_id));
        if let Some(emulator) = self.emulator {
            eprintln!(
                "reference emulator: {} requests answered",
                emulator.shared_engine().requests_handled()
            );
            self.runtime.block_on(emulator.shutdown());
        }
        Ok(results?)
    }
}

/// How long a computed value must stay unchanged to count as settled: `--settle-after-secs`,
/// or AWS's longest recompute, stretched by a --time-scale above 1 of the embedded reference.
fn settle_window(args: &Args) -> Duration {
    let longest = ecs_harness::settle::LONGEST_RECOMPUTE;
    match args.settle_after_secs {
        Some(secs) => Duration::from_secs_f64(secs),
        None if args.endpoint.is_none() && args.time_scale > 1.0 => {
            Duration::try_from_secs_f64(longest.as_secs_f64() * args.time_scale)
                .unwrap_or(Duration::MAX)
        }
        None => longest,
    }
}

fn positive_secs(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 => Ok(secs),
        Ok(_) => Err(format!("{text} is not between 0 and 86400 seconds")),
        Err(e) => Err(format!("{text} is not a number of seconds: {e}")),
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
    ecs_client::config::is_loopback(endpoint)
}

/// The profile of a run: `--profile`, else the target's built-in one, else (an endpoint) none.
pub fn resolve_profile(args: &Args) -> Result<Profile> {
    if let Some(p) = &args.profile {
        return crate::bundle::profile(p);
    }
    if args.endpoint.is_some() {
        return Ok(Profile {
            name: "endpoint".into(),
            ..Profile::default()
        });
    }
    if args.target != "reference" {
        // The error for a target that is not built in comes from `prepare`.
        return Ok(Profile::default());
    }
    crate::bundle::profile(&args.target)
}

/// What a run will create on the target, counted from the cases' steps.
pub fn plan(cases: &[ecs_harness::Case], profile: &Profile, endpoint: Option<&str>) -> String {
    use std::fmt::Write as _;
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut skipped = 0;
    for (case, missing) in gaps(cases, profile) {
        if !missing.is_empty() {
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
    let control: usize = ecs_harness::fixture::CONTROL_OPS
        .iter()
        .map(|op| n(op))
        .sum();
    if control > 0 {
        let _ = writeln!(
            o,
            "  sends {control} unsigned POST(s) to the target's control path (_emulator/hooks, _emulator/alarms): what a hook's Lambda function answers, which alarms are in ALARM"
        );
    }
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

/// The embedded reference emulator, or the endpoint when one is given.
pub fn prepare_reference_or(
    endpoint: Option<&str>,
    step_timeout_secs: u64,
    timing: TimingChoice,
    region: Option<&str>,
) -> Result<Prepared> {
    let target = if endpoint.is_some() {
        "endpoint"
    } else {
        "reference"
    };
    prepare(target, endpoint, step_timeout_secs, timing, region)
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
            let target = TargetInfo::new("reference", env!("CARGO_PKG_VERSION"), emulator.url());
            (Some(emulator), target)
        }
        ("endpoint", Some(url)) => (
            None,
            TargetInfo::new("endpoint", "unknown", url.to_owned()),
        ),
        ("endpoint", None) => {
            return Err(Usage("--target endpoint needs --endpoint URL".into()).into())
        }
        (name, _) if INSTALLED_TARGETS.contains(&name) => {
            return Err(Usage(format!(
                "{name} is not built in: `cargo xtask conformance --target {name}` installs and starts it in a checkout of this repository; against one you started yourself, run `ecs-conformance run --endpoint http://127.0.0.1:PORT --profile {name}`"
            ))
            .into())
        }
        (other, _) => {
            return Err(Usage(format!(
                "unknown target {other:?}: use reference, or --endpoint URL"
            ))
            .into())
        }
    };
    let client = runtime.block_on(client_for(
        &target,
        emulator.is_some(),
        step_timeout_secs,
        region,
    ))?;
    Ok(Prepared {
        runtime,
        emulator,
        target,
        client,
    })
}

#[derive(clap::Args, Debug)]
pub struct RecordArgs {
    /// `reference`, or any endpoint with --endpoint.
    #[arg(long, default_value = "reference")]
    pub target: String,
    /// The endpoint whose answers are recorded.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Cases to record: id text, `rule:<id>` or `tag:<tag>` (repeatable).
    #[arg(long)]
    pub filter: Vec<String>,
    /// Only show which fixture files would change; exit non-zero if any would.
    #[arg(long)]
    pub check: bool,
    /// Longest wait for one answer, in seconds.
    #[arg(long, default_value_t = 30)]
    pub step_timeout_secs: u64,
    /// The fixture directory the answers are written into (the embedded fixtures cannot be).
    #[arg(long)]
    pub fixtures: PathBuf,
    /// A rule catalog file instead of the embedded one.
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

/// `ecs-conformance record`: the endpoint's answers become the selected cases' expectations.
pub fn record(args: &RecordArgs) -> Result<i32> {
    let dir = args.fixtures.clone();
    let bundle = Bundle::new(Some(&dir), args.rules.as_deref());
    let (_, cases) = load_cases(&bundle, &args.filter)?;
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
        crate::bundle::profile(&args.target)?
    };
    let results = prepared.run_cases(
        cases.clone(),
        8,
        args.step_timeout_secs,
        None,
        ecs_harness::settle::LONGEST_RECOMPUTE,
        &profile,
    )?;
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

/// `--allow-plain-http`: set once by `main` before any command runs.
pub static ALLOW_PLAIN_HTTP: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// The client for `target`. The embedded reference, and an emulator on this machine when the
/// environment names no credentials, get fixed dummy keys; anything else resolves region and
/// credentials through the AWS SDKs' chain (SSO, roles, `credential_process`, web identity,
/// container and instance credentials), refreshed during long runs. A plain http:// endpoint
/// on another machine is warned about, and refused with a session's or the chain's
/// credentials unless `--allow-plain-http`.
pub async fn client_for(
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
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let loopback = is_loopback(&target.endpoint);
        let allow = ALLOW_PLAIN_HTTP.load(std::sync::atomic::Ordering::Relaxed);
        if let Some(host) = ecs_client::config::plain_http_elsewhere(&target.endpoint) {
            eprintln!(
                "warning: requests signed with your credentials go to {host} over plain http{}",
                if allow { " (--allow-plain-http)" } else { "" }
            );
        }
        builder = builder.allow_plain_http(allow);
        if let Some(region) = region {
            builder = builder.region(region);
        } else if var("AWS_REGION").is_none() && var("AWS_DEFAULT_REGION").is_none() && loopback {
            builder = builder.region("us-east-1");
        }
        let named = [
            "AWS_ACCESS_KEY_ID",
            "AWS_PROFILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
        ]
        .iter()
        .any(|k| var(k).is_some());
        if loopback && !named {
            builder = builder.static_credentials("AKIDEXAMPLE", "local-emulator", None);
            return Ok(EcsClient::new(builder.build()?)?);
        }
        let config = match builder.clone().build_with_aws_chain().await {
            // The suite's resources live in whatever region the target is told; an emulator
            // rarely cares. As before the chain, a target with no region anywhere gets
            // us-east-1, said out loud.
            Err(ecs_client::ConfigError::NoRegion) if region.is_none() => {
                eprintln!("note: no region in the environment or the profile; using us-east-1");
                builder.region("us-east-1").build_with_aws_chain().await?
            }
            other => other?,
        };
        return Ok(EcsClient::new(config)?);
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
