//! ecs-deploy against the reference emulator in AWS's timing shape (at 1/100 of its
//! durations), with the emulator's faults. Each scenario checks the end state, the outcome
//! and the request log: no CreateTaskSet without a client token, at most one task set created,
//! and no decision taken on an answer whose count had not settled ([`support::check_log`]).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use ecs_deploy::{DeployError, Deployer, Event, Outcome, Timeouts};
use ecs_emulator::Fault;
use ecs_model::types::Scale;
use support::*;

fn settled_counts(events: &[Event]) -> Vec<i32> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Settled {
                step: Some(_),
                counts,
                ..
            } => Some(counts.expected),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn linear_steps_settle_one_by_one_then_the_old_set_is_retired() {
    let w = World::new().await;
    let from = w.service(10).await;
    let report = w.deployer().run(&deployment("linear:20%,20ms")).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    assert_eq!(report.exit_code(), 0);
    let calls = w.calls_since(from);
    summary("linear 20%, 10 tasks", &report, &calls);
    assert_deployed(&w, 10).await;
    let events = w.events();
    assert_eq!(settled_counts(&events), [2, 4, 6, 8, 10]);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Baking { .. }))
            .count(),
        4,
        "every step but the last bakes"
    );
    let log = check_log(&calls, false);
    assert_eq!(log.created, 1);
    assert!(
        log.unsettled_seen > 0,
        "the controller met answers that had not settled and waited them out"
    );
    // Without faults each call is one request: the report counts what the emulator saw.
    assert_eq!(report.api_calls as usize, calls.len());
    assert_eq!(
        count(&calls, "UpdateTaskSet"),
        (5, 0),
        "4 steps up, the old set to 0"
    );
    assert_eq!(count(&calls, "UpdateServicePrimaryTaskSet"), (1, 0));
    let deletes: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "DeleteTaskSet")
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(
        deletes[0].input["force"], false,
        "the old set was at 0: no force"
    );
}

#[tokio::test]
async fn canary_then_blue_green_and_the_first_deployment_of_a_service() {
    let w = World::new().await;
    // `service` itself made the first deployment: a service without a primary task set.
    let from = w.service(4).await;
    let report = w.deployer().run(&deployment("canary:25%,30ms")).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    assert_eq!(settled_counts(&w.events()), [1, 4]);
    check_log(&w.calls_since(from), false);
    assert_deployed(&w, 4).await;

    // Blue/green back to web:1 under an id of our own.
    let back = ecs_deploy::Deployment::new("c", "svc", "web:1", "blue-green:10ms".parse().unwrap())
        .with_id(ecs_deploy::DeploymentId::new("back-to-1").unwrap());
    let from = w.emulator.engine().calls().len();
    let report = w.deployer().run(&back).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    let calls = w.calls_since(from);
    assert_restored(&w, 4).await;
    check_log(&calls, false);
    let create = calls
        .iter()
        .find(|c| c.operation == "CreateTaskSet")
        .unwrap();
    assert_eq!(create.input["clientToken"], "back-to-1");
    assert_eq!(create.input["externalId"], "ecs-deploy/back-to-1");
    assert_eq!(create.input["scale"]["value"], 100.0);
}

#[tokio::test]
async fn throttled_update_task_set_is_tried_again_within_the_step() {
    let w = World::new().await;
    let from = w.service(6).await;
    // 8 refusals: more than the client's 3 attempts, so the controller repeats the call too.
    w.emulator.engine().inject(Fault::Throttle {
        operation: "UpdateTaskSet".into(),
        times: 8,
    });
    let report = w.deployer().run(&deployment("linear:50%,10ms")).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    let calls = w.calls_since(from);
    summary("throttled UpdateTaskSet", &report, &calls);
    assert_deployed(&w, 6).await;
    check_log(&calls, false);
    let (ok, refused) = count(&calls, "UpdateTaskSet");
    assert_eq!((ok, refused), (2, 8));
    assert!(calls
        .iter()
        .filter(|c| c.operation == "UpdateTaskSet" && !c.succeeded())
        .all(|c| c.error_code() == Some("ThrottlingException")));
    assert!(w.events().iter().any(|e| matches!(
        e,
        Event::Retrying {
            operation: "UpdateTaskSet",
            ..
        }
    )));
}

#[tokio::test]
async fn server_error_bursts_on_create_and_reads_make_one_task_set() {
    let w = World::new().await;
    let from = w.service(4).await;
    let engine = w.emulator.engine();
    engine.inject(Fault::ServerError {
        operation: "CreateTaskSet".into(),
        times: 4,
    });
    engine.inject(Fault::ServerError {
        operation: "DescribeServices".into(),
        times: 5,
    });
    engine.inject(Fault::DropConnection {
        operation: "UpdateServicePrimaryTaskSet".into(),
        times: 1,
    });
    let report = w.deployer().run(&deployment("canary:50%,10ms")).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    let calls = w.calls_since(from);
    summary("5xx bursts and a dropped connection", &report, &calls);
    assert_deployed(&w, 4).await;
    let log = check_log(&calls, false);
    assert_eq!(log.created, 1);
    assert_eq!(count(&calls, "CreateTaskSet"), (1, 4));
    assert_eq!(count(&calls, "DescribeServices").1, 5);
    assert_eq!(count(&calls, "UpdateServicePrimaryTaskSet"), (1, 1));
}

