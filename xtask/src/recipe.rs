//! `docs/ci.md`'s GitHub Actions job, run here as written: each `run:` step in its own
//! `bash -eo pipefail` (GitHub's shell for bash), in order, in a scratch directory that plays the
//! emulator's repository, with a venv's Python first on PATH (as `actions/setup-python` puts
//! it). `pip` finds `ecs-conformance` in the wheel `cargo xtask test` built; the baseline the
//! job names is this repository's baseline for moto; the file the job uploads must exist after.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::util;

/// The page that holds the job.
const PAGE: &str = "docs/ci.md";

/// What the job asks of the runner, read from its YAML.
#[derive(Debug, PartialEq, Eq)]
pub struct Job {
    /// Each `run:` step's name (or its first line) and script, in order.
    pub steps: Vec<(String, String)>,
    /// What `actions/upload-artifact` keeps.
    pub uploads: Vec<String>,
}

/// The first ```yaml block of `page`, read as a job: its `run:` scripts (block scalars `|` or
/// one line) and the `path:` of its upload-artifact step. A page without either is an error.
pub fn parse(page: &str) -> Result<Job> {
    let yaml = page
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .with_context(|| format!("{PAGE}: no ```yaml block"))?;
    let lines: Vec<&str> = yaml.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut steps = vec![];
    let mut uploads = vec![];
    let mut name = None;
    let mut uploading = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let key = line.trim_start().trim_start_matches("- ");
        if line.trim_start().starts_with("- ") {
            name = None;
            uploading = false;
        }
        if let Some(n) = key.strip_prefix("name: ") {
            name = Some(n.trim().to_owned());
        } else if key.starts_with("uses: actions/upload-artifact") {
            uploading = true;
        } else if let Some(path) = key.strip_prefix("path: ").filter(|_| uploading) {
            uploads.push(path.trim().to_owned());
        } else if let Some(value) = key.strip_prefix("run:") {
            let value = value.trim();
            let script = if value == "|" {
                let base = indent(line);
                let mut body = vec![];
                while let Some(next) = lines.get(i + 1) {
                    if !next.trim().is_empty() && indent(next) <= base {
                        break;
                    }
                    body.push(*next);
                    i += 1;
                }
                let strip = body
                    .iter()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| indent(l))
                    .min()
                    .unwrap_or(0);
                body.iter()
                    .map(|l| l.get(strip..).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("\n")
                    + "\n"
            } else {
                format!("{value}\n")
            };
            let label = name
                .clone()
                .unwrap_or_else(|| script.lines().next().unwrap_or("").to_owned());
            steps.push((label, script));
        }
        i += 1;
    }
    anyhow::ensure!(!steps.is_empty(), "{PAGE}: the job has no run: step");
    anyhow::ensure!(
        !uploads.is_empty(),
        "{PAGE}: the job uploads no report (actions/upload-artifact with a path)"
    );
    Ok(Job { steps, uploads })
}

/// The value after `flag` in the job's scripts (`--baseline FILE`).
fn argument<'a>(job: &'a Job, flag: &str) -> Option<&'a str> {
    job.steps.iter().find_map(|(_, script)| {
        let mut words = script.split_whitespace();
        words.find(|w| *w == flag)?;
        words.next()
    })
}

/// The job as this repository tests it: moto at the pinned version against its committed
/// baseline, and the wheel `crate::wheel::build` left in `target/wheels/`.
pub fn run_for_moto(root: &Path) -> Result<()> {
    let moto = crate::targets::MOTO_VERSION;
    eprintln!("$ the job of {PAGE} (moto {moto} against its baseline)");
    run(
        root,
        &crate::wheel::dir(),
        &root.join(format!("conformance/baselines/moto-{moto}.json")),
        &[
            format!("moto[server]=={moto}"),
            format!("ecs-conformance=={}", crate::wheel::version(root)?),
        ],
    )
    .with_context(|| format!("moto {moto} through {PAGE}'s job"))
}

