//! DML statement text for the sink: multi-row inserts in their four forms, deletes by key, and
//! the exact (all-column) statements of tables without a key. Values always travel as bound
//! parameters ([`crate::wire::encode::to_param`]); only identifiers (quoted) and placeholders are in
//! the text.

use crate::wire::encode::to_param;
use crate::wire::ident::{quote_ident, quote_table};
use dts_core::{Column, ColumnType, Row, TableSchema, Value};
use mysql_async::Value as Raw;

/// Most placeholders one prepared statement may have.
pub const MAX_PLACEHOLDERS: usize = 65_535;

/// Bytes counted per value on top of its size when sizing statements (placeholder text and
/// protocol overhead).
const VALUE_OVERHEAD: usize = 4;

/// How an upsert refers to the incoming row in `ON DUPLICATE KEY UPDATE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpsertStyle {
    /// `c = VALUES(c)`: MariaDB, and MySQL before 8.0.19.
    Values,
    /// `… AS dts_new ON DUPLICATE KEY UPDATE c = dts_new.c`: MySQL 8.0.19+ (where `VALUES()` is
    /// deprecated).
    RowAlias,
}

/// The form of a multi-row insert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertKind {
    /// `INSERT`: fails on a duplicate key.
    Plain,
    /// `INSERT IGNORE`: keeps the existing row.
    Ignore,
    /// `INSERT … ON DUPLICATE KEY UPDATE` of every non-key column.
    Upsert,
    /// `REPLACE`: deletes every row the new one collides with on any unique key, then inserts.
    Replace,
}

/// Positions of the columns a statement writes: every column but generated ones.
pub fn writable_columns(schema: &TableSchema) -> Vec<usize> {
    schema
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.generated.is_none())
        .map(|(i, _)| i)
        .collect()
}

/// True when the table has unique keys other than its identity, so an upsert by the identity
/// alone could fail on (or leave behind) a collision on another unique key: such tables are
/// written with `REPLACE`.
pub fn has_other_unique_keys(schema: &TableSchema) -> bool {
    let identity = schema.identity_columns().unwrap_or(&[]);
    let pk_is_other = !schema.primary_key.is_empty() && schema.primary_key != identity;
    pk_is_other || schema.unique_keys.iter().any(|k| k.columns != identity)
}

/// The insert form that makes a row with the same key converge to the incoming image.
pub fn replace_kind(schema: &TableSchema) -> InsertKind {
    if has_other_unique_keys(schema) {
        InsertKind::Replace
    } else if schema.identity_columns().is_some() {
        InsertKind::Upsert
    } else {
        InsertKind::Plain
    }
}

/// A multi-row insert of `rows` rows into the `cols` columns.
pub fn insert_sql(
    schema: &TableSchema,
    cols: &[usize],
    rows: usize,
    kind: InsertKind,
    style: UpsertStyle,
) -> String {
    let names: Vec<String> = cols
        .iter()
        .map(|&i| quote_ident(&schema.columns[i].name))
        .collect();
    let one = format!("({})", vec!["?"; cols.len()].join(", "));
    let values = vec![one.as_str(); rows].join(", ");
    let verb = match kind {
        InsertKind::Plain | InsertKind::Upsert => "INSERT INTO",
        InsertKind::Ignore => "INSERT IGNORE INTO",
        InsertKind::Replace => "REPLACE INTO",
    };
    let mut sql = format!(
        "{verb} {} ({}) VALUES {values}",
        quote_table(&schema.id),
        names.join(", ")
    );
    if kind == InsertKind::Upsert {
        let keys = schema.identity_columns().unwrap_or(&[]);
        let mut updated: Vec<&String> = cols
            .iter()
            .map(|&i| &schema.columns[i].name)
            .filter(|n| !keys.contains(n))
            .collect();
        if updated.is_empty() {
            // Only key columns: a no-op update keeps the statement an upsert.
            updated = cols
                .iter()
                .take(1)
                .map(|&i| &schema.columns[i].name)
                .collect();
        }
        let assignments: Vec<String> = updated
            .iter()
            .map(|n| {
                let q = quote_ident(n);
                match style {
                    UpsertStyle::Values => format!("{q} = VALUES({q})"),
                    UpsertStyle::RowAlias => format!("{q} = `dts_new`.{q}"),
                }
            })
            .collect();
        if style == UpsertStyle::RowAlias {
            sql.push_str(" AS `dts_new`");
        }
        sql.push_str(" ON DUPLICATE KEY UPDATE ");
        sql.push_str(&assignments.join(", "));
    }
    sql
}

