//! Reading table structure from `information_schema`.

pub mod objects;

use crate::wire::conn::ServerInfo;
use crate::wire::ident::quote_table;
use dts_core::{
    CheckConstraint, Column, ColumnType, Error, Index, TableId, TableSchema, SYSTEM_DATABASES,
};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Which tables to read: all user tables, or the named databases only.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Databases to read; empty means every non-system database.
    pub databases: Vec<String>,
}

impl Scope {
    pub(crate) fn where_clause(&self, column: &str) -> (String, Vec<mysql_async::Value>) {
        if self.databases.is_empty() {
            let placeholders = vec!["?"; SYSTEM_DATABASES.len()].join(",");
            (
                format!("{column} NOT IN ({placeholders})"),
                SYSTEM_DATABASES.iter().map(|d| (*d).into()).collect(),
            )
        } else {
            let placeholders = vec!["?"; self.databases.len()].join(",");
            (
                format!("{column} IN ({placeholders})"),
                self.databases.iter().map(|d| d.as_str().into()).collect(),
            )
        }
    }
}

/// Non-table objects of a database, listed for the optional migrations (views, triggers,
/// events, routines).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OtherObjects {
    /// Views as (database, name).
    pub views: Vec<TableId>,
    /// Triggers as (database, name).
    pub triggers: Vec<TableId>,
    /// Events as (database, name).
    pub events: Vec<TableId>,
    /// Stored procedures and functions as (database, name).
    pub routines: Vec<TableId>,
}

fn get_str(row: &Row, idx: usize) -> Option<String> {
    match row.as_ref(idx)? {
        mysql_async::Value::NULL => None,
        mysql_async::Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

fn get_u64(row: &Row, idx: usize) -> Option<u64> {
    match row.as_ref(idx)? {
        mysql_async::Value::Int(i) => u64::try_from(*i).ok(),
        mysql_async::Value::UInt(u) => Some(*u),
        mysql_async::Value::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

/// Parses the quoted members of `enum('a','b')` / `set(...)` type text (`''` is a quote).
pub fn parse_members(type_text: &str) -> Vec<String> {
    let Some(start) = type_text.find('(') else {
        return vec![];
    };
    let body = &type_text[start + 1..type_text.rfind(')').unwrap_or(type_text.len())];
    let mut members = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut member = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    member.push('\'');
                }
                '\'' => break,
                '\\' => {
                    if let Some(n) = chars.next() {
                        member.push(n);
                    }
                }
                c => member.push(c),
            }
        }
        members.push(member);
    }
    members
}

/// Maps information_schema's description of a column to a [`ColumnType`].
#[allow(clippy::too_many_arguments)]
fn column_type(
    data_type: &str,
    type_text: &str,
    char_len: Option<u64>,
    octet_len: Option<u64>,
    precision: Option<u64>,
    scale: Option<u64>,
    fsp: Option<u64>,
    is_json: bool,
) -> Option<ColumnType> {
    let unsigned = type_text.contains("unsigned");
    let len32 = |l: Option<u64>| l.unwrap_or(0).min(u64::from(u32::MAX)) as u32;
    let fsp = fsp.unwrap_or(0).min(6) as u8;
    Some(match data_type {
        "tinyint" | "bool" | "boolean" => ColumnType::Integer { bytes: 1, unsigned },
        "smallint" => ColumnType::Integer { bytes: 2, unsigned },
        "mediumint" => ColumnType::Integer { bytes: 3, unsigned },
        "int" | "integer" => ColumnType::Integer { bytes: 4, unsigned },
        "bigint" => ColumnType::Integer { bytes: 8, unsigned },
        "float" => ColumnType::Float,
        "double" | "real" | "double precision" => ColumnType::Double,
        "decimal" | "numeric" => ColumnType::Decimal {
            precision: precision.unwrap_or(10) as u8,
            scale: scale.unwrap_or(0) as u8,
        },
        "bit" => ColumnType::Bit {
            width: precision.unwrap_or(1) as u8,
        },
        "char" => ColumnType::Char {
            length: len32(char_len),
        },
        "varchar" => ColumnType::VarChar {
            length: len32(char_len),
        },
        "tinytext" | "text" | "mediumtext" | "longtext" if is_json => ColumnType::Json,
        "tinytext" | "text" | "mediumtext" | "longtext" => ColumnType::Text {
            max_bytes: octet_len.unwrap_or(u64::from(u32::MAX)),
        },
        "binary" => ColumnType::Binary {
            length: len32(octet_len),
        },
        "varbinary" => ColumnType::VarBinary {
            length: len32(octet_len),
        },
        "tinyblob" | "blob" | "mediumblob" | "longblob" => ColumnType::Blob {
            max_bytes: octet_len.unwrap_or(u64::from(u32::MAX)),
        },
        "date" => ColumnType::Date,
        "time" => ColumnType::Time { fsp },
        "datetime" => ColumnType::DateTime { fsp },
        "timestamp" => ColumnType::Timestamp { fsp },
        "year" => ColumnType::Year,
        "enum" => ColumnType::Enum {
            members: parse_members(type_text),
        },
        "set" => ColumnType::Set {
            members: parse_members(type_text),
        },
        "json" => ColumnType::Json,
        // MariaDB's fixed-syntax text types (see `Column::fixed_syntax_text`).
        "uuid" => ColumnType::Char { length: 36 },
        "inet4" => ColumnType::VarChar { length: 15 },
        "inet6" => ColumnType::VarChar { length: 39 },
        "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" | "geomcollection" => ColumnType::Geometry {
            subtype: data_type.to_string(),
        },
        _ => return None,
    })
}

