//! The emulator as a controller's test fixture: `Config::local`, the client's request
//! builders, injected faults and the call log, the way a team testing its own EXTERNAL
//! deployment controller would use them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ecs_client::{Config, EcsClient, Error};
use ecs_emulator::{Emulator, Fault, ManualClock, TimingProfile};
use ecs_model::types::*;

struct World {
    emulator: Emulator,
    clock: ManualClock,
    ecs: EcsClient,
}

impl World {
    async fn new() -> World {
        let clock = ManualClock::at_example_time();
        let emulator = Emulator::builder()
            .profile(TimingProfile::Fast, 1.0)
            .clock(clock.clone())
            .log_calls()
            .start()
            .await
            .unwrap();
        let ecs = EcsClient::new(Config::local(emulator.url()).unwrap()).unwrap();
        World {
            emulator,
            clock,
            ecs,
        }
    }

    /// Cluster `c`, task definition `web` and the EXTERNAL service `svc` of `desired` tasks.
    async fn service(&self, svc: &str, desired: i32) {
        let _ = self
            .ecs
            .create_cluster()
            .cluster_name("c")
            .send()
            .await
            .unwrap();
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
        self.ecs
            .create_service()
            .cluster("c")
            .service_name(svc)
            .desired_count(desired)
            .deployment_controller(DeploymentController::of(DeploymentControllerType::External))
            .send()
            .await
            .unwrap();
    }

    async fn create_set(&self, svc: &str, token: &str, percent: i32) -> TaskSet {
        self.ecs
            .create_task_set()
            .cluster("c")
            .service(svc)
            .task_definition("web")
            .client_token(token)
            .scale(Scale::percent(percent))
            .send()
            .await
            .unwrap()
            .task_set
            .unwrap()
    }

    /// The set's computedDesiredCount as DescribeTaskSets answers it now.
    async fn computed(&self, svc: &str, id: &str) -> Option<i32> {
        self.describe(svc, id).await.computed_desired_count
    }

    async fn describe(&self, svc: &str, id: &str) -> TaskSet {
        self.ecs
            .describe_task_sets()
            .cluster("c")
            .service(svc)
            .task_sets(id)
            .send()
            .await
            .unwrap()
            .task_sets
            .unwrap()
            .remove(0)
    }
}

#[tokio::test]
async fn retries_ride_over_throttling_5xx_and_dropped_connections_and_the_log_shows_it() {
    let w = World::new().await;
    w.service("svc", 4).await;
    let engine = w.emulator.engine();

    // A 5xx on CreateTaskSet: the client retries with the same client token, and one set exists.
    engine.inject(Fault::ServerError {
        operation: "CreateTaskSet".into(),
        times: 1,
    });
    let set = w.create_set("svc", "deploy-1-blue", 50).await;
    let id = set.id.clone().unwrap();
    let creates = engine.calls_of("CreateTaskSet");
    assert_eq!(creates.len(), 2, "one refused, one answered");
    assert_eq!(creates[0].answer.as_ref().unwrap_err().status, 500);
    assert!(creates[1].succeeded());
    assert!(creates
        .iter()
        .all(|c| c.input["clientToken"] == "deploy-1-blue"));

    // Throttled twice: the third UpdateTaskSet goes through.
    engine.inject(Fault::Throttle {
        operation: "UpdateTaskSet".into(),
        times: 2,
    });
    w.ecs
        .update_task_set()
        .cluster("c")
        .service("svc")
        .task_set(&id)
        .scale(Scale::percent(100))
        .send()
        .await
        .unwrap();
    let codes: Vec<Option<String>> = engine
        .calls_of("UpdateTaskSet")
        .iter()
        .map(|c| c.error_code().map(str::to_owned))
        .collect();
    assert_eq!(
        codes,
        [
            Some("ThrottlingException".to_owned()),
            Some("ThrottlingException".to_owned()),
            None
        ]
    );

    // A dropped connection on a read: the client asks again.
    engine.inject(Fault::DropConnection {
        operation: "DescribeTaskSets".into(),
        times: 1,
    });
    let seen = w.describe("svc", &id).await;
    assert_eq!(seen.id.as_deref(), Some(id.as_str()));
    let reads = engine.calls_of("DescribeTaskSets");
    assert_eq!(reads[0].answer.as_ref().unwrap_err().status, 0);
    assert!(reads[1].succeeded());

    // Without retries the dropped connection reaches the caller as a transport error.
    let no_retry = EcsClient::new(
        Config::local_builder(w.emulator.url())
            .retry(ecs_client::RetryConfig::disabled())
            .build()
            .unwrap(),
    )
    .unwrap();
    engine.inject(Fault::DropConnection {
        operation: "ListClusters".into(),
        times: 1,
    });
    let e = no_retry.list_clusters().send().await.unwrap_err();
    assert!(matches!(*e, Error::Transport { .. }), "{e}");
}

