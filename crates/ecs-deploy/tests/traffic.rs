//! ecs-deploy shifting traffic through ELBv2 against the reference emulator (AWS's timing
//! shape at 1/100): an application load balancer whose listener forwards to the old set's
//! target group `blue` and the new set's `green`. Each scenario asserts on the request log:
//! the weights each ModifyListener sent, in order, and that every shift followed a
//! DescribeTargetHealth answer showing the new set's targets all healthy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/balancer.rs"]
mod balancer;
mod support;

use std::sync::{Arc, Mutex};

use balancer::{behind_a_balancer, weights_of, Balancer, Health};
use ecs_deploy::{DeployError, Deployment, Event, Outcome, Traffic};
use ecs_emulator::LoggedCall;
use ecs_model::elbv2::operations::*;
use ecs_model::elbv2::types::DescribeListenersInput;
use support::*;

/// The balancer in the fast health settings, and the log position after it all settled.
async fn balanced(w: &World, desired: i32) -> (Balancer, usize) {
    let b = behind_a_balancer(&w.ecs, "c", desired, Health::FAST).await;
    (b, w.emulator.engine().calls().len())
}

async fn healthy(w: &World, group: &str) -> usize {
    balancer::healthy(&w.ecs, group).await
}

/// The weights a listener forwards with now: (blue, green).
async fn weights_now(w: &World, b: &Balancer, listener: &str) -> (i32, i32) {
    let l = w
        .ecs
        .elbv2()
        .send::<DescribeListeners>(
            DescribeListenersInput::builder()
                .set_listener_arns(Some(vec![listener.into()]))
                .build(),
        )
        .await
        .unwrap()
        .listeners
        .unwrap()
        .remove(0);
    weights_of(b, l.default_actions.as_deref().unwrap_or_default())
}

/// Each successful ModifyListener in the log: its index, the listener, and (blue, green).
fn shifts(b: &Balancer, calls: &[LoggedCall]) -> Vec<(usize, String, (i32, i32))> {
    calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.succeeded())
        .filter_map(|(i, c)| {
            let input = c.elbv2_input::<ModifyListener>()?;
            Some((
                i,
                input.listener_arn.unwrap(),
                weights_of(b, &input.default_actions.unwrap()),
            ))
        })
        .collect()
}

/// Asserts that the shift at `index` followed a DescribeTargetHealth of green that showed at
/// least `expected` targets, all healthy.
fn assert_healthy_before(calls: &[LoggedCall], b: &Balancer, index: usize, expected: usize) {
    let last = calls[..index]
        .iter()
        .rev()
        .find_map(|c| {
            let input = c.elbv2_input::<DescribeTargetHealth>()?;
            (input.target_group_arn.as_deref() == Some(b.green.as_str()))
                .then(|| c.elbv2_output::<DescribeTargetHealth>())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no DescribeTargetHealth of green before call {index}"));
    let states: Vec<String> = last
        .target_health_descriptions
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| d.target_health.and_then(|h| h.state))
        .collect();
    assert!(
        states.len() >= expected && states.iter().all(|s| s == "healthy"),
        "the shift at call {index} followed {states:?}, not {expected} healthy targets"
    );
}

/// What a gate saw: where it was asked, production's and the test listener's (blue, green).
type GateSaw = (String, (i32, i32), (i32, i32));

fn traffic(b: &Balancer) -> Traffic {
    Traffic::through(b.listener.clone())
}

/// The end of a deployment: web:2 serves alone, listener at 0/100, green holds `desired`
/// healthy targets.
async fn assert_serving_green(w: &World, b: &Balancer, desired: i32) {
    assert_deployed(w, desired).await;
    assert_eq!(weights_now(w, b, &b.listener).await, (0, 100));
    assert_eq!(
        healthy(w, &b.green).await,
        usize::try_from(desired).unwrap()
    );
    assert_eq!(
        healthy(w, &b.blue).await,
        0,
        "the old set's targets drained"
    );
}

/// Deploys web:2 with `strategy` and traffic onto a balanced service of `desired` tasks; it
/// must succeed, and its request log passes [`check_log`]. Answers the balancer and the log.
async fn deployed(
    w: &World,
    desired: i32,
    strategy: &str,
    name: &str,
) -> (Balancer, Vec<LoggedCall>) {
    let (b, from) = balanced(w, desired).await;
    let d = deployment(strategy).with_traffic(traffic(&b));
    let report = w.deployer().run(&d).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    let calls = w.calls_since(from);
    summary(name, &report, &calls);
    check_log(&calls, false);
    (b, calls)
}

#[tokio::test]
async fn a_canary_forwards_ten_then_all_each_after_the_new_targets_are_healthy() {
    let w = World::new().await;
    let (b, calls) = deployed(&w, 10, "canary:10%,20ms", "canary 10% with traffic").await;
    let create = calls
        .iter()
        .find(|c| c.operation == "CreateTaskSet")
        .unwrap();
    assert_eq!(
        create.input["loadBalancers"][0]["targetGroupArn"], b.green,
        "the new set has its own target group"
    );
    let shifted = shifts(&b, &calls);
    let weights: Vec<(i32, i32)> = shifted.iter().map(|s| s.2).collect();
    assert_eq!(weights, [(90, 10), (0, 100)]);
    assert!(shifted.iter().all(|s| s.1 == b.listener));
    assert_healthy_before(&calls, &b, shifted[0].0, 1);
    assert_healthy_before(&calls, &b, shifted[1].0, 10);
    let switch = calls
        .iter()
        .position(|c| c.operation == "UpdateServicePrimaryTaskSet")
        .unwrap();
    assert!(
        shifted[1].0 < switch,
        "all traffic on the new set before the switch"
    );
    assert_serving_green(&w, &b, 10).await;
}

#[tokio::test]
async fn linear_twenty_percent_forwards_each_step_after_its_targets_are_healthy() {
    let w = World::new().await;
    let (b, calls) = deployed(&w, 10, "linear:20%,10ms", "linear 20% with traffic").await;
    let shifted = shifts(&b, &calls);
    let green: Vec<i32> = shifted.iter().map(|s| s.2 .1).collect();
    assert_eq!(green, [20, 40, 60, 80, 100]);
    assert!(shifted.iter().all(|s| s.2 .0 + s.2 .1 == 100));
    for (step, shift) in shifted.iter().enumerate() {
        assert_healthy_before(&calls, &b, shift.0, 2 * (step + 1));
    }
    // Each shift came after the step's scale change, never before.
    let scales: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.operation == "UpdateTaskSet" && c.succeeded())
        .map(|(i, _)| i)
        .collect();
    for (k, shift) in shifted.iter().enumerate().skip(1).take(4) {
        assert!(
            scales[k - 1] < shift.0,
            "step {} shifted before it scaled",
            k + 1
        );
    }
    assert_serving_green(&w, &b, 10).await;
}

