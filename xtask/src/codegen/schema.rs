//! JSON Schema (draft 2020-12) for every shape, one `$defs` entry each.
//!
//! Made for validating raw wire JSON: unknown members are allowed (no `additionalProperties`)
//! and enum members accept any string (new values must not break old validators); types,
//! nesting, required members, lengths, ranges and patterns are checked.

use anyhow::Result;
use serde_json::{json, Map, Value};

use super::{Config, HEADER};
use crate::model::{Model, Shape};

pub fn generate(model: &Model, config: &Config) -> Result<Value> {
    let mut defs = Map::new();
    for (name, shape) in &model.shapes {
        defs.insert(name.clone(), shape_schema(name, shape, config));
    }
    Ok(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": format!("{HEADER}; model {}", model.metadata.uid),
        "title": format!("Amazon ECS API {} shapes", model.metadata.api_version),
        "$defs": defs,
    }))
}

fn reference(shape: &str) -> Value {
    json!({ "$ref": format!("#/$defs/{shape}") })
}

fn shape_schema(name: &str, s: &Shape, config: &Config) -> Value {
    let mut o = Map::new();
    o.insert("title".into(), json!(name));
    let int_bounds = |o: &mut Map<String, Value>, lo: i64, hi: i64| {
        let min = s
            .min
            .as_ref()
            .and_then(|n| n.as_i64())
            .map_or(lo, |m| m.max(lo));
        let max = s
            .max
            .as_ref()
            .and_then(|n| n.as_i64())
            .map_or(hi, |m| m.min(hi));
        o.insert("minimum".into(), json!(min));
        o.insert("maximum".into(), json!(max));
    };
    match s.ty.as_str() {
        "structure" if s.document => {
            o.insert("description".into(), json!("document: any JSON value"));
        }
        "structure" => {
            o.insert("type".into(), json!("object"));
            let mut props = Map::new();
            for (m, member) in &s.members {
                let schema = if config.open_enum_for(name, m).is_some() {
                    json!({ "type": "string" })
                } else {
                    reference(&member.shape)
                };
                props.insert(m.clone(), schema);
            }
            o.insert("properties".into(), Value::Object(props));
            if !s.required.is_empty() {
                o.insert("required".into(), json!(s.required));
            }
            if s.union {
                o.insert("minProperties".into(), json!(1));
            }
        }
        "list" => {
            o.insert("type".into(), json!("array"));
            if let Some(r) = &s.member {
                o.insert("items".into(), reference(&r.shape));
            }
            if let Some(n) = &s.min {
                o.insert("minItems".into(), json!(n));
            }
            if let Some(n) = &s.max {
                o.insert("maxItems".into(), json!(n));
            }
        }
        "map" => {
            o.insert("type".into(), json!("object"));
            if let Some(r) = &s.key {
                o.insert("propertyNames".into(), reference(&r.shape));
            }
            if let Some(r) = &s.value {
                o.insert("additionalProperties".into(), reference(&r.shape));
            }
            if let Some(n) = &s.min {
                o.insert("minProperties".into(), json!(n));
            }
            if let Some(n) = &s.max {
                o.insert("maxProperties".into(), json!(n));
            }
        }
        "string" => {
            o.insert("type".into(), json!("string"));
            if let Some(values) = &s.enum_values {
                // Known values as an annotation only: unknown values must still validate.
                o.insert("examples".into(), json!(values));
            }
            if let Some(n) = &s.min {
                o.insert("minLength".into(), json!(n));
            }
            if let Some(n) = &s.max {
                o.insert("maxLength".into(), json!(n));
            }
            if let Some(p) = &s.pattern {
                o.insert("pattern".into(), json!(format!("^(?:{p})$")));
            }
        }
        "integer" => {
            o.insert("type".into(), json!("integer"));
            int_bounds(&mut o, i64::from(i32::MIN), i64::from(i32::MAX));
        }
        "long" => {
            o.insert("type".into(), json!("integer"));
            int_bounds(&mut o, i64::MIN, i64::MAX);
        }
        "double" | "float" => {
            o.insert("type".into(), json!("number"));
            if let Some(n) = &s.min {
                o.insert("minimum".into(), json!(n));
            }
            if let Some(n) = &s.max {
                o.insert("maximum".into(), json!(n));
            }
        }
        "boolean" => {
            o.insert("type".into(), json!("boolean"));
        }
        "timestamp" => {
            o.insert("type".into(), json!("number"));
            o.insert(
                "description".into(),
                json!("epoch seconds, fractions allowed"),
            );
        }
        "blob" => {
            o.insert("type".into(), json!("string"));
            o.insert("contentEncoding".into(), json!("base64"));
        }
        other => {
            o.insert(
                "description".into(),
                json!(format!("unsupported shape type {other}")),
            );
        }
    }
    Value::Object(o)
}
