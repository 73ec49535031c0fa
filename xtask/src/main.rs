//! Project automation: `cargo xtask <command>`.
//!
//! Every command here is something a developer or CI runs by name; the README lists them.
//! xtask links none of the workspace's crates (see ARCHITECTURE.md): the generator must run
//! when the generated code does not compile, and the product commands (`conformance`,
//! `record`, `serve`, `evidence`, `coverage`) are aliases of the `ecs-conformance` binary,
//! built from this checkout.

mod bench;
mod codegen;
mod conformance;
mod fixtures;
mod fuzz;
mod model;
mod recipe;
mod targets;
mod test;
mod tidy;
mod util;
mod wheel;

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
    /// (`ecs-conformance coverage` with the seed pages and the audit of ../shared/docs).
    Coverage,
    /// Replay every AWS answer of conformance/evidence/ through the suite's checks; fails when
    /// the suite would flag one (`ecs-conformance evidence`). With `--replay [--endpoint URL]`,
    /// send AWS's recorded requests to a target and compare its answers with AWS's.
    #[command(disable_help_flag = true)]
    Evidence {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Derive the table of members AWS always answers (conformance/answer-shapes.json, the
    /// rule wire.answer-shape) from the evidence; with --check, fail when it is stale.
    AnswerShapes {
        /// Fail (without writing) when the checked-in table differs from a fresh derivation.
        #[arg(long)]
        check: bool,
    },
    /// Run Terraform's lifecycle against a target (`ecs-conformance interop`); `--target
    /// moto|moto-ext|ministack|fakecloud` installs and starts that emulator first.
    #[command(disable_help_flag = true)]
    Interop {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Lay out the fixture files canonically and rewrite the rule catalog table of
    /// conformance/README.md.
    Fixtures {
        /// Fail (without writing) when a fixture file's layout or the table is stale.
        #[arg(long)]
        check: bool,
    },
    /// The whole test pipeline CI runs: fmt, clippy, codegen --check, all tests, the suite in
    /// three timing shapes, the third-party baselines, the examples, load and fuzzing.
    Test,
    /// Run the fixture suite against an ECS implementation and report rule by rule: `ecs-
    /// conformance run`, plus --target moto|moto-ext|ministack|fakecloud (installed and started
    /// here) and --all-targets [--write-matrix]. `--help` lists the run options.
    #[command(disable_help_flag = true)]
    Conformance {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Record an endpoint's answers into fixtures/ (`ecs-conformance record --fixtures
    /// fixtures`).
    #[command(disable_help_flag = true)]
    Record {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Concurrent clients drive task-set lifecycles against the emulator, invariants checked after
    /// every operation; prints throughput, latency and peak memory (the `load` example of
    /// ecs-emulator).
    #[command(disable_help_flag = true)]
    Load {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Performance against peers (aws-sdk-ecs, boto3, moto, fakecloud, a bare hyper client):
    /// prints ratios and writes docs/performance.md.
    Bench(bench::Args),
    /// Coverage-guided fuzzing (cargo fuzz, libFuzzer) of the emulator, the client's answer
    /// parsing, the fixture loader and the matcher, seeded from the fixtures.
    Fuzz(fuzz::Args),
    /// Build the Python wheel (`pip install ecs-conformance`: the program and its pytest
    /// plugin) with maturin into target/wheels/.
    Wheel {
        /// Optimised and stripped, as published (the default is the dev build the tests use).
        #[arg(long)]
        release: bool,
        /// Then install it into a fresh venv and run the suite and the sample pytest suite
        /// from there, as `cargo xtask test` does.
        #[arg(long)]
        check: bool,
    },
    /// Run docs/ci.md's GitHub Actions job here, as written (moto and the wheel, against the
    /// committed baseline), as `cargo xtask test` does.
    CiRecipe,
    /// Run the reference ECS emulator on 127.0.0.1 (`ecs-conformance serve`).
    #[command(disable_help_flag = true)]
    Serve {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
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
        Command::Evidence { args } => exit_with(conformance::on_target("evidence", &args)),
        Command::Interop { args } => exit_with(conformance::on_target("interop", &args)),
        Command::AnswerShapes { check } => exit_with(answer_shapes(check)),
        Command::Coverage => exit_with(coverage()),
        Command::Test => test::run(),
        Command::Load { args } => load(&args),
        Command::Fuzz(args) => fuzz::run_cli(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Record { args } => {
            let fixtures = project_root().join("fixtures").display().to_string();
            let mut all = vec!["record".to_owned(), "--fixtures".to_owned(), fixtures];
            all.extend(args);
            exit_with(conformance::tool_status(&all))
        }
        Command::Conformance { args } => exit_with(conformance::run(&args)),
        Command::CiRecipe => ci_recipe(),
        Command::Wheel { release, check } => {
            let root = project_root();
            wheel::build(&root, release).and_then(|wheel| {
                if check {
                    wheel::check(&root, &wheel)?;
                }
                println!("{}", wheel.display());
                Ok(())
            })
        }
        Command::Serve { args } => {
            let mut all = vec!["serve".to_owned()];
            all.extend(args);
            exit_with(conformance::tool_status(&all))
        }
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

/// `cargo xtask ci-recipe`: the wheel built, then docs/ci.md's job run with it.
fn ci_recipe() -> anyhow::Result<()> {
    let root = project_root();
    wheel::build(&root, false)?;
    recipe::run_for_moto(&root)
}

/// Ends the process with the exit code of an `ecs-conformance` run.
fn exit_with(code: anyhow::Result<i32>) -> anyhow::Result<()> {
    let code = code?;
    std::process::exit(code)
}

/// `ecs-conformance evidence --answer-shapes conformance/answer-shapes.json [--check]`, on the
/// checkout's evidence.
pub fn answer_shapes(check: bool) -> anyhow::Result<i32> {
    let root = project_root();
    let mut args: Vec<String> = vec![
        "evidence".into(),
        "--evidence".into(),
        root.join("conformance/evidence").display().to_string(),
        "--answer-shapes".into(),
        root.join("conformance/answer-shapes.json")
            .display()
            .to_string(),
    ];
    if check {
        args.push("--check".into());
    }
    conformance::tool_status(&args)
}

/// The coverage map checked against the seed pages and the audit beside the checkout.
pub fn coverage() -> anyhow::Result<i32> {
    let shared = project_root().join("../shared/docs");
    let mut args = vec!["coverage".to_owned()];
    if shared.join("seeds").is_dir() {
        args.extend([
            "--seeds".to_owned(),
            shared.join("seeds").display().to_string(),
            "--audit".to_owned(),
            shared.join("seed-behaviours.tsv").display().to_string(),
        ]);
    } else {
        eprintln!(
            "note: {} is absent; cited lines and the audit are not checked",
            shared.display()
        );
    }
    conformance::tool_status(&args)
}

/// The load example of ecs-emulator (dev profile, as the tests build it; the earlier figures
/// were measured the same way).
pub fn load(args: &[String]) -> anyhow::Result<()> {
    let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    util::run_example("ecs-emulator", "load", &args)
}

/// The repository root (the parent of `xtask/`).
pub fn project_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().map(PathBuf::from).unwrap_or(dir)
}
