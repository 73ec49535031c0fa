//! Project automation: `cargo xtask <command>`.
//!
//! Every command here is something a developer or CI runs by name; the README lists them.

mod bench;
mod codegen;
mod conformance;
mod coverage;
mod evidence;
mod fixtures;
mod fuzz;
mod load;
mod matrix;
mod model;
mod serve;
mod targets;
mod test;
mod tidy;
mod util;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Project automation for the ECS task-set workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rebuild the shapes-only model derivative from a botocore release (needs pip and the
    /// PyPI registry).
    UpdateModel {
        /// botocore version to take `data/ecs/2014-11-13/service-2.json.gz` from.
        #[arg(long, default_value = model::DEFAULT_BOTOCORE_VERSION)]
        botocore_version: String,
        /// Use an already downloaded wheel instead of running `pip download`.
        #[arg(long)]
        wheel: Option<PathBuf>,
    },
    /// Regenerate the Rust types, validators and JSON Schemas of `crates/ecs-model`.
    Codegen {
        /// Fail (without writing) when the checked-in output differs from a fresh generation.
        #[arg(long)]
        check: bool,
    },
    /// How many of the seed pages' observable behaviours the cases check, per page and overall
    /// (from conformance/coverage.json); fails when the map is inconsistent.
    Coverage,
    /// Replay every AWS answer of conformance/evidence/ through the suite's checks; fails when
    /// the suite would flag one.
    Evidence,
    /// Lay out the fixture files canonically and rewrite the rule catalog table of
    /// conformance/README.md.
    Fixtures {
        /// Fail (without writing) when a fixture file's layout or the table is stale.
        #[arg(long)]
        check: bool,
    },
    /// The whole test pipeline CI runs: fmt, clippy, codegen --check, all tests, then the
    /// blue/green example and a boto3 lifecycle script against the reference emulator.
    Test,
    /// Run the fixture suite against an ECS implementation and report rule by rule.
    Conformance(conformance::Args),
    /// Run cases against an endpoint and write its (normalised) answers into the fixtures as
    /// their expectations, with provenance `recorded`.
    Record(conformance::RecordArgs),
    /// Concurrent clients drive task-set lifecycles against the emulator, invariants checked after
    /// every operation; prints throughput, latency and peak memory.
    Load(load::Args),
    /// Performance against peers (aws-sdk-ecs, boto3, moto, fakecloud, a bare hyper client):
    /// prints ratios and writes docs/performance.md.
    Bench(bench::Args),
    /// Coverage-guided fuzzing (cargo fuzz, libFuzzer) of the emulator, the client's answer
    /// parsing, the fixture loader and the matcher, seeded from the fixtures.
    Fuzz(fuzz::Args),
    /// Run the reference ECS emulator on 127.0.0.1, logging each request in one line.
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
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::UpdateModel {
            botocore_version,
            wheel,
        } => model::update_model(&botocore_version, wheel.as_deref()),
        Command::Codegen { check } => codegen::run(check),
        Command::Fixtures { check } => fixtures::run(check),
        Command::Evidence => evidence::run(),
        Command::Coverage => coverage::run(),
        Command::Test => test::run(),
        Command::Load(args) => load::run_cli(&args),
        Command::Fuzz(args) => fuzz::run_cli(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Record(args) => std::process::exit(
            conformance::record(&args).unwrap_or_else(|e| conformance::exit_code_of(&e)),
        ),
        Command::Conformance(args) => match conformance::run(&args) {
            Ok(code) => std::process::exit(code),
            Err(e) => Err(e),
        },
        Command::Serve {
            port,
            timing,
            time_scale,
            region,
        } => serve::run(port, timing, time_scale, &region),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

/// The repository root (the parent of `xtask/`).
pub fn project_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().map(PathBuf::from).unwrap_or(dir)
}
