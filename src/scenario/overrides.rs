//! Command-line overrides of a scenario's load (`run --duration 1m --rate 500/s
//! --concurrency 32 [--phase NAME]`), as k6's `--duration/--vus` and oha's `-z/-q` do:
//! applied after the file is read and before it is validated, so every limit still holds.

use super::model::Scenario;
use super::units::{Rate, Span};

/// What the command line asks to change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadOverrides {
    /// Every chosen phase runs this long (its `operations` bound is dropped: time ends it).
    pub duration: Option<Span>,
    /// Every chosen open-model phase (one with `rate`) arrives at this rate.
    pub rate: Option<Rate>,
    /// Every chosen closed-model phase (one without `rate` or `stages`) runs this many
    /// virtual users.
    pub concurrency: Option<u32>,
    /// Only this phase (by name); default: every load phase (probes are never changed).
    pub phase: Option<String>,
}

impl LoadOverrides {
    /// Whether anything is asked.
    pub fn is_empty(&self) -> bool {
        self.duration.is_none() && self.rate.is_none() && self.concurrency.is_none()
    }

    /// Applies the overrides, or says why one cannot apply (a usage error: exit 2). An
    /// override that no phase takes is an error, never silently ignored.
    pub fn apply(&self, s: &mut Scenario) -> Result<(), String> {
        if self.is_empty() {
            return match &self.phase {
                Some(_) => Err("--phase needs --duration, --rate or --concurrency".into()),
                None => Ok(()),
            };
        }
        let names: Vec<String> = s.phases.iter().map(|p| p.name.clone()).collect();
        let chosen: Vec<usize> = match &self.phase {
            Some(name) => {
                let i = names.iter().position(|n| n == name).ok_or_else(|| {
                    format!(
                        "--phase {name:?}: no such phase; expected one of: {}",
                        names.join(", ")
                    )
                })?;
                if s.phases[i].probe.is_some() {
                    return Err(format!(
                        "--phase {name:?} is a probe, whose traffic is fixed; choose a load phase"
                    ));
                }
                vec![i]
            }
            None => (0..s.phases.len())
                .filter(|&i| s.phases[i].probe.is_none())
                .collect(),
        };
        let (mut took_duration, mut took_rate, mut took_concurrency) = (false, false, false);
        for &i in &chosen {
            let p = &mut s.phases[i];
            let w = &mut p.workload;
            let open = w.rate.is_some() || !w.stages.is_empty();
            if let Some(d) = self.duration {
                if w.stages.is_empty() {
                    w.duration = Some(d);
                    w.operations = None;
                    took_duration = true;
                } else if self.phase.is_some() {
                    return Err(format!(
                        "--duration: phase {:?} ramps through stages, whose durations set its length; edit its stages",
                        p.name
                    ));
                }
            }
            if let Some(r) = self.rate {
                if w.rate.is_some() && w.stages.is_empty() {
                    w.rate = Some(r);
                    took_rate = true;
                } else if self.phase.is_some() {
                    return Err(format!(
                        "--rate: phase {:?} is {}; --rate sets the rate of an open-model phase (one with `rate:`)",
                        p.name,
                        if open { "a ramp of stages" } else { "closed-model (`concurrency`)" }
                    ));
                }
            }
            if let Some(c) = self.concurrency {
                if !open {
                    w.concurrency = Some(c);
                    took_concurrency = true;
                } else if self.phase.is_some() {
                    return Err(format!(
                        "--concurrency: phase {:?} is open-model (`rate`); --concurrency sets the virtual users of a closed-model phase",
                        p.name
                    ));
                }
            }
        }
        let none = |flag: &str, what: &str| {
            Err(format!(
                "{flag}: no load phase {what}; the scenario's phases: {}",
                names.join(", ")
            ))
        };
        if self.duration.is_some() && !took_duration {
            return none("--duration", "without stages");
        }
        if self.rate.is_some() && !took_rate {
            return none("--rate", "has a constant `rate:`");
        }
        if self.concurrency.is_some() && !took_concurrency {
            return none("--concurrency", "is closed-model");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario() -> Scenario {
        crate::yaml::from_str(
            Path::new("s.yaml"),
            "name: s\ntarget: {profile: adobe-hygiene}\nphases:\n\
             - name: closed\n  workload: {concurrency: 2, operations: 10, mix: {list: 1}}\n\
             - name: open\n  workload: {rate: 10/s, duration: 2s, mix: {list: 1}}\n\
             - name: ramp\n  workload: {stages: [{duration: 1s, target: 5/s}], mix: {list: 1}}\n\
             - name: probe\n  probe: boundary\n",
        )
        .unwrap()
    }

    #[test]
    fn every_load_phase_takes_what_fits_it() {
        let mut s = scenario();
        LoadOverrides {
            duration: Some(Span(std::time::Duration::from_secs(90))),
            rate: Some(Rate(500.0)),
            concurrency: Some(32),
            phase: None,
        }
        .apply(&mut s)
        .unwrap();
        let w = |i: usize| &s.phases[i].workload;
        assert_eq!(w(0).concurrency, Some(32));
        assert_eq!(w(0).operations, None);
        assert_eq!(w(0).duration.map(|d| d.0.as_secs()), Some(90));
        assert_eq!(w(1).rate.map(|r| r.0), Some(500.0));
        assert_eq!(w(1).concurrency, None);
        // A ramp keeps its stages; a probe is untouched.
        assert!(w(2).duration.is_none() && w(2).rate.is_none());
        assert!(w(3).duration.is_none());
    }

    #[test]
    fn an_override_that_nothing_takes_is_an_error_naming_why() {
        let mut s = scenario();
        let one = |phase: &str| LoadOverrides {
            rate: Some(Rate(5.0)),
            phase: Some(phase.into()),
            ..Default::default()
        };
        assert!(one("closed")
            .apply(&mut s)
            .unwrap_err()
            .contains("closed-model"));
        assert!(one("nope")
            .apply(&mut s)
            .unwrap_err()
            .contains("expected one of: closed, open"));
        assert!(one("probe")
            .apply(&mut s)
            .unwrap_err()
            .contains("is a probe"));
        one("open").apply(&mut s).unwrap();
        assert_eq!(s.phases[1].workload.rate.map(|r| r.0), Some(5.0));
        let only_open = LoadOverrides {
            phase: Some("x".into()),
            ..Default::default()
        };
        assert!(only_open
            .apply(&mut s)
            .unwrap_err()
            .contains("--phase needs"));
    }
}
