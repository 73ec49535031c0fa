//! The evidence corpus (`conformance/evidence/`): AWS's own answers, as timelines, with where
//! they come from. Every answer is replayed through the checks the suite applies to any target
//! (the output schema, the `inv.*` invariants judged against what the timeline has shown so
//! far) and through an independent check of each rule the item claims. The suite may never
//! flag a real AWS answer: [`check_item`] returns every place where it would.

use std::collections::BTreeMap;
use std::path::Path;

use ecs_model::semantics::{self, Observations};
use ecs_model::types::{Service, TaskSet};
use ecs_model::Decimal;
use serde::Deserialize;
use serde_json::Value;

use crate::catalog::Catalog;
use crate::checks;
use crate::fixture_error::FixtureError;

/// One evidence item: a timeline of calls and AWS's answers.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// The item id (its file name without `.json`).
    pub id: String,
    /// Where the answers were published.
    pub source: String,
    /// When they were recorded (YYYY-MM-DD).
    pub date: String,
    /// What the item shows, in this project's words.
    pub shows: String,
    /// Rules the item bears on; each is checked against it.
    pub rules: Vec<String>,
    /// What must exist before the first call: setup calls a replay sends first, in order, whose
    /// answers are not compared (empty when the timeline needs nothing).
    pub given: Vec<Given>,
    /// Seconds (of AWS's time) a replay waits after `given`, for a timeline whose first answer
    /// shows the state settled.
    #[serde(default)]
    pub given_settle_s: f64,
    /// The recorded calls and answers, in time order.
    pub timeline: Vec<Entry>,
    #[serde(skip)]
    /// The file the item came from.
    pub file: String,
}

/// One call: the request, and the answer, the error, or nothing (not recorded).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Seconds from the first entry.
    pub at_s: f64,
    /// The operation.
    pub op: String,
    /// The request as sent.
    pub request: Value,
    #[serde(default)]
    /// The answer, for a call that succeeded.
    pub answer: Option<Value>,
    #[serde(default)]
    /// The error, for a call that failed.
    pub error: Option<ErrorAnswer>,
    /// The answer holds only some members (a log printed them): no output schema check.
    #[serde(default)]
    pub partial: bool,
    /// For a call whose answer was not recorded: the id it created, as later entries show it.
    #[serde(default)]
    pub answer_id: Option<String>,
    /// JSON pointers into the recorded answer that a replay cannot reproduce (history from
    /// before the record, hosts of the recording account), each with the reason.
    #[serde(default)]
    pub not_replayed: BTreeMap<String, String>,
}

/// A setup call of an item's `given` state.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Given {
    /// The operation.
    pub op: String,
    /// The request, naming resources as the timeline does.
    pub request: Value,
    /// Seconds of AWS time to wait before this call (the state the earlier calls made settles
    /// first: a service's tasks exist only once its scheduler started them).
    #[serde(default)]
    pub settle_s: f64,
    /// A recorded id the timeline uses, and the JSON pointer into this call's answer where the
    /// target's own id for it stands.
    #[serde(default)]
    pub binds: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
/// An error AWS answered.
pub struct ErrorAnswer {
    /// The error code.
    pub code: String,
    /// The message.
    pub message: String,
}

/// A place where the suite would flag an AWS answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// The item flagged.
    pub item: String,
    /// Index of the entry in the timeline.
    pub entry: usize,
    /// The rule that flags it.
    pub rule: String,
    /// What the check found.
    pub message: String,
}

impl std::fmt::Display for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} entry {}: [{}] {}",
            self.item, self.entry, self.rule, self.message
        )
    }
}

/// Rules the evidence can be checked against (an item that claims any other is an error).
pub const CHECKED_RULES: &[&str] = &[
    "ts.computed-desired-count.answer-before-recompute",
    "ts.computed-desired-count.ceil",
    "ts.computed-desired-count.follows-scale",
    "ts.create.active",
    "ts.create.stabilizing",
    "ts.create.formats",
    "ts.create.defaults",
    "ts.steady-state",
    "ts.primary.switch",
    "ts.delete.draining",
    "ts.describe.failures",
    "ts.describe.names-required",
    "ts.limit-per-service",
    "svc.external.no-deployments",
    "svc.create.defaults",
    "err.aws-shape",
];

