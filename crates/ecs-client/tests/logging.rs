//! Every call is traced (operation, attempt, status, request id), and no credential reaches
//! the logs, even at TRACE level where the signer logs its parameters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecs_model::operations;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use ecs_client::{Config, EcsClient};
use ecs_model::types::DescribeTaskSetsRequest;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN";

#[tokio::test]
async fn calls_are_traced_without_secrets() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-amzn-requestid", "rid-42")
                .set_body_json(json!({"taskSets": []})),
        )
        .mount(&server)
        .await;
    let config = Config::builder()
        .env(HashMap::new())
        .region("us-east-1")
        .endpoint(server.uri())
        .static_credentials("AKIDEXAMPLE", SECRET, Some(TOKEN))
        .build()
        .unwrap();
    let client = EcsClient::new(config).unwrap();
    client
        .send::<operations::DescribeTaskSets>(
            DescribeTaskSetsRequest::builder()
                .cluster("c")
                .service("s")
                .build(),
        )
        .await
        .unwrap();

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("ecs.call"), "{logs}");
    assert!(logs.contains("operation=\"DescribeTaskSets\""), "{logs}");
    assert!(logs.contains("attempt=1"), "{logs}");
    assert!(
        logs.contains("rid-42"),
        "the request id is recorded: {logs}"
    );
    assert!(
        !logs.contains(SECRET),
        "the secret key leaked into the logs"
    );
    assert!(
        !logs.contains(TOKEN),
        "the session token leaked into the logs"
    );
}
