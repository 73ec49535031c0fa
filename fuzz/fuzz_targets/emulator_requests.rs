//! Any sequence of requests, with any target and any body, against a fresh reference emulator
//! (manual clock, sequential ids, so every run is repeatable): every answer is a JSON object or
//! an AWS-shaped 4xx, and the invariants hold after each step. `cargo xtask fuzz` seeds it with
//! the fixture cases written in this form.
//!
//! Input: one step per line. `+N` advances the emulator's clock by N milliseconds; `?<form>`
//! is an ELBv2 (awsQuery) request whose form body is the rest of the line (an answer must be
//! UTF-8 XML, an error a 4xx); any other line is `<Operation> <body>`, sent with the target
//! `AmazonEC2ContainerServiceV20141113.<Operation>`.
#![no_main]

use std::time::Duration;

use ecs_emulator::{Emulator, Engine, ManualClock, SequentialIds};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn engine() -> (Engine, ManualClock) {
    let clock = ManualClock::at_example_time();
    // Default delays (tasks start in 100 ms, deleted sets drain in 500 ms).
    let engine = Emulator::builder()
        .clock(clock.clone())
        .ids(SequentialIds::default())
        .engine();
    (engine, clock)
}

fuzz_target!(|data: &[u8]| {
    let (engine, clock) = engine();
    for line in data.split(|b| *b == b'\n').take(64) {
        if let Some(ms) = line.strip_prefix(b"+") {
            let ms: u64 = std::str::from_utf8(ms)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            clock.advance(Duration::from_millis(ms.min(3_600_000)));
        } else if let Some(form) = line.strip_prefix(b"?") {
            match engine.handle_query(None, form, "fuzz") {
                Ok(answer) => assert!(
                    std::str::from_utf8(&answer).is_ok_and(|x| x.starts_with('<')),
                    "an ELBv2 answer that is not XML for {}",
                    String::from_utf8_lossy(line)
                ),
                Err(err) => assert!(
                    (400..500).contains(&err.status),
                    "a server fault: {err:?} for {}",
                    String::from_utf8_lossy(line)
                ),
            }
        } else {
            let (op, body) = match line.iter().position(|b| *b == b' ') {
                Some(i) => (&line[..i], &line[i + 1..]),
                None => (line, &b""[..]),
            };
            let target = format!(
                "{}.{}",
                ecs_model::TARGET_PREFIX,
                String::from_utf8_lossy(op)
            );
            match engine.handle(Some(&target), None, body) {
                Ok(answer) => {
                    let v: Value = serde_json::from_slice(&answer)
                        .unwrap_or_else(|e| panic!("a 2xx answer that is not JSON ({e})"));
                    assert!(v.is_object(), "a 2xx answer that is not an object: {v}");
                }
                Err(err) => {
                    assert!(
                        (400..500).contains(&err.status),
                        "a server fault: {err:?} for {}",
                        String::from_utf8_lossy(line)
                    );
                    let v: Value = serde_json::from_slice(&err.body())
                        .unwrap_or_else(|e| panic!("an error body that is not JSON ({e})"));
                    assert!(
                        v.get("__type").and_then(Value::as_str).is_some(),
                        "an error body without __type: {v}"
                    );
                }
            }
        }
        let problems = engine.check_invariants();
        assert!(
            problems.is_empty(),
            "invariants broken after {}: {problems:?}",
            String::from_utf8_lossy(line)
        );
    }
});
