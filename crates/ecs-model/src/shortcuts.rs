//! Constructors for values a task-set controller writes all the time, so a request reads as
//! what it asks for: `Scale::percent(50)` rather than a struct literal with a unit.

use crate::types::{DeploymentController, DeploymentControllerType, Scale, ScaleUnit};
use crate::Decimal;

impl Scale {
    /// A scale of `value` percent of the service's desired count.
    pub fn percent(value: impl Into<Decimal>) -> Scale {
        Scale {
            value: Some(value.into()),
            unit: Some(ScaleUnit::Percent),
            ..Default::default()
        }
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

    #[test]
    fn shortcuts_fill_the_members_they_name() {
        let s = Scale::percent(50);
        assert_eq!(s.value, Some(Decimal::from(50)));
        assert_eq!(s.unit, Some(ScaleUnit::Percent));
        let d = DeploymentController::of(DeploymentControllerType::External);
        assert_eq!(d.r#type, Some(DeploymentControllerType::External));
    }
}
