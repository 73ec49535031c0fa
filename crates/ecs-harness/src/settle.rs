//! When a poll may stop before its timeout: the target has settled, so a value that is still
//! wrong will stay wrong, and waiting out the timeout would only make a departing target slow.
//!
//! A poll that fails only on computed counts ([`COMPUTED`]) ends as soon as one of three
//! judgements says the target has settled:
//!
//! - **recomputed** (any profile, failures on the written set's `computedDesiredCount` only):
//!   the case's last mutating call was a CreateTaskSet or UpdateTaskSet, whose answer carries
//!   the count from before the recompute, and the poll now shows another count. Only the
//!   recompute changes the count, and AWS recomputes once per change (the record shows one
//!   step from the old count to the new, never an intermediate one), so the count shown is the
//!   one the target settled on.
//! - **steady** (the profile has `tasks-run`): every task set in the answer is STEADY_STATE, with
//!   nothing pending, and its `stabilityStatusAt` is no earlier than the change (the `updatedAt`
//!   of that CreateTaskSet or UpdateTaskSet answer). This is the judgement
//!   `ecs_client::waiter::judge_task_set` makes.
//! - **unchanged** (any profile, failures on `computedDesiredCount` only): the failing values
//!   have stayed the same, from the first answer that showed them, for longer than the longest
//!   recompute delay on record ([`LONGEST_RECOMPUTE`]). This covers changes whose time and
//!   earlier count the harness does not know (an UpdateService of the desired count).
//!
//! After any other mutating call the harness knows neither when the change happened nor the
//! count before it, and only the last judgement applies. A settled wrong value fails the step
//! at once, and its reason names what it settled on.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::results::Failure;

/// The members a poll may wait on that the target computes after a change.
pub const COMPUTED: [&str; 3] = ["computedDesiredCount", "runningCount", "pendingCount"];

/// The longest recompute of `computedDesiredCount` on record, rounded up to the record's
/// resolution: in `conformance/evidence/transcript.scale-timeline.json` AWS still answered the
/// previous count 5 s after the UpdateTaskSet to 100% and the new one 7 s after it (the
/// slowest of the run's eleven changes); the log's times are whole seconds, so that recompute
/// took less than 8 s (observed).
pub const LONGEST_RECOMPUTE: Duration = Duration::from_secs(8);

/// The calls that change a task set's `computedDesiredCount`: its own scale, or the service's
/// desired count.
pub const CHANGES_COUNTS: [&str; 3] = ["CreateTaskSet", "UpdateTaskSet", "UpdateService"];

/// The task set the case last wrote (CreateTaskSet or UpdateTaskSet), as the write answered it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Written {
    /// Its `id`.
    pub id: Option<String>,
    /// Its `updatedAt` (epoch seconds, as answered): when the change happened.
    pub updated_at: Option<f64>,
    /// Its `computedDesiredCount`: the count from before the recompute.
    pub computed: Option<i64>,
    /// No other change to a count ([`CHANGES_COUNTS`]) was made within the settle window
    /// before the write, so no earlier recompute can land during the poll: the first count
    /// other than `computed` is this write's.
    pub quiet: bool,
}

/// What a poll knows about the case when it starts.
#[derive(Clone, Debug)]
pub struct SettleRules {
    /// Tasks run on the target (the `tasks-run` capability): the steady judgement applies.
    pub tasks_run: bool,
    /// The task set of the case's last mutating call, when that call was a CreateTaskSet or
    /// UpdateTaskSet.
    pub written: Option<Written>,
    /// How long a computed value must stay unchanged to count as settled.
    pub window: Duration,
}

/// One poll's memory of what it has seen.
#[derive(Debug)]
pub struct Settle {
    rules: SettleRules,
    seen: Option<(Vec<(String, String)>, Instant)>,
}

impl Settle {
    /// A poll that has seen nothing yet.
    pub fn new(rules: SettleRules) -> Settle {
        Settle { rules, seen: None }
    }

