//! ADB 3.0's DDL dialect: `CREATE TABLE` from a [`TableSchema`], the type mapping, the key
//! and distribution rules, and which stream DDL statements ADB can run.
//!
//! # Type mapping
//!
//! ADB for MySQL 3.0 has no UNSIGNED integers, no ENUM/SET, no BIT and no general spatial
//! types, so every MySQL type is mapped to the narrowest ADB type that holds all of its
//! values. "Lossy" says what the destination loses.
//!
//! | MySQL (`dts_core::ColumnType`)   | ADB 3.0 statement text          | Lossy? |
//! |----------------------------------|---------------------------------|--------|
//! | TINYINT                          | `TINYINT`                       | no |
//! | TINYINT UNSIGNED                 | `SMALLINT`                      | no (widened) |
//! | SMALLINT                         | `SMALLINT`                      | no |
//! | SMALLINT UNSIGNED                | `INT`                           | no (widened) |
//! | MEDIUMINT \[UNSIGNED\]            | `INT`                           | no (widened) |
//! | INT                              | `INT`                           | no |
//! | INT UNSIGNED                     | `BIGINT`                        | no (widened) |
//! | BIGINT                           | `BIGINT`                        | no |
//! | BIGINT UNSIGNED                  | `DECIMAL(20,0)`                 | no: `u64::MAX` stays exact; arithmetic is decimal |
//! | FLOAT                            | `FLOAT`                         | no |
//! | DOUBLE                           | `DOUBLE`                        | no |
//! | DECIMAL(p,s)                     | `DECIMAL(p,s)`                  | no |
//! | BIT(1..63)                       | `BIGINT`                        | bit-string semantics (`b'…'` display, bit ops on strings) |
//! | BIT(64)                          | `DECIMAL(20,0)`                 | as above; the value is the unsigned number |
//! | CHAR(n)                          | `VARCHAR(n)`                    | no right-padding semantics |
//! | VARCHAR(n)                       | `VARCHAR(n)`                    | no |
//! | TINYTEXT … LONGTEXT              | `VARCHAR` (compat: `LONGTEXT`)  | ADB's VARCHAR is unbounded in practice; charset/collation are ADB's (utf8) |
//! | BINARY(n)                        | `VARBINARY(n)`                  | no zero-padding semantics |
//! | VARBINARY(n)                     | `VARBINARY(n)`                  | no |
//! | TINYBLOB … LONGBLOB              | `VARBINARY` (compat: `LONGBLOB`)| no |
//! | DATE                             | `DATE`                          | zero dates (`0000-00-00`) are rejected or nulled by ADB |
//! | TIME(fsp)                        | `TIME` / `TIME(fsp)`            | ADB's TIME range is one day: negative and ≥ 24 h values do not fit |
//! | DATETIME(fsp)                    | `DATETIME` / `DATETIME(fsp)`    | ADB keeps milliseconds: microseconds are truncated; zero dates rejected |
//! | TIMESTAMP(fsp)                   | `TIMESTAMP` / `TIMESTAMP(fsp)`  | as DATETIME; values are written as UTC (`time_zone='+00:00'`) |
//! | YEAR                             | `INT`                           | YEAR semantics (2-digit input rules) |
//! | ENUM('a',…)                      | `VARCHAR(<longest member>)`     | the member list and index order are lost; the member text is stored |
//! | SET('a',…)                       | `VARCHAR(<all members + commas>)` | the member list is lost; the comma-joined text is stored |
//! | JSON                             | `JSON`                          | no |
//! | GEOMETRY and subtypes            | `VARBINARY` (compat: `LONGBLOB`)| stored as MySQL's internal bytes (4-byte SRID + WKB), not as a spatial type |
//!
//! Generated columns are not created and not written (their expression is MySQL's).
//! Defaults, comments, character sets, collations, unique keys and secondary indexes are not
//! carried over: ADB indexes every column by itself and enforces uniqueness only on the primary
//! key (a source unique key other than the one used as key is therefore not enforced). Column nullability is kept; key columns are always `NOT NULL`.
//!
//! # Keys and distribution
//!
//! - A table with a primary key keeps it, and it is the distribution key:
//!   `DISTRIBUTED BY HASH(<primary key columns>)`.
//! - A table without one but with a unique key whose columns are all NOT NULL gets that key as
//!   its ADB primary key (so replays stay idempotent).
//! - A table with neither gets an added `__dts_auto_id BIGINT NOT NULL AUTO_INCREMENT` primary
//!   key column ([`AUTO_ID_COLUMN`]). **Warning:** rows of such tables cannot be matched by key,
//!   so a replay after a restart can insert a row twice and updates/deletes match rows by all
//!   column values: the destination may differ from the source. [`key_warning`] returns this
//!   warning for a schema; the sink logs it when it creates the table.
//! - Merged tables ([`DdlOptions::merged`]) get a `__dts_data_source VARCHAR NOT NULL` column
//!   ([`DATA_SOURCE_COLUMN`], ADB's text type, as the guide says) that is added to the primary
//!   key and to the distribution key, so shards with overlapping keys never collide. In
//!   compatibility mode, where a key column needs a length, it is `VARCHAR(259)`: the longest
//!   value there is ([`DATA_SOURCE_MAX_CHARS`]), so no tag is ever cut short.
//!
//! # Partitions and clustered keys
//!
//! Configured per destination table ([`TableClauses`], from `[destination.tables."db.table"]`):
//! `PARTITION BY VALUE(<column>) LIFECYCLE n` for integer and string columns, or
//! `PARTITION BY VALUE(DATE_FORMAT(<column>, '%Y%m%d' | '%Y%m' | '%Y')) LIFECYCLE n` for date
//! and time columns; the column must be in the primary key (ADB's rule), so tables that get
//! [`AUTO_ID_COLUMN`] cannot be partitioned. ``CLUSTERED KEY `clustered_key` (<columns>)``
//! sets the storage order. Secondary indexes are not generated: ADB indexes every column by
//! default (`INDEX_ALL='Y'`). A clause that does not fit the table is an error naming the
//! column, not a silently dropped option.
//!
//! # Compatibility mode
//!
//! [`DdlOptions::mariadb_compat`] produces statements a MariaDB/MySQL server runs, for testing
//! the write path without an ADB server: it omits `DISTRIBUTED BY …`, `PARTITION BY …` and
//! `CLUSTERED KEY …` (after checking them like in ADB mode), and because MariaDB
//! requires a length on VARCHAR/VARBINARY it spells the length-less ADB `VARCHAR` and
//! `VARBINARY` as `LONGTEXT` and `LONGBLOB`. Nothing else differs.

