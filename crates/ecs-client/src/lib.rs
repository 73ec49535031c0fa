//! A small async Amazon ECS client over the generated [`ecs_model`] types.
//!
//! - awsJson1_1 (`POST /`, `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target`),
//!   SigV4-signed (service `ecs`): the client writes the canonical request of its one request
//!   shape and keeps each day's signing key, and `aws-sigv4` derives the key and computes the
//!   signature; an endpoint with a path goes through `aws-sigv4`'s general signer;
//! - region, credentials and endpoint from explicit settings, the environment or the shared
//!   AWS files ([`config`]); with the `aws-config` feature, the AWS SDKs' whole chain (SSO,
//!   roles, `credential_process`, web identity, container and instance credentials), refreshed
//!   before they expire (`chain`, [`credentials`]);
//! - validation before sending, per client and per call ([`ValidationMode`]);
//! - retries in the standard mode ([`retry`]), and a client token filled once for
//!   CreateTaskSet and CreateService so retries cannot create twice;
//! - connect, per-attempt and overall timeouts;
//! - typed errors that keep the raw answer ([`Error`]); a request builder's `send` fails with a
//!   [`CallError`] that reads the answer as the operation's own error enum
//!   (`err.is_service_not_found_exception()`, `err.message()`, `err.request_id()`);
//! - the model re-exported ([`types`], [`errors`], [`operations`]): this crate alone is enough;
//! - the Elastic Load Balancing v2 operations a traffic-shifting controller calls, on the same
//!   pool and settings ([`EcsClient::elbv2`], [`elbv2`]: awsQuery, generated types);
//! - a request builder per operation (`client.create_task_set().cluster(..)...send()`), and
//!   [`EcsClient::send`] for inputs built whole. Without the `full` feature only the operations
//!   a task-set controller calls are built.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ecs_client::EcsClient;
//!
//! let client = EcsClient::from_env()?;
//! let answer = client
//!     .describe_task_sets()
//!     .cluster("prod")
//!     .service("web")
//!     .send()
//!     .await?;
//! for ts in answer.task_sets.unwrap_or_default() {
//!     println!("{:?} {:?} {:?}", ts.id, ts.status, ts.computed_desired_count);
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

#[cfg(feature = "aws-config")]
pub mod chain;
mod client;
pub mod config;
pub mod credentials;
pub mod elbv2;
pub mod error;
mod generated;
mod profile;
pub mod retry;
mod signer;
pub mod validation;
pub mod waiter;

/// The generated model the client speaks, whole: depend on `ecs-client` alone and name types
/// as `ecs_client::types::Scale`.
pub use ecs_model as model;
pub use ecs_model::{errors, operations, types, DateTime, Decimal};

pub use client::{
    error_code, error_from_response, CallOptions, EcsClient, CLIENT_TOKEN_OPERATIONS, CONTENT_TYPE,
    QUERY_CONTENT_TYPE,
};
pub use config::{Config, ConfigBuilder, Timeouts};
pub use elbv2::Elbv2Client;
pub use error::{CallError, ConfigError, Error, ErrorCode, RawResponse, ServiceError};
pub use retry::RetryConfig;
pub use validation::ValidationMode;
pub use waiter::{Counts, ServicesStable, Settled, TaskSetSettled, WaitError, WaiterConfig};
