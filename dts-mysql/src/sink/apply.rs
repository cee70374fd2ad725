//! Incremental apply: transactions written by parallel workers, exactly once.
//!
//! # Steps
//!
//! A batch is cut into *units* — one source transaction each, with consecutive fragments of
//! one large transaction merged into a single unit — and each unit is either
//!
//! - **keyed**: only row changes of tables with an identity (primary key or NOT NULL unique
//!   key). Consecutive keyed units form one step, applied by [`SinkOptions::workers`]
//!   connections in parallel. A change goes to worker
//!   `hash(destination table, identity values) % workers` (the before image's key for updates
//!   and deletes, the after image's for inserts). Each worker applies its share in order in
//!   **one destination transaction** that also upserts its own checkpoint row (`worker = i`)
//!   to the position after the step — also when it has no rows. Inserts and updates become
//!   upserts of the after image (`INSERT … ON DUPLICATE KEY UPDATE`, or `REPLACE` when the
//!   table has unique keys besides its identity so that unique-value swaps converge), deletes
//!   become `DELETE … WHERE key IN (…)`; consecutive operations of the same table and kind are
//!   merged into multi-row statements. Changes of a table are spread over workers by key only
//!   when rows of different keys cannot interact (see *Routing* below); otherwise all of that
//!   table's changes in the step go to one worker, in source order.
//! - a **barrier**: the unit holds DDL, a row change of a table without identity, or (with a
//!   conflict policy) an update that changes a key. It runs after every worker has committed
//!   everything before it, serially on one connection, and the transaction that applies it
//!   sets **all** worker rows to the position after it. Key-less rows are written with exact
//!   statements (`INSERT`; `DELETE … WHERE every column <=> ? LIMIT 1`;
//!   `UPDATE … SET … WHERE every column <=> ? LIMIT 1`), so no key-less change is ever applied
//!   twice: its effect and the checkpoint that skips it commit together.
//!
//! # Guarantees
//!
//! [`dts_core::Sink::read_checkpoint`] returns the slowest worker's row, and a restart resumes
//! there. Workers ahead of it re-apply keyed changes they already committed, which is
//! idempotent (upserts of full after images and deletes by key converge to the source's state).
//! Barriers are exactly-once. Every apply transaction first locks the checkpoint rows it will
//! write (`SELECT … FOR UPDATE`) and skips its work when they already record its end or a
//! later point: a batch delivered twice is a no-op, checkpoints never move back, and two sinks
//! given the same task id serialize on the rows. Deadlocks and lock-wait timeouts between workers (possible when
//! their rows share a secondary unique key) make the step re-run once serially on one
//! connection in one transaction; if that fails too, the error is returned as `Transient` and
//! the whole batch is safe to apply again.
//!
//! # Routing and key-changing updates
//!
//! Each row change becomes the writes [`dts_core::row_plan::RowPlan`] gives (the rule every
//! keyed sink shares: an insert or update is an upsert of the after image, a delete a delete by
//! key, and an update whose key changes is a delete of the old key, then the upsert).
//! Routed, the delete of a moved row goes to the old key's worker
//! and the upsert of the new image to the new key's worker, each at the update's place in that
//! worker's sequence. Every change of one key therefore lands on one worker in source order,
//! which is all per-key order needs when rows of different keys cannot interact.
//!
//! Two kinds of tables are routed by table alone instead (all their changes of a step on one
//! worker, in source order):
//! - tables with unique keys besides the identity: rows of different keys interact through
//!   them (a unique value moving from one row to another), and applying an older image of one
//!   row after a newer image of another could make `REPLACE` delete the newer row;
//! - tables whose key equality at the destination is not byte equality (text under a
//!   non-binary collation, where `'a'` and `'A'` are one key; FLOAT/DOUBLE), which cannot be
//!   hashed safely.
//!
//! Parallelism then comes from different tables.
//!
//! # Fragments of large transactions
//!
//! Fragments are applied as ordinary batches: a batch ending inside a transaction stores
//! `offset` = the transaction's begin position and `applied_in_transaction` = the number of its
//! source changes already applied, exactly as the runner's checkpoint says; the runner resumes
//! at the begin position and drops that many changes. Consecutive fragments inside one batch
//! are one unit. A large transaction is therefore not atomic at the destination (readers may
//! see part of it), but each of its changes is applied exactly once (key-less rows) or
//! idempotently (keyed rows). A batch must not hold an unfinished fragment followed by another
//! transaction (the reader never produces that).
//!
//! # DDL
//!
//! DDL is not transactional. Before a DDL runs, `pending_ddl = '<file>:<offset>'` (the begin
//! position of its transaction, with `#<n>` appended when it is the n-th change, n > 0) is
//! written to every worker row, in the same transaction as the rows of its transaction that
//! precede it; the DDL then runs on a dedicated connection with the transaction's default
//! database; the rest of the transaction and the checkpoint after it (clearing `pending_ddl`)
//! commit together. On replay, a DDL whose marker is pending and which fails with an
//! "already applied" error ([`ALREADY_APPLIED_CODES`]; 1146 only for RENAME and DROP) is taken as
//! applied. When the destination refuses a DDL, ` failed` is appended to the marker, so a retry
//! after the cause is fixed neither re-applies the rows before it nor tolerates its errors.
//!
//! # Conflicts
//!
//! Without a conflict policy the one-way rules hold by construction of the statements: an
//! update of a missing row inserts it, a delete of a missing row does nothing, a duplicate
//! insert overwrites. With a policy (two-way synchronization) keyed rows take the checked path
//! of [`super::conflict`]: each run of one table's changes reads its rows once with
//! `SELECT … FOR UPDATE`, detects each conflict, asks the policy, and overwrites, skips, or
//! fails with [`Error::Conflict`] naming the table, the key and both row images; a delete of a
//! missing row is always ignored. Batches in the delay period after a pause or restart take
//! the one-way rules. Rows of key-less tables are written with the exact statements either way.
//!
//! [`SinkOptions::workers`]: super::SinkOptions::workers

