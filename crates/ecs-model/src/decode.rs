//! Decoding JSON into the generated types with errors that name the JSON path.

use serde::de::DeserializeOwned;

/// A JSON document that does not fit the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message} (line {line}, column {column})", if path.is_empty() { "(document)" } else { path.as_str() })]
pub struct DecodeError {
    /// JSON path of the value that failed, e.g. `taskSets[0].scale.value`.
    pub path: String,
    /// What serde_json said.
    pub message: String,
    /// Line of the document (1-based), or 0 when decoding a value.
    pub line: usize,
    /// Column of the document (1-based), or 0 when decoding a value.
    pub column: usize,
}

/// Parses `bytes` as `T`, reporting where in the document it failed.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    // Tracking the path costs about a third of the decoding time, so it is only done again
    // when the document does not decode; decoding is deterministic, so the error is the same.
    // Validating the UTF-8 of the whole document once lets serde_json skip doing it for every
    // string it reads.
    let fast = match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    };
    if let Ok(value) = fast {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let result = serde_path_to_error::deserialize(de);
    result.map_err(|err| {
        let path = render_path(err.path());
        let inner = err.into_inner();
        DecodeError {
            path,
            message: strip_position(&inner.to_string()),
            line: inner.line(),
            column: inner.column(),
        }
    })
}

/// Converts an already parsed value.
pub fn from_value<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, DecodeError> {
    if let Ok(decoded) = T::deserialize(value) {
        return Ok(decoded);
    }
    serde_path_to_error::deserialize(value).map_err(|err| DecodeError {
        path: render_path(err.path()),
        message: strip_position(&err.inner().to_string()),
        line: 0,
        column: 0,
    })
}

fn render_path(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." {
        String::new()
    } else {
        text
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
