//! What one Kafka record says, before it is encoded in a format: the change, where it came from
//! in the source log, and which columns it carries.

use crate::render;
use dts_core::{
    ColumnType, Ddl, DdlKind, DerivedChange, Position, RowOp, TableId, TableSchema, Value,
};
use std::borrow::Cow;

/// Whether a record comes from the full sync or from the binlog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// A row copied by Full Data Sync (`write_rows`).
    Full,
    /// A change replayed from the binlog (`apply`, `apply_ddl`, `reset_table`).
    Incremental,
}

/// Where a record comes from: enough for consumers to deduplicate replays.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin<'a> {
    pub phase: Phase,
    /// Begin position of the source transaction (`None` for full sync and tools).
    pub position: Option<&'a Position>,
    pub gtid: Option<&'a str>,
    /// Source commit time (ms); the production time for full-sync rows.
    pub commit_time_ms: u64,
    /// 0-based index of the change in its source transaction.
    pub change_index: u64,
    /// Changes of the transaction known so far (`first_change + changes.len()`).
    pub txn_size: u64,
    /// When the record is produced (ms).
    pub now_ms: u64,
    /// 0 for an ordinary record; for a key-changing UPDATE split in two, 2 on the DELETE half
    /// and 1 on the INSERT half.
    pub part: u8,
}

/// The record's content.
#[derive(Clone, Debug)]
pub(crate) enum Body<'a> {
    /// A row image change. `columns` are the column positions the record carries, in table
    /// order (every column, or the changed ones plus the key).
    Row {
        schema: &'a TableSchema,
        op: RowOp,
        before: Option<&'a [Value]>,
        after: Option<&'a [Value]>,
        columns: Cow<'a, [usize]>,
    },
    /// A DDL statement.
    Ddl(&'a Ddl),
    /// The marker `reset_table` emits: every earlier row of the table is void; a new copy
    /// follows. Encoded as a TRUNCATE TABLE in every format.
    Reset(&'a TableSchema),
    /// Child rows changed by a foreign-key cascade, by predicate (see `format::cascade`).
    Derived(&'a DerivedChange),
}

/// One record to encode.
#[derive(Clone, Debug)]
pub(crate) struct Event<'a> {
    pub origin: Origin<'a>,
    pub body: Body<'a>,
}

impl Event<'_> {
    /// `insert`, `update`, `delete`, `ddl` or `reset` (the `dts.op` header).
    pub(crate) fn op_name(&self) -> &'static str {
        match &self.body {
            Body::Row { op, .. } => match op {
                RowOp::Insert => "insert",
                RowOp::Update => "update",
                RowOp::Delete => "delete",
            },
            Body::Ddl(_) => "ddl",
            Body::Reset(_) => "reset",
            Body::Derived(d) => match d.op {
                dts_core::CascadeOp::Delete => "cascade_delete",
                dts_core::CascadeOp::SetNull => "cascade_set_null",
                dts_core::CascadeOp::Update => "cascade_update",
            },
        }
    }

    /// The table the record concerns (the first table of a DDL), if any.
    pub(crate) fn table(&self) -> Option<&TableId> {
        match &self.body {
            Body::Row { schema, .. } | Body::Reset(schema) => Some(&schema.id),
            Body::Derived(d) => Some(d.table()),
            Body::Ddl(ddl) => ddl.tables.first(),
        }
    }

    /// Database the record concerns.
    pub(crate) fn database(&self) -> &str {
        match &self.body {
            Body::Row { schema, .. } | Body::Reset(schema) => &schema.id.database,
            Body::Derived(d) => &d.table().database,
            Body::Ddl(ddl) => ddl
                .tables
                .first()
                .map(|t| t.database.as_str())
                .or(ddl.database.as_deref())
                .unwrap_or(""),
        }
    }

    /// The image whose values a row record shows (after for inserts and updates, before for
    /// deletes).
    pub(crate) fn main_image(&self) -> Option<&[Value]> {
        match &self.body {
            Body::Row {
                op, before, after, ..
            } => match op {
                RowOp::Delete => *before,
                _ => *after,
            },
            _ => None,
        }
    }

    /// Identity key text of a row record (the key values in text form joined by `,`), for
    /// record keys; `None` for keyless tables and non-row records.
    pub(crate) fn identity_text(&self) -> Option<String> {
        let Body::Row { schema, .. } = &self.body else {
            return None;
        };
        let image = self.main_image()?;
        let idx = schema.identity_indexes()?;
        Some(key_text(schema, image, &idx))
    }

    /// How errors name the record: table and key.
    pub(crate) fn describe(&self) -> String {
        match &self.body {
            Body::Row { schema, .. } => {
                let image = self.main_image().unwrap_or(&[]);
                match schema.identity_indexes() {
                    Some(idx) => {
                        let parts: Vec<String> = idx
                            .iter()
                            .map(|&i| {
                                format!(
                                    "{}={}",
                                    schema.columns[i].name,
                                    image
                                        .get(i)
                                        .and_then(|v| render::text(v, None))
                                        .unwrap_or_else(|| "NULL".into())
                                )
                            })
                            .collect();
                        format!("table {} row with key ({})", schema.id, parts.join(", "))
                    }
                    None => format!("table {} row without a key", schema.id),
                }
            }
            Body::Ddl(ddl) => match ddl.tables.first() {
                Some(t) => format!("DDL on {t}"),
                None => format!(
                    "DDL in database {}",
                    ddl.database.as_deref().unwrap_or("(none)")
                ),
            },
            Body::Reset(schema) => format!("reset marker of table {}", schema.id),
            Body::Derived(d) => format!("cascade record: {d}"),
        }
    }

    /// A deterministic record id (non-negative), the same when a record is produced again on
    /// replay: FNV-1a over the binlog file, offset, change index and split part; for full-sync
    /// rows over the table and the key text (or the whole row of a keyless table).
    pub(crate) fn record_id(&self) -> i64 {
        let mut h = Fnv::new();
        match self.origin.position {
            Some(p) => {
                h.write(p.file.as_bytes());
                h.write(&p.offset.to_le_bytes());
                h.write(&self.origin.change_index.to_le_bytes());
                h.write(&[self.origin.part]);
            }
            None => {
                h.write(b"full");
                if let Some(t) = self.table() {
                    h.write(t.database.as_bytes());
                    h.write(&[0]);
                    h.write(t.table.as_bytes());
                }
                h.write(&[0]);
                match self.identity_text() {
                    Some(k) => h.write(k.as_bytes()),
                    None => {
                        if let Some(img) = self.main_image() {
                            for v in img {
                                h.write(render::text(v, None).unwrap_or_default().as_bytes());
                                h.write(&[0]);
                            }
                        }
                    }
                }
                h.write(self.op_name().as_bytes());
            }
        }
        (h.finish() & i64::MAX as u64) as i64
    }
}

