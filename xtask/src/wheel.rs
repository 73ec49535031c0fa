//! The Python wheel of `ecs-conformance`: built with maturin (`crates/ecs-conformance/
//! pyproject.toml`, bindings "bin"), installed into a fresh venv, and the program and the pytest
//! plugin run from there.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::util;

/// maturin, from PyPI, in a venv of its own under `target/xtask/`.
const MATURIN_VERSION: &str = "1.16.0";
/// pytest for the sample suite (the wheel's `pytest` extra asks for `pytest>=7`).
const PYTEST_VERSION: &str = "9.2.0";
/// The crate the wheel is built from, relative to the repository.
const CRATE: &str = "crates/ecs-conformance";

/// Where `build` writes the wheel: `target/wheels/`.
pub fn dir() -> PathBuf {
    util::target_dir().join("wheels")
}

/// What a fresh venv with the wheel installed holds.
pub struct Installed {
    /// The venv's Python.
    pub python: PathBuf,
    /// The `ecs-conformance` program the wheel put in the venv's `bin/`.
    pub program: PathBuf,
}

/// Builds the wheel with maturin into `target/wheels/` and returns its path; its version is
/// the crate's. `release` builds it as published (optimised, stripped); otherwise the dev
/// profile in the workspace's target directory reuses what `cargo test` built.
pub fn build(root: &Path, release: bool) -> Result<PathBuf> {
    let version = crate_version(&root.join(CRATE).join("Cargo.toml"))?;
    let maturin = util::python_venv("venv-maturin", &format!("maturin=={MATURIN_VERSION}"))?
        .join("bin/maturin");
    let out = dir();
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    for old in wheels_in(&out)? {
        std::fs::remove_file(&old).with_context(|| format!("removing {}", old.display()))?;
    }
    util::run(
        Command::new(&maturin)
            .args(["build", "--locked", "--manifest-path"])
            .arg(root.join(CRATE).join("Cargo.toml"))
            .arg("--out")
            .arg(&out)
            .args(if release {
                &["--release", "--strip"][..]
            } else {
                &[]
            })
            .env("CARGO_TARGET_DIR", util::target_dir()),
    )?;
    let built = wheels_in(&out)?;
    let [wheel] = built.as_slice() else {
        anyhow::bail!(
            "maturin build left {} wheels in {}, not one",
            built.len(),
            out.display()
        );
    };
    let name = wheel.file_name().unwrap_or_default().to_string_lossy();
    anyhow::ensure!(
        name.starts_with(&format!("ecs_conformance-{version}-")),
        "the wheel {name} does not carry the crate's version {version}"
    );
    Ok(wheel.clone())
}

/// The wheel installed into a fresh venv, whose program runs the whole suite from a directory
/// outside the checkout and whose pytest plugin runs the sample suite. Returns the venv.
pub fn check(root: &Path, wheel: &Path) -> Result<Installed> {
    let installed = install(root, wheel)?;
    let elsewhere = util::elsewhere("suite")?;
    util::run(
        Command::new(&installed.program)
            .current_dir(elsewhere.path())
            .args(["run", "--timing", "instant"]),
    )
    .context("the wheel's ecs-conformance, run outside the checkout")?;
    sample_suite(root, &installed)?;
    Ok(installed)
}

/// A fresh venv (made anew on every run) with the wheel and its `pytest` extra, nothing else
/// of this repository: the program must be on the venv's `bin/` and answer `--version` with
/// the crate's version.
fn install(root: &Path, wheel: &Path) -> Result<Installed> {
    let venv = util::scratch_dir("venv-wheel")?;
    std::fs::remove_dir_all(&venv).with_context(|| format!("removing {}", venv.display()))?;
    util::run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    let python = venv.join("bin/python");
    util::pip_install(
        &python,
        &[
            &format!("{}[pytest]", wheel.display()),
            &format!("boto3=={}", crate::test::BOTO3_VERSION),
            &format!("pytest=={PYTEST_VERSION}"),
        ],
    )?;
    let program = venv.join("bin/ecs-conformance");
    anyhow::ensure!(
        program.is_file(),
        "the wheel installed no ecs-conformance at {}",
        program.display()
    );
    let version = crate_version(&root.join(CRATE).join("Cargo.toml"))?;
    let said = Command::new(&program)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", program.display()))?;
    let said = String::from_utf8_lossy(&said.stdout).trim().to_owned();
    anyhow::ensure!(
        said == format!("ecs-conformance {version}"),
        "the wheel's program says {said:?}, not ecs-conformance {version}"
    );
    eprintln!(
        "wheel: {} installed into {}",
        wheel.display(),
        venv.display()
    );
    Ok(Installed { python, program })
}

/// From a directory outside the checkout, with the venv's Python (the plugin comes from the
/// wheel's entry point and starts the wheel's own program): the sample suite at serve's
/// default timing, then the package's own tests at `instant`, which one of them checks.
fn sample_suite(root: &Path, installed: &Installed) -> Result<()> {
    let elsewhere = util::elsewhere("pytest")?;
    for (suite, options) in [
        ("pytest-sample", &[][..]),
        ("python-tests", &["--ecs-timing", "instant"][..]),
    ] {
        util::run(
            Command::new(&installed.python)
                .current_dir(elsewhere.path())
                .args(["-m", "pytest", "-p", "no:cacheprovider", "-q"])
                .args(options)
                .arg(root.join(CRATE).join(suite))
                // Nothing of the checkout may stand in for the wheel's program or package.
                .env_remove("ECS_CONFORMANCE_BIN")
                .env_remove("PYTHONPATH")
                .env("PYTHONDONTWRITEBYTECODE", "1"),
        )
        .with_context(|| format!("the pytest suite {CRATE}/{suite}, from the wheel's venv"))?;
    }
    Ok(())
}

fn wheels_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = vec![];
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "whl") {
            found.push(path);
        }
    }
    Ok(found)
}

/// The version of `ecs-conformance`, the wheel's.
pub fn version(root: &Path) -> Result<String> {
    crate_version(&root.join(CRATE).join("Cargo.toml"))
}

/// The `version` of a manifest's `[package]` table.
fn crate_version(manifest: &Path) -> Result<String> {
    let text = util::read_to_string(manifest)?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if let Some(rest) = line.strip_prefix("version").filter(|_| in_package) {
            if let Some(value) = rest.trim_start().strip_prefix('=') {
                return Ok(value.trim().trim_matches('"').to_owned());
            }
        }
    }
    anyhow::bail!("{}: no version in [package]", manifest.display())
}
