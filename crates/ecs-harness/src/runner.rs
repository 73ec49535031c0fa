//! Runs cases against a target: in parallel, one step at a time within a case, each answer
//! checked against its expectation, the generated output schema and the answer invariants.
//! A target that hangs, resets or answers garbage fails that step with the reason; a failed
//! setup step blocks the rest of its case; the run always goes on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ecs_client::{CallOptions, EcsClient, RawResponse};
use ecs_model::semantics::Observations;
use ecs_model::types::{Service, TaskSet};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::catalog::SCHEMA_RULE;
use crate::fixture::{Case, Expect, Step};
use crate::matcher::{self, Vars};

/// What failures of setup steps are attributed to (deliberately not a catalog rule).
pub const SETUP_LABEL: &str = "setup";

/// Error codes by which a target says it does not implement an operation.
pub const NOT_IMPLEMENTED_CODES: &[&str] = &[
    "UnknownOperationException",
    "NotImplemented",
    "NotImplementedException",
    "InvalidAction",
    "UnsupportedOperation",
];

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Passed,
    Failed,
    /// Could not be checked: a setup step it depends on failed.
    Blocked,
    /// The target does not implement an operation the step needs.
    NotImplemented,
    /// The case needs a capability the target profile does not provide; it did not run.
    Skipped,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "pass",
            Status::Failed => "FAIL",
            Status::Blocked => "blocked",
            Status::NotImplemented => "n/a",
            Status::Skipped => "skipped",
        }
    }
}

/// One broken expectation, attributed to rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub rules: Vec<String>,
    /// JSON path in the answer (`(answer)` for the answer as a whole).
    pub path: String,
    pub expected: String,
    pub actual: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct StepResult {
    pub label: String,
    pub op: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    pub duration_ms: u64,
    /// The final answer's JSON body (2xx) or error code, for record mode; not in reports.
    #[serde(skip)]
    pub answer: Option<Answer>,
}

/// What a target answered to a step.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    Body(Value),
    Error(String),
}

#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    pub id: String,
    pub file: String,
    pub rules: Vec<String>,
    pub tags: Vec<String>,
    pub provenance: String,
    pub status: Status,
    pub steps: Vec<StepResult>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cleanup_problems: Vec<String>,
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

    pub fn failures(&self) -> impl Iterator<Item = (&StepResult, &Failure)> {
        self.steps
            .iter()
            .flat_map(|s| s.failures.iter().map(move |f| (s, f)))
    }
}

#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Cases run at once.
    pub jobs: usize,
    /// Longest wait for one answer.
    pub step_timeout: Duration,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// Caps every polling step's timeout (for quick runs against targets known to misbehave).
    pub poll_cap: Option<Duration>,
    /// What the target provides beyond the API ([`crate::fixture::CAPABILITIES`]); a case that
    /// needs anything else is skipped.
    pub capabilities: Vec<String>,
    /// `launchType` or `capacityProviderStrategy`, and `networkConfiguration`, merged into
    /// every CreateTaskSet and CreateService request that sets none of them itself.
    pub placement: Option<serde_json::Map<String, Value>>,
}

impl Default for RunOptions {
    /// Eight cases at once, 30 s per answer, every capability (the reference emulator's).
    fn default() -> Self {
        RunOptions {
            jobs: 8,
            step_timeout: Duration::from_secs(30),
            progress: false,
            poll_cap: None,
            capabilities: crate::fixture::CAPABILITIES
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
            placement: None,
        }
    }
}

impl RunOptions {
    /// The capabilities `case` needs that the target does not provide.
    pub fn missing(&self, case: &Case) -> Vec<String> {
        case.needs
            .iter()
            .filter(|n| !self.capabilities.contains(n))
            .cloned()
            .collect()
    }
}

/// Compiled output-schema validators, one per shape, shared by all cases.
#[derive(Default)]
pub struct Schemas(Mutex<HashMap<String, Arc<jsonschema::Validator>>>);

