//! `cargo xtask fixtures [--check]`: keeps the fixture files in their canonical layout
//! ([`ecs_harness::jsontext`]) and the rule catalog table of `conformance/README.md` in step
//! with `conformance/rules.json` and the cases.
//!
//! The fixtures are written by people; this command only lays them out, so that every line of
//! a fixture is either a person's or this layout's, and a diff shows what changed. The
//! rounding table (`fixtures/rounding.json`) is checked by the tests below against
//! [`exact_ceil`], integer arithmetic on the decimal text of each row that shares nothing with
//! `ecs_model::semantics`: a wrong row fails.

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::util;

/// `ceil(desired x scale / 100)` on the decimal text of `scale`, with integers only.
pub fn exact_ceil(desired: i64, scale: &str) -> Option<i64> {
    let (whole, frac) = scale.split_once('.').unwrap_or((scale, ""));
    if whole.is_empty()
        || !whole
            .chars()
            .chain(frac.chars())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{whole}{frac}");
    let numerator: i128 = digits.parse().ok()?;
    let denominator: i128 = 10i128.checked_pow(u32::try_from(frac.len()).ok()?)? * 100;
    let product = numerator.checked_mul(i128::from(desired))?;
    let ceil = (product + denominator - 1).div_euclid(denominator);
    i64::try_from(ceil).ok()
}

/// The fixture files, relative to `fixtures/`, in name order (the schema excepted).
fn fixture_files(dir: &std::path::Path) -> Result<Vec<String>> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Lays out (or with `check`, compares) every fixture file and the rule catalog table.
pub fn run(check: bool) -> Result<()> {
    let root = crate::project_root();
    let dir = root.join("fixtures");
    let mut stale = vec![];
    let mut lines = 0;
    let files = fixture_files(&dir)?;
    for name in &files {
        let path = dir.join(name);
        let text = util::read_to_string(&path)?;
        let value: Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
        let fresh = ecs_harness::jsontext::to_text(&value);
        lines += fresh.lines().count();
        if fresh != text {
            if check {
                stale.push(path.display().to_string());
            } else {
                util::write_if_changed(&path, &fresh)?;
                println!("laid out {}", path.display());
            }
        }
    }
    let readme = root.join("conformance/README.md");
    let readme_text = util::read_to_string(&readme)?;
    let readme_fresh = with_catalog_table(&readme_text)?;
    if readme_text != readme_fresh {
        if check {
            stale.push(format!("the rule catalog table in {}", readme.display()));
        } else {
            util::write_if_changed(&readme, &readme_fresh)?;
            println!("wrote {}", readme.display());
        }
    }
    if !stale.is_empty() {
        bail!(
            "not in canonical form: {}; run `cargo xtask fixtures`",
            stale.join(", ")
        );
    }
    let catalog = ecs_harness::Catalog::load(&root.join("conformance/rules.json"))?;
    let cases = ecs_harness::load_dir(&dir, &catalog).map_err(|e| anyhow::anyhow!("{e}"))?;
    let wrong = wrong_rounding_rows(&cases)?;
    if !wrong.is_empty() {
        bail!(
            "rounding rows that are not the exact ceiling:\n  {}",
            wrong.join("\n  ")
        );
    }
    println!(
        "{} fixture files, {lines} lines, {} cases; layout and rule catalog table are fresh",
        files.len(),
        cases.len()
    );
    Ok(())
}

const CATALOG_START: &str =
    "<!-- rule-catalog:start (written by cargo xtask fixtures from rules.json and fixtures/) -->";
const CATALOG_END: &str = "<!-- rule-catalog:end -->";

/// `readme` with the rule catalog table rewritten from `conformance/rules.json`, counting the
/// cases of `fixtures/` that check each rule.
fn with_catalog_table(readme: &str) -> Result<String> {
    use std::fmt::Write as _;
    let root = crate::project_root();
    let catalog = ecs_harness::Catalog::load(&root.join("conformance/rules.json"))?;
    let cases = ecs_harness::load_dir(&root.join("fixtures"), &catalog)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut table = String::from(
        "| rule | level | in our words | source | checked by |\n|---|---|---|---|---|\n",
    );
    for rule in &catalog.rules {
        let checked_by = match rule.checked_by {
            ecs_harness::catalog::CheckedBy::Cases => {
                let n = cases
                    .iter()
                    .filter(|c| c.all_rules().contains(rule.id.as_str()))
                    .count();
                format!("{n} case(s)")
            }
            ecs_harness::catalog::CheckedBy::Invariant => "every answer (invariant)".into(),
            ecs_harness::catalog::CheckedBy::Schema => "every answer (schema)".into(),
            ecs_harness::catalog::CheckedBy::Wire => "every answer (wire)".into(),
        };
        let _ = writeln!(
            table,
            "| `{}` | {} | {} | {} | {} |",
            rule.id,
            rule.level.label(),
            rule.summary.replace('|', "\\|"),
            rule.source.replace('|', "\\|"),
            checked_by
        );
    }
    let (Some(a), Some(b)) = (readme.find(CATALOG_START), readme.find(CATALOG_END)) else {
        bail!("conformance/README.md lacks the markers {CATALOG_START} ... {CATALOG_END}");
    };
    Ok(format!(
        "{}{CATALOG_START}\n{table}{}",
        &readme[..a],
        &readme[b..]
    ))
}

