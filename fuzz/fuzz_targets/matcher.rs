//! The matcher, substitution and path lookup take any expectation and any answer.
//!
//! Input: `<expectation JSON>\0<answer JSON>[\0<path>]`. A value without matchers must match
//! itself, and matching must not depend on anything but its inputs.
#![no_main]

use ecs_harness::matcher::{check, lookup, substitute, Vars};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0);
    let (Some(expected), Some(actual)) = (parts.next(), parts.next()) else {
        return;
    };
    let path = String::from_utf8_lossy(parts.next().unwrap_or(b"taskSets[0].scale"));
    let (Ok(expected), Ok(actual)) = (
        serde_json::from_slice::<Value>(expected),
        serde_json::from_slice::<Value>(actual),
    ) else {
        return;
    };
    let mut tokens = Vars::new();
    let mut first = vec![];
    check(&expected, Some(&actual), "", &mut tokens, &mut first);
    let mut again = vec![];
    check(&expected, Some(&actual), "", &mut Vars::new(), &mut again);
    assert_eq!(first, again, "matching is not repeatable");
    let mut absent = vec![];
    check(&expected, None, "", &mut Vars::new(), &mut absent);
    if !expected.to_string().contains('@') {
        let mut same = vec![];
        check(&expected, Some(&expected), "", &mut Vars::new(), &mut same);
        assert!(
            same.is_empty(),
            "{expected} does not match itself: {same:?}"
        );
    }
    let vars: Vars = [
        ("x".to_owned(), actual.clone()),
        ("unique".to_owned(), Value::from("u")),
    ]
    .into_iter()
    .collect();
    let _ = substitute(&expected, &vars);
    let _ = lookup(&actual, &path);
});
