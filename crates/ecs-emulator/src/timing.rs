//! How long the emulated control plane takes to act, in the shape AWS shows.
//!
//! ECS answers a mutating call with the state from before its scheduler acts, and settles
//! seconds later. The evidence in `conformance/evidence/` shows the stages:
//!
//! 1. **recompute**: `computedDesiredCount` of a new or changed task set is 0 (new) or the
//!    previous value until the service scheduler recomputes it, 2 to 6 seconds after the call;
//! 2. **launch**: tasks appear as PENDING shortly after the recompute;
//! 3. **start**: PENDING tasks reach RUNNING tens of seconds later;
//! 4. **steady**: a set whose running count equals its computed count with nothing pending is
//!    STEADY_STATE about 2 seconds after it converged;
//! 5. **stop / drain**: a DRAINING task set stops its tasks, then disappears.
//!
//! [`Timing`] holds one delay per stage; [`TimingProfile`] names the three shapes the project
//! uses, and [`Timing::scaled`] compresses or stretches any of them.

use std::time::Duration;

/// The delays of each stage. A jitter is added uniformly in `0..=jitter` per event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// From a mutating call to the recompute of `computedDesiredCount`.
    pub recompute_delay: Duration,
    /// Added to `recompute_delay`, uniformly in `0..=recompute_jitter`.
    pub recompute_jitter: Duration,
    /// From the recompute to the new tasks being PENDING.
    pub launch_delay: Duration,
    /// How long a task stays PENDING before it is RUNNING.
    pub task_delay: Duration,
    /// Added to `task_delay`, uniformly in `0..=task_jitter`.
    pub task_jitter: Duration,
    /// From convergence (running = computed, nothing pending) to STEADY_STATE.
    pub steady_delay: Duration,
    /// How long a DRAINING task set (or service) takes to stop its tasks.
    pub stop_delay: Duration,
    /// How long a DRAINING task set or service stays visible after its tasks stopped.
    pub drain_delay: Duration,
    /// How long one second of a load balancer's own clock lasts: target-group health-check
    /// intervals (a target is healthy after interval × healthy threshold, 150 s by default)
    /// and the deregistration delay (300 s by default) are counted in it.
    pub health_second: Duration,
}

/// The named timing shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimingProfile {
    /// Every delay zero but one: a mutating call still answers the state from before the
    /// scheduler acts, and the next request sees it settled. A deleted task set or service
    /// stays visible (DRAINING) for 100 ms, as it must be observable at all. For unit tests.
    Instant,
    /// Tens of milliseconds per stage: the embedded conformance suite's default.
    Fast,
    /// The delays the evidence shows, at their real length (use a time scale to compress).
    Aws,
}

impl TimingProfile {
    /// Every profile, fastest first.
    pub const ALL: [TimingProfile; 3] = [
        TimingProfile::Instant,
        TimingProfile::Fast,
        TimingProfile::Aws,
    ];

    /// The profile's name (`instant`, `fast`, `aws`).
    pub fn name(self) -> &'static str {
        match self {
            TimingProfile::Instant => "instant",
            TimingProfile::Fast => "fast",
            TimingProfile::Aws => "aws",
        }
    }

    /// The profile of a name.
    pub fn parse(name: &str) -> Option<TimingProfile> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The delays of the profile, unscaled.
    pub fn timing(self) -> Timing {
        let ms = Duration::from_millis;
        match self {
            TimingProfile::Instant => Timing {
                drain_delay: ms(100),
                ..Timing::instant()
            },
            TimingProfile::Fast => Timing {
                recompute_delay: ms(10),
                recompute_jitter: ms(20),
                launch_delay: ms(5),
                task_delay: ms(20),
                task_jitter: ms(10),
                steady_delay: ms(10),
                stop_delay: ms(50),
                drain_delay: ms(500),
                // Healthy 150 ms after registration, draining 300 ms (the defaults).
                health_second: ms(1),
            },
            // Sources (conformance/evidence/transcript.scale-timeline.json, replayed by
            // `ecs-conformance evidence --replay`): the old computedDesiredCount is still
            // answered 4 and 5 s after CreateTaskSet or UpdateTaskSet and the new one 6 s after
            // (recompute in 5.3-5.7 s); the new tasks are PENDING 8-9 s after the call, not
            // 7 s (launch 2.7 s after the recompute); the first tasks were still PENDING 22 s
            // later and all 100 RUNNING within 85 s of the last change (start 25-55 s); STEADY_STATE
            // about 2 s after convergence. Stopping and draining are our assumption (A17).
            TimingProfile::Aws => Timing {
                recompute_delay: ms(5_300),
                recompute_jitter: ms(400),
                launch_delay: ms(2_700),
                task_delay: ms(25_000),
                task_jitter: ms(30_000),
                steady_delay: ms(2_000),
                stop_delay: ms(10_000),
                drain_delay: ms(20_000),
                // ELBv2's own seconds (documented: interval × threshold to healthy, the
                // deregistration delay to done).
                health_second: ms(1_000),
            },
        }
    }
}

