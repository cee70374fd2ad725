//! `CREATE TABLE` text generated from a [`TableSchema`].
//!
//! The statement is built from the schema's parts, never by copying the source's
//! `SHOW CREATE TABLE` text, because database, table and column names may be mapped. The source's
//! text (`create_sql`) is only consulted, by column and index name, for what `information_schema`
//! as captured by discovery does not carry:
//!
//! - whether a generated column is `STORED` (`PERSISTENT`) or `VIRTUAL`;
//! - a column's `ON UPDATE CURRENT_TIMESTAMP` clause;
//! - index kinds (`FULLTEXT`, `SPATIAL`) and prefix lengths (`KEY k (t(10))`);
//! - the partitioning clause (`PARTITION BY …`), verbatim;
//! - the table options `ENGINE`, `DEFAULT CHARSET`, `COLLATE` and `COMMENT`, and MariaDB's
//!   `SEQUENCE=1` (a sequence, with the sequence table's columns) and `WITH SYSTEM VERSIONING`.
//!
//! When a name was mapped (so it is not found in `create_sql`) or `create_sql` is missing, the
//! fallbacks are: generated columns are `VIRTUAL` unless they are part of the primary key
//! (`STORED`), no `ON UPDATE`, plain B-tree indexes where a TEXT/BLOB column of a non-unique index
//! gets a prefix of [`DEFAULT_TEXT_PREFIX`] characters and a lone geometry column a `SPATIAL` index,
//! and the destination's default table options.
//!
//! From the schema itself: `INVISIBLE` columns, CHECK constraints (their conditions with the
//! destination's column names) and foreign keys (the task fills in the destination's names of
//! both tables; see [`foreign_key_definitions`]), and `ROW_FORMAT` among the table options.
//!
//! With mapped column names the task keeps only the table options and the partitioning clause
//! (its columns renamed) of `create_sql` ([`dts_core::TableRoute::destination_schema`]).
//!
//! Not reproduced: the source table's AUTO_INCREMENT counter (rows are written with their
//! values, so the counter follows).
//! A generation expression is used as the source reports it: it names source columns, so mapping
//! the columns a generated column depends on is not supported.
//!
//! Every identifier goes through [`quote_ident`]; string literals through [`sql_string`], which
//! relies on the sink's sessions running without `NO_BACKSLASH_ESCAPES` (they set `sql_mode`
//! explicitly). Text the server reported that must be passed through (type text, generation and
//! default expressions) is checked by [`check_sql_fragment`] so it cannot end the clause it sits in.

use crate::wire::ident::quote_ident;
use dts_core::{Column, ColumnType, Error, Index, TableSchema};

/// Prefix length, in characters, given to a TEXT/BLOB column of a non-unique index whose prefix
/// is not known from the source's `create_sql`.
pub const DEFAULT_TEXT_PREFIX: u32 = 255;

/// A string literal for statements run by the sink's sessions (which never set
/// `NO_BACKSLASH_ESCAPES`): `'` doubled, `\` and NUL escaped.
pub fn sql_string(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('\'');
    for ch in value.chars() {
        match ch {
            '\'' => s.push_str("''"),
            '\\' => s.push_str("\\\\"),
            '\0' => s.push_str("\\0"),
            '\u{1a}' => s.push_str("\\Z"),
            c => s.push(c),
        }
    }
    s.push('\'');
    s
}

/// `CREATE DATABASE IF NOT EXISTS` for a database name.
pub fn create_database_sql(database: &str) -> String {
    format!("CREATE DATABASE IF NOT EXISTS {}", quote_ident(database))
}

/// The `CREATE TABLE IF NOT EXISTS` statement for `schema`, qualified with its database.
pub fn create_table_sql(schema: &TableSchema) -> Result<String, Error> {
    build_create_table(schema, true, true)
}

/// The `CREATE TABLE IF NOT EXISTS` statement for a table about to be filled by a full copy:
/// without its foreign keys, and with its non-unique secondary indexes only when
/// `with_secondary`. Building those indexes once, after the rows are in, is cheaper than
/// maintaining them row by row, and the foreign keys follow the copy; the primary key and
/// unique keys stay, since the copy's idempotence relies on them.
/// [`secondary_index_definitions`] and [`foreign_key_definitions`] give what is left out.
pub fn create_table_sql_for_copy(
    schema: &TableSchema,
    with_secondary: bool,
) -> Result<String, Error> {
    build_create_table(schema, with_secondary, false)
}

