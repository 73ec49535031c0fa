//! Runs cases against a target: in parallel, one step at a time within a case, each answer
//! checked against its expectation, the generated output schema and the answer invariants.
//! A target that hangs, resets or answers garbage fails that step with the reason; a failed
//! setup step blocks the rest of its case; the run always goes on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use ecs_client::EcsClient;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::checks::{is_answer_check, Schemas};
use crate::fixture::Case;
use crate::step::{run_step, CaseState};

pub use crate::checks::{observe, strip_nulls, RunError};
pub use crate::options::RunOptions;
pub use crate::results::{
    what_it_answered, Answer, CaseResult, Failure, Status, StepResult, SETUP_LABEL,
};
pub use crate::step::NOT_IMPLEMENTED_CODES;
pub use crate::text::key_line;

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
}
