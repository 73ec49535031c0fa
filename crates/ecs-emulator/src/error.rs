//! AWS-shaped error answers.

use ecs_model::errors::ModeledError;

/// An error answer: HTTP status, `__type` code and message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The HTTP status (0: no answer, the connection is closed).
    pub status: u16,
    /// The `__type` code (`ClusterNotFoundException`).
    pub code: &'static str,
    /// The message.
    pub message: String,
}

impl ApiError {
    /// An error answer with this status, code and message.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn modeled(error: ModeledError, message: impl Into<String>) -> Self {
        let status = if error.is_server_fault() { 500 } else { 400 };
        ApiError::new(status, error.code(), message)
    }

    /// No answer at all: the server closes the connection (an injected fault).
    pub fn dropped() -> Self {
        ApiError::new(0, "", "the connection was closed without an answer")
    }

    /// The error as operation `O`'s error enum (`CreateTaskSetError`, ...): a code `O` does
    /// not list is its opaque `Unhandled` case.
    pub fn operation_error<O: ecs_model::Operation>(&self) -> O::Error {
        <O::Error as ecs_model::OperationError>::from_code(self.code)
    }

    /// Whether this is [`ApiError::dropped`].
    pub fn is_dropped(&self) -> bool {
        self.status == 0
    }

    /// 400 `InvalidParameterException`.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::modeled(ModeledError::InvalidParameterException, message)
    }

    /// 400 `ClientException`.
    pub fn client(message: impl Into<String>) -> Self {
        ApiError::modeled(ModeledError::ClientException, message)
    }

    /// 400 `ClusterNotFoundException`, in AWS's words (aws/aws-sdk-java issue 3093, 2024).
    pub fn cluster_not_found() -> Self {
        ApiError::modeled(ModeledError::ClusterNotFoundException, "Cluster not found.")
    }

    /// 400 `ServiceNotFoundException`, as AWS answers it since at least 2025: with an empty
    /// message (hackforla/VRMS issue 1994; it was "Service not found." in 2017).
    pub fn service_not_found() -> Self {
        ApiError::modeled(ModeledError::ServiceNotFoundException, "")
    }

    /// 400 `ServiceNotActiveException`, in AWS's words (hashicorp/terraform issue 3582, 2019).
    pub fn service_not_active() -> Self {
        ApiError::modeled(
            ModeledError::ServiceNotActiveException,
            "Service was not ACTIVE.",
        )
    }

    /// 400 `TaskSetNotFoundException`.
    pub fn task_set_not_found() -> Self {
        ApiError::modeled(
            ModeledError::TaskSetNotFoundException,
            "The referenced task set was not found in this service.",
        )
    }

    /// 400 `ResourceNotFoundException` for an ARN that names nothing.
    pub fn resource_not_found(arn: &str) -> Self {
        ApiError::modeled(
            ModeledError::ResourceNotFoundException,
            format!("No resource with ARN {arn}."),
        )
    }

    /// 400 `ClusterContainsServicesException`, in AWS's words (aws/amazon-ecs-cli issue 368).
    pub fn cluster_contains_services() -> Self {
        ApiError::modeled(
            ModeledError::ClusterContainsServicesException,
            "The Cluster cannot be deleted while Services are active.",
        )
    }

    /// DeleteCluster on a cluster with tasks that are not stopping, in AWS's words
    /// (gruntwork-io/cloud-nuke issue 368, 2022).
    pub fn cluster_contains_tasks() -> Self {
        ApiError::modeled(
            ModeledError::ClusterContainsTasksException,
            "The Cluster cannot be deleted while Tasks are active.",
        )
    }

    /// The request body is not JSON, or a member has the wrong JSON type.
    pub fn serialization(message: impl Into<String>) -> Self {
        ApiError::new(400, "SerializationException", message)
    }

    /// No such operation at this endpoint.
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        ApiError::new(400, "UnknownOperationException", message)
    }

    /// 413: the body is larger than the server accepts.
    pub fn body_too_large(limit: usize) -> Self {
        ApiError::new(
            413,
            "RequestEntityTooLargeException",
            format!("The request body exceeds {limit} bytes."),
        )
    }

    /// 415: the content type is not awsJson 1.1.
    pub fn unsupported_media_type(got: &str) -> Self {
        ApiError::new(
            415,
            "UnsupportedMediaTypeException",
            format!("Content-Type {got:?} is not application/x-amz-json-1.1."),
        )
    }

    /// The awsJson1_1 error body.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"__type": self.code, "message": self.message}))
            .unwrap_or_default()
    }
}
