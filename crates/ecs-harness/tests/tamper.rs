//! The suite must be able to fail. For every rule of the catalog, the reference emulator's
//! answers (or the requests it sees) are tampered with so that exactly that rule is broken; the
//! harness must report that rule as failed, and nothing else but rules named by the same cases
//! or listed as knock-on effects of the tamper.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ecs_client::{Config, EcsClient, RetryConfig, Timeouts};
use ecs_emulator::{Emulator, Engine};
use ecs_harness::report::RuleStatus;
use ecs_harness::{Catalog, Report, RunOptions, TargetInfo};
use serde_json::{json, Value};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// An answer as the tamper sees it.
enum Answer {
    Ok(Value),
    Err(u16, String),
    /// An error in words of the tamper's choosing.
    Saying(u16, String, String),
}

type Tamper = Arc<dyn Fn(&str, &mut Value, &mut Option<Answer>) + Send + Sync>;

/// Forwards to an in-process engine; `tamper` is called once with the request before it is
/// handled (answer `None`; it may rewrite the request) and once with the answer.
struct Tampering {
    engine: Arc<Engine>,
    tamper: Tamper,
}

impl Respond for Tampering {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        // The control path (hook answers, alarms) goes to the engine untouched.
        let path = request.url.path();
        if path.starts_with(ecs_emulator::control::CONTROL_PREFIX) {
            let (status, body) = self
                .engine
                .control(request.method.as_str(), path, &request.body);
            return ResponseTemplate::new(status).set_body_json(body);
        }
        let target = request
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let op = target.rsplit('.').next().unwrap_or_default().to_owned();
        let mut body: Value = serde_json::from_slice(&request.body).unwrap_or(json!({}));
        let mut none = None;
        (self.tamper)(&op, &mut body, &mut none);
        // An error the tamper leaves as it was keeps the engine's message; one it made up
        // says "tampered".
        let mut said = None;
        let answer =
            match self
                .engine
                .handle(Some(&target), None, &serde_json::to_vec(&body).unwrap())
            {
                Ok(bytes) => Answer::Ok(serde_json::from_slice(&bytes).unwrap()),
                Err(e) => {
                    said = Some((e.status, e.code.to_owned(), e.message.clone()));
                    Answer::Err(e.status, e.code.to_owned())
                }
            };
        let mut answer = Some(answer);
        (self.tamper)(&op, &mut body, &mut answer);
        match answer {
            Some(Answer::Ok(v)) => ResponseTemplate::new(200).set_body_raw(
                serde_json::to_vec(&v).unwrap(),
                "application/x-amz-json-1.1",
            ),
            Some(Answer::Err(status, code)) if code.is_empty() => {
                ResponseTemplate::new(status).set_body_raw("<html>oops</html>", "text/html")
            }
            Some(Answer::Saying(status, code, message)) => ResponseTemplate::new(status)
                .set_body_json(json!({"__type": code, "message": message})),
            Some(Answer::Err(status, code)) => {
                let message = match said {
                    Some((s, c, m)) if s == status && c == code => m,
                    _ => "tampered".to_owned(),
                };
                ResponseTemplate::new(status)
                    .set_body_json(json!({"__type": code, "message": message}))
            }
            None => ResponseTemplate::new(500),
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn catalog() -> Catalog {
    Catalog::load(&root().join("conformance/rules.json")).unwrap()
}

async fn run_tampered(filter: &str, tamper: Tamper) -> Report {
    run_tampered_with(filter, tamper, |_| {}).await
}

/// [`run_tampered`], with `adjust` changing the run's options.
async fn run_tampered_with(
    filter: &str,
    tamper: Tamper,
    adjust: impl FnOnce(&mut RunOptions),
) -> Report {
    let catalog = catalog();
    let cases = ecs_harness::load_dir(&root().join("fixtures"), &catalog).unwrap();
    let cases = ecs_harness::filter_cases(cases, &[filter.to_owned()]);
    assert!(!cases.is_empty(), "filter {filter} selects no case");
    let engine = Arc::new(
        Emulator::builder()
            .profile(ecs_emulator::TimingProfile::Fast, 1.0)
            .engine(),
    );
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Tampering { engine, tamper })
        .mount(&server)
        .await;
    let config = Config::local_builder(server.uri())
        .retry(RetryConfig::disabled())
        .timeouts(Timeouts {
            connect: Duration::from_secs(2),
            attempt: Duration::from_secs(5),
            overall: Duration::from_secs(5),
        })
        .build()
        .unwrap();
    let client = EcsClient::new(config).unwrap();
    let options = RunOptions {
        jobs: 8,
        step_timeout: Duration::from_secs(5),
        progress: false,
        // Long enough for the longest wait of a passing case: a Lambda hook's twelve
        // IN_PROGRESS answers, 30 ms apart in the fast timing, then the rest of its deployment.
        poll_cap: Some(Duration::from_millis(1000)),
        answer_shapes: Some(Arc::new(
            ecs_harness::shapes::AnswerShapes::parse(
                "conformance/answer-shapes.json",
                &std::fs::read_to_string(root().join("conformance/answer-shapes.json")).unwrap(),
            )
            .unwrap(),
        )),
        ..RunOptions::default()
    };
    let mut options = options;
    adjust(&mut options);
    let results = ecs_harness::run(&client, cases, &options, "t")
        .await
        .unwrap();
    let target = TargetInfo::new("tampered", "0", server.uri());
    Report::new(target, String::new(), 0, results, &catalog)
}

/// Runs one tamper scenario and checks the reported rules.
async fn expect_only(rule: &str, filter: &str, extra: &[&str], tamper: Tamper) {
    let report = run_tampered(filter, tamper).await;
    let failed: BTreeSet<&str> = report
        .rules
        .iter()
        .filter(|r| r.status == RuleStatus::Failed)
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        failed.contains(rule),
        "tampering for {rule} was not reported; failed rules: {failed:?}\n{}",
        report.terminal(false)
    );
    let mut allowed: BTreeSet<&str> = extra.iter().copied().collect();
    allowed.insert(rule);
    for case in report
        .cases
        .iter()
        .filter(|c| c.rules.iter().any(|r| r == rule))
    {
        allowed.extend(case.rules.iter().map(String::as_str));
    }
    let unrelated: Vec<&&str> = failed.difference(&allowed).collect();
    assert!(
        unrelated.is_empty(),
        "tampering for {rule} also failed unrelated rules {unrelated:?}\n{}",
        report.terminal(false)
    );
}

