//! How a row condition compares character strings: the column's collation, read from its name.
//!
//! The rules modelled (MySQL 8.0 / MariaDB 10.x):
//! - `*_ci` collations compare case-insensitively; unless the name says `_as_` (accent
//!   sensitive) they are also accent-insensitive for Latin letters (`é` = `e`), like
//!   `utf8mb4_general_ci`, `utf8mb4_unicode_ci` and `utf8mb4_0900_ai_ci`;
//! - `*_bin` and `*_cs` collations compare code point by code point (which for UTF-8 is the
//!   byte order);
//! - PAD SPACE collations (all but MySQL 8.0's `*_0900_*` and MariaDB's `*_nopad_*`) ignore
//!   trailing spaces, so `'a' = 'a  '`;
//! - the `binary` "collation" compares bytes and is handled as a binary string by the caller.
//!
//! Case-insensitive ordering compares upper-cased characters, as `*_general_ci` does; UCA
//! collations order some punctuation differently, which can only matter for `<`/`>` between
//! strings that differ in punctuation.

use std::cmp::Ordering;

/// Who decided a string's collation, for MySQL's coercibility rules: an explicit `COLLATE`
/// wins over a column, which wins over a literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Derivation {
    /// `expr COLLATE name`.
    Explicit,
    /// A column's own collation.
    Column,
    /// A literal or the result of an expression over literals.
    Literal,
}

/// A character string comparison rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Collation {
    /// Upper- and lower-case letters compare equal.
    pub case_insensitive: bool,
    /// Accented Latin letters compare equal to their base letter.
    pub accent_insensitive: bool,
    /// Trailing spaces are ignored.
    pub pad_space: bool,
    /// Where the collation came from.
    pub derivation: Derivation,
}

impl Collation {
    /// The collation of a literal: the connection default of MySQL 8.0, `utf8mb4_0900_ai_ci`.
    pub const LITERAL: Collation = Collation {
        case_insensitive: true,
        accent_insensitive: true,
        pad_space: false,
        derivation: Derivation::Literal,
    };

    /// The comparison rule a collation name stands for. Unknown names are read as
    /// case-insensitive PAD SPACE, the behaviour of the classic `*_general_ci` defaults.
    pub fn from_name(name: &str, derivation: Derivation) -> Collation {
        let n = name.to_ascii_lowercase();
        let no_pad = n.contains("_0900_") || n.contains("nopad");
        if n.ends_with("_bin") || n.ends_with("_cs") || n == "binary" {
            return Collation {
                case_insensitive: false,
                accent_insensitive: false,
                pad_space: !no_pad,
                derivation,
            };
        }
        Collation {
            case_insensitive: true,
            accent_insensitive: !n.contains("_as_"),
            pad_space: !no_pad,
            derivation,
        }
    }

    /// The collation two operands are compared with: the one with the stronger derivation,
    /// the left one on a tie.
    pub fn resolve(left: Collation, right: Collation) -> Collation {
        if right.derivation < left.derivation {
            right
        } else {
            left
        }
    }

    /// The comparison key of one character.
    pub fn fold(&self, c: char) -> char {
        let c = if self.accent_insensitive {
            strip_accent(c)
        } else {
            c
        };
        if self.case_insensitive {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        } else {
            c
        }
    }

    /// Compares two strings under this collation.
    pub fn compare(&self, a: &str, b: &str) -> Ordering {
        let (a, b) = if self.pad_space {
            (a.trim_end_matches(' '), b.trim_end_matches(' '))
        } else {
            (a, b)
        };
        if !self.case_insensitive && !self.accent_insensitive {
            return a.cmp(b);
        }
        a.chars()
            .map(|c| self.fold(c))
            .cmp(b.chars().map(|c| self.fold(c)))
    }
}

/// The base letter of an accented Latin-1 / Latin Extended-A letter (`é` → `e`, `Ñ` → `N`);
/// other characters unchanged.
pub fn strip_accent(c: char) -> char {
    match c {
        'À'..='Å' | 'Ā' | 'Ă' | 'Ą' => 'A',
        'à'..='å' | 'ā' | 'ă' | 'ą' => 'a',
        'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => 'C',
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
        'Ď' | 'Đ' => 'D',
        'ď' | 'đ' => 'd',
        'È'..='Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => 'E',
        'è'..='ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => 'G',
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
        'Ĥ' | 'Ħ' => 'H',
        'ĥ' | 'ħ' => 'h',
        'Ì'..='Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' => 'I',
        'ì'..='ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => 'i',
        'Ĵ' => 'J',
        'ĵ' => 'j',
        'Ķ' => 'K',
        'ķ' => 'k',
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => 'L',
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => 'l',
        'Ñ' | 'Ń' | 'Ņ' | 'Ň' => 'N',
        'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
        'Ò'..='Ö' | 'Ø' | 'Ō' | 'Ŏ' | 'Ő' => 'O',
        'ò'..='ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => 'o',
        'Ŕ' | 'Ŗ' | 'Ř' => 'R',
        'ŕ' | 'ŗ' | 'ř' => 'r',
        'Ś' | 'Ŝ' | 'Ş' | 'Š' => 'S',
        'ś' | 'ŝ' | 'ş' | 'š' => 's',
        'Ţ' | 'Ť' | 'Ŧ' => 'T',
        'ţ' | 'ť' | 'ŧ' => 't',
        'Ù'..='Ü' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => 'U',
        'ù'..='ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => 'u',
        'Ŵ' => 'W',
        'ŵ' => 'w',
        'Ý' | 'Ŷ' | 'Ÿ' => 'Y',
        'ý' | 'ÿ' | 'ŷ' => 'y',
        'Ź' | 'Ż' | 'Ž' => 'Z',
        'ź' | 'ż' | 'ž' => 'z',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str) -> Collation {
        Collation::from_name(name, Derivation::Column)
    }

    #[test]
    fn ci_ignores_case_accents_and_trailing_spaces() {
        let ci = c("utf8mb4_general_ci");
        assert_eq!(ci.compare("Apple", "aPPLE  "), Ordering::Equal);
        assert_eq!(ci.compare("café", "CAFE"), Ordering::Equal);
        assert_eq!(ci.compare("a", "B"), Ordering::Less);
        assert_eq!(ci.compare("a ", "a\t"), Ordering::Less);
    }

    #[test]
    fn nopad_collations_keep_trailing_spaces() {
        assert_eq!(c("utf8mb4_0900_ai_ci").compare("a", "A "), Ordering::Less);
        assert_eq!(c("utf8mb4_nopad_bin").compare("a", "a "), Ordering::Less);
        assert_eq!(c("utf8mb4_0900_as_ci").compare("é", "e"), Ordering::Greater);
        assert_eq!(c("utf8mb4_0900_as_ci").compare("É", "é"), Ordering::Equal);
    }

    #[test]
    fn bin_compares_code_points_with_pad() {
        let bin = c("utf8mb4_bin");
        assert_eq!(bin.compare("a", "A"), Ordering::Greater);
        assert_eq!(bin.compare("a", "a   "), Ordering::Equal);
        assert_eq!(c("latin1_general_cs").compare("a", "A"), Ordering::Greater);
    }

    #[test]
    fn stronger_derivation_wins() {
        let lit = Collation::LITERAL;
        let col = c("utf8mb4_bin");
        assert_eq!(Collation::resolve(lit, col), col);
        assert_eq!(Collation::resolve(col, lit), col);
        let explicit = Collation::from_name("utf8mb4_general_ci", Derivation::Explicit);
        assert_eq!(Collation::resolve(col, explicit), explicit);
    }
}
