//! Fixture templates: named parts, parameters and tables, expanded into plain cases before a
//! case is typed.
//!
//! - A **part** is a named list of steps, declared in `fixtures/parts.json` (shared by every
//!   file) or in a file's own `parts` member. Its `params` give each parameter a default
//!   (`null`: the user must give it). A step list refers to a part with
//!   `{"use": "external-service", "with": {"desired": 4}}`; the part's steps take its place.
//! - A **parameter** is written `${name}` in a part's steps or a table case. A string that is
//!   exactly `${name}` becomes the value with its JSON type (`"${desired}"` → `4`); inside a
//!   longer string, or in a member name, the value's text is spliced in. Run-time variables (`{{ts}}`) are untouched.
//! - A **table** case has `"table": {"columns": [...], "rows": [[...], ...]}`: every row is one
//!   case, the template with the row's values for the columns.
//!
//! Every problem is reported with the file and the JSON pointer of the value, and for a table
//! with the row (`/cases/0/table/rows/17`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::fixture_error::FixtureError;

/// How deep parts may use parts.
const MAX_DEPTH: usize = 8;

/// How many steps and part uses one case may expand to. The depth cap alone does not bound
/// the work: a part used a hundred times at each of eight levels is 10^16 steps. The largest
/// case of the suite expands to a few dozen.
pub const MAX_EXPANSION: usize = 100_000;

/// Where an expanded step was written: its file and JSON pointer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub file: String,
    /// The JSON pointer in it.
    pub pointer: String,
}

impl Origin {
    fn new(file: &str, pointer: String) -> Self {
        Origin {
            file: file.to_owned(),
            pointer,
        }
    }
}

/// A part: its parameters (with defaults; `null` means required) and its steps.
#[derive(Clone, Debug)]
struct Part {
    origin: Origin,
    params: Map<String, Value>,
    steps: Vec<Value>,
}

/// The parts a file may use: its own, then the shared library.
#[derive(Clone, Debug, Default)]
pub struct Parts {
    parts: BTreeMap<String, Part>,
}

impl Parts {
    /// Reads the `parts` member of a (schema-valid) fixture file.
    pub fn from_file(file: &str, doc: &Value) -> Self {
        let mut parts = BTreeMap::new();
        if let Some(map) = doc.get("parts").and_then(Value::as_object) {
            for (name, def) in map {
                parts.insert(
                    name.clone(),
                    Part {
                        origin: Origin::new(file, format!("/parts/{}", escape(name))),
                        params: def
                            .get("params")
                            .and_then(Value::as_object)
                            .cloned()
                            .unwrap_or_default(),
                        steps: def
                            .get("steps")
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default(),
                    },
                );
            }
        }
        Parts { parts }
    }

    /// `self` with `shared`'s parts added where `self` has none of that name.
    pub fn over(mut self, shared: &Parts) -> Self {
        for (name, part) in &shared.parts {
            self.parts
                .entry(name.clone())
                .or_insert_with(|| part.clone());
        }
        self
    }

    /// The file that declares part `name`, if it is in scope.
    pub fn file_of(&self, name: &str) -> Option<&str> {
        self.parts.get(name).map(|p| p.origin.file.as_str())
    }

    /// The names of the parts in scope.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.parts.keys().map(String::as_str)
    }
}

/// One case after expansion: a plain case object, where it was written, and where each of its
/// steps and cleanup steps was written.
#[derive(Clone, Debug)]
pub struct Expanded {
    /// The case, parts and tables expanded.
    pub value: Value,
    /// The case's JSON pointer, or its table row's (`/cases/0/table/rows/17`).
    pub source: String,
    /// Where each step was written.
    pub steps: Vec<Origin>,
    /// Where each cleanup step was written.
    pub cleanup: Vec<Origin>,
}

