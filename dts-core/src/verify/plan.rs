//! What is compared for one table: the two [`SideTable`]s built from the source schema, the
//! task's route (destination names, column subset, WHERE filter) and its masked columns.
//!
//! - Only synchronized columns are compared, each under its own name on each side.
//! - Masked columns are left out: the destination holds the masked value by design.
//! - Generated columns are left out: the destination computes its own.
//! - Columns missing at the destination are left out of the data compare (schema verification
//!   reports them) and noted.
//! - The WHERE filter restricts both sides: at the destination it is rewritten to the
//!   destination's column names; when it names a column that is not synchronized it cannot be
//!   evaluated there, and the destination is read unrestricted (noted).

use super::side::SideTable;
use crate::filter::TableRoute;
use crate::schema::{TableId, TableSchema};

/// One table to verify.
#[derive(Clone, Debug)]
pub struct TablePlan {
    /// The source table.
    pub source_schema: TableSchema,
    /// How it is synchronized.
    pub route: TableRoute,
    /// The source side of the compare.
    pub source: SideTable,
    /// The destination side of the compare (`None` when the destination table is missing).
    pub destination: Option<SideTable>,
    /// The destination table's id.
    pub destination_id: TableId,
    /// What the compare leaves out or cannot do, for the report.
    pub notes: Vec<String>,
}

/// The key a table is verified by: its primary key, else its first unique key over NOT NULL
/// columns.
pub fn verification_key(schema: &TableSchema) -> Option<Vec<String>> {
    if !schema.primary_key.is_empty() {
        return Some(schema.primary_key.clone());
    }
    schema
        .unique_keys
        .iter()
        .find(|k| {
            k.columns.iter().all(|c| {
                schema
                    .columns
                    .iter()
                    .any(|col| col.name.eq_ignore_ascii_case(c) && !col.nullable)
            })
        })
        .map(|k| k.columns.clone())
}

impl TablePlan {
    /// The plan for `source` routed by `route`, with `masked` source columns left out, against
    /// the destination table as it stands (`None` when it does not exist). Fails, naming the
    /// table, when the table has no usable key or its key is not synchronized.
    pub fn new(
        source: &TableSchema,
        route: &TableRoute,
        masked: &[String],
        destination: Option<&TableSchema>,
    ) -> Result<TablePlan, String> {
        let id = &source.id;
        let key = verification_key(source).ok_or_else(|| {
            format!("{id}: no primary key or NOT NULL unique key to verify rows by")
        })?;
        let dest_name = |src: &str| -> Option<String> {
            let idx = source.column_index(src)?;
            match &route.columns {
                None => Some(source.columns[idx].name.clone()),
                Some(cols) => cols.iter().find(|(i, _)| *i == idx).map(|(_, n)| n.clone()),
            }
        };
        let mut notes = Vec::new();
        let mut dest_key = Vec::new();
        for k in &key {
            let d = dest_name(k)
                .ok_or_else(|| format!("{id}: key column `{k}` is not synchronized"))?;
            if let Some(dest) = destination {
                if dest.column_index(&d).is_none() {
                    return Err(format!(
                        "{id}: key column `{d}` is missing at the destination {}",
                        dest.id
                    ));
                }
            }
            dest_key.push(d);
        }
        let mut src_cols = Vec::new();
        let mut dst_cols = Vec::new();
        for col in &source.columns {
            if key.iter().any(|k| k.eq_ignore_ascii_case(&col.name)) {
                continue;
            }
            let Some(d) = dest_name(&col.name) else {
                continue;
            };
            if masked.iter().any(|m| m.eq_ignore_ascii_case(&col.name)) {
                notes.push(format!("column `{}` is masked: not compared", col.name));
                continue;
            }
            if col.generated.is_some() {
                notes.push(format!("column `{}` is generated: not compared", col.name));
                continue;
            }
            if let Some(dest) = destination {
                if dest.column_index(&d).is_none() {
                    notes.push(format!(
                        "column `{d}` is missing at the destination: not compared"
                    ));
                    continue;
                }
            }
            src_cols.push(col.name.clone());
            dst_cols.push(d);
        }
        let dest_condition = match &route.condition {
            None => None,
            Some(cond) => match rename_identifiers(cond, &|c: &str| dest_name(c)) {
                Ok(c) => Some(c),
                Err(missing) => {
                    notes.push(format!(
                        "the row filter names `{missing}`, which is not synchronized: the destination is read unrestricted"
                    ));
                    None
                }
            },
        };
        Ok(TablePlan {
            source_schema: source.clone(),
            route: route.clone(),
            source: SideTable {
                schema: source.clone(),
                key,
                columns: src_cols,
                condition: route.condition.clone(),
            },
            destination: destination.map(|d| SideTable {
                schema: d.clone(),
                key: dest_key,
                columns: dst_cols,
                condition: dest_condition,
            }),
            destination_id: route.destination.clone(),
            notes,
        })
    }
}

