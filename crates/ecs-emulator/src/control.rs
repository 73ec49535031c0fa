//! The control path: what a test written in any language needs besides the AWS API, over HTTP
//! on the emulator's own port, under `/_emulator/`, answered only to a loopback peer (any other
//! peer gets 403). Every path calls the same [`Engine`] method a Rust test calls.
//!
//! | method and path | body | does |
//! |---|---|---|
//! | `POST /_emulator/reset` | none | [`Engine::reset`] |
//! | `POST /_emulator/hooks` | `{"hookTargetArn": ARN, "replies": ["IN_PROGRESS", "SUCCEEDED"], "rollbackReplies": ["SUCCEEDED"], "latencySeconds": 0}` (`rollbackReplies` optional) | [`Engine::set_hook`] |
//! | `POST /_emulator/alarms` | `{"alarmName": NAME, "state": "ALARM"}` (or `"OK"`) | [`Engine::set_alarm`] |
//! | `POST /_emulator/faults` | `{"fault": "throttle", "operation": "UpdateTaskSet", "times": 2}` | [`Engine::inject`] |
//! | `DELETE /_emulator/faults` | none | [`Engine::clear_faults`] |
//! | `GET /_emulator/calls` | none | [`Engine::calls`], as `{"calls": [{"operation", "input", "answer" or "error", "at"}]}` |
//! | `POST /_emulator/time` | `{"advanceSeconds": 30, "scale": 0.5}` (either or both, both checked before either takes effect) | [`Engine::advance`], then [`Engine::set_time_scale`]; answers as `GET` |
//! | `GET /_emulator/time` | none | [`Engine::now`] and [`Engine::time_scale`], as `{"now": <epoch seconds>, "scale": 1.0}` |
//!
//! Faults over HTTP: `throttle`, `serverError`, `dropConnection` and `staleRead` take
//! `operation` and `times`; `stuckTasks` takes `service`; `slowRecompute` takes
//! `delaySeconds`. A refusal with an error code of the caller's choosing is Rust-only (its
//! code is a `&'static str`).
//!
//! Answers are JSON: 200 with `{}` (or the calls), 400 with `{"message": ...}` naming what is
//! wrong with the body, 403 for a peer that is not loopback or a request with an `Origin`
//! header (a web page's), 404 for an unknown path, 405 for a wrong method.

use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::engine::{Engine, TimeError};
use crate::faults::Fault;
use crate::outside::{AlarmState, HookBehaviour, HookReply};

/// The prefix of every control path.
pub const CONTROL_PREFIX: &str = "/_emulator/";

/// A control answer: HTTP status and JSON body.
pub(crate) struct ControlAnswer {
    pub status: u16,
    pub body: Value,
}

fn ok(body: Value) -> ControlAnswer {
    ControlAnswer { status: 200, body }
}

