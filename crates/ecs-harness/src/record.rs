//! Record mode: what an endpoint answered becomes the expectation, normalised so that it can be
//! replayed anywhere: ECS ARNs and task set ids become numbered tokens (the same value keeps
//! the same token across the steps of a case), timestamps become `@timestamp`, the case's
//! unique names go back to `{{unique}}`, other account-bearing ARNs become `@string`, and
//! values that depend on timing (stability, running and pending counts) keep only their type.
//! Only answer bodies and error codes are recorded: never requests, headers or credentials.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::fixture::{Case, Expect, Provenance};
use crate::results::{Answer, CaseResult};

/// Numbers the distinct values of each kind, in order of appearance.
#[derive(Default)]
struct Namer {
    seen: BTreeMap<String, String>,
    counts: BTreeMap<String, usize>,
}

impl Namer {
    fn token(&mut self, kind: &str, value: &str) -> String {
        if let Some(name) = self.seen.get(value) {
            return format!("@token:{name}");
        }
        let n = self.counts.entry(kind.to_owned()).or_insert(0);
        *n += 1;
        let name = format!("{kind}-{n}");
        self.seen.insert(value.to_owned(), name.clone());
        format!("@token:{name}")
    }
}

fn ecs_arn_kind(s: &str) -> Option<&str> {
    ecs_model::arn::Arn::parse(s)
        .filter(|arn| arn.service == "ecs")
        .map(|arn| arn.kind())
}

/// Members whose values depend on when the answer was taken (simulated or real task progress):
/// recorded as their type only; the answer invariants still check their consistency.
const TIME_DEPENDENT: &[(&str, &str)] = &[
    ("stabilityStatus", "@string"),
    // "ECS deployment <id> in progress." until it is "... completed.".
    ("rolloutStateReason", "@string"),
    ("runningCount", "@integer"),
    ("pendingCount", "@integer"),
    // What the scheduler chose for a task, different in every run.
    ("availabilityZone", "@string"),
    ("runtimeId", "@string"),
    // It names the run's deployment id within its text, which no matcher can bind.
    ("stoppedReason", "@string"),
    // A lifecycle hook's id is new at every invocation.
    ("hookId", "@string"),
    // Failed task starts keep counting while a deployment retries them.
    ("failureCount", "@integer"),
];

/// Also time-dependent, except in a step that polls until its expectation holds: ECS answers
/// the count from before a change and recomputes it seconds later; a task moves on; a
/// deployment's count and its revision's are 0 until the scheduler acts on it.
const EVENTUAL: &[(&str, &str)] = &[
    ("computedDesiredCount", "@integer"),
    ("deployments.desiredCount", "@integer"),
    ("requestedTaskCount", "@integer"),
    ("runningTaskCount", "@integer"),
    ("pendingTaskCount", "@integer"),
    ("lastStatus", "@string"),
    ("version", "@integer"),
];

