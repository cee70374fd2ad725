//! Migration assessment (the guide's "Migration Assessment", with schema synchronization): can
//! the destination take the source's schema? Findings are listed with the precheck and never
//! block it: a risk becomes a precheck warning the runner accepts by itself, a note a passing
//! check.
//!
//! This module holds the report type, the [`Assessor`] a task runs, and the destination-neutral
//! checks over table schemas: index and key lengths under the column charsets against the
//! destination's [`KeyLimits`], and the row size limit. Source-side checks (views, routines and
//! foreign keys that reach outside the selection) need the source and live with its connector.

use crate::precheck::{CheckResult, PrecheckReport};
use crate::schema::{Column, ColumnType, Index, SchemaRef, TableSchema};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Check name of index and key length findings.
pub const KEY_LENGTH: &str = "assessment.key_length";
/// Check name of row size findings.
pub const ROW_SIZE: &str = "assessment.row_size";
/// Check name of column types or table options the destination does not support.
pub const UNSUPPORTED: &str = "assessment.unsupported";
/// Check name of views, procedures and functions that use objects not selected.
pub const DEPENDENCIES: &str = "assessment.dependencies";
/// Check name of foreign keys that reference tables not selected.
pub const FOREIGN_KEYS: &str = "assessment.foreign_keys";
/// Check name of the summary line when nothing was found.
pub const SUMMARY: &str = "assessment";

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; the destination takes the object as it is.
    Note,
    /// The destination will refuse or change the object, or the task may fail on it.
    Risk,
}

/// One assessment finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The check that found it (`assessment.key_length`, …).
    pub check: String,
    /// The object, `db.table`, `db.table.index`, `db.view`, ….
    pub object: String,
    /// Note or risk.
    pub severity: Severity,
    /// What was found.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

/// Everything an assessment found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentReport {
    /// Findings in the order they were made.
    pub findings: Vec<Finding>,
}

impl AssessmentReport {
    /// Adds the findings of `other` after this report's.
    pub fn extend(&mut self, other: AssessmentReport) {
        self.findings.extend(other.findings);
    }

    /// Adds a finding.
    pub fn push(
        &mut self,
        check: &str,
        object: impl Into<String>,
        severity: Severity,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.findings.push(Finding {
            check: check.to_string(),
            object: object.into(),
            severity,
            message: message.into(),
            fix: fix.into(),
        });
    }

    /// Findings of one check.
    pub fn of(&self, check: &str) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.check == check).collect()
    }

    /// The findings as precheck lines: a risk is a warning (the runner accepts every
    /// `assessment.*` warning, so none blocks), a note a pass; one passing summary line when
    /// nothing was found.
    pub fn to_precheck(&self) -> PrecheckReport {
        let mut report = PrecheckReport::default();
        for f in &self.findings {
            let message = format!("{}: {}", f.object, f.message);
            report.checks.push(match f.severity {
                Severity::Risk => CheckResult::warning(&f.check, message, &f.fix),
                Severity::Note => CheckResult::pass(&f.check, format!("note: {message}")),
            });
        }
        if self.findings.is_empty() {
            report.checks.push(CheckResult::pass(
                SUMMARY,
                "the destination can take every selected object as it is",
            ));
        }
        report
    }
}

/// Whether a precheck line is an assessment finding (never blocking).
pub fn is_assessment_check(name: &str) -> bool {
    name == SUMMARY || name.starts_with("assessment.")
}

/// A selected table as the source has it and as the destination will get it (mapped names).
#[derive(Clone, Debug)]
pub struct AssessedTable {
    /// The source table.
    pub source: SchemaRef,
    /// The destination table.
    pub destination: TableSchema,
}

/// Runs the migration assessment of a task's selected tables; connectors implement it with
/// the destination's limits and the source's dependencies.
#[async_trait]
pub trait Assessor: Send + Sync {
    /// Assesses `tables`. Problems reaching a server are findings too (never errors): the
    /// assessment must not block the precheck.
    async fn assess(&self, tables: &[AssessedTable]) -> AssessmentReport;
}

