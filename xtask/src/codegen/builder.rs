//! Setters shared by the structures' builders (`Scale::builder().value(..).build()`) and the
//! client's request builders (`ecs.create_task_set().cluster(..)`): one setter per member that
//! takes anything convertible into the member's type (a list member's appends one item, a
//! map member's inserts one entry) and `set_<member>` that replaces or clears the whole value.
//!
//! Setters, `builder()`, `build()` and `From` are `#[inline]` (and the plain setters generic),
//! so a crate pays code generation mostly for what it calls; type checking them is what the
//! builders cost `ecs-model` (see docs/performance.md, section 4).

use std::fmt::Write as _;

use anyhow::{bail, Result};

/// What a member holds, for its setter.
pub enum Kind {
    /// One value.
    Single,
    /// A list; the setter appends one item of this type.
    List(String),
    /// A map from strings; the setter inserts one entry with a value of this type.
    Map(String),
}

/// One member as its setters see it.
pub struct Member {
    /// The model's member name (`taskDefinition`).
    pub wire: String,
    /// The Rust field (`task_definition`, `r#type`).
    pub field: String,
    /// The field's type inside its `Option`.
    pub ty: String,
    pub kind: Kind,
    /// What the member means, in one line (from `member-docs.json`), if the project wrote it.
    pub meaning: Option<String>,
    /// The facts line: type, requiredness, constraints (`String` (string), required).
    pub facts: String,
    pub deprecated: bool,
}

impl Member {
    /// The member's field name without a raw-identifier prefix.
    pub fn plain(&self) -> &str {
        self.field.trim_start_matches("r#")
    }
}

/// Methods a structure's builder has besides its setters.
const BUILDER_METHODS: &[&str] = &["build", "builder", "set_unknown_fields"];

/// Methods a request builder has besides its setters.
pub const REQUEST_METHODS: &[&str] = &["input", "options", "send", "new"];

/// Writes every member's setters, each assigning through `access` (`self.inner`), indented by
/// `pad`; `reserved` names the other methods of the builder, which no setter may take.
pub fn setters(
    o: &mut String,
    owner: &str,
    members: &[Member],
    access: &str,
    pad: &str,
    reserved: &[&str],
) -> Result<()> {
    for m in members {
        let plain = m.plain();
        if reserved.contains(&plain) || reserved.contains(&format!("set_{plain}").as_str()) {
            bail!("{owner}.{}: member collides with a builder method", m.wire);
        }
        let field = &m.field;
        let ty = &m.ty;
        let dep = if m.deprecated {
            format!("{pad}#[deprecated(note = \"deprecated in the ECS model\")]\n")
        } else {
            String::new()
        };
        let about = about(m, pad);
        match &m.kind {
            Kind::List(item) => {
                let _ = writeln!(
                    o,
                    "{pad}/// Appends one item to `{w}`.\n{about}{dep}{pad}#[inline]\n{pad}pub fn {field}(mut self, item: impl Into<{item}>) -> Self {{\n{pad}    {access}.{field}.get_or_insert_with(Vec::new).push(item.into());\n{pad}    self\n{pad}}}\n",
                    w = m.wire
                );
            }
            Kind::Map(value) => {
                let _ = writeln!(
                    o,
                    "{pad}/// Inserts one entry into `{w}`.\n{about}{dep}{pad}#[inline]\n{pad}pub fn {field}(mut self, key: impl Into<String>, value: impl Into<{value}>) -> Self {{\n{pad}    {access}.{field}.get_or_insert_with(BTreeMap::new).insert(key.into(), value.into());\n{pad}    self\n{pad}}}\n",
                    w = m.wire
                );
            }
            Kind::Single if ty == "serde_json::Value" => {
                // `impl Into<Value>` would take an `Option` too (`None` becoming `null`).
                let _ = writeln!(
                    o,
                    "{pad}/// Sets `{w}`.\n{about}{dep}{pad}#[inline]\n{pad}pub fn {field}(mut self, value: serde_json::Value) -> Self {{\n{pad}    {access}.{field} = Some(value);\n{pad}    self\n{pad}}}\n",
                    w = m.wire
                );
            }
            Kind::Single => {
                let _ = writeln!(
                    o,
                    "{pad}/// Sets `{w}`.\n{about}{dep}{pad}#[inline]\n{pad}pub fn {field}(mut self, value: impl Into<{ty}>) -> Self {{\n{pad}    {access}.{field} = Some(value.into());\n{pad}    self\n{pad}}}\n",
                    w = m.wire
                );
            }
        }
        let _ = writeln!(
            o,
            "{pad}/// Sets or clears `{w}` as a whole.\n{dep}{pad}#[inline]\n{pad}pub fn set_{plain}(mut self, value: Option<{ty}>) -> Self {{\n{pad}    {access}.{field} = value;\n{pad}    self\n{pad}}}\n",
            w = m.wire
        );
    }
    Ok(())
}

/// The doc paragraph after a setter's first line: the member's meaning and its facts.
fn about(m: &Member, pad: &str) -> String {
    let mut s = format!("{pad}///\n");
    if let Some(meaning) = &m.meaning {
        let _ = writeln!(s, "{pad}/// {meaning}");
        let _ = writeln!(s, "{pad}///");
    }
    let _ = writeln!(s, "{pad}/// {}.", m.facts);
    s
}

/// Writes `impl Name { fn builder() }`, the `NameBuilder` type with its setters, `build`, and
/// `From<Name>`. With `unknown_fields`, the builder can also carry members the model does not
/// know.
pub fn write(o: &mut String, name: &str, members: &[Member], unknown_fields: bool) -> Result<()> {
    let b = format!("{name}Builder");
    let _ = writeln!(
        o,
        "impl {name} {{\n    /// A builder with every member unset: `{name}::builder().<member>(..).build()`.\n    #[inline]\n    pub fn builder() -> {b} {{\n        {b}::default()\n    }}\n}}\n"
    );
    let _ = writeln!(
        o,
        "/// Builds a [`{name}`] one member at a time; [`{b}::build`] gives the value.\n#[derive(Clone, Default, PartialEq)]\n#[must_use = \"a builder gives its value only through `build`\"]\npub struct {b} {{\n    inner: {name},\n}}\n"
    );
    let _ = writeln!(o, "#[allow(deprecated)]\nimpl {b} {{");
    setters(o, name, members, "self.inner", "    ", BUILDER_METHODS)?;
    if unknown_fields {
        o.push_str("    /// Replaces the members the model does not know (written back as they are).\n    #[inline]\n    pub fn set_unknown_fields(mut self, value: serde_json::Map<String, serde_json::Value>) -> Self {\n        self.inner.unknown_fields = value;\n        self\n    }\n\n");
    }
    let _ = writeln!(
        o,
        "    /// The value as built.\n    #[inline]\n    pub fn build(self) -> {name} {{\n        self.inner\n    }}\n}}\n"
    );
    let _ = writeln!(
        o,
        "impl From<{name}> for {b} {{\n    /// A builder that starts from `value`'s members.\n    #[inline]\n    fn from(value: {name}) -> Self {{\n        {b} {{ inner: value }}\n    }}\n}}\n"
    );
    let _ = writeln!(
        o,
        "impl std::fmt::Debug for {b} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        f.debug_tuple({:?}).field(&self.inner).finish()\n    }}\n}}\n",
        b
    );
    Ok(())
}
