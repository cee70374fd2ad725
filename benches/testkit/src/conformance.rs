//! The sink conformance suite: what every [`Sink`] promises the task runner, checked against a
//! real destination.
//!
//! [`run`] drives one sink through four properties over a small keyed table:
//!
//! 1. **The checkpoint is committed with its batch**: after `apply(batch, checkpoint)` (and
//!    `flush`), `read_checkpoint` returns that checkpoint — also on a sink connected afresh —
//!    and the batch's rows are there.
//! 2. **Replay is idempotent**: applying the same batch with the same checkpoint again leaves
//!    the same rows and checkpoint.
//! 3. **Key-changing updates**: an update that changes the primary key ends with only the new
//!    key, also when a later change in the same transaction takes over the old key.
//! 4. **A crash between a batch and its checkpoint** loses and duplicates nothing: the batch is
//!    written but its checkpoint not (applied with the previous one), the sink is connected
//!    again, reads the previous checkpoint and re-applies from it; and a batch applied whole
//!    is re-applied after a restart from the checkpoint before it.
//!
//! "Rows" are what a consumer of the destination reads: a table's contents for a database
//! destination; for a log (Kafka) the records folded in order after dropping replays the way
//! its consumers do, and the log's change identities are checked besides
//! ([`Destination::change_log`]).
//!
//! A connector crate implements [`Destination`] (with the re-exported [`async_trait`]) and calls
//! [`run`] from one test.

use crate::changes::{checkpoint_after, delete, insert, small_row, small_schema, txn, update};
pub use async_trait::async_trait;
use dts_core::{Checkpoint, Position, SchemaRef, Sink, Transaction};
use std::collections::{BTreeMap, HashSet};

/// The table's rows as a consumer reads them: primary key → value.
pub type Rows = BTreeMap<i64, String>;

/// The destination a conformance run writes to and reads back.
#[async_trait]
pub trait Destination: Send + Sync {
    /// The sink under test.
    type Sink: Sink;

    /// Connects a new sink to the destination, as a task does when it (re)starts: every call
    /// is a fresh connection over the same destination state and the same task id.
    async fn connect(&self) -> Self::Sink;

    /// The rows of `schema`'s table as a consumer of the destination reads them now.
    async fn rows(&self, schema: &SchemaRef) -> Rows;

    /// For a log destination, the identity of every change record it holds for `schema`'s
    /// table, in order, replays included: the transaction's begin position and the change's
    /// index in it (how its consumers drop replays). `None` for a destination that holds
    /// state, not a log.
    async fn change_log(&self, schema: &SchemaRef) -> Option<Vec<(Position, usize)>> {
        let _ = schema;
        None
    }
}

/// One step's expectations against the destination.
async fn expect<D: Destination>(
    step: &str,
    dest: &D,
    sink: &D::Sink,
    schema: &SchemaRef,
    rows: &[(i64, &str)],
    checkpoint: &Checkpoint,
) {
    sink.flush()
        .await
        .unwrap_or_else(|e| panic!("{step}: flush: {e}"));
    let want: Rows = rows.iter().map(|(k, v)| (*k, v.to_string())).collect();
    assert_eq!(dest.rows(schema).await, want, "{step}: rows");
    assert_eq!(
        sink.read_checkpoint()
            .await
            .unwrap_or_else(|e| panic!("{step}: read_checkpoint: {e}")),
        Some(checkpoint.clone()),
        "{step}: the checkpoint committed with the batch"
    );
}

async fn apply<S: Sink>(step: &str, sink: &S, batch: &[Transaction], checkpoint: &Checkpoint) {
    sink.apply(batch, checkpoint)
        .await
        .unwrap_or_else(|e| panic!("{step}: apply: {e}"));
}

