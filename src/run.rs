//! One run, end to end: scenario → target → engine → checker → report → exit code.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::api::template::Vars;
use crate::api::{self, Target};
use crate::check;
use crate::engine::{self, Plan};
use crate::error::{exit, Error};
use crate::history::{History, OpRecord};
use crate::report::export::{Exporter, TerminalExporter};
use crate::report::{self, Report, TargetInfo};
use crate::scenario::{self, Loaded};
use crate::thresholds::Threshold;
use crate::vocab::OpKind;
use crate::vocab::Verdict;

/// Options of `quotabench run` that apply to every scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides the scenario's base URL.
    pub target: Option<String>,
    /// Output folder (default `reports/`).
    pub out: PathBuf,
    /// Faults for the in-process fake (added to the scenario's).
    pub faults: Vec<String>,
    /// Mix seed (default: from the clock, printed in the report).
    pub seed: Option<u64>,
    /// Print the summary on stdout.
    pub print: bool,
    /// `--duration`, `--rate`, `--concurrency`, `--phase`.
    pub overrides: scenario::LoadOverrides,
    /// How the printed summary looks (colour, `--quiet`).
    pub style: crate::report::export::style::Style,
    /// Ends a stuck run: at this wall time after the start the run stops sending,
    /// writes its partial report and exits 3 (default: [`default_deadline`]).
    pub max_duration: Option<Duration>,
    /// `--metrics-listen`: serve live Prometheus metrics there while each run lasts.
    pub metrics_listen: Option<crate::live::Listen>,
    /// `--ca-cert`, `--client-cert`, `--client-key`, `--insecure`, `--proxy`, `--no-proxy`.
    pub net: NetOptions,
    /// `--shard K/N` (or its environment): this process runs its share of the work.
    pub shard: Option<scenario::shard::Shard>,
    /// `--start-at`: the instant the run starts sending (shards start together).
    pub start_at: Option<jiff::Timestamp>,
    /// `--clock-uncertainty`: how far this machine's clock may be from the other
    /// shards' (offset taken as 0); without it a shard estimates from the target's `Date`.
    pub clock_uncertainty: Option<Duration>,
}

/// TLS and proxy settings from the command line; each one given replaces the
/// scenario's `target:` field of the same name.
#[derive(Debug, Clone, Default)]
pub struct NetOptions {
    /// Paths given on the command line (relative to the working directory);
    /// `insecure` set by `--insecure`.
    pub tls: api::TlsSettings,
    /// `--proxy URL` or `--no-proxy`.
    pub proxy: Option<api::ProxySetting>,
}

impl NetOptions {
    /// The TLS settings of a run: the scenario's (when there is one), each field the
    /// command line gives replacing it, every file read and checked now — before any
    /// load — with the error naming the flag or the scenario field it came from.
    pub fn tls_for(&self, loaded: Option<&Loaded>) -> Result<api::TlsSettings, Error> {
        let cli = &self.tls;
        let mut s = loaded.map(scenario::tls_settings).unwrap_or_default();
        let from_cli = |f: &Option<PathBuf>| f.is_some();
        if from_cli(&cli.ca_cert) {
            s.ca_cert = cli.ca_cert.clone();
        }
        if from_cli(&cli.client_cert) {
            s.client_cert = cli.client_cert.clone();
        }
        if from_cli(&cli.client_key) {
            s.client_key = cli.client_key.clone();
        }
        s.insecure |= cli.insecure;
        if let Err(e) = api::tls::client_config(&s) {
            use api::tls::Setting;
            let (flag, field, given) = match e.setting {
                Setting::CaCert => ("--ca-cert", "target.ca_cert", &cli.ca_cert),
                Setting::ClientCert => ("--client-cert", "target.client_cert", &cli.client_cert),
                Setting::ClientKey => ("--client-key", "target.client_key", &cli.client_key),
            };
            return Err(match loaded {
                Some(l) if given.is_none() => l.error_at(field, e.message),
                _ => Error::Usage(format!("{flag}: {}", e.message)),
            });
        }
        Ok(s)
    }

    /// The proxy setting of a run: `--proxy` / `--no-proxy`, else the scenario's.
    pub fn proxy_for(&self, loaded: Option<&Loaded>) -> api::ProxySetting {
        match (&self.proxy, loaded) {
            (Some(p), _) => p.clone(),
            (None, Some(l)) => scenario::proxy_setting(l),
            (None, None) => api::ProxySetting::FromEnv,
        }
    }
}

