//! [`Elbv2Client`]: the Elastic Load Balancing v2 operations a deployment controller calls to
//! shift traffic, over the same connection pool, credentials, retries and timeouts as
//! [`EcsClient`], in the awsQuery protocol (a form body with `Action`, XML answers; see
//! [`ecs_model::query`]). The types are generated from botocore's `elbv2` model
//! ([`ecs_model::elbv2`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ecs_client::elbv2::{operations::DescribeTargetHealth, types::DescribeTargetHealthInput};
//! use ecs_client::EcsClient;
//!
//! let elb = EcsClient::from_env()?.elbv2();
//! let health = elb
//!     .send::<DescribeTargetHealth>(
//!         DescribeTargetHealthInput::builder()
//!             .target_group_arn("arn:aws:elasticloadbalancing:...")
//!             .build(),
//!     )
//!     .await?;
//! for d in health.target_health_descriptions.unwrap_or_default() {
//!     println!("{:?} {:?}", d.target.and_then(|t| t.id), d.target_health.and_then(|h| h.state));
//! }
//! # Ok(()) }
//! ```

use bytes::Bytes;
use ecs_model::query::{self, QueryOperation, QueryValue};

pub use ecs_model::elbv2::{operations, types, ErrorInfo, API_VERSION, ERRORS};

use crate::client::{query_error, Call, CallOptions, QUERY_CONTENT_TYPE};
use crate::error::{Error, ErrorCode, ServiceError};
use crate::EcsClient;

/// The ELBv2 operations that must not be sent twice: a second CreateListener on the port
/// answers DuplicateListener, a second CreateRule PriorityInUse. The model marks none of the
/// operations idempotent; the others set state to what the request says (creating a load
/// balancer or target group with an existing name returns it), so a retry after a lost answer
/// is safe.
pub const NOT_REPEATABLE: &[&str] = &["CreateListener", "CreateRule"];

/// An ELBv2 client. Cheap to clone; made by [`EcsClient::elbv2`].
#[derive(Clone, Debug)]
pub struct Elbv2Client {
    ecs: EcsClient,
}

impl EcsClient {
    /// An ELBv2 client on this client's endpoint, region, credentials and connection pool (an
    /// endpoint override such as `AWS_ENDPOINT_URL` serves both services, as the reference
    /// emulator does).
    pub fn elbv2(&self) -> Elbv2Client {
        Elbv2Client { ecs: self.clone() }
    }
}

impl Elbv2Client {
    /// Sends one operation with the client's settings.
    pub async fn send<O: QueryOperation>(&self, input: O::Input) -> Result<O::Output, Error> {
        self.send_with::<O>(input, CallOptions::default()).await
    }

    /// Sends one operation with per-call overrides (the validation mode does not apply: the
    /// model's required members are checked always).
    pub async fn send_with<O: QueryOperation>(
        &self,
        input: O::Input,
        options: CallOptions,
    ) -> Result<O::Output, Error> {
        if let Some(member) = input.first_missing() {
            return Err(Error::Validation {
                operation: O::NAME,
                source: ecs_model::ValidationError {
                    violations: vec![ecs_model::Violation {
                        path: member.to_owned(),
                        rule: "model.required",
                        message: format!("{member} is required"),
                        kind: ecs_model::ViolationKind::Required,
                    }],
                },
            });
        }
        let call = Call {
            name: O::NAME,
            target: None,
            content_type: QUERY_CONTENT_TYPE,
            signing_name: ecs_model::elbv2::SIGNING_NAME,
            safe_to_repeat: !NOT_REPEATABLE.contains(&O::NAME),
        };
        let body = Bytes::from(query::request_body::<O>(&input, API_VERSION));
        let raw = self.ecs.exchange(&call, body, options).await?;
        let text = String::from_utf8_lossy(&raw.body).into_owned();
        if raw.status / 100 != 2 {
            let Some((code, message)) = query_error(&raw) else {
                return Err(Error::Unparseable {
                    operation: O::NAME,
                    reason: format!("HTTP {} without an awsQuery error", raw.status),
                    raw: Box::new(raw),
                });
            };
            let request_id = raw.header("x-amzn-requestid").map(str::to_owned);
            return Err(Error::Service(Box::new(ServiceError {
                operation: O::NAME,
                code: ErrorCode::Other(code),
                message: Some(message),
                request_id,
                raw,
            })));
        }
        query::parse_answer::<O>(&text).map_err(|e| Error::Unparseable {
            operation: O::NAME,
            reason: e.to_string(),
            raw: Box::new(raw),
        })
    }
}
