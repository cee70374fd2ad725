//! The source account's grants, parsed from its `SHOW GRANTS` lines, for the privilege check
//! of the source precheck.

use std::collections::BTreeSet;

/// What an account may do, from its `SHOW GRANTS` lines. Table-, column- and routine-level
/// grants are ignored: they never cover a whole database.
#[derive(Debug, Default)]
pub(crate) struct Grants {
    /// Privileges on `*.*`, upper case (`ALL` as `ALL PRIVILEGES`).
    global: BTreeSet<String>,
    /// (database name pattern, privileges) of `ON db.*` grants.
    databases: Vec<(String, BTreeSet<String>)>,
    /// (database name pattern, privileges) of `REVOKE … ON db.*` lines (MySQL partial revokes).
    revoked: Vec<(String, BTreeSet<String>)>,
}

/// The object of a grant.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum GrantObject {
    /// `*.*`
    Global,
    /// `db.*`, the name as written (a LIKE pattern).
    Database(String),
    /// A table, routine, proxy user or anything else.
    Other,
}

/// One parsed `GRANT privileges ON object TO …` or `REVOKE privileges ON object FROM …` line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct GrantLine {
    revoke: bool,
    privileges: BTreeSet<String>,
    object: GrantObject,
}

impl Grants {
    pub(crate) fn parse(lines: &[String]) -> Self {
        let mut grants = Grants::default();
        for line in lines {
            let Some(g) = parse_grant_line(line) else {
                continue;
            };
            match (g.revoke, g.object) {
                (false, GrantObject::Global) => grants.global.extend(g.privileges),
                (false, GrantObject::Database(db)) => grants.databases.push((db, g.privileges)),
                (true, GrantObject::Database(db)) => grants.revoked.push((db, g.privileges)),
                _ => {}
            }
        }
        grants
    }

    pub(crate) fn global(&self, privilege: &str) -> bool {
        self.global.contains(privilege) || self.global.contains("ALL PRIVILEGES")
    }

    pub(crate) fn on_database(&self, db: &str, privilege: &str, case_insensitive: bool) -> bool {
        let has =
            |set: &BTreeSet<String>| set.contains(privilege) || set.contains("ALL PRIVILEGES");
        let revoked = self
            .revoked
            .iter()
            .any(|(p, set)| has(set) && like_match(p, db, case_insensitive));
        let granted_here = self
            .databases
            .iter()
            .any(|(p, set)| has(set) && like_match(p, db, case_insensitive));
        granted_here || (self.global(privilege) && !revoked)
    }
}

pub(crate) fn parse_grant_line(line: &str) -> Option<GrantLine> {
    let line = line.trim();
    let upper = line.to_ascii_uppercase();
    let (revoke, rest) = if upper.starts_with("GRANT ") {
        (false, &line[6..])
    } else if upper.starts_with("REVOKE ") {
        (true, &line[7..])
    } else {
        return None;
    };
    let on = find_keyword(rest, " ON ")?;
    let mut privileges = BTreeSet::new();
    for item in split_top_level(&rest[..on], ',') {
        if item.contains('(') {
            continue; // column-level
        }
        let name = item
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_uppercase();
        if name.is_empty() {
            continue;
        }
        privileges.insert(if name == "ALL" {
            "ALL PRIVILEGES".to_string()
        } else {
            name
        });
    }
    Some(GrantLine {
        revoke,
        privileges,
        object: parse_object(rest[on + 4..].trim_start()),
    })
}

/// Byte index of `keyword` (ASCII, case-insensitive) in `s` outside quotes and parentheses.
pub(crate) fn find_keyword(s: &str, keyword: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let kw = keyword.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'`' | b'\'' | b'"' => quote = Some(b),
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                _ if depth == 0
                    && bytes.len() - i >= kw.len()
                    && bytes[i..i + kw.len()].eq_ignore_ascii_case(kw) =>
                {
                    return Some(i);
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Splits on `sep` outside quotes and parentheses, trimming each part.
pub(crate) fn split_top_level(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '`' | '\'' | '"' => quote = Some(c),
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ if c == sep && depth == 0 => {
                    parts.push(s[start..i].trim());
                    start = i + c.len_utf8();
                }
                _ => {}
            },
        }
    }
    parts.push(s[start..].trim());
    parts
}

/// Parses the object after `ON`: `*.*`, `db.*` or something else.
pub(crate) fn parse_object(s: &str) -> GrantObject {
    let upper = s.to_ascii_uppercase();
    let s = if upper.starts_with("TABLE ") {
        s[6..].trim_start()
    } else if ["FUNCTION ", "PROCEDURE ", "PACKAGE "]
        .iter()
        .any(|k| upper.starts_with(k))
    {
        return GrantObject::Other;
    } else {
        s
    };
    let Some((first, rest)) = parse_name(s) else {
        return GrantObject::Other;
    };
    let Some(rest) = rest.strip_prefix('.') else {
        return GrantObject::Other;
    };
    let Some((second, _)) = parse_name(rest) else {
        return GrantObject::Other;
    };
    match (first, second) {
        (Name::Star, Name::Star) => GrantObject::Global,
        (Name::Ident(db), Name::Star) => GrantObject::Database(db),
        _ => GrantObject::Other,
    }
}

