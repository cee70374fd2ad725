//! The canonical row encoding both sides of a verification compute, so that a chunk checksum
//! or a row digest of the source and of the destination can be compared. Which one a pair uses
//! is the destination's choice: the source reader is asked for the same one.

/// The canonical encoding a pair of [`VerifyReader`](super::VerifyReader)s hashes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// MySQL-family pairs: `CONVERT(… USING utf8mb4)`, decimals without trailing zeros, full
    /// fractional seconds, digests as decimal numbers.
    #[default]
    Native,
    /// Pairs with an AnalyticDB destination: only functions ADB 3.0 documents, temporal values
    /// cut to milliseconds.
    Portable,
}
