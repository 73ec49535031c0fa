//! `ecs-conformance coverage`: how much of what the seed pages say the suite checks.
//!
//! `conformance/coverage.json` lists every behaviour the five seed pages state, in our words,
//! with where each page says it (`page:line`) and a status:
//! - `checked`: the named rules check it, each through at least one case (or on every answer,
//!   for invariant, schema and wire rules);
//! - `client-only`: the model's validators refuse it, no case sends it;
//! - `open`: observable through the API, not checked yet, with the reason;
//! - `not-observable`: no ECS answer can show it, with the reason.
//!
//! The command prints, per page and overall, `N of M observable behaviours checked by cases`,
//! and fails when a rule of the catalog maps to no behaviour, a behaviour lacks its rules or
//! reason, or a rule named as checking is not checked by any case. Given the seed pages
//! (`--seeds DIR`) it also fails on a cited line past the end of its page, and given the audit
//! (`--audit FILE`, a TSV whose first column is a behaviour id) on a behaviour of the audit the
//! map lacks. `cargo xtask coverage` passes both from `../shared/docs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Coverage {
    #[allow(dead_code)]
    description: String,
    /// Page number → file name in the seeds folder.
    pages: BTreeMap<String, String>,
    behaviours: Vec<Behaviour>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Behaviour {
    id: String,
    /// `page:line` of every page that states it.
    #[serde(default)]
    seen: Vec<String>,
    /// For a behaviour beyond the seed pages: where it is stated.
    #[serde(default)]
    source: Option<String>,
    says: String,
    status: Status,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Status {
    Checked,
    ClientOnly,
    Open,
    NotObservable,
}

/// What the command found, before it is printed.
#[derive(Debug, Default)]
pub struct Figures {
    /// Page → (checked, observable, total).
    pub pages: BTreeMap<String, (usize, usize, usize)>,
    /// Over the distinct behaviours of the seed pages: (checked, observable, total).
    pub overall: (usize, usize, usize),
    /// Behaviours beyond the seed pages that rules check.
    pub beyond: usize,
    pub problems: Vec<String>,
}

/// What `measure` reads.
pub struct Inputs<'a> {
    /// The map's name in messages, and its text.
    pub map: (&'a str, &'a str),
    pub catalog: &'a ecs_harness::Catalog,
    pub cases: &'a [ecs_harness::Case],
    /// The seed pages' folder: cited lines are checked against it.
    pub seeds: Option<&'a Path>,
    /// The audit TSV: each of its behaviours must be in the map.
    pub audit: Option<&'a Path>,
}

/// Reads and checks the coverage map.
pub fn measure(inputs: &Inputs<'_>) -> Result<Figures> {
    let (name, text) = inputs.map;
    let path = Path::new(name);
    let map: Coverage =
        serde_json::from_str(text).with_context(|| format!("{name}: not a coverage map"))?;
    let (catalog, cases) = (inputs.catalog, inputs.cases);
    let mut f = Figures::default();
    let mut lines_of: BTreeMap<&str, Option<usize>> = BTreeMap::new();
    for (page, file) in &map.pages {
        let lines = match inputs.seeds {
            Some(seeds) => {
                let p = seeds.join(file);
                let text = std::fs::read_to_string(&p)
                    .with_context(|| format!("seed page {page}: reading {}", p.display()))?;
                Some(text.lines().count())
            }
            None => None,
        };
        lines_of.insert(page.as_str(), lines);
        f.pages.insert(page.clone(), (0, 0, 0));
    }
    let mut ids = BTreeSet::new();
    let mut named_rules = BTreeSet::new();
    for (i, b) in map.behaviours.iter().enumerate() {
        let at = format!("{}: /behaviours/{i} ({})", path.display(), b.id);
        if !ids.insert(b.id.as_str()) {
            f.problems.push(format!("{at}: the id is used twice"));
        }
        if b.says.trim().is_empty() {
            f.problems.push(format!("{at}: says nothing"));
        }
        match (b.seen.is_empty(), &b.source) {
            (true, None) => f
                .problems
                .push(format!("{at}: neither seen on a page nor a source")),
            (false, Some(_)) => f
                .problems
                .push(format!("{at}: both seen on a page and a source")),
            _ => {}
        }
        match b.status {
            Status::Checked => {
                if b.rules.is_empty() {
                    f.problems.push(format!("{at}: checked, but by no rule"));
                }
                if b.source.is_some() && b.status != Status::Checked {
                    f.problems.push(format!(
                        "{at}: a behaviour beyond the pages is listed only when checked"
                    ));
                }
            }
            _ => {
                if b.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                    f.problems
                        .push(format!("{at}: {:?} without a reason", b.status));
                }
                if !b.rules.is_empty() {
                    f.problems
                        .push(format!("{at}: rules on a behaviour that is not checked"));
                }
            }
        }
        for rule in &b.rules {
            named_rules.insert(rule.as_str());
            let Some(r) = catalog.rule(rule) else {
                f.problems
                    .push(format!("{at}: {rule} is not in conformance/rules.json"));
                continue;
            };
            if r.checked_by == ecs_harness::catalog::CheckedBy::Cases
                && !cases.iter().any(|c| c.all_rules().contains(rule.as_str()))
            {
                f.problems.push(format!("{at}: no case checks {rule}"));
            }
        }
        let observable = b.status != Status::NotObservable;
        let checked = b.status == Status::Checked;
        let mut pages_seen = BTreeSet::new();
        for s in &b.seen {
            let Some((page, line)) = s.split_once(':') else {
                f.problems.push(format!("{at}: {s:?} is not page:line"));
                continue;
            };
            let Some(n) = lines_of.get(page) else {
                f.problems
                    .push(format!("{at}: page {page} is not in pages"));
                continue;
            };
            match (line.parse::<usize>(), n) {
                (Ok(l), Some(n)) if (1..=*n).contains(&l) => {}
                (Ok(l), None) if l >= 1 => {}
                (_, Some(n)) => f.problems.push(format!(
                    "{at}: line {line} is not on page {page} ({n} lines)"
                )),
                (_, None) => f
                    .problems
                    .push(format!("{at}: {line:?} is not a line number")),
            }
            pages_seen.insert(page);
        }
        for page in &pages_seen {
            if let Some(e) = f.pages.get_mut(*page) {
                e.2 += 1;
                e.1 += usize::from(observable);
                e.0 += usize::from(checked && observable);
            }
        }
        if b.source.is_some() {
            f.beyond += 1;
        } else {
            f.overall.2 += 1;
            f.overall.1 += usize::from(observable);
            f.overall.0 += usize::from(checked);
        }
    }
    for rule in &catalog.rules {
        if !named_rules.contains(rule.id.as_str()) {
            f.problems.push(format!(
                "rule {} maps to no behaviour of conformance/coverage.json",
                rule.id
            ));
        }
    }
    let Some(audit) = inputs.audit else {
        return Ok(f);
    };
    match std::fs::read_to_string(audit) {
        Ok(tsv) => {
            for line in tsv.lines().skip(1) {
                let id = line.split('\t').next().unwrap_or_default();
                if !id.is_empty() && !ids.contains(id) {
                    f.problems.push(format!(
                        "{id} of {} is missing from the coverage map",
                        audit.display()
                    ));
                }
            }
        }
        Err(e) => f.problems.push(format!(
            "{}: {e} (the audit the map must cover)",
            audit.display()
        )),
    }
    Ok(f)
}

