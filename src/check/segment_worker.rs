//! One segment judged, and a thread that judges a closed segment while the next fills.
//!
//! Judging a segment and filling the next (reading, parsing, ordering) cost about the
//! same. Done in turn, the reader waits while the rules run, and a 100M-record history
//! kept 1.4 of the 2 cores busy; handed to a thread of its own, a closed segment is
//! judged while the next one streams in. Its verdicts come back in segment order, with
//! its buffer for the segment after next, so two segments' records are ever held: the
//! one judged and the one filling ([`super::segment::SegmentOpts::later`] sizes them
//! so that two fit where one first segment does).

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::facts::Carried;
use super::RuleVerdict;
use crate::history::{History, OpRecord};
use crate::vocab::Verdict;

/// A closed segment to judge: its first `ctx` records are context, `carried` what the
/// segments before it left, `folded` each folded order's id and the amount it was
/// written with.
pub struct Job {
    pub history: History,
    pub ctx: usize,
    pub carried: Carried,
    pub folded: Vec<(u64, u64)>,
}

/// What judging one segment found.
pub struct Judged {
    pub verdicts: Vec<RuleVerdict>,
    /// The record each failing verdict cites first, as it was written.
    pub cited: Vec<OpRecord>,
    /// Whose time the segment's periods were judged in (`check::time_source`).
    pub time_source: String,
    /// The segment's records, handed back for a later segment to fill.
    pub ops: Vec<OpRecord>,
}

/// Judges one segment by the rules in `only` (all when empty).
pub fn judge(job: Job, only: &[String]) -> Judged {
    let Job {
        history: h,
        ctx,
        carried,
        folded,
    } = job;
    let verdicts = super::judge_rules(&h, only, ctx, carried);
    let mut cited: Vec<OpRecord> = Vec::new();
    for id in verdicts
        .iter()
        .filter(|v| v.verdict == Verdict::Fail)
        .filter_map(|v| v.ops.first())
    {
        if let Some(o) = h.ops.iter().find(|o| o.id == *id) {
            if !cited.iter().any(|c| c.id == o.id) {
                let mut o = o.clone();
                // A folded order is cited as it was written, not as the fold.
                if let Some(&(_, amount)) = folded.iter().find(|(id, _)| *id == o.id) {
                    o.amount = amount;
                }
                cited.push(o);
            }
        }
    }
    // Every clock read is carried, so the last segment names the run's time source.
    let time_source = super::time_source(&h);
    Judged {
        verdicts,
        cited,
        time_source,
        ops: h.ops,
    }
}

/// The judging thread: one segment at a time, in the order handed.
pub struct Worker {
    jobs: Option<SyncSender<Job>>,
    done: Receiver<Judged>,
    thread: Option<JoinHandle<()>>,
    /// Segments handed and not yet taken back.
    in_flight: usize,
}

impl Worker {
    /// Starts the thread; `None` where no thread can be started (then the caller
    /// judges in turn, as before).
    pub fn start(only: Vec<String>) -> Option<Worker> {
        Worker::start_with(only, judge)
    }

    /// [`Worker::start`] with the judging function given (the tests give one that
    /// panics).
    fn start_with(only: Vec<String>, judge: fn(Job, &[String]) -> Judged) -> Option<Worker> {
        // No room for a second job: handing one on waits until the thread has finished
        // the one before, so at most one segment is judged while one fills.
        let (jobs, rx) = sync_channel::<Job>(0);
        let (tx, done) = std::sync::mpsc::channel::<Judged>();
        let thread = std::thread::Builder::new()
            .name("qb-segment-judge".into())
            .spawn(move || {
                for job in rx {
                    let mut judged = judge(job, &only);
                    // Let the records' own allocations go now; the buffer is reused.
                    judged.ops.clear();
                    if tx.send(judged).is_err() {
                        break;
                    }
                }
            })
            .ok()?;
        Some(Worker {
            jobs: Some(jobs),
            done,
            thread: Some(thread),
            in_flight: 0,
        })
    }

    /// Hands `job` on, waiting while the segment before it is judged, and gives back
    /// what has been judged since the last call, in segment order.
    pub fn hand(&mut self, job: Job) -> Vec<Judged> {
        if self.jobs.as_ref().is_none_or(|j| j.send(job).is_err()) {
            // The thread is gone: only a panic ends it while jobs can still be sent.
            self.rethrow();
        }
        self.in_flight += 1;
        let mut out = Vec::new();
        while let Ok(j) = self.done.try_recv() {
            self.in_flight -= 1;
            out.push(j);
        }
        out
    }

    /// Waits for every segment handed on, and gives back what they found, in order.
    pub fn drain(&mut self) -> Vec<Judged> {
        let mut out = Vec::new();
        while self.in_flight > 0 {
            match self.done.recv() {
                Ok(j) => {
                    self.in_flight -= 1;
                    out.push(j);
                }
                Err(_) => self.rethrow(),
            }
        }
        out
    }

    /// The thread ended early: it panicked. Its panic goes on here, where a one-thread
    /// judgement would have raised it.
    fn rethrow(&mut self) -> ! {
        self.jobs = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            _ => panic!("the segment-judging thread ended before its segments were judged"),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; wait for it, so nothing judges on
        // after its caller is gone. A panic there was already raised, or is moot.
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Job, Worker};
    use crate::history::{Header, History};

    /// A job told apart by its buffer's capacity, which judging keeps.
    fn job(k: usize) -> Job {
        Job {
            history: History {
                header: Header::sample(),
                ops: Vec::with_capacity(10 * (k + 1)),
            },
            ctx: 0,
            carried: Default::default(),
            folded: Vec::new(),
        }
    }

    #[test]
    fn a_panic_on_the_judging_thread_goes_on_in_the_caller_with_its_message() {
        fn judge_or_panic(j: Job, only: &[String]) -> super::Judged {
            if j.history.ops.capacity() >= 30 {
                panic!("rule broke on segment 3");
            }
            super::judge(j, only)
        }
        let mut w = Worker::start_with(Vec::new(), judge_or_panic).expect("a thread");
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut back = 0;
            for k in 0..6 {
                back += w.hand(job(k)).len();
            }
            back + w.drain().len()
        }));
        let panic = caught.expect_err("the worker's panic was swallowed");
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert_eq!(msg, "rule broke on segment 3");
        // The thread is gone and joined: dropping the worker does not hang.
        drop(w);
    }

    #[test]
    fn segments_come_back_judged_in_the_order_handed() {
        let mut w = Worker::start(Vec::new()).expect("a thread");
        let mut back = Vec::new();
        for k in 0..6 {
            back.extend(w.hand(job(k)));
            // At most the one being judged is still out.
            assert!(w.in_flight <= 1, "{}", w.in_flight);
        }
        back.extend(w.drain());
        assert_eq!(w.in_flight, 0);
        let caps: Vec<usize> = back.iter().map(|j| j.ops.capacity() / 10).collect();
        assert_eq!(caps, vec![1, 2, 3, 4, 5, 6]);
        // Judged as on the calling thread.
        let here = super::judge(job(0), &[]);
        for j in &back {
            assert_eq!(j.verdicts.len(), here.verdicts.len());
            for (a, b) in j.verdicts.iter().zip(&here.verdicts) {
                assert_eq!((&a.id, a.verdict), (&b.id, b.verdict));
            }
        }
    }
}
