//! Weighted choice among a phase's operations.

use rand::Rng;

/// Picks entries by weight using cumulative sums (one random draw, a short scan).
#[derive(Debug, Clone)]
pub struct Mix {
    cumulative: Vec<u64>,
}

impl Mix {
    /// A mix from weights (at least one positive).
    pub fn new(weights: &[u32]) -> Mix {
        let mut sum = 0u64;
        let cumulative = weights
            .iter()
            .map(|&w| {
                sum += w as u64;
                sum
            })
            .collect();
        Mix { cumulative }
    }

    /// The index of the next entry.
    pub fn pick<R: Rng>(&self, rng: &mut R) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1);
        let x = rng.random_range(0..total.max(1));
        self.cumulative.partition_point(|&c| c <= x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn picks_follow_the_weights() {
        let mix = Mix::new(&[8, 0, 2]);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut counts = [0u32; 3];
        for _ in 0..10_000 {
            counts[mix.pick(&mut rng)] += 1;
        }
        assert_eq!(counts[1], 0, "a zero weight is never picked");
        assert!((7_600..8_400).contains(&counts[0]), "{counts:?}");
        assert!((1_600..2_400).contains(&counts[2]), "{counts:?}");
    }
}
