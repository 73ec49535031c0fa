//! `ecs-conformance`: the ECS task-set conformance suite as one installable program.
//!
//! The fixtures, the rule catalog, the coverage map, the evidence corpus and the built-in target
//! profiles are embedded, so `cargo install` is all a machine needs:
//!
//! ```text
//! ecs-conformance run                                  # against the embedded reference emulator
//! ecs-conformance run --endpoint http://127.0.0.1:4566 --profile moto
//! ecs-conformance serve --port 4566                    # the reference emulator for other tools
//! ecs-conformance rules | cases --filter tag:rounding | evidence | coverage
//! ```

mod bundle;
mod coverage;
mod evidence;
mod fixtures;
mod history;
mod interop;
mod listing;
mod publish;
mod run;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::bundle::Bundle;
use crate::listing::ListFormat;

#[derive(Parser)]
#[command(
    name = "ecs-conformance",
    version,
    about = "Replays the ECS task-set conformance suite against the reference emulator, any emulator or AWS, and reports rule by rule where the target departs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Sign requests to a plain http:// endpoint on another machine even with a session's
    /// credentials or the AWS chain's; without it such a run is refused before any request.
    #[arg(long, global = true)]
    allow_plain_http: bool,
}

/// Where the suite comes from, for the commands that read cases.
#[derive(clap::Args, Debug, Clone)]
struct SuiteArgs {
    /// A fixture directory instead of the embedded fixtures.
    #[arg(long)]
    fixtures: Option<PathBuf>,
    /// A rule catalog file instead of the embedded one.
    #[arg(long)]
    rules: Option<PathBuf>,
}