/// The overall deadline of a run with no `--max-duration`: twice its planned time
/// (phase durations and ramp stages; a phase bounded only by operations, or a probe,
/// counts 60 s, or its requests' timeout if longer), plus five minutes. Generous for a
/// healthy run, finite for a blackholed one.
pub fn default_deadline(s: &crate::scenario::Scenario) -> Duration {
    let timeout = s.target.timeout.map_or(Duration::from_secs(10), |t| t.0);
    let planned: Duration = s
        .phases
        .iter()
        .map(|p| {
            let w = &p.workload;
            let stages: Duration = w.stages.iter().map(|st| st.duration.0).sum();
            match (w.duration, p.probe.is_some()) {
                (Some(d), false) => d.0.max(stages),
                _ if !stages.is_zero() => stages,
                // A reset probe's wait for a real boundary is planned time too.
                _ => Duration::from_secs(60)
                    .max(timeout)
                    .saturating_add(p.wait.map_or(Duration::ZERO, |w| w.0)),
            }
        })
        .fold(Duration::ZERO, |a, b| a.saturating_add(b));
    planned
        .saturating_mul(2)
        .saturating_add(Duration::from_secs(300))
}

/// What one scenario's run produced.
pub struct RunResult {
    /// The report.
    pub report: Report,
    /// The run folder.
    pub dir: PathBuf,
    /// The exit code it maps to.
    pub code: i32,
}

/// The default tenant when the scenario names none.
pub const DEFAULT_TENANT: &str = "quotabench-org";

/// A scenario with its compiled profile, resolved mixes and parsed thresholds.
pub type Prepared = (
    Loaded,
    api::CompiledProfile,
    Vec<Vec<scenario::MixEntry>>,
    Vec<Threshold>,
);

/// Loads everything a scenario needs and checks it, sending nothing.
pub fn prepare(path: &Path) -> Result<Prepared, Error> {
    prepare_with(path, &scenario::LoadOverrides::default())
}

/// [`prepare`], with the command line's load overrides applied before validation.
pub fn prepare_with(path: &Path, overrides: &scenario::LoadOverrides) -> Result<Prepared, Error> {
    let loaded = scenario::load_with(path, overrides)?;
    let s = &loaded.scenario;
    let scen_dir = path.parent().unwrap_or(Path::new("."));
    let profile_base = if scen_dir.join(&s.target.profile).exists() {
        scen_dir
    } else {
        Path::new(".")
    };
    let profile = api::compile::load(&s.target.profile, profile_base).map_err(|e| match e {
        Error::Usage(msg) => loaded.error_at("target.profile", msg),
        other => other,
    })?;
    let mixes = scenario::resolve_mix(&loaded, &profile)?;
    let labels: Vec<&str> = mixes.iter().flatten().map(|m| m.label.as_str()).collect();
    let mut thresholds = Vec::new();
    for (i, t) in s.thresholds.iter().enumerate() {
        let th =
            Threshold::parse(t).map_err(|e| loaded.error_at(&format!("thresholds[{i}]"), e))?;
        if let Some(op) = th.op() {
            if !labels.contains(&op) && op != engine::SNAPSHOT {
                return Err(loaded.error_at(
                    &format!("thresholds[{i}]"),
                    format!(
                        "no operation {op:?} runs in this scenario; expected one of: {}",
                        labels.join(", ")
                    ),
                ));
            }
        }
        thresholds.push(th);
    }
    Ok((loaded, profile, mixes, thresholds))
}

