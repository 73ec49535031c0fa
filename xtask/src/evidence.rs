//! `cargo xtask evidence`: replays every AWS answer of `conformance/evidence/` through the
//! suite's answer checks and the rules each item claims. The suite may never flag a real AWS
//! answer; the last line says how many answers were replayed and how many were flagged.

use anyhow::{bail, Result};
use ecs_harness::{evidence, Catalog};

pub fn run() -> Result<()> {
    let root = crate::project_root();
    let catalog = Catalog::load(&root.join("conformance/rules.json"))?;
    let dir = root.join("conformance/evidence");
    let items = match evidence::load_dir(&dir, &catalog) {
        Ok(items) => items,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            bail!("{} problem(s) in {}", errors.len(), dir.display());
        }
    };
    if items.is_empty() {
        bail!("{} holds no evidence item", dir.display());
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
