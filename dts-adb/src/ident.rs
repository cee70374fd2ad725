//! Quoting of identifiers for the SQL this crate builds. Values always travel as bound
//! parameters; only identifiers are spliced into statement text, and always through
//! [`quote_ident`] — the MySQL destination's quoting (`dts_mysql::wire::ident`), since ADB speaks the
//! same dialect for names. Only the list helper is this crate's own.

pub use dts_mysql::wire::ident::{quote_ident, quote_table};

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
    use dts_core::TableId;

    #[test]
    fn hostile_names_are_quoted() {
        assert_eq!(quote_ident("a`b"), "`a``b`");
        assert_eq!(quote_ident("``"), "``````");
        assert_eq!(quote_ident("x; DROP TABLE y"), "`x; DROP TABLE y`");
        assert_eq!(quote_table(&TableId::new("d`b", "t.1")), "`d``b`.`t.1`");
        assert_eq!(quote_list(&["a", "b`"]), "`a`, `b```");
    }
}