/// Runs one scenario file.
pub async fn run_one(
    path: &Path,
    opts: &RunOptions,
    stop: CancellationToken,
) -> Result<RunResult, Error> {
    let (loaded, profile, mixes, thresholds) = prepare_with(path, &opts.overrides)?;
    // Bad TLS files stop the run here, before the fake starts or anything is sent.
    let tls = opts.net.tls_for(Some(&loaded))?;
    crate::progress::set_quiet(opts.style.quiet);
    if let Some(at) = opts.start_at {
        check_start_at(at, jiff::Timestamp::now())?;
    }
    let loaded = match opts.shard {
        Some(shard) => {
            let (mine, idle) = scenario::shard::split(&loaded, shard);
            for line in idle {
                eprintln!("shard {}/{}: {line}", shard.index, shard.count);
            }
            mine
        }
        None => loaded,
    };
    // Live metrics: bound first, so a port in use stops the run before it sends or
    // writes anything; served until this function returns (the report written).
    let live = match &opts.metrics_listen {
        Some(_) => crate::live::Live::collecting(),
        None => crate::live::Live::default(),
    };
    let _metrics_server = match &opts.metrics_listen {
        Some(listen) => {
            let server = live.serve(listen).await.map_err(Error::Usage)?;
            if let Some(w) = &listen.warning {
                eprintln!("{w}");
            }
            if let Some(sv) = &server {
                eprintln!(
                    "metrics: serving http://{}/metrics while the run lasts",
                    sv.addr()
                );
            }
            server
        }
        None => None,
    };
    let s = &loaded.scenario;
    let mut faults = s.fake.faults.clone();
    faults.extend(opts.faults.iter().cloned());
    let scenario_url = s
        .target
        .base_url
        .as_ref()
        .map(|u| u.value.clone())
        .filter(|u| !u.trim().is_empty());
    if let Some(t) = &opts.target {
        // The caller masked --target with the default list; the scenario may name more.
        crate::redact::register_url(t, &s.target.secret_params);
    }
    let url = opts.target.clone().or(scenario_url);
    let (base_url, fake) = match url {
        Some(u) => {
            if !faults.is_empty() {
                return Err(Error::Usage("faults switch on the bundled fake only; drop --fault (or fake.faults) when a target URL is given".into()));
            }
            url::Url::parse(&u)
                .map_err(|e| Error::Usage(format!("target URL {u:?} is not valid: {e}")))?;
            (u, None)
        }
        None if opts.shard.is_some() => {
            return Err(Error::Usage(format!(
                "--shard splits one scenario's work over several processes against one shared target, but {} names no target URL (each shard would start its own bundled fake): give --target URL, e.g. a `quotabench fake --listen` every shard reaches",
                path.display()
            )))
        }
        None => {
            let config = s.fake.config.as_ref().map(PathBuf::from);
            let running = crate::fake_target::start(config.as_deref(), &faults).await?;
            (running.url.clone(), Some(running))
        }
    };
    let tenant = s
        .target
        .tenant
        .as_ref()
        .map(|t| t.value.clone())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| DEFAULT_TENANT.into());
    let headers: Vec<(String, String)> = s
        .target
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    let timeout = s.target.timeout.map_or(Duration::from_secs(10), |t| t.0);
    let connections = s
        .phases
        .iter()
        .map(|p| p.workload.concurrency.unwrap_or(1) as usize)
        .max()
        .unwrap_or(1);
    let clock_control = fake.is_some() && profile.first_of(OpKind::AdvanceClock).is_some();
    let transport = api::TransportOptions {
        timeout,
        connections,
        tls,
        // The bundled fake runs in this process: a proxy could only get in its way.
        proxy: if fake.is_some() {
            api::ProxySetting::Off
        } else {
            opts.net.proxy_for(Some(&loaded))
        },
        ..api::TransportOptions::default()
    };
    let insecure = transport.tls.insecure;
    let target = Arc::new(Target::with_options(
        &base_url, &tenant, profile, &headers, &transport,
    )?);
    if fake.is_none() {
        // Read the target once before any load: a dead port, a bad scheme, TLS or
        // credentials stop the run here with the cause (exit 2), sending nothing more.
        api::preflight::preflight(&target)
            .await
            .map_err(Error::Target)?;
    }
    let seed = opts
        .seed
        .unwrap_or_else(|| jiff::Timestamp::now().as_nanosecond() as u64);
    let max_indefinite = max_indefinite_of(s)?;
    let shard = match opts.shard {
        Some(k) => Some(shard_info(k, &target, opts.clock_uncertainty, max_indefinite).await?),
        None => None,
    };
    if let Some(at) = opts.start_at {
        // The shards' phases line up from here: each sleeps until the same instant.
        let wait = Duration::try_from(at - jiff::Timestamp::now()).unwrap_or(Duration::ZERO);
        if !wait.is_zero() {
            eprintln!("waiting until {at} (--start-at) to start");
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.cancelled() => {}
        }
    }

    let started = jiff::Timestamp::now();
    let suffix = opts.shard.map(|k| k.tag());
    let dir = run_dir(&opts.out, &s.name, suffix.as_deref(), started)?;
    let history_cap = match std::env::var("QB_HISTORY_IN_MEMORY") {
        Ok(v) => v.parse().map_err(|_| {
            Error::Usage(format!(
                "QB_HISTORY_IN_MEMORY={v:?}: expected a number of records"
            ))
        })?,
        Err(_) => engine::DEFAULT_HISTORY_CAP,
    };
    let plan = Plan {
        loaded: loaded.clone(),
        mixes,
        target: target.clone(),
        seed,
        clock_control,
        history_cap,
        live,
        shard,
    };
    // The overall deadline stops the engine like an interrupt, but the run's status
    // says why: a stuck run is unknown (exit 3), not interrupted by the user.
    let deadline = opts.max_duration.unwrap_or_else(|| default_deadline(s));
    let engine_stop = stop.child_token();
    let timer = {
        let t = engine_stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(deadline).await;
            t.cancel();
        })
    };
    let outcome = engine::run(&plan, &dir.join("history.jsonl"), engine_stop).await;
    timer.abort();
    let mut outcome = outcome?;
    // The run outgrew its in-memory copy: judge what it streamed to disk instead, in
    // segments of bounded memory however long the run (`check::segment`).
    let mut too_big = None;
    let mut streamed = None;
    if outcome.not_kept > 0 {
        let path = dir.join("history.jsonl");
        // The file masks a secret tenant (one from a secret-named variable): with both
        // tenants secret it cannot tell them apart, and isolation would be judged wrong.
        let other = s
            .target
            .other_tenant
            .as_ref()
            .map_or("", |o| o.value.as_str());
        let masked =
            crate::redact::is_secret(&tenant) && crate::redact::is_secret(other) && tenant != other;
        if masked {
            too_big = Some(format!(
                "the run outgrew its in-memory history and cannot be judged from its file: history.jsonl masks both tenants (each from a secret-named variable), so read back it cannot tell them apart; raise QB_HISTORY_IN_MEMORY above the run's {} records to judge it in memory",
                outcome.not_kept
            ));
        } else if let Some(ids) = s.checks.ids() {
            let mut kept = ReportRecords::default();
            let judged = check::judge_file_seeing(
                &path,
                ids,
                max_indefinite,
                check::SegmentOpts::from_env()?,
                |o| kept.see(o),
            )?;
            for w in &judged.warnings {
                eprintln!("quotabench: {w}");
            }
            outcome.history.ops = kept.finish(&judged);
            streamed = Some(judged);
        }
    }
    // A failed history write stopped the engine too: that is no deadline.
    let deadline_hit =
        outcome.interrupted && !stop.is_cancelled() && outcome.history_write.is_none();
    if deadline_hit {
        eprintln!(
            "quotabench: the run reached its deadline ({}, --max-duration) and stopped; the report covers what it did",
            crate::vocab::units::Span(deadline)
        );
    }
    let bundled_fake = fake.is_some();
    drop(fake);

    let target_info = TargetInfo {
        url: base_url.clone(),
        bundled_fake,
        faults,
        profile: target.profile.profile.name.clone(),
        tenant,
        implementation: s.target.implementation.clone(),
        clock_control,
        time: None,
        capabilities: Some(target.profile.profile.capabilities.clone()),
        insecure,
        proxy: target.proxy.clone(),
    };
    let report = conclude(Evidence {
        scenario: s.name.clone(),
        started_at: started.to_string(),
        target: target_info,
        history: &outcome.history,
        recorder: &outcome.recorder,
        over_time: &outcome.over_time,
        quotas: outcome.quotas,
        phases: outcome.phases,
        plan: outcome.plan.clone(),
        elapsed: outcome.elapsed,
        interrupted: outcome.interrupted,
        too_big,
        streamed,
        incomplete: false,
        history_write: outcome.history_write.clone(),
        checks: s.checks.ids(),
        max_indefinite,
        thresholds: &thresholds,
        reproduce_on: Some(&target),
    });
    let mut report = report;
    if let Some(k) = opts.shard.filter(|k| k.count > 1) {
        provisional(&mut report, k);
    }
    let verdict = report.verdict;
    let written = write_and_print(
        &report,
        &dir,
        opts.print.then_some(opts.style),
        &outcome.plan,
    );
    if let Some(w) = &outcome.history_write {
        // The run is an error (exit 2) whatever its verdicts; the report, where it could
        // be written, says where the history stopped.
        match written {
            Ok(()) => eprintln!(
                "error: {}; the run stopped there, and its report says so ({})",
                w.said(),
                dir.join("summary.json").display()
            ),
            Err(e) => eprintln!("error: {}; the run stopped there; {e}", w.said()),
        }
        return Ok(RunResult {
            report,
            dir,
            code: exit::USAGE,
        });
    }
    written?;
    let code = if deadline_hit {
        // A failure on what it did still fails; otherwise the run did not do all it
        // planned, so a pass is not earned: unknown.
        match code_for(verdict) {
            exit::FAIL => exit::FAIL,
            _ => exit::UNKNOWN,
        }
    } else if outcome.interrupted {
        exit::INTERRUPTED
    } else {
        code_for(verdict)
    };
    Ok(RunResult { report, dir, code })
}

