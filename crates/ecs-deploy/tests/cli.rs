//! The `ecs-deploy` program against the reference emulator: a progress line per step, the
//! exit codes (0 deployed, 3 rolled back, 2 usage), and the same request-log audit as the
//! library's scenarios.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Output;

use support::*;

async fn ecs_deploy(w: &World, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ecs-deploy"));
    command
        .args([
            "--endpoint",
            &w.emulator.url(),
            "--cluster",
            "c",
            "--service",
            "svc",
        ])
        .args(["--poll-interval", "50ms", "--step-timeout", "10s"])
        .args(args)
        .env_clear()
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "example-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command.output().await.unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn deploys_with_a_line_per_step_and_exit_0() {
    let w = World::new().await;
    let from = w.service(4).await;
    let out = ecs_deploy(
        &w,
        &[
            "--task-definition",
            "web:2",
            "--strategy",
            "linear:50%,10ms",
            "--health-check",
            "test \"$ECS_DEPLOY_RUNNING\" = \"$ECS_DEPLOY_EXPECTED\"",
        ],
    )
    .await;
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for line in [
        "step 1/2: ecs-svc/",
        "settled at 50%: computed 2/2 running 2 pending 0 STEADY_STATE",
        "health gate passed at step 1/2 (50%)",
        "step 2/2: ecs-svc/",
        "is the primary task set",
        "deployed: ecs-svc/",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(
        !text.contains("not recomputed yet"),
        "waiting lines only with --verbose:\n{text}"
    );
    let calls = w.calls_since(from);
    assert_deployed(&w, 4).await;
    assert_eq!(check_log(&calls, false).created, 1);
}

#[tokio::test]
async fn a_failing_health_check_rolls_back_with_exit_3() {
    let w = World::new().await;
    let from = w.service(2).await;
    let out = ecs_deploy(
        &w,
        &[
            "--task-definition",
            "web:2",
            "--strategy",
            "canary:50%,10ms",
            "--health-check",
            "echo \"alarm at $ECS_DEPLOY_PERCENT%\" >&2; exit 1",
        ],
    )
    .await;
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("rolled back"), "{text}");
    assert!(text.contains("alarm at 50%"), "{text}");
    let calls = w.calls_since(from);
    assert_restored(&w, 2).await;
    check_log(&calls, true);
}

#[tokio::test]
async fn bad_arguments_exit_2_naming_the_problem() {
    let w = World::new().await;
    let out = ecs_deploy(
        &w,
        &["--task-definition", "web:2", "--strategy", "canary:150%,1m"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("at most 100%"), "{}", stderr(&out));
    let out = ecs_deploy(
        &w,
        &["--task-definition", "web:2", "--deployment-id", "has space"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("deployment id"), "{}", stderr(&out));
}
