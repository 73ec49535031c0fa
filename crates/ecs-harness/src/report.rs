//! Reports: a terminal summary by rule and by case with readable failure diffs, and JSON,
//! JUnit and Markdown files. A baseline turns "any failure" into "any change".

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CheckedBy, Level, Tier};
use crate::causes::{root_causes, RootCause};
use crate::results::{CaseResult, Status};

/// Version of the report format (3: rule statuses gained `partly-observed`; 4: the suite, the
/// target's installation, each rule's tier and the tier scores).
pub const REPORT_VERSION: u32 = 4;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
/// The target a report is about.
pub struct TargetInfo {
    /// `reference`, `moto`, `fakecloud` or `endpoint`.
    pub name: String,
    /// The pinned version, or what the endpoint said of itself.
    pub version: String,
    /// Where it was reached.
    pub endpoint: String,
    /// How it was installed: a pip pin, a crate version, an image (`pip install
    /// moto[server]==5.2.5`); absent when the run was not told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    /// The digest of the container image it ran from, when given (`sha256:...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
}

impl TargetInfo {
    /// A target known by name, version and endpoint, with nothing said of its installation.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        endpoint: impl Into<String>,
    ) -> TargetInfo {
        TargetInfo {
            name: name.into(),
            version: version.into(),
            endpoint: endpoint.into(),
            installed: None,
            image_digest: None,
        }
    }
}

/// What was run: the suite's version, the botocore model its types and schemas come from, and
/// where the fixtures were read from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SuiteInfo {
    /// The suite's version (the harness's crate version; `ecs-conformance` has the same).
    pub version: String,
    /// The botocore release of the ECS service model.
    pub botocore: String,
    /// A fixture directory given instead of the suite of `version`; absent for the suite as
    /// released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixtures: Option<String>,
    /// A rule catalog given instead of the suite's (its tiers score the run); absent for the
    /// suite's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
    /// The filters that selected the cases run; empty when the whole suite ran (a filtered
    /// run's tier scores count the rules no selected case checked as not passed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter: Vec<String>,
}

impl SuiteInfo {
    /// The suite this build carries.
    pub fn this_build() -> SuiteInfo {
        SuiteInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            botocore: ecs_model::BOTOCORE_VERSION.to_owned(),
            fixtures: None,
            rules: None,
            filter: vec![],
        }
    }
}

/// A run's score on one tier of results: the rules of the tier that passed, of all the tier's
/// rules. A rule that was partly observed, skipped, not implemented, blocked or uncovered has
/// not passed.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TierScore {
    /// The tier.
    pub tier: Tier,
    /// Its rules that passed.
    pub passed: usize,
    /// Its rules.
    pub total: usize,
}

impl TierScore {
    /// The scores of rules given as `(tier, status)`, one per tier of [`Tier::ALL`].
    pub fn of(rules: impl Iterator<Item = (Tier, RuleStatus)> + Clone) -> Vec<TierScore> {
        Tier::ALL
            .into_iter()
            .map(|tier| {
                let counted = rules.clone().filter(|(rule, _)| tier.counts(*rule));
                TierScore {
                    tier,
                    passed: counted
                        .clone()
                        .filter(|(_, status)| *status == RuleStatus::Passed)
                        .count(),
                    total: counted.count(),
                }
            })
            .collect()
    }

    /// `core 18/40`.
    pub fn label(&self) -> String {
        format!("{} {}/{}", self.tier.label(), self.passed, self.total)
    }
}

/// The outcome of one rule over the whole run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RuleResult {
    /// The rule id.
    pub id: String,
    /// The rule, in our words.
    pub summary: String,
    /// Where it is documented, or the assumption it rests on.
    pub source: String,
    /// Documented, observed or assumed: how strong the ground of the rule is.
    pub level: Level,
    /// The narrowest tier of results the rule counts in.
    pub tier: Tier,
    /// How the rule fared in this run.
    pub status: RuleStatus,
    /// Cases that name the rule.
    pub cases: usize,
    /// How many times an answer was checked against it in this run.
    pub checked: u64,
    /// One line: the first failure, block or gap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
