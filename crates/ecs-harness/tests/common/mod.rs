//! What the harness's integration tests share.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use ecs_client::{Config, EcsClient, RetryConfig, Timeouts};

/// A client for `url` with dummy credentials, no retries, a 1 s connect timeout and `answer`
/// for each answer.
pub fn client(url: &str, answer: Duration) -> EcsClient {
    let config = Config::local_builder(url)
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

/// The rule catalog of the repository.
pub fn catalog() -> ecs_harness::Catalog {
    ecs_harness::Catalog::load(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/rules.json"),
    )
    .unwrap()
}

/// A report of `results` from a target named `t`, version `0`, at `endpoint`.
pub fn report_of(
    endpoint: &str,
    results: Vec<ecs_harness::runner::CaseResult>,
) -> ecs_harness::Report {
    ecs_harness::Report::new(
        ecs_harness::TargetInfo::new("t", "0", endpoint.to_owned()),
        String::new(),
        0,
        results,
        &catalog(),
    )
}
