//! Fixture files: loading, schema validation and cross-checks. A bad fixture is reported with
//! its file and the JSON path of the offending value.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::Catalog;
pub use crate::fixture_error::{FixtureError, LoadErrors};
pub use crate::template::Origin;
use crate::template::{expand_case, Parts};

/// Where a case's expectations come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Provenance {
    /// A documented sentence: the seed page or AWS's published example, and the field.
    Documented {
        /// The seed page or published example.
        source: String,
        /// The field or sentence it documents.
        field: String,
    },
    /// Follows from documented rules.
    Derived {
        /// The rules it follows from.
        from: String,
    },
    /// Depends on an emulator assumption (an `A<n>` id of the reference emulator's table).
    Assumed {
        /// The assumption's id.
        assumption: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// What the case adds to it.
        note: Option<String>,
    },
    /// Answers recorded from a real endpoint.
    Recorded {
        /// The endpoint recorded from (`aws` for AWS).
        endpoint: String,
        /// The date of the recording.
        date: String,
    },
}

impl Provenance {
    /// The provenance's kind as a word (`documented`, `derived`, `assumed`, `recorded`).
    pub fn kind(&self) -> &'static str {
        match self {
            Provenance::Documented { .. } => "documented",
            Provenance::Derived { .. } => "derived",
            Provenance::Assumed { .. } => "assumed",
            Provenance::Recorded { .. } => "recorded",
        }
    }

    /// One line: where to read about it.
    pub fn describe(&self) -> String {
        match self {
            Provenance::Documented { source, field } => format!("documented: {source} ({field})"),
            Provenance::Derived { from } => format!("derived: {from}"),
            Provenance::Assumed { assumption, .. } => {
                format!("assumed: reference emulator choice {assumption}")
            }
            Provenance::Recorded { endpoint, date } => format!("recorded: {endpoint} on {date}"),
        }
    }
}

/// Capabilities a case may need from a target beyond the API:
/// - `tasks-run`: tasks can be placed and reach RUNNING (the account has capacity for the
///   launch type the profile places with), so task sets can reach STEADY_STATE.
/// - `emulator-control`: the target serves the reference emulator's control path
///   (`docs/control.md`) on its endpoint, so a case can say what a lifecycle hook's Lambda
///   function answers and set a CloudWatch alarm off ([`CONTROL_OPS`]).
pub const CAPABILITIES: &[&str] = &["tasks-run", "emulator-control"];

/// The capability a [`CONTROL_OPS`] step needs.
pub const CONTROL_CAPABILITY: &str = "emulator-control";

/// Steps that are not ECS operations: the `op` is a control path, and the request is POSTed
/// to it as JSON, unsigned (`<endpoint>/_emulator/hooks`). Only paths whose effect a case can
/// keep to itself, by the hook ARN or alarm name it makes unique, are steps: a reset or a
/// fault would reach every case running at the same moment.
pub const CONTROL_OPS: &[&str] = &["_emulator/hooks", "_emulator/alarms"];

/// Whether a step's `op` is a control path ([`CONTROL_OPS`]).
pub fn is_control_op(op: &str) -> bool {
    CONTROL_OPS.contains(&op)
}

/// What a step expects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Expect {
    /// A 2xx answer whose body matches (see [`crate::matcher`]).
    Body {
        /// The expected body, with matchers.
        body: Value,
    },
    /// An error answer with this code (and status and message, when given).
    Error {
        /// The expected error code.
        error: String,
        /// The expected HTTP status.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// The expected `message`, whole: AWS's words where the record has them, or a
        /// matcher (`@string`) where it does not; `{{variables}}` are substituted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
}

/// Repeat the step until its expectation holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poll {
    /// Longest the step polls, in milliseconds.
    pub timeout_ms: u64,
    #[serde(default = "default_interval")]
    /// Pause between two polls, in milliseconds.
    pub interval_ms: u64,
}

