//! The published runs over time: `conformance/results/history.jsonl` holds one line per
//! published run of a target (who, how installed, which suite, when, how long, the case totals
//! and the tier scores), appended by `ecs-conformance report --history`, never rewritten. The
//! matrix page draws each target's trend from it, and each target gets a badge.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use ecs_harness::report::RuleStatus;
use ecs_harness::{Catalog, Report, Tier, TierScore};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One published run of one target.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// The target's name (`moto`).
    pub target: String,
    /// Its version.
    pub version: String,
    /// How it was installed, when the run was told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    /// The container image's digest, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    /// The suite's version, when the report says it (reports before format 4 do not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    /// The botocore release of the ECS model, when the report says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub botocore: Option<String>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// Cases by status (`passed`, `failed`, ...), and `total`.
    pub cases: BTreeMap<String, usize>,
    /// Rules passed per tier.
    pub tiers: Vec<TierScore>,
    /// Terraform's lifecycle (`9 / 9`), when it was run with the suite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terraform: Option<String>,
    /// Where the entry comes from when it was not written by the run's own publication
    /// (an earlier published report taken from the repository's history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Members a later version wrote that this one does not know: kept as they were when the
    /// history is written back.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl Entry {
    /// The entry of a report of this format: its tier scores as they are, no catalog needed.
    pub fn of(report: &Report) -> Result<Entry> {
        // The statuses by the names the report's JSON gives them (`not-implemented`).
        let mut cases: BTreeMap<String, usize> =
            serde_json::from_value(serde_json::to_value(&report.totals)?)?;
        cases.insert("total".to_owned(), report.cases.len());
        Ok(Entry {
            target: report.target.name.clone(),
            version: report.target.version.clone(),
            installed: report.target.installed.clone(),
            image_digest: report.target.image_digest.clone(),
            suite: Some(report.suite.version.clone()),
            botocore: Some(report.suite.botocore.clone()),
            started_at: report.started_at.clone(),
            duration_ms: report.duration_ms,
            cases,
            tiers: report.tiers.clone(),
            terraform: None,
            note: None,
            other: BTreeMap::new(),
        })
    }

    /// The entry of a saved report, read leniently so that published reports of earlier formats
    /// (1 to 3) give one too: it needs the target, `started_at`, `duration_ms`, `totals` and the
    /// rules' ids and statuses. A report without tier scores (before format 4) is scored with
    /// the tiers `catalog` gives its rules' ids; rules the catalog no longer has count in
    /// complete only.
    pub fn from_report(report: &Value, catalog: &Catalog, file: &str) -> Result<Entry> {
        let text = |pointer: &str| -> Result<String> {
            report
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .with_context(|| format!("{file}: {pointer}: missing or not a string"))
        };
        let optional = |pointer: &str| {
            report
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let duration_ms = report
            .pointer("/duration_ms")
            .and_then(Value::as_u64)
            .with_context(|| format!("{file}: /duration_ms: missing or not a count"))?;
        let mut cases: BTreeMap<String, usize> = BTreeMap::new();
        let totals = report
            .pointer("/totals")
            .and_then(Value::as_object)
            .with_context(|| format!("{file}: /totals: missing or not an object"))?;
        for (status, count) in totals {
            let count = count
                .as_u64()
                .and_then(|c| usize::try_from(c).ok())
                .with_context(|| format!("{file}: /totals/{status}: not a count"))?;
            cases.insert(status.clone(), count);
        }
        let total = report
            .pointer("/cases")
            .and_then(Value::as_array)
            .map_or_else(|| cases.values().sum(), Vec::len);
        cases.insert("total".to_owned(), total);
        let tiers = match report.pointer("/tiers") {
            Some(tiers) => serde_json::from_value(tiers.clone())
                .with_context(|| format!("{file}: /tiers: not the tier scores of format 4"))?,
            None => score_by_catalog(report, catalog, file)?,
        };
        Ok(Entry {
            target: text("/target/name")?,
            version: text("/target/version")?,
            installed: optional("/target/installed"),
            image_digest: optional("/target/image_digest"),
            suite: optional("/suite/version"),
            botocore: optional("/suite/botocore"),
            started_at: text("/started_at")?,
            duration_ms,
            cases,
            tiers,
            terraform: None,
            note: None,
            other: BTreeMap::new(),
        })
    }

    /// Whether two entries are the same run (target, version and start).
    fn same_run(&self, other: &Entry) -> bool {
        self.target == other.target
            && self.version == other.version
            && self.started_at == other.started_at
    }

    /// The score of one tier.
    pub fn tier(&self, tier: Tier) -> Option<TierScore> {
        self.tiers.iter().copied().find(|t| t.tier == tier)
    }
}

