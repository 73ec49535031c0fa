//! The `ecs-deploy` program against the reference emulator: a progress line per step, the
//! exit codes (0 deployed, 3 rolled back, 2 usage), and the same request-log audit as the
//! library's scenarios.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Output;

use support::*;

/// `ecs-deploy` with test credentials and nothing else from the environment.
fn program() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ecs-deploy"));
    command
        .env_clear()
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "example-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

/// [`program`] pointed at the emulator's service `c/svc`.
fn against(w: &World) -> tokio::process::Command {
    let mut command = program();
    command.args([
        "--endpoint",
        &w.emulator.url(),
        "--cluster",
        "c",
        "--service",
        "svc",
    ]);
    command
}

async fn ecs_deploy(w: &World, args: &[&str]) -> Output {
    let mut command = against(w);
    command.args(args);
    for (flag, default) in [("--poll-interval", "50ms"), ("--step-timeout", "10s")] {
        if !args.contains(&flag) {
            command.args([flag, default]);
        }
    }
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

#[tokio::test]
async fn values_out_of_bounds_exit_2_before_any_call() {
    let w = World::new().await;
    for (args, why) in [
        (
            &["--task-definition", "web:2", "--poll-interval", "0"][..],
            "poll interval of 0s is shorter than 10ms",
        ),
        (
            &["--task-definition", "web:2", "--step-timeout", "100000h"][..],
            "step deadline of 11years",
        ),
        (
            &[
                "--task-definition",
                "web:2",
                "--strategy",
                "linear:0.0000001%,1m",
            ][..],
            "at least 1%",
        ),
    ] {
        let out = ecs_deploy(&w, args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(w.emulator.engine().calls().len(), 0, "nothing was called");
}

#[tokio::test]
async fn json_output_is_one_object_per_event_then_the_outcome() {
    let w = World::new().await;
    w.service(2).await;
    let out = ecs_deploy(
        &w,
        &[
            "--task-definition",
            "web",
            "--strategy",
            "canary:50%,10ms",
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"started"), "{kinds:?}");
    assert!(
        kinds.contains(&"settled") && kinds.contains(&"switched"),
        "{kinds:?}"
    );
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "finished");
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["exit_code"], 0);
    assert!(lines.iter().all(|l| l["time"].is_string()));
    let baking = lines.iter().find(|l| l["event"] == "baking").unwrap();
    assert_eq!(baking["duration"], 0.01);
    assert_eq!(
        lines[0]["deployment"], last["deployment"],
        "the id derived from the resolved revision, in both"
    );
}

/// Runs `ecs-deploy` until its stderr shows `line`, then sends it SIGTERM; answers its output.
async fn interrupted_at(w: &World, args: &[&str], line: &str) -> (Option<i32>, String) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut command = against(w);
    command
        .args(["--poll-interval", "50ms", "--lease-ttl", "1s"])
        .args(args)
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().unwrap();
    let pid = child.id().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    while let Some(l) = lines.next_line().await.unwrap() {
        seen.push_str(&l);
        seen.push('\n');
        if l.contains(line) {
            let killed = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .unwrap();
            assert!(killed.success());
            break;
        }
    }
    while let Some(l) = lines.next_line().await.unwrap() {
        seen.push_str(&l);
        seen.push('\n');
    }
    let status = child.wait().await.unwrap();
    (status.code(), seen)
}

#[tokio::test]
async fn sigterm_rolls_back_by_default() {
    let w = World::new().await;
    let from = w.service(4).await;
    let (code, text) = interrupted_at(
        &w,
        &["--task-definition", "web:2", "--strategy", "linear:25%,10s"],
        "step 1: baking",
    )
    .await;
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("interrupted (SIGTERM): rolling back"),
        "{text}"
    );
    assert!(text.contains("aborted by SIGTERM to ecs-deploy"), "{text}");
    assert_restored(&w, 4).await;
    check_log(&w.calls_since(from), true);
}

#[tokio::test]
async fn sigterm_with_leave_exits_130_and_the_same_command_resumes() {
    let w = World::new().await;
    let from = w.service(4).await;
    let args = [
        "--task-definition",
        "web:2",
        "--strategy",
        "linear:50%,300ms",
        "--on-interrupt",
        "leave",
    ];
    let (code, text) = interrupted_at(&w, &args, "step 1: baking").await;
    assert_eq!(code, Some(130), "{text}");
    assert!(text.contains("lease released"), "{text}");
    // No wait for a lapsed lease: the interrupted run released it.
    let out = ecs_deploy(&w, &args).await;
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("resuming"), "{text}");
    assert!(!text.contains("waiting: run"), "{text}");
    assert_deployed(&w, 4).await;
    assert_eq!(check_log(&w.calls_since(from), false).created, 1);
}

