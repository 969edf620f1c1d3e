//! The quotabench command line: parse arguments, call the library, map to exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};

use clap::{CommandFactory, Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use quotabench::error::{exit, Error, ExitStatus};
use quotabench::report::export::rule_lines;
use quotabench::report::export::style::{ColorChoice, Style};
use quotabench::run::{self, RunOptions};

/// Load-testing and conformance harness for quota APIs.
///
/// Exit codes: 0 every check passed; 1 a rule or threshold failed; 2 usage or
/// configuration error; 3 nothing failed but some verdict is unknown; 130 interrupted
/// (SIGINT), 143 terminated (SIGTERM), 129 hung up (SIGHUP).
#[derive(Parser)]
#[command(name = "quotabench", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colour verdicts on stdout: auto (on a terminal, unless NO_COLOR is set), always,
    /// never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Print only what did not pass, the counts and the verdict: no passing rules, no
    /// latency table, no progress.
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
}

// Parsed once when the process starts: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
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
        /// Overall deadline (`30m`, `90s`): a stuck run stops here with a partial report
        /// and exit 3. Default: twice the scenario's planned time plus 5 minutes.
        #[arg(long, value_name = "DURATION", value_parser = parse_max_duration)]
        max_duration: Option<std::time::Duration>,
        /// Every load phase (or the --phase) runs this long (`1m30s`), replacing its
        /// `duration` and `operations` bound. Ramps of stages keep their own length.
        #[arg(long, value_name = "DURATION", value_parser = parse_span)]
        duration: Option<quotabench::vocab::units::Span>,
        /// Every open-model phase with a constant `rate:` (or the --phase) arrives at
        /// this rate (`500/s`).
        #[arg(long, value_name = "RATE", value_parser = parse_rate)]
        rate: Option<quotabench::vocab::units::Rate>,
        /// Every closed-model phase (or the --phase) runs this many virtual users.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        concurrency: Option<u32>,
        /// Apply --duration/--rate/--concurrency to this phase only.
        #[arg(long, value_name = "NAME")]
        phase: Option<String>,
        /// Set a scenario variable: `${KEY}` anywhere in the scenario reads VALUE
        /// (before the environment). Repeatable.
        #[arg(long = "env", short = 'e', value_name = "KEY=VALUE", value_parser = parse_var)]
        vars: Vec<(String, String)>,
        /// Serve live Prometheus (OpenMetrics text) metrics at http://ADDR/metrics while
        /// the run lasts: operations by outcome, latency histograms, in-flight, dropped
        /// arrivals, phase. An IP and port: loopback (127.0.0.1:9464), or another IP
        /// (0.0.0.0:9464) with a warning; host names are refused (docs/metrics.md).
        #[arg(long, value_name = "ADDR", value_parser = quotabench::live::parse_listen)]
        metrics_listen: Option<quotabench::live::Listen>,
        #[command(flatten)]
        net: NetArgs,
        /// Run shard K of N: this process sends its share of the work (rates and
        /// operation counts divided, probes on shard 1 only) to a shared --target; merge
        /// the N run folders with `quotabench merge`. Without it: env QB_SHARD (`K/N`),
        /// else JOB_COMPLETION_INDEX (0-based, a Kubernetes Indexed Job) with QB_SHARDS.
        #[arg(long, value_name = "K/N", value_parser = parse_shard)]
        shard: Option<quotabench::scenario::shard::Shard>,
        /// Start sending at this instant (RFC 3339, `2026-12-02T03:00:00Z`): shards given
        /// the same instant start together. Refused more than 1 s past or 24 h ahead.
        #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
        start_at: Option<jiff::Timestamp>,
        /// How far this machine's clock may be from the other shards' (`50ms` with NTP);
        /// its offset is then taken as 0. Without it a shard estimates its offset from
        /// the target's `Date` header (± 0.5 s and half the round trip).
        #[arg(long, value_name = "DURATION", value_parser = parse_uncertainty)]
        clock_uncertainty: Option<std::time::Duration>,
    },
    /// Merge the run folders of `run --shard K/N` into one run judged as a whole: one
    /// history in time order, histograms added, every rule and threshold over the
    /// union. Exit codes as `run`.
    Merge {
        /// The N shard run folders.
        #[arg(required = true, value_name = "RUN-DIR")]
        runs: Vec<PathBuf>,
        /// Folder the merged run folder is written into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Load and check scenario files; sends nothing.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of the scenario format (for yaml-language-server).
    Schema,
    /// Print a shell completion script: `quotabench completions bash > /etc/bash_completion.d/quotabench`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `quotabench man > quotabench.1; man ./quotabench.1`.
    Man,
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
        /// Fail when p50/p90/p95/p99 grow, or throughput drops, by more than this (`10%`).
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
        #[command(flatten)]
        net: NetArgs,
    },
}

