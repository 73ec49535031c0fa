//! Nothing that goes wrong may shrink a run or turn into a pass: fixture typos are refused
//! when the fixtures load, filters that select nothing are refused, a target that is not there
//! (or is not ECS) is named before any case, statuses say what really happened, and the HTML
//! report is one self-contained, parseable page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use ecs_client::EcsClient;
use ecs_harness::preflight::{preflight, PreflightError};
use ecs_harness::report::RuleStatus;
use ecs_harness::runner::{run, RunOptions, Status};
use ecs_harness::{Case, Report, TargetInfo};
use serde_json::{json, Value};
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

use common::catalog;

fn client(url: &str) -> EcsClient {
    common::client(url, Duration::from_secs(5))
}

fn case(id: &str, rules: &[&str], steps: Value) -> Case {
    serde_json::from_value(json!({"id": id, "rules": rules, "provenance": {"kind": "derived", "from": "test"}, "steps": steps})).unwrap()
}

/// A fixture directory holding `body` as `one.json`, with the real fixture schema.
fn fixture_dir(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("harness-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("schema")).unwrap();
    std::fs::copy(
        root().join("fixtures/schema/fixture.schema.json"),
        dir.join("schema/fixture.schema.json"),
    )
    .unwrap();
    std::fs::write(dir.join("one.json"), body).unwrap();
    dir
}

#[test]
fn matcher_typos_and_unset_variables_are_fixture_errors() {
    let body = r#"{"cases": [{"id": "a", "rules": ["ts.create.active"], "provenance": {"kind": "derived", "from": "x"},
        "steps": [
          {"op": "CreateCluster", "request": {"clusterName": "c-{{unique}}"}, "capture": {"cluster": "cluster.clusterArn"}},
          {"op": "DescribeClusters", "request": {"clusters": ["{{cluster}}", "{{clustr}}"]},
           "expect": {"body": {"clusters": [{"clusterArn": "@arn:cluster", "x": "@arn:taskset", "y": "@strnig", "z": "@@literal", "w": "{{later}}"}]}}},
          {"op": "ListClusters", "capture": {"later": "clusterArns[0]"}}
        ],
        "cleanup": [{"op": "DeleteCluster", "request": {"cluster": "{{later}}"}}]}]}"#;
    let dir = fixture_dir("typos", body);
    let err = ecs_harness::load_dir(&dir, &catalog()).unwrap_err();
    let found: Vec<(&str, &str)> = err
        .0
        .iter()
        .map(|e| (e.path.as_str(), e.message.as_str()))
        .collect();
    let at = |p: &str| found.iter().find(|(path, _)| *path == p).map(|(_, m)| *m);
    assert!(
        at("/cases/0/steps/1/expect/body/clusters/0/x")
            .is_some_and(|m| m.contains("@arn:taskset is not a matcher")),
        "{err}"
    );
    assert!(
        at("/cases/0/steps/1/expect/body/clusters/0/y").is_some(),
        "{err}"
    );
    assert!(
        at("/cases/0/steps/1/request/clusters/1").is_some_and(|m| m.contains("{{clustr}}")),
        "{err}"
    );
    // Captured only by a later step: not set yet when this one runs.
    assert!(
        at("/cases/0/steps/1/expect/body/clusters/0/w").is_some_and(|m| m.contains("{{later}}")),
        "{err}"
    );
    // The escaped literal, the known matcher, `unique`, an earlier capture, and a cleanup
    // step using any step's capture are all fine.
    assert_eq!(err.0.len(), 4, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_control_step_needs_the_capability_blocks_checks_nothing_and_names_its_case() {
    let body = r#"{"cases": [
        {"id": "a", "rules": ["svc.native.lambda-hooks"], "provenance": {"kind": "derived", "from": "x"},
         "steps": [{"op": "_emulator/hooks", "setup": true, "request": {"hookTargetArn": "h-{{unique}}", "replies": ["FAILED"]}}]},
        {"id": "b", "rules": ["svc.native.lambda-hooks"], "provenance": {"kind": "derived", "from": "x"}, "needs": ["emulator-control"],
         "steps": [{"op": "_emulator/hooks", "setup": true, "request": {"hookTargetArn": "h-{{unique}}", "replies": ["FAILED"]}},
                   {"op": "_emulator/alarms", "setup": true, "request": {"alarmName": "a-{{unique}}", "state": "ALARM"}}]},
        {"id": "c", "rules": ["svc.native.lambda-hooks"], "provenance": {"kind": "derived", "from": "x"}, "needs": ["emulator-control"],
         "steps": [{"op": "_emulator/alarms", "request": {"alarmName": "shared", "state": "ALARM"}, "expect": {"error": "Nope"}}]}
    ]}"#;
    let dir = fixture_dir("control", body);
    let err = ecs_harness::load_dir(&dir, &catalog()).unwrap_err();
    let found: Vec<(&str, &str)> = err
        .0
        .iter()
        .map(|e| (e.path.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(found.len(), 4, "{err}");
    assert!(
        found
            .iter()
            .any(|(p, m)| *p == "/cases/0/steps/0/op" && m.contains("must need emulator-control")),
        "{err}"
    );
    // Case b is right; case c checks what a control step cannot, blocks nothing and shares
    // its alarm with every other case.
    assert!(
        found
            .iter()
            .any(|(p, m)| *p == "/cases/2/steps/0/setup" && m.contains("setup step")),
        "{err}"
    );
    assert!(
        found
            .iter()
            .any(|(p, m)| *p == "/cases/2/steps/0/op" && m.contains("no expect, poll or capture")),
        "{err}"
    );
    assert!(
        found
            .iter()
            .any(|(p, m)| *p == "/cases/2/steps/0/request/alarmName" && m.contains("{{unique}}")),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    // A reset would reach every case running at once: the schema refuses it as a step.
    let body = body.replace("_emulator/hooks", "_emulator/reset");
    let dir = fixture_dir("control-reset", &body);
    let err = ecs_harness::load_dir(&dir, &catalog()).unwrap_err();
    assert!(err.to_string().contains("/op"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_error_message_is_checked_for_matcher_typos_and_unset_variables() {
    let body = r#"{"cases": [{"id": "a", "rules": ["ts.create.active"], "provenance": {"kind": "derived", "from": "x"},
        "steps": [
          {"op": "DescribeClusters", "request": {}, "expect": {"error": "ClientException", "message": "@strnig"}},
          {"op": "DescribeClusters", "request": {}, "expect": {"error": "ClientException", "message": "no cluster {{clustr}}"}}
        ]}]}"#;
    let dir = fixture_dir("message", body);
    let err = ecs_harness::load_dir(&dir, &catalog()).unwrap_err();
    let paths: Vec<&str> = err.0.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/cases/0/steps/0/expect/message",
            "/cases/0/steps/1/expect/message"
        ],
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn filters_that_select_nothing_are_refused_with_what_would_select_something() {
    let catalog = catalog();
    let cases = ecs_harness::load_dir(&root().join("fixtures"), &catalog).unwrap();
    let all = cases.len();
    for bad in ["", "rule:ts.nope", "tag:nope", "no-case-has-this-id"] {
        let err = ecs_harness::select_cases(cases.clone(), &[bad.to_owned()], &catalog)
            .map(|c| c.len())
            .unwrap_err();
        assert!(err.rules.contains(&"ts.create.active".to_owned()));
        assert!(err.tags.contains(&"primary".to_owned()));
        assert!(err.to_string().contains("rules: ts."), "{err}");
    }
    let kept =
        ecs_harness::select_cases(cases, &["rule:ts.create.active".to_owned()], &catalog).unwrap();
    assert!(!kept.is_empty() && kept.len() < all);
}

#[tokio::test]
async fn preflight_names_a_closed_port_a_web_server_and_refused_credentials() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let err = preflight(&client(&url), &url, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, PreflightError::Unreachable { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // A web server that implements nothing (as `python3 -m http.server` answers a POST).
    let web = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(501).set_body_raw(
            "<html><head><title>Error response</title></head><body><h1>Error response</h1><p>Error code: 501</p><p>Message: Unsupported method ('POST').</p></body></html>",
            "text/html",
        ))
        .mount(&web)
        .await;
    let err = preflight(&client(&web.uri()), &web.uri(), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PreflightError::NotEcs { status: 501, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("HTTP 501"), "{err}");

    // A 2xx that is not JSON.
    let html = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>hi</html>", "text/html"))
        .mount(&html)
        .await;
    let err = preflight(&client(&html.uri()), &html.uri(), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PreflightError::NotEcs { status: 200, .. }),
        "{err}"
    );

    // ECS, but the credentials are refused.
    let aws = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"__type": "UnrecognizedClientException", "message": "The security token included in the request is invalid."}),
        ))
        .mount(&aws)
        .await;
    let err = preflight(&client(&aws.uri()), &aws.uri(), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, PreflightError::Refused { .. }), "{err}");

    // Something that does not speak HTTP at all.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n");
        }
    });
    let url = format!("http://{addr}");
    let err = preflight(&client(&url), &url, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, PreflightError::NotHttp { .. }), "{err}");

    // An ECS answer passes and names the server.
    let ecs = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("server", "ecs-emulator/0.1.0")
                .set_body_json(json!({"clusterArns": []})),
        )
        .mount(&ecs)
        .await;
    let identity = preflight(&client(&ecs.uri()), &ecs.uri(), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(identity.server.as_deref(), Some("ecs-emulator/0.1.0"));
}

