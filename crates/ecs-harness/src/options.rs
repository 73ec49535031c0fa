//! How a run goes: parallel cases, timeouts, polling caps, the target's capabilities and
//! placement, and the settle window.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::fixture::Case;
use crate::shapes::AnswerShapes;

#[derive(Clone, Debug)]
/// How a run goes: parallel cases, timeouts, polling caps, the target's capabilities and placement.
pub struct RunOptions {
    /// Cases run at once.
    pub jobs: usize,
    /// Longest wait for one answer.
    pub step_timeout: Duration,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// Caps every polling step's timeout (for quick runs against targets known to misbehave).
    pub poll_cap: Option<Duration>,
    /// What the target provides beyond the API ([`crate::fixture::CAPABILITIES`]); a case that
    /// needs anything else is skipped.
    pub capabilities: Vec<String>,
    /// `launchType` or `capacityProviderStrategy`, and `networkConfiguration`, merged into
    /// every CreateTaskSet and CreateService request that sets none of them itself.
    pub placement: Option<serde_json::Map<String, Value>>,
    /// The members AWS always answers (`conformance/answer-shapes.json`), checked on every
    /// 2xx answer under [`crate::shapes::ANSWER_SHAPE_RULE`]; without a table the rule is
    /// never checked, and so never passes.
    pub answer_shapes: Option<Arc<AnswerShapes>>,
    /// How long a computed value must stay unchanged before a poll takes it as settled
    /// ([`crate::settle`]); [`crate::settle::LONGEST_RECOMPUTE`] unless the target is known to
    /// be slower than AWS.
    pub settle_window: Duration,
}

impl Default for RunOptions {
    /// Eight cases at once, 30 s per answer, every capability (the reference emulator's).
    fn default() -> Self {
        RunOptions {
            jobs: 8,
            step_timeout: Duration::from_secs(30),
            progress: false,
            poll_cap: None,
            capabilities: crate::fixture::CAPABILITIES
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
            placement: None,
            answer_shapes: None,
            settle_window: crate::settle::LONGEST_RECOMPUTE,
        }
    }
}

impl RunOptions {
    /// The capabilities `case` needs that the target does not provide.
    pub fn missing(&self, case: &Case) -> Vec<String> {
        case.needs
            .iter()
            .filter(|n| !self.capabilities.contains(n))
            .cloned()
            .collect()
    }
}
