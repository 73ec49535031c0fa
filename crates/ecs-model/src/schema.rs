//! The generated JSON Schema (draft 2020-12) of every shape, for validating raw wire JSON.
//!
//! ```
//! let schema = ecs_model::schema::for_shape("TaskSet").unwrap();
//! assert_eq!(schema["$ref"], "#/$defs/TaskSet");
//! ```

use std::sync::LazyLock;

use serde_json::{json, Value};

/// The checked-in schema document: `$defs` holds one schema per model shape.
pub const SCHEMA_JSON: &str = include_str!("../schema/ecs-2014-11-13.schema.json");

static DOCUMENT: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(SCHEMA_JSON).unwrap_or(Value::Null));

/// The parsed schema document (`Value::Null` only if the checked-in file were corrupt, which the
/// crate's tests rule out).
pub fn document() -> &'static Value {
    &DOCUMENT
}

/// A self-contained schema that validates one shape: `{"$ref": "#/$defs/<shape>", "$defs": …}`.
/// `None` when the model has no such shape.
pub fn for_shape(shape: &str) -> Option<Value> {
    let defs = document().get("$defs")?;
    defs.get(shape)?;
    Some(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/$defs/{shape}"),
        "$defs": defs,
    }))
}

/// Names of all shapes that have a schema.
pub fn shapes() -> impl Iterator<Item = &'static str> {
    document()
        .get("$defs")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys().map(String::as_str))
}
