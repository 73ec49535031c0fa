//! Fuzz seeds: writes one seed directory per fuzz target of `fuzz/` and a libFuzzer dictionary
//! into the directory given, from the repository's fixtures. Each case is replayed against a
//! deterministic in-process reference emulator, so the seeds hold real ids and real answers.
//! `cargo xtask fuzz` runs it before fuzzing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use ecs_emulator::{Emulator, ManualClock, SequentialIds};
use ecs_harness::fixture::Expect;
use ecs_harness::matcher::{lookup, substitute, Vars};
use serde_json::Value;

/// Every fuzz target in `fuzz/fuzz_targets`.
const TARGETS: &[&str] = &[
    "emulator_requests",
    "client_answers",
    "fixture_loader",
    "matcher",
];

fn main() -> Result<()> {
    let work = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .context("usage: fuzz_seeds OUT_DIR")?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let seeds = write_seeds(&root, &work)?;
    println!("seeds written to {}", seeds.display());
    Ok(())
}

mod util {
    use anyhow::{Context, Result};
    use std::path::Path;

    pub fn read_to_string(path: &Path) -> Result<String> {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }

    pub fn write_if_changed(path: &Path, contents: &str) -> Result<bool> {
        if std::fs::read_to_string(path).ok().as_deref() == Some(contents) {
            return Ok(false);
        }
        std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
        Ok(true)
    }
}

