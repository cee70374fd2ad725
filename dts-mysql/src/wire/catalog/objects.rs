//! Reading a server's views, routines, triggers and events: each object's `SHOW CREATE …`
//! text with the session settings it was created under. The source reads them to copy them;
//! verification reads both sides to compare them.

use super::Scope;
use crate::wire::ident::quote_ident;
use dts_core::{Error, ObjectKind, Result, SchemaObject};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};

pub(crate) fn text(row: &Row, column: &str) -> Option<String> {
    let i = row
        .columns_ref()
        .iter()
        .position(|c| c.name_str() == column)?;
    match row.as_ref(i)? {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

pub(crate) fn map(what: &str) -> impl Fn(mysql_async::Error) -> Error + '_ {
    move |e| crate::wire::conn::classify("source", what, e)
}

/// Every view, procedure, function, trigger and event in `scope`, in a stable order.
pub async fn read_schema_objects(conn: &mut Conn, scope: &Scope) -> Result<Vec<SchemaObject>> {
    let mut out = Vec::new();
    let (cond, params) = scope.where_clause("TABLE_SCHEMA");
    let views: Vec<(String, String, String)> = conn
        .exec(
            format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME, DEFINER FROM information_schema.VIEWS WHERE \
                 {cond} ORDER BY 1, 2"
            ),
            params,
        )
        .await
        .map_err(map("list views"))?;
    for (db, name, definer) in views {
        let row: Option<Row> = conn
            .query_first(format!(
                "SHOW CREATE VIEW {}.{}",
                quote_ident(&db),
                quote_ident(&name)
            ))
            .await
            .map_err(map("read view"))?;
        let row = row.ok_or_else(|| missing(ObjectKind::View, &db, &name))?;
        out.push(SchemaObject {
            kind: ObjectKind::View,
            definition: text(&row, "Create View")
                .ok_or_else(|| missing(ObjectKind::View, &db, &name))?,
            character_set_client: text(&row, "character_set_client"),
            collation_connection: text(&row, "collation_connection"),
            sql_mode: String::new(),
            time_zone: None,
            database: db,
            name,
            table: None,
            definer: Some(definer),
            reads: Vec::new(),
            enabled: false,
        });
    }
    let (cond, params) = scope.where_clause("ROUTINE_SCHEMA");
    let routines: Vec<(String, String, String, String)> = conn
        .exec(
            format!(
                "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE, DEFINER FROM \
                 information_schema.ROUTINES WHERE {cond} AND ROUTINE_TYPE IN ('PROCEDURE', \
                 'FUNCTION') ORDER BY 1, 3, 2"
            ),
            params,
        )
        .await
        .map_err(map("list routines"))?;
    for (db, name, kind, definer) in routines {
        let kind = ObjectKind::from_keyword(&kind).unwrap_or(ObjectKind::Procedure);
        let row = show_create(conn, kind, &db, &name).await?;
        let column = if kind == ObjectKind::Function {
            "Create Function"
        } else {
            "Create Procedure"
        };
        out.push(SchemaObject {
            kind,
            definition: text(&row, column).ok_or_else(|| unreadable(kind, &db, &name))?,
            sql_mode: text(&row, "sql_mode").unwrap_or_default(),
            character_set_client: text(&row, "character_set_client"),
            collation_connection: text(&row, "collation_connection"),
            time_zone: None,
            database: db,
            name,
            table: None,
            definer: Some(definer),
            reads: Vec::new(),
            enabled: false,
        });
    }
    let (cond, params) = scope.where_clause("TRIGGER_SCHEMA");
    let triggers: Vec<(String, String, String, String)> = conn
        .exec(
            format!(
                "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE, DEFINER FROM \
                 information_schema.TRIGGERS WHERE {cond} ORDER BY 1, 3, ACTION_TIMING, \
                 EVENT_MANIPULATION, ACTION_ORDER"
            ),
            params,
        )
        .await
        .map_err(map("list triggers"))?;
    for (db, name, table, definer) in triggers {
        let row = show_create(conn, ObjectKind::Trigger, &db, &name).await?;
        out.push(SchemaObject {
            kind: ObjectKind::Trigger,
            definition: text(&row, "SQL Original Statement")
                .ok_or_else(|| unreadable(ObjectKind::Trigger, &db, &name))?,
            sql_mode: text(&row, "sql_mode").unwrap_or_default(),
            character_set_client: text(&row, "character_set_client"),
            collation_connection: text(&row, "collation_connection"),
            time_zone: None,
            database: db,
            name,
            table: Some(table),
            definer: Some(definer),
            reads: Vec::new(),
            enabled: false,
        });
    }
    let (cond, params) = scope.where_clause("EVENT_SCHEMA");
    let events: Vec<(String, String, String, String)> = conn
        .exec(
            format!(
                "SELECT EVENT_SCHEMA, EVENT_NAME, STATUS, DEFINER FROM information_schema.EVENTS \
                 WHERE {cond} ORDER BY 1, 2"
            ),
            params,
        )
        .await
        .map_err(map("list events"))?;
    for (db, name, status, definer) in events {
        let row = show_create(conn, ObjectKind::Event, &db, &name).await?;
        out.push(SchemaObject {
            kind: ObjectKind::Event,
            definition: text(&row, "Create Event")
                .ok_or_else(|| unreadable(ObjectKind::Event, &db, &name))?,
            sql_mode: text(&row, "sql_mode").unwrap_or_default(),
            character_set_client: text(&row, "character_set_client"),
            collation_connection: text(&row, "collation_connection"),
            time_zone: text(&row, "time_zone"),
            database: db,
            name,
            table: None,
            definer: Some(definer),
            reads: Vec::new(),
            enabled: status.eq_ignore_ascii_case("ENABLED"),
        });
    }
    Ok(out)
}

async fn show_create(conn: &mut Conn, kind: ObjectKind, db: &str, name: &str) -> Result<Row> {
    let row: Option<Row> = conn
        .query_first(format!(
            "SHOW CREATE {} {}.{}",
            kind.keyword(),
            quote_ident(db),
            quote_ident(name)
        ))
        .await
        .map_err(map("read object definition"))?;
    row.ok_or_else(|| missing(kind, db, name))
}

fn missing(kind: ObjectKind, db: &str, name: &str) -> Error {
    Error::Other {
        object: format!("{kind} {db}.{name}"),
        message: "it disappeared while the source's objects were read; retry".into(),
        cause: None,
    }
}

fn unreadable(kind: ObjectKind, db: &str, name: &str) -> Error {
    Error::Other {
        object: format!("{kind} {db}.{name}"),
        message: "the source account may not read its definition (SHOW CREATE returns none); \
                  grant it SELECT on mysql.proc (MariaDB) / SHOW_ROUTINE (MySQL 8), or make it \
                  the definer"
            .into(),
        cause: None,
    }
}
