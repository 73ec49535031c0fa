//! Runs cases against a target: in parallel, one step at a time within a case, each answer
//! checked against its expectation, the generated output schema and the answer invariants.
//! A target that hangs, resets or answers garbage fails that step with the reason; a failed
//! setup step blocks the rest of its case; the run always goes on.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ecs_client::{CallOptions, EcsClient, RawResponse};
use ecs_model::semantics::Observations;
use ecs_model::types::{Service, TaskSet};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::catalog::{NULL_RULE, SCHEMA_RULE};
use crate::fixture::{Case, Expect, Step};
use crate::matcher::{self, Vars};
use crate::report::one_line;
use crate::settle::{self, Settle, SettleRules};
use crate::shapes::{AnswerShapes, ANSWER_SHAPE_RULE};

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

#[derive(Clone, Debug)]
/// How a run goes: parallel cases, timeouts, polling caps, the target's capabilities and placement.
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
    /// The members AWS always answers (`conformance/answer-shapes.json`), checked on every
    /// 2xx answer under [`crate::shapes::ANSWER_SHAPE_RULE`]; without a table the rule is
    /// never checked, and so never passes.
    pub answer_shapes: Option<Arc<AnswerShapes>>,
    /// How long a computed value must stay unchanged before a poll takes it as settled
    /// ([`crate::settle`]); [`crate::settle::LONGEST_RECOMPUTE`] unless the target is known to
    /// be slower than AWS.
    pub settle_window: Duration,
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
            answer_shapes: None,
            settle_window: crate::settle::LONGEST_RECOMPUTE,
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

/// Compiled output-schema validators, one per shape, shared by all cases, and the table of
/// members AWS always answers.
pub struct Schemas {
    cache: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
    /// Where a shape's schema comes from (the generated one; a test's broken one).
    source: fn(&str) -> Option<Value>,
    answer_shapes: Option<Arc<AnswerShapes>>,
}

impl Default for Schemas {
    fn default() -> Self {
        Schemas {
            cache: Mutex::default(),
            source: ecs_model::schema::for_shape,
            answer_shapes: None,
        }
    }
}

/// Why a run could not start: a harness defect, never the target's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("output schema check unavailable: {0}")]
    /// An output schema did not compile.
    Schema(String),
}

impl Schemas {
    /// The validators of every operation `cases` call, compiled before any request: a schema
    /// that does not compile stops the run instead of turning its checks off.
    pub fn for_cases(cases: &[Case]) -> Result<Schemas, RunError> {
        Schemas::default().compiled_for(cases)
    }

    fn compiled_for(self, cases: &[Case]) -> Result<Schemas, RunError> {
        let schemas = self;
        let ops: std::collections::BTreeSet<&str> = cases
            .iter()
            .flat_map(|c| c.steps.iter().chain(&c.cleanup))
            .map(|s| s.op.as_str())
            .collect();
        for op in ops {
            if let Some(info) = ecs_model::operation::find(op) {
                schemas
                    .validator(info.output_shape)
                    .map_err(RunError::Schema)?;
            }
        }
        Ok(schemas)
    }

    /// The validator of `shape`, compiled once; why there is none (a shape without a schema, a
    /// schema that does not compile) is an error, never a silent pass.
    fn validator(&self, shape: &str) -> Result<Arc<jsonschema::Validator>, String> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = cache.get(shape) {
            return Ok(v.clone());
        }
        let schema =
            (self.source)(shape).ok_or_else(|| format!("the model has no schema for {shape}"))?;
        let validator = Arc::new(
            jsonschema::draft202012::new(&schema)
                .map_err(|e| format!("the schema of {shape} does not compile: {e}"))?,
        );
        cache.insert(shape.to_owned(), validator.clone());
        Ok(validator)
    }
}

