//! `cargo xtask conformance`: the README's main command, a thin alias of `ecs-conformance run`
//! built from this checkout. What it adds is what needs a checkout and installers:
//!
//! - `--target moto|moto-ext|ministack|fakecloud` installs the pinned third-party emulator once,
//!   starts it on a free loopback port, runs `ecs-conformance run --endpoint` against it with
//!   its built-in profile and its log, and stops it;
//! - `--all-targets [--write-matrix]` runs every published target and, with `--write-matrix`,
//!   also runs Terraform's lifecycle (`ecs-conformance interop`) against each, writes each
//!   third-party target's baseline from the same run, has `ecs-conformance report` write
//!   `conformance/results/`, then splices the matrices into `conformance/README.md` and
//!   `README.md`.
//!
//! Every other argument goes to `ecs-conformance run` unchanged (`cargo xtask conformance
//! --help` shows them).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::targets::{self, Server};
use crate::util;

/// The published targets, in matrix order.
pub const ALL_TARGETS: &[&str] = &["reference", "moto", "moto-ext", "ministack", "fakecloud"];

/// What a written baseline or a published report says of an endpoint xtask started.
const LOCAL_LABEL: &str = "127.0.0.1 (started by cargo xtask)";

const MATRIX_START: &str = "<!-- conformance-matrix:start (written by cargo xtask conformance --all-targets --write-matrix) -->";
const MATRIX_END: &str = "<!-- conformance-matrix:end -->";
const GLANCE_START: &str = "<!-- conformance-glance:start (written by cargo xtask conformance --all-targets --write-matrix) -->";
const GLANCE_END: &str = "<!-- conformance-glance:end -->";

/// `ecs-conformance`, built from this checkout (debug profile, like the tests).
pub fn tool() -> Result<PathBuf> {
    util::run(util::cargo().args([
        "build",
        "--locked",
        "--quiet",
        "-p",
        "ecs-conformance",
        "--bin",
        "ecs-conformance",
    ]))?;
    let exe = util::target_dir()
        .join("debug")
        .join(format!("ecs-conformance{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(exe.exists(), "{} was not built", exe.display());
    Ok(exe)
}

/// Runs `ecs-conformance` with `args` and returns its exit code.
pub fn tool_status(args: &[String]) -> Result<i32> {
    let mut cmd = Command::new(tool()?);
    cmd.args(args);
    eprintln!("$ {}", util::describe(&cmd));
    let status = cmd.status().context("starting ecs-conformance")?;
    Ok(status.code().unwrap_or(crate::conformance::HARNESS_EXIT))
}

/// `ecs-conformance`'s exit code for a harness failure.
pub const HARNESS_EXIT: i32 = 4;
/// `ecs-conformance`'s exit code for a target that is not there.
const UNREACHABLE_EXIT: i32 = 3;

/// `cargo xtask conformance ARGS`: the exit code to end with.
pub fn run(raw: &[String]) -> Result<i32> {
    let mut target = "reference".to_owned();
    let mut all_targets = false;
    let mut write_matrix = false;
    let mut rest = vec![];
    let mut it = raw.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--all-targets" => all_targets = true,
            "--write-matrix" => write_matrix = true,
            "--target" => target = it.next().cloned().unwrap_or_default(),
            other => match other.strip_prefix("--target=") {
                Some(t) => target = t.to_owned(),
                None => rest.push(a.clone()),
            },
        }
    }
    if write_matrix && !all_targets {
        eprintln!("error: --write-matrix needs --all-targets");
        return Ok(2);
    }
    if all_targets {
        return all(&rest, write_matrix);
    }
    run_target(&target, &rest)
}

/// One target: the reference or an endpoint straight through, a third-party one started here.
pub fn run_target(target: &str, rest: &[String]) -> Result<i32> {
    let mut args = vec!["run".to_owned()];
    if !ALL_TARGETS[1..].contains(&target) {
        args.extend(["--target".to_owned(), target.to_owned()]);
        args.extend(rest.iter().cloned());
        return tool_status(&args);
    }
    let Some(server) = start_announced(target) else {
        return Ok(UNREACHABLE_EXIT);
    };
    args.extend(third_party_args(&server));
    args.extend(rest.iter().cloned());
    let code = tool_status(&args);
    drop(server);
    code
}

