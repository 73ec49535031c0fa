//! Validation: every violation of a value at once, each with its JSON path and rule id.
//!
//! Generated code checks the model's traits (`required`, length, range, enum, pattern, union);
//! [`crate::rules`] adds the rules that exist only in the documentation's prose.

use std::fmt;

use regex::Regex;

/// Rule ids of the model-trait checks.
pub mod model_rules {
    /// A required member is missing.
    pub const REQUIRED: &str = "model.required";
    /// A string or list is shorter or longer than the model allows.
    pub const LENGTH: &str = "model.length";
    /// A number is outside the model's range.
    pub const RANGE: &str = "model.range";
    /// An enum value the model does not list.
    pub const ENUM: &str = "model.enum";
    /// A string that does not match the model's pattern.
    pub const PATTERN: &str = "model.pattern";
    /// A union with other than one member set.
    pub const UNION: &str = "model.union";
}

/// What kind of limit a violation crosses. Clients use it to decide what to enforce: a lower
/// bound, a missing member or a conflict cannot be relaxed by a newer service version, while
/// an upper bound can (AWS has raised several).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ViolationKind {
    /// A required member is absent.
    Required,
    /// Fewer characters or items than the minimum.
    TooShort,
    /// More characters or items than the maximum.
    TooLong,
    /// A number below the minimum.
    BelowMinimum,
    /// A number above the maximum.
    AboveMaximum,
    /// A value outside a closed set.
    NotInEnum,
    /// A string that does not match its pattern as a whole.
    PatternMismatch,
    /// Members that exclude each other, or a union with other than one member set.
    Conflict,
    /// Any other documented rule.
    Invalid,
}

impl ViolationKind {
    /// Whether the violation crosses an upper limit, which a newer service version may raise.
    pub fn is_upper_limit(self) -> bool {
        matches!(self, ViolationKind::TooLong | ViolationKind::AboveMaximum)
    }
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// JSON path of the offending member, e.g. `networkConfiguration.awsvpcConfiguration.subnets`
    /// or `tags[2].key`; empty for the value itself.
    pub path: String,
    /// Rule id: `model.*` for model traits, otherwise an id from [`crate::rules::DOCUMENTED_RULES`].
    pub rule: &'static str,
    /// What kind of rule it broke.
    pub kind: ViolationKind,
    /// One line, for people.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(value)"
        } else {
            &self.path
        };
        write!(f, "{path}: {} [{}]", self.message, self.rule)
    }
}

/// All violations of one value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} violation(s): {}", .violations.len(), DisplayList(.violations))]
pub struct ValidationError {
    /// Every violation found.
    pub violations: Vec<Violation>,
}

struct DisplayList<'a>(&'a [Violation]);

impl fmt::Display for DisplayList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

/// Implemented by every generated structure.
pub trait Validate {
    /// Adds this value's violations to `c`, at `c`'s current path.
    fn check(&self, c: &mut Checker);

    /// Every violation, in the order the members are declared.
    fn violations(&self) -> Vec<Violation> {
        let mut c = Checker::default();
        self.check(&mut c);
        c.into_violations()
    }

    /// `Ok` when nothing is violated, otherwise all violations at once.
    fn validate(&self) -> Result<(), ValidationError> {
        let violations = self.violations();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(ValidationError { violations })
        }
    }
}

#[derive(Clone, Debug)]
enum Segment {
    Field(&'static str),
    Index(usize),
    Key(String),
}

/// Walks a value, tracking the JSON path, and collects violations.
#[derive(Debug, Default)]
pub struct Checker {
    path: Vec<Segment>,
    out: Vec<Violation>,
}

impl Checker {
    /// The violations found so far.
    pub fn into_violations(self) -> Vec<Violation> {
        self.out
    }

    /// Steps into member `field`.
    pub fn enter(&mut self, field: &'static str) {
        self.path.push(Segment::Field(field));
    }

    /// Steps into item `index` of a list.
    pub fn enter_index(&mut self, index: usize) {
        self.path.push(Segment::Index(index));
    }

    /// Steps into entry `key` of a map.
    pub fn enter_key(&mut self, key: &str) {
        self.path.push(Segment::Key(key.to_owned()));
    }

    /// Steps back out of the last member, item or entry entered.
    pub fn leave(&mut self) {
        self.path.pop();
    }