/// Runs `cases` against the endpoint of `client`. `run_id` makes names unique per run.
///
/// Every case comes back, in input order: a case whose task panics is an
/// [`Status::Error`] result, never dropped.
pub async fn run(
    client: &EcsClient,
    cases: Vec<Case>,
    options: &RunOptions,
    run_id: &str,
) -> Result<Vec<CaseResult>, RunError> {
    let mut schemas = Schemas::for_cases(&cases)?;
    schemas.answer_shapes = options.answer_shapes.clone();
    run_with(
        client,
        cases,
        options,
        run_id,
        Arc::new(schemas),
        run_case_task,
    )
    .await
}

/// What runs one case; the seam tests use to prove a panicking case is reported.
type CaseFn =
    for<'a> fn(
        &'a EcsClient,
        &'a Case,
        &'a RunOptions,
        &'a Schemas,
        &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = CaseResult> + Send + 'a>>;

fn run_case_task<'a>(
    client: &'a EcsClient,
    case: &'a Case,
    options: &'a RunOptions,
    schemas: &'a Schemas,
    unique: &'a str,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = CaseResult> + Send + 'a>> {
    Box::pin(run_case(client, case, options, schemas, unique))
}

async fn run_with(
    client: &EcsClient,
    cases: Vec<Case>,
    options: &RunOptions,
    run_id: &str,
    schemas: Arc<Schemas>,
    case_fn: CaseFn,
) -> Result<Vec<CaseResult>, RunError> {
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
    // What to report for a case whose task ends without a result.
    let mut pending: HashMap<tokio::task::Id, (usize, Case, String)> = HashMap::new();
    for (index, case) in cases.into_iter().enumerate() {
        let client = client.clone();
        let schemas = schemas.clone();
        let semaphore = semaphore.clone();
        let options = options.clone();
        let unique = format!("{run_id}-{index:03}");
        let bar = bar.clone();
        let task_case = case.clone();
        let task_unique = unique.clone();
        let handle = tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let missing = options.missing(&task_case);
            let result = if missing.is_empty() {
                case_fn(&client, &task_case, &options, &schemas, &task_unique).await
            } else {
                skipped(&task_case, &missing, &task_unique)
            };
            if let Some(bar) = &bar {
                bar.inc(1);
                if result.status == Status::Failed {
                    bar.set_message(format!("last failure: {}", result.id));
                }
            }
            (index, result)
        });
        pending.insert(handle.id(), (index, case, unique));
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((id, r)) => {
                pending.remove(&id);
                results.push(r);
            }
            Err(e) => {
                if let Some((index, case, unique)) = pending.remove(&e.id()) {
                    let why = if e.is_panic() {
                        let payload = e.into_panic();
                        let text = payload
                            .downcast_ref::<&str>()
                            .map(|s| (*s).to_owned())
                            .or_else(|| payload.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "a non-text panic payload".to_owned());
                        format!("the harness panicked while running this case: {text}")
                    } else {
                        "the harness cancelled this case".to_owned()
                    };
                    if let Some(bar) = &bar {
                        bar.inc(1);
                    }
                    results.push((index, errored(&case, why, &unique)));
                }
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

/// The result of a case the harness could not finish.
fn errored(case: &Case, why: String, unique: &str) -> CaseResult {
    let op = case.steps.first().map_or("", |s| s.op.as_str());
    let step = StepResult::without_answer("(harness)".into(), op, Status::Error, why);
    CaseResult::of(case, Status::Error, vec![step], unique)
}

/// The result of a case that did not run: it needs what the target does not provide.
fn skipped(case: &Case, missing: &[String], unique: &str) -> CaseResult {
    let op = case.steps.first().map_or("", |s| s.op.as_str());
    let step = StepResult::without_answer(
        "(not run)".into(),
        op,
        Status::Skipped,
        format!(
            "needs {}, which the target profile does not provide",
            missing.join(", ")
        ),
    );
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
    /// The task set of the case's last mutating call, if it wrote one
    /// ([`settle::written_after`]).
    written: Option<settle::Written>,
}

/// Runs one case against `client`; `unique` names the case's resources.
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
    // Once the target lacks an operation the case needs, nothing after it is charged to rules.
    let mut not_applicable: Option<String> = None;
    for (i, step) in case.steps.iter().enumerate() {
        let label = step.label(i);
        if let Some(reason) = not_applicable.as_ref().or(blocked_by.as_ref()) {
            let status = if not_applicable.is_some() {
                Status::NotImplemented
            } else {
                Status::Blocked
            };
            steps.push(StepResult::without_answer(
                label,
                &step.op,
                status,
                reason.clone(),
            ));
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
        if result.status == Status::NotImplemented {
            not_applicable = Some(format!(
                "not run: step {} is not implemented by the target",
                result.label
            ));
        } else if step.setup && blocks(&result) {
            blocked_by = Some(format!(
                "setup step {} failed: {}",
                result.label,
                what_it_answered(&result)
            ));
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
        if !matches!(r.status, Status::Passed | Status::NotImplemented) {
            cleanup_problems.push(format!("{}: {}", r.label, what_it_answered(&r)));
        }
    }
    let status = case_status(case, &steps);
    CaseResult {
        cleanup_problems,
        duration_ms: started.elapsed().as_millis() as u64,
        ..CaseResult::of(case, status, steps, unique)
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

/// Whether a failed step keeps later steps from running: it did not do its job (no answer, an
/// error, an expectation not met, not implemented). Failures of the answer checks alone (the
/// output schema, the invariants) are reported under their own rules and do not block.
fn blocks(result: &StepResult) -> bool {
    match result.status {
        Status::Passed | Status::Blocked | Status::Skipped => false,
        Status::NotImplemented | Status::Error => true,
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
    rule == SCHEMA_RULE
        || rule == NULL_RULE
        || rule == ANSWER_SHAPE_RULE
        || rule.starts_with("inv.")
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
    } else if steps.iter().any(|s| s.status == Status::Error) {
        Status::Error
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
    let not_sent = |status, reason: String| StepResult {
        duration_ms: started.elapsed().as_millis() as u64,
        ..StepResult::without_answer(label.clone(), &step.op, status, reason)
    };
    if let Some(ms) = step.sleep_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if crate::fixture::is_control_op(&step.op) {
        let request = match matcher::substitute(&step.request, &state.vars) {
            Ok(r) => r,
            Err(e) => return not_sent(Status::Blocked, e.to_string()),
        };
        let (status, reason, http_status) =
            match control(client.config().endpoint(), &step.op, &request, options).await {
                Ok(()) => (Status::Passed, None, Some(200)),
                Err((reason, http)) => (Status::Failed, Some(reason), http),
            };
        return StepResult {
            failures: reason
                .iter()
                .map(|r| Failure {
                    rules: rules.to_vec(),
                    path: "(answer)".into(),
                    expected: "200 from the control path".into(),
                    actual: r.clone(),
                })
                .collect(),
            reason,
            http_status,
            duration_ms: started.elapsed().as_millis() as u64,
            request: Some(request),
            ..StepResult::without_answer(label, &step.op, status, String::new())
        };
    }
    // The loader refuses unknown operations and variables; meeting one here is a harness
    // defect, reported as such.
    let Some(op) = ecs_model::operation::find(&step.op) else {
        return not_sent(
            Status::Error,
            format!("{} is not an ECS operation", step.op),
        );
    };
    let request = match matcher::substitute(&step.request, &state.vars) {
        Ok(r) => with_placement(step, r, options.placement.as_ref()),
        Err(e) => return not_sent(Status::Blocked, e.to_string()),
    };
    let expect = match &step.expect {
        Some(Expect::Body { body }) => match matcher::substitute(body, &state.vars) {
            Ok(b) => Some(Expect::Body { body: b }),
            Err(e) => return not_sent(Status::Blocked, e.to_string()),
        },
        Some(Expect::Error {
            error,
            status,
            message: Some(message),
        }) => match matcher::substitute(&Value::String(message.clone()), &state.vars) {
            Ok(Value::String(m)) => Some(Expect::Error {
                error: error.clone(),
                status: *status,
                message: Some(m),
            }),
            Ok(other) => return not_sent(Status::Blocked, format!("message became {other}")),
            Err(e) => return not_sent(Status::Blocked, e.to_string()),
        },
        other => other.clone(),
    };
    let deadline = step.poll.map(|p| {
        let wait = Duration::from_millis(p.timeout_ms);
        Instant::now() + options.poll_cap.map_or(wait, |cap| wait.min(cap))
    });
    let mut settle = Settle::new(SettleRules {
        tasks_run: options.capabilities.iter().any(|c| c == "tasks-run"),
        written: state.written.clone(),
        window: options.settle_window,
    });
    loop {
        let answer = tokio::time::timeout(
            options.step_timeout,
            client.send_json(op, request.clone(), CallOptions::default().max_attempts(1)),
        )
        .await;
        let mut tokens = state.tokens.clone();
        let mut outcome = match answer {
            Err(_) => Outcome::failed(
                rules,
                format!("no answer within {:?}", options.step_timeout),
                None,
            ),
            Ok(Err(e)) => Outcome::failed(rules, format!("no usable answer: {e}"), None),
            Ok(Ok(raw)) => evaluate(
                &step.op,
                op.output_shape,
                &raw,
                expect.as_ref(),
                &request,
                rules,
                &mut tokens,
                state,
                schemas,
            ),
        };
        let now = Instant::now();
        let mut retry = outcome.status == Status::Failed && deadline.is_some_and(|d| now < d);
        if retry {
            if let Some(why) = settle.judge(rules, &outcome.failures, outcome.body.as_ref(), now) {
                outcome.reason = Some(why);
                retry = false;
            }
        }
        if retry {
            let interval = step.poll.map_or(50, |p| p.interval_ms);
            tokio::time::sleep(Duration::from_millis(interval)).await;
            continue;
        }
        if outcome.status == Status::Passed {
            state.tokens = tokens;
        }
        if outcome.http_status.is_some_and(|h| h / 100 == 2) {
            state.written =
                settle::written_after(&step.op, outcome.body.as_ref(), state.written.take());
        }
        // Whatever else an answer broke, what it says is what the target said: it is observed
        // and its captures are taken, so one broken check does not block the rest of the case.
        if let Some(body) = &outcome.body {
            observe(body, &mut state.seen);
            for (name, path) in &step.capture {
                match matcher::lookup(body, path) {
                    Some(v) => {
                        state.vars.insert(name.clone(), v.clone());
                    }
                    None => outcome.failures.push(Failure {
                        rules: rules.to_vec(),
                        path: path.clone(),
                        expected: format!("a value to capture as {name}"),
                        actual: "(absent)".into(),
                    }),
                }
            }
        }
        let status = if outcome.failures.is_empty() || outcome.status != Status::Passed {
            outcome.status
        } else {
            Status::Failed
        };
        let reason = outcome.reason.or_else(|| {
            (!outcome.failures.is_empty())
                .then(|| format!("{} mismatch(es)", outcome.failures.len()))
        });
        let answer = match (outcome.body, &outcome.error_code) {
            (Some(body), _) => Some(Answer::Body(body)),
            (None, Some(code)) if outcome.http_status.is_some_and(|s| s / 100 != 2) => {
                Some(Answer::Error(code.clone()))
            }
            _ => None,
        };
        return StepResult {
            label,
            op: step.op.clone(),
            status,
            reason,
            failures: outcome.failures,
            http_status: outcome.http_status,
            error_code: outcome.error_code,
            key_line: outcome.key_line,
            duration_ms: started.elapsed().as_millis() as u64,
            answer,
            request: Some(request),
            checks: outcome.checks,
        };
    }
}

/// POSTs `body` to the target's control path `path` (`_emulator/hooks`), unsigned: anything
/// but a 200 is the reason and status of the failure.
async fn control(
    endpoint: &str,
    path: &str,
    body: &Value,
    options: &RunOptions,
) -> Result<(), (String, Option<u16>)> {
    // reqwest is built without a bundled crypto provider (as in ecs-client): install ring,
    // unless the process already has one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = format!("{}/{path}", endpoint.trim_end_matches('/'));
    let http = reqwest::Client::builder()
        .timeout(options.step_timeout)
        .build()
        .map_err(|e| (format!("no HTTP client for {url}: {e}"), None))?;
    let answer = http
        .post(&url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| (format!("{url} did not answer: {e}"), None))?;
    let status = answer.status().as_u16();
    if status == 200 {
        return Ok(());
    }
    let text = answer.text().await.unwrap_or_default();
    Err((
        format!(
            "{url} answered HTTP {status}: {}",
            crate::report::one_line(&text, 200)
        ),
        Some(status),
    ))
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
    error_code: Option<String>,
    key_line: Option<String>,
    body: Option<Value>,
    checks: BTreeMap<String, u32>,
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
            error_code: None,
            key_line: None,
            body: None,
            checks: BTreeMap::new(),
        }
    }
}

/// The answer's body on one line: an HTML page by its title, anything else cut to 160 characters.
fn excerpt(raw: &RawResponse) -> String {
    let text = raw.body_text();
    match title_of(&text) {
        Some(title) => format!("an HTML page titled {title:?}"),
        None => one_line(&text, 160),
    }
}

/// The `message` of an awsJson error answer, on one line.
fn error_message(raw: &RawResponse) -> Option<String> {
    let m = full_message(raw)?;
    let line = one_line(m.as_str()?, 200);
    (!line.is_empty()).then_some(line)
}

/// The `message` (or `Message`) of an awsJson error answer, whole.
fn full_message(raw: &RawResponse) -> Option<Value> {
    let v: Value = serde_json::from_slice(&raw.body).ok()?;
    v.get("message").or_else(|| v.get("Message")).cloned()
}

/// For an answer that is not JSON (an HTML or text error page), the line that says what went
/// wrong: the last line naming an exception or error (a traceback ends with it), else the
/// first line of text that is not the page's title.
pub fn key_line(body: &str) -> Option<String> {
    if body.trim().is_empty() || serde_json::from_str::<Value>(body).is_ok() {
        return None;
    }
    let text = html_text(body);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let names_exception = |l: &&str| {
        l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .any(|w| {
                let w = w.rsplit('.').next().unwrap_or(w);
                w.len() > 5
                    && w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && (w.ends_with("Error") || w.ends_with("Exception"))
            })
    };
    let title = title_of(body);
    let chosen = lines
        .iter()
        .rev()
        .find(|l| names_exception(l))
        .or_else(|| lines.iter().find(|l| Some(**l) != title.as_deref()))
        .or_else(|| lines.first())?;
    Some(one_line(chosen, 200))
}

fn title_of(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find("<title>")? + 7;
    let end = lower[start..].find("</title>")? + start;
    Some(decode_entities(body[start..end].trim()))
}

/// An HTML page's text, a line per block; plain text comes back as it was.
fn html_text(body: &str) -> String {
    if !body.contains('<') {
        return decode_entities(body);
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let tag = rest[open + 1..open + close].to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or("");
        if matches!(
            name,
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "pre" | "title" | "blockquote"
        ) {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
        // Scripts and styles are not text.
        if matches!(name, "script" | "style") && !tag.starts_with('/') {
            let end_tag = format!("</{name}");
            match rest.to_ascii_lowercase().find(&end_tag) {
                Some(i) => rest = &rest[i..],
                None => rest = "",
            }
        }
    }
    out.push_str(rest);
    decode_entities(&out)
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Removes every `null` member of every object in `value`, returning their paths: an answer's
/// `null` is matched as an absent member and reported under [`NULL_RULE`].
pub fn strip_nulls(value: &mut Value) -> Vec<String> {
    fn walk(value: &mut Value, path: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                let nulls: Vec<String> = map
                    .iter()
                    .filter(|(_, v)| v.is_null())
                    .map(|(k, _)| k.clone())
                    .collect();
                // `retain` keeps the members' order (`remove` may not).
                map.retain(|_, v| !v.is_null());
                for k in nulls {
                    out.push(if path.is_empty() {
                        k
                    } else {
                        format!("{path}.{k}")
                    });
                }
                for (k, v) in map.iter_mut() {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(v, &p, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter_mut().enumerate() {
                    walk(v, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = vec![];
    walk(value, "", &mut out);
    out
}

/// Where an answer of `op` lacks a member AWS always answers.
pub(crate) fn shape_failures(shapes: &AnswerShapes, op: &str, body: &Value) -> Vec<Failure> {
    shapes
        .missing(op, body)
        .into_iter()
        .map(|m| Failure {
            rules: vec![ANSWER_SHAPE_RULE.to_owned()],
            path: m.path,
            expected: format!("present: AWS's answers always carry {}", m.member),
            actual: "absent".into(),
        })
        .collect()
}

/// The failures of the wire check for `null` members.
pub(crate) fn null_failures(paths: &[String]) -> Vec<Failure> {
    paths
        .iter()
        .map(|p| Failure {
            rules: vec![NULL_RULE.to_owned()],
            path: p.clone(),
            expected: "(absent) rather than null".into(),
            actual: "null".into(),
        })
        .collect()
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
    let key = if ok {
        None
    } else if code.is_none() {
        key_line(&raw.body_text())
    } else {
        error_message(raw)
    };
    let mut checks: BTreeMap<String, u32> = BTreeMap::new();
    let outcome = |status, reason, failures, body, checks| Outcome {
        status,
        reason,
        failures,
        http_status: Some(raw.status),
        error_code: code.clone(),
        key_line: key.clone(),
        body,
        checks,
    };
    if !ok
        && (raw.status == 501
            || code
                .as_deref()
                .is_some_and(|c| NOT_IMPLEMENTED_CODES.contains(&c)))
    {
        return outcome(
            Status::NotImplemented,
            Some(format!(
                "{op} is not implemented by the target ({})",
                code.as_deref().unwrap_or("HTTP 501")
            )),
            vec![],
            None,
            checks,
        );
    }
    let expectation_checked = |checks: &mut BTreeMap<String, u32>| {
        for r in rules.iter().filter(|r| r.as_str() != SETUP_LABEL) {
            *checks.entry(r.clone()).or_insert(0) += 1;
        }
    };
    let fail = |expected: String, actual: String| Failure {
        rules: rules.to_vec(),
        path: "(answer)".into(),
        expected,
        actual,
    };
    if let Some(Expect::Error {
        error,
        status: want_status,
        message: want_message,
    }) = expect
    {
        expectation_checked(&mut checks);
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
                        key.clone().unwrap_or_else(|| excerpt(raw))
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
            if let Some(want) = want_message {
                // The whole message, not the shortened line reports show.
                let said = full_message(raw);
                let mut mismatches = vec![];
                matcher::check(
                    &Value::String(want.clone()),
                    said.as_ref(),
                    "message",
                    tokens,
                    &mut mismatches,
                );
                failures.extend(mismatches.into_iter().map(|m| Failure {
                    rules: rules.to_vec(),
                    path: "message".into(),
                    expected: m.expected,
                    actual: m.actual,
                }));
            }
        }
        let status = if failures.is_empty() {
            Status::Passed
        } else {
            Status::Failed
        };
        return outcome(status, None, failures, None, checks);
    }
    if !ok {
        if expect.is_some() {
            expectation_checked(&mut checks);
        }
        let what = match (&code, &key) {
            (Some(c), _) => format!("{c}: {}", excerpt(raw)),
            (None, Some(line)) => format!("{} ({line})", excerpt(raw)),
            (None, None) => excerpt(raw),
        };
        let reason = format!("HTTP {} {what}", raw.status);
        let mut o = Outcome::failed(rules, reason, status);
        o.error_code = code.clone();
        o.key_line = key.clone();
        o.checks = checks;
        return o;
    }
    let mut body: Value = match serde_json::from_slice(&raw.body) {
        Ok(v) => v,
        Err(_) => {
            let mut o = Outcome::failed(
                rules,
                format!("a 2xx answer that is not JSON: {}", excerpt(raw)),
                status,
            );
            o.key_line = key.clone();
            return o;
        }
    };
    let mut failures = null_failures(&strip_nulls(&mut body));
    *checks.entry(NULL_RULE.to_owned()).or_insert(0) += 1;
    if let Some(shapes) = schemas.answer_shapes.as_deref().filter(|t| t.covers(op)) {
        failures.extend(shape_failures(shapes, op, &body));
        *checks.entry(ANSWER_SHAPE_RULE.to_owned()).or_insert(0) += 1;
    }
    if let Some(Expect::Body { body: expected }) = expect {
        expectation_checked(&mut checks);
        let mut mismatches = vec![];
        matcher::check(expected, Some(&body), "", tokens, &mut mismatches);
        failures.extend(mismatches.into_iter().map(|m| Failure {
            rules: rules.to_vec(),
            path: m.path,
            expected: m.expected,
            actual: m.actual,
        }));
    }
    match schema_failures(output_shape, &body, schemas) {
        Ok(f) => failures.extend(f),
        Err(why) => {
            return outcome(Status::Error, Some(why), failures, Some(body), checks);
        }
    }
    *checks.entry(SCHEMA_RULE.to_owned()).or_insert(0) += 1;
    let mut seen = state.seen.clone();
    observe(&body, &mut seen);
    let (invariant, checked) = invariant_failures(op, request, &body, &seen);
    failures.extend(invariant);
    for rule in checked {
        *checks.entry(rule.to_owned()).or_insert(0) += 1;
    }
    let status_ = if failures.is_empty() {
        Status::Passed
    } else {
        Status::Failed
    };
    outcome(status_, None, failures, Some(body), checks)
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

/// Where a 2xx answer breaks the generated JSON Schema of the operation's output; an error
/// when there is no validator to check it with (a harness defect, never a pass).
pub(crate) fn schema_failures(
    output_shape: &str,
    body: &Value,
    schemas: &Schemas,
) -> Result<Vec<Failure>, String> {
    let failure = |path: String, actual: String| Failure {
        rules: vec![SCHEMA_RULE.to_owned()],
        path,
        expected: format!("valid {output_shape}"),
        actual,
    };
    let validator = schemas.validator(output_shape)?;
    Ok(validator
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
        .collect())
}

/// The answer invariants of `ecs_model::semantics` on every task set and service in a 2xx
/// answer, judged against `seen` (everything observed so far, this answer included), and the
/// invariant rules that had something to check. A task set that does not name its service
/// belongs to the one the request names. A task set or service that does not decode is a
/// schema departure, not a silent pass.
pub(crate) fn invariant_failures(
    op: &str,
    request: &Value,
    body: &Value,
    seen: &Observations,
) -> (Vec<Failure>, Vec<&'static str>) {
    use ecs_model::semantics::{service_invariants_checked, task_set_invariants_checked};
    let mut out = vec![];
    let mut checked = vec![];
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
                let (violations, rules) = task_set_invariants_checked(&ts, ctx);
                checked.extend(rules);
                push(&mut out, prefix, violations);
            }
            Err(e) => out.push(undecodable(prefix, "TaskSet", &e)),
        }
    }
    for (prefix, value) in services_of(body) {
        match ecs_model::from_value::<Service>(value) {
            Ok(svc) => {
                let (violations, rules) = service_invariants_checked(&svc, seen, true);
                checked.extend(rules);
                push(&mut out, prefix, violations);
            }
            Err(e) => out.push(undecodable(prefix, "Service", &e)),
        }
    }
    (out, checked)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn case(id: &str) -> Case {
        serde_json::from_value(json!({
            "id": id, "rules": ["ts.describe.names-required"],
            "provenance": {"kind": "derived", "from": "test"},
            "steps": [{"op": "DescribeTaskSets", "request": {"cluster": "c", "service": "s"}}]
        }))
        .unwrap()
    }

    /// A client for an endpoint nothing listens on; the tests below never reach it.
    fn client() -> EcsClient {
        let config = ecs_client::Config::local("http://127.0.0.1:9").unwrap();
        EcsClient::new(config).unwrap()
    }

    fn panicking<'a>(
        _: &'a EcsClient,
        case: &'a Case,
        _: &'a RunOptions,
        _: &'a Schemas,
        _: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = CaseResult> + Send + 'a>> {
        Box::pin(async move {
            if case.id == "boom" {
                panic!("fixture walker met something odd");
            }
            CaseResult::of(case, Status::Passed, vec![], "u")
        })
    }

    #[tokio::test]
    async fn a_panicking_case_is_an_error_result_in_its_place() {
        let cases = vec![case("a"), case("boom"), case("c")];
        let results = run_with(
            &client(),
            cases,
            &RunOptions::default(),
            "t",
            Arc::new(Schemas::default()),
            panicking,
        )
        .await
        .unwrap();
        let got: Vec<(&str, Status)> = results.iter().map(|r| (r.id.as_str(), r.status)).collect();
        assert_eq!(
            got,
            [
                ("a", Status::Passed),
                ("boom", Status::Error),
                ("c", Status::Passed)
            ]
        );
        let reason = results[1].reason_for(Status::Error).unwrap();
        assert!(
            reason.contains("fixture walker met something odd"),
            "{reason}"
        );
    }

    fn broken(_: &str) -> Option<Value> {
        Some(json!({"type": 12}))
    }

    #[test]
    fn a_schema_that_does_not_compile_stops_the_run_before_any_request() {
        let schemas = Schemas {
            source: broken,
            ..Schemas::default()
        };
        let err = schemas.compiled_for(&[case("a")]).map(|_| ()).unwrap_err();
        assert!(
            err.to_string()
                .contains("DescribeTaskSetsResponse does not compile"),
            "{err}"
        );
        // And should one be met during a run, the step is a harness error, not a pass.
        let schemas = Schemas {
            source: broken,
            ..Schemas::default()
        };
        let raw = RawResponse {
            status: 200,
            headers: vec![],
            body: bytes::Bytes::from_static(br#"{"taskSets": []}"#),
        };
        let outcome = evaluate(
            "DescribeTaskSets",
            "DescribeTaskSetsResponse",
            &raw,
            None,
            &json!({}),
            &[],
            &mut Vars::new(),
            &CaseState::default(),
            &schemas,
        );
        assert_eq!(outcome.status, Status::Error);
    }

    #[test]
    fn an_answer_the_invariants_cannot_read_is_a_reported_failure() {
        let body = json!({"taskSet": {"id": "ecs-svc/1", "computedDesiredCount": "three"}});
        let (failures, checked) =
            invariant_failures("CreateTaskSet", &json!({}), &body, &Observations::default());
        assert!(checked.is_empty(), "nothing was checked: {checked:?}");
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].rules, [SCHEMA_RULE]);
        assert_eq!(failures[0].path, "taskSet");
    }

    #[test]
    fn null_members_are_removed_and_named() {
        let mut v = json!({"a": null, "b": {"c": null, "d": 1}, "l": [{"e": null}, null]});
        let paths = strip_nulls(&mut v);
        assert_eq!(paths, ["a", "b.c", "l[0].e"]);
        assert_eq!(v, json!({"b": {"d": 1}, "l": [{}, null]}));
    }

    #[test]
    fn the_key_line_of_an_error_page() {
        let werkzeug = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n";
        assert_eq!(key_line(werkzeug).as_deref(), Some("Internal Server Error"));
        let traceback = "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\nKeyError: &#39;cf-1:web&#39;";
        assert_eq!(key_line(traceback).as_deref(), Some("KeyError: 'cf-1:web'"));
        assert_eq!(key_line("{\"__type\": \"X\"}"), None);
        assert_eq!(key_line(""), None);
    }
}
