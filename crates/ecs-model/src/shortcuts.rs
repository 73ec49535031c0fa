//! Constructors for values a task-set controller writes all the time, so a request reads as
//! what it asks for: `Scale::percent(12.5)` rather than a builder with a unit, and
//! `Action::forward_weighted([(blue, 90), (green, 10)])` rather than three nested builders.

use crate::decimal::IntoDecimal;
use crate::elbv2::types::{Action, ForwardActionConfig, TargetGroupTuple};
use crate::types::{DeploymentController, DeploymentControllerType, Scale, ScaleUnit};
use crate::DecimalError;

impl Scale {
    /// A scale of `value` percent of the service's desired count: an integer, an exact
    /// [`Decimal`](crate::Decimal), or a double read through its shortest decimal text (so
    /// `12.5` is exactly 12.5 and `33.3` exactly 33.3, never 33.299999…).
    ///
    /// # Panics
    ///
    /// On a double with no exact decimal form: NaN, an infinity, a magnitude of 7.9e28 or more,
    /// or one below 1e-28. As with [`std::time::Duration::from_secs_f64`], such a value is the
    /// caller's mistake, and a scale quietly left without a value would be read as 0 %. A value
    /// computed at run time should go through [`Scale::try_percent`], which never panics.
    #[track_caller]
    pub fn percent(value: impl IntoDecimal) -> Scale {
        match Scale::try_percent(value) {
            Ok(scale) => scale,
            Err(e) => panic!("Scale::percent: {e}"),
        }
    }

    /// [`Scale::percent`], failing on a value that has no exact decimal form.
    pub fn try_percent(value: impl IntoDecimal) -> Result<Scale, DecimalError> {
        Ok(Scale {
            value: Some(value.into_decimal()?),
            unit: Some(ScaleUnit::Percent),
            ..Default::default()
        })
    }
}

impl DeploymentController {
    /// A deployment controller of the given type (`ECS`, `CODE_DEPLOY` or `EXTERNAL`).
    pub fn of(kind: DeploymentControllerType) -> DeploymentController {
        DeploymentController {
            r#type: Some(kind),
            ..Default::default()
        }
    }
}

impl TargetGroupTuple {
    /// A target group with its weight in a weighted forward (0 to 999 on ELBv2).
    pub fn weighted(target_group_arn: impl Into<String>, weight: i32) -> TargetGroupTuple {
        TargetGroupTuple::builder()
            .target_group_arn(target_group_arn)
            .weight(weight)
            .build()
    }
}

impl Action {
    /// A `forward` action that spreads requests over target groups by weight, as a
    /// traffic-shifting deployment writes into a listener or rule:
    /// `Action::forward_weighted([(blue_arn, 90), (green_arn, 10)])`.
    pub fn forward_weighted<S: Into<String>>(groups: impl IntoIterator<Item = (S, i32)>) -> Action {
        let target_groups = groups
            .into_iter()
            .map(|(arn, weight)| TargetGroupTuple::weighted(arn, weight))
            .collect();
        Action::builder()
            .r#type("forward")
            .forward_config(
                ForwardActionConfig::builder()
                    .set_target_groups(Some(target_groups))
                    .build(),
            )
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decimal;

    #[test]
    fn shortcuts_fill_the_members_they_name() {
        let s = Scale::percent(50);
        assert_eq!(s.value, Some(Decimal::from(50)));
        assert_eq!(Scale::percent(12.5).value, Some("12.5".parse().unwrap()));
        assert_eq!(Scale::percent(33.3).value, Some("33.3".parse().unwrap()));
        assert_eq!(Scale::percent(0.1_f32).value, Some("0.1".parse().unwrap()));
        assert_eq!(Scale::percent(100_u8).value, Some(Decimal::ONE_HUNDRED));
        let exact: Decimal = "66.67".parse().unwrap();
        assert_eq!(Scale::percent(exact).value, Some(exact));
        let err = Scale::try_percent(f64::INFINITY).unwrap_err();
        assert!(err.reason.contains("not a finite number"), "{err}");
        assert!(Scale::try_percent(f64::NAN).is_err());
        assert!(Scale::try_percent(1e30).is_err());
        assert_eq!(s.unit, Some(ScaleUnit::Percent));
        let d = DeploymentController::of(DeploymentControllerType::External);
        assert_eq!(d.r#type, Some(DeploymentControllerType::External));
    }

    #[test]
    #[should_panic(expected = "Scale::percent: NaN cannot be held as an exact decimal")]
    fn a_double_without_a_decimal_form_is_refused_not_sent_as_zero() {
        let _ = Scale::percent(f64::NAN);
    }

    #[test]
    fn a_weighted_forward_names_each_group_with_its_weight_in_order() {
        let action = Action::forward_weighted([("arn:blue", 90), ("arn:green", 10)]);
        assert_eq!(action.r#type.as_deref(), Some("forward"));
        assert_eq!(action.target_group_arn, None);
        let groups = action
            .forward_config
            .and_then(|f| f.target_groups)
            .unwrap_or_default();
        let pairs: Vec<(Option<String>, Option<i32>)> = groups
            .into_iter()
            .map(|g| (g.target_group_arn, g.weight))
            .collect();
        assert_eq!(
            pairs,
            vec![
                (Some("arn:blue".to_owned()), Some(90)),
                (Some("arn:green".to_owned()), Some(10)),
            ]
        );
    }
}
