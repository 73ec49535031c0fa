//! What a run found: each step's and each case's status, failures and answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fixture::Case;

/// What failures of setup steps are attributed to (deliberately not a catalog rule).
pub const SETUP_LABEL: &str = "setup";

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
/// How a case (or a step) ended.
pub enum Status {
    /// Every check held.
    Passed,
    /// An expectation did not hold.
    Failed,
    /// Could not be checked: a setup step it depends on failed.
    Blocked,
    /// The target does not implement an operation the step needs.
    NotImplemented,
    /// The case needs a capability the target profile does not provide; it did not run.
    Skipped,
    /// The harness itself failed (a case panicked, a schema did not compile): never a pass,
    /// never the target's fault.
    Error,
}

impl Status {
    /// The status as a word in a sentence: `3 failed, 2 blocked`.
    pub fn word(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Blocked => "blocked",
            Status::NotImplemented => "n/a",
            Status::Skipped => "skipped",
            Status::Error => "harness error",
        }
    }

    /// The status as a short label.
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "pass",
            Status::Failed => "FAIL",
            Status::Blocked => "blocked",
            Status::NotImplemented => "n/a",
            Status::Skipped => "skipped",
            Status::Error => "ERROR",
        }
    }
}

/// One broken expectation, attributed to rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The rules the expectation belongs to.
    pub rules: Vec<String>,
    /// JSON path in the answer (`(answer)` for the answer as a whole).
    pub path: String,
    /// What was expected.
    pub expected: String,
    /// What came.
    pub actual: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
/// How one step ended.
pub struct StepResult {
    /// The step as reports name it (`2. CreateTaskSet`).
    pub label: String,
    /// The operation.
    pub op: String,
    /// How it ended.
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Why, when it did not pass.
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// The expectations that did not hold.
    pub failures: Vec<Failure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The HTTP status of the final answer.
    pub http_status: Option<u16>,
    /// The error code of a non-2xx answer, when it carried one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// What an error answer says went wrong: the `message` of an awsJson error, or for an HTML
    /// or text error page the line that names it (such as the exception of a server crash).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_line: Option<String>,
    /// How long the step took, polls included, in milliseconds.
    pub duration_ms: u64,
    /// The final answer's JSON body (2xx) or error code, for record mode; not in reports.
    #[serde(skip)]
    pub answer: Option<Answer>,
    /// The request as sent (variables substituted, placement merged), for reproducers.
    #[serde(skip)]
    pub request: Option<Value>,
    /// How many checks of each rule the final answer went through.
    #[serde(skip)]
    pub checks: BTreeMap<String, u32>,
}

impl StepResult {
    /// A step that got no answer of its own (not run, blocked, not applicable).
    pub fn without_answer(label: String, op: &str, status: Status, reason: String) -> StepResult {
        StepResult {
            label,
            op: op.to_owned(),
            status,
            reason: Some(reason),
            failures: vec![],
            http_status: None,
            error_code: None,
            key_line: None,
            duration_ms: 0,
            answer: None,
            request: None,
            checks: BTreeMap::new(),
        }
    }
}

/// What a target answered to a step.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// A 2xx answer's JSON body.
    Body(Value),
    /// An error answer's code.
    Error(String),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
/// How one case ended.
pub struct CaseResult {
    /// The case id.
    pub id: String,
    /// The fixture file.
    pub file: String,
    /// The rules the case checks.
    pub rules: Vec<String>,
    /// The case's tags.
    pub tags: Vec<String>,
    /// Where its expectations come from, as a word.
    pub provenance: String,
    /// How it ended.
    pub status: Status,
    /// Each step's result.
    pub steps: Vec<StepResult>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Cleanup steps that failed (the case's status is kept).
    pub cleanup_problems: Vec<String>,
    /// How long the case took, in milliseconds.
    pub duration_ms: u64,
    /// The value `{{unique}}` had in this run.
    #[serde(skip)]
    pub unique: String,
}

impl CaseResult {
    /// The reason of the first step with `status` (why a case is blocked or not applicable).
    pub fn reason_for(&self, status: Status) -> Option<String> {
        self.steps
            .iter()
            .find(|s| s.status == status)
            .and_then(|s| s.reason.clone())
    }

    /// Every failed expectation, with its step.
    pub fn failures(&self) -> impl Iterator<Item = (&StepResult, &Failure)> {
        self.steps
            .iter()
            .flat_map(|s| s.failures.iter().map(move |f| (s, f)))
    }
}

impl CaseResult {
    /// The result of `case` with these steps, no cleanup problems and no duration yet.
    pub(crate) fn of(
        case: &Case,
        status: Status,
        steps: Vec<StepResult>,
        unique: &str,
    ) -> CaseResult {
        CaseResult {
            id: case.id.clone(),
            file: case.file.clone(),
            rules: case.all_rules().into_iter().map(str::to_owned).collect(),
            tags: case.tags.clone(),
            provenance: case.provenance.describe(),
            status,
            steps,
            cleanup_problems: vec![],
            duration_ms: 0,
            unique: unique.to_owned(),
        }
    }
}

/// What a step that did not pass got, in one line: the HTTP status, the error code or the
/// key line of an error page, or the first expectation it broke.
pub fn what_it_answered(result: &StepResult) -> String {
    let mismatch = result
        .failures
        .iter()
        .find(|f| !matches!(f.path.as_str(), "(answer)" | "__type" | "(status)"))
        .map(|f| format!("{} expected {}, got {}", f.path, f.expected, f.actual));
    let mut parts = vec![];
    if result.error_code.is_some() || result.key_line.is_some() {
        parts.extend(result.http_status.map(|s| format!("HTTP {s}")));
        parts.extend(result.error_code.clone());
        parts.extend(result.key_line.as_ref().map(|l| format!("{l:?}")));
    } else if let Some(reason) = &result.reason {
        if mismatch.is_none() || result.failures.iter().any(|f| f.path == "(answer)") {
            parts.push(reason.clone());
        }
    }
    parts.extend(mismatch);
    if parts.is_empty() {
        result.status.label().to_owned()
    } else {
        parts.join(": ")
    }
}
