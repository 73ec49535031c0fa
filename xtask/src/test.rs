//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use std::process::Command;

use anyhow::Result;

use crate::util;

pub fn run() -> Result<()> {
    let root = crate::project_root();
    let cargo = || {
        let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
        c.current_dir(&root);
        c
    };
    util::run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    eprintln!("$ cargo xtask codegen --check");
    crate::codegen::run(true)?;
    util::run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    util::run(cargo().args(["test", "--workspace", "--locked"]))?;
    eprintln!("xtask test: all checks passed");
    Ok(())
}
