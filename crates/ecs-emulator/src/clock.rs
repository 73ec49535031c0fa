//! Injectable time and identifiers, so tests can be exact and deterministic.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_types::DateTime;

/// Where the emulator's "now" comes from.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: SystemTime) -> Self {
        ManualClock(Arc::new(Mutex::new(start)))
    }

    /// Starts at 2019-05-06T07:39:20Z, the time of AWS's published task-set examples.
    pub fn at_example_time() -> Self {
        ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_557_128_360))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.0.lock().map(|t| *t).unwrap_or(UNIX_EPOCH)
    }
}

/// Where new identifiers come from.
pub trait IdSource: Send + Sync {
    /// The digits of a task set id `ecs-svc/<19 digits>`.
    fn task_set_digits(&self) -> u64;
}

/// Random identifiers, as AWS hands out.
#[derive(Debug, Default)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn task_set_digits(&self) -> u64 {
        fastrand::u64(1_000_000_000_000_000_000..10_000_000_000_000_000_000)
    }
}

/// 1000000000000000001, 1000000000000000002, ...: for deterministic tests.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn task_set_digits(&self) -> u64 {
        1_000_000_000_000_000_000 + self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Milliseconds since the epoch, as AWS reports times.
pub fn to_datetime(t: SystemTime) -> DateTime {
    let millis = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    DateTime::from_millis(i64::try_from(millis).unwrap_or(i64::MAX))
}
