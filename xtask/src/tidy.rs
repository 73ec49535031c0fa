//! Repository hygiene, checked by `cargo test` (the rust-analyzer `tidy` pattern).

use std::path::Path;

use anyhow::{bail, Result};

/// The dependencies of a manifest's `[dependencies]` table that point at a path: xtask must
/// have none, so that the generator runs when the generated code does not compile.
pub fn path_dependencies(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut found = vec![];
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]" || line == "[build-dependencies]";
            continue;
        }
        if in_deps && line.contains("path") && line.contains('=') {
            let name = line.split('=').next().unwrap_or("").trim();
            let spec = &line[line.find('=').map_or(0, |i| i + 1)..];
            if spec.contains("path =") || spec.contains("path=") {
                found.push(name.to_owned());
            }
        }
    }
    found
}

/// Fails when xtask/Cargo.toml depends on a crate by path.
pub fn xtask_links_no_workspace_crate(root: &Path) -> Result<()> {
    let manifest = crate::util::read_to_string(&root.join("xtask/Cargo.toml"))?;
    let linked = path_dependencies(&manifest);
    if !linked.is_empty() {
        bail!(
            "xtask/Cargo.toml links {}: xtask is dev tooling and links no workspace crate (the generator must run when the generated code does not compile)",
            linked.join(", ")
        );
    }
    Ok(())
}

/// The crates whose top-level modules must form layers (no module reaches, through `crate::`
/// paths, a module that reaches it back). ecs-model is not among them: its generated code and
/// the runtime it is generated against name each other (the generated types expand the wire
/// macros; the operation traits name the generated errors), and its layering is by directory.
pub const LAYERED_CRATES: [&str; 5] = [
    "ecs-client",
    "ecs-conformance",
    "ecs-deploy",
    "ecs-emulator",
    "ecs-harness",
];

