//! `ecs-conformance serve`: the reference emulator in the foreground until Ctrl-C (or, when
//! asked, until standard input closes). The first line on standard output names its URL, so a
//! script can start it on port 0 and read the port; the log of requests goes to standard error.

use anyhow::{Context, Result};
use ecs_emulator::{Emulator, TimingProfile};

/// What `serve` was asked for.
pub struct Options {
    pub port: u16,
    pub timing: TimingProfile,
    pub time_scale: f64,
    pub region: String,
    pub exit_when_stdin_closes: bool,
}

pub fn run(options: Options) -> Result<()> {
    let Options {
        port,
        timing,
        time_scale,
        region,
        exit_when_stdin_closes,
    } = options;
    tracing_subscriber::fmt()
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    runtime.block_on(async {
        let emulator = Emulator::builder()
            .port(port)
            .region(&region)
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
        tokio::select! {
            signal = tokio::signal::ctrl_c() => signal.context("waiting for Ctrl-C")?,
            () = stdin_closed(), if exit_when_stdin_closes => {}
        }
        emulator.shutdown().await;
        Ok(())
    })
}

/// Resolves once standard input reaches its end (read on a thread of its own: nothing is
/// expected on it, and whatever comes is dropped).
async fn stdin_closed() {
    let (closed, wait) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = [0u8; 256];
        let mut stdin = std::io::stdin().lock();
        loop {
            match std::io::Read::read(&mut stdin, &mut sink) {
                Ok(0) => break,
                Err(e) if e.kind() != std::io::ErrorKind::Interrupted => break,
                _ => {}
            }
        }
        let _ = closed.send(());
    });
    let _ = wait.await;
}