use crate::ident::{quote_ident, quote_list, quote_table};
use dts_core::{ColumnType, Ddl, DdlKind, TableSchema};

/// Column added to tables without a usable key.
pub const AUTO_ID_COLUMN: &str = "__dts_auto_id";

/// Column added to merged tables, holding `<task id>:<database>:<schema>:<table>`.
pub const DATA_SOURCE_COLUMN: &str = "__dts_data_source";

/// The longest [`DATA_SOURCE_COLUMN`] value: a task id (at most 64 characters), three
/// identifiers of at most 64 characters each (database, schema — the database again for
/// MySQL — and table) and the three `:` between them. A shorter column would cut the tags of
/// long names, and two shards whose tags agree on the kept prefix would collide.
pub const DATA_SOURCE_MAX_CHARS: usize = 64 + 1 + 64 + 1 + 64 + 1 + 64;

/// Options that change the generated DDL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DdlOptions {
    /// Add [`DATA_SOURCE_COLUMN`] and put it in the primary and distribution keys.
    pub merged: bool,
    /// Emit statements MariaDB can run (see the module docs).
    pub mariadb_compat: bool,
}

/// The ADB 3.0 type for a column type (see the module's mapping table).
pub fn adb_type(column_type: &ColumnType, mariadb_compat: bool) -> String {
    let fsp = |name: &str, fsp: u8| {
        if fsp == 0 {
            name.to_string()
        } else {
            format!("{name}({fsp})")
        }
    };
    let unbounded_text = if mariadb_compat {
        "LONGTEXT"
    } else {
        "VARCHAR"
    };
    let unbounded_bytes = if mariadb_compat {
        "LONGBLOB"
    } else {
        "VARBINARY"
    };
    match column_type {
        ColumnType::Integer { bytes, unsigned } => match (bytes, unsigned) {
            (1, false) => "TINYINT",
            (1, true) | (2, false) => "SMALLINT",
            (2, true) | (3, _) | (4, false) => "INT",
            (4, true) => "BIGINT",
            (_, false) => "BIGINT",
            (_, true) => "DECIMAL(20,0)",
        }
        .to_string(),
        ColumnType::Float => "FLOAT".into(),
        ColumnType::Double => "DOUBLE".into(),
        ColumnType::Decimal { precision, scale } => format!("DECIMAL({precision},{scale})"),
        ColumnType::Bit { width } if *width < 64 => "BIGINT".into(),
        ColumnType::Bit { .. } => "DECIMAL(20,0)".into(),
        ColumnType::Char { length } | ColumnType::VarChar { length } => {
            format!("VARCHAR({})", (*length).max(1))
        }
        ColumnType::Text { .. } => unbounded_text.into(),
        ColumnType::Binary { length } | ColumnType::VarBinary { length } => {
            format!("VARBINARY({})", (*length).max(1))
        }
        ColumnType::Blob { .. } | ColumnType::Geometry { .. } => unbounded_bytes.into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::Time { fsp: f } => fsp("TIME", *f),
        ColumnType::DateTime { fsp: f } => fsp("DATETIME", *f),
        ColumnType::Timestamp { fsp: f } => fsp("TIMESTAMP", *f),
        ColumnType::Year => "INT".into(),
        ColumnType::Enum { members } => {
            let longest = members.iter().map(|m| m.chars().count()).max().unwrap_or(0);
            format!("VARCHAR({})", longest.max(1))
        }
        ColumnType::Set { members } => {
            let total: usize = members.iter().map(|m| m.chars().count()).sum::<usize>()
                + members.len().saturating_sub(1);
            format!("VARCHAR({})", total.max(1))
        }
        ColumnType::Json => "JSON".into(),
    }
}

