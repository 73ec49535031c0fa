//! `ecs-conformance report`: renders saved JSON reports of several targets as what is
//! published: a copy of each report (JSON and Markdown) with the endpoint replaced by a label,
//! the HTML matrix page, and two Markdown fragments, the rules x targets matrix and the
//! at-a-glance table with each third-party target's top root causes. With `--history`, each
//! run is appended to the history of published runs, whose trends the page and the glance table
//! show, and `--badges` writes a badge per target. `cargo xtask conformance --all-targets
//! --write-matrix` splices the fragments into the READMEs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ecs_harness::report::{one_line, RuleStatus};
use ecs_harness::{Report, Status, Tier};

use crate::history::{self, Entry};

/// `ecs-conformance report` options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// JSON reports written by `ecs-conformance run --out`, the reference first.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// What the published copies say of the endpoint (local ports change every run).
    #[arg(long, default_value = "127.0.0.1 (a local port)")]
    pub endpoint_label: String,
    /// Write `<target>-<version>.json` and `.md` for each report into this directory.
    #[arg(long)]
    pub results_dir: Option<PathBuf>,
    /// Write the HTML matrix page of all the reports.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Write the rules x targets Markdown table.
    #[arg(long)]
    pub matrix: Option<PathBuf>,
    /// Write the at-a-glance Markdown table.
    #[arg(long)]
    pub glance: Option<PathBuf>,
    /// `TARGET=FILE`: the report `ecs-conformance interop --out FILE` wrote for that target
    /// (repeatable); the matrix and the glance table gain its Terraform lifecycle.
    #[arg(long, value_name = "TARGET=FILE")]
    pub interop: Vec<String>,
    /// The history of published runs (JSON Lines): each report's run is appended unless it is
    /// there already, and the HTML page and the glance table show each target's trend from it.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Write a badge (`<target>.svg`) of each target's run into this directory.
    #[arg(long)]
    pub badges: Option<PathBuf>,
    /// Only append the reports' runs to --history, reading them leniently: published reports
    /// of earlier formats (1 to 3) are scored with the embedded catalog's tiers.
    #[arg(long, requires = "history")]
    pub history_only: bool,
    /// With --history-only: say where the entries come from (`published at <commit>`).
    #[arg(long, requires = "history_only")]
    pub history_note: Option<String>,
}

/// What the publication reads of an interop report.
#[derive(Debug, serde::Deserialize)]
struct Interop {
    passed: usize,
    total: usize,
    steps: Vec<InteropStep>,
}

#[derive(Debug, serde::Deserialize)]
struct InteropStep {
    name: String,
    passed: bool,
}

impl Interop {
    /// `9 / 9`, or `4 / 9, from apply` (the first step that failed).
    fn cell(&self) -> String {
        match self.steps.iter().find(|s| !s.passed) {
            None => format!("{} / {}", self.passed, self.total),
            Some(first) => format!(
                "{} / {}, fails from {}",
                self.passed, self.total, first.name
            ),
        }
    }
}

/// Interop reports: each target's name, what the publication reads, and the file's text.
type Interops = [(String, Interop, String)];

/// The interop reports by target name.
fn read_interop(specs: &[String]) -> Result<Vec<(String, Interop, String)>> {
    let mut out = vec![];
    for spec in specs {
        let (target, file) = spec
            .split_once('=')
            .with_context(|| format!("--interop {spec}: expected TARGET=FILE"))?;
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        let interop: Interop = serde_path_to_error::deserialize(de).map_err(|e| {
            anyhow::anyhow!(
                "{file}: /{}: not a report written by ecs-conformance interop: {}",
                e.path(),
                e.inner()
            )
        })?;
        anyhow::ensure!(
            interop.steps.len() == interop.total,
            "{file}: {} steps for a total of {}",
            interop.steps.len(),
            interop.total
        );
        out.push((target.to_owned(), interop, text));
    }
    Ok(out)
}

fn interop_of<'a>(interop: &'a Interops, target: &str) -> Option<&'a Interop> {
    interop
        .iter()
        .find(|(t, _, _)| t == target)
        .map(|(_, i, _)| i)
}

fn read_report(path: &Path) -> Result<Report> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        anyhow::anyhow!(
            "{}: /{}: not a report written by ecs-conformance run: {}",
            path.display(),
            e.path(),
            e.inner()
        )
    })
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// The JSON of a report file, for a history entry.
fn read_value(path: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))
}

/// `--history-only`: the reports' runs appended to the history, nothing else written.
fn history_only(args: &Args, path: &Path) -> Result<()> {
    let catalog = crate::bundle::Bundle::new(None, None).catalog()?;
    let mut entries = vec![];
    for report in &args.reports {
        let mut entry = Entry::from_report(
            &read_value(report)?,
            &catalog,
            &report.display().to_string(),
        )?;
        entry.note = args.history_note.clone();
        entries.push(entry);
    }
    let mut all = history::read(path)?;
    let added = history::append(&mut all, entries);
    write(path, &history::to_jsonl(&all)?)?;
    eprintln!("{added} run(s) added to the history");
    Ok(())
}