#[tokio::test]
async fn status_and_abort_from_another_terminal() {
    let w = World::new().await;
    w.service(4).await;
    let endpoint = w.emulator.url();
    let base = |cmd: &str| {
        // tokio's: the emulator answers on this test's runtime, which must not be blocked.
        let mut c = program();
        c.args([
            cmd,
            "--endpoint",
            &endpoint,
            "--cluster",
            "c",
            "--service",
            "svc",
        ])
        .env("USER", "ops");
        c
    };
    let deploying = tokio::spawn({
        let w_url = endpoint.clone();
        async move {
            program()
                .args(["--endpoint", &w_url, "--cluster", "c", "--service", "svc"])
                .args(["--task-definition", "web:2", "--strategy", "linear:25%,2s"])
                .args(["--poll-interval", "50ms"])
                .output()
                .await
                .unwrap()
        }
    });
    // Wait until the deployment holds the lease and its set exists.
    let mut shown = String::new();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let out = base("status").output().await.unwrap();
        shown = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
        if shown.contains("ACTIVE") && shown.contains("lease: deployment d-") {
            break;
        }
    }
    assert!(
        shown.contains("ACTIVE") && shown.contains(" deployment d-"),
        "{shown}"
    );
    let json = base("status")
        .args(["--output", "json"])
        .output()
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["lease"]["live"], true, "{json}");
    assert_eq!(json["task_sets"].as_array().unwrap().len(), 2, "{json}");

    let abort = base("abort")
        .args(["--poll-interval", "50ms"])
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&abort.stderr);
    assert_eq!(abort.status.code(), Some(0), "{said}");
    assert!(said.contains("is rolled back"), "{said}");
    let deployed = deploying.await.unwrap();
    assert_eq!(deployed.status.code(), Some(3), "{}", stderr(&deployed));
    assert!(
        stderr(&deployed).contains("aborted by ops@"),
        "{}",
        stderr(&deployed)
    );
    assert_restored(&w, 4).await;
    let after = base("status").output().await.unwrap();
    let after = String::from_utf8_lossy(&after.stdout);
    assert!(
        after.contains("lease: none") && after.contains("rolled back: aborted by ops@"),
        "{after}"
    );
}

/// SIGTERM while waiting for another run's lease: nothing was changed, so nothing is rolled
/// back; the program says so and exits 130.
#[tokio::test]
async fn sigterm_before_any_change_exits_130_and_changes_nothing() {
    let w = World::new().await;
    w.service(2).await;
    let holder = w.deployer();
    let web2 = deployment("blue-green:5s");
    let holding = tokio::spawn(async move { holder.run(&web2).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let from = w.emulator.engine().calls().len();
    let (code, text) = interrupted_at(
        &w,
        &[
            "--task-definition",
            "web:1",
            "--strategy",
            "blue-green",
            "--lease-wait",
            "1m",
        ],
        "waiting: run",
    )
    .await;
    assert_eq!(code, Some(130), "{text}");
    assert!(text.contains("before any change to the service"), "{text}");
    let calls = w.calls_since(from);
    assert!(
        !calls.iter().any(|c| c.operation == "CreateTaskSet"
            && c.input["taskDefinition"]
                .as_str()
                .unwrap_or("")
                .ends_with("web:1")),
        "the interrupted run created nothing"
    );
    holding.abort();
}

/// A health check given up on (its deadline passed) takes what it started with it: the gate
/// runs in its own process group, killed whole.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_health_check_past_its_deadline_is_killed_with_its_children() {
    let w = World::new().await;
    w.service(2).await;
    let pid_file = std::env::temp_dir().join(format!("ecs-deploy-gate-{}.pid", std::process::id()));
    let check = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
    let out = ecs_deploy(
        &w,
        &[
            "--task-definition",
            "web:2",
            "--strategy",
            "canary:50%,10ms",
            "--health-check",
            &check,
            "--health-check-timeout",
            "500ms",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no answer within 500ms"),
        "{}",
        stderr(&out)
    );
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let _ = std::fs::remove_file(&pid_file);
    // Killed, it may linger as a zombie until the init process reaps it: alive means a
    // process in any state but Z.
    let state = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
        .ok()
        .and_then(|stat| stat.rsplit(')').next().map(|rest| rest.trim().to_owned()));
    let alive = state.as_deref().is_some_and(|rest| !rest.starts_with('Z'));
    assert!(
        !alive,
        "the gate's `sleep 30` (pid {}) outlived it: {state:?}",
        pid.trim()
    );
    assert_restored(&w, 2).await;
}
