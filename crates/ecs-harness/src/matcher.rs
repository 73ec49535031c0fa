//! Expected answers with matchers for what is not deterministic, and `{{variables}}` in
//! requests and expectations.
//!
//! In an expected body, a string that starts with `@` is a matcher:
//!
//! | matcher | matches |
//! |---|---|
//! | `@any` | any value, but the member must be present |
//! | `@absent` | the member must be absent |
//! | `@string`, `@number`, `@integer`, `@bool`, `@array`, `@object` | a value of that JSON type |
//! | `@timestamp` | epoch seconds: a number ≥ 0 |
//! | `@uuid` | a UUID string |
//! | `@task-set-id` | `ecs-svc/` and digits |
//! | `@version` | a concrete dotted version such as `1.4.0` (never `LATEST`) |
//! | `@arn`, `@arn:<kind>` | an ECS ARN, of that resource kind (`cluster`, `service`, `task-set`, `task-definition`, `task`, `service-revision` ...) |
//! | `@token:<name>` | anything the first time; the same value every later time, in any step of the case |
//! | `@prefix:<text>` | a string that starts with `<text>` (AWS's words where the record has more than one ending) |
//!
//! `@@` escapes a literal leading `@`. `{"@unordered": [...]}` matches an array in any order.
//! Objects match when every expected member matches; extra members in the answer are allowed
//! (forward compatibility), a missing expected member is a mismatch. Arrays match element by
//! element and must have the same length. Numbers compare by value (`50` equals `50.0`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One difference between expectation and answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// JSON path in the answer, e.g. `taskSet.computedDesiredCount`.
    pub path: String,
    /// The expected value, as the fixture wrote it.
    pub expected: String,
    /// The actual value.
    pub actual: String,
}

/// Values bound by `@token:` matchers and step captures.
pub type Vars = BTreeMap<String, Value>;

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(v) => {
            let s = v.to_string();
            if s.len() > 200 {
                format!(
                    "{}…",
                    &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)]
                )
            } else {
                s
            }
        }
    }
}

/// Compares `actual` against the pattern `expected`, adding every difference to `out`.
pub fn check(
    expected: &Value,
    actual: Option<&Value>,
    path: &str,
    tokens: &mut Vars,
    out: &mut Vec<Mismatch>,
) {
    let mismatch = |out: &mut Vec<Mismatch>, expected: String| {
        out.push(Mismatch {
            path: path.to_owned(),
            expected,
            actual: show(actual),
        });
    };
    if let Value::String(s) = expected {
        if let Some(m) = s.strip_prefix('@').filter(|m| !m.starts_with('@')) {
            return check_matcher(m, actual, path, tokens, out);
        }
    }
    let Some(actual_value) = actual else {
        return mismatch(out, show(Some(expected)));
    };
    match expected {
        Value::Object(map) if map.len() == 1 && map.contains_key("@unordered") => {
            let patterns = map
                .get("@unordered")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let Some(items) = actual_value.as_array() else {
                return mismatch(
                    out,
                    format!("an array of {} items in any order", patterns.len()),
                );
            };
            if items.len() != patterns.len() {
                return mismatch(
                    out,
                    format!("an array of {} items in any order", patterns.len()),
                );
            }
            let mut used = vec![false; items.len()];
            for (pi, pattern) in patterns.iter().enumerate() {
                let found = items.iter().enumerate().find(|(i, item)| {
                    if used[*i] {
                        return false;
                    }
                    let mut scratch_tokens = tokens.clone();
                    let mut scratch = vec![];
                    check(pattern, Some(item), "", &mut scratch_tokens, &mut scratch);
                    scratch.is_empty()
                });
                match found {
                    Some((i, item)) => {
                        used[i] = true;
                        let mut ignored = vec![];
                        check(pattern, Some(item), "", tokens, &mut ignored);
                    }
                    None => out.push(Mismatch {
                        path: format!("{path}[?{pi}]"),
                        expected: format!("an item matching {}", show(Some(pattern))),
                        actual: show(actual),
                    }),
                }
            }
        }
        Value::Object(map) => {
            let Some(actual_map) = actual_value.as_object() else {
                return mismatch(out, "an object".to_owned());
            };
            for (k, v) in map {
                let key = k.strip_prefix("@@").map_or(k.as_str(), |_| &k[1..]);
                check(v, actual_map.get(key), &join(path, key), tokens, out);
            }
        }
        Value::Array(items) => {
            let Some(actual_items) = actual_value.as_array() else {
                return mismatch(out, format!("an array of {} items", items.len()));
            };
            if actual_items.len() != items.len() {
                return mismatch(
                    out,
                    format!("{} items: {}", items.len(), show(Some(expected))),
                );
            }
            for (i, (e, a)) in items.iter().zip(actual_items).enumerate() {
                check(e, Some(a), &format!("{path}[{i}]"), tokens, out);
            }
        }
        Value::Number(n) => {
            let equal = actual_value
                .as_number()
                .is_some_and(|a| numbers_equal(n, a));
            if !equal {
                mismatch(out, n.to_string());
            }
        }
        Value::String(s) => {
            let literal = s
                .strip_prefix('@')
                .filter(|r| r.starts_with('@'))
                .unwrap_or(s);
            if actual_value.as_str() != Some(literal) {
                mismatch(out, show(Some(&Value::String(literal.to_owned()))));
            }
        }
        other => {
            if actual_value != other {
                mismatch(out, show(Some(other)));
            }
        }
    }
}

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => x == y,
        _ => match (a.as_u64(), b.as_u64()) {
            (Some(x), Some(y)) => x == y,
            _ => a.as_f64() == b.as_f64(),
        },
    }
}

