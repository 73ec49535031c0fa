//! One step of a case: the request sent (or the control POST), polled until its expectation
//! holds or the target has settled, and the answer evaluated against the expectation and every
//! answer check.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ecs_client::{CallOptions, EcsClient, RawResponse};
use ecs_model::semantics::Observations;
use serde_json::Value;

use crate::catalog::{ANSWER_SHAPE_RULE, NULL_RULE, SCHEMA_RULE};
use crate::checks::{
    invariant_failures, null_failures, observe, schema_failures, shape_failures, strip_nulls,
    Schemas,
};
use crate::fixture::{Expect, Step};
use crate::matcher::{self, Vars};
use crate::options::RunOptions;
use crate::results::{Answer, Failure, Status, StepResult, SETUP_LABEL};
use crate::settle::{self, Settle, SettleRules};
use crate::text::{excerpt, key_line, one_line};

/// Error codes by which a target says it does not implement an operation.
pub const NOT_IMPLEMENTED_CODES: &[&str] = &[
    "UnknownOperationException",
    "NotImplemented",
    "NotImplementedException",
    "InvalidAction",
    "UnsupportedOperation",
];

/// What a case has learnt so far.
#[derive(Default)]
pub(crate) struct CaseState {
    pub(crate) vars: Vars,
    pub(crate) tokens: Vars,
    /// Every desiredCount and scale seen in the answers, for the eventual invariants.
    pub(crate) seen: Observations,
    /// The task set of the case's last mutating call, if it wrote one
    /// ([`settle::written_after`]).
    pub(crate) written: Option<settle::Written>,
    /// When the case last sent a call that changes a count ([`settle::CHANGES_COUNTS`]).
    pub(crate) counts_changed_at: Option<Instant>,
}

pub(crate) async fn run_step(
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
                &Asked {
                    op: &step.op,
                    output_shape: op.output_shape,
                    request: &request,
                    expect: expect.as_ref(),
                    rules,
                    state,
                    schemas,
                },
                &raw,
                &mut tokens,
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
        let answered = outcome.http_status.is_some_and(|h| h / 100 == 2);
        state.written = settle::written_after(
            &step.op,
            outcome.body.as_ref().filter(|_| answered),
            state.written.take(),
            &mut state.counts_changed_at,
            Instant::now(),
            options.settle_window,
        );
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
pub(crate) async fn control(
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
            crate::text::one_line(&text, 200)
        ),
        Some(status),
    ))
}

/// Merges the profile's placement into a CreateTaskSet or CreateService request that sets none
/// of launchType, capacityProviderStrategy and networkConfiguration itself.
pub(crate) fn with_placement(
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

pub(crate) struct Outcome {
    pub(crate) status: Status,
    pub(crate) reason: Option<String>,
    pub(crate) failures: Vec<Failure>,
    pub(crate) http_status: Option<u16>,
    pub(crate) error_code: Option<String>,
    pub(crate) key_line: Option<String>,
    pub(crate) body: Option<Value>,
    pub(crate) checks: BTreeMap<String, u32>,
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

/// The `message` of an awsJson error answer, on one line.
pub(crate) fn error_message(raw: &RawResponse) -> Option<String> {
    let m = full_message(raw)?;
    let line = one_line(m.as_str()?, 200);
    (!line.is_empty()).then_some(line)
}

/// The `message` (or `Message`) of an awsJson error answer, whole.
pub(crate) fn full_message(raw: &RawResponse) -> Option<Value> {
    let v: Value = serde_json::from_slice(&raw.body).ok()?;
    v.get("message").or_else(|| v.get("Message")).cloned()
}

/// What an answer is judged against: the step as it was sent and what the case knows.
#[derive(Clone, Copy)]
pub(crate) struct Asked<'a> {
    /// The operation's name.
    pub(crate) op: &'a str,
    /// Its output shape, for the schema check.
    pub(crate) output_shape: &'a str,
    /// The request as sent, variables substituted.
    pub(crate) request: &'a Value,
    /// The expectation, variables substituted.
    pub(crate) expect: Option<&'a Expect>,
    /// The rules the step's own expectation is charged to.
    pub(crate) rules: &'a [String],
    /// What the case has learnt so far.
    pub(crate) state: &'a CaseState,
    /// The compiled output schemas and the table of members AWS always answers.
    pub(crate) schemas: &'a Schemas,
}

/// Judges one answer: its status and failures, what to capture, the checks counted per rule.
/// Tokens the expectation binds go into `tokens`, which the caller keeps only when the step
/// passes.
pub(crate) fn evaluate(asked: &Asked<'_>, raw: &RawResponse, tokens: &mut Vars) -> Outcome {
    let Asked {
        op,
        output_shape,
        request,
        expect,
        rules,
        state,
        schemas,
    } = *asked;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixture::Case;
    use serde_json::json;

    fn case() -> Case {
        serde_json::from_value(json!({
            "id": "a", "rules": ["ts.describe.names-required"],
            "provenance": {"kind": "derived", "from": "test"},
            "steps": [{"op": "DescribeTaskSets", "request": {"cluster": "c", "service": "s"}}]
        }))
        .unwrap()
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
        let err = schemas.compiled_for(&[case()]).map(|_| ()).unwrap_err();
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
            &Asked {
                op: "DescribeTaskSets",
                output_shape: "DescribeTaskSetsResponse",
                request: &json!({}),
                expect: None,
                rules: &[],
                state: &CaseState::default(),
                schemas: &schemas,
            },
            &raw,
            &mut Vars::new(),
        );
        assert_eq!(outcome.status, Status::Error);
    }
}
