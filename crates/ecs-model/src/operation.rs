//! The operation trait and table entry; one generated marker type per operation implements it.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::errors::ModeledError;
use crate::validate::Validate;

/// What the model says about one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperationInfo {
    /// `CreateTaskSet`.
    pub name: &'static str,
    /// The `X-Amz-Target` header value, `AmazonEC2ContainerServiceV20141113.CreateTaskSet`.
    pub target: &'static str,
    /// The input structure's shape name.
    pub input_shape: &'static str,
    /// The output structure's shape name.
    pub output_shape: &'static str,
    /// The modeled exceptions, in model order.
    pub errors: &'static [ModeledError],
    /// Whether the model marks the operation read-only.
    pub readonly: bool,
    /// Whether the model marks the operation idempotent.
    pub idempotent: bool,
    /// The input member the model marks as an idempotency token, if any.
    pub idempotency_token: Option<&'static str>,
}

/// What every operation input and output is: a generated structure that validates, goes to
/// and from JSON, and can be shared across threads.
pub trait Shape:
    Validate
    + Serialize
    + DeserializeOwned
    + Default
    + Clone
    + std::fmt::Debug
    + PartialEq
    + Send
    + Sync
    + 'static
{
}

impl<T> Shape for T where
    T: Validate
        + Serialize
        + DeserializeOwned
        + Default
        + Clone
        + std::fmt::Debug
        + PartialEq
        + Send
        + Sync
        + 'static
{
}

/// An ECS operation: its input and output types, its error type and its table entry.
pub trait Operation {
    /// The request structure.
    type Input: Shape;
    /// The answer structure.
    type Output: Shape;
    /// The exceptions the operation can answer (`errors::CreateTaskSetError`, ...).
    type Error: OperationError;
    /// What the model says of the operation.
    const INFO: OperationInfo;
}

/// One operation's error codes as a closed enum with an opaque `Unhandled` case: a generated
/// `<Operation>Error` per operation implements it.
pub trait OperationError:
    Clone + std::fmt::Debug + std::fmt::Display + PartialEq + Eq + Send + Sync + 'static
{
    /// The error for a bare code (`ServiceNotFoundException`); codes the model does not list
    /// for the operation become `Unhandled`.
    fn from_code(code: &str) -> Self;
    /// The wire code.
    fn code(&self) -> &str;
    /// The modeled exception, unless the code is one the operation does not list.
    fn modeled(&self) -> Option<ModeledError>;
}

/// Finds an operation by name (`CreateTaskSet`) or by `X-Amz-Target` value.
pub fn find(name_or_target: &str) -> Option<&'static OperationInfo> {
    let name = match name_or_target.split_once('.') {
        Some((prefix, name)) if prefix == crate::TARGET_PREFIX => name,
        Some(_) => return None,
        None => name_or_target,
    };
    crate::operations::OPERATIONS
        .iter()
        .find(|op| op.name == name)
}