/// The (desired, scale text, expected) of every case of `rounding.json`: the service's
/// desiredCount, the CreateTaskSet scale and the settled count the case expects.
pub fn rounding_rows(cases: &[ecs_harness::Case]) -> Result<Vec<(String, i64, String, i64)>> {
    let mut rows = vec![];
    for case in cases.iter().filter(|c| c.file == "rounding.json") {
        let find = |op: &str| case.steps.iter().find(|s| s.op == op);
        let desired = find("CreateService").and_then(|s| s.request["desiredCount"].as_i64());
        let scale = find("CreateTaskSet").map(|s| s.request["scale"]["value"].to_string());
        let expected = case
            .steps
            .iter()
            .rev()
            .find(|s| s.op == "DescribeTaskSets")
            .and_then(|s| match &s.expect {
                Some(ecs_harness::fixture::Expect::Body { body }) => {
                    body["taskSets"][0]["computedDesiredCount"].as_i64()
                }
                _ => None,
            });
        let (Some(d), Some(s), Some(e)) = (desired, scale, expected) else {
            bail!(
                "{}: rounding case {} lacks a desiredCount, a scale or a settled count",
                case.file,
                case.id
            );
        };
        rows.push((case.id.clone(), d, s, e));
    }
    Ok(rows)
}

/// The rows whose expected count is not the exact ceiling.
pub fn wrong_rounding_rows(cases: &[ecs_harness::Case]) -> Result<Vec<String>> {
    Ok(rounding_rows(cases)?
        .into_iter()
        .filter_map(|(id, d, s, e)| match exact_ceil(d, &s) {
            Some(x) if x == e => None,
            Some(x) => Some(format!(
                "{id}: ceil({d} x {s}%) is {x}, the case expects {e}"
            )),
            None => Some(format!("{id}: {s} is not a decimal")),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cases() -> Vec<ecs_harness::Case> {
        let root = crate::project_root();
        let catalog =
            ecs_harness::Catalog::load(&root.join("conformance/rules.json")).expect("catalog");
        ecs_harness::load_dir(&root.join("fixtures"), &catalog).expect("fixtures")
    }

    /// Every row of the rounding table expects the exact ceiling, the table holds at least one
    /// pair that a careless `f64` computation gets wrong, and the model agrees.
    #[test]
    fn every_rounding_row_is_the_exact_ceiling() {
        let cases = cases();
        let rows = rounding_rows(&cases).expect("rows");
        assert!(rows.len() >= 80, "only {} rounding rows", rows.len());
        assert_eq!(
            wrong_rounding_rows(&cases).expect("rows"),
            Vec::<String>::new()
        );
        let mut f64_wrong = 0;
        for (id, d, s, e) in &rows {
            let scale: ecs_model::Decimal = s.parse().expect("model decimal");
            let d32 = i32::try_from(*d).expect("i32");
            let model = ecs_model::semantics::computed_desired_count(d32, scale).expect("range");
            assert_eq!(i64::from(model), *e, "{id}");
            let float = (*d as f64 * s.parse::<f64>().expect("f64") / 100.0).ceil() as i64;
            if float != *e {
                f64_wrong += 1;
            }
        }
        assert!(f64_wrong > 0, "the table should hold at least one f64 trap");
    }

    /// A wrong row is found: the check is not vacuous.
    #[test]
    fn a_tampered_row_fails() {
        let mut cases = cases();
        let case = cases
            .iter_mut()
            .find(|c| c.id == "rounding.d250-s64.4")
            .expect("the f64 trap row");
        for step in &mut case.steps {
            if let Some(ecs_harness::fixture::Expect::Body { body }) = &mut step.expect {
                if body["taskSets"][0].get("computedDesiredCount").is_some() {
                    body["taskSets"][0]["computedDesiredCount"] = 162.into();
                }
            }
        }
        let wrong = wrong_rounding_rows(&cases).expect("rows");
        assert_eq!(wrong.len(), 1, "{wrong:?}");
        assert!(
            wrong[0].contains("is 161, the case expects 162"),
            "{wrong:?}"
        );
    }

    #[test]
    fn exact_ceil_rounds_up_and_refuses_what_is_not_a_decimal() {
        assert_eq!(exact_ceil(4, "30.0"), Some(2));
        assert_eq!(exact_ceil(250, "64.4"), Some(161));
        assert_eq!(exact_ceil(3, "33.3"), Some(1));
        assert_eq!(exact_ceil(0, "100"), Some(0));
        assert_eq!(exact_ceil(1, "-1"), None);
        assert_eq!(exact_ceil(1, "1e2"), None);
        assert_eq!(exact_ceil(1, ""), None);
    }
}