impl SuiteArgs {
    fn bundle(&self) -> Bundle {
        Bundle::new(self.fixtures.as_deref(), self.rules.as_deref())
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the suite against a target and report rule by rule (exit 0 passed, 1 departures,
    /// 2 usage or invalid fixtures, 3 unreachable target, 4 harness error).
    Run(Box<run::Args>),
    /// Run cases against an endpoint and write its (normalised) answers into a fixture
    /// directory as their expectations, with provenance `recorded`.
    Record(run::RecordArgs),
    /// Run the reference emulator on 127.0.0.1 until Ctrl-C; the first line printed is its URL
    /// (its log of requests goes to standard error).
    Serve {
        /// Port (0 picks a free one).
        #[arg(long, default_value_t = 4566)]
        port: u16,
        /// Timing shape: instant, fast or aws (the default: AWS's delays, compressed by
        /// --time-scale so a task set settles in about a second).
        #[arg(long, default_value = "aws")]
        timing: ecs_emulator::TimingProfile,
        /// Multiplies every delay of --timing.
        #[arg(long, default_value_t = ecs_emulator::DEFAULT_TIME_SCALE)]
        time_scale: f64,
        /// Region for requests whose signature names none.
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// Also stop when standard input is closed: a parent that holds its write end open
        /// (the Python package does) takes the server with it when it dies, even killed.
        #[arg(long)]
        exit_when_stdin_closes: bool,
    },
    /// Replay every recorded AWS answer of the evidence corpus through the suite's checks;
    /// fails when the suite would flag one. With --replay, send AWS's recorded requests to a
    /// target instead and compare its answers with AWS's (one line per departure).
    Evidence {
        /// A directory of evidence items instead of the embedded corpus.
        #[arg(long)]
        evidence: Option<PathBuf>,
        #[command(flatten)]
        suite: SuiteArgs,
        #[command(flatten)]
        replay: evidence::ReplayArgs,
        /// Derive the table of members AWS always answers from the corpus and write it here
        /// (with --check, fail when the file differs instead).
        #[arg(long, conflicts_with = "replay")]
        answer_shapes: Option<PathBuf>,
        /// With --answer-shapes: fail when the file is stale, writing nothing.
        #[arg(long, requires = "answer_shapes")]
        check: bool,
    },
    /// Run a real tool against a target: Terraform (hashicorp/aws 5.100.0) applies, plans,
    /// updates, imports and destroys task sets and services, each step reported (exit 0 all
    /// passed, 1 a step failed).
    Interop(interop::Args),
    /// How many of the seed pages' observable behaviours the cases check, per page and
    /// overall; fails when the coverage map is inconsistent.
    Coverage {
        /// A coverage map instead of the embedded one.
        #[arg(long)]
        map: Option<PathBuf>,
        /// The seed pages' folder: cited lines are checked against the pages.
        #[arg(long)]
        seeds: Option<PathBuf>,
        /// The audit TSV: each behaviour it lists must be in the map.
        #[arg(long)]
        audit: Option<PathBuf>,
        #[command(flatten)]
        suite: SuiteArgs,
    },
    /// List the rule catalog, with what checks each rule.
    Rules {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
        #[command(flatten)]
        suite: SuiteArgs,
    },
    /// List the cases (parts and tables expanded), optionally filtered.
    Cases {
        /// Keep cases by id text, `rule:<id>` or `tag:<tag>` (repeatable).
        #[arg(long)]
        filter: Vec<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
        #[command(flatten)]
        suite: SuiteArgs,
    },
    /// Lay out fixture files canonically (or with --check, fail when one is not) and check the
    /// rounding table against exact arithmetic.
    Fixtures {
        /// Fail (without writing) when a file is not in canonical layout.
        #[arg(long)]
        check: bool,
        /// The fixture directory (without it, the embedded fixtures are checked).
        #[arg(long)]
        fixtures: Option<PathBuf>,
    },
    /// Render saved JSON reports of several targets: published copies, the HTML matrix page
    /// and the Markdown matrix tables.
    Report(publish::Args),
}

fn main() {
    let cli = Cli::parse();
    run::ALLOW_PLAIN_HTTP.store(cli.allow_plain_http, std::sync::atomic::Ordering::Relaxed);
    let code = match cli.command {
        Command::Run(args) => run::run(&args).unwrap_or_else(|e| run::exit_code_of(&e)),
        Command::Record(args) => run::record(&args).unwrap_or_else(|e| run::exit_code_of(&e)),
        Command::Serve {
            port,
            timing,
            time_scale,
            region,
            exit_when_stdin_closes,
        } => done(serve::run(serve::Options {
            port,
            timing,
            time_scale,
            region,
            exit_when_stdin_closes,
        })),
        Command::Evidence {
            evidence,
            suite,
            replay,
            answer_shapes,
            check,
        } => {
            if let Some(file) = answer_shapes {
                done(evidence::answer_shapes(
                    evidence.as_deref(),
                    &suite.bundle(),
                    &file,
                    check,
                ))
            } else if replay.replay {
                evidence::replay(evidence.as_deref(), &suite.bundle(), &replay)
                    .unwrap_or_else(|e| run::exit_code_of(&e))
            } else {
                done(evidence::run(evidence.as_deref(), &suite.bundle()))
            }
        }
        Command::Coverage {
            map,
            seeds,
            audit,
            suite,
        } => done(coverage::run(
            &suite.bundle(),
            map.as_deref(),
            seeds.as_deref(),
            audit.as_deref(),
        )),
        Command::Rules { format, suite } => done(list(&suite, &[], |catalog, cases| {
            listing::rules(catalog, cases, format)
        })),
        Command::Cases {
            filter,
            format,
            suite,
        } => done(list(&suite, &filter, |_, cases| {
            listing::cases(cases, format)
        })),
        Command::Fixtures { check, fixtures } => done(fixtures::run(fixtures.as_deref(), check)),
        Command::Report(args) => done(publish::run(&args)),
        Command::Interop(args) => interop::run(&args).unwrap_or_else(|e| run::exit_code_of(&e)),
    };
    std::process::exit(code);
}

/// Loads the suite, selects cases and prints what `render` makes of them.
fn list(
    suite: &SuiteArgs,
    filter: &[String],
    render: impl FnOnce(&ecs_harness::Catalog, &[ecs_harness::Case]) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    let (catalog, cases) = run::load_cases(&suite.bundle(), filter)?;
    print!("{}", render(&catalog, &cases)?);
    Ok(())
}

/// The exit code of a command that either works (0) or fails with a message.
fn done(result: anyhow::Result<()>) -> i32 {
    match result {
        Ok(()) => run::exit::PASSED,
        Err(e) => run::exit_code_of(&e),
    }
}
