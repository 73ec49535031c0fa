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
    pub input_shape: &'static str,
    pub output_shape: &'static str,
    /// The modeled exceptions, in model order.
    pub errors: &'static [ModeledError],
    pub readonly: bool,
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

/// An ECS operation: its input and output types and its table entry.
pub trait Operation {
    type Input: Shape;
    type Output: Shape;
    const INFO: OperationInfo;
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
