//! `ecs-conformance interop`: a real tool against a target. Terraform with the hashicorp/aws
//! provider runs the lifecycle a team deploying with task sets runs (the configuration is
//! `conformance/interop/main.tf`, embedded): apply, a plan that must show no change, an update
//! (task-set scale, the EXTERNAL service's desired count, a new task-definition revision rolled
//! out on a rolling service), a plan with no change again, `terraform import` of the task set,
//! and destroy. Each step is reported; a missing terraform or provider mirror is a failed step
//! that says what to install, never a skip.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

use crate::run::{prepare_reference_or, TimingChoice, Usage};

/// The provider release the configuration pins.
pub const PROVIDER_VERSION: &str = "5.100.0";

/// Where a filesystem mirror of the provider is looked for when `--provider-mirror` is not
/// given: the environment variable, then the places Terraform and distributions use.
const MIRROR_ENV: &str = "ECS_CONFORMANCE_TF_MIRROR";
const MIRROR_CANDIDATES: &[&str] = &[
    "/opt/tf-plugins",
    "/usr/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
];

/// Attributes the provider keeps in its state only: an import cannot read them back, so the
/// plan after an import may set them and nothing else.
const LOCAL_ONLY: &[&str] = &[
    "wait_until_stable",
    "wait_until_stable_timeout",
    "force_delete",
];

/// `ecs-conformance interop` options.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Any ECS endpoint (an emulator) instead of the embedded reference emulator. Terraform
    /// signs with dummy credentials, and the configuration names placeholder subnets, security
    /// groups and a target group: it is meant for emulators, not for an AWS account.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// The region the provider signs for.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// The terraform binary (default: `terraform` on PATH).
    #[arg(long)]
    pub terraform: Option<PathBuf>,
    /// A filesystem mirror holding registry.terraform.io/hashicorp/aws 5.100.0 (default:
    /// $ECS_CONFORMANCE_TF_MIRROR, ~/.terraform.d/plugins, /opt/tf-plugins,
    /// /usr/share/terraform/plugins, /usr/local/share/terraform/plugins).
    #[arg(long)]
    pub provider_mirror: Option<PathBuf>,
    /// Write the steps as JSON here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep the working directory (configuration, state, logs) instead of removing it.
    #[arg(long)]
    pub keep: bool,
    /// The reference emulator's time scale (AWS's timing shape).
    #[arg(long, default_value_t = ecs_emulator::DEFAULT_TIME_SCALE)]
    pub time_scale: f64,
    /// Longest one terraform command may run, in seconds: a target that never settles fails
    /// the step instead of holding it for the provider's own timeouts (up to 20 minutes).
    #[arg(long, default_value_t = 300)]
    pub step_timeout_secs: u64,
}

/// One step of the lifecycle.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// What the step does.
    pub name: String,
    /// Whether it did what a run against AWS does.
    pub passed: bool,
    /// Wall time.
    pub seconds: f64,
    /// What went wrong, or what was found.
    pub detail: String,
}

/// The JSON report of `--out`.
#[derive(Debug, Serialize)]
struct Report<'a> {
    tool: &'static str,
    provider: String,
    target: String,
    endpoint: String,
    steps: &'a [Step],
    passed: usize,
    total: usize,
}

/// The steps of the lifecycle, in order.
pub const STEPS: &[&str] = &[
    "terraform",
    "provider mirror",
    "init",
    "apply",
    "plan: no changes",
    "update",
    "plan: no changes after the update",
    "import task set",
    "destroy",
];

