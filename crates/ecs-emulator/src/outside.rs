//! What lies outside ECS but decides a deployment: the Lambda functions its lifecycle hooks
//! invoke and the CloudWatch alarms it watches. The emulator calls no Lambda function and reads
//! no alarm; a test says what they answer, through [`crate::Engine::set_hook`] and
//! [`crate::Engine::set_alarm`], or over HTTP on the control path (`/_emulator/`, loopback
//! only; see the crate documentation).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a Lambda hook returns on one invocation (documented: `hookStatus` is `SUCCEEDED`,
/// `FAILED` or `IN_PROGRESS`; on `IN_PROGRESS` ECS invokes it again after the callback delay,
/// 30 s by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HookReply {
    /// The stage may go on.
    Succeeded,
    /// The deployment rolls back.
    Failed,
    /// Ask again after the callback delay.
    InProgress,
}

/// How the Lambda function behind a hook ARN answers: `replies[n]` on its (n+1)-th invocation
/// within one stage (the last one for every later invocation), each after `latency` of AWS
/// time (scaled like every delay). A rollback runs the TEST_TRAFFIC_SHIFT and
/// PRODUCTION_TRAFFIC_SHIFT hooks again (documented); there the function answers
/// `rollback_replies` when they are set (a real function tells a rollback by the weights it
/// is given), and `replies` otherwise. A hook ARN with no behaviour set answers `SUCCEEDED` at
/// once (assumed, A59: a function that exists and approves).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HookBehaviour {
    /// The replies, in invocation order; the last one repeats.
    pub replies: Vec<HookReply>,
    /// The replies within a stage of a rollback (`rollbackReplies` in JSON); empty: `replies`.
    #[serde(
        default,
        rename = "rollbackReplies",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rollback_replies: Vec<HookReply>,
    /// How long each invocation takes, in AWS seconds (`latencySeconds` in JSON).
    #[serde(default, rename = "latencySeconds", with = "seconds")]
    pub latency: Duration,
}

impl HookBehaviour {
    /// Answers `reply` at every invocation, at once.
    pub fn always(reply: HookReply) -> HookBehaviour {
        HookBehaviour {
            replies: vec![reply],
            rollback_replies: vec![],
            latency: Duration::ZERO,
        }
    }

    /// Answers `IN_PROGRESS` `times` times, then `last`.
    pub fn after_in_progress(times: usize, last: HookReply) -> HookBehaviour {
        let mut replies = vec![HookReply::InProgress; times];
        replies.push(last);
        HookBehaviour {
            replies,
            rollback_replies: vec![],
            latency: Duration::ZERO,
        }
    }

    /// The same, each invocation taking `latency` of AWS time.
    pub fn with_latency(mut self, latency: Duration) -> HookBehaviour {
        self.latency = latency;
        self
    }

    /// The same, answering `replies` in the stages of a rollback.
    pub fn in_rollback(mut self, replies: Vec<HookReply>) -> HookBehaviour {
        self.rollback_replies = replies;
        self
    }

    /// The reply of the invocation numbered `n` (from 0) within a stage, of a rollback or not.
    pub fn reply(&self, n: usize, rolling_back: bool) -> HookReply {
        let replies = if rolling_back && !self.rollback_replies.is_empty() {
            &self.rollback_replies
        } else {
            &self.replies
        };
        replies
            .get(n)
            .or(replies.last())
            .copied()
            .unwrap_or(HookReply::Succeeded)
    }
}

mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }
}

/// The state of a CloudWatch alarm as a deployment sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    /// Within its threshold.
    Ok,
    /// Breaching: a deployment that rolls back on it rolls back.
    Alarm,
}

/// The hooks' and alarms' answers one region's state reads.
#[derive(Clone, Debug, Default)]
pub(crate) struct Outside {
    pub hooks: BTreeMap<String, HookBehaviour>,
    /// Alarms by name; an alarm never set is OK.
    pub alarms: BTreeMap<String, AlarmState>,
}

impl Outside {
    pub(crate) fn hook(&self, arn: &str) -> HookBehaviour {
        self.hooks
            .get(arn)
            .cloned()
            .unwrap_or_else(|| HookBehaviour::always(HookReply::Succeeded))
    }

    /// The names among `names` whose alarm is in ALARM.
    pub(crate) fn in_alarm<'n>(&self, names: &'n [String]) -> Vec<&'n String> {
        names
            .iter()
            .filter(|n| self.alarms.get(*n) == Some(&AlarmState::Alarm))
            .collect()
    }
}
