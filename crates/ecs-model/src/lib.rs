//! Types, validators and JSON Schemas for the whole Amazon ECS API (`2014-11-13`), generated
//! from botocore's service model, plus the documented rules the model does not carry.
//!
//! - [`types`]: every shape. All structure members are `Option`, so an absent member is never
//!   confused with zero or empty; unknown members are kept in `unknown_fields`; enums keep
//!   unknown values in an opaque `Unknown` variant. Everything round-trips without loss.
//!   Structures are `#[non_exhaustive]` and built through builders (`Scale::builder()`), so a
//!   member a later model adds breaks no caller.
//! - [`operations`]: one marker type per operation implementing [`Operation`], and the table
//!   [`operations::OPERATIONS`].
//! - [`Validate`]: every violation of a value at once, with JSON paths and rule ids: model
//!   traits (`model.*`) and documented prose rules ([`rules`], `doc.*`).
//! - [`semantics`]: exact `computedDesiredCount` and answer invariants.
//! - [`schema`]: JSON Schema of every shape, for validating raw JSON.
//!
//! ```
//! use ecs_model::types::{CreateTaskSetRequest, Scale, ScaleUnit};
//! use ecs_model::{Decimal, Validate};
//!
//! let request = CreateTaskSetRequest::builder()
//!     .cluster("default")
//!     .service("web")
//!     .task_definition("web:3")
//!     .scale(Scale::builder().value(150).unit(ScaleUnit::Percent).build())
//!     .build();
//! let err = request.validate().unwrap_err();
//! assert_eq!(err.violations[0].path, "scale.value");
//! assert_eq!(err.violations[0].rule, "doc.scale.range");
//!
//! let count = ecs_model::semantics::computed_desired_count(3, "33.3".parse::<Decimal>().unwrap()).unwrap();
//! assert_eq!(count, 1);
//! ```
//!
//! Structures are built through their builders; a literal outside this crate does not compile,
//! so a member that a later model adds breaks no caller:
//!
//! ```compile_fail,E0639
//! let scale = ecs_model::types::Scale { value: None, unit: None, unknown_fields: Default::default() };
//! ```
#![warn(missing_docs)]

pub mod arn;
mod decimal;
mod decode;
/// The Elastic Load Balancing v2 operations ecs-deploy and the reference emulator use
/// (awsQuery; see [`query`]).
#[path = "generated/elbv2.rs"]
pub mod elbv2;
mod generated;
pub mod operation;
pub mod query;
pub mod rules;
pub mod schema;
pub mod semantics;
mod shortcuts;
pub mod validate;
pub mod wire;

pub use aws_smithy_types::DateTime;
pub use decimal::{Decimal, DecimalError, IntoDecimal};
pub use decode::{from_json, from_value, DecodeError};
pub use generated::{
    errors, operations, types, API_VERSION, JSON_VERSION, MODEL_UID, OPERATION_COUNT, SHAPE_COUNT,
    SIGNING_NAME, TARGET_PREFIX,
};
pub use operation::{Operation, OperationError, OperationInfo, Shape};
pub use validate::{Validate, ValidationError, Violation, ViolationKind};

/// Version of the generator and of the botocore model the generated code comes from.
pub const MODEL_SOURCE: &str = "botocore 1.44.5, data/ecs/2014-11-13/service-2.json";

/// The botocore release the ECS model comes from (`model/PROVENANCE.json`; a test keeps the two
/// and [`MODEL_SOURCE`] in step).
pub const BOTOCORE_VERSION: &str = "1.44.5";
