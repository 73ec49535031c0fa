//! What the harness's integration tests share.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use ecs_client::{Config, EcsClient, RetryConfig, Timeouts};

/// A client for `url` with dummy credentials, no retries, a 1 s connect timeout and `answer`
/// for each answer.
pub fn client(url: &str, answer: Duration) -> EcsClient {
    let config = Config::builder()
        .env(HashMap::new())
        .region("us-east-1")
        .endpoint(url)
        .static_credentials("AKIDEXAMPLE", "x", None)
        .retry(RetryConfig::disabled())
        .timeouts(Timeouts {
            connect: Duration::from_secs(1),
            attempt: answer,
            overall: answer,
        })
        .build()
        .unwrap();
    EcsClient::new(config).unwrap()
}