fn fail(status: u16, message: impl Into<String>) -> ControlAnswer {
    ControlAnswer {
        status,
        body: json!({"message": message.into()}),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HookBody {
    hook_target_arn: String,
    replies: Vec<HookReply>,
    #[serde(default)]
    rollback_replies: Vec<HookReply>,
    #[serde(default)]
    latency_seconds: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AlarmBody {
    alarm_name: String,
    state: AlarmState,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TimeBody {
    advance_seconds: Option<f64>,
    scale: Option<f64>,
}

/// A moment as the control path answers it: seconds since the epoch.
fn epoch_seconds(t: std::time::SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn now_body(engine: &Engine) -> Value {
    json!({ "now": epoch_seconds(engine.now()), "scale": engine.time_scale() })
}

#[derive(Deserialize)]
#[serde(tag = "fault", rename_all = "camelCase", deny_unknown_fields)]
enum FaultBody {
    Throttle {
        operation: String,
        times: u32,
    },
    ServerError {
        operation: String,
        times: u32,
    },
    DropConnection {
        operation: String,
        times: u32,
    },
    StaleRead {
        operation: String,
        times: u32,
    },
    StuckTasks {
        service: String,
    },
    #[serde(rename_all = "camelCase")]
    SlowRecompute {
        delay_seconds: f64,
    },
}

fn parse<T: for<'de> Deserialize<'de>>(path: &str, body: &[u8]) -> Result<T, ControlAnswer> {
    serde_json::from_slice(body).map_err(|e| fail(400, format!("{path}: bad body: {e}")))
}

fn seconds(path: &str, member: &str, v: f64) -> Result<Duration, ControlAnswer> {
    Duration::try_from_secs_f64(v).map_err(|_| {
        fail(
            400,
            format!("{path}: {member} must be a number of seconds ≥ 0"),
        )
    })
}

/// Answers one control request from `peer`. A request a web page could send (it carries an
/// `Origin` header) is refused, so that a browser on the same machine cannot reset or break
/// the emulator behind a test's back.
pub(crate) fn control(
    engine: &Engine,
    peer: SocketAddr,
    method: &str,
    path: &str,
    origin: Option<&str>,
    body: &[u8],
) -> ControlAnswer {
    if !peer.ip().to_canonical().is_loopback() {
        return fail(403, "the control path answers loopback peers only");
    }
    if origin.is_some() {
        return fail(
            403,
            "the control path answers no request from a web page (Origin)",
        );
    }
    trusted(engine, method, path, body)
}

impl Engine {
    /// Answers one control request (`POST`, `/_emulator/hooks`, its JSON body) as the
    /// emulator's own port answers a loopback peer: the HTTP status and the JSON body. For a
    /// test that puts the engine behind a server of its own and passes the control path
    /// through; which peers may reach it is that server's to decide.
    pub fn control(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        let answer = trusted(self, method, path, body);
        (answer.status, answer.body)
    }
}

/// A control request from a peer already let through.
fn trusted(engine: &Engine, method: &str, path: &str, body: &[u8]) -> ControlAnswer {
    let answer = match (method, path.trim_start_matches(CONTROL_PREFIX)) {
        ("POST", "reset") => {
            engine.reset();
            Ok(json!({}))
        }
        ("POST", "hooks") => parse::<HookBody>(path, body).and_then(|b| {
            if b.replies.is_empty() {
                return Err(fail(400, format!("{path}: replies must not be empty")));
            }
            let latency = seconds(path, "latencySeconds", b.latency_seconds)?;
            engine.set_hook(
                &b.hook_target_arn,
                HookBehaviour {
                    replies: b.replies,
                    rollback_replies: b.rollback_replies,
                    latency,
                },
            );
            Ok(json!({}))
        }),
        ("POST", "alarms") => parse::<AlarmBody>(path, body).map(|b| {
            engine.set_alarm(&b.alarm_name, b.state);
            json!({})
        }),
        ("POST", "faults") => parse::<FaultBody>(path, body).and_then(|b| {
            let fault = match b {
                FaultBody::Throttle { operation, times } => Fault::Throttle { operation, times },
                FaultBody::ServerError { operation, times } => {
                    Fault::ServerError { operation, times }
                }
                FaultBody::DropConnection { operation, times } => {
                    Fault::DropConnection { operation, times }
                }
                FaultBody::StaleRead { operation, times } => Fault::StaleRead { operation, times },
                FaultBody::StuckTasks { service } => Fault::StuckTasks { service },
                FaultBody::SlowRecompute { delay_seconds } => Fault::SlowRecompute {
                    delay: seconds(path, "delaySeconds", delay_seconds)?,
                },
            };
            engine.inject(fault);
            Ok(json!({}))
        }),
        ("POST", "time") => parse::<TimeBody>(path, body).and_then(|b| {
            if b.advance_seconds.is_none() && b.scale.is_none() {
                return Err(fail(
                    400,
                    format!("{path}: give advanceSeconds, scale or both"),
                ));
            }
            // Both are checked before either takes effect: the scale's range first, then the
            // advance (which is refused whole), and only then the scale is set.
            let by = match b.advance_seconds {
                Some(v) => Some(seconds(path, "advanceSeconds", v)?),
                None => None,
            };
            let scale_error = |e: TimeError| fail(400, format!("{path}: scale: {e}"));
            if let Some(scale) = b.scale {
                TimeError::check_scale(scale).map_err(scale_error)?;
            }
            if let Some(by) = by {
                engine
                    .advance(by)
                    .map_err(|e| fail(400, format!("{path}: advanceSeconds: {e}")))?;
            }
            if let Some(scale) = b.scale {
                engine.set_time_scale(scale).map_err(scale_error)?;
            }
            Ok(now_body(engine))
        }),
        ("GET", "time") => Ok(now_body(engine)),
        ("DELETE", "faults") => {
            engine.clear_faults();
            Ok(json!({}))
        }
        ("GET", "calls") => Ok(json!({"calls": engine
            .calls()
            .into_iter()
            .map(|c| {
                let at = epoch_seconds(c.at);
                match c.answer {
                    Ok(answer) => json!({"operation": c.operation, "input": c.input, "answer": answer, "at": at}),
                    Err(e) => json!({"operation": c.operation, "input": c.input, "at": at,
                        "error": {"status": e.status, "code": e.code, "message": e.message}}),
                }
            })
            .collect::<Vec<_>>()})),
        (_, "reset" | "hooks" | "alarms" | "faults" | "calls" | "time") => {
            Err(fail(405, format!("{method} {path} is not allowed")))
        }
        _ => Err(fail(404, format!("{path} is no control path"))),
    };
    match answer {
        Ok(body) => ok(body),
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Emulator, Timing};

    #[test]
    fn only_a_loopback_peer_is_answered_and_never_a_web_page() {
        let engine = Emulator::builder().timing(Timing::instant()).engine();
        let far: SocketAddr = "192.0.2.7:40000".parse().unwrap_or_else(|_| unreachable!());
        let answer = control(&engine, far, "POST", "/_emulator/reset", None, b"");
        assert_eq!(answer.status, 403);
        for near in ["127.0.0.1:40000", "[::1]:40000", "[::ffff:127.0.0.1]:40000"] {
            let near: SocketAddr = near.parse().unwrap_or_else(|_| unreachable!());
            let answer = control(&engine, near, "POST", "/_emulator/reset", None, b"");
            assert_eq!(answer.status, 200, "{near}");
            let page = Some("http://page.example");
            let answer = control(&engine, near, "POST", "/_emulator/reset", page, b"");
            assert_eq!(answer.status, 403, "a web page's request from {near}");
        }
    }

    #[test]
    fn time_moves_forward_by_what_is_asked_and_never_back() {
        let clock = crate::ManualClock::at_example_time();
        let engine = Emulator::builder()
            .timing(Timing::instant())
            .clock(clock.clone())
            .engine();
        let now = |engine: &Engine| engine.control("GET", "/_emulator/time", b"").1["now"].clone();
        assert_eq!(now(&engine), json!(1_557_128_360.0));
        let (status, body) =
            engine.control("POST", "/_emulator/time", br#"{"advanceSeconds": 90.5}"#);
        assert_eq!(
            (status, body),
            (200, json!({"now": 1_557_128_450.5, "scale": 1.0}))
        );
        clock.advance(Duration::from_secs(10));
        assert_eq!(
            now(&engine),
            json!(1_557_128_460.5),
            "the clock and the shift add up"
        );
        engine.reset();
        assert_eq!(
            now(&engine),
            json!(1_557_128_460.5),
            "a reset does not take time back"
        );
        let (status, body) = engine.control("POST", "/_emulator/time", br#"{"scale": 0.25}"#);
        assert_eq!((status, &body["scale"]), (200, &json!(0.25)));
        assert_eq!(engine.time_scale(), 0.25);
        for bad in [
            r#"{"advanceSeconds": -1}"#,
            r#"{"advanceSeconds": "1"}"#,
            r#"{}"#,
            r#"{"seconds": 1}"#,
            r#"{"scale": 0}"#,
            r#"{"scale": -2, "advanceSeconds": 5}"#,
            r#"{"scale": 2, "advanceSeconds": -5}"#,
            r#"{"scale": 1e300}"#,
            r#"{"advanceSeconds": 1e19}"#,
            r#"{"scale": 2, "advanceSeconds": 400000000}"#,
        ] {
            let (status, body) = engine.control("POST", "/_emulator/time", bad.as_bytes());
            assert_eq!(status, 400, "{bad}: {body}");
            assert!(
                body["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("/_emulator/time"),
                "{body}"
            );
        }
        assert_eq!(
            now(&engine),
            json!(1_557_128_460.5),
            "a refused body moves nothing"
        );
        assert_eq!(engine.time_scale(), 0.25, "a refused body scales nothing");
        assert_eq!(engine.control("DELETE", "/_emulator/time", b"").0, 405);
    }
}