use super::ops::{key_indexes, KeyHasher, Op, Session};
use super::sql::{self, InsertKind};
use super::statements::{exec, exec_delete_keys, exec_insert};
use super::{checkpoint, MysqlSink};
use crate::wire::encode::to_param;
use crate::wire::ident::quote_ident;
use dts_core::row_plan::RowPlan;
use dts_core::{
    Change, Checkpoint, Ddl, DdlKind, DerivedChange, Error, ErrorClass, Position, Result, Row,
    RowChange, RowOp, SchemaRef, TableId, TableSchema, Transaction,
};
use mysql_async::prelude::Queryable;
use mysql_async::{TxOpts, Value as Raw};
use std::collections::HashMap;
use std::sync::Arc;

/// Server errors that mean a replayed DDL had already been applied: 1050 table exists, 1051
/// unknown table, 1060 duplicate column, 1061 duplicate key name, 1091 can't drop, 1007
/// database exists, 1008 database doesn't exist (and 1146 no such table, for RENAME and DROP).
pub const ALREADY_APPLIED_CODES: [u16; 7] = [1050, 1051, 1060, 1061, 1091, 1007, 1008];

/// "Already applied" errors of view, routine, trigger and event statements: the object exists
/// (1304 routine, 1359 trigger, 1537 event) or does not (1305 routine, 1360 trigger, 1539
/// event, 4092 view).
pub const OBJECT_ALREADY_APPLIED_CODES: [u16; 7] = [1304, 1359, 1537, 1305, 1360, 1539, 4092];

/// Appended to a `pending_ddl` marker when the destination refused the DDL.
pub const FAILED_SUFFIX: &str = " failed";

/// What routing needs to know about a keyed table.
struct KeyInfo {
    keys: Vec<usize>,
    /// Destination key equality is byte equality, so key values can be hashed.
    exact: bool,
}

/// Whether changes of a table may be spread over workers by key: the key's destination
/// equality must be byte equality, and the table must have no unique key besides its identity
/// (rows of different keys interact through such keys, so their changes must stay in source
/// order: a stale image written after a newer one of another row could delete it).
fn exact_key(schema: &TableSchema, keys: &[usize]) -> bool {
    use dts_core::ColumnType as T;
    if sql::has_other_unique_keys(schema) {
        return false;
    }
    keys.iter().all(|&i| {
        let c = &schema.columns[i];
        match &c.column_type {
            T::Integer { .. }
            | T::Decimal { .. }
            | T::Bit { .. }
            | T::Binary { .. }
            | T::VarBinary { .. }
            | T::Blob { .. }
            | T::Date
            | T::Time { .. }
            | T::DateTime { .. }
            | T::Timestamp { .. }
            | T::Year
            | T::Enum { .. }
            | T::Set { .. } => true,
            T::Char { .. } | T::VarChar { .. } | T::Text { .. } => {
                c.charset.as_deref() == Some("binary")
                    || c.collation.as_deref().is_some_and(|k| k.ends_with("_bin"))
            }
            T::Float | T::Double | T::Json | T::Geometry { .. } => false,
        }
    })
}

/// The worker of a keyed change.
fn worker_for(table: &TableId, info: &KeyInfo, image: &Row, workers: usize) -> usize {
    if workers <= 1 {
        return 0;
    }
    let mut h = KeyHasher::new();
    h.write(table.database.as_bytes());
    h.write(&[0xff]);
    h.write(table.table.as_bytes());
    h.write(&[0xff]);
    if info.exact {
        for &i in &info.keys {
            h.value(&image[i]);
        }
    }
    (h.finish() % workers as u64) as usize
}

fn image(change: &RowChange, after: bool) -> Result<&Row> {
    let img = if after {
        change.after.as_ref()
    } else {
        change.before.as_ref()
    };
    let img = img.ok_or_else(|| Error::Schema {
        table: change.schema.id.clone(),
        message: format!(
            "{:?} change without its {} image",
            change.op,
            if after { "after" } else { "before" }
        ),
    })?;
    if img.len() != change.schema.columns.len() {
        return Err(Error::Schema {
            table: change.schema.id.clone(),
            message: format!(
                "row image has {} values for {} columns",
                img.len(),
                change.schema.columns.len()
            ),
        });
    }
    Ok(img)
}

