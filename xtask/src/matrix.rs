//! `cargo xtask conformance --all-targets --write-matrix`: the published conformance matrix.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use ecs_harness::report::{one_line, RuleStatus};
use ecs_harness::{Report, Status};

use crate::conformance::{run_one, Args, ALL_TARGETS};
use crate::util;

const MATRIX_START: &str = "<!-- conformance-matrix:start (written by cargo xtask conformance --all-targets --write-matrix) -->";
const MATRIX_END: &str = "<!-- conformance-matrix:end -->";
const GLANCE_START: &str = "<!-- conformance-glance:start (written by cargo xtask conformance --all-targets --write-matrix) -->";
const GLANCE_END: &str = "<!-- conformance-glance:end -->";

pub fn run_all(args: &Args) -> Result<i32> {
    let mut reports = Vec::new();
    for target in ALL_TARGETS {
        if *target == "fakecloud" && !crate::targets::fakecloud_binary()?.exists() {
            eprintln!(
                "\n=== fakecloud: skipped, its binary is not cached (`cargo xtask conformance --target fakecloud` builds it once, about 40 minutes)"
            );
            continue;
        }
        eprintln!("\n=== {target}");
        let (_, report) = run_one(&args.for_target(target))?;
        if report.has_errors() {
            anyhow::bail!(
                "{target}: {} case(s) ended in a harness error; nothing written",
                report.count(Status::Error)
            );
        }
        reports.push(report);
    }
    if args.write_matrix {
        write(&reports)?;
    }
    // Third-party targets are expected to fail rules; the reference must not.
    Ok(if reports.first().is_some_and(Report::all_passed) {
        0
    } else {
        1
    })
}

fn write(reports: &[Report]) -> Result<()> {
    let root = crate::project_root();
    let results = root.join("conformance/results");
    std::fs::create_dir_all(&results)?;
    for report in reports {
        let mut published = report.clone();
        // The port is random per run; the rest of the report is what happened.
        published.target.endpoint = "127.0.0.1 (started by cargo xtask)".into();
        let stem = format!("{}-{}", report.target.name, report.target.version);
        util::write_if_changed(
            &results.join(format!("{stem}.json")),
            &(published.to_json() + "\n"),
        )?;
        util::write_if_changed(&results.join(format!("{stem}.md")), &published.markdown())?;
        eprintln!("wrote conformance/results/{stem}.json and .md");
    }
    let published: Vec<Report> = reports
        .iter()
        .cloned()
        .map(|mut r| {
            r.target.endpoint = "127.0.0.1 (started by cargo xtask)".into();
            r
        })
        .collect();
    util::write_if_changed(
        &results.join("matrix.html"),
        &ecs_harness::html::html(&published),
    )?;
    eprintln!("wrote conformance/results/matrix.html");
    replace_between(
        &root.join("conformance/README.md"),
        MATRIX_START,
        MATRIX_END,
        &matrix(reports),
    )?;
    replace_between(
        &root.join("README.md"),
        GLANCE_START,
        GLANCE_END,
        &glance(reports),
    )?;
    eprintln!("wrote the matrix into conformance/README.md and README.md");
    Ok(())
}

fn cell(status: RuleStatus, reason: Option<&str>) -> String {
    let reason = reason.unwrap_or("").replace('|', "\\|").replace('\n', " ");
    let short: String = if reason.chars().count() > 110 {
        format!("{}…", reason.chars().take(110).collect::<String>())
    } else {
        reason
    };
    match status {
        RuleStatus::Passed => "pass".into(),
        other if short.is_empty() => other.label().into(),
        other => format!("**{}**: {short}", other.label()),
    }
}

/// Rules × targets.
fn matrix(reports: &[Report]) -> String {
    let mut o = String::from("| rule |");
    for r in reports {
        let _ = write!(o, " {} {} |", r.target.name, r.target.version);
    }
    o.push_str("\n|---|");
    o.push_str(&"---|".repeat(reports.len()));
    o.push('\n');
    let Some(first) = reports.first() else {
        return o;
    };
    for (i, rule) in first.rules.iter().enumerate() {
        let _ = write!(o, "| `{}` |", rule.id);
        for r in reports {
            let rr = &r.rules[i];
            let _ = write!(o, " {} |", cell(rr.status, rr.reason.as_deref()));
        }
        o.push('\n');
    }
    o
}

/// One row per target: case and rule totals; then each third-party target's top root causes.
fn glance(reports: &[Report]) -> String {
    let mut o = String::from("| target | cases passed | failed | blocked | n/a | rules passed |\n|---|---|---|---|---|---|\n");
    for r in reports {
        let rules_passed = r
            .rules
            .iter()
            .filter(|x| x.status == RuleStatus::Passed)
            .count();
        let _ = writeln!(
            o,
            "| {} {} | {} / {} | {} | {} | {} | {} / {} |",
            r.target.name,
            r.target.version,
            r.count(Status::Passed),
            r.cases.len(),
            r.count(Status::Failed),
            r.count(Status::Blocked),
            r.count(Status::NotImplemented),
            rules_passed,
            r.rules.len()
        );
    }
    let third_party: Vec<&Report> = reports
        .iter()
        .filter(|r| r.target.name != "reference" && !r.root_causes.is_empty())
        .collect();
    if !third_party.is_empty() {
        o.push_str("\nTop root causes (the first thing that went wrong, and how many cases it explains):\n\n");
        for r in third_party {
            let top: Vec<String> = r
                .root_causes
                .iter()
                .take(3)
                .map(|c| {
                    format!(
                        "{} × `{}`",
                        c.cases.len(),
                        one_line(&c.headline(), 90)
                            .replace('`', "'")
                            .replace('|', "\\|")
                    )
                })
                .collect();
            let _ = writeln!(
                o,
                "- **{} {}**: {}",
                r.target.name,
                r.target.version,
                top.join("; ")
            );
        }
    }
    o
}

fn replace_between(path: &Path, start: &str, end: &str, body: &str) -> Result<()> {
    let text = util::read_to_string(path)?;
    let (Some(a), Some(b)) = (text.find(start), text.find(end)) else {
        anyhow::bail!("{} lacks the markers {start} ... {end}", path.display());
    };
    let new = format!("{}{start}\n{body}{}", &text[..a], &text[b..]);
    std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))
}