/// Tier scores of an older report from its rules' statuses and the catalog's tiers.
fn score_by_catalog(report: &Value, catalog: &Catalog, file: &str) -> Result<Vec<TierScore>> {
    let rules = report
        .pointer("/rules")
        .and_then(Value::as_array)
        .with_context(|| format!("{file}: /rules: missing or not an array"))?;
    let mut scored = vec![];
    for (i, rule) in rules.iter().enumerate() {
        let id = rule
            .get("id")
            .and_then(Value::as_str)
            .with_context(|| format!("{file}: /rules/{i}/id: missing"))?;
        let status: RuleStatus = rule
            .get("status")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .ok()
            .flatten()
            .with_context(|| format!("{file}: /rules/{i}/status: not a rule status"))?;
        let tier = catalog.rule(id).map_or(Tier::Complete, |r| r.tier);
        scored.push((tier, status));
    }
    Ok(TierScore::of(scored.into_iter()))
}

/// The entries of a history file, oldest first as written; an absent file is an empty history.
/// A line that is not an entry is an error naming the file and line.
pub fn read(path: &Path) -> Result<Vec<Entry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a history entry", path.display(), n + 1))
        })
        .collect()
}

/// `history` with the `new` entries it does not hold yet appended, in the order given; returns
/// how many were new.
pub fn append(history: &mut Vec<Entry>, new: Vec<Entry>) -> usize {
    let mut added = 0;
    for entry in new {
        if !history.iter().any(|h| h.same_run(&entry)) {
            history.push(entry);
            added += 1;
        }
    }
    added
}

/// The history file's text: one entry per line.
pub fn to_jsonl(history: &[Entry]) -> Result<String> {
    let mut out = String::new();
    for entry in history {
        out.push_str(&serde_json::to_string(entry).context("a history entry as JSON")?);
        out.push('\n');
    }
    Ok(out)
}

/// The runs of `target`, oldest first by start.
pub fn of_target<'a>(history: &'a [Entry], target: &str) -> Vec<&'a Entry> {
    let mut runs: Vec<&Entry> = history.iter().filter(|e| e.target == target).collect();
    runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    runs
}

/// A target's trend in one tier over its last `n` runs, oldest first: `14/77 → 16/86 → 16/87`.
pub fn trend(runs: &[&Entry], tier: Tier, n: usize) -> String {
    let shown: Vec<String> = runs
        .iter()
        .skip(runs.len().saturating_sub(n))
        .filter_map(|e| e.tier(tier))
        .map(|t| format!("{}/{}", t.passed, t.total))
        .collect();
    shown.join(" → ")
}

/// The file name of a target's badge: its name with anything but ASCII letters, digits, `-`
/// and `_` made `_`, so that no name reaches outside the badge directory.
pub fn badge_file(target: &str) -> String {
    let safe: String = target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.svg")
}

