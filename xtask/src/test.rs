//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use std::path::{Path, PathBuf};
use std::process::Command;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use anyhow::{Context, Result};

use crate::util;

/// boto3 release paired with the model's botocore.
pub const BOTO3_VERSION: &str = "1.44.5";
/// The AWS CLI (v1, from PyPI) whose ECS waiters `cargo xtask test` runs.
const AWSCLI_VERSION: &str = "1.46.3";

/// Workspaces outside the default one: fuzz targets and benchmarks.
const SIDE_WORKSPACES: &[&str] = &["fuzz/Cargo.toml", "bench/Cargo.toml", RUST_SDK_PROBE];

/// The official Rust SDK's probe: a workspace of its own (aws-sdk-ecs stays out of the
/// project's dependency graph), run against `serve` by `cargo xtask test`.
const RUST_SDK_PROBE: &str = "conformance/interop/rust-sdk/Cargo.toml";

/// The build-time probes of `cargo xtask bench` (formatted here, built only by the bench).
const BUILD_PROBES: &[&str] = &[
    "bench/probes/ours/Cargo.toml",
    "bench/probes/aws-sdk-ecs/Cargo.toml",
];

/// Seconds of fuzzing per target in `cargo xtask test`.
const FUZZ_SECONDS: u64 = 10;

