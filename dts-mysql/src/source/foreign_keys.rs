//! Reading the source's foreign keys from `information_schema` (`REFERENTIAL_CONSTRAINTS`
//! joined with `KEY_COLUMN_USAGE`): what the task derives InnoDB's cascades from
//! ([`dts_core::cascade`]).

use crate::wire::catalog::Scope;
use dts_core::{Error, ForeignKey, ReferentialAction, TableId};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use std::collections::BTreeMap;

/// The foreign keys whose child table is in `scope` (the parent may be anywhere), in a stable
/// order (child database, constraint name).
pub async fn read_foreign_keys(conn: &mut Conn, scope: &Scope) -> Result<Vec<ForeignKey>, Error> {
    let map = |e| crate::wire::conn::classify("source", "read foreign keys", e);
    let (cond, params) = scope.where_clause("rc.CONSTRAINT_SCHEMA");
    let sql = format!(
        "SELECT rc.CONSTRAINT_SCHEMA, rc.CONSTRAINT_NAME, rc.TABLE_NAME, \
         rc.UPDATE_RULE, rc.DELETE_RULE, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, \
         k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME \
         FROM information_schema.REFERENTIAL_CONSTRAINTS rc \
         JOIN information_schema.KEY_COLUMN_USAGE k \
           ON k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA \
          AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME \
          AND k.TABLE_NAME = rc.TABLE_NAME \
         WHERE {cond} AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY rc.CONSTRAINT_SCHEMA, rc.TABLE_NAME, rc.CONSTRAINT_NAME, k.ORDINAL_POSITION"
    );
    type Line = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    let rows: Vec<Line> = conn.exec(sql, params).await.map_err(map)?;
    let mut keys: BTreeMap<(String, String, String), ForeignKey> = BTreeMap::new();
    for (db, name, table, update_rule, delete_rule, col, ref_db, ref_table, ref_col) in rows {
        let rule = |r: &str| {
            ReferentialAction::parse(r).ok_or_else(|| Error::Schema {
                table: TableId::new(&db, &table),
                message: format!("foreign key `{name}` has an unknown referential action `{r}`"),
            })
        };
        let on_update = rule(&update_rule)?;
        let on_delete = rule(&delete_rule)?;
        let fk = keys
            .entry((db.clone(), table.clone(), name.clone()))
            .or_insert_with(|| ForeignKey {
                name: name.clone(),
                child: TableId::new(&db, &table),
                child_columns: vec![],
                parent: TableId::new(&ref_db, &ref_table),
                parent_columns: vec![],
                on_update,
                on_delete,
            });
        fk.child_columns.push(col);
        fk.parent_columns.push(ref_col);
    }
    Ok(keys.into_values().collect())
}