/// The foreign keys of `schema` (in destination names) as `(name, definition)` pairs, each
/// definition usable after `ADD` in an `ALTER TABLE`:
/// `CONSTRAINT `fk` FOREIGN KEY (`a`) REFERENCES `db`.`parent` (`id`) ON DELETE … ON UPDATE …`.
pub fn foreign_key_definitions(schema: &TableSchema) -> Result<Vec<(String, String)>, Error> {
    let list = |cols: &[String]| {
        cols.iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    schema
        .constraints
        .foreign_keys
        .iter()
        .map(|fk| {
            if fk.child_columns.is_empty() || fk.child_columns.len() != fk.parent_columns.len() {
                return Err(Error::Schema {
                    table: schema.id.clone(),
                    message: format!(
                        "foreign key `{}` pairs {} column(s) with {}",
                        fk.name,
                        fk.child_columns.len(),
                        fk.parent_columns.len()
                    ),
                });
            }
            Ok((
                fk.name.clone(),
                format!(
                    "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}.{} ({}) ON DELETE {} ON UPDATE {}",
                    quote_ident(&fk.name),
                    list(&fk.child_columns),
                    quote_ident(&fk.parent.database),
                    quote_ident(&fk.parent.table),
                    list(&fk.parent_columns),
                    fk.on_delete,
                    fk.on_update
                ),
            ))
        })
        .collect()
}

/// The non-unique secondary indexes of `schema` as `(name, definition)` pairs, each definition
/// usable after `ADD` in an `ALTER TABLE` (`KEY `k` (`c`)`, `FULLTEXT KEY …`), in the
/// source's order where known.
pub fn secondary_index_definitions(schema: &TableSchema) -> Result<Vec<(String, String)>, Error> {
    let source = schema.create_sql.as_deref().map(SourceDdl::parse);
    secondary_indexes(schema, source.as_ref()).map_err(|message| Error::Schema {
        table: schema.id.clone(),
        message,
    })
}

fn build_create_table(
    schema: &TableSchema,
    with_secondary: bool,
    with_foreign_keys: bool,
) -> Result<String, Error> {
    let bad = |message: String| Error::Schema {
        table: schema.id.clone(),
        message,
    };
    if schema.columns.is_empty() {
        return Err(bad("no columns to create the table with".into()));
    }
    let source = schema.create_sql.as_deref().map(SourceDdl::parse);
    let mut defs = Vec::new();
    for col in &schema.columns {
        defs.push(
            column_sql(schema, col, source.as_ref())
                .map_err(|m| bad(format!("column {}: {m}", col.name)))?,
        );
    }
    if !schema.primary_key.is_empty() {
        let index = Index {
            name: "PRIMARY".into(),
            columns: schema.primary_key.clone(),
            unique: true,
        };
        defs.push(format!(
            "PRIMARY KEY ({})",
            index_columns(schema, &index, source.as_ref(), IndexKind::Plain).map_err(bad)?
        ));
    }
    let mut unique_keys: Vec<&Index> = schema.unique_keys.iter().collect();
    unique_keys.sort_by_key(|ix| source_order(source.as_ref(), ix));
    for uk in unique_keys {
        defs.push(format!(
            "UNIQUE KEY {} ({})",
            quote_ident(&uk.name),
            index_columns(schema, uk, source.as_ref(), IndexKind::Plain).map_err(bad)?
        ));
    }
    if with_secondary {
        defs.extend(
            secondary_indexes(schema, source.as_ref())
                .map_err(bad)?
                .into_iter()
                .map(|(_, def)| def),
        );
    }
    if with_foreign_keys {
        // With checks off in the sink's sessions, a foreign key to a table not created yet
        // is accepted.
        defs.extend(
            foreign_key_definitions(schema)?
                .into_iter()
                .map(|(_, def)| def),
        );
    }
    for check in &schema.constraints.checks {
        check_sql_fragment(&check.expression)
            .map_err(|m| bad(format!("CHECK constraint {}: {m}", check.name)))?;
        defs.push(format!(
            "CONSTRAINT {} CHECK ({})",
            quote_ident(&check.name),
            check.expression
        ));
    }
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {}.{} (\n  {}\n)",
        quote_ident(&schema.id.database),
        quote_ident(&schema.id.table),
        defs.join(",\n  ")
    );
    if let Some(src) = &source {
        sql.push_str(&src.options.to_sql());
        if let Some(p) = &src.partitioning {
            sql.push_str(p);
        }
    }
    Ok(sql)
}

/// Where an index stands in the source's text (discovery lists indexes by name).
fn source_order(source: Option<&SourceDdl>, ix: &Index) -> usize {
    source
        .and_then(|s| s.indexes.iter().position(|(n, _)| *n == ix.name))
        .unwrap_or(usize::MAX)
}

fn secondary_indexes(
    schema: &TableSchema,
    source: Option<&SourceDdl>,
) -> Result<Vec<(String, String)>, String> {
    let mut indexes: Vec<&Index> = schema.indexes.iter().collect();
    indexes.sort_by_key(|ix| source_order(source, ix));
    indexes
        .into_iter()
        .map(|ix| {
            let kind = index_kind(schema, ix, source);
            let prefix = match kind {
                IndexKind::Plain => "KEY",
                IndexKind::Fulltext => "FULLTEXT KEY",
                IndexKind::Spatial => "SPATIAL KEY",
            };
            let columns = index_columns(schema, ix, source, kind)?;
            Ok((
                ix.name.clone(),
                format!("{prefix} {} ({columns})", quote_ident(&ix.name)),
            ))
        })
        .collect()
}