pub fn run() -> Result<()> {
    let root = crate::project_root();
    util::run(util::cargo().args(["fmt", "--all", "--", "--check"]))?;
    // The fuzz targets and the benchmarks are workspaces of their own (so the default build
    // never compiles libFuzzer or aws-sdk-ecs); they are kept formatted and lint-clean here.
    for manifest in SIDE_WORKSPACES.iter().chain(BUILD_PROBES) {
        util::run(util::cargo().args(["fmt", "--manifest-path", manifest, "--", "--check"]))?;
    }
    eprintln!("$ cargo xtask codegen --check");
    crate::codegen::run(true)?;
    crate::tidy::xtask_links_no_workspace_crate(&root)?;
    crate::tidy::no_module_circles(&root)?;
    regenerate_from_a_broken_tree(&root)?;
    eprintln!("$ cargo xtask fixtures --check");
    crate::fixtures::run(true)?;
    // docs/performance.md ends with bench/notes.md as it is now.
    eprintln!("$ cargo xtask bench --notes-only --check");
    crate::bench::notes_only(true)?;
    util::run(util::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    for manifest in SIDE_WORKSPACES {
        util::run(util::cargo().args([
            "clippy",
            "--manifest-path",
            manifest,
            "--all-targets",
            "--locked",
            "--target-dir",
            "target/side",
            "--",
            "-D",
            "warnings",
        ]))?;
    }
    util::run(util::cargo().args(["test", "--workspace", "--locked"]))?;
    // The libraries' documentation builds without a warning (every public item documented:
    // `#![warn(missing_docs)]`, made an error by clippy above; no broken links).
    util::run(
        util::cargo()
            .args([
                "doc",
                "--workspace",
                "--no-deps",
                "--locked",
                "--exclude",
                "xtask",
            ])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    // Every library and the tool package and build as they would on crates.io.
    publish_dry_run()?;
    // No rule of the suite may flag one of AWS's own answers.
    eprintln!("$ cargo xtask evidence");
    ensure_zero("ecs-conformance evidence", tool(&["evidence"])?)?;
    // The table of members AWS always answers is what the evidence gives.
    eprintln!("$ cargo xtask answer-shapes --check");
    ensure_zero(
        "cargo xtask answer-shapes --check",
        crate::answer_shapes(true)?,
    )?;
    // The reference answers every recorded AWS request as AWS did, in AWS's time.
    eprintln!("$ cargo xtask evidence --replay");
    ensure_zero(
        "ecs-conformance evidence --replay",
        // Four items at once: the recorded moments lie 30 ms apart at time scale 0.1, so
        // the replay keeps a core free rather than run sixteen emulators on two cores.
        tool(&["evidence", "--replay", "--jobs", "4"])?,
    )?;
    eprintln!("$ cargo xtask coverage");
    ensure_zero("ecs-conformance coverage", crate::coverage()?)?;
    // The installed program: the wheel (`pip install ecs-conformance`) in a fresh venv runs the
    // whole suite from a directory outside the checkout and the sample pytest suite through
    // its plugin; then its `serve` is the emulator of the blue/green example, boto3, the AWS
    // CLI, aws-sdk-ecs and Terraform.
    let wheel = crate::wheel::build(&root, false)?;
    let installed = crate::wheel::check(&root, &wheel)?.program;
    against_the_emulator(&root, &installed)?;
    rust_sdk_against_serve(&installed)?;
    terraform_against_serve(&installed)?;
    // The main job: the whole fixture suite must pass against the reference emulator, and its
    // reports must be written.
    let reports = util::scratch_dir("conformance")?;
    let json = reports.join("reference.json");
    let code = suite(&json, &[])?;
    ensure_zero("cargo xtask conformance", code)?;
    // AWS's own timing shape, ten times faster: stale answers, seconds-long settling.
    let aws = reports.join("reference-aws-0.1.json");
    let code = suite(&aws, &["--timing", "aws", "--time-scale", "0.1"])?;
    ensure_zero(
        "cargo xtask conformance --timing aws --time-scale 0.1",
        code,
    )?;
    // A target that cannot run tasks: the cases that need them are skipped, the rest pass.
    let api_only = reports.join("reference-api-only.json");
    let code = suite(&api_only, &["--profile", "api-only"])?;
    ensure_zero("cargo xtask conformance --profile api-only", code)?;
    let report: serde_json::Value = serde_json::from_str(&util::read_to_string(&api_only)?)?;
    let skipped = report["totals"]["skipped"].as_u64().unwrap_or(0);
    anyhow::ensure!(
        skipped > 0,
        "the api-only profile skipped no case: capabilities are not honoured"
    );
    eprintln!("api-only profile: {skipped} case(s) skipped for tasks-run or emulator-control");
    third_party_baselines(&root)?;
    // The deployment controller's example: a linear deployment against the reference emulator
    // in AWS's timing shape, fifty times faster (it fails unless the deployment succeeds);
    // then the same behind the emulator's load balancer, each step shifting the listener's
    // weights once the new targets are healthy (ELBv2's default health checks, same scale).
    for traffic in [false, true] {
        let mut args: Vec<std::ffi::OsString> = ["--desired", "10", "--strategy", "linear:20%,1m"]
            .into_iter()
            .chain(["--time-scale", "0.02"])
            .map(Into::into)
            .collect();
        if traffic {
            args.push("--traffic".into());
        }
        util::run_example("ecs-deploy", "emulated", &args)?;
    }
    // A bounded load run: concurrent lifecycles with the invariants checked after every
    // operation (`cargo xtask load` runs the full 64 x 10,000).
    crate::load(&[
        "--clients".into(),
        "16".into(),
        "--ops".into(),
        "250".into(),
    ])?;
    // Bounded coverage-guided fuzzing of every target, seeded from the fixtures
    // (`cargo xtask fuzz --seconds N` runs longer).
    let fuzz = crate::fuzz::Args {
        targets: vec![],
        seconds: FUZZ_SECONDS,
        fresh: false,
        dev: true,
    };
    for outcome in crate::fuzz::run(&fuzz)? {
        eprintln!("{}", outcome.describe());
    }
    eprintln!("xtask test: all checks passed");
    Ok(())
}

fn ensure_zero(what: &str, code: i32) -> Result<()> {
    anyhow::ensure!(code == 0, "{what} failed (exit {code})");
    Ok(())
}

fn tool(args: &[&str]) -> Result<i32> {
    crate::conformance::tool_status(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
}

/// `cargo publish --workspace --dry-run`: every crate is packaged, then built from its package
/// against the others' packages. Cargo treats a packaged crate like a registry crate, whose
/// build and unpacked source it never redoes for the same version, so what an earlier dry-run
/// left would be reused though the source changed. Two places keep it: the target directory
/// (the dry-run has one of its own, and this project's crates are removed from it first; their
/// dependencies stay built), and the sources cargo unpacked from the dry-run's temporary
/// registry under `$CARGO_HOME/registry/src/-<hash>/` (a registry without a host name; the
/// crates.io directories are never touched), removed for this project's crates too.
fn publish_dry_run() -> Result<()> {
    let dir = util::target_dir().join("publish-check");
    let mut stale: Vec<PathBuf> = ["debug/.fingerprint", "debug/deps", "debug/build"]
        .iter()
        .map(|sub| dir.join(sub))
        .collect();
    let unpacked = cargo_home().join("registry").join("src");
    if let Ok(registries) = std::fs::read_dir(&unpacked) {
        stale.extend(
            registries
                .flatten()
                .filter(|r| r.file_name().to_string_lossy().starts_with('-'))
                .map(|r| r.path()),
        );
    }
    for parent in stale {
        let Ok(entries) = std::fs::read_dir(&parent) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("ecs-") || name.starts_with("ecs_") || name.starts_with("libecs_") {
                let path = entry.path();
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                removed.with_context(|| format!("removing {}", path.display()))?;
            }
        }
    }
    // Each package is built as a project of its own, so the workspace's `[profile.dev]` (line
    // tables only, no debug info in dependencies) does not reach it. Without debug info and
    // incremental state the dry-run took 194 s from nothing, against 300 s as cargo's defaults
    // (two runs of this command one after the other on the 2-core machine); a build check
    // needs neither.
    util::run(
        util::cargo()
            .args([
                "publish",
                "--workspace",
                "--dry-run",
                "--locked",
                "--exclude",
                "xtask",
                "--config",
                "profile.dev.debug=false",
                "--config",
                "profile.dev.incremental=false",
            ])
            .arg("--target-dir")
            .arg(&dir),
    )
}

/// Cargo's home: `$CARGO_HOME`, else `~/.cargo`.
fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// The reference run with a JSON report at `out`.
fn suite(out: &Path, extra: &[&str]) -> Result<i32> {
    let mut args: Vec<String> = vec!["run".into(), "--format".into(), "json".into()];
    args.push("--out".into());
    args.push(out.display().to_string());
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    crate::conformance::tool_status(&args)
}

/// The generator links none of the crates it writes: with a syntax error planted in the
/// generated code of a copy of the workspace, `cargo xtask codegen` there still runs and
/// restores every generated file.
fn regenerate_from_a_broken_tree(root: &Path) -> Result<()> {
    let copy = util::scratch_dir("broken-tree")?;
    std::fs::remove_dir_all(&copy).with_context(|| format!("removing {}", copy.display()))?;
    std::fs::create_dir_all(&copy).with_context(|| format!("creating {}", copy.display()))?;
    for item in ["Cargo.toml", "Cargo.lock", ".cargo", "crates", "xtask"] {
        copy_tree(&root.join(item), &copy.join(item))?;
    }
    let planted = copy.join("crates/ecs-model/src/generated/types.rs");
    let original = util::read_to_string(&planted)?;
    std::fs::write(&planted, format!("{original}\nthis is not Rust {{\n"))?;
    util::run(
        util::cargo()
            .current_dir(&copy)
            .env("CARGO_TARGET_DIR", util::target_dir().join("broken-tree"))
            .args(["run", "--locked", "--quiet", "-p", "xtask", "--", "codegen"]),
    )?;
    anyhow::ensure!(
        util::read_to_string(&planted)? == original,
        "cargo xtask codegen in a broken tree did not restore {}",
        planted.display()
    );
    eprintln!("codegen: regenerated a broken tree without compiling it");
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(from).with_context(|| format!("{}", from.display()))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    if meta.is_dir() {
        if from.file_name().is_some_and(|n| n == "target") {
            return Ok(());
        }
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        return Ok(());
    }
    std::fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    Ok(())
}

/// Starts the installed `ecs-conformance serve` with `args` and returns it with its URL (the
/// first line it prints names it).
fn serve(installed: &Path, args: &[&str]) -> Result<(std::process::Child, String)> {
    let mut server = Command::new(installed)
        .current_dir(std::env::temp_dir())
        .arg("serve")
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting ecs-conformance serve")?;
    // The rest of its output is drained for as long as it runs: a closed pipe would make its
    // next line fail and the server exit (the aws-sdk-ecs probe once met it gone).
    let url = server.stdout.take().and_then(|out| {
        let mut lines = BufReader::new(out).lines();
        let first = lines.next()?.ok()?;
        std::thread::spawn(move || lines.for_each(drop));
        first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .map(str::to_owned)
    });
    match url {
        Some(url) => Ok((server, url)),
        None => {
            let _ = server.kill();
            let _ = server.wait();
            anyhow::bail!("ecs-conformance serve did not print its URL")
        }
    }
}

/// Terraform with the hashicorp/aws provider against `ecs-conformance serve` in its default
/// timing (AWS's shape, compressed): apply, plan with no change, an update, plan with no change,
/// import of a task set, destroy (`ecs-conformance interop`). A missing terraform or provider
/// mirror is a failed step naming what to install.
/// aws-sdk-ecs and its waiters against `serve` (its own workspace, built in `target/side`).
fn rust_sdk_against_serve(installed: &Path) -> Result<()> {
    util::run(util::cargo().args([
        "build",
        "--manifest-path",
        RUST_SDK_PROBE,
        "--locked",
        "--target-dir",
        "target/side",
    ]))?;
    let (mut server, url) = serve(installed, &["--timing", "fast", "--time-scale", "1"])?;
    let result = util::run(util::cargo().args([
        "run",
        "--manifest-path",
        RUST_SDK_PROBE,
        "--locked",
        "--quiet",
        "--target-dir",
        "target/side",
        "--",
        &url,
    ]));
    let _ = server.kill();
    let _ = server.wait();
    result
}

fn terraform_against_serve(installed: &Path) -> Result<()> {
    let (mut server, url) = serve(installed, &[])?;
    eprintln!("$ ecs-conformance interop --endpoint {url}");
    let status = Command::new(installed)
        .current_dir(std::env::temp_dir())
        .args(["interop", "--endpoint", &url])
        .status()
        .context("running ecs-conformance interop");
    let _ = server.kill();
    let _ = server.wait();
    ensure_zero(
        "ecs-conformance interop (Terraform against serve)",
        status?.code().unwrap_or(-1),
    )
}

/// Clients against a live reference emulator (`serve` of the installed `ecs-conformance`, on a
/// free port): the project's blue/green example, boto3 (its waiters included), the AWS CLI's
/// waiters and `aws elbv2`.
fn against_the_emulator(root: &Path, installed: &Path) -> Result<()> {
    let python = boto3_venv()?;
    let awscli = awscli_venv()?;
    util::run(util::cargo().args([
        "build",
        "--locked",
        "-p",
        "ecs-client",
        "--example",
        "blue_green",
    ]))?;
    util::run(util::cargo().args([
        "build",
        "--locked",
        "-p",
        "ecs-client",
        "--features",
        "full",
        "--example",
        "native_canary",
    ]))?;
    let (mut server, url) = serve(installed, &["--timing", "fast", "--time-scale", "1"])?;
    let result = (|| {
        eprintln!("reference emulator at {url}");
        util::run(util::cargo().args([
            "run",
            "--locked",
            "--quiet",
            "-p",
            "ecs-client",
            "--example",
            "blue_green",
            "--",
            "--endpoint",
            &url,
            "--wait-seconds",
            "30",
        ]))?;
        // ECS's own CANARY with a PAUSE hook: continued once, rolled back once.
        util::run(util::cargo().args([
            "run",
            "--locked",
            "--quiet",
            "-p",
            "ecs-client",
            "--features",
            "full",
            "--example",
            "native_canary",
            "--",
            "--endpoint",
            &url,
            "--wait-seconds",
            "30",
        ]))?;
        util::run(
            Command::new(&python)
                .arg(root.join("crates/ecs-emulator/tests/boto3_lifecycle.py"))
                .arg(&url),
        )?;
        // The AWS CLI's own waiters, at their own delays (services-stable polls every 15 s).
        util::run(
            Command::new(&python)
                .arg(root.join("crates/ecs-emulator/tests/awscli_waiters.py"))
                .arg(&awscli)
                .arg(&url),
        )?;
        // `aws elbv2` on the same endpoint: a load balancer, target groups, a listener, and a
        // service's tasks becoming healthy targets (the CLI's target-in-service waiter).
        util::run(
            Command::new(&python)
                .arg(root.join("crates/ecs-emulator/tests/awscli_elbv2.py"))
                .arg(&awscli)
                .arg(&url),
        )?;
        // Every path of the control API from Python; last, because it resets the emulator.
        util::run(
            Command::new(&python)
                .arg(root.join("crates/ecs-emulator/tests/control_paths.py"))
                .arg(&url),
        )
    })();
    let _ = server.kill();
    let _ = server.wait();
    result
}

/// A venv with the AWS CLI under `target/xtask/`, created once; returns its `aws`.
fn awscli_venv() -> Result<PathBuf> {
    let aws =
        util::python_venv("venv-awscli", &format!("awscli=={AWSCLI_VERSION}"))?.join("bin/aws");
    anyhow::ensure!(
        aws.exists(),
        "awscli {AWSCLI_VERSION} installed no `aws` at {}",
        aws.display()
    );
    Ok(aws)
}

/// A venv with boto3 under `target/xtask/`, created once; returns its Python.
pub fn boto3_venv() -> Result<PathBuf> {
    Ok(util::python_venv("venv-boto3", &format!("boto3=={BOTO3_VERSION}"))?.join("bin/python"))
}

/// The pip-installed targets (moto, moto-ext, ministack) always, fakecloud when its binary is
/// already cached: each must match its committed baseline, so a harness regression or a change
/// in the emulator's behaviour is noticed. moto's run is docs/ci.md's job as written, with the
/// wheel built above. The runs wait on their emulators more than they compute, so two go at
/// once, each a `cargo xtask` of its own with its output in a log that is printed when it ends.
fn third_party_baselines(root: &Path) -> Result<()> {
    use crate::targets::{
        fakecloud_binary, FAKECLOUD_VERSION, MINISTACK_VERSION, MOTO_EXT_VERSION,
    };
    let baselines = root.join("conformance/baselines");
    let against = |target: &str, version: &str| {
        let baseline = baselines.join(format!("{target}-{version}.json"));
        (
            format!("{target} {version} against its baseline"),
            vec![
                "conformance".to_owned(),
                "--target".to_owned(),
                target.to_owned(),
                "--strict".to_owned(),
                "--baseline".to_owned(),
                baseline.display().to_string(),
            ],
        )
    };
    // The longest first: fakecloud waits out most of its polls (their 5 s cap), so it runs
    // 32 cases at once (61.6 s against 107.5 s at the default 16, the same statuses).
    let mut jobs = vec![];
    let binary = fakecloud_binary()?;
    let fakecloud = baselines.join(format!("fakecloud-{FAKECLOUD_VERSION}.json"));
    if binary.exists() && !fakecloud.exists() {
        eprintln!(
            "fakecloud {FAKECLOUD_VERSION}: skipped, no committed baseline at {}",
            fakecloud.display()
        );
    } else if binary.exists() {
        let (name, mut args) = against("fakecloud", FAKECLOUD_VERSION);
        args.extend(["--jobs".to_owned(), "32".to_owned()]);
        jobs.push((name, args));
    } else {
        eprintln!(
            "fakecloud {FAKECLOUD_VERSION}: skipped, its binary is not cached at {} (`cargo xtask conformance --target fakecloud` builds it once, about 38 minutes)",
            binary.display()
        );
    }
    jobs.extend([
        (
            "moto through docs/ci.md's job".to_owned(),
            vec!["ci-recipe".to_owned()],
        ),
        against("moto-ext", MOTO_EXT_VERSION),
        against("ministack", MINISTACK_VERSION),
    ]);
    run_two_at_once(jobs)
}

/// Runs each `(name, cargo xtask arguments)` as a child `cargo xtask`, two at a time, output to
/// a log under `target/xtask/baselines/`; prints each log's end when the run ends (all of it
/// when it failed) and fails naming every run that did.
fn run_two_at_once(jobs: Vec<(String, Vec<String>)>) -> Result<()> {
    use std::sync::Mutex;
    let me = std::env::current_exe().context("the running xtask")?;
    let expected = jobs.len();
    let logs = util::scratch_dir("baselines")?;
    let queue = Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>());
    let done = Mutex::new(vec![]);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let next = queue
                    .lock()
                    .ok()
                    .and_then(|mut q| (!q.is_empty()).then(|| q.remove(0)));
                let Some((index, (name, args))) = next else {
                    break;
                };
                let log = logs.join(format!("{index}.log"));
                let started = std::time::Instant::now();
                eprintln!("$ cargo xtask {} > {}", args.join(" "), log.display());
                let status = std::fs::File::create(&log)
                    .and_then(|out| Ok((out.try_clone()?, out)))
                    .and_then(|(out, err)| {
                        Command::new(&me)
                            .args(&args)
                            .stdin(Stdio::null())
                            .stdout(out)
                            .stderr(err)
                            .status()
                    });
                if let Ok(mut done) = done.lock() {
                    done.push((index, name, status, started.elapsed(), log));
                }
            });
        }
    });
    let mut done = done
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a baseline run panicked"))?;
    // A run lost on the way (a worker that could not take the queue or report back) is a
    // failure, never a shorter list.
    anyhow::ensure!(
        done.len() == expected,
        "only {} of the {expected} baseline runs reported back",
        done.len()
    );
    done.sort_by_key(|(index, ..)| *index);
    let mut failed = vec![];
    for (_, name, status, took, log) in done {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let ok = matches!(&status, Ok(s) if s.success());
        let lines: Vec<&str> = text.lines().collect();
        let shown = if ok {
            &lines[lines.len().saturating_sub(3)..]
        } else {
            &lines[..]
        };
        eprintln!(
            "=== {name} ({:.0} s, log {}):",
            took.as_secs_f64(),
            log.display()
        );
        for line in shown {
            eprintln!("{line}");
        }
        if !ok {
            failed.push(match status {
                Ok(s) => format!("{name} ({s})"),
                Err(e) => format!("{name} (not started: {e})"),
            });
        }
    }
    anyhow::ensure!(
        failed.is_empty(),
        "departures from the baselines (see above): {}",
        failed.join("; ")
    );
    Ok(())
}
