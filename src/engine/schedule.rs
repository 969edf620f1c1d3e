//! The open model's arrival schedule: the intended start of the n-th arrival, for a
//! constant rate or stages that ramp linearly (latency is measured from these times,
//! wrk2's way, so a stalled target cannot hide behind a slowed-down load generator).

/// Piecewise-linear arrival rate.
#[derive(Debug, Clone)]
pub struct Schedule {
    segs: Vec<Seg>,
}

#[derive(Debug, Clone, Copy)]
struct Seg {
    start: f64,
    dur: f64,
    r0: f64,
    r1: f64,
    /// Arrivals before this segment.
    before: f64,
}

impl Seg {
    fn count(&self, t: f64) -> f64 {
        if self.dur.is_infinite() {
            return self.r0 * t;
        }
        self.r0 * t + (self.r1 - self.r0) * t * t / (2.0 * self.dur)
    }
    fn total(&self) -> f64 {
        if self.dur.is_infinite() {
            f64::INFINITY
        } else {
            self.count(self.dur)
        }
    }
    /// Time into the segment when `k` arrivals have happened in it.
    fn solve(&self, k: f64) -> f64 {
        let a = if self.dur.is_infinite() {
            0.0
        } else {
            (self.r1 - self.r0) / (2.0 * self.dur)
        };
        let b = self.r0;
        if a.abs() < 1e-12 {
            return k / b;
        }
        // a t² + b t − k = 0, the root in [0, dur].
        (-b + (b * b + 4.0 * a * k).max(0.0).sqrt()) / (2.0 * a)
    }
}

impl Schedule {
    /// A constant rate per second, forever.
    pub fn constant(rate: f64) -> Schedule {
        Schedule {
            segs: vec![Seg {
                start: 0.0,
                dur: f64::INFINITY,
                r0: rate,
                r1: rate,
                before: 0.0,
            }],
        }
    }

    /// Starts at `start` per second; each (seconds, target) stage ramps linearly to its
    /// target over its duration. The schedule ends with the last stage.
    pub fn stages(start: f64, stages: &[(f64, f64)]) -> Schedule {
        let mut segs = Vec::new();
        let (mut t, mut r, mut before) = (0.0, start, 0.0);
        for &(dur, target) in stages {
            let s = Seg {
                start: t,
                dur,
                r0: r,
                r1: target,
                before,
            };
            before += s.total();
            segs.push(s);
            t += dur;
            r = target;
        }
        Schedule { segs }
    }

    /// Seconds from the phase start at which arrival `n` (0-based) is intended; `None`
    /// once the schedule has ended.
    pub fn at(&self, n: u64) -> Option<f64> {
        let k = n as f64;
        let seg = self.segs.iter().find(|s| k < s.before + s.total() - 1e-9)?;
        Some(seg.start + seg.solve(k - seg.before))
    }

    /// Arrivals the schedule asks for within `seconds` (all of it when finite and longer).
    pub fn expected(&self, seconds: f64) -> u64 {
        let mut n = 0.0;
        for s in &self.segs {
            if seconds <= s.start {
                break;
            }
            let within = (seconds - s.start).min(s.dur);
            n += s.count(within);
        }
        n.floor() as u64
    }

    /// Length of a finite schedule, in seconds.
    pub fn length(&self) -> Option<f64> {
        let last = self.segs.last()?;
        last.dur.is_finite().then_some(last.start + last.dur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_rate_spaces_arrivals_evenly() {
        let s = Schedule::constant(200.0);
        assert_eq!(s.at(0), Some(0.0));
        assert!((s.at(200).unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(s.expected(10.0), 2000);
    }

    #[test]
    fn a_ramp_from_zero_places_arrivals_on_the_integral() {
        // 0 -> 100/s over 10 s: count(t) = 5 t², 500 arrivals in all.
        let s = Schedule::stages(0.0, &[(10.0, 100.0)]);
        assert_eq!(s.expected(10.0), 500);
        assert!((s.at(125).unwrap() - 5.0).abs() < 1e-9, "{:?}", s.at(125));
        assert!(s.at(500).is_none(), "the schedule ends with its last stage");
        assert_eq!(s.length(), Some(10.0));
    }

    #[test]
    fn stages_chain_ramps_and_plateaus() {
        // ramp 0 -> 10/s over 2 s (10 arrivals), hold 10/s for 3 s (30 more).
        let s = Schedule::stages(0.0, &[(2.0, 10.0), (3.0, 10.0)]);
        assert_eq!(s.expected(5.0), 40);
        assert!((s.at(10).unwrap() - 2.0).abs() < 1e-9);
        assert!((s.at(20).unwrap() - 3.0).abs() < 1e-9);
        let times: Vec<f64> = (0..40).map(|n| s.at(n).unwrap()).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "arrivals are ordered"
        );
    }
}