/// `cases` against `url`, 5 s per answer.
async fn run_quickly(url: &str, cases: Vec<Case>) -> Vec<ecs_harness::runner::CaseResult> {
    let options = RunOptions {
        step_timeout: Duration::from_secs(5),
        ..RunOptions::default()
    };
    run(&client(url), cases, &options, "t").await.unwrap()
}

fn on(op: &str) -> wiremock::matchers::HeaderExactMatcher {
    header(
        "x-amz-target",
        format!("AmazonEC2ContainerServiceV20141113.{op}").as_str(),
    )
}

#[tokio::test]
async fn statuses_are_honest() {
    let server = MockServer::start().await;
    // Null members and a schema break: reported, but the capture is still taken.
    Mock::given(on("RegisterTaskDefinition"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"taskDefinition": {
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/f:1",
            "proxyConfiguration": null, "runtimePlatform": null, "revision": "one"}})),
        )
        .mount(&server)
        .await;
    Mock::given(on("CreateService"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"service": {"serviceName": "s", "desiredCount": 1}})),
        )
        .mount(&server)
        .await;
    Mock::given(on("CreateTaskSet"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"__type": "InvalidAction"})))
        .mount(&server)
        .await;
    Mock::given(on("DescribeServices"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"services": []})))
        .mount(&server)
        .await;
    let steps = json!([
        {"op": "RegisterTaskDefinition", "setup": true,
         "request": {"family": "f", "containerDefinitions": [{"name": "web", "image": "x"}]},
         "capture": {"td": "taskDefinition.taskDefinitionArn"}},
        {"op": "CreateService", "setup": true, "request": {"serviceName": "s", "taskDefinition": "{{td}}"}},
        {"op": "CreateTaskSet", "request": {"cluster": "c", "service": "s", "taskDefinition": "{{td}}"},
         "expect": {"body": {"taskSet": {"status": "ACTIVE"}}}},
        {"op": "DescribeServices", "request": {"cluster": "c", "services": ["s"]},
         "expect": {"body": {"services": [{"serviceName": "s"}]}}}
    ]);
    let results = run_quickly(&server.uri(), vec![case("c", &["ts.create.active"], steps)]).await;
    let r = &results[0];
    let statuses: Vec<Status> = r.steps.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            Status::Failed,
            Status::Passed,
            Status::NotImplemented,
            Status::NotImplemented
        ],
        "{r:#?}"
    );
    // Not blocked by the null members: {{td}} was captured and CreateService ran with it.
    let nulls: Vec<&str> = r.steps[0]
        .failures
        .iter()
        .filter(|f| f.rules == ["wire.no-null-members"])
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        nulls,
        [
            "taskDefinition.proxyConfiguration",
            "taskDefinition.runtimePlatform"
        ]
    );
    assert!(r.steps[0]
        .failures
        .iter()
        .any(|f| f.rules == ["schema.output"] && f.path == "taskDefinition.revision"));
    // The step after the unimplemented one was not sent, and is not charged to any rule.
    assert!(r.steps[3].http_status.is_none());
    assert!(r.steps[3]
        .reason
        .as_deref()
        .is_some_and(|why| why.contains("3. CreateTaskSet")));
    assert_eq!(r.status, Status::NotImplemented);

    let report = common::report_of(&server.uri(), results);
    assert_eq!(report.not_implemented, ["CreateTaskSet"]);
    let rule = |id: &str| report.rules.iter().find(|r| r.id == id).unwrap();
    assert_eq!(rule("ts.create.active").status, RuleStatus::NotImplemented);
    assert_eq!(rule("wire.no-null-members").status, RuleStatus::Failed);
    // No task set was ever answered: the invariants on task sets observed nothing.
    let inv = rule("inv.task-set-status-known");
    assert_eq!((inv.status, inv.checked), (RuleStatus::NotObserved, 0));
    // Checked once per 2xx answer: RegisterTaskDefinition and CreateService.
    assert_eq!(rule("schema.output").checked, 2);
}