#[tokio::test]
async fn stuck_tasks_and_a_slow_recompute_hold_a_set_back_until_cleared() {
    let w = World::new().await;
    w.service("stuck", 2).await;
    let engine = w.emulator.engine();
    engine.inject(Fault::StuckTasks {
        service: "stuck".into(),
    });
    let id = w.create_set("stuck", "t1", 100).await.id.unwrap();
    w.clock.advance(Duration::from_secs(120));
    let set = w.describe("stuck", &id).await;
    assert_eq!(
        (
            set.computed_desired_count,
            set.pending_count,
            set.running_count
        ),
        (Some(2), Some(2), Some(0)),
        "the tasks never start"
    );
    assert_eq!(set.stability_status, Some(StabilityStatus::Stabilizing));
    engine.clear_faults();
    w.clock.advance(Duration::from_secs(5));
    let set = w.describe("stuck", &id).await;
    assert_eq!(set.stability_status, Some(StabilityStatus::SteadyState));

    engine.inject(Fault::SlowRecompute {
        delay: Duration::from_secs(30),
    });
    w.service("slow", 2).await;
    let id = w.create_set("slow", "t2", 100).await.id.unwrap();
    w.clock.advance(Duration::from_secs(20));
    assert_eq!(w.computed("slow", &id).await, Some(0));
    w.clock.advance(Duration::from_secs(15));
    assert_eq!(w.computed("slow", &id).await, Some(2));
}

/// The engine's own time moves on without its clock: a slow recompute is seen done as soon as
/// the engine is advanced past it, as a test on the system clock would skip ahead.
#[tokio::test]
async fn advancing_the_engine_applies_what_was_due_by_then() {
    let w = World::new().await;
    let engine = w.emulator.engine();
    engine.inject(Fault::SlowRecompute {
        delay: Duration::from_secs(300),
    });
    w.service("later", 4).await;
    let id = w.create_set("later", "t1", 50).await.id.unwrap();
    let before = engine.now();
    engine.advance(Duration::from_secs(299)).unwrap();
    assert_eq!(w.computed("later", &id).await, Some(0));
    engine.advance(Duration::from_secs(2)).unwrap();
    assert_eq!(w.computed("later", &id).await, Some(2));
    assert_eq!(
        engine.now().duration_since(before).unwrap(),
        Duration::from_secs(301),
        "the clock itself stood still"
    );
    let far = ecs_emulator::MAX_ADVANCE + Duration::from_secs(1);
    assert_eq!(
        engine.advance(far),
        Err(ecs_emulator::TimeError::Advance(far)),
        "past ten years ahead of the clock"
    );
}

/// A time scale set on a running engine stretches the delays of what is scheduled from then
/// on: at 1000 times the fast shape, a recompute due within 30 ms is not done after 1 s.
#[tokio::test]
async fn a_time_scale_stretches_what_is_scheduled_after_it() {
    let w = World::new().await;
    let engine = w.emulator.engine();
    w.service("slow", 2).await;
    assert!(engine.set_time_scale(0.0).is_err());
    assert!(engine.set_time_scale(f64::NAN).is_err());
    assert!(engine.set_time_scale(1e7).is_err());
    engine.set_time_scale(1000.0).unwrap();
    let id = w.create_set("slow", "t1", 100).await.id.unwrap();
    w.clock.advance(Duration::from_secs(1));
    assert_eq!(w.computed("slow", &id).await, Some(0));
    w.clock.advance(Duration::from_secs(30));
    assert_eq!(w.computed("slow", &id).await, Some(2));
    engine.set_time_scale(1.0).unwrap();
    let id = w.create_set("slow", "t2", 50).await.id.unwrap();
    w.clock.advance(Duration::from_millis(100));
    assert_eq!(
        w.computed("slow", &id).await,
        Some(1),
        "back at the built scale"
    );
}