impl Schemas {
    /// The validator of `shape`, compiled once; why there is none (a shape without a schema, a
    /// schema that does not compile) is an error, never a silent pass.
    fn validator(&self, shape: &str) -> Result<Arc<jsonschema::Validator>, String> {
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = cache.get(shape) {
            return Ok(v.clone());
        }
        let schema = ecs_model::schema::for_shape(shape)
            .ok_or_else(|| format!("the model has no schema for {shape}"))?;
        let validator = Arc::new(
            jsonschema::draft202012::new(&schema)
                .map_err(|e| format!("the schema of {shape} does not compile: {e}"))?,
        );
        cache.insert(shape.to_owned(), validator.clone());
        Ok(validator)
    }
}

/// Runs `cases` against the endpoint of `client`. `run_id` makes names unique per run.
pub async fn run(
    client: &EcsClient,
    cases: Vec<Case>,
    options: &RunOptions,
    run_id: &str,
) -> Vec<CaseResult> {
    let schemas = Arc::new(Schemas::default());
    let semaphore = Arc::new(Semaphore::new(options.jobs.max(1)));
    let bar = options.progress.then(|| {
        let bar = indicatif::ProgressBar::new(cases.len() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} cases {elapsed} {msg}")
        {
            bar.set_style(style);
        }
        bar
    });
    let mut tasks = tokio::task::JoinSet::new();
    for (index, case) in cases.into_iter().enumerate() {
        let client = client.clone();
        let schemas = schemas.clone();
        let semaphore = semaphore.clone();
        let options = options.clone();
        let unique = format!("{run_id}-{index:03}");
        let bar = bar.clone();
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let missing = options.missing(&case);
            let result = if missing.is_empty() {
                run_case(&client, &case, &options, &schemas, &unique).await
            } else {
                skipped(&case, &missing, &unique)
            };
            if let Some(bar) = &bar {
                bar.inc(1);
                if result.status == Status::Failed {
                    bar.set_message(format!("last failure: {}", result.id));
                }
            }
            (index, result)
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(r) = joined {
            results.push(r);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The result of a case that did not run: it needs what the target does not provide.
fn skipped(case: &Case, missing: &[String], unique: &str) -> CaseResult {
    let step = StepResult {
        label: "(not run)".into(),
        op: case.steps.first().map(|s| s.op.clone()).unwrap_or_default(),
        status: Status::Skipped,
        reason: Some(format!(
            "needs {}, which the target profile does not provide",
            missing.join(", ")
        )),
        failures: vec![],
        http_status: None,
        duration_ms: 0,
        answer: None,
    };
    CaseResult::of(case, Status::Skipped, vec![step], unique)
}

impl CaseResult {
    /// The result of `case` with these steps, no cleanup problems and no duration yet.
    fn of(case: &Case, status: Status, steps: Vec<StepResult>, unique: &str) -> CaseResult {
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

/// What a case has learnt so far.
#[derive(Default)]
struct CaseState {
    vars: Vars,
    tokens: Vars,
    /// Every desiredCount and scale seen in the answers, for the eventual invariants.
    seen: Observations,
}

pub async fn run_case(
    client: &EcsClient,
    case: &Case,
    options: &RunOptions,
    schemas: &Schemas,
    unique: &str,
) -> CaseResult {
    let started = Instant::now();
    let mut state = CaseState::default();
    state
        .vars
        .insert("unique".into(), Value::String(unique.to_owned()));
    let mut steps = Vec::new();
    let mut blocked_by: Option<String> = None;
    for (i, step) in case.steps.iter().enumerate() {
        let label = step.label(i);
        if let Some(reason) = &blocked_by {
            steps.push(StepResult {
                label,
                op: step.op.clone(),
                status: Status::Blocked,
                reason: Some(reason.clone()),
                failures: vec![],
                http_status: None,
                duration_ms: 0,
                answer: None,
            });
            continue;
        }
        // A setup step checks nothing of the case's rules: when it fails, the case is blocked,
        // and its failure is labelled `setup` (not a catalog rule) unless it names rules.
        let rules = if !step.rules.is_empty() {
            step.rules.clone()
        } else if step.setup {
            vec![SETUP_LABEL.to_owned()]
        } else {
            case.rules.clone()
        };
        let result = run_step(client, step, label, &rules, &mut state, options, schemas).await;
        if step.setup && blocks(&result) {
            let why = match result.status {
                Status::NotImplemented => "is not implemented".to_owned(),
                _ => match result.failures.first() {
                    Some(f) => format!(
                        "failed: {} expected {}, got {}",
                        f.path, f.expected, f.actual
                    ),
                    None => format!(
                        "failed: {}",
                        result.reason.as_deref().unwrap_or("no answer")
                    ),
                },
            };
            blocked_by = Some(format!("setup step {} {why}", result.label));
        }
        steps.push(result);
    }
    let mut cleanup_problems = Vec::new();
    for (i, step) in case.cleanup.iter().enumerate() {
        let r = run_step(
            client,
            step,
            format!("cleanup {}", step.label(i)),
            &case.rules,
            &mut state,
            options,
            schemas,
        )
        .await;
        if r.status != Status::Passed {
            cleanup_problems.push(format!(
                "{}: {}",
                r.label,
                r.reason
                    .clone()
                    .unwrap_or_else(|| r.status.label().to_owned())
            ));
        }
    }
    let status = case_status(case, &steps);
    CaseResult {
        cleanup_problems,
        duration_ms: started.elapsed().as_millis() as u64,
        ..CaseResult::of(case, status, steps, unique)
    }
}

/// Whether a failed step keeps later steps from running: it did not do its job (no answer, an
/// error, an expectation not met, not implemented). Failures of the answer checks alone (the
/// output schema, the invariants) are reported under their own rules and do not block.
fn blocks(result: &StepResult) -> bool {
    match result.status {
        Status::Passed | Status::Blocked | Status::Skipped => false,
        Status::NotImplemented => true,
        Status::Failed => {
            result.failures.is_empty()
                || result
                    .failures
                    .iter()
                    .any(|f| !f.rules.iter().all(|r| is_answer_check(r)))
        }
    }
}

fn is_answer_check(rule: &str) -> bool {
    rule == SCHEMA_RULE || rule.starts_with("inv.")
}

/// A failure of the case's own checks wins; then an operation the target lacks; then a
/// blocked check (a setup step failed); answer-check failures of setup steps come last, as the
/// rule table reports them under their own rules anyway.
fn case_status(case: &Case, steps: &[StepResult]) -> Status {
    if steps
        .iter()
        .any(|s| s.status == Status::Failed && !is_setup(case, s))
    {
        Status::Failed
    } else if steps.iter().any(|s| s.status == Status::NotImplemented) {
        Status::NotImplemented
    } else if steps.iter().any(|s| s.status == Status::Blocked) {
        Status::Blocked
    } else if steps.iter().any(|s| s.status == Status::Failed) {
        Status::Failed
    } else {
        Status::Passed
    }
}

fn is_setup(case: &Case, result: &StepResult) -> bool {
    case.steps
        .iter()
        .enumerate()
        .any(|(i, s)| s.setup && s.label(i) == result.label)
}

async fn run_step(
    client: &EcsClient,
    step: &Step,
    label: String,
    rules: &[String],
    state: &mut CaseState,
    options: &RunOptions,
    schemas: &Schemas,
) -> StepResult {
    let started = Instant::now();
    let finish = |status, reason: Option<String>, failures, http_status| StepResult {
        label: label.clone(),
        op: step.op.clone(),
        status,
        reason,
        failures,
        http_status,
        duration_ms: started.elapsed().as_millis() as u64,
        answer: None,
    };
    if let Some(ms) = step.sleep_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let Some(op) = ecs_model::operation::find(&step.op) else {
        return finish(
            Status::Failed,
            Some(format!("{} is not an ECS operation", step.op)),
            vec![],
            None,
        );
    };
    let request = match matcher::substitute(&step.request, &state.vars) {
        Ok(r) => with_placement(step, r, options.placement.as_ref()),
        Err(e) => return finish(Status::Blocked, Some(e.to_string()), vec![], None),
    };
    let expect = match &step.expect {
        Some(Expect::Body { body }) => match matcher::substitute(body, &state.vars) {
            Ok(b) => Some(Expect::Body { body: b }),
            Err(e) => return finish(Status::Blocked, Some(e.to_string()), vec![], None),
        },
        other => other.clone(),
    };
    let deadline = step.poll.map(|p| {
        let wait = Duration::from_millis(p.timeout_ms);
        Instant::now() + options.poll_cap.map_or(wait, |cap| wait.min(cap))
    });
    let mut last_error_code: Option<String>;
    loop {
        last_error_code = None;
        let answer = tokio::time::timeout(
            options.step_timeout,
            client.send_json(op, request.clone(), CallOptions::default().max_attempts(1)),
        )
        .await;
        let mut tokens = state.tokens.clone();
        let outcome = match answer {
            Err(_) => Outcome::failed(
                rules,
                format!("no answer within {:?}", options.step_timeout),
                None,
            ),
            Ok(Err(e)) => Outcome::failed(rules, format!("no usable answer: {e}"), None),
            Ok(Ok(raw)) => {
                last_error_code = if raw.status / 100 == 2 {
                    None
                } else {
                    ecs_client::error_code(&raw)
                };
                evaluate(
                    &step.op,
                    op.output_shape,
                    &raw,
                    expect.as_ref(),
                    &request,
                    rules,
                    &mut tokens,
                    state,
                    schemas,
                )
            }
        };
        let retry =
            outcome.status == Status::Failed && deadline.is_some_and(|d| Instant::now() < d);
        if retry {
            let interval = step.poll.map_or(50, |p| p.interval_ms);
            tokio::time::sleep(Duration::from_millis(interval)).await;
            continue;
        }
        if outcome.status == Status::Passed {
            state.tokens = tokens;
        }
        let mut failures = outcome.failures;
        if let (Some(body), Status::Passed) = (&outcome.body, outcome.status) {
            observe(body, &mut state.seen);
            for (name, path) in &step.capture {
                match matcher::lookup(body, path) {
                    Some(v) => {
                        state.vars.insert(name.clone(), v.clone());
                    }
                    None => failures.push(Failure {
                        rules: rules.to_vec(),
                        path: path.clone(),
                        expected: format!("a value to capture as {name}"),
                        actual: "(absent)".into(),
                    }),
                }
            }
        }
        let status = if failures.is_empty() {
            outcome.status
        } else {
            Status::Failed
        };
        let reason = outcome
            .reason
            .or_else(|| (!failures.is_empty()).then(|| format!("{} mismatch(es)", failures.len())));
        let mut result = finish(status, reason, failures, outcome.http_status);
        result.answer = match (outcome.body, last_error_code) {
            (Some(body), _) => Some(Answer::Body(body)),
            (None, Some(code)) => Some(Answer::Error(code)),
            (None, None) => None,
        };
        return result;
    }
}

/// Merges the profile's placement into a CreateTaskSet or CreateService request that sets none
/// of launchType, capacityProviderStrategy and networkConfiguration itself.
fn with_placement(
    step: &Step,
    mut request: Value,
    placement: Option<&serde_json::Map<String, Value>>,
) -> Value {
    use crate::profile::PLACEMENT_MEMBERS;
    let Some(placement) = placement else {
        return request;
    };
    if !step.placement || !matches!(step.op.as_str(), "CreateTaskSet" | "CreateService") {
        return request;
    }
    if let Value::Object(map) = &mut request {
        if !PLACEMENT_MEMBERS.iter().any(|m| map.contains_key(*m)) {
            for m in PLACEMENT_MEMBERS {
                if let Some(v) = placement.get(m) {
                    map.insert(m.to_owned(), v.clone());
                }
            }
        }
    }
    request
}

struct Outcome {
    status: Status,
    reason: Option<String>,
    failures: Vec<Failure>,
    http_status: Option<u16>,
    body: Option<Value>,
}

impl Outcome {
    fn failed(rules: &[String], reason: String, http_status: Option<u16>) -> Outcome {
        Outcome {
            status: Status::Failed,
            failures: vec![Failure {
                rules: rules.to_vec(),
                path: "(answer)".into(),
                expected: "an answer".into(),
                actual: reason.clone(),
            }],
            reason: Some(reason),
            http_status,
            body: None,
        }
    }
}

/// The answer's body on one line: an HTML page by its title, anything else cut to 160 characters.
fn excerpt(raw: &RawResponse) -> String {
    let text = raw.body_text();
    let lower = text.to_ascii_lowercase();
    if let (Some(start), Some(end)) = (lower.find("<title>"), lower.find("</title>")) {
        if start + 7 <= end {
            return format!("an HTML page titled {:?}", text[start + 7..end].trim());
        }
    }
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 160 {
        format!("{}…", one_line.chars().take(160).collect::<String>())
    } else {
        one_line
    }
}

#[allow(clippy::too_many_arguments)]
fn evaluate(
    op: &str,
    output_shape: &str,
    raw: &RawResponse,
    expect: Option<&Expect>,
    request: &Value,
    rules: &[String],
    tokens: &mut Vars,
    state: &CaseState,
    schemas: &Schemas,
) -> Outcome {
    let status = Some(raw.status);
    let ok = raw.status / 100 == 2;
    let code = if ok {
        None
    } else {
        ecs_client::error_code(raw)
    };
    if !ok
        && (raw.status == 501
            || code
                .as_deref()
                .is_some_and(|c| NOT_IMPLEMENTED_CODES.contains(&c)))
    {
        return Outcome {
            status: Status::NotImplemented,
            reason: Some(format!(
                "{op} is not implemented by the target ({})",
                code.as_deref().unwrap_or("HTTP 501")
            )),
            failures: vec![],
            http_status: status,
            body: None,
        };
    }
    let fail = |expected: String, actual: String| Failure {
        rules: rules.to_vec(),
        path: "(answer)".into(),
        expected,
        actual,
    };
    if let Some(Expect::Error {
        error,
        status: want_status,
    }) = expect
    {
        let mut failures = vec![];
        if ok {
            failures.push(fail(
                format!("error {error}"),
                format!("HTTP {} {}", raw.status, excerpt(raw)),
            ));
        } else {
            if code.as_deref() != Some(error.as_str()) {
                let actual = match &code {
                    Some(c) => c.clone(),
                    None => format!(
                        "HTTP {} without an error code: {}",
                        raw.status,
                        excerpt(raw)
                    ),
                };
                failures.push(Failure {
                    rules: rules.to_vec(),
                    path: "__type".into(),
                    expected: error.clone(),
                    actual,
                });
            }
            if let Some(s) = want_status.filter(|s| *s != raw.status) {
                failures.push(Failure {
                    rules: rules.to_vec(),
                    path: "(status)".into(),
                    expected: s.to_string(),
                    actual: raw.status.to_string(),
                });
            }
        }
        let passed = failures.is_empty();
        return Outcome {
            status: if passed {
                Status::Passed
            } else {
                Status::Failed
            },
            reason: None,
            failures,
            http_status: status,
            body: None,
        };
    }
    if !ok {
        let what = code.map_or_else(|| excerpt(raw), |c| format!("{c}: {}", excerpt(raw)));
        return Outcome::failed(rules, format!("HTTP {} {what}", raw.status), status);
    }
    let body: Value = match serde_json::from_slice(&raw.body) {
        Ok(v) => v,
        Err(_) => {
            return Outcome::failed(
                rules,
                format!("a 2xx answer that is not JSON: {}", excerpt(raw)),
                status,
            )
        }
    };
    let mut failures = vec![];
    if let Some(Expect::Body { body: expected }) = expect {
        let mut mismatches = vec![];
        matcher::check(expected, Some(&body), "", tokens, &mut mismatches);
        failures.extend(mismatches.into_iter().map(|m| Failure {
            rules: rules.to_vec(),
            path: m.path,
            expected: m.expected,
            actual: m.actual,
        }));
    }
    failures.extend(schema_failures(output_shape, &body, schemas));
    let mut seen = state.seen.clone();
    observe(&body, &mut seen);
    failures.extend(invariant_failures(op, request, &body, &seen));
    let status_ = if failures.is_empty() {
        Status::Passed
    } else {
        Status::Failed
    };
    Outcome {
        status: status_,
        reason: None,
        failures,
        http_status: status,
        body: Some(body),
    }
}

/// `/taskSets/0/id` -> `taskSets[0].id`.
fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').filter(|s| !s.is_empty()) {
        if seg.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// Where a 2xx answer breaks the generated JSON Schema of the operation's output.
pub(crate) fn schema_failures(output_shape: &str, body: &Value, schemas: &Schemas) -> Vec<Failure> {
    let failure = |path: String, actual: String| Failure {
        rules: vec![SCHEMA_RULE.to_owned()],
        path,
        expected: format!("valid {output_shape}"),
        actual,
    };
    match schemas.validator(output_shape) {
        Err(why) => vec![failure("(answer)".into(), why)],
        Ok(validator) => validator
            .iter_errors(body)
            .map(|e| {
                let path = e.instance_path().to_string();
                let path = if path.is_empty() {
                    "(answer)".into()
                } else {
                    pointer_to_path(&path)
                };
                failure(path, e.to_string())
            })
            .collect(),
    }
}

/// The answer invariants of `ecs_model::semantics` on every task set and service in a 2xx
/// answer, judged against `seen` (everything observed so far, this answer included). A task
/// set that does not name its service belongs to the one the request names. A task set or
/// service that does not decode is a schema departure, not a silent pass.
pub(crate) fn invariant_failures(
    op: &str,
    request: &Value,
    body: &Value,
    seen: &Observations,
) -> Vec<Failure> {
    use ecs_model::semantics::{service_invariants, task_set_invariants};
    let mut out = vec![];
    let push = |out: &mut Vec<Failure>, prefix: String, violations: Vec<ecs_model::Violation>| {
        out.extend(violations.into_iter().map(|v| Failure {
            rules: vec![v.rule.to_owned()],
            path: if v.path.is_empty() {
                prefix.clone()
            } else {
                format!("{prefix}.{}", v.path)
            },
            expected: "the invariant holds".into(),
            actual: v.message,
        }));
    };
    // Tags are only ever asked for by DescribeTaskSets; elsewhere the rule does not apply.
    let tags_requested = op != "DescribeTaskSets"
        || request
            .get("include")
            .and_then(Value::as_array)
            .is_some_and(|i| i.iter().any(|v| v == "TAGS"));
    let requested_service = request.get("service").and_then(Value::as_str);
    for (prefix, value) in task_sets_of(body) {
        match ecs_model::from_value::<TaskSet>(value) {
            Ok(ts) => {
                let mut ctx = seen.context_for(&ts, tags_requested);
                if let (true, Some(service)) = (ctx.desired_counts.is_empty(), requested_service) {
                    ctx.desired_counts = seen.desired_counts(service);
                }
                push(&mut out, prefix, task_set_invariants(&ts, ctx));
            }
            Err(e) => out.push(undecodable(prefix, "TaskSet", &e)),
        }
    }
    for (prefix, value) in services_of(body) {
        match ecs_model::from_value::<Service>(value) {
            Ok(svc) => push(&mut out, prefix, service_invariants(&svc, seen, true)),
            Err(e) => out.push(undecodable(prefix, "Service", &e)),
        }
    }
    out
}

fn undecodable(prefix: String, shape: &str, e: &ecs_model::DecodeError) -> Failure {
    Failure {
        rules: vec![SCHEMA_RULE.to_owned()],
        path: prefix,
        expected: format!("a {shape} the invariants can read"),
        actual: e.to_string(),
    }
}

/// The task sets of an answer (`taskSet`, `taskSets[]`), with their paths.
pub(crate) fn task_sets_of(body: &Value) -> Vec<(String, &Value)> {
    let mut sets: Vec<(String, &Value)> = vec![];
    if let Some(ts) = body.get("taskSet") {
        sets.push(("taskSet".into(), ts));
    }
    if let Some(list) = body.get("taskSets").and_then(Value::as_array) {
        sets.extend(
            list.iter()
                .enumerate()
                .map(|(i, ts)| (format!("taskSets[{i}]"), ts)),
        );
    }
    sets
}

/// The services of an answer (`service`, `services[]`), with their paths.
pub(crate) fn services_of(body: &Value) -> Vec<(String, &Value)> {
    let mut services: Vec<(String, &Value)> = vec![];
    if let Some(s) = body.get("service") {
        services.push(("service".into(), s));
    }
    if let Some(list) = body.get("services").and_then(Value::as_array) {
        services.extend(
            list.iter()
                .enumerate()
                .map(|(i, s)| (format!("services[{i}]"), s)),
        );
    }
    services
}

/// Records the desired counts and scales an answer shows.
pub fn observe(body: &Value, seen: &mut Observations) {
    for (_, value) in services_of(body) {
        if let Ok(svc) = ecs_model::from_value::<Service>(value) {
            seen.observe_service(&svc);
        }
    }
    for (_, value) in task_sets_of(body) {
        if let Ok(ts) = ecs_model::from_value::<TaskSet>(value) {
            seen.observe_task_set(&ts);
        }
    }
}
