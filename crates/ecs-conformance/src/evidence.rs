//! `ecs-conformance evidence`: replays every AWS answer of `conformance/evidence/` through the
//! suite's answer checks and the rules each item claims. The suite may never flag a real AWS
//! answer; the last line says how many answers were replayed and how many were flagged.

use std::path::Path;

use anyhow::{bail, Context, Result};
use ecs_emulator::Emulator;
use ecs_harness::evidence;
use ecs_harness::replay::{self, ItemReplay, ReplayOptions};
use ecs_harness::report::TargetInfo;

use crate::bundle::Bundle;
use crate::run::{client_for, prepare_reference_or, TimingChoice, Usage};

/// Replays the embedded corpus, or the items of `dir`; fails when the suite flags an answer.
pub fn run(dir: Option<&Path>, bundle: &Bundle) -> Result<()> {
    let catalog = bundle.catalog()?;
    let label = dir.map_or_else(
        || "the embedded evidence".to_owned(),
        |d| d.display().to_string(),
    );
    let items = match evidence::load_sources(crate::bundle::evidence(dir)?, &catalog) {
        Ok(items) => items,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            bail!("{} problem(s) in {label}", errors.len());
        }
    };
    if items.is_empty() {
        bail!("{label} holds no evidence item");
    }
    let mut flagged = 0;
    let mut answers = 0;
    for item in &items {
        let flags = evidence::check_item(item);
        let n = evidence::answers(item);
        answers += n;
        println!(
            "{:45} {:3} answers  {} rule(s) claimed  {}",
            item.id,
            n,
            item.rules.len(),
            if flags.is_empty() { "ok" } else { "FLAGGED" }
        );
        for f in &flags {
            println!("  {f}");
        }
        flagged += flags.len();
    }
    println!(
        "{} evidence items, {answers} answers, {flagged} flagged",
        items.len()
    );
    if flagged > 0 {
        bail!("the suite flags {flagged} place(s) where AWS itself answered: the rules or checks are wrong, not AWS");
    }
    Ok(())
}

/// The default time scale of a replay against the reference.
pub const REPLAY_TIME_SCALE: f64 = 0.1;

/// `evidence --replay`: where and how to replay.
#[derive(clap::Args, Debug, Clone)]
pub struct ReplayArgs {
    /// Send AWS's recorded requests to the target and compare its answers with AWS's.
    #[arg(long)]
    pub replay: bool,
    /// Any ECS endpoint instead of the embedded reference emulator (credentials and region as
    /// for `run --endpoint`).
    #[arg(long, requires = "replay")]
    pub endpoint: Option<String>,
    /// A built-in profile or a profile file; its region is the one the replay signs for.
    #[arg(long, requires = "replay")]
    pub profile: Option<String>,
    /// The reference emulator's timing shape (the replay is in AWS's time).
    #[arg(long, default_value = "aws", requires = "replay")]
    pub timing: ecs_emulator::TimingProfile,
    /// Multiplies the corpus's times (and the reference's delays alike). The reference is
    /// replayed at 0.1 by default: the transcript's one-second steps are 100 ms apart and the
    /// recompute lands at least 20 ms from the nearest recorded answer. An endpoint is
    /// replayed in real time by default; an emulator that settles at once can be replayed
    /// faster.
    #[arg(long, requires = "replay")]
    pub time_scale: Option<f64>,
    /// Replay only the items whose id contains this text (repeatable).
    #[arg(long, requires = "replay")]
    pub filter: Vec<String>,
    /// Longest wait for one answer, in seconds.
    #[arg(long, default_value_t = 30, requires = "replay")]
    pub step_timeout_secs: u64,
    /// Items replayed at once against the reference (each on an emulator of its own).
    #[arg(long, default_value_t = 16, requires = "replay")]
    pub jobs: usize,
}

