//! Building a decoding schema from a binlog TABLE_MAP event, for row images written under a
//! table definition the server no longer has (the stream is behind a later DDL).
//!
//! With `binlog_row_metadata=FULL` the table map carries column names, signedness, charsets and
//! ENUM/SET members: enough to decode every value exactly. Keys are taken from the current
//! schema where the key columns still exist in the image.

use dts_core::{Column, ColumnType, TableId, TableSchema};
use mysql_async::binlog::events::{OptionalMetadataField, TableMapEvent};
use mysql_async::consts::ColumnType as T;

/// Character set names of the collation ids the binlog carries, for the families the decoder
/// reads natively.
pub fn charset_of_collation(id: u16) -> &'static str {
    match id {
        63 => "binary",
        11 | 65 => "ascii",
        5 | 8 | 15 | 31 | 47 | 48 | 49 | 94 => "latin1",
        33 | 76 | 83 | 192..=223 => "utf8mb3",
        45 | 46 | 224..=247 | 255..=323 => "utf8mb4",
        _ => "unsupported",
    }
}

/// Column names, signedness, charsets and ENUM/SET members of a table map.
#[derive(Default)]
struct Optional {
    names: Vec<String>,
    unsigned: Vec<bool>,
    charsets: Vec<u16>,
    default_charset: Option<u16>,
    enums: Vec<Vec<String>>,
    sets: Vec<Vec<String>>,
}

fn optional(tme: &TableMapEvent<'_>) -> Optional {
    let mut o = Optional::default();
    for field in tme.iter_optional_meta().flatten() {
        match field {
            OptionalMetadataField::ColumnName(n) => {
                o.names = n
                    .iter_names()
                    .flatten()
                    .map(|n| n.name().into_owned())
                    .collect()
            }
            OptionalMetadataField::Signedness(bits) => {
                o.unsigned = bits.iter().map(|b| *b).collect()
            }
            OptionalMetadataField::DefaultCharset(d) => {
                o.default_charset = Some(d.default_charset())
            }
            OptionalMetadataField::ColumnCharset(c) => {
                o.charsets = c.iter_charsets().flatten().collect()
            }
            OptionalMetadataField::EnumStrValue(v) => {
                o.enums = v
                    .iter_values()
                    .flatten()
                    .map(|e| e.values().iter().map(|x| x.value().into_owned()).collect())
                    .collect()
            }
            OptionalMetadataField::SetStrValue(v) => {
                o.sets = v
                    .iter_values()
                    .flatten()
                    .map(|e| e.values().iter().map(|x| x.value().into_owned()).collect())
                    .collect()
            }
            _ => {}
        }
    }
    o
}

/// Column names from the table map (`None` without `binlog_row_metadata=FULL`).
pub fn column_names(tme: &TableMapEvent<'_>) -> Option<Vec<String>> {
    let names = optional(tme).names;
    (!names.is_empty()).then_some(names)
}

