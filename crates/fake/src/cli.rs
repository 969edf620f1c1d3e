//! `quotabench fake`: runs the fake standalone on the hyper server until Ctrl-C or
//! SIGTERM (both a clean stop, exit 0).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::config::FakeConfig;
use super::faults::{catalogue, FaultSet};
use super::server::serve;
use super::service::{AdminAccess, Fake};
use crate::error::{exit, Error};

/// Arguments of `quotabench fake`.
#[derive(Debug, Clone, clap::Args)]
pub struct FakeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Mocks file (quota tables, clock, rejection shape); default: the seed tables.
    #[arg(long, value_name = "mocks/FILE.yaml")]
    pub config: Option<PathBuf>,
    /// Seed a fault, NAME or NAME=PARAM (repeatable); see --list-faults.
    #[arg(long = "fault", value_name = "NAME[=PARAM]")]
    pub faults: Vec<String>,
    /// Print the fault catalogue, one `NAME<TAB>RULE-ID` line per fault, and exit.
    #[arg(long)]
    pub list_faults: bool,
    /// Require `Authorization: Bearer TOKEN` on /__admin. Without it the admin API is
    /// open on a loopback --listen and off (403) on any other address.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "QUOTABENCH_FAKE_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
}

/// The warning `quotabench fake` prints on stderr when it listens beyond loopback, or
/// `None` on loopback.
pub fn exposure_warning(listen: &SocketAddr, admin: &AdminAccess) -> Option<String> {
    if listen.ip().is_loopback() {
        return None;
    }
    let admin = match admin {
        AdminAccess::Off => "the admin API (/__admin: reset, clock, limits) is OFF; give --admin-token TOKEN to use it",
        AdminAccess::Token(_) => "the admin API (/__admin) needs Authorization: Bearer TOKEN",
        AdminAccess::Open => "the admin API (/__admin) is OPEN to anyone who can connect",
    };
    Some(format!(
        "WARNING: quotabench fake listens on {listen}, beyond loopback: anyone who can reach this machine can use the fake; {admin}"
    ))
}

/// Runs the fake; returns the exit code.
pub async fn run(args: FakeArgs) -> Result<i32, Error> {
    let mut out = std::io::stdout().lock();
    if args.list_faults {
        for f in catalogue() {
            let _ = writeln!(out, "{}\t{}", f.name, f.rule_id);
        }
        let _ = out.flush();
        return Ok(exit::PASS);
    }
    drop(out);
    let config = match &args.config {
        Some(p) => FakeConfig::load(p)?,
        None => FakeConfig::default(),
    };
    let faults = FaultSet::parse(&args.faults)?;
    if args
        .admin_token
        .as_deref()
        .is_some_and(|t| t.trim().is_empty())
    {
        return Err(Error::Usage(
            "--admin-token is empty; give a token, or leave the flag out".into(),
        ));
    }
    let admin = AdminAccess::for_listen(&args.listen, args.admin_token.as_deref());
    // Installed before the port is printed: a SIGTERM sent by a script that read the
    // port is always a clean stop, never the default kill.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::Usage(format!("cannot watch SIGTERM: {e}")))?;
    let fake = Arc::new(Fake::new(config, faults).with_admin(admin.clone()));
    let running = serve(fake, args.listen)
        .await
        .map_err(|e| Error::Usage(format!("--listen {}: {e}", args.listen)))?;
    if let Some(w) = exposure_warning(&running.addr, &admin) {
        eprintln!("{w}");
    }
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "quotabench fake listening on {}", running.url);
        let _ = out.flush();
    }
    let why = tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    };
    running.shutdown().await;
    eprintln!("quotabench fake: stopped by {why}");
    // Ctrl-C and SIGTERM are how a server is meant to stop: a clean exit (0), not an
    // interruption.
    Ok(exit::PASS)
}