/// Index limits of a MySQL-family destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyLimits {
    /// Most bytes of one index (all its column parts): 3072 with 16 KiB pages.
    pub max_key_bytes: u32,
    /// Most bytes of one indexed column part: as `max_key_bytes` for DYNAMIC/COMPRESSED rows,
    /// 767 for COMPACT/REDUNDANT rows (or without `innodb_large_prefix` on MySQL 5.6/5.7).
    pub max_column_bytes: u32,
    /// The destination turns a too-long UNIQUE key into a hash-based long unique key
    /// (MariaDB 10.4 and later) instead of refusing it.
    pub long_unique_hash: bool,
}

impl KeyLimits {
    /// Limits of a server from its page size, default row format and family.
    pub fn from_server(
        page_size: u32,
        row_format: &str,
        large_prefix: bool,
        mariadb_10_4: bool,
    ) -> Self {
        let max_key_bytes = match page_size {
            4096 => 768,
            8192 => 1536,
            _ => 3072,
        };
        let short = matches!(
            row_format.to_ascii_lowercase().as_str(),
            "compact" | "redundant"
        ) || !large_prefix;
        Self {
            max_key_bytes,
            max_column_bytes: if short {
                767.min(max_key_bytes)
            } else {
                max_key_bytes
            },
            long_unique_hash: mariadb_10_4,
        }
    }

    /// MySQL 5.7.7+/8.x defaults: 16 KiB pages, DYNAMIC rows.
    pub fn mysql_default() -> Self {
        Self::from_server(16384, "dynamic", true, false)
    }
}

/// Most bytes per character of a character set (4 for unknown ones, the safe side).
pub fn charset_max_bytes(charset: &str) -> u32 {
    match charset.to_ascii_lowercase().as_str() {
        "latin1" | "latin2" | "latin5" | "latin7" | "ascii" | "binary" | "cp1250" | "cp1251"
        | "cp1256" | "cp1257" | "cp850" | "cp852" | "cp866" | "dec8" | "greek" | "hebrew"
        | "hp8" | "keybcs2" | "koi8r" | "koi8u" | "macce" | "macroman" | "swe7" | "tis620"
        | "armscii8" | "geostd8" => 1,
        "ucs2" | "gbk" | "big5" | "sjis" | "cp932" | "euckr" | "gb2312" => 2,
        "utf8" | "utf8mb3" | "ujis" | "eucjpms" => 3,
        _ => 4,
    }
}

/// Bytes a column part of an index takes: `prefix` characters (or bytes for binary types) when
/// the index uses a prefix, else the whole column; `None` for a TEXT/BLOB column without a prefix
/// (only a hash-based long unique key can hold it).
pub fn key_part_bytes(column: &Column, prefix: Option<u32>, default_charset: &str) -> Option<u32> {
    let per_char = charset_max_bytes(column.charset.as_deref().unwrap_or(default_charset));
    let chars = |len: u32| prefix.unwrap_or(len).min(len).saturating_mul(per_char);
    Some(match &column.column_type {
        ColumnType::Char { length } | ColumnType::VarChar { length } => chars(*length),
        ColumnType::Binary { length } | ColumnType::VarBinary { length } => {
            prefix.unwrap_or(*length).min(*length)
        }
        ColumnType::Text { .. } | ColumnType::Json => prefix?.saturating_mul(per_char),
        ColumnType::Blob { .. } | ColumnType::Geometry { .. } => prefix?,
        other => fixed_bytes(other),
    })
}

/// Storage bytes of a fixed-size type (an upper bound for DECIMAL).
fn fixed_bytes(t: &ColumnType) -> u32 {
    match t {
        ColumnType::Integer { bytes, .. } => u32::from(*bytes),
        ColumnType::Float => 4,
        ColumnType::Double => 8,
        ColumnType::Decimal { precision, .. } => u32::from(*precision) / 2 + 1,
        ColumnType::Bit { width } => u32::from(*width).div_ceil(8),
        ColumnType::Date | ColumnType::Time { .. } => 3,
        ColumnType::DateTime { fsp } => 5 + u32::from(*fsp).div_ceil(2),
        ColumnType::Timestamp { fsp } => 4 + u32::from(*fsp).div_ceil(2),
        ColumnType::Year => 1,
        ColumnType::Enum { .. } => 2,
        ColumnType::Set { .. } => 8,
        _ => 8,
    }
}

