//! Sets of SQL operations to synchronize (the guide's "DML and DDL operations to be
//! synchronized", chosen at instance, database or table level).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One DML operation kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DmlOp {
    /// `INSERT`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

impl DmlOp {
    /// Every DML operation, in a stable order.
    pub const ALL: [DmlOp; 3] = [DmlOp::Insert, DmlOp::Update, DmlOp::Delete];
}

/// One DDL operation kind that can be selected for synchronization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DdlOp {
    /// `CREATE TABLE`.
    CreateTable,
    /// `ALTER TABLE`.
    AlterTable,
    /// `DROP TABLE`.
    DropTable,
    /// `TRUNCATE TABLE`.
    TruncateTable,
    /// `RENAME TABLE`.
    RenameTable,
    /// `CREATE DATABASE`.
    CreateDatabase,
    /// `DROP DATABASE`.
    DropDatabase,
    /// `CREATE INDEX`.
    CreateIndex,
    /// `DROP INDEX`.
    DropIndex,
}

impl DdlOp {
    /// Every DDL operation, in a stable order.
    pub const ALL: [DdlOp; 9] = [
        DdlOp::CreateTable,
        DdlOp::AlterTable,
        DdlOp::DropTable,
        DdlOp::TruncateTable,
        DdlOp::RenameTable,
        DdlOp::CreateDatabase,
        DdlOp::DropDatabase,
        DdlOp::CreateIndex,
        DdlOp::DropIndex,
    ];

    /// Whether the operation acts on a whole database, so it cannot be chosen for a single
    /// table.
    pub fn is_database_level(self) -> bool {
        matches!(self, DdlOp::CreateDatabase | DdlOp::DropDatabase)
    }
}

/// A set of DML operations, written in TOML as a list (`dml = ["insert", "update"]`).
/// The default is every operation, as in the guide ("All operations are selected by default").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DmlOpSet(BTreeSet<DmlOp>);

impl DmlOpSet {
    /// Every DML operation.
    pub fn all() -> Self {
        Self(DmlOp::ALL.into_iter().collect())
    }

    /// No DML operation (only DDL is synchronized).
    pub fn none() -> Self {
        Self(BTreeSet::new())
    }

    /// Whether `op` is selected.
    pub fn contains(&self, op: DmlOp) -> bool {
        self.0.contains(&op)
    }

    /// Whether every DML operation is selected.
    pub fn is_all(&self) -> bool {
        self.0.len() == DmlOp::ALL.len()
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The selected operations, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = DmlOp> + '_ {
        self.0.iter().copied()
    }
}

impl Default for DmlOpSet {
    fn default() -> Self {
        Self::all()
    }
}

impl FromIterator<DmlOp> for DmlOpSet {
    fn from_iter<I: IntoIterator<Item = DmlOp>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// A set of DDL operations, written in TOML as a list
/// (`ddl = ["create_table", "alter_table"]`). The default is every operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DdlOpSet(BTreeSet<DdlOp>);

impl DdlOpSet {
    /// Every DDL operation.
    pub fn all() -> Self {
        Self(DdlOp::ALL.into_iter().collect())
    }

    /// No DDL operation.
    pub fn none() -> Self {
        Self(BTreeSet::new())
    }

    /// Whether `op` is selected.
    pub fn contains(&self, op: DdlOp) -> bool {
        self.0.contains(&op)
    }

    /// Whether every DDL operation is selected.
    pub fn is_all(&self) -> bool {
        self.0.len() == DdlOp::ALL.len()
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The selected operations, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = DdlOp> + '_ {
        self.0.iter().copied()
    }
}

impl Default for DdlOpSet {
    fn default() -> Self {
        Self::all()
    }
}

impl FromIterator<DdlOp> for DdlOpSet {
    fn from_iter<I: IntoIterator<Item = DdlOp>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Holder {
        #[serde(default)]
        dml: DmlOpSet,
        #[serde(default)]
        ddl: DdlOpSet,
    }

    #[test]
    fn defaults_are_all_operations() {
        let h: Holder = toml::from_str("").unwrap();
        assert!(h.dml.is_all());
        assert!(h.ddl.is_all());
        assert!(DdlOp::ALL.iter().all(|op| h.ddl.contains(*op)));
    }

    #[test]
    fn lists_parse_and_round_trip() {
        let h: Holder =
            toml::from_str("dml = [\"insert\", \"delete\"]\nddl = [\"create_table\"]").unwrap();
        assert!(h.dml.contains(DmlOp::Insert) && !h.dml.contains(DmlOp::Update));
        assert_eq!(h.ddl.iter().collect::<Vec<_>>(), vec![DdlOp::CreateTable]);
        let back: Holder = toml::from_str(&toml::to_string(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        assert!(DmlOpSet::none().is_empty() && DdlOpSet::none().is_empty());
    }

    #[test]
    fn unknown_operation_rejected() {
        let e = toml::from_str::<Holder>("dml = [\"upsert\"]").unwrap_err();
        assert!(e.message().contains("upsert"));
    }
}
