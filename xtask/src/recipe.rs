//! `docs/ci.md`'s GitHub Actions job, run here as written: each `run:` step in its own
//! `bash -eo pipefail` (GitHub's shell for bash), in order, in a scratch directory that plays the
//! emulator's repository, with a venv's Python first on PATH (as `actions/setup-python` puts
//! it). `pip` finds `ecs-conformance` in the wheel `cargo xtask test` built; the baseline the
//! job names is this repository's baseline for moto; the file the job uploads must exist after.

use std::path::{Path, PathBuf};
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

/// The actions a step may use, and the inputs each may be given. The job is run here as
/// written, so anything this runner cannot do the same way is refused rather than skipped.
const ACTIONS: &[(&str, &[&str])] = &[
    ("actions/checkout@v4", &[]),
    ("actions/setup-python@v5", &["python-version"]),
    ("actions/upload-artifact@v4", &["name", "path"]),
];

/// The first ```yaml block of `page`, read as a workflow of one job (with a real YAML parser),
/// and checked to hold nothing this runner would not do as GitHub's does:
/// - the job runs its steps with `shell: bash` (`defaults: run:`), which is `bash --noprofile
///   --norc -eo pipefail` on GitHub as here (without it GitHub runs `bash -e`, no pipefail);
/// - a job has only `runs-on`, `defaults` and `steps`; a step only `name`, `uses`, `with`,
///   `run`, and `if: always()` on the upload;
/// - each `uses` is one of [`ACTIONS`], with only the inputs listed there.
pub fn parse(page: &str) -> Result<Job> {
    use yaml_rust2::{Yaml, YamlLoader};
    let yaml = page
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .with_context(|| format!("{PAGE}: no ```yaml block"))?;
    let docs =
        YamlLoader::load_from_str(yaml).with_context(|| format!("{PAGE}: the job's YAML"))?;
    let workflow = docs.first().context("an empty YAML block")?;
    let keys = |map: &Yaml, allowed: &[&str], what: &str| -> Result<()> {
        let hash = map
            .as_hash()
            .with_context(|| format!("{PAGE}: {what} is not a mapping"))?;
        for key in hash.keys() {
            let key = key.as_str().unwrap_or("(not a string)");
            anyhow::ensure!(
                allowed.contains(&key),
                "{PAGE}: {what} has `{key}`, which this runner does not do as GitHub's would (allowed: {})",
                allowed.join(", ")
            );
        }
        Ok(())
    };
    let jobs = workflow["jobs"]
        .as_hash()
        .with_context(|| format!("{PAGE}: no jobs"))?;
    anyhow::ensure!(jobs.len() == 1, "{PAGE}: {} jobs, not one", jobs.len());
    let job = jobs.values().next().context("no job")?;
    keys(job, &["runs-on", "defaults", "steps"], "the job")?;
    anyhow::ensure!(
        job["defaults"]["run"]["shell"].as_str() == Some("bash"),
        "{PAGE}: the job must set `defaults: run: shell: bash` (GitHub's bash -eo pipefail)"
    );
    keys(&job["defaults"], &["run"], "defaults")?;
    keys(&job["defaults"]["run"], &["shell"], "defaults: run")?;
    let mut steps = vec![];
    let mut uploads = vec![];
    for (n, step) in job["steps"]
        .as_vec()
        .with_context(|| format!("{PAGE}: the job has no steps"))?
        .iter()
        .enumerate()
    {
        let what = format!("step {}", n + 1);
        keys(step, &["name", "uses", "with", "run", "if"], &what)?;
        let name = step["name"].as_str();
        match (step["uses"].as_str(), step["run"].as_str()) {
            (Some(action), None) => {
                let (_, inputs) =
                    ACTIONS
                        .iter()
                        .find(|(a, _)| *a == action)
                        .with_context(|| {
                            format!("{PAGE}: {what} uses {action}, which this runner cannot run")
                        })?;
                if !step["with"].is_badvalue() {
                    keys(&step["with"], inputs, &format!("{what}'s with"))?;
                }
                let uploading = action.starts_with("actions/upload-artifact");
                if !step["if"].is_badvalue() {
                    anyhow::ensure!(
                        uploading && step["if"].as_str() == Some("always()"),
                        "{PAGE}: {what} has an `if`; only the upload may have one, `always()`"
                    );
                }
                if uploading {
                    uploads.push(
                        step["with"]["path"]
                            .as_str()
                            .with_context(|| format!("{PAGE}: {what} uploads no path"))?
                            .to_owned(),
                    );
                }
            }
            (None, Some(script)) => {
                anyhow::ensure!(
                    step["if"].is_badvalue() && step["with"].is_badvalue(),
                    "{PAGE}: {what} runs a script with `if` or `with`"
                );
                let label = name
                    .map(str::to_owned)
                    .unwrap_or_else(|| script.lines().next().unwrap_or("").to_owned());
                let script = if script.ends_with('\n') {
                    script.to_owned()
                } else {
                    format!("{script}\n")
                };
                steps.push((label, script));
            }
            _ => anyhow::bail!("{PAGE}: {what} has neither `uses` nor `run`, or both"),
        }
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
            job.steps
                .iter()
                .flat_map(|(_, s)| s.lines())
                .any(|line| line.contains("pip install") && line.contains(pin.as_str())),
            "{PAGE}: no `pip install` line of the job installs {pin}, the version this repository tests"
        );
    }
    // The port the job's emulator takes must be free, or the job would test whatever holds it.
    if let Some(port) = argument(&job, "--endpoint")
        .and_then(|url| url.rsplit(':').next())
        .and_then(|port| port.trim_end_matches('/').parse::<u16>().ok())
    {
        std::net::TcpListener::bind(("127.0.0.1", port)).with_context(|| {
            format!("{PAGE}: the job's emulator listens on port {port}, which something else holds")
        })?;
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
        // The program the job ran is the one in the wheel just built.
        let found = Command::new("bash")
            .args(["--noprofile", "--norc", "-c", "command -v ecs-conformance"])
            .env("PATH", &path)
            .output()?;
        let found = PathBuf::from(String::from_utf8_lossy(&found.stdout).trim());
        anyhow::ensure!(
            found == venv.join("bin/ecs-conformance"),
            "{PAGE}: the job's ecs-conformance is {}, not the one its pip install put in {}",
            found.display(),
            venv.display()
        );
        anyhow::ensure!(
            sha256(&std::fs::read(&found)?) == sha256(&program_in_wheel(wheels)?),
            "{PAGE}: the job's ecs-conformance is not the program of the wheel in {}",
            wheels.display()
        );
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

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}