    /// The current JSON path.
    pub fn path(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Segment::Field(f) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(f);
                }
                Segment::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
                Segment::Key(k) => {
                    s.push_str("[\"");
                    s.push_str(&k.replace('\\', "\\\\").replace('"', "\\\""));
                    s.push_str("\"]");
                }
            }
        }
        s
    }

    /// Records a violation at the current path.
    pub fn report(&mut self, rule: &'static str, kind: ViolationKind, message: impl Into<String>) {
        self.out.push(Violation {
            path: self.path(),
            rule,
            kind,
            message: message.into(),
        });
    }

    /// Records a violation at member `field` of the current value.
    pub fn report_at(
        &mut self,
        field: &'static str,
        rule: &'static str,
        kind: ViolationKind,
        message: impl Into<String>,
    ) {
        self.enter(field);
        self.report(rule, kind, message);
        self.leave();
    }

    /// Reports the required member `field` as missing.
    pub fn missing(&mut self, field: &'static str) {
        self.report_at(
            field,
            model_rules::REQUIRED,
            ViolationKind::Required,
            "required member is missing",
        );
    }

    /// Length of a string, in characters (Unicode scalar values, as the model counts them).
    pub fn length(&mut self, value: &str, min: Option<u64>, max: Option<u64>) {
        let len = value.chars().count();
        self.bounds(len, min, max, "characters");
    }

    /// Number of items in a list or entries in a map.
    pub fn count(&mut self, len: usize, min: Option<u64>, max: Option<u64>) {
        self.bounds(len, min, max, "items");
    }

    fn bounds(&mut self, len: usize, min: Option<u64>, max: Option<u64>, unit: &str) {
        let len64 = len as u64;
        if let Some(min) = min.filter(|m| len64 < *m) {
            self.report(
                model_rules::LENGTH,
                ViolationKind::TooShort,
                format!("{len} {unit}, at least {min} required"),
            );
        }
        if let Some(max) = max.filter(|m| len64 > *m) {
            self.report(
                model_rules::LENGTH,
                ViolationKind::TooLong,
                format!("{len} {unit}, at most {max} allowed"),
            );
        }
    }

    /// Checks an integer against the model's range.
    pub fn range(&mut self, value: i64, min: Option<i64>, max: Option<i64>) {
        if let Some(min) = min.filter(|m| value < *m) {
            self.report(
                model_rules::RANGE,
                ViolationKind::BelowMinimum,
                format!("{value} is below the minimum {min}"),
            );
        }
        if let Some(max) = max.filter(|m| value > *m) {
            self.report(
                model_rules::RANGE,
                ViolationKind::AboveMaximum,
                format!("{value} is above the maximum {max}"),
            );
        }
    }

    /// Checks a decimal (as `f64`, only for the model's own bounds) against its range.
    pub fn range_f64(&mut self, value: f64, min: Option<f64>, max: Option<f64>) {
        if let Some(min) = min.filter(|m| value < *m) {
            self.report(
                model_rules::RANGE,
                ViolationKind::BelowMinimum,
                format!("{value} is below the minimum {min}"),
            );
        }
        if let Some(max) = max.filter(|m| value > *m) {
            self.report(
                model_rules::RANGE,
                ViolationKind::AboveMaximum,
                format!("{value} is above the maximum {max}"),
            );
        }
    }

    /// Checks that an enum value is one the model lists.
    pub fn enum_value(&mut self, known: bool, value: &str, allowed: &[&str]) {
        if !known {
            self.report(
                model_rules::ENUM,
                ViolationKind::NotInEnum,
                format!("{value:?} is not one of {}", allowed.join(", ")),
            );
        }
    }

    /// `re` is anchored by the generator, so a match is a whole-string match.
    pub fn pattern(&mut self, value: &str, re: &Regex, pattern: &str) {
        if !re.is_match(value) {
            self.report(
                model_rules::PATTERN,
                ViolationKind::PatternMismatch,
                format!("{value:?} does not match the pattern {pattern}"),
            );
        }
    }

    /// Checks that exactly one member of a union is set.
    pub fn union(&mut self, set: &[bool], members: &[&str]) {
        let n = set.iter().filter(|s| **s).count();
        if n != 1 {
            self.report(
                model_rules::UNION,
                ViolationKind::Conflict,
                format!(
                    "exactly one of {} must be set, found {n}",
                    members.join(", ")
                ),
            );
        }
    }
}

/// Compiles a model pattern. The patterns are constants of the checked-in model, and the test
/// `every_model_pattern_compiles` compiles each of them, so this cannot fail at run time.
#[allow(clippy::expect_used)]
pub(crate) fn model_pattern(anchored: &str) -> Regex {
    Regex::new(anchored).expect("model patterns are compiled by a unit test")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_pattern_compiles() {
        for p in crate::generated::validate::PATTERNS {
            let re: &Regex = p;
            assert!(re.as_str().starts_with('^'));
        }
    }

    #[test]
    fn paths_render_fields_indexes_and_keys() {
        let mut c = Checker::default();
        c.enter("tags");
        c.enter_index(2);
        c.enter("key");
        assert_eq!(c.path(), "tags[2].key");
        c.leave();
        c.leave();
        c.leave();
        c.enter("dockerLabels");
        c.enter_key("a\"b");
        assert_eq!(c.path(), "dockerLabels[\"a\\\"b\"]");
    }
}
