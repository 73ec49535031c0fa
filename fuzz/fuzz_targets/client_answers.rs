//! Any answer a server can give is read by the client without panicking: errors keep the raw
//! status, headers and body, and a response body that decodes is a fixed point of
//! serialise-then-decode.
//!
//! Input: two bytes of status (taken modulo 600), an `X-Amzn-Errortype` value up to the first
//! newline (none when empty), then the body.
#![no_main]

use bytes::Bytes;
use ecs_client::{error_code, error_from_response, Error, RawResponse};
use ecs_model::types::{
    CreateTaskSetResponse, DescribeServicesResponse, DescribeTaskSetsResponse,
    UpdateServicePrimaryTaskSetResponse, UpdateTaskSetResponse,
};
use libfuzzer_sys::fuzz_target;
use serde::{de::DeserializeOwned, Serialize};

fn fixed_point<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(body: &[u8]) {
    if let Ok(typed) = ecs_model::from_json::<T>(body) {
        let text = serde_json::to_vec(&typed).unwrap_or_else(|e| panic!("re-encoding: {e}"));
        let again: T = ecs_model::from_json(&text).unwrap_or_else(|e| {
            panic!(
                "{} does not decode again: {e}",
                String::from_utf8_lossy(&text)
            )
        });
        assert_eq!(again, typed);
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]) % 600;
    let rest = &data[2..];
    let (header, body) = match rest.iter().position(|b| *b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&b""[..], rest),
    };
    let mut headers = vec![(
        "content-type".to_owned(),
        "application/x-amz-json-1.1".to_owned(),
    )];
    if !header.is_empty() {
        headers.push((
            "x-amzn-errortype".to_owned(),
            String::from_utf8_lossy(header).into_owned(),
        ));
    }
    let raw = RawResponse {
        status,
        headers,
        body: Bytes::copy_from_slice(body),
    };
    let code = error_code(&raw);
    if let Some(c) = &code {
        assert!(
            !c.is_empty() && !c.contains(':') && !c.contains('#'),
            "{c:?}"
        );
    }
    match error_from_response("DescribeTaskSets", raw) {
        Error::Service(e) => assert_eq!(&e.raw.body[..], body),
        Error::Unparseable { raw, .. } => {
            assert_eq!(raw.status, status);
            assert!(code.is_none());
            assert_eq!(&raw.body[..], body);
        }
        other => panic!("unexpected error kind: {other}"),
    }
    fixed_point::<DescribeTaskSetsResponse>(body);
    fixed_point::<CreateTaskSetResponse>(body);
    fixed_point::<UpdateTaskSetResponse>(body);
    fixed_point::<UpdateServicePrimaryTaskSetResponse>(body);
    fixed_point::<DescribeServicesResponse>(body);
});
