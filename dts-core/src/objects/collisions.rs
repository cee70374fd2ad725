//! Destination tables taken by source tables, so a table that appears during incremental
//! write (CREATE TABLE, RENAME TABLE) cannot silently share another table's destination
//! table: the precheck proves the tables present at start apart
//! ([`super::ConfigFilter::check_tables`]); this registry covers the ones that come later.

use crate::change::{Ddl, DdlKind};
use crate::schema::TableId;
use std::collections::HashMap;

/// Which source table each destination table (case-folded when the destination folds names)
/// belongs to.
#[derive(Debug, Default)]
pub(super) struct Destinations {
    owners: HashMap<TableId, TableId>,
}

impl Destinations {
    /// Records that `source` maps to `destination`, unless another table holds it already.
    pub(super) fn claim(&mut self, destination: TableId, source: &TableId) {
        if self.owners.len() < 1_000_000 {
            self.owners
                .entry(destination)
                .or_insert_with(|| source.clone());
        }
    }

    /// The other source table that holds `destination`, if any.
    pub(super) fn owner_other_than(
        &self,
        destination: &TableId,
        source: &TableId,
    ) -> Option<&TableId> {
        self.owners
            .get(destination)
            .filter(|owner| *owner != source)
    }

    /// Forgets the destination of source table `source` (it was dropped or renamed).
    pub(super) fn release(&mut self, source: &TableId) {
        self.owners.retain(|_, owner| owner != source);
    }

    /// Forgets every table of source database `database`.
    pub(super) fn release_database(&mut self, database: &str) {
        self.owners.retain(|_, owner| owner.database != database);
    }
}

/// The source tables a statement creates (CREATE TABLE, the new names of RENAME TABLE) and
/// the ones it removes (DROP TABLE, the old names of RENAME TABLE), in statement order.
pub(super) fn created_and_removed(ddl: &Ddl) -> Vec<(Option<&TableId>, Option<&TableId>)> {
    match ddl.kind {
        // CREATE TABLE x [LIKE y]: the created table comes first.
        DdlKind::CreateTable => ddl
            .tables
            .first()
            .map(|t| (Some(t), None))
            .into_iter()
            .collect(),
        DdlKind::DropTable => ddl.tables.iter().map(|t| (None, Some(t))).collect(),
        DdlKind::RenameTable => ddl
            .tables
            .chunks(2)
            .filter_map(|pair| match pair {
                [old, new] => Some((Some(new), Some(old))),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