fn default_interval() -> u64 {
    50
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// One request of a case and what it expects.
pub struct Step {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// A name for reports.
    pub name: Option<String>,
    /// The ECS operation, or a control path of the target ([`CONTROL_OPS`]).
    pub op: String,
    #[serde(default = "empty_object")]
    /// The request body; `{{variables}}` are substituted when it is sent.
    pub request: Value,
    /// A setup step that fails blocks the steps after it instead of failing them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub setup: bool,
    /// Rules this step checks, instead of the case's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// What the answer must be.
    pub expect: Option<Expect>,
    /// Variable name -> JSON path in the answer.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Poll until the expectation holds.
    pub poll: Option<Poll>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Milliseconds to wait before sending.
    pub sleep_ms: Option<u64>,
    /// `false` when the step tests launchType, capacityProviderStrategy or
    /// networkConfiguration itself, so a target profile's placement is never merged into it.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub placement: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

impl Step {
    /// A label for reports: the name, or the operation.
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(n) => format!("{}. {n} ({})", index + 1, self.op),
            None => format!("{}. {}", index + 1, self.op),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// One conformance case: setup, the requests it checks, cleanup.
pub struct Case {
    /// The case id, unique in the suite.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// A title for reports.
    pub title: Option<String>,
    /// The rules the case checks.
    pub rules: Vec<String>,
    /// Where its expectations come from.
    pub provenance: Provenance,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Tags, for filtering.
    pub tags: Vec<String>,
    /// What the case needs from the target beyond the API (see [`CAPABILITIES`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Steps run at the end whatever happened.
    pub cleanup: Vec<Step>,
    /// The file it came from, relative to the fixtures directory.
    #[serde(skip)]
    pub file: String,
    /// Its JSON pointer in `file`, or its table row's (`/cases/0/table/rows/17`).
    #[serde(skip)]
    pub source: String,
    /// Where each step was written (a part's steps point into the part).
    #[serde(skip)]
    pub step_origins: Vec<Origin>,
    /// Where each cleanup step was written.
    #[serde(skip)]
    pub cleanup_origins: Vec<Origin>,
}

impl Case {
    /// Whether a table row made this case (its expectations are then the row's values).
    pub fn is_table_row(&self) -> bool {
        self.source.contains("/table/rows/")
    }

    /// Every rule a case checks: its own and its steps'.
    pub fn all_rules(&self) -> BTreeSet<&str> {
        self.rules
            .iter()
            .chain(self.steps.iter().flat_map(|s| &s.rules))
            .map(String::as_str)
            .collect()
    }
}

/// The shared parts library, beside the case files.
pub const PARTS_FILE: &str = "parts.json";

/// The fixture schema in the repository.
pub fn schema_path(fixtures: &Path) -> PathBuf {
    fixtures.join("schema/fixture.schema.json")
}

/// Loads every `*.json` file under `dir` (the `schema/` folder excepted), in name order.
pub fn load_dir(dir: &Path, catalog: &Catalog) -> Result<Vec<Case>, LoadErrors> {
    let err = |file: &str, message: String| {
        LoadErrors(vec![FixtureError {
            file: file.to_owned(),
            path: "/".into(),
            message,
        }])
    };
    let schema_file = schema_path(dir);
    let schema = std::fs::read_to_string(&schema_file)
        .map_err(|e| err(&schema_file.display().to_string(), e.to_string()))?;
    let mut files = vec![];
    collect(dir, dir, &mut files).map_err(|e| err(&dir.display().to_string(), e.to_string()))?;
    let mut sources = Vec::with_capacity(files.len());
    let mut errors = vec![];
    for rel in files {
        match std::fs::read_to_string(dir.join(&rel)) {
            Ok(t) => sources.push((rel, t)),
            Err(e) => errors.push(FixtureError {
                file: rel,
                path: "/".into(),
                message: e.to_string(),
            }),
        }
    }
    match load_sources(
        &schema_file.display().to_string(),
        &schema,
        sources,
        catalog,
    ) {
        Ok(cases) if errors.is_empty() => Ok(cases),
        Ok(_) => Err(LoadErrors(errors)),
        Err(LoadErrors(more)) => {
            errors.extend(more);
            Err(LoadErrors(errors))
        }
    }
}

/// Loads fixture files held in memory: `(relative name, text)` pairs, validated under the
/// fixture schema `schema` (named `schema_name` in errors). Files are taken in name order;
/// `parts.json` supplies the shared parts. This is how a tool with embedded fixtures loads them.
pub fn load_sources(
    schema_name: &str,
    schema: &str,
    mut sources: Vec<(String, String)>,
    catalog: &Catalog,
) -> Result<Vec<Case>, LoadErrors> {
    let err = |file: &str, message: String| {
        LoadErrors(vec![FixtureError {
            file: file.to_owned(),
            path: "/".into(),
            message,
        }])
    };
    let schema: Value =
        serde_json::from_str(schema).map_err(|e| err(schema_name, e.to_string()))?;
    let validator =
        jsonschema::draft202012::new(&schema).map_err(|e| err(schema_name, e.to_string()))?;
    sources.sort();
    let mut errors = vec![];
    let shared = sources
        .iter()
        .find(|(rel, _)| rel == PARTS_FILE)
        .and_then(|(rel, text)| {
            let doc = validated(rel, text, &validator, &mut errors)?;
            Some(Parts::from_file(rel, &doc))
        })
        .unwrap_or_default();
    let mut cases = vec![];
    for (rel, text) in &sources {
        cases.extend(parse_file_with(rel, text, &validator, &shared, &mut errors));
    }
    check_cases(&cases, catalog, &mut errors);
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(LoadErrors(errors))
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "schema") {
                collect(root, &path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(
                path.strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
            );
        }
    }
    Ok(())
}

/// Parses one file with no shared parts; problems go to `errors` with the file name and JSON
/// pointer.
pub fn parse_file(
    rel: &str,
    text: &str,
    validator: &jsonschema::Validator,
    errors: &mut Vec<FixtureError>,
) -> Vec<Case> {
    parse_file_with(rel, text, validator, &Parts::default(), errors)
}

/// The file's JSON, if it is JSON and valid under the schema.
fn validated(
    rel: &str,
    text: &str,
    validator: &jsonschema::Validator,
    errors: &mut Vec<FixtureError>,
) -> Option<Value> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            errors.push(FixtureError {
                file: rel.to_owned(),
                path: "/".into(),
                message: format!("not JSON: {e}"),
            });
            return None;
        }
    };
    let before = errors.len();
    errors.extend(validator.iter_errors(&value).map(|e| {
        let p = e.instance_path().to_string();
        FixtureError {
            file: rel.to_owned(),
            path: if p.is_empty() { "/".into() } else { p },
            message: e.to_string(),
        }
    }));
    (errors.len() == before).then_some(value)
}

