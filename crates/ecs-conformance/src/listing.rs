//! `ecs-conformance rules` and `ecs-conformance cases`: what the suite checks, listed.

use std::fmt::Write as _;

use anyhow::Result;
use ecs_harness::catalog::CheckedBy;
use ecs_harness::{Case, Catalog};

/// How a listing is printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    /// One line per item.
    Text,
    /// A Markdown table (rules only: the catalog table of conformance/README.md).
    Markdown,
    /// JSON: the catalog's rules, or the cases with parts and tables expanded.
    Json,
}

/// What checks a rule, in words.
fn checked_by(catalog_rule: &ecs_harness::catalog::Rule, cases: &[Case]) -> String {
    match catalog_rule.checked_by {
        CheckedBy::Cases => {
            let n = cases
                .iter()
                .filter(|c| c.all_rules().contains(catalog_rule.id.as_str()))
                .count();
            format!("{n} case(s)")
        }
        CheckedBy::Invariant => "every answer (invariant)".into(),
        CheckedBy::Schema => "every answer (schema)".into(),
        CheckedBy::Wire => "every answer (wire)".into(),
    }
}

/// The rule catalog, with how many cases check each rule.
pub fn rules(catalog: &Catalog, cases: &[Case], format: ListFormat) -> Result<String> {
    let mut o = String::new();
    match format {
        ListFormat::Json => o = serde_json::to_string_pretty(&catalog.rules)? + "\n",
        ListFormat::Markdown => {
            o.push_str(
                "| rule | level | in our words | source | checked by |\n|---|---|---|---|---|\n",
            );
            for rule in &catalog.rules {
                let _ = writeln!(
                    o,
                    "| `{}` | {} | {} | {} | {} |",
                    rule.id,
                    rule.level.label(),
                    rule.summary.replace('|', "\\|"),
                    rule.source.replace('|', "\\|"),
                    checked_by(rule, cases)
                );
            }
        }
        ListFormat::Text => {
            let width = catalog.rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
            for rule in &catalog.rules {
                let _ = writeln!(
                    o,
                    "{:width$}  {:10}  {:24}  {}",
                    rule.id,
                    rule.level.label(),
                    checked_by(rule, cases),
                    rule.summary
                );
            }
            let _ = writeln!(o, "{} rules", catalog.rules.len());
        }
    }
    Ok(o)
}

/// The cases, each with its file, rules and tags.
pub fn cases(cases: &[Case], format: ListFormat) -> Result<String> {
    let mut o = String::new();
    match format {
        ListFormat::Json => {
            let listed: Vec<serde_json::Value> = cases
                .iter()
                .map(|c| {
                    let mut v = serde_json::to_value(c)?;
                    if let Some(map) = v.as_object_mut() {
                        map.insert("file".into(), c.file.clone().into());
                        map.insert("source".into(), c.source.clone().into());
                    }
                    Ok(v)
                })
                .collect::<Result<_, serde_json::Error>>()?;
            o = serde_json::to_string_pretty(&listed)? + "\n";
        }
        ListFormat::Text | ListFormat::Markdown => {
            for c in cases {
                let _ = write!(
                    o,
                    "{}  ({}{})  {}",
                    c.id,
                    c.file,
                    c.source,
                    c.rules.join(", ")
                );
                if !c.tags.is_empty() {
                    let _ = write!(o, "  [{}]", c.tags.join(", "));
                }
                if !c.needs.is_empty() {
                    let _ = write!(o, "  needs {}", c.needs.join(", "));
                }
                o.push('\n');
            }
            let _ = writeln!(o, "{} cases", cases.len());
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::Bundle;

    #[test]
    fn listings_name_every_rule_and_case() {
        let bundle = Bundle::default();
        let catalog = bundle.catalog().expect("catalog");
        let all = bundle.cases(&catalog).expect("cases");
        let text = rules(&catalog, &all, ListFormat::Text).expect("rules");
        assert!(text.ends_with(&format!("{} rules\n", catalog.rules.len())));
        let md = rules(&catalog, &all, ListFormat::Markdown).expect("markdown");
        assert_eq!(md.lines().count(), catalog.rules.len() + 2);
        assert!(md.contains("| `ts.client-token` |"));
        let listed = cases(&all, ListFormat::Text).expect("cases");
        assert!(listed.ends_with(&format!("{} cases\n", all.len())));
        let json: serde_json::Value =
            serde_json::from_str(&cases(&all[..2], ListFormat::Json).expect("json")).expect("json");
        assert_eq!(json.as_array().map(Vec::len), Some(2));
        assert!(json[0]["file"].is_string());
    }
}
