//! Migration assessment for a MySQL-family source and destination (see
//! [`dts_core::assessment`]): the destination's index limits read from the server, column types
//! and table options the destination's dialect lacks, and, on the source, views, procedures,
//! functions and foreign keys that reach objects outside the selection.

use crate::conn::{MysqlEndpoint, ServerInfo};
use async_trait::async_trait;
use dts_core::assessment::{
    assess_table_limits, references, AssessedTable, AssessmentReport, Assessor, KeyLimits,
    Severity, DEPENDENCIES, FOREIGN_KEYS, UNSUPPORTED,
};
use dts_core::{TableId, TableSchema, SYSTEM_DATABASES};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use std::collections::BTreeSet;

/// What the assessment knows about the destination.
#[derive(Clone, Debug)]
pub enum DestinationProfile {
    /// Read the limits and version from this server when assessing.
    Server(MysqlEndpoint),
    /// Given limits and version (`@@version` text), for a destination not reachable yet or to
    /// plan for another server.
    Fixed {
        /// Index limits.
        limits: KeyLimits,
        /// Server version text, e.g. `8.0.36` or `10.11.6-MariaDB`.
        version: String,
    },
}

/// The migration assessment of a MySQL → MySQL/MariaDB task.
pub struct MysqlAssessor {
    source: MysqlEndpoint,
    destination: DestinationProfile,
}

impl MysqlAssessor {
    /// An assessor reading the source at `source` and the destination as `destination` says.
    pub fn new(source: MysqlEndpoint, destination: DestinationProfile) -> Self {
        Self {
            source,
            destination,
        }
    }

    async fn destination_limits(&self, report: &mut AssessmentReport) -> (KeyLimits, ServerInfo) {
        let ep = match &self.destination {
            DestinationProfile::Fixed { limits, version } => {
                return (*limits, ServerInfo::from_version(version))
            }
            DestinationProfile::Server(ep) => ep,
        };
        match read_limits(ep).await {
            Ok(found) => found,
            Err(e) => {
                report.push(
                    dts_core::assessment::KEY_LENGTH,
                    "destination",
                    Severity::Risk,
                    format!("could not read the destination's limits ({e}); assessed against MySQL 8.0 defaults"),
                    "make the destination reachable and run the precheck again",
                );
                (
                    KeyLimits::mysql_default(),
                    ServerInfo::from_version("8.0.0"),
                )
            }
        }
    }
}

/// The index limits and version of the server at `ep`.
pub async fn read_limits(ep: &MysqlEndpoint) -> Result<(KeyLimits, ServerInfo), dts_core::Error> {
    let mut conn = ep.connect().await?;
    let server = ServerInfo::detect(&mut conn)
        .await
        .map_err(|e| ep.map_err("read version", e))?;
    let page: Option<u32> = conn
        .query_first("SELECT @@innodb_page_size")
        .await
        .ok()
        .flatten();
    // Absent before MySQL 5.7.9 / MariaDB 10.2.2 (COMPACT then).
    let row_format: String = conn
        .query_first("SELECT @@innodb_default_row_format")
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| "compact".to_string());
    // Removed in MySQL 8.0 / MariaDB 10.3, where large prefixes are always on.
    let large_prefix: bool = match conn
        .query_first::<String, _>("SELECT @@innodb_large_prefix")
        .await
    {
        Ok(Some(v)) => v == "1" || v.eq_ignore_ascii_case("on"),
        _ => true,
    };
    let _ = conn.disconnect().await;
    let hash = server.is_mariadb() && server.version_number >= (10, 4, 0);
    Ok((
        KeyLimits::from_server(page.unwrap_or(16384), &row_format, large_prefix, hash),
        server,
    ))
}