#[tokio::test]
async fn a_slow_recompute_is_waited_out_not_taken_for_settled() {
    let w = World::new().await;
    let from = w.service(8).await;
    // 30 s late at AWS's pace: every answer for that long shows the count from before.
    w.emulator.engine().inject(Fault::SlowRecompute {
        delay: Duration::from_secs(30).mul_f64(TIME_SCALE),
    });
    let report = w.deployer().run(&deployment("linear:25%,0s")).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    assert_eq!(settled_counts(&w.events()), [2, 4, 6, 8]);
    let calls = w.calls_since(from);
    summary("recompute 30 s late", &report, &calls);
    assert_deployed(&w, 8).await;
    let log = check_log(&calls, false);
    assert!(
        log.unsettled_seen >= 8,
        "each step met several stale answers: {log:?}"
    );
    assert!(w.events().iter().any(|e| matches!(
        e,
        Event::Waiting {
            why: "computedDesiredCount is not recomputed yet",
            ..
        }
    )));
}

#[tokio::test]
async fn a_set_that_never_stabilises_is_rolled_back_within_its_deadline() {
    let w = World::new().await;
    let from = w.service(4).await;
    w.emulator.engine().inject(Fault::StuckTasks {
        service: "svc".into(),
    });
    let timeouts = Timeouts {
        step: Duration::from_secs(2),
        ..World::timeouts()
    };
    let report = w
        .deployer()
        .timeouts(timeouts)
        .run(&deployment("canary:50%,10ms"))
        .await;
    let Outcome::RolledBack(DeployError::Deadline { what, last, .. }) = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert!(what.contains("settling at 50%"), "{what}");
    assert_eq!(
        last,
        "computed 2/2 running 0 pending 2 STABILIZING (tasks are starting or stopping)"
    );
    assert_eq!(report.exit_code(), 3);
    assert!(
        report.elapsed < timeouts.step + timeouts.rollback,
        "the deadline holds: {:?}",
        report.elapsed
    );
    let calls = w.calls_since(from);
    summary("a set that never stabilises", &report, &calls);
    assert_restored(&w, 4).await;
    check_log(&calls, true);
    let delete = calls
        .iter()
        .find(|c| c.operation == "DeleteTaskSet")
        .unwrap();
    assert_eq!(delete.input["force"], true, "the new set was above 0");
    assert_eq!(
        count(&calls, "UpdateServicePrimaryTaskSet"),
        (0, 0),
        "never switched"
    );
    assert!(w
        .events()
        .iter()
        .any(|e| matches!(e, Event::RollingBack { .. })));
}

