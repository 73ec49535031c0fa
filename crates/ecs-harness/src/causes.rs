//! Root causes: failed, blocked and errored cases grouped by what went wrong, ranked by how many
//! cases each explains, each with a minimal reproducer.
//!
//! One crash of a target (say CreateTaskSet answering an HTML 500 on a launch type it cannot
//! place) blocks or fails most of the suite; listing 150 cases hides it. A cause is the first
//! step that went wrong in a case, keyed by its operation, its HTTP status, its error code (or
//! the first JSON path that differs) and the key line of an error page.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::results::{CaseResult, Status, StepResult};

/// One thing that went wrong, and every case it explains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RootCause {
    /// The operation of the step that went wrong.
    pub op: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The HTTP status of the answer that went wrong, if there was one.
    pub http_status: Option<u16>,
    /// The error code, or `at <path>` for the first differing JSON path, or what happened
    /// instead of an answer.
    pub what: String,
    /// The line of an HTML or text error page that names the exception.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_line: Option<String>,
    /// For a server the run started: the exception its log shows for this operation, when the
    /// answer itself was a generic error page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_log: Option<String>,
    /// One example of what was expected and what came, from the first case.
    pub example: String,
    /// The cases it explains, and how each ended.
    pub cases: Vec<String>,
    /// How many of the cases ended in each status.
    pub statuses: BTreeMap<Status, usize>,
    /// Requests that reproduce it on their own.
    pub reproducer: Reproducer,
}

impl RootCause {
    /// One line: `CreateTaskSet -> HTTP 500 "KeyError: ..."`.
    pub fn headline(&self) -> String {
        let mut parts = vec![self.op.clone()];
        if let Some(s) = self.http_status {
            parts.push(format!("HTTP {s}"));
        }
        parts.push(self.what.clone());
        let mut line = parts.join(" ");
        if let Some(k) = &self.key_line {
            line.push_str(&format!(": {k:?}"));
        }
        if let Some(l) = &self.server_log {
            line.push_str(&format!("; the server log says {l:?}"));
        }
        line
    }

    /// The case named as the example: the first the cause explains, or (in a saved report
    /// whose list is empty) the reproducer's.
    pub fn first_case(&self) -> &str {
        self.cases
            .first()
            .map_or(self.reproducer.case.as_str(), String::as_str)
    }

    /// `129 cases (120 blocked, 9 failed)`.
    pub fn count_line(&self) -> String {
        let by: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{n} {}", s.word()))
            .collect();
        format!(
            "{} case{} ({})",
            self.cases.len(),
            if self.cases.len() == 1 { "" } else { "s" },
            by.join(", ")
        )
    }
}

/// The requests of one case up to the step that went wrong; reads before it are left out, as
/// they change nothing on the target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reproducer {
    /// The case the requests come from.
    pub case: String,
    /// The requests, in order.
    pub steps: Vec<ReproStep>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// One request of a reproducer.
pub struct ReproStep {
    /// The operation.
    pub op: String,
    /// The request body as sent.
    pub request: Value,
}

impl ReproStep {
    /// The same request as an AWS CLI command against `endpoint` (a control path's, as curl).
    pub fn aws_cli(&self, endpoint: &str) -> String {
        let body = serde_json::to_string(&self.request)
            .unwrap_or_else(|_| "{}".into())
            .replace('\'', "'\\''");
        if crate::fixture::is_control_op(&self.op) {
            let base = endpoint.trim_end_matches('/');
            return format!("curl -s -X POST {base}/{} -d '{body}'", self.op);
        }
        format!(
            "aws ecs {} --endpoint-url {endpoint} --cli-input-json '{body}'",
            kebab(&self.op)
        )
    }
}

