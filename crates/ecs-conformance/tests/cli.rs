//! The installed program as a user meets it: started in a directory that is not a checkout,
//! with nothing but what it embeds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn elsewhere(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ecs-conformance-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn tool(dir: &PathBuf) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecs-conformance"));
    cmd.current_dir(dir);
    cmd
}

#[test]
fn runs_the_embedded_suite_outside_a_checkout() {
    let dir = elsewhere("run");
    let report = dir.join("report.json");
    let out = tool(&dir)
        .args([
            "run",
            "--timing",
            "instant",
            "--filter",
            "tag:rounding",
            "--out",
        ])
        .arg(&report)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    let passed = report["totals"]["passed"].as_u64().expect("passed");
    assert!(passed >= 80, "{passed} rounding cases passed");
    assert_eq!(
        report["cases"].as_array().map(Vec::len),
        Some(passed as usize)
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

/// A run that skips says so before its first case, and `--strict` makes the skip a failure.
#[test]
fn skipped_cases_are_announced_first_and_fail_a_strict_run() {
    let dir = elsewhere("strict");
    let run = |strict: bool| {
        let mut cmd = tool(&dir);
        cmd.args([
            "run",
            "--timing",
            "instant",
            "--profile",
            "api-only",
            "--filter",
            "native.lambda",
        ]);
        if strict {
            cmd.arg("--strict");
        }
        cmd.output().expect("run")
    };
    let lenient = run(false);
    let stderr = String::from_utf8_lossy(&lenient.stderr).into_owned();
    assert!(lenient.status.success(), "{stderr}");
    let skipping = stderr
        .lines()
        .position(|l| l.starts_with("SKIPPING"))
        .expect("a SKIPPING line");
    let running = stderr
        .lines()
        .position(|l| l.starts_with("running"))
        .expect("a running line");
    assert!(skipping < running, "{stderr}");
    assert!(
        stderr.contains("emulator-control (3)") && stderr.contains("tasks-run (3)"),
        "{stderr}"
    );
    let strict = run(true);
    assert_eq!(
        strict.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&strict.stderr)
    );
    assert!(String::from_utf8_lossy(&strict.stderr).contains("--strict: 3 case(s) were skipped"));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn usage_errors_exit_2_and_say_what_to_do() {
    let dir = elsewhere("usage");
    let out = tool(&dir)
        .args(["run", "--target", "moto"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--endpoint http://127.0.0.1:PORT --profile moto"),
        "{err}"
    );
    let out = tool(&dir)
        .args(["run", "--filter", "no-case-has-this-id"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = tool(&dir)
        .args(["run", "--fixtures", "no-such-dir"])
        .output()
        .expect("run");
    assert_ne!(out.status.code(), Some(0));
    for bad in ["0", "-1", "NaN", "inf", "soon", "1e9"] {
        let out = tool(&dir)
            .args(["run", &format!("--settle-after-secs={bad}")])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "--settle-after-secs {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--settle-after-secs"), "{err}");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn lists_rules_and_cases_and_replays_the_evidence() {
    let dir = elsewhere("lists");
    let rules = tool(&dir).arg("rules").output().expect("rules");
    assert!(rules.status.success());
    assert!(String::from_utf8_lossy(&rules.stdout).contains("ts.client-token"));
    let cases = tool(&dir)
        .args(["cases", "--filter", "rule:ts.client-token"])
        .output()
        .expect("cases");
    let text = String::from_utf8_lossy(&cases.stdout);
    assert!(text.lines().count() >= 2, "{text}");
    let evidence = tool(&dir).arg("evidence").output().expect("evidence");
    assert!(evidence.status.success());
    assert!(String::from_utf8_lossy(&evidence.stdout).contains(" 0 flagged"));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn serve_prints_its_url_and_answers() {
    let dir = elsewhere("serve");
    let mut child = tool(&dir)
        .args(["serve", "--port", "0", "--timing", "instant"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let line = BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .next()
        .expect("a line")
        .expect("text");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("a URL")
        .to_owned();
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).expect("connect");
    let body = "{}";
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.DescribeClusters\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"failures\""), "{answer}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