/// Where a destination table's primary key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The source's primary key.
    PrimaryKey,
    /// A NOT NULL unique key of the source (named), promoted to primary key.
    UniqueKey(String),
    /// No usable key: the added [`AUTO_ID_COLUMN`].
    AutoId,
}

/// How a source table's rows are laid out at the destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableLayout {
    /// Positions (in the source row) of the columns written: every non-generated column.
    pub columns: Vec<usize>,
    /// Destination column names written, in order: the columns above, then
    /// [`DATA_SOURCE_COLUMN`] for merged tables.
    pub column_names: Vec<String>,
    /// Positions (in the source row) of the key columns, `None` for [`KeySource::AutoId`].
    pub key: Option<Vec<usize>>,
    /// Destination primary key column names (with the added columns).
    pub key_names: Vec<String>,
    /// Where the key comes from.
    pub key_source: KeySource,
    /// True for merged tables.
    pub merged: bool,
}

impl TableLayout {
    /// The layout of `schema`; fails when a key column is missing or generated.
    pub fn new(schema: &TableSchema, merged: bool) -> Result<Self, String> {
        let columns: Vec<usize> = schema
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.generated.is_none())
            .map(|(i, _)| i)
            .collect();
        let mut column_names: Vec<String> = columns
            .iter()
            .map(|&i| schema.columns[i].name.clone())
            .collect();
        let (key_source, key_cols) = if !schema.primary_key.is_empty() {
            (KeySource::PrimaryKey, Some(schema.primary_key.clone()))
        } else if let Some(cols) = schema.identity_columns() {
            let name = schema
                .unique_keys
                .iter()
                .find(|k| k.columns == cols)
                .map(|k| k.name.clone())
                .unwrap_or_default();
            (KeySource::UniqueKey(name), Some(cols.to_vec()))
        } else {
            (KeySource::AutoId, None)
        };
        let key = match &key_cols {
            Some(cols) => {
                let mut positions = Vec::with_capacity(cols.len());
                for c in cols {
                    let i = schema
                        .column_index(c)
                        .ok_or_else(|| format!("key column `{c}` is not a column of the table"))?;
                    if schema.columns[i].generated.is_some() {
                        return Err(format!(
                            "key column `{c}` is a generated column, which is not synchronized"
                        ));
                    }
                    positions.push(i);
                }
                Some(positions)
            }
            None => None,
        };
        let mut key_names = key_cols.unwrap_or_else(|| vec![AUTO_ID_COLUMN.to_string()]);
        if merged {
            key_names.push(DATA_SOURCE_COLUMN.to_string());
            column_names.push(DATA_SOURCE_COLUMN.to_string());
        }
        Ok(Self {
            columns,
            column_names,
            key,
            key_names,
            key_source,
            merged,
        })
    }
}

