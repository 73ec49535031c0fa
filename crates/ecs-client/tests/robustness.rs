//! Any answer a broken server can give is read into an error without panicking, and keeps the
//! raw status, headers and body.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use ecs_client::{error_code, Error, RawResponse};
use proptest::prelude::*;

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        "[ -~]{0,64}"
            .prop_map(|s| format!("{{\"__type\": \"{s}\", \"message\": \"{s}\"}}").into_bytes()),
        "[ -~]{0,64}".prop_map(|s| format!("{{\"code\": {s}}}").into_bytes()),
        Just(b"<!doctype html><title>500</title>".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1000), ..ProptestConfig::default() })]

    #[test]
    fn error_answers_never_panic(status in 100u16..600, header in proptest::option::of("[ -~#:]{0,40}"), body in body()) {
        let mut headers = vec![("content-type".to_owned(), "application/x-amz-json-1.1".to_owned())];
        if let Some(h) = &header {
            headers.push(("x-amzn-errortype".to_owned(), h.clone()));
        }
        let raw = RawResponse { status, headers, body: Bytes::from(body.clone()) };
        let code = error_code(&raw);
        if let Some(c) = &code {
            prop_assert!(!c.contains(':') && !c.contains('#') && !c.is_empty());
        }
        let err = ecs_client::error_from_response("DescribeTaskSets", raw);
        match &err {
            Error::Service(e) => prop_assert_eq!(&e.raw.body[..], &body[..]),
            Error::Unparseable { raw, .. } => { prop_assert_eq!(raw.status, status); prop_assert!(code.is_none()); }
            other => prop_assert!(false, "unexpected {other}"),
        }
        let _ = err.to_string();
    }
}
