//! Conflict detection and resolution for two-way synchronization (the guide's "Global Conflict
//! Resolution Policy").
//!
//! Only a sink given a [`ConflictPolicy`] ([`super::SinkOptions::conflict_policy`], set for both
//! tasks of a two-way pair) takes this path; one-way apply never reads destination rows.
//!
//! # Detection, inside the destination transaction
//!
//! Consecutive row changes of one keyed table that a worker applies in one destination
//! transaction form a *run*. For a run, every identity key it touches (the before image's key
//! of updates and deletes, the after image's key of inserts and updates) is read in **one**
//! `SELECT … FOR UPDATE` — so the rows cannot change under the decision before the transaction
//! commits — and the run is then played against those rows in memory, in source order:
//!
//! | incoming | destination | conflict ([`ConflictKind`]) |
//! | --- | --- | --- |
//! | INSERT | a row with the key exists | `DuplicateKeyOnInsert` |
//! | UPDATE | no row with the before key | `UpdateMissingRow` |
//! | UPDATE | the row differs from the before image (both sides changed it) | `UpdateRowChanged` |
//! | UPDATE changing the key | a row with the new key exists | `UpdateKeyCollision` |
//! | DELETE | no row with the key | `DeleteMissingRow`: always ignored, the policy is not asked |
//!
//! A DELETE of a row that differs from its before image deletes it all the same.
//!
//! Tables without a key (two-way needs exactly-once write for them) are written with exact
//! statements; an exact UPDATE that matches no row is an `UpdateMissingRow` conflict
//! (`Overwrite` inserts the after image), an exact DELETE that matches none is ignored. A change whose
//! result the destination already holds (its after image is the row at its key, and for a
//! key-changing update the old key is gone) is not a conflict: it was applied before, and a
//! restart (which resumes from the slowest worker) or a re-run of a step replays it.
//!
//! The policy decides each conflict: [`Resolution::Overwrite`] applies the incoming change as
//! the one-way rules would (an update of a missing row inserts it), [`Resolution::Ignore`]
//! keeps the destination's row, and [`Resolution::Fail`] stops the apply with
//! [`Error::Conflict`] naming the table, the key and both row images (the task then stops with
//! status Failed: the error is not retryable). The net effect of the run is finally written
//! with multi-row statements: one `DELETE … WHERE key IN (…)` and one upsert per run, so a run
//! costs one read and about two writes however many rows it holds.
//!
//! Row images are compared column by column as decoded values, with the differences between a
//! binlog image and a read-back row normalized: trailing spaces of text (PAD SPACE), JSON
//! compared as parsed documents, decimals by value. Generated columns are not compared.
//!
//! Keys are matched as the destination matches them for byte-comparable key types; text keys
//! under a case-insensitive collation are matched case-insensitively (trailing spaces ignored).
//! Conflicts are detected on the identity key (primary key, else the first NOT NULL unique
//! key) as above, and, for tables with other unique keys, on each of them: before a row is
//! written, a row of another identity holding the same unique values (and not deleted or moved
//! away by the run) is a `DuplicateKeyOnInsert` / `UpdateKeyCollision` conflict; `Overwrite`
//! lets the one-way statement (`REPLACE`) remove it.
//!
//! # Delay period
//!
//! The guide: "If the task pauses or restarts with delay, these strategies do not apply. DTS
//! overwrites destination data by default during the delay period." A batch holding a
//! transaction that committed at the source more than
//! [`super::SinkOptions::overwrite_delayed_after`] ([`DEFAULT_DELAY_PERIOD`] for two-way tasks) ago (the backlog a pause or a restart left)
//! is applied with the one-way rules — no detection, the destination is overwritten — and
//! detection resumes once the task is applying fresh transactions again.