/// Reads the schema of every base table in `scope`, MariaDB's system-versioned tables and
/// sequences included (their `create_sql` says which they are, see
/// [`TableSchema::is_sequence`](dts_core::TableSchema::is_sequence)).
pub async fn discover_tables(
    conn: &mut Conn,
    server: &ServerInfo,
    scope: &Scope,
) -> Result<Vec<TableSchema>, Error> {
    let map = |e| crate::wire::conn::classify("source", "schema discovery", e);

    // MariaDB implements JSON as LONGTEXT with a JSON_VALID check constraint; the other
    // checks are the table's own.
    let mut json_columns: HashSet<(String, String, String)> = HashSet::new();
    let mut checks: BTreeMap<(String, String), Vec<CheckConstraint>> = BTreeMap::new();
    for (db, t, name, clause) in read_checks(conn, server, scope).await.map_err(map)? {
        let lower = clause.to_ascii_lowercase();
        let json_of = lower.strip_prefix("json_valid(`").and_then(|rest| {
            let end = rest.rfind("`)")?;
            // Take the original-case name from the clause.
            Some(clause["json_valid(`".len().."json_valid(`".len() + end].replace("``", "`"))
        });
        match json_of {
            Some(column) if server.is_mariadb() && column == name => {
                json_columns.insert((db, t, column));
            }
            _ => checks.entry((db, t)).or_default().push(CheckConstraint {
                name,
                expression: clause,
            }),
        }
    }

    let (cond, params) = scope.where_clause("t.TABLE_SCHEMA");
    let tables: Vec<Row> = conn
        .exec(
            format!(
                "SELECT t.TABLE_SCHEMA, t.TABLE_NAME FROM information_schema.TABLES t \
                 WHERE t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE') AND {cond} \
                 ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME"
            ),
            params.clone(),
        )
        .await
        .map_err(map)?;
    let mut schemas: BTreeMap<(String, String), TableSchema> = BTreeMap::new();
    for r in &tables {
        let (Some(db), Some(t)) = (get_str(r, 0), get_str(r, 1)) else {
            continue;
        };
        schemas.insert(
            (db.clone(), t.clone()),
            TableSchema {
                id: TableId::new(db, t),
                columns: vec![],
                primary_key: vec![],
                unique_keys: vec![],
                indexes: vec![],
                create_sql: None,
                constraints: Default::default(),
            },
        );
    }

    let (cond, params) = scope.where_clause("c.TABLE_SCHEMA");
    let columns: Vec<Row> = conn
        .exec(
            format!(
                "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_DEFAULT, \
                 c.IS_NULLABLE, c.DATA_TYPE, c.CHARACTER_MAXIMUM_LENGTH, \
                 c.CHARACTER_OCTET_LENGTH, c.NUMERIC_PRECISION, c.NUMERIC_SCALE, \
                 c.DATETIME_PRECISION, c.CHARACTER_SET_NAME, c.COLLATION_NAME, c.COLUMN_TYPE, \
                 c.EXTRA, c.GENERATION_EXPRESSION, c.COLUMN_COMMENT \
                 FROM information_schema.COLUMNS c WHERE {cond} \
                 ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION"
            ),
            params,
        )
        .await
        .map_err(map)?;
    for r in &columns {
        let (Some(db), Some(t), Some(name)) = (get_str(r, 0), get_str(r, 1), get_str(r, 2)) else {
            continue;
        };
        let Some(schema) = schemas.get_mut(&(db.clone(), t.clone())) else {
            continue; // a view's columns
        };
        let data_type = get_str(r, 5).unwrap_or_default().to_ascii_lowercase();
        let type_text = get_str(r, 13).unwrap_or_default();
        let is_json = json_columns.contains(&(db.clone(), t.clone(), name.clone()));
        let extra = get_str(r, 14).unwrap_or_default();
        let ct = column_type(
            &data_type,
            &type_text.to_ascii_lowercase(),
            get_u64(r, 6),
            get_u64(r, 7),
            get_u64(r, 8),
            get_u64(r, 9),
            get_u64(r, 10),
            is_json,
        )
        .ok_or_else(|| Error::Schema {
            table: schema.id.clone(),
            message: format!("column {name}: unsupported type {type_text}"),
        })?;
        let generated = get_str(r, 15).filter(|g| !g.is_empty());
        let mut column = Column::new(name, ct, type_text);
        column.nullable = get_str(r, 4).as_deref() == Some("YES");
        column.default = get_str(r, 3);
        column.charset = get_str(r, 11);
        column.collation = get_str(r, 12);
        column.auto_increment = extra.to_ascii_lowercase().contains("auto_increment");
        column.generated = generated;
        column.comment = get_str(r, 16).unwrap_or_default();
        column.invisible = extra.to_ascii_uppercase().contains("INVISIBLE");
        schema.columns.push(column);
    }

    let (cond, params) = scope.where_clause("s.TABLE_SCHEMA");
    let stats: Vec<Row> = conn
        .exec(
            format!(
                "SELECT s.TABLE_SCHEMA, s.TABLE_NAME, s.INDEX_NAME, s.NON_UNIQUE, s.COLUMN_NAME \
                 FROM information_schema.STATISTICS s WHERE {cond} \
                 ORDER BY s.TABLE_SCHEMA, s.TABLE_NAME, s.INDEX_NAME, s.SEQ_IN_INDEX"
            ),
            params,
        )
        .await
        .map_err(map)?;
    let mut indexes: BTreeMap<(String, String, String), Index> = BTreeMap::new();
    for r in &stats {
        let (Some(db), Some(t), Some(ix), Some(col)) =
            (get_str(r, 0), get_str(r, 1), get_str(r, 2), get_str(r, 4))
        else {
            continue;
        };
        let unique = get_u64(r, 3) == Some(0);
        indexes
            .entry((db, t, ix.clone()))
            .or_insert_with(|| Index {
                name: ix,
                columns: vec![],
                unique,
            })
            .columns
            .push(col);
    }
    for ((db, t, _), ix) in indexes {
        let Some(schema) = schemas.get_mut(&(db, t)) else {
            continue;
        };
        if ix.name == "PRIMARY" {
            schema.primary_key = ix.columns;
        } else if ix.unique {
            schema.unique_keys.push(ix);
        } else {
            schema.indexes.push(ix);
        }
    }

    let mut out = Vec::with_capacity(schemas.len());
    for (key, mut schema) in schemas {
        schema.constraints.checks = checks.remove(&key).unwrap_or_default();
        let row: Result<Option<(String, String)>, _> = conn
            .query_first(format!("SHOW CREATE TABLE {}", quote_table(&schema.id)))
            .await;
        match row {
            Ok(row) => schema.create_sql = row.map(|(_, sql)| sql),
            // Dropped or renamed since it was listed: it is no longer there to read.
            Err(mysql_async::Error::Server(e)) if e.code == 1146 => continue,
            Err(e) => return Err(map(e)),
        }
        out.push(schema);
    }
    Ok(out)
}