/// Bytes a column counts toward the 65,535-byte row size limit (TEXT, BLOB, JSON and geometry
/// count only their 12-byte pointer; variable-length columns add their length bytes).
pub fn row_bytes(column: &Column, default_charset: &str) -> u32 {
    let per_char = charset_max_bytes(column.charset.as_deref().unwrap_or(default_charset));
    let var = |n: u32| n + if n > 255 { 2 } else { 1 };
    match &column.column_type {
        ColumnType::Char { length } => length.saturating_mul(per_char),
        ColumnType::VarChar { length } => var(length.saturating_mul(per_char)),
        ColumnType::Binary { length } => *length,
        ColumnType::VarBinary { length } => var(*length),
        ColumnType::Text { .. }
        | ColumnType::Blob { .. }
        | ColumnType::Json
        | ColumnType::Geometry { .. } => 12,
        other => fixed_bytes(other),
    }
}

/// MySQL's limit on the summed size of a row's columns.
pub const MAX_ROW_BYTES: u32 = 65_535;

/// The table's default character set, from `DEFAULT CHARSET=` in its `create_sql`.
fn table_charset(schema: &TableSchema) -> String {
    schema
        .create_sql
        .as_deref()
        .and_then(|sql| {
            let upper = sql.to_ascii_uppercase();
            let at = upper.rfind("CHARSET=")? + "CHARSET=".len();
            Some(
                sql[at..]
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .next()?
                    .to_string(),
            )
        })
        .unwrap_or_else(|| "utf8mb4".to_string())
}

/// Prefix lengths of `index`'s columns from the source's `create_sql` (`KEY k (t(10))`), and
/// whether it is a hash-based long unique key there (`USING HASH`).
fn index_prefixes(schema: &TableSchema, index: &Index) -> (Vec<Option<u32>>, bool) {
    let none = (vec![None; index.columns.len()], false);
    let Some(sql) = schema.create_sql.as_deref() else {
        return none;
    };
    let marker = if index.name == "PRIMARY" {
        "PRIMARY KEY (".to_string()
    } else {
        format!("KEY `{}` (", index.name.replace('`', "``"))
    };
    let Some(line) = sql.lines().find(|l| l.contains(&marker)) else {
        return none;
    };
    let hash = line.to_ascii_uppercase().contains("USING HASH");
    let prefixes = index
        .columns
        .iter()
        .map(|c| {
            let part = format!("`{}`(", c.replace('`', "``"));
            let at = line.find(&part)? + part.len();
            line[at..].split(')').next()?.trim().parse().ok()
        })
        .collect();
    (prefixes, hash)
}

