//! The quotabench command line: parse arguments, call the library, map to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use quotabench::error::{exit, Error};
use quotabench::run::{self, RunOptions};

/// Load-testing and conformance harness for quota APIs.
///
/// Exit codes: 0 every check passed; 1 a rule or threshold failed; 2 usage or
/// configuration error; 3 nothing failed but some verdict is unknown; 130 interrupted.
#[derive(Parser)]
#[command(name = "quotabench", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios against a target (default: the bundled fake, in-process).
    Run {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Base URL of the implementation under test (overrides the scenario's).
        #[arg(long, value_name = "URL")]
        target: Option<String>,
        /// Output folder; each run writes <out>/<scenario>-<UTC timestamp>/.
        #[arg(long, value_name = "DIR", default_value = "reports")]
        out: PathBuf,
        /// Switch on a fault in the bundled fake (NAME or NAME=PARAM; repeatable).
        #[arg(long = "fault", value_name = "NAME")]
        faults: Vec<String>,
        /// Seed for the operation mix (default: from the clock).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Load and check scenario files; sends nothing.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of the scenario format (for yaml-language-server).
    Schema,
    /// Re-judge a saved history.jsonl offline.
    Check {
        /// A history.jsonl from a run folder.
        history: PathBuf,
        /// Judge only the rules this scenario selects.
        #[arg(long, value_name = "FILE")]
        scenario: Option<PathBuf>,
    },
    /// Compare two runs: percentiles and throughput side by side with ratios; exit 1
    /// when B regresses past --max-regression (a CI performance gate).
    Compare {
        /// The baseline run folder (or its summary.json).
        run_a: PathBuf,
        /// The run to judge against it.
        run_b: PathBuf,
        /// Fail when p50/p90/p99 grow, or throughput drops, by more than this (`10%`).
        #[arg(long, value_name = "PERCENT", value_parser = quotabench::compare::parse_bound)]
        max_regression: Option<f64>,
        /// Gate only operations that ran at least this many times in both runs (fewer
        /// are shown, not gated: their percentiles are a handful of samples).
        #[arg(long, value_name = "N", default_value_t = quotabench::compare::DEFAULT_MIN_COUNT)]
        min_count: u64,
        /// Fail when B's error rate exceeds A's by more than this many percentage points
        /// (`1%` or `1pp`, the default).
        #[arg(long, value_name = "POINTS", value_parser = quotabench::compare::parse_points)]
        max_error_increase: Option<f64>,
        /// Compare runs of different scenarios (refused otherwise).
        #[arg(long)]
        allow_different: bool,
    },
    /// Target profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Serve the bundled fake on loopback until stopped.
    Fake(quotabench_fake::cli::FakeArgs),
}

#[derive(Subcommand)]
enum ProfileCommand {
    /// Print a built-in profile (a starting point for your own).
    Show {
        /// Profile name.
        name: String,
    },
    /// List the built-in profiles.
    List,
    /// Dry-run a profile: one request of each kind, how each answer was classified and
    /// what was read; exits 1 if any answer could not be classified or read.
    Check {
        /// A built-in profile name or a profile YAML file.
        profile: String,
        /// Base URL of the implementation (default: the bundled fake, in-process).
        #[arg(long, value_name = "URL")]
        target: Option<String>,
        /// Tenant (organization) to use.
        #[arg(long, default_value = quotabench::run::DEFAULT_TENANT)]
        tenant: String,
        /// A header to send, `NAME: VALUE` (repeatable; values may be ${VAR}s).
        #[arg(long = "header", short = 'H', value_name = "HEADER")]
        headers: Vec<String>,
        /// Also call the clock hook (advance_clock).
        #[arg(long)]
        with_clock: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        builder.worker_threads(worker_threads(&cli.command));
    }
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("quotabench: cannot start the async runtime: {e}");
            return ExitCode::from(exit::USAGE as u8);
        }
    };
    let code = rt.block_on(async {
        match dispatch(cli.command).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("{}", quotabench::redact::redact(&format!("error: {e}")));
                e.exit_code()
            }
        }
    });
    ExitCode::from(code as u8)
}