use super::ops::Session;
use super::sql::{self, InsertKind};
use super::statements::exec_insert;
use super::MysqlSink;
use crate::wire::encode::to_param;
use crate::wire::rows::decode_row;
use dts_core::{
    ColumnType, Conflict, ConflictKind, ConflictPolicy, Error, Resolution, Result, Row, RowChange,
    RowOp, TableSchema, Transaction, Value,
};
use mysql_async::Value as Raw;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// The delay threshold two-way tasks use unless configured otherwise: a transaction applied
/// more than this long after it committed is in the delay period.
pub const DEFAULT_DELAY_PERIOD: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether conflicts are detected for `batch`: the sink has a policy and no transaction of the
/// batch is older than the delay threshold (see *Delay period*).
pub(super) fn detect_in(sink: &MysqlSink, batch: &[Transaction]) -> bool {
    if sink.options.conflict_policy.is_none() {
        return false;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let Some(limit) = sink.options.overwrite_delayed_after else {
        return true;
    };
    let limit = limit.as_millis() as u64;
    let delayed = batch
        .iter()
        .any(|t| t.commit_time_ms > 0 && now.saturating_sub(t.commit_time_ms) > limit);
    if delayed {
        tracing::debug!(
            target: "dts_mysql::sink",
            transactions = batch.len(),
            "two-way apply in the delay period: overwriting without conflict detection"
        );
    }
    !delayed
}

/// The pool's session statements: with conflict detection, READ COMMITTED is added. The
/// detection reads (`SELECT … FOR UPDATE`) then lock only the rows that exist; under REPEATABLE
/// READ they would also take gap locks on absent keys, and parallel workers inserting new keys
/// into the same gaps would deadlock each other.
pub(super) fn session_statements(mut base: Vec<String>, detect: bool) -> Vec<String> {
    if detect {
        base.push("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED".into());
    }
    base
}

/// A key as matched in memory (see *Keys* in the module documentation).
type Key = Vec<KeyPart>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum KeyPart {
    Null,
    Text(String),
    Other(String),
}

fn key_of(schema: &TableSchema, keys: &[usize], row: &Row) -> Key {
    keys.iter()
        .map(|&i| {
            let col = &schema.columns[i];
            match &row[i] {
                Value::Null => KeyPart::Null,
                Value::Text(s) => {
                    let s = s.trim_end_matches(' ');
                    let binary = col.charset.as_deref() == Some("binary")
                        || col
                            .collation
                            .as_deref()
                            .is_some_and(|c| c.ends_with("_bin"));
                    KeyPart::Text(if binary {
                        s.to_string()
                    } else {
                        s.to_lowercase()
                    })
                }
                v => KeyPart::Other(format!("{:?}", normalized(v))),
            }
        })
        .collect()
}

/// A value in a form where a binlog image and a read-back row compare equal.
fn normalized(v: &Value) -> Value {
    match v {
        Value::Text(s) => Value::Text(s.trim_end_matches(' ').to_string()),
        Value::Decimal(d) => Value::Decimal(decimal_norm(d)),
        Value::Json(j) => Value::Json(
            serde_json::from_str::<serde_json::Value>(j)
                .map(|p| p.to_string())
                .unwrap_or_else(|_| j.clone()),
        ),
        other => other.clone(),
    }
}

fn decimal_norm(d: &str) -> String {
    let d = d.trim();
    let (neg, d) = match d.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, d.strip_prefix('+').unwrap_or(d)),
    };
    let (int, frac) = d.split_once('.').unwrap_or((d, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let body = match (int.is_empty(), frac.is_empty()) {
        (true, true) => return "0".into(),
        (_, true) => int.to_string(),
        _ => format!("{}.{frac}", if int.is_empty() { "0" } else { int }),
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

/// Whether the destination's row equals an incoming image (generated columns aside).
pub fn same_row(schema: &TableSchema, a: &Row, b: &Row) -> bool {
    schema.columns.iter().enumerate().all(|(i, c)| {
        if c.generated.is_some() {
            return true;
        }
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => {
                x == y
                    || normalized(x) == normalized(y)
                    || matches!(c.column_type, ColumnType::Float)
                        && float32(x).is_some()
                        && float32(x) == float32(y)
            }
            (x, y) => x == y,
        }
    })
}

fn float32(v: &Value) -> Option<f32> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Double(d) => Some(*d as f32),
        _ => None,
    }
}

/// What the run did to one key, in memory.
struct Slot {
    /// The destination's row when the run started.
    initial: Option<Row>,
    /// The row after the changes played so far.
    current: Option<Row>,
    /// Order of the last write, so upserts are issued in source order.
    touched: usize,
    /// The change of the run that wrote `current` last.
    by: usize,
}

/// Reads every row of `keys` (each a full identity) with one `SELECT … FOR UPDATE`.
async fn read_rows<Q: Session>(
    sink: &MysqlSink,
    q: &mut Q,
    schema: &TableSchema,
    key_cols: &[usize],
    images: &[&Row],
) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    let runs = sql::split_runs(
        images,
        key_cols.len(),
        sink.options.batch_rows,
        sink.batch_bytes,
        |r| sql::row_bytes(r, key_cols),
    );
    let cols = schema
        .columns
        .iter()
        .map(|c| crate::wire::ident::quote_ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    for run in runs {
        let n = run.len();
        let delete = sql::delete_keys_sql(schema, key_cols, n);
        let cond = delete
            .split_once(" WHERE ")
            .map(|(_, c)| c.to_string())
            .unwrap_or_default();
        let text = format!(
            "SELECT {cols} FROM {} WHERE {cond} FOR UPDATE",
            crate::wire::ident::quote_table(&schema.id)
        );
        let params: Vec<Raw> = images[run]
            .iter()
            .flat_map(|r| key_cols.iter().map(|&c| to_param(&r[c])))
            .collect();
        let rows: Vec<mysql_async::Row> = q.exec(text, params).await.map_err(|e| {
            sink.err(
                &format!("read rows of {} for conflict checks", schema.id),
                e,
            )
        })?;
        for r in rows {
            out.push(decode_row(schema, r)?);
        }
    }
    Ok(out)
}

