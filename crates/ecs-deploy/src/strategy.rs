//! How the new task set grows: the strategies and the steps they make.
//!
//! A strategy is a list of steps; each step scales the new task set to a percentage of the
//! service's desired count, waits for it to settle, bakes for a while and asks the health
//! gate. The last step always reaches 100%, after which the new set becomes the primary.
//!
//! | text | steps |
//! |---|---|
//! | `blue-green` | 100% (no bake) |
//! | `blue-green:5m` | 100%, bake 5 minutes before the switch |
//! | `canary:10%,5m` | 10% bake 5 minutes, then 100% |
//! | `linear:20%,1m` | 20%, 40%, 60%, 80% each baking 1 minute, then 100% |
//!
//! As with CodeDeploy's canary and linear configurations, the bake comes after each step but
//! the last: once the new set holds 100% the switch follows (blue-green's optional bake is
//! the exception, since its only step is the last).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use ecs_model::Decimal;

/// A deployment strategy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// The new set goes to 100% at once, bakes, then takes over.
    BlueGreen {
        /// Time at 100% before the switch.
        bake: Duration,
    },
    /// The new set goes to `percent`, bakes, then to 100%.
    Canary {
        /// The canary's share, above 0 and below 100.
        percent: Decimal,
        /// Time at the canary's share.
        bake: Duration,
    },
    /// The new set grows by `percent` at a time, baking `interval` after each step.
    Linear {
        /// Each step's increment, above 0 and at most 100.
        percent: Decimal,
        /// Time after each step but the last.
        interval: Duration,
    },
}

/// The most steps a strategy may make: a linear increment is at least 1%. A longer list
/// only multiplies calls and waits (this project's bound, not an AWS limit).
pub const MAX_STEPS: usize = 100;

/// The longest bake or interval: a day (this project's bound, not an AWS limit). A longer
/// hold is better served by a gate that says no until it is time.
pub const MAX_BAKE: Duration = Duration::from_secs(24 * 60 * 60);

/// One step of a strategy: scale the new set to `percent`, then bake for `bake`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The new set's scale, in percent of the service's desired count.
    pub percent: Decimal,
    /// How long to hold the step once it settled, before the health gate is asked.
    pub bake: Duration,
}

/// A strategy text that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("strategy {text:?}: {reason} (use blue-green[:BAKE], canary:PERCENT%,BAKE or linear:PERCENT%,INTERVAL)")]
pub struct StrategyError {
    /// The text given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Strategy {
    /// Whether the strategy can run: a canary's share above 0% and below 100%, a linear
    /// increment of at least 1% (at most [`MAX_STEPS`] steps) and at most 100%, and every
    /// bake at most [`MAX_BAKE`].
    pub fn validate(&self) -> Result<(), StrategyError> {
        let fail = |reason: String| {
            Err(StrategyError {
                text: self.to_string(),
                reason,
            })
        };
        let (percent, bake) = match self {
            Strategy::BlueGreen { bake } => (None, bake),
            Strategy::Canary { percent, bake } => {
                if *percent <= Decimal::ZERO || *percent >= Decimal::ONE_HUNDRED {
                    return fail(format!(
                        "a canary's share must be above 0% and below 100%, not {percent}%"
                    ));
                }
                (None, bake)
            }
            Strategy::Linear { percent, interval } => (Some(percent), interval),
        };
        if let Some(percent) = percent {
            if *percent < Decimal::ONE || *percent > Decimal::ONE_HUNDRED {
                return fail(format!(
                    "a linear increment must be at least 1% (at most {MAX_STEPS} steps) and at most 100%, not {percent}%"
                ));
            }
        }
        if *bake > MAX_BAKE {
            return fail(format!(
                "a bake or interval of {} is longer than the limit of {}",
                humantime::format_duration(*bake),
                humantime::format_duration(MAX_BAKE)
            ));
        }
        Ok(())
    }

    /// The steps, in order; the last one is at 100%. A strategy that does not
    /// [validate](Strategy::validate) has none.
    pub fn steps(&self) -> Result<Vec<Step>, StrategyError> {
        self.validate()?;
        let hundred = Decimal::ONE_HUNDRED;
        Ok(match self {
            Strategy::BlueGreen { bake } => vec![Step {
                percent: hundred,
                bake: *bake,
            }],
            Strategy::Canary { percent, bake } => vec![
                Step {
                    percent: *percent,
                    bake: *bake,
                },
                Step {
                    percent: hundred,
                    bake: Duration::ZERO,
                },
            ],
            Strategy::Linear { percent, interval } => {
                // At least 1% a step (validated): at most MAX_STEPS iterations.
                let mut steps = vec![];
                let mut at = percent.get();
                while at < hundred.get() {
                    steps.push(Step {
                        percent: Decimal::new(at.normalize()),
                        bake: *interval,
                    });
                    at += percent.get();
                }
                steps.push(Step {
                    percent: hundred,
                    bake: Duration::ZERO,
                });
                steps
            }
        })
    }
}