fn on_ok(ops: &'static [&'static str], f: impl Fn(&mut Value) + Send + Sync + 'static) -> Tamper {
    Arc::new(move |op, _req, answer| {
        if let Some(Answer::Ok(v)) = answer {
            if ops.contains(&op) {
                f(v);
            }
        }
    })
}

fn on_request(
    ops: &'static [&'static str],
    f: impl Fn(&mut Value) + Send + Sync + 'static,
) -> Tamper {
    Arc::new(move |op, req, answer| {
        if answer.is_none() && ops.contains(&op) {
            f(req);
        }
    })
}

fn map_error(from: &'static str, to: Option<&'static str>) -> Tamper {
    Arc::new(move |_op, _req, answer| {
        if let Some(Answer::Err(_, code)) = answer {
            if code == from {
                *answer = Some(match to {
                    Some(t) => Answer::Err(400, t.to_owned()),
                    None => Answer::Ok(
                        json!({"taskSet": {}, "taskSets": [], "failures": [], "service": {}}),
                    ),
                });
            }
        }
    })
}

fn bump(v: &mut Value, by: i64) {
    if let Some(n) = v.as_i64() {
        *v = json!(n + by);
    }
}

macro_rules! scenario {
    ($name:ident, $rule:expr, $filter:expr, [$($extra:expr),*], $tamper:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            expect_only($rule, $filter, &[$($extra),*], $tamper).await;
        }
    };
}

