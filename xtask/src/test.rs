//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use ecs_emulator::{Emulator, TimingProfile};

use crate::util;

/// boto3 release paired with the model's botocore.
const BOTO3_VERSION: &str = "1.44.5";

/// Workspaces outside the default one: fuzz targets and benchmarks.
const SIDE_WORKSPACES: &[&str] = &["fuzz/Cargo.toml", "bench/Cargo.toml"];

/// The build-time probes of `cargo xtask bench` (formatted here, built only by the bench).
const BUILD_PROBES: &[&str] = &[
    "bench/probes/ours/Cargo.toml",
    "bench/probes/aws-sdk-ecs/Cargo.toml",
];

/// Seconds of fuzzing per target in `cargo xtask test`.
const FUZZ_SECONDS: u64 = 15;

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
    eprintln!("$ cargo xtask fixtures --check");
    crate::fixtures::run(true)?;
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
    // No rule of the suite may flag one of AWS's own answers.
    eprintln!("$ cargo xtask evidence");
    crate::evidence::run()?;
    eprintln!("$ cargo xtask coverage");
    crate::coverage::run()?;
    against_the_emulator(&root)?;
    // The main job: the whole fixture suite must pass against the reference emulator, and its
    // reports must be written.
    let reports = util::scratch_dir("conformance")?;
    let json = reports.join("reference.json");
    let code = crate::conformance::run(&crate::conformance::Args::for_ci(&json))?;
    anyhow::ensure!(
        code == 0,
        "cargo xtask conformance failed against the reference emulator (exit {code})"
    );
    // AWS's own timing shape, ten times faster: stale answers, seconds-long settling.
    let aws = reports.join("reference-aws-0.1.json");
    let code = crate::conformance::run(
        &crate::conformance::Args::for_ci(&aws).with_timing(TimingProfile::Aws, 0.1),
    )?;
    anyhow::ensure!(
        code == 0,
        "cargo xtask conformance --timing aws --time-scale 0.1 failed (exit {code})"
    );
    // A target that cannot run tasks: the cases that need them are skipped, the rest pass.
    let api_only = reports.join("reference-api-only.json");
    let code = crate::conformance::run(
        &crate::conformance::Args::for_ci(&api_only)
            .with_profile(root.join("conformance/targets/api-only.toml")),
    )?;
    anyhow::ensure!(
        code == 0,
        "cargo xtask conformance --profile conformance/targets/api-only.toml failed (exit {code})"
    );
    let report: serde_json::Value = serde_json::from_str(&util::read_to_string(&api_only)?)?;
    let skipped = report["totals"]["skipped"].as_u64().unwrap_or(0);
    anyhow::ensure!(
        skipped > 0,
        "the api-only profile skipped no case: capabilities are not honoured"
    );
    eprintln!("api-only profile: {skipped} case(s) skipped for tasks-run");
    third_party_baselines(&root)?;
    // A bounded load run: concurrent lifecycles with the invariants checked after every
    // operation (`cargo xtask load` runs the full 64 x 10,000).
    let load = crate::load::Args {
        clients: 16,
        ops: 250,
    };
    let outcome = crate::load::run(&load)?;
    eprintln!("load: {}", outcome.describe(load.clients));
    // Bounded coverage-guided fuzzing of every target, seeded from the fixtures
    // (`cargo xtask fuzz --seconds N` runs longer).
    let fuzz = crate::fuzz::Args {
        targets: vec![],
        seconds: FUZZ_SECONDS,
        fresh: false,
    };
    for outcome in crate::fuzz::run(&fuzz)? {
        eprintln!("{}", outcome.describe());
    }
    eprintln!("xtask test: all checks passed");
    Ok(())
}

/// Clients against a live reference emulator: the project's blue/green example and boto3.
fn against_the_emulator(root: &Path) -> Result<()> {
    let python = boto3_venv()?;
    util::run(util::cargo().args([
        "build",
        "--locked",
        "-p",
        "ecs-client",
        "--example",
        "blue_green",
    ]))?;
    let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    let emulator = runtime.block_on(
        Emulator::builder()
            .profile(TimingProfile::Fast, 1.0)
            .start(),
    )?;
    let url = emulator.url();
    eprintln!("reference emulator at {url}");
    let result = (|| {
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
        util::run(
            Command::new(&python)
                .arg(root.join("crates/ecs-emulator/tests/boto3_lifecycle.py"))
                .arg(&url),
        )
    })();
    runtime.block_on(emulator.shutdown());
    result
}

/// A venv with boto3 under `target/xtask/`, created once; returns its Python.
pub fn boto3_venv() -> Result<PathBuf> {
    Ok(util::python_venv("venv-boto3", &format!("boto3=={BOTO3_VERSION}"))?.join("bin/python"))
}

/// The pip-installed targets (moto, moto-ext, ministack) always, fakecloud when its binary is
/// already cached: each must match its committed baseline, so a harness regression or a change
/// in the emulator's behaviour is noticed.
fn third_party_baselines(root: &Path) -> Result<()> {
    use crate::conformance::{run, Args};
    use crate::targets::{
        fakecloud_binary, FAKECLOUD_VERSION, MINISTACK_VERSION, MOTO_EXT_VERSION, MOTO_VERSION,
    };
    let baselines = root.join("conformance/baselines");
    for (target, version) in [
        ("moto", MOTO_VERSION),
        ("moto-ext", MOTO_EXT_VERSION),
        ("ministack", MINISTACK_VERSION),
    ] {
        let baseline = baselines.join(format!("{target}-{version}.json"));
        let code = run(&Args::against_baseline(target, baseline))?;
        anyhow::ensure!(
            code == 0,
            "{target} {version} departs from its baseline (see above; exit {code})"
        );
    }
    let binary = fakecloud_binary()?;
    let fakecloud = baselines.join(format!("fakecloud-{FAKECLOUD_VERSION}.json"));
    if binary.exists() && !fakecloud.exists() {
        eprintln!(
            "fakecloud {FAKECLOUD_VERSION}: skipped, no committed baseline at {}",
            fakecloud.display()
        );
    } else if binary.exists() {
        let code = run(&Args::against_baseline("fakecloud", fakecloud))?;
        anyhow::ensure!(
            code == 0,
            "fakecloud {FAKECLOUD_VERSION} departs from its baseline (see above)"
        );
    } else {
        eprintln!(
            "fakecloud {FAKECLOUD_VERSION}: skipped, its binary is not cached at {} (`cargo xtask conformance --target fakecloud` builds it once, about 36 minutes)",
            binary.display()
        );
    }
    Ok(())
}