    /// Looks at one failed answer, received at `now`: `Some(why)` when the target has settled
    /// on it. Only the failures of the step's own expectation (those charged to `rules`) are
    /// judged: an answer check (an invariant, the answer's shape) applies to every answer, so
    /// its failures say nothing of what the poll waits for.
    pub fn judge(
        &mut self,
        rules: &[String],
        failures: &[Failure],
        body: Option<&Value>,
        now: Instant,
    ) -> Option<String> {
        let failures: Vec<&Failure> = failures.iter().filter(|f| f.rules == rules).collect();
        let fingerprint: Vec<(String, String)> = failures
            .iter()
            .map(|f| (f.path.clone(), f.actual.clone()))
            .collect();
        let since = match &self.seen {
            Some((seen, since)) if *seen == fingerprint => *since,
            _ => {
                self.seen = Some((fingerprint, now));
                now
            }
        };
        if failures.is_empty() || !failures.iter().all(|f| COMPUTED.contains(&member(&f.path))) {
            return None;
        }
        let settled_on = failures
            .iter()
            .map(|f| format!("{} {} (expected {})", f.path, f.actual, f.expected))
            .collect::<Vec<_>>()
            .join(", ");
        let counts_only = failures
            .iter()
            .all(|f| member(&f.path) == "computedDesiredCount");
        if let (true, Some(written), Some(body)) = (counts_only, &self.rules.written, body) {
            if let Some(before) = recomputed(&failures, written, body) {
                return Some(format!(
                    "settled on {settled_on}: recomputed since the write, whose answer showed \
                     {before}, and a change is recomputed once"
                ));
            }
        }
        let change = self.rules.written.as_ref().and_then(|w| w.updated_at);
        if let (true, Some(change), Some(body)) = (self.rules.tasks_run, change, body) {
            if let Some(at) = steady_since(body, change) {
                return Some(format!(
                    "settled on {settled_on}: every task set is STEADY_STATE (since {at}, no \
                     earlier than the change at {change}) with nothing pending"
                ));
            }
        }
        let unchanged = now.saturating_duration_since(since);
        if counts_only && unchanged > self.rules.window {
            return Some(format!(
                "settled on {settled_on}: unchanged for {:.1} s, longer than the longest \
                 recompute on record ({} s)",
                unchanged.as_secs_f64(),
                self.rules.window.as_secs_f64()
            ));
        }
        None
    }
}

/// The count the write answered, when every failure is the written set's count and shows
/// another one.
fn recomputed(failures: &[&Failure], written: &Written, body: &Value) -> Option<i64> {
    if !written.quiet {
        return None;
    }
    let (id, before) = (written.id.as_deref()?, written.computed?);
    for f in failures {
        let parent = f
            .path
            .strip_suffix("computedDesiredCount")?
            .trim_end_matches('.');
        let set = crate::matcher::lookup(body, parent)?;
        let now = set.get("computedDesiredCount").and_then(Value::as_i64)?;
        if set.get("id").and_then(Value::as_str) != Some(id) || now == before {
            return None;
        }
    }
    Some(before)
}

/// The member a failure's path ends in: `computedDesiredCount` for
/// `taskSets[0].computedDesiredCount`.
fn member(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

/// The latest `stabilityStatusAt` when every object of `body` that carries a `stabilityStatus`
/// (at least one) is STEADY_STATE, has nothing pending, and became steady no earlier than
/// `change`.
fn steady_since(body: &Value, change: f64) -> Option<f64> {
    let mut sets = Vec::new();
    collect_sets(body, &mut sets);
    let mut latest: Option<f64> = None;
    for set in &sets {
        let steady = set.get("stabilityStatus").and_then(Value::as_str) == Some("STEADY_STATE");
        let idle = set.get("pendingCount").and_then(Value::as_i64) == Some(0);
        let at = set.get("stabilityStatusAt").and_then(Value::as_f64)?;
        if !steady || !idle || at < change {
            return None;
        }
        latest = Some(latest.map_or(at, |l| l.max(at)));
    }
    latest
}

fn collect_sets<'a>(v: &'a Value, into: &mut Vec<&'a Value>) {
    match v {
        Value::Object(map) => {
            if map.contains_key("stabilityStatus") {
                into.push(v);
            }
            map.values().for_each(|m| collect_sets(m, into));
        }
        Value::Array(items) => items.iter().for_each(|m| collect_sets(m, into)),
        _ => {}
    }
}

