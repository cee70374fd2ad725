//! Full-sync writes through `LOAD DATA LOCAL INFILE`: rows streamed from memory as
//! tab-separated text, the destination's fastest ingestion path.
//!
//! A multi-row `INSERT` costs the server an expression per value (parsed or bound, then
//! evaluated); `LOAD DATA` stores each field straight into its column, which on a two-core
//! machine roughly doubles what one destination can take. The data never touches a file: the
//! driver answers the server's file request with the rows encoded in memory.
//!
//! # Encoding
//!
//! The statement reads the data as `CHARACTER SET binary` (no conversion) with the default
//! field and line syntax: fields separated by TAB, lines by LF, `\` escapes, `\N` for NULL.
//! Every value is written in a form the column stores exactly:
//! - integers, DECIMAL and YEAR (4 digits, so the zero year stays `0000`) as decimal text;
//!   FLOAT as the shortest text of its exact `f64` widening, DOUBLE as its shortest
//!   round-trip text, so the server's correctly rounded parse gives back the same bits;
//! - BIT as its 8 big-endian bytes (a BIT column stores a binary string right-aligned);
//! - dates and times as `YYYY-MM-DD HH:MM:SS.ffffff` / `[-]H:MM:SS.ffffff`, TIMESTAMPs as their
//!   UTC wall-clock time (sink sessions run with `time_zone = '+00:00'`);
//! - binary strings and geometry (internal format) as their bytes;
//! - text as UTF-8: columns in the UTF-8 family (and ASCII) take the bytes directly; any other
//!   character set, and MySQL's native JSON type, are loaded through a user variable and
//!   `CONVERT(@v USING utf8mb4)` so the server converts them as it would a `utf8mb4` session
//!   value.
//!
//! Duplicate keys follow the insert kind: `REPLACE` where the INSERT path would upsert or
//! replace, `IGNORE` where it would ignore, neither for key-less tables.

use super::sql::InsertKind;
use crate::wire::encode::to_param;
use crate::wire::ident::{quote_ident, quote_table};
use bytes::{BufMut, Bytes, BytesMut};
use dts_core::{Column, ColumnType, Row, TableSchema, Value};
use mysql_async::Value as Raw;
use std::fmt::Write as _;

/// Whether a column's values can be stored from their UTF-8 bytes without conversion.
fn loads_directly(col: &Column, mysql_json: bool) -> bool {
    match &col.column_type {
        ColumnType::Json => !mysql_json,
        ColumnType::Char { .. }
        | ColumnType::VarChar { .. }
        | ColumnType::Text { .. }
        | ColumnType::Enum { .. }
        | ColumnType::Set { .. } => match col.charset.as_deref() {
            None => false,
            Some(cs) => {
                matches!(cs, "binary" | "utf8mb4" | "utf8mb3" | "utf8" | "ascii")
            }
        },
        _ => true,
    }
}

/// The `LOAD DATA` statement for `cols` of `schema`. `mysql_json`: the destination has a
/// native JSON type (MySQL), which refuses binary-charset input.
pub fn load_sql(
    schema: &TableSchema,
    cols: &[usize],
    kind: InsertKind,
    mysql_json: bool,
) -> String {
    let mut targets = Vec::with_capacity(cols.len());
    let mut sets = Vec::new();
    for (n, &i) in cols.iter().enumerate() {
        let col = &schema.columns[i];
        if loads_directly(col, mysql_json) {
            targets.push(quote_ident(&col.name));
        } else {
            let var = format!("@dts_v{n}");
            sets.push(format!(
                "{} = CONVERT({var} USING utf8mb4)",
                quote_ident(&col.name)
            ));
            targets.push(var);
        }
    }
    let duplicates = match kind {
        InsertKind::Plain => "",
        InsertKind::Ignore => " IGNORE",
        InsertKind::Upsert | InsertKind::Replace => " REPLACE",
    };
    let mut sql = format!(
        "LOAD DATA LOCAL INFILE 'dts-rows'{duplicates} INTO TABLE {} CHARACTER SET binary \
         FIELDS TERMINATED BY '\\t' ENCLOSED BY '' ESCAPED BY '\\\\' \
         LINES TERMINATED BY '\\n' STARTING BY '' ({})",
        quote_table(&schema.id),
        targets.join(", ")
    );
    if !sets.is_empty() {
        sql.push_str(" SET ");
        sql.push_str(&sets.join(", "));
    }
    sql
}