/// A replica that stopped catching up: the first DescribeTaskSets after the fault is kept, and
/// the next two identical calls answer it again although the set was scaled in between;
/// the call after the two sees the change.
#[tokio::test]
async fn a_stale_read_answers_the_kept_answer_for_its_count_of_calls() {
    let w = World::new().await;
    w.service("svc", 4).await;
    let id = w.create_set("svc", "t1", 100).await.id.unwrap();
    w.emulator.engine().inject(Fault::StaleRead {
        operation: "DescribeTaskSets".into(),
        times: 2,
    });
    assert_eq!(
        w.describe("svc", &id).await.scale,
        Some(Scale::percent(100))
    );
    w.ecs
        .update_task_set()
        .cluster("c")
        .service("svc")
        .task_set(&id)
        .scale(Scale::percent(50))
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            w.describe("svc", &id).await.scale,
            Some(Scale::percent(100)),
            "the kept answer, from before the change"
        );
    }
    assert_eq!(w.describe("svc", &id).await.scale, Some(Scale::percent(50)));
    let calls = w.emulator.engine().calls_of("DescribeTaskSets");
    assert_eq!(calls.len(), 4, "stale answers are logged as answered");
    assert!(calls.iter().all(|c| c.succeeded()));
}

#[tokio::test]
async fn reset_empties_the_account_the_faults_and_the_log() {
    let w = World::new().await;
    w.service("svc", 1).await;
    let engine = w.emulator.engine();
    engine.inject(Fault::Throttle {
        operation: "DescribeClusters".into(),
        times: 5,
    });
    engine.reset();
    assert!(engine.calls().is_empty());
    let clusters = w
        .ecs
        .describe_clusters()
        .clusters("c")
        .send()
        .await
        .unwrap();
    assert_eq!(clusters.clusters, Some(vec![]), "the cluster is gone");
    assert_eq!(clusters.failures.map(|f| f.len()), Some(1));
    assert_eq!(engine.calls().len(), 1, "no throttling left: one call");
}

#[tokio::test]
async fn typed_in_process_calls_share_the_state_the_faults_and_the_log() {
    use ecs_model::errors::DescribeTaskSetsError;
    use ecs_model::operations;
    let w = World::new().await;
    w.service("svc", 2).await;
    let id = w.create_set("svc", "t1", 50).await.id.unwrap();
    let engine = w.emulator.engine();
    let input = DescribeTaskSetsRequest::builder()
        .cluster("c")
        .service("svc")
        .set_task_sets(Some(vec![id.clone()]))
        .build();
    let answer = engine.call::<operations::DescribeTaskSets>(&input).unwrap();
    assert_eq!(
        answer.task_sets.unwrap()[0].id.as_deref(),
        Some(id.as_str())
    );
    engine.inject(Fault::Throttle {
        operation: "DescribeTaskSets".into(),
        times: 1,
    });
    let refused = engine
        .call::<operations::DescribeTaskSets>(&input)
        .unwrap_err();
    assert!(matches!(
        refused.operation_error::<operations::DescribeTaskSets>(),
        DescribeTaskSetsError::Unhandled(_)
    ));
    assert_eq!(refused.code, "ThrottlingException");
    let missing = engine
        .call::<operations::DescribeTaskSets>(
            &DescribeTaskSetsRequestBuilder::from(input.clone())
                .cluster("nope")
                .build(),
        )
        .unwrap_err();
    assert_eq!(
        missing.operation_error::<operations::DescribeTaskSets>(),
        DescribeTaskSetsError::ClusterNotFoundException
    );
    let logged = engine.calls_of("DescribeTaskSets");
    assert_eq!(
        logged.len(),
        3,
        "in-process calls are logged as requests are"
    );
}
