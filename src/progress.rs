//! Progress output on stderr (stdout carries the summary).

use crate::engine::PhaseStats;

/// One line when a phase ends.
pub fn phase_done(p: &PhaseStats) {
    let mut line = format!(
        "phase {:<20} {:>7} ops in {:>6.2}s",
        p.name, p.operations, p.seconds
    );
    if let Some(r) = p.asked_rate {
        line.push_str(&format!(
            "  asked {r:.0}/s late {} dropped {}",
            p.late, p.dropped
        ));
    }
    eprintln!("{}", crate::redact::redact(&line));
}