/// The `ecs-conformance` program inside the one wheel in `wheels`.
fn program_in_wheel(wheels: &Path) -> Result<Vec<u8>> {
    let wheel = std::fs::read_dir(wheels)
        .with_context(|| format!("reading {}", wheels.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .with_context(|| format!("no wheel in {}", wheels.display()))?;
    let file = std::fs::File::open(&wheel).with_context(|| format!("{}", wheel.display()))?;
    let mut archive = zip::ZipArchive::new(file).with_context(|| format!("{}", wheel.display()))?;
    let name = archive
        .file_names()
        .flatten()
        .find(|n| n.ends_with(".data/scripts/ecs-conformance"))
        .map(|n| n.into_owned())
        .with_context(|| format!("{}: no ecs-conformance program", wheel.display()))?;
    let mut entry = archive.by_name(&name)?;
    let mut bytes = vec![];
    std::io::Read::read_to_end(&mut entry, &mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const JOB: &str = "text\n```yaml\njobs:\n  j:\n    runs-on: ubuntu-latest\n    defaults:\n      run:\n        shell: bash\n    steps:\n      - uses: actions/checkout@v4\n      - name: One\n        run: |\n          echo a \\\n            b\n\n          echo c\n      - run: echo d\n      - name: Keep\n        if: always()\n        uses: actions/upload-artifact@v4\n        with:\n          path: out.html\n```\nmore\n```yaml\n      - run: not this\n```\n";

    #[test]
    fn the_job_s_steps_and_uploads_are_read_as_written() {
        let job = parse(JOB).unwrap();
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

    /// What GitHub would do otherwise than this runner is refused, never skipped.
    #[test]
    fn what_this_runner_cannot_do_as_github_does_is_refused() {
        let refused = |from: &str, to: &str, why: &str| {
            assert!(JOB.contains(from), "{from}");
            let e = parse(&JOB.replacen(from, to, 1)).unwrap_err();
            assert!(format!("{e:#}").contains(why), "{to}: {e:#}");
        };
        refused(
            "        shell: bash\n",
            "        shell: sh\n",
            "shell: bash",
        );
        refused(
            "      - run: echo d\n",
            "      - run: echo d\n        continue-on-error: true\n",
            "continue-on-error",
        );
        refused(
            "      - run: echo d\n",
            "      - run: echo d\n        if: false\n",
            "`if` or `with`",
        );
        refused(
            "      - run: echo d\n",
            "      - run: echo d\n        shell: sh\n",
            "`shell`",
        );
        refused(
            "    runs-on: ubuntu-latest\n",
            "    runs-on: ubuntu-latest\n    env:\n      A: b\n",
            "`env`",
        );
        refused("actions/checkout@v4", "actions/cache@v4", "cannot run");
        refused(
            "          path: out.html\n",
            "          path: out.html\n          retention-days: 1\n",
            "retention-days",
        );
        refused(
            "        if: always()\n",
            "        if: failure()\n",
            "always()",
        );
        assert!(parse("no yaml here").is_err());
        let e = parse(&JOB.replace(
            "        uses: actions/upload-artifact@v4\n        with:\n          path: out.html\n",
            "        run: echo\n",
        ))
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("`if` or `with`")
                || format!("{e:#}").contains("uploads no report"),
            "{e:#}"
        );
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
