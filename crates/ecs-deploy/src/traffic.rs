//! Traffic: which listener or rule carries the service's requests, the two target groups it
//! forwards to, and the weights each step sets on that forward.
//!
//! With traffic configured ([`crate::Deployment::with_traffic`]), the new task set is
//! registered in its own target group (not the old set's), and at each step, once every
//! target of the new set is healthy, the forward action of the production listener (or rule)
//! is given the weights of the step: canary N% forwards N to the new group and 100 − N to the
//! old; a linear step forwards its percentage; blue/green first sends the test listener, when
//! one is given, all to the new group, and the production listener only once the gate passed.
//! A rollback puts the weights found at the start back before it changes any capacity.
//!
//! Weights are whole percents (ELBv2 takes 0 to 999): a step of 12.5% forwards 13.

use ecs_model::elbv2::types::{Action, ForwardActionConfig, TargetGroupTuple};
use ecs_model::Decimal;

/// Where the traffic goes and through what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Traffic {
    /// The production listener or listener rule (its ARN); its forward action is weighed.
    pub listener: String,
    /// A test listener or rule, for blue/green: it forwards all to the new group before the
    /// production listener does.
    pub test_listener: Option<String>,
    /// The new task set's target group; when `None`, the group the production forward names
    /// besides the old one.
    pub target_group: Option<String>,
    /// The old task set's target group; when `None`, the group of the primary task set's load
    /// balancer.
    pub old_target_group: Option<String>,
}

impl Traffic {
    /// Traffic through `listener` (a listener or rule ARN), the groups found on the service.
    pub fn through(listener: impl Into<String>) -> Traffic {
        Traffic {
            listener: listener.into(),
            test_listener: None,
            target_group: None,
            old_target_group: None,
        }
    }
}

/// A listener or a rule, told apart by its ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Listener(String),
    Rule(String),
}

impl Route {
    /// The route an ARN names, or why it names none.
    pub fn of(arn: &str) -> Result<Route, String> {
        if arn.contains(":listener-rule/") {
            Ok(Route::Rule(arn.to_owned()))
        } else if arn.contains(":listener/") {
            Ok(Route::Listener(arn.to_owned()))
        } else {
            Err(format!(
                "{arn:?} is neither a listener nor a listener rule ARN"
            ))
        }
    }

    pub fn arn(&self) -> &str {
        match self {
            Route::Listener(a) | Route::Rule(a) => a,
        }
    }
}

/// The two weights of a forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weights {
    /// The old group's.
    pub old: i32,
    /// The new group's.
    pub new: i32,
}

impl Weights {
    /// `percent` to the new group, the rest to the old, in whole percents (half up).
    pub fn at(percent: Decimal) -> Weights {
        let new = percent
            .get()
            .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        let new = i32::try_from(new.mantissa()).unwrap_or(100).clamp(0, 100);
        Weights {
            old: 100 - new,
            new,
        }
    }

    /// A tag value: `old/new`.
    pub fn to_tag(self) -> String {
        format!("{}/{}", self.old, self.new)
    }

    /// Reads [`Weights::to_tag`].
    pub fn from_tag(value: &str) -> Option<Weights> {
        let (old, new) = value.split_once('/')?;
        let w = Weights {
            old: old.trim().parse().ok()?,
            new: new.trim().parse().ok()?,
        };
        ((0..=999).contains(&w.old) && (0..=999).contains(&w.new)).then_some(w)
    }
}

impl std::fmt::Display for Weights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.old, self.new)
    }
}

/// The groups of a forward action, with their weights (a plain `TargetGroupArn` weighs 1).
fn groups_of(action: &Action) -> Vec<(String, i32)> {
    let tuples: Vec<(String, i32)> = action
        .forward_config
        .iter()
        .flat_map(|f| f.target_groups.iter().flatten())
        .filter_map(|t| Some((t.target_group_arn.clone()?, t.weight.unwrap_or(1))))
        .collect();
    if tuples.is_empty() {
        action
            .target_group_arn
            .clone()
            .map(|a| vec![(a, 1)])
            .unwrap_or_default()
    } else {
        tuples
    }
}

fn is_forward(action: &Action) -> bool {
    action.r#type.as_deref() == Some("forward")
}