/// A report with every kind of outcome, from an invented target.
async fn mixed_report() -> Report {
    let server = MockServer::start().await;
    Mock::given(on("CreateCluster"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(
            "<!doctype html><title>500 Internal Server Error</title><h1>Internal Server Error</h1><p>KeyError: 'cf-1' &amp; &lt;friends&gt;</p>",
            "text/html",
        ))
        .mount(&server)
        .await;
    Mock::given(on("ListClusters"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"clusterArns": ["x"]})))
        .mount(&server)
        .await;
    let cases = vec![
        case(
            "crash-1",
            &["ts.create.active"],
            json!([{"op": "CreateCluster", "setup": true, "request": {"clusterName": "a"}}, {"op": "ListClusters"}]),
        ),
        case(
            "crash-2",
            &["ts.create.active"],
            json!([{"op": "CreateCluster", "request": {"clusterName": "b"}, "expect": {"body": {}}}]),
        ),
        case(
            "list",
            &["ts.identifiers"],
            json!([{"op": "ListClusters", "expect": {"body": {"clusterArns": ["<y>"]}}}]),
        ),
    ];
    let results = run(&client(&server.uri()), cases, &RunOptions::default(), "h")
        .await
        .unwrap();
    Report::new(
        TargetInfo::new("odd <target>", "1", server.uri()),
        "2026-12-02T00:00:00Z".into(),
        5,
        results,
        &catalog(),
    )
}