/// The table's own `ROW_FORMAT=` option from its source text, if any.
fn table_row_format(schema: &TableSchema) -> Option<String> {
    let sql = schema.create_sql.as_deref()?;
    let upper = sql.to_ascii_uppercase();
    let at = upper.rfind("ROW_FORMAT=")? + "ROW_FORMAT=".len();
    Some(sql[at..].split_whitespace().next()?.to_ascii_lowercase())
}

/// Column types and table options the destination's dialect or version lacks.
pub fn assess_dialect(table: &TableSchema, dest: &ServerInfo, report: &mut AssessmentReport) {
    // (type, MariaDB version introducing it); MySQL has none of them.
    const MARIADB_TYPES: [(&str, (u32, u32, u32)); 3] = [
        ("inet6", (10, 5, 0)),
        ("inet4", (10, 10, 0)),
        ("uuid", (10, 7, 0)),
    ];
    for c in &table.columns {
        let base = c
            .type_text
            .split(|ch: char| ch == '(' || ch.is_whitespace())
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if let Some((name, since)) = MARIADB_TYPES.iter().find(|(n, _)| *n == base) {
            let ok = dest.is_mariadb() && dest.version_number >= *since;
            if !ok {
                report.push(
                    UNSUPPORTED,
                    format!("{}.{}", table.id, c.name),
                    Severity::Risk,
                    format!(
                        "type {} exists only on MariaDB {}.{}+; the destination is {}",
                        name.to_uppercase(),
                        since.0,
                        since.1,
                        dest.version
                    ),
                    "change the column to a portable type (e.g. VARCHAR/BINARY) or create the table at the destination yourself",
                );
            }
        }
        if let Some(coll) = &c.collation {
            if coll.contains("_0900_") && dest.is_mariadb() && dest.version_number < (11, 4, 5) {
                report.push(
                    UNSUPPORTED,
                    format!("{}.{}", table.id, c.name),
                    Severity::Risk,
                    format!(
                        "collation {coll} (MySQL 8.0) does not exist on {}",
                        dest.version
                    ),
                    "choose a collation the destination has (e.g. utf8mb4_unicode_ci)",
                );
            }
        }
    }
    let Some(sql) = table.create_sql.as_deref() else {
        return;
    };
    let upper = sql.to_ascii_uppercase();
    let mut options: Vec<(&str, bool)> = vec![
        ("WITH SYSTEM VERSIONING", dest.is_mariadb()),
        ("PAGE_COMPRESSED", dest.is_mariadb()),
        ("ENGINE=ARIA", dest.is_mariadb()),
        ("ENGINE=COLUMNSTORE", false),
        ("ENGINE=TOKUDB", false),
        ("ENGINE=ROCKSDB", false),
    ];
    options.retain(|(o, _)| upper.contains(o));
    for (option, supported) in options {
        if !supported {
            report.push(
                UNSUPPORTED,
                table.id.to_string(),
                Severity::Risk,
                format!(
                    "table option {option} is not available on the destination ({})",
                    dest.version
                ),
                "remove the option at the source, or create the table at the destination yourself",
            );
        }
    }
}

#[async_trait]
impl Assessor for MysqlAssessor {
    async fn assess(&self, tables: &[AssessedTable]) -> AssessmentReport {
        let mut report = AssessmentReport::default();
        let (limits, dest) = self.destination_limits(&mut report).await;
        for t in tables {
            let mut table_limits = limits;
            if let Some(rf) = table_row_format(&t.source) {
                if matches!(rf.as_str(), "compact" | "redundant") {
                    table_limits.max_column_bytes = 767.min(limits.max_key_bytes);
                }
            }
            // Structure (types, charsets, prefixes, options) is the source's; names the
            // destination's.
            let mut dest_table = (*t.source).clone();
            dest_table.id = t.destination.id.clone();
            assess_table_limits(&dest_table, &table_limits, &mut report);
            assess_dialect(&dest_table, &dest, &mut report);
        }
        assess_source_objects(&self.source, tables, &mut report).await;
        report
    }
}

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
