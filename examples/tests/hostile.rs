//! Hostile identifiers and values end to end through a task built from a configuration:
//! a 64-character database name with a backtick, quotes, a space, a dot, a semicolon and
//! unicode; tables and columns named with the same, with SQL keywords, with an injection attempt
//! and at the 64-character maximum; text values with every byte LOAD DATA and SQL literals treat
//! specially; 16 MiB+ LONGBLOB/LONGTEXT rows (multi-packet rows and binlog events) through the
//! snapshot and the binlog; invalid UTF-8 in binary columns; zero and partly-zero dates;
//! maximum-width DECIMALs and extreme doubles. Everything must arrive byte for byte, and DDL on
//! those names must replay.

mod rs_support;

use dts_mysql::wire::ident::quote_ident as q;
use mysql_async::prelude::Queryable;
use rs_support::*;
use std::time::Duration;

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `name` cut or padded with `x` to exactly `len` characters.
fn exactly(name: &str, len: usize) -> String {
    let mut s: String = name.chars().take(len).collect();
    while s.chars().count() < len {
        s.push('x');
    }
    s
}

const MIB: usize = 1 << 20;

async fn table_names(c: &mut mysql_async::Conn, db: &str) -> Vec<String> {
    c.exec(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1",
        (db,),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_names_and_values_arrive_exactly() {
    let id = unique("h");
    // 64 characters, the maximum.
    let db = exactly(&format!("{id}`'\" .ü表;-- "), 64);
    // A table name that drops this canary database if a statement could be broken out of.
    let canary = unique("canary");
    let tables = [
        "sel`ect".to_string(),
        "t'a\"b c.d".to_string(),
        "SELECT".to_string(),
        "表ü_é".to_string(),
        format!("x`; DROP DATABASE {canary}; #"),
        exactly("long_table_ü", 64),
    ];
    let long_col = exactly("long_column_`_é", 64);
    let cols = ["i`d", "o'r\"x", "a.b c", "from", "ü é", long_col.as_str()];
    let def = format!(
        "({} INT PRIMARY KEY, {} VARCHAR(60), {} INT, {} TEXT, {} VARCHAR(10), {} INT) \
         DEFAULT CHARSET = utf8mb4",
        q(cols[0]),
        q(cols[1]),
        q(cols[2]),
        q(cols[3]),
        q(cols[4]),
        q(cols[5])
    );
    // Texts LOAD DATA, CSV-like encodings and SQL literals must survive.
    let texts = [
        "back`tick 'single' \"double\"",
        "tab\there, newline\nthere, cr\r, backslash \\ and \\N",
        "\\N",
        "nul \0 inside",
        "'); DROP TABLE t; --",
        "emoji 😀 and 表",
        "",
    ];

    let mut s = connect(&source_url()).await;
    let mut d = connect(&dest_url()).await;
    exec_all(&mut s, &[&format!("DROP DATABASE IF EXISTS {}", q(&db))]).await;
    exec_all(
        &mut d,
        &[
            &format!("DROP DATABASE IF EXISTS {}", q(&db)),
            &format!("CREATE DATABASE {canary}"),
        ],
    )
    .await;
    exec_all(
        &mut s,
        &[
            &format!("CREATE DATABASE {}", q(&db)),
            &format!("USE {}", q(&db)),
        ],
    )
    .await;
    for t in &tables {
        exec_all(&mut s, &[&format!("CREATE TABLE {} {def}", q(t))]).await;
        for (i, text) in texts.iter().enumerate() {
            s.exec_drop(
                format!("INSERT INTO {} VALUES (?, ?, ?, ?, ?, ?)", q(t)),
                (i as i64, *text, i as i64, *text, "ü", -(i as i64)),
            )
            .await
            .unwrap();
        }
    }
    // The values table (its name is a keyword too).
    let values = "values";
    exec_all(
        &mut s,
        &[
            &format!(
                "CREATE TABLE {} (id INT PRIMARY KEY, lb LONGBLOB, lt LONGTEXT, vb VARBINARY(64), \
                 d DATE, dt DATETIME(6), dec1 DECIMAL(65,30), dec2 DECIMAL(65,0) UNSIGNED, \
                 dbl DOUBLE, f FLOAT) DEFAULT CHARSET = utf8mb4",
                q(values)
            ),
            // Row 1: 17.5 MB of bytes that are not UTF-8 and 17.4 MB of 4-byte characters.
            &format!(
                "INSERT INTO {} VALUES (1, REPEAT(UNHEX('C328FF00E2'), {}), REPEAT('😀ab', {}), \
                 UNHEX('C328FFFE00A0A1'), '0000-00-00', '0000-00-00 00:00:00', \
                 '-99999999999999999999999999999999999.999999999999999999999999999999', \
                 '{}', -1.7976931348623157e308, 3.4028234e38)",
                q(values),
                17_500_000 / 5,
                17_400_000 / 6,
                "9".repeat(65)
            ),
            &format!(
                "INSERT INTO {} VALUES (2, '', NULL, '', '2024-00-00', '2024-01-00 10:00:00.000001', \
                 '0.000000000000000000000000000001', 0, 4.9e-324, -1.17549435e-38)",
                q(values)
            ),
        ],
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "id = {}\n{}\n[[objects.databases]]\nname = {}\n",
        toml_str(&id),
        endpoints_toml("root", "", "root", ""),
        toml_str(&db)
    );
    let config = parse(&toml);
    let built = dts_mysql::build_mysql_task(&config, &dir.path().join("state"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let handle = built.task.handle();
    let task = built.task;
    let runner = tokio::spawn(async move { task.run().await });
    dts_testkit::wait_incremental(&handle, Duration::from_secs(180)).await;
    let pairs = [(db.as_str(), db.as_str())];
    wait_converged(&handle, &pairs, Duration::from_secs(180)).await;

    // Through the binlog: big rows in and updated (an update event carries both 17 MB images),
    // zero dates, key changes and DDL on hostile names.
    exec_all(
        &mut s,
        &[
            &format!(
                "INSERT INTO {} VALUES (3, REPEAT(UNHEX('00FFFE80'), {}), REPEAT('é表', {}), \
                 UNHEX('FF'), '0000-00-00', '0000-00-00 00:00:00.000000', \
                 '99999999999999999999999999999999999.999999999999999999999999999999', 1, 0, 0)",
                q(values),
                17 * MIB / 4 + 1,
                17 * MIB / 5
            ),
            &format!(
                "UPDATE {} SET lb = REPEAT(UNHEX('80818283'), {}), lt = CONCAT(lt, '\\'`\"'), \
                 d = '2000-00-01' WHERE id = 1",
                q(values),
                17 * MIB / 4
            ),
            &format!("DELETE FROM {} WHERE id = 2", q(values)),
            &format!(
                "INSERT INTO {} VALUES (4, x'', '', x'00', '0000-01-01', '0000-00-00 00:00:01', \
                 -0.000000000000000000000000000001, '{}', -0.0, 1e-45)",
                q(values),
                "9".repeat(65)
            ),
        ],
    )
    .await;
    for (n, t) in tables.iter().enumerate() {
        let t = q(t);
        exec_all(
            &mut s,
            &[
                &format!(
                    "UPDATE {t} SET {} = {} + 100 WHERE {} = 1",
                    q(cols[0]),
                    q(cols[0]),
                    q(cols[0])
                ),
                &format!("DELETE FROM {t} WHERE {} = 2", q(cols[0])),
            ],
        )
        .await;
        s.exec_drop(
            format!(
                "UPDATE {t} SET {} = ?, {} = ? WHERE {} = 3",
                q(cols[1]),
                q(cols[3]),
                q(cols[0])
            ),
            ("back`tick after 'update' \\N", texts[1]),
        )
        .await
        .unwrap();
        if n == 1 {
            exec_all(
                &mut s,
                &[
                    &format!(
                        "ALTER TABLE {t} ADD COLUMN {} VARCHAR(5) DEFAULT 'd`''\"'",
                        q("new`col 'x'")
                    ),
                    &format!(
                        "UPDATE {t} SET {} = 'ü' WHERE {} = 0",
                        q("new`col 'x'"),
                        q(cols[0])
                    ),
                ],
            )
            .await;
        }
    }
    exec_all(
        &mut s,
        &[
            &format!(
                "RENAME TABLE {} TO {}",
                q(&tables[0]),
                q("renamed `x' \"y\" .z")
            ),
            &format!("CREATE TABLE {} {def}", q("created `after' \"start\"")),
            &format!(
                "INSERT INTO {} VALUES (1, 'a`b', 1, 'c''d', 'é', 1)",
                q("created `after' \"start\"")
            ),
        ],
    )
    .await;
    wait_converged(&handle, &pairs, Duration::from_secs(180)).await;
    handle.stop();
    runner.await.unwrap().unwrap();

    // Names arrived as they are; the big and odd values byte for byte (checksums compared
    // every table already; these make a failure readable).
    let dest_tables = table_names(&mut d, &db).await;
    assert_eq!(dest_tables, table_names(&mut s, &db).await);
    assert!(dest_tables.contains(&"renamed `x' \"y\" .z".to_string()));
    assert!(dest_tables.contains(&tables[5]));
    let digest = format!(
        "SELECT id, LENGTH(lb), MD5(lb), LENGTH(lt), MD5(lt), HEX(vb), CAST(d AS CHAR), \
         CAST(dt AS CHAR), CAST(dec1 AS CHAR), CAST(dec2 AS CHAR), dbl, f FROM {}.{} ORDER BY id",
        q(&db),
        q(values)
    );
    let a: Vec<mysql_async::Row> = s.query(&digest).await.unwrap();
    let b: Vec<mysql_async::Row> = d.query(&digest).await.unwrap();
    let show = |rows: Vec<mysql_async::Row>| -> Vec<Vec<mysql_async::Value>> {
        rows.into_iter().map(|r| r.unwrap()).collect()
    };
    let (a, b) = (show(a), show(b));
    assert_eq!(a.len(), 3);
    assert_eq!(a, b);
    let big: Option<u64> = d
        .query_first(format!(
            "SELECT MIN(LENGTH(lb)) FROM {}.{} WHERE id IN (1, 3)",
            q(&db),
            q(values)
        ))
        .await
        .unwrap();
    assert!(
        big.unwrap() > 16 * MIB as u64,
        "the big rows are over 16 MiB"
    );
    // The injection attempt stayed a name.
    let survived: Option<String> = d
        .exec_first(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            (&canary,),
        )
        .await
        .unwrap();
    assert_eq!(survived.as_deref(), Some(canary.as_str()));

    exec_all(&mut s, &[&format!("DROP DATABASE {}", q(&db))]).await;
    exec_all(
        &mut d,
        &[
            &format!("DROP DATABASE {}", q(&db)),
            &format!("DROP DATABASE {canary}"),
        ],
    )
    .await;
    d.exec_drop(
        "DELETE FROM dts_meta.dts_checkpoint WHERE task_id = ?",
        (id,),
    )
    .await
    .unwrap();
}
