//! Destination precheck: can a MySQL-family server receive a task's tables?
//!
//! | name | passes when | otherwise |
//! |---|---|---|
//! | [`CONNECTIVITY`] | the account can log in | error (the other checks are skipped) |
//! | [`TLS`] | the session is encrypted as `tls.mode` asks (reports `Ssl_cipher`) | error naming the endpoint and the TLS setting to change, also when the connection failed for a TLS reason |
//! | [`PRIVILEGES`] | CREATE, ALTER, DROP, INSERT, UPDATE, DELETE, SELECT, INDEX on every target database and the checkpoint database | error listing what is missing, with the `GRANT` |
//! | [`EXISTING_TABLES`] | no destination table exists yet | [`ConflictingTables::PrecheckAndReportErrors`]: error naming them; [`ConflictingTables::IgnoreErrorsAndProceed`]: warning naming them |
//! | [`CHARSET`] | every character set and collation the tables use exists on the destination | warning naming the columns |
//! | [`WRITE_PARALLELISM`] | always (it never blocks); its message says whether full-sync writes into tables with an AUTO_INCREMENT column can run in parallel | — |
//!
//! Privileges are read from `information_schema.USER_PRIVILEGES` and `SCHEMA_PRIVILEGES` for
//! the current account and its active role; table-level grants are not considered (they never
//! cover tables the task creates).

use crate::wire::conn::MysqlEndpoint;
use crate::wire::ident::{quote_ident, quote_table};
use crate::wire::precheck::connect_checked;
use dts_core::{CheckResult, ConflictingTables, PrecheckReport, TableId, TableSchema};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use std::collections::{BTreeMap, BTreeSet};

pub use crate::wire::precheck::{CONNECTIVITY, TLS};
/// `destination.privileges`: the account may create and write the tables and the checkpoint.
pub const PRIVILEGES: &str = "destination.privileges";
/// `destination.existing_tables`: destination tables that already exist.
pub const EXISTING_TABLES: &str = "destination.existing_tables";
/// `destination.charset`: character sets and collations the tables need exist.
pub const CHARSET: &str = "destination.charset";

/// `destination.write_parallelism`: whether full-sync writes into one table run in parallel.
///
/// Under `innodb_autoinc_lock_mode` 0 or 1 (MariaDB's default, MySQL 5.7's) every `LOAD DATA`
/// into a table with an AUTO_INCREMENT column holds the table's AUTO-INC lock to its end, so
/// the sink's parallel writers take turns on such a table and its copy runs at what one
/// session can load. Mode 2 (MySQL 8.0's default, safe with row-based binlogs) lets them run
/// together. Reported, never blocking: the copy is correct either way.
pub const WRITE_PARALLELISM: &str = "destination.write_parallelism";

/// `destination.mariadb_objects`: selected MariaDB sequences and system-versioned tables need
/// a MariaDB destination (10.3+), which creates them as the source has them (an error names
/// each one a MySQL destination cannot hold). A versioned table's history at the destination
/// is the destination's own, kept from the changes the task writes: the passing check says so.
pub const MARIADB_OBJECTS: &str = "destination.mariadb_objects";

/// Every check [`check_destination`] runs, in run order.
pub const DESTINATION_CHECKS: [&str; 7] = [
    CONNECTIVITY,
    TLS,
    PRIVILEGES,
    EXISTING_TABLES,
    CHARSET,
    WRITE_PARALLELISM,
    MARIADB_OBJECTS,
];

/// Privileges the sink needs on each database it writes.
pub const REQUIRED_PRIVILEGES: [&str; 8] = [
    "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX",
];

/// How many objects a message names before summarising the rest.
pub const MAX_LISTED: usize = 20;

