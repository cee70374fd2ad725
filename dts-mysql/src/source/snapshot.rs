//! Full-data reads: keyset-paginated chunks, and one-transaction consistent reads of tables
//! without a usable key.

use crate::source::position::read_position;
use crate::wire::conn::{MysqlEndpoint, ServerInfo};
use crate::wire::ident::{quote_ident, quote_table};
use crate::wire::rows::{decode_partial_row, keyset_condition};
use crate::wire::session::SESSION_SETUP;
use dts_core::{Chunk, ChunkRequest, ConsistentRead, Error, Row, SchemaRef, TableSchema};
use futures::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::Pool;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// The column positions a read fetches: the requested subset plus the key columns, in table
/// order; every column when no subset is given.
fn read_positions(schema: &TableSchema, columns: Option<&[usize]>, keys: &[String]) -> Vec<usize> {
    match columns {
        None => (0..schema.columns.len()).collect(),
        Some(cols) => (0..schema.columns.len())
            .filter(|i| cols.contains(i) || keys.iter().any(|k| *k == schema.columns[*i].name))
            .collect(),
    }
}

/// `SELECT` list of the given columns, in order.
fn select_list(schema: &TableSchema, positions: &[usize]) -> String {
    positions
        .iter()
        .map(|i| quote_ident(&schema.columns[*i].name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads one chunk.
pub async fn read_chunk(
    pool: &Pool,
    ep: &MysqlEndpoint,
    req: &ChunkRequest,
) -> Result<Chunk, Error> {
    let schema = &req.schema;
    let key_idx: Vec<usize> = req
        .key_columns
        .iter()
        .map(|k| {
            schema.column_index(k).ok_or_else(|| Error::Schema {
                table: schema.id.clone(),
                message: format!("key column {k} not in table"),
            })
        })
        .collect::<Result<_, _>>()?;
    let mut conds = Vec::new();
    let mut params = Vec::new();
    if let Some(after) = &req.after {
        let (c, p) = keyset_condition(&req.key_columns, after);
        conds.push(format!("({c})"));
        params = p;
    }
    if let Some(cond) = &req.condition {
        conds.push(format!("({cond})"));
    }
    let where_sql = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    let order = req
        .key_columns
        .iter()
        .map(|k| quote_ident(k))
        .collect::<Vec<_>>()
        .join(", ");
    let positions = read_positions(schema, req.columns.as_deref(), &req.key_columns);
    let sql = format!(
        "SELECT {} FROM {}{where_sql} ORDER BY {order} LIMIT {}",
        select_list(schema, &positions),
        quote_table(&schema.id),
        req.limit
    );
    let mut conn = pool
        .get_conn()
        .await
        .map_err(|e| ep.map_err("snapshot connection", e))?;
    let raw: Vec<mysql_async::Row> = conn
        .exec(sql, params)
        .await
        .map_err(|e| ep.map_err(&format!("read chunk of {}", schema.id), e))?;
    let rows = raw
        .into_iter()
        .map(|r| decode_partial_row(schema, &positions, r))
        .collect::<Result<Vec<_>, _>>()?;
    let last_key = rows
        .last()
        .map(|r| key_idx.iter().map(|i| r[*i].clone()).collect());
    Ok(Chunk { rows, last_key })
}

/// Reads a whole table in one consistent-snapshot transaction whose binlog position is known.
pub async fn read_consistent(
    ep: &MysqlEndpoint,
    server: &ServerInfo,
    schema: SchemaRef,
    condition: Option<String>,
    columns: Option<Vec<usize>>,
    batch_rows: usize,
) -> Result<ConsistentRead, Error> {
    let mut conn = ep.connect().await?;
    let m = |what: &'static str| move |e| ep.map_err(what, e);
    for s in SESSION_SETUP {
        conn.query_drop(s).await.map_err(m("session setup"))?;
    }
    conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .await
        .map_err(m("isolation level"))?;
    let position = if server.is_mariadb() {
        conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            .await
            .map_err(m("consistent snapshot"))?;
        // MariaDB reports the binlog position matching the snapshot without any lock.
        let rows: Vec<(String, String)> = conn
            .query("SHOW STATUS LIKE 'binlog_snapshot_%'")
            .await
            .map_err(m("snapshot position"))?;
        let get = |name: &str| {
            rows.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let file = get("Binlog_snapshot_file").unwrap_or_default();
        let offset: u64 = get("Binlog_snapshot_position")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if file.is_empty() {
            return Err(Error::definite(
                &ep.label,
                "binary logging is off: no snapshot position",
            ));
        }
        let gtid: Option<String> = conn
            .exec_first("SELECT BINLOG_GTID_POS(?, ?)", (file.clone(), offset))
            .await
            .map_err(m("snapshot GTID"))?;
        dts_core::Position {
            file,
            offset,
            gtid_set: gtid
                .filter(|g| !g.is_empty())
                .map(|text| dts_core::GtidSet {
                    flavor: dts_core::GtidFlavor::Mariadb,
                    text,
                }),
        }
    } else {
        // MySQL has no lock-free equivalent: hold the global read lock only while the
        // snapshot starts and the position is read.
        conn.query_drop("FLUSH TABLES WITH READ LOCK")
            .await
            .map_err(m("read lock"))?;
        let started = conn
            .query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            .await;
        let pos = read_position(&mut conn, ep, server).await;
        conn.query_drop("UNLOCK TABLES")
            .await
            .map_err(m("unlock"))?;
        started.map_err(m("consistent snapshot"))?;
        pos?
    };
    let positions = read_positions(&schema, columns.as_deref(), &[]);
    let sql = format!(
        "SELECT {} FROM {}{}",
        select_list(&schema, &positions),
        quote_table(&schema.id),
        condition
            .map(|c| format!(" WHERE ({c})"))
            .unwrap_or_default()
    );
    let (tx, rx) = mpsc::channel::<Result<Vec<Row>, Error>>(4);
    let ep = ep.clone();
    tokio::spawn(async move {
        let result: Result<(), Error> = async {
            // The binary protocol, as every other read: the row decoder reads its values
            // (the text protocol would hand FLOAT, DOUBLE and temporal values over as text).
            let mut result = conn
                .exec_iter(sql, ())
                .await
                .map_err(|e| ep.map_err("consistent read", e))?;
            let mut stream = result
                .stream::<mysql_async::Row>()
                .await
                .map_err(|e| ep.map_err("consistent read", e))?
                .ok_or_else(|| {
                    Error::definite(&ep.label, "consistent read returned no result set")
                })?;
            let mut batch = Vec::with_capacity(batch_rows);
            while let Some(row) = stream.next().await {
                let row = row.map_err(|e| ep.map_err("consistent read", e))?;
                batch.push(decode_partial_row(&schema, &positions, row)?);
                if batch.len() >= batch_rows
                    && tx.send(Ok(std::mem::take(&mut batch))).await.is_err()
                {
                    return Ok(());
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(Ok(batch)).await;
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            let _ = tx.send(Err(e)).await;
        }
    });
    Ok(ConsistentRead {
        position,
        rows: ReceiverStream::new(rx).boxed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::Value;

    #[test]
    fn keyset_condition_expands_composite_keys() {
        let (sql, params) =
            keyset_condition(&["a".into(), "b`".into()], &[Value::Int(1), Value::Int(2)]);
        assert_eq!(sql, "(`a` > ?) OR (`a` = ? AND `b``` > ?)");
        assert_eq!(params.len(), 3);
    }
}