/// Loads every `*.json` item of `dir`, in name order; problems name the file and JSON path.
pub fn load_dir(dir: &Path, catalog: &Catalog) -> Result<Vec<Item>, Vec<FixtureError>> {
    let err = |file: &str, message: String| FixtureError {
        file: file.to_owned(),
        path: "/".into(),
        message,
    };
    let names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect(),
        Err(e) => return Err(vec![err(&dir.display().to_string(), e.to_string())]),
    };
    let mut sources = vec![];
    let mut errors = vec![];
    for name in names {
        match std::fs::read_to_string(dir.join(&name)) {
            Ok(t) => sources.push((name, t)),
            Err(e) => errors.push(err(&name, e.to_string())),
        }
    }
    match load_sources(sources, catalog) {
        Ok(items) if errors.is_empty() => Ok(items),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}

/// Loads evidence items held in memory as `(file name, text)` pairs, in name order.
pub fn load_sources(
    mut sources: Vec<(String, String)>,
    catalog: &Catalog,
) -> Result<Vec<Item>, Vec<FixtureError>> {
    let err = |file: &str, path: &str, message: String| FixtureError {
        file: file.to_owned(),
        path: path.to_owned(),
        message,
    };
    sources.sort();
    let mut items = vec![];
    let mut errors = vec![];
    for (name, text) in sources {
        let de = &mut serde_json::Deserializer::from_str(&text);
        let mut item: Item = match serde_path_to_error::deserialize(de) {
            Ok(i) => i,
            Err(e) => {
                errors.push(err(&name, &format!("/{}", e.path()), e.inner().to_string()));
                continue;
            }
        };
        item.file = name.clone();
        if format!("{}.json", item.id) != name {
            errors.push(err(
                &name,
                "/id",
                format!("id {} does not match the file name", item.id),
            ));
        }
        for (i, rule) in item.rules.iter().enumerate() {
            if catalog.rule(rule).is_none() {
                errors.push(err(
                    &name,
                    &format!("/rules/{i}"),
                    format!("rule {rule} is not in conformance/rules.json"),
                ));
            } else if !CHECKED_RULES.contains(&rule.as_str()) {
                errors.push(err(&name, &format!("/rules/{i}"), format!("rule {rule} has no evidence check (see ecs_harness::evidence::CHECKED_RULES)")));
            }
        }
        for (i, g) in item.given.iter().enumerate() {
            if ecs_model::operation::find(&g.op).is_none() {
                errors.push(err(
                    &name,
                    &format!("/given/{i}/op"),
                    format!("{} is not an ECS operation", g.op),
                ));
            }
            for pointer in g.binds.values() {
                if !pointer.starts_with('/') {
                    errors.push(err(
                        &name,
                        &format!("/given/{i}/binds"),
                        format!("{pointer:?} is not a JSON pointer"),
                    ));
                }
            }
        }
        for (i, e) in item.timeline.iter().enumerate() {
            for pointer in e.not_replayed.keys() {
                if e.answer.as_ref().and_then(|a| a.pointer(pointer)).is_none() {
                    errors.push(err(
                        &name,
                        &format!("/timeline/{i}/not_replayed"),
                        format!("{pointer:?} names nothing in the recorded answer"),
                    ));
                }
            }
            if ecs_model::operation::find(&e.op).is_none() {
                errors.push(err(
                    &name,
                    &format!("/timeline/{i}/op"),
                    format!("{} is not an ECS operation", e.op),
                ));
            }
            if e.answer.is_some() && e.error.is_some() {
                errors.push(err(
                    &name,
                    &format!("/timeline/{i}"),
                    "an entry has an answer or an error, not both".into(),
                ));
            }
        }
        items.push(item);
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors)
    }
}

/// How many recorded answers (and errors) an item holds.
pub fn answers(item: &Item) -> usize {
    item.timeline
        .iter()
        .filter(|e| e.answer.is_some() || e.error.is_some())
        .count()
}

/// What the replay knows of each task set: its values and when they became stale.
#[derive(Default)]
struct SetHistory {
    /// Values the set showed (or was created with) before its latest change.
    stale: Vec<i32>,
    /// Values shown since the latest change.
    recent: Vec<i32>,
}

