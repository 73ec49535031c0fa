//! The rule catalog (`conformance/rules.json`): every rule the suite checks, in this project's
//! words, where it is documented, and how it is checked.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// How a rule is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckedBy {
    /// By the expectations of the cases that name it.
    Cases,
    /// On every answer, by an invariant of `ecs_model::semantics`.
    Invariant,
    /// On every answer, by the generated JSON Schema of the operation's output.
    Schema,
    /// On every answer, by the harness's checks of the awsJson wire form.
    Wire,
}

/// How strong the ground of a rule is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Stated by AWS's documentation (the seed pages, the API reference, the service model).
    Documented,
    /// Shown by AWS's own answers in the evidence corpus (`conformance/evidence/`).
    Observed,
    /// The reference emulator's choice where documentation and evidence are silent.
    Assumed,
}

impl Level {
    /// Every level, strongest first.
    pub const ALL: [Level; 3] = [Level::Documented, Level::Observed, Level::Assumed];

    /// The level as a word.
    pub fn label(self) -> &'static str {
        match self {
            Level::Documented => "documented",
            Level::Observed => "observed",
            Level::Assumed => "assumed",
        }
    }
}

/// The narrowest tier of results a rule counts in. A published result scores each target on
/// three tiers: `core` (the core rules), `complete` (every rule) and `strict` (the strict rules);
/// core and strict rules count in complete too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Task-set semantics: what an EXTERNAL deployment controller relies on (the task-set
    /// operations, their refusals, computedDesiredCount, stability, the invariants).
    Core,
    /// The rest of what the suite checks: services, tasks, service deployments, the native
    /// strategies, request checks shared by several operations.
    Complete,
    /// Answer shape and timing: the wire form, members AWS always answers, AWS's formats, and
    /// answers that come before the scheduler has acted.
    Strict,
}

impl Tier {
    /// The three tiers a result is scored on, in the order they are shown.
    pub const ALL: [Tier; 3] = [Tier::Core, Tier::Complete, Tier::Strict];

    /// The tier as a word.
    pub fn label(self) -> &'static str {
        match self {
            Tier::Core => "core",
            Tier::Complete => "complete",
            Tier::Strict => "strict",
        }
    }

    /// Whether a rule whose narrowest tier is `rule` counts in this tier's score.
    pub fn counts(self, rule: Tier) -> bool {
        self == Tier::Complete || self == rule
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
/// One rule of the catalog.
pub struct Rule {
    /// The rule id (`ts.client-token`).
    pub id: String,
    /// The rule, in this project's words.
    pub summary: String,
    /// Where it is documented (seed page, AWS example, or the emulator assumption it rests on).
    pub source: String,
    /// Documented, observed in AWS's answers, or assumed.
    pub level: Level,
    /// The narrowest tier of results it counts in.
    pub tier: Tier,
    /// What checks it: cases, or every answer (invariant, schema, wire).
    pub checked_by: CheckedBy,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
/// The rule catalog (`conformance/rules.json`).
pub struct Catalog {
    /// The rules, in catalog order.
    pub rules: Vec<Rule>,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
/// A catalog that could not be read.
pub struct CatalogError {
    /// The file.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

/// The rule id under which answers that break their output schema are reported.
pub const SCHEMA_RULE: &str = "schema.output";

/// The rule id under which JSON `null` members are reported (they are matched as absent).
pub const NULL_RULE: &str = "wire.no-null-members";

/// The rule id under which a member AWS always answers and an answer lacks is reported
/// (the `shapes` module).
pub const ANSWER_SHAPE_RULE: &str = "wire.answer-shape";

impl Catalog {
    /// Reads and checks the catalog file at `path`.
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|e| CatalogError {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Catalog::parse(&path.display().to_string(), &text)
    }

    /// Parses and checks catalog text; `name` is the file errors name. Rule ids must be unique
    /// and every answer check the harness runs must have an entry.
    pub fn parse(name: &str, text: &str) -> Result<Catalog, CatalogError> {
        let err = |message: String| CatalogError {
            path: name.to_owned(),
            message,
        };
        let catalog: Catalog = serde_json::from_str(text).map_err(|e| err(e.to_string()))?;
        let mut ids: Vec<&str> = catalog.rules.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(err(format!("rule {} appears twice", w[0])));
        }
        for inv in [
            ecs_model::semantics::ids::COMPUTED_DESIRED_COUNT,
            ecs_model::semantics::ids::STEADY_STATE_COUNTS,
            ecs_model::semantics::ids::CREATED_NOT_AFTER_UPDATED,
            ecs_model::semantics::ids::COUNTS_NON_NEGATIVE,
            ecs_model::semantics::ids::STATUS_KNOWN,
            ecs_model::semantics::ids::SCALE_RANGE,
            ecs_model::semantics::ids::ARN_ENDS_WITH_ID,
            ecs_model::semantics::ids::SINGLE_PRIMARY,
            ecs_model::semantics::ids::TAGS_ONLY_WHEN_ASKED,
            SCHEMA_RULE,
            NULL_RULE,
            ANSWER_SHAPE_RULE,
        ] {
            if catalog.rule(inv).is_none() {
                return Err(err(format!("the answer check {inv} has no catalog entry")));
            }
        }
        Ok(catalog)
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}
