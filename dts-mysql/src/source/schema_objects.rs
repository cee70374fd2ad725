//! The source's accounts (`SHOW CREATE USER`, `SHOW GRANTS`) and the checks of its objects'
//! definers; the objects themselves are read by [`crate::wire::catalog::objects`].

use crate::wire::catalog::objects::map;
use crate::wire::ident::quote_ident;
use dts_core::{Account, Error, Grant, GrantScope, ObjectKind, Result, SchemaObject, TableId};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// `source.object_definers` (warning): objects whose definer account does not exist at the
/// source — they fail there when used (MySQL error 1449), and would at the destination too.
pub async fn check_definers(
    ep: &crate::MysqlEndpoint,
    objects: &[SchemaObject],
) -> dts_core::PrecheckReport {
    use dts_core::precheck::CheckResult;
    let mut report = dts_core::PrecheckReport::default();
    let mut conn = match ep.connect().await {
        Ok(c) => c,
        Err(e) => {
            report.checks.push(CheckResult::error(
                "source.object_definers",
                format!("cannot connect to read the objects' definers: {e}"),
                "make the source reachable",
            ));
            return report;
        }
    };
    let accounts: std::result::Result<Vec<(String, String)>, _> =
        conn.query("SELECT User, Host FROM mysql.user").await;
    let Ok(accounts) = accounts else {
        report.checks.push(CheckResult::pass(
            "source.object_definers",
            "definers not checked: the source account may not read mysql.user",
        ));
        return report;
    };
    let orphans: Vec<String> = objects
        .iter()
        .filter_map(|o| {
            let definer = o.definer.as_deref()?;
            let (user, host) = definer.rsplit_once('@')?;
            let known = accounts.iter().any(|(u, h)| u == user && h == host);
            (!known).then(|| format!("{} (definer {definer})", o.label()))
        })
        .collect();
    report.checks.push(if orphans.is_empty() {
        CheckResult::pass(
            "source.object_definers",
            "every object's definer exists at the source",
        )
    } else {
        CheckResult::warning(
            "source.object_definers",
            format!(
                "{} object(s) have a definer that does not exist at the source, so they fail \
                 when used (error 1449): {}",
                orphans.len(),
                orphans.join(", ")
            ),
            "create the definer accounts (or recreate the objects with an existing definer), \
             or acknowledge: the destination gives them the task's account as definer",
        )
    });
    report
}

/// System accounts that are never migrated.
const SYSTEM_ACCOUNTS: [&str; 5] = [
    "mariadb.sys",
    "mysql.sys",
    "mysql.session",
    "mysql.infoschema",
    "root",
];

/// The accounts named (`user@host`), or every account but the server's own (and `root`),
/// each with its `CREATE USER` and grants.
pub async fn read_accounts(
    conn: &mut Conn,
    names: &[String],
    mariadb: bool,
) -> Result<Vec<Account>> {
    let list = if mariadb {
        "SELECT User, Host, plugin FROM mysql.user WHERE is_role = 'N' ORDER BY 1, 2"
    } else {
        "SELECT User, Host, plugin FROM mysql.user ORDER BY 1, 2"
    };
    let all: Vec<(String, String, String)> =
        conn.query(list).await.map_err(map("list accounts"))?;
    let mut wanted = Vec::new();
    if names.is_empty() {
        wanted.extend(
            all.into_iter()
                .filter(|(u, _, _)| !u.is_empty() && !SYSTEM_ACCOUNTS.contains(&u.as_str())),
        );
    } else {
        for name in names {
            let (user, host) = name.rsplit_once('@').unwrap_or((name.as_str(), "%"));
            match all.iter().find(|(u, h, _)| u == user && h == host) {
                Some(a) => wanted.push(a.clone()),
                None => {
                    return Err(Error::Other {
                        object: format!("account '{user}'@'{host}'"),
                        message: "migration.accounts names it, but the source has no such \
                                  account"
                            .into(),
                        cause: None,
                    })
                }
            }
        }
    }
    let mut out = Vec::with_capacity(wanted.len());
    for (user, host, plugin) in wanted {
        let account = format!("{}@{}", quote_ident(&user), quote_ident(&host));
        let create: Option<String> = conn
            .query_first(format!("SHOW CREATE USER {account}"))
            .await
            .map_err(map("read account"))?;
        let create = create.ok_or_else(|| Error::Other {
            object: format!("account '{user}'@'{host}'"),
            message: "SHOW CREATE USER returned nothing".into(),
            cause: None,
        })?;
        let lines: Vec<String> = conn
            .query(format!("SHOW GRANTS FOR {account}"))
            .await
            .map_err(map("read account grants"))?;
        let mut grants = Vec::new();
        let mut left_out = Vec::new();
        for line in &lines {
            match parse_grant(line) {
                Some(g) if !matches!(g.scope, GrantScope::Global | GrantScope::Other(_)) => {
                    grants.push(g)
                }
                Some(g) if g.privileges.eq_ignore_ascii_case("USAGE") => {}
                Some(g) => left_out.push(format!("{} ON {}", g.privileges, g.scope)),
                None => left_out.push("a grant the task cannot read".into()),
            }
        }
        out.push(Account {
            user,
            host,
            plugin,
            create,
            grants,
            left_out,
        });
    }
    Ok(out)
}