/// Replays an item; every place where the suite would flag AWS.
pub fn check_item(item: &Item) -> Vec<Flag> {
    let mut flags = vec![];
    let mut seen = Observations::default();
    let schemas = checks::Schemas::default();
    let mut history: BTreeMap<String, SetHistory> = BTreeMap::new();
    // Latest desired count per service name; latest scale per set id.
    let mut desired: BTreeMap<String, i32> = BTreeMap::new();
    let mut scales: BTreeMap<String, Decimal> = BTreeMap::new();
    let claims = |r: &str| item.rules.iter().any(|x| x == r);
    for (index, entry) in item.timeline.iter().enumerate() {
        let mut flag = |rule: &str, message: String| {
            flags.push(Flag {
                item: item.id.clone(),
                entry: index,
                rule: rule.to_owned(),
                message,
            })
        };
        let req = &entry.request;
        let service_of_request = req
            .get("service")
            .or_else(|| req.get("serviceName"))
            .and_then(Value::as_str)
            .map(|s| s.rsplit('/').next().unwrap_or(s).to_owned());
        let set_of_request = req.get("taskSet").and_then(Value::as_str).map(|s| {
            s.rsplit_once("/ecs-svc/")
                .map_or(s.to_owned(), |(_, d)| format!("ecs-svc/{d}"))
        });
        // What the call changes, from its request.
        let change_desired = matches!(entry.op.as_str(), "CreateService" | "UpdateService")
            .then(|| req.get("desiredCount").and_then(Value::as_i64))
            .flatten()
            .and_then(|d| i32::try_from(d).ok());
        if let (Some(svc), Some(d)) = (&service_of_request, change_desired) {
            desired.insert(svc.clone(), d);
            seen.observe_desired(svc, d);
            for h in history.values_mut() {
                let recent = std::mem::take(&mut h.recent);
                h.stale.extend(recent);
            }
        }
        let new_set_id = entry
            .answer
            .as_ref()
            .and_then(|a| a["taskSet"]["id"].as_str())
            .map(str::to_owned)
            .or_else(|| entry.answer_id.clone());
        let target_set = if entry.op == "CreateTaskSet" {
            new_set_id.clone()
        } else {
            set_of_request.clone()
        };
        if matches!(entry.op.as_str(), "CreateTaskSet" | "UpdateTaskSet") {
            if let (Some(id), Some(scale)) = (
                &target_set,
                req.get("scale")
                    .and_then(|s| s.get("value"))
                    .and_then(|v| ecs_model::from_value::<Decimal>(v).ok()),
            ) {
                scales.insert(id.clone(), scale);
                seen.observe_scale(id, scale);
                let h = history.entry(id.clone()).or_default();
                let recent = std::mem::take(&mut h.recent);
                h.stale.extend(recent);
                if entry.op == "CreateTaskSet" {
                    h.stale.push(0);
                }
            } else if entry.op == "CreateTaskSet" {
                if let Some(id) = &target_set {
                    history.entry(id.clone()).or_default().stale.push(0);
                    scales.insert(id.clone(), Decimal::ZERO);
                }
            }
        }
        if let Some(error) = &entry.error {
            if claims("err.aws-shape") && (error.code.is_empty() || error.code.contains('#')) {
                flag(
                    "err.aws-shape",
                    format!("error code {:?} is not a bare code", error.code),
                );
            }
            if claims("ts.limit-per-service")
                && entry.op == "CreateTaskSet"
                && error.code != "InvalidParameterException"
            {
                flag(
                    "ts.limit-per-service",
                    format!(
                        "the refusal is {}, not InvalidParameterException",
                        error.code
                    ),
                );
            }
            if claims("ts.describe.names-required") && entry.op == "DescribeTaskSets" {
                let named = req
                    .get("taskSets")
                    .and_then(Value::as_array)
                    .is_some_and(|l| !l.is_empty());
                if !named && error.code != "InvalidParameterException" {
                    flag(
                        "ts.describe.names-required",
                        format!("refused with {}, not InvalidParameterException", error.code),
                    );
                }
            }
            continue;
        }
        let Some(body) = &entry.answer else { continue };
        if claims("ts.describe.names-required")
            && entry.op == "DescribeTaskSets"
            && req
                .get("taskSets")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
        {
            flag(
                "ts.describe.names-required",
                "a DescribeTaskSets naming no task set was answered".into(),
            );
        }
        // The suite's answer checks, exactly as a run applies them: the output schema (not for
        // a partial answer) and the invariants against everything seen so far.
        // AWS's own answers carry no null member: the wire check must accept every one.
        let mut suite = checks::null_failures(&checks::strip_nulls(&mut body.clone()));
        if !entry.partial {
            if let Some(op) = ecs_model::operation::find(&entry.op) {
                match checks::schema_failures(op.output_shape, body, &schemas) {
                    Ok(f) => suite.extend(f),
                    Err(why) => flag(crate::catalog::SCHEMA_RULE, why),
                }
            }
        }
        checks::observe(body, &mut seen);
        suite.extend(checks::invariant_failures(&entry.op, req, body, &seen).0);
        for f in suite {
            for rule in &f.rules {
                flag(rule, format!("{}: {}", f.path, f.actual));
            }
        }
        // Task sets and services that do not decode were flagged above.
        let sets: Vec<TaskSet> = checks::task_sets_of(body)
            .into_iter()
            .filter_map(|(_, v)| ecs_model::from_value(v).ok())
            .collect();
        let services: Vec<Service> = checks::services_of(body)
            .into_iter()
            .filter_map(|(_, v)| ecs_model::from_value(v).ok())
            .collect();
        // The rules the item claims.
        for ts in &sets {
            let id = ts.id.clone().unwrap_or_default();
            let computed = ts.computed_desired_count;
            if entry.op == "CreateTaskSet" {
                if claims("ts.create.active") && ts.status.as_ref().is_some_and(|s| *s != "ACTIVE")
                {
                    flag(
                        "ts.create.active",
                        format!("status {}", shown(ts.status.as_ref().map(|s| s.as_str()))),
                    );
                }
                if claims("ts.create.stabilizing")
                    && ts
                        .stability_status
                        .as_ref()
                        .is_some_and(|s| s.as_str() != "STABILIZING")
                {
                    flag(
                        "ts.create.stabilizing",
                        format!(
                            "stabilityStatus {}",
                            shown(ts.stability_status.as_ref().map(|s| s.as_str()))
                        ),
                    );
                }
                if claims("ts.create.formats") {
                    let id_ok = id
                        .strip_prefix("ecs-svc/")
                        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
                    // The form only: example accounts in AWS's own documents are not always
                    // 12 digits, so the full `Arn::is_ecs` check would flag AWS.
                    fn of_kind<'a>(text: &'a str, kind: &str) -> Option<ecs_model::arn::Arn<'a>> {
                        ecs_model::arn::Arn::parse(text)
                            .filter(|a| a.partition.starts_with("aws") && a.kind() == kind)
                    }
                    let arn_ok = ts
                        .task_set_arn
                        .as_deref()
                        .and_then(|a| of_kind(a, "task-set"))
                        .is_some_and(|a| a.resource.ends_with(&id));
                    let td_ok = ts
                        .task_definition
                        .as_deref()
                        .is_some_and(|t| of_kind(t, "task-definition").is_some());
                    if !(id_ok && arn_ok && td_ok) {
                        flag(
                            "ts.create.formats",
                            format!(
                                "id {id:?}, ARN {:?}, task definition {:?}",
                                ts.task_set_arn, ts.task_definition
                            ),
                        );
                    }
                }
                if claims("ts.create.defaults") {
                    if req.get("launchType").is_none()
                        && req.get("capacityProviderStrategy").is_none()
                        && ts.launch_type.as_ref().is_some_and(|l| l.as_str() != "EC2")
                    {
                        flag(
                            "ts.create.defaults",
                            format!("launchType {:?} without one in the request", ts.launch_type),
                        );
                    }
                    if req.get("scale").is_none()
                        && ts
                            .scale
                            .as_ref()
                            .and_then(|s| s.value)
                            .is_some_and(|v| v != Decimal::ZERO)
                    {
                        flag(
                            "ts.create.defaults",
                            "scale is not 0 without one in the request".into(),
                        );
                    }
                    let given_ip = req
                        .pointer("/networkConfiguration/awsvpcConfiguration/assignPublicIp")
                        .is_some();
                    let ip = body.pointer(
                        "/taskSet/networkConfiguration/awsvpcConfiguration/assignPublicIp",
                    );
                    if !given_ip && ip.is_some_and(|v| v != "DISABLED") {
                        flag(
                            "ts.create.defaults",
                            format!("assignPublicIp {ip:?} without one in the request"),
                        );
                    }
                }
                if claims("ts.computed-desired-count.answer-before-recompute")
                    && computed.is_some_and(|c| c != 0)
                {
                    flag(
                        "ts.computed-desired-count.answer-before-recompute",
                        format!("CreateTaskSet answered computedDesiredCount {computed:?}, not 0"),
                    );
                }
            }
            if entry.op == "UpdateTaskSet"
                && claims("ts.computed-desired-count.answer-before-recompute")
            {
                let before = history
                    .get(&id)
                    .map(|h| h.stale.clone())
                    .unwrap_or_default();
                if let Some(c) = computed {
                    if !before.is_empty() && !before.contains(&c) {
                        flag("ts.computed-desired-count.answer-before-recompute", format!("UpdateTaskSet answered {c}, none of the values before the change {before:?}"));
                    }
                }
            }
            if entry.op == "UpdateServicePrimaryTaskSet"
                && claims("ts.primary.switch")
                && ts.status.as_ref().is_some_and(|s| *s != "PRIMARY")
            {
                flag(
                    "ts.primary.switch",
                    format!("status {}", shown(ts.status.as_ref().map(|s| s.as_str()))),
                );
            }
            if entry.op == "DeleteTaskSet"
                && claims("ts.delete.draining")
                && ts.status.as_ref().is_some_and(|s| *s != "DRAINING")
            {
                flag(
                    "ts.delete.draining",
                    format!("status {}", shown(ts.status.as_ref().map(|s| s.as_str()))),
                );
            }
            if claims("ts.steady-state")
                && ts
                    .stability_status
                    .as_ref()
                    .is_some_and(|s| s.as_str() == "STEADY_STATE")
                && (ts.running_count != computed || ts.pending_count.is_some_and(|p| p != 0))
            {
                flag(
                    "ts.steady-state",
                    format!(
                        "STEADY_STATE with running {:?}, pending {:?}, computed {computed:?}",
                        ts.running_count, ts.pending_count
                    ),
                );
            }
            // The settled count: a value is either one from before the latest change, or the
            // exact ceil(desired x scale) of the latest values.
            let ceil_claimed = claims("ts.computed-desired-count.ceil")
                || claims("ts.computed-desired-count.follows-scale");
            if let Some(c) = computed {
                let svc = ts
                    .service_arn
                    .as_deref()
                    .map(|a| a.rsplit('/').next().unwrap_or(a).to_owned())
                    .or_else(|| service_of_request.clone());
                let d = svc.as_ref().and_then(|s| desired.get(s)).copied();
                let s = scales
                    .get(&id)
                    .copied()
                    .or_else(|| ts.scale.as_ref().and_then(|x| x.value));
                let h = history.entry(id.clone()).or_default();
                if let (true, Some(d), Some(s)) = (ceil_claimed, d, s) {
                    let expected = semantics::computed_desired_count(d, s).ok();
                    if Some(c) != expected && !h.stale.contains(&c) {
                        let rule = if claims("ts.computed-desired-count.ceil") {
                            "ts.computed-desired-count.ceil"
                        } else {
                            "ts.computed-desired-count.follows-scale"
                        };
                        flag(rule, format!("computedDesiredCount {c}: neither ceil({d} x {s}%) = {expected:?} nor a value from before the change {:?}", h.stale));
                    }
                }
                h.recent.push(c);
            }
        }
        if entry.op == "DescribeTaskSets"
            && claims("ts.describe.failures")
            && body.get("failures").is_some_and(|f| !f.is_array())
        {
            flag("ts.describe.failures", "failures is not a list".into());
        }
        if entry.op == "CreateService" {
            for svc in &services {
                let external = svc
                    .deployment_controller
                    .as_ref()
                    .and_then(|d| d.r#type.as_ref())
                    .is_some_and(|t| t.as_str() == "EXTERNAL");
                if claims("svc.external.no-deployments")
                    && external
                    && svc.deployments.as_ref().is_some_and(|d| !d.is_empty())
                {
                    flag(
                        "svc.external.no-deployments",
                        "an EXTERNAL service answered deployments".into(),
                    );
                }
                if claims("svc.create.defaults") {
                    if svc.status.as_ref().is_some_and(|s| s.as_str() != "ACTIVE") {
                        flag(
                            "svc.create.defaults",
                            format!("status {}", shown(svc.status.as_ref().map(|s| s.as_str()))),
                        );
                    }
                    if req.get("deploymentConfiguration").is_none() {
                        if let Some(dc) = &svc.deployment_configuration {
                            if dc.maximum_percent.is_some_and(|m| m != 200)
                                || dc.minimum_healthy_percent.is_some_and(|m| m != 100)
                            {
                                flag(
                                    "svc.create.defaults",
                                    "deploymentConfiguration is not 200/100".into(),
                                );
                            }
                        }
                    }
                    if req.get("schedulingStrategy").is_none()
                        && svc
                            .scheduling_strategy
                            .as_ref()
                            .is_some_and(|s| s.as_str() != "REPLICA")
                    {
                        flag(
                            "svc.create.defaults",
                            "schedulingStrategy is not REPLICA".into(),
                        );
                    }
                    if req.get("propagateTags").is_none()
                        && svc
                            .propagate_tags
                            .as_ref()
                            .is_some_and(|p| p.as_str() != "NONE")
                    {
                        flag("svc.create.defaults", "propagateTags is not NONE".into());
                    }
                    if req.get("launchType").is_none()
                        && req.get("capacityProviderStrategy").is_none()
                        && svc
                            .launch_type
                            .as_ref()
                            .is_some_and(|l| l.as_str() != "EC2")
                    {
                        flag(
                            "svc.create.defaults",
                            format!(
                                "launchType {:?} without one in the request",
                                svc.launch_type
                            ),
                        );
                    }
                }
            }
        }
    }
    flags
}