/// Checks the images `change` needs: the after image of an insert, the before image of a
/// delete, both of an update.
fn check_images(change: &RowChange) -> Result<()> {
    if change.op != RowOp::Insert {
        image(change, false)?;
    }
    if change.op != RowOp::Delete {
        image(change, true)?;
    }
    Ok(())
}

/// The writes of one change, in order, for serial application.
fn serial_ops<'a>(change: &'a RowChange, policy: bool, out: &mut Vec<Op<'a>>) -> Result<()> {
    let schema = &change.schema;
    match key_indexes(schema)? {
        None => match change.op {
            RowOp::Insert => out.push(Op::Insert(schema, image(change, true)?)),
            RowOp::Delete => out.push(Op::DeleteExact(schema, image(change, false)?)),
            RowOp::Update => out.push(Op::UpdateExact(
                schema,
                image(change, false)?,
                image(change, true)?,
            )),
        },
        Some(_) if policy => {
            image(change, change.op != RowOp::Delete)?;
            if change.op == RowOp::Update {
                image(change, false)?;
            }
            out.push(Op::Checked(change));
        }
        Some(keys) => {
            check_images(change)?;
            let plan = RowPlan::of_change(change, &keys);
            out.extend(plan.delete.map(|b| Op::DeleteKey(schema, b)));
            out.extend(plan.upsert.map(|a| Op::Upsert(schema, a)));
        }
    }
    Ok(())
}

/// A piece of a batch applied as a whole.
enum Step<'a> {
    /// Keyed row changes applied by the workers in parallel, then every worker row set to `end`.
    Keyed {
        changes: Vec<&'a RowChange>,
        end: Checkpoint,
    },
    /// One unit applied serially after everything before it.
    Barrier {
        changes: Vec<&'a Change>,
        begin: &'a Position,
        end: Checkpoint,
    },
}

fn plan<'a>(batch: &'a [Transaction], last: &Checkpoint, policy: bool) -> Result<Vec<Step<'a>>> {
    let mut units: Vec<&'a [Transaction]> = Vec::new();
    let mut start = 0;
    for i in 1..=batch.len() {
        let boundary =
            i == batch.len() || batch[i - 1].fragment.last || batch[i - 1].begin != batch[i].begin;
        if !boundary {
            continue;
        }
        if i < batch.len() && !batch[i - 1].fragment.last {
            return Err(Error::definite(
                "incremental batch",
                format!(
                    "the transaction starting at {} is unfinished (its last fragment is \
                     missing) but the batch continues with the transaction at {}",
                    batch[i - 1].begin,
                    batch[i].begin
                ),
            ));
        }
        units.push(&batch[start..i]);
        start = i;
    }
    let mut steps: Vec<Step<'a>> = Vec::new();
    for (u, unit) in units.iter().enumerate() {
        let tail = &unit[unit.len() - 1];
        let end = if u + 1 == units.len() {
            last.clone()
        } else {
            Checkpoint {
                position: tail.end.clone(),
                last_gtid: tail.gtid.clone(),
                commit_time_ms: tail.commit_time_ms,
                applied_in_transaction: 0,
            }
        };
        let changes: Vec<&'a Change> = unit.iter().flat_map(|t| &t.changes).collect();
        let mut barrier = false;
        for c in &changes {
            match c {
                // Derived changes (foreign-key cascades) touch rows by predicate, whatever
                // their keys: their transaction goes alone, in order, like DDL.
                Change::Ddl(_) | Change::Derived(_) => barrier = true,
                Change::Row(r) => match key_indexes(&r.schema)? {
                    None => barrier = true,
                    Some(keys) => barrier |= policy && RowPlan::of_change(r, &keys).moves_key(),
                },
            }
        }
        if barrier {
            steps.push(Step::Barrier {
                changes,
                begin: &unit[0].begin,
                end,
            });
            continue;
        }
        let rows = changes.into_iter().filter_map(|c| match c {
            Change::Row(r) => Some(r),
            Change::Ddl(_) | Change::Derived(_) => None,
        });
        match steps.last_mut() {
            Some(Step::Keyed { changes, end: e }) => {
                changes.extend(rows);
                *e = end;
            }
            _ => steps.push(Step::Keyed {
                changes: rows.collect(),
                end,
            }),
        }
    }
    if steps.is_empty() {
        steps.push(Step::Keyed {
            changes: vec![],
            end: last.clone(),
        });
    }
    Ok(steps)
}

/// Applies a batch (see the module documentation).
pub(super) async fn apply_batch(
    sink: &MysqlSink,
    batch: &[Transaction],
    checkpoint: &Checkpoint,
) -> Result<()> {
    // Two-way only: detect conflicts unless the batch is in the delay period.
    let policy = super::conflict::detect_in(sink, batch);
    for step in plan(batch, checkpoint, policy)? {
        match step {
            Step::Keyed { changes, end } => run_keyed(sink, &changes, &end, policy).await?,
            Step::Barrier {
                changes,
                begin,
                end,
            } => run_barrier(sink, &changes, begin, &end, policy).await?,
        }
    }
    Ok(())
}

