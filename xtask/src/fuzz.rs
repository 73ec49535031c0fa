//! `cargo xtask fuzz`: coverage-guided fuzzing of the four input-facing surfaces with cargo fuzz
//! (libFuzzer), seeded from the fixture suite.
//!
//! - cargo-fuzz is installed once under the cache directory (pinned version);
//! - the targets live in `fuzz/`, a workspace of its own, built into `target/fuzz`;
//! - seeds are derived from the fixtures on every run by `crates/ecs-harness/examples/
//!   fuzz_seeds.rs`, which replays each case against an in-process reference emulator (so they
//!   hold real ids and real answers) and writes a dictionary of every key and short string in
//!   the fixtures plus the operation names;
//! - the corpus each run grows is kept in `target/fuzz/corpus/<target>` and reused;
//! - a crash leaves its input in `target/fuzz/artifacts/<target>/` and fails the command with
//!   the line that replays it.
//!
//! The targets build with the stable toolchain (`--sanitizer none`): the code under test has no
//! `unsafe`, so AddressSanitizer would add build time and nothing to find.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

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
    /// Build the fuzz workspace's dev profile (opt-level 1, overflow checks on) rather than
    /// release. Measured from an empty target directory on this project's 2-core machine: 219 s
    /// to build against 391 s, for 0.55x the inputs per second on `emulator_requests` and 0.92x
    /// on `matcher`. `cargo xtask test`'s seconds-long smoke runs use it.
    #[arg(long)]
    pub dev: bool,
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
    // The seeds and the dictionary are made by an example of the harness, which links the
    // crates under test (this xtask links none of them).
    let seeds = work.join("seeds");
    let dict = work.join("ecs.dict");
    util::run_example(
        "ecs-harness",
        "fuzz_seeds",
        &[work.clone().into_os_string()],
    )?;
    let targets: Vec<&str> = if args.targets.is_empty() {
        TARGETS.to_vec()
    } else {
        args.targets.iter().map(String::as_str).collect()
    };
    util::run(
        Command::new(&cargo_fuzz)
            .current_dir(&root)
            .args(["fuzz", "build", "--sanitizer", "none"])
            .args(args.dev.then_some("--dev"))
            .arg("--target-dir")
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
            .args(["fuzz", "run", "--sanitizer", "none"])
            .args(args.dev.then_some("--dev"))
            .arg("--target-dir")
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
                "fuzz target {target} failed ({}); inputs kept: {}. Replay one with `{} fuzz run --sanitizer none{} --target-dir {} {target} <input>`",
                output.status,
                if found.is_empty() { "none".to_owned() } else { found.join(", ") },
                cargo_fuzz.display(),
                if args.dev { " --dev" } else { "" },
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
}