/// TLS trust and proxies (docs/scenarios.md, "TLS and proxies"); each replaces the
/// scenario's `target:` field of the same name.
#[derive(clap::Args)]
struct NetArgs {
    /// Trust the CA certificates of this PEM bundle too (a private CA), besides the
    /// platform's roots (SSL_CERT_FILE / SSL_CERT_DIR when set).
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Present this client certificate (PEM) when the server asks (mutual TLS); needs
    /// --client-key.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// The private key (PEM) of --client-cert.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// Accept any server certificate: no verification (a test server only). Said in
    /// every report.
    #[arg(long)]
    insecure: bool,
    /// Send every request through this proxy (`http://[user:password@]host:port`),
    /// whatever HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY say.
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    proxy: Option<String>,
    /// Go direct, whatever the proxy environment variables say.
    #[arg(long)]
    no_proxy: bool,
}

impl NetArgs {
    fn options(self) -> quotabench::run::NetOptions {
        use quotabench::api::ProxySetting;
        quotabench::run::NetOptions {
            tls: quotabench::api::TlsSettings {
                ca_cert: self.ca_cert,
                client_cert: self.client_cert,
                client_key: self.client_key,
                insecure: self.insecure,
            },
            proxy: match (self.proxy, self.no_proxy) {
                (Some(u), _) => Some(ProxySetting::Url(u)),
                (None, true) => Some(ProxySetting::Off),
                (None, false) => None,
            },
        }
    }
}

fn main() -> ExitCode {
    quiet_broken_pipe();
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
    let status = rt.block_on(async {
        let style = Style::for_stdout(cli.color, cli.quiet);
        match dispatch(cli.command, style).await {
            Ok(status) => status,
            Err(e) => {
                eprintln!("{}", quotabench::redact::redact(&format!("error: {e}")));
                ExitStatus::from_code(e.exit_code())
            }
        }
    });
    ExitCode::from(status.code() as u8)
}

/// Writes command output to stdout. A closed pipe (`quotabench schema | head -1`) is
/// not an error: the reader has all it wants, so the command ends quietly with exit 0,
/// as ripgrep does. Any other failed write is reported (exit 2).
fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(exit::PASS);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(exit::USAGE);
    }
}

/// `println!` in the library (a run's terminal summary) panics on a closed stdout;
/// that panic is a closed pipe, not a bug: end quietly with exit 0 like [`emit`]. Every
/// other panic keeps the default report.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(exit::PASS);
        }
        default(info);
    }));
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