/// `CreateTaskSet` -> `create-task-set`.
pub fn kebab(op: &str) -> String {
    let mut out = String::new();
    for (i, c) in op.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// What keys a cause: operation, HTTP status, what, key line.
type Key = (String, Option<u16>, String, Option<String>);

/// The step that went wrong in a case that did not pass, and its index.
fn culprit(case: &CaseResult) -> Option<(usize, &StepResult)> {
    match case.status {
        Status::Passed | Status::Skipped | Status::NotImplemented => None,
        // The step whose failure blocked the rest: the last one before the first blocked step.
        Status::Blocked => {
            let first_blocked = case
                .steps
                .iter()
                .position(|s| s.status == Status::Blocked)?;
            case.steps[..first_blocked]
                .iter()
                .enumerate()
                .rev()
                .find(|(_, s)| s.status != Status::Passed)
                .or_else(|| Some((first_blocked, &case.steps[first_blocked])))
        }
        Status::Error => case
            .steps
            .iter()
            .enumerate()
            .find(|(_, s)| s.status == Status::Error),
        // A failed check of the case's own wins over an answer check of a setup step.
        Status::Failed => case
            .steps
            .iter()
            .enumerate()
            .find(|(_, s)| {
                s.status == Status::Failed
                    && s.failures
                        .iter()
                        .any(|f| f.rules.iter().any(|r| case.rules.contains(r)))
            })
            .or_else(|| {
                case.steps
                    .iter()
                    .enumerate()
                    .find(|(_, s)| s.status == Status::Failed)
            }),
    }
}

/// `taskSets[3].scale.value` -> `taskSets[].scale.value`.
fn normalise_path(path: &str) -> String {
    let mut out = String::new();
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

fn key_of(case: &CaseResult, step: &StepResult) -> (Key, String) {
    let first = step
        .failures
        .iter()
        .find(|f| f.rules.iter().any(|r| case.rules.contains(r)))
        .or_else(|| step.failures.first());
    let example = match first {
        Some(f) => format!("at {}: expected {}, got {}", f.path, f.expected, f.actual),
        None => step
            .reason
            .clone()
            .unwrap_or_else(|| step.status.label().into()),
    };
    let what = if let Some(code) = &step.error_code {
        code.clone()
    } else if step.key_line.is_some() || step.http_status.is_some_and(|s| s / 100 != 2) {
        // An error without a code: the key line (part of the key) says what it was.
        "without an error code".into()
    } else if step.status == Status::Error {
        "harness error".into()
    } else {
        match first {
            Some(f) if f.path == "(answer)" => {
                // No answer, or an answer where an error was expected.
                if f.expected.starts_with("error ") {
                    format!("answered where {} was expected", f.expected)
                } else {
                    cut_words(&f.actual)
                }
            }
            Some(f) if f.path == "__type" => format!("{} instead of {}", f.actual, f.expected),
            Some(f) => format!("at {}", normalise_path(&f.path)),
            None => step
                .reason
                .clone()
                .unwrap_or_else(|| step.status.label().into()),
        }
    };
    (
        (
            step.op.clone(),
            step.http_status,
            what,
            step.key_line.as_deref().map(shorten_names),
        ),
        example,
    )
}

/// A transport error's text without the parts that vary per request (ports, ids).
fn cut_words(text: &str) -> String {
    let text: String = text.chars().take(120).collect();
    text.split_whitespace()
        .map(|w| {
            if w.chars().any(|c| c.is_ascii_digit()) && w.len() > 6 {
                "…"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn reproducer(case: &CaseResult, upto: usize) -> Reproducer {
    let steps = case.steps[..=upto]
        .iter()
        .enumerate()
        .filter(|(i, s)| *i == upto || !is_read(&s.op))
        .filter_map(|(_, s)| {
            s.request.as_ref().map(|r| {
                let mut request = r.clone();
                redact(&mut request);
                ReproStep {
                    op: s.op.clone(),
                    request,
                }
            })
        })
        .collect();
    Reproducer {
        case: case.id.clone(),
        steps,
    }
}

/// What a report never carries of a request: the values of environment variables
/// (`environment: [{"name", "value"}]` of a container definition or an override, which
/// teams fill with connection strings and keys), and any member named like a password, a
/// secret key, a session token or an authorization. Names stay, so the reproducer still
/// reads as the request it was.
pub const REDACTED: &str = "(redacted)";

fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let lower = key.to_ascii_lowercase();
                if [
                    "password",
                    "secretaccesskey",
                    "sessiontoken",
                    "authorization",
                ]
                .iter()
                .any(|k| lower.contains(k))
                {
                    *v = Value::String(REDACTED.into());
                } else if key == "environment" {
                    for pair in v.as_array_mut().into_iter().flatten() {
                        if let Some(val) = pair.get_mut("value") {
                            *val = Value::String(REDACTED.into());
                        }
                    }
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn is_read(op: &str) -> bool {
    op.starts_with("Describe") || op.starts_with("List")
}

/// Groups the cases that did not pass by root cause, most cases first (ties by operation).
pub fn root_causes(cases: &[CaseResult]) -> Vec<RootCause> {
    let mut groups: BTreeMap<Key, RootCause> = BTreeMap::new();
    for case in cases {
        let Some((index, step)) = culprit(case) else {
            continue;
        };
        let (key, example) = key_of(case, step);
        let repro = reproducer(case, index);
        let entry = groups.entry(key.clone()).or_insert_with(|| RootCause {
            op: key.0.clone(),
            http_status: key.1,
            what: key.2.clone(),
            key_line: key.3.clone(),
            server_log: None,
            example,
            cases: vec![],
            statuses: BTreeMap::new(),
            reproducer: repro.clone(),
        });
        entry.cases.push(case.id.clone());
        *entry.statuses.entry(case.status).or_insert(0) += 1;
        // The shortest reproducer wins.
        if repro.steps.len() < entry.reproducer.steps.len() {
            entry.reproducer = repro;
        }
    }
    let mut causes: Vec<RootCause> = groups.into_values().collect();
    causes.sort_by(|a, b| {
        b.cases
            .len()
            .cmp(&a.cases.len())
            .then_with(|| a.op.cmp(&b.op))
            .then_with(|| a.what.cmp(&b.what))
    });
    causes
}

/// The exceptions of a Python server's log (moto, moto-ext, ministack print a traceback for
/// every request that crashed): each traceback's function names and its last line.
pub fn python_tracebacks(log: &str) -> Vec<(Vec<String>, String)> {
    let mut out = vec![];
    let mut lines = log.lines().peekable();
    while let Some(line) = lines.next() {
        if !line
            .trim_start()
            .starts_with("Traceback (most recent call last)")
        {
            continue;
        }
        let mut functions = vec![];
        while let Some(next) = lines.peek() {
            if !next.starts_with(' ') && !next.starts_with('\t') {
                break;
            }
            if let Some(f) = next.trim().strip_prefix("File ") {
                if let Some((_, func)) = f.rsplit_once(", in ") {
                    functions.push(func.trim().to_owned());
                }
            }
            lines.next();
        }
        if let Some(exception) = lines.next() {
            out.push((functions, exception.trim().to_owned()));
        }
    }
    out
}

/// For each cause that is a server crash without an error code, the most frequent exception
/// the server's log shows in a traceback through the operation's handler (`create_task_set`
/// for CreateTaskSet). Names made unique per run (`cf-...`) are shortened so that one crash
/// reads the same whichever case hit it.
pub fn annotate_from_log(causes: &mut [RootCause], log: &str) {
    let tracebacks = python_tracebacks(log);
    if tracebacks.is_empty() {
        return;
    }
    for cause in causes.iter_mut() {
        let crashed = cause.http_status.is_some_and(|s| s >= 500);
        if !crashed || cause.what != "without an error code" {
            continue;
        }
        let handler = kebab(&cause.op).replace('-', "_");
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for (functions, exception) in &tracebacks {
            if functions.contains(&handler) {
                *counts.entry(shorten_names(exception)).or_insert(0) += 1;
            }
        }
        if let Some((line, _)) = counts.into_iter().max_by_key(|(_, n)| *n) {
            cause.server_log = Some(crate::text::one_line(&line, 200));
        }
    }
}

/// `line` with the names this harness makes unique per run (`cf-<5 hex>-<3 digits>`, and the
/// same with a suffix) shortened to `cf-…`, so that one cause reads the same in every case.
pub fn shorten_names(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let rest = &bytes[i..];
        let is_name = rest.len() >= 12
            && rest.starts_with(b"cf-")
            && rest[3..8].iter().all(u8::is_ascii_hexdigit)
            && rest[8] == b'-'
            && rest[9..12].iter().all(u8::is_ascii_digit);
        if is_name {
            out.push_str("cf-…");
            i += 12;
            // A suffix the case added (`cf-1a2b3-004-missing`) belongs to the name.
            while i < line.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-' || bytes[i] == b'_')
            {
                i += 1;
            }
        } else {
            let c = line[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Failure;
    use serde_json::json;

    fn step(op: &str, status: Status) -> StepResult {
        let mut s = StepResult::without_answer(format!("x. {op}"), op, status, "r".into());
        s.request = Some(json!({"cluster": "c"}));
        s
    }

    fn case(id: &str, status: Status, steps: Vec<StepResult>) -> CaseResult {
        CaseResult {
            id: id.into(),
            file: "f.json".into(),
            rules: vec!["ts.rule".into()],
            tags: vec![],
            provenance: String::new(),
            status,
            steps,
            cleanup_problems: vec![],
            duration_ms: 0,
            unique: String::new(),
        }
    }

    fn crash() -> StepResult {
        let mut s = step("CreateTaskSet", Status::Failed);
        s.http_status = Some(500);
        s.key_line = Some("Exception: No instances found in cluster".into());
        s
    }

    #[test]
    fn reproducers_carry_no_environment_values_or_secrets() {
        let mut register = crash();
        register.op = "RegisterTaskDefinition".into();
        register.request = Some(
            json!({"family": "f", "containerDefinitions": [{"name": "web",
            "environment": [{"name": "DATABASE_URL", "value": "postgres://u:hunter2@db/x"}],
            "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:x"}}],
            "overrides": {"dbPassword": "hunter2"}}),
        );
        let causes = root_causes(&[case("a", Status::Failed, vec![register])]);
        let sent = causes[0].reproducer.steps[0].request.to_string();
        assert!(!sent.contains("hunter2"), "{sent}");
        assert!(
            sent.contains("DATABASE_URL") && sent.contains(REDACTED),
            "{sent}"
        );
        assert!(
            sent.contains("arn:aws:secretsmanager:x"),
            "an ARN names, it holds nothing"
        );
    }

    #[test]
    fn one_crash_explains_blocked_and_failed_cases() {
        let cases = vec![
            case(
                "a",
                Status::Blocked,
                vec![
                    step("CreateCluster", Status::Passed),
                    step("DescribeClusters", Status::Passed),
                    crash(),
                    step("DescribeTaskSets", Status::Blocked),
                ],
            ),
            case(
                "b",
                Status::Failed,
                vec![step("CreateCluster", Status::Passed), crash()],
            ),
            case(
                "c",
                Status::Passed,
                vec![step("CreateCluster", Status::Passed)],
            ),
            case("d", Status::NotImplemented, vec![]),
        ];
        let causes = root_causes(&cases);
        assert_eq!(causes.len(), 1);
        let c = &causes[0];
        assert_eq!(c.cases, vec!["a", "b"]);
        assert_eq!(c.op, "CreateTaskSet");
        assert_eq!(c.http_status, Some(500));
        assert_eq!(
            c.key_line.as_deref(),
            Some("Exception: No instances found in cluster")
        );
        assert_eq!(c.count_line(), "2 cases (1 failed, 1 blocked)");
        // The read before the crash is left out: it changes nothing on the target.
        assert_eq!(c.reproducer.case, "a");
        let ops: Vec<&str> = c.reproducer.steps.iter().map(|s| s.op.as_str()).collect();
        assert_eq!(ops, ["CreateCluster", "CreateTaskSet"]);
        assert_eq!(
            c.reproducer.steps[1].aws_cli("http://127.0.0.1:1"),
            "aws ecs create-task-set --endpoint-url http://127.0.0.1:1 --cli-input-json '{\"cluster\":\"c\"}'"
        );
        // A control step is no AWS CLI command: it is the POST the harness sent.
        let hook = ReproStep {
            op: "_emulator/hooks".into(),
            request: json!({"hookTargetArn": "h", "replies": ["FAILED"]}),
        };
        assert_eq!(
            hook.aws_cli("http://127.0.0.1:1/"),
            "curl -s -X POST http://127.0.0.1:1/_emulator/hooks -d '{\"hookTargetArn\":\"h\",\"replies\":[\"FAILED\"]}'"
        );
    }

    #[test]
    fn mismatches_group_by_path_without_indexes_and_rank_by_count() {
        let mismatch = |path: &str| {
            let mut s = step("DescribeTaskSets", Status::Failed);
            s.http_status = Some(200);
            s.failures = vec![Failure {
                rules: vec!["ts.rule".into()],
                path: path.into(),
                expected: "1".into(),
                actual: "2".into(),
            }];
            s
        };
        let cases = vec![
            case("a", Status::Failed, vec![mismatch("taskSets[0].status")]),
            case("b", Status::Failed, vec![mismatch("taskSets[1].status")]),
            case("c", Status::Failed, vec![mismatch("failures")]),
        ];
        let causes = root_causes(&cases);
        assert_eq!(causes.len(), 2);
        assert_eq!(causes[0].what, "at taskSets[].status");
        assert_eq!(causes[0].cases.len(), 2);
        assert_eq!(causes[1].what, "at failures");
        assert_eq!(
            causes[0].example,
            "at taskSets[0].status: expected 1, got 2"
        );
    }

    #[test]
    fn a_generic_crash_page_gets_the_exception_from_the_server_log() {
        let log = r#"127.0.0.1 - - [02/Dec/2026 05:09:32] "POST / HTTP/1.1" 500 -
Error on request:
Traceback (most recent call last):
  File "/v/werkzeug/serving.py", line 370, in run_wsgi
    execute(self.server.app)
  File "/v/moto/ecs/responses.py", line 430, in create_task_set
    task_set = self.ecs_backend.create_task_set(
  File "/v/moto/ecs/models.py", line 2101, in create_task_set
    raise Exception(f"No instances found in cluster {cluster.name}")
Exception: No instances found in cluster cf-17c91-000
Traceback (most recent call last):
  File "/v/moto/ecs/responses.py", line 440, in update_task_set
KeyError: 'x'
"#;
        let tracebacks = python_tracebacks(log);
        assert_eq!(tracebacks.len(), 2);
        assert_eq!(tracebacks[1].1, "KeyError: 'x'");
        let mut s = crash();
        s.key_line = Some("Internal Server Error".into());
        let mut causes = root_causes(&[case("a", Status::Failed, vec![s])]);
        assert_eq!(causes[0].what, "without an error code");
        annotate_from_log(&mut causes, log);
        assert_eq!(
            causes[0].server_log.as_deref(),
            Some("Exception: No instances found in cluster cf-…")
        );
        assert!(causes[0]
            .headline()
            .ends_with("the server log says \"Exception: No instances found in cluster cf-…\""));
    }

    #[test]
    fn run_unique_names_are_shortened() {
        assert_eq!(
            shorten_names("service arn:aws:ecs:us-east-1:1:service/cf-1a2b3-004/web and cf-1a2b3-005-missing:web, cf-12"),
            "service arn:aws:ecs:us-east-1:1:service/cf-…/web and cf-…:web, cf-12"
        );
    }

    #[test]
    fn kebab_names_and_shell_quoting() {
        assert_eq!(
            kebab("UpdateServicePrimaryTaskSet"),
            "update-service-primary-task-set"
        );
        let s = ReproStep {
            op: "TagResource".into(),
            request: json!({"v": "it's"}),
        };
        assert!(s.aws_cli("e").ends_with(r#"'{"v":"it'\''s"}'"#));
    }
}