/// Values of `columns` of a row in text form (NULL as the empty string), joined by `,`: the
/// string hashed by the primary-key partition policy and shown in record keys.
pub(crate) fn key_text(schema: &TableSchema, image: &[Value], columns: &[usize]) -> String {
    let mut out = String::new();
    for (n, &i) in columns.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        if let Some(v) = image.get(i) {
            if let Some(t) = render::text(v, schema.columns.get(i).map(|c| &c.column_type)) {
                out.push_str(&t);
            }
        }
    }
    out
}

/// `0, 1, 2, …`: every column position of the widest table MySQL allows (4096 columns), so
/// records carrying all columns borrow a slice instead of allocating one.
static ALL_POSITIONS: [usize; 4096] = {
    let mut a = [0usize; 4096];
    let mut i = 0;
    while i < 4096 {
        a[i] = i;
        i += 1;
    }
    a
};

/// Every column position of a table of `n` columns.
pub(crate) fn all_columns(n: usize) -> Cow<'static, [usize]> {
    match ALL_POSITIONS.get(..n) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned((0..n).collect()),
    }
}

/// Column positions an UPDATE record carries: all, or the changed columns plus the identity
/// key (PK, else the first NOT NULL unique key), in table order.
pub(crate) fn update_columns(
    schema: &TableSchema,
    before: &[Value],
    after: &[Value],
    all: bool,
) -> Cow<'static, [usize]> {
    let n = schema.columns.len();
    if all {
        return all_columns(n);
    }
    let key = schema.identity_indexes().unwrap_or_default();
    Cow::Owned(
        (0..n)
            .filter(|&i| key.contains(&i) || before.get(i) != after.get(i))
            .collect(),
    )
}

/// Sequence number of a binlog file (`mysql-bin.000042` → 42; 0 when the name has none).
pub(crate) fn binlog_sequence(file: &str) -> u64 {
    file.rsplit('.')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// TRUNCATE statement of the reset marker.
pub(crate) fn reset_statement(table: &TableId) -> String {
    format!(
        "TRUNCATE TABLE `{}`.`{}`",
        table.database.replace('`', "``"),
        table.table.replace('`', "``")
    )
}

/// Canal's event type for a DDL kind.
pub(crate) fn canal_ddl_type(kind: DdlKind) -> &'static str {
    match kind {
        DdlKind::CreateTable => "CREATE",
        DdlKind::AlterTable => "ALTER",
        DdlKind::DropTable => "ERASE",
        DdlKind::RenameTable => "RENAME",
        DdlKind::TruncateTable => "TRUNCATE",
        DdlKind::CreateIndex => "CINDEX",
        DdlKind::DropIndex => "DINDEX",
        DdlKind::CreateDatabase
        | DdlKind::DropDatabase
        | DdlKind::AlterDatabase
        | DdlKind::Object(_)
        | DdlKind::Other
        | DdlKind::Unparsed => "QUERY",
    }
}