async fn dispatch(cmd: Command, style: Style) -> Result<ExitStatus, Error> {
    match cmd {
        Command::Run {
            scenarios,
            target,
            out,
            faults,
            seed,
            max_duration,
            duration,
            rate,
            concurrency,
            phase,
            vars,
            metrics_listen,
            net,
            shard,
            start_at,
            clock_uncertainty,
        } => {
            let shard = match shard {
                Some(k) => Some(k),
                None => quotabench::scenario::shard::Shard::from_env(|k| std::env::var(k).ok())
                    .map_err(Error::Usage)?,
            };
            quotabench::scenario::set_variables(vars.into_iter().collect());
            let stop = CancellationToken::new();
            watch_signals(stop.clone());
            if let Some(t) = &target {
                quotabench::redact::register_url(t, &[]);
            }
            if let Some(p) = &net.proxy {
                quotabench::redact::register_url(&quotabench::api::proxy::with_scheme(p), &[]);
            }
            let opts = RunOptions {
                net: net.options(),
                target,
                out,
                faults,
                seed,
                print: true,
                style,
                max_duration,
                metrics_listen,
                shard,
                start_at,
                clock_uncertainty,
                overrides: quotabench::scenario::LoadOverrides {
                    duration,
                    rate,
                    concurrency,
                    phase,
                },
            };
            let mut worst = ExitStatus::Pass;
            for s in &scenarios {
                let r = run::run_one(s, &opts, stop.clone()).await?;
                let mut status = ExitStatus::from_code(r.code);
                if status.is_signal() {
                    status = stopped_by();
                }
                worst = worst.max(status);
                if status.is_signal() {
                    break;
                }
            }
            Ok(worst)
        }
        Command::Merge { runs, out } => {
            let r = quotabench::merge::merge(&runs, &out, Some(style))?;
            Ok(ExitStatus::from_code(r.code))
        }
        Command::Validate { files } => {
            let mut status = ExitStatus::Pass;
            for f in &files {
                match run::prepare(f) {
                    Ok(_) => emit(&format!("ok {}\n", f.display())),
                    Err(e) => {
                        eprintln!("{}", quotabench::redact::redact(&e.to_string()));
                        status = ExitStatus::Usage;
                    }
                }
            }
            Ok(status)
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "quotabench", &mut out);
            emit(&String::from_utf8_lossy(&out));
            Ok(ExitStatus::Pass)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| Error::Usage(format!("cannot render the man page: {e}")))?;
            emit(&String::from_utf8_lossy(&out));
            Ok(ExitStatus::Pass)
        }
        Command::Schema => {
            emit(quotabench::scenario::schema());
            Ok(ExitStatus::Pass)
        }
        Command::Check { history, scenario } => {
            let checks = match scenario {
                Some(p) => quotabench::scenario::load(&p)?.scenario.checks,
                None => quotabench::scenario::Checks::All,
            };
            let Some(ids) = checks.ids() else {
                return Err(Error::Usage(
                    "the scenario judges no rule (`checks: none`): run `quotabench check HISTORY` without --scenario to judge every rule".into(),
                ));
            };
            // Judged as it streams: whole when it fits one segment (QB_SEGMENT_RECORDS),
            // else in segments cut at quiescent snapshots, in bounded memory.
            let judged = quotabench::check::judge_file(
                &history,
                ids,
                quotabench::check::DEFAULT_MAX_INDEFINITE,
                quotabench::check::SegmentOpts::from_env()?,
            )?;
            let warnings = judged.warnings;
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            let mut rules = judged.rules;
            if !warnings.is_empty() {
                // A torn or unfinished history lost the records of operations in flight
                // when it stopped, and records are written in arrival order, not
                // completion order: a write that finished before a kept read may be
                // among the lost. A failure may come from that gap, so it is not a
                // verdict.
                for r in rules
                    .iter_mut()
                    .filter(|r| r.verdict == quotabench::vocab::Verdict::Fail)
                {
                    r.verdict = quotabench::vocab::Verdict::Unknown;
                    r.witness = Some(format!(
                        "incomplete history (torn, or without its closing line): records lost when it stopped may explain this: {}",
                        r.witness.as_deref().unwrap_or("")
                    ));
                }
            }
            // The same words and order as `run` prints.
            let mut text = rule_lines::rules(&rules, &style);
            let v = quotabench::vocab::Verdict::overall(rules.iter().map(|r| r.gating()));
            text.push_str(&format!(
                "\nverdict: {}  ({})\n",
                style.verdict(v, 0),
                rule_lines::counts(rules.iter().map(|r| r.verdict))
            ));
            emit(&quotabench::redact::redact(&text));
            Ok(ExitStatus::from_code(run::code_for(v)))
        }
        Command::Profile(ProfileCommand::Show { name }) => {
            match quotabench::api::builtin::source(&name) {
                Some(text) => {
                    emit(text);
                    Ok(ExitStatus::Pass)
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
            net,
        }) => {
            if let Some(t) = &target {
                quotabench::redact::register_url(t, &[]);
            }
            if let Some(p) = &net.proxy {
                quotabench::redact::register_url(&quotabench::api::proxy::with_scheme(p), &[]);
            }
            quotabench::run::profile_check(
                &profile,
                target.as_deref(),
                &tenant,
                &headers,
                with_clock,
                &net.options(),
            )
            .await
            .map(ExitStatus::from_code)
        }
        Command::Profile(ProfileCommand::List) => {
            let mut text = String::new();
            for n in quotabench::api::builtin::names() {
                text.push_str(n);
                text.push('\n');
            }
            emit(&text);
            Ok(ExitStatus::Pass)
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
            emit(&table);
            Ok(ExitStatus::from_code(code))
        }
        Command::Fake(args) => quotabench_fake::cli::run(args)
            .await
            .map(ExitStatus::from_code)
            .map_err(Into::into),
    }
}

