//! Savepoints inside a logged transaction.
//!
//! When a transaction that also changed a non-transactional table rolls back to a savepoint,
//! the server cannot cut the rows after the savepoint out of its binlog cache (the
//! non-transactional change stays done), so it logs them followed by `ROLLBACK TO `name``:
//!
//! ```text
//! BEGIN … rows … SAVEPOINT `b` … rows (undone) … ROLLBACK TO `b` … COMMIT
//! ```
//!
//! The rows between the savepoint and the rollback never happened on transactional tables;
//! the reader drops the changes collected since the savepoint ([`Savepoints::apply`]). (Rows
//! of a non-transactional table in that stretch did happen, but the server logs those in a
//! group of their own before the transaction, as it does for every non-transactional change.)

use dts_core::Change;

/// A savepoint statement logged as a QUERY event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SavepointStatement {
    /// `SAVEPOINT name`.
    Set(String),
    /// `ROLLBACK [WORK] TO [SAVEPOINT] name`.
    RollbackTo(String),
    /// `RELEASE SAVEPOINT name`.
    Release(String),
}

/// Recognizes a savepoint statement; `None` for anything else.
pub fn classify(sql: &str) -> Option<SavepointStatement> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let name = |w: &[&str]| -> Option<String> {
        let joined = w.join(" ");
        let n = joined.trim().trim_end_matches(';').trim();
        if n.is_empty() {
            return None;
        }
        Some(
            match n.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
                Some(inner) => inner.replace("``", "`"),
                None => n.to_string(),
            },
        )
    };
    match upper.first().map(String::as_str)? {
        "SAVEPOINT" => name(&words[1..]).map(SavepointStatement::Set),
        "RELEASE" if upper.get(1).map(String::as_str) == Some("SAVEPOINT") => {
            name(&words[2..]).map(SavepointStatement::Release)
        }
        "ROLLBACK" => {
            let mut i = 1;
            if upper.get(i).map(String::as_str) == Some("WORK") {
                i += 1;
            }
            if upper.get(i).map(String::as_str) != Some("TO") {
                return None;
            }
            i += 1;
            if upper.get(i).map(String::as_str) == Some("SAVEPOINT") {
                i += 1;
            }
            name(&words[i..]).map(SavepointStatement::RollbackTo)
        }
        _ => None,
    }
}

/// The savepoints of one transaction: name and the index (within the whole transaction) of
/// the first change after it.
#[derive(Clone, Debug, Default)]
pub struct Savepoints(Vec<(String, u64)>);

impl Savepoints {
    /// Applies a savepoint statement to a transaction whose changes from index `first_change`
    /// on are `changes` (earlier ones were delivered as fragments). An error when a rollback
    /// would undo changes already delivered.
    pub fn apply(
        &mut self,
        statement: SavepointStatement,
        first_change: u64,
        changes: &mut Vec<Change>,
    ) -> Result<(), String> {
        // Savepoint names are case-insensitive identifiers.
        let find = |list: &[(String, u64)], name: &str| {
            list.iter().rposition(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        match statement {
            SavepointStatement::Set(name) => {
                // Setting a savepoint again moves it.
                if let Some(i) = find(&self.0, &name) {
                    self.0.remove(i);
                }
                self.0.push((name, first_change + changes.len() as u64));
            }
            SavepointStatement::Release(name) => {
                if let Some(i) = find(&self.0, &name) {
                    self.0.truncate(i);
                }
            }
            SavepointStatement::RollbackTo(name) => {
                let Some(i) = find(&self.0, &name) else {
                    return Err(format!(
                        "ROLLBACK TO SAVEPOINT {name} without that savepoint in the transaction"
                    ));
                };
                let at = self.0[i].1;
                if at < first_change {
                    return Err(format!(
                        "ROLLBACK TO SAVEPOINT {name} undoes changes of a transaction already \
                         delivered in fragments; raise max_transaction_changes above the \
                         transaction's size"
                    ));
                }
                changes.truncate((at - first_change) as usize);
                // The savepoint itself stays; later ones are gone.
                self.0.truncate(i + 1);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::{Ddl, DdlKind};

    fn change(n: usize) -> Change {
        Change::Ddl(Ddl {
            database: None,
            statement: n.to_string(),
            kind: DdlKind::Other,
            tables: vec![],
            sql_mode: None,
        })
    }

    #[test]
    fn statements() {
        use SavepointStatement::*;
        assert_eq!(classify("SAVEPOINT `a`"), Some(Set("a".into())));
        assert_eq!(classify("ROLLBACK TO `b`"), Some(RollbackTo("b".into())));
        assert_eq!(
            classify("rollback work to savepoint c"),
            Some(RollbackTo("c".into()))
        );
        assert_eq!(
            classify("RELEASE SAVEPOINT `x``y`"),
            Some(Release("x`y".into()))
        );
        assert_eq!(classify("ROLLBACK"), None);
        assert_eq!(classify("COMMIT"), None);
    }

    #[test]
    fn rollback_to_drops_what_followed_the_savepoint() {
        let mut sp = Savepoints::default();
        let mut changes = vec![change(0)];
        sp.apply(SavepointStatement::Set("a".into()), 0, &mut changes)
            .unwrap();
        changes.push(change(1));
        sp.apply(SavepointStatement::Set("b".into()), 0, &mut changes)
            .unwrap();
        changes.push(change(2));
        sp.apply(SavepointStatement::RollbackTo("A".into()), 0, &mut changes)
            .unwrap();
        assert_eq!(changes, vec![change(0)]);
        assert!(
            sp.apply(SavepointStatement::RollbackTo("b".into()), 0, &mut changes)
                .is_err(),
            "b went with the rollback to a"
        );
        // Behind a delivered fragment: refused.
        let mut sp = Savepoints::default();
        let mut rest = vec![change(5)];
        sp.apply(SavepointStatement::Set("s".into()), 5, &mut rest)
            .unwrap();
        let mut later: Vec<Change> = Vec::new();
        assert!(sp
            .apply(SavepointStatement::RollbackTo("s".into()), 7, &mut later)
            .is_err());
    }
}