/// A schema describing the table map's columns. `None` when the map lacks column names.
pub fn schema_from_table_map(
    tme: &TableMapEvent<'_>,
    current: Option<&TableSchema>,
) -> Option<TableSchema> {
    let o = optional(tme);
    if o.names.len() != tme.columns_count() as usize {
        return None;
    }
    let (mut numeric_i, mut char_i, mut enum_i, mut set_i) = (0usize, 0usize, 0usize, 0usize);
    let mut columns = Vec::with_capacity(o.names.len());
    for (i, name) in o.names.iter().enumerate() {
        let ty = tme.get_column_type(i).ok().flatten()?;
        let meta = tme.get_column_metadata(i).unwrap_or(&[]);
        let mut unsigned = false;
        if ty.is_numeric_type() {
            unsigned = o.unsigned.get(numeric_i).copied().unwrap_or(false);
            numeric_i += 1;
        }
        let mut charset = None;
        if ty.is_character_type() {
            let id = o
                .charsets
                .get(char_i)
                .copied()
                .or(o.default_charset)
                .unwrap_or(255);
            charset = Some(charset_of_collation(id).to_string());
            char_i += 1;
        }
        let binary = charset.as_deref() == Some("binary");
        let column_type = match ty {
            T::MYSQL_TYPE_TINY => ColumnType::Integer { bytes: 1, unsigned },
            T::MYSQL_TYPE_SHORT => ColumnType::Integer { bytes: 2, unsigned },
            T::MYSQL_TYPE_INT24 => ColumnType::Integer { bytes: 3, unsigned },
            T::MYSQL_TYPE_LONG => ColumnType::Integer { bytes: 4, unsigned },
            T::MYSQL_TYPE_LONGLONG => ColumnType::Integer { bytes: 8, unsigned },
            T::MYSQL_TYPE_FLOAT => ColumnType::Float,
            T::MYSQL_TYPE_DOUBLE => ColumnType::Double,
            T::MYSQL_TYPE_NEWDECIMAL => ColumnType::Decimal {
                precision: meta.first().copied().unwrap_or(10),
                scale: meta.get(1).copied().unwrap_or(0),
            },
            T::MYSQL_TYPE_BIT => ColumnType::Bit {
                width: meta.get(1).copied().unwrap_or(0) * 8 + meta.first().copied().unwrap_or(1),
            },
            T::MYSQL_TYPE_VARCHAR | T::MYSQL_TYPE_VAR_STRING if binary => {
                ColumnType::VarBinary { length: 65_535 }
            }
            T::MYSQL_TYPE_VARCHAR | T::MYSQL_TYPE_VAR_STRING => {
                ColumnType::VarChar { length: 65_535 }
            }
            T::MYSQL_TYPE_STRING if binary => ColumnType::VarBinary { length: 255 },
            T::MYSQL_TYPE_STRING => ColumnType::Char { length: 255 },
            T::MYSQL_TYPE_BLOB
            | T::MYSQL_TYPE_TINY_BLOB
            | T::MYSQL_TYPE_MEDIUM_BLOB
            | T::MYSQL_TYPE_LONG_BLOB
                if binary =>
            {
                ColumnType::Blob {
                    max_bytes: u64::from(u32::MAX),
                }
            }
            T::MYSQL_TYPE_BLOB
            | T::MYSQL_TYPE_TINY_BLOB
            | T::MYSQL_TYPE_MEDIUM_BLOB
            | T::MYSQL_TYPE_LONG_BLOB => ColumnType::Text {
                max_bytes: u64::from(u32::MAX),
            },
            T::MYSQL_TYPE_DATE | T::MYSQL_TYPE_NEWDATE => ColumnType::Date,
            T::MYSQL_TYPE_TIME | T::MYSQL_TYPE_TIME2 => ColumnType::Time {
                fsp: meta.first().copied().unwrap_or(0),
            },
            T::MYSQL_TYPE_DATETIME | T::MYSQL_TYPE_DATETIME2 => ColumnType::DateTime {
                fsp: meta.first().copied().unwrap_or(0),
            },
            T::MYSQL_TYPE_TIMESTAMP | T::MYSQL_TYPE_TIMESTAMP2 => ColumnType::Timestamp {
                fsp: meta.first().copied().unwrap_or(0),
            },
            T::MYSQL_TYPE_YEAR => ColumnType::Year,
            T::MYSQL_TYPE_ENUM => {
                let members = o.enums.get(enum_i).cloned().unwrap_or_default();
                enum_i += 1;
                ColumnType::Enum { members }
            }
            T::MYSQL_TYPE_SET => {
                let members = o.sets.get(set_i).cloned().unwrap_or_default();
                set_i += 1;
                ColumnType::Set { members }
            }
            T::MYSQL_TYPE_JSON => ColumnType::Json,
            T::MYSQL_TYPE_GEOMETRY => ColumnType::Geometry {
                subtype: "geometry".into(),
            },
            _ => return None,
        };
        // Keep the current definition's details (type text, MariaDB JSON, BINARY length) where
        // the column still exists with the same family.
        let same = current.and_then(|c| c.column(name)).filter(|c| {
            std::mem::discriminant(&c.column_type) == std::mem::discriminant(&column_type)
                || matches!(
                    (&c.column_type, &column_type),
                    (ColumnType::Json, ColumnType::Text { .. })
                        | (ColumnType::Binary { .. }, ColumnType::VarBinary { .. })
                        | (
                            ColumnType::VarChar { .. } | ColumnType::Char { .. },
                            ColumnType::Char { .. } | ColumnType::VarChar { .. }
                        )
                )
        });
        let mut column = match same {
            Some(c) => c.clone(),
            None => Column::new(name.clone(), column_type, format!("{ty:?}")),
        };
        if column.charset.is_none() {
            column.charset = charset;
        }
        column.name = name.clone();
        columns.push(column);
    }
    let keep = |cols: &[String]| cols.iter().all(|c| o.names.contains(c));
    let (primary_key, unique_keys) = match current {
        Some(c) => (
            if keep(&c.primary_key) {
                c.primary_key.clone()
            } else {
                vec![]
            },
            c.unique_keys
                .iter()
                .filter(|k| keep(&k.columns))
                .cloned()
                .collect(),
        ),
        None => (vec![], vec![]),
    };
    Some(TableSchema {
        id: TableId::new(
            tme.database_name().into_owned(),
            tme.table_name().into_owned(),
        ),
        columns,
        primary_key,
        unique_keys,
        indexes: vec![],
        create_sql: None,
        constraints: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collation_families() {
        assert_eq!(charset_of_collation(63), "binary");
        assert_eq!(charset_of_collation(45), "utf8mb4");
        assert_eq!(charset_of_collation(255), "utf8mb4");
        assert_eq!(charset_of_collation(33), "utf8mb3");
        assert_eq!(charset_of_collation(8), "latin1");
        assert_eq!(charset_of_collation(28), "unsupported");
    }
}