impl std::fmt::Display for TimingProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for TimingProfile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimingProfile::parse(s)
            .ok_or_else(|| format!("unknown timing profile {s:?}: use instant, fast or aws"))
    }
}

/// The time scale of the default timing: the AWS shape compressed so that a task set settles in
/// about a second, so a controller tested against the emulator still meets stale answers.
pub const DEFAULT_TIME_SCALE: f64 = 0.02;

impl Default for Timing {
    /// The AWS shape at [`DEFAULT_TIME_SCALE`].
    fn default() -> Self {
        TimingProfile::Aws.timing().scaled(DEFAULT_TIME_SCALE)
    }
}

impl Timing {
    /// Every delay zero.
    pub fn instant() -> Timing {
        Timing {
            recompute_delay: Duration::ZERO,
            recompute_jitter: Duration::ZERO,
            launch_delay: Duration::ZERO,
            task_delay: Duration::ZERO,
            task_jitter: Duration::ZERO,
            steady_delay: Duration::ZERO,
            stop_delay: Duration::ZERO,
            drain_delay: Duration::ZERO,
            health_second: Duration::ZERO,
        }
    }

    /// Every delay multiplied by `factor` (0.1 runs ten times faster than the shape). A factor
    /// that is negative or not finite is taken as 0.
    pub fn scaled(&self, factor: f64) -> Timing {
        let f = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            0.0
        };
        let s = |d: Duration| Duration::try_from_secs_f64(d.as_secs_f64() * f).unwrap_or(d);
        Timing {
            recompute_delay: s(self.recompute_delay),
            recompute_jitter: s(self.recompute_jitter),
            launch_delay: s(self.launch_delay),
            task_delay: s(self.task_delay),
            task_jitter: s(self.task_jitter),
            steady_delay: s(self.steady_delay),
            stop_delay: s(self.stop_delay),
            drain_delay: s(self.drain_delay),
            health_second: s(self.health_second),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_by_name() {
        for p in TimingProfile::ALL {
            assert_eq!(p.name().parse::<TimingProfile>(), Ok(p));
        }
        assert!("slow".parse::<TimingProfile>().is_err());
    }

    #[test]
    fn scaling_multiplies_every_delay() {
        let aws = TimingProfile::Aws.timing();
        let tenth = aws.scaled(0.1);
        assert_eq!(tenth.recompute_delay, Duration::from_millis(530));
        assert_eq!(tenth.task_jitter, Duration::from_millis(3_000));
        assert_eq!(aws.scaled(f64::NAN), Timing::instant());
        assert_eq!(
            TimingProfile::Instant.timing(),
            Timing {
                drain_delay: Duration::from_millis(100),
                ..Timing::instant()
            }
        );
        assert_eq!(aws.scaled(-1.0), Timing::instant());
        assert_eq!(aws.scaled(1.0), aws);
    }

    #[test]
    fn the_default_settles_in_about_a_second_but_not_at_once() {
        let d = Timing::default();
        assert!(d.recompute_delay > Duration::ZERO);
        // The longest a task set can take from a call to STEADY_STATE.
        let longest = d.recompute_delay
            + d.recompute_jitter
            + d.launch_delay
            + d.task_delay
            + d.task_jitter
            + d.steady_delay;
        assert!(longest >= Duration::from_millis(500), "{longest:?}");
        assert!(longest <= Duration::from_secs(3), "{longest:?}");
    }
}
