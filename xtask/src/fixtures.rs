//! `cargo xtask fixtures [--check]`: writes the fixture files that are tables rather than prose.
//!
//! `fixtures/rounding.json` is one case per (desiredCount, scale) pair of [`ROUNDING`]. Each case
//! creates an EXTERNAL service, creates a task set at the scale, checks that the answer carries
//! the count from before the scheduler acted (0), and polls DescribeTaskSets until the count
//! settles at `ceil(desiredCount x scale / 100)`. The expected values come from
//! [`exact_ceil`], integer arithmetic on the decimal text that shares nothing with
//! `ecs_model::semantics`; a unit test checks both agree on every row.

use anyhow::{bail, Result};
use serde_json::{json, Value};

use crate::util;

/// (desiredCount, scale percent as decimal text): small counts at every rounding boundary,
/// fractional scales, and pairs where an `f64` multiply-then-ceil gives the wrong answer
/// (250 x 64.4% is exactly 161; binary floating point says 162).
#[rustfmt::skip]
pub const ROUNDING: &[(i32, &str)] = &[
    (4, "30.0"), (3, "33.3"), (1, "50.0"), (1, "0.1"), (1, "1.0"), (1, "99.9"), (1, "100.0"),
    (1, "0.0"), (2, "50.0"), (2, "25.0"), (2, "75.0"), (2, "49.9"), (3, "33.33"), (3, "66.7"),
    (3, "66.6"), (3, "50.0"), (3, "10.0"), (4, "12.5"), (4, "25.0"), (4, "37.5"), (4, "62.5"),
    (5, "20.0"), (5, "19.9"), (5, "20.1"), (5, "0.5"), (5, "99.0"), (6, "16.7"), (6, "16.6"),
    (6, "83.3"), (7, "14.3"), (7, "14.2"), (7, "28.6"), (7, "42.8"), (8, "12.5"), (8, "12.4"),
    (8, "87.5"), (9, "11.1"), (9, "11.2"), (9, "33.3"), (9, "66.6"), (10, "0.0"), (10, "0.01"),
    (10, "9.99"), (10, "10.0"), (10, "10.01"), (10, "12.5"), (10, "33.3"), (10, "50.0"),
    (10, "55.5"), (10, "99.99"), (10, "100.0"), (11, "9.09"), (11, "9.1"), (12, "8.33"),
    (12, "8.34"), (13, "7.69"), (13, "7.7"), (15, "6.67"), (16, "6.25"), (16, "93.75"),
    (20, "2.5"), (20, "4.99"), (25, "4.0"), (25, "3.99"), (33, "3.03"), (50, "1.98"),
    (64, "1.5625"), (99, "1.0101"), (100, "0.5"), (100, "0.99"), (100, "33.333"),
    (100, "66.667"), (125, "0.8"), (200, "0.25"), (250, "64.4"), (375, "8.8"), (375, "17.6"),
    (375, "21.6"), (500, "0.2"), (999, "0.1"), (1000, "0.05"), (1000, "99.95"), (0, "50.0"),
    (0, "100.0"),
];

/// How long a case polls for the settled count: long enough for AWS's own delays (the
/// recompute comes 2-6 s after the call).
pub const SETTLE_TIMEOUT_MS: u64 = 120_000;
/// How often it polls.
pub const SETTLE_INTERVAL_MS: u64 = 250;