/// `ecs-conformance SUBCOMMAND ARGS` (evidence, interop), where `--target NAME` names a
/// third-party emulator: it is installed once, started on a free loopback port, given as
/// `--endpoint` (with its profile where the subcommand takes one), and stopped after.
pub fn on_target(subcommand: &str, raw: &[String]) -> Result<i32> {
    let mut target = None;
    let mut rest = vec![];
    let mut it = raw.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--target" => match it.next() {
                Some(t) => target = Some(t.clone()),
                None => {
                    eprintln!("error: --target needs a value: {}", ALL_TARGETS.join(", "));
                    return Ok(2);
                }
            },
            other => match other.strip_prefix("--target=") {
                Some(t) => target = Some(t.to_owned()),
                None => rest.push(a.clone()),
            },
        }
    }
    let mut args = vec![subcommand.to_owned()];
    let server = match target.as_deref() {
        None | Some("reference") => None,
        Some(t) if ALL_TARGETS[1..].contains(&t) => match start_announced(t) {
            Some(s) => Some(s),
            None => return Ok(UNREACHABLE_EXIT),
        },
        Some(other) => {
            eprintln!(
                "error: unknown target {other:?}: use one of {}",
                ALL_TARGETS.join(", ")
            );
            return Ok(2);
        }
    };
    if let Some(server) = &server {
        args.extend(["--endpoint".to_owned(), server.url.clone()]);
        if subcommand == "evidence" {
            args.extend(["--profile".to_owned(), server.name.to_owned()]);
        }
    }
    args.extend(rest);
    let code = tool_status(&args);
    drop(server);
    code
}