/// The warning for a table that gets [`AUTO_ID_COLUMN`], or `None` when it has a usable key.
pub fn key_warning(schema: &TableSchema) -> Option<String> {
    schema.identity_columns().is_none().then(|| {
        format!(
            "table {} has no primary key and no NOT NULL unique key: the destination gets an \
             added `{AUTO_ID_COLUMN}` AUTO_INCREMENT primary key; rows cannot be matched by key, \
             so replays may duplicate rows and the destination may differ from the source",
            schema.id
        )
    })
}

/// `PARTITION BY VALUE(…) LIFECYCLE n` of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// The partition column (destination name); it must be in the primary key.
    pub column: String,
    /// `%Y%m%d`, `%Y%m` or `%Y`: partition by `DATE_FORMAT(column, format)` (date and time
    /// columns); `None`: by the column's own value (integer and string columns).
    pub format: Option<String>,
    /// `LIFECYCLE n`: how many partitions ADB keeps.
    pub lifecycle: u32,
}

/// ADB-only clauses configured for one table (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableClauses {
    /// `PARTITION BY VALUE(…) LIFECYCLE n`.
    pub partition: Option<Partition>,
    /// ``CLUSTERED KEY `clustered_key` (<columns>)``: storage order.
    pub clustered_key: Vec<String>,
}

impl TableClauses {
    /// The clauses of a `[destination.tables."db.table"]` entry.
    pub fn from_config(options: &crate::config::AdbTableOptions) -> Self {
        Self {
            partition: options.partition_column.as_ref().map(|column| Partition {
                column: column.clone(),
                format: options.partition_format.clone(),
                lifecycle: options.lifecycle.unwrap_or(1),
            }),
            clustered_key: options.clustered_key.clone(),
        }
    }

    /// Checks the clauses against the table they are for; `Err` names the column and cause.
    fn check(&self, schema: &TableSchema, layout: &TableLayout) -> Result<(), String> {
        let column = |name: &str, what: &str| {
            schema
                .column(name)
                .filter(|c| c.generated.is_none())
                .ok_or_else(|| format!("{what} column `{name}` is not a column of the table"))
        };
        if let Some(p) = &self.partition {
            let c = column(&p.column, "partition")?;
            if !layout.key_names.iter().any(|k| k == &p.column) {
                return Err(format!(
                    "partition column `{}` is not in the primary key ({}): ADB requires the \
                     partition column to be part of the primary key",
                    p.column,
                    layout.key_names.join(", ")
                ));
            }
            match &p.format {
                Some(f) => {
                    if !crate::config::ADB_PARTITION_FORMATS.contains(&f.as_str()) {
                        return Err(format!(
                            "partition format `{f}` is not one of {}",
                            crate::config::ADB_PARTITION_FORMATS.join(", ")
                        ));
                    }
                    if !matches!(
                        c.column_type,
                        ColumnType::Date
                            | ColumnType::DateTime { .. }
                            | ColumnType::Timestamp { .. }
                    ) {
                        return Err(format!(
                            "partition column `{}` has type {}: a partition format needs a \
                             DATE, DATETIME or TIMESTAMP column",
                            p.column, c.type_text
                        ));
                    }
                }
                None => {
                    if !matches!(
                        c.column_type,
                        ColumnType::Integer { .. }
                            | ColumnType::Char { .. }
                            | ColumnType::VarChar { .. }
                    ) {
                        return Err(format!(
                            "partition column `{}` has type {}: without a partition format \
                             ADB partitions by an integer or string value",
                            p.column, c.type_text
                        ));
                    }
                }
            }
            if p.lifecycle == 0 {
                return Err("partition LIFECYCLE must be greater than 0".into());
            }
        }
        for k in &self.clustered_key {
            column(k, "clustered key")?;
        }
        Ok(())
    }
}

/// `CREATE TABLE IF NOT EXISTS …` for the destination table of `schema`.
pub fn create_table_sql(schema: &TableSchema, options: DdlOptions) -> Result<String, String> {
    create_table_sql_with(schema, options, &TableClauses::default())
}