scenario!(
    ceil,
    "ts.computed-desired-count.ceil",
    "rule:ts.computed-desired-count.ceil",
    // A wrong count on a STEADY_STATE set also breaks the steady-state invariant.
    ["inv.computed-desired-count", "inv.steady-state-counts"],
    on_ok(&["DescribeTaskSets"], |v| {
        if let Some(ts) = v.pointer_mut("/taskSets/0") {
            if ts["computedDesiredCount"].as_i64().unwrap_or(0) > 0 {
                bump(&mut ts["computedDesiredCount"], -1)
            }
        }
    })
);
/// Against a target that settles on a wrong count, a poll ends when the target has settled,
/// not at its timeout, and says what the count settled on. Each of the three judgements is
/// reached: the count differs from the one CreateTaskSet answered (recomputed); with that count
/// hidden, the set is STEADY_STATE after the change (where tasks run), or the count stayed
/// unchanged for the settle window (where they do not).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_count_settled_wrong_fails_before_the_poll_timeout_and_names_the_value() {
    let one_short = |hide_the_writes_count: bool| -> Tamper {
        Arc::new(move |op, _req, answer| {
            let Some(Answer::Ok(v)) = answer else { return };
            if op == "CreateTaskSet" && hide_the_writes_count {
                if let Some(set) = v["taskSet"].as_object_mut() {
                    set.remove("computedDesiredCount");
                }
            }
            if op == "DescribeTaskSets" {
                if let Some(ts) = v.pointer_mut("/taskSets/0") {
                    if ts["computedDesiredCount"].as_i64().unwrap_or(0) > 0 {
                        bump(&mut ts["computedDesiredCount"], -1)
                    }
                }
            }
        })
    };
    for (hide, tasks_run, judgement) in [
        (
            false,
            false,
            "recomputed since the write, whose answer showed 0",
        ),
        (true, true, "every task set is STEADY_STATE"),
        (true, false, "unchanged for"),
    ] {
        let report = run_tampered_with("rounding.d1", one_short(hide), |o| {
            // No cap but a guard: a poll that waits out its 120 s timeout (the defect this
            // test is about) ends at 10 s and fails the assertions below instead of the run.
            o.poll_cap = Some(Duration::from_secs(10));
            o.settle_window = Duration::from_millis(300);
            if !tasks_run {
                o.capabilities.retain(|c| c != "tasks-run");
            }
        })
        .await;
        let settled: Vec<&str> = report
            .cases
            .iter()
            .flat_map(|c| &c.steps)
            .filter(|s| s.status == ecs_harness::Status::Failed && s.op == "DescribeTaskSets")
            .map(|s| s.reason.as_deref().unwrap_or(""))
            .collect();
        for why in &settled {
            // A count floored to 0 is the write's own count: not seen to be recomputed, it
            // settles by the window.
            assert!(
                why.starts_with("settled on taskSets[0].computedDesiredCount ")
                    && (why.contains(judgement) || why.contains(" 0 (expected 1): unchanged for")),
                "hide {hide}, tasks-run {tasks_run}: {why}"
            );
        }
        let judged = settled.iter().filter(|w| w.contains(judgement)).count();
        assert!(
            judged >= 5,
            "{judged} by {judgement}\n{}",
            report.terminal(false)
        );
    }
}