#[tokio::test]
async fn blue_green_opens_the_test_listener_for_the_gate_then_production() {
    let w = World::new().await;
    let (b, from) = balanced(&w, 4).await;
    let seen: Arc<Mutex<Vec<GateSaw>>> = Arc::default();
    let (ecs, listeners) = (w.ecs.clone(), (b.listener.clone(), b.test_listener.clone()));
    let (blue, green) = (b.blue.clone(), b.green.clone());
    let record = seen.clone();
    let deployer = w.deployer().health_gate(move |cx| {
        let (ecs, listeners, record) = (ecs.clone(), listeners.clone(), record.clone());
        let b = Balancer {
            listener: listeners.0.clone(),
            test_listener: listeners.1.clone(),
            blue: blue.clone(),
            green: green.clone(),
        };
        async move {
            let mut now = vec![];
            for l in [&listeners.0, &listeners.1] {
                let found = ecs
                    .elbv2()
                    .send::<DescribeListeners>(
                        DescribeListenersInput::builder()
                            .set_listener_arns(Some(vec![l.clone()]))
                            .build(),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let actions = found
                    .listeners
                    .unwrap_or_default()
                    .remove(0)
                    .default_actions;
                now.push(weights_of(&b, actions.as_deref().unwrap_or_default()));
            }
            record.lock().unwrap().push((cx.at, now[0], now[1]));
            Ok(())
        }
    });
    let d = deployment("blue-green").with_traffic(Traffic {
        test_listener: Some(b.test_listener.clone()),
        ..traffic(&b)
    });
    let report = deployer.run(&d).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    let calls = w.calls_since(from);
    summary("blue/green through a test listener", &report, &calls);
    check_log(&calls, false);
    let shifted = shifts(&b, &calls);
    assert_eq!(
        shifted
            .iter()
            .map(|s| (s.1.clone(), s.2))
            .collect::<Vec<_>>(),
        [
            (b.test_listener.clone(), (0, 100)),
            (b.listener.clone(), (0, 100))
        ],
        "the test listener first, production after the gate"
    );
    assert_healthy_before(&calls, &b, shifted[0].0, 4);
    let gates = seen.lock().unwrap().clone();
    assert_eq!(
        gates,
        [
            ("at step 1/1 (100%)".to_owned(), (100, 0), (0, 100)),
            ("after the switch".to_owned(), (0, 100), (0, 100)),
        ],
        "the gate tried the new set through the test listener while production stayed on the old"
    );
    assert_serving_green(&w, &b, 4).await;
}

#[tokio::test]
async fn a_refused_gate_puts_the_weights_back_before_any_capacity_change() {
    let w = World::new().await;
    let (b, from) = balanced(&w, 4).await;
    let d = deployment("canary:50%,10ms").with_traffic(traffic(&b));
    let report = w
        .deployer()
        .health_gate(|_| async { Err("p99 latency above 300 ms".into()) })
        .run(&d)
        .await;
    let Outcome::RolledBack(DeployError::Gate { reason, .. }) = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert_eq!(reason, "p99 latency above 300 ms");
    let calls = w.calls_since(from);
    summary("canary 50% refused, with traffic", &report, &calls);
    check_log(&calls, true);
    let shifted = shifts(&b, &calls);
    let weights: Vec<(i32, i32)> = shifted.iter().map(|s| s.2).collect();
    assert_eq!(weights, [(50, 50), (100, 0)], "shifted, then put back");
    let restore = shifted[1].0;
    let capacity = [
        "UpdateTaskSet",
        "DeleteTaskSet",
        "UpdateServicePrimaryTaskSet",
    ];
    let first_capacity_change = calls
        .iter()
        .enumerate()
        .skip(shifted[0].0)
        .find(|(_, c)| capacity.contains(&c.operation.as_str()) && c.succeeded())
        .map(|(i, _)| i)
        .unwrap();
    assert!(
        restore < first_capacity_change,
        "the weights were restored (call {restore}) before capacity changed (call {first_capacity_change})"
    );
    assert!(w.events().iter().any(|e| matches!(
        e,
        Event::TrafficRestored {
            old_weight: 100,
            new_weight: 0,
            ..
        }
    )));
    assert_restored(&w, 4).await;
    assert_eq!(weights_now(&w, &b, &b.listener).await, (100, 0));
    assert_eq!(healthy(&w, &b.blue).await, 4);
}

#[tokio::test]
async fn a_listener_that_forwards_elsewhere_fails_before_any_change() {
    let w = World::new().await;
    let (b, from) = balanced(&w, 2).await;
    let d: Deployment = deployment("canary:50%,10ms").with_traffic(Traffic {
        old_target_group: Some(b.green.clone()),
        target_group: Some(b.green.clone()),
        ..traffic(&b)
    });
    let report = w.deployer().run(&d).await;
    let Outcome::Failed(DeployError::Traffic { what }) = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert!(what.contains("a target group of its own"), "{what}");
    let calls = w.calls_since(from);
    assert!(
        !calls.iter().any(|c| [
            "CreateTaskSet",
            "UpdateTaskSet",
            "ModifyListener",
            "ModifyRule"
        ]
        .contains(&c.operation.as_str())),
        "nothing changed"
    );
}

#[tokio::test]
async fn a_crash_with_traffic_half_shifted_or_the_old_set_retired_is_resumed() {
    type CrashPoint = fn(&Event) -> bool;
    let points: [(&str, CrashPoint); 2] = [
        ("after the first shift", |e| {
            matches!(e, Event::Shifted { new_weight: 50, .. })
        }),
        ("with the old set DRAINING", |e| {
            matches!(e, Event::Deleted { .. })
        }),
    ];
    for (name, point) in points {
        let w = World::new().await;
        let (b, from) = balanced(&w, 4).await;
        let d = deployment("linear:50%,10ms").with_traffic(traffic(&b));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let crashing = w.deployer().on_event(move |e| {
            if point(e) {
                let _ = tx.send(());
            }
        });
        tokio::select! {
            report = crashing.run(&d) => panic!("{name}: finished before the crash: {:?}", report.outcome),
            _ = rx.recv() => {}
        }
        let report = w.deployer().run(&d).await;
        assert!(
            matches!(report.outcome, Outcome::Succeeded),
            "{name}: {:?}",
            report.outcome
        );
        let calls = w.calls_since(from);
        summary(
            &format!("traffic: crash {name}, then resume"),
            &report,
            &calls,
        );
        assert_eq!(check_log(&calls, false).created, 1, "{name}");
        let green: Vec<i32> = shifts(&b, &calls).iter().map(|s| s.2 .1).collect();
        assert_eq!(green.last(), Some(&100), "{name}: {green:?}");
        assert_serving_green(&w, &b, 4).await;
    }
}

/// Runs `d` until an event matches `crash_at`, then drops it, as a killed process stops.
async fn crash(w: &World, d: &Deployment, crash_at: fn(&Event) -> bool) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let crashing = w.deployer().on_event(move |e| {
        if crash_at(e) {
            let _ = tx.send(());
        }
    });
    tokio::select! {
        report = crashing.run(d) => panic!("finished before the crash: {:?}", report.outcome),
        _ = rx.recv() => {}
    }
}

