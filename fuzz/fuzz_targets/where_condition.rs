//! Row-filter conditions: the text before the first NUL byte is parsed as a WHERE condition
//! (`Condition::parse`); when accepted it is rendered, checked against a table and evaluated
//! on rows built from the remaining bytes. Nothing may panic; evaluation errors are fine.
#![no_main]

use bytes::Bytes;
use dts_core::objects::Condition;
use dts_core::{Column, ColumnType, TableId, TableSchema, Value};
use libfuzzer_sys::fuzz_target;

fn table() -> TableSchema {
    let mut name = Column::new("name", ColumnType::VarChar { length: 20 }, "varchar(20)");
    name.charset = Some("utf8mb4".into());
    name.collation = Some("utf8mb4_general_ci".into());
    let mut kind = Column::new(
        "kind",
        ColumnType::Enum {
            members: vec!["a".into(), "b".into()],
        },
        "enum('a','b')",
    );
    kind.charset = Some("utf8mb4".into());
    kind.collation = Some("utf8mb4_general_ci".into());
    TableSchema {
        id: TableId::new("shop", "orders"),
        columns: vec![
            Column::new(
                "id",
                ColumnType::Integer {
                    bytes: 8,
                    unsigned: false,
                },
                "bigint(20)",
            ),
            Column::new(
                "qty",
                ColumnType::Integer {
                    bytes: 4,
                    unsigned: true,
                },
                "int(10) unsigned",
            ),
            name,
            Column::new(
                "amount",
                ColumnType::Decimal {
                    precision: 12,
                    scale: 2,
                },
                "decimal(12,2)",
            ),
            Column::new("ratio", ColumnType::Double, "double"),
            kind,
            Column::new("raw", ColumnType::VarBinary { length: 16 }, "varbinary(16)"),
        ],
        primary_key: vec!["id".into()],
        unique_keys: vec![],
        indexes: vec![],
        create_sql: None,
        constraints: Default::default(),
    }
}

fn word(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = bytes.len().min(8);
    b[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(b)
}

fuzz_target!(|data: &[u8]| {
    let (text, rest) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(condition) = Condition::parse(text) else {
        return;
    };
    let _ = condition.to_sql();
    let _ = condition.columns();
    let table = table();
    let _ = condition.check(&table);
    for chunk in rest.chunks(24).take(16) {
        let w = word(chunk);
        let row = vec![
            Value::Int(w as i64),
            if w.is_multiple_of(7) {
                Value::Null
            } else {
                Value::UInt(w >> 32)
            },
            Value::Text(String::from_utf8_lossy(chunk).into_owned()),
            Value::Decimal(format!("{}.{:02}", (w as i64) % 1_000_000_000, w % 100)),
            Value::Double(f64::from_bits(w)),
            Value::Text(if w.is_multiple_of(2) {
                "a".into()
            } else {
                "b".into()
            }),
            Value::Bytes(Bytes::copy_from_slice(chunk)),
        ];
        let _ = condition.evaluate(&table, &row);
        let _ = condition.accepts(&table, &row);
    }
});
