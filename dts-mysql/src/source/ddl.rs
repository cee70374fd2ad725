//! Classification of the statements carried by binlog QUERY events.
//!
//! The binlog carries schema changes as SQL text. Before anything downstream can react to one
//! (drop a cached table schema, hold back parallel apply, replay it on the destination, filter it
//! by table) it has to know what kind of statement it is and which tables it touches.
//! [`classify`] answers that. It parses with sqlparser's MySQL dialect first; because sqlparser
//! does not know every MySQL and MariaDB extension (`ALTER ONLINE TABLE`, `RENAME TABLE … WAIT n`,
//! `ADD COLUMN IF NOT EXISTS`, partition clauses in versioned comments, …) it falls back to a
//! small recognizer of the leading keywords that only has to find the kind and the table names.
//! It never fails: a statement neither can read comes back as [`DdlKind::Unparsed`] with the
//! text intact.
//!
//! [`is_ddl_statement`] and [`is_transaction_control`] are cheap checks on the first keyword so
//! the binlog reader can route `BEGIN`, `COMMIT`, `XA …` and statement-based DML without parsing.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};

use dts_core::{Ddl, DdlKind, ObjectKind, TableId};
use sqlparser::ast::{
    AlterTableOperation, CreateTableLikeKind, ObjectName, ObjectType, RenameTableNameKind,
    Statement,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

/// Classifies one statement from a binlog QUERY event.
///
/// `default_database` is the session's default database recorded in the event; unqualified
/// table names are qualified with it (with the empty string when there is none, which the
/// server only allows for statements that name no unqualified table). The returned [`Ddl`]
/// keeps the statement verbatim and lists the tables it touches in statement order: for
/// `RENAME TABLE a TO b, c TO d` that is `a, b, c, d`; for `ALTER TABLE … RENAME TO x` the old
/// name then the new one; for `CREATE TABLE t LIKE s` `t` then `s`; for `CREATE`/`DROP INDEX …
/// ON t` `t`; for database statements nothing. An `ALTER TABLE` whose only change is a rename
/// (optionally with `ALGORITHM=`/`LOCK=`) is [`DdlKind::RenameTable`].
///
/// Statements that are not schema changes of tables, indexes or databases (transaction control,
/// DML logged in statement format, grants, views, triggers, routines, …) are
/// [`DdlKind::Other`]; views and sequences list their own name, triggers the table they are
/// on. This function never panics: text that cannot be read is [`DdlKind::Unparsed`] with no
/// tables.
pub fn classify(statement: &str, default_database: Option<&str>) -> Ddl {
    let (kind, tables) = analyze(statement, default_database);
    Ddl {
        database: default_database.map(str::to_owned),
        statement: statement.to_owned(),
        kind,
        tables,
        sql_mode: None,
    }
}

/// True when the first keyword (after whitespace and comments) is `CREATE`, `ALTER`, `DROP`,
/// `RENAME` or `TRUNCATE`.
///
/// A cheap pre-filter: the binlog reader calls it on every QUERY event so that `BEGIN`,
/// `COMMIT` and statement-based DML skip [`classify`]. Executable comments (`/*!50100 … */`)
/// count as statement text, as the server treats them.
pub fn is_ddl_statement(statement: &str) -> bool {
    let mut r = Reader::new(statement);
    matches!(r.peek(), Some(Tok::Word(w)) if DDL_VERBS.iter().any(|k| w.eq_ignore_ascii_case(k)))
}

/// True for transaction control: `BEGIN`, `START TRANSACTION`, `COMMIT`, `ROLLBACK`,
/// `SAVEPOINT`, `RELEASE SAVEPOINT` and `XA …`.
///
/// The binlog reader uses it to recognise the QUERY events that delimit transactions (and the
/// XA ones) rather than change anything. MariaDB's `BEGIN NOT ATOMIC` compound statement is not
/// transaction control.
pub fn is_transaction_control(statement: &str) -> bool {
    let mut r = Reader::new(statement);
    let Some(Tok::Word(first)) = r.bump() else {
        return false;
    };
    match first.to_ascii_uppercase().as_str() {
        "BEGIN" => !r.is_kw_at(0, "NOT"),
        "COMMIT" | "ROLLBACK" | "XA" | "SAVEPOINT" => true,
        "START" => r.is_kw_at(0, "TRANSACTION"),
        "RELEASE" => r.is_kw_at(0, "SAVEPOINT"),
        _ => false,
    }
}

/// Verbs that start a statement [`classify`] may report as a table or database change.
const DDL_VERBS: [&str; 5] = ["CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"];

/// First keywords of statements that exist in MySQL or MariaDB but change no schema.
const OTHER_STATEMENTS: &[&str] = &[
    "ANALYZE",
    "BACKUP",
    "BEGIN",
    "BINLOG",
    "CACHE",
    "CALL",
    "CHANGE",
    "CHECK",
    "CHECKSUM",
    "CLONE",
    "COMMIT",
    "DEALLOCATE",
    "DECLARE",
    "DELETE",
    "DESC",
    "DESCRIBE",
    "DO",
    "EXECUTE",
    "EXPLAIN",
    "FLUSH",
    "GET",
    "GRANT",
    "HANDLER",
    "HELP",
    "IMPORT",
    "INSERT",
    "INSTALL",
    "KILL",
    "LOAD",
    "LOCK",
    "OPTIMIZE",
    "PREPARE",
    "PURGE",
    "RELEASE",
    "REPAIR",
    "REPLACE",
    "RESET",
    "RESIGNAL",
    "RESTART",
    "REVOKE",
    "ROLLBACK",
    "SAVEPOINT",
    "SELECT",
    "SET",
    "SHOW",
    "SHUTDOWN",
    "SIGNAL",
    "START",
    "STOP",
    "TABLE",
    "UNINSTALL",
    "UNLOCK",
    "UPDATE",
    "USE",
    "VALUES",
    "WITH",
    "XA",
];

/// Objects of `CREATE`/`ALTER`/`DROP` that are neither tables, indexes nor databases and have no
/// table worth naming.
const OTHER_OBJECTS: &[&str] = &[
    "EVENT",
    "FUNCTION",
    "INSTANCE",
    "LOGFILE",
    "PACKAGE",
    "PREPARE",
    "PROCEDURE",
    "REFERENCE",
    "RESOURCE",
    "ROLE",
    "SERVER",
    "SPATIAL",
    "TABLESPACE",
    "TRIGGER",
    "UNDO",
    "USER",
];

type Classified = (DdlKind, Vec<TableId>);

fn analyze(statement: &str, default_db: Option<&str>) -> Classified {
    if let Some((kind, tables)) = schema_object_statement(statement, default_db) {
        return (DdlKind::Object(kind), tables);
    }
    // Only statements that can be DDL go to sqlparser: the rest (notably statement-based DML,
    // which can be huge) only needs its first keyword.
    if is_ddl_statement(statement) {
        if let Some(found) = with_sqlparser(statement, default_db) {
            return found;
        }
    }
    fallback(statement, default_db).unwrap_or((DdlKind::Unparsed, Vec::new()))
}

/// CREATE / ALTER / DROP of a view, routine, trigger or event, read from its leading words
/// (routine bodies are beyond sqlparser): the object's kind, its qualified name(s), and for
/// `CREATE TRIGGER` the table it is on. A trigger or routine lives in its own database; an
/// unqualified trigger table belongs to the trigger's database.
fn schema_object_statement(
    statement: &str,
    db: Option<&str>,
) -> Option<(ObjectKind, Vec<TableId>)> {
    let mut r = Reader::new(statement);
    let verb = r.keyword()?;
    if !matches!(verb.as_str(), "CREATE" | "ALTER" | "DROP") {
        return None;
    }
    if verb == "CREATE" {
        r.eat_kws(&["OR", "REPLACE"]);
    }
    if verb != "DROP" {
        r.skip_object_modifiers(&["AGGREGATE"])?;
    }
    let kind = ObjectKind::from_keyword(&r.keyword()?)?;
    if verb == "CREATE" {
        r.if_not_exists();
    } else if verb == "DROP" {
        r.if_exists();
    }
    let mut tables = if kind == ObjectKind::View && verb == "DROP" {
        r.table_list(db)?
    } else {
        vec![r.table(db)?]
    };
    if kind == ObjectKind::Trigger && verb == "CREATE" {
        r.skip_past_kw("ON")?;
        let trigger_db = tables[0].database.clone();
        tables.push(r.table(Some(&trigger_db))?);
    }
    Some((kind, tables))
}

/// `db.table` from a name as written: unqualified names belong to the default database.
fn qualify(database: Option<String>, table: String, default_db: Option<&str>) -> TableId {
    TableId {
        database: database.unwrap_or_else(|| default_db.unwrap_or_default().to_owned()),
        table,
    }
}

// ---------------------------------------------------------------------------------------------
// sqlparser path
// ---------------------------------------------------------------------------------------------

/// Kind and tables from sqlparser's AST; `None` when sqlparser cannot read the statement (or
/// reads it as something other than one statement, or in a way known to be wrong).
fn with_sqlparser(statement: &str, default_db: Option<&str>) -> Option<Classified> {
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        Parser::parse_sql(&MySqlDialect {}, statement)
    }))
    .ok()?
    .ok()?;
    let [stmt] = parsed.as_slice() else {
        return None;
    };
    from_ast(stmt, default_db)
}