fn all_workers(sink: &MysqlSink) -> Vec<u32> {
    (0..sink.options.workers as u32).collect()
}

async fn run_keyed(
    sink: &MysqlSink,
    changes: &[&RowChange],
    end: &Checkpoint,
    policy: bool,
) -> Result<()> {
    let workers = sink.options.workers;
    if changes.is_empty() {
        // Nothing to write: every worker row moves to `end` in one transaction (never back).
        return run_serial(sink, &[], Some(end), None).await;
    }
    let mut infos: HashMap<usize, KeyInfo> = HashMap::new();
    let mut plans: Vec<Vec<Op<'_>>> = vec![Vec::new(); workers];
    let mut serial: Vec<Op<'_>> = Vec::with_capacity(changes.len());
    for change in changes {
        serial_ops(change, policy, &mut serial)?;
        let schema = &change.schema;
        let info = match infos.entry(Arc::as_ptr(schema) as usize) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let keys = key_indexes(schema)?.expect("keyed step holds keyed tables only");
                let exact = exact_key(schema, &keys);
                v.insert(KeyInfo { keys, exact })
            }
        };
        let route = |row: &Row| worker_for(&schema.id, info, row, workers);
        if policy {
            let key = image(change, change.op == RowOp::Insert)?;
            plans[route(key)].push(Op::Checked(change));
            continue;
        }
        // Each write goes to the worker of its key (a moved row's delete and upsert may go to
        // two workers: their keys differ, so they cannot interact).
        check_images(change)?;
        let plan = RowPlan::of_change(change, &info.keys);
        if let Some(b) = plan.delete {
            plans[route(b)].push(Op::DeleteKey(schema, b));
        }
        if let Some(a) = plan.upsert {
            plans[route(a)].push(Op::Upsert(schema, a));
        }
    }
    if !policy {
        // Each worker's share to the fewest statements (see `compact`).
        let keys_of = |s: &SchemaRef| {
            infos
                .get(&(Arc::as_ptr(s) as usize))
                .filter(|i| i.exact)
                .map(|i| i.keys.as_slice())
        };
        plans = plans
            .into_iter()
            .map(|ops| super::compact::compact(ops, keys_of))
            .collect();
    }
    let results = futures::future::join_all(
        plans
            .iter()
            .enumerate()
            .map(|(i, ops)| run_worker(sink, i as u32, ops, end)),
    )
    .await;
    let mut transient = None;
    let mut definite = None;
    for r in results {
        match r {
            Ok(()) => {}
            Err(e) if e.class() == ErrorClass::Transient => transient = transient.or(Some(e)),
            Err(e) => definite = definite.or(Some(e)),
        }
    }
    if let Some(e) = definite {
        return Err(e);
    }
    if let Some(e) = transient {
        tracing::warn!(
            target: "dts_mysql::sink",
            error = %e,
            "parallel apply hit a lock conflict between workers; re-applying the step serially"
        );
        return run_serial(sink, &serial, Some(end), None).await;
    }
    Ok(())
}

async fn run_worker(sink: &MysqlSink, worker: u32, ops: &[Op<'_>], end: &Checkpoint) -> Result<()> {
    let mut conn = sink.conn("apply worker").await?;
    let mut tx = conn
        .start_transaction(TxOpts::default())
        .await
        .map_err(|e| sink.err("begin apply transaction", e))?;
    let table = &sink.checkpoint_table;
    let mine = checkpoint::lock_rows(&mut tx, table, &sink.options.task_id, Some(worker))
        .await
        .map_err(|e| sink.err(&format!("lock checkpoint of worker {worker}"), e))?;
    if checkpoint::covers(&mine, 1, end) {
        // This worker committed the step before (a replayed batch): nothing to do.
        return tx
            .commit()
            .await
            .map_err(|e| sink.err("commit apply transaction", e));
    }
    // The checkpoint row goes first: in two-way synchronization it is the marker by which the
    // partner's reader drops this whole transaction (see `binlog::loop_guard`).
    checkpoint::write(
        &mut tx,
        table,
        sink.style,
        &sink.options.task_id,
        &[worker],
        Some(end),
        false,
    )
    .await
    .map_err(|e| sink.err(&format!("write checkpoint of worker {worker}"), e))?;
    exec_ops(sink, &mut tx, ops).await?;
    tx.commit()
        .await
        .map_err(|e| sink.err(&format!("commit apply transaction of worker {worker}"), e))
}

/// Applies `ops` in one transaction on one connection; sets every worker row to `end`
/// (clearing `pending_ddl`) and/or `pending_ddl` to `marker` in the same transaction.
async fn run_serial(
    sink: &MysqlSink,
    ops: &[Op<'_>],
    end: Option<&Checkpoint>,
    marker: Option<&str>,
) -> Result<()> {
    let table = &sink.checkpoint_table;
    let task = &sink.options.task_id;
    let mut conn = sink.conn("serial apply").await?;
    let mut tx = conn
        .start_transaction(TxOpts::default())
        .await
        .map_err(|e| sink.err("begin apply transaction", e))?;
    if let Some(end) = end {
        let rows = checkpoint::lock_rows(&mut tx, table, task, None)
            .await
            .map_err(|e| sink.err(&format!("lock checkpoint rows in {table}"), e))?;
        if checkpoint::covers(&rows, sink.options.workers, end) {
            // Committed before, checkpoint included (a replayed batch): applying it again
            // would duplicate rows of key-less tables.
            return tx
                .commit()
                .await
                .map_err(|e| sink.err("commit serial apply transaction", e));
        }
    }
    // Checkpoint rows first (the two-way loop marker, see `binlog::loop_guard`).
    if let Some(end) = end {
        checkpoint::write(
            &mut tx,
            table,
            sink.style,
            task,
            &all_workers(sink),
            Some(end),
            true,
        )
        .await
        .map_err(|e| sink.err(&format!("write checkpoint to {table}"), e))?;
    }
    if let Some(marker) = marker {
        checkpoint::set_pending(&mut tx, table, task, marker)
            .await
            .map_err(|e| sink.err(&format!("write pending DDL to {table}"), e))?;
    }
    exec_ops(sink, &mut tx, ops).await?;
    tx.commit()
        .await
        .map_err(|e| sink.err("commit serial apply transaction", e))
}

fn ops_of<'a>(changes: &[&'a Change], policy: bool) -> Result<Vec<Op<'a>>> {
    let mut ops = Vec::with_capacity(changes.len());
    for c in changes {
        match c {
            Change::Row(r) => serial_ops(r, policy, &mut ops)?,
            Change::Derived(d) => ops.push(Op::Derived(d)),
            Change::Ddl(_) => {}
        }
    }
    Ok(ops)
}

