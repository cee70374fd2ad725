//! Which topic and partition each record goes to: the topic mapping, the DDL topic, and the
//! service's three partition policies with Java's `String.hashCode()`.

use crate::config::PartitionPolicy;
use crate::event::{key_text, Body, Event};
use crate::hash::partition_for_key;
use crate::options::{KafkaSinkOptions, TopicMapping};
use dts_core::row_plan::key_changed;
use dts_core::{TableId, TableSchema, Value};

/// Where a record goes inside its topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// One partition.
    Partition(i32),
    /// Every partition of the topic (the reset marker of a table whose rows are spread by key).
    Every,
}

/// Topic and partition choice for a sink's records.
#[derive(Clone, Debug)]
pub(crate) struct Router {
    policy: PartitionPolicy,
    key_columns: Option<Vec<String>>,
    mapping: TopicMapping,
    topic: String,
    ddl_topic: Option<String>,
}

/// The string the table-hash policy hashes: `database.table`.
pub(crate) fn table_hash_key(table: &TableId) -> String {
    format!("{}.{}", table.database, table.table)
}

impl Router {
    pub(crate) fn new(o: &KafkaSinkOptions) -> Self {
        Self {
            policy: o.partition_policy,
            key_columns: o.partition_key_columns.clone(),
            mapping: o.topic_mapping.clone(),
            topic: o.topic.clone(),
            ddl_topic: o.ddl_topic.clone(),
        }
    }

    /// The data topic of a table.
    pub(crate) fn table_topic(&self, table: &TableId) -> String {
        self.mapping.topic_for_table(table, &self.topic)
    }

    /// The topic of a record: the table's data topic; for DDL the DDL topic when configured,
    /// else the data topic of its first table, else its database's topic.
    pub(crate) fn topic(&self, ev: &Event) -> String {
        match &ev.body {
            Body::Row { schema, .. } | Body::Reset(schema) => self.table_topic(&schema.id),
            Body::Derived(d) => self.table_topic(d.table()),
            Body::Ddl(ddl) => {
                if let Some(t) = &self.ddl_topic {
                    return t.clone();
                }
                // A view, routine or event goes to its database's topic; a trigger to its
                // table's.
                let table = match ddl.kind {
                    dts_core::DdlKind::Object(dts_core::ObjectKind::Trigger) => ddl.tables.get(1),
                    dts_core::DdlKind::Object(_) => None,
                    _ => ddl.tables.first(),
                };
                match table {
                    Some(table) => self.table_topic(table),
                    None => match (ddl.kind, ddl.tables.first()) {
                        (dts_core::DdlKind::Object(_), Some(object)) => self
                            .mapping
                            .topic_for_database(&object.database, &self.topic),
                        _ => self.mapping.topic_for_database(ev.database(), &self.topic),
                    },
                }
            }
        }
    }

    /// Columns the primary-key policy hashes for a table: the named partition key columns when
    /// the table has them all, else the primary key, else the first unique key; `None` means
    /// the table falls back to the table hash.
    pub(crate) fn hash_columns(&self, schema: &TableSchema) -> Option<Vec<usize>> {
        if let Some(names) = &self.key_columns {
            let idx: Option<Vec<usize>> = names.iter().map(|n| schema.column_index(n)).collect();
            if let Some(idx) = idx {
                return Some(idx);
            }
        }
        let names = if !schema.primary_key.is_empty() {
            &schema.primary_key
        } else {
            &schema.unique_keys.first()?.columns
        };
        names.iter().map(|n| schema.column_index(n)).collect()
    }

    /// The string hashed for a row image under the primary-key policy (`None`: table hash).
    pub(crate) fn row_hash_key(&self, schema: &TableSchema, image: &[Value]) -> Option<String> {
        self.hash_columns(schema)
            .map(|idx| key_text(schema, image, &idx))
    }

