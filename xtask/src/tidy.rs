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