/// Rewrites every backtick-quoted identifier of `sql` through `rename`, leaving single-quoted
/// string literals untouched. Returns the first identifier `rename` has no name for.
///
/// Works on the form the task's conditions are rendered in: identifiers always in backticks
/// (backticks doubled inside), strings in single quotes (quotes doubled inside).
pub fn rename_identifiers(
    sql: &str,
    rename: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                out.push(c);
                while let Some(s) = chars.next() {
                    out.push(s);
                    if s == '\'' {
                        if chars.peek() == Some(&'\'') {
                            out.push(chars.next().unwrap_or('\''));
                        } else {
                            break;
                        }
                    }
                }
            }
            '`' => {
                let mut name = String::new();
                while let Some(s) = chars.next() {
                    if s == '`' {
                        if chars.peek() == Some(&'`') {
                            chars.next();
                            name.push('`');
                        } else {
                            break;
                        }
                    } else {
                        name.push(s);
                    }
                }
                // A quoted collation name (`x COLLATE `utf8mb4_bin``) is not a column.
                let is_collation = out.trim_end().to_ascii_uppercase().ends_with("COLLATE");
                let renamed = if is_collation {
                    name.clone()
                } else {
                    rename(&name).ok_or_else(|| name.clone())?
                };
                out.push('`');
                out.push_str(&renamed.replace('`', "``"));
                out.push('`');
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, ColumnType};

    fn int(n: &str) -> Column {
        let mut c = Column::new(
            n,
            ColumnType::Integer {
                bytes: 4,
                unsigned: false,
            },
            "int",
        );
        c.nullable = false;
        c
    }

    fn schema() -> TableSchema {
        TableSchema {
            id: TableId::new("s", "t"),
            columns: vec![int("id"), int("a"), int("b"), int("secret")],
            primary_key: vec!["id".into()],
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        }
    }

    #[test]
    fn renames_identifiers_outside_strings() {
        let r = rename_identifiers("((`a` = 'x`a`''y') AND (`b``c` > 1))", &|n: &str| {
            Some(format!("d_{n}"))
        })
        .unwrap();
        assert_eq!(r, "((`d_a` = 'x`a`''y') AND (`d_b``c` > 1))");
        let r = rename_identifiers("(`a` COLLATE `utf8mb4_bin`)", &|n: &str| {
            Some(format!("d_{n}"))
        })
        .unwrap();
        assert_eq!(r, "(`d_a` COLLATE `utf8mb4_bin`)");
        assert_eq!(
            rename_identifiers("`zz` = 1", &|_: &str| None),
            Err("zz".to_string())
        );
    }

    #[test]
    fn subset_mapping_masking_and_condition() {
        let route = TableRoute {
            destination: TableId::new("d", "t2"),
            columns: Some(vec![
                (0, "ID".into()),
                (1, "A2".into()),
                (3, "secret".into()),
            ]),
            condition: Some("(`a` > 1)".into()),
            ..TableRoute::identity(&TableId::new("s", "t"))
        };
        let dest = route.destination_schema(&schema());
        let plan = TablePlan::new(&schema(), &route, &["secret".into()], Some(&dest)).unwrap();
        assert_eq!(plan.source.columns, vec!["a"]);
        let d = plan.destination.unwrap();
        assert_eq!(d.columns, vec!["A2"]);
        assert_eq!(d.key, vec!["ID"]);
        assert_eq!(d.condition.as_deref(), Some("(`A2` > 1)"));
        assert_eq!(plan.notes.len(), 1, "{:?}", plan.notes);

        let route = TableRoute {
            condition: Some("(`b` > 1)".into()),
            ..route
        };
        let plan = TablePlan::new(&schema(), &route, &[], Some(&dest)).unwrap();
        assert!(plan.destination.unwrap().condition.is_none());
        assert!(plan.notes.iter().any(|n| n.contains("unrestricted")));
    }

    #[test]
    fn key_must_be_synchronized() {
        let route = TableRoute {
            columns: Some(vec![(1, "a".into())]),
            ..TableRoute::identity(&TableId::new("s", "t"))
        };
        let err = TablePlan::new(&schema(), &route, &[], None).unwrap_err();
        assert!(err.contains("key column `id`"), "{err}");
    }
}