fn normalise(value: &Value, key: &str, unique: &str, namer: &mut Namer, settled: bool) -> Value {
    let eventual = if settled { &[][..] } else { EVENTUAL };
    if let Some((_, matcher)) = TIME_DEPENDENT
        .iter()
        .chain(eventual)
        .find(|(k, _)| *k == key)
    {
        return Value::String((*matcher).to_owned());
    }
    match value {
        Value::Number(_) if key.ends_with("At") => Value::String("@timestamp".into()),
        Value::String(s) => {
            if let Some(kind) = ecs_arn_kind(s) {
                Value::String(namer.token(kind, s))
            } else if s
                .strip_prefix("ecs-svc/")
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
            {
                Value::String(namer.token("task-set-id", s))
            } else if s.starts_with("arn:") {
                Value::String("@string".into())
            } else if s.starts_with('@') {
                Value::String(format!("@{s}"))
            } else {
                Value::String(s.replace(unique, "{{unique}}"))
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| normalise(v, key, unique, namer, settled))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    // A deployment's desiredCount, not the service's.
                    let member = if key == "deployments" && k == "desiredCount" {
                        "deployments.desiredCount"
                    } else {
                        k
                    };
                    (k.clone(), normalise(v, member, unique, namer, settled))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `case` with the expectation of every checking step replaced by what `result` recorded.
/// Steps whose answer was not recorded (blocked, no answer) keep their expectation.
pub fn record_case(
    case: &Case,
    result: &CaseResult,
    unique: &str,
    endpoint_kind: &str,
    date: &str,
) -> Case {
    let mut namer = Namer::default();
    let mut out = case.clone();
    for (step, r) in out.steps.iter_mut().zip(&result.steps) {
        let recorded = match &r.answer {
            Some(Answer::Body(body)) => Expect::Body {
                body: normalise(body, "", unique, &mut namer, step.poll.is_some()),
            },
            Some(Answer::Error(code)) => Expect::Error {
                error: code.clone(),
                status: None,
                message: None,
            },
            None => continue,
        };
        if step.expect.is_some() {
            step.expect = Some(recorded);
        }
    }
    out.provenance = Provenance::Recorded {
        endpoint: endpoint_kind.to_owned(),
        date: date.to_owned(),
    };
    out
}

/// What [`write_back`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteBack {
    /// Files that change (or, with `check`, would change).
    pub changed: Vec<String>,
    /// What was recorded but has no place of its own in a file: a table row's expectations
    /// (they are the row's parameters) and the steps of a shared part. One line each.
    pub not_written: Vec<String>,
}

/// Writes recorded cases back where they were written: the case's provenance and each of its
/// own steps' expectations, in the canonical layout. A case made by a table row, and a step that
/// comes from a part, are listed in [`WriteBack::not_written`] instead: their expectations are
/// parameters shared with other cases. With `check`, only reports which files would change.
pub fn write_back(dir: &Path, recorded: &[Case], check: bool) -> std::io::Result<WriteBack> {
    let mut by_file: BTreeMap<&str, Vec<&Case>> = BTreeMap::new();
    for c in recorded {
        by_file.entry(c.file.as_str()).or_default().push(c);
    }
    let mut out = WriteBack::default();
    for (file, cases) in by_file {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path)?;
        let mut doc: Value = serde_json::from_str(&text).map_err(std::io::Error::other)?;
        for case in cases {
            if case.is_table_row() {
                out.not_written.push(format!(
                    "{}: {} is a row of a table ({}); its expectations are the row's values",
                    file, case.id, case.source
                ));
                continue;
            }
            let provenance =
                serde_json::to_value(&case.provenance).map_err(std::io::Error::other)?;
            if let Some(slot) = doc.pointer_mut(&format!("{}/provenance", case.source)) {
                *slot = provenance;
            }
            for (step, origin) in case.steps.iter().zip(&case.step_origins) {
                let Some(expect) = &step.expect else { continue };
                if origin.file != file || !origin.pointer.starts_with(&format!("{}/", case.source))
                {
                    out.not_written.push(format!(
                        "{}: a step of {} comes from {}#{}; parts are not recorded",
                        file, case.id, origin.file, origin.pointer
                    ));
                    continue;
                }
                let value = serde_json::to_value(expect).map_err(std::io::Error::other)?;
                if let Some(step) = doc
                    .pointer_mut(&origin.pointer)
                    .and_then(Value::as_object_mut)
                {
                    step.insert("expect".into(), value);
                }
            }
        }
        let new_text = crate::jsontext::to_text(&doc);
        if new_text != text {
            out.changed.push(file.to_owned());
            if !check {
                std::fs::write(&path, new_text)?;
            }
        }
    }
    out.not_written.sort();
    out.not_written.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn answers_are_normalised_into_replayable_expectations() {
        let mut namer = Namer::default();
        let answer = json!({
            "taskSet": {
                "id": "ecs-svc/123", "taskSetArn": "arn:aws:ecs:eu-west-1:111122223333:task-set/cf-r1-007/web/ecs-svc/123",
                "clusterArn": "arn:aws:ecs:eu-west-1:111122223333:cluster/cf-r1-007", "createdAt": 1557128360.711,
                "computedDesiredCount": 2, "status": "ACTIVE", "externalId": "cf-r1-007-ext", "roleArn": "arn:aws:iam::111122223333:role/x",
                "runningCount": 1, "stabilityStatus": "STABILIZING"
            },
            "again": "ecs-svc/123"
        });
        let settled = normalise(&answer, "", "r1-007", &mut Namer::default(), true);
        assert_eq!(
            settled["taskSet"]["computedDesiredCount"], 2,
            "a polled step records the settled count"
        );
        let n = normalise(&answer, "", "r1-007", &mut namer, false);
        assert_eq!(
            n,
            json!({
                "taskSet": {
                    "id": "@token:task-set-id-1", "taskSetArn": "@token:task-set-1", "clusterArn": "@token:cluster-1",
                    "createdAt": "@timestamp", "computedDesiredCount": "@integer", "status": "ACTIVE", "externalId": "cf-{{unique}}-ext",
                    "roleArn": "@string", "runningCount": "@integer", "stabilityStatus": "@string"
                },
                "again": "@token:task-set-id-1"
            })
        );
        let text = n.to_string();
        assert!(
            !text.contains("111122223333"),
            "no account id survives: {text}"
        );
    }
}
