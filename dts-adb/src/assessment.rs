//! Migration assessment for an AnalyticDB for MySQL 3.0 destination (see
//! [`dts_core::assessment`]): what the ADB type mapping and table layout of [`crate::ddl`] do to
//! each selected table. The source's part (views, routines and foreign keys reaching outside
//! the selection) is the source's own, run by the task beside this one.

use crate::ddl::{adb_type, create_table_sql, key_warning, DdlOptions};
use async_trait::async_trait;
use dts_core::assessment::{AssessedTable, AssessmentReport, Assessor, Severity, UNSUPPORTED};
use dts_core::{ColumnType, TableSchema};

/// The migration assessment of a MySQL → AnalyticDB task.
pub struct AdbAssessor {
    options: DdlOptions,
}

impl AdbAssessor {
    /// An assessor of tables created with `options`.
    pub fn new(options: DdlOptions) -> Self {
        Self { options }
    }
}

/// What ADB does to `table` (destination names, source structure): tables it cannot create,
/// tables without a usable key, and column types that change meaning on the way.
pub fn assess_adb_table(table: &TableSchema, options: DdlOptions, report: &mut AssessmentReport) {
    if let Err(why) = create_table_sql(table, options) {
        report.push(
            UNSUPPORTED,
            table.id.to_string(),
            Severity::Risk,
            format!("AnalyticDB cannot create the table: {why}"),
            "change the table at the source or deselect it",
        );
    }
    if let Some(warning) = key_warning(table) {
        report.push(
            UNSUPPORTED,
            table.id.to_string(),
            Severity::Risk,
            warning,
            "give the source table a primary key or a NOT NULL unique key",
        );
    }
    for c in &table.columns {
        let object = format!("{}.{}", table.id, c.name);
        if c.generated.is_some() {
            report.push(
                UNSUPPORTED,
                object,
                Severity::Note,
                "generated column: AnalyticDB gets no such column (generated columns are not written)",
                "",
            );
            continue;
        }
        let mapped = adb_type(&c.column_type, options.mariadb_compat);
        let change = match &c.column_type {
            ColumnType::Enum { .. } | ColumnType::Set { .. } => {
                Some("its members are no longer enforced")
            }
            ColumnType::Geometry { .. } => {
                Some("values are stored as their binary form, without spatial functions")
            }
            ColumnType::Integer {
                bytes: 8,
                unsigned: true,
            } => Some("arithmetic becomes decimal"),
            ColumnType::Bit { .. } => Some("bits are stored as a number"),
            ColumnType::Year => Some("values are stored as plain integers"),
            _ => None,
        };
        if let Some(change) = change {
            report.push(
                UNSUPPORTED,
                object,
                Severity::Note,
                format!("{} becomes {mapped} in AnalyticDB: {change}", c.type_text),
                "",
            );
        }
    }
}

#[async_trait]
impl Assessor for AdbAssessor {
    async fn assess(&self, tables: &[AssessedTable]) -> AssessmentReport {
        let mut report = AssessmentReport::default();
        for t in tables {
            let mut dest = (*t.source).clone();
            dest.id = t.destination.id.clone();
            assess_adb_table(&dest, self.options, &mut report);
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::{Column, TableId};

    #[test]
    fn type_changes_and_missing_keys_are_reported() {
        let col = |n: &str, t: ColumnType, text: &str| Column::new(n, t, text);
        let table = TableSchema {
            id: TableId::new("shop", "events"),
            columns: vec![
                col(
                    "id",
                    ColumnType::Integer {
                        bytes: 8,
                        unsigned: true,
                    },
                    "bigint(20) unsigned",
                ),
                col(
                    "state",
                    ColumnType::Enum {
                        members: vec!["new".into(), "done".into()],
                    },
                    "enum('new','done')",
                ),
                col("note", ColumnType::VarChar { length: 20 }, "varchar(20)"),
            ],
            primary_key: vec![],
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        };
        let mut r = AssessmentReport::default();
        assess_adb_table(&table, DdlOptions::default(), &mut r);
        let objects: Vec<(&str, Severity)> = r
            .findings
            .iter()
            .map(|f| (f.object.as_str(), f.severity))
            .collect();
        assert_eq!(
            objects,
            vec![
                ("shop.events", Severity::Risk),
                ("shop.events.id", Severity::Note),
                ("shop.events.state", Severity::Note),
            ],
            "{r:?}"
        );
        assert!(r.findings[2].message.contains("VARCHAR(4)"), "{r:?}");
        assert!(r
            .to_precheck()
            .checks
            .iter()
            .all(|c| dts_core::assessment::is_assessment_check(&c.name)));
    }
}
