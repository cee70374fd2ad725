//! Table schemas: what a row's values mean, and which columns identify a row.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A table's identity: database and table name, as spelled by the server that owns it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TableId {
    /// Database (schema) name.
    pub database: String,
    /// Table name.
    pub table: String,
}

impl TableId {
    /// A table id from its two parts.
    pub fn new(database: impl Into<String>, table: impl Into<String>) -> Self {
        Self {
            database: database.into(),
            table: table.into(),
        }
    }
}

impl fmt::Display for TableId {
    /// Renders as `db.table` for messages; never used to build SQL (connectors quote identifiers).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.database, self.table)
    }
}

/// The type family of a column, with the parameters that change how values are read or written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnType {
    /// TINYINT (1), SMALLINT (2), MEDIUMINT (3), INT (4), BIGINT (8) by storage bytes.
    Integer {
        /// Storage size in bytes.
        bytes: u8,
        /// UNSIGNED attribute.
        unsigned: bool,
    },
    /// FLOAT.
    Float,
    /// DOUBLE / REAL.
    Double,
    /// DECIMAL(precision, scale).
    Decimal {
        /// Total digits, 1–65.
        precision: u8,
        /// Digits after the point, 0–30.
        scale: u8,
    },
    /// BIT(width), width 1–64.
    Bit {
        /// Number of bits.
        width: u8,
    },
    /// CHAR(length) in characters.
    Char {
        /// Declared length in characters.
        length: u32,
    },
    /// VARCHAR(length) in characters.
    VarChar {
        /// Declared length in characters.
        length: u32,
    },
    /// TINYTEXT … LONGTEXT, by maximum length in bytes.
    Text {
        /// Maximum length in bytes.
        max_bytes: u64,
    },
    /// BINARY(length).
    Binary {
        /// Declared length in bytes.
        length: u32,
    },
    /// VARBINARY(length).
    VarBinary {
        /// Declared length in bytes.
        length: u32,
    },
    /// TINYBLOB … LONGBLOB, by maximum length in bytes.
    Blob {
        /// Maximum length in bytes.
        max_bytes: u64,
    },
    /// DATE.
    Date,
    /// TIME(fsp).
    Time {
        /// Fractional seconds precision, 0–6.
        fsp: u8,
    },
    /// DATETIME(fsp).
    DateTime {
        /// Fractional seconds precision, 0–6.
        fsp: u8,
    },
    /// TIMESTAMP(fsp).
    Timestamp {
        /// Fractional seconds precision, 0–6.
        fsp: u8,
    },
    /// YEAR.
    Year,
    /// ENUM('a', 'b', …): members in definition order (index 1 is the first).
    Enum {
        /// Members in definition order.
        members: Vec<String>,
    },
    /// SET('a', 'b', …): members in definition order (bit 0 is the first).
    Set {
        /// Members in definition order.
        members: Vec<String>,
    },
    /// JSON (MySQL's native type, or MariaDB's LONGTEXT with a `JSON_VALID` check).
    Json,
    /// GEOMETRY and its subtypes (POINT, LINESTRING, …), by the declared type name.
    Geometry {
        /// Declared type, lower case (e.g. `point`, `geometry`).
        subtype: String,
    },
}

impl ColumnType {
    /// True for types whose values are character strings (a charset applies).
    pub fn is_textual(&self) -> bool {
        matches!(
            self,
            ColumnType::Char { .. }
                | ColumnType::VarChar { .. }
                | ColumnType::Text { .. }
                | ColumnType::Enum { .. }
                | ColumnType::Set { .. }
        )
    }
}

/// One column of a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Type family and parameters.
    pub column_type: ColumnType,
    /// The server's full type text (e.g. `int(10) unsigned`, `varchar(20)`), for schema sync.
    pub type_text: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Character set of a textual column (`None` for non-text types); `binary` means bytes.
    pub charset: Option<String>,
    /// Collation of a textual column.
    pub collation: Option<String>,
    /// Default expression text as the server reports it (`None` when there is no default).
    pub default: Option<String>,
    /// Generation expression of a generated column; such columns are never written.
    pub generated: Option<String>,
    /// AUTO_INCREMENT attribute.
    pub auto_increment: bool,
    /// Column comment.
    pub comment: String,
    /// MariaDB / MySQL 8.0.23+ `INVISIBLE`: left out of `SELECT *` and of inserts without a
    /// column list, so every read and write names it explicitly.
    #[serde(default)]
    pub invisible: bool,
}