scenario!(
    follows_desired,
    "ts.computed-desired-count.follows-desired",
    "rule:ts.computed-desired-count.follows-desired",
    [],
    on_request(&["UpdateService"], |r| {
        r.as_object_mut().unwrap().remove("desiredCount");
    })
);
scenario!(
    follows_scale,
    "ts.computed-desired-count.follows-scale",
    "rule:ts.computed-desired-count.follows-scale",
    [
        "inv.computed-desired-count",
        "inv.steady-state-counts",
        "ts.computed-desired-count.ceil"
    ],
    on_ok(&["DescribeTaskSets"], |v| {
        if let Some(ts) = v.pointer_mut("/taskSets/0") {
            bump(&mut ts["computedDesiredCount"], 1)
        }
    })
);
scenario!(
    create_active,
    "ts.create.active",
    "rule:ts.create.active",
    [],
    on_ok(&["CreateTaskSet"], |v| v["taskSet"]["status"] =
        json!("PRIMARY"))
);
scenario!(
    create_stabilizing,
    "ts.create.stabilizing",
    "rule:ts.create.stabilizing",
    [],
    on_ok(&["CreateTaskSet"], |v| v["taskSet"]["stabilityStatus"] =
        json!("STEADY_STATE"))
);
scenario!(
    create_formats,
    "ts.create.formats",
    "rule:ts.create.formats",
    ["inv.task-set-arn-ends-with-id"],
    on_ok(&["CreateTaskSet"], |v| v["taskSet"]["id"] = json!("set-1"))
);
scenario!(
    create_defaults,
    "ts.create.defaults",
    "rule:ts.create.defaults",
    [],
    on_ok(&["CreateTaskSet"], |v| v["taskSet"]["launchType"] =
        json!("FARGATE"))
);
scenario!(
    steady_state,
    "ts.steady-state",
    "rule:ts.steady-state",
    [],
    on_ok(&["DescribeTaskSets"], |v| {
        for ts in v["taskSets"].as_array_mut().into_iter().flatten() {
            ts["stabilityStatus"] = json!("STABILIZING")
        }
    })
);
scenario!(
    primary_switch,
    "ts.primary.switch",
    "rule:ts.primary.switch",
    [],
    on_ok(&["UpdateServicePrimaryTaskSet"], |v| v["taskSet"]
        ["status"] =
        json!("ACTIVE"))
);
scenario!(
    primary_params,
    "ts.primary.service-takes-parameters",
    "rule:ts.primary.service-takes-parameters",
    [],
    on_ok(&["DescribeServices"], |v| v["services"][0]
        ["taskDefinition"] = json!(
        "arn:aws:ecs:us-east-1:123456789012:task-definition/other:1"
    ))
);
scenario!(
    delete_draining,
    "ts.delete.draining",
    "rule:ts.delete.draining",
    [],
    on_ok(&["DeleteTaskSet"], |v| v["taskSet"]["status"] =
        json!("ACTIVE"))
);
scenario!(
    delete_disappears,
    "ts.delete.disappears",
    "rule:ts.delete.disappears",
    [],
    on_ok(&["DescribeTaskSets"], |v| v["failures"] = json!([]))
);
scenario!(
    delete_force,
    "ts.delete.force",
    "rule:ts.delete.force",
    [],
    on_request(&["DeleteTaskSet"], |r| r["force"] = json!(true))
);
scenario!(
    describe_names_required,
    "ts.describe.names-required",
    "rule:ts.describe.names-required",
    [],
    Arc::new(|op, req, answer| {
        let named = req
            .get("taskSets")
            .and_then(Value::as_array)
            .is_some_and(|l| !l.is_empty());
        if let (Some(Answer::Err(..)), "DescribeTaskSets", false) = (&answer, op, named) {
            *answer = Some(Answer::Ok(json!({"taskSets": [], "failures": []})));
        }
    })
);
scenario!(
    answer_before_recompute,
    "ts.computed-desired-count.answer-before-recompute",
    "rule:ts.computed-desired-count.answer-before-recompute",
    ["inv.computed-desired-count"],
    on_ok(&["CreateTaskSet"], |v| v["taskSet"]
        ["computedDesiredCount"] =
        json!(7))
);
scenario!(
    describe_failures,
    "ts.describe.failures",
    "rule:ts.describe.failures",
    [],
    on_ok(&["DescribeTaskSets"], |v| v["failures"] = json!([]))
);
scenario!(
    describe_tags,
    "ts.describe.tags",
    "rule:ts.describe.tags",
    ["inv.tags-only-when-asked"],
    on_ok(&["DescribeTaskSets"], |v| {
        for ts in v["taskSets"].as_array_mut().into_iter().flatten() {
            ts["tags"] = json!([{"key": "x", "value": "y"}])
        }
    })
);
scenario!(
    external_only,
    "ts.external-only",
    "rule:ts.external-only",
    [],
    map_error("InvalidParameterException", None)
);
scenario!(
    not_found,
    "ts.not-found",
    "rule:ts.not-found",
    [],
    map_error(
        "TaskSetNotFoundException",
        Some("InvalidParameterException")
    )
);
scenario!(
    cluster_not_found,
    "ts.cluster-not-found",
    "rule:ts.cluster-not-found",
    [],
    map_error("ClusterNotFoundException", Some("ServiceNotFoundException"))
);
scenario!(
    service_not_found,
    "ts.service-not-found",
    "rule:ts.service-not-found",
    [],
    map_error("ServiceNotFoundException", Some("ClusterNotFoundException"))
);
scenario!(
    service_not_active,
    "ts.service-not-active",
    "rule:ts.service-not-active",
    [],
    map_error(
        "ServiceNotActiveException",
        Some("ServiceNotFoundException")
    )
);
scenario!(
    identifiers,
    "ts.identifiers",
    "rule:ts.identifiers",
    [],
    Arc::new(|_op, req, answer| {
        let uses_arn = ["cluster", "service", "taskSet", "primaryTaskSet"]
            .iter()
            .any(|k| {
                req.get(*k)
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.starts_with("arn:"))
            });
        if uses_arn && answer.is_some() {
            *answer = Some(Answer::Err(400, "InvalidParameterException".into()))
        }
    })
);
scenario!(
    client_token,
    "ts.client-token",
    "rule:ts.client-token",
    [],
    on_request(&["CreateTaskSet"], |r| {
        r.as_object_mut().unwrap().remove("clientToken");
    })
);
scenario!(
    limit,
    "ts.limit-per-service",
    "rule:ts.limit-per-service",
    [],
    map_error("InvalidParameterException", None)
);
scenario!(
    scale_range,
    "req.scale-range",
    "rule:req.scale-range",
    [],
    on_request(&["CreateTaskSet", "UpdateTaskSet"], |r| {
        if let Some(v) = r["scale"]["value"].as_f64() {
            r["scale"]["value"] = json!(v.clamp(0.0, 100.0))
        }
    })
);
scenario!(
    launch_xor,
    "req.launch-type-xor-strategy",
    "rule:req.launch-type-xor-strategy",
    [],
    on_request(&["CreateTaskSet"], |r| {
        r.as_object_mut()
            .unwrap()
            .remove("capacityProviderStrategy");
    })
);
scenario!(
    awsvpc,
    "req.awsvpc-limits",
    "rule:req.awsvpc-limits",
    [],
    on_request(&["CreateTaskSet"], |r| {
        let a = &mut r["networkConfiguration"]["awsvpcConfiguration"];
        if let Some(s) = a.get_mut("subnets").and_then(Value::as_array_mut) {
            s.truncate(16)
        }
        if let Some(s) = a.get_mut("securityGroups").and_then(Value::as_array_mut) {
            s.truncate(5)
        }
    })
);
scenario!(
    required,
    "req.required-members",
    "rule:req.required-members",
    [],
    map_error("InvalidParameterException", Some("ClientException"))
);
scenario!(
    update_restricted,
    "svc.external.update-restricted",
    "rule:svc.external.update-restricted",
    [],
    map_error("InvalidParameterException", None)
);
scenario!(
    update_allowed,
    "svc.external.update-allowed",
    "rule:svc.external.update-allowed",
    [],
    on_ok(&["UpdateService"], |v| bump(
        &mut v["service"]["desiredCount"],
        1
    ))
);
scenario!(
    no_deployments,
    "svc.external.no-deployments",
    "rule:svc.external.no-deployments",
    [],
    // A whole deployment, as AWS answers one, so that only the rule under test breaks.
    on_ok(
        &["CreateService"],
        |v| v["service"]["deployments"] = json!([{
            "id": "ecs-svc/1234567890123456789", "status": "PRIMARY", "desiredCount": 0,
            "pendingCount": 0, "runningCount": 0, "failedTasks": 0,
            "createdAt": 1.0, "updatedAt": 1.0, "rolloutState": "IN_PROGRESS"
        }])
    )
);
scenario!(
    service_defaults,
    "svc.create.defaults",
    "rule:svc.create.defaults",
    [],
    on_ok(&["CreateService"], |v| v["service"]["schedulingStrategy"] =
        json!("DAEMON"))
);
scenario!(
    aws_shape,
    "err.aws-shape",
    "rule:err.aws-shape",
    [],
    Arc::new(
        |_op, _req, answer| if let Some(Answer::Err(status, code)) = answer {
            *status = 500;
            code.clear()
        }
    )
);
scenario!(
    inv_computed,
    "inv.computed-desired-count",
    "task-set.create.active",
    [],
    on_ok(&["CreateTaskSet"], |v| bump(
        &mut v["taskSet"]["computedDesiredCount"],
        1
    ))
);
scenario!(
    inv_steady,
    "inv.steady-state-counts",
    "task-set.create.active",
    [],
    on_ok(&["CreateTaskSet"], |v| {
        v["taskSet"]["stabilityStatus"] = json!("STEADY_STATE");
        v["taskSet"]["pendingCount"] = json!(1)
    })
);
scenario!(
    inv_created_updated,
    "inv.created-not-after-updated",
    "task-set.create.active",
    [],
    on_ok(&["CreateTaskSet"], |v| {
        let u = v["taskSet"]["updatedAt"].as_f64().unwrap_or(0.0);
        v["taskSet"]["createdAt"] = json!(u + 10.0)
    })
);
scenario!(
    inv_counts,
    "inv.counts-non-negative",
    "task-set.create.active",
    [],
    on_ok(&["CreateTaskSet"], |v| v["taskSet"]["pendingCount"] =
        json!(-1))
);
scenario!(
    inv_status,
    "inv.task-set-status-known",
    "task-set.follows-scale.down-to-zero",
    [],
    on_ok(&["UpdateTaskSet"], |v| v["taskSet"]["status"] =
        json!("PAUSED"))
);
scenario!(
    inv_scale,
    "inv.scale-range",
    "task-set.create.active",
    [],
    on_ok(&["CreateTaskSet"], |v| v["taskSet"]["scale"]["value"] =
        json!(150.0))
);
scenario!(
    inv_arn,
    "inv.task-set-arn-ends-with-id",
    "task-set.create.active",
    [],
    on_ok(&["CreateTaskSet"], |v| v["taskSet"]["taskSetArn"] = json!(
        format!("{}x", v["taskSet"]["taskSetArn"].as_str().unwrap_or(""))
    ))
);
scenario!(
    inv_single_primary,
    "inv.single-primary",
    "primary.service-takes-parameters",
    [],
    on_ok(&["DescribeServices"], |v| {
        let ts = v["services"][0]["taskSets"][0].clone();
        if let Some(a) = v["services"][0]["taskSets"].as_array_mut() {
            a.push(ts)
        }
    })
);
scenario!(
    inv_tags,
    "inv.tags-only-when-asked",
    "describe.named-only",
    [],
    on_ok(&["DescribeTaskSets"], |v| {
        for ts in v["taskSets"].as_array_mut().into_iter().flatten() {
            ts["tags"] = json!([{"key": "k", "value": "v"}])
        }
    })
);
scenario!(
    schema_output,
    "schema.output",
    "task-set.create.active",
    [],
    on_ok(&["CreateTaskSet"], |v| v["taskSet"]["runningCount"] =
        json!("0"))
);