fn object_table(name: &ObjectName, default_db: Option<&str>) -> Option<TableId> {
    let mut parts = Vec::with_capacity(2);
    for part in &name.0 {
        parts.push(part.as_ident()?.value.clone());
    }
    let table = parts.pop()?;
    let database = parts.pop();
    // MySQL names have at most two parts and none is empty.
    if !parts.is_empty() || table.is_empty() || database.as_ref().is_some_and(String::is_empty) {
        return None;
    }
    Some(qualify(database, table, default_db))
}

fn object_tables<'a>(
    names: impl IntoIterator<Item = &'a ObjectName>,
    default_db: Option<&str>,
) -> Option<Vec<TableId>> {
    names
        .into_iter()
        .map(|n| object_table(n, default_db))
        .collect()
}

fn from_ast(stmt: &Statement, db: Option<&str>) -> Option<Classified> {
    let found = match stmt {
        Statement::CreateTable(create) => {
            // The MySQL dialect reads `CREATE TABLE t (LIKE s)` as a column named LIKE of type
            // `s`; LIKE is reserved, so an unquoted column of that name is always this misread.
            if create
                .columns
                .iter()
                .any(|c| c.name.quote_style.is_none() && c.name.value.eq_ignore_ascii_case("like"))
            {
                return None;
            }
            let mut tables = vec![object_table(&create.name, db)?];
            if let Some(
                CreateTableLikeKind::Plain(like) | CreateTableLikeKind::Parenthesized(like),
            ) = &create.like
            {
                tables.push(object_table(&like.name, db)?);
            }
            (DdlKind::CreateTable, tables)
        }
        Statement::AlterTable(alter) => {
            if alter.table_type.is_some() {
                return None;
            }
            let mut tables = vec![object_table(&alter.name, db)?];
            let (mut renamed, mut changed) = (false, false);
            for op in &alter.operations {
                match op {
                    AlterTableOperation::RenameTable {
                        table_name: RenameTableNameKind::To(new) | RenameTableNameKind::As(new),
                    } => {
                        tables.push(object_table(new, db)?);
                        renamed = true;
                    }
                    AlterTableOperation::Algorithm { .. } | AlterTableOperation::Lock { .. } => {}
                    _ => changed = true,
                }
            }
            let kind = if renamed && !changed {
                DdlKind::RenameTable
            } else {
                DdlKind::AlterTable
            };
            (kind, tables)
        }
        Statement::RenameTable(pairs) => {
            let mut tables = Vec::with_capacity(pairs.len() * 2);
            for pair in pairs {
                tables.push(object_table(&pair.old_name, db)?);
                tables.push(object_table(&pair.new_name, db)?);
            }
            (DdlKind::RenameTable, tables)
        }
        Statement::Truncate(truncate) => (
            DdlKind::TruncateTable,
            object_tables(truncate.table_names.iter().map(|t| &t.name), db)?,
        ),
        Statement::Drop {
            object_type,
            names,
            table,
            ..
        } => match object_type {
            ObjectType::Table => (DdlKind::DropTable, object_tables(names, db)?),
            ObjectType::Database | ObjectType::Schema => (DdlKind::DropDatabase, Vec::new()),
            // MySQL's DROP INDEX always names its table.
            ObjectType::Index => (DdlKind::DropIndex, vec![object_table(table.as_ref()?, db)?]),
            ObjectType::View | ObjectType::Sequence => (DdlKind::Other, object_tables(names, db)?),
            _ => (DdlKind::Other, Vec::new()),
        },
        Statement::CreateDatabase { .. } | Statement::CreateSchema { .. } => {
            (DdlKind::CreateDatabase, Vec::new())
        }
        Statement::AlterSchema(_) => (DdlKind::AlterDatabase, Vec::new()),
        Statement::CreateIndex(index) => (
            DdlKind::CreateIndex,
            vec![object_table(&index.table_name, db)?],
        ),
        Statement::CreateView(view) => (DdlKind::Other, vec![object_table(&view.name, db)?]),
        Statement::AlterView(view) => (DdlKind::Other, vec![object_table(&view.name, db)?]),
        Statement::CreateSequence { name, .. } => (DdlKind::Other, vec![object_table(name, db)?]),
        Statement::CreateTrigger(trigger) => {
            // A trigger lives in its table's database: a qualified trigger name settles where an
            // unqualified table is.
            let trigger_db = object_table(&trigger.name, db)?.database;
            (
                DdlKind::Other,
                vec![object_table(&trigger.table_name, Some(&trigger_db))?],
            )
        }
        Statement::DropTrigger(trigger) => (
            DdlKind::Other,
            object_tables(trigger.table_name.as_ref(), db)?,
        ),
        _ => (DdlKind::Other, Vec::new()),
    };
    Some(found)
}