impl Column {
    /// A nullable column with no charset, default or comment, for tests and programmatic schemas.
    pub fn new(
        name: impl Into<String>,
        column_type: ColumnType,
        type_text: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            column_type,
            type_text: type_text.into(),
            nullable: true,
            charset: None,
            collation: None,
            default: None,
            generated: None,
            auto_increment: false,
            comment: String::new(),
            invisible: false,
        }
    }

    /// MariaDB's UUID, INET4 and INET6 columns: text with a fixed syntax, stored (and written
    /// to the binlog) as 16 or 4 bytes. Their values travel as that text; only a server with
    /// the same type can hold them under their own type, and a mask cannot keep the syntax.
    pub fn fixed_syntax_text(&self) -> Option<FixedSyntax> {
        let t = self.type_text.trim().to_ascii_lowercase();
        match t.as_str() {
            "uuid" => Some(FixedSyntax::Uuid),
            "inet4" => Some(FixedSyntax::Inet4),
            "inet6" => Some(FixedSyntax::Inet6),
            _ => None,
        }
    }
}

/// The MariaDB types whose values are text of a fixed syntax over a binary storage form
/// (see [`Column::fixed_syntax_text`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedSyntax {
    /// `UUID` (MariaDB 10.7+): 16 bytes, written `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    Uuid,
    /// `INET4` (MariaDB 10.10+): 4 bytes, dotted quad.
    Inet4,
    /// `INET6` (MariaDB 10.5+): 16 bytes, RFC 5952 text.
    Inet6,
}

impl FixedSyntax {
    /// The text of a stored (binlog) value; `None` when the bytes have the wrong length.
    /// Row images drop a fixed-length value's trailing zero bytes, which are put back here.
    pub fn render(self, stored: &[u8]) -> Option<String> {
        let width = if self == FixedSyntax::Inet4 { 4 } else { 16 };
        if stored.len() > width {
            return None;
        }
        let mut padded = stored.to_vec();
        padded.resize(width, 0);
        let stored = padded.as_slice();
        match self {
            FixedSyntax::Uuid => {
                let b: &[u8; 16] = stored.try_into().ok()?;
                let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
                Some(format!(
                    "{}-{}-{}-{}-{}",
                    &h[0..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..32]
                ))
            }
            FixedSyntax::Inet4 => {
                let b: [u8; 4] = stored.try_into().ok()?;
                Some(std::net::Ipv4Addr::from(b).to_string())
            }
            FixedSyntax::Inet6 => {
                let b: [u8; 16] = stored.try_into().ok()?;
                Some(std::net::Ipv6Addr::from(b).to_string())
            }
        }
    }
}

/// An index of a table (primary, unique or secondary).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// Index name (`PRIMARY` for the primary key).
    pub name: String,
    /// Indexed columns in order.
    pub columns: Vec<String>,
    /// Whether the index enforces uniqueness.
    pub unique: bool,
}

/// A table's structure: everything needed to decode its rows and recreate it elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSchema {
    /// Database and table name.
    pub id: TableId,
    /// Columns in ordinal order (row values are in this order).
    pub columns: Vec<Column>,
    /// Primary key column names (empty when the table has none).
    pub primary_key: Vec<String>,
    /// Unique keys other than the primary key.
    pub unique_keys: Vec<Index>,
    /// Secondary (non-unique) indexes.
    pub indexes: Vec<Index>,
    /// The source's `SHOW CREATE TABLE` text, when known.
    pub create_sql: Option<String>,
    /// CHECK constraints and foreign keys.
    #[serde(default)]
    pub constraints: TableConstraints,
}

/// A `CHECK` constraint of a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckConstraint {
    /// Constraint name (MariaDB names a column-level check after its column).
    pub name: String,
    /// The condition as the server reports it (identifiers backquoted), without the
    /// surrounding parentheses of `CHECK (…)`.
    pub expression: String,
}

/// What a table definition holds beyond columns and keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableConstraints {
    /// CHECK constraints, other than MariaDB's `json_valid` of a JSON column (part of the
    /// column's type there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckConstraint>,
    /// Foreign keys of which this table is the child. A source schema from discovery leaves
    /// them to [`crate::Source::foreign_keys`]; the task fills a destination schema's with the
    /// destination's names of both tables and their columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<crate::cascade::ForeignKey>,
}

/// Shared handle to a table schema; every row of a table points at the same one.
pub type SchemaRef = Arc<TableSchema>;