fn is_arn(s: &str, kind: Option<&str>) -> bool {
    ecs_model::arn::Arn::parse(s).is_some_and(|arn| arn.is_ecs(kind))
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn check_matcher(
    m: &str,
    actual: Option<&Value>,
    path: &str,
    tokens: &mut Vars,
    out: &mut Vec<Mismatch>,
) {
    let fail = |out: &mut Vec<Mismatch>, what: &str| {
        out.push(Mismatch {
            path: path.to_owned(),
            expected: what.to_owned(),
            actual: show(actual),
        });
    };
    if m == "absent" {
        if actual.is_some() {
            fail(out, "(absent)");
        }
        return;
    }
    let Some(v) = actual else {
        return fail(out, &format!("@{m}"));
    };
    let ok = match m {
        "any" => true,
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        "bool" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "timestamp" => v.as_f64().is_some_and(|t| t >= 0.0),
        "uuid" => v.as_str().is_some_and(is_uuid),
        "task-set-id" => v
            .as_str()
            .and_then(|s| s.strip_prefix("ecs-svc/"))
            .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())),
        "version" => v.as_str().is_some_and(|s| {
            let parts: Vec<&str> = s.split('.').collect();
            parts.len() >= 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        }),
        "arn" => v.as_str().is_some_and(|s| is_arn(s, None)),
        _ => {
            if let Some(kind) = m.strip_prefix("arn:") {
                v.as_str().is_some_and(|s| is_arn(s, Some(kind)))
            } else if let Some(text) = m.strip_prefix("prefix:") {
                v.as_str().is_some_and(|s| s.starts_with(text))
            } else if let Some(name) = m.strip_prefix("after:") {
                // A number later than what the token `name` bound earlier in the case.
                let bound = tokens.get(name).and_then(Value::as_f64);
                match (bound, v.as_f64()) {
                    (Some(b), Some(x)) => x > b,
                    _ => false,
                }
            } else if let Some(name) = m.strip_prefix("token:") {
                match tokens.get(name) {
                    Some(bound) => bound == v,
                    None => {
                        tokens.insert(name.to_owned(), v.clone());
                        true
                    }
                }
            } else {
                return fail(out, &format!("a known matcher (@{m} is not one)"));
            }
        }
    };
    if !ok {
        let expected = match (m.strip_prefix("token:"), m.strip_prefix("after:")) {
            (Some(name), _) => format!("token {name} = {}", show(tokens.get(name))),
            (_, Some(name)) => format!("a number after token {name} = {}", show(tokens.get(name))),
            _ => format!("@{m}"),
        };
        fail(out, &expected);
    }
}

/// ARN resource kinds `@arn:<kind>` accepts.
pub const ARN_KINDS: &[&str] = &[
    "cluster",
    "service",
    "task-set",
    "task-definition",
    "task",
    "container-instance",
    "capacity-provider",
    "service-deployment",
    "service-revision",
];

/// Whether `@<m>` is a matcher [`check`] knows.
pub fn is_known_matcher(m: &str) -> bool {
    matches!(
        m,
        "any"
            | "absent"
            | "string"
            | "number"
            | "integer"
            | "bool"
            | "array"
            | "object"
            | "timestamp"
            | "uuid"
            | "task-set-id"
            | "version"
            | "arn"
    ) || m
        .strip_prefix("arn:")
        .is_some_and(|k| ARN_KINDS.contains(&k))
        || m.strip_prefix("token:").is_some_and(|n| !n.is_empty())
        || m.strip_prefix("after:").is_some_and(|n| !n.is_empty())
        || m.strip_prefix("prefix:").is_some_and(|t| !t.is_empty())
}

