//! The deployment id: the one name a deployment is known by, across crashes and re-runs.
//!
//! It is the `clientToken` of the deployment's CreateTaskSet, so a retried or resumed create
//! answers the set already made, and it is written into the new set's `externalId` (with
//! [`EXTERNAL_ID_PREFIX`]) so a re-run finds the set in DescribeServices without any state of
//! its own.

use std::fmt;

use sha2::{Digest, Sha256};

/// What ecs-deploy writes before the deployment id in the `externalId` of the sets it creates.
pub const EXTERNAL_ID_PREFIX: &str = "ecs-deploy/";

/// The longest id: a CreateTaskSet `clientToken` is at most 36 characters (API reference).
pub const MAX_LEN: usize = 36;

/// A deployment id: 1 to 36 characters among letters, digits and `_ . : / = + - @`: what both
/// a CreateTaskSet client token (printable ASCII) and an ECS tag value (where the id is
/// written in the lease and the rollback record) allow.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeploymentId(String);

/// An id that cannot be a client token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("deployment id {id:?}: {reason}")]
pub struct DeploymentIdError {
    /// The id given.
    pub id: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl DeploymentId {
    /// An id chosen by the caller (a CI run id, a release name).
    pub fn new(id: impl Into<String>) -> Result<DeploymentId, DeploymentIdError> {
        let id = id.into();
        let reason = if id.is_empty() {
            Some("it is empty")
        } else if id.len() > MAX_LEN {
            Some("it is longer than 36 characters, the client-token limit")
        } else if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:/=+-@".contains(&b))
        {
            Some("it has a character other than letters, digits and _ . : / = + - @ (what a client token and a tag value both allow)")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(DeploymentIdError { id, reason }),
            None => Ok(DeploymentId(id)),
        }
    }

    /// The id a deployment of `task_definition` to `cluster`/`service` with `strategy` gets
    /// when none is given: `d-` and 32 hex digits of a SHA-256 of the four. Running the same
    /// command again names the same deployment, which is what makes a re-run resume.
    pub fn derive(cluster: &str, service: &str, task_definition: &str, strategy: &str) -> Self {
        let mut hash = Sha256::new();
        for part in [cluster, service, task_definition, strategy] {
            hash.update(part.as_bytes());
            hash.update([0u8]);
        }
        let digest = hash.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        DeploymentId(format!("d-{hex}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `externalId` of the task set this deployment creates.
    pub fn external_id(&self) -> String {
        format!("{EXTERNAL_ID_PREFIX}{}", self.0)
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn derived_ids_are_stable_distinct_and_fit_a_client_token() {
        let a = DeploymentId::derive("c", "web", "web:7", "linear:20%,1m");
        assert_eq!(
            a,
            DeploymentId::derive("c", "web", "web:7", "linear:20%,1m")
        );
        assert_ne!(
            a,
            DeploymentId::derive("c", "web", "web:8", "linear:20%,1m")
        );
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(
            DeploymentId::derive("ab", "c", "t", "s"),
            DeploymentId::derive("a", "bc", "t", "s")
        );
        assert_eq!(a.as_str().len(), 34);
        assert!(DeploymentId::new(a.as_str()).is_ok());
        assert_eq!(a.external_id(), format!("ecs-deploy/{a}"));
    }

    #[test]
    fn ids_outside_the_client_token_alphabet_are_refused() {
        assert!(DeploymentId::new("release-2026.12.02").is_ok());
        assert!(DeploymentId::new("ci/run:42@main+1").is_ok());
        // Printable, but not in a tag value: a lease or rollback record would not match it.
        for bad in [
            "",
            "has space",
            "é",
            &"x".repeat(37),
            "build#42",
            "a%b",
            "x(1)",
        ] {
            assert!(DeploymentId::new(bad).is_err(), "{bad:?}");
        }
    }
}