    /// True when an UPDATE must become a DELETE of the old row and an INSERT of the new one so
    /// that per-key order holds across partitions: under the primary-key policy, when the
    /// hashed columns or the identity key change.
    pub(crate) fn splits_update(
        &self,
        schema: &TableSchema,
        before: &[Value],
        after: &[Value],
    ) -> bool {
        if self.policy != PartitionPolicy::ByPrimaryKeyHash {
            return false;
        }
        // The keyed-sink rule (dts_core::row_plan): a row whose key changes is a delete of the
        // old key and an upsert of the new one; here the key is what places the record.
        let moves = |idx: &[usize]| key_changed(before, after, idx);
        self.hash_columns(schema).is_some_and(|idx| moves(&idx))
            || schema.identity_indexes().is_some_and(|idx| moves(&idx))
    }

    /// The partition(s) of a record in a topic of `partitions` partitions.
    pub(crate) fn target(&self, ev: &Event, partitions: i32) -> Target {
        let table_hash =
            |t: &TableId| Target::Partition(partition_for_key(&table_hash_key(t), partitions));
        match self.policy {
            PartitionPolicy::AllToPartition0 => Target::Partition(0),
            PartitionPolicy::ByTableHash => match ev.table() {
                Some(t) => table_hash(t),
                None => Target::Partition(0),
            },
            PartitionPolicy::ByPrimaryKeyHash => match &ev.body {
                Body::Row { schema, .. } => {
                    let image = ev.main_image().unwrap_or(&[]);
                    match self.row_hash_key(schema, image) {
                        Some(k) => Target::Partition(partition_for_key(&k, partitions)),
                        None => table_hash(&schema.id),
                    }
                }
                Body::Reset(schema) => {
                    if self.hash_columns(schema).is_some() {
                        Target::Every
                    } else {
                        table_hash(&schema.id)
                    }
                }
                // A predicate over rows spread by key: every partition gets it, in order with
                // the rows' own records there (as the reset marker).
                Body::Derived(d) => {
                    if self.hash_columns(&d.schema).is_some() {
                        Target::Every
                    } else {
                        table_hash(d.table())
                    }
                }
                Body::Ddl(_) => Target::Partition(0),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Origin, Phase};
    use crate::hash::java_string_hash;
    use dts_core::{Column, ColumnType, Ddl, DdlKind, Index, RowOp};

    fn schema(pk: &[&str], uk: &[&str]) -> TableSchema {
        let col = |n: &str| Column::new(n, ColumnType::VarChar { length: 10 }, "varchar(10)");
        TableSchema {
            id: TableId::new("shop", "orders"),
            columns: vec![col("id"), col("code"), col("v")],
            primary_key: pk.iter().map(|s| s.to_string()).collect(),
            unique_keys: if uk.is_empty() {
                vec![]
            } else {
                vec![Index {
                    name: "uk".into(),
                    columns: uk.iter().map(|s| s.to_string()).collect(),
                    unique: true,
                }]
            },
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        }
    }

    fn origin() -> Origin<'static> {
        Origin {
            phase: Phase::Full,
            position: None,
            gtid: None,
            commit_time_ms: 0,
            change_index: 0,
            txn_size: 1,
            now_ms: 0,
            part: 0,
        }
    }

    fn router(policy: PartitionPolicy, cols: Option<Vec<&str>>) -> Router {
        let mut o = KafkaSinkOptions::new(vec!["k:1".into()], "data", "task");
        o.partition_policy = policy;
        o.partition_key_columns = cols.map(|c| c.into_iter().map(String::from).collect());
        Router::new(&o)
    }

    fn row_event<'a>(s: &'a TableSchema, row: &'a [Value]) -> Event<'a> {
        Event {
            origin: origin(),
            body: Body::Row {
                schema: s,
                op: RowOp::Insert,
                before: None,
                after: Some(row),
                columns: vec![0, 1, 2].into(),
            },
        }
    }

    fn expected(key: &str, n: i32) -> Target {
        Target::Partition((i64::from(java_string_hash(key)).abs() % i64::from(n)) as i32)
    }

    #[test]
    fn policies_pick_the_documented_partition() {
        let s = schema(&["id"], &["code"]);
        let row = [
            Value::Text("42".into()),
            Value::Text("X-1".into()),
            Value::Text("v".into()),
        ];
        let ev = row_event(&s, &row);
        assert_eq!(
            router(PartitionPolicy::AllToPartition0, None).target(&ev, 8),
            Target::Partition(0)
        );
        assert_eq!(
            router(PartitionPolicy::ByTableHash, None).target(&ev, 8),
            expected("shop.orders", 8)
        );
        assert_eq!(
            router(PartitionPolicy::ByPrimaryKeyHash, None).target(&ev, 8),
            expected("42", 8)
        );
        assert_eq!(
            router(PartitionPolicy::ByPrimaryKeyHash, Some(vec!["code", "v"])).target(&ev, 8),
            expected("X-1,v", 8)
        );
        // A named column the table lacks: back to the primary key.
        assert_eq!(
            router(PartitionPolicy::ByPrimaryKeyHash, Some(vec!["nope"])).target(&ev, 8),
            expected("42", 8)
        );
        // No primary key: the first unique key; neither: the table hash.
        let uk_only = schema(&[], &["code"]);
        assert_eq!(
            router(PartitionPolicy::ByPrimaryKeyHash, None).target(&row_event(&uk_only, &row), 8),
            expected("X-1", 8)
        );
        let keyless = schema(&[], &[]);
        assert_eq!(
            router(PartitionPolicy::ByPrimaryKeyHash, None).target(&row_event(&keyless, &row), 8),
            expected("shop.orders", 8)
        );
    }

    #[test]
    fn ddl_partitions_and_topics() {
        let with_table = Ddl {
            database: Some("shop".into()),
            statement: "ALTER TABLE orders ADD c INT".into(),
            kind: DdlKind::AlterTable,
            tables: vec![TableId::new("shop", "orders")],
            sql_mode: None,
        };
        let no_table = Ddl {
            database: Some("shop".into()),
            statement: "CREATE DATABASE x".into(),
            kind: DdlKind::CreateDatabase,
            tables: vec![],
            sql_mode: None,
        };
        let ev = |d| Event {
            origin: origin(),
            body: Body::Ddl(d),
        };
        let t = router(PartitionPolicy::ByTableHash, None);
        assert_eq!(t.target(&ev(&with_table), 5), expected("shop.orders", 5));
        assert_eq!(t.target(&ev(&no_table), 5), Target::Partition(0));
        let k = router(PartitionPolicy::ByPrimaryKeyHash, None);
        assert_eq!(k.target(&ev(&with_table), 5), Target::Partition(0));
        assert_eq!(k.topic(&ev(&with_table)), "data");

        let mut o = KafkaSinkOptions::new(vec!["k:1".into()], "data", "task");
        o.ddl_topic = Some("ddl".into());
        o.topic_mapping = TopicMapping::template("{database}-{table}");
        let r = Router::new(&o);
        assert_eq!(r.topic(&ev(&with_table)), "ddl");
        o.ddl_topic = None;
        let r = Router::new(&o);
        assert_eq!(r.topic(&ev(&with_table)), "shop-orders");
        assert_eq!(r.topic(&ev(&no_table)), "data");
    }

    #[test]
    fn key_changes_split_only_under_the_key_policy() {
        let s = schema(&["id"], &[]);
        let before = [Value::Text("1".into()), Value::Null, Value::Null];
        let moved = [Value::Text("2".into()), Value::Null, Value::Null];
        let same = [
            Value::Text("1".into()),
            Value::Null,
            Value::Text("x".into()),
        ];
        let k = router(PartitionPolicy::ByPrimaryKeyHash, None);
        assert!(k.splits_update(&s, &before, &moved));
        assert!(!k.splits_update(&s, &before, &same));
        assert!(!router(PartitionPolicy::ByTableHash, None).splits_update(&s, &before, &moved));
        let reset = Event {
            origin: origin(),
            body: Body::Reset(&s),
        };
        assert_eq!(k.target(&reset, 4), Target::Every);
        let keyless = schema(&[], &[]);
        let reset = Event {
            origin: origin(),
            body: Body::Reset(&keyless),
        };
        assert_eq!(k.target(&reset, 4), expected("shop.orders", 4));
    }
}
