//! The members AWS fills into its answers: for each operation, the members every recorded AWS
//! answer in `conformance/evidence/` carries wherever their parent object is present, at least
//! one of them without the request (or the item's `given` state) naming that member. They are
//! AWS's defaults and empty lists (`loadBalancers: []`, a container's `environment: []`, the
//! service's `deploymentConfiguration.maximumPercent`), not echoes of what a request said.
//!
//! The table is derived from the corpus by [`derive()`] and kept in
//! `conformance/answer-shapes.json` (`cargo xtask answer-shapes` writes it, `--check` fails
//! when it is stale); the rule [`ANSWER_SHAPE_RULE`] checks every 2xx answer against it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::catalog::ANSWER_SHAPE_RULE;

/// Per operation, the paths of the members its answers always carry: `service.loadBalancers`,
/// `taskDefinition.containerDefinitions[].environment` (`[]` stands for every item of a list).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerShapes {
    /// What wrote the table.
    pub generated_by: String,
    /// Operation name -> member paths, sorted.
    pub operations: BTreeMap<String, Vec<String>>,
}

/// One member an answer lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// Where it should be, as a path into the answer (`service.deployments[0].failedTasks`).
    pub path: String,
    /// The table's path it comes from.
    pub member: String,
}

impl AnswerShapes {
    /// Reads the table; `name` is what errors name.
    pub fn parse(name: &str, text: &str) -> Result<AnswerShapes, String> {
        let shapes: AnswerShapes =
            serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        for (op, paths) in &shapes.operations {
            if ecs_model::operation::find(op).is_none() {
                return Err(format!("{name}: {op} is not an ECS operation"));
            }
            if paths.iter().any(|p| p.is_empty() || p.starts_with('.')) {
                return Err(format!("{name}: {op} has an empty or malformed path"));
            }
        }
        Ok(shapes)
    }

    /// The table as its file holds it (two-space JSON and a final newline).
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Whether the table says anything about `op`.
    pub fn covers(&self, op: &str) -> bool {
        self.operations.get(op).is_some_and(|p| !p.is_empty())
    }

    /// The members `body`, an answer of `op`, lacks where their parent is present.
    pub fn missing(&self, op: &str, body: &Value) -> Vec<Missing> {
        let mut out = vec![];
        for member in self.operations.get(op).into_iter().flatten() {
            let segments: Vec<&str> = member.split('.').collect();
            walk(body, &segments, String::new(), member, &mut out);
        }
        out
    }
}

/// Follows `segments` through `value`; a segment ending in `[]` goes into every item of a
/// list. Reports the last segment where its parent object is present and it is not.
fn walk(value: &Value, segments: &[&str], at: String, member: &str, out: &mut Vec<Missing>) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    let (name, each) = match first.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (*first, false),
    };
    let Some(object) = value.as_object() else {
        return;
    };
    let here = if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    };
    let Some(child) = object.get(name) else {
        // Only the member itself is checked: an absent parent on the way is another entry of
        // the table, or optional.
        if rest.is_empty() {
            out.push(Missing {
                path: here,
                member: member.to_owned(),
            });
        }
        return;
    };
    if each {
        for (i, item) in child.as_array().into_iter().flatten().enumerate() {
            walk(item, rest, format!("{here}[{i}]"), member, out);
        }
    } else {
        walk(child, rest, here, member, out);
    }
}

/// Counts, per path with list items folded into `[]`, the objects found there (`parents`) and
/// the members found there (`members`): a member is always present where both counts agree.
fn collect(
    value: &Value,
    at: &str,
    members: &mut BTreeMap<String, usize>,
    parents: &mut BTreeMap<String, usize>,
) {
    match value {
        Value::Object(map) => {
            *parents.entry(at.to_owned()).or_default() += 1;
            for (k, v) in map {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                *members.entry(path.clone()).or_default() += 1;
                collect(v, &path, members, parents);
            }
        }
        Value::Array(items) => {
            let path = format!("{at}[]");
            for v in items {
                collect(v, &path, members, parents);
            }
        }
        _ => {}
    }
}

/// Every object key anywhere in a JSON value.
fn keys(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

/// The member a path ends in (`a.b[].c` -> `c`; `a.b[]` is not a member).
fn last_member(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('.').map_or("", |(p, _)| p)
}

/// What the corpus showed of one member: how often it was there, whether once unasked, and
/// which items showed it.
type Seen<'a> = (usize, bool, BTreeSet<&'a str>);

/// How many items must show a member before it counts as always there: one recording shows
/// what that one service had (every service of the 2025 update-service examples runs on
/// Fargate, and only Fargate answers `platformFamily`), two independent ones are a pattern.
pub const MIN_ITEMS: usize = 2;

/// Where a member's statistics are pooled: a member of the object an answer wraps (`service`,
/// `services[]`, `taskSet`, `taskSets[]`, `cluster`, `taskDefinition` ...) is pooled with the
/// same member of that kind of object in every operation's answers, since a service is the
/// same object whether CreateService, UpdateService or DescribeServices answers it; a member of
/// the answer itself (`failures`, `clusterArns`) belongs to its operation.
fn pool_of(op: &str, path: &str, parent: bool) -> (String, String) {
    if path.is_empty() {
        return (format!("op:{op}"), String::new());
    }
    let (first, rest) = path.split_once('.').unwrap_or((path, ""));
    if rest.is_empty() && !parent {
        // A member of the answer itself.
        return (format!("op:{op}"), path.to_owned());
    }
    let kind = kind_of(first.trim_end_matches("[]"), first.ends_with("[]"));
    (format!("kind:{kind}"), rest.to_owned())
}

