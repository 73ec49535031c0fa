//! `cargo xtask fuzz`: coverage-guided fuzzing of the four input-facing surfaces with cargo fuzz
//! (libFuzzer), seeded from the fixture suite.
//!
//! - cargo-fuzz is installed once under the cache directory (pinned version);
//! - the targets live in `fuzz/`, a workspace of its own, built into `target/fuzz`;
//! - seeds are derived from the fixtures on every run, by replaying each case against an
//!   in-process reference emulator (so they hold real ids and real answers), and a dictionary is
//!   made from every key and short string in the fixtures plus the operation names;
//! - the corpus each run grows is kept in `target/fuzz/corpus/<target>` and reused;
//! - a crash leaves its input in `target/fuzz/artifacts/<target>/` and fails the command with
//!   the line that replays it.
//!
//! The targets build with the stable toolchain (`--sanitizer none`): the code under test has no
//! `unsafe`, so AddressSanitizer would add build time and nothing to find.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ecs_emulator::{Emulator, ManualClock, SequentialIds};
use ecs_harness::fixture::Expect;
use ecs_harness::matcher::{lookup, substitute, Vars};
use serde_json::Value;

use crate::util;

pub const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Every fuzz target in `fuzz/fuzz_targets`.
pub const TARGETS: &[&str] = &[
    "emulator_requests",
    "client_answers",
    "fixture_loader",
    "matcher",
];

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Fuzz only these targets (repeatable); all four by default.
    #[arg(long = "target", value_parser = clap::builder::PossibleValuesParser::new(TARGETS))]
    pub targets: Vec<String>,
    /// Seconds of fuzzing per target.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Start from the seeds only, ignoring the corpus earlier runs kept.
    #[arg(long)]
    pub fresh: bool,
}

/// What one target's run did, read from libFuzzer's final statistics.
#[derive(Debug, Default)]
pub struct Outcome {
    pub target: String,
    pub runs: u64,
    pub seconds: f64,
    pub coverage: Option<u64>,
    pub features: Option<u64>,
    pub corpus: Option<u64>,
    pub peak_rss_mb: Option<u64>,
}

impl Outcome {
    pub fn describe(&self) -> String {
        let opt = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
        format!(
            "fuzz {}: {} inputs in {:.0} s ({:.0}/s), coverage {} edges / {} features, corpus {}, peak RSS {} MB, no crash",
            self.target,
            self.runs,
            self.seconds,
            self.runs as f64 / self.seconds.max(0.001),
            opt(self.coverage),
            opt(self.features),
            opt(self.corpus),
            opt(self.peak_rss_mb),
        )
    }
}

pub fn run_cli(args: &Args) -> Result<()> {
    for outcome in run(args)? {
        eprintln!("{}", outcome.describe());
    }
    Ok(())
}