#[tokio::test]
async fn root_causes_rank_what_went_wrong() {
    let report = mixed_report().await;
    assert_eq!(report.root_causes.len(), 2, "{}", report.terminal(true));
    let top = &report.root_causes[0];
    assert_eq!(top.cases, ["crash-1", "crash-2"]);
    assert_eq!(top.http_status, Some(500));
    assert_eq!(
        top.key_line.as_deref(),
        Some("KeyError: 'cf-1' & <friends>")
    );
    let text = report.terminal(false);
    let first_cause = text
        .lines()
        .position(|l| l.contains("CreateCluster HTTP 500"));
    assert!(first_cause.is_some_and(|i| i < 5), "{text}");
    assert!(
        text.contains("aws ecs create-cluster --endpoint-url"),
        "{text}"
    );
    // The JSON report carries them, and validates.
    let json: Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(
        json["root_causes"][0]["cases"],
        json!(["crash-1", "crash-2"])
    );
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("conformance/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(report.markdown().contains("## Root causes"));
}

#[tokio::test]
async fn the_html_report_is_one_self_contained_parseable_page() {
    let report = mixed_report().await;
    let html = ecs_harness::html::html(&[report.clone(), report.clone()]);
    let doc = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("not well-formed: {e}\n{html}"));
    // No external asset and no script.
    for node in doc.descendants().filter(|n| n.is_element()) {
        assert_ne!(node.tag_name().name(), "script");
        assert_ne!(node.tag_name().name(), "link");
        for attr in ["src", "href"] {
            assert!(
                node.attribute(attr).is_none(),
                "{} has {attr}",
                node.tag_name().name()
            );
        }
    }
    let by_id = |id: &str| {
        doc.descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap_or_else(|| panic!("no #{id}"))
    };
    let rows = by_id("matrix-table")
        .children()
        .filter(|n| n.attribute("class") == Some("rule"))
        .count();
    assert_eq!(rows, report.rules.len());
    let causes = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("cause"))
        .count();
    assert_eq!(causes, 2 * report.root_causes.len());
    // Text comes back as it went in.
    assert!(doc
        .descendants()
        .any(|n| n.text().is_some_and(|t| t.contains("odd <target> 1"))));
}

