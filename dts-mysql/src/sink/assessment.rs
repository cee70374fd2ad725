//! Migration assessment for a MySQL-family destination (see [`dts_core::assessment`]): the
//! destination's index limits read from the server, and column types and table options the
//! destination's dialect lacks. The source's part (objects reaching outside the selection) is
//! the source's own: [`crate::source::assessment`].

use crate::wire::conn::{MysqlEndpoint, ServerInfo};
use async_trait::async_trait;
use dts_core::assessment::{
    assess_table_limits, AssessedTable, AssessmentReport, Assessor, KeyLimits, Severity,
    UNSUPPORTED,
};
use dts_core::TableSchema;
use mysql_async::prelude::Queryable;

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
    destination: DestinationProfile,
}

impl MysqlAssessor {
    /// An assessor of the destination as `destination` says.
    pub fn new(destination: DestinationProfile) -> Self {
        Self { destination }
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
        report
    }
}
