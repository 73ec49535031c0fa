//! What the client's examples share: `--endpoint URL [--wait-seconds N]` and a client for that
//! endpoint, with the environment's credentials and region, or dummy ones and `us-east-1`
//! against a local endpoint when none are set.

use std::collections::HashMap;
use std::time::Duration;

use ecs_client::{Config, EcsClient};

/// The endpoint and how long to wait for anything to settle.
pub struct Args {
    pub endpoint: String,
    pub wait: Duration,
}

/// Reads `--endpoint URL [--wait-seconds N]`; prints `usage` and exits 2 on anything else.
pub fn args(usage: &str) -> Args {
    let fail = || -> ! {
        eprintln!("usage: {usage} --endpoint URL [--wait-seconds N]");
        std::process::exit(2)
    };
    let mut endpoint = None;
    let mut wait = Duration::from_secs(120);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--endpoint" => endpoint = Some(args.next().unwrap_or_else(|| fail())),
            "--wait-seconds" => {
                wait = Duration::from_secs(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or_else(|| fail()),
                )
            }
            _ => fail(),
        }
    }
    Args {
        endpoint: endpoint.unwrap_or_else(|| fail()),
        wait,
    }
}

/// A client for `endpoint`.
pub fn client(endpoint: &str) -> Result<EcsClient, Box<dyn std::error::Error>> {
    let mut env: HashMap<String, String> = std::env::vars().collect();
    env.entry("AWS_REGION".into())
        .or_insert_with(|| "us-east-1".into());
    if !env.contains_key("AWS_ACCESS_KEY_ID") && !env.contains_key("AWS_PROFILE") {
        env.insert("AWS_ACCESS_KEY_ID".into(), "AKIDEXAMPLE".into());
        env.insert(
            "AWS_SECRET_ACCESS_KEY".into(),
            "local-emulator-secret".into(),
        );
    }
    Ok(EcsClient::new(
        Config::builder().env(env).endpoint(endpoint).build()?,
    )?)
}

/// A suffix no earlier run used: milliseconds since the epoch, in hex.
pub fn suffix() -> Result<String, Box<dyn std::error::Error>> {
    Ok(format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    ))
}
