//! The suite against the reference emulator, and what the reports and the loader produce: the
//! JSON report validates against `conformance/report.schema.json`, the JUnit report is
//! well-formed with one test case per case, baselines report changes in both directions, and a
//! bad fixture is reported with its file and JSON path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use ecs_client::{Config, EcsClient, RetryConfig};
use ecs_emulator::Emulator;
use ecs_harness::fixture::{parse_file, FixtureError};
use ecs_harness::runner::Status;
use ecs_harness::{Catalog, Report, RunOptions, TargetInfo};
use serde_json::{json, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn catalog() -> Catalog {
    Catalog::load(&root().join("conformance/rules.json")).unwrap()
}

async fn reference_report(filter: &[&str]) -> Report {
    let catalog = catalog();
    let cases = ecs_harness::load_dir(&root().join("fixtures"), &catalog).unwrap();
    let cases = ecs_harness::filter_cases(
        cases,
        &filter.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
    );
    let emulator = Emulator::builder()
        .profile(ecs_emulator::TimingProfile::Fast, 1.0)
        .start()
        .await
        .unwrap();
    let config = Config::local_builder(emulator.url())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let results = ecs_harness::run(
        &EcsClient::new(config).unwrap(),
        cases,
        &RunOptions {
            jobs: 16,
            ..RunOptions::default()
        },
        "r",
    )
    .await
    .unwrap();
    let target = TargetInfo::new("reference", "test", emulator.url());
    Report::new(target, "2026-11-22T00:00:00Z".into(), 1, results, &catalog)
}

#[test]
fn every_fixture_loads_and_the_suite_is_big_enough() {
    let catalog = catalog();
    let cases = ecs_harness::load_dir(&root().join("fixtures"), &catalog).unwrap();
    assert!(cases.len() >= 150, "{} cases", cases.len());
    for rule in catalog
        .rules
        .iter()
        .filter(|r| r.checked_by == ecs_harness::catalog::CheckedBy::Cases)
    {
        assert!(
            cases
                .iter()
                .any(|c| c.all_rules().contains(rule.id.as_str())),
            "no case checks {}",
            rule.id
        );
    }
    for kind in ["documented", "derived", "assumed"] {
        assert!(
            cases.iter().any(|c| c.provenance.kind() == kind),
            "no {kind} case"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_junit_reports_validate() {
    let report = reference_report(&["tag:describe", "errors.cluster-not-found"]).await;
    assert!(report.all_passed(), "{}", report.terminal(false));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("conformance/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let json: Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    // A report with failures validates too.
    let mut failing = json.clone();
    failing["cases"][0]["status"] = json!("failed");
    failing["cases"][0]["steps"][0]["failures"] = json!([{"rules": ["ts.describe.names-required"], "path": "taskSets", "expected": "[]", "actual": "(absent)"}]);
    assert!(validator.is_valid(&failing));
    failing["cases"][0]["status"] = json!("exploded");
    assert!(!validator.is_valid(&failing), "the schema is not vacuous");

    let xml = report.junit();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let testcases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(testcases.len(), report.cases.len());
    assert!(doc.root_element().has_tag_name("testsuites"));
    assert!(testcases
        .iter()
        .all(|t| t.attribute("name").is_some() && t.attribute("classname").is_some()));

    let md = report.markdown();
    assert!(
        md.contains("| `ts.describe.names-required` | observed | pass | 2 |"),
        "{md}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baselines_report_regressions_and_fixes() {
    let report = reference_report(&["describe.none-named-is-refused", "describe.named-only"]).await;
    let mut baseline = report.baseline();
    assert!(baseline.diff(&report, false).is_empty());
    baseline
        .cases
        .insert("describe.named-only".into(), Status::Failed);
    let d = baseline.diff(&report, false);
    assert_eq!(
        d.fixed,
        vec![("describe.named-only".to_owned(), Status::Failed)]
    );
    assert!(d.describe().contains("now passing (update the baseline)"));
    let mut baseline = report.baseline();
    baseline.cases.clear();
    let mut regressed = report.baseline();
    regressed
        .cases
        .insert("describe.named-only".into(), Status::Passed);
    let mut failed_report = report.clone();
    failed_report.cases[1].status = Status::Failed;
    let d = regressed.diff(&failed_report, false);
    assert_eq!(d.regressions.len(), 1);
    assert!(
        !baseline.diff(&report, false).is_empty(),
        "cases absent from the baseline are changes"
    );
    // A case the baseline has and the run lacks: a departure when the run was of the whole
    // suite, nothing when it was filtered.
    let mut gone = report.baseline();
    gone.cases.insert("describe.removed".into(), Status::Failed);
    assert!(gone.diff(&report, false).is_empty());
    let d = gone.diff(&report, true);
    assert_eq!(
        d.vanished,
        vec![("describe.removed".to_owned(), Status::Failed)]
    );
    assert!(
        d.describe()
            .contains("vanished: describe.removed: FAIL -> no result"),
        "{}",
        d.describe()
    );
}

#[test]
fn bad_fixtures_are_reported_with_file_and_json_path() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/schema/fixture.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let check = |text: &str| {
        let mut errors: Vec<FixtureError> = vec![];
        let cases = parse_file("bad.json", text, &validator, &mut errors);
        (cases.len(), errors)
    };
    let (_, errors) = check("{\"cases\": [");
    assert_eq!(
        (errors[0].file.as_str(), errors[0].path.as_str()),
        ("bad.json", "/")
    );
    assert!(errors[0].message.starts_with("not JSON"));
    let (_, errors) = check(
        r#"{"cases": [{"id": "a", "rules": ["r"], "provenance": {"kind": "derived", "from": "x"}, "steps": [{"op": "lowercase"}]}]}"#,
    );
    assert_eq!(errors[0].path, "/cases/0/steps/0/op");
    let (_, errors) = check(
        r#"{"cases": [{"id": "a", "rules": ["r"], "provenance": {"kind": "guessed"}, "steps": [{"op": "DescribeTaskSets"}]}]}"#,
    );
    assert_eq!(errors[0].path, "/cases/0/provenance");
    let (n, errors) = check(
        r#"{"cases": [{"id": "a", "rules": ["r"], "provenance": {"kind": "derived", "from": "x"}, "steps": [{"op": "DescribeTaskSets", "expect": {"error": "X"}}]}]}"#,
    );
    assert_eq!((n, errors.len()), (1, 0));

    // Cross-checks the schema cannot make: unknown operations and rules, duplicate ids.
    let dir = std::env::temp_dir().join(format!("harness-bad-fixtures-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("schema")).unwrap();
    std::fs::copy(
        root().join("fixtures/schema/fixture.schema.json"),
        dir.join("schema/fixture.schema.json"),
    )
    .unwrap();
    let body = r#"{"cases": [
        {"id": "a", "rules": ["no.such.rule"], "provenance": {"kind": "derived", "from": "x"}, "steps": [{"op": "LaunchRocket"}]},
        {"id": "a", "rules": ["ts.describe.names-required"], "provenance": {"kind": "derived", "from": "x"}, "steps": [{"op": "DescribeTaskSets"}]}]}"#;
    std::fs::write(dir.join("one.json"), body).unwrap();
    let err = ecs_harness::load_dir(&dir, &catalog()).unwrap_err();
    let paths: Vec<(&str, &str)> = err
        .0
        .iter()
        .map(|e| (e.file.as_str(), e.path.as_str()))
        .collect();
    assert!(paths.contains(&("one.json", "/cases/0/rules/0")), "{err}");
    assert!(
        paths.contains(&("one.json", "/cases/0/steps/0/op")),
        "{err}"
    );
    assert!(paths.contains(&("one.json", "/cases/1/id")), "{err}");

    // Parts and tables: a row with the wrong number of values, a parameter no column gives, a
    // part that does not exist, and a bad operation inside a shared part are each located.
    std::fs::remove_file(dir.join("one.json")).unwrap();
    std::fs::write(
        dir.join("parts.json"),
        r#"{"parts": {"broken": {"steps": [{"op": "LaunchRocket"}]}}}"#,
    )
    .unwrap();
    let body = r#"{"cases": [
        {"id": "t.${n}", "rules": ["ts.describe.names-required"], "provenance": {"kind": "derived", "from": "x"},
         "steps": [{"op": "DescribeTaskSets", "request": {"cluster": "${m}"}}],
         "table": {"columns": ["n"], "rows": [[1], [2, 3]]}},
        {"id": "u", "rules": ["ts.describe.names-required"], "provenance": {"kind": "derived", "from": "x"},
         "steps": [{"use": "nope"}]}]}"#;
    std::fs::write(dir.join("two.json"), body).unwrap();
    let body = r#"{"cases": [{"id": "v", "rules": ["ts.describe.names-required"],
        "provenance": {"kind": "derived", "from": "x"}, "steps": [{"use": "broken"}]}]}"#;
    std::fs::write(dir.join("three.json"), body).unwrap();
    let err = ecs_harness::load_dir(&dir, &catalog()).unwrap_err();
    let found = |file: &str, path: &str, text: &str| {
        err.0
            .iter()
            .any(|e| e.file == file && e.path == path && e.message.contains(text))
    };
    assert!(
        found(
            "two.json",
            "/cases/0/table/rows/0",
            "/steps/0/request/cluster: ${m}"
        ),
        "{err}"
    );
    assert!(
        found(
            "two.json",
            "/cases/0/table/rows/1",
            "2 value(s) for 1 column(s)"
        ),
        "{err}"
    );
    assert!(
        found("two.json", "/cases/1/steps/0/use", "nope is not a part"),
        "{err}"
    );
    assert!(
        found("parts.json", "/parts/broken/steps/0/op", "(in case v)"),
        "{err}"
    );

    // A file's part cannot take a shared part's name (here one that uses itself, which the
    // fuzzer found reported under parts.json): the error names the file's own part.
    let body = r#"{"parts": {"broken": {"steps": [{"use": "broken"}]}},
        "cases": [{"id": "w", "rules": ["ts.describe.names-required"],
        "provenance": {"kind": "derived", "from": "x"}, "steps": [{"use": "broken"}]}]}"#;
    std::fs::write(dir.join("four.json"), body).unwrap();
    let err = ecs_harness::load_dir(&dir, &catalog()).unwrap_err();
    let four: Vec<_> = err.0.iter().filter(|e| e.file == "four.json").collect();
    assert_eq!(four.len(), 1, "{err}");
    assert_eq!(four[0].path, "/parts/broken", "{err}");
    assert!(
        four[0].message.contains("already declared in parts.json"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_catalog_readme_lists_every_rule() {
    let readme = std::fs::read_to_string(root().join("conformance/README.md")).unwrap();
    for rule in catalog().rules {
        assert!(
            readme.contains(&format!("| `{}` |", rule.id)),
            "conformance/README.md does not list {}",
            rule.id
        );
    }
}