#[tokio::test]
async fn a_gate_refusing_after_the_switch_puts_the_old_primary_back() {
    let w = World::new().await;
    let from = w.service(3).await;
    let report = w
        .deployer()
        .health_gate(|cx| async move {
            if cx.at == "after the switch" {
                Err("5xx rate above 1%".into())
            } else {
                Ok(())
            }
        })
        .run(&deployment("blue-green"))
        .await;
    let Outcome::RolledBack(DeployError::Gate { at, reason }) = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert_eq!(
        (at.as_str(), reason.as_str()),
        ("after the switch", "5xx rate above 1%")
    );
    let calls = w.calls_since(from);
    summary("gate refuses after the switch", &report, &calls);
    assert_restored(&w, 3).await;
    check_log(&calls, true);
    let primaries: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "UpdateServicePrimaryTaskSet")
        .map(|c| c.input["primaryTaskSet"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(primaries.len(), 2, "switched, then switched back");
    assert_eq!(Some(&primaries[1]), report.old_task_set.as_ref());
    assert!(w
        .events()
        .iter()
        .any(|e| matches!(e, Event::Restored { .. })));
}

#[tokio::test]
async fn the_five_set_limit_is_kept_with_draining_sets_and_leftovers_present() {
    let w = World::new().await;
    w.service(2).await;
    // Two sets left by earlier ecs-deploy runs, and two deleted ones still DRAINING: five
    // with the primary.
    for (token, scale, label) in [
        ("left-1", 0, "ecs-deploy/left-1"),
        ("left-2", 50, "ecs-deploy/left-2"),
        ("gone-1", 0, "someone-else"),
        ("gone-2", 0, "someone-else"),
    ] {
        let set = w
            .ecs
            .create_task_set()
            .cluster("c")
            .service("svc")
            .task_definition("web:1")
            .client_token(token)
            .external_id(label)
            .scale(Scale::percent(scale))
            .send()
            .await
            .unwrap()
            .task_set
            .unwrap();
        if token.starts_with("gone") {
            w.ecs
                .delete_task_set()
                .cluster("c")
                .service("svc")
                .task_set(set.id.unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    assert_eq!(w.task_sets().await.len(), 5);
    let mark = w.emulator.engine().calls().len();
    let report = w.deployer().run(&deployment("blue-green")).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    let events = w.events();
    let removed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::RemovedLeftover { external_id, .. } => Some(external_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(removed, ["ecs-deploy/left-1", "ecs-deploy/left-2"]);
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::WaitingForRoom { task_sets: 5, .. })));
    let calls = w.calls_since(mark);
    summary("five sets, two DRAINING, two leftovers", &report, &calls);
    assert_deployed(&w, 2).await;
    check_log(&calls, false);
    // The one CreateTaskSet went through, after a DescribeServices that showed room.
    assert_eq!(count(&calls, "CreateTaskSet"), (1, 0));
    let create_at = calls
        .iter()
        .position(|c| c.operation == "CreateTaskSet")
        .unwrap();
    let before = calls[..create_at]
        .iter()
        .rev()
        .find(|c| c.operation == "DescribeServices")
        .unwrap();
    let shown = before.answer.as_ref().unwrap()["services"][0]["taskSets"]
        .as_array()
        .unwrap()
        .len();
    assert!(shown < 5, "{shown} task sets shown before the create");
    let leftover_deletes: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "DeleteTaskSet")
        .map(|c| c.input["force"].as_bool().unwrap())
        .collect();
    assert_eq!(
        leftover_deletes[..2],
        [false, true],
        "force only for the set above 0"
    );
}

#[tokio::test]
async fn a_service_full_of_other_sets_is_left_untouched() {
    let w = World::new().await;
    w.service(2).await;
    for i in 0..4 {
        w.ecs
            .create_task_set()
            .cluster("c")
            .service("svc")
            .task_definition("web:1")
            .client_token(format!("theirs-{i}"))
            .scale(Scale::percent(0))
            .send()
            .await
            .unwrap();
    }
    let mark = w.emulator.engine().calls().len();
    let report = w.deployer().run(&deployment("blue-green")).await;
    let Outcome::Failed(DeployError::NoRoom { task_sets }) = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert_eq!(task_sets.len(), 5);
    assert_eq!(report.exit_code(), 1);
    let calls = w.calls_since(mark);
    assert_eq!(
        changes(&calls),
        0,
        "no task set changed: {:?}",
        calls.iter().map(|c| &c.operation).collect::<Vec<_>>()
    );
    check_log(&calls, false);
}

#[tokio::test]
async fn a_service_that_is_not_external_is_refused() {
    let w = World::new().await;
    w.service(1).await;
    w.ecs
        .create_service()
        .cluster("c")
        .service_name("rolling")
        .task_definition("web:1")
        .desired_count(1)
        .send()
        .await
        .unwrap();
    let mark = w.emulator.engine().calls().len();
    let d = ecs_deploy::Deployment::new("c", "rolling", "web:2", "blue-green".parse().unwrap());
    let report = w.deployer().run(&d).await;
    let Outcome::Failed(DeployError::NotExternal { controller, .. }) = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert_eq!(controller, "ECS");
    let calls = w.calls_since(mark);
    let ops: Vec<_> = calls.iter().map(|c| c.operation.as_str()).collect();
    assert_eq!(
        ops,
        ["DescribeTaskDefinition", "DescribeServices"],
        "it only looked"
    );
    let d = ecs_deploy::Deployment::new("c", "nope", "web:2", "blue-green".parse().unwrap());
    let report = w.deployer().run(&d).await;
    assert!(
        matches!(
            report.outcome,
            Outcome::Failed(DeployError::ServiceNotFound { .. })
        ),
        "{:?}",
        report.outcome
    );
}

/// Which event a crash comes right after.
type CrashPoint = fn(&Event) -> bool;

/// Runs `deployer` until an event matches `crash_at`, then drops the future, as a killed
/// process would stop.
async fn crash(deployer: Deployer, crash_at: CrashPoint) {
    crash_with(deployer, &deployment("linear:25%,10ms"), crash_at).await
}

/// [`crash`] with a deployment of the caller's.
async fn crash_with(deployer: Deployer, d: &ecs_deploy::Deployment, crash_at: CrashPoint) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let deployer = deployer.on_event(move |e| {
        if crash_at(e) {
            let _ = tx.send(());
        }
    });
    tokio::select! {
        report = deployer.run(d) => panic!("finished before the crash point: {:?}", report.outcome),
        _ = rx.recv() => {}
    }
}

#[tokio::test]
async fn a_crash_at_any_stage_then_a_resume_finishes_without_duplicates() {
    let points: [(&str, CrashPoint); 6] = [
        ("just after the create", |e| {
            matches!(e, Event::Created { .. })
        }),
        ("after step 2 settled", |e| {
            matches!(
                e,
                Event::Settled {
                    step: Some((2, _)),
                    ..
                }
            )
        }),
        ("just after the switch", |e| {
            matches!(e, Event::Switched { .. })
        }),
        ("while retiring the old set", |e| {
            matches!(e, Event::Retiring { .. })
        }),
        ("with the old set at 0", |e| {
            matches!(e, Event::Settled { step: None, .. })
        }),
        ("with the old set DRAINING", |e| {
            matches!(e, Event::Deleted { .. })
        }),
    ];
    for (name, point) in points {
        let w = World::new().await;
        let from = w.service(4).await;
        crash(w.deployer(), point).await;
        let report = w.deployer().run(&deployment("linear:25%,10ms")).await;
        assert!(
            matches!(report.outcome, Outcome::Succeeded),
            "{name}: {:?}",
            report.outcome
        );
        let calls = w.calls_since(from);
        summary(&format!("crash {name}, then resume"), &report, &calls);
        assert_deployed(&w, 4).await;
        let log = check_log(&calls, false);
        assert_eq!(log.created, 1, "{name}");
        let resumed = w.events().iter().rev().find_map(|e| match e {
            Event::Started { resumed, .. } => Some(resumed.clone()),
            _ => None,
        });
        assert!(
            matches!(resumed, Some(Some(_))),
            "{name}: the second run resumed: {resumed:?}"
        );
    }
}

