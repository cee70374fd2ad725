//! What of a source table's definition an AnalyticDB table cannot hold, said per table at
//! precheck: foreign keys, CHECK constraints, `INVISIBLE` (the column is an ordinary one in
//! ADB), `ROW_FORMAT`, and the source's own partitioning (ADB distributes and partitions by
//! `[destination.tables]` instead).

use dts_core::{CheckResult, TableSchema};

/// Name of the precheck finding.
pub const DROPPED_DEFINITIONS: &str = "destination.dropped_definitions";

/// What `table` loses, one phrase per kind (empty when nothing).
fn dropped(table: &TableSchema) -> Vec<String> {
    let names = |v: Vec<&str>| {
        v.iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    let c = &table.constraints;
    if !c.foreign_keys.is_empty() {
        out.push(format!(
            "foreign key(s) {}",
            names(c.foreign_keys.iter().map(|k| k.name.as_str()).collect())
        ));
    }
    if !c.checks.is_empty() {
        out.push(format!(
            "CHECK constraint(s) {}",
            names(c.checks.iter().map(|k| k.name.as_str()).collect())
        ));
    }
    let invisible: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| c.invisible)
        .map(|c| c.name.as_str())
        .collect();
    if !invisible.is_empty() {
        out.push(format!("INVISIBLE of column(s) {}", names(invisible)));
    }
    if let Some(sql) = table.create_sql.as_deref() {
        let options = sql.rsplit_once("\n)").map(|(_, o)| o).unwrap_or("");
        let upper = options.to_ascii_uppercase();
        if let Some(at) = upper.find("ROW_FORMAT=") {
            let value: String = options[at..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            out.push(value);
        }
        if upper.contains("PARTITION BY") {
            out.push("the source's PARTITION BY (ADB partitions by destination.tables)".into());
        }
    }
    out
}

/// A warning listing, per table, what the ADB table leaves out; a pass when nothing.
pub fn check(tables: &[TableSchema]) -> CheckResult {
    let lines: Vec<String> = tables
        .iter()
        .filter_map(|t| {
            let d = dropped(t);
            (!d.is_empty()).then(|| format!("{}: {}", t.id, d.join(", ")))
        })
        .collect();
    if lines.is_empty() {
        return CheckResult::pass(
            DROPPED_DEFINITIONS,
            "the selected tables' definitions fit AnalyticDB",
        );
    }
    CheckResult::warning(
        DROPPED_DEFINITIONS,
        format!(
            "AnalyticDB for MySQL cannot hold these parts of {} table definition(s), which \
             are left out: {}",
            lines.len(),
            lines.join("; ")
        ),
        format!(
            "Acknowledge this warning (acknowledge_warnings = [\"{DROPPED_DEFINITIONS}\"]) to \
             synchronize the tables without them."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::{CheckConstraint, CheckLevel, Column, ColumnType, TableId};

    #[test]
    fn names_each_table_and_what_it_loses() {
        let mut hidden = Column::new("h", ColumnType::Double, "double");
        hidden.invisible = true;
        let mut t = TableSchema {
            id: TableId::new("d", "t"),
            columns: vec![Column::new("id", ColumnType::Double, "double"), hidden],
            primary_key: vec!["id".into()],
            unique_keys: vec![],
            indexes: vec![],
            create_sql: Some(
                "CREATE TABLE `t` (\n  `id` double\n) ENGINE=InnoDB ROW_FORMAT=COMPRESSED\n \
                 PARTITION BY HASH (`id`)"
                    .into(),
            ),
            constraints: Default::default(),
        };
        t.constraints.checks.push(CheckConstraint {
            name: "pos".into(),
            expression: "`id` > 0".into(),
        });
        let plain = TableSchema {
            id: TableId::new("d", "plain"),
            create_sql: None,
            constraints: Default::default(),
            columns: vec![Column::new("id", ColumnType::Double, "double")],
            ..t.clone()
        };
        let r = check(&[t, plain.clone()]);
        assert_eq!(r.level, CheckLevel::Warning);
        assert!(
            r.message.contains(
                "d.t: CHECK constraint(s) `pos`, INVISIBLE of column(s) `h`, \
                 ROW_FORMAT=COMPRESSED, the source's PARTITION BY"
            ),
            "{r}"
        );
        assert!(!r.message.contains("d.plain"), "{r}");
        assert_eq!(check(&[plain]).level, CheckLevel::Pass);
    }
}
