//! `cargo xtask fixtures [--check]`: `ecs-conformance fixtures` on the repository's `fixtures/`
//! (canonical layout, exact rounding rows), then the rule catalog table of
//! `conformance/README.md`, rewritten from `ecs-conformance rules --format markdown`.

use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::conformance::{spliced, tool, tool_status};
use crate::util;

const CATALOG_START: &str =
    "<!-- rule-catalog:start (written by cargo xtask fixtures from rules.json and fixtures/) -->";
const CATALOG_END: &str = "<!-- rule-catalog:end -->";

/// Lays out (or with `check`, compares) every fixture file and the rule catalog table.
pub fn run(check: bool) -> Result<()> {
    let root = crate::project_root();
    let mut args = vec![
        "fixtures".to_owned(),
        "--fixtures".to_owned(),
        root.join("fixtures").display().to_string(),
    ];
    if check {
        args.push("--check".into());
    }
    let code = tool_status(&args)?;
    if code != 0 {
        bail!("the fixtures are not in canonical form or their rounding rows are wrong (see above); run `cargo xtask fixtures`");
    }
    let mut cmd = Command::new(tool()?);
    cmd.args(["rules", "--format", "markdown", "--fixtures"])
        .arg(root.join("fixtures"))
        .arg("--rules")
        .arg(root.join("conformance/rules.json"));
    let out = cmd.output().context("running ecs-conformance rules")?;
    if !out.status.success() {
        bail!(
            "`{}` failed: {}",
            util::describe(&cmd),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let table = String::from_utf8(out.stdout).context("the rules table is not UTF-8")?;
    let readme = root.join("conformance/README.md");
    let text = util::read_to_string(&readme)?;
    let fresh = spliced(&text, CATALOG_START, CATALOG_END, &table).with_context(|| {
        format!(
            "{} lacks the markers {CATALOG_START} ... {CATALOG_END}",
            readme.display()
        )
    })?;
    if fresh != text {
        if check {
            bail!(
                "the rule catalog table in {} is stale; run `cargo xtask fixtures`",
                readme.display()
            );
        }
        util::write_if_changed(&readme, &fresh)?;
        println!("wrote {}", readme.display());
    }
    Ok(())
}