/// The signal that stopped the run (0 until one arrives).
static STOPPED_BY: AtomicI32 = AtomicI32::new(0);

/// The exit status of the signal that stopped the run (SIGINT when none was recorded).
fn stopped_by() -> ExitStatus {
    ExitStatus::from_code(match STOPPED_BY.load(Ordering::SeqCst) {
        0 => exit::INTERRUPTED,
        code => code,
    })
}

/// First SIGINT, SIGTERM or SIGHUP: stop sending, finish in-flight requests and write
/// the partial report; the run then exits 130, 143 or 129 (128 + the signal's number).
/// A second signal of any of the three: leave now, with the first one's code.
fn watch_signals(stop: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let kinds = [
        (
            SignalKind::interrupt(),
            exit::INTERRUPTED,
            "interrupted (SIGINT)",
        ),
        (
            SignalKind::terminate(),
            exit::TERMINATED,
            "terminated (SIGTERM)",
        ),
        (SignalKind::hangup(), exit::HANGUP, "hung up (SIGHUP)"),
    ];
    for (kind, code, what) in kinds {
        let mut sig = match signal(kind) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("warning: cannot watch for {what}: {e}");
                continue;
            }
        };
        let stop = stop.clone();
        tokio::spawn(async move {
            while sig.recv().await.is_some() {
                match STOPPED_BY.compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => {
                        eprintln!("{what}: finishing in-flight requests and writing the partial report (signal again to quit now)");
                        stop.cancel();
                    }
                    Err(first) => std::process::exit(first),
                }
            }
        });
    }
}

/// `--max-duration`: a positive duration in the scenario format's units.
fn parse_span(text: &str) -> Result<quotabench::vocab::units::Span, String> {
    quotabench::vocab::units::check_duration(text).and_then(|d| {
        if d.is_zero() {
            Err(format!("expected a duration above zero, found {text:?}"))
        } else {
            Ok(quotabench::vocab::units::Span(d))
        }
    })
}

fn parse_shard(text: &str) -> Result<quotabench::scenario::shard::Shard, String> {
    quotabench::scenario::shard::Shard::parse(text)
}

fn parse_instant(text: &str) -> Result<jiff::Timestamp, String> {
    text.trim().parse::<jiff::Timestamp>().map_err(|e| {
        format!("expected an RFC 3339 instant with its offset, like 2026-12-02T03:00:00Z, found {text:?}: {e}")
    })
}

/// `--clock-uncertainty`: a duration, zero allowed (shards on one machine share a clock).
fn parse_uncertainty(text: &str) -> Result<std::time::Duration, String> {
    quotabench::vocab::units::check_duration(text)
}

fn parse_rate(text: &str) -> Result<quotabench::vocab::units::Rate, String> {
    quotabench::vocab::units::check_rate(text)
}

/// `KEY=VALUE` for `-e`; KEY as a `${VAR}` name may be written.
fn parse_var(text: &str) -> Result<(String, String), String> {
    let (k, v) = text
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, found {text:?}"))?;
    if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "expected a variable name of letters, digits and _ before `=`, found {k:?}"
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

fn parse_max_duration(text: &str) -> Result<std::time::Duration, String> {
    quotabench::vocab::units::parse_duration(text)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("expected a duration like `30m` or `90s`, found {text:?}"))
}
