//! Small helpers shared by the xtask commands.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Runs a command with inherited stdio and fails with the command line when it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let line = describe(cmd);
    eprintln!("$ {line}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed with {status}");
    }
    Ok(())
}

/// A command line as a person would type it, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the repository root when
/// relative), else `target/` of the repository.
pub fn target_dir() -> PathBuf {
    let root = crate::project_root();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// Scratch space for xtask downloads that may be thrown away by `cargo clean`.
pub fn scratch_dir(name: &str) -> Result<PathBuf> {
    let dir = crate::project_root()
        .join("target")
        .join("xtask")
        .join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// A fresh directory outside the checkout (under the system's temporary directory), for a
/// program that must not find the repository's files from where it runs; `Elsewhere` removes
/// it when dropped.
pub fn elsewhere(name: &str) -> Result<Elsewhere> {
    let dir = std::env::temp_dir().join(format!("ecs-conformance-{name}-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(Elsewhere(dir))
}

/// A directory made by `elsewhere`, removed on drop.
pub struct Elsewhere(PathBuf);

impl Elsewhere {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Elsewhere {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn read_to_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Writes `contents` to `path` only if it differs; returns whether it changed.
pub fn write_if_changed(path: &Path, contents: &str) -> Result<bool> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(contents) {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

/// `cargo` (the one running the xtask) in the repository root.
pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    c.current_dir(crate::project_root());
    c
}

/// Runs an example of a workspace crate (dev profile) with `args`: how xtask reaches code that
/// needs the crates it does not link.
pub fn run_example(package: &str, example: &str, args: &[std::ffi::OsString]) -> Result<()> {
    run(cargo()
        .args([
            "run",
            "--locked",
            "--quiet",
            "-p",
            package,
            "--example",
            example,
            "--",
        ])
        .args(args))
}

/// A crates.io binary installed once with `cargo install --locked` under `root`; returns the
/// path of `bin/<binary>`.
pub fn cargo_install(krate: &str, version: &str, binary: &str, root: &Path) -> Result<PathBuf> {
    let bin = root.join("bin").join(binary);
    if !bin.exists() {
        run(cargo()
            .args(["install", krate, "--version", version, "--locked", "--root"])
            .arg(root))?;
    }
    Ok(bin)
}

/// `python -m pip install --quiet` of `requirements` (pip's version check off).
pub fn pip_install(python: &Path, requirements: &[&str]) -> Result<()> {
    run(Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(requirements))
}

/// A Python venv under `target/xtask/<name>` with `requirement` installed, created once; the
/// marker file names the requirement, so a version change reinstalls. Returns the venv.
pub fn python_venv(name: &str, requirement: &str) -> Result<PathBuf> {
    let dir = scratch_dir(name)?;
    let marker = dir.join(".installed");
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(requirement) {
        eprintln!("installing {requirement} into {} (once)", dir.display());
        run(Command::new("python3").args(["-m", "venv"]).arg(&dir))?;
        pip_install(&dir.join("bin/python"), &[requirement])?;
        std::fs::write(&marker, requirement)
            .with_context(|| format!("writing {}", marker.display()))?;
    }
    Ok(dir)
}