/// Runs the destination checks for `tables` (destination names) under `mode`.
pub async fn check_destination(
    endpoint: &MysqlEndpoint,
    checkpoint_database: &str,
    tables: &[TableSchema],
    mode: ConflictingTables,
) -> PrecheckReport {
    let mut report = PrecheckReport::default();
    let Some(mut conn) = connect_checked(endpoint, &mut report).await else {
        return report;
    };
    let mut databases: BTreeSet<String> = tables.iter().map(|t| t.id.database.clone()).collect();
    databases.insert(checkpoint_database.to_string());
    report
        .checks
        .push(check_privileges(&mut conn, &databases).await);
    report
        .checks
        .push(check_existing(&mut conn, tables, mode).await);
    report.checks.push(check_charsets(&mut conn, tables).await);
    report
        .checks
        .push(check_write_parallelism(&mut conn, tables).await);
    report
        .checks
        .push(check_mariadb_objects(&mut conn, tables).await);
    let _ = conn.disconnect().await;
    report
}

fn query_failed(name: &str, what: &str, e: &mysql_async::Error) -> CheckResult {
    CheckResult::error(
        name,
        format!("could not check: {what} failed: {e}"),
        "grant the account SELECT on information_schema (granted to every account by default) \
         and retry",
    )
}

fn listed(items: &[String]) -> String {
    let mut s = items
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > MAX_LISTED {
        s.push_str(&format!(" and {} more", items.len() - MAX_LISTED));
    }
    s
}

/// `'user'@'host'` from `CURRENT_USER()`'s `user@host`.
fn grantee(account: &str) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('\'', "''");
    match account.rsplit_once('@') {
        Some((user, host)) => format!("'{}'@'{}'", esc(user), esc(host)),
        None => format!("'{}'", esc(account)),
    }
}

