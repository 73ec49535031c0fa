//! The suite this binary carries: fixtures, fixture schema, rule catalog, coverage map, evidence
//! and target profiles, embedded at build time (see `build.rs`). `--fixtures DIR` and
//! `--rules FILE` replace the fixtures or the catalog with files on disk.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ecs_harness::{Case, Catalog, Profile};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/bundle.rs"));
}

/// Where the fixtures and the catalog come from.
#[derive(Clone, Debug, Default)]
pub struct Bundle {
    /// A fixture directory on disk instead of the embedded fixtures.
    pub fixtures: Option<PathBuf>,
    /// A rule catalog on disk instead of the embedded one.
    pub rules: Option<PathBuf>,
}

/// The fixture directory did not load; its problems were printed.
#[derive(Debug, thiserror::Error)]
#[error("the fixtures are invalid (see above)")]
pub struct InvalidFixtures;

impl Bundle {
    /// The embedded suite, with the overrides given.
    pub fn new(fixtures: Option<&Path>, rules: Option<&Path>) -> Bundle {
        Bundle {
            fixtures: fixtures.map(Path::to_path_buf),
            rules: rules.map(Path::to_path_buf),
        }
    }

    /// The rule catalog.
    pub fn catalog(&self) -> Result<Catalog> {
        Ok(match &self.rules {
            Some(path) => Catalog::load(path)?,
            None => Catalog::parse("conformance/rules.json (embedded)", embedded::RULES)?,
        })
    }

    /// A name for where the fixtures come from, for messages.
    pub fn fixtures_label(&self) -> String {
        match &self.fixtures {
            Some(dir) => dir.display().to_string(),
            None => "the embedded fixtures".into(),
        }
    }

    /// Every case; the problems of invalid fixtures are printed and end in [`InvalidFixtures`].
    pub fn cases(&self, catalog: &Catalog) -> Result<Vec<Case>> {
        let loaded = match &self.fixtures {
            Some(dir) => {
                if !dir.is_dir() {
                    anyhow::bail!("--fixtures {}: not a directory", dir.display());
                }
                if ecs_harness::fixture::schema_path(dir).exists() {
                    ecs_harness::load_dir(dir, catalog)
                } else {
                    // A directory of cases alone is checked against the embedded schema.
                    let sources = fixture_files_in(dir)?;
                    ecs_harness::fixture::load_sources(
                        "fixtures/schema/fixture.schema.json (embedded)",
                        embedded::FIXTURE_SCHEMA,
                        sources,
                        catalog,
                    )
                }
            }
            None => ecs_harness::fixture::load_sources(
                "fixtures/schema/fixture.schema.json (embedded)",
                embedded::FIXTURE_SCHEMA,
                owned(embedded::FIXTURES),
                catalog,
            ),
        };
        loaded.map_err(|e| {
            eprintln!("{e}");
            InvalidFixtures.into()
        })
    }

    /// The fixture files as `(name, text)`, in name order.
    pub fn fixture_files(&self) -> Result<Vec<(String, String)>> {
        match &self.fixtures {
            Some(dir) => fixture_files_in(dir),
            None => Ok(owned(embedded::FIXTURES)),
        }
    }
}

fn owned(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect()
}

/// The `*.json` files directly in `dir`, as `(name, text)`, sorted.
pub fn fixture_files_in(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "json") {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            out.push((name, text));
        }
    }
    out.sort();
    Ok(out)
}

/// The evidence corpus: embedded, or the `*.json` items of `dir`.
pub fn evidence(dir: Option<&Path>) -> Result<Vec<(String, String)>> {
    match dir {
        Some(dir) => fixture_files_in(dir),
        None => Ok(owned(embedded::EVIDENCE)),
    }
}

/// The embedded coverage map's text.
pub fn coverage_map() -> &'static str {
    embedded::COVERAGE
}

/// The names of the built-in target profiles.
pub fn profile_names() -> Vec<&'static str> {
    embedded::PROFILES
        .iter()
        .map(|(n, _)| n.trim_end_matches(".toml"))
        .collect()
}

/// The table of members AWS always answers (`conformance/answer-shapes.json`, written by
/// `cargo xtask answer-shapes`), embedded.
pub fn answer_shapes() -> Result<std::sync::Arc<ecs_harness::shapes::AnswerShapes>> {
    let table = ecs_harness::shapes::AnswerShapes::parse(
        "conformance/answer-shapes.json (embedded)",
        embedded::ANSWER_SHAPES,
    )
    .map_err(anyhow::Error::msg)?;
    Ok(std::sync::Arc::new(table))
}

/// The Terraform configuration of `ecs-conformance interop` (`conformance/interop/main.tf`).
pub fn interop_config() -> &'static str {
    embedded::INTEROP_TERRAFORM
}

/// A built-in profile by name (`reference`, `api-only`, `moto`, ...), or a profile file: a
/// value naming an existing file, or holding a `/` or ending in `.toml`, is read from disk.
pub fn profile(name_or_path: &str) -> Result<Profile> {
    let looks_like_path = name_or_path.contains('/') || name_or_path.ends_with(".toml");
    if looks_like_path || Path::new(name_or_path).is_file() {
        return Ok(Profile::load(Path::new(name_or_path))?);
    }
    let file = format!("{name_or_path}.toml");
    let Some((_, text)) = embedded::PROFILES.iter().find(|(n, _)| *n == file) else {
        anyhow::bail!(
            "no built-in profile {name_or_path:?}: use one of {} or a profile file",
            profile_names().join(", ")
        );
    };
    Ok(Profile::parse(
        &format!("conformance/targets/{file} (embedded)"),
        text,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_suite_loads() {
        let bundle = Bundle::default();
        let catalog = bundle.catalog().expect("catalog");
        let cases = bundle.cases(&catalog).expect("cases");
        assert!(cases.len() > 200, "{} cases", cases.len());
        assert!(profile_names().contains(&"reference"));
        assert_eq!(profile("api-only").expect("profile").name, "api-only");
        assert!(profile("no-such-profile").is_err());
        let evidence = evidence(None).expect("evidence");
        let items = ecs_harness::evidence::load_sources(evidence, &catalog).expect("items");
        assert!(!items.is_empty());
    }

    #[test]
    fn a_fixture_directory_without_a_schema_uses_the_embedded_one() {
        let dir =
            std::env::temp_dir().join(format!("ecs-conformance-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("bad.json"), r#"{"cases": [{"id": 3}]}"#).expect("write");
        let bundle = Bundle::new(Some(&dir), None);
        let catalog = bundle.catalog().expect("catalog");
        let err = bundle.cases(&catalog).expect_err("a bad case");
        assert!(err.is::<InvalidFixtures>());
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
