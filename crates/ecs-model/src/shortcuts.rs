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
    /// A double that is not finite has no decimal form: the scale is then left without a
    /// value, which a request's validation does not catch; [`Scale::try_percent`] says why.
    pub fn percent(value: impl IntoDecimal) -> Scale {
        Scale::try_percent(value).unwrap_or_else(|_| Scale {
            unit: Some(ScaleUnit::Percent),
            ..Default::default()
        })
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
        let nan = Scale::percent(f64::NAN);
        assert_eq!((nan.value, nan.unit), (None, Some(ScaleUnit::Percent)));
        let err = Scale::try_percent(f64::INFINITY).unwrap_err();
        assert!(err.reason.contains("not a finite number"), "{err}");
        assert_eq!(s.unit, Some(ScaleUnit::Percent));
        let d = DeploymentController::of(DeploymentControllerType::External);
        assert_eq!(d.r#type, Some(DeploymentControllerType::External));
    }
}