/// The default character set and collation named by a source's `SHOW CREATE TABLE` text.
pub fn source_table_charset(create_sql: &str) -> (Option<String>, Option<String>) {
    let o = SourceDdl::parse(create_sql).options;
    (o.charset, o.collation)
}

/// One column definition.
fn column_sql(
    schema: &TableSchema,
    col: &Column,
    source: Option<&SourceDdl>,
) -> Result<String, String> {
    check_sql_fragment(&col.type_text).map_err(|m| format!("type {:?}: {m}", col.type_text))?;
    if col.type_text.trim().is_empty() {
        return Err("empty type text".into());
    }
    let mut s = format!("{} {}", quote_ident(&col.name), col.type_text);
    let native_json = col.type_text.trim().eq_ignore_ascii_case("json");
    let has_charset = col.column_type.is_textual()
        || (matches!(col.column_type, ColumnType::Json) && !native_json);
    if has_charset {
        if let Some(cs) = col.charset.as_deref().filter(|c| *c != "binary") {
            check_word(cs).map_err(|m| format!("character set {cs:?}: {m}"))?;
            s.push_str(&format!(" CHARACTER SET {cs}"));
            if let Some(coll) = col.collation.as_deref() {
                check_word(coll).map_err(|m| format!("collation {coll:?}: {m}"))?;
                s.push_str(&format!(" COLLATE {coll}"));
            }
        }
    }
    let line = source.and_then(|src| src.column_line(&col.name));
    if let Some(expr) = &col.generated {
        check_sql_fragment(expr).map_err(|m| format!("generation expression {expr:?}: {m}"))?;
        let stored = match line {
            Some(l) => generated_is_stored(l),
            None => schema.primary_key.iter().any(|k| k == &col.name),
        };
        s.push_str(&format!(
            " GENERATED ALWAYS AS ({expr}) {}",
            if stored { "STORED" } else { "VIRTUAL" }
        ));
        if !col.nullable {
            s.push_str(" NOT NULL");
        }
    } else {
        s.push_str(if col.nullable { " NULL" } else { " NOT NULL" });
        if let Some(d) = default_clause(col)? {
            s.push_str(&format!(" DEFAULT {d}"));
        }
        if let Some(on_update) = line.and_then(on_update_clause) {
            s.push_str(&format!(" ON UPDATE {on_update}"));
        }
        if col.auto_increment {
            s.push_str(" AUTO_INCREMENT");
        }
    }
    if col.invisible {
        s.push_str(" INVISIBLE");
    }
    if !col.comment.is_empty() {
        s.push_str(&format!(" COMMENT {}", sql_string(&col.comment)));
    }
    if matches!(col.column_type, ColumnType::Json) && !native_json {
        // MariaDB's JSON is LONGTEXT plus this check; without it the column is plain text.
        s.push_str(&format!(" CHECK (json_valid({}))", quote_ident(&col.name)));
    }
    Ok(s)
}

/// The text after `DEFAULT` for a column, from the default as `information_schema` reports it.
///
/// MariaDB 10.2.7+ quotes literal strings (`'it''s'`, backslash escapes), reports `NULL` (the
/// text) for a nullable column defaulting to NULL, numbers and `b'101'` bare, and expressions as
/// their text (`current_timestamp()`, `(1 + 1)`). MySQL reports literal strings unquoted; for
/// textual and temporal columns a bare value without a parenthesis is taken as such a literal.
pub fn default_clause(col: &Column) -> Result<Option<String>, String> {
    let Some(raw) = col.default.as_deref() else {
        return Ok(None);
    };
    let d = raw.trim();
    if d.eq_ignore_ascii_case("NULL") {
        return Ok(col.nullable.then(|| "NULL".to_string()));
    }
    if let Some(value) = parse_quoted_literal(d) {
        return Ok(Some(sql_string(&value)));
    }
    if is_number(d) || is_bit_or_hex_literal(d) {
        return Ok(Some(d.to_string()));
    }
    if is_current_timestamp(d) {
        return Ok(Some(d.to_string()));
    }
    let literal_type = col.column_type.is_textual()
        || matches!(
            col.column_type,
            ColumnType::Date
                | ColumnType::Time { .. }
                | ColumnType::DateTime { .. }
                | ColumnType::Timestamp { .. }
                | ColumnType::Year
                | ColumnType::Binary { .. }
                | ColumnType::VarBinary { .. }
                | ColumnType::Blob { .. }
                | ColumnType::Json
        );
    if literal_type && !d.contains('(') {
        // MySQL's unquoted literal.
        return Ok(Some(sql_string(raw)));
    }
    check_sql_fragment(d).map_err(|m| format!("default {d:?}: {m}"))?;
    if d.starts_with('(') && d.ends_with(')') && balanced_outer(d) {
        Ok(Some(d.to_string()))
    } else {
        Ok(Some(format!("({d})")))
    }
}