/// Every recorded answer of `items`, with the requests of its item up to it, as
/// [`crate::shapes::derive`] reads the corpus.
pub fn recorded(items: &[Item]) -> Vec<crate::shapes::Recorded<'_>> {
    let mut out = vec![];
    for item in items {
        let mut requests: Vec<&Value> = item.given.iter().map(|g| &g.request).collect();
        for entry in &item.timeline {
            requests.push(&entry.request);
            if let Some(answer) = &entry.answer {
                out.push(crate::shapes::Recorded {
                    item: &item.id,
                    op: &entry.op,
                    requests: requests.clone(),
                    answer,
                    partial: entry.partial,
                    not_replayed: entry.not_replayed.keys().map(String::as_str).collect(),
                });
            }
        }
    }
    out
}

/// A member's wire text for a message, or `(absent)`.
fn shown(value: Option<&str>) -> &str {
    value.unwrap_or("(absent)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shapes::derive;
    use serde_json::json;

    fn item(id: &str, given: Value, entries: Value) -> Item {
        serde_json::from_value(json!({
            "id": id, "source": "s", "date": "2020-01-01", "shows": "s", "rules": [],
            "given": given, "timeline": entries
        }))
        .expect("item")
    }

    #[test]
    fn only_members_aws_filled_in_unasked_and_always_are_kept() {
        let items = vec![
            item(
                "a",
                json!([]),
                json!([{"at_s": 0, "op": "CreateService",
                    "request": {"serviceName": "a", "tags": [{"key": "k", "value": "v"}]},
                    "answer": {"service": {"serviceName": "a", "loadBalancers": [], "events": [],
                        "tags": [{"key": "k", "value": "v"}],
                        "deployments": [{"id": "d", "failedTasks": 0}, {"id": "e"}]}}}]),
            ),
            item(
                "b",
                json!([]),
                json!([{"at_s": 0, "op": "CreateService", "request": {"serviceName": "b"},
                    "answer": {"service": {"serviceName": "b", "loadBalancers": [], "deployments": []}}}]),
            ),
        ];
        // One item alone shows nothing for sure.
        assert!(derive(&recorded(&items[..1]), "test").operations.is_empty());
        let shapes = derive(&recorded(&items), "test");
        // serviceName is named by both requests, events and tags are not always there, the
        // second deployment has no failedTasks, and only one item shows a deployment's id.
        assert_eq!(
            shapes.operations["CreateService"],
            vec![
                "service".to_owned(),
                "service.deployments".to_owned(),
                "service.loadBalancers".to_owned(),
            ]
        );
    }

    #[test]
    fn a_kind_of_object_is_pooled_over_operations() {
        // Two items show platformFamily on every service UpdateService answered (Fargate);
        // DescribeServices answered a service without it (EC2): it is not always there.
        let fargate = |id: &str| {
            item(
                id,
                json!([]),
                json!([{"at_s": 0, "op": "UpdateService", "request": {"service": "s"},
                    "answer": {"service": {"platformFamily": "Linux", "events": []}}}]),
            )
        };
        let mut items = vec![fargate("a"), fargate("b")];
        // (`service` itself is named by the requests.)
        assert_eq!(
            derive(&recorded(&items), "t").operations["UpdateService"],
            vec!["service.events", "service.platformFamily"]
        );
        items.push(item(
            "c",
            json!([]),
            json!([{"at_s": 0, "op": "DescribeServices", "request": {"services": ["s"]},
                "answer": {"services": [{"events": []}], "failures": []}}]),
        ));
        let shapes = derive(&recorded(&items), "t");
        assert_eq!(shapes.operations["UpdateService"], vec!["service.events"]);
        assert_eq!(
            shapes.operations["DescribeServices"],
            vec!["services[].events"]
        );
    }
}