/// The scenario's `max_indefinite` as a fraction (default [`check::DEFAULT_MAX_INDEFINITE`]).
pub(crate) fn max_indefinite_of(s: &scenario::Scenario) -> Result<f64, Error> {
    match &s.max_indefinite {
        Some(t) => parse_share(t).map_err(|e| Error::Usage(format!("max_indefinite: {e}"))),
        None => Ok(check::DEFAULT_MAX_INDEFINITE),
    }
}

/// Everything a verdict and its report are computed from: what one run produced, or
/// what `quotabench merge` put together from shard runs. One function judges both, so a
/// merged run is judged exactly as a single run would be.
pub(crate) struct Evidence<'a> {
    pub scenario: String,
    pub started_at: String,
    /// What was tested (`time` is filled in from the history).
    pub target: TargetInfo,
    pub history: &'a History,
    pub recorder: &'a crate::metrics::Recorder,
    pub over_time:
        &'a std::collections::BTreeMap<String, Vec<crate::metrics::intervals::TimePoint>>,
    pub quotas: std::collections::BTreeMap<String, Vec<crate::metrics::quota_series::QuotaPoint>>,
    pub phases: Vec<crate::vocab::PhaseStats>,
    pub plan: crate::vocab::BudgetPlan,
    pub elapsed: Duration,
    pub interrupted: bool,
    /// Why the history could not be judged whole (the run outgrew its in-memory copy
    /// and its file could not be read back): every verdict is then unknown with it.
    pub too_big: Option<String>,
    /// The rules already judged from history.jsonl as it streamed (a run that outgrew
    /// its in-memory copy): used instead of judging `history`.
    pub streamed: Option<check::Streamed>,
    /// Some history lost records (torn, or without its closing line): a failure may
    /// come from the gap, so it is not a verdict.
    pub incomplete: bool,
    /// history.jsonl stopped at a failed write: no verdict rests on a history that lost
    /// records, so every pass and failure turns unknown with where it stopped.
    pub history_write: Option<crate::history::WriteStopped>,
    /// Rule ids to judge (empty: all); `None` for `checks: none`.
    pub checks: Option<&'a [String]>,
    pub max_indefinite: f64,
    pub thresholds: &'a [Threshold],
    /// The target a failure's `curl` is rendered for (none for a merge).
    pub reproduce_on: Option<&'a Target>,
}