/// Every catalog rule has a scenario above.
#[test]
fn every_rule_has_a_tamper_scenario() {
    let source = include_str!("tamper.rs");
    for rule in catalog().rules {
        assert!(
            source.contains(&format!("\"{}\"", rule.id)),
            "no tamper scenario for {}",
            rule.id
        );
    }
}

/// The untampered emulator passes the whole suite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untampered_the_suite_passes() {
    let report = run_tampered("", Arc::new(|_, _, _| {})).await;
    assert!(report.all_passed(), "{}", report.terminal(false));
    let uncovered: Vec<&str> = report
        .rules
        .iter()
        .filter(|r| r.status != RuleStatus::Passed)
        .map(|r| r.id.as_str())
        .collect();
    assert!(uncovered.is_empty(), "rules not passing: {uncovered:?}");
}

scenario!(
    wire_null_members,
    "wire.no-null-members",
    "task-set.create.active",
    [],
    on_ok(&["CreateTaskSet"], |v| v["taskSet"]["platformFamily"] =
        Value::Null)
);

scenario!(
    wire_answer_shape,
    "wire.answer-shape",
    "task-set.create.active",
    [],
    on_ok(&["CreateTaskSet"], |v| {
        if let Some(set) = v["taskSet"].as_object_mut() {
            set.remove("serviceRegistries");
        }
    })
);