/// Splits off a leading identifier (backticked, quoted or bare); returns it and the rest.
fn take_ident(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    let quote = s.chars().next()?;
    if quote == '`' || quote == '\'' || quote == '"' {
        let mut out = String::new();
        let mut chars = s[1..].char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                if chars.peek().is_some_and(|(_, n)| *n == quote) {
                    out.push(quote);
                    chars.next();
                    continue;
                }
                return Some((out, &s[1 + i + 1..]));
            }
            out.push(c);
        }
        None
    } else {
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(s.len());
        (end > 0).then(|| (s[..end].to_owned(), &s[end..]))
    }
}

/// One line of `SHOW GRANTS`: `GRANT privs ON target TO account [… WITH GRANT OPTION]`.
/// A role or proxy grant is [`GrantScope::Other`]. Never keeps an `IDENTIFIED BY` clause.
pub fn parse_grant(line: &str) -> Option<Grant> {
    let rest = line.trim().strip_prefix("GRANT ")?;
    // " ON " outside backticks and parentheses ends the privilege list.
    let mut depth = 0i32;
    let mut in_quote = false;
    let mut on_at = None;
    let bytes = rest.as_bytes();
    for (i, c) in rest.char_indices() {
        match c {
            '`' => in_quote = !in_quote,
            '(' if !in_quote => depth += 1,
            ')' if !in_quote => depth -= 1,
            ' ' if !in_quote && depth == 0 && rest[i..].starts_with(" ON ") => {
                on_at = Some(i);
                break;
            }
            _ => {}
        }
        let _ = bytes;
    }
    let grant_option = line.trim_end().ends_with("WITH GRANT OPTION");
    let Some(on_at) = on_at else {
        return Some(Grant {
            privileges: String::new(),
            scope: GrantScope::Other("role".into()),
            grant_option,
        });
    };
    let privileges = rest[..on_at].trim().to_owned();
    let mut target = rest[on_at + 4..].trim_start();
    let mut routine = None;
    for (word, kind) in [
        ("PROCEDURE ", ObjectKind::Procedure),
        ("FUNCTION ", ObjectKind::Function),
        ("TABLE ", ObjectKind::View),
    ] {
        if let Some(t) = target.strip_prefix(word) {
            target = t;
            if kind != ObjectKind::View {
                routine = Some(kind);
            }
        }
    }
    if privileges.to_ascii_uppercase().starts_with("PROXY") {
        return Some(Grant {
            privileges,
            scope: GrantScope::Other("proxy".into()),
            grant_option,
        });
    }
    let scope = if let Some(rest) = target.strip_prefix("*.*") {
        let _ = rest;
        GrantScope::Global
    } else {
        let (db, rest) = take_ident(target)?;
        let rest = rest.strip_prefix('.')?;
        if rest.starts_with('*') {
            GrantScope::Database(db)
        } else {
            let (name, _) = take_ident(rest)?;
            let id = TableId::new(db, name);
            match routine {
                Some(k) => GrantScope::Routine(k, id),
                None => GrantScope::Table(id),
            }
        }
    };
    Some(Grant {
        privileges,
        scope,
        grant_option,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_by_scope() {
        let g = parse_grant("GRANT SELECT, INSERT ON `shop`.* TO `app`@`%`").unwrap();
        assert_eq!(g.privileges, "SELECT, INSERT");
        assert_eq!(g.scope, GrantScope::Database("shop".into()));
        let g = parse_grant("GRANT SELECT (`a`, `b c`), UPDATE (`a`) ON `shop`.`t``x` TO `app`@`%` WITH GRANT OPTION").unwrap();
        assert_eq!(g.privileges, "SELECT (`a`, `b c`), UPDATE (`a`)");
        assert_eq!(g.scope, GrantScope::Table(TableId::new("shop", "t`x")));
        assert!(g.grant_option);
        let g = parse_grant("GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `app`@`%`").unwrap();
        assert_eq!(
            g.scope,
            GrantScope::Routine(ObjectKind::Procedure, TableId::new("shop", "p"))
        );
        let g =
            parse_grant("GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*A1B2'").unwrap();
        assert_eq!(g.scope, GrantScope::Global);
        assert!(!format!("{g:?}").contains("A1B2"));
        assert_eq!(
            parse_grant("GRANT `reader` TO `app`@`%`").unwrap().scope,
            GrantScope::Other("role".into())
        );
        assert_eq!(
            parse_grant("GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION")
                .unwrap()
                .scope,
            GrantScope::Other("proxy".into())
        );
    }
}
