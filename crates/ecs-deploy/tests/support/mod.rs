//! The world the scenarios run in: the reference emulator in AWS's timing shape at a time
//! scale of 1/100, an EXTERNAL service already running `web:1`, and the checks every scenario
//! makes on the request log.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use ecs_client::{Config, EcsClient};
use ecs_deploy::{Deployer, Deployment, Event, Outcome, Timeouts};
use ecs_emulator::{Emulator, LoggedCall, TimingProfile};
use ecs_model::types::*;
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;

/// AWS's delays, a hundred times faster: a step settles in 0.2 to 0.4 s.
pub const TIME_SCALE: f64 = 0.01;

pub struct World {
    pub emulator: Emulator,
    pub ecs: EcsClient,
    pub events: Arc<Mutex<Vec<Event>>>,
}

impl World {
    pub async fn new() -> World {
        let emulator = Emulator::builder()
            .profile(TimingProfile::Aws, TIME_SCALE)
            .log_calls()
            .start()
            .await
            .unwrap();
        let ecs = EcsClient::new(Config::local(emulator.url()).unwrap()).unwrap();
        World {
            emulator,
            ecs,
            events: Arc::default(),
        }
    }

    /// The deadlines of AWS scaled as the emulator's time is.
    pub fn timeouts() -> Timeouts {
        Timeouts::default().scaled(TIME_SCALE)
    }