/// Renders what the options ask for; a report with harness errors is refused.
pub fn run(args: &Args) -> Result<()> {
    if let (true, Some(path)) = (args.history_only, &args.history) {
        return history_only(args, path);
    }
    let mut reports = vec![];
    for path in &args.reports {
        let mut report = read_report(path)?;
        if report.has_errors() {
            anyhow::bail!(
                "{}: {} case(s) ended in a harness error; nothing is published from it",
                path.display(),
                report.count(Status::Error)
            );
        }
        report.target.endpoint = args.endpoint_label.clone();
        reports.push(report);
    }
    let interop = read_interop(&args.interop)?;
    if let Some((target, _, _)) = interop
        .iter()
        .find(|(t, _, _)| !reports.iter().any(|r| &r.target.name == t))
    {
        anyhow::bail!("--interop {target}=...: no report of a target {target} was given");
    }
    if let Some(dir) = &args.results_dir {
        for report in &reports {
            let stem = format!("{}-{}", report.target.name, report.target.version);
            write(
                &dir.join(format!("{stem}.json")),
                &(report.to_json().context("the report as JSON")? + "\n"),
            )?;
            write(&dir.join(format!("{stem}.md")), &report.markdown())?;
            if let Some((_, _, text)) = interop.iter().find(|(t, _, _)| *t == report.target.name) {
                write(&dir.join(format!("{stem}-interop.json")), text)?;
            }
        }
    }
    let mut runs = vec![];
    if let Some(path) = &args.history {
        let mut entries = vec![];
        for report in &reports {
            let mut entry = Entry::of(report).context("a history entry of the report")?;
            entry.terraform = interop_of(&interop, &report.target.name).map(Interop::cell);
            entries.push(entry);
        }
        runs = history::read(path)?;
        let added = history::append(&mut runs, entries);
        write(path, &history::to_jsonl(&runs)?)?;
        eprintln!("{added} run(s) added to the history");
    }
    if let Some(dir) = &args.badges {
        for report in &reports {
            let entry = match history::of_target(&runs, &report.target.name).last() {
                Some(last) => (*last).clone(),
                None => Entry::of(report).context("a badge of the report")?,
            };
            write(
                &dir.join(history::badge_file(&report.target.name)),
                &history::badge(&entry),
            )?;
        }
    }
    if let Some(path) = &args.html {
        let page = ecs_harness::html::html_with(&reports, &runs_html(&reports, &runs)?);
        write(path, &page)?;
    }
    if let Some(path) = &args.matrix {
        write(path, &matrix(&reports, &interop))?;
    }
    if let Some(path) = &args.glance {
        write(path, &glance(&reports, &interop, &runs))?;
    }
    Ok(())
}

/// A report's score on `tier` as a table cell: `16 / 87`.
fn tier_cell(report: &Report, tier: Tier) -> String {
    report
        .tiers
        .iter()
        .find(|t| t.tier == tier)
        .map_or_else(String::new, |t| format!("{} / {}", t.passed, t.total))
}

