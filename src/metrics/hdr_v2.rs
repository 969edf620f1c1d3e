//! HdrHistogram's V2 histogram encoding, plain and compressed: what latency.hlog carries
//! in each interval line. Written here so the binary does not build hdrhistogram's
//! `serialization` feature (nom, flate2, base64) only to write it; nothing in the
//! binary reads one.
//!
//! The format is HdrHistogram's own (Java: `AbstractHistogram.encodeIntoByteBuffer`,
//! `encodeIntoCompressedByteBuffer` and `ZigZagEncoding`), as hdrhistogram 7.5's
//! `src/serialization/v2_serializer.rs` and `v2_deflate_serializer.rs` write it. All
//! integers are big-endian.
//!
//! Plain (40-byte header, then the counts):
//!
//! | bytes | field |
//! |---|---|
//! | 4 | cookie `0x1c849313` (V2 base `0x1c849303`, `0x10`: LEB128 counts) |
//! | 4 | length of the counts that follow |
//! | 4 | normalizing index offset (always 0: the crate never shifts a histogram) |
//! | 4 | significant value digits |
//! | 8 | lowest discernible value |
//! | 8 | highest trackable value |
//! | 8 | integer to double conversion ratio (f64, 1.0 for an integer histogram) |
//!
//! The counts run from index 0 through the index of the maximum: each zig-zag encoded,
//! then written as LEB128-64b9B (LEB128 for the first 8 groups of 7 bits, the 9th byte
//! holds the top 8 bits whole), a run of two or more zero counts as one negative number
//! (minus its length).
//!
//! Compressed: cookie `0x1c849314` (V2 compressed base `0x1c849304` | `0x10`), the
//! length of what follows, then the plain encoding in a zlib stream (RFC 1950; the Java
//! writer's `Deflater` and the crate's flate2 `ZlibEncoder` both use zlib's wrapper,
//! whatever the name "deflate" says).

use hdrhistogram::Histogram;

const V2_COOKIE: u32 = 0x1c84_9303 | 0x10;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9304 | 0x10;

/// zlib's default level, which both the Java writer (`Deflater.DEFAULT_COMPRESSION`)
/// and hdrhistogram (`Compression::default()`) use.
const ZLIB_LEVEL: u8 = 6;

/// Why a histogram cannot be encoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    /// Zig-zag encoding holds counts up to i64::MAX; the format has no wider count.
    #[error(
        "a count of {count} at value {value} is above i64::MAX, which the V2 encoding cannot hold"
    )]
    CountTooLarge { value: u64, count: u64 },
    /// The header's length fields are 32 bits wide.
    #[error("the encoded histogram takes {0} bytes, more than the V2 length field holds")]
    TooLong(usize),
}

/// Encodes histograms, reusing its buffers from one to the next (latency.hlog writes one
/// per operation and second).
#[derive(Default)]
pub struct V2Encoder {
    plain: Vec<u8>,
    compressed: Vec<u8>,
}

impl V2Encoder {
    pub fn new() -> V2Encoder {
        V2Encoder::default()
    }

    /// The plain V2 encoding of `h`: latency.hlog holds only the compressed one; the
    /// tests compare this with the crate's bytes, which compression cannot blur.
    #[cfg(test)]
    pub fn plain(&mut self, h: &Histogram<u64>) -> Result<&[u8], EncodeError> {
        encode_plain(h, &mut self.plain)?;
        Ok(&self.plain)
    }

    /// The compressed V2 encoding of `h`, what an interval log's lines hold (base64).
    pub fn compressed(&mut self, h: &Histogram<u64>) -> Result<&[u8], EncodeError> {
        encode_plain(h, &mut self.plain)?;
        let zlib = miniz_oxide::deflate::compress_to_vec_zlib(&self.plain, ZLIB_LEVEL);
        let len = u32::try_from(zlib.len()).map_err(|_| EncodeError::TooLong(zlib.len()))?;
        self.compressed.clear();
        self.compressed
            .extend_from_slice(&V2_COMPRESSED_COOKIE.to_be_bytes());
        self.compressed.extend_from_slice(&len.to_be_bytes());
        self.compressed.extend_from_slice(&zlib);
        Ok(&self.compressed)
    }
}

/// Writes the plain encoding into `out` (cleared first).
fn encode_plain(h: &Histogram<u64>, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.clear();
    out.extend_from_slice(&V2_COOKIE.to_be_bytes());
    // The counts' length, filled in once they are written.
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&u32::from(h.sigfig()).to_be_bytes());
    out.extend_from_slice(&h.low().to_be_bytes());
    out.extend_from_slice(&h.high().to_be_bytes());
    out.extend_from_slice(&1.0f64.to_be_bytes());
    const HEADER: usize = 40;
    debug_assert_eq!(out.len(), HEADER);
    encode_counts(h, out)?;
    let counts = out.len() - HEADER;
    let len = u32::try_from(counts).map_err(|_| EncodeError::TooLong(out.len()))?;
    out[4..8].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Appends the counts from index 0 through the maximum's index. The crate keeps its
