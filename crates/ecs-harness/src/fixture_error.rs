//! A fixture problem, located: the file, the JSON pointer and what is wrong, for the loader,
//! the template expansion and the evidence corpus alike.

/// A fixture problem, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {path}: {message}")]
pub struct FixtureError {
    /// The fixture file.
    pub file: String,
    /// JSON pointer of the offending value (`/cases/3/steps/1/op`), or `/` for the file.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Every problem found in a fixtures directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} fixture problem(s):\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
pub struct LoadErrors(pub Vec<FixtureError>);
