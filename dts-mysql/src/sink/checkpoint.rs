//! The destination's checkpoint table: one row per (task, apply worker), each committed in the
//! same destination transaction as the changes that worker applied.
//!
//! ```sql
//! CREATE TABLE `<checkpoint_database>`.`dts_checkpoint` (
//!   task_id VARCHAR(64), worker INT, file VARCHAR(255), offset BIGINT UNSIGNED,
//!   gtid_set TEXT, last_gtid VARCHAR(255), commit_time_ms BIGINT UNSIGNED,
//!   applied_in_transaction BIGINT UNSIGNED, pending_ddl TEXT NULL, updated_at TIMESTAMP(6),
//!   PRIMARY KEY (task_id, worker))
//! ```
//!
//! A row with `file IS NULL` belongs to a worker that has committed nothing yet: the sink
//! creates one such row per worker when it connects, so a crash between the first commits of
//! two workers cannot make the checkpoint look further than the slowest worker.

use crate::sink::sql::UpsertStyle;
use crate::wire::ident::{quote_ident, quote_table};
use dts_core::{Checkpoint, GtidFlavor, GtidSet, Position, TableId};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value as Raw};

/// Name of the checkpoint table inside the checkpoint database.
pub const CHECKPOINT_TABLE: &str = "dts_checkpoint";

/// `CREATE TABLE IF NOT EXISTS` of the checkpoint table.
pub fn create_table_sql(table: &TableId) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n  \
         `task_id` VARCHAR(64) NOT NULL,\n  \
         `worker` INT NOT NULL,\n  \
         `file` VARCHAR(255) NULL,\n  \
         `offset` BIGINT UNSIGNED NULL,\n  \
         `gtid_set` TEXT NULL,\n  \
         `last_gtid` VARCHAR(255) NULL,\n  \
         `commit_time_ms` BIGINT UNSIGNED NOT NULL DEFAULT 0,\n  \
         `applied_in_transaction` BIGINT UNSIGNED NOT NULL DEFAULT 0,\n  \
         `pending_ddl` TEXT NULL,\n  \
         `updated_at` TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),\n  \
         PRIMARY KEY (`task_id`, `worker`)\n\
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        quote_table(table)
    )
}

/// One worker's checkpoint row as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerCheckpoint {
    /// Worker number.
    pub worker: u32,
    /// What it has applied (`None`: nothing yet).
    pub checkpoint: Option<Checkpoint>,
    /// `<file>:<offset>` of a DDL that may have run without its completion being recorded.
    pub pending_ddl: Option<String>,
}

const COLUMNS: &str = "`file`, `offset`, `gtid_set`, `last_gtid`, `commit_time_ms`, \
                       `applied_in_transaction`";

/// Reads every checkpoint row of a task, ordered by worker.
pub async fn read_rows(
    conn: &mut Conn,
    table: &TableId,
    task_id: &str,
) -> Result<Vec<WorkerCheckpoint>, mysql_async::Error> {
    let rows: Vec<Row> = conn
        .exec(
            format!(
                "SELECT `worker`, {COLUMNS}, `pending_ddl` FROM {} WHERE `task_id` = ? \
                 ORDER BY `worker`",
                quote_table(table)
            ),
            (task_id,),
        )
        .await?;
    Ok(rows.into_iter().map(parse_row).collect())
}

/// Reads and locks (`FOR UPDATE`) the task's rows inside a transaction: every row, or only
/// `worker`'s. The lock also serializes two sinks that were given the same task id.
pub async fn lock_rows<Q: Queryable>(
    conn: &mut Q,
    table: &TableId,
    task_id: &str,
    worker: Option<u32>,
) -> Result<Vec<WorkerCheckpoint>, mysql_async::Error> {
    let (cond, params): (&str, Vec<Raw>) = match worker {
        Some(w) => (" AND `worker` = ?", vec![task_id.into(), w.into()]),
        None => ("", vec![task_id.into()]),
    };
    let rows: Vec<Row> = conn
        .exec(
            format!(
                "SELECT `worker`, {COLUMNS}, `pending_ddl` FROM {} WHERE `task_id` = ?{cond} \
                 ORDER BY `worker` FOR UPDATE",
                quote_table(table)
            ),
            params,
        )
        .await?;
    Ok(rows.into_iter().map(parse_row).collect())
}

/// True when every one of `expected` rows already records `end` or a later point, so the work
/// that ends at `end` was committed before. Positions without a binlog file name cannot be
/// compared and never count as covered.
pub fn covers(rows: &[WorkerCheckpoint], expected: usize, end: &Checkpoint) -> bool {
    !end.position.file.is_empty()
        && rows.len() == expected
        && rows.iter().all(|r| {
            r.checkpoint.as_ref().is_some_and(|c| {
                !c.position.file.is_empty()
                    && c.position
                        .coordinates_cmp(&end.position)
                        .then(c.applied_in_transaction.cmp(&end.applied_in_transaction))
                        .is_ge()
            })
        })
}