/// `ceil(desired x scale / 100)` on the decimal text of `scale`, with integers only.
pub fn exact_ceil(desired: i32, scale: &str) -> Option<i64> {
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

/// The case id of a pair: `rounding.d250-s64p4`.
fn case_id(desired: i32, scale: &str) -> String {
    let trimmed = scale.strip_suffix(".0").unwrap_or(scale);
    format!("rounding.d{desired}-s{}", trimmed.replace('.', "p"))
}

fn scale_value(scale: &str) -> Result<Value> {
    Ok(serde_json::from_str::<Value>(scale)?)
}

fn rounding_case(desired: i32, scale: &str) -> Result<Value> {
    let Some(expected) = exact_ceil(desired, scale) else {
        bail!("rounding table: {scale:?} is not a decimal");
    };
    let provenance = if (desired, scale) == (4, "30.0") {
        json!({"kind": "documented", "source": "seed 002 CreateTaskSet", "field": "taskSet.computedDesiredCount (1.2 rounds up to 2)"})
    } else {
        json!({"kind": "derived", "from": "seed 002/004 computedDesiredCount: desiredCount x scale, rounded up"})
    };
    let value = scale_value(scale)?;
    let shown = scale.strip_suffix(".0").unwrap_or(scale);
    Ok(json!({
        "id": case_id(desired, scale),
        "title": format!("ceil({desired} x {shown}%) = {expected}"),
        "rules": ["ts.computed-desired-count.ceil", "ts.computed-desired-count.answer-before-recompute"],
        "provenance": provenance,
        "tags": ["rounding", "task-set"],
        "steps": [
            {"name": "cluster", "op": "CreateCluster", "setup": true, "request": {"clusterName": "cf-{{unique}}"}},
            {"name": "task definition", "op": "RegisterTaskDefinition", "setup": true,
             "request": {"family": "cf-{{unique}}", "containerDefinitions": [{"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 128, "portMappings": [{"containerPort": 80}]}]},
             "capture": {"td": "taskDefinition.taskDefinitionArn"}},
            {"name": "service", "op": "CreateService", "setup": true,
             "request": {"cluster": "cf-{{unique}}", "serviceName": "web", "desiredCount": desired, "deploymentController": {"type": "EXTERNAL"}},
             "capture": {"service_arn": "service.serviceArn", "cluster_arn": "service.clusterArn"}},
            {"name": "create task set", "op": "CreateTaskSet",
             "rules": ["ts.computed-desired-count.answer-before-recompute"],
             "request": {"cluster": "cf-{{unique}}", "service": "web", "taskDefinition": "{{td}}", "scale": {"value": value, "unit": "PERCENT"}},
             "capture": {"ts": "taskSet.id", "ts_arn": "taskSet.taskSetArn"},
             "expect": {"body": {"taskSet": {"computedDesiredCount": 0, "scale": {"value": value, "unit": "PERCENT"}}}}},
            {"name": "settled count", "op": "DescribeTaskSets",
             "rules": ["ts.computed-desired-count.ceil"],
             "request": {"cluster": "cf-{{unique}}", "service": "web", "taskSets": ["{{ts}}"]},
             "poll": {"timeout_ms": SETTLE_TIMEOUT_MS, "interval_ms": SETTLE_INTERVAL_MS},
             "expect": {"body": {"taskSets": [{"id": "{{ts}}", "computedDesiredCount": expected}]}}}
        ],
        "cleanup": [
            {"op": "DeleteService", "request": {"cluster": "cf-{{unique}}", "service": "web", "force": true}},
            {"op": "DeleteCluster", "request": {"cluster": "cf-{{unique}}"}, "poll": {"timeout_ms": SETTLE_TIMEOUT_MS, "interval_ms": SETTLE_INTERVAL_MS}}
        ]
    }))
}

/// The text of `fixtures/rounding.json`.
pub fn rounding_file() -> Result<String> {
    let cases = ROUNDING
        .iter()
        .map(|(d, s)| rounding_case(*d, s))
        .collect::<Result<Vec<_>>>()?;
    let file = json!({
        "$schema": "./schema/fixture.schema.json",
        "description": "computedDesiredCount = ceil(desiredCount x scale / 100) over many (desiredCount, scale) pairs, fractional scales included: the answer to CreateTaskSet carries the count from before the recompute, DescribeTaskSets the settled one. Written by `cargo xtask fixtures` from its table; expectations computed with exact integer arithmetic.",
        "cases": cases,
    });
    Ok(serde_json::to_string_pretty(&file)? + "\n")
}

/// Writes (or with `check`, compares) every generated fixture file.
pub fn run(check: bool) -> Result<()> {
    let root = crate::project_root();
    let path = root.join("fixtures/rounding.json");
    let fresh = rounding_file()?;
    let readme = root.join("conformance/README.md");
    let readme_fresh = with_catalog_table(&util::read_to_string(&readme)?)?;
    if check {
        let current = util::read_to_string(&path)?;
        if current != fresh {
            bail!(
                "{} is stale: run `cargo xtask fixtures` (it is generated from xtask/src/fixtures.rs)",
                path.display()
            );
        }
        if util::read_to_string(&readme)? != readme_fresh {
            bail!(
                "the rule catalog table in {} is stale: run `cargo xtask fixtures` (it is generated from conformance/rules.json and fixtures/)",
                readme.display()
            );
        }
        println!(
            "generated fixtures are fresh ({} rounding cases), and so is the rule catalog table",
            ROUNDING.len()
        );
    } else {
        for (p, text) in [(&path, &fresh), (&readme, &readme_fresh)] {
            if util::write_if_changed(p, text)? {
                println!("wrote {}", p.display());
            } else {
                println!("{} unchanged", p.display());
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The table's expectations agree with the model's exact decimal computation, and are what
    /// a careless `f64` computation gets wrong at least once.
    #[test]
    fn every_row_agrees_with_the_model_and_f64_fails_somewhere() {
        let mut f64_wrong = 0;
        for (d, s) in ROUNDING {
            let ours = exact_ceil(*d, s).expect("decimal");
            let scale: ecs_model::Decimal = s.parse().expect("model decimal");
            let model = ecs_model::semantics::computed_desired_count(*d, scale).expect("in range");
            assert_eq!(ours, i64::from(model), "{d} x {s}%");
            let float = (f64::from(*d) * s.parse::<f64>().expect("f64") / 100.0).ceil() as i64;
            if float != ours {
                f64_wrong += 1;
            }
        }
        assert!(f64_wrong > 0, "the table should hold at least one f64 trap");
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

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<String> = ROUNDING.iter().map(|(d, s)| case_id(*d, s)).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