    /// A deployer that records its events in `self.events`.
    pub fn deployer(&self) -> Deployer {
        let events = self.events.clone();
        Deployer::new(self.ecs.clone())
            .timeouts(Self::timeouts())
            .on_event(move |e| events.lock().unwrap().push(e.clone()))
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    /// Cluster `c`, task definitions `web:1` and `web:2`, and the EXTERNAL service `svc` of
    /// `desired` tasks running `web:1` in a primary task set (put there by a blue/green
    /// deployment, the first-deployment path). Answers the log position after it.
    pub async fn service(&self, desired: i32) -> usize {
        self.ecs
            .create_cluster()
            .cluster_name("c")
            .send()
            .await
            .unwrap();
        for _ in 0..2 {
            self.register_revision().await;
        }
        self.ecs
            .create_service()
            .cluster("c")
            .service_name("svc")
            .desired_count(desired)
            .deployment_controller(DeploymentController::of(DeploymentControllerType::External))
            .send()
            .await
            .unwrap();
        let first = Deployment::new("c", "svc", "web:1", "blue-green".parse().unwrap());
        let report = Deployer::new(self.ecs.clone())
            .timeouts(Self::timeouts())
            .run(&first)
            .await;
        assert!(
            matches!(report.outcome, Outcome::Succeeded),
            "{:?}",
            report.outcome
        );
        self.emulator.engine().calls().len()
    }

    /// `c/svc` as DescribeServices shows it, tags included.
    pub async fn described(&self) -> Service {
        self.ecs
            .describe_services()
            .cluster("c")
            .services("svc")
            .include(ServiceField::Tags)
            .send()
            .await
            .unwrap()
            .services
            .unwrap()
            .remove(0)
    }

    pub async fn task_sets(&self) -> Vec<TaskSet> {
        self.described().await.task_sets.unwrap_or_default()
    }

    /// Registers one more revision of `web` (`web:3` after [`World::service`], which registers
    /// `web:1` and `web:2` with it).
    pub async fn register_revision(&self) {
        self.ecs
            .register_task_definition()
            .family("web")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("web")
                    .image("public.ecr.aws/nginx/nginx:1.27")
                    .memory(128)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    /// The service's tags.
    pub async fn service_tags(&self) -> Vec<Tag> {
        self.described().await.tags.unwrap_or_default()
    }

    /// The calls made since `from`.
    pub fn calls_since(&self, from: usize) -> Vec<LoggedCall> {
        self.emulator.engine().calls().split_off(from)
    }
}

/// The deployment under test: `web:2` onto `svc`.
pub fn deployment(strategy: &str) -> Deployment {
    Deployment::new("c", "svc", "web:2", strategy.parse().unwrap())
}

/// The service ends with one task set: PRIMARY, `web:2`, at 100%, all tasks running.
pub async fn assert_deployed(w: &World, desired: i32) {
    assert_only_primary(w, "web:2", desired).await
}

/// The service ends as it began: one task set, PRIMARY, `web:1`, at 100%, steady.
pub async fn assert_restored(w: &World, desired: i32) {
    assert_only_primary(w, "web:1", desired).await
}

/// The service ends with one task set: PRIMARY, `task_definition`, at 100%, all running.
pub async fn assert_only_primary(w: &World, task_definition: &str, desired: i32) {
    let sets = w.task_sets().await;
    assert_eq!(sets.len(), 1, "{sets:#?}");
    let s = &sets[0];
    assert_eq!(s.status, Some(TaskSetStatus::Primary));
    assert!(s
        .task_definition
        .as_deref()
        .unwrap()
        .ends_with(task_definition));
    assert_eq!(s.scale, Some(Scale::percent(100)));
    assert_eq!(s.running_count, Some(desired));
    assert_eq!(s.stability_status, Some(StabilityStatus::SteadyState));
}

fn set_id(input: &Value, member: &str) -> String {
    let v = input[member].as_str().unwrap_or_default();
    v.rsplit('/')
        .next()
        .map(|last| format!("ecs-svc/{last}"))
        .unwrap_or_default()
}

fn percent(v: &Value) -> Option<rust_decimal::Decimal> {
    v["scale"]["value"]
        .as_f64()
        .and_then(rust_decimal::Decimal::from_f64_retain)
        .map(|d| d.round_dp(6).normalize())
}

/// What the log shows of one deployment, checked against the controller's promises:
///
/// - every CreateTaskSet carries a client token, always the same one, and at most one task
///   set was created (however often the call was made);
/// - every decision to move on (UpdateTaskSet of the new set to its next step,
///   UpdateServicePrimaryTaskSet to it, DeleteTaskSet of the old set) follows a successful
///   DescribeServices whose answer showed the set concerned settled at the scale last asked
///   for: `computedDesiredCount` = ceil(desiredCount x scale / 100), computed here
///   independently, that many running, none pending, STEADY_STATE.
///
/// Answers the number of task sets created and how many DescribeServices answers showed a
/// count that was not settled yet (proof that the controller met them and waited); panics
/// with the first broken promise.
pub fn check_log(calls: &[LoggedCall], rolled_back: bool) -> LogSummary {
    audit_log(calls, rolled_back).unwrap_or_else(|broken| panic!("{broken}"))
}

/// [`check_log`], answering the first broken promise instead of panicking.
pub fn audit_log(calls: &[LoggedCall], rolled_back: bool) -> Result<LogSummary, String> {
    let mut tokens = BTreeSet::new();
    let mut created = BTreeSet::new();
    let mut last_asked: BTreeMap<String, rust_decimal::Decimal> = BTreeMap::new();
    let mut new_set: Option<String> = None;
    let mut last_view: Option<Value> = None;
    let mut unsettled_seen = 0;
    let mut rolling_back = false;
    for call in calls {
        let ok = call.answer.as_ref().ok();
        match call.operation.as_str() {
            "CreateTaskSet" => {
                let Some(token) = call.input["clientToken"].as_str() else {
                    return Err(format!(
                        "CreateTaskSet without a client token: {}",
                        call.input
                    ));
                };
                tokens.insert(token.to_owned());
                if let Some(answer) = ok {
                    let id = answer["taskSet"]["id"].as_str().unwrap().to_owned();
                    created.insert(id.clone());
                    last_asked.insert(id.clone(), percent(&call.input).unwrap());
                    new_set = Some(id);
                }
            }
            "DescribeServices" => {
                if let Some(answer) = ok {
                    let svc = &answer["services"][0];
                    for set in svc["taskSets"].as_array().into_iter().flatten() {
                        let id = set["id"].as_str().unwrap_or_default();
                        if let Some(asked) = last_asked.get(id) {
                            if !settled_at(svc, set, *asked) {
                                unsettled_seen += 1;
                            }
                        }
                    }
                    last_view = Some(svc.clone());
                }
            }
            "UpdateTaskSet" | "UpdateServicePrimaryTaskSet" | "DeleteTaskSet" => {
                let member = if call.operation == "UpdateServicePrimaryTaskSet" {
                    "primaryTaskSet"
                } else {
                    "taskSet"
                };
                let id = set_id(&call.input, member);
                let ours = new_set.as_deref() == Some(id.as_str());
                // The rollback's calls: the old set made primary again, the new set deleted.
                if (call.operation == "UpdateServicePrimaryTaskSet" && !ours)
                    || (call.operation == "DeleteTaskSet" && ours)
                {
                    if !rolled_back {
                        return Err(format!(
                            "a rollback call in a deployment that should not roll back: {}",
                            call.input
                        ));
                    }
                    rolling_back = true;
                }
                let decision = !rolling_back
                    && match call.operation.as_str() {
                        // Moving the new set on from a settled step (the first scale-down of
                        // the old set follows the switch, which follows a settled 100%).
                        "UpdateTaskSet" => ours,
                        "UpdateServicePrimaryTaskSet" => ours,
                        // Deleting the retired old set (not a leftover never scaled here).
                        _ => !ours && last_asked.contains_key(&id),
                    };
                if decision {
                    let op = &call.operation;
                    let view = last_view
                        .as_ref()
                        .ok_or_else(|| format!("{op} before any DescribeServices"))?;
                    let set = view["taskSets"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|s| s["id"] == id.as_str())
                        .ok_or_else(|| format!("{id} not in the last view before {op}"))?;
                    let asked = *last_asked
                        .get(&id)
                        .ok_or_else(|| format!("no scale asked of {id}"))?;
                    if !settled_at(view, set, asked) {
                        return Err(format!(
                            "{op} of {id} decided on an unsettled answer (asked {asked}%): {set}"
                        ));
                    }
                }
                if ok.is_some() && call.operation == "UpdateTaskSet" {
                    last_asked.insert(id, percent(&call.input).unwrap());
                }
            }
            _ => {}
        }
    }
    if tokens.len() > 1 {
        return Err(format!("several client tokens: {tokens:?}"));
    }
    if created.len() > 1 {
        return Err(format!("several task sets created: {created:?}"));
    }
    Ok(LogSummary {
        created: created.len(),
        unsettled_seen,
    })
}

#[derive(Debug)]
pub struct LogSummary {
    pub created: usize,
    pub unsettled_seen: usize,
}

fn settled_at(svc: &Value, set: &Value, asked: rust_decimal::Decimal) -> bool {
    let desired = svc["desiredCount"].as_i64().unwrap();
    let expected = (rust_decimal::Decimal::from(desired) * asked
        / rust_decimal::Decimal::ONE_HUNDRED)
        .ceil()
        .to_i64()
        .unwrap();
    percent(set) == Some(asked)
        && set["computedDesiredCount"].as_i64() == Some(expected)
        && set["runningCount"].as_i64() == Some(expected)
        && set["pendingCount"].as_i64() == Some(0)
        && set["stabilityStatus"] == "STEADY_STATE"
}

/// One line on what a scenario's deployment did (`cargo test -p ecs-deploy -- --nocapture`
/// shows them): outcome, wall time, the controller's calls, the requests the emulator
/// received by operation (refused ones after a slash).
pub fn summary(name: &str, report: &ecs_deploy::Report, calls: &[LoggedCall]) {
    let outcome = match &report.outcome {
        Outcome::Succeeded => "succeeded".to_owned(),
        Outcome::RolledBack(why) => format!("rolled back ({why})"),
        Outcome::Failed(why) => format!("failed ({why})"),
    };
    let mut by_op: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for c in calls {
        let e = by_op.entry(c.operation.as_str()).or_default();
        if c.succeeded() {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    let ops: Vec<String> = by_op
        .iter()
        .map(|(op, (ok, bad))| {
            if *bad > 0 {
                format!("{op} {ok}/{bad}")
            } else {
                format!("{op} {ok}")
            }
        })
        .collect();
    eprintln!(
        "[{name}] {outcome} in {:.2} s; {} calls by the controller, {} requests: {}",
        report.elapsed.as_secs_f64(),
        report.api_calls,
        calls.len(),
        ops.join(", ")
    );
}

/// Counts of an operation in the log, by answer: (succeeded, failed).
pub fn count(calls: &[LoggedCall], operation: &str) -> (usize, usize) {
    let of: Vec<_> = calls.iter().filter(|c| c.operation == operation).collect();
    let ok = of.iter().filter(|c| c.succeeded()).count();
    (ok, of.len() - ok)
}
