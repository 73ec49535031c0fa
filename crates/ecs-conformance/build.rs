//! Embeds the suite: every fixture file, the fixture schema, the rule catalog, the coverage map,
//! the evidence corpus and the built-in target profiles become `static` strings of the binary,
//! so an installed `ecs-conformance` needs no checkout. Written by hand rather than with a
//! directory-embedding crate: the folders are few and flat, and the list must be sorted so the
//! binary is reproducible.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

type Error = Box<dyn std::error::Error>;

/// `(name relative to dir, absolute path)` of the files in `dir` with extension `ext`, sorted.
fn files(dir: &Path, ext: &str) -> Result<Vec<(String, PathBuf)>, Error> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == ext) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| format!("{}: no file name", path.display()))?;
            out.push((name, path.canonicalize()?));
        }
    }
    out.sort();
    Ok(out)
}

fn table(o: &mut String, name: &str, entries: &[(String, PathBuf)]) -> Result<(), Error> {
    writeln!(o, "/// Embedded `(file name, text)` pairs, sorted by name.")?;
    writeln!(o, "pub static {name}: &[(&str, &str)] = &[")?;
    for (file, path) in entries {
        println!("cargo::rerun-if-changed={}", path.display());
        writeln!(
            o,
            "    ({file:?}, include_str!({:?})),",
            path.display().to_string()
        )?;
    }
    writeln!(o, "];")?;
    Ok(())
}

fn one(o: &mut String, name: &str, path: &Path) -> Result<(), Error> {
    let path = path
        .canonicalize()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("cargo::rerun-if-changed={}", path.display());
    writeln!(
        o,
        "/// Embedded text of `{}`.",
        path.file_name().unwrap_or_default().to_string_lossy()
    )?;
    writeln!(
        o,
        "pub static {name}: &str = include_str!({:?});",
        path.display().to_string()
    )?;
    Ok(())
}

fn main() -> Result<(), Error> {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let fixtures = here.join("fixtures");
    let conformance = here.join("conformance");
    for dir in [
        &fixtures,
        &conformance.join("evidence"),
        &conformance.join("targets"),
    ] {
        println!("cargo::rerun-if-changed={}", dir.display());
    }
    let mut o = String::from("// Written by build.rs: the embedded suite.\n\n");
    table(&mut o, "FIXTURES", &files(&fixtures, "json")?)?;
    one(
        &mut o,
        "FIXTURE_SCHEMA",
        &fixtures.join("schema/fixture.schema.json"),
    )?;
    one(&mut o, "RULES", &conformance.join("rules.json"))?;
    one(
        &mut o,
        "ANSWER_SHAPES",
        &conformance.join("answer-shapes.json"),
    )?;
    one(
        &mut o,
        "INTEROP_TERRAFORM",
        &conformance.join("interop/main.tf"),
    )?;
    one(&mut o, "COVERAGE", &conformance.join("coverage.json"))?;
    table(
        &mut o,
        "EVIDENCE",
        &files(&conformance.join("evidence"), "json")?,
    )?;
    table(
        &mut o,
        "PROFILES",
        &files(&conformance.join("targets"), "toml")?,
    )?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("bundle.rs");
    std::fs::write(&out, o).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(())
}