/// Replays the corpus against the reference emulator or an endpoint: exit 0 with no departure,
/// 1 with any, 2 for bad usage or items, 3 for an unreachable target. Against the reference,
/// every item gets an emulator of its own and `--jobs` items run at once; an endpoint's items
/// run one after the other, each cleaned up after.
pub fn replay(dir: Option<&Path>, bundle: &Bundle, args: &ReplayArgs) -> Result<i32> {
    let catalog = bundle.catalog()?;
    let label = dir.map_or_else(
        || "the embedded evidence".to_owned(),
        |d| d.display().to_string(),
    );
    let items =
        evidence::load_sources(crate::bundle::evidence(dir)?, &catalog).map_err(|errors| {
            for e in &errors {
                eprintln!("{e}");
            }
            Usage(format!("{} problem(s) in {label}", errors.len()))
        })?;
    let items: Vec<_> = items
        .into_iter()
        .filter(|i| args.filter.is_empty() || args.filter.iter().any(|f| i.id.contains(f)))
        .collect();
    if items.is_empty() {
        return Err(Usage(format!("no evidence item of {label} is selected")).into());
    }
    let time_scale = args.time_scale.unwrap_or(if args.endpoint.is_some() {
        1.0
    } else {
        REPLAY_TIME_SCALE
    });
    if !(time_scale.is_finite() && time_scale > 0.0) {
        return Err(Usage(format!(
            "--time-scale {time_scale} is not a positive number"
        ))
        .into());
    }
    let region = match &args.profile {
        Some(p) => crate::bundle::profile(p)?.region,
        None => None,
    };
    let timing = TimingChoice {
        profile: args.timing,
        time_scale,
    };
    let mut prepared = prepare_reference_or(
        args.endpoint.as_deref(),
        args.step_timeout_secs,
        timing,
        region.as_deref(),
    )?;
    prepared.preflight()?;
    println!(
        "replaying {} item(s) against {} {} ({})",
        items.len(),
        prepared.target.name,
        prepared.target.version,
        match &prepared.emulator {
            Some(_) => format!(
                "a fresh emulator per item, {} timing at time scale {time_scale}",
                args.timing
            ),
            None => format!("{}, time scale {time_scale}", prepared.target.endpoint),
        }
    );
    let results: Vec<Result<ItemReplay>> = if let Some(emulator) = prepared.emulator.take() {
        prepared.runtime.block_on(emulator.shutdown());
        let options = ReplayOptions {
            time_scale,
            fresh_target: true,
        };
        prepared.runtime.block_on(replay_on_references(
            &items,
            options,
            timing,
            args.step_timeout_secs,
            args.jobs.max(1),
        ))
    } else {
        let options = ReplayOptions {
            time_scale,
            fresh_target: false,
        };
        items
            .iter()
            .map(|item| {
                let mut result =
                    prepared
                        .runtime
                        .block_on(replay::replay_item(&prepared.client, item, options));
                // What could not be deleted leaves the next item an unclean target: a
                // departure, never a silent pass.
                for problem in prepared
                    .runtime
                    .block_on(replay::clean_up(&prepared.client, &result.created))
                {
                    result.departures.push(replay::Departure {
                        item: item.id.clone(),
                        call: "clean-up".into(),
                        op: "-".into(),
                        path: "/".into(),
                        message: problem,
                    });
                }
                Ok(result)
            })
            .collect()
    };
    let (mut answers, mut departures, mut not_replayed) = (0, 0, 0);
    for (item, result) in items.iter().zip(results) {
        let result = result.with_context(|| format!("replaying {}", item.id))?;
        answers += result.answers;
        not_replayed += result.not_replayed;
        departures += result.departures.len();
        println!(
            "{:50} {:3} answers  {}",
            item.id,
            result.answers,
            match result.departures.len() {
                0 => "as AWS".to_owned(),
                n => format!("{n} departure(s)"),
            }
        );
        for d in &result.departures {
            println!("  {d}");
        }
    }
    if not_replayed > 0 {
        println!(
            "{not_replayed} recorded answer(s) not replayed: their item's given state could not be made (each item has a departure above)"
        );
    }
    println!(
        "{} items, {answers} answers replayed, {departures} departures",
        items.len()
    );
    Ok(if departures == 0 {
        crate::run::exit::PASSED
    } else {
        crate::run::exit::DEPARTURES
    })
}

/// Replays each item on a reference emulator of its own, `jobs` at once; results in item order.
async fn replay_on_references(
    items: &[evidence::Item],
    options: ReplayOptions,
    timing: TimingChoice,
    step_timeout_secs: u64,
    jobs: usize,
) -> Vec<Result<ItemReplay>> {
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(jobs));
    let mut set = tokio::task::JoinSet::new();
    for (index, item) in items.iter().cloned().enumerate() {
        let permits = permits.clone();
        set.spawn(async move {
            let run = async {
                let _permit = permits.acquire().await?;
                let emulator = Emulator::builder()
                    .profile(timing.profile, timing.time_scale)
                    .start()
                    .await?;
                let target =
                    TargetInfo::new("reference", env!("CARGO_PKG_VERSION"), emulator.url());
                let client = client_for(&target, true, step_timeout_secs, None).await?;
                let result = replay::replay_item(&client, &item, options).await;
                emulator.shutdown().await;
                anyhow::Ok(result)
            };
            (index, run.await)
        });
    }
    let mut results: Vec<Option<Result<ItemReplay>>> = (0..items.len()).map(|_| None).collect();
    let mut failures = vec![];
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((index, result)) => results[index] = Some(result),
            Err(e) => failures.push(e.to_string()),
        }
    }
    // An item whose task failed has no result: it is reported in its place, never dropped.
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(anyhow::anyhow!(
                    "the replay task failed: {}",
                    failures.join("; ")
                ))
            })
        })
        .collect()
}

/// What the table of members AWS always answers says wrote it.
pub const SHAPES_GENERATOR: &str =
    "cargo xtask answer-shapes (ecs-conformance evidence --answer-shapes), from conformance/evidence/";

/// Derives the table of members AWS always answers from the corpus and writes it to `file`, or
/// with `check` fails when `file` is not what the corpus gives.
pub fn answer_shapes(dir: Option<&Path>, bundle: &Bundle, file: &Path, check: bool) -> Result<()> {
    let catalog = bundle.catalog()?;
    let items = match evidence::load_sources(crate::bundle::evidence(dir)?, &catalog) {
        Ok(items) => items,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            bail!("{} problem(s) in the evidence", errors.len());
        }
    };
    let derived =
        ecs_harness::shapes::derive(&ecs_harness::evidence::recorded(&items), SHAPES_GENERATOR);
    let table = derived.to_text();
    let members: usize = derived.operations.values().map(Vec::len).sum();
    if check {
        let current =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        if current != table {
            bail!(
                "{} is stale: the evidence gives another table (run `cargo xtask answer-shapes`)",
                file.display()
            );
        }
        println!(
            "{} is current: {members} members from {} items",
            file.display(),
            items.len()
        );
    } else {
        std::fs::write(file, &table).with_context(|| format!("writing {}", file.display()))?;
        println!(
            "wrote {}: {members} members from {} items",
            file.display(),
            items.len()
        );
    }
    Ok(())
}