/// Parses one file: its own parts over `shared`, tables and parts expanded. A file with any
/// problem gives no case.
pub fn parse_file_with(
    rel: &str,
    text: &str,
    validator: &jsonschema::Validator,
    shared: &Parts,
    errors: &mut Vec<FixtureError>,
) -> Vec<Case> {
    let before = errors.len();
    let Some(doc) = validated(rel, text, validator, errors) else {
        return vec![];
    };
    // A file's part may not take a shared part's name: the shared parts that use that name
    // would expand the file's part instead (the fuzzer found a file whose part of that name
    // used itself through a shared part, an error that then named parts.json).
    let own = Parts::from_file(rel, &doc);
    let taken: Vec<&str> = own
        .names()
        .filter(|name| shared.file_of(name).is_some_and(|file| file != rel))
        .collect();
    for name in &taken {
        errors.push(FixtureError {
            file: rel.to_owned(),
            path: format!("/parts/{}", crate::template::escape(name)),
            message: format!(
                "the part {name} is already declared in {PARTS_FILE}: give this file's part another name"
            ),
        });
    }
    if !taken.is_empty() {
        return vec![];
    }
    let parts = own.over(shared);
    let entries = doc
        .get("cases")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut cases = vec![];
    for (i, entry) in entries.iter().enumerate() {
        for expanded in expand_case(rel, i, entry, &parts, errors) {
            match serde_json::from_value::<Case>(expanded.value) {
                Ok(case) => cases.push(Case {
                    file: rel.to_owned(),
                    source: expanded.source,
                    step_origins: expanded.steps,
                    cleanup_origins: expanded.cleanup,
                    ..case
                }),
                Err(e) => errors.push(FixtureError {
                    file: rel.to_owned(),
                    path: expanded.source,
                    message: e.to_string(),
                }),
            }
        }
    }
    if errors.len() > before {
        return vec![];
    }
    cases
}