/// What a step tells the next polls: the task set a CreateTaskSet or UpdateTaskSet answered
/// (with a 2xx: `answer` is `None` otherwise); nothing after any other mutating call, or one
/// without a usable answer (the change may have happened, at a time unknown); `previous` after
/// a read. `counts_changed_at` keeps when the case last changed a count, sent at `now`.
pub fn written_after(
    op: &str,
    answer: Option<&Value>,
    previous: Option<Written>,
    counts_changed_at: &mut Option<Instant>,
    now: Instant,
    window: Duration,
) -> Option<Written> {
    if is_read(op) {
        return previous;
    }
    let quiet = counts_changed_at.is_none_or(|t| now.saturating_duration_since(t) > window);
    if CHANGES_COUNTS.contains(&op) {
        *counts_changed_at = Some(now);
    }
    match op {
        "CreateTaskSet" | "UpdateTaskSet" => {
            let set = answer?.get("taskSet")?;
            Some(Written {
                id: set.get("id").and_then(Value::as_str).map(str::to_owned),
                updated_at: set.get("updatedAt").and_then(Value::as_f64),
                computed: set.get("computedDesiredCount").and_then(Value::as_i64),
                quiet,
            })
        }
        _ => None,
    }
}

/// An operation that changes nothing.
fn is_read(op: &str) -> bool {
    ["Describe", "List", "Get"]
        .iter()
        .any(|p| op.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r() -> Vec<String> {
        vec!["r".into()]
    }

    fn failure(path: &str, actual: &str) -> Failure {
        Failure {
            rules: vec!["r".into()],
            path: path.into(),
            expected: "2".into(),
            actual: actual.into(),
        }
    }

    /// The written set `ecs-svc/1` answered a count of 1 (the same as [`set`] shows), changed
    /// at `changed_at`.
    fn rules(tasks_run: bool, changed_at: Option<f64>) -> SettleRules {
        SettleRules {
            tasks_run,
            written: changed_at.map(|at| Written {
                id: Some("ecs-svc/1".into()),
                updated_at: Some(at),
                computed: Some(1),
                quiet: true,
            }),
            window: LONGEST_RECOMPUTE,
        }
    }

    fn set(stability: &str, at: f64, pending: i64) -> Value {
        json!({"taskSets": [{"id": "ecs-svc/1", "computedDesiredCount": 1,
            "pendingCount": pending, "stabilityStatus": stability, "stabilityStatusAt": at}]})
    }

    #[test]
    fn an_unchanged_computed_count_settles_only_after_the_longest_recompute() {
        let t0 = Instant::now();
        let mut s = Settle::new(rules(false, None));
        let f = [failure("taskSets[0].computedDesiredCount", "1")];
        assert_eq!(s.judge(&r(), &f, None, t0), None);
        assert_eq!(s.judge(&r(), &f, None, t0 + Duration::from_secs(8)), None);
        let why = s
            .judge(&r(), &f, None, t0 + Duration::from_millis(8_100))
            .unwrap();
        assert!(
            why.starts_with(
                "settled on taskSets[0].computedDesiredCount 1 (expected 2): unchanged for 8.1 s"
            ),
            "{why}"
        );
    }

    #[test]
    fn answer_checks_on_the_same_answer_do_not_keep_a_poll_waiting() {
        let t0 = Instant::now();
        let mut s = Settle::new(rules(false, None));
        let invariant = Failure {
            rules: vec!["inv.steady-state-counts".into()],
            ..failure(
                "taskSets[0].stabilityStatus",
                "STEADY_STATE with runningCount 2",
            )
        };
        let f = [
            failure("taskSets[0].computedDesiredCount", "1"),
            invariant.clone(),
        ];
        assert_eq!(s.judge(&r(), &f, None, t0), None);
        let why = s
            .judge(&r(), &f, None, t0 + Duration::from_secs(9))
            .unwrap();
        assert!(!why.contains("stabilityStatus"), "{why}");
        // An answer that breaks only an answer check is not judged at all.
        let mut s = Settle::new(rules(true, Some(1.0)));
        let body = set("STEADY_STATE", 2.0, 0);
        assert_eq!(s.judge(&r(), &[invariant], Some(&body), t0), None);
    }

    #[test]
    fn a_change_restarts_the_window() {
        let t0 = Instant::now();
        let mut s = Settle::new(rules(false, None));
        let stale = [failure("taskSets[0].computedDesiredCount", "0")];
        let wrong = [failure("taskSets[0].computedDesiredCount", "1")];
        assert_eq!(s.judge(&r(), &stale, None, t0), None);
        assert_eq!(
            s.judge(&r(), &wrong, None, t0 + Duration::from_secs(5)),
            None
        );
        assert_eq!(
            s.judge(&r(), &wrong, None, t0 + Duration::from_secs(13)),
            None
        );
        assert!(s
            .judge(&r(), &wrong, None, t0 + Duration::from_millis(13_100))
            .is_some());
    }

    #[test]
    fn other_failures_never_settle() {
        let t0 = Instant::now();
        let mut s = Settle::new(rules(true, Some(10.0)));
        let body = set("STEADY_STATE", 12.0, 0);
        // A running count waits on tasks: no window; a missing set is not a computed value.
        for f in [
            vec![failure("taskSets[0].runningCount", "1")],
            vec![failure("taskSets[0]", "(absent)")],
            vec![
                failure("taskSets[0].computedDesiredCount", "1"),
                failure("taskSets[0].status", "\"DRAINING\""),
            ],
        ] {
            let mut s2 = Settle::new(rules(false, None));
            assert_eq!(s2.judge(&r(), &f, Some(&body), t0), None);
            assert_eq!(
                s2.judge(&r(), &f, Some(&body), t0 + Duration::from_secs(60)),
                None,
                "{f:?}"
            );
        }
        assert_eq!(s.judge(&r(), &[], Some(&body), t0), None);
    }

    #[test]
    fn a_steady_state_after_the_change_settles_at_once_where_tasks_run() {
        let t0 = Instant::now();
        let f = [failure("taskSets[0].computedDesiredCount", "1")];
        let steady = set("STEADY_STATE", 12.5, 0);
        let why = Settle::new(rules(true, Some(10.0)))
            .judge(&r(), &f, Some(&steady), t0)
            .unwrap();
        assert!(
            why.contains("STEADY_STATE (since 12.5, no earlier than the change at 10)"),
            "{why}"
        );
        // Not where tasks cannot run, nor without a known change, nor before the change (a
        // stale answer), nor while stabilizing or with tasks pending.
        for (rules, body) in [
            (rules(false, Some(10.0)), steady.clone()),
            (rules(true, None), steady.clone()),
            (rules(true, Some(13.0)), steady.clone()),
            (rules(true, Some(10.0)), set("STABILIZING", 12.5, 0)),
            (rules(true, Some(10.0)), set("STEADY_STATE", 12.5, 1)),
            (rules(true, Some(10.0)), json!({"taskSets": []})),
        ] {
            assert_eq!(
                Settle::new(rules).judge(&r(), &f, Some(&body), t0),
                None,
                "{body}"
            );
        }
    }

    #[test]
    fn a_count_other_than_the_writes_is_the_recomputed_one() {
        let t0 = Instant::now();
        let f = [failure("taskSets[0].computedDesiredCount", "1")];
        let shown = set("STABILIZING", 12.5, 3);
        let written = |id: &str, computed| SettleRules {
            tasks_run: false,
            written: Some(Written {
                id: Some(id.into()),
                updated_at: None,
                computed: Some(computed),
                quiet: true,
            }),
            window: LONGEST_RECOMPUTE,
        };
        let why = Settle::new(written("ecs-svc/1", 0))
            .judge(&r(), &f, Some(&shown), t0)
            .unwrap();
        assert!(
            why.ends_with("recomputed since the write, whose answer showed 0, and a change is recomputed once"),
            "{why}"
        );
        // Still the write's count (not recomputed yet), or another set's count.
        assert_eq!(
            Settle::new(written("ecs-svc/1", 1)).judge(&r(), &f, Some(&shown), t0),
            None
        );
        assert_eq!(
            Settle::new(written("ecs-svc/2", 0)).judge(&r(), &f, Some(&shown), t0),
            None
        );
        // A running count is never judged this way.
        let running = [failure("taskSets[0].runningCount", "1")];
        assert_eq!(
            Settle::new(written("ecs-svc/1", 0)).judge(&r(), &running, Some(&shown), t0),
            None
        );
    }

    #[test]
    fn a_write_soon_after_another_change_is_not_judged_recomputed() {
        let t0 = Instant::now();
        let f = [failure("taskSets[0].computedDesiredCount", "1")];
        let shown = set("STABILIZING", 12.5, 3);
        let rules = |quiet| SettleRules {
            tasks_run: false,
            written: Some(Written {
                id: Some("ecs-svc/1".into()),
                updated_at: None,
                computed: Some(0),
                quiet,
            }),
            window: LONGEST_RECOMPUTE,
        };
        // The earlier change's recompute may land during the poll: the count it shows is not
        // this write's.
        assert_eq!(
            Settle::new(rules(false)).judge(&r(), &f, Some(&shown), t0),
            None
        );
        assert!(Settle::new(rules(true))
            .judge(&r(), &f, Some(&shown), t0)
            .is_some());
    }

    #[test]
    fn the_write_is_the_last_task_set_write() {
        let t0 = Instant::now();
        let window = LONGEST_RECOMPUTE;
        let answer = json!({"taskSet": {"id": "ecs-svc/9", "updatedAt": 1_700_000_000.25,
            "computedDesiredCount": 3}});
        let w = |quiet| Written {
            id: Some("ecs-svc/9".into()),
            updated_at: Some(1_700_000_000.25),
            computed: Some(3),
            quiet,
        };
        let earlier = Some(Written::default());
        let mut changed = None;
        // The first write of a case is quiet; a second one right after it is not.
        let after = |op, answer, previous, changed: &mut Option<Instant>, at| {
            written_after(op, answer, previous, changed, at, window)
        };
        assert_eq!(
            after("CreateTaskSet", Some(&answer), None, &mut changed, t0),
            Some(w(true))
        );
        assert_eq!(changed, Some(t0));
        let soon = t0 + Duration::from_secs(1);
        assert_eq!(
            after(
                "UpdateTaskSet",
                Some(&answer),
                earlier.clone(),
                &mut changed,
                soon
            ),
            Some(w(false))
        );
        let later = soon + window + Duration::from_millis(1);
        assert_eq!(
            after("UpdateTaskSet", Some(&answer), None, &mut changed, later),
            Some(w(true))
        );
        // A read keeps what was written; any other change, or a write without a usable
        // answer, forgets it.
        assert_eq!(
            after(
                "DescribeTaskSets",
                Some(&answer),
                earlier.clone(),
                &mut changed,
                later
            ),
            earlier
        );
        assert_eq!(
            after(
                "UpdateService",
                Some(&answer),
                earlier.clone(),
                &mut changed,
                later
            ),
            None
        );
        assert_eq!(
            after("UpdateTaskSet", None, earlier, &mut changed, later),
            None
        );
        assert_eq!(
            member("services[0].taskSets[1].computedDesiredCount"),
            "computedDesiredCount"
        );
        assert_eq!(member("taskSets[0]"), "taskSets");
    }
}