/// The value of one complete single-quoted literal in the server's escaping (`''` and backslash
/// escapes), or `None` when the text is not exactly one literal.
pub fn parse_quoted_literal(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if chars.peek() == Some(&'\'') => {
                chars.next();
                out.push('\'');
            }
            '\'' => return chars.next().is_none().then_some(out),
            '\\' => match chars.next()? {
                '0' => out.push('\0'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'b' => out.push('\u{8}'),
                'Z' => out.push('\u{1a}'),
                '%' => out.push_str("\\%"),
                '_' => out.push_str("\\_"),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

fn is_number(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    !body.is_empty()
        && body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
}

fn is_bit_or_hex_literal(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if let Some(body) = lower.strip_prefix("b'").and_then(|b| b.strip_suffix('\'')) {
        return body.chars().all(|c| c == '0' || c == '1');
    }
    if let Some(body) = lower.strip_prefix("x'").and_then(|b| b.strip_suffix('\'')) {
        return body.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(body) = lower.strip_prefix("0x") {
        return !body.is_empty() && body.chars().all(|c| c.is_ascii_hexdigit());
    }
    false
}

fn is_current_timestamp(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    ["current_timestamp", "now", "localtime", "localtimestamp"]
        .iter()
        .any(|f| {
            lower.strip_prefix(f).is_some_and(|rest| {
                rest.is_empty()
                    || (rest.starts_with('(')
                        && rest.ends_with(')')
                        && rest[1..rest.len() - 1].chars().all(|c| c.is_ascii_digit()))
            })
        })
}

/// True when the first `(` of `s` closes at its last character.
fn balanced_outer(s: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 && i + 1 != s.len() {
                        return false;
                    }
                }
                _ => {}
            },
        }
    }
    depth == 0
}

/// Checks that server-reported SQL text passed through into a clause cannot end that clause:
/// quotes and backquotes closed, parentheses balanced, no `;` or comment outside quotes.
pub fn check_sql_fragment(text: &str) -> Result<(), String> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == '\\' && q != '`' {
                    chars.next();
                } else if c == q {
                    if chars.peek() == Some(&q) {
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
            }
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth < 0 {
                        return Err("unbalanced parenthesis".into());
                    }
                }
                ';' => return Err("contains ';'".into()),
                '#' => return Err("contains a comment".into()),
                '-' if chars.peek() == Some(&'-') => return Err("contains a comment".into()),
                '/' if chars.peek() == Some(&'*') => return Err("contains a comment".into()),
                _ => {}
            },
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if depth != 0 {
        return Err("unbalanced parenthesis".into());
    }
    Ok(())
}

/// A charset, collation or engine name: letters, digits and `_` only.
fn check_word(word: &str) -> Result<(), String> {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err("not a plain name".into())
    }
}

fn generated_is_stored(line: &str) -> bool {
    let upper = line.to_ascii_uppercase();
    upper.contains(") STORED") || upper.contains(") PERSISTENT")
}