/// The `ecs-conformance run` arguments for a third-party server xtask started.
fn third_party_args(server: &Server) -> Vec<String> {
    [
        "--endpoint",
        &server.url,
        "--target-name",
        server.name,
        "--target-version",
        server.version,
        "--profile",
        server.name,
        // Third-party emulators settle at once or never: a long poll only delays a failure.
        "--poll-cap-secs",
        "5",
        "--endpoint-label",
        LOCAL_LABEL,
        "--server-log",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([server.log().display().to_string()])
    .chain(
        targets::installed_as(server.name)
            .into_iter()
            .flat_map(|how| ["--target-installed".to_owned(), how]),
    )
    .collect()
}

/// Starts a third-party target and says where it runs; `None` (after saying why) when it could
/// not be started.
fn start_announced(target: &str) -> Option<Server> {
    match start(target) {
        Ok(server) => {
            eprintln!(
                "{} {} at {} (log: {})",
                server.name,
                server.version,
                server.url,
                server.log().display()
            );
            Some(server)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            None
        }
    }
}

fn start(target: &str) -> Result<Server> {
    match target {
        "moto" => targets::start_moto(),
        "moto-ext" => targets::start_moto_ext(),
        "ministack" => targets::start_ministack(),
        _ => targets::start_fakecloud(),
    }
}

/// Every published target in turn; the reference must pass, the others report what departs.
fn all(rest: &[String], write_matrix: bool) -> Result<i32> {
    let dir = util::scratch_dir("matrix")?;
    let mut reports = vec![];
    let mut interop = vec![];
    let mut baselines = vec![];
    let mut reference_code = 0;
    for target in ALL_TARGETS {
        if *target == "fakecloud" && !targets::fakecloud_binary()?.exists() {
            eprintln!(
                "\n=== fakecloud: skipped, its binary is not cached (`cargo xtask conformance --target fakecloud` builds it once, about 40 minutes)"
            );
            continue;
        }
        eprintln!("\n=== {target}");
        let out = dir.join(format!("{target}.json"));
        let mut args: Vec<String> = rest.to_vec();
        args.extend(["--format".into(), "json".into(), "--out".into()]);
        args.push(out.display().to_string());
        if write_matrix {
            // The same run is the target's committed baseline, copied in once every run
            // succeeded.
            if let Some(version) = targets::version_of(target) {
                let name = format!("{target}-{version}.json");
                args.push("--write-baseline".into());
                args.push(dir.join(format!("baseline-{name}")).display().to_string());
                baselines.push(name);
            }
        }
        let code = run_target(target, &args)?;
        if code == HARNESS_EXIT || code == UNREACHABLE_EXIT || code == 2 {
            anyhow::bail!("{target}: the run failed (exit {code}); nothing written");
        }
        if *target == "reference" {
            reference_code = code;
        }
        reports.push(out);
        if write_matrix {
            // Terraform's lifecycle against the same target, for the matrix's interop column.
            eprintln!("\n=== {target}: Terraform lifecycle");
            let out = dir.join(format!("{target}-interop.json"));
            let args = [
                "--target".to_owned(),
                (*target).to_owned(),
                "--out".to_owned(),
                out.display().to_string(),
            ];
            let code = on_target("interop", &args)?;
            anyhow::ensure!(
                code == 0 || (code == 1 && *target != "reference"),
                "{target}: the Terraform lifecycle could not be run (exit {code}); nothing written"
            );
            interop.push(((*target).to_owned(), out));
        }
    }
    if write_matrix {
        write(&reports, &interop)?;
        for name in baselines {
            let to = crate::project_root()
                .join("conformance/baselines")
                .join(&name);
            std::fs::copy(dir.join(format!("baseline-{name}")), &to)
                .with_context(|| format!("writing {}", to.display()))?;
            eprintln!("wrote {}", to.display());
        }
    }
    Ok(reference_code)
}

fn write(reports: &[PathBuf], interop: &[(String, PathBuf)]) -> Result<()> {
    let root = crate::project_root();
    let scratch = util::scratch_dir("matrix")?;
    let (matrix, glance) = (scratch.join("matrix.md"), scratch.join("glance.md"));
    let mut args: Vec<String> = vec!["report".into()];
    args.extend(reports.iter().map(|p| p.display().to_string()));
    for (target, path) in interop {
        args.push("--interop".into());
        args.push(format!("{target}={}", path.display()));
    }
    for (flag, path) in [
        ("--results-dir", root.join("conformance/results")),
        ("--html", root.join("conformance/results/matrix.html")),
        ("--matrix", matrix.clone()),
        ("--glance", glance.clone()),
        ("--history", root.join("conformance/results/history.jsonl")),
        ("--badges", root.join("conformance/results/badges")),
    ] {
        args.push(flag.into());
        args.push(path.display().to_string());
    }
    args.extend(["--endpoint-label".into(), LOCAL_LABEL.into()]);
    let code = tool_status(&args)?;
    anyhow::ensure!(code == 0, "ecs-conformance report failed (exit {code})");
    replace_between(
        &root.join("conformance/README.md"),
        MATRIX_START,
        MATRIX_END,
        &util::read_to_string(&matrix)?,
    )?;
    replace_between(
        &root.join("README.md"),
        GLANCE_START,
        GLANCE_END,
        &util::read_to_string(&glance)?,
    )?;
    eprintln!("wrote the matrix into conformance/README.md and README.md");
    Ok(())
}

/// Replaces the text between two marker lines of a file.
pub fn replace_between(path: &Path, start: &str, end: &str, body: &str) -> Result<()> {
    let text = util::read_to_string(path)?;
    let new = spliced(&text, start, end, body)
        .with_context(|| format!("{} lacks the markers {start} ... {end}", path.display()))?;
    util::write_if_changed(path, &new)?;
    Ok(())
}

/// `text` with what lies between `start` and `end` replaced by `body`.
pub fn spliced(text: &str, start: &str, end: &str, body: &str) -> Option<String> {
    let (a, b) = (text.find(start)?, text.find(end)?);
    (a < b).then(|| format!("{}{start}\n{body}{}", &text[..a], &text[b..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splicing_replaces_between_markers_only() {
        let text = "a\n<!-- s -->\nold\n<!-- e -->\nz\n";
        assert_eq!(
            spliced(text, "<!-- s -->", "<!-- e -->", "new\n").as_deref(),
            Some("a\n<!-- s -->\nnew\n<!-- e -->\nz\n")
        );
        assert_eq!(spliced(text, "<!-- e -->", "<!-- s -->", "x"), None);
        assert_eq!(spliced(text, "<!-- q -->", "<!-- e -->", "x"), None);
    }
}