async fn run_barrier(
    sink: &MysqlSink,
    changes: &[&Change],
    begin: &Position,
    end: &Checkpoint,
    policy: bool,
) -> Result<()> {
    let ddl_at: Vec<usize> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, Change::Ddl(_)))
        .map(|(i, _)| i)
        .collect();
    if ddl_at.is_empty() {
        return run_serial(sink, &ops_of(changes, policy)?, Some(end), None).await;
    }
    let base = format!("{}:{}", begin.file, begin.offset);
    let marker = |k: usize| {
        if k == 0 {
            base.clone()
        } else {
            format!("{base}#{k}")
        }
    };
    let rows = sink.worker_checkpoints().await?;
    if checkpoint::covers(&rows, sink.options.workers, end) {
        return Ok(()); // applied and recorded before (a replayed batch)
    }
    let pending: Vec<String> = rows.into_iter().filter_map(|w| w.pending_ddl).collect();
    // Resume inside this unit when a previous attempt got as far as one of its DDLs.
    let resume = ddl_at.iter().find_map(|&k| {
        let m = marker(k);
        if pending.contains(&m) {
            Some((k, true))
        } else if pending.contains(&format!("{m}{FAILED_SUFFIX}")) {
            Some((k, false))
        } else {
            None
        }
    });
    let start = resume.map(|(k, _)| k).unwrap_or(0);
    let mut from = start;
    for &k in ddl_at.iter().filter(|&&k| k >= start) {
        let resuming = resume.map(|(r, _)| r) == Some(k);
        let tolerate = resume == Some((k, true));
        let m = marker(k);
        if resuming {
            if !tolerate {
                set_marker(sink, &m).await?;
            }
        } else {
            run_serial(sink, &ops_of(&changes[from..k], policy)?, None, Some(&m)).await?;
        }
        let Change::Ddl(ddl) = changes[k] else {
            unreachable!("ddl_at holds DDL positions")
        };
        match exec_ddl(sink, ddl, tolerate).await {
            Ok(_) => {}
            Err(DdlFailure {
                error,
                refused: true,
            }) => {
                // The DDL did not run: remember that, so a retry does not tolerate its errors.
                if let Err(e) = set_marker(sink, &format!("{m}{FAILED_SUFFIX}")).await {
                    tracing::warn!(target: "dts_mysql::sink", error = %e, "could not record the failed DDL");
                }
                return Err(error);
            }
            Err(DdlFailure { error, .. }) => return Err(error),
        }
        from = k + 1;
    }
    run_serial(sink, &ops_of(&changes[from..], policy)?, Some(end), None).await
}

async fn set_marker(sink: &MysqlSink, marker: &str) -> Result<()> {
    let mut conn = sink.conn("checkpoint").await?;
    checkpoint::set_pending(
        &mut conn,
        &sink.checkpoint_table,
        &sink.options.task_id,
        marker,
    )
    .await
    .map_err(|e| {
        sink.err(
            &format!("write pending DDL to {}", sink.checkpoint_table),
            e,
        )
    })
}

/// A DDL that did not complete.
pub(super) struct DdlFailure {
    /// What went wrong, naming the statement.
    pub error: Error,
    /// The server answered with an error, so the statement did not run (as opposed to a lost
    /// connection, after which it may have).
    pub refused: bool,
}

