//! The evidence corpus: AWS's answers pass every check, and a check that a tampered answer
//! breaks does flag it (so "0 flagged" means something).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use ecs_harness::{evidence, Catalog};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus() -> Vec<evidence::Item> {
    let catalog = Catalog::load(&root().join("conformance/rules.json")).unwrap();
    evidence::load_dir(&root().join("conformance/evidence"), &catalog)
        .unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn no_aws_answer_is_flagged() {
    let items = corpus();
    let answers: usize = items.iter().map(evidence::answers).sum();
    assert!(answers >= 20, "{answers} answers");
    for item in &items {
        assert_eq!(evidence::check_item(item), vec![], "{}", item.id);
    }
}

fn tampered(
    id: &str,
    entry: usize,
    pointer: &str,
    value: serde_json::Value,
) -> Vec<evidence::Flag> {
    let mut item = corpus().into_iter().find(|i| i.id == id).unwrap();
    *item.timeline[entry]
        .answer
        .as_mut()
        .unwrap()
        .pointer_mut(pointer)
        .unwrap() = value;
    evidence::check_item(&item)
}

#[test]
fn tampered_answers_are_flagged_under_the_right_rule() {
    // (item, entry, JSON pointer, tampered value, the rule that must flag it)
    let cases: [(&str, usize, &str, serde_json::Value, &str); 5] = [
        // CreateTaskSet answering a computed count at once.
        (
            "awscli.external-service-lifecycle",
            1,
            "/taskSet/computedDesiredCount",
            1.into(),
            "ts.computed-desired-count.answer-before-recompute",
        ),
        // A settled count that is not ceil(1 x 50%) = 1, nor a value from before the change.
        (
            "awscli.external-service-lifecycle",
            3,
            "/taskSet/computedDesiredCount",
            2.into(),
            "ts.computed-desired-count.ceil",
        ),
        // A deleted set that is not DRAINING.
        (
            "awscli.delete-task-set",
            0,
            "/taskSet/status",
            "ACTIVE".into(),
            "ts.delete.draining",
        ),
        // A STEADY_STATE set with tasks still pending.
        (
            "awscli.describe-task-sets",
            0,
            "/taskSets/0/pendingCount",
            1.into(),
            "inv.steady-state-counts",
        ),
        // A wrong type is a schema departure.
        (
            "awscli.delete-task-set",
            0,
            "/taskSet/runningCount",
            "none".into(),
            "schema.output",
        ),
    ];
    for (id, entry, pointer, value, rule) in cases {
        let rules: Vec<String> = tampered(id, entry, pointer, value)
            .into_iter()
            .map(|f| f.rule)
            .collect();
        assert!(
            rules.iter().any(|r| r == rule),
            "{id} entry {entry} {pointer}: flagged {rules:?}, not {rule}"
        );
    }
    // The delete example has nothing else to flag once its status is wrong.
    let only: Vec<String> = tampered(
        "awscli.delete-task-set",
        0,
        "/taskSet/status",
        "ACTIVE".into(),
    )
    .into_iter()
    .map(|f| f.rule)
    .collect();
    assert_eq!(only, ["ts.delete.draining"]);
}