/// Reads the current schema of one table (`None` if it no longer exists).
pub async fn discover_table(
    conn: &mut Conn,
    server: &ServerInfo,
    id: &TableId,
) -> Result<Option<TableSchema>, Error> {
    let scope = Scope {
        databases: vec![id.database.clone()],
    };
    // Reading the whole database is simple and still cheap for DDL-time refreshes.
    Ok(discover_tables(conn, server, &scope)
        .await?
        .into_iter()
        .find(|s| s.id == *id))
}

/// Lists views, triggers, events and routines in `scope`.
pub async fn discover_other_objects(conn: &mut Conn, scope: &Scope) -> Result<OtherObjects, Error> {
    let map = |e| crate::wire::conn::classify("source", "object discovery", e);
    let mut out = OtherObjects::default();
    let queries: [(&str, &str, &str); 4] = [
        ("information_schema.VIEWS", "TABLE_SCHEMA", "TABLE_NAME"),
        (
            "information_schema.TRIGGERS",
            "TRIGGER_SCHEMA",
            "TRIGGER_NAME",
        ),
        ("information_schema.EVENTS", "EVENT_SCHEMA", "EVENT_NAME"),
        (
            "information_schema.ROUTINES",
            "ROUTINE_SCHEMA",
            "ROUTINE_NAME",
        ),
    ];
    for (i, (table, db_col, name_col)) in queries.iter().enumerate() {
        let (cond, params) = scope.where_clause(db_col);
        let rows: Vec<(String, String)> = conn
            .exec(
                format!("SELECT {db_col}, {name_col} FROM {table} WHERE {cond} ORDER BY 1, 2"),
                params,
            )
            .await
            .map_err(map)?;
        let ids = rows.into_iter().map(|(d, n)| TableId::new(d, n)).collect();
        match i {
            0 => out.views = ids,
            1 => out.triggers = ids,
            2 => out.events = ids,
            _ => out.routines = ids,
        }
    }
    Ok(out)
}