/// [`create_table_sql`] with the table's ADB-only clauses: `CLUSTERED KEY` inside the column
/// list, `PARTITION BY VALUE(…) LIFECYCLE n` after `DISTRIBUTED BY`. Compatibility mode checks
/// the clauses the same way and omits them.
pub fn create_table_sql_with(
    schema: &TableSchema,
    options: DdlOptions,
    clauses: &TableClauses,
) -> Result<String, String> {
    let layout = TableLayout::new(schema, options.merged)?;
    clauses.check(schema, &layout)?;
    let key_positions = layout.key.clone().unwrap_or_default();
    let mut lines = Vec::new();
    for &i in &layout.columns {
        let c = &schema.columns[i];
        let not_null = !c.nullable || key_positions.contains(&i);
        lines.push(format!(
            "  {} {} {}",
            quote_ident(&c.name),
            adb_type(&c.column_type, options.mariadb_compat),
            if not_null { "NOT NULL" } else { "NULL" }
        ));
    }
    if layout.key.is_none() {
        lines.push(format!(
            "  {} BIGINT NOT NULL AUTO_INCREMENT",
            quote_ident(AUTO_ID_COLUMN)
        ));
    }
    if options.merged {
        let text = if options.mariadb_compat {
            format!("VARCHAR({DATA_SOURCE_MAX_CHARS})")
        } else {
            "VARCHAR".to_owned()
        };
        lines.push(format!(
            "  {} {text} NOT NULL",
            quote_ident(DATA_SOURCE_COLUMN)
        ));
    }
    let keys = quote_list(&layout.key_names);
    lines.push(format!("  PRIMARY KEY ({keys})"));
    if !options.mariadb_compat && !clauses.clustered_key.is_empty() {
        lines.push(format!(
            "  CLUSTERED KEY `clustered_key` ({})",
            quote_list(&clauses.clustered_key)
        ));
    }
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {} (\n{}\n)",
        quote_table(&schema.id),
        lines.join(",\n")
    );
    if !options.mariadb_compat {
        sql.push_str(&format!(" DISTRIBUTED BY HASH({keys})"));
        if let Some(p) = &clauses.partition {
            let value = match &p.format {
                Some(f) => format!("DATE_FORMAT({}, '{f}')", quote_ident(&p.column)),
                None => quote_ident(&p.column),
            };
            sql.push_str(&format!(
                " PARTITION BY VALUE({value}) LIFECYCLE {}",
                p.lifecycle
            ));
        }
    }
    Ok(sql)
}

/// `CREATE DATABASE IF NOT EXISTS …`.
pub fn create_database_sql(database: &str) -> String {
    format!("CREATE DATABASE IF NOT EXISTS {}", quote_ident(database))
}

/// Checks that ADB can run a DDL statement from the stream; `Err` names why not.
///
/// Accepted: CREATE TABLE (the sink creates the table from its schema, in ADB's dialect),
/// DROP TABLE, TRUNCATE TABLE, CREATE/DROP DATABASE, and ALTER TABLE whose every clause is
/// `ADD [COLUMN] …` of columns of types ADB has (no UNSIGNED, ZEROFILL, ENUM, SET, BIT, YEAR,
/// MEDIUMINT or spatial types) or `DROP [COLUMN] …`. Everything else
/// (MODIFY/CHANGE/RENAME/ALTER COLUMN, index, partition, key or table-option clauses, RENAME
/// TABLE, CREATE/DROP INDEX, views, routines, unparsed statements) is refused.
pub fn check_stream_ddl(ddl: &Ddl) -> Result<(), String> {
    match ddl.kind {
        DdlKind::CreateTable
        | DdlKind::DropTable
        | DdlKind::TruncateTable
        | DdlKind::CreateDatabase
        | DdlKind::DropDatabase => Ok(()),
        DdlKind::AlterTable => check_alter(&ddl.statement),
        other => Err(format!(
            "{other:?} statements are not supported by AnalyticDB for MySQL 3.0"
        )),
    }
}

/// Splits `s` at top-level commas (outside parentheses, quotes and backticks).
fn split_top_level(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for ch in s.chars() {
        match quote {
            Some(q) => {
                if ch == q {
                    quote = None;
                }
            }
            None => match ch {
                '\'' | '"' | '`' => quote = Some(ch),
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(std::mem::take(&mut current));
                    continue;
                }
                _ => {}
            },
        }
        current.push(ch);
    }
    parts.push(current);
    parts
}

/// Skips one identifier (quoted or bare, possibly `db.table`) at the start of `s`.
fn skip_name(s: &str) -> &str {
    let mut rest = s.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix('`') {
            let mut chars = r.char_indices().peekable();
            let mut end = r.len();
            while let Some((i, c)) = chars.next() {
                if c == '`' {
                    if matches!(chars.peek(), Some((_, '`'))) {
                        chars.next();
                        continue;
                    }
                    end = i + 1;
                    break;
                }
            }
            rest = &r[end.min(r.len())..];
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(rest.len());
            rest = &rest[end..];
        }
        match rest.strip_prefix('.') {
            Some(r) => rest = r,
            None => return rest,
        }
    }
}

