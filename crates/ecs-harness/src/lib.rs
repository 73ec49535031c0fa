//! The conformance harness: replays the fixture suite against any ECS implementation and says,
//! rule by rule, where it departs from the documented task-set semantics.
//!
//! - [`fixture`]: the universal fixture format (`fixtures/`, schema in `fixtures/schema/`);
//! - [`matcher`]: exact values where the documentation determines them, typed matchers and
//!   named tokens where it does not;
//! - [`catalog`]: the rule catalog (`conformance/rules.json`);
//! - [`runner`]: parallel cases, per-step timeouts, answer invariants and output schemas;
//! - [`settle`]: when a poll may stop early, because the target settled on a wrong value;
//! - [`report`]: terminal, JSON, JUnit and Markdown reports, and baselines.
//!
//! `cargo xtask conformance` is the command-line front end.
#![warn(missing_docs)]

pub mod catalog;
pub mod causes;
pub mod checks;
pub mod evidence;
pub mod fixture;
pub mod fixture_error;
pub mod html;
pub mod jsontext;
pub mod matcher;
pub mod options;
pub mod preflight;
pub mod profile;
pub mod record;
pub mod replay;
pub mod report;
pub mod results;
pub mod runner;
pub mod settle;
pub mod shapes;
mod step;
pub mod template;
pub mod text;

pub use catalog::{Catalog, Tier};
pub use fixture::{load_dir, Case};
pub use profile::Profile;
pub use report::{Baseline, Report, SuiteInfo, TargetInfo, TierScore};
pub use runner::{run, RunError, RunOptions, Status};

/// Keeps the cases a filter selects: `rule:<id>`, `tag:<tag>`, or text in the case id.
pub fn filter_cases(cases: Vec<Case>, filters: &[String]) -> Vec<Case> {
    if filters.is_empty() {
        return cases;
    }
    cases
        .into_iter()
        .filter(|c| filters.iter().any(|f| keeps(c, f)))
        .collect()
}

fn keeps(case: &Case, filter: &str) -> bool {
    if let Some(rule) = filter.strip_prefix("rule:") {
        case.all_rules().contains(rule)
    } else if let Some(tag) = filter.strip_prefix("tag:") {
        case.tags.iter().any(|t| t == tag)
    } else {
        case.id.contains(filter)
    }
}

/// A filter that selects nothing, or is not one: a usage error, never a silent full run or an
/// empty one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}\n  rules: {}\n  tags: {}\n  (or any text of a case id)", .rules.join(", "), .tags.join(", "))]
pub struct FilterError {
    /// What is wrong with the filter.
    pub problem: String,
    /// What `rule:` takes.
    pub rules: Vec<String>,
    /// What `tag:` takes.
    pub tags: Vec<String>,
}

/// [`filter_cases`], refusing an empty filter, a rule the catalog lacks, a tag no case has and
/// text no case id contains.
pub fn select_cases(
    cases: Vec<Case>,
    filters: &[String],
    catalog: &Catalog,
) -> Result<Vec<Case>, FilterError> {
    let tags: std::collections::BTreeSet<String> =
        cases.iter().flat_map(|c| c.tags.iter().cloned()).collect();
    let error = |problem: String| FilterError {
        problem,
        rules: catalog.rules.iter().map(|r| r.id.clone()).collect(),
        tags: tags.iter().cloned().collect(),
    };
    for f in filters {
        let problem = if f.trim().is_empty() {
            Some("an empty --filter selects nothing".to_owned())
        } else if let Some(rule) = f.strip_prefix("rule:") {
            catalog
                .rule(rule)
                .is_none()
                .then(|| format!("--filter {f}: {rule} is not a rule"))
        } else if let Some(tag) = f.strip_prefix("tag:") {
            (!tags.contains(tag)).then(|| format!("--filter {f}: no case has the tag {tag}"))
        } else {
            (!cases.iter().any(|c| keeps(c, f)))
                .then(|| format!("--filter {f}: no case id contains {f:?}"))
        };
        if let Some(problem) = problem {
            return Err(error(problem));
        }
    }
    let selected = filter_cases(cases, filters);
    if selected.is_empty() {
        return Err(error(format!("--filter {filters:?} selects no case")));
    }
    Ok(selected)
}