#[tokio::test]
async fn a_crash_during_a_rollback_is_finished_by_the_resume() {
    let w = World::new().await;
    let from = w.service(4).await;
    let refusing = || {
        w.deployer().health_gate(|cx| async move {
            if cx.percent == ecs_model::Decimal::from(50) {
                Err("latency".into())
            } else {
                Ok(())
            }
        })
    };
    crash(refusing(), |e| matches!(e, Event::Deleted { .. })).await;
    let report = refusing().run(&deployment("linear:25%,10ms")).await;
    assert!(
        matches!(
            report.outcome,
            Outcome::RolledBack(DeployError::EarlierRollback { .. })
        ),
        "{:?}",
        report.outcome
    );
    let calls = w.calls_since(from);
    summary("crash during a rollback, then resume", &report, &calls);
    assert_restored(&w, 4).await;
    let log = check_log(&calls, true);
    assert_eq!(log.created, 1);
}

/// The log check is not a formality: a controller that trusts the answer of UpdateTaskSet
/// (and moves on as soon as DescribeServices shows the new scale) is caught.
#[tokio::test]
async fn the_log_check_catches_a_controller_that_does_not_wait() {
    let w = World::new().await;
    let from = w.service(4).await;
    let set = w
        .ecs
        .create_task_set()
        .cluster("c")
        .service("svc")
        .task_definition("web:2")
        .client_token("naive")
        .scale(Scale::percent(50))
        .send()
        .await
        .unwrap()
        .task_set
        .unwrap();
    let id = set.id.unwrap();
    // The naive controller reads the service once; the set still shows 0 of 2 tasks.
    let sets = w.task_sets().await;
    let shown = sets
        .iter()
        .find(|s| s.id.as_deref() == Some(id.as_str()))
        .unwrap();
    assert_eq!(
        shown.computed_desired_count,
        Some(0),
        "the recompute has not come yet"
    );
    w.ecs
        .update_service_primary_task_set()
        .cluster("c")
        .service("svc")
        .primary_task_set(&id)
        .send()
        .await
        .unwrap();
    let calls = w.calls_since(from);
    let broken = audit_log(&calls, false).unwrap_err();
    assert!(
        broken.starts_with("UpdateServicePrimaryTaskSet of ecs-svc/")
            && broken.contains("decided on an unsettled answer"),
        "{broken}"
    );

    // And a CreateTaskSet without a token.
    let mut calls = calls;
    calls[0].input["clientToken"] = serde_json::Value::Null;
    let broken = audit_log(&calls, false).unwrap_err();
    assert!(
        broken.starts_with("CreateTaskSet without a client token"),
        "{broken}"
    );
}

#[tokio::test]
async fn an_error_no_retry_lifts_rolls_back_at_once() {
    let w = World::new().await;
    let from = w.service(2).await;
    w.emulator.engine().inject(Fault::Refuse {
        operation: "UpdateServicePrimaryTaskSet".into(),
        code: "AccessDeniedException",
        message: "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecs:UpdateServicePrimaryTaskSet".into(),
        times: 1,
    });
    let report = w.deployer().run(&deployment("blue-green")).await;
    let Outcome::RolledBack(DeployError::Call { operation, source }) = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert_eq!(*operation, "UpdateServicePrimaryTaskSet");
    assert!(!source.is_retryable());
    let calls = w.calls_since(from);
    summary("AccessDeniedException on the switch", &report, &calls);
    assert_restored(&w, 2).await;
    check_log(&calls, true);
    assert_eq!(
        count(&calls, "UpdateServicePrimaryTaskSet"),
        (0, 1),
        "refused once, not tried again, and the old set never stopped being the primary"
    );
    let delete = calls
        .iter()
        .find(|c| c.operation == "DeleteTaskSet")
        .unwrap();
    assert_eq!(delete.input["force"], true);
}

#[tokio::test]
async fn an_error_before_anything_changed_fails_without_a_rollback() {
    let w = World::new().await;
    w.service(2).await;
    let mark = w.emulator.engine().calls().len();
    let d = ecs_deploy::Deployment::new("c", "svc", "web:9", "blue-green".parse().unwrap());
    let report = w.deployer().run(&d).await;
    let Outcome::Failed(DeployError::Call { operation, source }) = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    // The task definition is resolved first: the refusal comes before the service is read.
    assert_eq!(*operation, "DescribeTaskDefinition");
    assert_eq!(
        source.service_error().map(|e| e.code.as_str()),
        Some("ClientException")
    );
    assert_eq!(report.new_task_set, None);
    let calls = w.calls_since(mark);
    assert_eq!(count(&calls, "DescribeTaskDefinition"), (0, 1));
    assert_eq!(calls.len(), 1, "one refused read");
    assert!(!w
        .events()
        .iter()
        .any(|e| matches!(e, Event::RollingBack { .. })));
}

#[tokio::test]
async fn a_rollback_puts_the_old_set_back_at_its_recorded_scale() {
    let w = World::new().await;
    let from = w.service(4).await;
    let old = w.task_sets().await.remove(0).id.unwrap();
    // Someone halves the old set while the canary bakes; then the gate says no.
    let (ecs, shrunk) = (w.ecs.clone(), old.clone());
    let report = w
        .deployer()
        .health_gate(move |_| {
            let (ecs, shrunk) = (ecs.clone(), shrunk.clone());
            async move {
                ecs.update_task_set()
                    .cluster("c")
                    .service("svc")
                    .task_set(shrunk)
                    .scale(Scale::percent(50))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                Err("error budget spent".into())
            }
        })
        .run(&deployment("canary:25%,10ms"))
        .await;
    assert!(
        matches!(
            &report.outcome,
            Outcome::RolledBack(DeployError::Gate { .. })
        ),
        "{:?}",
        report.outcome
    );
    let calls = w.calls_since(from);
    summary("old set shrunk, then the gate refuses", &report, &calls);
    assert_restored(&w, 4).await;
    check_log(&calls, true);
    let scales_of_old: Vec<f64> = calls
        .iter()
        .filter(|c| c.operation == "UpdateTaskSet" && c.input["taskSet"] == old.as_str())
        .map(|c| c.input["scale"]["value"].as_f64().unwrap())
        .collect();
    assert_eq!(
        scales_of_old,
        [50.0, 100.0],
        "shrunk by the gate, restored by the rollback"
    );
}