/// Key length and row size findings for `table` (destination names and structure) under
/// `limits`.
pub fn assess_table_limits(table: &TableSchema, limits: &KeyLimits, report: &mut AssessmentReport) {
    let charset = table_charset(table);
    let mut indexes: Vec<Index> = Vec::new();
    if !table.primary_key.is_empty() {
        indexes.push(Index {
            name: "PRIMARY".into(),
            columns: table.primary_key.clone(),
            unique: true,
        });
    }
    for i in table.unique_keys.iter().chain(&table.indexes) {
        if !indexes.iter().any(|x| x.name == i.name) {
            indexes.push(i.clone());
        }
    }
    for index in &indexes {
        let (prefixes, hash) = index_prefixes(table, index);
        let object = format!("{}.{}", table.id, index.name);
        let mut total: Option<u32> = Some(0);
        let mut widest: Option<(String, u32)> = None;
        for (column, prefix) in index.columns.iter().zip(prefixes) {
            let Some(col) = table.column(column) else {
                continue;
            };
            match key_part_bytes(col, prefix, &charset) {
                Some(b) => {
                    total = total.map(|t| t + b);
                    if widest.as_ref().is_none_or(|(_, w)| b > *w) {
                        widest = Some((column.clone(), b));
                    }
                }
                None => total = None,
            }
        }
        let too_long = match (total, &widest) {
            (None, _) => Some("includes a TEXT/BLOB column without a prefix length".to_string()),
            (Some(t), _) if t > limits.max_key_bytes => Some(format!(
                "needs {t} bytes under its columns' character sets; the destination's limit is {} bytes",
                limits.max_key_bytes
            )),
            (Some(_), Some((c, w))) if *w > limits.max_column_bytes => Some(format!(
                "column {c} needs {w} bytes; the destination's limit per indexed column is {} bytes \
                 (COMPACT/REDUNDANT row format or no large index prefixes)",
                limits.max_column_bytes
            )),
            _ => None,
        };
        let Some(why) = too_long else { continue };
        if index.unique && index.name != "PRIMARY" && limits.long_unique_hash {
            report.push(
                KEY_LENGTH,
                object,
                Severity::Note,
                format!("unique key {why}; the destination keeps it as a hash-based long unique key (USING HASH), which only MariaDB 10.4+ supports"),
                "",
            );
        } else {
            let source = if hash {
                " (the source holds it as a MariaDB USING HASH key)"
            } else {
                ""
            };
            report.push(
                KEY_LENGTH,
                object,
                Severity::Risk,
                format!("index {why}{source}; creating the table at the destination will fail"),
                "shorten the indexed columns, index a prefix (KEY k (col(N))), use a character set \
                 with fewer bytes per character, or create the table at the destination yourself",
            );
        }
    }
    let row: u64 = table
        .columns
        .iter()
        .map(|c| u64::from(row_bytes(c, &charset)))
        .sum();
    if row > u64::from(MAX_ROW_BYTES) {
        report.push(
            ROW_SIZE,
            table.id.to_string(),
            Severity::Risk,
            format!("the columns need {row} bytes per row; the limit is {MAX_ROW_BYTES} bytes (TEXT/BLOB columns count 12)"),
            "turn the longest VARCHAR columns into TEXT, or use a character set with fewer bytes per character",
        );
    }
}

