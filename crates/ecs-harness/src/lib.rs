//! The conformance harness: replays the fixture suite against any ECS implementation and says,
//! rule by rule, where it departs from the documented task-set semantics.
//!
//! - [`fixture`]: the universal fixture format (`fixtures/`, schema in `fixtures/schema/`);
//! - [`matcher`]: exact values where the documentation determines them, typed matchers and
//!   named tokens where it does not;
//! - [`catalog`]: the rule catalog (`conformance/rules.json`);
//! - [`runner`]: parallel cases, per-step timeouts, answer invariants and output schemas;
//! - [`report`]: terminal, JSON, JUnit and Markdown reports, and baselines.
//!
//! `cargo xtask conformance` is the command-line front end.

pub mod catalog;
pub mod evidence;
pub mod fixture;
pub mod matcher;
pub mod profile;
pub mod record;
pub mod report;
pub mod runner;

pub use catalog::Catalog;
pub use fixture::{load_dir, Case};
pub use profile::Profile;
pub use report::{Baseline, Report, TargetInfo};
pub use runner::{run, RunOptions, Status};

/// Keeps the cases a filter selects: `rule:<id>`, `tag:<tag>`, or text in the case id.
pub fn filter_cases(cases: Vec<Case>, filters: &[String]) -> Vec<Case> {
    if filters.is_empty() {
        return cases;
    }
    cases
        .into_iter()
        .filter(|c| {
            filters.iter().any(|f| {
                if let Some(rule) = f.strip_prefix("rule:") {
                    c.all_rules().contains(rule)
                } else if let Some(tag) = f.strip_prefix("tag:") {
                    c.tags.iter().any(|t| t == tag)
                } else {
                    c.id.contains(f.as_str())
                }
            })
        })
        .collect()
}