/// counts array private without `serialization`, so the indices are walked through
/// their value ranges: each index covers `[lowest_equivalent(v), lowest_equivalent(v) +
/// equivalent_range(v))`, the ranges are contiguous and in index order, and `count_at`
/// reads the index of a value. The walk ends at the range holding `max()` (index 0 alone
/// for an empty histogram, whose max is 0, as the crate's own writer does).
fn encode_counts(h: &Histogram<u64>, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let max = h.max();
    let mut zeros: i64 = 0;
    let mut v = 0u64;
    loop {
        let count = h.count_at(v);
        if count == 0 {
            zeros += 1;
        } else {
            put_zeros(out, zeros);
            zeros = 0;
            let c = i64::try_from(count).map_err(|_| EncodeError::CountTooLarge {
                value: h.lowest_equivalent(v),
                count,
            })?;
            put_varint(out, zig_zag(c));
        }
        // The top range of a histogram tracking up to u64::MAX ends past u64::MAX: no
        // next range, and nothing after it.
        match h.lowest_equivalent(v).checked_add(h.equivalent_range(v)) {
            Some(next) if next <= max => v = next,
            _ => break,
        }
    }
    put_zeros(out, zeros);
    Ok(())
}

/// A run of zero counts: one zero as itself, longer runs as minus their length.
fn put_zeros(out: &mut Vec<u8>, zeros: i64) {
    match zeros {
        0 => {}
        1 => put_varint(out, 0),
        n => put_varint(out, zig_zag(-n)),
    }
}

/// 0, -1, 1, -2, … to 0, 1, 2, 3, …: small magnitudes of either sign stay short.
fn zig_zag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

