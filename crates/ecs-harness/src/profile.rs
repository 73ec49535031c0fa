//! Target profiles: what a target provides beyond the API, and how setup requests must place
//! tasks there. A profile is a small TOML file:
//!
//! ```toml
//! name = "aws-sandbox"
//! region = "eu-west-1"
//! capabilities = ["tasks-run"]      # see ecs_harness::fixture::CAPABILITIES
//!
//! [placement]                       # merged into CreateTaskSet/CreateService requests that set
//! launchType = "FARGATE"            # none of these members themselves
//! [placement.networkConfiguration.awsvpcConfiguration]
//! subnets = ["subnet-0123456789abcdef0"]
//! securityGroups = ["sg-0123456789abcdef0"]
//! ```

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::fixture::CAPABILITIES;

/// A target profile.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    /// The profile's name, for reports.
    pub name: String,
    /// The region requests are signed for (`None`: the environment's).
    pub region: Option<String>,
    /// What the target provides beyond the API.
    pub capabilities: Vec<String>,
    /// `launchType` or `capacityProviderStrategy`, and `networkConfiguration`.
    pub placement: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    capabilities: Vec<String>,
    #[serde(default)]
    placement: Option<toml::Table>,
}

/// A profile that could not be read, with the file and the member at fault.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ProfileError {
    /// The profile file.
    pub file: String,
    /// What is wrong with it.
    pub message: String,
}

/// The request members a profile's placement may set.
pub const PLACEMENT_MEMBERS: [&str; 3] = [
    "launchType",
    "capacityProviderStrategy",
    "networkConfiguration",
];

impl Profile {
    /// Reads and checks a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
            file: file.clone(),
            message: e.to_string(),
        })?;
        Profile::parse(&file, &text)
    }

    /// Parses a profile's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Profile, ProfileError> {
        let err = |message: String| ProfileError {
            file: file.to_owned(),
            message,
        };
        let raw: ProfileFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        for c in &raw.capabilities {
            if !CAPABILITIES.contains(&c.as_str()) {
                return Err(err(format!(
                    "capabilities: {c:?} is not a capability (known: {})",
                    CAPABILITIES.join(", ")
                )));
            }
        }
        let placement = match raw.placement {
            None => None,
            Some(table) => {
                let value = serde_json::to_value(&table).map_err(|e| err(e.to_string()))?;
                let Value::Object(map) = value else {
                    return Err(err("placement: must be a table".into()));
                };
                if let Some(k) = map
                    .keys()
                    .find(|k| !PLACEMENT_MEMBERS.contains(&k.as_str()))
                {
                    return Err(err(format!(
                        "placement.{k}: not a placement member (use {})",
                        PLACEMENT_MEMBERS.join(", ")
                    )));
                }
                if map.contains_key("launchType") && map.contains_key("capacityProviderStrategy") {
                    return Err(err(
                        "placement: launchType and capacityProviderStrategy exclude each other"
                            .into(),
                    ));
                }
                Some(map)
            }
        };
        Ok(Profile {
            name: raw.name,
            region: raw.region,
            capabilities: raw.capabilities,
            placement,
        })
    }

    /// One line: the profile's name, capabilities and placement.
    pub fn describe(&self) -> String {
        let caps = if self.capabilities.is_empty() {
            "none".to_owned()
        } else {
            self.capabilities.join(", ")
        };
        let placement = self.placement.as_ref().map_or_else(
            || "as each case asks".to_owned(),
            |p| Value::Object(p.clone()).to_string(),
        );
        format!(
            "profile {}: capabilities {caps}; placement {placement}",
            self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_profile_parses() {
        let p = Profile::parse(
            "p.toml",
            r#"
name = "sandbox"
region = "eu-west-1"
capabilities = ["tasks-run"]
[placement]
launchType = "FARGATE"
[placement.networkConfiguration.awsvpcConfiguration]
subnets = ["subnet-1"]
"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.region.as_deref(), Some("eu-west-1"));
        assert_eq!(p.capabilities, ["tasks-run"]);
        let placement = p.placement.unwrap_or_default();
        assert_eq!(placement["launchType"], "FARGATE");
        assert_eq!(
            placement["networkConfiguration"]["awsvpcConfiguration"]["subnets"][0],
            "subnet-1"
        );
    }

    #[test]
    fn mistakes_name_the_file_and_the_member() {
        for (text, needle) in [
            (
                "name = \"x\"\ncapabilities = [\"fly\"]",
                "capabilities: \"fly\"",
            ),
            (
                "name = \"x\"\n[placement]\ncluster = \"c\"",
                "placement.cluster",
            ),
            (
                "name = \"x\"\n[placement]\nlaunchType = \"EC2\"\ncapacityProviderStrategy = []",
                "exclude each other",
            ),
            ("name = \"x\"\nextra = 1", "extra"),
            ("capabilities = []", "name"),
        ] {
            let e = Profile::parse("bad.toml", text).expect_err(text);
            let shown = e.to_string();
            assert!(shown.starts_with("bad.toml: "), "{shown}");
            assert!(shown.contains(needle), "{shown} should mention {needle}");
        }
    }
}
