//! Record mode against the reference emulator: the recorded fixtures replay green, recording
//! again changes nothing, and nothing account- or run-specific is written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use ecs_client::{Config, EcsClient, RetryConfig};
use ecs_emulator::Emulator;
use ecs_harness::record::{record_case, write_back};
use ecs_harness::{Catalog, RunOptions, Status};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

async fn record_once(
    dir: &Path,
    client: &EcsClient,
    catalog: &Catalog,
    check: bool,
) -> (Vec<String>, usize) {
    let cases = ecs_harness::load_dir(dir, catalog).unwrap();
    let results = ecs_harness::run(
        client,
        cases.clone(),
        &RunOptions {
            jobs: 16,
            ..RunOptions::default()
        },
        "rec",
    )
    .await
    .unwrap();
    let failing: Vec<String> = results
        .iter()
        .filter(|r| r.status != Status::Passed)
        .map(|r| {
            let why: Vec<String> = r
                .failures()
                .map(|(s, f)| {
                    format!(
                        "{} {} expected {} got {}",
                        s.label, f.path, f.expected, f.actual
                    )
                })
                .collect();
            format!("{} {:?}", r.id, why)
        })
        .collect();
    assert!(
        failing.is_empty(),
        "the reference passes before and after recording: {failing:#?}"
    );
    let recorded: Vec<_> = cases
        .iter()
        .zip(&results)
        .map(|(c, r)| record_case(c, r, &r.unique, "reference", "2026-11-22"))
        .collect();
    let written = write_back(dir, &recorded, check).unwrap();
    assert!(
        written
            .not_written
            .iter()
            .any(|l| l.contains("rounding.d250-s64.4 is a row of a table")),
        "a table row's expectations are its parameters and are never overwritten: {:?}",
        written.not_written
    );
    (written.changed, recorded.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_fixtures_replay_and_recording_is_idempotent() {
    let dir = std::env::temp_dir().join(format!("harness-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root().join("fixtures"), &dir);
    let catalog = Catalog::load(&root().join("conformance/rules.json")).unwrap();
    let emulator = Emulator::builder()
        .profile(ecs_emulator::TimingProfile::Fast, 1.0)
        .account_id("444455556666")
        .start()
        .await
        .unwrap();
    let config = Config::local_builder(emulator.url())
        .region("eu-central-1")
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let client = EcsClient::new(config).unwrap();

    let (changed, n) = record_once(&dir, &client, &catalog, false).await;
    assert!(n >= 150 && !changed.is_empty());
    for file in &changed {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(
            !text.contains("444455556666"),
            "{file} keeps the account id"
        );
        assert!(!text.contains("-rec-"), "{file} keeps a run-specific name");
        assert!(
            text.contains("\"kind\": \"recorded\""),
            "{file} has no recorded provenance"
        );
    }
    // Replay (inside record_once) passes, and a second recording changes nothing.
    let (changed, _) = record_once(&dir, &client, &catalog, true).await;
    assert_eq!(changed, Vec::<String>::new());
    std::fs::remove_dir_all(&dir).unwrap();
    emulator.shutdown().await;
}
