//! `quotabench fake`: runs the fake standalone on the hyper server until Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::config::FakeConfig;
use super::faults::{catalogue, FaultSet};
use super::server::serve;
use super::service::Fake;
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
    let fake = Arc::new(Fake::new(config, faults));
    let running = serve(fake, args.listen)
        .await
        .map_err(|e| Error::Usage(format!("--listen {}: {e}", args.listen)))?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "quotabench fake listening on {}", running.url);
        let _ = out.flush();
    }
    let _ = tokio::signal::ctrl_c().await;
    running.shutdown().await;
    // Ctrl-C is how a server is meant to stop: a clean exit, not an interruption.
    Ok(exit::PASS)
}