/// The operations that change a service's task sets.
const CHANGES: [&str; 4] = [
    "CreateTaskSet",
    "UpdateTaskSet",
    "UpdateServicePrimaryTaskSet",
    "DeleteTaskSet",
];

fn changes(calls: &[ecs_emulator::LoggedCall]) -> usize {
    calls
        .iter()
        .filter(|c| CHANGES.contains(&c.operation.as_str()))
        .count()
}

/// `--task-definition web` twice, with `web:3` registered in between: the family resolves
/// to a revision before the id is derived, so the second run is a deployment of its own.
/// (Derived from the text `web`, both runs had one id: the second found the first one's
/// PRIMARY set, "resumed" it and reported success while the service still ran `web:2`.)
#[tokio::test]
async fn a_family_deployed_again_after_a_new_revision_deploys_that_revision() {
    let w = World::new().await;
    w.service(3).await;
    let by_family =
        || ecs_deploy::Deployment::new("c", "svc", "web", "blue-green".parse().unwrap());
    let first = w.deployer().run(&by_family()).await;
    assert!(
        matches!(first.outcome, Outcome::Succeeded),
        "{:?}",
        first.outcome
    );
    assert_deployed(&w, 3).await;
    w.register_revision().await;
    let from = w.emulator.engine().calls().len();
    let second = w.deployer().run(&by_family()).await;
    assert!(
        matches!(second.outcome, Outcome::Succeeded),
        "{:?}",
        second.outcome
    );
    assert_ne!(
        first.deployment, second.deployment,
        "a new revision, a new id"
    );
    let calls = w.calls_since(from);
    assert_eq!(count(&calls, "CreateTaskSet"), (1, 0));
    let create = calls
        .iter()
        .find(|c| c.operation == "CreateTaskSet")
        .unwrap();
    assert!(
        create.input["taskDefinition"]
            .as_str()
            .unwrap()
            .ends_with(":task-definition/web:3"),
        "the set is made of the resolved revision: {}",
        create.input
    );
    assert_only_primary(&w, "web:3", 3).await;
}

/// An id given by hand and used again for another revision: the set it labels is not this
/// deployment's, and the run stops before any change.
#[tokio::test]
async fn an_explicit_id_used_again_for_another_revision_is_refused() {
    let w = World::new().await;
    w.service(3).await;
    let id = ecs_deploy::DeploymentId::new("release-7").unwrap();
    crash(w.deployer(), |e| matches!(e, Event::Created { .. })).await;
    // The crashed run was `deployment(..)` under a derived id; label a set `release-7` too.
    let labelled =
        ecs_deploy::Deployment::new("c", "svc", "web:2", "canary:25%,1s".parse().unwrap())
            .with_id(id.clone());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let deployer = w.deployer().on_event(move |e| {
        if matches!(e, Event::Created { .. }) {
            let _ = tx.send(());
        }
    });
    tokio::select! {
        r = deployer.run(&labelled) => panic!("{:?}", r.outcome),
        _ = rx.recv() => {}
    }
    let from = w.emulator.engine().calls().len();
    let other =
        ecs_deploy::Deployment::new("c", "svc", "web:1", "blue-green".parse().unwrap()).with_id(id);
    let report = w.deployer().run(&other).await;
    let Outcome::Failed(DeployError::IdInUse { found, wanted, .. }) = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert!(
        found.ends_with("web:2") && wanted.ends_with("web:1"),
        "{found} {wanted}"
    );
    assert_eq!(changes(&w.calls_since(from)), 0, "nothing changed");
}

/// A rollback after the switch puts the old primary back, then deletes the new set. A crash
/// between the two used to leave the new set ACTIVE, and the re-run went forward: it switched
/// again to the revision the gate had refused. The record written on the service before the
/// first undo step makes the re-run finish the rollback.
#[tokio::test]
async fn a_crash_between_restoring_the_primary_and_deleting_the_new_set_resumes_the_rollback() {
    let w = World::new().await;
    let from = w.service(4).await;
    let d = deployment("blue-green");
    let refusing = w.deployer().health_gate(|cx| async move {
        if cx.at == "after the switch" {
            Err("5xx rate above 1%".into())
        } else {
            Ok(())
        }
    });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let refusing = refusing.on_event(move |e| {
        if matches!(e, Event::Restored { .. }) {
            let _ = tx.send(());
        }
    });
    tokio::select! {
        r = refusing.run(&d) => panic!("finished before the crash point: {:?}", r.outcome),
        _ = rx.recv() => {}
    }
    let sets = w.task_sets().await;
    assert_eq!(sets.len(), 2, "the crash left both sets: {sets:#?}");
    // The re-run's gate would say yes: going forward would switch to web:2 again.
    let report = w.deployer().run(&d).await;
    let Outcome::RolledBack(DeployError::EarlierRollback {
        reason: Some(reason),
    }) = &report.outcome
    else {
        panic!("{:?}", report.outcome)
    };
    // The tag alphabet has no `%`: the reason keeps its words.
    assert!(reason.contains("5xx rate above 1"), "{reason}");
    let calls = w.calls_since(from);
    summary(
        "crash between restore and delete, then resume",
        &report,
        &calls,
    );
    assert_restored(&w, 4).await;
    let primaries = calls
        .iter()
        .filter(|c| c.operation == "UpdateServicePrimaryTaskSet")
        .count();
    assert_eq!(
        primaries, 2,
        "switched once, restored once; never switched again"
    );
}