/// Expands the case at `/cases/{index}` of `file`.
pub fn expand_case(
    file: &str,
    index: usize,
    entry: &Value,
    parts: &Parts,
    errors: &mut Vec<FixtureError>,
) -> Vec<Expanded> {
    let base = format!("/cases/{index}");
    let Some(table) = entry.get("table") else {
        let mut problems = vec![];
        let value = substitute(entry, &Map::new(), "", &mut problems);
        report(file, &base, problems, errors);
        return expand_steps_of(file, &base, &base, value, parts, errors)
            .into_iter()
            .collect();
    };
    let columns: Vec<String> = table
        .get("columns")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let rows = table
        .get("rows")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut template = entry.clone();
    if let Some(map) = template.as_object_mut() {
        map.remove("table");
    }
    let mut out = vec![];
    for (r, row) in rows.iter().enumerate() {
        let at = format!("{base}/table/rows/{r}");
        let cells = row.as_array().cloned().unwrap_or_default();
        if cells.len() != columns.len() {
            errors.push(FixtureError {
                file: file.to_owned(),
                path: at,
                message: format!(
                    "the row has {} value(s) for {} column(s) ({})",
                    cells.len(),
                    columns.len(),
                    columns.join(", ")
                ),
            });
            continue;
        }
        let bindings: Map<String, Value> = columns.iter().cloned().zip(cells).collect();
        let mut problems = vec![];
        let value = substitute(&template, &bindings, "", &mut problems);
        if !problems.is_empty() {
            report(file, &at, problems, errors);
            continue;
        }
        out.extend(expand_steps_of(file, &base, &at, value, parts, errors));
    }
    out
}

/// Problems found in a template are reported at `at`, naming the template's path.
fn report(file: &str, at: &str, problems: Vec<(String, String)>, errors: &mut Vec<FixtureError>) {
    for (path, message) in problems {
        errors.push(FixtureError {
            file: file.to_owned(),
            path: at.to_owned(),
            message: if path.is_empty() {
                message
            } else {
                format!("{path}: {message}")
            },
        });
    }
}

fn expand_steps_of(
    file: &str,
    base: &str,
    source: &str,
    mut value: Value,
    parts: &Parts,
    errors: &mut Vec<FixtureError>,
) -> Option<Expanded> {
    let mut origins: [Vec<Origin>; 2] = [vec![], vec![]];
    let before = errors.len();
    for (list, origin) in ["steps", "cleanup"].iter().zip(origins.iter_mut()) {
        let Some(items) = value.get(*list).and_then(Value::as_array).cloned() else {
            continue;
        };
        let mut steps = vec![];
        let mut budget = MAX_EXPANSION;
        for (k, item) in items.iter().enumerate() {
            let here = Origin::new(file, format!("{base}/{list}/{k}"));
            let mut out = Out {
                steps: &mut steps,
                origins: origin,
                budget: &mut budget,
            };
            if !expand_item(item, here, parts, 0, &mut out, errors) {
                break;
            }
        }
        value[*list] = Value::Array(steps);
    }
    let [steps, cleanup] = origins;
    (errors.len() == before).then(|| Expanded {
        value,
        source: source.to_owned(),
        steps,
        cleanup,
    })
}

/// Where expanded steps go, and how much expansion is left for the case.
struct Out<'a> {
    steps: &'a mut Vec<Value>,
    origins: &'a mut Vec<Origin>,
    budget: &'a mut usize,
}