/// LEB128-64b9B: 7 bits a byte, low first, the high bit saying more follows; after 8
/// such bytes the 9th holds the remaining 8 bits whole, so a u64 never takes 10 bytes.
fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    for _ in 0..8 {
        if n < 0x80 {
            out.push(n as u8);
            return;
        }
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed, TestRunner};
    use std::io::Cursor;

    fn decode(bytes: &[u8]) -> Histogram<u64> {
        Deserializer::new()
            .deserialize(&mut Cursor::new(bytes))
            .unwrap_or_else(|e| panic!("hdrhistogram cannot read our encoding: {e:?}"))
    }

    /// Equal as the crate compares them (bounds, digits, total, min, max, every count),
    /// and, said again so a failure names what differs, value by value.
    fn assert_same(got: &Histogram<u64>, want: &Histogram<u64>) {
        assert_eq!(got.low(), want.low(), "lowest discernible value");
        assert_eq!(got.high(), want.high(), "highest trackable value");
        assert_eq!(got.sigfig(), want.sigfig(), "significant digits");
        assert_eq!(got.len(), want.len(), "total count");
        assert_eq!(got.min(), want.min(), "min");
        assert_eq!(got.max(), want.max(), "max");
        let recorded = |h: &Histogram<u64>| -> Vec<(u64, u64)> {
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect()
        };
        assert_eq!(recorded(got), recorded(want), "counts at each value");
        assert!(got == want, "hdrhistogram's own equality");
    }

    /// Ours, plain and compressed, read back by hdrhistogram's reader; and the crate's own
    /// compressed writer's output, read back the same, for the same histogram.
    fn round_trip(h: &Histogram<u64>) {
        let mut enc = V2Encoder::new();
        assert_same(&decode(enc.plain(h).unwrap()), h);
        let ours = enc.compressed(h).unwrap().to_vec();
        assert_eq!(ours[..4], V2_COMPRESSED_COOKIE.to_be_bytes());
        assert_eq!(
            u32::from_be_bytes(ours[4..8].try_into().unwrap()) as usize,
            ours.len() - 8,
            "the compressed length field"
        );
        let from_ours = decode(&ours);
        assert_same(&from_ours, h);
        let mut theirs = Vec::new();
        V2DeflateSerializer::new()
            .serialize(h, &mut theirs)
            .unwrap();
        assert_same(&from_ours, &decode(&theirs));
    }

    fn hist(low: u64, high: u64, sigfig: u8) -> Histogram<u64> {
        Histogram::new_with_bounds(low, high, sigfig).unwrap()
    }

    #[test]
    fn the_plain_encoding_is_the_crates_byte_for_byte() {
        // No compression in the way: the header and counts must be the same bytes.
        let mut h = hist(1, 3_600_000_000, 3);
        for v in [1, 2, 2, 900, 1_000_000, 3_600_000_000] {
            h.record(v).unwrap();
        }
        let mut theirs = Vec::new();
        hdrhistogram::serialization::V2Serializer::new()
            .serialize(&h, &mut theirs)
            .unwrap();
        assert_eq!(V2Encoder::new().plain(&h).unwrap(), &theirs[..]);
    }

    #[test]
    fn an_empty_histogram() {
        round_trip(&hist(1, 3_600_000_000, 3));
        round_trip(&hist(1000, 1_000_000, 2));
    }

    #[test]
    fn one_value() {
        for v in [1, 7, 2048, 999_999, 3_600_000_000] {
            let mut h = hist(1, 3_600_000_000, 3);
            h.record(v).unwrap();
            round_trip(&h);
        }
    }

    #[test]
    fn values_across_the_whole_range() {
        let mut h = hist(1, u64::MAX, 3);
        let mut v = 1u64;
        while let Some(next) = v.checked_mul(3) {
            h.record(v).unwrap();
            h.record(v + 1).unwrap();
            v = next;
        }
        round_trip(&h);
    }

    #[test]
    fn the_top_range_of_a_histogram_up_to_u64_max() {
        // That range ends past u64::MAX: the walk must visit it once and stop. The format
        // keeps no max (a reader derives it from the highest nonzero count), and the crate
        // derives u64::MAX - 1 for that range: every reader of either writer's output
        // does, so the max is compared with the crate's own writer's, the rest with `h`.
        let mut h = hist(1, u64::MAX, 3);
        for v in [1, 1 << 40, u64::MAX - 1, u64::MAX] {
            h.record(v).unwrap();
        }
        let ours = decode(V2Encoder::new().compressed(&h).unwrap());
        let mut theirs = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&h, &mut theirs)
            .unwrap();
        assert_same(&ours, &decode(&theirs));
        assert_eq!((ours.len(), ours.min()), (h.len(), h.min()));
        assert_eq!(ours.count_at(u64::MAX), 2);
        assert!(h.equivalent(ours.max(), u64::MAX));
    }

    #[test]
    fn huge_counts() {
        let mut h = hist(1, 3_600_000_000, 3);
        h.record_n(5, i64::MAX as u64).unwrap();
        h.record_n(3_000_000_000, 1 << 40).unwrap();
        round_trip(&h);
    }

    #[test]
    fn a_count_zig_zag_cannot_hold_is_an_error_not_a_panic() {
        let mut h = hist(1, 3_600_000_000, 3);
        h.record_n(5, i64::MAX as u64 + 1).unwrap();
        let mut enc = V2Encoder::new();
        let want = EncodeError::CountTooLarge {
            value: 5,
            count: i64::MAX as u64 + 1,
        };
        assert_eq!(enc.plain(&h).unwrap_err(), want);
        let e = enc.compressed(&h).unwrap_err();
        assert!(e.to_string().contains("above i64::MAX"), "{e}");
    }

    #[test]
    fn an_auto_resized_histogram() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        let before = h.high();
        for v in [1, 10, 1_000, 1_000_000, 123_456_789_012] {
            h.record(v).unwrap();
        }
        assert!(h.high() > before, "the histogram grew");
        round_trip(&h);
    }

    #[test]
    fn several_significant_digit_settings() {
        for sigfig in 0..=5 {
            for low in [1, 1000] {
                let mut h = hist(low, 3_600_000_000, sigfig);
                for v in [0, low, low + 1, 12_345, 999_999, 3_600_000_000] {
                    h.record(v).unwrap();
                }
                round_trip(&h);
            }
        }
    }

    #[test]
    fn zig_zag_and_varint_edges() {
        // Values from the format's definition, not from this code.
        assert_eq!(
            [0, -1, 1, -2, 2, i64::MAX, i64::MIN].map(zig_zag),
            [0, 1, 2, 3, 4, u64::MAX - 1, u64::MAX]
        );
        let enc = |n: u64| {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            out
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(128), [0x80, 0x01]);
        assert_eq!(enc(300), [0xac, 0x02]);
        assert_eq!(
            enc((1 << 56) - 1),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]
        );
        // The 9th byte holds 8 bits, with no continuation bit.
        assert_eq!(enc(u64::MAX), [0xff; 9]);
        assert_eq!(enc(1 << 63)[8], 0x80);
    }

    #[test]
    fn random_value_sets_decode_equal() {
        // Fixed seed and case count: a bounded, repeatable run; no regression file (a
        // failure prints its shrunk input).
        let mut runner = TestRunner::new(Config {
            cases: 64,
            rng_seed: RngSeed::Fixed(0x4844_5232),
            failure_persistence: None,
            ..Config::default()
        });
        let values = prop::collection::vec((1u64..=3_600_000_000, 1u64..1_000_000), 0..200);
        // Up to 4 digits: 5 (2^17 counts a bucket) is covered above and is slow unoptimized.
        let strategy = (values, 1u8..=4, prop::bool::ANY);
        runner
            .run(&strategy, |(values, sigfig, auto)| {
                let mut h = if auto {
                    Histogram::<u64>::new(sigfig).unwrap()
                } else {
                    hist(1, 3_600_000_000, sigfig)
                };
                for (v, n) in values {
                    h.record_n(v, n).unwrap();
                }
                round_trip(&h);
                Ok(())
            })
            .unwrap();
    }
}