fn image(change: &RowChange, after: bool) -> Result<&Row> {
    let img = if after {
        change.after.as_ref()
    } else {
        change.before.as_ref()
    };
    img.filter(|r| r.len() == change.schema.columns.len())
        .ok_or_else(|| Error::Schema {
            table: change.schema.id.clone(),
            message: format!(
                "{:?} change without a full {} image",
                change.op,
                if after { "after" } else { "before" }
            ),
        })
}

/// Asks the policy; `Fail` becomes [`Error::Conflict`] naming table, key and both images.
fn resolve(
    policy: &dyn ConflictPolicy,
    kind: ConflictKind,
    change: &RowChange,
    key_cols: &[usize],
    existing: Option<&Row>,
) -> Result<Resolution> {
    let schema = &change.schema;
    let conflict = Conflict {
        table: &schema.id,
        kind,
        incoming: change,
        existing,
    };
    match policy.resolve(&conflict) {
        Resolution::Fail => Err(conflict_error(kind, change, key_cols, existing)),
        r => Ok(r),
    }
}

/// The [`Error::Conflict`] of a conflict the policy fails on.
pub fn conflict_error(
    kind: ConflictKind,
    change: &RowChange,
    key_cols: &[usize],
    existing: Option<&Row>,
) -> Error {
    let schema = &change.schema;
    let key_image = change.key_image().cloned().unwrap_or_default();
    let key = key_cols
        .iter()
        .map(|&i| format!("{}={:?}", schema.columns[i].name, key_image.get(i)))
        .collect::<Vec<_>>()
        .join(", ");
    Error::Conflict {
        table: schema.id.clone(),
        message: format!(
            "{kind:?} at key ({key}): incoming {:?} before {:?} after {:?}; destination row {:?}",
            change.op, change.before, change.after, existing
        ),
    }
}