/// The forward's weights for `old` and `new` (0 for a group it does not name), when a
/// forward names either.
pub(crate) fn weights_in(actions: &[Action], old: &str, new: &str) -> Option<Weights> {
    let action = actions
        .iter()
        .filter(|a| is_forward(a))
        .find(|a| groups_of(a).iter().any(|(g, _)| g == old || g == new))?;
    let groups = groups_of(action);
    let weight = |group: &str| {
        groups
            .iter()
            .find(|(g, _)| g == group)
            .map_or(0, |(_, w)| *w)
    };
    Some(Weights {
        old: weight(old),
        new: weight(new),
    })
}

/// Whether a forward action names `group`.
pub(crate) fn names(actions: &[Action], group: &str) -> bool {
    actions
        .iter()
        .filter(|a| is_forward(a))
        .any(|a| groups_of(a).iter().any(|(g, _)| g == group))
}

/// The group besides `old` that the forward names, if exactly one.
pub(crate) fn other_group(actions: &[Action], old: &str) -> Option<String> {
    let action = actions
        .iter()
        .filter(|a| is_forward(a))
        .find(|a| groups_of(a).iter().any(|(g, _)| g == old))?;
    let others: Vec<String> = groups_of(action)
        .into_iter()
        .map(|(g, _)| g)
        .filter(|g| g != old)
        .collect();
    match others.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// `actions` with the forward that names `old` or `new` forwarding to exactly those two at
/// `weights` (its stickiness kept); `None` when no forward names either.
pub(crate) fn reweigh(
    actions: &[Action],
    old: &str,
    new: &str,
    weights: Weights,
) -> Option<Vec<Action>> {
    let at = actions
        .iter()
        .position(|a| is_forward(a) && groups_of(a).iter().any(|(g, _)| g == old || g == new))?;
    let mut out = actions.to_vec();
    let action = &mut out[at];
    let stickiness = action
        .forward_config
        .as_ref()
        .and_then(|f| f.target_group_stickiness_config.clone());
    action.target_group_arn = None;
    action.forward_config = Some(
        ForwardActionConfig::builder()
            .set_target_groups(Some(vec![
                TargetGroupTuple::weighted(old, weights.old),
                TargetGroupTuple::weighted(new, weights.new),
            ]))
            .set_target_group_stickiness_config(stickiness)
            .build(),
    );
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_step_weighs_its_percent_in_whole_percents() {
        let w = |p: &str| Weights::at(p.parse().unwrap());
        assert_eq!(w("10"), Weights { old: 90, new: 10 });
        assert_eq!(w("12.5"), Weights { old: 87, new: 13 });
        assert_eq!(w("100"), Weights { old: 0, new: 100 });
        assert_eq!(w("0.4"), Weights { old: 100, new: 0 });
        assert_eq!(Weights::from_tag(&w("20").to_tag()), Some(w("20")));
        assert_eq!(Weights::from_tag("1000/0"), None);
    }

    #[test]
    fn reweighing_rewrites_the_forward_that_names_the_groups_and_keeps_the_rest() {
        let redirect = Action::builder().r#type("redirect").build();
        let plain = Action::builder()
            .r#type("forward")
            .target_group_arn("blue")
            .build();
        let actions = vec![redirect.clone(), plain];
        assert_eq!(
            weights_in(&actions, "blue", "green"),
            Some(Weights { old: 1, new: 0 })
        );
        let shifted = reweigh(&actions, "blue", "green", Weights { old: 90, new: 10 }).unwrap();
        assert_eq!(shifted[0], redirect);
        assert_eq!(shifted[1].target_group_arn, None);
        assert_eq!(
            weights_in(&shifted, "blue", "green"),
            Some(Weights { old: 90, new: 10 })
        );
        assert_eq!(
            reweigh(&[redirect], "blue", "green", Weights { old: 0, new: 100 }),
            None
        );
        assert_eq!(
            other_group(
                &[Action::forward_weighted([("blue", 100), ("green", 0)])],
                "blue"
            )
            .as_deref(),
            Some("green")
        );
        assert_eq!(
            other_group(&[Action::forward_weighted([("blue", 100)])], "blue"),
            None
        );
        assert!(Route::of("arn:aws:elasticloadbalancing:r:1:targetgroup/x/1").is_err());
        assert!(matches!(
            Route::of("arn:aws:elasticloadbalancing:r:1:listener-rule/app/a/1/2/3"),
            Ok(Route::Rule(_))
        ));
    }
}