/// `current_timestamp(6)` from a column line's `ON UPDATE current_timestamp(6)`.
fn on_update_clause(line: &str) -> Option<String> {
    let upper = line.to_ascii_uppercase();
    let at = upper.find(" ON UPDATE ")? + " ON UPDATE ".len();
    let rest = &line[at..];
    let end = rest.find([' ', ',']).unwrap_or(rest.len());
    let clause = &rest[..end];
    is_current_timestamp(clause).then(|| clause.to_string())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IndexKind {
    Plain,
    Fulltext,
    Spatial,
}

fn index_kind(schema: &TableSchema, ix: &Index, source: Option<&SourceDdl>) -> IndexKind {
    if let Some(parsed) = source.and_then(|s| s.index(&ix.name)) {
        return parsed.kind;
    }
    let geometry = |name: &String| {
        schema
            .column(name)
            .is_some_and(|c| matches!(c.column_type, ColumnType::Geometry { .. }))
    };
    if ix.columns.len() == 1 && geometry(&ix.columns[0]) {
        IndexKind::Spatial
    } else {
        IndexKind::Plain
    }
}

fn index_columns(
    schema: &TableSchema,
    ix: &Index,
    source: Option<&SourceDdl>,
    kind: IndexKind,
) -> Result<String, String> {
    let parsed = source.and_then(|s| s.index(&ix.name));
    let mut parts = Vec::with_capacity(ix.columns.len());
    for (i, name) in ix.columns.iter().enumerate() {
        let col = schema
            .column(name)
            .ok_or_else(|| format!("index {} names unknown column {name}", ix.name))?;
        let prefix = match parsed {
            // The source's prefixes apply when its index has the same shape.
            Some(p) if p.columns.len() == ix.columns.len() => p.columns[i].1,
            _ if kind == IndexKind::Plain
                && !ix.unique
                && matches!(
                    col.column_type,
                    ColumnType::Text { .. } | ColumnType::Blob { .. } | ColumnType::Json
                ) =>
            {
                Some(DEFAULT_TEXT_PREFIX)
            }
            _ => None,
        };
        parts.push(match prefix {
            Some(n) => format!("{}({n})", quote_ident(name)),
            None => quote_ident(name),
        });
    }
    Ok(parts.join(", "))
}

/// What the source's `SHOW CREATE TABLE` text says beyond `information_schema`.
#[derive(Debug, Default)]
struct SourceDdl {
    /// (column name, the rest of its definition line).
    columns: Vec<(String, String)>,
    /// (index name, parsed index line).
    indexes: Vec<(String, ParsedIndex)>,
    options: TableOptions,
    /// The `PARTITION BY …` clause after the table options, verbatim (it names columns only,
    /// and TRUNCATE / DROP PARTITION statements of the stream need the same partitions).
    partitioning: Option<String>,
}

#[derive(Debug)]
struct ParsedIndex {
    kind: IndexKind,
    /// (column, prefix length).
    columns: Vec<(String, Option<u32>)>,
}

/// Table options copied from the source.
#[derive(Debug, Default, PartialEq, Eq)]
struct TableOptions {
    engine: Option<String>,
    charset: Option<String>,
    collation: Option<String>,
    comment: Option<String>,
    /// MariaDB `SEQUENCE=1`: the table is a sequence.
    sequence: bool,
    /// MariaDB `WITH SYSTEM VERSIONING`.
    system_versioning: bool,
    /// `ROW_FORMAT` (`DYNAMIC`, `COMPRESSED`, …).
    row_format: Option<String>,
}

impl TableOptions {
    fn to_sql(&self) -> String {
        let mut s = String::new();
        if let Some(e) = &self.engine {
            s.push_str(&format!(" ENGINE={e}"));
        }
        if let Some(c) = &self.charset {
            s.push_str(&format!(" DEFAULT CHARSET={c}"));
        }
        if let Some(c) = &self.collation {
            s.push_str(&format!(" COLLATE={c}"));
        }
        if let Some(c) = &self.comment {
            s.push_str(&format!(" COMMENT={}", sql_string(c)));
        }
        if let Some(r) = &self.row_format {
            s.push_str(&format!(" ROW_FORMAT={r}"));
        }
        if self.sequence {
            s.push_str(" SEQUENCE=1");
        }
        if self.system_versioning {
            s.push_str(" WITH SYSTEM VERSIONING");
        }
        s
    }
}

impl SourceDdl {
    fn parse(sql: &str) -> SourceDdl {
        let mut out = SourceDdl::default();
        let mut after_options = false;
        for line in sql.lines() {
            let t = line.trim();
            if after_options {
                // What follows the table options is the partitioning clause.
                let p = out.partitioning.get_or_insert_with(String::new);
                p.push('\n');
                p.push_str(line);
                continue;
            }
            if let Some(rest) = t.strip_prefix('`') {
                if let Some((name, after)) = read_backquoted(rest) {
                    out.columns.push((name, after.to_string()));
                }
            } else if let Some(options) = t.strip_prefix(')') {
                out.options = parse_table_options(options);
                after_options = true;
            } else if let Some((name, ix)) = parse_index_line(t) {
                out.indexes.push((name, ix));
            }
        }
        out
    }

    fn column_line(&self, name: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, l)| l.as_str())
    }

    fn index(&self, name: &str) -> Option<&ParsedIndex> {
        self.indexes.iter().find(|(n, _)| n == name).map(|(_, i)| i)
    }
}

/// Reads a backquoted name whose opening backquote is already consumed; returns the name and the
/// text after the closing backquote.
fn read_backquoted(s: &str) -> Option<(String, &str)> {
    let mut name = String::new();
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if c == '`' {
            if let Some((_, '`')) = iter.peek() {
                iter.next();
                name.push('`');
            } else {
                return Some((name, &s[i + 1..]));
            }
        } else {
            name.push(c);
        }
    }
    None
}

fn parse_index_line(line: &str) -> Option<(String, ParsedIndex)> {
    let (kind, rest) = if let Some(r) = line.strip_prefix("PRIMARY KEY ") {
        return parse_index_columns(r).map(|cols| {
            (
                "PRIMARY".to_string(),
                ParsedIndex {
                    kind: IndexKind::Plain,
                    columns: cols,
                },
            )
        });
    } else if let Some(r) = line.strip_prefix("UNIQUE KEY ") {
        (IndexKind::Plain, r)
    } else if let Some(r) = line.strip_prefix("FULLTEXT KEY ") {
        (IndexKind::Fulltext, r)
    } else if let Some(r) = line.strip_prefix("SPATIAL KEY ") {
        (IndexKind::Spatial, r)
    } else if let Some(r) = line.strip_prefix("KEY ") {
        (IndexKind::Plain, r)
    } else {
        return None;
    };
    let (name, after) = read_backquoted(rest.strip_prefix('`')?)?;
    let columns = parse_index_columns(after.trim_start())?;
    Some((name, ParsedIndex { kind, columns }))
}

/// `(`a`,`b`(10) DESC)` → [(a, None), (b, Some(10))]; `None` for functional parts.
fn parse_index_columns(s: &str) -> Option<Vec<(String, Option<u32>)>> {
    let mut rest = s.strip_prefix('(')?;
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start();
        let (name, after) = read_backquoted(rest.strip_prefix('`')?)?;
        rest = after;
        let mut prefix = None;
        if let Some(r) = rest.strip_prefix('(') {
            let end = r.find(')')?;
            prefix = Some(r[..end].trim().parse().ok()?);
            rest = &r[end + 1..];
        }
        out.push((name, prefix));
        rest = rest.trim_start();
        for dir in ["ASC", "DESC"] {
            if let Some(r) = rest.strip_prefix(dir) {
                rest = r.trim_start();
            }
        }
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if rest.starts_with(')') {
            return Some(out);
        } else {
            return None;
        }
    }
}