/// Of a streamed history, the records the report reads besides the verdicts: those with
/// an unexpected outcome (its error causes, the operations an interrupt cut), seen as the
/// checker streams the file, and the one each failing rule cites (its curl
/// reproduction), which the checker keeps — few in a healthy run, and bounded: past
/// [`REPORT_RECORDS`] unexpected ones the rest are left out, and the report says so.
#[derive(Default)]
struct ReportRecords {
    kept: Vec<OpRecord>,
    left_out: u64,
}

impl ReportRecords {
    fn see(&mut self, o: &OpRecord) {
        if !report::errors::unexpected(o.outcome) && !check::interrupted(o) {
            return;
        }
        if self.kept.len() < REPORT_RECORDS {
            self.kept.push(o.clone());
        } else {
            self.left_out += 1;
        }
    }

    fn finish(mut self, judged: &check::Streamed) -> Vec<OpRecord> {
        if self.left_out > 0 {
            eprintln!(
                "quotabench: the report's error causes count the first {REPORT_RECORDS} operations with an unexpected outcome; {} more are in history.jsonl",
                self.left_out
            );
        }
        for c in &judged.cited {
            if !self.kept.iter().any(|o| o.id == c.id) {
                self.kept.push(c.clone());
            }
        }
        self.kept.sort_by_key(|o| (o.done_us, o.id));
        self.kept
    }
}

/// The most unexpected-outcome records a streamed history keeps for its report.
const REPORT_RECORDS: usize = 1_000_000;

