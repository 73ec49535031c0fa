//! awsQuery output: the ELBv2 types ecs-deploy and the reference emulator use, generated from
//! botocore's `elbv2/2015-12-01` model and limited to the operations named in `codegen.json`
//! (`elbv2_operations`) and the shapes they reach.
//!
//! Every structure gets one [`QueryValue`](ecs_model::query::QueryValue) impl: form encoding
//! and decoding (the request side) and XML writing and reading (the answer side), so the
//! client and the emulator share one reading of the model. The impls lean on the hand-written
//! scalar, list and map impls in `ecs_model::query`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::{bail, Context, Result};

use super::builder;
use super::names;
use super::HEADER;
use crate::model::{Model, Shape};

pub fn generate(model: &Model, operations: &[String]) -> Result<String> {
    if operations.is_empty() {
        bail!("codegen.json: elbv2_operations is empty");
    }
    let mut reached = BTreeSet::new();
    let mut errors = BTreeSet::new();
    for name in operations {
        let op = model.operations.get(name).with_context(|| {
            format!("codegen.json: elbv2_operations names {name}, which the ELBv2 model lacks")
        })?;
        for r in [&op.input, &op.output].into_iter().flatten() {
            reach(model, &r.shape, &mut reached)?;
        }
        for e in &op.errors {
            errors.insert(e.shape.clone());
        }
    }
    let meta = &model.metadata;
    if meta.protocol != "query" {
        bail!("the ELBv2 model speaks {:?}, not awsQuery", meta.protocol);
    }
    let namespace = meta
        .xml_namespace
        .as_deref()
        .context("the ELBv2 model has no xmlNamespace")?;
    let mut out = format!(
        "//! The Elastic Load Balancing v2 API ({}) that ecs-deploy and the reference emulator use.\n\
         //!\n//! {HEADER}.\n//!\n\
         //! {} operations and the shapes they reach, from the botocore model.\n\n\
         #![allow(clippy::all, clippy::pedantic, unused_mut, unused_variables)]\n\n\
         use crate::query::{{QueryError, QueryParams, QueryValue}};\n\n\
         /// API version (`metadata.apiVersion`), sent as `Version` with every request.\n\
         pub const API_VERSION: &str = {:?};\n\
         /// The namespace of every answer's root element.\n\
         pub const XML_NAMESPACE: &str = {namespace:?};\n\
         /// SigV4 signing name (`metadata.endpointPrefix`).\n\
         pub const SIGNING_NAME: &str = {:?};\n\n",
        meta.api_version,
        operations.len(),
        meta.api_version,
        meta.endpoint_prefix,
    );
    out.push_str("/// The structures.\npub mod types {\n    use super::*;\n\n");
    for name in &reached {
        let shape = model.shape(name)?;
        if shape.ty == "structure" {
            structure(model, name, shape, &mut out)?;
        }
    }
    out.push_str("}\n\n");

    out.push_str(
        "/// One marker type per operation.\npub mod operations {\n    use super::types;\n\n",
    );
    for name in operations {
        let op = &model.operations[name];
        let input = op
            .input
            .as_ref()
            .context("an ELBv2 operation without input")?;
        let output = op
            .output
            .as_ref()
            .context("an ELBv2 operation without output")?;
        let wrapper = output
            .result_wrapper
            .as_deref()
            .with_context(|| format!("{name}: the output has no resultWrapper"))?;
        let codes: Vec<String> = op
            .errors
            .iter()
            .map(|e| error_code(model, &e.shape))
            .collect::<Result<_>>()?;
        let _ = writeln!(
            out,
            "/// `{name}`.\n#[derive(Clone, Copy, Debug)]\npub struct {name};\n\
             impl crate::query::QueryOperation for {name} {{\n\
             const NAME: &'static str = {name:?};\n\
             const RESULT_WRAPPER: &'static str = {wrapper:?};\n\
             const ERRORS: &'static [&'static str] = &[{}];\n\
             type Input = types::{};\n\
             type Output = types::{};\n}}\n",
            codes
                .iter()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            input.shape,
            output.shape,
        );
    }
    let _ = writeln!(
        out,
        "/// The operations, in `codegen.json`'s order.\npub const OPERATIONS: &[&str] = &[{}];\n}}\n",
        operations
            .iter()
            .map(|o| format!("{o:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    out.push_str(
        "/// An error code of the model, its HTTP status and whether the caller is at fault.\n\
         #[derive(Clone, Copy, Debug, PartialEq, Eq)]\n\
         pub struct ErrorInfo {\n\
         /// The `Code` of the error answer (`TargetGroupNotFound`).\n\
         pub code: &'static str,\n\
         /// The HTTP status.\n\
         pub status: u16,\n\
         /// `Sender` (true) or `Receiver` in the answer's `Type`.\n\
         pub sender: bool,\n}\n\n\
         /// The errors the operations above may answer.\npub const ERRORS: &[ErrorInfo] = &[\n",
    );
    for e in &errors {
        let shape = model.shape(e)?;
        let t = shape
            .error
            .as_ref()
            .with_context(|| format!("{e}: an exception without its code"))?;
        let _ = writeln!(
            out,
            "    ErrorInfo {{ code: {:?}, status: {}, sender: {} }},",
            t.code, t.http_status_code, t.sender_fault
        );
    }
    out.push_str("];\n");
    Ok(out)
}

fn error_code(model: &Model, shape: &str) -> Result<String> {
    Ok(model
        .shape(shape)?
        .error
        .as_ref()
        .with_context(|| format!("{shape}: an exception without its code"))?
        .code
        .clone())
}

fn reach(model: &Model, name: &str, seen: &mut BTreeSet<String>) -> Result<()> {
    if !seen.insert(name.to_owned()) {
        return Ok(());
    }
    let shape = model.shape(name)?;
    for m in shape.members.values() {
        reach(model, &m.shape, seen)?;
    }
    for r in [&shape.member, &shape.key, &shape.value]
        .into_iter()
        .flatten()
    {
        reach(model, &r.shape, seen)?;
    }
    Ok(())
}

/// The Rust type of a shape as a member.
fn rust_type(model: &Model, name: &str) -> Result<String> {
    let shape = model.shape(name)?;
    Ok(match shape.ty.as_str() {
        "string" => "String".to_owned(),
        "integer" => "i32".to_owned(),
        "long" => "i64".to_owned(),
        "boolean" => "bool".to_owned(),
        "timestamp" => "crate::DateTime".to_owned(),
        "structure" => format!("types::{name}"),
        "list" => format!(
            "Vec<{}>",
            rust_type(
                model,
                &shape
                    .member
                    .as_ref()
                    .context("a list without member")?
                    .shape
            )?
        ),
        "map" => format!(
            "std::collections::BTreeMap<String, {}>",
            rust_type(
                model,
                &shape.value.as_ref().context("a map without value")?.shape
            )?
        ),
        other => bail!("{name}: the awsQuery generator has no type for {other}"),
    })
}

fn structure(model: &Model, name: &str, shape: &Shape, out: &mut String) -> Result<()> {
    let mut fields = vec![];
    for (member, m) in &shape.members {
        let target = model.shape(&m.shape)?;
        let ty = rust_type(model, &m.shape)?.replace("types::", "");
        let doc = match &target.enum_values {
            Some(values) => format!("`{member}`: one of {}.", values.join(", ")),
            None => format!("`{member}`."),
        };
        fields.push((member.as_str(), names::field(member), ty, doc));
    }
    let _ = writeln!(
        out,
        "/// `{name}`.\n#[derive(Clone, Debug, Default, PartialEq)]\n#[non_exhaustive]\npub struct {name} {{"
    );
    for (_, field, ty, doc) in &fields {
        let _ = writeln!(out, "    /// {doc}\n    pub {field}: Option<{ty}>,");
    }
    out.push_str("}\n\n");
    let members: Vec<builder::Member> = fields
        .iter()
        .map(|(wire, field, ty, doc)| builder::Member {
            wire: (*wire).to_owned(),
            field: field.clone(),
            ty: ty.clone(),
            kind: match ty.strip_prefix("Vec<").and_then(|t| t.strip_suffix('>')) {
                Some(item) => builder::Kind::List(item.to_owned()),
                None => builder::Kind::Single,
            },
            meaning: None,
            facts: doc.trim_end_matches('.').to_owned(),
            deprecated: false,
        })
        .collect();
    if model.shapes.contains_key(&format!("{name}Builder")) {
        bail!("{name}Builder is a model shape: the builder's name collides");
    }
    builder::write(out, name, &members, false)?;

    let required: Vec<String> = shape.required.iter().map(|r| format!("{r:?}")).collect();
    let _ = writeln!(
        out,
        "impl {name} {{\n\
         /// The members the model requires.\n\
         pub const REQUIRED: &'static [&'static str] = &[{}];\n}}\n",
        required.join(", ")
    );
    let _ = writeln!(out, "impl QueryValue for {name} {{");
    if !shape.required.is_empty() {
        out.push_str("fn first_missing(&self) -> Option<&'static str> {\n");
        for r in &shape.required {
            let field = names::field(r);
            let _ = writeln!(out, "if self.{field}.is_none() {{ return Some({r:?}); }}");
        }
        out.push_str("None\n}\n\n");
    }
    out.push_str("fn write_query(&self, key: &str, out: &mut Vec<(String, String)>) {\n");
    if fields.is_empty() {
        out.push_str("let _ = (key, out);\n");
    }
    for (member, field, _, _) in &fields {
        let _ = writeln!(
            out,
            "if let Some(v) = &self.{field} {{ v.write_query(&crate::query::join(key, {member:?}), out); }}"
        );
    }
    out.push_str("}\n\n");
    out.push_str(
        "fn read_query(params: &QueryParams, key: &str) -> Result<Option<Self>, QueryError> {\n\
         if !key.is_empty() && !params.has_prefix(key) { return Ok(None); }\n",
    );
    if fields.is_empty() {
        out.push_str("let _ = params;\n");
    }
    out.push_str("Ok(Some(Self {\n");
    for (member, field, _, _) in &fields {
        let _ = writeln!(
            out,
            "{field}: QueryValue::read_query(params, &crate::query::join(key, {member:?}))?,"
        );
    }
    out.push_str("}))\n}\n\n");
    out.push_str(
        "fn write_xml(&self, name: &str, out: &mut String) {\ncrate::query::open(name, out);\n",
    );
    for (member, field, _, _) in &fields {
        let _ = writeln!(
            out,
            "if let Some(v) = &self.{field} {{ v.write_xml({member:?}, out); }}"
        );
    }
    out.push_str("crate::query::close(name, out);\n}\n\n");
    out.push_str(
        "fn read_xml(node: roxmltree::Node<'_, '_>, path: &str) -> Result<Self, QueryError> {\n\
         let mut s = Self::default();\n\
         for child in node.children().filter(roxmltree::Node::is_element) {\n\
         match child.tag_name().name() {\n",
    );
    for (member, field, _, _) in &fields {
        let _ = writeln!(
            out,
            "{member:?} => s.{field} = Some(QueryValue::read_xml(child, &format!(\"{{path}}.{member}\"))?),"
        );
    }
    out.push_str("_ => {}\n}\n}\nOk(s)\n}\n}\n\n");
    Ok(())
}
