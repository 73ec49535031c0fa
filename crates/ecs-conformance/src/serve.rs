//! `ecs-conformance serve`: the reference emulator in the foreground until Ctrl-C. The first line
//! on standard output names its URL, so a script can start it on port 0 and read the port.

use anyhow::{Context, Result};
use ecs_emulator::{Emulator, TimingProfile};

pub fn run(port: u16, timing: TimingProfile, time_scale: f64, region: &str) -> Result<()> {
    tracing_subscriber::fmt().with_target(false).init();
    let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    runtime.block_on(async {
        let emulator = Emulator::builder()
            .port(port)
            .region(region)
            .profile(timing, time_scale)
            // The call log is what `GET /_emulator/calls` reads; `POST /_emulator/reset`
            // empties it.
            .log_calls()
            .start()
            .await
            .with_context(|| format!("binding 127.0.0.1:{port}"))?;
        println!(
            "reference ECS emulator at {} (region {region}, timing {timing} at time scale {time_scale}); Ctrl-C stops it",
            emulator.url()
        );
        println!("  export AWS_ENDPOINT_URL_ECS={}", emulator.url());
        println!(
            "  control path (loopback only): {}/_emulator/ (reset, faults, calls, hooks, alarms, time)",
            emulator.url()
        );
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
        emulator.shutdown().await;
        Ok(())
    })
}