/// Judges the evidence: rules, thresholds, the overall verdict, and the report.
pub(crate) fn conclude(ev: Evidence<'_>) -> Report {
    let h = ev.history;
    // `checks: none`: a load scenario judged by its thresholds alone, with no rule lines.
    let (mut rules, thin, time_source) = match (ev.checks, ev.streamed) {
        (None, _) => (
            Vec::new(),
            check::too_indefinite(h, ev.max_indefinite),
            None,
        ),
        (Some(_), Some(s)) => (s.rules, s.thin, Some(s.time_source)),
        (Some(ids), None) => (
            check::judge_with(h, ids, ev.max_indefinite),
            check::too_indefinite(h, ev.max_indefinite),
            None,
        ),
    };
    if let Some(why) = &ev.too_big {
        // Verdicts over part of the evidence would be guesses: say so instead.
        for r in rules.iter_mut() {
            r.verdict = Verdict::Unknown;
            r.witness = Some(why.clone());
            r.ops.clear();
        }
    }
    if ev.incomplete {
        for r in rules.iter_mut().filter(|r| r.verdict == Verdict::Fail) {
            r.verdict = Verdict::Unknown;
            r.witness = Some(format!(
                "incomplete history (a shard's history is torn, or without its closing line): records lost when it stopped may explain this: {}",
                r.witness.as_deref().unwrap_or("")
            ));
        }
    }
    if let Some(w) = &ev.history_write {
        let why = w.said();
        for r in rules
            .iter_mut()
            .filter(|r| matches!(r.verdict, Verdict::Pass | Verdict::Fail))
        {
            r.witness = Some(match (r.verdict, r.witness.as_deref()) {
                (Verdict::Fail, Some(seen)) => format!(
                    "{why}: no verdict on a history that lost records; before the loss it saw: {seen}"
                ),
                _ => format!("{why}: no verdict on a history that lost records"),
            });
            r.verdict = Verdict::Unknown;
        }
    }
    if let Some(target) = ev.reproduce_on {
        for r in rules.iter_mut().filter(|r| r.verdict == Verdict::Fail) {
            r.reproduce = r.ops.first().and_then(|id| reproduce(h, target, *id));
        }
    }
    let mut operations = report::op_stats(
        ev.recorder,
        ev.over_time,
        ev.elapsed.as_secs_f64(),
        &h.header,
    );
    for o in h.ops.iter().filter(|o| check::interrupted(o)) {
        if let Some(st) = operations.get_mut(o.op.as_str()) {
            st.interrupted += 1;
        }
    }
    let (errors, errors_left_off) = report::errors::causes(h);
    let quantile = |op: &str, p: f64| {
        let i = ev.recorder.labels().iter().position(|l| l == op)?;
        let hist = ev.recorder.merged(i, crate::metrics::View::Latency);
        (!hist.is_empty()).then(|| hist.value_at_quantile(p / 100.0))
    };
    let thresholds = crate::thresholds::evaluate(ev.thresholds, &operations, &ev.phases, &quantile);
    // A SHOULD rule's failure is reported but, alone, does not fail the run.
    let mut verdict = Verdict::overall(
        rules
            .iter()
            .map(|r| r.gating())
            .chain(thresholds.iter().map(|t| t.verdict))
            // A phase that found no room proved nothing: the run cannot pass on it.
            .chain(ev.plan.shortfalls.first().map(|_| Verdict::Unknown))
            // Lost records: never a pass.
            .chain(ev.history_write.as_ref().map(|_| Verdict::Unknown)),
    );
    // Too little definite evidence: unknown at best, never a pass on nothing.
    if thin.is_some() && verdict == Verdict::Pass {
        verdict = Verdict::Unknown;
    }
    let mut target = ev.target;
    target.time = Some(time_source.unwrap_or_else(|| check::time_source(h)));
    let mut report = Report {
        schema_version: report::SCHEMA_VERSION,
        scenario: ev.scenario,
        verdict,
        interrupted: ev.interrupted,
        started_at: ev.started_at,
        duration_s: (ev.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        target,
        rules,
        thresholds,
        operations,
        phases: ev.phases,
        quotas: ev.quotas,
        errors,
        errors_left_off,
        plan: Some(ev.plan),
        banners: Vec::new(),
        history_write: ev.history_write,
    };
    report.banners.extend(report.rate_limited());
    report
}

/// A shard's own rule failures are not verdicts: the other shards' operations on the
/// same tenant move its counters but are not in its history, so a counter that moved
/// "by itself" may be theirs. They turn unknown, saying so; the merge judges the whole.
/// A pass stays (on this shard's evidence); only `quotabench merge` gives the run's verdict.
fn provisional(report: &mut Report, k: scenario::shard::Shard) {
    let mut changed = false;
    for r in report
        .rules
        .iter_mut()
        .filter(|r| r.verdict == Verdict::Fail)
    {
        r.verdict = Verdict::Unknown;
        r.witness = Some(format!(
            "shard {}/{}: the other shards' operations are not in this history, so this may be theirs; `quotabench merge` judges the whole run: {}",
            k.index,
            k.count,
            r.witness.as_deref().unwrap_or("")
        ));
        changed = true;
    }
    if changed {
        report.verdict = Verdict::overall(
            report
                .rules
                .iter()
                .map(|r| r.gating())
                .chain(report.thresholds.iter().map(|t| t.verdict))
                .chain([Verdict::Unknown]),
        );
    }
}

/// Writes the report's files into `dir` (and the CI step summary) and, with a style,
/// prints it with the plan's shortfalls and what was left behind.
pub(crate) fn write_and_print(
    report: &Report,
    dir: &Path,
    print: Option<crate::report::export::style::Style>,
    plan: &crate::vocab::BudgetPlan,
) -> Result<(), Error> {
    // Every file is tried (each is written whole or not at all): on a full disk the
    // small ones may still fit, and each that does not is named.
    let failed: Vec<String> = report::write_each(report, dir)
        .into_iter()
        .filter_map(|(_, r)| r.err())
        .map(|e| {
            eprintln!("error: report file not written: {e}");
            e.to_string()
        })
        .collect();
    crate::report::export::markdown::append_step_summary(report)?;
    if let Some(style) = print {
        let text = TerminalExporter { style }.render(report)?;
        println!("{}", crate::redact::redact(&String::from_utf8_lossy(&text)));
        for line in &plan.shortfalls {
            println!("unknown: {line}");
        }
        for line in &plan.left_behind {
            println!("left behind: {line}");
        }
        println!("report: {}", dir.display());
    }
    match failed.len() {
        0 => Ok(()),
        n => Err(Error::Usage(format!(
            "{n} of the report's files could not be written (named above); free space in {} and run again",
            dir.display()
        ))),
    }
}

/// Whether any of these scenarios drives a target on another machine (`--target`, else
/// each scenario's `base_url`; none means the in-process fake). A scenario that does not
/// load counts as local here: `run` reports its error itself.
pub fn drives_remote_target(scenarios: &[PathBuf], target: Option<&str>) -> bool {
    scenarios.iter().any(|path| {
        let url = match target {
            Some(t) => Some(t.to_string()),
            None => crate::scenario::load(path).ok().and_then(|l| {
                l.scenario
                    .target
                    .base_url
                    .map(|u| u.value)
                    .filter(|u| !u.trim().is_empty())
            }),
        };
        url.is_some_and(|u| !is_loopback(&u))
    })
}

/// Whether a URL names this machine (an unparsable one is left to `run` to reject).
pub fn is_loopback(url: &str) -> bool {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => true,
    }
}