// ---------------------------------------------------------------------------------------------
// Fallback: tokenizer and leading-keyword recognizer
// ---------------------------------------------------------------------------------------------

/// A token of the fallback recognizer. Whitespace and comments are dropped; the content of
/// executable comments (`/*!50100 … */`, MariaDB's `/*M!100100 … */`) is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    /// An unquoted word: a keyword or a bare identifier, as spelled.
    Word(String),
    /// A backtick-quoted identifier, with doubled backticks undone.
    Quoted(String),
    /// A double-quoted string: an identifier when the session ran with `ANSI_QUOTES`.
    DoubleQuoted(String),
    /// A single-quoted string literal (its content is never needed).
    Str,
    /// Any other character.
    Punct(char),
    /// An unterminated quote: nothing after it can be read.
    Invalid,
}

/// Characters of an unquoted MySQL identifier: ASCII letters, digits, `$`, `_` and anything
/// beyond ASCII.
fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$' || !c.is_ascii()
}

/// Lazily splits a statement into [`Tok`]s, so classifying a huge DML statement only reads its
/// first word.
struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    in_executable_comment: bool,
    done: bool,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            in_executable_comment: false,
            done: false,
        }
    }

    fn next_tok(&mut self) -> Option<Tok> {
        if self.done {
            return None;
        }
        loop {
            let rest = &self.text[self.pos..];
            let Some(c) = rest.chars().next() else {
                self.done = true;
                return None;
            };
            if c.is_whitespace() {
                self.pos += c.len_utf8();
                continue;
            }
            if let Some(body) = rest.strip_prefix("/*") {
                if let Some(after) = body.strip_prefix('!').or_else(|| body.strip_prefix("M!")) {
                    // Executable comment: its content is statement text (the server that wrote
                    // the binlog ran it); skip the marker and the version number.
                    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                    self.pos = self.text.len() - after.len() + digits;
                    self.in_executable_comment = true;
                } else {
                    self.pos = match body.find("*/") {
                        Some(end) => self.pos + 2 + end + 2,
                        None => self.text.len(),
                    };
                }
                continue;
            }
            if self.in_executable_comment && rest.starts_with("*/") {
                self.pos += 2;
                self.in_executable_comment = false;
                continue;
            }
            let dash_comment = rest.strip_prefix("--").is_some_and(|after| {
                after
                    .chars()
                    .next()
                    .is_none_or(|n| n.is_whitespace() || n.is_control())
            });
            if c == '#' || dash_comment {
                self.pos = match rest.find('\n') {
                    Some(end) => self.pos + end + 1,
                    None => self.text.len(),
                };
                continue;
            }
            if is_ident_char(c) {
                let len = rest.find(|ch| !is_ident_char(ch)).unwrap_or(rest.len());
                self.pos += len;
                return Some(Tok::Word(rest[..len].to_owned()));
            }
            let quoted = match c {
                '`' => read_quoted(rest, '`', false).map(|(s, n)| (Tok::Quoted(s), n)),
                '"' => read_quoted(rest, '"', true).map(|(s, n)| (Tok::DoubleQuoted(s), n)),
                '\'' => read_quoted(rest, '\'', true).map(|(_, n)| (Tok::Str, n)),
                _ => {
                    self.pos += c.len_utf8();
                    return Some(Tok::Punct(c));
                }
            };
            return match quoted {
                Some((tok, len)) => {
                    self.pos += len;
                    Some(tok)
                }
                None => {
                    self.done = true;
                    Some(Tok::Invalid)
                }
            };
        }
    }
}

/// Reads a quoted token at the start of `text` (which begins with `quote`): returns the content
/// with doubled quotes undone and the number of bytes consumed, or `None` when unterminated.
/// With `backslash`, a backslash protects the next character from ending the token (it is kept
/// in the content: only identifiers' content is ever used, and they have no escapes).
fn read_quoted(text: &str, quote: char, backslash: bool) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((i, ch)) = chars.next() {
        if backslash && ch == '\\' {
            out.push(ch);
            if let Some((_, next)) = chars.next() {
                out.push(next);
            }
        } else if ch == quote {
            if chars.peek().is_some_and(|&(_, next)| next == quote) {
                chars.next();
                out.push(quote);
            } else {
                return Some((out, i + ch.len_utf8()));
            }
        } else {
            out.push(ch);
        }
    }
    None
}