/// A badge (SVG, in the usual two-part form) for a target's last run: the label on the left,
/// its core and complete scores on the right, coloured by the complete share.
pub fn badge(entry: &Entry) -> String {
    let left = "ECS conformance".to_owned();
    let score = |tier| {
        entry
            .tier(tier)
            .map_or_else(|| "?".to_owned(), |t| format!("{}/{}", t.passed, t.total))
    };
    let right = format!(
        "core {} · complete {}",
        score(Tier::Core),
        score(Tier::Complete)
    );
    let share = entry
        .tier(Tier::Complete)
        .filter(|t| t.total > 0)
        .map_or(0, |t| t.passed * 100 / t.total);
    let colour = match share {
        90.. => "#4c1",
        50.. => "#dfb317",
        _ => "#e05d44",
    };
    // Verdana 11 px averages close to 7 px a character; 10 px of padding each side.
    let width = |text: &str| text.chars().count() * 7 + 20;
    let (lw, rw) = (width(&left), width(&right));
    let title = format!(
        "{} {}: {}",
        entry.target,
        entry.version,
        entry
            .tiers
            .iter()
            .map(TierScore::label)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut o = String::new();
    let _ = write!(
        o,
        concat!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"20\" role=\"img\" aria-label=\"{t}\">",
            "<title>{t}</title>",
            "<rect width=\"{lw}\" height=\"20\" fill=\"#555\"/>",
            "<rect x=\"{lw}\" width=\"{rw}\" height=\"20\" fill=\"{c}\"/>",
            "<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" font-size=\"11\">",
            "<text x=\"{lx}\" y=\"14\">{l}</text><text x=\"{rx}\" y=\"14\">{r}</text></g></svg>\n"
        ),
        w = lw + rw,
        t = ecs_harness::html::escape(&title),
        lw = lw,
        rw = rw,
        c = colour,
        lx = lw / 2,
        rx = lw + rw / 2,
        l = ecs_harness::html::escape(&left),
        r = ecs_harness::html::escape(&right),
    );
    o
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn catalog() -> Catalog {
        crate::bundle::Bundle::new(None, None).catalog().unwrap()
    }

    fn old_report(started_at: &str, statuses: &[(&str, &str)]) -> Value {
        let rules: Vec<Value> = statuses
            .iter()
            .map(|(id, status)| serde_json::json!({"id": id, "status": status}))
            .collect();
        serde_json::json!({"version": 2, "target": {"name": "moto", "version": "5.2.5",
            "endpoint": "x"}, "started_at": started_at, "duration_ms": 1200,
            "totals": {"passed": 2, "failed": 1}, "rules": rules, "cases": [{}, {}, {}]})
    }

    /// A report of format 2 has no tiers: they come from the catalog's tiers of its rule ids,
    /// and an id the catalog lost counts in complete only.
    #[test]
    fn an_older_report_is_scored_by_the_catalog() {
        let report = old_report(
            "2026-12-02T05:39:58Z",
            &[
                ("ts.client-token", "passed"),
                ("ts.create.formats", "failed"),
                ("wire.answer-shape", "passed"),
                ("a.rule.since.removed", "passed"),
            ],
        );
        let entry = Entry::from_report(&report, &catalog(), "old.json").unwrap();
        let score = |t| entry.tier(t).map(|s| (s.passed, s.total)).unwrap();
        assert_eq!(score(Tier::Core), (1, 1));
        assert_eq!(score(Tier::Strict), (1, 2));
        assert_eq!(score(Tier::Complete), (3, 4));
        assert_eq!(entry.cases["total"], 3);
        assert_eq!(entry.suite, None);
    }

    #[test]
    fn a_report_without_what_an_entry_needs_is_refused_by_path() {
        let mut report = old_report("2026-12-02T05:39:58Z", &[]);
        report.as_object_mut().unwrap().remove("duration_ms");
        let e = Entry::from_report(&report, &catalog(), "old.json").unwrap_err();
        assert!(e.to_string().contains("old.json: /duration_ms"), "{e}");
        let mut report = old_report("2026-12-02T05:39:58Z", &[("ts.client-token", "won")]);
        let e = Entry::from_report(&report, &catalog(), "old.json").unwrap_err();
        assert!(e.to_string().contains("/rules/0/status"), "{e}");
        report["target"] = Value::Null;
        assert!(Entry::from_report(&report, &catalog(), "old.json").is_err());
    }

    /// Publishing the same run twice adds it once; the file reads back as written.
    #[test]
    fn the_same_run_is_appended_once_and_the_file_round_trips() {
        let catalog = catalog();
        let first = Entry::from_report(
            &old_report("2026-12-01T00:00:00Z", &[("ts.client-token", "failed")]),
            &catalog,
            "a",
        )
        .unwrap();
        let second = Entry::from_report(
            &old_report("2026-12-02T00:00:00Z", &[("ts.client-token", "passed")]),
            &catalog,
            "b",
        )
        .unwrap();
        let mut history = vec![];
        assert_eq!(append(&mut history, vec![second.clone(), first.clone()]), 2);
        assert_eq!(append(&mut history, vec![first.clone()]), 0);
        let dir = std::env::temp_dir().join(format!("history-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.jsonl");
        std::fs::write(&path, to_jsonl(&history).unwrap()).unwrap();
        assert_eq!(read(&path).unwrap(), history);
        std::fs::write(&path, "{\"target\": 1}\n").unwrap();
        let e = read(&path).unwrap_err();
        assert!(format!("{e:#}").contains("history.jsonl:1"), "{e:#}");
        std::fs::remove_dir_all(&dir).unwrap();
        // The trend is by start, whatever the order of the file.
        let runs = of_target(&history, "moto");
        assert_eq!(trend(&runs, Tier::Core, 5), "0/1 → 1/1");
        assert_eq!(trend(&runs, Tier::Core, 1), "1/1");
    }

    #[test]
    fn a_badge_names_the_scores_and_escapes_the_target() {
        let mut entry = Entry::from_report(
            &old_report("2026-12-02T00:00:00Z", &[("ts.client-token", "passed")]),
            &catalog(),
            "a",
        )
        .unwrap();
        entry.target = "odd <target>".into();
        let svg = badge(&entry);
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.contains("core 1/1 · complete 1/1"), "{svg}");
        assert!(svg.contains("#4c1"), "{svg}");
        assert!(svg.contains("odd &lt;target&gt;"), "{svg}");
        assert!(!svg.contains("<target>"), "{svg}");
        assert_eq!(badge_file("../../etc/x y"), "______etc_x_y.svg");
        assert_eq!(badge_file("moto-ext"), "moto-ext.svg");
    }

    /// A report of this format gives the same entry directly as through its JSON.
    #[test]
    fn a_report_s_own_entry_is_the_one_its_json_gives() {
        let report: Report = serde_json::from_value(serde_json::json!({"version": 4,
            "target": {"name": "moto", "version": "5.2.5", "endpoint": "x",
                "installed": "pip install moto[server]==5.2.5"},
            "suite": {"version": "0.1.0", "botocore": "1.44.5"},
            "tiers": [{"tier": "core", "passed": 1, "total": 2}],
            "started_at": "2026-12-07T00:00:00Z", "duration_ms": 5,
            "totals": {"passed": 2, "not-implemented": 1},
            "not_implemented": [], "root_causes": [], "rules": [], "cases": []}))
        .unwrap();
        let direct = Entry::of(&report).unwrap();
        assert_eq!(direct.cases["not-implemented"], 1);
        assert_eq!(direct.cases["total"], 0);
        assert_eq!(
            direct.installed.as_deref(),
            Some("pip install moto[server]==5.2.5")
        );
        let through_json =
            Entry::from_report(&serde_json::to_value(&report).unwrap(), &catalog(), "r").unwrap();
        assert_eq!(direct, through_json);
    }

    /// A member a later version added to an entry survives this version writing the file.
    #[test]
    fn members_of_a_later_version_are_kept() {
        let line = r#"{"target":"t","version":"1","started_at":"2026-12-08T00:00:00Z","duration_ms":1,"cases":{"total":0},"tiers":[],"image_signature":"x"}"#;
        let entry: Entry = serde_json::from_str(line).unwrap();
        assert_eq!(to_jsonl(&[entry]).unwrap(), format!("{line}\n"));
    }
}
