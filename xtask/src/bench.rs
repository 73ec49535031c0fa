//! `cargo xtask bench`: every performance comparison in one run on this machine, printed with
//! ratios and written to `docs/performance.md` with the machine and the exact commands.
//!
//! The peers (aws-sdk-ecs, criterion) live in `bench/`, a workspace of its own, so the default
//! build never compiles them. The measuring is done by its `ecs-bench` binary (release build);
//! this module orchestrates, starts the third-party servers, and writes the report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use serde_json::Value;

use crate::util;

/// The build-time probes, by the names the report gives them.
const OURS_PROBE: &str = "ecs-client + ecs-model";
const CHAIN_PROBE: &str = "ecs-client + ecs-model, feature aws-config";
const SDK_PROBE: &str = "aws-sdk-ecs";
const ELB_PROBE: &str = "aws-sdk-elasticloadbalancingv2";

/// The ELBv2 scenario's label, as `ecs-bench cost` writes it.
const ELBV2_SCENARIO: &str = "DescribeTargetHealth (10 targets)";
const ONE_SCENARIO: &str = "DescribeTaskSets (1 set)";
const HUNDRED_SCENARIO: &str = "DescribeTaskSets (100 sets)";

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Calls per client and scenario in the cost comparison (a quarter for 100 sets, a fifth
    /// for boto3).
    #[arg(long, default_value_t = 4000)]
    pub calls: u64,
    /// Seconds per throughput measurement.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Skip the clean builds (about three minutes on 2 cores).
    #[arg(long)]
    pub skip_build_times: bool,
    /// Do not write docs/performance.md.
    #[arg(long)]
    pub no_write: bool,
    /// Measure nothing: put the current bench/notes.md in place of the page's notes, keeping
    /// the last run's figures (with --check, only fail when they differ).
    #[arg(long)]
    pub notes_only: bool,
    /// With --notes-only: fail when the page's notes are not bench/notes.md.
    #[arg(long, requires = "notes_only")]
    pub check: bool,
}

/// The heading the page's hand-written notes start at; everything before it is measured.
const NOTES_HEADING: &str = "\n## Notes\n";

/// The page with its notes (from [`NOTES_HEADING`] on) replaced by `notes`, or `None` when
/// the page has no notes section.
fn with_notes(page: &str, notes: &str) -> Option<String> {
    let page = page.replace("\r\n", "\n");
    let at = page.find(NOTES_HEADING)?;
    Some(page_of(&page[..at], notes))
}

/// The page: the measured part (ending in a newline), a blank line, and the notes. Both a run
/// and `--notes-only` put it together here.
fn page_of(measured: &str, notes: &str) -> String {
    format!("{measured}\n{}\n", notes.replace("\r\n", "\n").trim())
}

/// `cargo xtask bench --notes-only [--check]`.
pub fn notes_only(check: bool) -> Result<()> {
    let root = crate::project_root();
    let path = root.join("docs/performance.md");
    let page = util::read_to_string(&path)?;
    let notes = util::read_to_string(&root.join("bench/notes.md"))?;
    anyhow::ensure!(
        notes.trim_start().starts_with(NOTES_HEADING.trim_start()),
        "bench/notes.md must start with \"## Notes\", which the next run finds them by"
    );
    let updated = with_notes(&page, &notes).with_context(|| {
        format!(
            "{}: no \"## Notes\" section to replace; run `cargo xtask bench`",
            path.display()
        )
    })?;
    if updated == page.replace("\r\n", "\n") {
        return Ok(());
    }
    anyhow::ensure!(
        !check,
        "{}: its notes are not bench/notes.md; run `cargo xtask bench --notes-only`",
        path.display()
    );
    std::fs::write(&path, updated).with_context(|| format!("writing {}", path.display()))
}

#[derive(Deserialize, Debug, Clone)]
struct Cost {
    scenario: String,
    client: String,
    cpu_us_per_call: f64,
    wall_us_per_call: f64,
}

#[derive(Deserialize, Debug, Clone)]
struct Throughput {
    scenario: String,
    concurrency: usize,
    ok: u64,
    errors: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    first_error: Option<String>,
}

struct BuildTime {
    name: &'static str,
    total_s: f64,
    units: Vec<(String, f64)>,
}

impl BuildTime {
    fn unit(&self, name: &str) -> f64 {
        self.units
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, d)| d)
            .sum()
    }
}

struct Criterion {
    group: String,
    function: String,
    mean_ns: f64,
}