impl FromStr for Strategy {
    type Err = StrategyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| StrategyError {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (kind, args) = text.split_once(':').unwrap_or((text, ""));
        let strategy = match kind {
            "blue-green" | "bluegreen" | "blue_green" => {
                let bake = if args.is_empty() {
                    Duration::ZERO
                } else {
                    parse_duration(args).map_err(|r| fail(&r))?
                };
                Strategy::BlueGreen { bake }
            }
            "canary" | "linear" => {
                let (percent, duration) = args
                    .split_once(',')
                    .ok_or_else(|| fail("give a percentage and a duration, as in 10%,5m"))?;
                let percent = parse_percent(percent).map_err(|r| fail(&r))?;
                let duration = parse_duration(duration).map_err(|r| fail(&r))?;
                if kind == "canary" {
                    if percent >= Decimal::ONE_HUNDRED {
                        return Err(fail("a canary's share must be below 100%"));
                    }
                    Strategy::Canary {
                        percent,
                        bake: duration,
                    }
                } else {
                    Strategy::Linear {
                        percent,
                        interval: duration,
                    }
                }
            }
            _ => return Err(fail("unknown strategy")),
        };
        strategy.validate().map_err(|e| fail(&e.reason))?;
        Ok(strategy)
    }
}

fn parse_percent(text: &str) -> Result<Decimal, String> {
    let number = text.trim().trim_end_matches('%');
    let value: Decimal = number
        .parse()
        .map_err(|_| format!("{text:?} is not a percentage"))?;
    if value <= Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        return Err(format!("{text:?} is not above 0% and at most 100%"));
    }
    Ok(Decimal::new(value.get().normalize()))
}

/// A duration as `90s`, `5m`, `1h 30m` or `250ms` (humantime's forms); a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(text).map_err(|e| format!("{text:?} is not a duration: {e}"))
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = |d: &Duration| humantime::format_duration(*d).to_string();
        match self {
            Strategy::BlueGreen { bake } if bake.is_zero() => f.write_str("blue-green"),
            Strategy::BlueGreen { bake } => write!(f, "blue-green:{}", d(bake)),
            Strategy::Canary { percent, bake } => write!(f, "canary:{percent}%,{}", d(bake)),
            Strategy::Linear { percent, interval } => {
                write!(f, "linear:{percent}%,{}", d(interval))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn percents(s: &str) -> Vec<String> {
        s.parse::<Strategy>()
            .unwrap()
            .steps()
            .unwrap()
            .iter()
            .map(|s| format!("{}@{}", s.percent, s.bake.as_secs()))
            .collect()
    }

    #[test]
    fn steps_of_each_strategy() {
        assert_eq!(percents("blue-green"), ["100@0"]);
        assert_eq!(percents("blue-green:2m"), ["100@120"]);
        assert_eq!(percents("canary:10%,5m"), ["10@300", "100@0"]);
        assert_eq!(
            percents("linear:20%,1m"),
            ["20@60", "40@60", "60@60", "80@60", "100@0"]
        );
        assert_eq!(
            percents("linear:30%,30s"),
            ["30@30", "60@30", "90@30", "100@0"]
        );
        assert_eq!(percents("linear:100%,1m"), ["100@0"]);
        assert_eq!(percents("linear:12.5,10"), {
            let mut v: Vec<String> = (1..8)
                .map(|i| {
                    format!(
                        "{}@10",
                        Decimal::new(rust_decimal::Decimal::new(125 * i, 1).normalize())
                    )
                })
                .collect();
            v.push("100@0".into());
            v
        });
    }

    #[test]
    fn text_round_trips_and_bad_text_says_why() {
        for s in [
            "blue-green",
            "blue-green:5m",
            "canary:10%,5m",
            "linear:20%,1m",
        ] {
            assert_eq!(s.parse::<Strategy>().unwrap().to_string(), s);
        }
        for (bad, why) in [
            ("rolling", "unknown strategy"),
            ("canary:10%", "give a percentage and a duration"),
            ("canary:100%,1m", "below 100%"),
            ("linear:0%,1m", "above 0%"),
            ("linear:120%,1m", "above 0%"),
            ("linear:ten%,1m", "not a percentage"),
            ("canary:10%,soon", "not a duration"),
            // 10^9 steps.
            ("linear:0.0000001%,1m", "at least 1%"),
            ("linear:0.5%,1m", "at least 1% (at most 100 steps)"),
            ("canary:0.0%,1m", "above 0%"),
            ("canary:10%,25h", "longer than the limit of 1day"),
            ("blue-green:3days", "longer than the limit"),
        ] {
            let e = bad.parse::<Strategy>().unwrap_err();
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn a_strategy_built_in_code_is_bounded_too() {
        // Built without the parser: a zero increment once looped for ever.
        for bad in [
            Strategy::Linear {
                percent: Decimal::ZERO,
                interval: Duration::ZERO,
            },
            Strategy::Linear {
                percent: "0.0000001".parse().unwrap(),
                interval: Duration::ZERO,
            },
            Strategy::Canary {
                percent: Decimal::ONE_HUNDRED,
                bake: Duration::ZERO,
            },
            Strategy::BlueGreen {
                bake: Duration::MAX,
            },
        ] {
            assert!(bad.steps().is_err(), "{bad:?}");
        }
        let one = Strategy::Linear {
            percent: Decimal::ONE,
            interval: Duration::ZERO,
        };
        assert_eq!(one.steps().unwrap().len(), MAX_STEPS);
    }
}
