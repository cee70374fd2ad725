//! Rows over the wire: decoding driver rows of a known table schema, and the keyset condition
//! that pages through a table in key order. Shared by the snapshot reader, the verification
//! reader and the sink's conflict checks.

use crate::wire::decode::{decode, Origin};
use crate::wire::encode::to_param;
use crate::wire::ident::quote_ident;
use dts_core::{Error, Row, TableSchema};
use mysql_async::Value as Raw;

/// `(k1 > ?) OR (k1 = ? AND k2 > ?) …` — the keyset condition, in a form both MySQL's and
/// MariaDB's range optimizers turn into an index range scan.
pub fn keyset_condition(keys: &[String], after: &[dts_core::Value]) -> (String, Vec<Raw>) {
    let mut ors = Vec::with_capacity(keys.len());
    let mut params = Vec::new();
    for i in 0..keys.len() {
        let mut ands = Vec::with_capacity(i + 1);
        for (j, key) in keys.iter().enumerate().take(i) {
            ands.push(format!("{} = ?", quote_ident(key)));
            params.push(to_param(&after[j]));
        }
        ands.push(format!("{} > ?", quote_ident(&keys[i])));
        params.push(to_param(&after[i]));
        ors.push(format!("({})", ands.join(" AND ")));
    }
    (ors.join(" OR "), params)
}

/// Decodes one driver row of `schema` holding every column.
pub fn decode_row(schema: &TableSchema, row: mysql_async::Row) -> Result<Row, Error> {
    let all: Vec<usize> = (0..schema.columns.len()).collect();
    decode_partial_row(schema, &all, row)
}

/// Decodes a driver row holding the columns at `positions` into a full-width row (`Null` for
/// the columns not read).
pub fn decode_partial_row(
    schema: &TableSchema,
    positions: &[usize],
    row: mysql_async::Row,
) -> Result<Row, Error> {
    let mut out = vec![dts_core::Value::Null; schema.columns.len()];
    for (v, &i) in row.unwrap().into_iter().zip(positions) {
        let c = &schema.columns[i];
        out[i] = decode(c, v, Origin::Snapshot).map_err(|m| Error::Schema {
            table: schema.id.clone(),
            message: format!("column {}: {m}", c.name),
        })?;
    }
    Ok(out)
}
