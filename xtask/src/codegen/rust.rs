//! Rust output: types, serde glue, validators, the operation table and the error codes.
//!
//! The generated code leans on small hand-written macros and helpers in `ecs_model::wire` and
//! `ecs_model::validate`, so what is generated stays a readable table of the model.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use anyhow::{bail, Context, Result};

use super::builder;
use super::names::{self, lit};
use super::{Config, HEADER};
use crate::model::{Member, Model, Operation, Shape, ShapeRef};

/// `crates/ecs-client/src/generated.rs`.
pub fn generate_client(model: &Model, config: &Config) -> Result<String> {
    Gen::new(model, config)?.client_methods()
}

pub fn generate(model: &Model, config: &Config) -> Result<Vec<(&'static str, String)>> {
    let g = Gen::new(model, config)?;
    Ok(vec![
        ("mod.rs", g.module()),
        ("types.rs", g.types()?),
        ("serde_impls.rs", g.serde_impls()?),
        ("validate.rs", g.validators()?),
        ("operations.rs", g.operations()?),
        ("errors.rs", g.errors()),
    ])
}

struct Gen<'a> {
    model: &'a Model,
    config: &'a Config,
    needs: RefCell<HashMap<String, bool>>,
    /// Shape -> operations that use it as their input or output.
    usage: BTreeMap<String, Vec<String>>,
    /// Pattern text -> static name.
    patterns: BTreeMap<String, String>,
    /// The shapes the default operations reach (the rest build with the `full` feature); `None`
    /// when no default operations are configured (everything is always built).
    default_shapes: Option<BTreeSet<String>>,
}

/// The attribute that builds an item only with the `full` feature.
const FULL: &str = "#[cfg(feature = \"full\")]";

/// `chunk` with [`FULL`] before every item that starts at column `indent` (before its doc
/// comments and attributes), when `on`.
fn gated(chunk: &str, on: bool, indent: usize) -> String {
    if !on {
        return chunk.to_owned();
    }
    let pad = " ".repeat(indent);
    let starts = [
        "pub struct ",
        "pub enum ",
        "pub static ",
        "impl ",
        "impl<",
        "fn ",
        "pub fn ",
        "pub async fn ",
        "crate::",
    ];
    let lines: Vec<&str> = chunk.split('\n').collect();
    let mut at = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix(pad.as_str()) else {
            continue;
        };
        if rest.starts_with(' ') || !starts.iter().any(|k| rest.starts_with(k)) {
            continue;
        }
        let mut j = i;
        while j > 0 {
            let above = lines[j - 1].trim_start();
            let same_level = lines[j - 1].len() - above.len() == indent;
            if same_level && (above.starts_with("///") || above.starts_with("#[")) {
                j -= 1;
            } else {
                break;
            }
        }
        at.insert(j);
    }
    let mut out = String::with_capacity(chunk.len() + at.len() * 32);
    for (i, line) in lines.iter().enumerate() {
        if at.contains(&i) {
            out.push_str(&pad);
            out.push_str(FULL);
            out.push('\n');
        }
        out.push_str(line);
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
    out
}

fn header(what: &str) -> String {
    format!("//! {what}\n//!\n//! {HEADER}.\n\n")
}

impl<'a> Gen<'a> {
    fn new(model: &'a Model, config: &'a Config) -> Result<Self> {
        let mut usage: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for op in model.operations.values() {
            for (r, role) in [(&op.input, "input"), (&op.output, "output")] {
                if let Some(r) = r {
                    usage
                        .entry(r.shape.clone())
                        .or_default()
                        .push(format!("{role} of `{}`", op.name));
                }
            }
        }
        let mut patterns = BTreeMap::new();
        for (name, shape) in &model.shapes {
            if let Some(p) = &shape.pattern {
                if !patterns.contains_key(p) {
                    patterns.insert(
                        p.clone(),
                        format!("PATTERN_{}", names::snake(name).to_uppercase()),
                    );
                }
            }
            for r in [&shape.member, &shape.value].into_iter().flatten() {
                if model.shape(&r.shape)?.ty == "timestamp" {
                    bail!("{name}: timestamps inside lists or maps are not supported by the generator");
                }
            }
        }
        let default_shapes = if config.default_operations.is_empty() {
            None
        } else {
            let mut seen = BTreeSet::new();
            let mut todo: Vec<String> = vec![];
            for name in &config.default_operations {
                let op = model
                    .operations
                    .get(name)
                    .with_context(|| format!("default operation {name} is not in the model"))?;
                let (input, output) = io(op)?;
                todo.push(input.shape.clone());
                todo.push(output.shape.clone());
            }
            while let Some(name) = todo.pop() {
                if !seen.insert(name.clone()) {
                    continue;
                }
                let shape = model.shape(&name)?;
                for r in [&shape.member, &shape.key, &shape.value]
                    .into_iter()
                    .flatten()
                {
                    todo.push(r.shape.clone());
                }
                todo.extend(shape.members.values().map(|m| m.shape.clone()));
            }
            for hooked in config.documented_rules.keys() {
                if !seen.contains(hooked) {
                    bail!("{hooked} has a documented rule but no default operation reaches it");
                }
            }
            Some(seen)
        };
        Ok(Gen {
            model,
            config,
            needs: RefCell::new(HashMap::new()),
            usage,
            patterns,
            default_shapes,
        })
    }

