//! Third-party ECS implementations as conformance targets: installed once, started on a free
//! loopback port, and stopped by process id when the run ends, fails or is interrupted.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::util;

pub const MOTO_VERSION: &str = "5.2.5";
/// LocalStack's fork of moto, on PyPI as moto-ext.
pub const MOTO_EXT_VERSION: &str = "5.1.54";
pub const MINISTACK_VERSION: &str = "1.5.33";
pub const FAKECLOUD_VERSION: &str = "0.51.0";

/// The pinned version of a third-party target.
pub fn version_of(target: &str) -> Option<&'static str> {
    match target {
        "moto" => Some(MOTO_VERSION),
        "moto-ext" => Some(MOTO_EXT_VERSION),
        "ministack" => Some(MINISTACK_VERSION),
        "fakecloud" => Some(FAKECLOUD_VERSION),
        _ => None,
    }
}

/// A running third-party server; dropping it stops the process.
pub struct Server {
    pub name: &'static str,
    pub version: &'static str,
    pub url: String,
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn log(&self) -> &PathBuf {
        &self.log
    }
}

/// A cache directory that survives `cargo clean`: `$XDG_CACHE_HOME` or `~/.cache`.
pub fn cache_dir() -> Result<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .context("neither XDG_CACHE_HOME nor HOME is set")?;
    let dir = base.join("ecs-taskset-conformance");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    Ok(listener.local_addr()?.port())
}

fn wait_until_listening(
    port: u16,
    child: &mut Child,
    name: &str,
    log: &std::path::Path,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(
            &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            Duration::from_millis(200),
        )
        .is_ok()
        {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!(
                "{name} exited with {status} before it listened; see {}",
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!(
        "{name} did not listen on 127.0.0.1:{port} within 60 s; see {}",
        log.display()
    )
}

/// Starts `cmd` (which listens on `port`), logging to `target/xtask/targets/`, and waits until
/// it listens.
pub(crate) fn spawn(
    name: &'static str,
    version: &'static str,
    mut cmd: Command,
    port: u16,
) -> Result<Server> {
    let log = util::scratch_dir("targets")?.join(format!("{name}-{version}.log"));
    let out = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
    let err = out.try_clone()?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .with_context(|| format!("starting {}", util::describe(&cmd)))?;
    if let Err(e) = wait_until_listening(port, &mut child, name, &log) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    Ok(Server {
        name,
        version,
        url: format!("http://127.0.0.1:{port}"),
        child,
        log,
    })
}

/// moto, or moto-ext (LocalStack's fork, which runs as `moto_server` like moto), each from a
/// venv of its own under `target/xtask/`, created once.
fn start_moto_server(name: &'static str, package: &str, version: &'static str) -> Result<Server> {
    let dir = util::python_venv(
        &format!("venv-{name}-{version}"),
        &format!("{package}[server]=={version}"),
    )?;
    let port = free_port()?;
    let mut cmd = Command::new(dir.join("bin/moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    spawn(name, version, cmd, port)
}

pub fn start_moto() -> Result<Server> {
    start_moto_server("moto", "moto", MOTO_VERSION)
}

pub fn start_moto_ext() -> Result<Server> {
    start_moto_server("moto-ext", "moto-ext", MOTO_EXT_VERSION)
}

/// ministack serves every service on one port: `GATEWAY_PORT`, bound to `BIND_HOST`. Its PID
/// file and state go to a scratch directory of this run's own.
pub fn start_ministack() -> Result<Server> {
    let dir = util::python_venv(
        &format!("venv-ministack-{MINISTACK_VERSION}"),
        &format!("ministack=={MINISTACK_VERSION}"),
    )?;
    let port = free_port()?;
    let scratch = util::scratch_dir("targets")?.join(format!("ministack-{port}"));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let mut cmd = Command::new(dir.join("bin/ministack"));
    cmd.env("GATEWAY_PORT", port.to_string())
        .env("BIND_HOST", "127.0.0.1")
        .env("TMPDIR", &scratch)
        .current_dir(&scratch);
    spawn("ministack", MINISTACK_VERSION, cmd, port)
}

/// How a third-party target is installed here, as its reports and published results say.
pub fn installed_as(name: &str) -> Option<String> {
    Some(match name {
        "moto" => format!("pip install moto[server]=={MOTO_VERSION}"),
        "moto-ext" => format!("pip install moto-ext[server]=={MOTO_EXT_VERSION}"),
        "ministack" => format!("pip install ministack=={MINISTACK_VERSION}"),
        "fakecloud" => format!("cargo install fakecloud --version {FAKECLOUD_VERSION}"),
        _ => return None,
    })
}

/// Where the fakecloud binary is cached (outside `target/`, so `cargo clean` keeps it).
pub fn fakecloud_binary() -> Result<PathBuf> {
    Ok(cache_dir()?
        .join(format!("fakecloud-{FAKECLOUD_VERSION}"))
        .join("bin/fakecloud"))
}

/// Builds fakecloud once with `cargo install` (AGPL: a separate binary, never linked).
fn fakecloud_install() -> Result<PathBuf> {
    let bin = fakecloud_binary()?;
    let root = bin
        .parent()
        .and_then(|p| p.parent())
        .context("fakecloud cache path")?
        .to_path_buf();
    if !bin.exists() {
        eprintln!(
            "building fakecloud {FAKECLOUD_VERSION} into {} (once; about 36 minutes on 2 cores, cargo prints its progress below)",
            root.display()
        );
    }
    util::cargo_install("fakecloud", FAKECLOUD_VERSION, "fakecloud", &root)
}

pub fn start_fakecloud() -> Result<Server> {
    let bin = fakecloud_install()?;
    let port = free_port()?;
    let mut cmd = Command::new(bin);
    cmd.args(["--addr", &format!("127.0.0.1:{port}")])
        // No container backend: EXTERNAL services must not try to start Docker tasks.
        .env("FAKECLOUD_CONTAINER_CLI", "/nonexistent/container-cli");
    spawn("fakecloud", FAKECLOUD_VERSION, cmd, port)
}