pub(crate) enum Name {
    Star,
    Ident(String),
}

/// One identifier (quoted with backticks or double quotes, or bare) or `*`, and the rest.
pub(crate) fn parse_name(s: &str) -> Option<(Name, &str)> {
    let mut chars = s.char_indices();
    let (_, first) = chars.next()?;
    if first == '*' {
        return Some((Name::Star, &s[1..]));
    }
    if first == '`' || first == '"' {
        let mut name = String::new();
        let mut iter = s[1..].char_indices().peekable();
        while let Some((i, c)) = iter.next() {
            if c == first {
                if matches!(iter.peek(), Some((_, n)) if *n == first) {
                    iter.next();
                    name.push(first);
                } else {
                    return Some((Name::Ident(name), &s[1 + i + c.len_utf8()..]));
                }
            } else {
                name.push(c);
            }
        }
        return None;
    }
    let end = s
        .find(|c: char| c == '.' || c.is_whitespace())
        .unwrap_or(s.len());
    (end > 0).then(|| (Name::Ident(s[..end].to_string()), &s[end..]))
}

/// MySQL's database-grant matching: `%` and `_` are wildcards, `\` escapes the next character.
pub(crate) fn like_match(pattern: &str, name: &str, case_insensitive: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        if case_insensitive {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let p = norm(pattern);
    let n = norm(name);
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Lit(char),
        One,
        Any,
    }
    let mut toks = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' if i + 1 < p.len() => {
                toks.push(Tok::Lit(p[i + 1]));
                i += 1;
            }
            '%' => toks.push(Tok::Any),
            '_' => toks.push(Tok::One),
            c => toks.push(Tok::Lit(c)),
        }
        i += 1;
    }
    // dp[j]: the tokens so far match n[..j].
    let mut dp = vec![false; n.len() + 1];
    dp[0] = true;
    for tok in toks {
        let mut next = vec![false; n.len() + 1];
        for j in 0..=n.len() {
            match tok {
                Tok::Any => next[j] = dp[j] || (j > 0 && next[j - 1]),
                Tok::One => next[j] = j > 0 && dp[j - 1],
                Tok::Lit(c) => next[j] = j > 0 && dp[j - 1] && n[j - 1] == c,
            }
        }
        dp = next;
    }
    dp[n.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_lines_parse() {
        let g = parse_grant_line(
            "GRANT SELECT, REPLICATION SLAVE, REPLICATION SLAVE ADMIN ON *.* TO `u`@`%` \
             IDENTIFIED BY PASSWORD '*ABC'",
        )
        .unwrap();
        assert!(!g.revoke);
        assert_eq!(g.object, GrantObject::Global);
        assert!(g.privileges.contains("REPLICATION SLAVE"));
        assert!(g.privileges.contains("REPLICATION SLAVE ADMIN"));
        assert_eq!(g.privileges.len(), 3);

        let g = parse_grant_line("GRANT ALL ON `my``db`.* TO 'u'@'h'").unwrap();
        assert_eq!(g.object, GrantObject::Database("my`db".into()));
        assert!(g.privileges.contains("ALL PRIVILEGES"));

        let g = parse_grant_line("GRANT SELECT (a, b), INSERT ON `d`.`t` TO `u`@`%`").unwrap();
        assert_eq!(g.object, GrantObject::Other);
        assert_eq!(g.privileges.iter().collect::<Vec<_>>(), vec!["INSERT"]);

        let g = parse_grant_line("REVOKE SELECT ON `mysql`.* FROM `u`@`%`").unwrap();
        assert!(g.revoke);
        assert_eq!(g.object, GrantObject::Database("mysql".into()));

        assert_eq!(
            parse_grant_line("GRANT EXECUTE ON PROCEDURE `d`.`p` TO `u`@`%`")
                .unwrap()
                .object,
            GrantObject::Other
        );
        assert_eq!(
            parse_grant_line("GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION")
                .unwrap()
                .object,
            GrantObject::Other
        );
        // Role grants have no ON.
        assert!(parse_grant_line("GRANT `r1`@`%` TO `u`@`%`").is_none());
        assert!(parse_grant_line("GRANT `reporting` TO `u`@`%`").is_none());
    }

    #[test]
    fn like_patterns() {
        assert!(like_match("shop", "shop", false));
        assert!(!like_match("shop", "Shop", false));
        assert!(like_match("shop", "Shop", true));
        assert!(like_match("shop\\_db", "shop_db", false));
        assert!(!like_match("shop\\_db", "shopxdb", false));
        assert!(like_match("shop_db", "shopxdb", false));
        assert!(like_match("app%", "app_eu", false));
        assert!(like_match("%", "anything", false));
        assert!(!like_match("app%", "ap", false));
    }
}
