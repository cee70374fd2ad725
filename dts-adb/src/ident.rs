//! Quoting of identifiers for the SQL this crate builds. Values always travel as bound
//! parameters; only identifiers are spliced into statement text, and always through
//! [`quote_ident`].

use dts_core::TableId;

/// An identifier in backticks, with backticks inside doubled: safe for any name.
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

/// A comma-separated list of quoted identifiers.
pub fn quote_list<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| quote_ident(n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_quoted() {
        assert_eq!(quote_ident("a`b"), "`a``b`");
        assert_eq!(quote_ident("``"), "``````");
        assert_eq!(quote_ident("x; DROP TABLE y"), "`x; DROP TABLE y`");
        assert_eq!(quote_table(&TableId::new("d`b", "t.1")), "`d``b`.`t.1`");
        assert_eq!(quote_list(&["a", "b`"]), "`a`, `b```");
    }
}
