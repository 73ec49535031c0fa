//! `ecs-conformance evidence`: replays every AWS answer of `conformance/evidence/` through the
//! suite's answer checks and the rules each item claims. The suite may never flag a real AWS
//! answer; the last line says how many answers were replayed and how many were flagged.

use std::path::Path;

use anyhow::{bail, Result};
use ecs_harness::evidence;

use crate::bundle::Bundle;

/// Replays the embedded corpus, or the items of `dir`; fails when the suite flags an answer.
pub fn run(dir: Option<&Path>, bundle: &Bundle) -> Result<()> {
    let catalog = bundle.catalog()?;
    let label = dir.map_or_else(
        || "the embedded evidence".to_owned(),
        |d| d.display().to_string(),
    );
    let items = match evidence::load_sources(crate::bundle::evidence(dir)?, &catalog) {
        Ok(items) => items,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            bail!("{} problem(s) in {label}", errors.len());
        }
    };
    if items.is_empty() {
        bail!("{label} holds no evidence item");
    }
    let mut flagged = 0;
    let mut answers = 0;
    for item in &items {
        let flags = evidence::check_item(item);
        let n = evidence::answers(item);
        answers += n;
        println!(
            "{:45} {:3} answers  {} rule(s) claimed  {}",
            item.id,
            n,
            item.rules.len(),
            if flags.is_empty() { "ok" } else { "FLAGGED" }
        );
        for f in &flags {
            println!("  {f}");
        }
        flagged += flags.len();
    }
    println!(
        "{} evidence items, {answers} answers, {flagged} flagged",
        items.len()
    );
    if flagged > 0 {
        bail!("the suite flags {flagged} place(s) where AWS itself answered: the rules or checks are wrong, not AWS");
    }
    Ok(())
}
