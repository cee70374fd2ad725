//! `LIKE` matching: `%` matches any run of characters (or bytes), `_` exactly one, the escape
//! character makes the next pattern character literal. Characters are compared by their
//! collation key (case- and accent-insensitive under `_ci`), bytes by value. Unlike `=`, LIKE
//! never ignores trailing spaces.

use super::collation::Collation;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Any,
    One,
    Lit(u32),
}

fn tokens(pattern: &[u32], escape: Option<u32>) -> Vec<Tok> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut i = 0;
    while i < pattern.len() {
        let c = pattern[i];
        if Some(c) == escape && i + 1 < pattern.len() {
            out.push(Tok::Lit(pattern[i + 1]));
            i += 2;
            continue;
        }
        out.push(match c {
            0x25 => Tok::Any, // '%'
            0x5F => Tok::One, // '_'
            c => Tok::Lit(c),
        });
        i += 1;
    }
    out
}

/// Greedy wildcard matching with one backtracking point (linear in practice).
fn matches(text: &[u32], pattern: &[Tok]) -> bool {
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Tok::One) => {
                t += 1;
                p += 1;
            }
            Some(Tok::Lit(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(Tok::Any) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|tok| *tok == Tok::Any)
}

/// `text LIKE pattern` for character strings under `collation`.
pub fn like_str(text: &str, pattern: &str, escape: Option<char>, collation: &Collation) -> bool {
    let key = |c: char| collation.fold(c) as u32;
    let text: Vec<u32> = text.chars().map(key).collect();
    let raw: Vec<u32> = pattern.chars().map(|c| c as u32).collect();
    let toks: Vec<Tok> = tokens(&raw, escape.map(|c| c as u32))
        .into_iter()
        .map(|t| match t {
            Tok::Lit(c) => Tok::Lit(char::from_u32(c).map_or(c, key)),
            other => other,
        })
        .collect();
    matches(&text, &toks)
}

/// `text LIKE pattern` for binary strings.
pub fn like_bytes(text: &[u8], pattern: &[u8], escape: Option<u8>) -> bool {
    let text: Vec<u32> = text.iter().map(|b| u32::from(*b)).collect();
    let raw: Vec<u32> = pattern.iter().map(|b| u32::from(*b)).collect();
    matches(&text, &tokens(&raw, escape.map(u32::from)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::condition::collation::Derivation;

    fn ci() -> Collation {
        Collation::from_name("utf8mb4_general_ci", Derivation::Column)
    }

    fn bin() -> Collation {
        Collation::from_name("utf8mb4_bin", Derivation::Column)
    }

    #[test]
    fn wildcards() {
        let c = bin();
        assert!(like_str("abc", "a%", Some('\\'), &c));
        assert!(like_str("abc", "%c", Some('\\'), &c));
        assert!(like_str("abc", "a_c", Some('\\'), &c));
        assert!(!like_str("abc", "a_", Some('\\'), &c));
        assert!(like_str("", "%", Some('\\'), &c));
        assert!(!like_str("", "_", Some('\\'), &c));
        assert!(like_str("aXbXc", "%b%c", Some('\\'), &c));
        assert!(like_str("mississippi", "%iss%pi", None, &c));
        assert!(!like_str("mississippi", "%iss%px", None, &c));
        assert!(like_str("ab", "a%%b%", None, &c));
    }

    #[test]
    fn escapes() {
        let c = bin();
        assert!(like_str("50%", "50\\%", Some('\\'), &c));
        assert!(!like_str("500", "50\\%", Some('\\'), &c));
        assert!(like_str("a_b", "a|_b", Some('|'), &c));
        assert!(!like_str("axb", "a|_b", Some('|'), &c));
        // Without an escape character a backslash is literal.
        assert!(like_str("a\\b", "a\\b", None, &c));
        // A trailing escape character is literal.
        assert!(like_str("a\\", "a\\", Some('\\'), &c));
    }

    #[test]
    fn collation_applies_but_trailing_spaces_count() {
        assert!(like_str("Café", "CAFE", Some('\\'), &ci()));
        assert!(!like_str("Café", "CAFE", Some('\\'), &bin()));
        assert!(!like_str("abc ", "abc", Some('\\'), &ci()));
    }

    #[test]
    fn bytes() {
        assert!(like_bytes(b"\x00\xffab", b"\x00%b", Some(b'\\')));
        assert!(!like_bytes(b"AB", b"ab", Some(b'\\')));
    }
}