/// Whether the SQL text of a view or routine defined in `home` refers to table `table` of
/// database `database`: qualified (`` `db`.`t` ``, `db.t`), or unqualified after `FROM`, `JOIN`,
/// `INTO`, `UPDATE` or `TABLE` when the table is in `home`. Case-insensitive, a heuristic over
/// the text (comments and strings are not told apart).
pub fn references(definition: &str, home: &str, database: &str, table: &str) -> bool {
    let name = |n: &str| {
        format!(
            "(?:`{}`|\\b{}\\b)",
            regex::escape(&n.replace('`', "``")),
            regex::escape(n)
        )
    };
    let qualified = format!("(?i){}\\s*\\.\\s*{}", name(database), name(table));
    if regex::Regex::new(&qualified).is_ok_and(|r| r.is_match(definition)) {
        return true;
    }
    if !home.eq_ignore_ascii_case(database) {
        return false;
    }
    let bare = format!(
        "(?i)\\b(?:from|join|into|update|table)\\s+{}(?:\\s|$|[,;)])",
        name(table)
    );
    regex::Regex::new(&bare).is_ok_and(|r| r.is_match(definition))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::TableId;

    fn col(name: &str, t: ColumnType, charset: Option<&str>) -> Column {
        let mut c = Column::new(name, t, "");
        c.charset = charset.map(str::to_string);
        c
    }

    fn table(columns: Vec<Column>, indexes: Vec<Index>, create: Option<&str>) -> TableSchema {
        TableSchema {
            id: TableId::new("shop", "t"),
            columns,
            primary_key: vec!["id".into()],
            unique_keys: indexes.iter().filter(|i| i.unique).cloned().collect(),
            indexes: indexes.into_iter().filter(|i| !i.unique).collect(),
            create_sql: create.map(str::to_string),
            constraints: Default::default(),
        }
    }

    fn id() -> Column {
        col(
            "id",
            ColumnType::Integer {
                bytes: 4,
                unsigned: false,
            },
            None,
        )
    }

    #[test]
    fn utf8mb4_varchar_1000_key_is_too_long_for_mysql_but_a_hash_on_mariadb() {
        let t = table(
            vec![
                id(),
                col(
                    "title",
                    ColumnType::VarChar { length: 1000 },
                    Some("utf8mb4"),
                ),
            ],
            vec![Index {
                name: "title".into(),
                columns: vec!["title".into()],
                unique: true,
            }],
            None,
        );
        let mut r = AssessmentReport::default();
        assess_table_limits(&t, &KeyLimits::mysql_default(), &mut r);
        let f = r.of(KEY_LENGTH);
        assert_eq!(f.len(), 1, "{r:?}");
        assert_eq!(f[0].severity, Severity::Risk);
        assert_eq!(f[0].object, "shop.t.title");
        assert!(
            f[0].message.contains("4000 bytes") && f[0].message.contains("3072"),
            "{}",
            f[0].message
        );
        let mut r = AssessmentReport::default();
        assess_table_limits(
            &t,
            &KeyLimits::from_server(16384, "dynamic", true, true),
            &mut r,
        );
        assert_eq!(r.of(KEY_LENGTH)[0].severity, Severity::Note);
        // The precheck lists it without blocking.
        assert!(r.to_precheck().passes(&[]));
    }

    #[test]
    fn prefixes_charsets_and_row_format_decide() {
        let t = table(
            vec![
                id(),
                col("name", ColumnType::VarChar { length: 300 }, Some("utf8mb4")),
            ],
            vec![Index {
                name: "k".into(),
                columns: vec!["name".into()],
                unique: false,
            }],
            Some("CREATE TABLE `t` (\n  KEY `k` (`name`(100))\n) DEFAULT CHARSET=latin1"),
        );
        let mut r = AssessmentReport::default();
        assess_table_limits(
            &t,
            &KeyLimits::from_server(16384, "compact", true, false),
            &mut r,
        );
        assert!(r.findings.is_empty(), "400 bytes fit 767: {r:?}");
        let t = table(
            vec![id(), col("name", ColumnType::VarChar { length: 300 }, None)],
            vec![Index {
                name: "k".into(),
                columns: vec!["name".into()],
                unique: false,
            }],
            Some("CREATE TABLE `t` (\n  KEY `k` (`name`)\n) DEFAULT CHARSET=utf8mb4"),
        );
        let mut r = AssessmentReport::default();
        assess_table_limits(
            &t,
            &KeyLimits::from_server(16384, "compact", true, false),
            &mut r,
        );
        assert!(r.of(KEY_LENGTH)[0].message.contains("1200 bytes"), "{r:?}");
        assert!(!r.to_precheck().passes(&[]), "a risk is a warning");
        let mut r = AssessmentReport::default();
        assess_table_limits(&t, &KeyLimits::mysql_default(), &mut r);
        assert!(r.findings.is_empty());
        assert_eq!(r.to_precheck().checks[0].name, SUMMARY);
    }

    #[test]
    fn references_qualified_and_unqualified_names() {
        let view = "select `shop`.`b`.`id` AS `id` from `shop`.`b`";
        assert!(references(view, "shop", "shop", "b"));
        assert!(!references(view, "shop", "shop", "a"));
        assert!(!references(view, "shop", "shop", "id"));
        let proc = "BEGIN\n  SELECT COUNT(*) INTO n FROM audit_log WHERE x = 1;\n  UPDATE crm.users SET y = 2;\nEND";
        assert!(references(proc, "shop", "shop", "audit_log"));
        assert!(references(proc, "shop", "crm", "users"));
        assert!(!references(proc, "shop", "shop", "users"));
        assert!(!references(proc, "other", "shop", "audit_log"));
        assert!(!references(
            "SELECT audit_logs FROM x",
            "shop",
            "shop",
            "audit_log"
        ));
    }

    #[test]
    fn row_size_over_65535_bytes() {
        let t = table(
            vec![
                id(),
                col("a", ColumnType::VarChar { length: 10000 }, Some("utf8mb4")),
                col("b", ColumnType::VarChar { length: 10000 }, Some("utf8mb4")),
                col("c", ColumnType::Text { max_bytes: 65535 }, Some("utf8mb4")),
            ],
            vec![],
            None,
        );
        let mut r = AssessmentReport::default();
        assess_table_limits(&t, &KeyLimits::mysql_default(), &mut r);
        assert_eq!(r.of(ROW_SIZE).len(), 1);
        assert_eq!(charset_max_bytes("utf8mb3"), 3);
        assert_eq!(charset_max_bytes("LATIN1"), 1);
    }
}