/// Runs the suite against `dest`, on table `table` of `database` (which the sink's
/// `apply_schema` creates where the destination has tables). Panics naming the step and the
/// property that does not hold.
pub async fn run<D: Destination>(dest: &D, database: &str, table: &str) {
    let s = small_schema(database, table, true);
    let sink = dest.connect().await;
    assert_eq!(
        sink.read_checkpoint().await.expect("read_checkpoint"),
        None,
        "a fresh task has no checkpoint"
    );
    sink.apply_schema(&s).await.expect("apply_schema");

    // 1. The checkpoint is committed with its batch.
    let a = vec![
        txn(
            1_000,
            vec![insert(&s, small_row(1, "a")), insert(&s, small_row(2, "b"))],
        ),
        txn(
            1_100,
            vec![
                insert(&s, small_row(3, "c")),
                update(&s, small_row(2, "b"), small_row(2, "b2")),
            ],
        ),
    ];
    let cp_a = checkpoint_after(&a[1]);
    let after_a = [(1, "a"), (2, "b2"), (3, "c")];
    apply("batch A", &sink, &a, &cp_a).await;
    expect("batch A", dest, &sink, &s, &after_a, &cp_a).await;
    let reconnected = dest.connect().await;
    assert_eq!(
        reconnected
            .read_checkpoint()
            .await
            .expect("read_checkpoint"),
        Some(cp_a.clone()),
        "batch A: a sink connected afresh reads the committed checkpoint"
    );
    drop(reconnected);

    // 2. Replaying the same batch with its checkpoint is idempotent.
    apply("replay of batch A", &sink, &a, &cp_a).await;
    expect("replay of batch A", dest, &sink, &s, &after_a, &cp_a).await;

    // 3. Key-changing updates: 1 → 10; then 2 → 20 and 3 → 2 in one transaction, the second
    //    taking over the key the first gave up.
    let b = vec![
        txn(
            1_200,
            vec![update(&s, small_row(1, "a"), small_row(10, "a10"))],
        ),
        txn(
            1_300,
            vec![
                update(&s, small_row(2, "b2"), small_row(20, "b2")),
                update(&s, small_row(3, "c"), small_row(2, "c")),
            ],
        ),
    ];
    let cp_b = checkpoint_after(&b[1]);
    let after_b = [(2, "c"), (10, "a10"), (20, "b2")];
    apply("key changes", &sink, &b, &cp_b).await;
    expect("key changes", dest, &sink, &s, &after_b, &cp_b).await;

    // 4a. A crash between batch C's rows and its checkpoint: the rows are written, the
    //     checkpoint is still B's. A new sink resumes from the checkpoint it reads.
    let c = vec![
        txn(
            1_400,
            vec![
                insert(&s, small_row(4, "d")),
                delete(&s, small_row(10, "a10")),
            ],
        ),
        txn(
            1_500,
            vec![update(&s, small_row(20, "b2"), small_row(20, "b3"))],
        ),
    ];
    let cp_c = checkpoint_after(&c[1]);
    let after_c = [(2, "c"), (4, "d"), (20, "b3")];
    apply("batch C without its checkpoint", &sink, &c, &cp_b).await;
    drop(sink);
    let sink = dest.connect().await;
    let resume = sink
        .read_checkpoint()
        .await
        .expect("read_checkpoint")
        .expect("a checkpoint after the crash");
    assert_eq!(
        resume, cp_b,
        "after the crash: the checkpoint of the last whole batch"
    );
    let from = c
        .iter()
        .position(|t| t.begin == resume.position)
        .unwrap_or(0);
    apply("batch C after the crash", &sink, &c[from..], &cp_c).await;
    expect("batch C after the crash", dest, &sink, &s, &after_c, &cp_c).await;

    // 4b. Batch D is applied whole, then the task restarts from the checkpoint its own store
    //     held (C's) and applies D again.
    let d = vec![txn(1_600, vec![insert(&s, small_row(5, "e"))])];
    let cp_d = checkpoint_after(&d[0]);
    let after_d = [(2, "c"), (4, "d"), (5, "e"), (20, "b3")];
    apply("batch D", &sink, &d, &cp_d).await;
    drop(sink);
    let sink = dest.connect().await;
    apply("batch D after a restart", &sink, &d, &cp_d).await;
    expect("batch D after a restart", dest, &sink, &s, &after_d, &cp_d).await;

    // A log holds each change at least once, and nothing that was not applied.
    if let Some(log) = dest.change_log(&s).await {
        let applied: HashSet<(Position, usize)> = [&a, &b, &c, &d]
            .into_iter()
            .flatten()
            .flat_map(|t| (0..t.changes.len()).map(|i| (t.begin.clone(), i)))
            .collect();
        let held: HashSet<(Position, usize)> = log.iter().cloned().collect();
        assert_eq!(
            held, applied,
            "the log holds every applied change, identified by position and index"
        );
        assert!(
            log.len() > held.len(),
            "the replays re-delivered records ({} records, {} changes): the check of dropping \
             them ran",
            log.len(),
            held.len()
        );
    }
}

/// The rows of the suite's table `database`.`table` on a MySQL-protocol server: the
/// [`Destination::rows`] of a destination that holds tables there.
pub async fn table_rows(url: &str, database: &str, table: &str) -> Rows {
    use mysql_async::prelude::Queryable;
    let mut c = crate::mysql::connect(url).await;
    c.query::<(i64, String), _>(format!("SELECT id, v FROM `{database}`.`{table}`"))
        .await
        .unwrap_or_else(|e| panic!("reading {database}.{table}: {e}"))
        .into_iter()
        .collect()
}