    /// Whether shape `name` builds only with the `full` feature (exceptions always build).
    fn full_only(&self, name: &str) -> bool {
        self.default_shapes
            .as_ref()
            .is_some_and(|d| !d.contains(name) && !self.shape(name).exception)
    }

    /// Whether operation `name` builds only with the `full` feature.
    fn full_only_op(&self, name: &str) -> bool {
        self.default_shapes.is_some() && !self.config.default_operations.iter().any(|o| o == name)
    }

    fn shape(&self, name: &str) -> &'a Shape {
        // References were checked when the model was loaded.
        &self.model.shapes[name]
    }

    fn is_struct(&self, name: &str) -> bool {
        let s = self.shape(name);
        s.ty == "structure" && !s.document
    }

    fn is_enum(&self, name: &str) -> bool {
        let s = self.shape(name);
        s.ty == "string" && s.enum_values.is_some()
    }

    /// The Rust type of a value of shape `name`.
    fn type_of(&self, name: &str) -> String {
        let s = self.shape(name);
        match s.ty.as_str() {
            "structure" if s.document => "serde_json::Value".to_owned(),
            "structure" => name.to_owned(),
            "list" => format!(
                "Vec<{}>",
                self.type_of(s.member.as_ref().map_or("", |r| &r.shape))
            ),
            "map" => format!(
                "BTreeMap<String, {}>",
                self.type_of(s.value.as_ref().map_or("", |r| &r.shape))
            ),
            "string" if s.enum_values.is_some() => name.to_owned(),
            "string" => "String".to_owned(),
            "integer" => "i32".to_owned(),
            "long" => "i64".to_owned(),
            "boolean" => "bool".to_owned(),
            "double" | "float" => "Decimal".to_owned(),
            "timestamp" => "DateTime".to_owned(),
            "blob" => "Vec<u8>".to_owned(),
            other => format!("compile_error!(\"unsupported shape type {other}\")"),
        }
    }

    fn member_type(&self, owner: &str, member: &str, target: &str) -> String {
        match self.config.open_enum_for(owner, member) {
            Some(e) => e.name.clone(),
            None => self.type_of(target),
        }
    }

    /// Factual one-line description of a shape's constraints, for doc comments.
    fn constraints(&self, name: &str) -> String {
        let s = self.shape(name);
        let mut parts = Vec::new();
        let bound =
            |n: &Option<serde_json::Number>| n.as_ref().map(|n| n.to_string()).unwrap_or_default();
        if s.min.is_some() || s.max.is_some() {
            let what = match s.ty.as_str() {
                "string" => "length",
                "list" | "map" => "items",
                _ => "range",
            };
            parts.push(format!("{what} {}..={}", bound(&s.min), bound(&s.max)));
        }
        if let Some(p) = &s.pattern {
            parts.push(format!("pattern `{p}`"));
        }
        if s.sensitive {
            parts.push("sensitive".to_owned());
        }
        parts.join(", ")
    }

    fn module(&self) -> String {
        let md = &self.model.metadata;
        let mut o = header("The ECS API, generated from the botocore service model.");
        o += "#![allow(clippy::all, clippy::pedantic, deprecated)]\n\n";
        o += "pub mod errors;\npub mod operations;\nmod serde_impls;\npub mod types;\npub(crate) mod validate;\n\n";
        let _ = writeln!(o, "/// API version of the model (`metadata.apiVersion`).\npub const API_VERSION: &str = {};", lit(&md.api_version));
        let _ = writeln!(
            o,
            "/// Model identity (`metadata.uid`).\npub const MODEL_UID: &str = {};",
            lit(&md.uid)
        );
        let _ = writeln!(
            o,
            "/// Prefix of every `X-Amz-Target` header.\npub const TARGET_PREFIX: &str = {};",
            lit(&md.target_prefix)
        );
        let _ = writeln!(
            o,
            "/// SigV4 signing name.\npub const SIGNING_NAME: &str = {};",
            lit(&md.signing_name)
        );
        let _ = writeln!(o, "/// awsJson protocol version; requests carry `Content-Type: application/x-amz-json-{}`.\npub const JSON_VERSION: &str = {};", md.json_version, lit(&md.json_version));
        let _ = writeln!(
            o,
            "/// Number of operations in the model.\npub const OPERATION_COUNT: usize = {};",
            self.model.operations.len()
        );
        let _ = writeln!(
            o,
            "/// Number of shapes in the model.\npub const SHAPE_COUNT: usize = {};",
            self.model.shapes.len()
        );
        o
    }

    // -----------------------------------------------------------------------------------------
    // types.rs

    fn types(&self) -> Result<String> {
        let mut o =
            header("Every shape of the ECS model: structures, enums and the open string sets.");
        o += "use std::collections::BTreeMap;\n\nuse aws_smithy_types::DateTime;\n\nuse crate::Decimal;\n\n";
        for (name, s) in &self.model.shapes {
            let mut chunk = String::new();
            match s.ty.as_str() {
                "structure" if !s.document => self.write_struct(&mut chunk, name, s)?,
                "string" if s.enum_values.is_some() => self.write_enum(&mut chunk, name, s),
                _ => {}
            }
            o += &gated(&chunk, self.full_only(name), 0);
        }
        for e in &self.config.open_enums {
            o += "crate::string_enum! {\n";
            let _ = writeln!(
                o,
                "    /// Open set of values for {}; the model types it as a plain string, so other\n    /// values are kept in `Unknown`. Known values from: {}.",
                e.members
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                e.source
            );
            let _ = writeln!(o, "    {} {{", e.name);
            for (v, var) in e.values.iter().zip(names::variants(&e.values)) {
                let _ = writeln!(o, "        /// `{v}`\n        {var} = {},", lit(v));
            }
            o += "    }\n}\n\n";
        }
        Ok(o)
    }

    fn write_struct(&self, o: &mut String, name: &str, s: &Shape) -> Result<()> {
        let kind = if s.exception {
            "exception"
        } else if s.union {
            "union (exactly one member is set)"
        } else {
            "structure"
        };
        let _ = writeln!(o, "/// `{name}`: {kind}.");
        if let Some(uses) = self.usage.get(name) {
            let _ = writeln!(o, "///\n/// The {}.", uses.join(", the "));
        }
        if s.deprecated {
            let _ = writeln!(o, "///\n/// Deprecated in the model.");
        }
        let sensitive: Vec<&str> = s
            .members
            .iter()
            .filter(|(_, m)| self.shape(&m.shape).sensitive)
            .map(|(n, _)| n.as_str())
            .collect();
        if sensitive.is_empty() {
            o.push_str("#[derive(Clone, Debug, Default, PartialEq)]\n");
        } else {
            o.push_str("#[derive(Clone, Default, PartialEq)]\n");
        }
        o.push_str("#[non_exhaustive]\n");
        let _ = writeln!(o, "pub struct {name} {{");
        let mut fields = BTreeSet::new();
        let mut members = Vec::new();
        for (m, member) in &s.members {
            let spec = self.member_spec(name, m, member);
            if !fields.insert(spec.field.clone()) || spec.field == "unknown_fields" {
                bail!("{name}.{m}: field name {} collides", spec.field);
            }
            if let Some(meaning) = &spec.meaning {
                let _ = writeln!(o, "    /// {meaning}\n    ///");
            }
            let _ = writeln!(o, "    /// {}.", spec.facts);
            if member.deprecated {
                o.push_str("    #[deprecated(note = \"deprecated in the ECS model\")]\n");
            }
            let _ = writeln!(o, "    pub {}: Option<{}>,", spec.field, spec.ty);
            members.push(spec);
        }
        o.push_str(
            "    /// Members the model does not know, kept so that re-serialising loses nothing.\n",
        );
        o.push_str("    pub unknown_fields: serde_json::Map<String, serde_json::Value>,\n}\n\n");
        if !sensitive.is_empty() {
            let _ = writeln!(o, "impl std::fmt::Debug for {name} {{");
            o.push_str(
                "    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {\n",
            );
            let _ = writeln!(o, "        f.debug_struct({})", lit(name));
            for m in s.members.keys() {
                let field = names::field(m);
                let plain = field.trim_start_matches("r#");
                if sensitive.contains(&m.as_str()) {
                    let _ = writeln!(o, "            .field({}, &self.{field}.as_ref().map(|_| crate::wire::REDACTED))", lit(plain));
                } else {
                    let _ = writeln!(o, "            .field({}, &self.{field})", lit(plain));
                }
            }
            o.push_str("            .field(\"unknown_fields\", &self.unknown_fields)\n            .finish()\n    }\n}\n\n");
        }
        if self.model.shapes.contains_key(&format!("{name}Builder")) {
            bail!("{name}Builder is a model shape: the builder's name collides");
        }
        builder::write(o, name, &members, true)
    }

    /// A member as its field and setters describe it: Rust type, kind, meaning and facts.
    fn member_spec(&self, owner: &str, m: &str, member: &Member) -> builder::Member {
        let field = names::field(m);
        let ty = self.member_type(owner, m, &member.shape);
        let target = self.shape(&member.shape);
        let open_enum = self.config.open_enum_for(owner, m);
        let mut facts = format!("`{m}`: `{}` ({})", member.shape, target.ty);
        if self.shape(owner).required.iter().any(|r| r == m) {
            facts += ", required";
        }
        let c = self.constraints(&member.shape);
        if !c.is_empty() {
            let _ = write!(facts, ", {c}");
        }
        if member.idempotency_token {
            facts += ", idempotency token";
        }
        if let Some(e) = open_enum {
            let _ = write!(facts, ", known values in [`{}`]", e.name);
        }
        let kind = match target.ty.as_str() {
            "list" if open_enum.is_none() => {
                builder::Kind::List(self.type_of(target.member.as_ref().map_or("", |r| &r.shape)))
            }
            "map" if open_enum.is_none() => {
                builder::Kind::Map(self.type_of(target.value.as_ref().map_or("", |r| &r.shape)))
            }
            _ => builder::Kind::Single,
        };
        builder::Member {
            wire: m.to_owned(),
            field,
            ty,
            kind,
            meaning: self.config.meaning(owner, m).map(str::to_owned),
            facts,
            deprecated: member.deprecated,
        }
    }

    fn write_enum(&self, o: &mut String, name: &str, s: &Shape) {
        let values = s.enum_values.clone().unwrap_or_default();
        let variants = names::variants(&values);
        o.push_str("crate::string_enum! {\n");
        let _ = writeln!(
            o,
            "    /// `{name}`: closed set of {} values in the model; others are kept in `Unknown`.",
            values.len()
        );
        let _ = writeln!(o, "    {name} {{");
        for (v, var) in values.iter().zip(&variants) {
            let _ = writeln!(o, "        /// `{v}`\n        {var} = {},", lit(v));
        }
        o.push_str("    }\n}\n\n");
    }

    // -----------------------------------------------------------------------------------------
    // serde_impls.rs

    fn serde_impls(&self) -> Result<String> {
        let mut o = header("Wire (de)serialisation of every structure: camelCase member names, absent members skipped, unknown members kept.");
        o += "use crate::types::*;\n\n";
        for (name, s) in &self.model.shapes {
            if !self.is_struct(name) {
                continue;
            }
            if self.full_only(name) {
                o.push_str(FULL);
                o.push('\n');
            }
            let _ = writeln!(o, "crate::structure_serde!({name} {{");
            for (m, member) in &s.members {
                let codec = if self.shape(&member.shape).ty == "timestamp" {
                    "Epoch"
                } else {
                    "Plain"
                };
                let _ = writeln!(o, "    {}: {} => {codec},", names::field(m), lit(m));
            }
            o.push_str("});\n\n");
        }
        Ok(o)
    }

    // -----------------------------------------------------------------------------------------
    // validate.rs

    /// Whether validating a value of this shape can report anything.
    fn needs_check(&self, name: &str) -> bool {
        if let Some(v) = self.needs.borrow().get(name) {
            return *v;
        }
        let s = self.shape(name);
        let hooked = self.config.documented_rules.contains_key(name);
        let bounded = s.min.is_some() || s.max.is_some();
        let v = match s.ty.as_str() {
            "structure" if s.document => false,
            "structure" => {
                hooked
                    || s.union
                    || !s.required.is_empty()
                    || s.members.iter().any(|(m, mm)| {
                        self.config.open_enum_for(name, m).is_none() && self.needs_check(&mm.shape)
                    })
            }
            "list" => {
                bounded
                    || hooked
                    || s.member
                        .as_ref()
                        .is_some_and(|r| self.needs_check(&r.shape))
            }
            "map" => {
                bounded
                    || s.key.as_ref().is_some_and(|r| self.needs_check(&r.shape))
                    || s.value.as_ref().is_some_and(|r| self.needs_check(&r.shape))
            }
            "string" => s.enum_values.is_some() || bounded || s.pattern.is_some(),
            "integer" | "long" | "double" | "float" => bounded,
            _ => false,
        };
        self.needs.borrow_mut().insert(name.to_owned(), v);
        v
    }

    /// Statements that validate `expr` (a reference to a value of `shape`) at the current path.
    fn check_code(&self, shape: &str, expr: &str) -> Option<String> {
        if !self.needs_check(shape) {
            return None;
        }
        let s = self.shape(shape);
        let num = |n: &Option<serde_json::Number>| match n {
            Some(n) => format!("Some({n})"),
            None => "None".to_owned(),
        };
        Some(match s.ty.as_str() {
            "structure" => format!("{expr}.check(c);"),
            "list" | "map" => format!("check_{}({expr}, c);", names::snake(shape)),
            "string" if s.enum_values.is_some() => {
                format!("c.enum_value({expr}.is_known(), {expr}.as_str(), {shape}::VALUES);")
            }
            "string" => format!("check_{}({expr}, c);", names::snake(shape)),
            "integer" | "long" => format!(
                "c.range(i64::from(*{expr}), {}, {});",
                num(&s.min),
                num(&s.max)
            ),
            "double" | "float" => {
                let f = |n: &Option<serde_json::Number>| match n.as_ref().and_then(|n| n.as_f64()) {
                    Some(x) => format!("Some({x:?})"),
                    None => "None".to_owned(),
                };
                format!(
                    "c.range_f64({expr}.to_f64(), {}, {});",
                    f(&s.min),
                    f(&s.max)
                )
            }
            _ => return None,
        })
    }

    fn validators(&self) -> Result<String> {
        let mut o = header("Model-constraint validators (required, length, range, enum, pattern, union) for every structure.");
        o += "#![allow(unused_variables, dead_code, clippy::ptr_arg)]\n\nuse std::sync::LazyLock;\n\nuse regex::Regex;\n\nuse crate::types::*;\nuse crate::validate::{Checker, Validate};\n\n";
        for (pattern, stat) in &self.patterns {
            let anchored = format!("^(?:{pattern})$");
            let _ = writeln!(
                o,
                "/// Model pattern {}, anchored: it must match the whole value.",
                lit(pattern)
            );
            let _ = writeln!(o, "pub(crate) static {stat}: LazyLock<Regex> = LazyLock::new(|| crate::validate::model_pattern({}));\n", lit(&anchored));
        }
        let _ = writeln!(o, "/// Every model pattern, for the test that compiles them all.\n#[cfg(test)]\npub(crate) static PATTERNS: &[&LazyLock<Regex>] = &[{}];\n",
            self.patterns.values().map(|s| format!("&{s}")).collect::<Vec<_>>().join(", "));

        for (name, s) in &self.model.shapes {
            let mut chunk = String::new();
            match s.ty.as_str() {
                "structure" if !s.document => self.write_struct_validator(&mut chunk, name, s),
                "list" if self.needs_check(name) => {
                    let elem = s.member.as_ref().map_or("", |r| r.shape.as_str());
                    let _ = writeln!(
                        chunk,
                        "fn check_{}(v: &Vec<{}>, c: &mut Checker) {{",
                        names::snake(name),
                        self.type_of(elem)
                    );
                    if s.min.is_some() || s.max.is_some() {
                        let _ = writeln!(
                            chunk,
                            "    c.count(v.len(), {}, {});",
                            opt_usize(&s.min),
                            opt_usize(&s.max)
                        );
                    }
                    if let Some(code) = self.check_code(elem, "item") {
                        let _ = writeln!(chunk, "    for (i, item) in v.iter().enumerate() {{\n        c.enter_index(i);\n        {code}\n        c.leave();\n    }}");
                    }
                    if let Some(f) = self.config.documented_rules.get(name) {
                        let _ = writeln!(chunk, "    crate::rules::{f}(v, c);");
                    }
                    chunk += "}\n\n";
                }
                "map" if self.needs_check(name) => {
                    let key = s.key.as_ref().map_or("", |r| r.shape.as_str());
                    let val = s.value.as_ref().map_or("", |r| r.shape.as_str());
                    let _ = writeln!(chunk, "fn check_{}(v: &std::collections::BTreeMap<String, {}>, c: &mut Checker) {{", names::snake(name), self.type_of(val));
                    if s.min.is_some() || s.max.is_some() {
                        let _ = writeln!(
                            chunk,
                            "    c.count(v.len(), {}, {});",
                            opt_usize(&s.min),
                            opt_usize(&s.max)
                        );
                    }
                    let key_code = if self.is_enum(key) {
                        None
                    } else {
                        self.check_code(key, "k.as_str()")
                    };
                    let val_code = self.check_code(val, "item");
                    if key_code.is_some() || val_code.is_some() {
                        let _ = writeln!(chunk, "    for (k, item) in v {{\n        c.enter_key(k);\n        {}\n        {}\n        c.leave();\n    }}",
                            key_code.unwrap_or_default(), val_code.unwrap_or_default());
                    }
                    chunk += "}\n\n";
                }
                "string" if s.enum_values.is_none() && self.needs_check(name) => {
                    let _ = writeln!(
                        chunk,
                        "fn check_{}(v: &str, c: &mut Checker) {{",
                        names::snake(name)
                    );
                    if s.min.is_some() || s.max.is_some() {
                        let _ = writeln!(
                            chunk,
                            "    c.length(v, {}, {});",
                            opt_usize(&s.min),
                            opt_usize(&s.max)
                        );
                    }
                    if let Some(p) = &s.pattern {
                        let _ = writeln!(
                            chunk,
                            "    c.pattern(v, &{}, {});",
                            self.patterns[p],
                            lit(p)
                        );
                    }
                    chunk += "}\n\n";
                }
                _ => {}
            }
            o += &gated(&chunk, self.full_only(name), 0);
        }
        Ok(o)
    }

    fn write_struct_validator(&self, o: &mut String, name: &str, s: &Shape) {
        let _ = writeln!(o, "impl Validate for {name} {{");
        if !self.needs_check(name) {
            o.push_str("    fn check(&self, _c: &mut Checker) {}\n}\n\n");
            return;
        }
        o.push_str("    fn check(&self, c: &mut Checker) {\n");
        for r in &s.required {
            let _ = writeln!(
                o,
                "        if self.{}.is_none() {{ c.missing({}); }}",
                names::field(r),
                lit(r)
            );
        }
        if s.union {
            let members: Vec<&String> = s.members.keys().collect();
            let _ = writeln!(
                o,
                "        c.union(&[{}], &[{}]);",
                members
                    .iter()
                    .map(|m| format!("self.{}.is_some()", names::field(m)))
                    .collect::<Vec<_>>()
                    .join(", "),
                members
                    .iter()
                    .map(|m| lit(m))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        for (m, member) in &s.members {
            if self.config.open_enum_for(name, m).is_some() {
                continue;
            }
            let target = self.shape(&member.shape);
            let expr = match target.ty.as_str() {
                "string" if target.enum_values.is_none() => "v.as_str()",
                _ => "v",
            };
            if let Some(code) = self.check_code(&member.shape, expr) {
                let allow = if member.deprecated {
                    "#[allow(deprecated)] "
                } else {
                    ""
                };
                let _ = writeln!(o, "        {allow}if let Some(v) = &self.{} {{\n            c.enter({});\n            {code}\n            c.leave();\n        }}", names::field(m), lit(m));
            }
        }
        if let Some(f) = self.config.documented_rules.get(name) {
            let _ = writeln!(o, "        crate::rules::{f}(self, c);");
        }
        o.push_str("    }\n}\n\n");
    }

    // -----------------------------------------------------------------------------------------
    // ecs-client: one method per operation

    pub fn client_methods(&self) -> Result<String> {
        let mut o = header("One `EcsClient` method per ECS operation, answering a fluent request builder (`fluent`): `ecs.create_task_set().cluster(..).service(..).send().await`. `EcsClient::send::<Op>(input)` remains for inputs built whole.");
        o += "#![allow(deprecated, unused_imports)]\n\nuse std::collections::BTreeMap;\n\nuse ecs_model::errors::*;\nuse ecs_model::operations;\nuse ecs_model::types::*;\nuse ecs_model::{DateTime, Decimal};\n\nuse crate::{CallError, CallOptions, EcsClient, Error};\n\nimpl EcsClient {\n";
        for op in self.model.operations.values() {
            let mut chunk = String::new();
            let _ = writeln!(
                chunk,
                "    /// `{}`: a request builder; `.send().await` sends it.",
                op.name
            );
            if op.deprecated {
                chunk += "    #[deprecated(note = \"deprecated in the ECS model\")]\n";
            }
            let _ = writeln!(
                chunk,
                "    pub fn {}(&self) -> fluent::{}<'_> {{\n        fluent::{}::new(self)\n    }}\n",
                names::snake(&op.name),
                op.name,
                op.name
            );
            o += &gated(&chunk, self.full_only_op(&op.name), 4);
        }
        let mut out = o;
        out += "}\n\n/// One request builder per operation: a setter per input member (a list member's setter\n/// appends one item, a map member's inserts one entry; `set_<member>` replaces or clears the\n/// whole value), `options` for per-call overrides, and `send`.\npub mod fluent {\n    use super::*;\n\n";
        for op in self.model.operations.values() {
            let mut chunk = String::new();
            let o = &mut chunk;
            let (input, output) = io(op)?;
            let name = &op.name;
            let _ = writeln!(
                o,
                "    /// Builds and sends `{name}` ([`{}`] in, [`{}`] out).",
                input.shape, output.shape
            );
            let _ = writeln!(o, "    #[must_use = \"a request is sent only by `send`\"]\n    pub struct {name}<'a> {{\n        client: &'a EcsClient,\n        input: {},\n        options: CallOptions,\n    }}\n", input.shape);
            let _ = writeln!(o, "    impl<'a> {name}<'a> {{\n        pub(crate) fn new(client: &'a EcsClient) -> Self {{\n            {name} {{\n                client,\n                input: Default::default(),\n                options: CallOptions::default(),\n            }}\n        }}\n");
            let shape = self.shape(&input.shape);
            let members: Vec<builder::Member> = shape
                .members
                .iter()
                .map(|(m, member)| self.member_spec(&input.shape, m, member))
                .collect();
            builder::setters(
                o,
                &input.shape,
                &members,
                "self.input",
                "        ",
                builder::REQUEST_METHODS,
            )?;
            let _ = writeln!(o, "        /// The request as built so far.\n        pub fn input(&self) -> &{} {{\n            &self.input\n        }}\n", input.shape);
            let _ = writeln!(o, "        /// Per-call overrides (validation mode, attempts).\n        pub fn options(mut self, options: CallOptions) -> Self {{\n            self.options = options;\n            self\n        }}\n");
            let _ = writeln!(o, "        /// Validates, signs and sends the request. A failure is a [`CallError`] that reads the\n        /// service's answer as [`{name}Error`]: `is_<exception>()`, `message()`, `request_id()`.\n        pub async fn send(self) -> Result<{}, CallError<{name}Error>> {{\n            self.client\n                .send_with::<operations::{name}>(self.input, self.options)\n                .await\n                .map_err(CallError::new)\n        }}\n    }}\n", output.shape);
            out += &gated(&chunk, self.full_only_op(&op.name), 4);
        }
        out += "}\n\n";
        for op in self.model.operations.values() {
            let name = &op.name;
            let mut chunk = String::new();
            let _ = writeln!(chunk, "impl CallError<{name}Error> {{");
            for e in &op.errors {
                let is = format!("is_{}", names::snake(&e.shape));
                let _ = writeln!(chunk, "    /// Whether the service answered `{}`.\n    #[inline]\n    pub fn {is}(&self) -> bool {{\n        self.kind().is_some_and({name}Error::{is})\n    }}\n", e.shape);
            }
            chunk += "}\n\n";
            out += &gated(&chunk, self.full_only_op(name), 0);
        }
        Ok(out)
    }

    // -----------------------------------------------------------------------------------------
    // operations.rs and errors.rs

    fn operations(&self) -> Result<String> {
        let mut out = header(
            "The operation table: one marker type per operation and `OPERATIONS`, in model order.",
        );
        let o = &mut out;
        *o += "use crate::errors::ModeledError;\nuse crate::operation::{Operation, OperationInfo};\nuse crate::types::*;\n\n";
        let prefix = &self.model.metadata.target_prefix;
        for op in self.model.operations.values() {
            let mut chunk = String::new();
            let o = &mut chunk;
            let (input, output) = io(op)?;
            let token = self
                .shape(&input.shape)
                .members
                .iter()
                .find(|(_, m)| m.idempotency_token)
                .map(|(n, _)| format!("Some({})", lit(n)))
                .unwrap_or_else(|| "None".to_owned());
            let mut flags = Vec::new();
            if op.readonly {
                flags.push("read-only");
            }
            if op.idempotent {
                flags.push("idempotent");
            }
            if op.deprecated {
                flags.push("deprecated");
            }
            let _ = writeln!(
                o,
                "/// `{}`: input `{}`, output `{}`{}.",
                op.name,
                input.shape,
                output.shape,
                if flags.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", flags.join(", "))
                }
            );
            let _ = writeln!(
                o,
                "#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]\npub struct {};\n",
                op.name
            );
            let _ = writeln!(o, "impl Operation for {} {{", op.name);
            let _ = writeln!(
                o,
                "    type Input = {};\n    type Output = {};\n    type Error = crate::errors::{}Error;",
                input.shape, output.shape, op.name
            );
            let _ = writeln!(o, "    const INFO: OperationInfo = OperationInfo {{");
            let _ = writeln!(
                o,
                "        name: {},\n        target: {},",
                lit(&op.name),
                lit(&format!("{prefix}.{}", op.name))
            );
            let _ = writeln!(
                o,
                "        input_shape: {},\n        output_shape: {},",
                lit(&input.shape),
                lit(&output.shape)
            );
            let _ = writeln!(
                o,
                "        errors: &[{}],",
                op.errors
                    .iter()
                    .map(|e| format!("ModeledError::{}", e.shape))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let _ = writeln!(o, "        readonly: {},\n        idempotent: {},\n        idempotency_token: {token},\n    }};\n}}\n", op.readonly, op.idempotent);
            out += &gated(&chunk, self.full_only_op(&op.name), 0);
        }
        for full in [true, false] {
            if self.default_shapes.is_some() {
                out += if full {
                    "#[cfg(feature = \"full\")]\n"
                } else {
                    "#[cfg(not(feature = \"full\"))]\n"
                };
            }
            let _ = writeln!(out, "/// Every operation of the model built (all of them with the `full` feature), in model\n/// order.\npub static OPERATIONS: &[OperationInfo] = &[");
            for op in self.model.operations.values() {
                if full || !self.full_only_op(&op.name) {
                    let _ = writeln!(out, "    {}::INFO,", op.name);
                }
            }
            out += "];\n";
            if self.default_shapes.is_none() {
                break;
            }
        }
        Ok(out)
    }

    fn errors(&self) -> String {
        let mut o = header("Error codes of the modeled exceptions, and per operation the exceptions it can answer.");
        let errs: Vec<(&String, &Shape)> = self
            .model
            .shapes
            .iter()
            .filter(|(_, s)| s.exception)
            .collect();
        o += "/// A modeled ECS exception, by its code (the shape name).\n#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]\n#[non_exhaustive]\npub enum ModeledError {\n";
        for (n, s) in &errs {
            let _ = writeln!(
                o,
                "    /// `{n}`{}.",
                if s.fault {
                    ", a server fault"
                } else {
                    ", a client fault"
                }
            );
            let _ = writeln!(o, "    {n},");
        }
        o += "}\n\nimpl ModeledError {\n    /// Every modeled exception.\n    pub const ALL: &'static [ModeledError] = &[";
        o += &errs
            .iter()
            .map(|(n, _)| format!("ModeledError::{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        o += "];\n\n    /// The wire code, e.g. `ClusterNotFoundException`.\n    pub fn code(self) -> &'static str {\n        match self {\n";
        for (n, _) in &errs {
            let _ = writeln!(o, "            ModeledError::{n} => {},", lit(n));
        }
        o += "        }\n    }\n\n    /// The exception for a bare code (no namespace, no suffix), if the model has it.\n    pub fn from_code(code: &str) -> Option<ModeledError> {\n        Some(match code {\n";
        for (n, _) in &errs {
            let _ = writeln!(o, "            {} => ModeledError::{n},", lit(n));
        }
        o += "            _ => return None,\n        })\n    }\n\n    /// Whether the model marks it a server fault (HTTP 5xx) rather than a client fault.\n    pub fn is_server_fault(self) -> bool {\n        matches!(self, ";
        let faults: Vec<String> = errs
            .iter()
            .filter(|(_, s)| s.fault)
            .map(|(n, _)| format!("ModeledError::{n}"))
            .collect();
        o += &if faults.is_empty() {
            "_ if false".to_owned()
        } else {
            faults.join(" | ")
        };
        o += ")\n    }\n}\n\nimpl std::fmt::Display for ModeledError {\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {\n        f.write_str(self.code())\n    }\n}\n";
        for op in self.model.operations.values() {
            if self.full_only_op(&op.name) {
                let _ = write!(o, "\n{FULL}");
            }
            let _ = writeln!(o, "\ncrate::operation_error! {{\n    /// What `{}` can answer instead of its output: an exception the model lists for it,\n    /// or (`Unhandled`) a code it does not list, kept opaque.\n    {}Error {{", op.name, op.name);
            for e in &op.errors {
                let fault = self.shape(&e.shape).fault;
                let _ = writeln!(
                    o,
                    "        /// `{}`, a {} fault.\n        {} => is_{},",
                    e.shape,
                    if fault { "server" } else { "client" },
                    e.shape,
                    names::snake(&e.shape)
                );
            }
            o += "    }\n}\n";
        }
        o
    }
}

/// An operation's input and output shapes (every ECS operation has both).
fn io(op: &Operation) -> Result<(&ShapeRef, &ShapeRef)> {
    let input = op
        .input
        .as_ref()
        .with_context(|| format!("{} has no input", op.name))?;
    let output = op
        .output
        .as_ref()
        .with_context(|| format!("{} has no output", op.name))?;
    Ok((input, output))
}

fn opt_usize(n: &Option<serde_json::Number>) -> String {
    match n.as_ref().and_then(|n| n.as_u64()) {
        Some(v) => format!("Some({v})"),
        None => "None".to_owned(),
    }
}