/// SQL `LIKE` with `\` escapes, as grant database patterns use it.
fn like_match(pattern: &str, name: &str) -> bool {
    fn rec(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('%') => (0..=n.len()).any(|i| rec(&p[1..], &n[i..])),
            Some('_') => !n.is_empty() && rec(&p[1..], &n[1..]),
            Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && rec(&p[2..], &n[1..]),
            Some(c) => n.first() == Some(c) && rec(&p[1..], &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    rec(&p, &n)
}

async fn check_privileges(conn: &mut Conn, databases: &BTreeSet<String>) -> CheckResult {
    let account: String = match conn.query_first("SELECT CURRENT_USER()").await {
        Ok(a) => a.unwrap_or_default(),
        Err(e) => return query_failed(PRIVILEGES, "SELECT CURRENT_USER()", &e),
    };
    let mut grantees = vec![grantee(&account)];
    // Privileges of an active role count too (MariaDB).
    if let Ok(Some(Some(role))) = conn
        .query_first::<Option<String>, _>("SELECT CURRENT_ROLE()")
        .await
    {
        if !role.is_empty() && !role.eq_ignore_ascii_case("NONE") {
            grantees.push(grantee(&role));
        }
    }
    let mut global: BTreeSet<String> = BTreeSet::new();
    let mut by_db: Vec<(String, String)> = Vec::new();
    for g in &grantees {
        match conn
            .exec::<String, _, _>(
                "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?",
                (g.as_str(),),
            )
            .await
        {
            Ok(rows) => global.extend(rows),
            Err(e) => return query_failed(PRIVILEGES, "read USER_PRIVILEGES", &e),
        }
        match conn
            .exec::<(String, String), _, _>(
                "SELECT TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES \
                 WHERE GRANTEE = ?",
                (g.as_str(),),
            )
            .await
        {
            Ok(rows) => by_db.extend(rows),
            Err(e) => return query_failed(PRIVILEGES, "read SCHEMA_PRIVILEGES", &e),
        }
    }
    let who = grantee(&account);
    let mut missing: BTreeMap<&String, Vec<&str>> = BTreeMap::new();
    for db in databases {
        for p in REQUIRED_PRIVILEGES {
            let has = global.contains(p)
                || by_db
                    .iter()
                    .any(|(pattern, priv_)| priv_ == p && like_match(pattern, db));
            if !has {
                missing.entry(db).or_default().push(p);
            }
        }
    }
    if missing.is_empty() {
        return CheckResult::pass(
            PRIVILEGES,
            format!(
                "account {who} has {} on {}",
                REQUIRED_PRIVILEGES.join(", "),
                listed(&databases.iter().map(|d| quote_ident(d)).collect::<Vec<_>>())
            ),
        );
    }
    let what: Vec<String> = missing
        .iter()
        .map(|(db, ps)| format!("{} on {}", ps.join(", "), quote_ident(db)))
        .collect();
    let fix: Vec<String> = missing
        .iter()
        .map(|(db, ps)| format!("GRANT {} ON {}.* TO {who};", ps.join(", "), quote_ident(db)))
        .collect();
    CheckResult::error(
        PRIVILEGES,
        format!(
            "account {who} lacks {} (the task creates the tables and writes them and its \
             checkpoint)",
            what.join("; ")
        ),
        fix.join(" "),
    )
}

async fn check_existing(
    conn: &mut Conn,
    tables: &[TableSchema],
    mode: ConflictingTables,
) -> CheckResult {
    if tables.is_empty() {
        return CheckResult::pass(EXISTING_TABLES, "no tables selected");
    }
    let case_insensitive = matches!(
        conn.query_first::<u32, _>("SELECT @@lower_case_table_names").await,
        Ok(Some(n)) if n != 0
    );
    let norm = |s: &str| {
        if case_insensitive {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    let wanted: BTreeSet<(String, String)> = tables
        .iter()
        .map(|t| (norm(&t.id.database), norm(&t.id.table)))
        .collect();
    let ids: Vec<&TableId> = tables.iter().map(|t| &t.id).collect();
    let mut found: BTreeSet<(String, String)> = BTreeSet::new();
    for chunk in ids.chunks(500) {
        let cond = vec!["(TABLE_SCHEMA = ? AND TABLE_NAME = ?)"; chunk.len()].join(" OR ");
        let params: Vec<mysql_async::Value> = chunk
            .iter()
            .flat_map(|id| [id.database.as_str().into(), id.table.as_str().into()])
            .collect();
        match conn
            .exec::<(String, String), _, _>(
                format!(
                    "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE {cond}"
                ),
                params,
            )
            .await
        {
            // information_schema compares names case-insensitively: keep exact matches only.
            Ok(rows) => found.extend(
                rows.into_iter()
                    .map(|(d, t)| (norm(&d), norm(&t)))
                    .filter(|k| wanted.contains(k)),
            ),
            Err(e) => return query_failed(EXISTING_TABLES, "read information_schema.TABLES", &e),
        }
    }
    let existing: Vec<String> = ids
        .iter()
        .filter(|id| found.contains(&(norm(&id.database), norm(&id.table))))
        .map(|id| quote_table(id))
        .collect();
    if existing.is_empty() {
        return CheckResult::pass(
            EXISTING_TABLES,
            format!("none of the {} destination tables exists yet", tables.len()),
        );
    }
    let names = listed(&existing);
    match mode {
        ConflictingTables::PrecheckAndReportErrors => CheckResult::error(
            EXISTING_TABLES,
            format!(
                "{} destination table(s) already exist: {names}",
                existing.len()
            ),
            "drop or rename them, map the tables to other names, or choose \
             IgnoreErrorsAndProceed to use them as they are",
        ),
        ConflictingTables::IgnoreErrorsAndProceed => CheckResult::warning(
            EXISTING_TABLES,
            format!(
                "{} destination table(s) already exist and will be used as they are (full sync \
                 keeps their rows with the same key, incremental sync overwrites them; a \
                 different schema can make writes fail or change values): {names}",
                existing.len()
            ),
            "check that their schemas match the source's, or drop them to have them created",
        ),
    }
}

async fn check_write_parallelism(conn: &mut Conn, tables: &[TableSchema]) -> CheckResult {
    let counted: Vec<String> = tables
        .iter()
        .filter(|t| t.columns.iter().any(|c| c.auto_increment))
        .map(|t| quote_table(&t.id))
        .collect();
    if counted.is_empty() {
        return CheckResult::pass(
            WRITE_PARALLELISM,
            "no table has an AUTO_INCREMENT column: full-sync writes run in parallel",
        );
    }
    let mode: Option<u64> = match conn
        .query_first("SELECT @@GLOBAL.innodb_autoinc_lock_mode")
        .await
    {
        Ok(m) => m,
        Err(e) => {
            return CheckResult::pass(
                WRITE_PARALLELISM,
                format!("could not read innodb_autoinc_lock_mode ({e}); whether writes into AUTO_INCREMENT tables run in parallel is unknown (the copy is correct either way)"),
            )
        }
    };
    match mode {
        Some(2) => CheckResult::pass(
            WRITE_PARALLELISM,
            "innodb_autoinc_lock_mode = 2: full-sync writes into tables with an AUTO_INCREMENT \
             column run in parallel",
        ),
        Some(m) => CheckResult::pass(
            WRITE_PARALLELISM,
            format!(
                "innodb_autoinc_lock_mode = {m}: full-sync writes into {} (AUTO_INCREMENT column) \
                 take turns on each table's AUTO-INC lock, so each of these tables is copied at \
                 what one session can load; innodb_autoinc_lock_mode = 2 in the server's \
                 configuration (MySQL 8.0's default, safe with binlog_format = ROW) lets them \
                 run in parallel",
                listed(&counted)
            ),
        ),
        None => CheckResult::pass(
            WRITE_PARALLELISM,
            "the destination has no innodb_autoinc_lock_mode; the copy is not affected",
        ),
    }
}

async fn check_mariadb_objects(conn: &mut Conn, tables: &[TableSchema]) -> CheckResult {
    let names = |f: fn(&TableSchema) -> bool| -> Vec<String> {
        tables
            .iter()
            .filter(|t| f(t))
            .map(|t| t.id.to_string())
            .collect()
    };
    let sequences = names(TableSchema::is_sequence);
    let versioned = names(TableSchema::is_system_versioned);
    let typed: Vec<String> = tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.fixed_syntax_text().is_some())
                .map(move |c| format!("{}.{} ({})", t.id, c.name, c.type_text))
        })
        .collect();
    if sequences.is_empty() && versioned.is_empty() && typed.is_empty() {
        return CheckResult::pass(
            MARIADB_OBJECTS,
            "no sequences or system-versioned tables selected",
        );
    }
    let version: String = match conn.query_first("SELECT @@version").await {
        Ok(v) => v.unwrap_or_default(),
        Err(e) => return query_failed(MARIADB_OBJECTS, "SELECT @@version", &e),
    };
    if !version.to_ascii_lowercase().contains("mariadb") {
        let mut what = Vec::new();
        if !sequences.is_empty() {
            what.push(format!("sequences {}", listed(&sequences)));
        }
        if !versioned.is_empty() {
            what.push(format!("system-versioned tables {}", listed(&versioned)));
        }
        if !typed.is_empty() {
            what.push(format!("UUID/INET columns {}", listed(&typed)));
        }
        return CheckResult::error(
            MARIADB_OBJECTS,
            format!(
                "the destination ({version}) is not MariaDB and cannot hold the selected {}; \
                 this destination cannot be written",
                what.join(" and ")
            ),
            "leave them out of the selection, or write to a MariaDB 10.3+ destination",
        );
    }
    if sequences.is_empty() && versioned.is_empty() {
        return CheckResult::pass(
            MARIADB_OBJECTS,
            format!("UUID/INET columns {} keep their types", listed(&typed)),
        );
    }
    if versioned.is_empty() {
        return CheckResult::pass(
            MARIADB_OBJECTS,
            format!("sequences {} are created as sequences", listed(&sequences)),
        );
    }
    CheckResult::pass(
        MARIADB_OBJECTS,
        format!(
            "system-versioned tables {} are created WITH SYSTEM VERSIONING and their current rows \
             are kept exact; their history at the destination starts with this task and carries \
             the destination's timestamps (the source's history rows are not copied)",
            listed(&versioned)
        ),
    )
}

async fn check_charsets(conn: &mut Conn, tables: &[TableSchema]) -> CheckResult {
    let collations: BTreeSet<String> = match conn
        .query::<String, _>("SELECT COLLATION_NAME FROM information_schema.COLLATIONS")
        .await
    {
        Ok(rows) => rows.into_iter().map(|c| c.to_lowercase()).collect(),
        Err(e) => return query_failed(CHARSET, "read information_schema.COLLATIONS", &e),
    };
    let charsets: BTreeSet<String> = match conn
        .query::<String, _>("SELECT CHARACTER_SET_NAME FROM information_schema.CHARACTER_SETS")
        .await
    {
        Ok(rows) => rows.into_iter().map(|c| c.to_lowercase()).collect(),
        Err(e) => return query_failed(CHARSET, "read information_schema.CHARACTER_SETS", &e),
    };
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in tables {
        let (table_cs, table_coll) = t
            .create_sql
            .as_deref()
            .map(super::create::source_table_charset)
            .unwrap_or_default();
        if let Some(cs) = table_cs.filter(|cs| !charsets.contains(&cs.to_lowercase())) {
            missing
                .entry(format!("character set {cs}"))
                .or_default()
                .push(format!("table {}", quote_table(&t.id)));
        }
        if let Some(c) = table_coll.filter(|c| !collations.contains(&c.to_lowercase())) {
            missing
                .entry(format!("collation {c}"))
                .or_default()
                .push(format!("table {}", quote_table(&t.id)));
        }
        for col in &t.columns {
            let at = || format!("{}.{}", quote_table(&t.id), quote_ident(&col.name));
            if let Some(cs) = col.charset.as_deref() {
                if cs != "binary" && !charsets.contains(&cs.to_lowercase()) {
                    missing
                        .entry(format!("character set {cs}"))
                        .or_default()
                        .push(at());
                }
            }
            if let Some(c) = col.collation.as_deref() {
                if !collations.contains(&c.to_lowercase()) {
                    missing
                        .entry(format!("collation {c}"))
                        .or_default()
                        .push(at());
                }
            }
        }
    }
    if missing.is_empty() {
        return CheckResult::pass(
            CHARSET,
            "every character set and collation of the tables exists on the destination",
        );
    }
    let what: Vec<String> = missing
        .iter()
        .map(|(k, v)| format!("{k} (used by {})", listed(v)))
        .collect();
    CheckResult::warning(
        CHARSET,
        format!(
            "the destination lacks {}: creating these tables will fail",
            what.join("; ")
        ),
        "create the tables on the destination beforehand with an available character set or \
         collation (and choose IgnoreErrorsAndProceed), or use a destination version that has them",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_patterns() {
        assert!(like_match("shop", "shop"));
        assert!(!like_match("shop", "shops"));
        assert!(like_match("shop\\_%", "shop_1"));
        assert!(!like_match("shop\\_%", "shopx1"));
        assert!(like_match("sh_p", "shxp"));
        assert!(like_match("%", "anything"));
    }

    #[test]
    fn grantee_form() {
        assert_eq!(grantee("dts@127.0.0.1"), "'dts'@'127.0.0.1'");
        assert_eq!(grantee("o'brien@%"), "'o''brien'@'%'");
        assert_eq!(grantee("role1"), "'role1'");
    }

    #[test]
    fn long_lists_are_summarised() {
        let items: Vec<String> = (0..25).map(|i| format!("t{i}")).collect();
        let s = listed(&items);
        assert!(s.ends_with("and 5 more"), "{s}");
    }
}
