//! Constructors for values a task-set controller writes all the time, so a request reads as
//! what it asks for: `Scale::percent(12.5)` rather than a builder with a unit.

use crate::decimal::IntoDecimal;
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
}