/// Applies a run of row changes of one keyed table with conflict detection (see the module
/// documentation). `changes` are in source order and all of `changes[0].schema`'s table.
pub(super) async fn apply_checked<Q: Session>(
    sink: &MysqlSink,
    q: &mut Q,
    changes: &[&RowChange],
) -> Result<()> {
    let Some(first) = changes.first() else {
        return Ok(());
    };
    let policy = sink
        .options
        .conflict_policy
        .as_deref()
        .expect("the checked path runs with a policy");
    let schema = &first.schema;
    let key_cols = schema.identity_indexes().unwrap_or_default();
    if key_cols.is_empty() {
        return Err(Error::Schema {
            table: schema.id.clone(),
            message: "conflict detection needs a primary or unique key".into(),
        });
    }
    // Every key the run touches, read once and locked.
    let mut wanted: Vec<&Row> = Vec::with_capacity(changes.len() * 2);
    for c in changes {
        match c.op {
            RowOp::Insert => wanted.push(image(c, true)?),
            RowOp::Delete => wanted.push(image(c, false)?),
            RowOp::Update => {
                wanted.push(image(c, false)?);
                wanted.push(image(c, true)?);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    wanted.retain(|r| seen.insert(key_of(schema, &key_cols, r)));
    let mut slots: HashMap<Key, Slot> = HashMap::with_capacity(wanted.len());
    for row in read_rows(sink, q, schema, &key_cols, &wanted).await? {
        slots.insert(
            key_of(schema, &key_cols, &row),
            Slot {
                initial: Some(row.clone()),
                current: Some(row),
                touched: 0,
                by: 0,
            },
        );
    }
    let mut order = 0usize;
    let mut set = |slots: &mut HashMap<Key, Slot>, key: Key, row: Option<Row>, by: usize| {
        order += 1;
        let slot = slots.entry(key).or_insert(Slot {
            initial: None,
            current: None,
            touched: 0,
            by,
        });
        slot.current = row;
        slot.touched = order;
        slot.by = by;
    };
    let current =
        |slots: &HashMap<Key, Slot>, key: &Key| slots.get(key).and_then(|s| s.current.clone());
    for (ci, c) in changes.iter().enumerate() {
        match c.op {
            RowOp::Insert => {
                let after = image(c, true)?;
                let k = key_of(schema, &key_cols, after);
                if let Some(existing) = current(&slots, &k) {
                    if same_row(schema, &existing, after) {
                        continue; // applied before (a replay after a restart): nothing to do
                    }
                    let kind = ConflictKind::DuplicateKeyOnInsert;
                    if resolve(policy, kind, c, &key_cols, Some(&existing))? == Resolution::Ignore {
                        continue;
                    }
                }
                set(&mut slots, k, Some(after.clone()), ci);
            }
            RowOp::Delete => {
                let k = key_of(schema, &key_cols, image(c, false)?);
                // A delete of a missing row is ignored whatever the policy.
                if current(&slots, &k).is_some() {
                    set(&mut slots, k, None, ci);
                }
            }
            RowOp::Update => {
                let (before, after) = (image(c, false)?, image(c, true)?);
                let kb = key_of(schema, &key_cols, before);
                let ka = key_of(schema, &key_cols, after);
                let applied = current(&slots, &ka).is_some_and(|r| same_row(schema, &r, after));
                if applied && (ka == kb || current(&slots, &kb).is_none()) {
                    continue; // applied before (a replay after a restart): nothing to do
                }
                let existing = current(&slots, &kb);
                let conflict = match &existing {
                    None => Some(ConflictKind::UpdateMissingRow),
                    Some(row) if !same_row(schema, row, before) => {
                        Some(ConflictKind::UpdateRowChanged)
                    }
                    Some(_) => None,
                };
                if let Some(kind) = conflict {
                    if resolve(policy, kind, c, &key_cols, existing.as_ref())? == Resolution::Ignore
                    {
                        continue;
                    }
                }
                if ka != kb {
                    if let Some(colliding) = current(&slots, &ka) {
                        let kind = ConflictKind::UpdateKeyCollision;
                        if resolve(policy, kind, c, &key_cols, Some(&colliding))?
                            == Resolution::Ignore
                        {
                            continue;
                        }
                    }
                    set(&mut slots, kb, None, ci);
                }
                set(&mut slots, ka, Some(after.clone()), ci);
            }
        }
    }
    // The net effect: deletes of rows that are gone, then upserts of rows that changed.
    let mut deletes: Vec<&Row> = Vec::new();
    let mut upserts: Vec<(usize, &Row, usize)> = Vec::new();
    for slot in slots.values() {
        match (&slot.initial, &slot.current) {
            (Some(old), None) => deletes.push(old),
            (initial, Some(new))
                if slot.touched > 0
                    && initial
                        .as_ref()
                        .is_none_or(|old| !same_row(schema, old, new)) =>
            {
                upserts.push((slot.touched, new, slot.by));
            }
            _ => {}
        }
    }
    if !deletes.is_empty() {
        super::statements::exec_delete_keys(sink, q, schema, &deletes).await?;
    }
    if !upserts.is_empty() {
        upserts.sort_by_key(|(o, _, _)| *o);
        let mut rows: Vec<&Row> = Vec::with_capacity(upserts.len());
        for (_, row, by) in upserts {
            let ok =
                unique_collision_ok(sink, q, policy, &slots, &key_cols, changes[by], row).await?;
            if ok {
                rows.push(row);
            }
        }
        let cols = sql::writable_columns(schema);
        let kind = match sql::replace_kind(schema) {
            InsertKind::Plain => InsertKind::Upsert,
            k => k,
        };
        exec_insert(sink, q, schema, &cols, &rows, kind).await?;
    }
    Ok(())
}

/// For tables with unique keys besides the identity: whether `row` may be written, after
/// checking each other unique key for a row of another identity holding the same values (one
/// `SELECT … FOR UPDATE` per key). Such a row is a conflict (`DuplicateKeyOnInsert` for an
/// insert, `UpdateKeyCollision` for an update) unless the run itself deletes it or moves it
/// away; `Ignore` skips the write, `Overwrite` lets `REPLACE` remove the colliding row.
async fn unique_collision_ok<Q: Session>(
    sink: &MysqlSink,
    q: &mut Q,
    policy: &dyn ConflictPolicy,
    slots: &HashMap<Key, Slot>,
    key_cols: &[usize],
    change: &RowChange,
    row: &Row,
) -> Result<bool> {
    let schema = &change.schema;
    if !sql::has_other_unique_keys(schema) {
        return Ok(true);
    }
    let identity = schema.identity_columns().unwrap_or(&[]).to_vec();
    let own = key_of(schema, key_cols, row);
    for uk in schema.unique_keys.iter().filter(|k| k.columns != identity) {
        let Some(cols) = uk
            .columns
            .iter()
            .map(|c| schema.column_index(c))
            .collect::<Option<Vec<usize>>>()
        else {
            continue;
        };
        if cols.iter().any(|&i| row[i].is_null()) {
            continue; // NULLs never collide
        }
        let text = sql::select_by_key_sql(schema, &cols, true);
        let params: Vec<Raw> = cols.iter().map(|&i| to_param(&row[i])).collect();
        let found: Option<mysql_async::Row> = q.exec_first(text, params).await.map_err(|e| {
            sink.err(
                &format!("read rows of {} for conflict checks", schema.id),
                e,
            )
        })?;
        let Some(found) = found.map(|r| decode_row(schema, r)).transpose()? else {
            continue;
        };
        let theirs = key_of(schema, key_cols, &found);
        if theirs == own {
            continue;
        }
        let freed = slots.get(&theirs).is_some_and(|s| {
            s.touched > 0
                && s.current.as_ref().is_none_or(|r| {
                    cols.iter()
                        .any(|&i| normalized(&r[i]) != normalized(&row[i]))
                })
        });
        if freed {
            continue;
        }
        let kind = if change.op == RowOp::Insert {
            ConflictKind::DuplicateKeyOnInsert
        } else {
            ConflictKind::UpdateKeyCollision
        };
        if resolve(policy, kind, change, key_cols, Some(&found))? == Resolution::Ignore {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Two-way, a table without a key: an exact UPDATE matched no row (the destination changed or
/// deleted it). An `UpdateMissingRow` conflict for the policy: `Overwrite` inserts the after
/// image, `Ignore` keeps the destination as it is, `Fail` stops the task. (DELETEs that match
/// no row are ignored like any missing-row delete.) Without a key the conflict names the whole
/// before image.
pub(super) async fn keyless_update_missed<Q: Session>(
    sink: &MysqlSink,
    q: &mut Q,
    schema: &dts_core::SchemaRef,
    before: &Row,
    after: &Row,
) -> Result<()> {
    let cols = sql::writable_columns(schema);
    if cols
        .iter()
        .all(|&i| normalized(&before[i]) == normalized(&after[i]))
    {
        return Ok(()); // nothing to change: the server reports no affected row
    }
    let policy = sink
        .options
        .conflict_policy
        .as_deref()
        .expect("called with a policy");
    let change = RowChange {
        schema: schema.clone(),
        op: RowOp::Update,
        before: Some(before.clone()),
        after: Some(after.clone()),
    };
    let all: Vec<usize> = (0..schema.columns.len()).collect();
    let kind = ConflictKind::UpdateMissingRow;
    if resolve(policy, kind, &change, &all, None)? == Resolution::Overwrite {
        exec_insert(sink, q, schema, &cols, &[after], InsertKind::Plain).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::{Column, TableId};

    fn schema() -> TableSchema {
        let mut k = Column::new("k", ColumnType::VarChar { length: 10 }, "varchar(10)");
        k.collation = Some("utf8mb4_general_ci".into());
        k.nullable = false;
        TableSchema {
            id: TableId::new("d", "t"),
            columns: vec![
                k,
                Column::new("j", ColumnType::Json, "json"),
                Column::new(
                    "d",
                    ColumnType::Decimal {
                        precision: 10,
                        scale: 2,
                    },
                    "decimal(10,2)",
                ),
            ],
            primary_key: vec!["k".into()],
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        }
    }

    #[test]
    fn rows_compare_after_normalization() {
        let s = schema();
        let a = vec![
            Value::Text("Ab ".into()),
            Value::Json("{\"a\": 1}".into()),
            Value::Decimal("1.50".into()),
        ];
        let b = vec![
            Value::Text("Ab".into()),
            Value::Json("{\"a\":1}".into()),
            Value::Decimal("1.5".into()),
        ];
        assert!(same_row(&s, &a, &b));
        let c = vec![b[0].clone(), b[1].clone(), Value::Decimal("1.51".into())];
        assert!(!same_row(&s, &a, &c));
        // Case-insensitive key: one key at the destination.
        assert_eq!(
            key_of(&s, &[0], &a),
            key_of(&s, &[0], &[Value::Text("aB".into())].to_vec())
        );
    }

    #[test]
    fn decimals_by_value() {
        assert_eq!(decimal_norm("001.500"), "1.5");
        assert_eq!(decimal_norm("-0.10"), "-0.1");
        assert_eq!(decimal_norm("0.000"), "0");
        assert_eq!(decimal_norm("12"), "12");
    }
}