/// Runs the lifecycle; exit 0 when every step passed, 1 otherwise, 2 for bad usage, 3 for an
/// unreachable target.
pub fn run(args: &Args) -> Result<i32> {
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        return Err(Usage(format!(
            "--time-scale {} is not a positive number",
            args.time_scale
        ))
        .into());
    }
    let timing = TimingChoice {
        profile: ecs_emulator::TimingProfile::Aws,
        time_scale: args.time_scale,
    };
    let mut prepared =
        prepare_reference_or(args.endpoint.as_deref(), 30, timing, Some(&args.region))?;
    prepared.preflight()?;
    let endpoint = prepared.target.endpoint.clone();
    println!(
        "interop: Terraform (hashicorp/aws {PROVIDER_VERSION}) against {} {} ({endpoint})",
        prepared.target.name, prepared.target.version
    );
    let work = work_dir()?;
    let steps = lifecycle(args, &endpoint, &work);
    // The emulator keeps answering on the runtime's threads while terraform runs; it stops
    // only now.
    if let Some(emulator) = prepared.emulator.take() {
        prepared.runtime.block_on(emulator.shutdown());
    }
    let passed = steps.iter().filter(|s| s.passed).count();
    println!("interop: {passed} of {} steps passed", STEPS.len());
    if let Some(out) = &args.out {
        let report = Report {
            tool: "terraform",
            provider: format!("hashicorp/aws {PROVIDER_VERSION}"),
            target: format!("{} {}", prepared.target.name, prepared.target.version),
            endpoint: endpoint.clone(),
            steps: &steps,
            passed,
            total: STEPS.len(),
        };
        std::fs::write(out, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", out.display()))?;
    }
    if args.keep {
        println!("interop: working directory kept at {}", work.display());
    } else {
        // A directory left behind is only litter; the run's verdict stands.
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(if passed == STEPS.len() {
        crate::run::exit::PASSED
    } else {
        crate::run::exit::DEPARTURES
    })
}

fn work_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "ecs-conformance-interop-{}-{:05x}",
        std::process::id(),
        fastrand::u32(..0x10_0000)
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// One forward step of the lifecycle.
type Action<'a> = Box<dyn Fn() -> Result<String> + 'a>;

/// Runs every step it can; after a failed step the rest are reported as not run, except
/// destroy, which is always tried once something may have been created.
fn lifecycle(args: &Args, endpoint: &str, work: &Path) -> Vec<Step> {
    let mut steps: Vec<Step> = vec![];
    let terraform = args
        .terraform
        .clone()
        .unwrap_or_else(|| PathBuf::from("terraform"));
    if !record(
        &mut steps,
        timed("terraform", || find_terraform(&terraform)),
    ) {
        return not_run(steps, 1);
    }
    let mirror = timed("provider mirror", || {
        find_mirror(args.provider_mirror.as_deref())
    });
    let Some(mirror_dir) = (mirror.passed).then(|| PathBuf::from(&mirror.detail)) else {
        record(&mut steps, mirror);
        return not_run(steps, 2);
    };
    record(&mut steps, mirror);
    let tf = Terraform {
        binary: terraform,
        work: work.to_owned(),
        endpoint: endpoint.to_owned(),
        region: args.region.clone(),
        prefix: format!("ic{:05x}", fastrand::u32(..0x10_0000)),
        deadline: Duration::from_secs(args.step_timeout_secs.max(1)),
    };
    if let Err(e) = tf.prepare(&mirror_dir) {
        record(
            &mut steps,
            Step {
                name: "init".into(),
                passed: false,
                seconds: 0.0,
                detail: format!("{e:#}"),
            },
        );
        return not_run(steps, 3);
    }
    if !record(
        &mut steps,
        timed("init", || {
            tf.ok(&["init", "-input=false", "-no-color"], &[])
        }),
    ) {
        return not_run(steps, 3);
    }
    let update = [
        ("task_set_percent", "100"),
        ("external_desired", "3"),
        ("web_image", "public.ecr.aws/nginx/nginx:1.28"),
    ];
    let forward: Vec<(&str, Action)> = vec![
        ("apply", Box::new(|| tf.apply(&[]))),
        ("plan: no changes", Box::new(|| tf.no_changes(&[]))),
        ("update", Box::new(|| tf.apply(&update))),
        (
            "plan: no changes after the update",
            Box::new(|| tf.no_changes(&update)),
        ),
        ("import task set", Box::new(|| tf.import_task_set(&update))),
    ];
    let mut failed = false;
    for (name, action) in &forward {
        if failed {
            record(
                &mut steps,
                Step {
                    name: (*name).into(),
                    passed: false,
                    seconds: 0.0,
                    detail: "not run: an earlier step failed".into(),
                },
            );
            continue;
        }
        failed = !record(&mut steps, timed(name, action));
    }
    record(&mut steps, timed("destroy", || tf.destroy(&update)));
    steps
}

/// Prints a step and keeps it; whether it passed.
fn record(steps: &mut Vec<Step>, step: Step) -> bool {
    println!(
        "  {:36} {} ({:.1} s){}",
        step.name,
        if step.passed { "ok" } else { "FAILED" },
        step.seconds,
        if step.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", step.detail)
        }
    );
    let passed = step.passed;
    steps.push(step);
    passed
}

