//! The checkpoint table `<checkpoint database>.dts_adb_checkpoint`, one row per task:
//!
//! ```sql
//! CREATE TABLE IF NOT EXISTS `dts_meta`.`dts_adb_checkpoint` (
//!   `task_id` VARCHAR(64) NOT NULL,
//!   `file` VARCHAR(255) NOT NULL,
//!   `offset` BIGINT NOT NULL,
//!   `gtid_flavor` VARCHAR(16) NULL,
//!   `gtid_set` VARCHAR NULL,            -- LONGTEXT in compatibility mode
//!   `last_gtid` VARCHAR(255) NULL,
//!   `commit_time_ms` BIGINT NOT NULL,
//!   `applied_in_transaction` BIGINT NOT NULL,
//!   `updated_at` DATETIME(3) NOT NULL,  -- UTC
//!   PRIMARY KEY (`task_id`)
//! ) DISTRIBUTED BY HASH(`task_id`)
//! ```
//!
//! ADB has no multi-statement transactions worth relying on, so the row is written after the
//! batch it covers is flushed: delivery is at-least-once, and replays converge because upserts
//! and deletes by key are idempotent.

use crate::ident::quote_ident;
use dts_core::{Checkpoint, GtidFlavor, GtidSet, Position, Timestamp};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Row, Value as Raw};

/// Name of the checkpoint table.
pub const CHECKPOINT_TABLE: &str = "dts_adb_checkpoint";

fn table(database: &str) -> String {
    format!(
        "{}.{}",
        quote_ident(database),
        quote_ident(CHECKPOINT_TABLE)
    )
}

/// `CREATE TABLE IF NOT EXISTS` of the checkpoint table.
pub fn create_table_sql(database: &str, mariadb_compat: bool) -> String {
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {} (\n  \
         `task_id` VARCHAR(64) NOT NULL,\n  \
         `file` VARCHAR(255) NOT NULL,\n  \
         `offset` BIGINT NOT NULL,\n  \
         `gtid_flavor` VARCHAR(16) NULL,\n  \
         `gtid_set` {} NULL,\n  \
         `last_gtid` VARCHAR(255) NULL,\n  \
         `commit_time_ms` BIGINT NOT NULL,\n  \
         `applied_in_transaction` BIGINT NOT NULL,\n  \
         `updated_at` DATETIME(3) NOT NULL,\n  \
         PRIMARY KEY (`task_id`)\n)",
        table(database),
        if mariadb_compat {
            "LONGTEXT"
        } else {
            "VARCHAR"
        }
    );
    if !mariadb_compat {
        sql.push_str(" DISTRIBUTED BY HASH(`task_id`)");
    }
    sql
}

fn now_param() -> Raw {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let dt = Timestamp {
        seconds: now.as_secs() as i64,
        micros: now.subsec_millis() * 1000,
    }
    .to_utc_datetime();
    Raw::Date(
        dt.date.year,
        dt.date.month,
        dt.date.day,
        dt.hour,
        dt.minute,
        dt.second,
        dt.micros,
    )
}

/// Stores (replaces) the task's checkpoint.
pub async fn write(
    conn: &mut Conn,
    database: &str,
    task_id: &str,
    checkpoint: &Checkpoint,
) -> Result<(), mysql_async::Error> {
    let gtid = checkpoint.position.gtid_set.as_ref();
    let params = vec![
        Raw::from(task_id),
        Raw::from(checkpoint.position.file.as_str()),
        Raw::Int(checkpoint.position.offset as i64),
        gtid.map(|g| match g.flavor {
            GtidFlavor::Mysql => Raw::from("mysql"),
            GtidFlavor::Mariadb => Raw::from("mariadb"),
        })
        .unwrap_or(Raw::NULL),
        gtid.map(|g| Raw::from(g.text.as_str()))
            .unwrap_or(Raw::NULL),
        checkpoint
            .last_gtid
            .as_deref()
            .map(Raw::from)
            .unwrap_or(Raw::NULL),
        Raw::Int(checkpoint.commit_time_ms as i64),
        Raw::Int(checkpoint.applied_in_transaction as i64),
        now_param(),
    ];
    conn.exec_drop(
        format!(
            "REPLACE INTO {} (`task_id`, `file`, `offset`, `gtid_flavor`, `gtid_set`, \
             `last_gtid`, `commit_time_ms`, `applied_in_transaction`, `updated_at`) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            table(database)
        ),
        Params::Positional(params),
    )
    .await
}

/// Reads the task's checkpoint, if stored.
pub async fn read(
    conn: &mut Conn,
    database: &str,
    task_id: &str,
) -> Result<Option<Checkpoint>, mysql_async::Error> {
    let row: Option<Row> = conn
        .exec_first(
            format!(
                "SELECT `file`, `offset`, `gtid_flavor`, `gtid_set`, `last_gtid`, \
                 `commit_time_ms`, `applied_in_transaction` FROM {} WHERE `task_id` = ?",
                table(database)
            ),
            (task_id,),
        )
        .await?;
    Ok(row.map(|row| {
        let text = |i: usize| -> Option<String> { row.get::<Option<String>, _>(i).flatten() };
        let num = |i: usize| -> u64 { row.get::<Option<i64>, _>(i).flatten().unwrap_or(0) as u64 };
        let gtid_set = match (text(2).as_deref(), text(3)) {
            (Some("mysql"), Some(text)) => Some(GtidSet {
                flavor: GtidFlavor::Mysql,
                text,
            }),
            (Some(_), Some(text)) => Some(GtidSet {
                flavor: GtidFlavor::Mariadb,
                text,
            }),
            _ => None,
        };
        Checkpoint {
            position: Position {
                file: text(0).unwrap_or_default(),
                offset: num(1),
                gtid_set,
            },
            last_gtid: text(4),
            commit_time_ms: num(5),
            applied_in_transaction: num(6),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_ddl() {
        let adb = create_table_sql("dts_meta", false);
        assert!(adb.starts_with("CREATE TABLE IF NOT EXISTS `dts_meta`.`dts_adb_checkpoint` ("));
        assert!(adb.ends_with(") DISTRIBUTED BY HASH(`task_id`)"));
        assert!(adb.contains("`gtid_set` VARCHAR NULL"));
        let compat = create_table_sql("dts_meta", true);
        assert!(compat.ends_with("PRIMARY KEY (`task_id`)\n)"));
        assert!(compat.contains("`gtid_set` LONGTEXT NULL"));
    }
}