/// Where a problem in a case is reported: at the member's pointer, or for a table row at the
/// row, naming the member.
fn case_error(case: &Case, member: &str, message: String) -> FixtureError {
    if case.is_table_row() {
        FixtureError {
            file: case.file.clone(),
            path: case.source.clone(),
            message: format!("{member}: {message}"),
        }
    } else {
        FixtureError {
            file: case.file.clone(),
            path: format!("{}{member}", case.source),
            message,
        }
    }
}

/// Where a problem in a step is reported: where the step was written. A step written outside
/// the case itself (in a part, or in the template of a table row) also names the case.
fn step_error(case: &Case, list: &str, s: usize, member: &str, message: String) -> FixtureError {
    let origins = if list == "cleanup" {
        &case.cleanup_origins
    } else {
        &case.step_origins
    };
    match origins.get(s) {
        Some(o) => {
            let own = o.file == case.file && o.pointer.starts_with(&format!("{}/", case.source));
            FixtureError {
                file: o.file.clone(),
                path: format!("{}{member}", o.pointer),
                message: if own {
                    message
                } else {
                    format!("{message} (in case {})", case.id)
                },
            }
        }
        None => case_error(case, &format!("/{list}/{s}{member}"), message),
    }
}

/// The pattern of a case id, checked after a table has filled it in.
fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && id.len() <= 120
}

/// What the schema cannot see: unique ids, known operations, known rules.
fn check_cases(cases: &[Case], catalog: &Catalog, errors: &mut Vec<FixtureError>) {
    let mut seen: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for case in cases {
        if !valid_id(&case.id) {
            errors.push(case_error(
                case,
                "/id",
                format!(
                    "case id {:?} is not lowercase letters, digits, dots and dashes (at most 120)",
                    case.id
                ),
            ));
        }
        if let Some((file, source)) =
            seen.insert(case.id.as_str(), (case.file.as_str(), case.source.as_str()))
        {
            errors.push(case_error(
                case,
                "/id",
                format!("case id {} is also used in {file} at {source}", case.id),
            ));
        }
        for (n, need) in case.needs.iter().enumerate() {
            if !CAPABILITIES.contains(&need.as_str()) {
                errors.push(case_error(
                    case,
                    &format!("/needs/{n}"),
                    format!(
                        "{need} is not a capability (known: {})",
                        CAPABILITIES.join(", ")
                    ),
                ));
            }
        }
        for (r, rule) in case.rules.iter().enumerate() {
            if catalog.rule(rule).is_none() {
                errors.push(case_error(
                    case,
                    &format!("/rules/{r}"),
                    format!("rule {rule} is not in conformance/rules.json"),
                ));
            }
        }
        check_patterns_and_variables(case, errors);
        for (list, steps) in [("steps", &case.steps), ("cleanup", &case.cleanup)] {
            for (s, step) in steps.iter().enumerate() {
                if is_control_op(&step.op) {
                    for (at, message) in control_step_errors(case, step) {
                        errors.push(step_error(case, list, s, at, message));
                    }
                } else if ecs_model::operation::find(&step.op).is_none() {
                    errors.push(step_error(
                        case,
                        list,
                        s,
                        "/op",
                        format!(
                            "{} is not an ECS operation (nor a control path: {})",
                            step.op,
                            CONTROL_OPS.join(", ")
                        ),
                    ));
                }
                for (r, rule) in step.rules.iter().enumerate() {
                    if catalog.rule(rule).is_none() {
                        errors.push(step_error(
                            case,
                            list,
                            s,
                            &format!("/rules/{r}"),
                            format!("rule {rule} is not in conformance/rules.json"),
                        ));
                    }
                }
            }
        }
    }
}

