//! Rust identifiers for model names.

use heck::{ToSnakeCase, ToUpperCamelCase};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
    "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// `taskSetArn` -> `task_set_arn`; keywords become raw identifiers (`type` -> `r#type`).
pub fn field(member: &str) -> String {
    let snake = member.to_snake_case();
    if KEYWORDS.contains(&snake.as_str()) {
        format!("r#{snake}")
    } else {
        snake
    }
}

/// `DescribeTaskSets` -> `describe_task_sets` (function and module names).
pub fn snake(name: &str) -> String {
    field(name)
}

/// An enum value as a variant name: `FARGATE_SPOT` -> `FargateSpot`, `us-east-1` -> `UsEast1`.
pub fn variant(value: &str) -> String {
    let mut v = value.to_upper_camel_case();
    if v.is_empty() || v.starts_with(|c: char| c.is_ascii_digit()) {
        v = format!("V{v}");
    }
    if v == "Self" {
        v = "SelfValue".to_owned();
    }
    // `Unknown(String)` is the catch-all; a modeled UNKNOWN takes another name (smithy-rs does
    // the same).
    if v == "Unknown" {
        v = "UnknownValue".to_owned();
    }
    v
}

/// Variant names for all values of one enum, made unique by numbering collisions.
pub fn variants(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let base = variant(value);
        let mut name = base.clone();
        let mut n = 2;
        while out.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        out.push(name);
    }
    out
}

/// Rust string literal for arbitrary text.
pub fn lit(s: &str) -> String {
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(field("taskSetArn"), "task_set_arn");
        assert_eq!(field("awsvpcConfiguration"), "awsvpc_configuration");
        assert_eq!(field("type"), "r#type");
        assert_eq!(variant("FARGATE_SPOT"), "FargateSpot");
        assert_eq!(variant("distinctInstance"), "DistinctInstance");
        assert_eq!(variant("UNKNOWN"), "UnknownValue");
        assert_eq!(variant("1x"), "V1x");
        let v = variants(&["ENABLED".to_owned(), "enabled".to_owned()]);
        assert_eq!(v, ["Enabled", "Enabled2"]);
    }
}
