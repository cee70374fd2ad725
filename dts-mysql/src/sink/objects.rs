//! Views, routines, triggers, events and accounts at a MySQL-family destination.
//!
//! Every object statement the sink runs — at schema sync or from the source's log — is
//! translated so that:
//! - its **definer** is kept when the account exists at the destination and the task's
//!   account may create objects for others (`SUPER`, `SET USER` or all privileges); otherwise
//!   the `DEFINER` clause is dropped and the object runs as the task's destination account
//!   (`SQL SECURITY` is kept either way). The precheck says which it will be, per object;
//! - a **trigger** does not fire for rows the task writes: its body is wrapped in
//!   `IF @dts_task_write IS NULL THEN … END IF`, and every sink session sets
//!   `@dts_task_write = 1` (applications never set it, so for them the trigger is unchanged);
//! - an **event** is disabled (`DISABLE` replaces `ENABLE`): it runs at the source while the
//!   source is live, and the cutover enables it here;
//! - it runs under the `sql_mode`, connection collation and (events) time zone it was created
//!   under at the source, on a connection of its own.

use super::MysqlSink;
use crate::wire::ident::quote_ident;
use dts_core::precheck::CheckResult;
use dts_core::{
    Account, ConflictingTables, Error, GrantScope, ObjectKind, PrecheckReport, Result, SchemaObject,
};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use sqlparser::dialect::MySqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// The user variable every sink session sets, which guarded triggers test.
pub const TASK_WRITE_VARIABLE: &str = "@dts_task_write";

/// A token of an object statement with its byte range.
struct Tok {
    token: Token,
    start: usize,
    end: usize,
}

fn byte_offset(text: &str, line: u64, column: u64) -> Option<usize> {
    let mut start = 0usize;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let rest = &text[start..];
    rest.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(rest.len()))
        .nth(column.checked_sub(1)? as usize)
        .map(|i| start + i)
}

fn tokens(text: &str) -> std::result::Result<Vec<Tok>, String> {
    let all = Tokenizer::new(&MySqlDialect {}, text)
        .tokenize_with_location()
        .map_err(|e| format!("the statement cannot be tokenized: {e}"))?;
    let mut out = Vec::with_capacity(all.len());
    for t in all {
        if matches!(t.token, Token::Whitespace(_)) {
            continue;
        }
        let start = byte_offset(text, t.span.start.line, t.span.start.column)
            .ok_or("a token position is outside the statement")?;
        let end = byte_offset(text, t.span.end.line, t.span.end.column)
            .ok_or("a token position is outside the statement")?;
        out.push(Tok {
            token: t.token,
            start,
            end,
        });
    }
    Ok(out)
}