fn percent(n: usize, of: usize) -> String {
    if of == 0 {
        "-".into()
    } else {
        format!("{:.0}%", n as f64 * 100.0 / of as f64)
    }
}

/// Prints the figures; fails on any problem.
pub fn run(
    bundle: &crate::bundle::Bundle,
    map: Option<&Path>,
    seeds: Option<&Path>,
    audit: Option<&Path>,
) -> Result<()> {
    let catalog = bundle.catalog()?;
    let cases = bundle.cases(&catalog)?;
    let (name, text) = match map {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        None => (
            "conformance/coverage.json (embedded)".to_owned(),
            crate::bundle::coverage_map().to_owned(),
        ),
    };
    let f = measure(&Inputs {
        map: (&name, &text),
        catalog: &catalog,
        cases: &cases,
        seeds,
        audit,
    })?;
    let titles = [
        ("000", "UpdateServicePrimaryTaskSet"),
        ("001", "UpdateService (newer)"),
        ("002", "CreateTaskSet"),
        ("003", "UpdateService (older)"),
        ("004", "DescribeTaskSets"),
    ];
    for (page, (checked, observable, total)) in &f.pages {
        let title = titles
            .iter()
            .find(|(p, _)| p == page)
            .map_or("", |(_, t)| t);
        println!(
            "page {page} {title:<28} {checked:>3} of {observable:>3} observable behaviours checked by cases ({}; {total} behaviours in all)",
            percent(*checked, *observable)
        );
    }
    let (checked, observable, total) = f.overall;
    println!(
        "overall {:<29} {checked:>3} of {observable:>3} observable behaviours checked by cases ({}; {total} behaviours, {} not observable)",
        "",
        percent(checked, observable),
        total - observable
    );
    println!("beyond the seed pages: {} behaviours checked", f.beyond);
    if !f.problems.is_empty() {
        bail!("coverage map problems:\n  {}", f.problems.join("\n  "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::Bundle;

    fn figures(map: &str, seeds: Option<&Path>) -> Figures {
        let bundle = Bundle::default();
        let catalog = bundle.catalog().expect("catalog");
        let cases = bundle.cases(&catalog).expect("cases");
        measure(&Inputs {
            map: ("coverage.json", map),
            catalog: &catalog,
            cases: &cases,
            seeds,
            audit: None,
        })
        .expect("measure")
    }

    /// The embedded map is consistent; a rule that no behaviour names is a problem.
    #[test]
    fn the_map_is_consistent_and_an_unmapped_rule_is_found() {
        let map = crate::bundle::coverage_map();
        let f = figures(map, None);
        assert_eq!(f.problems, Vec::<String>::new());
        assert!(f.overall.0 > 0 && f.overall.0 <= f.overall.1);
        let tampered = map.replace("\"ts.client-token\"", "\"ts.limit-per-service\"");
        let f = figures(&tampered, None);
        assert!(
            f.problems
                .iter()
                .any(|p| p.contains("rule ts.client-token maps to no behaviour")),
            "{:?}",
            f.problems
        );
    }

    /// With the seed pages at hand, a cited line past the end of its page is a problem.
    #[test]
    fn a_line_past_the_page_is_found() {
        let dir =
            std::env::temp_dir().join(format!("ecs-conformance-seeds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let map: serde_json::Value =
            serde_json::from_str(crate::bundle::coverage_map()).expect("map");
        for file in map["pages"].as_object().expect("pages").values() {
            let file = file.as_str().expect("name");
            std::fs::write(dir.join(file), "one line\n").expect("write");
        }
        let f = figures(crate::bundle::coverage_map(), Some(&dir));
        assert!(
            f.problems.iter().any(|p| p.contains("(1 lines)")),
            "{:?}",
            f.problems
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