/// Seeds for every target, made from the fixtures, and the shared dictionary. Returns the
/// directory holding one seed directory per target.
fn write_seeds(root: &Path, work: &Path) -> Result<PathBuf> {
    let seeds = work.join("seeds");
    if seeds.exists() {
        std::fs::remove_dir_all(&seeds).with_context(|| format!("removing {}", seeds.display()))?;
    }
    for t in TARGETS {
        std::fs::create_dir_all(seeds.join(t))
            .with_context(|| format!("creating {}", seeds.display()))?;
    }
    let fixtures = root.join("fixtures");
    let mut words: BTreeSet<String> = ecs_model::operations::OPERATIONS
        .iter()
        .map(|op| op.name.to_owned())
        .collect();
    let mut n = 0usize;
    let mut put = |target: &str, bytes: &[u8]| -> Result<()> {
        n += 1;
        let path = seeds.join(target).join(format!("seed-{n:05}"));
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .with_context(|| format!("reading {}", fixtures.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for file in &files {
        let text = util::read_to_string(file)?;
        let doc: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        collect_words(&doc, &mut words);
        // The loader: each case as a file of its own (with the file's own parts, the shared ones
        // being in the target's scope), so seeds stay small; the parts library whole.
        if doc.get("cases").is_none() {
            put("fixture_loader", text.as_bytes())?;
        }
        for case in doc
            .get("cases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut one = serde_json::json!({ "cases": [case] });
            if let Some(parts) = doc.get("parts") {
                one["parts"] = parts.clone();
            }
            put(
                "fixture_loader",
                serde_json::to_string_pretty(&one)?.as_bytes(),
            )?;
        }
    }
    let catalog = ecs_harness::Catalog::load(&root.join("conformance/rules.json"))?;
    let cases = ecs_harness::load_dir(&fixtures, &catalog).map_err(|e| anyhow::anyhow!("{e}"))?;
    for case in &cases {
        let replay = replay(case);
        put("emulator_requests", replay.script.as_bytes())?;
        for (expect, answer, path) in &replay.matches {
            let mut bytes = serde_json::to_vec(expect)?;
            bytes.push(0);
            bytes.extend(serde_json::to_vec(answer)?);
            if let Some(p) = path {
                bytes.push(0);
                bytes.extend(p.as_bytes());
            }
            put("matcher", &bytes)?;
        }
        for (status, code, body) in &replay.answers {
            let mut bytes = status.to_be_bytes().to_vec();
            bytes.extend(code.as_bytes());
            bytes.push(b'\n');
            bytes.extend(body);
            put("client_answers", &bytes)?;
        }
    }
    // ELBv2 on the same endpoint: each recorded request of conformance/evidence-elbv2.json after
    // what it presupposes, one `?<form>` line each (bound values left as written).
    let evidence: serde_json::Value = serde_json::from_str(&util::read_to_string(
        &root.join("conformance/evidence-elbv2.json"),
    )?)?;
    for item in evidence["items"].as_array().into_iter().flatten() {
        let given = item["given"].as_array().into_iter().flatten();
        let requests = given.map(|g| &g["request"]).chain([&item["request"]]);
        let mut script = String::new();
        for request in requests {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("Version", "2015-12-01");
            for (k, v) in request.as_object().into_iter().flatten() {
                form.append_pair(k, v.as_str().unwrap_or_default());
            }
            script.push('?');
            script.push_str(&form.finish());
            script.push_str("\n+200\n");
        }
        put("emulator_requests", script.as_bytes())?;
    }
    let mut dict = String::from("# Keys, operation names and short strings from the fixtures.\n");
    for w in &words {
        dict.push_str(&dict_entry(w));
        dict.push('\n');
    }
    util::write_if_changed(&work.join("ecs.dict"), &dict)?;
    Ok(seeds)
}

/// One libFuzzer dictionary line: printable ASCII kept, everything else `\xNN`.
fn dict_entry(word: &str) -> String {
    let mut out = String::from("\"");
    for b in word.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out.push('"');
    out
}

fn collect_words(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                collect_words(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_words(i, out)),
        Value::String(s) if (2..=40).contains(&s.len()) && !s.contains(' ') => {
            out.insert(s.clone());
        }
        _ => {}
    }
}

/// A case replayed against a deterministic in-process emulator.
struct Replay {
    /// The `emulator_requests` input: one request line per step, `+N` for waits.
    script: String,
    /// (expected body, actual answer, a capture path) for the matcher.
    matches: Vec<(Value, Value, Option<String>)>,
    /// (status, error code or "", body) for the client.
    answers: Vec<(u16, String, Vec<u8>)>,
}

fn replay(case: &ecs_harness::Case) -> Replay {
    let clock = ManualClock::at_example_time();
    // The emulator exactly as the `emulator_requests` target makes it: default delays.
    let engine = Emulator::builder()
        .clock(clock.clone())
        .ids(SequentialIds::default())
        .engine();
    let mut vars: Vars = BTreeMap::new();
    vars.insert("unique".to_owned(), Value::from("u"));
    let mut out = Replay {
        script: String::new(),
        matches: vec![],
        answers: vec![],
    };
    for step in case.steps.iter().chain(&case.cleanup) {
        let wait = step.sleep_ms.unwrap_or(0) + step.poll.map_or(0, |p| p.timeout_ms.min(1000));
        if wait > 0 {
            clock.advance(Duration::from_millis(wait));
            out.script.push_str(&format!("+{wait}\n"));
        }
        // A step whose variable was never captured (an earlier step failed) keeps its text.
        let request = substitute(&step.request, &vars).unwrap_or_else(|_| step.request.clone());
        let body = request.to_string();
        out.script.push_str(&format!("{} {body}\n", step.op));
        let target = format!("{}.{}", ecs_model::TARGET_PREFIX, step.op);
        match engine.handle(Some(&target), None, body.as_bytes()) {
            Ok(answer) => {
                let value: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
                for (name, path) in &step.capture {
                    if let Some(v) = lookup(&value, path) {
                        vars.insert(name.clone(), v.clone());
                    }
                }
                if let Some(Expect::Body { body }) = &step.expect {
                    let path = step.capture.values().next().cloned();
                    out.matches.push((body.clone(), value.clone(), path));
                }
                out.answers.push((200, String::new(), answer));
            }
            Err(e) => out.answers.push((e.status, e.code.to_owned(), e.body())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_entries_escape_quotes_and_bytes() {
        assert_eq!(dict_entry("a\"b\\c\u{e9}"), "\"a\\x22b\\x5Cc\\xC3\\xA9\"");
    }

    #[test]
    fn a_fixture_case_replays_into_seeds_for_every_consumer() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let catalog =
            ecs_harness::Catalog::load(&root.join("conformance/rules.json")).expect("catalog");
        let cases = ecs_harness::load_dir(&root.join("fixtures"), &catalog).expect("fixtures");
        let case = cases
            .iter()
            .find(|c| c.steps.iter().any(|s| s.op == "CreateTaskSet"))
            .expect("a case with CreateTaskSet");
        let r = replay(case);
        assert!(r.script.lines().any(|l| l.starts_with("CreateTaskSet {")));
        assert!(
            !r.script.contains("{{"),
            "unsubstituted variable: {}",
            r.script
        );
        assert!(r.answers.iter().any(|(status, _, _)| *status == 200));
        assert!(!r.matches.is_empty());
    }
}