/// Appends `bytes` escaped for a `\`-escaped, TAB/LF-delimited field.
fn put_escaped(out: &mut BytesMut, bytes: &[u8]) {
    // Most values hold nothing to escape: one branch-free pass (vectorized by the compiler)
    // finds that out before the byte-by-byte loop.
    let special = bytes.iter().fold(false, |found, &b| {
        found | (b == b'\\') | (b == b'\t') | (b == b'\n') | (b == 0)
    });
    if !special {
        return out.put_slice(bytes);
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0 => b"\\0",
            _ => continue,
        };
        out.put_slice(&bytes[start..i]);
        out.put_slice(esc);
        start = i + 1;
    }
    out.put_slice(&bytes[start..]);
}

/// Appends one value in the encoding described in the module documentation.
fn put_value(out: &mut BytesMut, value: &Value, text: &mut String) {
    text.clear();
    match value {
        Value::Null => return out.put_slice(b"\\N"),
        Value::Int(i) => write!(text, "{i}").expect("write to String"),
        Value::UInt(u) => write!(text, "{u}").expect("write to String"),
        Value::Float(f) => write!(text, "{}", f64::from(*f)).expect("write to String"),
        Value::Double(d) => write!(text, "{d}").expect("write to String"),
        Value::Year(y) => write!(text, "{y:04}").expect("write to String"),
        Value::Bit(b) => return put_escaped(out, &b.to_be_bytes()),
        Value::Decimal(s) | Value::Text(s) | Value::Enum(s) | Value::Json(s) => {
            return put_escaped(out, s.as_bytes())
        }
        Value::Bytes(b) | Value::Geometry(b) => return put_escaped(out, b),
        Value::Set(members) => return put_escaped(out, members.join(",").as_bytes()),
        Value::Date(d) => {
            write!(text, "{:04}-{:02}-{:02}", d.year, d.month, d.day).expect("write to String")
        }
        Value::Time(_) | Value::DateTime(_) | Value::Timestamp(_) => match to_param(value) {
            Raw::Date(y, mo, d, h, mi, s, us) => {
                write!(text, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}")
                    .expect("write to String")
            }
            Raw::Time(neg, days, h, mi, s, us) => write!(
                text,
                "{}{}:{mi:02}:{s:02}.{us:06}",
                if neg { "-" } else { "" },
                days * 24 + u32::from(h)
            )
            .expect("write to String"),
            other => unreachable!("temporal values encode as dates or times, not {other:?}"),
        },
    }
    out.put_slice(text.as_bytes());
}

/// Whether `LOAD DATA` would store `rows` exactly: it generates a new AUTO_INCREMENT value
/// for a 0 even under `NO_AUTO_VALUE_ON_ZERO` (MariaDB 10.11), so such rows take the INSERT
/// path.
pub fn loads_exactly(schema: &TableSchema, cols: &[usize], rows: &[&Row]) -> bool {
    let auto: Vec<usize> = cols
        .iter()
        .copied()
        .filter(|&c| schema.columns[c].auto_increment)
        .collect();
    auto.is_empty()
        || rows.iter().all(|r| {
            auto.iter()
                .all(|&c| !matches!(r[c], Value::Int(0) | Value::UInt(0)))
        })
}