/// How one rule fared over a run.
pub enum RuleStatus {
    /// Every case that checks it passed.
    Passed,
    /// Answers were checked against it and none departed, but a case naming it did not run to
    /// its end (a step blocked, skipped, not implemented or a harness error): what the steps
    /// not run would have checked is unknown, so the rule is not counted as passed.
    PartlyObserved,
    /// A case that checks it failed.
    Failed,
    /// Every case that checks it was blocked.
    Blocked,
    /// The target does not implement what its cases need.
    NotImplemented,
    /// Every case that checks it was skipped: the target lacks a capability they need.
    Skipped,
    /// Cases ran, but no answer had what it checks (an invariant with no task set to look at).
    NotObserved,
    /// No case checks it (and no answer exercised it).
    Uncovered,
}

impl RuleStatus {
    /// The status as a short label.
    pub fn label(self) -> &'static str {
        match self {
            RuleStatus::Passed => "pass",
            RuleStatus::PartlyObserved => "partly observed",
            RuleStatus::Failed => "FAIL",
            RuleStatus::Blocked => "blocked",
            RuleStatus::NotImplemented => "n/a",
            RuleStatus::Skipped => "skipped",
            RuleStatus::NotObserved => "not observed",
            RuleStatus::Uncovered => "uncovered",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
/// A run's report: target, totals, root causes, rules and cases.
pub struct Report {
    /// The report format's version.
    pub version: u32,
    /// The target run against.
    pub target: TargetInfo,
    /// The suite that was run.
    pub suite: SuiteInfo,
    /// The run's score on each tier (core, complete, strict).
    pub tiers: Vec<TierScore>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// How many cases ended in each status.
    pub totals: BTreeMap<Status, usize>,
    /// Operations the target does not implement, each reported once.
    pub not_implemented: Vec<String>,
    /// Failed, blocked and errored cases grouped by what went wrong, most cases first.
    pub root_causes: Vec<RootCause>,
    /// Every rule of the catalog, in catalog order.
    pub rules: Vec<RuleResult>,
    /// Every case run, in run order.
    pub cases: Vec<CaseResult>,
}

impl Report {
    /// The report of a run of `cases` against `target`.
    pub fn new(
        target: TargetInfo,
        started_at: String,
        duration_ms: u64,
        cases: Vec<CaseResult>,
        catalog: &Catalog,
    ) -> Report {
        let mut totals = BTreeMap::new();
        for c in &cases {
            *totals.entry(c.status).or_insert(0) += 1;
        }
        let mut not_implemented: Vec<String> = cases
            .iter()
            .flat_map(|c| &c.steps)
            // The steps the target itself answered "not implemented", not the ones after them.
            .filter(|s| s.status == Status::NotImplemented && s.http_status.is_some())
            .map(|s| s.op.clone())
            .collect();
        not_implemented.sort();
        not_implemented.dedup();
        let rules: Vec<RuleResult> = catalog
            .rules
            .iter()
            .map(|r| rule_result(r, &cases))
            .collect();
        Report {
            version: REPORT_VERSION,
            target,
            suite: SuiteInfo::this_build(),
            tiers: TierScore::of(rules.iter().map(|r| (r.tier, r.status))),
            started_at,
            duration_ms,
            totals,
            not_implemented,
            root_causes: root_causes(&cases),
            rules,
            cases,
        }
    }

    /// Adds what a server's log says to the root causes that are crashes (see
    /// [`crate::causes::annotate_from_log`]).
    pub fn annotate_server_log(&mut self, log: &str) {
        crate::causes::annotate_from_log(&mut self.root_causes, log);
    }

    /// How many cases ended in `status`.
    pub fn count(&self, status: Status) -> usize {
        self.totals.get(&status).copied().unwrap_or(0)
    }

    /// Whether a case ended in a harness error: the run cannot be trusted either way.
    pub fn has_errors(&self) -> bool {
        self.count(Status::Error) > 0
    }

    /// The cases whose cleanup left something behind or failed.
    pub fn cleanup_problems(&self) -> impl Iterator<Item = (&str, &str)> {
        self.cases.iter().flat_map(|c| {
            c.cleanup_problems
                .iter()
                .map(move |p| (c.id.as_str(), p.as_str()))
        })
    }

    /// One line of case totals.
    pub fn totals_line(&self) -> String {
        let mut line = format!(
            "{} passed, {} failed, {} blocked, {} not implemented, {} skipped",
            self.count(Status::Passed),
            self.count(Status::Failed),
            self.count(Status::Blocked),
            self.count(Status::NotImplemented),
            self.count(Status::Skipped),
        );
        if self.has_errors() {
            line.push_str(&format!(", {} HARNESS ERRORS", self.count(Status::Error)));
        }
        line
    }

    /// `core 40/40, complete 87/87, strict 8/8`.
    pub fn tiers_line(&self) -> String {
        self.tiers
            .iter()
            .map(TierScore::label)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether every case passed (or was skipped for a capability the target lacks).
    pub fn all_passed(&self) -> bool {
        self.cases
            .iter()
            .all(|c| matches!(c.status, Status::Passed | Status::Skipped))
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// The statuses of this run, as a baseline to compare later runs with.
    pub fn baseline(&self) -> Baseline {
        Baseline {
            target: self.target.clone(),
            cases: self
                .cases
                .iter()
                .map(|c| (c.id.clone(), c.status))
                .collect(),
        }
    }

    /// The human summary, most useful first: the root causes ranked by the cases they explain
    /// (with a reproducer for the first ones), then the rules that did not pass grouped by
    /// level, then (verbose) every case that did not pass, then totals.
    pub fn terminal(&self, verbose: bool) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "target: {} {} at {}",
            self.target.name, self.target.version, self.target.endpoint
        );
        if !self.root_causes.is_empty() {
            let explained: usize = self.root_causes.iter().map(|c| c.cases.len()).sum();
            let _ = writeln!(
                o,
                "\nroot causes: {} explain the {explained} case(s) that did not pass, most cases first",
                self.root_causes.len()
            );
            let shown = if verbose { usize::MAX } else { 10 };
            for (i, c) in self.root_causes.iter().take(shown).enumerate() {
                let _ = writeln!(o, "{:>3}. {}: {}", i + 1, c.count_line(), c.headline());
                let _ = writeln!(
                    o,
                    "       e.g. {}: {}",
                    c.first_case(),
                    one_line(&c.example, 200)
                );
                if i < 3 || verbose {
                    let _ = writeln!(o, "       reproduce ({}):", c.reproducer.case);
                    for step in &c.reproducer.steps {
                        let _ = writeln!(o, "         {}", step.aws_cli(&self.target.endpoint));
                    }
                }
            }
            if self.root_causes.len() > shown {
                let _ = writeln!(
                    o,
                    "     ... {} more (--verbose lists them all)",
                    self.root_causes.len() - shown
                );
            }
        }
        let _ = writeln!(o, "\nrules:");
        let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &self.rules {
            *by_status.entry(r.status.label()).or_insert(0) += 1;
        }
        // Departures grouped by how strong the rule's ground is.
        for level in Level::ALL {
            let shown: Vec<&RuleResult> = self
                .rules
                .iter()
                .filter(|r| r.level == level && (r.status != RuleStatus::Passed || verbose))
                .collect();
            if shown.is_empty() {
                continue;
            }
            let _ = writeln!(o, "  {} rules:", level.label());
            for r in shown {
                let _ = writeln!(
                    o,
                    "    {:12} {:50} {:>5}x {}",
                    r.status.label(),
                    r.id,
                    r.checked,
                    one_line(r.reason.as_deref().unwrap_or(""), 140)
                );
            }
        }
        let _ = writeln!(
            o,
            "  {} (Nx: answers checked against the rule)",
            by_status
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(o, "  tiers: {} (rules passed)", self.tiers_line());
        if verbose {
            let _ = writeln!(o, "\ncases:");
            for c in self.cases.iter().filter(|c| c.status == Status::Failed) {
                let _ = writeln!(
                    o,
                    "\nFAIL {}  [{}]  ({})",
                    c.id,
                    c.rules.join(", "),
                    c.provenance
                );
                for (step, f) in c.failures() {
                    let _ = writeln!(o, "  {}  rule {}", step.label, f.rules.join(", "));
                    let _ = writeln!(o, "    at       {}", f.path);
                    let _ = writeln!(o, "    expected {}", f.expected);
                    let _ = writeln!(o, "    actual   {}", f.actual);
                }
            }
            for c in self.cases.iter().filter(|c| {
                matches!(
                    c.status,
                    Status::Blocked | Status::NotImplemented | Status::Skipped | Status::Error
                )
            }) {
                let reason = c.reason_for(c.status).unwrap_or_default();
                let _ = writeln!(o, "{} {}: {reason}", c.status.label(), c.id);
            }
        }
        if !self.not_implemented.is_empty() {
            let _ = writeln!(
                o,
                "not implemented by the target: {}",
                self.not_implemented.join(", ")
            );
        }
        let cleanup: Vec<(&str, &str)> = self.cleanup_problems().collect();
        if !cleanup.is_empty() {
            let _ = writeln!(
                o,
                "cleanup: {} problem(s) in {} case(s); the first: {}: {}",
                cleanup.len(),
                cleanup
                    .iter()
                    .map(|(c, _)| c)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len(),
                cleanup[0].0,
                one_line(cleanup[0].1, 160)
            );
        }
        let _ = writeln!(
            o,
            "cases: {} ({} in {:.1} s)",
            self.totals_line(),
            self.cases.len(),
            self.duration_ms as f64 / 1000.0
        );
        o
    }

    /// A Markdown page: summary, root causes, the rule table, and the failures.
    pub fn markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "# Conformance: {} {}\n",
            self.target.name, self.target.version
        );
        let _ = writeln!(o, "{} cases: {}.\n", self.cases.len(), self.totals_line());
        let _ = writeln!(
            o,
            "Rules passed by tier: {}. Suite {} (botocore {}), run {} in {:.0} s; target installed as {}.\n",
            self.tiers_line(),
            self.suite.version,
            self.suite.botocore,
            self.started_at,
            self.duration_ms as f64 / 1000.0,
            self.target.installed.as_deref().unwrap_or("(not said)")
        );
        if !self.root_causes.is_empty() {
            o.push_str("## Root causes\n\nEach is the first thing that went wrong in the cases it explains, most cases first.\n\n");
            for (i, c) in self.root_causes.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "{}. **{}**: `{}`  \n   e.g. `{}`: {}",
                    i + 1,
                    c.count_line(),
                    c.headline().replace('`', "'"),
                    c.first_case(),
                    one_line(&c.example, 300).replace('`', "'")
                );
                let _ = writeln!(
                    o,
                    "   <details><summary>reproduce ({})</summary>\n",
                    c.reproducer.case
                );
                o.push_str("   ```sh\n");
                for step in &c.reproducer.steps {
                    let _ = writeln!(o, "   {}", step.aws_cli("$ENDPOINT"));
                }
                o.push_str("   ```\n   </details>\n\n");
            }
        }
        o.push_str("## Rules\n\n| rule | level | status | cases | checked | reason |\n|---|---|---|---|---|---|\n");
        for r in &self.rules {
            let reason = r.reason.as_deref().unwrap_or("").replace('|', "\\|");
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} | {} | {} |",
                r.id,
                r.level.label(),
                r.status.label(),
                r.cases,
                r.checked,
                reason
            );
        }
        let failing: Vec<&CaseResult> = self
            .cases
            .iter()
            .filter(|c| c.status == Status::Failed)
            .collect();
        if !failing.is_empty() {
            o.push_str("\n## Failures\n");
            for c in failing {
                let _ = writeln!(o, "\n### `{}`\n", c.id);
                for (step, f) in c.failures() {
                    let _ = writeln!(
                        o,
                        "- {} (rule {}): at `{}` expected `{}`, got `{}`",
                        step.label,
                        f.rules.join(", "),
                        f.path,
                        f.expected.replace('`', "'"),
                        f.actual.replace('`', "'")
                    );
                }
            }
        }
        o
    }

    /// JUnit XML: one test suite per fixture file, one test case per case.
    pub fn junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};
        let mut report = JReport::new(format!("ecs-conformance {}", self.target.name));
        let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
        for c in &self.cases {
            let status = match c.status {
                Status::Passed => TestCaseStatus::success(),
                Status::Failed => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    let text: Vec<String> = c
                        .failures()
                        .map(|(step, f)| {
                            format!(
                                "{}: {} expected {} actual {} [{}]",
                                step.label,
                                f.path,
                                f.expected,
                                f.actual,
                                f.rules.join(",")
                            )
                        })
                        .collect();
                    s.set_description(text.join("\n"));
                    s
                }
                Status::Error => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(c.reason_for(Status::Error).unwrap_or_default());
                    s
                }
                Status::Blocked | Status::NotImplemented | Status::Skipped => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(
                        c.reason_for(c.status)
                            .unwrap_or_else(|| c.status.label().to_owned()),
                    );
                    s
                }
            };
            let mut tc = TestCase::new(c.id.clone(), status);
            tc.set_classname(c.file.trim_end_matches(".json").replace('/', "."));
            tc.set_time(std::time::Duration::from_millis(c.duration_ms));
            suites
                .entry(c.file.as_str())
                .or_insert_with(|| TestSuite::new(c.file.clone()))
                .add_test_case(tc);
        }
        report.add_test_suites(suites.into_values());
        report.to_string().unwrap_or_default()
    }
}

