//! Quoting of identifiers and literals for the SQL this crate builds.
//!
//! Every identifier in a statement built here goes through [`quote_ident`]; values travel as
//! bound parameters wherever the protocol allows, and through [`quote_str`] where it does not.

use dts_core::TableId;

/// A MySQL identifier in backticks, with backticks inside doubled: safe for any name.
pub fn quote_ident(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 2);
    s.push('`');
    for ch in name.chars() {
        if ch == '`' {
            s.push('`');
        }
        s.push(ch);
    }
    s.push('`');
    s
}

/// `` `db`.`table` `` for a table id.
pub fn quote_table(id: &TableId) -> String {
    format!("{}.{}", quote_ident(&id.database), quote_ident(&id.table))
}

/// A string literal in single quotes, escaped for any `sql_mode` (backslash and quote doubled
/// forms are both avoided by hex-encoding anything unusual).
pub fn quote_str(value: &str) -> String {
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " _-.:,/@+=%".contains(c))
    {
        format!("'{value}'")
    } else {
        let hex: String = value.bytes().map(|b| format!("{b:02X}")).collect();
        if hex.is_empty() {
            "''".to_string()
        } else {
            format!("CONVERT(X'{hex}' USING utf8mb4)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_cannot_break_out() {
        assert_eq!(quote_ident("plain"), "`plain`");
        assert_eq!(quote_ident("a`b"), "`a``b`");
        assert_eq!(quote_ident("`; DROP TABLE x; --"), "```; DROP TABLE x; --`");
        assert_eq!(quote_table(&TableId::new("d.b", "t`")), "`d.b`.`t```");
    }

    #[test]
    fn strings_are_hex_encoded_when_unusual() {
        assert_eq!(quote_str("mysql-bin.000001"), "'mysql-bin.000001'");
        assert_eq!(quote_str("a'b"), "CONVERT(X'612762' USING utf8mb4)");
        assert_eq!(quote_str(""), "''");
    }
}