/// Runs the job of `docs/ci.md` against the wheel in `wheels`, with `baseline` at the path the
/// job names. The pins on the page must be this repository's (`moto[server]==MOTO_VERSION`,
/// `ecs-conformance==<crate version>`), so the page cannot go stale.
fn run(root: &Path, wheels: &Path, baseline: &Path, pins: &[String]) -> Result<()> {
    let page = util::read_to_string(&root.join(PAGE))?;
    let job = parse(&page)?;
    for pin in pins {
        anyhow::ensure!(
            job.steps.iter().any(|(_, s)| s.contains(pin.as_str())),
            "{PAGE}: the job does not install {pin}, the version this repository tests"
        );
    }
    // The runner: a venv kept between runs (its packages are what a cached runner has), less
    // the package under test, which the job must install from the wheel just built.
    let venv = util::python_venv("venv-ci-recipe", "pip")?;
    util::run(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "uninstall",
                "--quiet",
                "--yes",
                "ecs-conformance",
            ])
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
    )?;
    let repo = util::scratch_dir("ci-recipe")?;
    std::fs::remove_dir_all(&repo).with_context(|| format!("removing {}", repo.display()))?;
    std::fs::create_dir_all(&repo).with_context(|| format!("creating {}", repo.display()))?;
    let named = argument(&job, "--baseline")
        .with_context(|| format!("{PAGE}: the job runs with no --baseline"))?;
    let target = repo.join(named);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(baseline, &target)
        .with_context(|| format!("copying {} to {}", baseline.display(), target.display()))?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![venv.join("bin")];
    dirs.extend(std::env::split_paths(&path));
    let path = std::env::join_paths(dirs).context("PATH")?;
    let mut groups = vec![];
    let result = (|| {
        for (name, script) in &job.steps {
            eprintln!("--- {PAGE}: {name}");
            let mut cmd = Command::new("bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
                .current_dir(&repo)
                .env("PATH", &path)
                .env("VIRTUAL_ENV", &venv)
                .env("PIP_FIND_LINKS", wheels)
                .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
                .env_remove("ECS_CONFORMANCE_BIN");
            {
                use std::os::unix::process::CommandExt as _;
                cmd.process_group(0);
            }
            let mut child = cmd
                .spawn()
                .with_context(|| format!("{PAGE}: starting the step {name:?}"))?;
            groups.push(child.id());
            let status = child.wait()?;
            anyhow::ensure!(
                status.success(),
                "{PAGE}: the step {name:?} failed ({status})"
            );
        }
        for upload in &job.uploads {
            let kept = repo.join(upload);
            let text = std::fs::read_to_string(&kept).with_context(|| {
                format!("{PAGE}: the job uploads {upload}, which its steps did not write")
            })?;
            anyhow::ensure!(
                text.starts_with("<!DOCTYPE html>"),
                "{PAGE}: {upload} is not the HTML report"
            );
        }
        Ok(())
    })();
    // What the steps left running (the emulator started in the background) ends with the job.
    for group in groups {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{group}")])
            .stderr(std::process::Stdio::null())
            .status();
    }
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_job_s_steps_and_uploads_are_read_as_written() {
        let page = "text\n```yaml\njobs:\n  j:\n    steps:\n      - uses: actions/checkout@v4\n      - name: One\n        run: |\n          echo a \\\n            b\n\n          echo c\n      - run: echo d\n      - name: Keep\n        uses: actions/upload-artifact@v4\n        with:\n          path: out.html\n```\nmore\n```yaml\n      - run: not this\n```\n";
        let job = parse(page).unwrap();
        assert_eq!(
            job.steps,
            vec![
                ("One".to_owned(), "echo a \\\n  b\n\necho c\n".to_owned()),
                ("echo d".to_owned(), "echo d\n".to_owned()),
            ]
        );
        assert_eq!(job.uploads, vec!["out.html".to_owned()]);
        assert_eq!(argument(&job, "echo"), Some("a"));
    }

    #[test]
    fn a_page_without_a_job_or_an_upload_is_refused() {
        assert!(parse("no yaml here").is_err());
        let e = parse("```yaml\nsteps:\n  - run: echo\n```\n").unwrap_err();
        assert!(e.to_string().contains("uploads no report"), "{e}");
    }

    /// The page as committed: the steps `cargo xtask test` runs, in order.
    #[test]
    fn the_committed_page_has_the_install_start_and_run_steps() {
        let page = std::fs::read_to_string(crate::project_root().join(PAGE)).unwrap();
        let job = parse(&page).unwrap();
        let names: Vec<&str> = job.steps.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Install the emulator and the suite",
                "Start the emulator",
                "Run the conformance suite against it"
            ]
        );
        assert_eq!(
            argument(&job, "--baseline"),
            Some(".github/ecs-conformance-baseline.json")
        );
        assert_eq!(job.uploads, ["ecs-conformance.html"]);
    }
}
