//! Per-quota ledgers: the amounts that certainly or possibly took effect, sorted by time
//! with prefix sums, so any "how much could have been consumed by instant t" question
//! is two binary searches (Jepsen's counter bounds: lower = definitely accepted, upper =
//! definitely + possibly accepted).

use crate::history::History;
use crate::vocab::OpKind;
use crate::vocab::Outcome;

/// Times and running totals of one kind of event.
#[derive(Debug, Default)]
pub struct Series {
    at: Vec<u64>,
    sum: Vec<u64>,
}

impl Series {
    fn build(mut ev: Vec<(u64, u64)>) -> Series {
        ev.sort_unstable();
        let mut total = 0;
        let (at, sum) = ev
            .into_iter()
            .map(|(t, a)| {
                total += a;
                (t, total)
            })
            .unzip();
        Series { at, sum }
    }

    fn upto(&self, t: u64, inclusive: bool) -> u64 {
        let n = if inclusive {
            self.at.partition_point(|&x| x <= t)
        } else {
            self.at.partition_point(|&x| x < t)
        };
        n.checked_sub(1).map_or(0, |i| self.sum[i])
    }

    /// Sum of amounts at times in `[from, to)`.
    pub fn between(&self, from: u64, to: u64) -> u64 {
        if to <= from {
            return 0;
        }
        self.upto(to, false) - self.upto(from, false)
    }

    /// Sum of amounts at times in `(from, to]`.
    pub fn after_upto(&self, from: u64, to: u64) -> u64 {
        if to <= from {
            return 0;
        }
        self.upto(to, true) - self.upto(from, true)
    }
}

/// One quota's ledger.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Accepted consumes, by completion time.
    pub accepted_done: Series,
    /// Accepted or indeterminate consumes, by send time.
    pub possible_sent: Series,
    /// Accepted releases (one unit each), by completion time.
    pub released_done: Series,
    /// Accepted or indeterminate releases, by send time.
    pub maybe_released_sent: Series,
    /// Indeterminate consumes, by send time: one may take effect at any instant after it
    /// was sent, even after the client saw it end (a gateway that answered 504 while the
    /// upstream still works, a stalled request), so it may be missing from any later
    /// snapshot's baseline.
    pub indeterminate_sent: Series,
    /// Indeterminate releases, by send time (may free a slot at any later instant).
    pub indeterminate_released_sent: Series,
}

impl Ledger {
    /// Builds the ledger of quota bit `bit` (main tenant only). `decl` gives an
    /// operation's kind and the quota bits it draws on and frees (the facts know them;
    /// taking them as a function keeps the ledger free of the facts' type).
    pub fn build(
        h: &History,
        decl: impl Fn(usize) -> Option<(OpKind, u64, u64)>,
        bit: u64,
    ) -> Ledger {
        let (mut a, mut p, mut r, mut m) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut late, mut late_rel) = (Vec::new(), Vec::new());
        let tenant = crate::vocab::Sym::new(&h.header.tenant);
        for (i, o) in h.ops.iter().enumerate() {
            let Some((kind, touches, frees)) = decl(i) else {
                continue;
            };
            if o.tenant != tenant {
                continue;
            }
            let possible = matches!(o.outcome, Outcome::Accepted | Outcome::Indeterminate);
            if kind == OpKind::Consume && touches & bit != 0 {
                if o.outcome == Outcome::Accepted {
                    a.push((o.done_us, o.amount));
                }
                if possible {
                    p.push((o.sent_us, o.amount));
                }
                if o.outcome == Outcome::Indeterminate {
                    late.push((o.sent_us, o.amount));
                }
            } else if kind == OpKind::Release && frees & bit != 0 {
                // A release ends one object: one unit of a concurrent quota.
                if o.outcome == Outcome::Accepted {
                    r.push((o.done_us, 1));
                }
                if possible {
                    m.push((o.sent_us, 1));
                }
                if o.outcome == Outcome::Indeterminate {
                    late_rel.push((o.sent_us, 1));
                }
            }
        }
        Ledger {
            accepted_done: Series::build(a),
            possible_sent: Series::build(p),
            released_done: Series::build(r),
            maybe_released_sent: Series::build(m),
            indeterminate_sent: Series::build(late),
            indeterminate_released_sent: Series::build(late_rel),
        }
    }
}