/// The steps after `done` reported as not run.
fn not_run(mut steps: Vec<Step>, done: usize) -> Vec<Step> {
    for name in &STEPS[done.min(STEPS.len())..] {
        let step = Step {
            name: (*name).into(),
            passed: false,
            seconds: 0.0,
            detail: "not run: an earlier step failed".into(),
        };
        println!("  {:36} FAILED: {}", step.name, step.detail);
        steps.push(step);
    }
    steps
}

fn timed(name: &str, action: impl FnOnce() -> Result<String>) -> Step {
    let start = Instant::now();
    let result = action();
    let seconds = start.elapsed().as_secs_f64();
    match result {
        Ok(detail) => Step {
            name: name.into(),
            passed: true,
            seconds,
            detail,
        },
        Err(e) => Step {
            name: name.into(),
            passed: false,
            seconds,
            detail: format!("{e:#}"),
        },
    }
}

fn find_terraform(binary: &Path) -> Result<String> {
    let out = Command::new(binary).arg("version").output().map_err(|e| {
        anyhow::anyhow!(
            "{} could not be run ({e}): install Terraform 1.5 or later (HashiCorp's apt repository or release archive) and put it on PATH, or pass --terraform PATH",
            binary.display()
        )
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.lines().next().unwrap_or_default().trim().to_owned();
    anyhow::ensure!(
        out.status.success() && version.starts_with("Terraform v"),
        "{} version answered {:?}: not a Terraform binary",
        binary.display(),
        version
    );
    Ok(version)
}

/// The first mirror directory holding the pinned provider; its path is the step's detail.
fn find_mirror(given: Option<&Path>) -> Result<String> {
    let mut candidates: Vec<PathBuf> = vec![];
    match given {
        Some(dir) => candidates.push(dir.to_owned()),
        None => {
            if let Some(dir) = std::env::var_os(MIRROR_ENV) {
                candidates.push(dir.into());
            }
            if let Some(home) = std::env::var_os("HOME") {
                candidates.push(PathBuf::from(home).join(".terraform.d/plugins"));
            }
            candidates.extend(MIRROR_CANDIDATES.iter().map(PathBuf::from));
        }
    }
    let platform = format!(
        "{}_{}",
        std::env::consts::OS,
        match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        }
    );
    for dir in &candidates {
        let unpacked = dir
            .join("registry.terraform.io/hashicorp/aws")
            .join(PROVIDER_VERSION)
            .join(&platform);
        let packed = dir.join(format!(
            "registry.terraform.io/hashicorp/aws/terraform-provider-aws_{PROVIDER_VERSION}_{platform}.zip"
        ));
        if unpacked.is_dir() || packed.is_file() {
            return Ok(dir.display().to_string());
        }
    }
    anyhow::bail!(
        "no filesystem mirror of registry.terraform.io/hashicorp/aws {PROVIDER_VERSION} ({platform}) in {}: make one with `terraform providers mirror DIR` where the registry is reachable, then pass --provider-mirror DIR or set {MIRROR_ENV}",
        candidates
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A working directory with the configuration, driven through the terraform binary.
struct Terraform {
    binary: PathBuf,
    work: PathBuf,
    endpoint: String,
    region: String,
    prefix: String,
    /// Longest one command may run before it is killed.
    deadline: Duration,
}

impl Terraform {
    /// Writes the configuration and a CLI configuration that installs the provider from the
    /// mirror only (nothing is fetched from a registry).
    fn prepare(&self, mirror: &Path) -> Result<()> {
        std::fs::write(self.work.join("main.tf"), crate::bundle::interop_config())?;
        let mirror = mirror.display().to_string().replace('\\', "/");
        std::fs::write(
            self.work.join("cli.tfrc"),
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = {mirror:?}\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n"
            ),
        )?;
        Ok(())
    }

    /// Runs terraform with `args` and the configuration's variables; the output, or an error
    /// with its last lines.
    fn run(&self, args: &[&str], vars: &[(&str, &str)]) -> Result<(i32, String)> {
        self.run_split(args, vars)
            .map(|(code, stdout, stderr)| (code, format!("{stdout}{stderr}")))
    }

    /// Like [`Terraform::run`], with standard output and standard error apart.
    fn run_split(&self, args: &[&str], vars: &[(&str, &str)]) -> Result<(i32, String, String)> {
        let mut command = Command::new(&self.binary);
        command
            .current_dir(&self.work)
            .args(args)
            .env("TF_CLI_CONFIG_FILE", self.work.join("cli.tfrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_VAR_endpoint", &self.endpoint)
            .env("TF_VAR_region", &self.region)
            .env("TF_VAR_prefix", &self.prefix);
        for (name, value) in vars {
            command.env(format!("TF_VAR_{name}"), value);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("running terraform {}", args.join(" ")))?;
        // The pipes are drained as the command runs, so a chatty one never blocks on them.
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut text = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut text);
                }
                String::from_utf8_lossy(&text).into_owned()
            })
        };
        let out_thread = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let err_thread = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break Some(status);
            }
            if started.elapsed() >= self.deadline {
                // Killed, and reaped; its output so far is still read below.
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let stdout = out_thread.join().unwrap_or_default();
        let stderr = err_thread.join().unwrap_or_default();
        let Some(status) = status else {
            anyhow::bail!(
                "terraform {} did not finish within {} s (--step-timeout-secs): the target never settled",
                args.join(" "),
                self.deadline.as_secs()
            );
        };
        let log = self.work.join(format!(
            "{}.log",
            args.first().copied().unwrap_or("terraform")
        ));
        // The log is for a person reading a kept directory; failing to write it changes nothing.
        let _ = std::fs::write(log, format!("{stdout}{stderr}"));
        Ok((status.code().unwrap_or(-1), stdout, stderr))
    }

    fn ok(&self, args: &[&str], vars: &[(&str, &str)]) -> Result<String> {
        let (code, text) = self.run(args, vars)?;
        anyhow::ensure!(
            code == 0,
            "terraform {} exited {code}: {}",
            args.join(" "),
            errors_of(&text)
        );
        Ok(String::new())
    }

    fn apply(&self, vars: &[(&str, &str)]) -> Result<String> {
        self.ok(
            &["apply", "-auto-approve", "-input=false", "-no-color"],
            vars,
        )
    }

    fn destroy(&self, vars: &[(&str, &str)]) -> Result<String> {
        self.ok(
            &["destroy", "-auto-approve", "-input=false", "-no-color"],
            vars,
        )
    }

    /// A saved plan and what it changes: `(resource address, attributes that differ)`.
    fn plan_changes(&self, vars: &[(&str, &str)]) -> Result<Vec<(String, Vec<String>)>> {
        self.ok(
            &["plan", "-input=false", "-no-color", "-out=interop.tfplan"],
            vars,
        )?;
        let (code, text, _) = self.run_split(&["show", "-json", "interop.tfplan"], vars)?;
        anyhow::ensure!(code == 0, "terraform show -json exited {code}");
        let plan: Value = serde_json::from_str(&text).context("reading the plan's JSON")?;
        // A plan that lists no resource at all read nothing: never a plan without changes.
        let resources = plan["resource_changes"]
            .as_array()
            .filter(|r| !r.is_empty())
            .context("the plan's JSON lists no resource_changes")?;
        let mut changes = vec![];
        for rc in resources {
            let actions: Vec<&str> = rc["change"]["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if actions == ["no-op"] || actions == ["read"] {
                continue;
            }
            let before = &rc["change"]["before"];
            let after = &rc["change"]["after"];
            let mut keys: Vec<String> = after
                .as_object()
                .into_iter()
                .flatten()
                .chain(before.as_object().into_iter().flatten())
                .filter(|(k, _)| before.get(k.as_str()) != after.get(k.as_str()))
                .map(|(k, _)| k.clone())
                .collect();
            keys.sort();
            keys.dedup();
            let address = format!(
                "{} ({})",
                rc["address"].as_str().unwrap_or("?"),
                actions.join("+")
            );
            // Anything but an update in place changes the resource itself.
            if actions != ["update"] {
                keys.push(format!("the action {}", actions.join("+")));
            }
            changes.push((address, keys));
        }
        Ok(changes)
    }

    fn no_changes(&self, vars: &[(&str, &str)]) -> Result<String> {
        let changes = self.plan_changes(vars)?;
        anyhow::ensure!(
            changes.is_empty(),
            "the plan after apply is not empty (drift: the target answers other than AWS): {}",
            describe(&changes)
        );
        Ok(String::new())
    }

    /// Forgets the task set, imports it by its id, and checks that the plan then sets only
    /// what an import cannot read.
    fn import_task_set(&self, vars: &[(&str, &str)]) -> Result<String> {
        let (code, id, _) = self.run_split(&["output", "-raw", "task_set_import_id"], vars)?;
        anyhow::ensure!(code == 0, "terraform output exited {code}: {id}");
        self.ok(&["state", "rm", "-no-color", "aws_ecs_task_set.blue"], vars)?;
        self.ok(
            &[
                "import",
                "-input=false",
                "-no-color",
                "aws_ecs_task_set.blue",
                id.trim(),
            ],
            vars,
        )?;
        let changes = self.plan_changes(vars)?;
        let unexpected: Vec<(String, Vec<String>)> = changes
            .into_iter()
            .map(|(address, keys)| {
                let keys = keys
                    .into_iter()
                    .filter(|k| !LOCAL_ONLY.contains(&k.as_str()))
                    .collect::<Vec<_>>();
                (address, keys)
            })
            .filter(|(_, keys)| !keys.is_empty())
            .collect();
        anyhow::ensure!(
            unexpected.is_empty(),
            "after the import the plan changes what the target should have answered: {}",
            describe(&unexpected)
        );
        Ok(format!("imported {}", id.trim()))
    }
}