/// The placeholder a value of `col` is compared through: DECIMAL compares as DECIMAL (never as
/// a double), native JSON as JSON.
fn compare_placeholder(col: &Column) -> String {
    match &col.column_type {
        ColumnType::Decimal { precision, scale } => {
            format!("CAST(? AS DECIMAL({precision},{scale}))")
        }
        ColumnType::Json if col.type_text.trim().eq_ignore_ascii_case("json") => {
            "CAST(? AS JSON)".to_string()
        }
        _ => "?".to_string(),
    }
}

/// `DELETE … WHERE` the key is one of `rows` keys: `k IN (?, …)` for one column,
/// `(k1 = ? AND k2 = ?) OR …` for several (identity columns are NOT NULL, so `=` is exact).
pub fn delete_keys_sql(schema: &TableSchema, keys: &[usize], rows: usize) -> String {
    let cond = if keys.len() == 1 {
        let col = &schema.columns[keys[0]];
        let p = compare_placeholder(col);
        format!(
            "{} IN ({})",
            quote_ident(&col.name),
            vec![p.as_str(); rows].join(", ")
        )
    } else {
        let one = keys
            .iter()
            .map(|&i| {
                let col = &schema.columns[i];
                format!("{} = {}", quote_ident(&col.name), compare_placeholder(col))
            })
            .collect::<Vec<_>>()
            .join(" AND ");
        vec![format!("({one})"); rows].join(" OR ")
    };
    format!("DELETE FROM {} WHERE {cond}", quote_table(&schema.id))
}

