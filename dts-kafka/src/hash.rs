//! Partition hashing with Java's `String.hashCode()`, the function the service uses, so that
//! consumers relying on its partition assignment see the same one.

/// Java's `String.hashCode()`: `h = 31 * h + c` over the string's UTF-16 code units, with `i32`
/// wrapping arithmetic (characters outside the Basic Multilingual Plane count as their two
/// surrogate code units, exactly as in Java).
///
/// ```
/// assert_eq!(dts_kafka::java_string_hash(""), 0);
/// assert_eq!(dts_kafka::java_string_hash("a"), 97);
/// assert_eq!(dts_kafka::java_string_hash("hello"), 99_162_322);
/// ```
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The partition of a Java hash among `partitions`: `abs(hash) % partitions`, with the absolute
/// value taken in 64-bit arithmetic so that `i32::MIN` maps to `2^31 % partitions` (Java's
/// 32-bit `Math.abs(Integer.MIN_VALUE)` would stay negative). `partitions` of 0 is treated as 1.
///
/// ```
/// assert_eq!(dts_kafka::partition_for_hash(-7, 4), 3);
/// assert_eq!(dts_kafka::partition_for_hash(i32::MIN, 3), ((1i64 << 31) % 3) as i32);
/// ```
pub fn partition_for_hash(hash: i32, partitions: i32) -> i32 {
    let n = i64::from(partitions.max(1));
    (i64::from(hash).abs() % n) as i32
}

/// The partition of a string key: [`partition_for_hash`] of [`java_string_hash`].
pub fn partition_for_key(key: &str, partitions: i32) -> i32 {
    partition_for_hash(java_string_hash(key), partitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_java_hashes() {
        // Values computed by the JVM: "".hashCode(), "a".hashCode(), "hello".hashCode(), …
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("Aa"), java_string_hash("BB"));
        assert_eq!(java_string_hash("Aa"), 2112);
        // Overflow wraps: "polygenelubricants".hashCode() == Integer.MIN_VALUE.
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(java_string_hash("hello world"), 1_794_106_052);
    }

    #[test]
    fn non_ascii_uses_utf16_code_units() {
        // 'é' is one UTF-16 unit (0xE9) but two UTF-8 bytes.
        assert_eq!(java_string_hash("é"), 0xE9);
        assert_eq!(java_string_hash("café"), 3_045_921);
        // '😀' (U+1F600) is the surrogate pair D83D DE00: 0xD83D * 31 + 0xDE00.
        assert_eq!(java_string_hash("😀"), 0xD83D * 31 + 0xDE00);
        assert_eq!(java_string_hash("中文"), 20_013 * 31 + 25_991);
    }

    #[test]
    fn partitions_are_abs_modulo() {
        assert_eq!(partition_for_hash(0, 8), 0);
        assert_eq!(partition_for_hash(99_162_322, 8), 99_162_322 % 8);
        assert_eq!(partition_for_hash(-1, 8), 1);
        assert_eq!(partition_for_hash(i32::MIN, 8), 0);
        assert_eq!(partition_for_hash(i32::MIN, 3), 2);
        assert_eq!(partition_for_hash(i32::MAX, 1), 0);
        assert_eq!(partition_for_hash(5, 0), 0);
        assert_eq!(partition_for_key("hello", 7), 99_162_322 % 7);
    }
}