#[tokio::test]
async fn an_abort_without_the_traffic_options_still_puts_the_weights_back() {
    let w = World::new().await;
    let (b, from) = balanced(&w, 4).await;
    let d = deployment("linear:50%,10ms").with_traffic(traffic(&b));
    crash(&w, &d, |e| {
        matches!(e, Event::Shifted { new_weight: 50, .. })
    })
    .await;
    assert_eq!(weights_now(&w, &b, &b.listener).await, (50, 50));
    // `ecs-deploy abort` knows the deployment, not the listener: the new set's tags name it.
    let report = w
        .deployer()
        .roll_back(&deployment("linear:50%,10ms"), "ops")
        .await;
    assert!(
        matches!(report.outcome, Outcome::RolledBack(_)),
        "{:?}",
        report.outcome
    );
    let calls = w.calls_since(from);
    summary("traffic: crashed at 50/50, then aborted", &report, &calls);
    let shifted = shifts(&b, &calls);
    let weights: Vec<(i32, i32)> = shifted.iter().map(|s| s.2).collect();
    assert_eq!(weights, [(50, 50), (100, 0)]);
    let delete = calls
        .iter()
        .position(|c| c.operation == "DeleteTaskSet")
        .unwrap();
    assert!(
        shifted[1].0 < delete,
        "the weights back before the new set goes"
    );
    assert_restored(&w, 4).await;
}

