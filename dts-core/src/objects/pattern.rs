//! Name patterns over `database.table` (`[[objects.patterns]]`, `[[objects.exclude]]`, mapping
//! rule scopes): shell wildcards or regular expressions, always matched against the whole name
//! and case-sensitively, as MySQL compares database and table names on Linux
//! (`lower_case_table_names = 0`).

use crate::config::PatternKind;
use crate::schema::TableId;
use regex::Regex;

/// A compiled name pattern.
#[derive(Clone, Debug)]
pub struct NamePattern {
    text: String,
    regex: Regex,
}

impl NamePattern {
    /// A wildcard pattern: `*` matches any run of characters (including `.`), `?` exactly one;
    /// everything else is literal.
    pub fn wildcard(pattern: &str) -> Result<NamePattern, String> {
        let mut re = String::with_capacity(pattern.len() + 8);
        re.push_str("^(?s:");
        for c in pattern.chars() {
            match c {
                '*' => re.push_str(".*"),
                '?' => re.push('.'),
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        re.push_str(")$");
        Self::compiled(pattern, &re)
    }

    /// A regular expression, matched against the whole name (anchors are implied).
    pub fn regex(pattern: &str) -> Result<NamePattern, String> {
        Self::compiled(pattern, &format!("^(?:{pattern})$"))
    }

    /// A pattern of the given kind.
    pub fn new(pattern: &str, kind: PatternKind) -> Result<NamePattern, String> {
        match kind {
            PatternKind::Wildcard => Self::wildcard(pattern),
            PatternKind::Regex => Self::regex(pattern),
        }
    }

    fn compiled(text: &str, re: &str) -> Result<NamePattern, String> {
        let regex = Regex::new(re)
            .map_err(|e| format!("`{text}` is not a valid regular expression: {e}"))?;
        Ok(NamePattern {
            text: text.to_owned(),
            regex,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        self.regex.is_match(name)
    }

    /// Whether `database.table` matches.
    pub fn matches_table(&self, id: &TableId) -> bool {
        self.matches(&format!("{}.{}", id.database, id.table))
    }
}

/// The scope of a batch mapping rule: a wildcard over `database.table`. For database-level
/// rules only the part before the first `.` is used, matched against the database name, so a
/// database maps to one name whichever of its tables is looked at.
#[derive(Clone, Debug)]
pub struct Scope {
    table: NamePattern,
    database: NamePattern,
}

impl Scope {
    /// Compiles a scope wildcard.
    pub fn new(pattern: &str) -> Result<Scope, String> {
        let db_part = pattern.split_once('.').map_or(pattern, |(d, _)| d);
        Ok(Scope {
            table: NamePattern::wildcard(pattern)?,
            database: NamePattern::wildcard(db_part)?,
        })
    }

    /// Whether the table is in scope.
    pub fn contains_table(&self, id: &TableId) -> bool {
        self.table.matches_table(id)
    }

    /// Whether the database is in scope (for database-level rules).
    pub fn contains_database(&self, database: &str) -> bool {
        self.database.matches(database)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_whole_names_literally() {
        let p = NamePattern::wildcard("shop.order_*").unwrap();
        assert!(p.matches("shop.order_2024"));
        assert!(p.matches("shop.order_"));
        assert!(!p.matches("shopx.order_1"));
        assert!(!p.matches("xshop.order_1"));
        assert!(!p.matches("shop.orders"));
        let q = NamePattern::wildcard("logs_?.e(1)").unwrap();
        assert!(q.matches("logs_a.e(1)"));
        assert!(!q.matches("logs_ab.e(1)"));
        assert!(!q.matches("logs_a.e1"));
        // Case-sensitive, like MySQL names on Linux.
        assert!(!p.matches("SHOP.order_1"));
        assert!(NamePattern::wildcard("*").unwrap().matches("a.b"));
    }

    #[test]
    fn regexes_are_anchored() {
        let p = NamePattern::regex(r"shop_\d+\.orders").unwrap();
        assert!(p.matches("shop_12.orders"));
        assert!(!p.matches("shop_12.orders_old"));
        assert!(!p.matches("old_shop_12.orders"));
        assert!(NamePattern::regex(r"^crm\.tmp_.*$")
            .unwrap()
            .matches_table(&TableId::new("crm", "tmp_x")));
        let e = NamePattern::regex("(").unwrap_err();
        assert!(e.contains("`(`"), "{e}");
    }

    #[test]
    fn scopes() {
        let s = Scope::new("crm.*").unwrap();
        assert!(s.contains_table(&TableId::new("crm", "a")));
        assert!(!s.contains_table(&TableId::new("crm2", "a")));
        assert!(s.contains_database("crm"));
        assert!(!s.contains_database("crm2"));
        let s = Scope::new("crm*").unwrap();
        assert!(s.contains_database("crm2"));
        assert!(s.contains_table(&TableId::new("crm2", "a")));
    }
}