fn describe(changes: &[(String, Vec<String>)]) -> String {
    changes
        .iter()
        .map(|(address, keys)| format!("{address}: {}", keys.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `Error:` lines of terraform's output (each names the call and AWS's error) and a
/// crashed provider's `panic:` line, else its last lines.
fn errors_of(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut picked = vec![];
    for line in &lines {
        if let Some(rest) = line
            .strip_prefix("│ Error: ")
            .or(line.strip_prefix("Error: "))
        {
            picked.push(rest.to_owned());
        } else if line.starts_with("panic: ") {
            // The provider crashed on an answer: its panic names what it could not read.
            picked.push((*line).to_owned());
        }
    }
    if picked.is_empty() {
        let filled: Vec<&str> = lines.iter().copied().filter(|l| !l.is_empty()).collect();
        picked = filled[filled.len().saturating_sub(3)..]
            .iter()
            .map(|l| (*l).to_owned())
            .collect();
    }
    let joined = picked.join(" / ");
    if joined.chars().count() > 600 {
        format!("{}…", joined.chars().take(600).collect::<String>())
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_errors_are_picked_from_the_output() {
        let out = "aws_ecs_service.x: Creating...\n╷\n│ Error: creating ECS Service (x): InvalidParameterException: bad\n│ \n│   with aws_ecs_service.x,\n╵\n";
        assert_eq!(
            errors_of(out),
            "creating ECS Service (x): InvalidParameterException: bad"
        );
        assert_eq!(errors_of("a\nb\nc\nd\n"), "b / c / d");
        let crash = "Stack trace from the terraform-provider-aws_v5.100.0_x5 plugin:\n\npanic: runtime error: index out of range [0] with length 0\n\ngoroutine 1\n│ Error: Plugin did not respond\n";
        assert_eq!(
            errors_of(crash),
            "panic: runtime error: index out of range [0] with length 0 / Plugin did not respond"
        );
    }

    #[test]
    fn a_missing_terraform_or_mirror_fails_naming_what_to_install() {
        let e = find_terraform(Path::new("/nonexistent/terraform"))
            .expect_err("no such binary")
            .to_string();
        assert!(e.contains("install Terraform"), "{e}");
        let empty = std::env::temp_dir().join(format!("no-mirror-{}", std::process::id()));
        let e = find_mirror(Some(&empty))
            .expect_err("no mirror")
            .to_string();
        assert!(e.contains("terraform providers mirror"), "{e}");
        assert!(e.contains(PROVIDER_VERSION), "{e}");
    }

    #[test]
    fn a_command_past_its_deadline_is_killed_and_fails_the_step() {
        let work = work_dir().expect("a working directory");
        let tf = Terraform {
            binary: PathBuf::from("sleep"),
            work: work.clone(),
            endpoint: String::new(),
            region: String::new(),
            prefix: String::new(),
            deadline: Duration::from_millis(300),
        };
        let started = Instant::now();
        let e = tf.run(&["30"], &[]).expect_err("killed").to_string();
        assert!(e.contains("did not finish within"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let tf = Terraform {
            binary: PathBuf::from("echo"),
            deadline: Duration::from_secs(10),
            ..tf
        };
        assert_eq!(tf.run(&["hi"], &[]).expect("runs"), (0, "hi\n".to_owned()));
        std::fs::remove_dir_all(work).expect("removed");
    }

    #[test]
    fn the_embedded_configuration_pins_the_provider_and_takes_the_endpoint() {
        let config = crate::bundle::interop_config();
        assert!(config.contains(&format!("version = \"{PROVIDER_VERSION}\"")));
        assert!(config.contains("ecs = var.endpoint"));
        assert!(config.contains("output \"task_set_import_id\""));
    }
}