/// The page's section on each target's runs: how it was installed, the last run's date,
/// duration and tier scores, its trend over the last runs of the history, and its badge.
fn runs_html(reports: &[Report], runs: &[Entry]) -> Result<String> {
    use ecs_harness::html::escape;
    let mut o = String::from("<h2 id=\"runs\">Runs</h2>\n<table id=\"runs-table\">\n<tr><th>target</th><th>installed</th><th>suite</th><th>run</th><th>duration</th><th>core</th><th>complete</th><th>strict</th><th>complete, last runs</th><th>badge</th></tr>\n");
    for r in reports {
        let score = |tier| tier_cell(r, tier);
        let mine = history::of_target(runs, &r.target.name);
        // The badge of the run shown, inline: the page stays one file.
        let badge = history::badge(&Entry::of(r).context("a badge of the report")?);
        let _ = writeln!(
            o,
            "<tr><td>{} {}</td><td>{}{}</td><td>{} (botocore {})</td><td>{}</td><td>{:.0} s</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.target.name),
            escape(&r.target.version),
            escape(r.target.installed.as_deref().unwrap_or("not said")),
            r.target
                .image_digest
                .as_deref()
                .map(|d| format!(" <code>{}</code>", escape(d)))
                .unwrap_or_default(),
            escape(&r.suite.version),
            escape(&r.suite.botocore),
            escape(&r.started_at),
            r.duration_ms as f64 / 1000.0,
            score(Tier::Core),
            score(Tier::Complete),
            score(Tier::Strict),
            escape(&history::trend(&mine, Tier::Complete, 6)),
            badge.trim_end(),
        );
    }
    o.push_str("</table>\n<p>Tiers: <b>core</b> is task-set semantics, <b>complete</b> every rule, <b>strict</b> answer shape and timing; each counts the tier's rules that passed. The last runs come from <code>history.jsonl</code>, oldest first.</p>\n");
    Ok(o)
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

/// Rules × targets, and a last row for Terraform's lifecycle where interop reports are given.
fn matrix(reports: &[Report], interop: &Interops) -> String {
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
    // Reports saved from different catalogs: each target's cell is its own rule of that id,
    // and a rule its report lacks says so.
    for rule in &first.rules {
        let _ = write!(o, "| `{}` |", rule.id);
        for r in reports {
            match r.rules.iter().find(|rr| rr.id == rule.id) {
                Some(rr) => {
                    let _ = write!(o, " {} |", cell(rr.status, rr.reason.as_deref()));
                }
                None => o.push_str(" not in this report's catalog |"),
            }
        }
        o.push('\n');
    }
    if !interop.is_empty() {
        o.push_str("| interop: Terraform lifecycle (`ecs-conformance interop`) |");
        for r in reports {
            let text = interop_of(interop, &r.target.name).map_or("not run".into(), Interop::cell);
            let _ = write!(o, " {text} |");
        }
        o.push('\n');
    }
    o
}

/// One row per target: how it was installed and when it was run, case totals, the tier
/// scores and the complete tier's trend over the history (and Terraform's lifecycle steps,
/// where interop reports are given); then each third-party target's top root causes.
fn glance(reports: &[Report], interop: &Interops, runs: &[Entry]) -> String {
    let with_interop = !interop.is_empty();
    let mut o = String::from(
        "| target | installed | run | cases passed | failed | blocked | n/a | core | complete | strict | complete, last runs |",
    );
    if with_interop {
        o.push_str(" Terraform lifecycle |");
    }
    o.push_str("\n|---|---|---|---|---|---|---|---|---|---|---|");
    if with_interop {
        o.push_str("---|");
    }
    o.push('\n');
    for r in reports {
        let partly = match r
            .rules
            .iter()
            .filter(|x| x.status == RuleStatus::PartlyObserved)
            .count()
        {
            0 => String::new(),
            n => format!(" ({n} more partly observed)"),
        };
        let score = |tier| tier_cell(r, tier);
        let mine = history::of_target(runs, &r.target.name);
        let _ = write!(
            o,
            "| {} {} | {} | {} | {} / {} | {} | {} | {} | {} | {}{partly} | {} | {} |",
            r.target.name,
            r.target.version,
            r.target.installed.as_deref().map_or_else(
                || "not said".to_owned(),
                |i| format!("`{}`", i.replace('`', "'").replace('|', "\\|"))
            ),
            r.started_at.get(..10).unwrap_or(&r.started_at),
            r.count(Status::Passed),
            r.cases.len(),
            r.count(Status::Failed),
            r.count(Status::Blocked),
            r.count(Status::NotImplemented),
            score(Tier::Core),
            score(Tier::Complete),
            score(Tier::Strict),
            history::trend(&mine, Tier::Complete, 4),
        );
        if with_interop {
            let text = interop_of(interop, &r.target.name).map_or("not run".into(), Interop::cell);
            let _ = write!(o, " {text} |");
        }
        o.push('\n');
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn report(name: &str, rules: &[(&str, &str)]) -> Report {
        let rules: Vec<serde_json::Value> = rules
            .iter()
            .map(|(id, status)| {
                serde_json::json!({"id": id, "summary": "s", "source": "x",
                "level": "documented", "tier": "core", "status": status, "cases": 1,
                "checked": 1})
            })
            .collect();
        serde_json::from_value(serde_json::json!({"version": 4,
            "target": {"name": name, "version": "1", "endpoint": "http://127.0.0.1:1"},
            "suite": {"version": "0.1.0", "botocore": "1.44.5"}, "tiers": [],
            "started_at": "2026-12-07T00:00:00Z", "duration_ms": 0, "totals": {},
            "not_implemented": [], "root_causes": [], "rules": rules, "cases": []}))
        .unwrap()
    }

    /// Saved reports of different catalogs (an older one lacks a rule, or orders them
    /// otherwise) make a matrix, never a panic, and each cell is that target's own rule.
    #[test]
    fn reports_of_different_catalogs_make_a_matrix_by_rule_id() {
        let new = report("reference", &[("a", "passed"), ("b", "failed")]);
        let old = report("moto", &[("b", "passed")]);
        let m = matrix(&[new, old], &[]);
        let row = |id: &str| {
            m.lines()
                .find(|l| l.starts_with(&format!("| `{id}` |")))
                .unwrap()
                .to_owned()
        };
        assert!(
            row("a").ends_with("| not in this report's catalog |"),
            "{m}"
        );
        assert!(row("b").ends_with("| pass |"), "{m}");
        assert!(!row("b").contains("not in"), "{m}");
    }
}