/// `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='x'`.
fn parse_table_options(s: &str) -> TableOptions {
    let mut out = TableOptions {
        system_versioning: s.to_ascii_uppercase().contains("WITH SYSTEM VERSIONING"),
        ..TableOptions::default()
    };
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().to_ascii_uppercase();
        let after = rest[eq + 1..].trim_start();
        let (value, next) = if after.starts_with('\'') {
            // A quoted value: find its end, honouring '' and backslash escapes.
            let mut end = None;
            let bytes = after.as_bytes();
            let mut i = 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                    b'\'' => {
                        end = Some(i);
                        break;
                    }
                    _ => i += 1,
                }
            }
            let Some(end) = end else { break };
            (parse_quoted_literal(&after[..=end]), &after[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (Some(after[..end].to_string()), &after[end..])
        };
        let word = value.filter(|v| check_word(v).is_ok());
        match key.as_str() {
            "ENGINE" => out.engine = word,
            "DEFAULT CHARSET" | "CHARSET" | "DEFAULT CHARACTER SET" | "CHARACTER SET" => {
                out.charset = word
            }
            "COLLATE" | "DEFAULT COLLATE" => out.collation = word,
            "SEQUENCE" => out.sequence = word.as_deref() == Some("1"),
            "ROW_FORMAT" => out.row_format = word,
            "COMMENT" => {
                out.comment = if after.starts_with('\'') {
                    parse_quoted_literal(&after[..after.len() - next.len()])
                } else {
                    None
                }
            }
            _ => {}
        }
        rest = next.trim_start();
        // Skip a following partition clause or anything that is not `KEY=VALUE`.
        if rest.starts_with("PARTITION") || rest.starts_with("/*") {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::TableId;

    fn col(name: &str, ct: ColumnType, text: &str) -> Column {
        Column::new(name, ct, text)
    }

    fn int(name: &str) -> Column {
        let mut c = col(
            name,
            ColumnType::Integer {
                bytes: 4,
                unsigned: false,
            },
            "int(11)",
        );
        c.nullable = false;
        c
    }

    fn varchar(name: &str, n: u32) -> Column {
        let mut c = col(
            name,
            ColumnType::VarChar { length: n },
            &format!("varchar({n})"),
        );
        c.charset = Some("utf8mb4".into());
        c.collation = Some("utf8mb4_general_ci".into());
        c
    }

    fn table(columns: Vec<Column>, pk: &[&str]) -> TableSchema {
        TableSchema {
            id: TableId::new("d", "t"),
            columns,
            primary_key: pk.iter().map(|s| s.to_string()).collect(),
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        }
    }

    #[test]
    fn constraints_invisible_columns_and_deferred_foreign_keys() {
        use dts_core::{CheckConstraint, ForeignKey, ReferentialAction};
        let mut hidden = int("h`x");
        hidden.invisible = true;
        let mut t = table(vec![int("id"), int("p`id"), hidden], &["id"]);
        t.constraints.checks.push(CheckConstraint {
            name: "c`1".into(),
            expression: "`p``id` > 0".into(),
        });
        t.constraints.foreign_keys.push(ForeignKey {
            name: "fk`p".into(),
            child: TableId::new("d", "t"),
            child_columns: vec!["p`id".into()],
            parent: TableId::new("d`b", "pa`rent"),
            parent_columns: vec!["id".into()],
            on_update: ReferentialAction::Restrict,
            on_delete: ReferentialAction::SetNull,
        });
        let full = create_table_sql(&t).unwrap();
        let fk = "CONSTRAINT `fk``p` FOREIGN KEY (`p``id`) REFERENCES `d``b`.`pa``rent` (`id`) \
                  ON DELETE SET NULL ON UPDATE RESTRICT";
        assert!(full.contains(fk), "{full}");
        assert!(full.contains("`h``x` int(11) NOT NULL INVISIBLE"), "{full}");
        assert!(
            full.contains("CONSTRAINT `c``1` CHECK (`p``id` > 0)"),
            "{full}"
        );
        let for_copy = create_table_sql_for_copy(&t, true).unwrap();
        assert!(!for_copy.contains("FOREIGN KEY"), "{for_copy}");
        assert!(for_copy.contains("CHECK"), "{for_copy}");
        assert_eq!(
            foreign_key_definitions(&t).unwrap(),
            vec![("fk`p".to_string(), fk.to_string())]
        );
        t.constraints.checks[0].expression = "1); DROP TABLE x; (1".into();
        assert!(create_table_sql(&t).is_err());
    }

    #[test]
    fn simple_table_exact_ddl() {
        let mut v = varchar("name", 20);
        v.default = Some("'it''s'".into());
        v.comment = "the name".into();
        let mut id = int("id");
        id.auto_increment = true;
        let mut t = table(vec![id, v], &["id"]);
        t.unique_keys.push(Index {
            name: "uk_name".into(),
            columns: vec!["name".into()],
            unique: true,
        });
        assert_eq!(
            create_table_sql(&t).unwrap(),
            "CREATE TABLE IF NOT EXISTS `d`.`t` (\n  \
             `id` int(11) NOT NULL AUTO_INCREMENT,\n  \
             `name` varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL DEFAULT 'it''s' COMMENT 'the name',\n  \
             PRIMARY KEY (`id`),\n  \
             UNIQUE KEY `uk_name` (`name`)\n)"
        );
    }

    #[test]
    fn defaults_from_information_schema() {
        let cases: Vec<(Column, Option<&str>, Option<&str>)> = vec![
            (varchar("a", 5), Some("'a\\\\b'"), Some("'a\\\\b'")),
            (varchar("a", 5), Some("'x\\0y'"), Some("'x\\0y'")),
            (varchar("a", 5), Some("NULL"), Some("NULL")),
            (varchar("a", 5), Some("'NULL'"), Some("'NULL'")),
            (varchar("a", 5), Some("''"), Some("''")),
            (varchar("a", 5), None, None),
            // MySQL reports string defaults unquoted.
            (varchar("a", 5), Some("abc"), Some("'abc'")),
            (int("i"), Some("5"), Some("5")),
            (int("i"), Some("-1.50"), Some("-1.50")),
            (int("i"), Some("(1 + 1)"), Some("(1 + 1)")),
            (int("i"), Some("1 + 1"), Some("(1 + 1)")),
            (int("i"), Some("NULL"), None), // NOT NULL column: no NULL default
            (
                col("b", ColumnType::Bit { width: 3 }, "bit(3)"),
                Some("b'101'"),
                Some("b'101'"),
            ),
            (
                col("g", ColumnType::DateTime { fsp: 6 }, "datetime(6)"),
                Some("current_timestamp(6)"),
                Some("current_timestamp(6)"),
            ),
            (
                col("g", ColumnType::Date, "date"),
                Some("'0000-00-00'"),
                Some("'0000-00-00'"),
            ),
            (
                col("g", ColumnType::Date, "date"),
                Some("curdate()"),
                Some("(curdate())"),
            ),
        ];
        for (mut c, default, expected) in cases {
            c.default = default.map(str::to_string);
            assert_eq!(
                default_clause(&c).unwrap().as_deref(),
                expected,
                "default {default:?}"
            );
        }
        let mut bad = int("i");
        bad.default = Some("1); DROP TABLE x; (".into());
        assert!(default_clause(&bad).is_err());
    }

    #[test]
    fn quoted_literals() {
        assert_eq!(parse_quoted_literal("'it''s'").unwrap(), "it's");
        assert_eq!(parse_quoted_literal("'a\\\\b'").unwrap(), "a\\b");
        assert_eq!(parse_quoted_literal("'a' || 'b'"), None);
        assert_eq!(parse_quoted_literal("'open"), None);
        assert_eq!(sql_string("a'b\\c\0"), "'a''b\\\\c\\0'");
    }

    #[test]
    fn generated_json_and_indexes_with_source_text() {
        let create = "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  \
            `a` varchar(20) DEFAULT NULL,\n  \
            `l` varchar(21) GENERATED ALWAYS AS (concat(`a`,'x')) VIRTUAL,\n  \
            `m` int(11) GENERATED ALWAYS AS (`id` * 2) STORED,\n  \
            `u` datetime DEFAULT current_timestamp() ON UPDATE current_timestamp(),\n  \
            `js` longtext DEFAULT NULL CHECK (json_valid(`js`)),\n  \
            `tx` text DEFAULT NULL,\n  \
            `p` point NOT NULL,\n  \
            PRIMARY KEY (`id`),\n  KEY `kt` (`tx`(10)),\n  SPATIAL KEY `sp` (`p`),\n  \
            FULLTEXT KEY `ft` (`a`)\n\
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='t''s'";
        let mut l = varchar("l", 21);
        l.generated = Some("concat(`a`,'x')".into());
        l.default = Some("NULL".into());
        let mut m = int("m");
        m.nullable = true;
        m.generated = Some("`id` * 2".into());
        let mut u = col("u", ColumnType::DateTime { fsp: 0 }, "datetime");
        u.default = Some("current_timestamp()".into());
        let mut js = col("js", ColumnType::Json, "longtext");
        js.charset = Some("utf8mb4".into());
        js.collation = Some("utf8mb4_bin".into());
        js.default = Some("NULL".into());
        let mut tx = col("tx", ColumnType::Text { max_bytes: 65535 }, "text");
        tx.charset = Some("utf8mb4".into());
        tx.collation = Some("utf8mb4_general_ci".into());
        let mut p = col(
            "p",
            ColumnType::Geometry {
                subtype: "point".into(),
            },
            "point",
        );
        p.nullable = false;
        let mut t = table(
            vec![int("id"), varchar("a", 20), l, m, u, js, tx, p],
            &["id"],
        );
        t.indexes = vec![
            Index {
                name: "ft".into(),
                columns: vec!["a".into()],
                unique: false,
            },
            Index {
                name: "kt".into(),
                columns: vec!["tx".into()],
                unique: false,
            },
            Index {
                name: "sp".into(),
                columns: vec!["p".into()],
                unique: false,
            },
        ];
        t.create_sql = Some(create.into());
        assert_eq!(
            create_table_sql(&t).unwrap(),
            "CREATE TABLE IF NOT EXISTS `d`.`t` (\n  \
             `id` int(11) NOT NULL,\n  \
             `a` varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL,\n  \
             `l` varchar(21) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci GENERATED ALWAYS AS (concat(`a`,'x')) VIRTUAL,\n  \
             `m` int(11) GENERATED ALWAYS AS (`id` * 2) STORED,\n  \
             `u` datetime NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),\n  \
             `js` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL DEFAULT NULL CHECK (json_valid(`js`)),\n  \
             `tx` text CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL,\n  \
             `p` point NOT NULL,\n  \
             PRIMARY KEY (`id`),\n  \
             KEY `kt` (`tx`(10)),\n  \
             SPATIAL KEY `sp` (`p`),\n  \
             FULLTEXT KEY `ft` (`a`)\n) \
             ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='t''s'"
        );
    }

    #[test]
    fn fallbacks_without_source_text() {
        let mut g = int("g");
        g.generated = Some("`id` + 1".into());
        let mut tx = col("tx", ColumnType::Blob { max_bytes: 65535 }, "blob");
        tx.nullable = true;
        let mut t = table(vec![int("id"), g, tx], &["id", "g"]);
        t.indexes.push(Index {
            name: "k".into(),
            columns: vec!["tx".into()],
            unique: false,
        });
        let sql = create_table_sql(&t).unwrap();
        assert!(
            sql.contains("`g` int(11) GENERATED ALWAYS AS (`id` + 1) STORED NOT NULL"),
            "{sql}"
        );
        assert!(sql.contains("KEY `k` (`tx`(255))"), "{sql}");
        assert!(sql.ends_with(')'), "no table options: {sql}");
    }

    #[test]
    fn hostile_names_are_quoted() {
        let mut c = varchar("we`ird col.\"'", 5);
        c.comment = "x' ); DROP TABLE t; --".into();
        let mut t = table(vec![int("i d`"), c], &["i d`"]);
        t.id = TableId::new("d`b.x", "tä`b le");
        t.indexes.push(Index {
            name: "k`1".into(),
            columns: vec!["we`ird col.\"'".into()],
            unique: false,
        });
        assert_eq!(
            create_table_sql(&t).unwrap(),
            "CREATE TABLE IF NOT EXISTS `d``b.x`.`tä``b le` (\n  \
             `i d``` int(11) NOT NULL,\n  \
             `we``ird col.\"'` varchar(5) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL COMMENT 'x'' ); DROP TABLE t; --',\n  \
             PRIMARY KEY (`i d```),\n  \
             KEY `k``1` (`we``ird col.\"'`)\n)"
        );
        assert_eq!(
            create_database_sql("a`b"),
            "CREATE DATABASE IF NOT EXISTS `a``b`"
        );
    }

    #[test]
    fn hostile_type_text_is_refused() {
        let mut c = int("x");
        c.type_text = "int) ; DROP DATABASE d; --".into();
        let t = table(vec![c], &[]);
        let err = create_table_sql(&t).unwrap_err().to_string();
        assert!(err.contains("d.t") && err.contains("column x"), "{err}");
    }

    #[test]
    fn table_options_and_index_lines() {
        let o = parse_table_options(
            " ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=latin1 COLLATE=latin1_bin COMMENT='a\\\\b'",
        );
        assert_eq!(
            o,
            TableOptions {
                engine: Some("InnoDB".into()),
                charset: Some("latin1".into()),
                collation: Some("latin1_bin".into()),
                comment: Some("a\\b".into()),
                sequence: false,
                system_versioning: false,
                row_format: None,
            }
        );
        let r = parse_table_options(" ENGINE=InnoDB ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8");
        assert_eq!(r.row_format.as_deref(), Some("COMPRESSED"));
        assert!(
            r.to_sql().ends_with(" ROW_FORMAT=COMPRESSED"),
            "{}",
            r.to_sql()
        );
        let seq = parse_table_options(" ENGINE=InnoDB SEQUENCE=1");
        assert!(seq.sequence && seq.to_sql().ends_with(" SEQUENCE=1"));
        let v =
            parse_table_options(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 WITH SYSTEM VERSIONING");
        assert!(v.system_versioning && v.charset.as_deref() == Some("utf8mb4"));
        assert!(v.to_sql().ends_with(" WITH SYSTEM VERSIONING"));
        let (name, ix) = parse_index_line("UNIQUE KEY `u``x` (`a`,`b`(12) DESC),").unwrap();
        assert_eq!(name, "u`x");
        assert_eq!(ix.columns, vec![("a".into(), None), ("b".into(), Some(12))]);
    }
}