scenario!(
    grace_period,
    "svc.grace-period-needs-load-balancer",
    "service.grace-period-needs-load-balancer",
    [],
    on_request(&["UpdateService"], |r| {
        if let Some(m) = r.as_object_mut() {
            m.remove("healthCheckGracePeriodSeconds");
        }
    })
);

scenario!(
    code_deploy_restricted,
    "svc.code-deploy.update-restricted",
    "service.code-deploy.no-task-definition-update",
    [],
    on_request(&["UpdateService"], |r| {
        if let Some(m) = r.as_object_mut() {
            m.remove("taskDefinition");
        }
    })
);

scenario!(
    draining_stops_tasks,
    "ts.delete.stops-tasks",
    "delete.draining-stops-tasks",
    [],
    on_ok(&["DescribeTaskSets"], |v| {
        for ts in v["taskSets"].as_array_mut().into_iter().flatten() {
            if ts["status"] == "DRAINING" {
                ts["runningCount"] = json!(3)
            }
        }
    })
);

// Request rules from the pages' prose: a target that accepts the request breaks the rule.
scenario!(
    req_tags,
    "req.tags",
    "rule:req.tags",
    [],
    map_error("InvalidParameterException", None)
);
scenario!(
    req_capacity_provider_strategy,
    "req.capacity-provider-strategy",
    "rule:req.capacity-provider-strategy",
    [],
    map_error("InvalidParameterException", None)
);
scenario!(
    req_service_registry,
    "req.service-registry",
    "rule:req.service-registry",
    [],
    map_error("InvalidParameterException", None)
);
scenario!(
    ts_load_balancer,
    "ts.load-balancer",
    "rule:ts.load-balancer",
    [],
    map_error("InvalidParameterException", None)
);
scenario!(
    req_platform_version,
    "req.platform-version-fargate-only",
    "rule:req.platform-version-fargate-only",
    [],
    map_error("InvalidParameterException", None)
);
scenario!(
    req_placement,
    "req.placement",
    "rule:req.placement",
    [],
    map_error("InvalidParameterException", None)
);
scenario!(
    svc_errors,
    "svc.errors",
    "service.errors.unknown-cluster",
    [],
    map_error("ClusterNotFoundException", Some("ServiceNotFoundException"))
);
scenario!(
    svc_ecs_rolling_deployment,
    "svc.ecs.rolling-deployment",
    "rule:svc.ecs.rolling-deployment",
    [],
    on_ok(&["UpdateService"], |v| {
        for d in v["service"]["deployments"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if d["status"] == "PRIMARY" {
                d["rolloutState"] = json!("COMPLETED");
            }
        }
    })
);
scenario!(
    svc_update_absent_members_kept,
    "svc.update.absent-members-kept",
    "rule:svc.update.absent-members-kept",
    [],
    on_ok(&["UpdateService"], |v| {
        v["service"]["placementConstraints"] = json!([]);
        v["service"]["enableExecuteCommand"] = json!(false);
    })
);
scenario!(
    svc_default_cluster,
    "svc.default-cluster",
    "rule:svc.default-cluster",
    [],
    on_ok(&["UpdateService"], |v| v["service"]["clusterArn"] =
        json!("arn:aws:ecs:us-east-1:123456789012:cluster/other"))
);
scenario!(
    svc_create_rules,
    "svc.create.rules",
    "rule:svc.create.rules",
    [],
    map_error("InvalidParameterException", None)
);
scenario!(
    req_platform_version_known,
    "req.platform-version-known",
    "rule:req.platform-version-known",
    [],
    map_error(
        "PlatformUnknownException",
        Some("InvalidParameterException")
    )
);
scenario!(
    ts_create_echoes_request,
    "ts.create.echoes-request",
    "rule:ts.create.echoes-request",
    [],
    on_ok(&["CreateTaskSet"], |v| {
        v["taskSet"]["startedBy"] = json!("ecs-svc");
        v["taskSet"]["externalId"] = json!("other");
        for item in v
            .pointer_mut("/taskSet/capacityProviderStrategy")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            item.as_object_mut().unwrap().remove("base");
        }
    })
);
scenario!(
    answers_launch_type_xor_strategy,
    "answers.launch-type-xor-strategy",
    "rule:answers.launch-type-xor-strategy",
    [],
    on_ok(&["CreateTaskSet", "CreateService"], |v| {
        for key in ["taskSet", "service"] {
            if v[key].is_object() {
                v[key]["launchType"] = json!("FARGATE");
                v[key]["capacityProviderStrategy"] =
                    json!([{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]);
            }
        }
    })
);
scenario!(
    svc_code_deploy_shape,
    "svc.code-deploy.shape",
    "service.code-deploy.shape",
    [],
    on_ok(&["DescribeServices"], |v| {
        for svc in v["services"].as_array_mut().into_iter().flatten() {
            svc["taskSets"] = json!([]);
        }
    })
);
scenario!(
    svc_service_connect,
    "svc.service-connect",
    "rule:svc.service-connect",
    [],
    on_ok(&["UpdateService"], |v| {
        for d in v["service"]["deployments"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if let Some(d) = d.as_object_mut() {
                d.remove("serviceConnectConfiguration");
            }
        }
    })
);
scenario!(
    ts_updated_at_advances,
    "ts.updated-at-advances",
    "rule:ts.updated-at-advances",
    [],
    on_ok(&["UpdateTaskSet"], |v| {
        let created = v["taskSet"]["createdAt"].clone();
        v["taskSet"]["updatedAt"] = created;
    })
);
scenario!(
    svc_ecs_target_groups,
    "svc.ecs.target-groups",
    "rule:svc.ecs.target-groups",
    [],
    on_ok(&["UpdateService"], |v| {
        if let Some(lbs) = v["service"]["loadBalancers"].as_array_mut() {
            lbs.truncate(1);
        }
    })
);
scenario!(
    svc_update_strategy_not_back_to_default,
    "svc.update.strategy-not-back-to-default",
    "rule:svc.update.strategy-not-back-to-default",
    [],
    map_error("InvalidParameterException", None)
);
scenario!(
    svc_ecs_rolling_bounds,
    "svc.ecs.rolling-bounds",
    "rule:svc.ecs.rolling-bounds",
    [],
    on_ok(&["DescribeServices"], |v| {
        for svc in v["services"].as_array_mut().into_iter().flatten() {
            for d in svc["deployments"].as_array_mut().into_iter().flatten() {
                if d["status"] == "ACTIVE" {
                    bump(&mut d["runningCount"], 1);
                }
            }
        }
    })
);
scenario!(
    svc_ecs_circuit_breaker,
    "svc.ecs.circuit-breaker",
    "rule:svc.ecs.circuit-breaker",
    [],
    on_ok(&["DescribeServices"], |v| {
        for svc in v["services"].as_array_mut().into_iter().flatten() {
            for d in svc["deployments"].as_array_mut().into_iter().flatten() {
                if d["rolloutState"] == "FAILED" {
                    d["rolloutState"] = json!("IN_PROGRESS");
                }
            }
        }
    })
);
scenario!(
    ts_pending_counts_restarts,
    "ts.pending-counts-restarts",
    "rule:ts.pending-counts-restarts",
    [],
    on_ok(&["DescribeTaskSets"], |v| {
        for ts in v["taskSets"].as_array_mut().into_iter().flatten() {
            ts["pendingCount"] = json!(0);
        }
    })
);

scenario!(
    counted_tasks_run,
    "task.counted-tasks-run",
    "rule:task.counted-tasks-run",
    [],
    on_ok(&["DescribeTasks"], |v| {
        for t in v["tasks"].as_array_mut().into_iter().flatten() {
            t["lastStatus"] = json!("PENDING")
        }
    })
);
scenario!(
    scale_in_stops,
    "task.scale-in-stops",
    "rule:task.scale-in-stops",
    [],
    on_ok(&["DescribeTasks"], |v| {
        for t in v["tasks"].as_array_mut().into_iter().flatten() {
            if t.get("stopCode").is_some() {
                t["stopCode"] = json!("UserInitiated")
            }
        }
    })
);
scenario!(
    stop_task,
    "task.stop-task",
    "rule:task.stop-task",
    [],
    on_ok(&["StopTask"], |v| v["task"]["stoppedReason"] =
        json!("stopped"))
);
scenario!(
    describe_tasks_failures,
    "task.describe.failures",
    "rule:task.describe.failures",
    [],
    on_ok(&["DescribeTasks"], |v| v["failures"] = json!([]))
);
scenario!(
    list_tasks_service_not_found,
    "task.list.service-not-found",
    "rule:task.list.service-not-found",
    [],
    map_error(
        "ServiceNotFoundException",
        Some("InvalidParameterException")
    )
);
scenario!(
    service_deployments_history,
    "svc.deployments.history",
    "rule:svc.deployments.history",
    [],
    on_ok(&["ListServiceDeployments"], |v| {
        for d in v["serviceDeployments"].as_array_mut().into_iter().flatten() {
            d["status"] = json!("IN_PROGRESS")
        }
    })
);

/// A DescribeServiceDeployments answer's deployments, for the native-deployment scenarios.
fn each_deployment(f: impl Fn(&mut Value) + Send + Sync + 'static) -> Tamper {
    on_ok(&["DescribeServiceDeployments"], move |v| {
        for d in v["serviceDeployments"].as_array_mut().into_iter().flatten() {
            f(d)
        }
    })
}

scenario!(
    native_stages,
    "svc.native.stages",
    "rule:svc.native.stages",
    [],
    each_deployment(|d| {
        if d["lifecycleStage"] == "POST_SCALE_UP" {
            d["lifecycleStage"] = json!("SCALE_UP")
        }
    })
);
scenario!(
    native_pause_hooks,
    "svc.native.pause-hooks",
    "rule:svc.native.pause-hooks",
    [],
    each_deployment(|d| {
        for h in d["lifecycleHookDetails"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if h["status"] == "AWAITING_ACTION" {
                h["status"] = json!("IN_PROGRESS")
            }
        }
    })
);
scenario!(
    native_lambda_hooks,
    "svc.native.lambda-hooks",
    "rule:svc.native.lambda-hooks",
    [],
    // An emulator that takes AWS_LAMBDA hooks but never runs them.
    on_request(&["UpdateService"], |r| {
        if let Some(hooks) = r
            .pointer_mut("/deploymentConfiguration/lifecycleHooks")
            .and_then(Value::as_array_mut)
        {
            hooks.retain(|h| h["targetType"] != "AWS_LAMBDA");
        }
    })
);
scenario!(
    native_linear,
    "svc.native.linear",
    "rule:svc.native.linear",
    [],
    each_deployment(|d| {
        let w = &mut d["targetServiceRevision"]["requestedProductionTrafficWeight"];
        if *w == json!(60.0) {
            *w = json!(50.0)
        }
    })
);
scenario!(
    native_canary,
    "svc.native.canary",
    "rule:svc.native.canary",
    [],
    each_deployment(|d| {
        let w = &mut d["targetServiceRevision"]["requestedProductionTrafficWeight"];
        if *w == json!(10.0) {
            *w = json!(5.0)
        }
    })
);
scenario!(
    native_rollback,
    "svc.native.rollback",
    "rule:svc.native.rollback",
    [],
    each_deployment(|d| {
        if d["status"] == "ROLLBACK_SUCCESSFUL" || d["status"] == "ROLLBACK_FAILED" {
            d["status"] = json!("SUCCESSFUL")
        }
    })
);
scenario!(
    native_hook_timeout,
    "svc.native.hook-timeout",
    "rule:svc.native.hook-timeout",
    [],
    on_request(&["UpdateService"], |r| {
        for h in r
            .pointer_mut("/deploymentConfiguration/lifecycleHooks")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let action = &mut h["timeoutConfiguration"]["action"];
            *action = json!(if *action == "ROLLBACK" {
                "CONTINUE"
            } else {
                "ROLLBACK"
            });
        }
    })
);
scenario!(
    deployments_stop,
    "svc.deployments.stop",
    "rule:svc.deployments.stop",
    [],
    on_ok(
        &["StopServiceDeployment"],
        |v| v["serviceDeploymentArn"] =
            json!("arn:aws:ecs:us-east-1:123456789012:service-deployment/c/s/other")
    )
);
scenario!(
    deployments_continue_refusals,
    "svc.deployments.continue-refusals",
    "rule:svc.deployments.continue-refusals",
    [],
    map_error("InvalidParameterException", Some("ClientException"))
);
scenario!(
    native_refusals,
    "svc.native.refusals",
    "rule:svc.native.refusals",
    [],
    map_error("ClientException", Some("InvalidParameterException"))
);
scenario!(
    native_refusal_messages,
    "svc.native.refusals",
    "rule:svc.native.refusals",
    [],
    // The right codes in other words.
    Arc::new(|_op, _req, answer| {
        if let Some(Answer::Err(status, code)) = answer {
            *answer = Some(Answer::Saying(
                *status,
                code.clone(),
                "the configuration is refused".into(),
            ));
        }
    })
);