fn rule_result(rule: &crate::catalog::Rule, cases: &[CaseResult]) -> RuleResult {
    let naming: Vec<&CaseResult> = cases
        .iter()
        .filter(|c| c.rules.contains(&rule.id))
        .collect();
    // The reason shown is a real departure where there is one (an answer in awsJson that says
    // something else than AWS would), before a crash or a missing answer.
    let failures = || {
        cases
            .iter()
            .flat_map(|c| c.failures().map(move |(s, f)| (c, s, f)))
            .filter(|(_, _, f)| f.rules.contains(&rule.id))
    };
    let answered = |s: &crate::results::StepResult| {
        s.error_code.is_some() || s.http_status.is_some_and(|h| h / 100 == 2)
    };
    let failure = failures()
        .find(|(_, s, _)| answered(s))
        .or_else(|| failures().next());
    let checked: u64 = cases
        .iter()
        .flat_map(|c| &c.steps)
        .filter_map(|s| s.checks.get(&rule.id))
        .map(|n| u64::from(*n))
        .sum();
    let first_with = |status: Status| naming.iter().find(|c| c.status == status);
    let (status, reason) = if let Some((c, s, f)) = failure {
        (
            RuleStatus::Failed,
            Some(format!(
                "{} {}: {} expected {}, got {}",
                c.id, s.op, f.path, f.expected, f.actual
            )),
        )
    } else if checked > 0 {
        // A case that ran every step checked what it could, even if it failed on another
        // rule; one with steps not run (blocked, skipped, not implemented, a harness error)
        // left checks of this rule undone.
        let not_run = |s: &crate::results::StepResult| {
            matches!(
                s.status,
                Status::Blocked | Status::Skipped | Status::NotImplemented | Status::Error
            )
        };
        let unfinished: Vec<&&CaseResult> = naming
            .iter()
            .filter(|c| c.steps.iter().any(not_run))
            .collect();
        match unfinished.first() {
            None => (RuleStatus::Passed, None),
            Some(c) => {
                let step = c.steps.iter().find(|s| not_run(s));
                let why = step
                    .and_then(|s| s.reason.clone())
                    .unwrap_or_else(|| c.status.label().to_owned());
                (
                    RuleStatus::PartlyObserved,
                    Some(format!(
                        "{} of {} cases naming it did not run to their end; {} {}: {why}",
                        unfinished.len(),
                        naming.len(),
                        c.id,
                        step.map_or(c.status, |s| s.status).label()
                    )),
                )
            }
        }
    } else if let Some(c) = first_with(Status::Error) {
        (RuleStatus::Blocked, c.reason_for(Status::Error))
    } else if let Some(c) = first_with(Status::NotImplemented) {
        (
            RuleStatus::NotImplemented,
            c.reason_for(Status::NotImplemented),
        )
    } else if let Some(c) = naming.iter().find(|c| {
        c.status == Status::Blocked || c.steps.iter().any(|s| s.status == Status::Blocked)
    }) {
        (RuleStatus::Blocked, c.reason_for(Status::Blocked))
    } else if let Some(c) = first_with(Status::Skipped) {
        (RuleStatus::Skipped, c.reason_for(Status::Skipped))
    } else if !naming.is_empty() || rule.checked_by != CheckedBy::Cases {
        (
            RuleStatus::NotObserved,
            Some(match rule.checked_by {
                CheckedBy::Cases => "its cases ran, but no answer was checked against it".into(),
                _ => "no answer in this run had what it checks".into(),
            }),
        )
    } else {
        (
            RuleStatus::Uncovered,
            Some("no case checks this rule in this run".into()),
        )
    };
    RuleResult {
        id: rule.id.clone(),
        summary: rule.summary.clone(),
        source: rule.source.clone(),
        level: rule.level,
        tier: rule.tier,
        status,
        cases: naming.len(),
        checked,
        reason: reason.map(|r| one_line(&r, 200)),
    }
}