/// Worker threads of the runtime (TOKIO_WORKER_THREADS overrides). `fake` is a server
/// and `run` against another machine has nothing to share the cores with: every core.
/// Everything else, and `run` against this machine (the bundled fake, a local server),
/// takes half the cores, at least one: the target needs the rest, and every request
/// wakes a task on whichever thread holds its connection — on 2 cores beside nginx, one
/// thread drove 10% more requests/s than two, with 15% less CPU per request.
fn worker_threads(cmd: &Command) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let all = match cmd {
        Command::Fake(_) => true,
        Command::Run {
            scenarios, target, ..
        } => quotabench::run::drives_remote_target(scenarios, target.as_deref()),
        _ => false,
    };
    if all {
        cores
    } else {
        (cores / 2).max(1)
    }
}

async fn dispatch(cmd: Command) -> Result<i32, Error> {
    match cmd {
        Command::Run {
            scenarios,
            target,
            out,
            faults,
            seed,
        } => {
            let stop = CancellationToken::new();
            watch_interrupt(stop.clone());
            let opts = RunOptions {
                target,
                out,
                faults,
                seed,
                print: true,
            };
            let mut worst = exit::PASS;
            for s in &scenarios {
                let r = run::run_one(s, &opts, stop.clone()).await?;
                worst = worse(worst, r.code);
                if r.code == exit::INTERRUPTED {
                    break;
                }
            }
            Ok(worst)
        }
        Command::Validate { files } => {
            let mut code = exit::PASS;
            for f in &files {
                match run::prepare(f) {
                    Ok(_) => println!("ok {}", f.display()),
                    Err(e) => {
                        eprintln!("{e}");
                        code = exit::USAGE;
                    }
                }
            }
            Ok(code)
        }
        Command::Schema => {
            let schema = quotabench::scenario::schema();
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).unwrap_or_default()
            );
            Ok(exit::PASS)
        }
        Command::Check { history, scenario } => {
            let checks = match scenario {
                Some(p) => quotabench::scenario::load(&p)?.scenario.checks,
                None => Vec::new(),
            };
            let h = quotabench::history::load(&history)?;
            let rules = quotabench::check::judge(&h, &checks);
            for r in &rules {
                println!(
                    "{:<8} {:<34} {}",
                    r.verdict.as_str().to_uppercase(),
                    r.id,
                    r.witness.as_deref().unwrap_or("")
                );
            }
            let v = quotabench::vocab::Verdict::overall(rules.iter().map(|r| r.gating()));
            println!("verdict: {}", v.as_str().to_uppercase());
            Ok(run::code_for(v))
        }
        Command::Profile(ProfileCommand::Show { name }) => {
            match quotabench::api::builtin::source(&name) {
                Some(text) => {
                    print!("{text}");
                    Ok(exit::PASS)
                }
                None => Err(Error::Usage(format!(
                    "no built-in profile {name:?}; built-in profiles: {}",
                    quotabench::api::builtin::names().join(", ")
                ))),
            }
        }
        Command::Profile(ProfileCommand::Check {
            profile,
            target,
            tenant,
            headers,
            with_clock,
        }) => {
            quotabench::run::profile_check(
                &profile,
                target.as_deref(),
                &tenant,
                &headers,
                with_clock,
            )
            .await
        }
        Command::Profile(ProfileCommand::List) => {
            for n in quotabench::api::builtin::names() {
                println!("{n}");
            }
            Ok(exit::PASS)
        }
        Command::Compare {
            run_a,
            run_b,
            max_regression,
            min_count,
            max_error_increase,
            allow_different,
        } => {
            let gate = quotabench::compare::Gate {
                max_error_increase: max_error_increase
                    .unwrap_or(quotabench::compare::DEFAULT_MAX_ERROR_INCREASE),
                allow_different,
            };
            let (table, code) =
                quotabench::compare::compare_with(&run_a, &run_b, max_regression, min_count, gate)?;
            print!("{table}");
            Ok(code)
        }
        Command::Fake(args) => Ok(quotabench_fake::cli::run(args).await?),
    }
}

/// Interrupted beats failed beats unknown beats pass.
fn worse(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        exit::INTERRUPTED => 5,
        exit::USAGE => 4,
        exit::FAIL => 3,
        exit::UNKNOWN => 2,
        _ => 1,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// First Ctrl-C: stop gracefully and write the partial report. Second: leave now.
fn watch_interrupt(stop: CancellationToken) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted: finishing in-flight requests and writing the partial report (Ctrl-C again to quit now)");
            stop.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(exit::INTERRUPTED);
            }
        }
    });
}
