//! Any file the fixture loader is given: cases or located errors, never a panic.
//!
//! Input: the file's text (lossily decoded as UTF-8), with the shared parts of
//! `fixtures/parts.json` in scope.
#![no_main]

use std::sync::OnceLock;

use ecs_harness::fixture::parse_file_with;
use ecs_harness::template::Parts;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let text = include_str!("../../fixtures/schema/fixture.schema.json");
        let schema: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("schema: {e}"));
        jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("schema: {e}"))
    })
}

/// The shared parts the fixtures use, so that the seeds expand as they do in a run.
fn shared() -> &'static Parts {
    static P: OnceLock<Parts> = OnceLock::new();
    P.get_or_init(|| {
        let text = include_str!("../../fixtures/parts.json");
        let doc: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("parts: {e}"));
        Parts::from_file("parts.json", &doc)
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut errors = vec![];
    let cases = parse_file_with("fuzz.json", &text, validator(), shared(), &mut errors);
    assert!(
        cases.is_empty() || errors.is_empty(),
        "cases returned together with errors: {errors:?}"
    );
    for e in &errors {
        assert_eq!(e.file, "fuzz.json");
        assert!(e.path.starts_with('/'), "not a JSON pointer: {:?}", e.path);
        let _ = e.to_string();
    }
});
