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
    let rules = |flags: Vec<evidence::Flag>| flags.into_iter().map(|f| f.rule).collect::<Vec<_>>();
    // CreateTaskSet answering a computed count at once.
    assert!(rules(tampered(
        "awscli.external-service-lifecycle",
        1,
        "/taskSet/computedDesiredCount",
        1.into()
    ))
    .contains(&"ts.computed-desired-count.answer-before-recompute".to_owned()));
    // A settled count rounded down instead of up.
    assert!(rules(tampered(
        "awscli.external-service-lifecycle",
        3,
        "/taskSet/computedDesiredCount",
        2.into()
    ))
    .contains(&"ts.computed-desired-count.ceil".to_owned()));
    // A deleted set that is not DRAINING.
    assert_eq!(
        rules(tampered(
            "awscli.delete-task-set",
            0,
            "/taskSet/status",
            "ACTIVE".into()
        )),
        ["ts.delete.draining"]
    );
    // A STEADY_STATE set with tasks still pending.
    assert!(rules(tampered(
        "awscli.describe-task-sets",
        0,
        "/taskSets/0/pendingCount",
        1.into()
    ))
    .contains(&"inv.steady-state-counts".to_owned()));
    // A wrong type is a schema departure.
    assert!(rules(tampered(
        "awscli.delete-task-set",
        0,
        "/taskSet/runningCount",
        "none".into()
    ))
    .contains(&"schema.output".to_owned()));
}