/// `rows` (their `cols`) as the statement's input.
pub fn encode_rows(rows: &[&Row], cols: &[usize]) -> Bytes {
    let estimate: usize = rows
        .iter()
        .map(|r| cols.iter().map(|&c| r[c].approx_size() + 2).sum::<usize>())
        .sum();
    let mut out = BytesMut::with_capacity(estimate + estimate / 8);
    let mut text = String::with_capacity(40);
    for row in rows {
        for (n, &c) in cols.iter().enumerate() {
            if n > 0 {
                out.put_u8(b'\t');
            }
            put_value(&mut out, &row[c], &mut text);
        }
        out.put_u8(b'\n');
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::{Date, DateTime, TableId, Time, Timestamp};

    fn encode(values: Vec<Value>) -> String {
        let row: Row = values;
        let cols: Vec<usize> = (0..row.len()).collect();
        String::from_utf8_lossy(&encode_rows(&[&row], &cols)).into_owned()
    }

    #[test]
    fn values_encode_exactly() {
        let dt = DateTime {
            date: Date {
                year: 2024,
                month: 2,
                day: 29,
            },
            hour: 23,
            minute: 59,
            second: 58,
            micros: 7,
        };
        assert_eq!(
            encode(vec![
                Value::Null,
                Value::Int(-5),
                Value::UInt(u64::MAX),
                Value::Float(0.1),
                Value::Double(0.1),
                Value::Year(0),
                Value::Decimal("-12.50".into()),
                Value::Text("a\tb\nc\\d\0e".into()),
                Value::Text("\\N".into()),
                Value::Set(vec!["x".into(), "y".into()]),
                Value::DateTime(dt),
                Value::Date(Date {
                    year: 0,
                    month: 0,
                    day: 0
                }),
                Value::Time(Time {
                    negative: true,
                    hours: 838,
                    minutes: 59,
                    seconds: 59,
                    micros: 0,
                }),
            ]),
            "\\N\t-5\t18446744073709551615\t0.10000000149011612\t0.1\t0000\t-12.50\t\
             a\\tb\\nc\\\\d\\0e\t\\\\N\tx,y\t2024-02-29 23:59:58.000007\t\
             0000-00-00\t-838:59:59.000000\n"
        );
        // BIT as 8 big-endian bytes (a zero byte escaped as \0).
        assert_eq!(encode(vec![Value::Bit(5)]), "\\0\\0\\0\\0\\0\\0\\0\u{5}\n");
        // TIMESTAMP as UTC wall-clock time.
        assert_eq!(
            encode(vec![Value::Timestamp(Timestamp {
                seconds: 1,
                micros: 2
            })]),
            "1970-01-01 00:00:01.000002\n"
        );
    }

    #[test]
    fn statement_converts_other_charsets_and_follows_the_insert_kind() {
        let mut latin = Column::new("l", ColumnType::VarChar { length: 10 }, "varchar(10)");
        latin.charset = Some("latin1".into());
        let mut utf = Column::new("u`x", ColumnType::Text { max_bytes: 10 }, "text");
        utf.charset = Some("utf8mb4".into());
        let json = Column::new("j", ColumnType::Json, "json");
        let schema = TableSchema {
            id: TableId::new("d", "t"),
            columns: vec![latin, utf, json],
            primary_key: vec![],
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        };
        let mariadb = load_sql(&schema, &[0, 1, 2], InsertKind::Upsert, false);
        assert!(mariadb.starts_with(
            "LOAD DATA LOCAL INFILE 'dts-rows' REPLACE INTO TABLE `d`.`t` CHARACTER SET binary"
        ));
        assert!(
            mariadb.ends_with("(@dts_v0, `u``x`, `j`) SET `l` = CONVERT(@dts_v0 USING utf8mb4)")
        );
        let mysql = load_sql(&schema, &[1, 2], InsertKind::Ignore, true);
        assert!(mysql.contains(" IGNORE INTO TABLE "));
        assert!(mysql.ends_with("(`u``x`, @dts_v1) SET `j` = CONVERT(@dts_v1 USING utf8mb4)"));
        assert!(!load_sql(&schema, &[1], InsertKind::Plain, false).contains("REPLACE"));
    }
}