#[tokio::test]
async fn an_emulator_names_its_version_on_its_health_endpoint() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/_localstack/health"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"services": {"ecs": "running"}, "version": "4.9.2"})),
        )
        .mount(&server)
        .await;
    let version =
        ecs_harness::preflight::version_endpoint(&server.uri(), Duration::from_secs(2)).await;
    assert_eq!(version.as_deref(), Some("localstack 4.9.2"));
    // Nothing answers so: no version, no error.
    let silent = MockServer::start().await;
    assert_eq!(
        ecs_harness::preflight::version_endpoint(&silent.uri(), Duration::from_secs(2)).await,
        None
    );
}

/// A saved report read back (the publisher reads them) may be odd: a root cause whose case
/// list is empty is rendered in every format, naming the reproducer's case, never a panic.
#[test]
fn a_saved_report_with_an_empty_root_cause_renders_everywhere() {
    let text = std::fs::read_to_string(root().join("conformance/results/moto-5.2.5.json")).unwrap();
    let mut saved: Value = serde_json::from_str(&text).unwrap();
    let causes = saved["root_causes"].as_array_mut().unwrap();
    assert!(!causes.is_empty(), "the saved moto report has root causes");
    let named = causes[0]["reproducer"]["case"].as_str().unwrap().to_owned();
    causes[0]["cases"] = json!([]);
    let report: ecs_harness::Report = serde_json::from_value(saved).unwrap();
    assert!(report.terminal(true).contains(&format!("e.g. {named}:")));
    assert!(report.markdown().contains(&format!("e.g. `{named}`")));
    assert!(ecs_harness::html::html(std::slice::from_ref(&report)).contains(&named));
    assert!(report.to_json().is_ok());
}

