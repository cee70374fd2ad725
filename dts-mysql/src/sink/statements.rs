//! The statements the MySQL sink runs for planned writes: multi-row inserts and upserts,
//! deletes by key, `LOAD DATA`, each with its warnings logged. Used by the apply path and by
//! conflict detection.

use super::ops::{key_indexes, Session};
use super::sql::{self, InsertKind};
use super::MysqlSink;
use crate::wire::encode::to_param;
use dts_core::{Result, Row, TableId, TableSchema};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value as Raw};

/// Executes one statement, logging the server's warnings (unless `quiet`).
pub(super) async fn exec<Q: Session>(
    sink: &MysqlSink,
    q: &mut Q,
    sql: String,
    params: Vec<Raw>,
    table: &TableId,
    what: &str,
    quiet: bool,
) -> Result<u64> {
    q.exec_drop(sql, params)
        .await
        .map_err(|e| sink.err(&format!("{what} {table}"), e))?;
    let affected = q.affected();
    if !quiet {
        log_warnings(q, table, what).await;
    }
    Ok(affected)
}

/// Logs the warnings of the last statement (the destination adjusted values), if any.
pub(super) async fn log_warnings<Q: Session>(q: &mut Q, table: &TableId, what: &str) {
    let n = q.warnings();
    if n == 0 {
        return;
    }
    let shown: Vec<(String, u32, String)> =
        q.query("SHOW WARNINGS LIMIT 5").await.unwrap_or_default();
    tracing::warn!(
        target: "dts_mysql::sink",
        table = %table,
        warnings = n,
        first = ?shown,
        "{what}: the destination adjusted values"
    );
}

/// `rows` written with one `LOAD DATA LOCAL INFILE` (see [`super::load`]).
pub(super) async fn exec_load(
    sink: &MysqlSink,
    conn: &mut Conn,
    schema: &TableSchema,
    cols: &[usize],
    rows: &[&Row],
    kind: InsertKind,
) -> Result<()> {
    let data = super::load::encode_rows(rows, cols);
    let text = super::load::load_sql(schema, cols, kind, !sink.server.is_mariadb());
    conn.set_infile_handler(async move {
        Ok(futures::StreamExt::boxed(futures::stream::once(
            async move { Ok(data) },
        )))
    });
    let what = format!("load {} rows into", rows.len());
    conn.query_drop(text)
        .await
        .map_err(|e| sink.err(&format!("{what} {}", schema.id), e))?;
    if kind != InsertKind::Ignore {
        log_warnings(conn, &schema.id, &what).await;
    }
    Ok(())
}

/// A multi-row insert of `rows`, split into statements within the limits.
pub(super) async fn exec_insert<Q: Session>(
    sink: &MysqlSink,
    q: &mut Q,
    schema: &TableSchema,
    cols: &[usize],
    rows: &[&Row],
    kind: InsertKind,
) -> Result<()> {
    let runs = sql::split_runs(
        rows,
        cols.len(),
        sink.options.batch_rows,
        sink.batch_bytes,
        |r| sql::row_bytes(r, cols),
    );
    let what = match kind {
        InsertKind::Plain => "insert into",
        InsertKind::Ignore => "insert ignore into",
        InsertKind::Upsert => "upsert into",
        InsertKind::Replace => "replace into",
    };
    for run in runs {
        let n = run.len();
        let text = sql::insert_sql(schema, cols, n, kind, sink.style);
        let params: Vec<Raw> = rows[run]
            .iter()
            .flat_map(|r| cols.iter().map(|&c| to_param(&r[c])))
            .collect();
        exec(
            sink,
            q,
            text,
            params,
            &schema.id,
            &format!("{what} ({n} rows)"),
            kind == InsertKind::Ignore,
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn exec_delete_keys<Q: Session>(
    sink: &MysqlSink,
    q: &mut Q,
    schema: &TableSchema,
    rows: &[&Row],
) -> Result<()> {
    let keys = key_indexes(schema)?.unwrap_or_default();
    let runs = sql::split_runs(
        rows,
        keys.len(),
        sink.options.batch_rows,
        sink.batch_bytes,
        |r| sql::row_bytes(r, &keys),
    );
    for run in runs {
        let n = run.len();
        let params: Vec<Raw> = rows[run]
            .iter()
            .flat_map(|r| keys.iter().map(|&c| to_param(&r[c])))
            .collect();
        exec(
            sink,
            q,
            sql::delete_keys_sql(schema, &keys, n),
            params,
            &schema.id,
            &format!("delete ({n} keys) from"),
            false,
        )
        .await?;
    }
    Ok(())
}