/// Parses a share like `5%` into a fraction (0–1).
pub fn parse_share(text: &str) -> Result<f64, String> {
    let t = text.trim();
    t.strip_suffix('%')
        .and_then(|p| p.trim().parse::<f64>().ok())
        .map(|x| x / 100.0)
        .filter(|x| (0.0..=1.0).contains(x))
        .ok_or_else(|| format!("expected a percentage between 0% and 100% like 5%, found {text:?}"))
}

/// The exit code of a verdict.
pub fn code_for(v: Verdict) -> i32 {
    match v {
        Verdict::Fail => exit::FAIL,
        Verdict::Unknown => exit::UNKNOWN,
        Verdict::Pass | Verdict::Skipped => exit::PASS,
    }
}

/// The latest `--start-at` accepted, from now.
const START_AT_MAX_AHEAD: Duration = Duration::from_secs(24 * 3600);

/// Refuses a `--start-at` more than a second in the past (a shard started late would
/// silently not be aligned) or more than 24 hours ahead (a typo, not a plan).
pub fn check_start_at(at: jiff::Timestamp, now: jiff::Timestamp) -> Result<(), Error> {
    let ahead = at.as_microsecond() - now.as_microsecond();
    if ahead < -1_000_000 {
        return Err(Error::Usage(format!(
            "--start-at {at} is {:.1} s in the past (now {now}): every shard must start before it; give an instant a little ahead, e.g. `--start-at $(date -u -d '+30 seconds' +%Y-%m-%dT%H:%M:%SZ)`",
            -ahead as f64 / 1e6
        )));
    }
    if ahead > START_AT_MAX_AHEAD.as_micros() as i64 {
        return Err(Error::Usage(format!(
            "--start-at {at} is more than 24 hours ahead (now {now}): expected an instant within a day"
        )));
    }
    Ok(())
}

/// This shard's header entry: which, its clock offset estimate and bound.
async fn shard_info(
    k: scenario::shard::Shard,
    target: &Target,
    uncertainty: Option<Duration>,
    max_indefinite: f64,
) -> Result<crate::history::ShardInfo, Error> {
    let (offset_us, bound_us, source) = match uncertainty {
        Some(d) => (0, d.as_micros() as u64, "clock-uncertainty"),
        None => {
            let (o, b) = crate::shard_clock::from_date_header(target)
                .await
                .map_err(|e| Error::Usage(format!("--shard {}/{}: {e}", k.index, k.count)))?;
            (o, b, "date-header")
        }
    };
    eprintln!(
        "shard {}/{}: clock offset to the target {:+.3} s ± {:.3} s ({source})",
        k.index,
        k.count,
        offset_us as f64 / 1e6,
        bound_us as f64 / 1e6
    );
    Ok(crate::history::ShardInfo {
        index: k.index,
        count: k.count,
        offset_us,
        bound_us,
        source: source.into(),
        max_indefinite,
    })
}

pub(crate) fn run_dir(
    out: &Path,
    name: &str,
    suffix: Option<&str>,
    at: jiff::Timestamp,
) -> Result<PathBuf, Error> {
    let stamp = at.strftime("%Y%m%dT%H%M%SZ").to_string();
    let tail = suffix.map_or(String::new(), |s| format!("-{s}"));
    let mut dir = out.join(format!("{name}-{stamp}{tail}"));
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = out.join(format!("{name}-{stamp}-{n}{tail}"));
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}

fn reproduce(h: &History, target: &Target, id: u64) -> Option<String> {
    let rec: &OpRecord = h.ops.iter().find(|o| o.id == id)?;
    let op = target.profile.ops.get(rec.name.as_str())?;
    let request_id = format!("repro-{id}");
    let vars = Vars {
        tenant: &rec.tenant,
        amount: rec.amount,
        request_id: &request_id,
        seq: id,
        id: rec.object.as_deref().unwrap_or(""),
        parent: rec.parent.as_deref().unwrap_or(""),
        seconds: 0,
        now_unix: jiff::Timestamp::now().as_second(),
    };
    Some(target.curl(op, &vars))
}

