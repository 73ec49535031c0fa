//! The subset of the shared AWS config and credentials files the client needs: sections and
//! `key = value` lines. Written here rather than taken from `aws-config`, whose profile parser
//! comes with the whole SDK runtime (credential providers, IMDS, SSO, STS) that this client
//! does not use; the format subset needed is a few dozen lines.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::ConfigError;

/// One profile's keys (lower-cased).
#[derive(Debug, Default, Clone)]
pub struct Profile {
    values: HashMap<String, String>,
}

impl Profile {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }
}

/// Profiles from both files; the credentials file wins for the keys it sets.
#[derive(Debug, Default)]
pub struct ProfileSet {
    profiles: HashMap<String, Profile>,
}

impl ProfileSet {
    pub fn load(
        config: Option<PathBuf>,
        credentials: Option<PathBuf>,
    ) -> Result<ProfileSet, ConfigError> {
        let mut set = ProfileSet::default();
        if let Some(path) = config {
            if let Some(text) = read_optional(&path)? {
                set.merge(parse(&text, true));
            }
        }
        if let Some(path) = credentials {
            if let Some(text) = read_optional(&path)? {
                set.merge(parse(&text, false));
            }
        }
        Ok(set)
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    fn merge(&mut self, other: HashMap<String, Profile>) {
        for (name, p) in other {
            self.profiles
                .entry(name)
                .or_default()
                .values
                .extend(p.values);
        }
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigError::ProfileFile {
            path: path.to_owned(),
            reason: e.to_string(),
        }),
    }
}

/// `[name]` in the credentials file; `[default]` or `[profile name]` in the config file.
/// Comments start with `#` or `;`; indented lines (sub-properties) are skipped.
pub fn parse(text: &str, config_file: bool) -> HashMap<String, Profile> {
    let mut out: HashMap<String, Profile> = HashMap::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        if raw.starts_with([' ', '\t']) {
            continue;
        }
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            let header = header.trim();
            current = if config_file {
                match header.strip_prefix("profile") {
                    Some(rest) if rest.starts_with([' ', '\t']) => Some(rest.trim().to_owned()),
                    _ if header == "default" => Some("default".to_owned()),
                    _ => None, // sso-session, services, ...: not profiles
                }
            } else {
                Some(header.to_owned())
            };
            continue;
        }
        let (Some(name), Some((key, value))) = (&current, line.split_once('=')) else {
            continue;
        };
        let value = value.split(" #").next().unwrap_or("").trim();
        out.entry(name.clone())
            .or_default()
            .values
            .insert(key.trim().to_ascii_lowercase(), value.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keys_and_comments() {
        let creds = "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key=secret # note\n\n; comment\n[ci]\naws_access_key_id=id2\n";
        let p = parse(creds, false);
        assert_eq!(p["default"].get("aws_access_key_id"), Some("AKIDEXAMPLE"));
        assert_eq!(p["default"].get("aws_secret_access_key"), Some("secret"));
        assert_eq!(p["ci"].get("aws_access_key_id"), Some("id2"));

        let config = "[default]\nregion = eu-west-1\n[profile ci]\nregion=us-west-2\ns3 =\n  max_concurrent_requests = 10\n[sso-session x]\nregion=zz\n[profilex]\nregion=no\n";
        let p = parse(config, true);
        assert_eq!(p["default"].get("region"), Some("eu-west-1"));
        assert_eq!(p["ci"].get("region"), Some("us-west-2"));
        assert!(p["ci"].get("max_concurrent_requests").is_none());
        assert_eq!(p.len(), 2, "{p:?}");
    }
}