/// A canary whose first `times` reads of the service after it started answer what the
/// service showed before the create (the emulator's stale-read fault).
async fn with_stale_reads_after_the_start(
    w: &World,
    times: u32,
    read_lag: std::time::Duration,
) -> ecs_deploy::Report {
    let engine = w.emulator.shared_engine();
    let mut timeouts = World::timeouts();
    timeouts.read_lag = read_lag;
    w.deployer()
        .timeouts(timeouts)
        .on_event(move |e| {
            if matches!(e, Event::Started { .. }) {
                engine.inject(ecs_emulator::Fault::StaleRead {
                    operation: "DescribeServices".into(),
                    times,
                });
            }
        })
        .run(&deployment("canary:50%,10ms"))
        .await
}

/// Answers from a replica that has not caught up: right after the create, three reads of
/// the service do not show the new set. One such answer used to count as the set deleted,
/// and rolled the deployment back.
#[tokio::test]
async fn answers_that_do_not_show_the_new_set_yet_are_waited_out() {
    let w = World::new().await;
    let from = w.service(4).await;
    // A lag of 2 s against three reads 50 ms apart: tolerated however slow the machine.
    let report = with_stale_reads_after_the_start(&w, 3, std::time::Duration::from_secs(2)).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    let calls = w.calls_since(from);
    summary("three stale reads after the create", &report, &calls);
    assert_deployed(&w, 4).await;
    let created = calls
        .iter()
        .position(|c| c.operation == "CreateTaskSet")
        .unwrap();
    let new = report.new_task_set.clone().unwrap();
    let blind = calls[created..]
        .iter()
        .filter(|c| c.operation == "DescribeServices")
        .take_while(|c| {
            let sets = c.answer.as_ref().unwrap()["services"][0]["taskSets"].clone();
            !sets
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["id"] == new.as_str())
        })
        .count();
    assert_eq!(blind, 3, "the fault hid the new set from three answers");
}

/// The tolerance is bounded: a set missing from every answer for longer than the read lag
/// (ten stale answers, 0.5 s at this poll interval, against a lag of 0.3 s) is taken for
/// deleted, and the deployment is rolled back, the new set deleted once it shows again.
#[tokio::test]
async fn a_set_missing_for_longer_than_the_read_lag_stops_the_deployment() {
    let w = World::new().await;
    let from = w.service(4).await;
    let report = with_stale_reads_after_the_start(&w, 10, World::timeouts().read_lag).await;
    assert!(
        matches!(&report.outcome, Outcome::RolledBack(DeployError::Vanished { task_set }) if Some(task_set) == report.new_task_set.as_ref()),
        "{:?}",
        report.outcome
    );
    let calls = w.calls_since(from);
    summary("ten stale reads after the create", &report, &calls);
    assert_restored(&w, 4).await;
}

/// Two runs at once on one service: the second waits for the first's lease, then deploys;
/// no change of one run falls between the other's.
#[tokio::test]
async fn a_second_run_waits_for_the_first_ones_lease() {
    let w = World::new().await;
    w.service(4).await;
    w.register_revision().await;
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(char, Event)>::new()));
    let tagged = |who: char| {
        let order = order.clone();
        w.deployer()
            .on_event(move |e| order.lock().unwrap().push((who, e.clone())))
    };
    let mut timeouts = World::timeouts();
    timeouts.lease_wait = std::time::Duration::from_secs(60);
    let (a, b) = (tagged('a'), tagged('b').timeouts(timeouts));
    let web3 = ecs_deploy::Deployment::new("c", "svc", "web:3", "linear:50%,50ms".parse().unwrap());
    let web2 = deployment("linear:50%,50ms");
    let (ra, rb) = tokio::join!(a.run(&web2), async {
        // Long enough for a's lease to be written even on a loaded machine.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        b.run(&web3).await
    });
    assert!(matches!(ra.outcome, Outcome::Succeeded), "{:?}", ra.outcome);
    assert!(matches!(rb.outcome, Outcome::Succeeded), "{:?}", rb.outcome);
    assert_only_primary(&w, "web:3", 4).await;
    let order = order.lock().unwrap().clone();
    let waited = order
        .iter()
        .position(|(who, e)| *who == 'b' && matches!(e, Event::WaitingForLease { .. }))
        .expect("b waited for the lease");
    let a_last = order.iter().rposition(|(who, _)| *who == 'a').unwrap();
    let b_started = order
        .iter()
        .position(|(who, e)| *who == 'b' && matches!(e, Event::Started { .. }))
        .unwrap();
    assert!(waited < a_last && a_last < b_started, "{order:#?}");
}