/// Parts used a hundred times at each of five levels would be 10^10 steps: loading stops at
/// the expansion cap with an error naming where, at once.
#[test]
fn a_part_fan_out_past_the_cap_is_a_fixture_error() {
    let mut parts = serde_json::Map::new();
    for level in 0..5 {
        let steps: Vec<Value> = (0..100)
            .map(|_| json!({"use": format!("p{}", level + 1)}))
            .collect();
        parts.insert(format!("p{level}"), json!({"steps": steps}));
    }
    parts.insert(
        "p5".into(),
        json!({"steps": [{"op": "ListClusters", "request": {}}]}),
    );
    let body = json!({"parts": parts, "cases": [{"id": "a", "rules": ["ts.create.active"],
        "provenance": {"kind": "derived", "from": "x"}, "steps": [{"use": "p0"}]}]});
    let dir = fixture_dir("fan-out", &body.to_string());
    let started = std::time::Instant::now();
    let err = ecs_harness::load_dir(&dir, &catalog()).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the cap stops the work"
    );
    assert_eq!(err.0.len(), 1, "{err}");
    assert!(
        err.0[0].message.contains(&format!(
            "more than {} steps",
            ecs_harness::template::MAX_EXPANSION
        )),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A rule checked in one case and blocked in another is not a pass: what the blocked case
/// would have checked is unknown.
#[tokio::test]
async fn a_rule_with_a_blocked_case_is_partly_observed_not_passed() {
    let server = MockServer::start().await;
    Mock::given(on("CreateTaskSet"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"taskSet": {
            "id": "ecs-svc/1234567890123456789",
            "status": "ACTIVE"
        }})))
        .mount(&server)
        .await;
    Mock::given(on("CreateCluster"))
        .respond_with(ResponseTemplate::new(500).set_body_raw("boom", "text/plain"))
        .mount(&server)
        .await;
    let create = json!({"op": "CreateTaskSet",
        "request": {"cluster": "c", "service": "s", "taskDefinition": "td:1"},
        "expect": {"body": {"taskSet": {"status": "ACTIVE"}}}});
    let ran = |cases| async {
        let results = run_quickly(&server.uri(), cases).await;
        let report = common::report_of(&server.uri(), results);
        report
            .rules
            .into_iter()
            .find(|r| r.id == "ts.create.active")
            .unwrap()
    };
    let alone = ran(vec![case(
        "ok",
        &["ts.create.active"],
        json!([create.clone()]),
    )])
    .await;
    assert_eq!((alone.status, alone.checked), (RuleStatus::Passed, 1));

    let blocked = case(
        "held",
        &["ts.create.active"],
        json!([{"op": "CreateCluster", "setup": true, "request": {"clusterName": "a"}}, create]),
    );
    let rule = ran(vec![
        case("ok", &["ts.create.active"], json!([create])),
        blocked,
    ])
    .await;
    assert_eq!(rule.status, RuleStatus::PartlyObserved, "{rule:#?}");
    assert_eq!(rule.checked, 1);
    let reason = rule.reason.unwrap();
    assert!(
        reason.starts_with("1 of 2 cases naming it did not run to their end; held blocked"),
        "{reason}"
    );
    assert_eq!(RuleStatus::PartlyObserved.label(), "partly observed");

    // A case that ran every step checked what it could, even though it failed on another
    // expectation: the rule passed.
    let failed_late = case(
        "late",
        &["ts.create.active"],
        json!([create.clone(), {"op": "CreateTaskSet",
            "request": {"cluster": "c", "service": "s", "taskDefinition": "td:1"},
            "expect": {"body": {"taskSet": {"status": "DRAINING"}}}}]),
    );
    let rule = ran(vec![failed_late]).await;
    assert_eq!(rule.status, RuleStatus::Failed, "{rule:#?}");
    let other = case(
        "other",
        &["ts.create.active"],
        json!([create.clone(), {"op": "CreateTaskSet", "rules": ["ts.create.formats"],
            "request": {"cluster": "c", "service": "s", "taskDefinition": "td:1"},
            "expect": {"body": {"taskSet": {"status": "DRAINING"}}}}]),
    );
    let rule = ran(vec![other]).await;
    assert_eq!(
        (rule.status, rule.checked),
        (RuleStatus::Passed, 1),
        "{rule:#?}"
    );
}