/// Every matcher in an expected body that [`check`] does not know, as (JSON pointer below
/// `value`, message): a typo is a fixture error, found before any request.
pub fn unknown_matchers(value: &Value) -> Vec<(String, String)> {
    fn walk(value: &Value, pointer: &str, out: &mut Vec<(String, String)>) {
        match value {
            Value::String(s) => {
                if let Some(m) = s.strip_prefix('@').filter(|m| !m.starts_with('@')) {
                    if !is_known_matcher(m) {
                        out.push((pointer.to_owned(), format!("@{m} is not a matcher")));
                    }
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{pointer}/{i}"), out);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    let p = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                    if k.starts_with('@') && !k.starts_with("@@") && k != "@unordered" {
                        out.push((
                            p.clone(),
                            format!("{k} is not a matcher key (only @unordered is)"),
                        ));
                    }
                    if k == "@unordered" && (map.len() != 1 || !v.is_array()) {
                        out.push((
                            p.clone(),
                            "@unordered takes an array and stands alone in its object".into(),
                        ));
                    }
                    walk(v, &p, out);
                }
            }
            _ => {}
        }
    }
    let mut out = vec![];
    walk(value, "", &mut out);
    out
}

/// Every `{{name}}` in `value`, as (JSON pointer below `value`, name).
pub fn variables(value: &Value) -> Vec<(String, String)> {
    fn walk(value: &Value, pointer: &str, out: &mut Vec<(String, String)>) {
        match value {
            Value::String(s) => {
                let mut rest = s.as_str();
                while let Some(start) = rest.find("{{") {
                    let Some(len) = rest[start..].find("}}") else {
                        break;
                    };
                    out.push((pointer.to_owned(), rest[start + 2..start + len].to_owned()));
                    rest = &rest[start + len + 2..];
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{pointer}/{i}"), out);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    walk(
                        v,
                        &format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            _ => {}
        }
    }
    let mut out = vec![];
    walk(value, "", &mut out);
    out
}

/// A variable `{{name}}` that a request or expectation needs but the case does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("variable {0} is not set (the step that captures it failed or did not run)")]
pub struct MissingVar(pub String);

/// Replaces `{{name}}` in every string: a string that is exactly `{{name}}` becomes the
/// variable's JSON value; elsewhere its text is spliced in.
pub fn substitute(value: &Value, vars: &Vars) -> Result<Value, MissingVar> {
    Ok(match value {
        Value::String(s) => {
            if let Some(name) = s
                .strip_prefix("{{")
                .and_then(|r| r.strip_suffix("}}"))
                .filter(|n| !n.contains("{{"))
            {
                return vars
                    .get(name)
                    .cloned()
                    .ok_or_else(|| MissingVar(name.to_owned()));
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{") {
                let Some(len) = rest[start..].find("}}") else {
                    break;
                };
                let name = &rest[start + 2..start + len];
                let v = vars.get(name).ok_or_else(|| MissingVar(name.to_owned()))?;
                out.push_str(&rest[..start]);
                match v {
                    Value::String(t) => out.push_str(t),
                    other => out.push_str(&other.to_string()),
                }
                rest = &rest[start + len + 2..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), substitute(v, vars)?)))
                .collect::<Result<_, MissingVar>>()?,
        ),
        other => other.clone(),
    })
}

/// The value at a simple JSON path: `$.taskSet.id`, `taskSets[0].id`.
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim_start_matches('$').trim_start_matches('.');
    let mut current = value;
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let (name, indexes) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !name.is_empty() {
            current = current.get(name)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let i: usize = index.trim_end_matches(']').parse().ok()?;
            current = current.get(i)?;
        }
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn after_compares_with_a_bound_token() {
        let mut tokens = Vars::new();
        let mut out = vec![];
        check(
            &json!({"t": "@token:t0"}),
            Some(&json!({"t": 10.5})),
            "",
            &mut tokens,
            &mut out,
        );
        check(
            &json!({"t": "@after:t0"}),
            Some(&json!({"t": 10.6})),
            "",
            &mut tokens,
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        check(
            &json!({"t": "@after:t0"}),
            Some(&json!({"t": 10.5})),
            "",
            &mut tokens,
            &mut out,
        );
        assert_eq!(out.len(), 1, "equal is not after");
        assert!(out[0].expected.contains("after token t0 = 10.5"), "{out:?}");
        check(
            &json!({"t": "@after:nope"}),
            Some(&json!({"t": 99})),
            "",
            &mut tokens,
            &mut out,
        );
        assert_eq!(out.len(), 2, "an unbound token never matches");
        assert!(is_known_matcher("after:t0") && !is_known_matcher("after:"));
        assert!(is_known_matcher("prefix:a b") && !is_known_matcher("prefix:"));
    }

    fn diffs(expected: Value, actual: Value) -> Vec<Mismatch> {
        let mut out = vec![];
        check(&expected, Some(&actual), "", &mut Vars::new(), &mut out);
        out
    }

    #[test]
    fn prefix_matches_the_start_of_a_string_only() {
        let m = json!({"m": "@prefix:field is required when using "});
        assert!(diffs(
            m.clone(),
            json!({"m": "field is required when using the linear x"})
        )
        .is_empty());
        assert_eq!(
            diffs(m.clone(), json!({"m": "a field is required when using "})).len(),
            1
        );
        assert_eq!(diffs(m.clone(), json!({"m": 5})).len(), 1);
        assert_eq!(diffs(m, json!({})).len(), 1);
    }

    #[test]
    fn exact_values_types_and_extra_members() {
        assert!(diffs(
            json!({"a": 1, "b": "x"}),
            json!({"a": 1.0, "b": "x", "extra": true})
        )
        .is_empty());
        let d = diffs(json!({"a": {"b": 2}}), json!({"a": {"b": 3}}));
        assert_eq!(
            d,
            vec![Mismatch {
                path: "a.b".into(),
                expected: "2".into(),
                actual: "3".into()
            }]
        );
        let d = diffs(json!({"a": 1}), json!({}));
        assert_eq!(d[0].actual, "(absent)");
        assert_eq!(diffs(json!({"l": [1, 2]}), json!({"l": [1]}))[0].path, "l");
        assert_eq!(
            diffs(json!({"l": [1, 2]}), json!({"l": [1, 5]}))[0].path,
            "l[1]"
        );
    }

    #[test]
    fn matchers() {
        let arn = "arn:aws:ecs:us-east-1:123456789012:task-set/c/s/ecs-svc/1";
        assert!(diffs(
            json!({"a": "@arn:task-set", "b": "@task-set-id", "t": "@timestamp", "n": "@absent"}),
            json!({"a": arn, "b": "ecs-svc/12", "t": 1.5})
        )
        .is_empty());
        assert_eq!(
            diffs(json!({"a": "@arn:service"}), json!({"a": arn})).len(),
            1
        );
        assert_eq!(diffs(json!({"n": "@absent"}), json!({"n": 0})).len(), 1);
        assert_eq!(
            diffs(
                json!({"u": "@uuid"}),
                json!({"u": "8f14e45f-ceea-467f-a0e6-6a1c2c4e5b6d"})
            )
            .len(),
            0
        );
        assert_eq!(diffs(json!({"u": "@uuid"}), json!({"u": "nope"})).len(), 1);
        assert!(diffs(json!({"v": "@version"}), json!({"v": "1.4.0"})).is_empty());
        for bad in [json!("LATEST"), json!("1."), json!(1.4), json!("1")] {
            assert_eq!(diffs(json!({"v": "@version"}), json!({"v": bad})).len(), 1);
        }
        assert_eq!(
            diffs(json!({"s": "@@literal"}), json!({"s": "@literal"})).len(),
            0
        );
        assert_eq!(
            diffs(json!({"s": "@nonsense"}), json!({"s": 1}))[0].expected,
            "a known matcher (@nonsense is not one)"
        );
    }

    #[test]
    fn tokens_bind_once_and_must_repeat() {
        let mut tokens = Vars::new();
        let mut out = vec![];
        check(
            &json!({"id": "@token:blue"}),
            Some(&json!({"id": "x"})),
            "",
            &mut tokens,
            &mut out,
        );
        check(
            &json!({"id": "@token:blue"}),
            Some(&json!({"id": "x"})),
            "",
            &mut tokens,
            &mut out,
        );
        assert!(out.is_empty());
        check(
            &json!({"id": "@token:blue"}),
            Some(&json!({"id": "y"})),
            "",
            &mut tokens,
            &mut out,
        );
        assert_eq!(out[0].expected, "token blue = \"x\"");
    }

    #[test]
    fn unordered_arrays() {
        assert!(diffs(
            json!({"l": {"@unordered": [{"s": "A"}, {"s": "P"}]}}),
            json!({"l": [{"s": "P"}, {"s": "A"}]})
        )
        .is_empty());
        assert_eq!(
            diffs(
                json!({"l": {"@unordered": [{"s": "A"}, {"s": "A"}]}}),
                json!({"l": [{"s": "P"}, {"s": "A"}]})
            )
            .len(),
            1
        );
    }

    #[test]
    fn substitution_and_lookup() {
        let vars: Vars = [
            ("unique".to_owned(), json!("r1-7")),
            ("n".to_owned(), json!(4)),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            substitute(
                &json!({"a": "c-{{unique}}", "b": "{{n}}", "c": ["x{{n}}"]}),
                &vars
            )
            .unwrap(),
            json!({"a": "c-r1-7", "b": 4, "c": ["x4"]})
        );
        assert_eq!(
            substitute(&json!("{{missing}}"), &vars),
            Err(MissingVar("missing".into()))
        );
        let v = json!({"taskSets": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(lookup(&v, "$.taskSets[1].id"), Some(&json!("b")));
        assert_eq!(lookup(&v, "taskSets[2].id"), None);
    }
}