fn short(statement: &str) -> String {
    let s: String = statement.chars().take(200).collect();
    if s.len() < statement.len() {
        format!("{s}…")
    } else {
        s
    }
}

fn already_applied(code: u16, kind: DdlKind) -> bool {
    ALREADY_APPLIED_CODES.contains(&code)
        || (matches!(kind, DdlKind::Object(_)) && OBJECT_ALREADY_APPLIED_CODES.contains(&code))
        || (code == 1146 && matches!(kind, DdlKind::RenameTable | DdlKind::DropTable))
}

/// Runs a DDL on a dedicated connection with its default database. With `tolerate`, an
/// "already applied" error counts as success (returns `Ok(false)`); `Ok(true)` when it ran.
pub(super) async fn exec_ddl(
    sink: &MysqlSink,
    ddl: &Ddl,
    tolerate: bool,
) -> Result<bool, DdlFailure> {
    let failure = |error: Error, refused: bool| DdlFailure { error, refused };
    let mut conn = sink.dedicated_conn().await.map_err(|e| failure(e, false))?;
    let what = match &ddl.database {
        Some(db) => format!("DDL in database {db}: {}", short(&ddl.statement)),
        None => format!("DDL {}", short(&ddl.statement)),
    };
    if let Some(db) = &ddl.database {
        match conn.query_drop(format!("USE {}", quote_ident(db))).await {
            Ok(()) => {}
            // The session's database is gone (e.g. the DDL drops it): run without one.
            Err(mysql_async::Error::Server(s)) if s.code == 1049 => {}
            Err(e) => return Err(failure(sink.err(&format!("USE {db} for {what}"), e), false)),
        }
    }
    let statement = match ddl.kind {
        DdlKind::Object(kind) => {
            super::objects::destination_statement(&mut conn, kind, &ddl.statement, None)
                .await
                .map_err(|message| {
                    failure(
                        Error::Other {
                            object: what.clone(),
                            message,
                            cause: None,
                        },
                        true,
                    )
                })?
        }
        _ => ddl.statement.clone(),
    };
    // A routine, trigger or event is created under the mode it was at the source.
    if let (DdlKind::Object(_), Some(mode)) = (ddl.kind, &ddl.sql_mode) {
        let mode = crate::wire::session::for_destination(mode, sink.server.is_mariadb());
        conn.query_drop(format!(
            "SET SESSION sql_mode = '{}'",
            mode.replace('\'', "''")
        ))
        .await
        .map_err(|e| failure(sink.err(&format!("sql_mode for {what}"), e), false))?;
    }
    let mut result = conn.query_drop(statement.as_str()).await;
    // A table created in a selected database that held no table when the task started (so
    // schema sync created nothing there): create the database, then retry once.
    if let (Err(mysql_async::Error::Server(s)), DdlKind::CreateTable, Some(t)) =
        (&result, ddl.kind, ddl.tables.first())
    {
        if matches!(s.code, 1046 | 1049) {
            let create = format!("CREATE DATABASE IF NOT EXISTS {}", quote_ident(&t.database));
            if conn.query_drop(create).await.is_ok() {
                if let Some(db) = &ddl.database {
                    let _ = conn.query_drop(format!("USE {}", quote_ident(db))).await;
                }
                result = conn.query_drop(statement.as_str()).await;
            }
        }
    }
    let _ = conn.disconnect().await;
    match result {
        Ok(()) => Ok(true),
        Err(mysql_async::Error::Server(s)) if tolerate && already_applied(s.code, ddl.kind) => {
            tracing::info!(
                target: "dts_mysql::sink",
                code = s.code,
                statement = %short(&ddl.statement),
                "DDL was already applied before a restart"
            );
            Ok(false)
        }
        Err(e) => {
            let refused = matches!(e, mysql_async::Error::Server(_));
            Err(failure(sink.err(&what, e), refused))
        }
    }
}

/// [`exec_ddl`] for [`dts_core::Sink::apply_ddl`].
pub(super) async fn run_ddl(sink: &MysqlSink, ddl: &Ddl, tolerate: bool) -> Result<bool> {
    exec_ddl(sink, ddl, tolerate).await.map_err(|f| f.error)
}

/// Applies a foreign-key cascade's predicate change.
async fn exec_derived<Q: Session>(sink: &MysqlSink, q: &mut Q, d: &DerivedChange) -> Result<()> {
    let st = crate::wire::predicate::derived_statement(d, &crate::wire::predicate::Plain);
    let params: Vec<Raw> = st.params.iter().map(to_param).collect();
    let what = format!("cascade {} (constraint `{}`) on", d.op.name(), d.constraint);
    let n = exec(sink, q, st.sql, params, &d.schema.id, &what, false).await?;
    tracing::debug!(target: "dts_mysql::sink", table = %d.schema.id, rows = n, "{d}");
    Ok(())
}