/// `quotabench profile check`: dry-runs a profile against a target (default: the
/// bundled fake) and returns the exit code (1 when an answer was not understood).
pub async fn profile_check(
    profile: &str,
    url: Option<&str>,
    tenant: &str,
    headers: &[String],
    with_clock: bool,
    net: &NetOptions,
) -> Result<i32, Error> {
    let tls = net.tls_for(None)?;
    let compiled = api::compile::load(profile, Path::new("."))?;
    let mut hs = Vec::new();
    for h in headers {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| Error::Usage(format!("--header {h:?}: expected `NAME: VALUE`")))?;
        let (v, _) = crate::scenario::env::substitute(v.trim(), |k| std::env::var(k).ok())
            .map_err(Error::Usage)?;
        if crate::redact::is_sensitive_header(k) {
            crate::redact::register(&v);
        }
        hs.push((k.trim().to_string(), v));
    }
    let fake = match url {
        Some(_) => None,
        None => Some(crate::fake_target::start(None, &[]).await?),
    };
    let base = url
        .map(str::to_string)
        .or_else(|| fake.as_ref().map(|f| f.url.clone()))
        .unwrap_or_default();
    if fake.is_some() && hs.is_empty() {
        // The bundled fake accepts any credentials; give it some so auth is not the story.
        hs.push(("authorization".into(), "Bearer dry-run".into()));
        hs.push(("x-api-key".into(), "dry-run".into()));
    }
    let transport = api::TransportOptions {
        tls,
        proxy: if fake.is_some() {
            api::ProxySetting::Off
        } else {
            net.proxy_for(None)
        },
        ..api::TransportOptions::default()
    };
    let t = Target::with_options(&base, tenant, compiled, &hs, &transport)?;
    if net.tls.insecure {
        println!("INSECURE: {}", crate::report::INSECURE_NOTE);
    }
    let probes = api::dry_run::dry_run(&t, with_clock).await;
    print!("{}", api::dry_run::render(&probes));
    let bad = probes.iter().filter(|p| !p.ok()).count();
    let unseen = api::dry_run::never_seen(&t, &probes);
    for q in &unseen {
        println!(
            "warning: declared quota {q} appeared in no list answer: check the list's `read` pointers (`items`, `name`), or, if the API lists a counter only once it is hit, declare `absent: zero` with `limits_from`"
        );
    }
    if bad > 0 {
        println!(
            "{bad} answer(s) not understood: add or fix `outcomes` / `read` / `id` in the profile"
        );
        Ok(exit::FAIL)
    } else if !unseen.is_empty() {
        println!(
            "every answer was classified and read, but {} of {} declared quotas never appeared (warnings above)",
            unseen.len(),
            t.profile.profile.quotas.len()
        );
        Ok(exit::PASS)
    } else {
        println!("every answer was classified and read");
        Ok(exit::PASS)
    }
}

#[cfg(test)]
mod thread_choice_tests {
    use super::*;

    #[test]
    fn start_at_is_refused_past_or_far_ahead_by_name() {
        let now: jiff::Timestamp = "2026-12-02T03:00:00Z".parse().unwrap();
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        assert!(check_start_at(at("2026-12-02T03:00:30Z"), now).is_ok());
        // Up to a second late is a shard that started a moment after the others.
        assert!(check_start_at(at("2026-12-02T02:59:59.500Z"), now).is_ok());
        let e = check_start_at(at("2026-12-02T02:59:58Z"), now)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--start-at") && e.contains("in the past"), "{e}");
        let e = check_start_at(at("2026-12-03T03:00:01Z"), now)
            .unwrap_err()
            .to_string();
        assert!(e.contains("24 hours ahead"), "{e}");
    }

    #[test]
    fn loopback_targets_are_told_from_remote_ones() {
        for local in [
            "http://127.0.0.1:8080",
            "http://127.3.4.5",
            "http://[::1]:9000/x",
            "https://LOCALHOST/quota",
        ] {
            assert!(is_loopback(local), "{local}");
        }
        for remote in [
            "https://platform.adobe.io",
            "http://10.0.0.7:8080",
            "http://[2001:db8::1]/",
        ] {
            assert!(!is_loopback(remote), "{remote}");
        }
    }

    #[test]
    fn a_run_is_remote_only_when_its_target_is() {
        let suite = [PathBuf::from("scenarios/conformance/adobe-hygiene.yaml")];
        assert!(drives_remote_target(
            &suite,
            Some("https://platform.adobe.io")
        ));
        assert!(!drives_remote_target(&suite, Some("http://127.0.0.1:1")));
        // No --target: the suite's base_url is empty unless QB_TARGET_URL says otherwise.
        if std::env::var_os("QB_TARGET_URL").is_none() {
            assert!(
                !drives_remote_target(&suite, None),
                "the in-process fake is local"
            );
        }
        let missing = [PathBuf::from("no/such/scenario.yaml")];
        assert!(!drives_remote_target(&missing, None));
    }
}