/// With no time to wait, the second run stops at once, names the holder, and changes nothing.
#[tokio::test]
async fn a_second_run_with_no_lease_wait_stops_and_names_the_holder() {
    let w = World::new().await;
    w.service(4).await;
    w.register_revision().await;
    let first = w.deployer();
    let owner = first.owner().to_owned();
    let mut timeouts = World::timeouts();
    timeouts.lease_wait = std::time::Duration::ZERO;
    let second = w.deployer().timeouts(timeouts);
    let web3 = ecs_deploy::Deployment::new("c", "svc", "web:3", "blue-green".parse().unwrap());
    let engine = w.emulator.shared_engine();
    let web2 = deployment("canary:50%,100ms");
    let (ra, (rb, during)) = tokio::join!(first.run(&web2), async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let from = engine.calls().len();
        let rb = second.run(&web3).await;
        let during = engine.calls().split_off(from);
        (rb, during)
    });
    assert!(matches!(ra.outcome, Outcome::Succeeded), "{:?}", ra.outcome);
    let Outcome::Failed(DeployError::Leased { owner: holder, .. }) = &rb.outcome else {
        panic!("{:?}", rb.outcome)
    };
    assert!(
        holder.starts_with(&format!("{owner}.")),
        "{holder} is a run of {owner}"
    );
    assert!(
        !during.iter().any(|c| c.operation == "CreateTaskSet"
            && c.input["taskDefinition"]
                .as_str()
                .unwrap_or("")
                .ends_with("web:3")),
        "the second run created nothing"
    );
    assert_deployed(&w, 4).await;
}

/// `abort` from another deployer while a deployment bakes: the running one reads the request
/// on its next look at the service and rolls back.
#[tokio::test]
async fn an_abort_from_elsewhere_rolls_the_running_deployment_back() {
    let w = World::new().await;
    let from = w.service(4).await;
    let other = w.deployer();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let running = w.deployer().on_event(move |e| {
        if matches!(
            e,
            Event::Settled {
                step: Some((1, _)),
                ..
            }
        ) {
            let _ = tx.send(());
        }
    });
    let d = deployment("linear:25%,200ms");
    let (report, asked) = tokio::join!(running.run(&d), async {
        rx.recv().await;
        other.request_abort("c", "svc", "ops@laptop").await
    });
    assert_eq!(asked.unwrap().as_deref(), Some(report.deployment.as_str()));
    let Outcome::RolledBack(DeployError::Aborted { by }) = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert_eq!(by, "ops@laptop");
    assert_restored(&w, 4).await;
    check_log(&w.calls_since(from), true);
    let keys: Vec<_> = w
        .service_tags()
        .await
        .into_iter()
        .filter_map(|t| t.key)
        .collect();
    assert_eq!(
        keys,
        ["ecs-deploy:rolled-back"],
        "lease and abort request removed, the rollback recorded"
    );
}

/// A crashed deployment rolled back from another process ([`Deployer::roll_back`]), and a
/// roll-back asked past the point of no return refused.
#[tokio::test]
async fn a_crashed_deployment_is_rolled_back_on_request() {
    let w = World::new().await;
    w.service(4).await;
    crash(w.deployer(), |e| {
        matches!(
            e,
            Event::Settled {
                step: Some((2, _)),
                ..
            }
        )
    })
    .await;
    let report = w
        .deployer()
        .roll_back(&deployment("linear:25%,10ms"), "ops")
        .await;
    assert!(
        matches!(&report.outcome, Outcome::RolledBack(DeployError::Aborted { by }) if by == "ops"),
        "{:?}",
        report.outcome
    );
    assert_restored(&w, 4).await;

    // Crashed with the old set at 0: the retirement is under way.
    let again = deployment("linear:50%,10ms");
    crash_with(w.deployer(), &again, |e| {
        matches!(e, Event::Settled { step: None, .. })
    })
    .await;
    let report = w.deployer().roll_back(&again, "ops").await;
    assert!(
        matches!(
            &report.outcome,
            Outcome::Failed(DeployError::PastNoReturn { .. })
        ),
        "{:?}",
        report.outcome
    );
}

/// Values out of bounds fail before the first call, with the bound in the message.
#[tokio::test]
async fn out_of_bounds_values_fail_before_any_call() {
    let w = World::new().await;
    w.service(2).await;
    let zero_linear = ecs_deploy::Strategy::Linear {
        percent: ecs_model::Decimal::ZERO,
        interval: std::time::Duration::ZERO,
    };
    let mut cases: Vec<(ecs_deploy::Deployment, Timeouts, &str)> = vec![(
        ecs_deploy::Deployment::new("c", "svc", "web:2", zero_linear),
        World::timeouts(),
        "at least 1%",
    )];
    let mut t = World::timeouts();
    t.poll_interval = std::time::Duration::ZERO;
    cases.push((
        deployment("blue-green"),
        t,
        "poll interval of 0s is shorter",
    ));
    let mut t = World::timeouts();
    t.step = std::time::Duration::from_secs(u64::MAX);
    cases.push((deployment("blue-green"), t, "step deadline"));
    cases.push((
        deployment("blue-green"),
        Timeouts::default().scaled(f64::INFINITY),
        "longer than the limit of 7days",
    ));
    cases.push((
        deployment("blue-green"),
        Timeouts::default().scaled(f64::NAN),
        "shorter than",
    ));
    for (d, timeouts, why) in cases {
        let from = w.emulator.engine().calls().len();
        let report = w.deployer().timeouts(timeouts).run(&d).await;
        let Outcome::Failed(e @ DeployError::Invalid { .. }) = &report.outcome else {
            panic!("{why}: {:?}", report.outcome)
        };
        assert!(e.to_string().contains(why), "{e}");
        assert_eq!(report.api_calls, 0);
        assert_eq!(w.calls_since(from).len(), 0);
    }
}