fn skip_word(s: &str) -> &str {
    let s = s.trim_start();
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    &s[end..]
}

fn first_words(s: &str, n: usize) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == '(')
        .filter(|w| !w.is_empty())
        .take(n)
        .map(|w| w.to_ascii_uppercase())
        .collect()
}

fn check_alter(statement: &str) -> Result<(), String> {
    let words = first_words(statement, 3);
    // ALTER [ONLINE|IGNORE] TABLE [IF EXISTS] <name> <clauses>
    let Some(table_at) = words.iter().position(|w| w == "TABLE") else {
        return Err("not an ALTER TABLE statement".into());
    };
    let mut rest = statement;
    for _ in 0..=table_at {
        rest = skip_word(rest);
    }
    if first_words(rest, 2) == ["IF", "EXISTS"] {
        rest = skip_word(skip_word(rest));
    }
    let clauses = skip_name(rest);
    for clause in split_top_level(clauses) {
        let clause = clause.trim();
        if clause.is_empty() {
            return Err("empty ALTER TABLE clause".into());
        }
        let w = first_words(clause, 2);
        let verb = w[0].as_str();
        let object = w.get(1).map(String::as_str).unwrap_or("");
        let ok = match verb {
            "ADD" | "DROP" => !matches!(
                object,
                "INDEX"
                    | "KEY"
                    | "PRIMARY"
                    | "UNIQUE"
                    | "CONSTRAINT"
                    | "FULLTEXT"
                    | "SPATIAL"
                    | "FOREIGN"
                    | "PARTITION"
                    | "CHECK"
                    | "PERIOD"
                    | "SYSTEM"
                    | ""
            ),
            _ => false,
        };
        if !ok {
            return Err(format!(
                "ALTER TABLE clause `{clause}` is not supported by AnalyticDB for MySQL 3.0 \
                 (only ADD COLUMN and DROP COLUMN are)"
            ));
        }
        if verb == "ADD" {
            check_added_columns(clause)?;
        }
    }
    Ok(())
}

/// MySQL column types and attributes ADB 3.0 has no equivalent of (see the mapping table):
/// an `ADD COLUMN` naming one is MySQL's statement, not one ADB can run.
const NO_ADB_EQUIVALENT: [&str; 16] = [
    "UNSIGNED",
    "ZEROFILL",
    "ENUM",
    "SET",
    "BIT",
    "YEAR",
    "MEDIUMINT",
    "GEOMETRY",
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
    "GEOMCOLLECTION",
];

/// Words of `s` outside quotes, upper-cased; a quoted name or string is one `"` word.
fn words_outside_quotes(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for ch in s.chars() {
        if let Some(q) = quote {
            if ch == q {
                quote = None;
            }
            continue;
        }
        match ch {
            '\'' | '"' | '`' => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
                words.push("\"".into());
                quote = Some(ch);
            }
            c if c.is_whitespace() || c == '(' || c == ')' || c == ',' => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.extend(c.to_uppercase()),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Checks the column definitions of an `ADD [COLUMN] [IF NOT EXISTS] name type …` or
/// `ADD [COLUMN] (name type …, …)` clause for types ADB does not have.
fn check_added_columns(clause: &str) -> Result<(), String> {
    let mut rest = skip_word(clause).trim_start();
    if first_words(rest, 1) == ["COLUMN"] {
        rest = skip_word(rest).trim_start();
    }
    if first_words(rest, 3) == ["IF", "NOT", "EXISTS"] {
        rest = skip_word(skip_word(skip_word(rest))).trim_start();
    }
    let definitions = match rest.strip_prefix('(') {
        Some(inner) => split_top_level(inner.strip_suffix(')').unwrap_or(inner)),
        None => vec![rest.to_string()],
    };
    for definition in definitions {
        // The column name (quoted or bare) comes first; the type and attributes follow.
        let after_name = skip_name(definition.trim_start());
        let words = words_outside_quotes(after_name);
        if let Some(w) = words
            .iter()
            .find(|w| NO_ADB_EQUIVALENT.contains(&w.as_str()))
        {
            return Err(format!(
                "ALTER TABLE clause `{}` uses {w}, which AnalyticDB for MySQL 3.0 has no \
                 equivalent of (see the type mapping: schema sync maps such columns, a \
                 replayed ALTER cannot)",
                clause.trim()
            ));
        }
    }
    Ok(())
}