/// `services` (a list) and `service` are one kind.
fn kind_of(name: &str, list: bool) -> String {
    if list {
        name.strip_suffix('s').unwrap_or(name).to_owned()
    } else {
        name.to_owned()
    }
}

/// One recorded answer of the corpus, as [`derive()`] reads it (`evidence::recorded`
/// lists them from the evidence items).
#[derive(Clone, Debug)]
pub struct Recorded<'a> {
    /// The evidence item it belongs to.
    pub item: &'a str,
    /// The operation answered.
    pub op: &'a str,
    /// Every request of the item up to and including this one (its `given` state's first).
    pub requests: Vec<&'a Value>,
    /// The answer AWS gave.
    pub answer: &'a Value,
    /// Whether the record kept only part of the answer.
    pub partial: bool,
    /// JSON pointers of the parts no replay reproduces (the record's own oddities).
    pub not_replayed: Vec<&'a str>,
}

/// Derives the table from the corpus: per operation, the members its complete (not `partial`)
/// recorded answers carry wherever their parent object is (pooled over every operation that
/// answers that kind of object: a service is one kind whatever operation answered it), shown
/// by at least [`MIN_ITEMS`] items, that at least one answer carries without any request of
/// its item so far (the `given` state's and the timeline's) naming the member. A member under
/// a `not_replayed` pointer is excused where it was taken out: it counts neither as there nor
/// as missing.
pub fn derive(recorded: &[Recorded<'_>], generated_by: &str) -> AnswerShapes {
    // pool -> path in the pool -> objects found there, and what was seen of members there
    let mut parents_seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut members_seen: BTreeMap<(String, String), Seen> = BTreeMap::new();
    // op -> the member paths its answers showed
    let mut shown: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // pool -> path -> places a `not_replayed` member was taken out of
    let mut excused: BTreeMap<(String, String), usize> = BTreeMap::new();
    for entry in recorded.iter().filter(|r| !r.partial) {
        let mut named = BTreeSet::new();
        for request in &entry.requests {
            keys(request, &mut named);
        }
        // A part AWS answered that no replay reproduces is taken out, and its place is
        // excused: the member neither counts as there nor as missing.
        let mut answer = entry.answer.clone();
        for pointer in &entry.not_replayed {
            if remove_pointer(&mut answer, pointer) {
                *excused
                    .entry(pool_of(entry.op, &folded(pointer), false))
                    .or_default() += 1;
            }
        }
        let mut members = BTreeMap::new();
        let mut parents = BTreeMap::new();
        collect(&answer, "", &mut members, &mut parents);
        for (p, n) in parents {
            *parents_seen.entry(pool_of(entry.op, &p, true)).or_default() += n;
        }
        let per_op = shown.entry(entry.op.to_owned()).or_default();
        for (path, n) in members {
            let unasked = !named.contains(last_member(&path));
            let e = members_seen
                .entry(pool_of(entry.op, &path, false))
                .or_default();
            e.0 += n;
            e.1 |= unasked;
            e.2.insert(entry.item);
            per_op.insert(path);
        }
    }
    let mut operations = BTreeMap::new();
    for (op, paths) in shown {
        let always: Vec<String> = paths
            .into_iter()
            .filter(|path| {
                let key = pool_of(&op, path, false);
                let Some((present, unasked, shown_by)) = members_seen.get(&key) else {
                    return false;
                };
                let parent = parents_seen
                    .get(&pool_of(&op, parent_of(path), true))
                    .copied()
                    .unwrap_or(0);
                let excused = excused.get(&key).copied().unwrap_or(0);
                *unasked && present + excused == parent && shown_by.len() >= MIN_ITEMS
            })
            .collect();
        if !always.is_empty() {
            operations.insert(op, always);
        }
    }
    AnswerShapes {
        generated_by: generated_by.to_owned(),
        operations,
    }
}

/// Removes what a JSON pointer names (a list item is replaced by null, so that later indices
/// keep their meaning, and nulls are skipped when collecting); whether it removed a member of
/// an object (as opposed to an item of a list, or nothing).
fn remove_pointer(value: &mut Value, pointer: &str) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return false;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&last).is_some(),
        Some(Value::Array(items)) => {
            if let Some(item) = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *item = Value::Null;
            }
            false
        }
        _ => false,
    }
}

/// A JSON pointer as a member path with list items folded: `/services/0/events` is
/// `services[].events`.
fn folded(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        if !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()) {
            out.push_str("[]");
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment.replace("~1", "/").replace("~0", "~"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_missing_member_is_found_where_its_parent_is() {
        let shapes = AnswerShapes {
            generated_by: "t".into(),
            operations: BTreeMap::from([(
                "DescribeServices".to_owned(),
                vec![
                    "services[].loadBalancers".to_owned(),
                    "services[].deployments[].failedTasks".to_owned(),
                ],
            )]),
        };
        let body = json!({"services": [
            {"loadBalancers": [], "deployments": [{"failedTasks": 0}, {}]},
            {"deployments": []},
            {"loadBalancers": []}
        ]});
        let missing: Vec<String> = shapes
            .missing("DescribeServices", &body)
            .into_iter()
            .map(|m| m.path)
            .collect();
        assert_eq!(
            missing,
            vec![
                "services[1].loadBalancers".to_owned(),
                "services[0].deployments[1].failedTasks".to_owned(),
            ]
        );
        assert!(shapes.missing("ListServices", &body).is_empty());
    }
}