/// The CHECK constraints of the tables in `scope` as (database, table, name, clause): MariaDB
/// names the table in `CHECK_CONSTRAINTS`, MySQL 8.0.16+ through `TABLE_CONSTRAINTS`; older
/// MySQL servers have no CHECK constraints.
async fn read_checks(
    conn: &mut Conn,
    server: &ServerInfo,
    scope: &Scope,
) -> Result<Vec<(String, String, String, String)>, mysql_async::Error> {
    let sql = if server.is_mariadb() {
        let (cond, params) = scope.where_clause("CONSTRAINT_SCHEMA");
        let sql = format!(
            "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE \
             FROM information_schema.CHECK_CONSTRAINTS WHERE {cond} \
             ORDER BY CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME"
        );
        (sql, params)
    } else if server.version_number >= (8, 0, 16) {
        let (cond, params) = scope.where_clause("c.CONSTRAINT_SCHEMA");
        let sql = format!(
            "SELECT c.CONSTRAINT_SCHEMA, t.TABLE_NAME, c.CONSTRAINT_NAME, c.CHECK_CLAUSE \
             FROM information_schema.CHECK_CONSTRAINTS c \
             JOIN information_schema.TABLE_CONSTRAINTS t \
               ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA \
              AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND t.CONSTRAINT_TYPE = 'CHECK' \
             WHERE {cond} ORDER BY c.CONSTRAINT_SCHEMA, t.TABLE_NAME, c.CONSTRAINT_NAME"
        );
        (sql, params)
    } else {
        return Ok(Vec::new());
    };
    let rows: Vec<Row> = conn.exec(sql.0, sql.1).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some((
                get_str(r, 0)?,
                get_str(r, 1)?,
                get_str(r, 2)?,
                get_str(r, 3)?,
            ))
        })
        .collect())
}

/// The tables of `tables` that do not exist on the server behind `conn` (names compared as
/// the server compares them: exactly, or case-insensitively under `lower_case_table_names` or
/// when the server has no such variable). `endpoint` names the server in errors.
pub async fn missing_tables(
    conn: &mut Conn,
    endpoint: &str,
    tables: &[TableSchema],
) -> Result<Vec<TableId>, Error> {
    let fold: u32 = conn
        .query_first("SELECT @@lower_case_table_names")
        .await
        .unwrap_or(Some(1))
        .unwrap_or(0);
    let key = |db: &str, t: &str| {
        if fold != 0 {
            (db.to_lowercase(), t.to_lowercase())
        } else {
            (db.to_string(), t.to_string())
        }
    };
    let databases: BTreeSet<&str> = tables.iter().map(|t| t.id.database.as_str()).collect();
    let mut present = BTreeSet::new();
    for db in databases {
        let names: Vec<String> = conn
            .exec(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
                (db,),
            )
            .await
            .map_err(|e| {
                crate::wire::conn::classify(endpoint, &format!("list tables of {db}"), e)
            })?;
        present.extend(names.into_iter().map(|n| key(db, &n)));
    }
    Ok(tables
        .iter()
        .filter(|t| !present.contains(&key(&t.id.database, &t.id.table)))
        .map(|t| t.id.clone())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_with_quotes_and_commas() {
        assert_eq!(
            parse_members("enum('a','b''c','d,e','')"),
            vec!["a", "b'c", "d,e", ""]
        );
        assert_eq!(parse_members("set('x')"), vec!["x"]);
    }

    #[test]
    fn unsigned_and_json_types() {
        let t = column_type(
            "bigint",
            "bigint(20) unsigned",
            None,
            None,
            Some(20),
            Some(0),
            None,
            false,
        );
        assert_eq!(
            t,
            Some(ColumnType::Integer {
                bytes: 8,
                unsigned: true
            })
        );
        let j = column_type("longtext", "longtext", None, None, None, None, None, true);
        assert_eq!(j, Some(ColumnType::Json));
        assert_eq!(
            column_type("vector", "vector(3)", None, None, None, None, None, false),
            None
        );
    }
}