/// Everything one run measured.
struct Results {
    machine: Vec<(String, String)>,
    costs: Vec<Cost>,
    criterion: Vec<Criterion>,
    builds: Vec<BuildTime>,
    servers: Vec<(String, Result<Vec<Throughput>, String>)>,
    loopback: Vec<Throughput>,
    harness: Harness,
    departing: Vec<Departing>,
    commands: Vec<String>,
}

/// One profile's pair of runs for the fail-fast goal: the suite through the forwarding proxy
/// (passing) and through the flooring one (departing).
struct Departing {
    profile: &'static str,
    passing: SuiteRun,
    floored: SuiteRun,
}

struct SuiteRun {
    wall_s: f64,
    failed: usize,
    /// Failed polling steps by the judgement that ended them (recomputed, steady, unchanged),
    /// and those that waited out their timeout.
    ended_by: BTreeMap<&'static str, usize>,
}

struct Harness {
    cases: usize,
    passed: usize,
    wall_s: f64,
    requests: u64,
}

pub fn run(args: &Args) -> Result<()> {
    if args.notes_only {
        return notes_only(args.check);
    }
    let root = crate::project_root();
    let mut commands = vec![];
    let target_dir = root.join("target/bench");
    let mut build = util::cargo();
    build
        .args(["build", "--release", "--manifest-path", "bench/Cargo.toml"])
        .args(["--target-dir"])
        .arg(&target_dir);
    util::run(&mut build)?;
    commands.push(util::describe(&build));
    let bin = target_dir.join("release/ecs-bench");
    let python = crate::test::boto3_venv()?;

    // 1 and 2: cost per call, pinned to one core so the server and the client do not pay for
    // cross-core wake-ups (which vary from run to run and are not either side's cost).
    let mut cost = pinned(&bin);
    cost.current_dir(&root)
        .args(["cost", "--calls", &args.calls.to_string(), "--python"])
        .arg(&python);
    let costs: Vec<Cost> = json_of(&mut cost)?;
    commands.push(util::describe(&cost));

    // 3: criterion.
    let mut criterion = util::cargo();
    // Criterion writes under the bench crate's directory unless told otherwise.
    criterion.env("CRITERION_HOME", target_dir.join("criterion"));
    criterion
        .args([
            "bench",
            "--manifest-path",
            "bench/Cargo.toml",
            "--target-dir",
        ])
        .arg(&target_dir)
        .args([
            "--bench",
            "model",
            "--",
            "--warm-up-time",
            "1",
            "--measurement-time",
            "3",
        ]);
    util::run(&mut criterion)?;
    commands.push(util::describe(&criterion));
    let criterion = read_criterion(&target_dir.join("criterion"))?;

    // 4: clean builds, each in a target directory of its own.
    let builds = if args.skip_build_times {
        vec![]
    } else {
        let mut out = vec![];
        for (name, probe) in [
            (OURS_PROBE, "bench/probes/ours"),
            (CHAIN_PROBE, "bench/probes/ours-aws-config"),
            (SDK_PROBE, "bench/probes/aws-sdk-ecs"),
            (ELB_PROBE, "bench/probes/aws-sdk-elbv2"),
        ] {
            let (time, command) = clean_build(&root, name, probe)?;
            commands.push(command);
            out.push(time);
        }
        out
    };

    // 5: servers.
    let mut servers = vec![];
    servers.push((
        format!("reference emulator {}", env!("CARGO_PKG_VERSION")),
        measure_server(start_reference(&bin), &bin, args.seconds, &mut commands),
    ));
    servers.push((
        format!("moto {}", crate::targets::MOTO_VERSION),
        measure_server(
            crate::targets::start_moto(),
            &bin,
            args.seconds,
            &mut commands,
        ),
    ));
    let fakecloud_name = format!("fakecloud {}", crate::targets::FAKECLOUD_VERSION);
    if crate::targets::fakecloud_binary()?.exists() {
        let started = crate::targets::start_fakecloud();
        servers.push((
            fakecloud_name,
            measure_server(started, &bin, args.seconds, &mut commands),
        ));
    } else {
        servers.push((
            fakecloud_name,
            Err("not measured: its binary is not cached yet (`cargo xtask conformance --target fakecloud` builds it once, about 40 minutes)".into()),
        ));
    }

    // 6: the harness against the reference emulator, and the loopback limit.
    let mut loopback = Command::new(&bin);
    loopback.args([
        "loopback",
        "--seconds",
        &args.seconds.to_string(),
        "--concurrency",
        "1,16,32",
    ]);
    let loopback_figures: Vec<Throughput> = json_of(&mut loopback)?;
    commands.push(util::describe(&loopback));
    let harness = harness(&mut commands)?;

    // 7: a departing target: the suite through a proxy that floors computedDesiredCount.
    let mut departing = vec![];
    for profile in ["reference", "api-only"] {
        departing.push(Departing {
            profile,
            passing: suite_through_proxy(&bin, profile, false, &mut commands)?,
            floored: suite_through_proxy(&bin, profile, true, &mut commands)?,
        });
    }

    let results = Results {
        machine: machine()?,
        costs,
        criterion,
        builds,
        servers,
        loopback: loopback_figures,
        harness,
        departing,
        commands,
    };
    let notes = util::read_to_string(&root.join("bench/notes.md"))?;
    let report = render(&results, &notes);
    eprintln!("{report}");
    if !args.no_write {
        let path = root.join("docs/performance.md");
        std::fs::write(&path, &report).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// `taskset -c 0 <bin>` when taskset exists, else the binary alone.
fn pinned(bin: &Path) -> Command {
    let has_taskset = Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_taskset {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

fn json_of<T: serde::de::DeserializeOwned>(cmd: &mut Command) -> Result<T> {
    let line = util::describe(cmd);
    eprintln!("$ {line}");
    let output = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{line}`"))?;
    if !output.status.success() {
        bail!("`{line}` failed with {}", output.status);
    }
    serde_json::from_slice(&output.stdout)
        .with_context(|| format!("reading the output of `{line}`"))
}

fn throughput(
    bin: &Path,
    url: &str,
    seconds: f64,
    commands: &mut Vec<String>,
) -> Result<Vec<Throughput>> {
    let mut cmd = Command::new(bin);
    cmd.args([
        "throughput",
        "--endpoint",
        url,
        "--seconds",
        &seconds.to_string(),
    ]);
    let out = json_of(&mut cmd);
    commands.push(util::describe(&cmd));
    out
}

/// The reference emulator as a process of its own (release build), like the other servers.
fn start_reference(bin: &Path) -> Result<crate::targets::Server> {
    let port = crate::targets::free_port()?;
    let mut cmd = Command::new(bin);
    cmd.args(["emulator", "--port", &port.to_string()]);
    crate::targets::spawn("reference", env!("CARGO_PKG_VERSION"), cmd, port)
}

/// Starts a server, measures it, stops it; a failure is kept as text for the report.
fn measure_server(
    started: Result<crate::targets::Server>,
    bin: &Path,
    seconds: f64,
    commands: &mut Vec<String>,
) -> Result<Vec<Throughput>, String> {
    started
        .and_then(|server| throughput(bin, &server.url, seconds, commands))
        .map_err(|e| format!("{e:#}"))
}

/// The whole suite against the reference emulator, as `ecs-conformance run` makes it (a
/// process of its own, so the wall time includes loading the embedded fixtures).
fn harness(commands: &mut Vec<String>) -> Result<Harness> {
    let tool = crate::conformance::tool()?;
    let out = util::scratch_dir("bench")?.join("suite.json");
    let mut cmd = Command::new(&tool);
    cmd.args(["run", "--jobs", "16", "--step-timeout-secs", "10", "--out"])
        .arg(&out);
    commands.push(format!(
        "{} (the whole suite against the embedded reference emulator, as `cargo xtask conformance` runs it)",
        util::describe(&cmd)
    ));
    let started = Instant::now();
    let output = cmd.output().context("running ecs-conformance")?;
    let wall_s = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("`{}` failed: {stderr}", util::describe(&cmd));
    }
    let report: serde_json::Value = serde_json::from_str(&util::read_to_string(&out)?)?;
    let total = |k: &str| report["totals"][k].as_u64().unwrap_or(0) as usize;
    let requests = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("reference emulator: ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .context("ecs-conformance did not say how many requests the emulator answered")?;
    Ok(Harness {
        cases: report["cases"].as_array().map_or(0, Vec::len),
        passed: total("passed"),
        wall_s,
        requests,
    })
}

/// The whole suite, as `ecs-conformance run --endpoint` makes it, against the reference
/// emulator behind `ecs-bench floor-proxy` (flooring every computedDesiredCount with `floor`).
fn suite_through_proxy(
    bin: &Path,
    profile: &'static str,
    floor: bool,
    commands: &mut Vec<String>,
) -> Result<SuiteRun> {
    let port = crate::targets::free_port()?;
    let mut proxy = Command::new(bin);
    proxy.args(["floor-proxy", "--port", &port.to_string()]);
    if floor {
        proxy.arg("--floor");
    }
    let name = if floor {
        "floor-proxy"
    } else {
        "forward-proxy"
    };
    let server = crate::targets::spawn(name, env!("CARGO_PKG_VERSION"), proxy, port)?;
    let tool = crate::conformance::tool()?;
    let out = util::scratch_dir("bench")?.join(format!("{name}-{profile}.json"));
    let mut cmd = Command::new(&tool);
    cmd.args(["run", "--endpoint", &server.url, "--profile", profile])
        .args(["--jobs", "16", "--step-timeout-secs", "10", "--out"])
        .arg(&out)
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_REGION", "us-east-1");
    let started = Instant::now();
    let output = cmd.output().context("running ecs-conformance")?;
    let wall_s = started.elapsed().as_secs_f64();
    commands.push(format!(
        "{} (against `ecs-bench floor-proxy{}`)",
        util::describe(&cmd),
        if floor { " --floor" } else { "" }
    ));
    drop(server);
    // 0 when everything passed, 1 when cases failed (the floored run); anything else is a
    // broken measurement.
    if !matches!(output.status.code(), Some(0 | 1)) || (output.status.code() == Some(0)) == floor {
        bail!(
            "`{}` ended with {} ({} expected): {}",
            util::describe(&cmd),
            output.status,
            if floor { "failures" } else { "a pass" },
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report: Value = serde_json::from_str(&util::read_to_string(&out)?)?;
    let mut ended_by = BTreeMap::new();
    for step in report["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["steps"].as_array().into_iter().flatten())
        .filter(|s| s["status"] == "failed")
    {
        let reason = step["reason"].as_str().unwrap_or_default();
        let by = if !reason.starts_with("settled on") {
            "other (no settle judgement)"
        } else if reason.contains("recomputed since the write") {
            "recomputed"
        } else if reason.contains("STEADY_STATE") {
            "steady"
        } else {
            "unchanged"
        };
        *ended_by.entry(by).or_insert(0) += 1;
    }
    Ok(SuiteRun {
        wall_s,
        failed: report["totals"]["failed"].as_u64().unwrap_or(0) as usize,
        ended_by,
    })
}

/// A clean dev build of a probe program in a fresh target directory, with cargo's timings.
fn clean_build(root: &Path, name: &'static str, probe: &str) -> Result<(BuildTime, String)> {
    let dir = root
        .join("target/bench/build-time")
        .join(probe.rsplit('/').next().unwrap_or(probe));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    // Downloads must not count: fetch first.
    util::run(util::cargo().args([
        "fetch",
        "--locked",
        "--manifest-path",
        &format!("{probe}/Cargo.toml"),
    ]))?;
    let mut cmd = util::cargo();
    cmd.args([
        "build",
        "--locked",
        "--timings",
        "--manifest-path",
        &format!("{probe}/Cargo.toml"),
        "--target-dir",
    ])
    .arg(&dir);
    let started = Instant::now();
    util::run(&mut cmd)?;
    let total_s = started.elapsed().as_secs_f64();
    let html = util::read_to_string(&dir.join("cargo-timings/cargo-timing.html"))?;
    let units = unit_durations(&html).context("reading cargo's timings")?;
    Ok((
        BuildTime {
            name,
            total_s,
            units,
        },
        format!("{} (fresh target directory)", util::describe(&cmd)),
    ))
}

/// (crate name, seconds) for every unit in cargo's `--timings` HTML report.
fn unit_durations(html: &str) -> Result<Vec<(String, f64)>> {
    let start = html
        .find("const UNIT_DATA = ")
        .context("no UNIT_DATA in the timings report")?;
    let rest = &html[start + "const UNIT_DATA = ".len()..];
    let data: Value = serde_json::Deserializer::from_str(rest)
        .into_iter::<Value>()
        .next()
        .context("empty UNIT_DATA")??;
    Ok(data
        .as_array()
        .context("UNIT_DATA is not a list")?
        .iter()
        .filter_map(|u| {
            Some((
                u.get("name")?.as_str()?.to_owned(),
                u.get("duration")?.as_f64()?,
            ))
        })
        .collect())
}

fn read_criterion(dir: &Path) -> Result<Vec<Criterion>> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "new") {
                    if let Some(c) = criterion_entry(&p)? {
                        out.push(c);
                    }
                } else if p.file_name().is_none_or(|n| n != "report") {
                    stack.push(p);
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.group, &a.function).cmp(&(&b.group, &b.function)));
    Ok(out)
}

fn criterion_entry(new: &Path) -> Result<Option<Criterion>> {
    let (Ok(bench), Ok(est)) = (
        std::fs::read_to_string(new.join("benchmark.json")),
        std::fs::read_to_string(new.join("estimates.json")),
    ) else {
        return Ok(None);
    };
    let bench: Value = serde_json::from_str(&bench)?;
    let est: Value = serde_json::from_str(&est)?;
    Ok(Some(Criterion {
        group: bench["group_id"].as_str().unwrap_or("").to_owned(),
        function: bench["function_id"].as_str().unwrap_or("").to_owned(),
        mean_ns: est["mean"]["point_estimate"].as_f64().unwrap_or(f64::NAN),
    }))
}

fn machine() -> Result<Vec<(String, String)>> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse::<f64>().ok())
        .map_or_else(
            || "unknown".into(),
            |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0),
        );
    let text = |cmd: &str, args: &[&str]| -> String {
        Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "unknown".into())
    };
    Ok(vec![
        ("date".into(), text("date", &["-u", "+%Y-%m-%d %H:%M UTC"])),
        ("cpu".into(), format!("{model}, {cores} cores")),
        ("memory".into(), mem),
        ("kernel".into(), text("uname", &["-sr"])),
        ("rustc".into(), text("rustc", &["--version"])),
        ("python".into(), text("python3", &["--version"])),
        (
            "commit".into(),
            text("git", &["rev-parse", "--short", "HEAD"]),
        ),
    ])
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() && b.is_finite() {
        let q = a / b;
        if q < 0.01 {
            format!("{q:.4}")
        } else {
            format!("{q:.2}")
        }
    } else {
        "n/a".into()
    }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**not met**"
    }
}

fn render(r: &Results, notes: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Performance\n");
    let _ = writeln!(
        s,
        "Written by `cargo xtask bench` from one run on the machine below; every ratio compares \
         figures from that same run. Rerun it to refresh this page. The measuring code is in \
         `bench/` (its own workspace: aws-sdk-ecs and criterion never enter the default build)."
    );
    let _ = writeln!(s, "\n## Machine\n\n| | |\n|---|---|");
    for (k, v) in &r.machine {
        let _ = writeln!(s, "| {k} | {v} |");
    }

    // 1 and 2.
    let _ = writeln!(s, "\n## 1–2. Client cost per call\n");
    let _ = writeln!(
        s,
        "Each client calls the same canned loopback server (an in-process hyper server on a \
         thread of its own, answering with bytes the reference emulator produced), with identical \
         request bodies, signing included. CPU per call is the process's CPU time minus the \
         server thread's, over sequential calls after a warm-up, median of 3 interleaved rounds, \
         the process pinned to one core (`taskset -c 0`). boto3 reports its own process CPU. The \
         floor is a bare hyper client on one kept-alive connection, no signing and no serde.\n"
    );
    let _ = writeln!(
        s,
        "| call | client | CPU µs/call | wall µs/call | vs the official SDK | × the floor |\n|---|---|---:|---:|---:|---:|"
    );
    let mut goals = vec![];
    // One client's figure in one scenario (a client named by its name's start).
    let cost = |scenario: &str, client: &str| {
        r.costs
            .iter()
            .find(|c| c.scenario == scenario && c.client.starts_with(client))
    };
    let mut scenarios: Vec<&str> = r.costs.iter().map(|c| c.scenario.as_str()).collect();
    scenarios.dedup();
    for scenario in &scenarios {
        let find = |client: &str| cost(scenario, client);
        // The official crate of the call's service: aws-sdk-ecs, or for ELBv2
        // aws-sdk-elasticloadbalancingv2.
        let sdk = find("aws-sdk-").map_or(f64::NAN, |c| c.cpu_us_per_call);
        let floor = find("hyper").map_or(f64::NAN, |c| c.cpu_us_per_call);
        for c in r.costs.iter().filter(|c| c.scenario == *scenario) {
            let _ = writeln!(
                s,
                "| {} | {} | {:.1} | {:.1} | {} | {} |",
                c.scenario,
                c.client,
                c.cpu_us_per_call,
                c.wall_us_per_call,
                ratio(c.cpu_us_per_call, sdk),
                ratio(c.cpu_us_per_call, floor)
            );
        }
        if let Some(ours) = find("ecs-client").filter(|_| *scenario == ELBV2_SCENARIO) {
            goals.push(format!(
                "| ELBv2 client chosen by measurement: CPU per call vs aws-sdk-elasticloadbalancingv2 | {} | generated (section 4b for the build) |",
                ratio(ours.cpu_us_per_call, sdk)
            ));
        } else if let Some(ours) = find("ecs-client") {
            let q = ours.cpu_us_per_call / sdk;
            goals.push(format!(
                "| CPU per call ≤ 0.5 × aws-sdk-ecs: {scenario} | {q:.2} | {} |",
                verdict(q <= 0.5)
            ));
            if *scenario != HUNDRED_SCENARIO {
                let q = ours.cpu_us_per_call / floor;
                goals.push(format!(
                    "| CPU per call ≤ 3 × the unsigned hyper floor: {scenario} | {q:.2}× | {} |",
                    verdict(q <= 3.0)
                ));
            }
        }
    }
    // Decoding 99 more sets: what a call of 100 sets costs over a call of one, per client (the
    // transport of the extra bytes is in both, and is the floor's own difference).
    let cpu = |scenario: &str, client: &str| cost(scenario, client).map(|c| c.cpu_us_per_call);
    let marginal = |client: &str| Some(cpu(HUNDRED_SCENARIO, client)? - cpu(ONE_SCENARIO, client)?);
    if let (Some(ours), Some(sdk)) = (marginal("ecs-client"), marginal("aws-sdk-ecs")) {
        let q = sdk / ours;
        goals.push(format!(
            "| DescribeTaskSets: 99 more sets decoded ≥ 2× faster than aws-sdk-ecs ({ours:.1} µs against {sdk:.1} µs) | {q:.2}× | {} |",
            verdict(q >= 2.0)
        ));
    }

    // 3.
    let _ = writeln!(s, "\n## 3. Model hot paths (criterion)\n");
    let _ = writeln!(
        s,
        "Each typed operation next to the same work on an untyped `serde_json::Value` \
         (`bench/benches/model.rs`).\n"
    );
    let _ = writeln!(
        s,
        "| benchmark | implementation | mean | vs the other in its group |\n|---|---|---:|---:|"
    );
    for c in &r.criterion {
        let other = r
            .criterion
            .iter()
            .find(|o| {
                o.group == c.group
                    && o.function != c.function
                    && !o.function.starts_with("typed, no path")
            })
            .map_or(f64::NAN, |o| o.mean_ns);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            c.group,
            c.function,
            human_ns(c.mean_ns),
            ratio(c.mean_ns, other)
        );
    }

    // 4.
    let _ = writeln!(
        s,
        "\n## 4. Build time (dev profile, clean, separate target directories)\n"
    );
    let build = |name: &str| r.builds.iter().find(|b| b.name == name);
    if let (Some(ours), Some(sdk)) = (build(OURS_PROBE), build(SDK_PROBE)) {
        let own = ours.unit("ecs-model") + ours.unit("ecs-client");
        let sdk_crate = sdk.unit("aws-sdk-ecs");
        let _ = writeln!(
            s,
            "Two probe programs that describe a service's task sets (`bench/probes/`), each built \
             with `cargo build --timings` into an empty target directory after `cargo fetch`. \
             Crate times are cargo's own unit durations.\n"
        );
        let _ = writeln!(
            s,
            "| build | wall s | ratio | goal |\n|---|---:|---:|---|\n| (a) program with {} | {:.1} | {} | ≤ 0.5: {} |\n| (a) program with {} | {:.1} | 1.00 | |\n| (b) ecs-model + ecs-client crates alone | {:.1} | {} | ≤ 0.25: {} |\n| (b) aws-sdk-ecs crate alone | {:.1} | 1.00 | |",
            ours.name,
            ours.total_s,
            ratio(ours.total_s, sdk.total_s),
            verdict(ours.total_s <= 0.5 * sdk.total_s),
            sdk.name,
            sdk.total_s,
            own,
            ratio(own, sdk_crate),
            verdict(own <= 0.25 * sdk_crate),
            sdk_crate,
        );
        goals.push(format!(
            "| clean build ≤ 0.5 × aws-sdk-ecs program | {} | {} |",
            ratio(ours.total_s, sdk.total_s),
            verdict(ours.total_s <= 0.5 * sdk.total_s)
        ));
        goals.push(format!(
            "| own crates ≤ 0.25 × aws-sdk-ecs crate | {} | {} |",
            ratio(own, sdk_crate),
            verdict(own <= 0.25 * sdk_crate)
        ));
        let mut slowest: Vec<&(String, f64)> = ours.units.iter().collect();
        slowest.sort_by(|a, b| b.1.total_cmp(&a.1));
        let list: Vec<String> = slowest
            .iter()
            .take(6)
            .map(|(n, d)| format!("{n} {d:.1} s"))
            .collect();
        let _ = writeln!(s, "\nSlowest units of our build: {}.", list.join(", "));
        if let Some(chain) = build(CHAIN_PROBE) {
            let added: Vec<String> = {
                let mut extra: Vec<&(String, f64)> = chain
                    .units
                    .iter()
                    .filter(|(n, _)| !ours.units.iter().any(|(o, _)| o == n))
                    .collect();
                extra.sort_by(|a, b| b.1.total_cmp(&a.1));
                extra
                    .iter()
                    .take(6)
                    .map(|(n, d)| format!("{n} {d:.1} s"))
                    .collect()
            };
            let _ = writeln!(
                s,
                "\n### 4a. The credential chain (feature `aws-config`)\n\n\
                 The same probe with region and credentials from the AWS SDKs' chain \
                 (`EcsClient::from_aws_chain`: aws-config 1.13 without its default HTTP client, \
                 with `rt-tokio`, `credentials-process` and `sso`; the chain's calls go through the \
                 client's reqwest). ecs-conformance and ecs-deploy build with it; the library's \
                 default does not.\n\n\
                 | build | wall s |\n|---|---:|\n| (a) program with {} | {:.1} |\n\
                 | (a) program with {} | {:.1} |\n| added by the feature | {:+.1} ({}) |\n\n\
                 Slowest units it adds: {}.",
                ours.name,
                ours.total_s,
                chain.name,
                chain.total_s,
                chain.total_s - ours.total_s,
                ratio(chain.total_s, ours.total_s),
                added.join(", ")
            );
        }
        if let Some(elb) = build(ELB_PROBE) {
            let elb_crate = elb.unit("aws-sdk-elasticloadbalancingv2");
            let _ = writeln!(
                s,
                "\n### 4b. The ELBv2 client\n\n\
                 ecs-deploy shifts traffic through ELBv2. Its client is generated from botocore's \
                 elbv2 model by `cargo xtask codegen` (`ecs_model::elbv2`, 22 operations, awsQuery \
                 through roxmltree and quick-xml, already in the workspace's tree) rather than \
                 taken from aws-sdk-elasticloadbalancingv2. Our probe above now calls ELBv2 too, \
                 so its figures include the generated ELBv2 code; the official crate's probe \
                 reads a target group's health and nothing else.\n\n\
                 | build | wall s | crate s |\n|---|---:|---:|\n\
                 | program with {} (ECS and ELBv2) | {:.1} | {:.1} (ecs-model + ecs-client) |\n\
                 | program with {} (ELBv2 only) | {:.1} | {:.1} |\n",
                ours.name, ours.total_s, own, elb.name, elb.total_s, elb_crate
            );
            goals.push(format!(
                "| ELBv2 client chosen by measurement: clean build of its program vs ours (ECS and ELBv2) | {} | generated |",
                ratio(elb.total_s, ours.total_s)
            ));
        }
    } else {
        let _ = writeln!(s, "Skipped in this run (`--skip-build-times`).");
    }

    // 5.
    let _ = writeln!(s, "\n## 5. Server throughput\n");
    let _ = writeln!(
        s,
        "Each server runs as a process of its own; `ecs-bench throughput` sends one pre-signed \
         request over a pooled hyper client from C concurrent tasks for the whole period, after \
         creating a cluster, a Fargate task definition, EXTERNAL services and 1 and 100 task \
         sets (the reference emulator is started with its 5-set limit raised for this). Only \
         2xx answers count.\n"
    );
    let _ = writeln!(
        s,
        "| server | call | concurrency | answers/s | p50 ms | p99 ms | 2xx | errors |\n|---|---|---:|---:|---:|---:|---:|---:|"
    );
    let mut reference: Vec<&Throughput> = vec![];
    for (name, outcome) in &r.servers {
        match outcome {
            Ok(rows) => {
                if name.starts_with("reference") {
                    reference = rows.iter().collect();
                }
                for t in rows {
                    let _ = writeln!(
                        s,
                        "| {name} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {}{} |",
                        t.scenario,
                        t.concurrency,
                        t.per_second,
                        t.p50_ms,
                        t.p99_ms,
                        t.ok,
                        t.errors,
                        t.first_error
                            .as_deref()
                            .map(|e| format!(
                                " (first: {})",
                                e.replace('|', "/").chars().take(80).collect::<String>()
                            ))
                            .unwrap_or_default()
                    );
                }
            }
            Err(e) => {
                let _ = writeln!(
                    s,
                    "| {name} | — | — | — | — | — | — | {} |",
                    e.replace('|', "/")
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "\n| reference emulator vs | call | concurrency | ratio |\n|---|---|---:|---:|"
    );
    for (name, outcome) in &r.servers {
        let Ok(rows) = outcome else { continue };
        if name.starts_with("reference") {
            continue;
        }
        for t in rows {
            if let Some(ours) = reference
                .iter()
                .find(|o| o.scenario == t.scenario && o.concurrency == t.concurrency)
            {
                let q = ours.per_second / t.per_second.max(f64::MIN_POSITIVE);
                let goal = if name.starts_with("moto") { 50.0 } else { 2.0 };
                let _ = writeln!(
                    s,
                    "| {name} | {} | {} | {:.1}× |",
                    t.scenario, t.concurrency, q
                );
                goals.push(format!(
                    "| emulator ≥ {goal}× {name}: {} at {} | {q:.1}× | {} |",
                    t.scenario,
                    t.concurrency,
                    verdict(q >= goal)
                ));
            }
        }
    }

    // 6.
    let _ = writeln!(s, "\n## 6. Harness\n");
    let h = &r.harness;
    let rps = h.requests as f64 / h.wall_s;
    let limit = r
        .loopback
        .iter()
        .find(|t| t.concurrency == 16)
        .map_or(f64::NAN, |t| t.per_second);
    let _ = writeln!(
        s,
        "| figure | value |\n|---|---:|\n| cases (passed) | {} ({}) |\n| full-suite wall time | {:.2} s |\n| requests | {} |\n| requests/s | {:.0} |\n| loopback limit at 16 connections (pre-signed hyper client, canned server) | {:.0}/s |\n| harness as a fraction of the limit | {} |",
        h.cases, h.passed, h.wall_s, h.requests, rps, limit, ratio(rps, limit)
    );
    let _ = writeln!(
        s,
        "\nLoopback limit by concurrency: {}.",
        r.loopback
            .iter()
            .map(|t| format!("{} → {:.0}/s", t.concurrency, t.per_second))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // 7.
    let _ = writeln!(
        s,
        "\n## 7. A departing target\n\nThe whole suite through a loopback proxy in front of \
         the reference emulator (fast timing), forwarding only, then flooring every \
         `computedDesiredCount` (`ecs-bench floor-proxy --floor`). A poll ends when the target \
         has settled (`ecs_harness::settle`); the steps that failed are counted by the \
         judgement that ended them.\n\n| profile | passing run | floored run | ratio | cases \
         failed | failed steps ended by |\n|---|---:|---:|---:|---:|---|"
    );
    for d in &r.departing {
        let q = d.floored.wall_s / d.passing.wall_s.max(f64::MIN_POSITIVE);
        let ended = d
            .floored
            .ended_by
            .iter()
            .map(|(by, n)| format!("{by} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            s,
            "| {} | {:.1} s | {:.1} s | {q:.2}× | {} | {ended} |",
            d.profile, d.passing.wall_s, d.floored.wall_s, d.floored.failed
        );
        if d.profile == "reference" {
            goals.push(format!(
                "| a run against a target that floors computedDesiredCount ≤ 2× a passing run (profile {}) | {q:.2}× | {} |",
                d.profile,
                verdict(q <= 2.0)
            ));
        }
    }

    let _ = writeln!(s, "\n## Goals\n\n| goal | measured | |\n|---|---:|---|");
    for g in &goals {
        let _ = writeln!(s, "{g}");
    }
    let _ = writeln!(s, "\n## Commands\n");
    for c in &r.commands {
        let _ = writeln!(s, "- `{c}`");
    }
    page_of(&s, notes)
}

fn human_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_replace_only_the_notes() {
        let page = "# Performance\n\n| a | 1 |\n\n## Notes\n\nold words\n";
        assert_eq!(
            super::with_notes(page, "## Notes\n\nnew words\n").as_deref(),
            Some("# Performance\n\n| a | 1 |\n\n## Notes\n\nnew words\n")
        );
        assert_eq!(super::with_notes("# Performance\n", "## Notes\n"), None);
        assert_eq!(
            super::with_notes("# P\r\n\r\n## Notes\r\n\r\nold\r\n", "## Notes\r\n\r\nnew")
                .as_deref(),
            Some("# P\n\n## Notes\n\nnew\n"),
            "a CRLF checkout"
        );
    }

    #[test]
    fn reads_cargo_timings() {
        let html = r#"<script>
const UNIT_DATA = [
  {"i": 1, "name": "ecs-model", "version": "0.1.0", "duration": 8.31},
  {"i": 2, "name": "serde", "version": "1.0.0", "duration": 1.5},
  {"i": 3, "name": "serde", "version": "1.0.0", "target": " build-script", "duration": 0.5}
];
const CONCURRENCY_DATA = [];
</script>"#;
        let units = unit_durations(html).expect("parses");
        let t = BuildTime {
            name: "x",
            total_s: 10.0,
            units,
        };
        assert_eq!(t.unit("ecs-model"), 8.31);
        assert_eq!(t.unit("serde"), 2.0);
        assert!(unit_durations("<html></html>").is_err());
    }

    #[test]
    fn ratios_and_verdicts() {
        assert_eq!(ratio(1.0, 4.0), "0.25");
        assert_eq!(ratio(482.0, 115_302.0), "0.0042");
        assert_eq!(ratio(1.0, 0.0), "n/a");
        assert_eq!(verdict(false), "**not met**");
    }
}