/// Expands one item into `out`; `false` once the case has used up [`MAX_EXPANSION`] (the
/// error is given, and nothing more is expanded).
fn expand_item(
    item: &Value,
    here: Origin,
    parts: &Parts,
    depth: usize,
    out: &mut Out,
    errors: &mut Vec<FixtureError>,
) -> bool {
    let fail = |errors: &mut Vec<FixtureError>, path: String, message: String| {
        errors.push(FixtureError {
            file: here.file.clone(),
            path,
            message,
        });
    };
    if *out.budget == 0 {
        fail(
            errors,
            here.pointer.clone(),
            format!("the case expands to more than {MAX_EXPANSION} steps and part uses (parts used many times over, at several levels)"),
        );
        return false;
    }
    *out.budget -= 1;
    let Some(name) = item.get("use").and_then(Value::as_str) else {
        out.steps.push(item.clone());
        out.origins.push(here);
        return true;
    };
    if depth >= MAX_DEPTH {
        fail(
            errors,
            format!("{}/use", here.pointer),
            format!("parts use parts more than {MAX_DEPTH} deep (a part that uses itself?)"),
        );
        return true;
    }
    let Some(part) = parts.parts.get(name) else {
        fail(
            errors,
            format!("{}/use", here.pointer),
            format!(
                "{name} is not a part (known: {})",
                parts.names().collect::<Vec<_>>().join(", ")
            ),
        );
        return true;
    };
    let given = item
        .get("with")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut bindings = part.params.clone();
    for (k, v) in given {
        if !part.params.contains_key(&k) {
            fail(
                errors,
                format!("{}/with/{}", here.pointer, escape(&k)),
                format!(
                    "part {name} has no parameter {k} (it has: {})",
                    part.params.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
            continue;
        }
        bindings.insert(k, v);
    }
    for (k, v) in &bindings {
        if v.is_null() {
            fail(
                errors,
                format!("{}/with", here.pointer),
                format!("part {name} needs a value for {k}"),
            );
        }
    }
    for (s, step) in part.steps.iter().enumerate() {
        let pointer = format!("{}/steps/{s}", part.origin.pointer);
        let mut problems = vec![];
        let step = substitute(step, &bindings, "", &mut problems);
        for (path, message) in problems {
            fail(errors, format!("{pointer}{path}"), message);
        }
        let origin = Origin::new(&part.origin.file, pointer);
        if !expand_item(&step, origin, parts, depth + 1, out, errors) {
            return false;
        }
    }
    true
}

/// `value` with every `${name}` replaced from `bindings`; problems are (JSON pointer, message).
pub fn substitute(
    value: &Value,
    bindings: &Map<String, Value>,
    path: &str,
    problems: &mut Vec<(String, String)>,
) -> Value {
    match value {
        Value::String(s) => substitute_str(s, bindings, path, problems),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| substitute(v, bindings, &format!("{path}/{i}"), problems))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let p = format!("{path}/{}", escape(k));
                    // A member name may hold parameters too; it takes their text.
                    let key = match substitute_str(k, bindings, &p, problems) {
                        Value::String(key) => key,
                        other => other.to_string(),
                    };
                    (key, substitute(v, bindings, &p, problems))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn substitute_str(
    s: &str,
    bindings: &Map<String, Value>,
    path: &str,
    problems: &mut Vec<(String, String)>,
) -> Value {
    let names = parameters(s);
    if names.is_empty() {
        return Value::String(s.to_owned());
    }
    let mut missing = false;
    for name in &names {
        if !bindings.contains_key(name.as_str()) {
            missing = true;
            let known: Vec<&str> = bindings.keys().map(String::as_str).collect();
            problems.push((
                path.to_owned(),
                if known.is_empty() {
                    format!("${{{name}}} is not a parameter here (no parameters are in scope)")
                } else {
                    format!(
                        "${{{name}}} is not a parameter here (known: {})",
                        known.join(", ")
                    )
                },
            ));
        }
    }
    if missing {
        return Value::String(s.to_owned());
    }
    if names.len() == 1 && s == format!("${{{}}}", names[0]) {
        return bindings[names[0].as_str()].clone();
    }
    let mut out = s.to_owned();
    for name in names {
        let text = match &bindings[name.as_str()] {
            Value::String(v) => v.clone(),
            other => other.to_string(),
        };
        out = out.replace(&format!("${{{name}}}"), &text);
    }
    Value::String(out)
}

/// The `${name}` parameters of a string (names: a lowercase letter, then `[a-z0-9_]`).
pub fn parameters(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        let mut chars = name.chars();
        if chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !out.iter().any(|n| n == name)
        {
            out.push(name.to_owned());
        }
        rest = &after[end + 1..];
    }
    out
}

/// A JSON pointer token.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parts() -> Parts {
        Parts::from_file(
            "parts.json",
            &json!({"parts": {
                "svc": {"params": {"desired": 1, "name": null},
                        "steps": [{"op": "CreateService", "request": {"serviceName": "${name}-svc", "desiredCount": "${desired}"}}]},
                "twice": {"steps": [{"use": "svc", "with": {"name": "a"}}, {"use": "svc", "with": {"name": "b", "desired": 2}}]},
                "loop": {"steps": [{"use": "loop"}]}
            }}),
        )
    }

    #[test]
    fn parameters_keep_their_type_when_alone_and_splice_as_text() {
        let mut problems = vec![];
        let b: Map<String, Value> = json!({"n": 4, "s": 30.5, "t": "x"})
            .as_object()
            .cloned()
            .expect("object");
        let v = substitute(
            &json!({"a": "${n}", "b": "d${n}-s${s}-${t}", "c": "{{ts}}"}),
            &b,
            "",
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(v, json!({"a": 4, "b": "d4-s30.5-x", "c": "{{ts}}"}));
        let v = substitute(&json!({"${t}": "${n}"}), &b, "", &mut problems);
        assert_eq!(v, json!({"x": 4}), "member names take the text");
        let _ = substitute(&json!({"a": ["${m}"]}), &b, "", &mut problems);
        assert_eq!(problems[0].0, "/a/0");
        assert!(
            problems[0].1.contains("${m} is not a parameter"),
            "{problems:?}"
        );
    }

    #[test]
    fn parts_expand_in_place_with_defaults_overrides_and_origins() {
        let mut errors = vec![];
        let case =
            json!({"id": "c", "steps": [{"use": "twice"}, {"op": "ListClusters"}], "cleanup": []});
        let out = expand_case("f.json", 2, &case, &parts(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let steps = out[0].value["steps"].as_array().expect("steps");
        assert_eq!(steps.len(), 3);
        assert_eq!(
            steps[0]["request"],
            json!({"serviceName": "a-svc", "desiredCount": 1})
        );
        assert_eq!(
            steps[1]["request"],
            json!({"serviceName": "b-svc", "desiredCount": 2})
        );
        assert_eq!(out[0].steps[0].file, "parts.json");
        assert_eq!(out[0].steps[0].pointer, "/parts/svc/steps/0");
        assert_eq!(out[0].steps[2].pointer, "/cases/2/steps/1");
    }

    #[test]
    fn bad_uses_are_located() {
        for (item, path, text) in [
            (
                json!({"use": "nope"}),
                "/cases/0/steps/0/use",
                "nope is not a part",
            ),
            (
                json!({"use": "svc"}),
                "/cases/0/steps/0/with",
                "needs a value for name",
            ),
            (
                json!({"use": "svc", "with": {"name": "a", "x": 1}}),
                "/cases/0/steps/0/with/x",
                "has no parameter x",
            ),
            (
                json!({"use": "loop"}),
                "/parts/loop/steps/0/use",
                "more than 8 deep",
            ),
        ] {
            let mut errors = vec![];
            let out = expand_case(
                "f.json",
                0,
                &json!({"id": "c", "steps": [item]}),
                &parts(),
                &mut errors,
            );
            assert!(out.is_empty());
            assert!(
                errors
                    .iter()
                    .any(|e| e.path == path && e.message.contains(text)),
                "{path}: {errors:?}"
            );
        }
    }

    #[test]
    fn a_table_is_one_case_per_row_and_a_bad_row_names_its_row() {
        let case = json!({"id": "r.d${d}", "steps": [{"op": "X", "request": {"n": "${d}", "e": "${e}"}}],
                          "table": {"columns": ["d", "e"], "rows": [[1, 2], [3, 4], [5], [6, 7]]}});
        let mut errors = vec![];
        let out = expand_case("t.json", 1, &case, &Parts::default(), &mut errors);
        assert_eq!(out.len(), 3);
        assert_eq!(out[1].value["id"], "r.d3");
        assert_eq!(out[1].value["steps"][0]["request"], json!({"n": 3, "e": 4}));
        assert_eq!(out[1].source, "/cases/1/table/rows/1");
        assert!(out[1].value.get("table").is_none());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "/cases/1/table/rows/2");
        let mut errors = vec![];
        let typo = json!({"id": "r", "steps": [{"op": "X", "request": {"n": "${dd}"}}],
                          "table": {"columns": ["d"], "rows": [[1]]}});
        let _ = expand_case("t.json", 0, &typo, &Parts::default(), &mut errors);
        assert_eq!(errors[0].path, "/cases/0/table/rows/0");
        assert!(
            errors[0].message.starts_with("/steps/0/request/n: ${dd}"),
            "{errors:?}"
        );
    }

    #[test]
    fn only_wellformed_names_are_parameters() {
        assert_eq!(parameters("${a}-${b_1}-${A}-${}-${a}"), vec!["a", "b_1"]);
        assert!(parameters("{{ts}} $x ${").is_empty());
    }
}