/// A bake longer than the lease's lifetime: the run renews the lease while it bakes (another
/// run is refused the service well after the first lifetime), and an abort asked during the
/// bake is read at once, not when the bake ends.
#[tokio::test]
async fn the_lease_is_renewed_and_aborts_are_read_during_a_long_bake() {
    let w = World::new().await;
    let from = w.service(4).await;
    w.register_revision().await;
    let lifetime = World::timeouts().lease_ttl;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Event>::new()));
    let record = seen.clone();
    let running = w.deployer().on_event(move |e| {
        record.lock().unwrap().push(e.clone());
        if matches!(e, Event::Baking { .. }) {
            let _ = tx.send(());
        }
    });
    let d = deployment("linear:50%,6s");
    let mut no_wait = World::timeouts();
    no_wait.lease_wait = std::time::Duration::ZERO;
    let other = w.deployer().timeouts(no_wait);
    let web3 = ecs_deploy::Deployment::new("c", "svc", "web:3", "blue-green".parse().unwrap());
    let (report, (refused, asked, asked_at)) = tokio::join!(running.run(&d), async {
        rx.recv().await;
        tokio::time::sleep(lifetime * 2).await;
        let refused = other.run(&web3).await;
        let asked = other.request_abort("c", "svc", "ops").await;
        (refused, asked, std::time::Instant::now())
    });
    let Outcome::Failed(DeployError::Leased { .. }) = &refused.outcome else {
        panic!("the lease lapsed during the bake: {:?}", refused.outcome)
    };
    assert!(asked.unwrap().is_some(), "the lease was live for the abort");
    let Outcome::RolledBack(DeployError::Aborted { by }) = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert_eq!(by, "ops");
    let seen = seen.lock().unwrap().clone();
    let rolled_back_at = seen
        .iter()
        .position(|e| matches!(e, Event::RollingBack { .. }))
        .expect("rolling back");
    assert!(
        !seen[..rolled_back_at]
            .iter()
            .any(|e| matches!(e, Event::GatePassed { .. })),
        "the abort came before the bake's end and its gate: {seen:#?}"
    );
    assert!(
        asked_at.elapsed() < std::time::Duration::from_secs(3),
        "the rollback began within a poll or two of the request, not at the end of the bake"
    );
    assert_restored(&w, 4).await;
    check_log(&w.calls_since(from), true);
}

/// A tag that looks like a lease from the year 3 million (written by hand, or by a clock gone
/// wrong) neither holds the service for ever nor crashes the status or the run.
#[tokio::test]
async fn a_lease_tag_with_an_absurd_expiry_is_not_a_lease() {
    let w = World::new().await;
    w.service(2).await;
    let arn = w.described().await.service_arn.unwrap();
    w.ecs
        .tag_resource()
        .resource_arn(arn)
        .tags(ecs_deploy::lease::tag(
            "ecs-deploy:lease",
            "d-x someone 99999999999999999",
        ))
        .send()
        .await
        .unwrap();
    let status = w.deployer().status("c", "svc").await.unwrap();
    assert_eq!(status.lease, None);
    let _ = status.to_string();
    let report = w.deployer().run(&deployment("blue-green")).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
}

/// Two runs of one deployer (or of its clones) exclude each other as two deployers do.
#[tokio::test]
async fn two_runs_of_one_deployer_exclude_each_other() {
    let w = World::new().await;
    w.service(2).await;
    w.register_revision().await;
    let mut no_wait = World::timeouts();
    no_wait.lease_wait = std::time::Duration::ZERO;
    let deployer = w.deployer().timeouts(no_wait);
    let web2 = deployment("canary:50%,100ms");
    let web3 = ecs_deploy::Deployment::new("c", "svc", "web:3", "blue-green".parse().unwrap());
    let (a, b) = tokio::join!(deployer.run(&web2), async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        deployer.clone().run(&web3).await
    });
    assert!(matches!(a.outcome, Outcome::Succeeded), "{:?}", a.outcome);
    assert!(
        matches!(b.outcome, Outcome::Failed(DeployError::Leased { .. })),
        "{:?}",
        b.outcome
    );
    assert_deployed(&w, 2).await;
}

/// An interrupted deployment (its set ACTIVE at 50%) is superseded by the next one: a new
/// revision makes a new id, and the abandoned set is removed before the new one is created,
/// not left running beside it.
#[tokio::test]
async fn a_new_deployment_removes_the_set_an_interrupted_one_left() {
    let w = World::new().await;
    w.service(4).await;
    crash_with(w.deployer(), &deployment("linear:50%,1s"), |e| {
        matches!(
            e,
            Event::Settled {
                step: Some((1, _)),
                ..
            }
        )
    })
    .await;
    w.register_revision().await;
    let from = w.emulator.engine().calls().len();
    let by_family = ecs_deploy::Deployment::new("c", "svc", "web", "blue-green".parse().unwrap());
    let report = w.deployer().run(&by_family).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    assert!(w
        .events()
        .iter()
        .any(|e| matches!(e, Event::RemovedLeftover { .. })));
    let calls = w.calls_since(from);
    let removed = calls
        .iter()
        .position(|c| c.operation == "DeleteTaskSet")
        .unwrap();
    let created = calls
        .iter()
        .position(|c| c.operation == "CreateTaskSet")
        .unwrap();
    assert!(removed < created, "the abandoned set went first");
    // The abandoned set drains away; the service ends with web:3 alone.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_only_primary(&w, "web:3", 4).await;
}