/// Fails naming every circle of module references in the layered crates.
pub fn no_module_circles(root: &Path) -> Result<()> {
    let mut found = vec![];
    for name in LAYERED_CRATES {
        let src = root.join("crates").join(name).join("src");
        let mut files = vec![];
        collect_rs(&src, &mut files)?;
        let mut modules: Vec<(String, String)> = vec![];
        for file in files {
            let rel = file.strip_prefix(&src).unwrap_or(&file);
            let top = rel
                .components()
                .next()
                .map(|c| {
                    c.as_os_str()
                        .to_string_lossy()
                        .trim_end_matches(".rs")
                        .to_owned()
                })
                .unwrap_or_default();
            if top == "lib" || top == "main" {
                continue;
            }
            modules.push((top, crate::util::read_to_string(&file)?));
        }
        for circle in module_circles(&modules) {
            found.push(format!("{name}: {}", circle.join(" -> ")));
        }
    }
    if !found.is_empty() {
        bail!(
            "modules that reach each other through `crate::` paths (a room without layers):\n  {}",
            found.join("\n  ")
        );
    }
    Ok(())
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rs(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

/// Circles among modules given as (top-level module, source text) pairs, where a module uses
/// another when its code says `crate::other` (comments are read too: a doc link is a use).
pub fn module_circles(modules: &[(String, String)]) -> Vec<Vec<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    let names: BTreeSet<&str> = modules.iter().map(|(m, _)| m.as_str()).collect();
    let mut uses: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (module, text) in modules {
        let entry = uses.entry(module.as_str()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + 7..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let used = &rest[..end];
            if used != module && names.contains(used) {
                entry.insert(names.get(used).copied().unwrap_or(used));
            }
        }
    }
    // Each module that reaches itself: the shortest way round, once per circle.
    let mut circles: BTreeSet<Vec<String>> = BTreeSet::new();
    for start in &names {
        let mut queue = std::collections::VecDeque::from([vec![*start]]);
        let mut seen = BTreeSet::new();
        while let Some(path) = queue.pop_front() {
            let last = path[path.len() - 1];
            for next in uses.get(last).into_iter().flatten() {
                if next == start {
                    let mut circle: Vec<String> = path.iter().map(|m| (*m).to_owned()).collect();
                    // The same circle from any module: start at its smallest name.
                    let at = circle
                        .iter()
                        .enumerate()
                        .min_by(|a, b| a.1.cmp(b.1))
                        .map_or(0, |(i, _)| i);
                    circle.rotate_left(at);
                    circle.push(circle[0].clone());
                    circles.insert(circle);
                    queue.clear();
                    break;
                }
                if seen.insert(*next) {
                    let mut longer = path.clone();
                    longer.push(next);
                    queue.push_back(longer);
                }
            }
        }
    }
    circles.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::path_dependencies;
    use std::path::PathBuf;
    use std::process::Command;

    fn tracked_files() -> Vec<PathBuf> {
        let root = crate::project_root();
        let out = Command::new("git")
            .arg("ls-files")
            .current_dir(&root)
            .output()
            .expect("git ls-files");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| root.join(l))
            .collect()
    }

    fn text(path: &PathBuf) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    #[test]
    fn xtask_has_no_path_dependency_and_one_is_found() {
        assert_eq!(
            path_dependencies(
                &std::fs::read_to_string(crate::project_root().join("xtask/Cargo.toml"))
                    .expect("manifest")
            ),
            Vec::<String>::new()
        );
        let planted = "[package]\nname = \"x\"\n[dependencies]\nserde = \"1\"\necs-model = { path = \"../crates/ecs-model\" }\n[dev-dependencies]\nq = { path = \"q\" }\n";
        assert_eq!(path_dependencies(planted), vec!["ecs-model".to_owned()]);
    }

    #[test]
    fn module_circles_are_found_and_the_layered_crates_have_none() {
        let m = |name: &str, text: &str| (name.to_owned(), text.to_owned());
        let circles = super::module_circles(&[
            m("runner", "use crate::report::one_line;"),
            m(
                "report",
                "use crate::runner::CaseResult; use crate::text::x;",
            ),
            m("text", "pub fn one_line() {}"),
            m("step", "use crate::runner::x; use crate::crate_level_fn;"),
        ]);
        assert_eq!(circles, vec![vec!["report", "runner", "report"]]);
        super::no_module_circles(&crate::project_root()).unwrap();
    }

    #[test]
    fn generated_files_say_they_are_generated() {
        let dir = crate::project_root().join("crates/ecs-model/src/generated");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).expect("generated dir") {
            let path = entry.expect("entry").path();
            let head: String = text(&path)
                .unwrap_or_default()
                .lines()
                .take(3)
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                head.contains(crate::codegen::HEADER),
                "{} lacks the generated-code header",
                path.display()
            );
            n += 1;
        }
        assert!(n >= 6, "expected the generated modules, found {n}");
    }

    #[test]
    fn no_unfinished_work_markers_in_code() {
        let markers = [
            concat!("TO", "DO"),
            concat!("FIX", "ME"),
            concat!("todo", "!("),
            concat!("unimplemented", "!("),
        ];
        for path in tracked_files()
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        {
            let Some(body) = text(path) else { continue };
            for (i, line) in body.lines().enumerate() {
                for m in markers {
                    assert!(
                        !line.contains(m),
                        "{}:{}: {m} in committed code",
                        path.display(),
                        i + 1
                    );
                }
            }
        }
    }

    #[test]
    fn readme_first_screen_has_the_two_commands_and_ci_runs_the_tests() {
        let root = crate::project_root();
        let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
        let first: String = readme.lines().take(40).collect::<Vec<_>>().join("\n");
        assert!(first.contains("cargo xtask conformance"));
        assert!(first.contains("cargo xtask test"));
        let ci = std::fs::read_to_string(root.join(".ci/run")).expect(".ci/run");
        assert!(ci.lines().any(|l| l.trim() == "cargo xtask test"));
        assert!(root.join("ARCHITECTURE.md").exists());
    }

    /// An AWS access key id (AKIA/ASIA and 16 upper-case letters or digits) that is not an
    /// obvious documentation example.
    fn access_key_in(body: &str) -> Option<String> {
        let bytes = body.as_bytes();
        (0..bytes.len().saturating_sub(19)).find_map(|i| {
            let prefix = &bytes[i..i + 4];
            if prefix != b"AKIA" && prefix != b"ASIA" {
                return None;
            }
            let rest = &bytes[i + 4..i + 20];
            let boundary = bytes.get(i + 20).is_none_or(|b| !b.is_ascii_alphanumeric());
            let key = String::from_utf8_lossy(&bytes[i..i + 20]).into_owned();
            (boundary
                && rest
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                && !key.contains("EXAMPLE"))
            .then_some(key)
        })
    }

    /// A secret access key or session token written as a value (`aws_secret_access_key = ...`,
    /// `X-Amz-Security-Token: ...`), unless it is AWS's documentation example.
    fn secret_value_in(body: &str) -> Option<String> {
        body.lines().find_map(|line| {
            let l = line.to_ascii_lowercase();
            let key = [
                "aws_secret_access_key",
                "aws_session_token",
                "x-amz-security-token",
                "secretaccesskey",
                "sessiontoken",
            ]
            .into_iter()
            .find(|k| l.contains(k))?;
            let rest = &line[l.find(key)? + key.len()..];
            let value: String = rest
                .trim_start_matches(|c: char| c == '"' || c == ':' || c == '=' || c.is_whitespace())
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "/+=".contains(*c))
                .collect();
            (value.len() >= 40 && !value.contains("EXAMPLE"))
                .then(|| format!("{key} = {}…", &value[..8]))
        })
    }

    /// An `Authorization` header carrying a full SigV4 signature.
    fn signed_header_in(body: &str) -> bool {
        body.lines().any(|line| {
            let l = line.to_ascii_lowercase();
            l.contains("authorization")
                && l.split("signature=").nth(1).is_some_and(|sig| {
                    sig.chars().take_while(char::is_ascii_hexdigit).count() >= 64
                })
        })
    }

    #[test]
    fn the_credential_scanner_finds_what_it_should() {
        let key = format!("AK{}", "IAZ7Q4LJ2M5N8P3R6T");
        assert_eq!(access_key_in(&format!("id = {key}\n")), Some(key.clone()));
        assert_eq!(
            access_key_in(&format!("{key}X")),
            None,
            "longer tokens are not key ids"
        );
        assert_eq!(access_key_in(&format!("AK{}", "IAIOSFODNN7EXAMPLE")), None);
        let header = format!(
            "Authorization: AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature={}",
            "ab".repeat(32)
        );
        assert!(signed_header_in(&header));
        assert!(!signed_header_in(
            "Authorization: AWS4-HMAC-SHA256 Credential=x, Signature=<redacted>"
        ));
        let secret = format!("{}{}", "abcdEFGH1234", "/+ijklMNOP5678qrstUVWX90yzAB");
        assert!(secret_value_in(&format!("aws_secret_access_key = {secret}")).is_some());
        assert!(
            secret_value_in(&format!("\"X-Amz-Security-Token\": \"{secret}{secret}\"")).is_some()
        );
        assert!(secret_value_in(&format!(
            "aws_secret_access_key = {}{}",
            "wJalrXUtnFEMI/K7MDENG+", "bPxRfiCYEXAMPLEKEY"
        ))
        .is_none());
        assert!(secret_value_in("aws_session_token = short").is_none());
    }

    #[test]
    fn no_credentials_in_tracked_files() {
        for path in tracked_files() {
            let Some(body) = text(&path) else { continue };
            assert_eq!(
                access_key_in(&body),
                None,
                "{}: looks like an access key id",
                path.display()
            );
            assert!(
                !signed_header_in(&body),
                "{}: a signed Authorization header is committed",
                path.display()
            );
            assert_eq!(
                secret_value_in(&body),
                None,
                "{}: a secret key or session token is committed",
                path.display()
            );
        }
    }
}