impl TableSchema {
    /// Position of a column by name (exact match).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Column by name (exact match).
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The columns that identify a row: the primary key, else the first unique key whose columns
    /// are all NOT NULL (a nullable unique key can hold duplicates of NULL, so it identifies
    /// nothing). `None` means the table has no usable key and needs the exactly-once path.
    pub fn identity_columns(&self) -> Option<&[String]> {
        if !self.primary_key.is_empty() {
            return Some(&self.primary_key);
        }
        self.unique_keys
            .iter()
            .find(|k| {
                k.columns
                    .iter()
                    .all(|c| self.column(c).is_some_and(|col| !col.nullable))
            })
            .map(|k| k.columns.as_slice())
    }

    /// The table options of the source's definition: the text after the closing parenthesis
    /// of its `SHOW CREATE TABLE` (empty when the definition is unknown).
    fn table_options(&self) -> &str {
        self.create_sql
            .as_deref()
            .and_then(|sql| sql.rsplit_once("\n)").map(|(_, options)| options))
            .unwrap_or("")
    }

    /// True for a MariaDB sequence (`SEQUENCE=1` in the source's definition): a one-row table
    /// whose row every `NEXTVAL`, `SETVAL` or cache refill replaces as a whole; the binlog logs
    /// that as an insert of the new state, and an insert into a sequence sets its state.
    pub fn is_sequence(&self) -> bool {
        self.table_options()
            .split_whitespace()
            .any(|w| w.eq_ignore_ascii_case("SEQUENCE=1"))
    }

    /// True for a MariaDB system-versioned table (`WITH SYSTEM VERSIONING`): its rows are the
    /// current ones; the history it keeps beside them is the source's own.
    pub fn is_system_versioned(&self) -> bool {
        self.table_options()
            .to_ascii_uppercase()
            .contains("WITH SYSTEM VERSIONING")
    }

    /// Positions of [`TableSchema::identity_columns`] in the row.
    pub fn identity_indexes(&self) -> Option<Vec<usize>> {
        self.identity_columns()
            .map(|cols| cols.iter().filter_map(|c| self.column_index(c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(name: &str, nullable: bool) -> Column {
        let mut c = Column::new(
            name,
            ColumnType::Integer {
                bytes: 4,
                unsigned: false,
            },
            "int(11)",
        );
        c.nullable = nullable;
        c
    }

    fn table(pk: Vec<&str>, uk: Vec<(&str, bool)>) -> TableSchema {
        let mut columns = vec![int("a", false), int("b", true), int("c", false)];
        for (n, nullable) in &uk {
            columns.iter_mut().find(|c| c.name == *n).unwrap().nullable = *nullable;
        }
        TableSchema {
            id: TableId::new("d", "t"),
            columns,
            primary_key: pk.into_iter().map(String::from).collect(),
            unique_keys: if uk.is_empty() {
                vec![]
            } else {
                vec![Index {
                    name: "uk".into(),
                    columns: uk.iter().map(|(n, _)| n.to_string()).collect(),
                    unique: true,
                }]
            },
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        }
    }

    #[test]
    fn identity_prefers_primary_key() {
        let t = table(vec!["a"], vec![("c", false)]);
        assert_eq!(t.identity_columns().unwrap(), ["a"]);
        assert_eq!(t.identity_indexes().unwrap(), vec![0]);
    }

    #[test]
    fn identity_uses_not_null_unique_key() {
        let t = table(vec![], vec![("c", false)]);
        assert_eq!(t.identity_columns().unwrap(), ["c"]);
    }

    #[test]
    fn nullable_unique_key_is_no_identity() {
        let t = table(vec![], vec![("b", true)]);
        assert!(t.identity_columns().is_none());
    }
}

#[cfg(test)]
mod fixed_syntax_tests {
    use super::FixedSyntax;

    #[test]
    fn binlog_images_render_as_the_server_prints_them() {
        // Row images drop trailing zero bytes of a fixed-length value.
        let uuid = [
            0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x55, 0x44,
        ];
        assert_eq!(
            FixedSyntax::Uuid.render(&uuid).unwrap(),
            "123e4567-e89b-12d3-a456-426655440000"
        );
        assert_eq!(
            FixedSyntax::Inet4.render(&[192, 0, 2, 1]).unwrap(),
            "192.0.2.1"
        );
        assert_eq!(FixedSyntax::Inet4.render(&[]).unwrap(), "0.0.0.0");
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(FixedSyntax::Inet6.render(&v6[..]).unwrap(), "::1");
        assert!(FixedSyntax::Inet4.render(&[1, 2, 3, 4, 5]).is_none());
    }
}