/// Token reader with lookahead over a [`Lexer`].
struct Reader<'a> {
    lexer: Lexer<'a>,
    ahead: VecDeque<Tok>,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            lexer: Lexer::new(text),
            ahead: VecDeque::new(),
        }
    }

    fn peek_n(&mut self, n: usize) -> Option<&Tok> {
        while self.ahead.len() <= n {
            let tok = self.lexer.next_tok()?;
            self.ahead.push_back(tok);
        }
        self.ahead.get(n)
    }

    fn peek(&mut self) -> Option<&Tok> {
        self.peek_n(0)
    }

    fn bump(&mut self) -> Option<Tok> {
        self.peek();
        self.ahead.pop_front()
    }

    fn is_kw_at(&mut self, n: usize, kw: &str) -> bool {
        matches!(self.peek_n(n), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn is_name_at(&mut self, n: usize) -> bool {
        matches!(
            self.peek_n(n),
            Some(Tok::Word(_) | Tok::Quoted(_) | Tok::DoubleQuoted(_))
        )
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let found = self.is_kw_at(0, kw);
        if found {
            self.bump();
        }
        found
    }

    fn eat_any_kw(&mut self, kws: &[&str]) -> bool {
        kws.iter().any(|kw| self.eat_kw(kw))
    }

    /// Consumes the keyword sequence only when all of it is there.
    fn eat_kws(&mut self, kws: &[&str]) -> bool {
        let found = kws.iter().enumerate().all(|(i, kw)| self.is_kw_at(i, kw));
        if found {
            for _ in kws {
                self.bump();
            }
        }
        found
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let found = self.peek() == Some(&Tok::Punct(c));
        if found {
            self.bump();
        }
        found
    }

    /// The next word, upper-cased, if the next token is an unquoted word.
    fn keyword(&mut self) -> Option<String> {
        match self.bump()? {
            Tok::Word(w) => Some(w.to_ascii_uppercase()),
            _ => None,
        }
    }

    fn ident(&mut self) -> Option<String> {
        if !self.is_name_at(0) {
            return None;
        }
        match self.bump()? {
            Tok::Word(s) | Tok::Quoted(s) | Tok::DoubleQuoted(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// `name` or `db.name`.
    fn name(&mut self) -> Option<(Option<String>, String)> {
        let first = self.ident()?;
        if self.eat_punct('.') {
            Some((Some(first), self.ident()?))
        } else {
            Some((None, first))
        }
    }

    fn table(&mut self, default_db: Option<&str>) -> Option<TableId> {
        let (database, table) = self.name()?;
        Some(qualify(database, table, default_db))
    }

    fn table_list(&mut self, default_db: Option<&str>) -> Option<Vec<TableId>> {
        let mut tables = vec![self.table(default_db)?];
        while self.eat_punct(',') {
            tables.push(self.table(default_db)?);
        }
        Some(tables)
    }

    fn if_exists(&mut self) {
        self.eat_kws(&["IF", "EXISTS"]);
    }

    fn if_not_exists(&mut self) {
        self.eat_kws(&["IF", "NOT", "EXISTS"]);
    }

    /// MariaDB's `WAIT n` / `NOWAIT` lock-timeout clause.
    fn wait_clause(&mut self) {
        if !self.eat_kw("NOWAIT") && self.is_kw_at(0, "WAIT") && self.is_name_at(1) {
            self.bump();
            self.bump();
        }
    }

    /// Skips tokens up to and including the keyword `kw`; `None` if it never comes.
    fn skip_past_kw(&mut self, kw: &str) -> Option<()> {
        loop {
            if self.eat_kw(kw) {
                return Some(());
            }
            if matches!(self.bump()?, Tok::Invalid) {
                return None;
            }
        }
    }

    /// Skips the clauses that may sit between `CREATE`/`ALTER` and the object keyword:
    /// `DEFINER = user`, `ALGORITHM = x`, `SQL SECURITY x` and the single-word modifiers given.
    fn skip_object_modifiers(&mut self, words: &[&str]) -> Option<()> {
        loop {
            if self.eat_kw("DEFINER") {
                self.eat_punct('=');
                self.bump()?; // user, or CURRENT_USER
                if self.eat_punct('@') {
                    self.bump()?;
                } else if self.eat_punct('(') {
                    self.eat_punct(')');
                }
            } else if self.eat_kw("ALGORITHM") {
                self.eat_punct('=');
                self.bump()?;
            } else if self.eat_kws(&["SQL", "SECURITY"]) {
                self.bump()?;
            } else if !self.eat_any_kw(words) {
                return Some(());
            }
        }
    }
}

/// Kind and tables from the leading keywords alone; `None` when even those cannot be read.
fn fallback(statement: &str, db: Option<&str>) -> Option<Classified> {
    let mut r = Reader::new(statement);
    let verb = r.keyword()?;
    match verb.as_str() {
        "CREATE" => fallback_create(&mut r, db),
        "ALTER" => fallback_alter(&mut r, db),
        "DROP" => fallback_drop(&mut r, db),
        "RENAME" => fallback_rename(&mut r, db),
        "TRUNCATE" => {
            r.eat_kw("TABLE");
            Some((DdlKind::TruncateTable, vec![r.table(db)?]))
        }
        other if OTHER_STATEMENTS.contains(&other) => Some((DdlKind::Other, Vec::new())),
        _ => None,
    }
}

fn fallback_create(r: &mut Reader<'_>, db: Option<&str>) -> Option<Classified> {
    r.eat_kws(&["OR", "REPLACE"]);
    r.skip_object_modifiers(&[
        "TEMPORARY",
        "UNIQUE",
        "FULLTEXT",
        "ONLINE",
        "OFFLINE",
        "AGGREGATE",
    ])?;
    let object = r.keyword()?;
    match object.as_str() {
        "TABLE" => {
            r.if_not_exists();
            let mut tables = vec![r.table(db)?];
            let like = if r.eat_kw("LIKE") {
                true
            } else if r.peek() == Some(&Tok::Punct('(')) && r.is_kw_at(1, "LIKE") {
                r.bump();
                r.bump();
                true
            } else {
                false
            };
            if like {
                tables.push(r.table(db)?);
            }
            Some((DdlKind::CreateTable, tables))
        }
        "DATABASE" | "SCHEMA" => {
            r.if_not_exists();
            r.ident()?;
            Some((DdlKind::CreateDatabase, Vec::new()))
        }
        "INDEX" => {
            r.if_not_exists();
            r.ident()?;
            r.skip_past_kw("ON")?;
            Some((DdlKind::CreateIndex, vec![r.table(db)?]))
        }
        "VIEW" | "SEQUENCE" => {
            r.if_not_exists();
            Some((DdlKind::Other, vec![r.table(db)?]))
        }
        "TRIGGER" => {
            r.if_not_exists();
            // A trigger lives in its table's database: a qualified trigger name settles where an
            // unqualified table is.
            let (trigger_db, _) = r.name()?;
            let trigger_db = trigger_db.or_else(|| db.map(str::to_owned));
            r.skip_past_kw("ON")?;
            Some((DdlKind::Other, vec![r.table(trigger_db.as_deref())?]))
        }
        // SPATIAL INDEX (a modifier) or SPATIAL REFERENCE SYSTEM (an object).
        "SPATIAL" if r.eat_kw("INDEX") => {
            r.ident()?;
            r.skip_past_kw("ON")?;
            Some((DdlKind::CreateIndex, vec![r.table(db)?]))
        }
        other if OTHER_OBJECTS.contains(&other) => Some((DdlKind::Other, Vec::new())),
        _ => None,
    }
}

fn fallback_alter(r: &mut Reader<'_>, db: Option<&str>) -> Option<Classified> {
    r.skip_object_modifiers(&["ONLINE", "OFFLINE", "IGNORE"])?;
    let object = r.keyword()?;
    match object.as_str() {
        "TABLE" => fallback_alter_table(r, db),
        // The name is optional: without it the default database is altered.
        "DATABASE" | "SCHEMA" => Some((DdlKind::AlterDatabase, Vec::new())),
        "VIEW" | "SEQUENCE" => {
            r.if_exists();
            Some((DdlKind::Other, vec![r.table(db)?]))
        }
        other if OTHER_OBJECTS.contains(&other) => Some((DdlKind::Other, Vec::new())),
        _ => None,
    }
}

/// `ALTER TABLE name spec, spec, …`: looks at the first words of each top-level spec to find
/// renames (`RENAME [TO|AS] new`, not `RENAME COLUMN/INDEX/KEY`) and whether anything else
/// changes.
fn fallback_alter_table(r: &mut Reader<'_>, db: Option<&str>) -> Option<Classified> {
    r.if_exists();
    let mut tables = vec![r.table(db)?];
    r.wait_clause();
    let (mut renamed, mut changed) = (false, false);
    let mut spec_start = true;
    let mut depth = 0usize;
    loop {
        if spec_start && depth == 0 {
            spec_start = false;
            if r.eat_kw("RENAME") {
                if ["COLUMN", "INDEX", "KEY"]
                    .iter()
                    .any(|kw| r.is_kw_at(0, kw))
                {
                    changed = true;
                } else {
                    if (r.is_kw_at(0, "TO") || r.is_kw_at(0, "AS")) && r.is_name_at(1) {
                        r.bump();
                    }
                    tables.push(r.table(db)?);
                    renamed = true;
                    continue;
                }
            } else if r.is_kw_at(0, "ALGORITHM") || r.is_kw_at(0, "LOCK") {
                // Options of how, not what: they do not make a rename more than a rename.
            } else if r.peek().is_some() {
                changed = true;
            }
        }
        match r.bump() {
            None | Some(Tok::Invalid) => break,
            Some(Tok::Punct('(')) => depth += 1,
            Some(Tok::Punct(')')) => depth = depth.saturating_sub(1),
            Some(Tok::Punct(',')) if depth == 0 => spec_start = true,
            Some(Tok::Punct(';')) if depth == 0 => break,
            Some(_) => {}
        }
    }
    let kind = if renamed && !changed {
        DdlKind::RenameTable
    } else {
        DdlKind::AlterTable
    };
    Some((kind, tables))
}

fn fallback_drop(r: &mut Reader<'_>, db: Option<&str>) -> Option<Classified> {
    r.eat_any_kw(&["TEMPORARY", "ONLINE", "OFFLINE"]);
    let object = r.keyword()?;
    match object.as_str() {
        "TABLE" | "TABLES" => {
            r.if_exists();
            Some((DdlKind::DropTable, r.table_list(db)?))
        }
        "DATABASE" | "SCHEMA" => {
            r.if_exists();
            r.ident()?;
            Some((DdlKind::DropDatabase, Vec::new()))
        }
        "INDEX" => {
            r.if_exists();
            r.ident()?;
            if !r.eat_kw("ON") {
                return None;
            }
            Some((DdlKind::DropIndex, vec![r.table(db)?]))
        }
        "VIEW" | "SEQUENCE" => {
            r.if_exists();
            Some((DdlKind::Other, r.table_list(db)?))
        }
        other if OTHER_OBJECTS.contains(&other) => Some((DdlKind::Other, Vec::new())),
        _ => None,
    }
}

fn fallback_rename(r: &mut Reader<'_>, db: Option<&str>) -> Option<Classified> {
    if !r.eat_any_kw(&["TABLE", "TABLES"]) {
        return r.is_kw_at(0, "USER").then(|| (DdlKind::Other, Vec::new()));
    }
    r.if_exists();
    let mut tables = Vec::new();
    loop {
        tables.push(r.table(db)?);
        r.wait_clause();
        if !r.eat_kw("TO") {
            return None;
        }
        tables.push(r.table(db)?);
        r.wait_clause();
        if !r.eat_punct(',') {
            break;
        }
    }
    Some((DdlKind::RenameTable, tables))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(database: &str, table: &str) -> TableId {
        TableId::new(database, table)
    }

    #[track_caller]
    fn check(statement: &str, db: Option<&str>, kind: DdlKind, tables: &[(&str, &str)]) {
        let ddl = classify(statement, db);
        let want: Vec<TableId> = tables.iter().map(|(d, n)| t(d, n)).collect();
        assert_eq!(
            (&ddl.kind, &ddl.tables),
            (&kind, &want),
            "statement: {statement}"
        );
        assert_eq!(ddl.statement, statement);
        assert_eq!(ddl.database.as_deref(), db);
    }

    #[track_caller]
    fn check_fallback_only(statement: &str, kind: DdlKind, tables: &[(&str, &str)]) {
        assert_eq!(
            with_sqlparser(statement, Some("d")),
            None,
            "sqlparser now reads {statement}; pick another fallback example"
        );
        check(statement, Some("d"), kind, tables);
    }

    const D: Option<&str> = Some("d");

    #[test]
    fn one_per_kind() {
        use DdlKind::*;
        check(
            "CREATE TABLE t (id INT PRIMARY KEY)",
            D,
            CreateTable,
            &[("d", "t")],
        );
        check(
            "ALTER TABLE t ADD COLUMN c INT",
            D,
            AlterTable,
            &[("d", "t")],
        );
        check("DROP TABLE t", D, DropTable, &[("d", "t")]);
        check(
            "RENAME TABLE a TO b",
            D,
            RenameTable,
            &[("d", "a"), ("d", "b")],
        );
        check("TRUNCATE TABLE t", D, TruncateTable, &[("d", "t")]);
        check("CREATE DATABASE x", D, CreateDatabase, &[]);
        check("DROP DATABASE x", D, DropDatabase, &[]);
        check(
            "ALTER DATABASE x CHARACTER SET utf8mb4",
            D,
            AlterDatabase,
            &[],
        );
        check("CREATE INDEX i ON t (a)", D, CreateIndex, &[("d", "t")]);
        check("DROP INDEX i ON t", D, DropIndex, &[("d", "t")]);
        check(
            "CREATE VIEW v AS SELECT 1",
            D,
            Object(ObjectKind::View),
            &[("d", "v")],
        );
        check("CREATE TABLE", D, Unparsed, &[]);
    }

    #[test]
    fn qualification_with_default_database() {
        use DdlKind::*;
        check(
            "RENAME TABLE a TO b, x.c TO d",
            Some("db1"),
            RenameTable,
            &[("db1", "a"), ("db1", "b"), ("x", "c"), ("db1", "d")],
        );
        check(
            "DROP TABLE IF EXISTS a, other.b",
            Some("db1"),
            DropTable,
            &[("db1", "a"), ("other", "b")],
        );
        check(
            "CREATE TABLE x.t (a INT)",
            Some("db1"),
            CreateTable,
            &[("x", "t")],
        );
        check("CREATE TABLE x.t (a INT)", None, CreateTable, &[("x", "t")]);
        // No default database: the server only logs this if it resolved the name, but the
        // classification must still not fail.
        check("CREATE TABLE t (a INT)", None, CreateTable, &[("", "t")]);
        check(
            "ALTER TABLE x.t RENAME TO u",
            Some("db1"),
            RenameTable,
            &[("x", "t"), ("db1", "u")],
        );
        check(
            "CREATE TABLE n LIKE s.o",
            Some("db1"),
            CreateTable,
            &[("db1", "n"), ("s", "o")],
        );
        check(
            "CREATE TABLE n (LIKE o)",
            Some("db1"),
            CreateTable,
            &[("db1", "n"), ("db1", "o")],
        );
        check(
            "CREATE UNIQUE INDEX i USING BTREE ON x.t (a(10))",
            Some("db1"),
            CreateIndex,
            &[("x", "t")],
        );
        check(
            "DROP INDEX `PRIMARY` ON t",
            Some("db1"),
            DropIndex,
            &[("db1", "t")],
        );
        check("TRUNCATE x.t", Some("db1"), TruncateTable, &[("x", "t")]);
        check("CREATE SCHEMA IF NOT EXISTS x", D, CreateDatabase, &[]);
        check("DROP SCHEMA IF EXISTS x", D, DropDatabase, &[]);
        check(
            "ALTER SCHEMA x DEFAULT COLLATE utf8mb4_bin",
            D,
            AlterDatabase,
            &[],
        );
        check(
            "CREATE DATABASE IF NOT EXISTS `x` /*!40100 DEFAULT CHARACTER SET utf8mb4 */",
            D,
            CreateDatabase,
            &[],
        );
    }

    #[test]
    fn alter_table_rename_forms() {
        use DdlKind::*;
        check(
            "ALTER TABLE t RENAME TO u",
            D,
            RenameTable,
            &[("d", "t"), ("d", "u")],
        );
        check(
            "ALTER TABLE t RENAME AS u",
            D,
            RenameTable,
            &[("d", "t"), ("d", "u")],
        );
        check(
            "ALTER TABLE t RENAME u",
            D,
            RenameTable,
            &[("d", "t"), ("d", "u")],
        );
        check(
            "ALTER TABLE t RENAME TO x.u, ALGORITHM=INPLACE, LOCK=NONE",
            D,
            RenameTable,
            &[("d", "t"), ("x", "u")],
        );
        check(
            "ALTER TABLE t RENAME TO u, ADD c INT",
            D,
            AlterTable,
            &[("d", "t"), ("d", "u")],
        );
        check(
            "ALTER TABLE t ADD c INT, RENAME u",
            D,
            AlterTable,
            &[("d", "t"), ("d", "u")],
        );
        check(
            "ALTER TABLE t RENAME COLUMN a TO b",
            D,
            AlterTable,
            &[("d", "t")],
        );
        check(
            "ALTER TABLE t RENAME INDEX a TO b",
            D,
            AlterTable,
            &[("d", "t")],
        );
        check(
            "ALTER TABLE t RENAME KEY a TO b",
            D,
            AlterTable,
            &[("d", "t")],
        );
        check(
            "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=INSTANT",
            D,
            AlterTable,
            &[("d", "t")],
        );
    }

    #[test]
    fn mariadb_forms() {
        use DdlKind::*;
        check(
            "CREATE OR REPLACE TABLE t (a INT)",
            D,
            CreateTable,
            &[("d", "t")],
        );
        check(
            "CREATE OR REPLACE TABLE t LIKE s",
            D,
            CreateTable,
            &[("d", "t"), ("d", "s")],
        );
        check(
            "ALTER TABLE t ADD COLUMN IF NOT EXISTS c INT",
            D,
            AlterTable,
            &[("d", "t")],
        );
        check(
            "DROP TABLE `a`,`b` /* generated by server */",
            D,
            DropTable,
            &[("d", "a"), ("d", "b")],
        );
        check(
            "DROP TABLE IF EXISTS `x`.`a` /* generated by server */",
            D,
            DropTable,
            &[("x", "a")],
        );
        check(
            "DROP TEMPORARY TABLE IF EXISTS `t` /* generated by server */",
            D,
            DropTable,
            &[("d", "t")],
        );
        check(
            "ALTER ONLINE TABLE t ADD c INT",
            D,
            AlterTable,
            &[("d", "t")],
        );
        check(
            "ALTER ONLINE IGNORE TABLE t ADD c INT",
            D,
            AlterTable,
            &[("d", "t")],
        );
        check(
            "ALTER IGNORE TABLE t ADD UNIQUE (a)",
            D,
            AlterTable,
            &[("d", "t")],
        );
        check(
            "ALTER TABLE IF EXISTS t WAIT 5 RENAME TO u",
            D,
            RenameTable,
            &[("d", "t"), ("d", "u")],
        );
        check(
            "RENAME TABLE a TO b WAIT 10",
            D,
            RenameTable,
            &[("d", "a"), ("d", "b")],
        );
        check(
            "RENAME TABLE IF EXISTS a WAIT 10 TO b, c NOWAIT TO d",
            D,
            RenameTable,
            &[("d", "a"), ("d", "b"), ("d", "c"), ("d", "d")],
        );
        check(
            "CREATE TABLE `t` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`)),\n  `g` int(11) GENERATED ALWAYS AS (`id` * 2) VIRTUAL,\n  `s` int(11) AS (`id` + 1) PERSISTENT,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
            D,
            CreateTable,
            &[("d", "t")],
        );
        check(
            "CREATE TABLE t (id INT PRIMARY KEY, j JSON CHECK (json_valid(j)), g INT AS (id+1) VIRTUAL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
            D,
            CreateTable,
            &[("d", "t")],
        );
        check("TRUNCATE t", D, TruncateTable, &[("d", "t")]);
        check("TRUNCATE `x`.`t` WAIT 3", D, TruncateTable, &[("x", "t")]);
        check(
            "CREATE OR REPLACE SEQUENCE s START WITH 1",
            D,
            Other,
            &[("d", "s")],
        );
        check(
            "DROP SEQUENCE IF EXISTS s, x.s2",
            D,
            Other,
            &[("d", "s"), ("x", "s2")],
        );
        check(
            "CREATE INDEX IF NOT EXISTS i ON t (a)",
            D,
            CreateIndex,
            &[("d", "t")],
        );
        check("DROP INDEX IF EXISTS i ON t", D, DropIndex, &[("d", "t")]);
        check(
            "/*M!100100 CREATE TABLE t (a INT) */",
            D,
            CreateTable,
            &[("d", "t")],
        );
        check("BEGIN NOT ATOMIC SELECT 1; END", D, Other, &[]);
    }

    #[test]
    fn hostile_identifiers() {
        use DdlKind::*;
        check(
            "CREATE TABLE `we``ird.name` (a INT)",
            D,
            CreateTable,
            &[("d", "we`ird.name")],
        );
        check(
            "RENAME TABLE `db.1`.`a b` TO `db.1`.`select`",
            D,
            RenameTable,
            &[("db.1", "a b"), ("db.1", "select")],
        );
        check(
            "DROP TABLE `日本語`.`表`, `'quote'`, `\"dq\"`, `a``b``c`",
            D,
            DropTable,
            &[
                ("日本語", "表"),
                ("d", "'quote'"),
                ("d", "\"dq\""),
                ("d", "a`b`c"),
            ],
        );
        check(
            "CREATE TABLE café (a INT)",
            D,
            CreateTable,
            &[("d", "café")],
        );
        check("CREATE TABLE `` (a INT)", D, Unparsed, &[]);
        check(
            "CREATE TABLE `/* not a comment */` (a INT)",
            D,
            CreateTable,
            &[("d", "/* not a comment */")],
        );
        check(
            "DROP TABLE `-- x`, `# y`, `;`",
            D,
            DropTable,
            &[("d", "-- x"), ("d", "# y"), ("d", ";")],
        );
        check(
            "ALTER TABLE `table` RENAME TO `from`",
            D,
            RenameTable,
            &[("d", "table"), ("d", "from")],
        );
        check("TRUNCATE `table`", D, TruncateTable, &[("d", "table")]);
        check(
            "CREATE TABLE `1e5` (a INT)",
            D,
            CreateTable,
            &[("d", "1e5")],
        );
        // The same names through the fallback path.
        check_fallback_only(
            "ALTER ONLINE TABLE `we``ird.name` ADD c INT",
            AlterTable,
            &[("d", "we`ird.name")],
        );
        check_fallback_only(
            "RENAME TABLE `a``b`.`c d` TO `日本`.`x.y` WAIT 1",
            RenameTable,
            &[("a`b", "c d"), ("日本", "x.y")],
        );
        check_fallback_only(
            "ALTER TABLE `--`.`#` ADD COLUMN IF NOT EXISTS `,` INT, RENAME TO `/*`",
            AlterTable,
            &[("--", "#"), ("d", "/*")],
        );
        // ANSI_QUOTES sessions may quote names with double quotes.
        check(
            "DROP TABLE \"x\".\"a\"\"b\"",
            D,
            DropTable,
            &[("x", "a\"b")],
        );
        // Hostile names are never taken for keywords.
        check(
            "DROP TABLE `IF`, `EXISTS`",
            D,
            DropTable,
            &[("d", "IF"), ("d", "EXISTS")],
        );
        check(
            "CREATE TABLE `t` (`LIKE` INT)",
            D,
            CreateTable,
            &[("d", "t")],
        );
    }

    #[test]
    fn comments_and_versioned_comments() {
        use DdlKind::*;
        check(
            "/* lead */ CREATE TABLE t (a INT)",
            D,
            CreateTable,
            &[("d", "t")],
        );
        check("-- note\nDROP TABLE t", D, DropTable, &[("d", "t")]);
        check("# note\nTRUNCATE t", D, TruncateTable, &[("d", "t")]);
        check(
            "  \n\t DROP /* x */ TABLE /* y */ t -- z",
            D,
            DropTable,
            &[("d", "t")],
        );
        check(
            "/*!40000 ALTER TABLE `t` DISABLE KEYS */",
            D,
            AlterTable,
            &[("d", "t")],
        );
        check(
            "CREATE TABLE t (a INT) /*!50100 PARTITION BY HASH (a) PARTITIONS 4 */",
            D,
            CreateTable,
            &[("d", "t")],
        );
        check(
            "/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n/*!50001 VIEW `v` AS select 1 AS `1` */",
            D,
            Object(ObjectKind::View),
            &[("d", "v")],
        );
        check(
            "create table /*!32312 IF NOT EXISTS*/ t (a int)",
            D,
            CreateTable,
            &[("d", "t")],
        );
        check(
            "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `x` /*!40100 DEFAULT CHARACTER SET latin1 */",
            D,
            CreateDatabase,
            &[],
        );
        check("cReAtE tAbLe T (a int)", D, CreateTable, &[("d", "T")]);
        // `--` not followed by a space is an operator, not a comment.
        check(
            "ALTER TABLE t ALTER c SET DEFAULT 1--1",
            D,
            AlterTable,
            &[("d", "t")],
        );
        assert!(is_ddl_statement(
            "/* hi */ -- x\n # y\n  create table t (a int)"
        ));
        assert!(is_ddl_statement("/*!40000 ALTER TABLE `t` ENABLE KEYS */"));
    }

    #[test]
    fn not_ddl_is_other() {
        use DdlKind::*;
        for stmt in [
            "BEGIN",
            "COMMIT",
            "ROLLBACK",
            "SAVEPOINT s1",
            "XA START 'x'",
            "XA END 'x'",
            "INSERT INTO t VALUES (1, 'a')",
            "UPDATE t SET a = 1",
            "DELETE FROM t",
            "FLUSH TABLES",
            "FLUSH PRIVILEGES",
            "GRANT ALL ON *.* TO 'u'@'%'",
            "CREATE USER 'u'@'%' IDENTIFIED BY 'p'",
            "DROP USER 'u'@'%'",
            "RENAME USER a TO b",
            "SET @@session.foreign_key_checks = 0",
            "ANALYZE TABLE t",
            "OPTIMIZE TABLE t",
            "ALTER USER u IDENTIFIED BY 'x'",
        ] {
            check(stmt, D, Other, &[]);
        }
        use ObjectKind::{Event, Function, Procedure, Trigger, View};
        for (stmt, kind, tables) in [
            (
                "CREATE DEFINER=`root`@`%` PROCEDURE p() BEGIN SELECT 1; END",
                Procedure,
                &[("d", "p")][..],
            ),
            ("CREATE FUNCTION f() RETURNS INT RETURN 1", Function, &[("d", "f")]),
            (
                "CREATE DEFINER=CURRENT_USER() EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t",
                Event,
                &[("d", "e")],
            ),
            ("DROP PROCEDURE IF EXISTS x.p", Procedure, &[("x", "p")]),
            ("DROP TRIGGER IF EXISTS tr", Trigger, &[("d", "tr")]),
            ("ALTER EVENT e DISABLE", Event, &[("d", "e")]),
            (
                "CREATE DEFINER=`root`@`%` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
                Trigger,
                &[("d", "tr"), ("d", "t")],
            ),
            (
                "CREATE TRIGGER x.tr AFTER UPDATE ON t FOR EACH ROW BEGIN END",
                Trigger,
                &[("x", "tr"), ("x", "t")],
            ),
            (
                "CREATE OR REPLACE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW x.v AS SELECT 1",
                View,
                &[("x", "v")],
            ),
            ("DROP VIEW IF EXISTS v, x.w", View, &[("d", "v"), ("x", "w")]),
            ("ALTER VIEW v AS SELECT 2", View, &[("d", "v")]),
        ] {
            check(stmt, D, Object(kind), tables);
        }
    }

    #[test]
    fn garbage_is_unparsed() {
        for stmt in [
            "",
            "   ",
            "/* only a comment */",
            "-- only a comment",
            "\u{0}\u{1}\u{2}",
            "((((((",
            "xyzzy plugh",
            "CREATE",
            "CREATE TABLE",
            "CREATE TABLE (a INT)",
            "CREATE WIDGET w",
            "DROP TABLE `unterminated",
            "DROP TABLE a,",
            "DROP INDEX i",
            "RENAME TABLE a",
            "RENAME TABLE a TO",
            "ALTER",
            "ALTER TABLE",
            "TRUNCATE",
            "'just a string'",
            "`quoted`",
            "CREATE TABLE /*!",
            "/*!50100",
            "\"",
        ] {
            let ddl = classify(stmt, D);
            assert_eq!(ddl.kind, DdlKind::Unparsed, "statement: {stmt:?}");
            assert!(ddl.tables.is_empty());
            assert_eq!(ddl.statement, stmt);
        }
    }

    #[test]
    fn pathological_input_does_not_panic() {
        let deep = format!(
            "CREATE TABLE t AS SELECT {}1{}",
            "(".repeat(20_000),
            ")".repeat(20_000)
        );
        check(&deep, D, DdlKind::CreateTable, &[("d", "t")]);
        let unbalanced = format!("ALTER TABLE t ADD c INT {}", ")".repeat(1000));
        check(&unbalanced, D, DdlKind::AlterTable, &[("d", "t")]);

        // Random statements from SQL-ish fragments: classification must never panic.
        let fragments = [
            "CREATE",
            "ALTER",
            "DROP",
            "RENAME",
            "TRUNCATE",
            "TABLE",
            "TABLES",
            "INDEX",
            "ON",
            "TO",
            "AS",
            "LIKE",
            "IF",
            "NOT",
            "EXISTS",
            "ONLINE",
            "IGNORE",
            "WAIT",
            "1",
            "t",
            "`a``b`",
            "`",
            "\"",
            "'",
            "\\",
            "(",
            ")",
            ",",
            ".",
            ";",
            "/*",
            "*/",
            "/*!",
            "/*!50100",
            "--",
            "-- ",
            "#",
            "\n",
            " ",
            "é",
            "日",
            "RENAME TO",
            "DATABASE",
            "SCHEMA",
            "VIEW",
            "TRIGGER",
            "DEFINER=",
            "@",
            "SQL SECURITY",
            "ALGORITHM",
            "=",
            "\u{0}",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..5000 {
            let mut stmt = String::new();
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = (seed >> 59) as usize;
            for _ in 0..len {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                stmt.push_str(fragments[(seed >> 33) as usize % fragments.len()]);
                if seed & 1 == 0 {
                    stmt.push(' ');
                }
            }
            let ddl = classify(&stmt, D);
            assert_eq!(ddl.statement, stmt);
            if matches!(
                ddl.kind,
                DdlKind::Unparsed
                    | DdlKind::CreateDatabase
                    | DdlKind::DropDatabase
                    | DdlKind::AlterDatabase
            ) {
                assert!(ddl.tables.is_empty(), "{stmt:?}: {ddl:?}");
            }
            is_ddl_statement(&stmt);
            is_transaction_control(&stmt);
        }
    }

    #[test]
    fn sqlparser_rejects_fallback_reads() {
        use DdlKind::*;
        check_fallback_only("ALTER ONLINE TABLE t ADD c INT", AlterTable, &[("d", "t")]);
        check_fallback_only(
            "RENAME TABLE a TO b WAIT 10",
            RenameTable,
            &[("d", "a"), ("d", "b")],
        );
        check_fallback_only(
            "ALTER TABLE x.t ADD COLUMN IF NOT EXISTS c INT",
            AlterTable,
            &[("x", "t")],
        );
        check_fallback_only("ALTER DATABASE x CHARACTER SET utf8mb4", AlterDatabase, &[]);
        check_fallback_only(
            "DROP INDEX `PRIMARY` ON t ALGORITHM=INPLACE",
            DropIndex,
            &[("d", "t")],
        );
    }

    /// Where both paths read a statement they must agree, so behaviour does not depend on
    /// which one happened to succeed.
    #[test]
    fn paths_agree() {
        for stmt in [
            "CREATE TABLE t (a INT)",
            "CREATE TABLE x.t (a INT) ENGINE=InnoDB",
            "CREATE TEMPORARY TABLE t (a INT)",
            "CREATE TABLE IF NOT EXISTS t (a INT)",
            "CREATE TABLE t LIKE x.s",
            "CREATE OR REPLACE TABLE t (a INT)",
            "ALTER TABLE t ADD c INT",
            "ALTER TABLE t RENAME TO u",
            "ALTER TABLE t RENAME AS x.u",
            "ALTER TABLE t RENAME TO u, ADD c INT",
            "ALTER TABLE t RENAME TO u, ALGORITHM=INPLACE",
            "ALTER TABLE t RENAME COLUMN a TO b",
            "DROP TABLE a, x.b",
            "DROP TABLE IF EXISTS a /* generated by server */",
            "DROP TEMPORARY TABLE t",
            "RENAME TABLE a TO b, x.c TO d",
            "TRUNCATE t",
            "TRUNCATE TABLE x.t",
            "CREATE DATABASE x",
            "CREATE SCHEMA IF NOT EXISTS x",
            "DROP DATABASE IF EXISTS x",
            "DROP SCHEMA x",
            "CREATE INDEX i ON t (a)",
            "CREATE UNIQUE INDEX i ON x.t (a)",
            "DROP INDEX i ON x.t",
            "CREATE VIEW v AS SELECT 1",
            "CREATE OR REPLACE VIEW x.v AS SELECT 1",
            "DROP VIEW v, x.w",
            "CREATE TABLE `we``ird.name` (a INT)",
            "DROP TABLE `日本語`.`表`",
        ] {
            let parsed = with_sqlparser(stmt, D);
            assert!(parsed.is_some(), "sqlparser no longer reads {stmt}");
            assert_eq!(parsed, fallback(stmt, D), "statement: {stmt}");
        }
    }

    #[test]
    fn quick_checks() {
        for stmt in [
            "CREATE TABLE t (a INT)",
            "alter table t add c int",
            "DROP TABLE t",
            "RENAME TABLE a TO b",
            "TRUNCATE t",
            "  /* x */ Drop Database d",
        ] {
            assert!(is_ddl_statement(stmt), "{stmt}");
            assert!(!is_transaction_control(stmt), "{stmt}");
        }
        for stmt in [
            "BEGIN",
            "begin",
            "COMMIT",
            "COMMIT WORK",
            "ROLLBACK",
            "ROLLBACK TO SAVEPOINT s",
            "SAVEPOINT s",
            "RELEASE SAVEPOINT s",
            "START TRANSACTION",
            "XA START 'x'",
            "XA COMMIT 'x' ONE PHASE",
            "/* c */ XA PREPARE 'x'",
        ] {
            assert!(is_transaction_control(stmt), "{stmt}");
            assert!(!is_ddl_statement(stmt), "{stmt}");
        }
        for stmt in [
            "",
            "INSERT INTO t VALUES (1)",
            "SET NAMES utf8mb4",
            "`CREATE` TABLE t",
            "CREATED",
            "START SLAVE",
            "BEGIN NOT ATOMIC SELECT 1; END",
            "GRANT SELECT ON t TO u",
        ] {
            assert!(!is_ddl_statement(stmt), "{stmt}");
            assert!(!is_transaction_control(stmt), "{stmt}");
        }
    }
}
