//! The checks every answer gets, whatever the case expects: the wire (no `null` members), the
//! generated output schema, the members AWS always answers, and the task-set and service
//! invariants over what the case has seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ecs_model::semantics::Observations;
use ecs_model::types::{Service, TaskSet};
use serde_json::Value;

use crate::catalog::{ANSWER_SHAPE_RULE, NULL_RULE, SCHEMA_RULE};
use crate::fixture::Case;
use crate::results::Failure;
use crate::shapes::AnswerShapes;

/// Compiled output-schema validators, one per shape, shared by all cases, and the table of
/// members AWS always answers.
pub struct Schemas {
    pub(crate) cache: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
    /// Where a shape's schema comes from (the generated one; a test's broken one).
    pub(crate) source: fn(&str) -> Option<Value>,
    pub(crate) answer_shapes: Option<Arc<AnswerShapes>>,
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

    pub(crate) fn compiled_for(self, cases: &[Case]) -> Result<Schemas, RunError> {
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

pub(crate) fn is_answer_check(rule: &str) -> bool {
    rule == SCHEMA_RULE
        || rule == NULL_RULE
        || rule == ANSWER_SHAPE_RULE
        || rule.starts_with("inv.")
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

/// `/taskSets/0/id` -> `taskSets[0].id`.
pub(crate) fn pointer_to_path(pointer: &str) -> String {
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

pub(crate) fn undecodable(prefix: String, shape: &str, e: &ecs_model::DecodeError) -> Failure {
    Failure {
        rules: vec![SCHEMA_RULE.to_owned()],
        path: prefix,
        expected: format!("a {shape} the invariants can read"),
        actual: e.to_string(),
    }
}

/// The task sets of an answer (`taskSet`, `taskSets[]`), with their paths.
pub(crate) fn task_sets_of(body: &Value) -> Vec<(String, &Value)> {
    objects_of(body, "taskSet", "taskSets")
}

/// The services of an answer (`service`, `services[]`), with their paths.
pub(crate) fn services_of(body: &Value) -> Vec<(String, &Value)> {
    objects_of(body, "service", "services")
}

/// The objects an answer carries under `one` and in the list `many`, with their JSON paths.
fn objects_of<'a>(body: &'a Value, one: &str, many: &str) -> Vec<(String, &'a Value)> {
    let mut found: Vec<(String, &Value)> = vec![];
    if let Some(object) = body.get(one) {
        found.push((one.to_owned(), object));
    }
    if let Some(list) = body.get(many).and_then(Value::as_array) {
        found.extend(
            list.iter()
                .enumerate()
                .map(|(i, object)| (format!("{many}[{i}]"), object)),
        );
    }
    found
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
}