/// What is wrong with a control step: it runs only in a case that needs
/// [`CONTROL_CAPABILITY`]; it checks nothing (no `expect`, `poll` or `capture`: a 200 is all
/// it takes), so it must be a `setup` step, whose failure blocks the case; and the hook ARN
/// or alarm name it sets holds `{{unique}}`, so that no other case running at the same moment
/// meets its answers.
fn control_step_errors(case: &Case, step: &Step) -> Vec<(&'static str, String)> {
    let mut out = vec![];
    let op = &step.op;
    if !case.needs.iter().any(|n| n == CONTROL_CAPABILITY) {
        out.push((
            "/op",
            format!("{op} is a control path: the case must need {CONTROL_CAPABILITY}"),
        ));
    }
    if !step.setup {
        out.push((
            "/setup",
            format!("{op} is a control path: the step must be a setup step"),
        ));
    }
    if step.expect.is_some() || step.poll.is_some() || !step.capture.is_empty() {
        out.push((
            "/op",
            format!("{op} is a control path: it takes no expect, poll or capture"),
        ));
    }
    let key = if op == "_emulator/alarms" {
        "alarmName"
    } else {
        "hookTargetArn"
    };
    let named = step.request.get(key).and_then(Value::as_str);
    if !named.is_some_and(|n| n.contains("{{unique}}")) {
        out.push((
            if key == "alarmName" {
                "/request/alarmName"
            } else {
                "/request/hookTargetArn"
            },
            format!("{op}: {key} must hold {{{{unique}}}}, so that cases running at once never share it"),
        ));
    }
    out
}

/// Matchers must exist, and every `{{variable}}` must be `unique` or captured by an earlier
/// step (a cleanup step may use any step's capture): a typo in either is a fixture error, not
/// a target failure found halfway through a run.
fn check_patterns_and_variables(case: &Case, errors: &mut Vec<FixtureError>) {
    let mut defined: BTreeSet<&str> = BTreeSet::from(["unique"]);
    let all_captures: BTreeSet<&str> = case
        .steps
        .iter()
        .flat_map(|s| s.capture.keys().map(String::as_str))
        .chain(["unique"])
        .collect();
    for (list, steps) in [("steps", &case.steps), ("cleanup", &case.cleanup)] {
        for (s, step) in steps.iter().enumerate() {
            let known = if list == "cleanup" {
                &all_captures
            } else {
                &defined
            };
            let mut uses = crate::matcher::variables(&step.request)
                .into_iter()
                .map(|(p, n)| (format!("/request{p}"), n))
                .collect::<Vec<_>>();
            let expected = match &step.expect {
                Some(Expect::Body { body }) => Some(("/expect/body", body.clone())),
                Some(Expect::Error {
                    message: Some(m), ..
                }) => Some(("/expect/message", Value::String(m.clone()))),
                _ => None,
            };
            if let Some((at, expected)) = expected {
                for (p, message) in crate::matcher::unknown_matchers(&expected) {
                    errors.push(step_error(case, list, s, &format!("{at}{p}"), message));
                }
                uses.extend(
                    crate::matcher::variables(&expected)
                        .into_iter()
                        .map(|(p, n)| (format!("{at}{p}"), n)),
                );
            }
            for (path, name) in uses {
                if !known.contains(name.as_str()) {
                    errors.push(step_error(
                        case,
                        list,
                        s,
                        &path,
                        format!(
                            "{{{{{name}}}}} is not set by then (known: {})",
                            known.iter().copied().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
            }
            if list == "steps" {
                defined.extend(step.capture.keys().map(String::as_str));
            }
        }
    }
}