async fn exec_ops<Q: Session>(sink: &MysqlSink, q: &mut Q, ops: &[Op<'_>]) -> Result<()> {
    let mut i = 0;
    while i < ops.len() {
        if let Op::Derived(d) = ops[i] {
            exec_derived(sink, q, d).await?;
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < ops.len() && ops[i].merges_with(&ops[j]) {
            j += 1;
        }
        let rows: Vec<&Row> = ops[i..j].iter().map(|o| o.row()).collect();
        match ops[i] {
            Op::Upsert(s, _) => {
                let cols = sql::writable_columns(s);
                exec_insert(sink, q, s, &cols, &rows, sql::replace_kind(s)).await?
            }
            Op::Insert(s, _) => {
                let cols = sql::writable_columns(s);
                exec_insert(sink, q, s, &cols, &rows, InsertKind::Plain).await?
            }
            Op::DeleteKey(s, _) => exec_delete_keys(sink, q, s, &rows).await?,
            Op::DeleteExact(s, r) => {
                let (text, params) = sql::delete_exact(s, r);
                exec(sink, q, text, params, &s.id, "delete one row from", false).await?;
            }
            Op::UpdateExact(s, b, a) => {
                let (text, params) = sql::update_exact(s, b, a);
                let n = exec(sink, q, text, params, &s.id, "update one row of", false).await?;
                if n == 0 && sink.options.conflict_policy.is_some() {
                    super::conflict::keyless_update_missed(sink, q, s, b, a).await?;
                }
            }
            Op::Checked(_) => {
                let run: Vec<&RowChange> = ops[i..j]
                    .iter()
                    .filter_map(|o| match o {
                        Op::Checked(c) => Some(*c),
                        _ => None,
                    })
                    .collect();
                super::conflict::apply_checked(sink, q, &run).await?
            }
            Op::Derived(_) => unreachable!("applied above"),
        }
        i = j;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dts_core::Value;
    use dts_core::{Column, ColumnType, Fragment};

    fn schema(table: &str, pk: bool, key_type: ColumnType) -> SchemaRef {
        let mut k = Column::new("k", key_type, "t");
        k.nullable = false;
        k.collation = Some("utf8mb4_general_ci".into());
        Arc::new(TableSchema {
            id: TableId::new("d", table),
            columns: vec![
                k,
                Column::new("v", ColumnType::Text { max_bytes: 100 }, "text"),
            ],
            primary_key: if pk { vec!["k".into()] } else { vec![] },
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        })
    }

    fn int() -> ColumnType {
        ColumnType::Integer {
            bytes: 4,
            unsigned: false,
        }
    }

    fn row(s: &SchemaRef, op: RowOp, before: Option<i64>, after: Option<i64>) -> Change {
        let img = |k: i64| vec![Value::Int(k), Value::Text(format!("v{k}"))];
        Change::Row(RowChange {
            schema: s.clone(),
            op,
            before: before.map(img),
            after: after.map(img),
        })
    }

    fn txn(offset: u64, changes: Vec<Change>, fragment: Fragment) -> Transaction {
        Transaction {
            begin: Position::new("bin.000001", offset),
            end: Position::new("bin.000001", offset + 10),
            gtid: None,
            commit_time_ms: 0,
            changes,
            fragment,
        }
    }

    fn cp(offset: u64) -> Checkpoint {
        Checkpoint {
            position: Position::new("bin.000001", offset),
            last_gtid: None,
            commit_time_ms: 0,
            applied_in_transaction: 0,
        }
    }

    fn describe(steps: &[Step<'_>]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Keyed { changes, end } => {
                    format!("keyed {} -> {}", changes.len(), end.position.offset)
                }
                Step::Barrier { changes, end, .. } => {
                    format!("barrier {} -> {}", changes.len(), end.position.offset)
                }
            })
            .collect()
    }

    #[test]
    fn plan_groups_keyed_units_and_isolates_barriers() {
        let keyed = schema("a", true, int());
        let keyless = schema("b", false, int());
        let ddl = Change::Ddl(Ddl {
            database: Some("d".into()),
            statement: "ALTER TABLE a ADD c INT".into(),
            kind: DdlKind::AlterTable,
            tables: vec![],
            sql_mode: None,
        });
        let batch = vec![
            txn(
                100,
                vec![row(&keyed, RowOp::Insert, None, Some(1))],
                Fragment::WHOLE,
            ),
            txn(
                110,
                vec![row(&keyed, RowOp::Insert, None, Some(2))],
                Fragment::WHOLE,
            ),
            txn(
                120,
                vec![row(&keyless, RowOp::Insert, None, Some(3))],
                Fragment::WHOLE,
            ),
            txn(130, vec![ddl], Fragment::WHOLE),
            txn(
                140,
                vec![row(&keyed, RowOp::Delete, Some(1), None)],
                Fragment::WHOLE,
            ),
        ];
        let steps = plan(&batch, &cp(999), false).unwrap();
        assert_eq!(
            describe(&steps),
            vec![
                "keyed 2 -> 120",
                "barrier 1 -> 130",
                "barrier 1 -> 140",
                "keyed 1 -> 999"
            ]
        );
        // Empty batch: one keyed step that only moves the checkpoint.
        assert_eq!(
            describe(&plan(&[], &cp(5), false).unwrap()),
            vec!["keyed 0 -> 5"]
        );
    }

    #[test]
    fn fragments_of_one_transaction_form_one_unit() {
        let keyless = schema("b", false, int());
        let f = |first, last| Fragment {
            first_change: first,
            last,
        };
        let mut t1 = txn(
            100,
            vec![row(&keyless, RowOp::Insert, None, Some(1))],
            f(0, false),
        );
        let mut t2 = txn(
            100,
            vec![row(&keyless, RowOp::Insert, None, Some(2))],
            f(1, true),
        );
        t1.end = Position::new("bin.000001", 105);
        t2.end = Position::new("bin.000001", 150);
        let t3 = txn(
            150,
            vec![row(&keyless, RowOp::Insert, None, Some(3))],
            f(0, false),
        );
        let batch = vec![t1.clone(), t2, t3];
        let steps = plan(&batch, &cp(150), false).unwrap();
        assert_eq!(
            describe(&steps),
            vec!["barrier 2 -> 150", "barrier 1 -> 150"],
            "the last unit is an unfinished fragment: it gets the runner's checkpoint"
        );
        // An unfinished fragment followed by another transaction is refused.
        let other = txn(300, vec![], Fragment::WHOLE);
        let err = plan(&[t1, other], &cp(310), false).err().unwrap();
        assert!(err.to_string().contains("unfinished"), "{err}");
    }

    #[test]
    fn key_changes_are_barriers_only_with_a_policy() {
        let keyed = schema("a", true, int());
        let batch = vec![txn(
            100,
            vec![row(&keyed, RowOp::Update, Some(1), Some(2))],
            Fragment::WHOLE,
        )];
        assert_eq!(
            describe(&plan(&batch, &cp(110), false).unwrap()),
            vec!["keyed 1 -> 110"]
        );
        assert_eq!(
            describe(&plan(&batch, &cp(110), true).unwrap()),
            vec!["barrier 1 -> 110"]
        );
    }

    #[test]
    fn routing_is_by_key_when_exact_else_by_table() {
        let ints = schema("a", true, int());
        let keys = vec![0];
        let info = KeyInfo {
            exact: exact_key(&ints, &keys),
            keys,
        };
        assert!(info.exact);
        let workers: std::collections::BTreeSet<usize> = (0..64)
            .map(|k| worker_for(&ints.id, &info, &vec![Value::Int(k), Value::Null], 4))
            .collect();
        assert_eq!(workers.len(), 4, "keys spread over every worker");
        let same = worker_for(&ints.id, &info, &vec![Value::Int(7), Value::Null], 4);
        assert_eq!(
            same,
            worker_for(
                &ints.id,
                &info,
                &vec![Value::Int(7), Value::Text("x".into())],
                4
            )
        );
        // Case-insensitive text keys: 'a' and 'A' are one destination key.
        let text = schema("t", true, ColumnType::VarChar { length: 10 });
        assert!(!exact_key(&text, &[0]));
        let mut bin = (*text).clone();
        bin.columns[0].collation = Some("utf8mb4_bin".into());
        assert!(exact_key(&bin, &[0]));
        // Another unique key: rows of different keys interact, keep table order.
        let mut uk = (*ints).clone();
        uk.unique_keys.push(dts_core::Index {
            name: "u".into(),
            columns: vec!["v".into()],
            unique: true,
        });
        assert!(!exact_key(&uk, &[0]));
    }

    #[test]
    fn key_changing_update_becomes_delete_then_upsert() {
        let keyed = schema("a", true, int());
        let Change::Row(r) = row(&keyed, RowOp::Update, Some(1), Some(2)) else {
            unreachable!()
        };
        let mut ops = Vec::new();
        serial_ops(&r, false, &mut ops).unwrap();
        assert!(matches!(
            ops.as_slice(),
            [Op::DeleteKey(..), Op::Upsert(..)]
        ));
        let Change::Row(same) = row(&keyed, RowOp::Update, Some(1), Some(1)) else {
            unreachable!()
        };
        ops.clear();
        serial_ops(&same, false, &mut ops).unwrap();
        assert!(matches!(ops.as_slice(), [Op::Upsert(..)]));
    }

    #[test]
    fn merging_needs_same_kind_and_table() {
        let a = schema("a", true, int());
        let b = schema("b", true, int());
        let r = vec![Value::Int(1), Value::Null];
        assert!(Op::Upsert(&a, &r).merges_with(&Op::Upsert(&a, &r)));
        assert!(!Op::Upsert(&a, &r).merges_with(&Op::DeleteKey(&a, &r)));
        assert!(!Op::Upsert(&a, &r).merges_with(&Op::Upsert(&b, &r)));
        assert!(!Op::DeleteExact(&a, &r).merges_with(&Op::DeleteExact(&a, &r)));
    }

    #[test]
    fn already_applied_codes() {
        assert!(already_applied(1060, DdlKind::AlterTable));
        assert!(already_applied(1146, DdlKind::RenameTable));
        assert!(!already_applied(1146, DdlKind::AlterTable));
        assert!(!already_applied(1064, DdlKind::AlterTable));
    }
}