pub use crate::text::one_line;

/// The status of each case at some earlier run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Baseline {
    /// The target the baseline was recorded against.
    pub target: TargetInfo,
    /// Every case's status.
    pub cases: BTreeMap<String, Status>,
}

/// How a run differs from its baseline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BaselineDiff {
    /// Cases that passed (or were absent) and now do not.
    pub regressions: Vec<(String, Option<Status>, Status)>,
    /// Cases that did not pass and now do: update the baseline.
    pub fixed: Vec<(String, Status)>,
    /// Other changes (new cases, one non-passing status to another).
    pub other: Vec<(String, Option<Status>, Option<Status>)>,
    /// Cases of the baseline the run has no result for, in a run of the whole suite: gone
    /// from the fixtures, or lost by the run. Either way a change, never a silent shrink.
    pub vanished: Vec<(String, Status)>,
}

impl BaselineDiff {
    /// Whether no case changed status.
    pub fn is_empty(&self) -> bool {
        self.regressions.is_empty()
            && self.fixed.is_empty()
            && self.other.is_empty()
            && self.vanished.is_empty()
    }

    /// The changes, one per line.
    pub fn describe(&self) -> String {
        let mut o = String::new();
        for (id, before, now) in &self.regressions {
            let _ = writeln!(
                o,
                "regression: {id}: {} -> {}",
                before.map_or("new", |b| b.label()),
                now.label()
            );
        }
        for (id, before) in &self.fixed {
            let _ = writeln!(
                o,
                "now passing (update the baseline): {id}: {} -> pass",
                before.label()
            );
        }
        for (id, before) in &self.vanished {
            let _ = writeln!(
                o,
                "vanished: {id}: {} -> no result (gone from the suite, or lost by the run; update the baseline if it was removed)",
                before.label()
            );
        }
        for (id, before, now) in &self.other {
            let _ = writeln!(
                o,
                "changed: {id}: {} -> {}",
                before.map_or("absent", |b| b.label()),
                now.map_or("absent", |n| n.label())
            );
        }
        o
    }
}

impl Baseline {
    /// Compares a run with this baseline. `whole_suite`: the run selected every case, so a
    /// case of the baseline without a result has vanished; a filtered run compares only the
    /// cases it ran.
    pub fn diff(&self, report: &Report, whole_suite: bool) -> BaselineDiff {
        let mut d = BaselineDiff::default();
        if whole_suite {
            let ran: std::collections::BTreeSet<&str> =
                report.cases.iter().map(|c| c.id.as_str()).collect();
            d.vanished = self
                .cases
                .iter()
                .filter(|(id, _)| !ran.contains(id.as_str()))
                .map(|(id, s)| (id.clone(), *s))
                .collect();
        }
        for c in &report.cases {
            let before = self.cases.get(&c.id).copied();
            match (before, c.status) {
                (Some(b), now) if b == now => {}
                (Some(b), Status::Passed) => d.fixed.push((c.id.clone(), b)),
                (Some(Status::Passed) | None, now) if now != Status::Passed => {
                    d.regressions.push((c.id.clone(), before, now))
                }
                (b, now) => d.other.push((c.id.clone(), b, Some(now))),
            }
        }
        d
    }
}