fn text(row: &Row, i: usize) -> Option<String> {
    match row.as_ref(i)? {
        Raw::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Raw::NULL => None,
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

fn number(row: &Row, i: usize) -> Option<u64> {
    match row.as_ref(i)? {
        Raw::Int(v) => u64::try_from(*v).ok(),
        Raw::UInt(v) => Some(*v),
        Raw::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

fn parse_row(row: Row) -> WorkerCheckpoint {
    let worker = number(&row, 0).unwrap_or(0) as u32;
    let checkpoint = text(&row, 1).map(|file| Checkpoint {
        position: Position {
            file,
            offset: number(&row, 2).unwrap_or(0),
            gtid_set: text(&row, 3).filter(|g| !g.is_empty()).map(|text| GtidSet {
                flavor: gtid_flavor(&text),
                text,
            }),
        },
        last_gtid: text(&row, 4),
        commit_time_ms: number(&row, 5).unwrap_or(0),
        applied_in_transaction: number(&row, 6).unwrap_or(0),
    });
    WorkerCheckpoint {
        worker,
        checkpoint,
        pending_ddl: text(&row, 7),
    }
}

/// MySQL GTID sets name a server UUID followed by `:`; MariaDB's are `domain-server-seq`.
pub fn gtid_flavor(text: &str) -> GtidFlavor {
    if text.contains(':') {
        GtidFlavor::Mysql
    } else {
        GtidFlavor::Mariadb
    }
}

/// The checkpoint a restart resumes from: the slowest worker's (by binlog file, then offset,
/// then fewer changes applied inside the transaction). `None` when there are no rows or some
/// worker has never committed.
pub fn slowest(rows: &[WorkerCheckpoint]) -> Option<Checkpoint> {
    let mut min: Option<&Checkpoint> = None;
    for r in rows {
        let c = r.checkpoint.as_ref()?;
        min = match min {
            Some(m)
                if m.position
                    .coordinates_cmp(&c.position)
                    .then(m.applied_in_transaction.cmp(&c.applied_in_transaction))
                    .is_le() =>
            {
                Some(m)
            }
            _ => Some(c),
        };
    }
    min.cloned()
}

fn params(task_id: &str, worker: u32, cp: Option<&Checkpoint>) -> Vec<Raw> {
    match cp {
        Some(cp) => vec![
            task_id.into(),
            worker.into(),
            cp.position.file.as_str().into(),
            cp.position.offset.into(),
            cp.position
                .gtid_set
                .as_ref()
                .map(|g| Raw::from(g.text.as_str()))
                .unwrap_or(Raw::NULL),
            cp.last_gtid.as_deref().map(Raw::from).unwrap_or(Raw::NULL),
            cp.commit_time_ms.into(),
            cp.applied_in_transaction.into(),
        ],
        None => vec![
            task_id.into(),
            worker.into(),
            Raw::NULL,
            Raw::NULL,
            Raw::NULL,
            Raw::NULL,
            0u64.into(),
            0u64.into(),
        ],
    }
}

/// Upserts the rows of `workers` to `cp`; with `clear_pending` also clears `pending_ddl`.
pub async fn write<Q: Queryable>(
    conn: &mut Q,
    table: &TableId,
    style: UpsertStyle,
    task_id: &str,
    workers: &[u32],
    cp: Option<&Checkpoint>,
    clear_pending: bool,
) -> Result<(), mysql_async::Error> {
    if workers.is_empty() {
        return Ok(());
    }
    let row = "(?, ?, ?, ?, ?, ?, ?, ?)";
    let mut updated: Vec<&str> = vec![
        "file",
        "offset",
        "gtid_set",
        "last_gtid",
        "commit_time_ms",
        "applied_in_transaction",
    ];
    let mut sql = format!(
        "INSERT INTO {} (`task_id`, `worker`, {COLUMNS}) VALUES {}",
        quote_table(table),
        vec![row; workers.len()].join(", ")
    );
    if style == UpsertStyle::RowAlias {
        sql.push_str(" AS `dts_new`");
    }
    if clear_pending {
        updated.push("pending_ddl");
    }
    let assignments: Vec<String> = updated
        .iter()
        .map(|c| {
            let q = quote_ident(c);
            if *c == "pending_ddl" {
                format!("{q} = NULL")
            } else {
                match style {
                    UpsertStyle::Values => format!("{q} = VALUES({q})"),
                    UpsertStyle::RowAlias => format!("{q} = `dts_new`.{q}"),
                }
            }
        })
        .collect();
    sql.push_str(" ON DUPLICATE KEY UPDATE ");
    sql.push_str(&assignments.join(", "));
    let params: Vec<Raw> = workers
        .iter()
        .flat_map(|w| params(task_id, *w, cp))
        .collect();
    conn.exec_drop(sql, params).await
}

/// Sets `pending_ddl` on every row of the task.
pub async fn set_pending<Q: Queryable>(
    conn: &mut Q,
    table: &TableId,
    task_id: &str,
    marker: &str,
) -> Result<(), mysql_async::Error> {
    conn.exec_drop(
        format!(
            "UPDATE {} SET `pending_ddl` = ? WHERE `task_id` = ?",
            quote_table(table)
        ),
        (marker, task_id),
    )
    .await
}

/// Makes the task's rows exactly workers `0..workers`: creates missing rows for a new task, and
/// when the worker count changed since the rows were written, replaces them all with the
/// slowest row (so the restart point never moves forward). Runs in one transaction.
pub async fn prepare_rows(
    conn: &mut Conn,
    table: &TableId,
    style: UpsertStyle,
    task_id: &str,
    workers: u32,
) -> Result<(), mysql_async::Error> {
    let mut tx = conn
        .start_transaction(mysql_async::TxOpts::default())
        .await?;
    let rows: Vec<Row> = tx
        .exec(
            format!(
                "SELECT `worker`, {COLUMNS}, `pending_ddl` FROM {} WHERE `task_id` = ? \
                 ORDER BY `worker` FOR UPDATE",
                quote_table(table)
            ),
            (task_id,),
        )
        .await?;
    let rows: Vec<WorkerCheckpoint> = rows.into_iter().map(parse_row).collect();
    let all: Vec<u32> = (0..workers).collect();
    let existing: Vec<u32> = rows.iter().map(|r| r.worker).collect();
    if existing != all {
        let min = if rows.is_empty() {
            None
        } else {
            slowest(&rows)
        };
        let pending = rows.iter().find_map(|r| r.pending_ddl.clone());
        tx.exec_drop(
            format!("DELETE FROM {} WHERE `task_id` = ?", quote_table(table)),
            (task_id,),
        )
        .await?;
        write(&mut tx, table, style, task_id, &all, min.as_ref(), false).await?;
        if let Some(p) = pending {
            set_pending(&mut tx, table, task_id, &p).await?;
        }
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wc(worker: u32, file: Option<&str>, offset: u64, applied: u64) -> WorkerCheckpoint {
        WorkerCheckpoint {
            worker,
            checkpoint: file.map(|f| Checkpoint {
                position: Position::new(f, offset),
                last_gtid: None,
                commit_time_ms: 0,
                applied_in_transaction: applied,
            }),
            pending_ddl: None,
        }
    }

    #[test]
    fn slowest_by_file_offset_then_applied() {
        let rows = vec![
            wc(0, Some("bin.000002"), 4, 0),
            wc(1, Some("bin.000001"), 900, 0),
            wc(2, Some("bin.000001"), 900, 0),
        ];
        assert_eq!(slowest(&rows).unwrap().position.offset, 900);
        let rows = vec![
            wc(0, Some("bin.000001"), 100, 7),
            wc(1, Some("bin.000001"), 100, 3),
        ];
        assert_eq!(slowest(&rows).unwrap().applied_in_transaction, 3);
        assert!(slowest(&[]).is_none());
        assert!(slowest(&[wc(0, Some("b.1"), 1, 0), wc(1, None, 0, 0)]).is_none());
    }

    #[test]
    fn covered_only_when_every_row_is_at_or_past_the_end() {
        let end = Checkpoint {
            position: Position::new("bin.000001", 100),
            last_gtid: None,
            commit_time_ms: 0,
            applied_in_transaction: 0,
        };
        let at = |o| wc(0, Some("bin.000001"), o, 0);
        assert!(covers(&[at(100), at(150)], 2, &end));
        assert!(!covers(&[at(100), at(99)], 2, &end));
        assert!(!covers(&[at(100)], 2, &end), "a missing row is not covered");
        assert!(!covers(&[at(100), wc(1, None, 0, 0)], 2, &end));
        let mid = Checkpoint {
            applied_in_transaction: 5,
            ..end.clone()
        };
        assert!(!covers(&[wc(0, Some("bin.000001"), 100, 3)], 1, &mid));
        assert!(covers(&[wc(0, Some("bin.000001"), 100, 5)], 1, &mid));
        let no_file = Checkpoint {
            position: Position::new("", 0),
            ..end
        };
        assert!(!covers(&[wc(0, Some(""), 0, 0)], 1, &no_file));
    }

    #[test]
    fn flavor_from_text() {
        assert_eq!(gtid_flavor("0-1-42,1-1-7"), GtidFlavor::Mariadb);
        assert_eq!(
            gtid_flavor("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5"),
            GtidFlavor::Mysql
        );
    }
}