/// `WHERE k1 = ? AND …` matching one row by key.
pub fn key_condition(schema: &TableSchema, keys: &[usize]) -> String {
    keys.iter()
        .map(|&i| {
            let col = &schema.columns[i];
            format!("{} = {}", quote_ident(&col.name), compare_placeholder(col))
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `SELECT every column … WHERE key = ? LIMIT 1`, optionally locking the row.
pub fn select_by_key_sql(schema: &TableSchema, keys: &[usize], for_update: bool) -> String {
    let cols = schema
        .columns
        .iter()
        .map(|c| quote_ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {cols} FROM {} WHERE {} LIMIT 1{}",
        quote_table(&schema.id),
        key_condition(schema, keys),
        if for_update { " FOR UPDATE" } else { "" }
    )
}

/// A NULL-safe, exact comparison of one column with a parameter. Text compares as the bytes of
/// the column's character set, so neither a case- or accent-insensitive collation nor PAD SPACE
/// makes two different rows match.
fn exact_comparison(col: &Column) -> String {
    let name = quote_ident(&col.name);
    let textual = col.column_type.is_textual()
        && !matches!(
            col.column_type,
            ColumnType::Enum { .. } | ColumnType::Set { .. }
        );
    let mariadb_json = matches!(col.column_type, ColumnType::Json)
        && !col.type_text.trim().eq_ignore_ascii_case("json");
    match col.charset.as_deref() {
        Some(cs) if (textual || mariadb_json) && cs != "binary" && is_word(cs) => {
            format!("CAST({name} AS BINARY) <=> CAST(CONVERT(? USING {cs}) AS BINARY)")
        }
        _ => format!("{name} <=> {}", compare_placeholder(col)),
    }
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `DELETE … WHERE every column <=> ? LIMIT 1`: removes one of the rows equal to `row` (rows of a
/// key-less table that are equal in every column are interchangeable).
pub fn delete_exact(schema: &TableSchema, row: &Row) -> (String, Vec<Raw>) {
    let (cond, params) = exact_condition(schema, row);
    (
        format!(
            "DELETE FROM {} WHERE {cond} LIMIT 1",
            quote_table(&schema.id)
        ),
        params,
    )
}

/// `UPDATE … SET every column = ? WHERE every column <=> ? LIMIT 1`.
pub fn update_exact(schema: &TableSchema, before: &Row, after: &Row) -> (String, Vec<Raw>) {
    let cols = writable_columns(schema);
    let set = cols
        .iter()
        .map(|&i| format!("{} = ?", quote_ident(&schema.columns[i].name)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut params: Vec<Raw> = cols.iter().map(|&i| to_param(&after[i])).collect();
    let (cond, cond_params) = exact_condition(schema, before);
    params.extend(cond_params);
    (
        format!(
            "UPDATE {} SET {set} WHERE {cond} LIMIT 1",
            quote_table(&schema.id)
        ),
        params,
    )
}

fn exact_condition(schema: &TableSchema, row: &Row) -> (String, Vec<Raw>) {
    let cols = writable_columns(schema);
    let cond = cols
        .iter()
        .map(|&i| exact_comparison(&schema.columns[i]))
        .collect::<Vec<_>>()
        .join(" AND ");
    let params = cols.iter().map(|&i| to_param(&row[i])).collect();
    (cond, params)
}

/// Approximate bytes a row adds to a statement.
pub fn row_bytes(row: &Row, cols: &[usize]) -> usize {
    cols.iter()
        .map(|&i| row.get(i).map(Value::approx_size).unwrap_or(1) + VALUE_OVERHEAD)
        .sum()
}

/// Splits `items` into consecutive runs that each fit one statement: at most `max_rows` items,
/// `MAX_PLACEHOLDERS / params_per_item` items, and about `max_bytes` bytes (a single larger item
/// still gets a run of its own).
pub fn split_runs<T>(
    items: &[T],
    params_per_item: usize,
    max_rows: usize,
    max_bytes: usize,
    size: impl Fn(&T) -> usize,
) -> Vec<std::ops::Range<usize>> {
    let per_statement = (MAX_PLACEHOLDERS / params_per_item.max(1))
        .min(max_rows)
        .max(1);
    let mut runs = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, item) in items.iter().enumerate() {
        let b = size(item);
        if i > start && (i - start >= per_statement || bytes + b > max_bytes) {
            runs.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += b;
    }
    if start < items.len() {
        runs.push(start..items.len());
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::{Index, TableId};

    fn schema() -> TableSchema {
        let mut id = Column::new(
            "id",
            ColumnType::Integer {
                bytes: 4,
                unsigned: false,
            },
            "int(11)",
        );
        id.nullable = false;
        let mut name = Column::new("na`me", ColumnType::VarChar { length: 10 }, "varchar(10)");
        name.charset = Some("latin1".into());
        let mut g = Column::new(
            "g",
            ColumnType::Integer {
                bytes: 4,
                unsigned: false,
            },
            "int(11)",
        );
        g.generated = Some("`id` + 1".into());
        let d = Column::new(
            "d",
            ColumnType::Decimal {
                precision: 65,
                scale: 30,
            },
            "decimal(65,30)",
        );
        TableSchema {
            id: TableId::new("db", "t.x"),
            columns: vec![id, name, g, d],
            primary_key: vec!["id".into()],
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        }
    }

    #[test]
    fn insert_forms() {
        let s = schema();
        let cols = writable_columns(&s);
        assert_eq!(cols, vec![0, 1, 3]);
        assert_eq!(
            insert_sql(&s, &cols, 2, InsertKind::Upsert, UpsertStyle::Values),
            "INSERT INTO `db`.`t.x` (`id`, `na``me`, `d`) VALUES (?, ?, ?), (?, ?, ?) \
             ON DUPLICATE KEY UPDATE `na``me` = VALUES(`na``me`), `d` = VALUES(`d`)"
        );
        assert_eq!(
            insert_sql(&s, &cols, 1, InsertKind::Upsert, UpsertStyle::RowAlias),
            "INSERT INTO `db`.`t.x` (`id`, `na``me`, `d`) VALUES (?, ?, ?) AS `dts_new` \
             ON DUPLICATE KEY UPDATE `na``me` = `dts_new`.`na``me`, `d` = `dts_new`.`d`"
        );
        assert_eq!(
            insert_sql(&s, &cols, 1, InsertKind::Ignore, UpsertStyle::Values),
            "INSERT IGNORE INTO `db`.`t.x` (`id`, `na``me`, `d`) VALUES (?, ?, ?)"
        );
        assert_eq!(
            insert_sql(&s, &[0], 1, InsertKind::Upsert, UpsertStyle::Values),
            "INSERT INTO `db`.`t.x` (`id`) VALUES (?) ON DUPLICATE KEY UPDATE `id` = VALUES(`id`)"
        );
    }

    #[test]
    fn replace_when_other_unique_keys() {
        let mut s = schema();
        assert_eq!(replace_kind(&s), InsertKind::Upsert);
        s.unique_keys.push(Index {
            name: "u".into(),
            columns: vec!["na`me".into()],
            unique: true,
        });
        assert_eq!(replace_kind(&s), InsertKind::Replace);
        s.primary_key.clear();
        s.unique_keys.clear();
        assert_eq!(replace_kind(&s), InsertKind::Plain);
    }

    #[test]
    fn deletes_by_key() {
        let s = schema();
        assert_eq!(
            delete_keys_sql(&s, &[0], 3),
            "DELETE FROM `db`.`t.x` WHERE `id` IN (?, ?, ?)"
        );
        assert_eq!(
            delete_keys_sql(&s, &[0, 3], 2),
            "DELETE FROM `db`.`t.x` WHERE (`id` = ? AND `d` = CAST(? AS DECIMAL(65,30))) \
             OR (`id` = ? AND `d` = CAST(? AS DECIMAL(65,30)))"
        );
    }

    #[test]
    fn exact_statements_compare_bytes_and_skip_generated() {
        let s = schema();
        let row = vec![
            Value::Int(1),
            Value::Text("a".into()),
            Value::Int(2),
            Value::Null,
        ];
        let (sql, params) = delete_exact(&s, &row);
        assert_eq!(
            sql,
            "DELETE FROM `db`.`t.x` WHERE `id` <=> ? AND \
             CAST(`na``me` AS BINARY) <=> CAST(CONVERT(? USING latin1) AS BINARY) AND \
             `d` <=> CAST(? AS DECIMAL(65,30)) LIMIT 1"
        );
        assert_eq!(params.len(), 3);
        let (sql, params) = update_exact(&s, &row, &row);
        assert!(sql.starts_with("UPDATE `db`.`t.x` SET `id` = ?, `na``me` = ?, `d` = ? WHERE "));
        assert_eq!(params.len(), 6);
    }

    #[test]
    fn runs_respect_rows_bytes_and_placeholders() {
        let items = vec![10usize; 10];
        assert_eq!(
            split_runs(&items, 1, 4, 1000, |b| *b),
            vec![0..4, 4..8, 8..10]
        );
        assert_eq!(split_runs(&items, 1, 100, 25, |b| *b).len(), 5);
        // 30_000 params per row: two rows per statement at most.
        assert_eq!(split_runs(&items, 30_000, 100, 1000, |b| *b).len(), 5);
        // One oversized item still gets its run.
        assert_eq!(split_runs(&[5000usize], 1, 10, 10, |b| *b), vec![0..1]);
        assert!(split_runs::<usize>(&[], 1, 10, 10, |b| *b).is_empty());
    }
}
