//! Validation before sending, per client and per call.
//!
//! The default, [`ValidationMode::Standard`], follows the reasoning botocore applies when it
//! checks minimums but not maximums: it enforces what no newer service version can relax
//! (required members, minimum lengths and values, closed enums, patterns, mutually exclusive
//! members, documented exclusions) and only warns on upper limits, which AWS does raise (the
//! capacity-provider strategy limit went from 6 to 20). `Enforce` rejects on any violation,
//! `Warn` logs every violation and sends, `Off` sends anything (the conformance harness needs
//! to send deliberately invalid input).

use ecs_model::Violation;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
/// How inputs are checked against the model and the documented rules before sending.
pub enum ValidationMode {
    /// Reject on any violation; the error lists all of them.
    Enforce,
    /// Reject on violations that cannot be relaxed; warn on upper limits.
    #[default]
    Standard,
    /// Log every violation with `tracing`, then send.
    Warn,
    /// Send without checking.
    Off,
}

/// Splits violations into those that stop the call and those that are only logged.
pub fn partition(
    mode: ValidationMode,
    violations: Vec<Violation>,
) -> (Vec<Violation>, Vec<Violation>) {
    match mode {
        ValidationMode::Enforce => (violations, Vec::new()),
        ValidationMode::Standard => violations
            .into_iter()
            .partition(|v| !v.kind.is_upper_limit()),
        ValidationMode::Warn => (Vec::new(), violations),
        ValidationMode::Off => (Vec::new(), Vec::new()),
    }
}
