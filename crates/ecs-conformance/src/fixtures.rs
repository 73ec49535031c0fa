//! `ecs-conformance fixtures [--check]`: keeps fixture files in their canonical layout
//! ([`ecs_harness::jsontext`]) and checks the rounding table.
//!
//! The fixtures are written by people; this command only lays them out, so that every line of
//! a fixture is either a person's or this layout's, and a diff shows what changed. The
//! rounding table (`rounding.json`) is checked against [`exact_ceil`], integer arithmetic on
//! the decimal text of each row that shares nothing with `ecs_model::semantics`: a wrong row
//! fails the command.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::bundle::Bundle;

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

/// Lays out (or with `check`, compares) every fixture file of `dir` (the embedded ones when
/// `None`, which can only be checked), then checks the rounding rows.
pub fn run(dir: Option<&Path>, check: bool) -> Result<()> {
    if dir.is_none() && !check {
        bail!("the embedded fixtures cannot be rewritten: give --fixtures DIR, or --check");
    }
    let bundle = Bundle::new(dir, None);
    let files = bundle.fixture_files()?;
    let mut stale = vec![];
    let mut lines = 0;
    for (name, text) in &files {
        let value: Value =
            serde_json::from_str(text).with_context(|| format!("{name}: not JSON"))?;
        let fresh = ecs_harness::jsontext::to_text(&value);
        lines += fresh.lines().count();
        if &fresh == text {
            continue;
        }
        match dir {
            Some(dir) if !check => {
                let path = dir.join(name);
                std::fs::write(&path, &fresh)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("laid out {}", path.display());
            }
            _ => stale.push(name.clone()),
        }
    }
    if !stale.is_empty() {
        bail!(
            "not in canonical form: {} (in {}); run `ecs-conformance fixtures --fixtures DIR` or `cargo xtask fixtures`",
            stale.join(", "),
            bundle.fixtures_label()
        );
    }
    let catalog = bundle.catalog()?;
    let cases = bundle.cases(&catalog)?;
    let wrong = wrong_rounding_rows(&cases)?;
    if !wrong.is_empty() {
        bail!(
            "rounding rows that are not the exact ceiling:\n  {}",
            wrong.join("\n  ")
        );
    }
    println!(
        "{} fixture files, {lines} lines, {} cases; the layout is canonical and the rounding rows exact",
        files.len(),
        cases.len()
    );
    Ok(())
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
        let bundle = Bundle::default();
        let catalog = bundle.catalog().expect("catalog");
        bundle.cases(&catalog).expect("fixtures")
    }

    /// The embedded fixtures are laid out canonically; a file in another layout is found, and
    /// rewritten when a directory is given.
    #[test]
    fn the_layout_is_checked_and_rewritten() {
        run(None, true).expect("the embedded fixtures are canonical");
        let dir =
            std::env::temp_dir().join(format!("ecs-conformance-layout-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let files = Bundle::default().fixture_files().expect("files");
        for (name, text) in &files {
            std::fs::write(dir.join(name), text).expect("write");
        }
        let (name, text) = files
            .into_iter()
            .find(|(n, _)| n == "rounding.json")
            .expect("rounding.json");
        let squashed: Value = serde_json::from_str(&text).expect("json");
        std::fs::write(dir.join(&name), squashed.to_string()).expect("write");
        let err = run(Some(&dir), true).expect_err("not canonical");
        assert!(err.to_string().contains("rounding.json"), "{err}");
        run(Some(&dir), false).expect("rewritten");
        assert_eq!(
            std::fs::read_to_string(dir.join(&name)).expect("read"),
            text
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
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