pub fn run(args: &Args) -> Result<Vec<Outcome>> {
    let root = crate::project_root();
    let cargo_fuzz = install()?;
    let work = root.join("target/fuzz");
    let seeds = write_seeds(&root, &work)?;
    let dict = work.join("ecs.dict");
    let targets: Vec<&str> = if args.targets.is_empty() {
        TARGETS.to_vec()
    } else {
        args.targets.iter().map(String::as_str).collect()
    };
    util::run(
        Command::new(&cargo_fuzz)
            .current_dir(&root)
            .args(["fuzz", "build", "--sanitizer", "none", "--target-dir"])
            .arg(&work),
    )?;
    let mut outcomes = vec![];
    for target in targets {
        let corpus = work.join("corpus").join(target);
        if args.fresh && corpus.exists() {
            std::fs::remove_dir_all(&corpus)
                .with_context(|| format!("removing {}", corpus.display()))?;
        }
        let artifacts = work.join("artifacts").join(target);
        for dir in [&corpus, &artifacts] {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut cmd = Command::new(&cargo_fuzz);
        cmd.current_dir(&root)
            .args(["fuzz", "run", "--sanitizer", "none", "--target-dir"])
            .arg(&work)
            .arg(target)
            .arg(&corpus)
            .arg(seeds.join(target))
            .arg("--")
            .arg(format!("-max_total_time={}", args.seconds))
            .arg(format!("-dict={}", dict.display()))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .args(["-print_final_stats=1", "-timeout=10", "-rss_limit_mb=2048"]);
        eprintln!("$ {}", util::describe(&cmd));
        let started = Instant::now();
        let output = cmd
            .output()
            .with_context(|| format!("could not start {}", cargo_fuzz.display()))?;
        let log = String::from_utf8_lossy(&output.stderr);
        std::fs::write(work.join(format!("{target}.log")), log.as_bytes())
            .context("writing the fuzz log")?;
        if !output.status.success() {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!("{}", tail.join("\n"));
            let found = std::fs::read_dir(&artifacts)
                .map(|d| {
                    d.filter_map(|e| e.ok().map(|e| e.path().display().to_string()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            bail!(
                "fuzz target {target} failed ({}); inputs kept: {}. Replay one with `{} fuzz run --sanitizer none --target-dir {} {target} <input>`",
                output.status,
                if found.is_empty() { "none".to_owned() } else { found.join(", ") },
                cargo_fuzz.display(),
                work.display(),
            );
        }
        let mut outcome = parse_stats(target, &log);
        if outcome.seconds == 0.0 {
            outcome.seconds = started.elapsed().as_secs_f64();
        }
        outcome.corpus = std::fs::read_dir(&corpus)
            .ok()
            .map(|d| d.count() as u64)
            .or(outcome.corpus);
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// cargo-fuzz under the cache directory, installed once.
fn install() -> Result<PathBuf> {
    let root = crate::targets::cache_dir()?.join(format!("cargo-fuzz-{CARGO_FUZZ_VERSION}"));
    util::cargo_install("cargo-fuzz", CARGO_FUZZ_VERSION, "cargo-fuzz", &root)
}

/// Reads libFuzzer's `Done N runs in S second(s)`, the last `cov:`/`ft:`/`corp:` status line
/// and `stat::peak_rss_mb`.
fn parse_stats(target: &str, log: &str) -> Outcome {
    let mut out = Outcome {
        target: target.to_owned(),
        ..Outcome::default()
    };
    let number_after = |line: &str, key: &str| -> Option<u64> {
        let rest = &line[line.find(key)? + key.len()..];
        let digits: String = rest
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("Done ") {
            let mut words = rest.split_whitespace();
            out.runs = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
            out.seconds = words.nth(2).and_then(|w| w.parse().ok()).unwrap_or(0.0);
        } else if line.starts_with('#') && line.contains("cov:") {
            out.coverage = number_after(line, "cov:").or(out.coverage);
            out.features = number_after(line, "ft:").or(out.features);
            out.corpus = number_after(line, "corp:").or(out.corpus);
        } else if line.starts_with("stat::peak_rss_mb:") {
            out.peak_rss_mb = number_after(line, "stat::peak_rss_mb:");
        }
    }
    out
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
    fn reads_libfuzzer_statistics() {
        let log = "#2\tINITED cov: 10 ft: 12 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #4096\tpulse  cov: 812 ft: 3310 corp: 140/9Kb lim: 200 exec/s: 2048 rss: 61Mb\n\
                   Done 121712 runs in 21 second(s)\n\
                   stat::number_of_executed_units: 121712\n\
                   stat::peak_rss_mb:              63\n";
        let o = parse_stats("matcher", log);
        assert_eq!(o.runs, 121_712);
        assert_eq!(o.seconds, 21.0);
        assert_eq!(o.coverage, Some(812));
        assert_eq!(o.features, Some(3310));
        assert_eq!(o.corpus, Some(140));
        assert_eq!(o.peak_rss_mb, Some(63));
    }

    #[test]
    fn dictionary_entries_escape_quotes_and_bytes() {
        assert_eq!(dict_entry("a\"b\\c\u{e9}"), "\"a\\x22b\\x5Cc\\xC3\\xA9\"");
    }

    #[test]
    fn a_fixture_case_replays_into_seeds_for_every_consumer() {
        let root = crate::project_root();
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