fn is_word(t: &Tok, word: &str) -> bool {
    matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// Words that end a `DEFINER = user` clause.
const AFTER_DEFINER: [&str; 8] = [
    "SQL",
    "VIEW",
    "PROCEDURE",
    "FUNCTION",
    "TRIGGER",
    "EVENT",
    "AGGREGATE",
    "ALGORITHM",
];

/// The statement with its `DEFINER = …` clause replaced by `DEFINER = definer` (already
/// quoted), or removed when `definer` is `None`. A statement without one gets one only when
/// asked (after `CREATE [OR REPLACE]` is not always the right place, so it is left alone).
pub fn set_definer(statement: &str, definer: Option<&str>) -> std::result::Result<String, String> {
    let toks = tokens(statement)?;
    let Some(at) = toks.iter().position(|t| is_word(t, "DEFINER")) else {
        return Ok(statement.to_owned());
    };
    let end = toks[at + 1..]
        .iter()
        .find(|t| AFTER_DEFINER.iter().any(|w| is_word(t, w)))
        .map(|t| t.start)
        .ok_or("the DEFINER clause is not followed by the object")?;
    let start = toks[at].start;
    let replacement = match definer {
        Some(d) => format!("DEFINER={d} "),
        None => String::new(),
    };
    Ok(format!(
        "{}{replacement}{}",
        &statement[..start],
        &statement[end..]
    ))
}

/// A `CREATE TRIGGER` whose body does not run in the task's own sessions.
pub fn guard_trigger(statement: &str) -> std::result::Result<String, String> {
    let toks = tokens(statement)?;
    let row = toks
        .windows(3)
        .position(|w| is_word(&w[0], "FOR") && is_word(&w[1], "EACH") && is_word(&w[2], "ROW"))
        .ok_or("no FOR EACH ROW in the trigger")?;
    let mut body = row + 3;
    if toks
        .get(body)
        .is_some_and(|t| is_word(t, "FOLLOWS") || is_word(t, "PRECEDES"))
    {
        body += 2;
    }
    let start = toks.get(body).ok_or("the trigger has no body")?.start;
    let inner = statement[start..]
        .trim_end()
        .trim_end_matches(';')
        .trim_end();
    Ok(format!(
        "{}IF {TASK_WRITE_VARIABLE} IS NULL THEN\n{inner};\nEND IF",
        &statement[..start]
    ))
}

/// A `CREATE EVENT` / `ALTER EVENT` that leaves the event disabled: its status clause
/// becomes `DISABLE`; a `CREATE EVENT` without one gets `DISABLE` where the status goes (before
/// `COMMENT` and `DO`); an `ALTER EVENT` without one keeps the event as it is (disabled).
pub fn disable_event(statement: &str) -> std::result::Result<String, String> {
    let toks = tokens(statement)?;
    let create = toks.first().is_some_and(|t| is_word(t, "CREATE"));
    // The clauses before the body (`DO`) hold the status.
    let body = toks.iter().position(|t| is_word(t, "DO"));
    let head = &toks[..body.unwrap_or(toks.len())];
    let mut status: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < head.len() {
        if is_word(&head[i], "ENABLE") || is_word(&head[i], "DISABLE") {
            let mut end = i + 1;
            if head.get(end).is_some_and(|t| is_word(t, "ON"))
                && head
                    .get(end + 1)
                    .is_some_and(|t| is_word(t, "SLAVE") || is_word(t, "REPLICA"))
            {
                end += 2;
            }
            status = Some((head[i].start, head[end - 1].end));
            break;
        }
        i += 1;
    }
    if let Some((a, b)) = status {
        return Ok(format!("{}DISABLE{}", &statement[..a], &statement[b..]));
    }
    if !create {
        return Ok(statement.to_owned());
    }
    let at = head
        .iter()
        .find(|t| is_word(t, "COMMENT"))
        .or_else(|| body.map(|b| &toks[b]))
        .map(|t| t.start)
        .ok_or("the event has no body")?;
    Ok(format!("{}DISABLE {}", &statement[..at], &statement[at..]))
}

/// The first MariaDB-only construct in an object's definition that a MySQL server cannot read
/// (sequence functions, `ROW TYPE OF`, `RETURNING`, MariaDB's own types, `OR REPLACE` on
/// anything but a view), read by tokens so strings and comments never count.
pub fn mariadb_only_construct(kind: ObjectKind, statement: &str) -> Option<String> {
    let toks = tokens(statement).ok()?;
    let words: Vec<String> = toks
        .iter()
        .map(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
            _ => String::new(),
        })
        .collect();
    let at = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    for i in 0..words.len() {
        let w = at(i);
        let found = match w {
            "NEXTVAL" | "LASTVAL" | "SETVAL"
                if matches!(toks.get(i + 1).map(|t| &t.token), Some(Token::LParen)) =>
            {
                Some(format!("sequence function {w}()"))
            }
            "NEXT" | "PREVIOUS" if at(i + 1) == "VALUE" && at(i + 2) == "FOR" => {
                Some(format!("{w} VALUE FOR (sequences)"))
            }
            "ROW" if at(i + 1) == "TYPE" && at(i + 2) == "OF" => Some("ROW TYPE OF".into()),
            "RETURNING" => Some("RETURNING".into()),
            "INET4" | "INET6" | "UUID"
                if !matches!(toks.get(i + 1).map(|t| &t.token), Some(Token::LParen)) =>
            {
                Some(format!("MariaDB type {w}"))
            }
            "OR" if i == 1
                && at(0) == "CREATE"
                && at(2) == "REPLACE"
                && kind != ObjectKind::View =>
            {
                Some(format!("CREATE OR REPLACE {}", kind.keyword()))
            }
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// `'user'@'host'` of a `user@host` definer.
fn quoted_account(definer: &str) -> Option<(String, String, String)> {
    let (user, host) = definer.rsplit_once('@')?;
    Some((
        user.to_owned(),
        host.to_owned(),
        format!("{}@{}", quote_ident(user), quote_ident(host)),
    ))
}

/// Whether the task's destination account may name other accounts as definers.
async fn may_set_definers(conn: &mut Conn) -> bool {
    let grants: Vec<String> = conn.query("SHOW GRANTS").await.unwrap_or_default();
    grants.iter().any(|g| {
        let g = g.to_ascii_uppercase();
        g.contains(" ON *.*")
            && (g.contains("ALL PRIVILEGES") || g.contains("SUPER") || g.contains("SET USER"))
    })
}

async fn account_exists(conn: &mut Conn, user: &str, host: &str) -> bool {
    let found: Option<u8> = conn
        .exec_first(
            "SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?",
            (user, host),
        )
        .await
        .unwrap_or(None);
    found.is_some()
}

/// The definer an object gets at the destination: `Some(quoted)` to keep the source's,
/// `None` to drop it (the object then runs as the task's account), with the reason.
async fn definer_at_destination(
    conn: &mut Conn,
    definer: Option<&str>,
    may_set: bool,
) -> (Option<String>, Option<String>) {
    let Some(definer) = definer else {
        return (None, None);
    };
    let Some((user, host, quoted)) = quoted_account(definer) else {
        return (None, Some(format!("definer {definer} cannot be read")));
    };
    if !may_set {
        return (
            None,
            Some(format!(
                "definer {definer} is replaced by the task's destination account (it may not \
                 create objects for other accounts: it lacks SUPER / SET USER)"
            )),
        );
    }
    if !account_exists(conn, &user, &host).await {
        return (
            None,
            Some(format!(
                "definer {definer} does not exist at the destination; the task's destination \
                 account becomes the definer"
            )),
        );
    }
    (Some(quoted), None)
}

/// The statement the destination runs for an object statement (from schema sync or the log).
pub(super) async fn destination_statement(
    conn: &mut Conn,
    kind: ObjectKind,
    statement: &str,
    definer: Option<&str>,
) -> std::result::Result<String, String> {
    let creates = statement
        .split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("CREATE") || w.eq_ignore_ascii_case("ALTER"));
    if !creates {
        return Ok(statement.to_owned());
    }
    let definer = match definer {
        Some(d) => Some(d.to_owned()),
        None => definer_of(statement),
    };
    let may_set = may_set_definers(conn).await;
    let (keep, _) = definer_at_destination(conn, definer.as_deref(), may_set).await;
    let mut text = set_definer(statement, keep.as_deref())?;
    match kind {
        ObjectKind::Trigger if text_starts_with(&text, "CREATE") => text = guard_trigger(&text)?,
        ObjectKind::Event => text = disable_event(&text)?,
        _ => {}
    }
    Ok(text)
}

fn text_starts_with(text: &str, word: &str) -> bool {
    text.split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case(word))
}

/// The definer named in a statement's `DEFINER = …` clause, as `user@host` (`None` for
/// `CURRENT_USER` or without one).
pub fn definer_of(statement: &str) -> Option<String> {
    let toks = tokens(statement).ok()?;
    let at = toks.iter().position(|t| is_word(t, "DEFINER"))?;
    let mut parts = Vec::new();
    for t in &toks[at + 1..] {
        if AFTER_DEFINER.iter().any(|w| is_word(t, w)) {
            break;
        }
        match &t.token {
            Token::Eq | Token::AtSign => {}
            Token::Word(w) => parts.push(w.value.trim_start_matches('@').to_owned()),
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => parts.push(s.clone()),
            _ => {}
        }
    }
    match parts.as_slice() {
        [u, h] => Some(format!("{u}@{h}")),
        _ => None,
    }
}

/// `DROP … IF EXISTS` of the object, so creating it again replaces it.
fn drop_statement(object: &SchemaObject) -> String {
    format!(
        "DROP {} IF EXISTS {}.{}",
        object.kind.keyword(),
        quote_ident(&object.database),
        quote_ident(&object.name)
    )
}

impl MysqlSink {
    fn object_err(&self, object: &SchemaObject, what: &str, e: mysql_async::Error) -> Error {
        self.err(&format!("{what} {}", object.label()), e)
    }

    /// A connection with the object's session settings and database.
    async fn object_conn(&self, object: &SchemaObject) -> Result<Conn> {
        let mut conn = self.dedicated_conn().await?;
        let mode =
            crate::wire::session::for_destination(&object.sql_mode, self.server.is_mariadb());
        let mut settings = vec![format!("SESSION sql_mode = '{}'", mode.replace('\'', "''"))];
        if let Some(c) = &object.collation_connection {
            settings.push(format!(
                "collation_connection = '{}'",
                c.replace('\'', "''")
            ));
        }
        if let Some(tz) = &object.time_zone {
            settings.push(format!("time_zone = '{}'", tz.replace('\'', "''")));
        }
        conn.query_drop(format!("SET {}", settings.join(", ")))
            .await
            .map_err(|e| self.object_err(object, "session settings for", e))?;
        conn.query_drop(format!(
            "CREATE DATABASE IF NOT EXISTS {}",
            quote_ident(&object.database)
        ))
        .await
        .map_err(|e| self.object_err(object, "database of", e))?;
        conn.query_drop(format!("USE {}", quote_ident(&object.database)))
            .await
            .map_err(|e| self.object_err(object, "database of", e))?;
        Ok(conn)
    }

    pub(super) async fn create_schema_object(&self, object: &SchemaObject) -> Result<()> {
        let mut conn = self.object_conn(object).await?;
        let statement = destination_statement(
            &mut conn,
            object.kind,
            &object.definition,
            object.definer.as_deref(),
        )
        .await
        .map_err(|message| Error::Other {
            object: object.label(),
            message,
            cause: None,
        })?;
        conn.query_drop(drop_statement(object))
            .await
            .map_err(|e| self.object_err(object, "replace", e))?;
        let result = conn
            .query_drop(statement)
            .await
            .map_err(|e| self.object_err(object, "create", e));
        let _ = conn.disconnect().await;
        result
    }

    pub(super) fn object_cutover(&self, object: &SchemaObject, enable: bool) -> Vec<String> {
        if enable {
            return vec![format!(
                "ALTER EVENT {}.{} ENABLE",
                quote_ident(&object.database),
                quote_ident(&object.name)
            )];
        }
        // Run by the user at cutover: under their own account, so without the definer.
        let create = set_definer(&object.definition, None).unwrap_or(object.definition.clone());
        vec![
            format!("USE {}", quote_ident(&object.database)),
            drop_statement(object),
            create,
        ]
    }

    pub(super) async fn check_objects(
        &self,
        objects: &[SchemaObject],
        accounts: &[Account],
        mode: ConflictingTables,
    ) -> PrecheckReport {
        let mut report = PrecheckReport::default();
        let mut conn = match self.dedicated_conn().await {
            Ok(c) => c,
            Err(e) => {
                report.checks.push(CheckResult::error(
                    "destination.schema_objects",
                    format!("cannot connect to check views, routines, triggers and events: {e}"),
                    "make the destination reachable",
                ));
                return report;
            }
        };
        // Objects already there.
        let mut existing = Vec::new();
        for o in objects {
            let (table, schema_col, name_col) = match o.kind {
                ObjectKind::View => ("VIEWS", "TABLE_SCHEMA", "TABLE_NAME"),
                ObjectKind::Procedure | ObjectKind::Function => {
                    ("ROUTINES", "ROUTINE_SCHEMA", "ROUTINE_NAME")
                }
                ObjectKind::Trigger => ("TRIGGERS", "TRIGGER_SCHEMA", "TRIGGER_NAME"),
                ObjectKind::Event => ("EVENTS", "EVENT_SCHEMA", "EVENT_NAME"),
            };
            let found: Option<u8> = conn
                .exec_first(
                    format!(
                        "SELECT 1 FROM information_schema.{table} WHERE {schema_col} = ? AND \
                         {name_col} = ?"
                    ),
                    (&o.database, &o.name),
                )
                .await
                .unwrap_or(None);
            if found.is_some() {
                existing.push(o.label());
            }
        }
        report.checks.push(match (existing.is_empty(), mode) {
            (true, _) => CheckResult::pass(
                "destination.existing_objects",
                "no view, routine, trigger or event to create exists at the destination",
            ),
            (false, ConflictingTables::IgnoreErrorsAndProceed) => CheckResult::pass(
                "destination.existing_objects",
                format!(
                    "{} object(s) exist at the destination and will be replaced: {}",
                    existing.len(),
                    existing.join(", ")
                ),
            ),
            (false, ConflictingTables::PrecheckAndReportErrors) => CheckResult::error(
                "destination.existing_objects",
                format!(
                    "{} object(s) to create already exist at the destination: {}",
                    existing.len(),
                    existing.join(", ")
                ),
                "drop or rename them at the destination, or set conflicting_tables = \
                 \"ignore_errors_and_proceed\" to replace them",
            ),
        });
        // What a MySQL destination cannot read.
        if !self.server.is_mariadb() {
            let unreadable: Vec<String> = objects
                .iter()
                .filter_map(|o| {
                    mariadb_only_construct(o.kind, &o.definition)
                        .map(|c| format!("{} uses {c}", o.label()))
                })
                .collect();
            if !unreadable.is_empty() {
                report.checks.push(CheckResult::error(
                    "destination.schema_objects_dialect",
                    format!(
                        "the MySQL destination cannot create {} object(s): {}",
                        unreadable.len(),
                        unreadable.join("; ")
                    ),
                    "rewrite them for MySQL at the source, or leave them out with \
                     objects.exclude = [\"database.name\"]",
                ));
            }
        }
        // Definers.
        let may_set = may_set_definers(&mut conn).await;
        let migrated: Vec<String> = accounts
            .iter()
            .map(|a| format!("{}@{}", a.user, a.host))
            .collect();
        let mut changed = Vec::new();
        for o in objects {
            let Some(d) = &o.definer else { continue };
            if may_set && migrated.contains(d) {
                continue;
            }
            if let (None, Some(why)) = definer_at_destination(&mut conn, Some(d), may_set).await {
                changed.push(format!("{}: {why}", o.label()));
            }
        }
        report.checks.push(CheckResult::pass(
            "destination.object_definers",
            if changed.is_empty() {
                "every object keeps its definer".to_string()
            } else {
                format!(
                    "{} object(s) change definer (SQL SECURITY is kept): {}",
                    changed.len(),
                    changed.join("; ")
                )
            },
        ));
        if !accounts.is_empty() {
            report
                .checks
                .push(self.check_accounts(&mut conn, accounts).await);
        }
        let _ = conn.disconnect().await;
        report
    }

    async fn check_accounts(&self, conn: &mut Conn, accounts: &[Account]) -> CheckResult {
        let grants: Vec<String> = conn.query("SHOW GRANTS").await.unwrap_or_default();
        let can_create = grants.iter().any(|g| {
            let g = g.to_ascii_uppercase();
            g.contains(" ON *.*")
                && (g.contains("ALL PRIVILEGES") || g.contains("CREATE USER"))
                && g.contains("WITH GRANT OPTION")
        });
        if !can_create {
            return CheckResult::error(
                "destination.accounts",
                "the destination account cannot create accounts and grant privileges",
                "grant it CREATE USER ON *.* WITH GRANT OPTION (and the privileges to pass on)",
            );
        }
        let plugins: Vec<String> = conn
            .query(
                "SELECT LOWER(PLUGIN_NAME) FROM information_schema.PLUGINS WHERE PLUGIN_TYPE = \
                 'AUTHENTICATION' AND PLUGIN_STATUS = 'ACTIVE'",
            )
            .await
            .unwrap_or_default();
        let mut problems = Vec::new();
        let mut existing = Vec::new();
        for a in accounts {
            let plugin = a.plugin.to_ascii_lowercase();
            if !plugin.is_empty() && !plugins.contains(&plugin) {
                problems.push(format!(
                    "account {} uses authentication plugin {}, which the destination does not \
                     have",
                    a.label(),
                    a.plugin
                ));
            }
            if !self.server.is_mariadb() && a.create.contains("IDENTIFIED VIA") {
                problems.push(format!(
                    "account {} authenticates with a MariaDB-only clause the MySQL destination \
                     cannot read",
                    a.label()
                ));
            }
            if account_exists(conn, &a.user, &a.host).await {
                existing.push(a.label());
            }
        }
        if !problems.is_empty() {
            return CheckResult::error(
                "destination.accounts",
                problems.join("; "),
                "install the plugin at the destination, or leave the account out \
                 (migration.accounts)",
            );
        }
        let mut message = format!(
            "{} account(s) will be created with their grants on the selected objects",
            accounts.len()
        );
        if !existing.is_empty() {
            message.push_str(&format!(
                "; {} already exist and keep their credentials (grants are added): {}",
                existing.len(),
                existing.join(", ")
            ));
        }
        let left: Vec<String> = accounts
            .iter()
            .filter(|a| !a.left_out.is_empty())
            .map(|a| format!("{}: {}", a.label(), a.left_out.join(", ")))
            .collect();
        if !left.is_empty() {
            message.push_str(&format!(
                "; grants not on selected objects are left out — {}",
                left.join("; ")
            ));
        }
        CheckResult::pass("destination.accounts", message)
    }

    pub(super) async fn create_db_account(&self, account: &Account) -> Result<()> {
        let mut conn = self.dedicated_conn().await?;
        // Errors name the account, never the statement (it holds the credential hash).
        let fail = |what: &str, e: mysql_async::Error| {
            let code = match &e {
                mysql_async::Error::Server(s) => format!("server error {}: {}", s.code, s.message),
                other => other.to_string(),
            };
            Error::Other {
                object: format!("account {}", account.label()),
                message: format!("{what}: {}", code.replace(&account.create, "CREATE USER …")),
                cause: None,
            }
        };
        let create = create_user_statement(&account.create, self.server.is_mariadb());
        conn.query_drop(create)
            .await
            .map_err(|e| fail("create", e))?;
        let to = format!(
            "{}@{}",
            quote_ident(&account.user),
            quote_ident(&account.host)
        );
        for g in &account.grants {
            let on = match &g.scope {
                GrantScope::Database(d) => format!("{}.*", quote_ident(d)),
                GrantScope::Table(t) => {
                    format!("{}.{}", quote_ident(&t.database), quote_ident(&t.table))
                }
                GrantScope::Routine(k, t) => format!(
                    "{} {}.{}",
                    k.keyword(),
                    quote_ident(&t.database),
                    quote_ident(&t.table)
                ),
                GrantScope::Global | GrantScope::Other(_) => continue,
            };
            let option = if g.grant_option {
                " WITH GRANT OPTION"
            } else {
                ""
            };
            conn.query_drop(format!("GRANT {} ON {on} TO {to}{option}", g.privileges))
                .await
                .map_err(|e| fail(&format!("grant {} on {on}", g.privileges), e))?;
        }
        let _ = conn.disconnect().await;
        Ok(())
    }
}

/// The source's `CREATE USER` as `CREATE USER IF NOT EXISTS`, in the destination's dialect
/// (MariaDB's `IDENTIFIED BY PASSWORD '*hash'` is `IDENTIFIED WITH mysql_native_password AS
/// '*hash'` for MySQL).
pub fn create_user_statement(create: &str, mariadb: bool) -> String {
    let mut s = create.trim().to_owned();
    let upper = s.to_ascii_uppercase();
    if upper.starts_with("CREATE USER ") && !upper.starts_with("CREATE USER IF NOT EXISTS") {
        s = format!("CREATE USER IF NOT EXISTS {}", &s["CREATE USER ".len()..]);
    }
    if !mariadb {
        s = s.replace(
            "IDENTIFIED BY PASSWORD '",
            "IDENTIFIED WITH mysql_native_password AS '",
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definers_are_dropped_or_replaced() {
        let v = "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY DEFINER VIEW `v1` AS select 1";
        assert_eq!(
            set_definer(v, None).unwrap(),
            "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v1` AS select 1"
        );
        assert_eq!(
            set_definer(v, Some("`app`@`%`")).unwrap(),
            "CREATE ALGORITHM=UNDEFINED DEFINER=`app`@`%` SQL SECURITY DEFINER VIEW `v1` AS select 1"
        );
        assert_eq!(definer_of(v).as_deref(), Some("root@127.0.0.1"));
        let p = "CREATE DEFINER='a b'@'%' PROCEDURE p() SELECT 'DEFINER'";
        assert_eq!(
            set_definer(p, None).unwrap(),
            "CREATE PROCEDURE p() SELECT 'DEFINER'"
        );
        assert_eq!(definer_of(p).as_deref(), Some("a b@%"));
        assert_eq!(
            set_definer("CREATE DEFINER=CURRENT_USER() TRIGGER t", None).unwrap(),
            "CREATE TRIGGER t"
        );
        assert_eq!(definer_of("CREATE DEFINER=CURRENT_USER TRIGGER t"), None);
        assert_eq!(
            set_definer("CREATE VIEW v AS SELECT 1", None).unwrap(),
            "CREATE VIEW v AS SELECT 1"
        );
    }

    #[test]
    fn triggers_are_guarded() {
        let t = "CREATE TRIGGER tr AFTER INSERT ON t1 FOR EACH ROW BEGIN INSERT INTO a VALUES (NEW.id); END;";
        assert_eq!(
            guard_trigger(t).unwrap(),
            "CREATE TRIGGER tr AFTER INSERT ON t1 FOR EACH ROW IF @dts_task_write IS NULL THEN\nBEGIN INSERT INTO a VALUES (NEW.id); END;\nEND IF"
        );
        let f = "create trigger tr before update on t for each row follows other set new.a = 1";
        assert!(guard_trigger(f)
            .unwrap()
            .ends_with("follows other IF @dts_task_write IS NULL THEN\nset new.a = 1;\nEND IF"));
    }

    #[test]
    fn events_are_disabled() {
        let e = "CREATE DEFINER=`root`@`%` EVENT `e` ON SCHEDULE EVERY 1 HOUR STARTS '2026-12-07 12:52:12' ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM t2 WHERE b < 0";
        assert_eq!(
            disable_event(e).unwrap(),
            "CREATE DEFINER=`root`@`%` EVENT `e` ON SCHEDULE EVERY 1 HOUR STARTS '2026-12-07 12:52:12' ON COMPLETION NOT PRESERVE DISABLE DO DELETE FROM t2 WHERE b < 0"
        );
        assert_eq!(
            disable_event("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO UPDATE t SET enable = 1")
                .unwrap(),
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE DO UPDATE t SET enable = 1"
        );
        assert_eq!(
            disable_event("ALTER EVENT e ENABLE").unwrap(),
            "ALTER EVENT e DISABLE"
        );
        assert_eq!(
            disable_event("ALTER EVENT e DISABLE ON SLAVE COMMENT 'x'").unwrap(),
            "ALTER EVENT e DISABLE COMMENT 'x'"
        );
        assert_eq!(
            disable_event("ALTER EVENT e COMMENT 'y'").unwrap(),
            "ALTER EVENT e COMMENT 'y'"
        );
        assert_eq!(
            disable_event("CREATE EVENT e ON SCHEDULE EVERY 1 DAY COMMENT 'z' DO SELECT 1")
                .unwrap(),
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE COMMENT 'z' DO SELECT 1"
        );
    }

    #[test]
    fn mariadb_only_constructs_are_found_outside_strings() {
        let k = ObjectKind::Procedure;
        assert_eq!(
            mariadb_only_construct(k, "CREATE PROCEDURE p() INSERT INTO t VALUES (NEXTVAL(s))")
                .as_deref(),
            Some("sequence function NEXTVAL()")
        );
        assert_eq!(
            mariadb_only_construct(k, "CREATE OR REPLACE PROCEDURE p() SELECT 1").as_deref(),
            Some("CREATE OR REPLACE PROCEDURE")
        );
        assert_eq!(
            mariadb_only_construct(
                ObjectKind::Function,
                "CREATE FUNCTION f() RETURNS INET6 RETURN '::1'"
            )
            .as_deref(),
            Some("MariaDB type INET6")
        );
        assert_eq!(
            mariadb_only_construct(k, "CREATE PROCEDURE p() BEGIN DECLARE r ROW TYPE OF t; END")
                .as_deref(),
            Some("ROW TYPE OF")
        );
        assert_eq!(
            mariadb_only_construct(
                ObjectKind::View,
                "CREATE OR REPLACE VIEW v AS SELECT 'NEXTVAL(x)', UUID()"
            ),
            None
        );
        assert_eq!(
            mariadb_only_construct(k, "CREATE PROCEDURE p() SELECT 1 -- RETURNING"),
            None
        );
    }

    #[test]
    fn create_user_in_each_dialect() {
        let c = "CREATE USER `app`@`%` IDENTIFIED BY PASSWORD '*ABC'";
        assert_eq!(
            create_user_statement(c, true),
            "CREATE USER IF NOT EXISTS `app`@`%` IDENTIFIED BY PASSWORD '*ABC'"
        );
        assert_eq!(
            create_user_statement(c, false),
            "CREATE USER IF NOT EXISTS `app`@`%` IDENTIFIED WITH mysql_native_password AS '*ABC'"
        );
    }
}
