//! The source's part of the migration assessment (see [`dts_core::assessment`]), whatever the
//! destination: views, procedures, functions and foreign keys that reach objects outside the
//! selection.

use crate::wire::conn::MysqlEndpoint;
use dts_core::assessment::{
    references, AssessedTable, AssessmentReport, Severity, DEPENDENCIES, FOREIGN_KEYS,
};
use dts_core::{TableId, SYSTEM_DATABASES};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use std::collections::BTreeSet;

/// The source-side checks, whatever the destination: views, procedures and functions of the
/// selected databases that use tables outside the selection, and foreign keys of selected
/// tables that reference tables outside it. A failure to read is itself a finding.
pub async fn assess_source_objects(
    source: &MysqlEndpoint,
    tables: &[AssessedTable],
    report: &mut AssessmentReport,
) {
    if let Err(e) = source_objects(source, tables, report).await {
        report.push(
            DEPENDENCIES,
            "source",
            Severity::Risk,
            format!("could not read views, routines and foreign keys: {e}"),
            "grant the account SELECT on the selected databases (information_schema shows only what it may see)",
        );
    }
}

async fn source_objects(
    ep: &MysqlEndpoint,
    tables: &[AssessedTable],
    report: &mut AssessmentReport,
) -> Result<(), dts_core::Error> {
    let mut conn = ep.connect().await?;
    let selected: BTreeSet<TableId> = tables.iter().map(|t| t.source.id.clone()).collect();
    let databases: BTreeSet<String> = selected.iter().map(|t| t.database.clone()).collect();
    let base_tables = all_base_tables(&mut conn, ep).await?;
    let outside: Vec<&TableId> = base_tables
        .iter()
        .filter(|t| !selected.contains(t))
        .collect();
    for db in &databases {
        let views: Vec<(String, String)> = conn
                .exec(
                    "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?",
                    (db,),
                )
                .await
                .map_err(|e| ep.map_err("read views", e))?;
        let routines: Vec<(String, String, Option<String>)> = conn
                .exec(
                    "SELECT ROUTINE_NAME, ROUTINE_TYPE, ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?",
                    (db,),
                )
                .await
                .map_err(|e| ep.map_err("read routines", e))?;
        let objects = views
            .into_iter()
            .map(|(n, d)| (n, "view".to_string(), d))
            .chain(
                routines
                    .into_iter()
                    .map(|(n, k, d)| (n, k.to_ascii_lowercase(), d.unwrap_or_default())),
            );
        for (name, kind, definition) in objects {
            let missing: Vec<String> = outside
                .iter()
                .filter(|t| references(&definition, db, &t.database, &t.table))
                .map(|t| t.to_string())
                .collect();
            if !missing.is_empty() {
                report.push(
                        DEPENDENCIES,
                        format!("{db}.{name}"),
                        Severity::Risk,
                        format!(
                            "{kind} {db}.{name} uses {} which {} not selected; it will not work at the destination",
                            missing.join(", "),
                            if missing.len() == 1 { "is" } else { "are" }
                        ),
                        "add those tables to the selection, or recreate the object at the destination without them",
                    );
            }
        }
        let fks: Vec<(String, String, String, String)> = conn
                .exec(
                    "SELECT TABLE_NAME, CONSTRAINT_NAME, UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME \
                     FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?",
                    (db,),
                )
                .await
                .map_err(|e| ep.map_err("read foreign keys", e))?;
        for (table, constraint, ref_db, ref_table) in fks {
            let child = TableId::new(db.clone(), table);
            let parent = TableId::new(ref_db, ref_table);
            if selected.contains(&child) && !selected.contains(&parent) {
                report.push(
                        FOREIGN_KEYS,
                        format!("{child}.{constraint}"),
                        Severity::Risk,
                        format!(
                            "foreign key {constraint} of {child} references {parent}, which is not selected: \
                             the destination gets the child rows without their parent rows"
                        ),
                        format!("add {parent} to the selection, or accept the missing parent rows"),
                    );
            }
        }
    }
    let _ = conn.disconnect().await;
    Ok(())
}

async fn all_base_tables(
    conn: &mut Conn,
    ep: &MysqlEndpoint,
) -> Result<Vec<TableId>, dts_core::Error> {
    let rows: Vec<(String, String)> = conn
        .query(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'",
        )
        .await
        .map_err(|e| ep.map_err("list source tables", e))?;
    Ok(rows
        .into_iter()
        .filter(|(db, _)| !SYSTEM_DATABASES.contains(&db.as_str()))
        .map(|(db, t)| TableId::new(db, t))
        .collect())
}
