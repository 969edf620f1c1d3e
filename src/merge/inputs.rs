//! The shard run folders `quotabench merge` is given: loaded, and refused (exit 2, by
//! name) unless they are exactly shards 1..N of one scenario on one profile and tenant.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::history::{History, ShardInfo};
use crate::report::Report;

/// One shard's run folder, loaded.
pub struct ShardRun {
    /// The folder.
    pub dir: PathBuf,
    /// Its history.jsonl.
    pub history: History,
    /// What loading its history left out (a torn or unfinished file).
    pub warnings: Vec<String>,
    /// Its summary.json.
    pub report: Report,
    /// Which shard, and its clock.
    pub info: ShardInfo,
}

/// Loads every folder and returns them in shard order, or the first reason to refuse.
pub fn load(dirs: &[PathBuf]) -> Result<Vec<ShardRun>, Error> {
    let mut runs = Vec::new();
    for dir in dirs {
        runs.push(load_one(dir)?);
    }
    check(&runs)?;
    runs.sort_by_key(|r| r.info.index);
    Ok(runs)
}

fn load_one(dir: &Path) -> Result<ShardRun, Error> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{}: not a run folder (expected the folder `run --shard K/N` wrote, holding history.jsonl and summary.json)",
            dir.display()
        )));
    }
    let (history, warnings) = crate::history::load_checked(&dir.join("history.jsonl"))?;
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{}: not a quotabench summary ({e}); was this shard's run cut short?",
            path.display()
        ))
    })?;
    let info = match history.header.shards.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(Error::Usage(format!(
                "{}: not a shard run (its history header names no shard): run each shard with `quotabench run --shard K/N`",
                dir.display()
            )))
        }
        many => {
            return Err(Error::Usage(format!(
                "{}: already a merge of {} shards; give the shard run folders instead",
                dir.display(),
                many.len()
            )))
        }
    };
    Ok(ShardRun {
        dir: dir.to_path_buf(),
        history,
        warnings,
        report,
        info,
    })
}

/// The shards must be one run's: same scenario, profile, tenant and N, each K once.
pub fn check(runs: &[ShardRun]) -> Result<(), Error> {
    let Some(first) = runs.first() else {
        return Err(Error::Usage("merge: no run folder given".into()));
    };
    let h0 = &first.history.header;
    let d0 = first.dir.display();
    for r in &runs[1..] {
        let h = &r.history.header;
        let d = r.dir.display();
        let same = |what: &str, a: &str, b: &str| {
            if a == b {
                Ok(())
            } else {
                Err(Error::Usage(format!(
                    "{d0} and {d} are runs of different {what}s ({a:?} and {b:?}): merge the shards of one run only"
                )))
            }
        };
        same("scenario", &h0.scenario, &h.scenario)?;
        same("profile", &h0.profile, &h.profile)?;
        same("tenant", &h0.tenant, &h.tenant)?;
        if h0.phases != h.phases {
            return Err(Error::Usage(format!(
                "{d0} and {d} ran different phases ({:?} and {:?}): merge the shards of one run only",
                h0.phases, h.phases
            )));
        }
        if r.info.count != first.info.count {
            return Err(Error::Usage(format!(
                "{d0} is shard {} of {} but {d} is shard {} of {}: every shard must be of the same N",
                first.info.index, first.info.count, r.info.index, r.info.count
            )));
        }
    }
    let n = first.info.count;
    for k in 1..=n {
        let of_k: Vec<&ShardRun> = runs.iter().filter(|r| r.info.index == k).collect();
        match of_k.as_slice() {
            [_] => {}
            [] => {
                return Err(Error::Usage(format!(
                "shard {k} of {n} is missing: give its run folder (named …-shard-{k}-of-{n}) too"
            )))
            }
            [a, b, ..] => {
                return Err(Error::Usage(format!(
                    "shard {k} of {n} is given twice: {} and {}",
                    a.dir.display(),
                    b.dir.display()
                )))
            }
        }
    }
    Ok(())
}