#[tokio::test]
async fn a_new_deployment_takes_back_the_weight_an_interrupted_one_left() {
    let w = World::new().await;
    let (b, from) = balanced(&w, 4).await;
    let first = deployment("linear:50%,10ms").with_traffic(traffic(&b));
    crash(&w, &first, |e| {
        matches!(e, Event::Shifted { new_weight: 50, .. })
    })
    .await;
    // Another deployment (another id) after the first run's lease lapsed.
    let second =
        ecs_deploy::Deployment::new("c", "svc", "web:2", "canary:50%,10ms".parse().unwrap())
            .with_traffic(traffic(&b));
    let report = w
        .deployer()
        .health_gate(|_| async { Err("error budget spent".into()) })
        .run(&second)
        .await;
    assert!(
        matches!(report.outcome, Outcome::RolledBack(_)),
        "{:?}",
        report.outcome
    );
    let calls = w.calls_since(from);
    let weights: Vec<(i32, i32)> = shifts(&b, &calls).iter().map(|s| s.2).collect();
    assert_eq!(
        weights,
        [(50, 50), (100, 0), (50, 50), (100, 0)],
        "the first run's 50/50, taken back before its set was removed; the second run's, put back to all-old"
    );
    assert_restored(&w, 4).await;
    assert_eq!(weights_now(&w, &b, &b.listener).await, (100, 0));
}

#[tokio::test]
async fn a_resume_after_the_old_set_is_gone_finds_the_groups_without_it() {
    let w = World::new().await;
    let (b, from) = balanced(&w, 4).await;
    let d = deployment("canary:50%,10ms").with_traffic(traffic(&b));
    crash(&w, &d, |e| matches!(e, Event::Gone { .. })).await;
    let report = w.deployer().run(&d).await;
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    let calls = w.calls_since(from);
    assert_eq!(check_log(&calls, false).created, 1);
    assert_serving_green(&w, &b, 4).await;
}

#[tokio::test]
async fn a_listener_that_forwards_to_neither_group_fails_before_any_change() {
    let w = World::new().await;
    let (b, from) = balanced(&w, 2).await;
    let group = |name: &str| {
        format!("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{name}/0123456789abcdef")
    };
    let (one, two) = (group("one"), group("two"));
    let refused = |old: &str, new: &str| {
        let d = deployment("canary:50%,10ms").with_traffic(Traffic {
            old_target_group: Some(old.into()),
            target_group: Some(new.into()),
            ..traffic(&b)
        });
        let deployer = w.deployer();
        async move {
            match deployer.run(&d).await.outcome {
                Outcome::Failed(DeployError::Traffic { what }) => what,
                other => panic!("{other:?}"),
            }
        }
    };
    assert_eq!(
        refused(&one, &two).await,
        format!("{} forwards to neither {one} nor {two}", b.listener)
    );
    assert_eq!(
        refused(&one, &b.green).await,
        format!(
            "{} does not forward to the old group {one}, so no traffic can move from it",
            b.listener
        )
    );
    let calls = w.calls_since(from);
    assert!(!calls.iter().any(|c| [
        "CreateTaskSet",
        "UpdateTaskSet",
        "ModifyListener",
        "ModifyRule"
    ]
    .contains(&c.operation.as_str())));
}