/// `java.sql.Types` code Canal's `sqlType` gives a column type.
pub(crate) fn java_sql_type(t: &ColumnType) -> i32 {
    match t {
        ColumnType::Integer { bytes, unsigned } => match (bytes, unsigned) {
            (1, false) => -6,             // TINYINT
            (1, true) | (2, false) => 5,  // SMALLINT
            (2, true) | (3, _) => 4,      // INTEGER
            (4, false) => 4,              // INTEGER
            (4, true) | (8, false) => -5, // BIGINT
            (8, true) => 3,               // DECIMAL (exceeds a Java long)
            _ => -5,
        },
        ColumnType::Float => 7,  // REAL
        ColumnType::Double => 8, // DOUBLE
        ColumnType::Decimal { .. } => 3,
        ColumnType::Bit { .. } => -7,
        ColumnType::Char { .. } => 1,
        ColumnType::VarChar { .. } => 12,
        ColumnType::Text { .. } => 2005, // CLOB
        ColumnType::Binary { .. } => -2,
        ColumnType::VarBinary { .. } => -3,
        ColumnType::Blob { .. } => 2004,
        ColumnType::Date => 91,
        ColumnType::Time { .. } => 92,
        ColumnType::DateTime { .. } | ColumnType::Timestamp { .. } => 93,
        ColumnType::Year => 12,
        ColumnType::Enum { .. } | ColumnType::Set { .. } => 1,
        ColumnType::Json => 12,
        ColumnType::Geometry { .. } => -2,
    }
}

/// 64-bit FNV-1a.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::{Column, Index};

    fn schema() -> TableSchema {
        let int = |n: &str| {
            let mut c = Column::new(
                n,
                ColumnType::Integer {
                    bytes: 4,
                    unsigned: false,
                },
                "int(11)",
            );
            c.nullable = false;
            c
        };
        TableSchema {
            id: TableId::new("d", "t"),
            columns: vec![int("a"), int("b"), int("c")],
            primary_key: vec!["a".into()],
            unique_keys: vec![Index {
                name: "uk".into(),
                columns: vec!["c".into()],
                unique: true,
            }],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        }
    }

    #[test]
    fn update_columns_are_changed_plus_key() {
        let s = schema();
        let before = [Value::Int(1), Value::Int(2), Value::Int(3)];
        let after = [Value::Int(1), Value::Int(5), Value::Int(3)];
        assert_eq!(*update_columns(&s, &before, &after, true), [0, 1, 2]);
        assert_eq!(*all_columns(5000), (0..5000).collect::<Vec<_>>()[..]);
        assert_eq!(*update_columns(&s, &before, &after, false), [0, 1]);
        assert_eq!(*update_columns(&s, &before, &before, false), [0]);
    }

    #[test]
    fn key_text_joins_values() {
        let s = schema();
        let row = [Value::Int(-1), Value::Null, Value::Int(3)];
        assert_eq!(key_text(&s, &row, &[0, 1, 2]), "-1,,3");
        assert_eq!(key_text(&s, &row, &[0]), "-1");
    }

    #[test]
    fn binlog_sequences() {
        assert_eq!(binlog_sequence("mysql-bin.000042"), 42);
        assert_eq!(binlog_sequence("nofile"), 0);
        assert_eq!(binlog_sequence(""), 0);
    }

    #[test]
    fn record_ids_are_deterministic_and_distinct() {
        let s = schema();
        let row = vec![Value::Int(1), Value::Int(2), Value::Int(3)];
        let p = Position::new("bin.000001", 100);
        let ev = |index: u64, part: u8| Event {
            origin: Origin {
                phase: Phase::Incremental,
                position: Some(&p),
                gtid: None,
                commit_time_ms: 0,
                change_index: index,
                txn_size: 2,
                now_ms: 0,
                part,
            },
            body: Body::Row {
                schema: &s,
                op: RowOp::Insert,
                before: None,
                after: Some(&row),
                columns: vec![0, 1, 2].into(),
            },
        };
        assert_eq!(ev(0, 0).record_id(), ev(0, 0).record_id());
        assert_ne!(ev(0, 0).record_id(), ev(1, 0).record_id());
        assert_ne!(ev(0, 0).record_id(), ev(0, 1).record_id());
        assert!(ev(0, 0).record_id() >= 0);
        assert_eq!(ev(0, 0).describe(), "table d.t row with key (a=1)");
        assert_eq!(ev(0, 0).identity_text().as_deref(), Some("1"));
    }
}
