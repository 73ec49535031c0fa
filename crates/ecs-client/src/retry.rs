//! Retries in the standard mode: throttling codes, 5xx answers and transport failures are
//! retried with exponential back-off and full jitter, up to a number of attempts; client
//! errors never are.
//!
//! A failure after the request may have reached the service (a timeout or a broken answer) is
//! retried only when repeating the call is harmless: the operation is read-only or idempotent
//! in the model, or the request carries a client token. Anything else would risk doing the
//! work twice.

use std::time::Duration;

/// Error codes that mean "slow down": the AWS SDKs' standard-mode set, less
/// `LimitExceededException`, which ECS uses for quotas (too many task sets, ...) that no
/// retry will lift.
pub const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Codes that mean a passing fault on the service side.
pub const TRANSIENT_CODES: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "ServerException",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// How failed attempts are retried: throttling, 5xx answers and connection failures, with jittered exponential back-off.
pub struct RetryConfig {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Back-off before the second attempt; doubled each time, jittered.
    pub initial_backoff: Duration,
    /// The longest back-off between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(20),
        }
    }
}

impl RetryConfig {
    /// One attempt, no retries.
    pub fn disabled() -> Self {
        RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        }
    }

    /// The back-off ceiling before attempt `attempt` (2 for the first retry).
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(2).min(30);
        self.initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff)
    }

    /// Full jitter: uniform in `[0, ceiling]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.backoff_ceiling(attempt).mul_f64(fastrand::f64())
    }
}

/// What kind of failure an attempt ended with, for the retry decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The connection could not be made: the request never left.
    Connect,
    /// Sent, but no complete answer (timeout, reset, truncated body).
    AfterSend,
    /// A throttling or transient error code, or a 5xx status.
    Retryable,
    /// Anything else (client errors, unreadable 2xx answers).
    Final,
}

/// Whether to try again after `failure`.
pub fn should_retry(failure: Failure, safe_to_repeat: bool) -> bool {
    match failure {
        Failure::Connect | Failure::Retryable => true,
        Failure::AfterSend => safe_to_repeat,
        Failure::Final => false,
    }
}

/// Classifies a service error answer.
pub fn classify(status: u16, code: Option<&str>) -> Failure {
    match code {
        Some(c) if THROTTLING_CODES.contains(&c) || TRANSIENT_CODES.contains(&c) => {
            Failure::Retryable
        }
        _ if status >= 500 || status == 429 => Failure::Retryable,
        _ => Failure::Final,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitters_below_it() {
        let r = RetryConfig {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
        };
        assert_eq!(r.backoff_ceiling(2), Duration::from_millis(100));
        assert_eq!(r.backoff_ceiling(3), Duration::from_millis(200));
        assert_eq!(r.backoff_ceiling(4), Duration::from_millis(400));
        assert_eq!(r.backoff_ceiling(5), Duration::from_millis(500));
        assert_eq!(r.backoff_ceiling(40), Duration::from_millis(500));
        for _ in 0..100 {
            assert!(r.backoff(3) <= Duration::from_millis(200));
        }
    }

    #[test]
    fn classification() {
        assert_eq!(
            classify(400, Some("ThrottlingException")),
            Failure::Retryable
        );
        assert_eq!(classify(500, Some("ServerException")), Failure::Retryable);
        assert_eq!(classify(503, None), Failure::Retryable);
        assert_eq!(
            classify(400, Some("InvalidParameterException")),
            Failure::Final
        );
        assert_eq!(classify(400, Some("ClientException")), Failure::Final);
        assert_eq!(
            classify(400, Some("LimitExceededException")),
            Failure::Final
        );
        assert!(should_retry(Failure::Connect, false));
        assert!(!should_retry(Failure::AfterSend, false));
        assert!(should_retry(Failure::AfterSend, true));
        assert!(!should_retry(Failure::Final, true));
    }
}
