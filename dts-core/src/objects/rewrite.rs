//! Renaming tables, databases and columns inside DDL text.
//!
//! The statement is parsed with sqlparser's MySQL dialect to find which identifiers name tables
//! and columns, but the output is the *original text* with only those identifiers replaced
//! (using the positions sqlparser records), so MySQL syntax the parser does not keep —
//! comments, `/*!50100 … */` clauses, option spellings — survives unchanged. Only when a
//! position cannot be trusted is the statement re-rendered from the AST instead.

use super::condition::quote_ident;
use crate::schema::TableId;
use sqlparser::ast::{
    AlterTableOperation, CreateTableLikeKind, Expr, Ident, IndexColumn, MySQLColumnPosition,
    ObjectName, ObjectNamePart, ObjectType, RenameTableNameKind, SchemaName, Statement,
    TableConstraint,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Span;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Parses exactly one statement; never panics.
pub fn parse_statement(sql: &str) -> Result<Statement, String> {
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        Parser::parse_sql(&MySqlDialect {}, sql)
    }))
    .map_err(|_| "the SQL parser failed on it".to_string())?;
    let mut statements = parsed.map_err(|e| e.to_string())?;
    match statements.len() {
        1 => Ok(statements.remove(0)),
        0 => Err("it holds no statement".into()),
        n => Err(format!("it holds {n} statements")),
    }
}

/// Destination names for the identifiers of one statement.
pub trait Names {
    /// The destination of a source table (return it unchanged to leave it alone).
    fn table(&self, source: &TableId) -> TableId;
    /// The destination database of a source database.
    fn database(&self, source: &str) -> String;
    /// The destination name of a column of a source table.
    fn column(&self, table: &TableId, column: &str) -> String;
}

struct Edit {
    span: Span,
    original: String,
    replacement: String,
}

/// Collects identifier replacements while updating the AST the same way.
struct Rewriter<'a> {
    names: &'a dyn Names,
    session: Option<&'a str>,
    edits: Vec<Edit>,
}

fn as_written(ident: &Ident) -> String {
    match ident.quote_style {
        Some(q) => {
            let close = if q == '[' { ']' } else { q };
            format!(
                "{q}{}{close}",
                ident.value.replace(close, &format!("{close}{close}"))
            )
        }
        None => ident.value.clone(),
    }
}

fn ident_parts(name: &ObjectName) -> Option<Vec<&Ident>> {
    name.0.iter().map(ObjectNamePart::as_ident).collect()
}

impl Rewriter<'_> {
    fn rename(&mut self, ident: &mut Ident, new: &str) {
        if ident.value == new {
            return;
        }
        self.edits.push(Edit {
            span: ident.span,
            original: as_written(ident),
            replacement: quote_ident(new),
        });
        ident.value = new.to_owned();
        ident.quote_style = Some('`');
    }

    /// The source table an object name refers to.
    fn source_table(&self, name: &ObjectName) -> Option<TableId> {
        match ident_parts(name)?.as_slice() {
            [t] => Some(TableId::new(self.session?, t.value.clone())),
            [d, t] => Some(TableId::new(d.value.clone(), t.value.clone())),
            _ => None,
        }
    }

    fn table(&mut self, name: &mut ObjectName) -> Option<TableId> {
        let source = self.source_table(name)?;
        let dest = self.names.table(&source);
        match name.0.as_mut_slice() {
            [ObjectNamePart::Identifier(t)] => {
                let session_dest = self.names.database(self.session.unwrap_or_default());
                if dest.database != session_dest {
                    // Qualify: the table now lives in another database than the session's.
                    self.edits.push(Edit {
                        span: t.span,
                        original: as_written(t),
                        replacement: format!(
                            "{}.{}",
                            quote_ident(&dest.database),
                            quote_ident(&dest.table)
                        ),
                    });
                    let mut db = Ident::with_quote('`', dest.database.clone());
                    db.span = Span::empty();
                    let table = Ident::with_quote('`', dest.table.clone());
                    name.0 = vec![
                        ObjectNamePart::Identifier(db),
                        ObjectNamePart::Identifier(table),
                    ];
                } else {
                    self.rename(t, &dest.table);
                }
            }
            [ObjectNamePart::Identifier(d), ObjectNamePart::Identifier(t)] => {
                self.rename(d, &dest.database);
                self.rename(t, &dest.table);
            }
            _ => {}
        }
        Some(source)
    }

    fn column(&mut self, table: &Option<TableId>, ident: &mut Ident) {
        if let Some(t) = table {
            let new = self.names.column(t, &ident.value);
            self.rename(ident, &new);
        }
    }

    fn index_columns(&mut self, table: &Option<TableId>, columns: &mut [IndexColumn]) {
        for c in columns {
            if let Expr::Identifier(ident) = &mut c.column.expr {
                self.column(table, ident);
            }
        }
    }

    fn position(&mut self, table: &Option<TableId>, pos: &mut Option<MySQLColumnPosition>) {
        if let Some(MySQLColumnPosition::After(ident)) = pos {
            self.column(table, ident);
        }
    }

    fn constraint(&mut self, table: &Option<TableId>, c: &mut TableConstraint) {
        match c {
            TableConstraint::PrimaryKey(pk) => self.index_columns(table, &mut pk.columns),
            TableConstraint::Unique(u) => self.index_columns(table, &mut u.columns),
            TableConstraint::Index(i) => self.index_columns(table, &mut i.columns),
            TableConstraint::FulltextOrSpatial(f) => self.index_columns(table, &mut f.columns),
            TableConstraint::ForeignKey(fk) => {
                for ident in &mut fk.columns {
                    self.column(table, ident);
                }
                let referenced = self.table(&mut fk.foreign_table);
                for ident in &mut fk.referred_columns {
                    self.column(&referenced, ident);
                }
            }
            _ => {}
        }
    }

    fn database(&mut self, name: &mut ObjectName) {
        if let [ObjectNamePart::Identifier(d)] = name.0.as_mut_slice() {
            let dest = self.names.database(&d.value.clone());
            self.rename(d, &dest);
        }
    }

    fn statement(&mut self, stmt: &mut Statement) -> Result<(), String> {
        match stmt {
            Statement::CreateTable(ct) => {
                if ct.query.is_some() {
                    return Err("CREATE TABLE … AS SELECT cannot be renamed".into());
                }
                let table = self.table(&mut ct.name);
                for col in &mut ct.columns {
                    self.column(&table, &mut col.name);
                }
                for c in &mut ct.constraints {
                    self.constraint(&table, c);
                }
                if let Some(
                    CreateTableLikeKind::Plain(like) | CreateTableLikeKind::Parenthesized(like),
                ) = &mut ct.like
                {
                    self.table(&mut like.name);
                }
            }
            Statement::AlterTable(at) => {
                let table = self.table(&mut at.name);
                for op in &mut at.operations {
                    match op {
                        AlterTableOperation::AddColumn {
                            column_def,
                            column_position,
                            ..
                        } => {
                            self.column(&table, &mut column_def.name);
                            self.position(&table, column_position);
                        }
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            for ident in column_names {
                                self.column(&table, ident);
                            }
                        }
                        AlterTableOperation::ChangeColumn {
                            old_name,
                            new_name,
                            column_position,
                            ..
                        } => {
                            self.column(&table, old_name);
                            self.column(&table, new_name);
                            self.position(&table, column_position);
                        }
                        AlterTableOperation::ModifyColumn {
                            col_name,
                            column_position,
                            ..
                        } => {
                            self.column(&table, col_name);
                            self.position(&table, column_position);
                        }
                        AlterTableOperation::RenameColumn {
                            old_column_name,
                            new_column_name,
                        } => {
                            self.column(&table, old_column_name);
                            self.column(&table, new_column_name);
                        }
                        AlterTableOperation::AlterColumn { column_name, .. } => {
                            self.column(&table, column_name);
                        }
                        AlterTableOperation::AddConstraint { constraint, .. } => {
                            self.constraint(&table, constraint);
                        }
                        AlterTableOperation::RenameTable {
                            table_name: RenameTableNameKind::To(n) | RenameTableNameKind::As(n),
                        } => {
                            self.table(n);
                        }
                        _ => {}
                    }
                }
            }
            Statement::RenameTable(pairs) => {
                for pair in pairs {
                    self.table(&mut pair.old_name);
                    self.table(&mut pair.new_name);
                }
            }
            Statement::Truncate(t) => {
                for target in &mut t.table_names {
                    self.table(&mut target.name);
                }
            }
            Statement::Drop {
                object_type,
                names,
                table,
                ..
            } => match object_type {
                ObjectType::Table => {
                    for n in names {
                        self.table(n);
                    }
                }
                ObjectType::Index => {
                    if let Some(t) = table {
                        self.table(t);
                    }
                }
                ObjectType::Database | ObjectType::Schema => {
                    for n in names {
                        self.database(n);
                    }
                }
                other => return Err(format!("DROP {other} cannot be renamed")),
            },
            Statement::CreateIndex(ci) => {
                let table = self.table(&mut ci.table_name);
                self.index_columns(&table, &mut ci.columns);
            }
            Statement::CreateDatabase { db_name, .. } => self.database(db_name),
            Statement::CreateSchema {
                schema_name: SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _),
                ..
            } => self.database(n),
            Statement::AlterSchema(a) => self.database(&mut a.name),
            other => {
                let head: String = other.to_string().chars().take(40).collect();
                return Err(format!("names in `{head}…` cannot be rewritten"));
            }
        }
        Ok(())
    }
}

/// Byte offset of a 1-based line/column (columns count characters) in `text`.
pub(super) fn offset(text: &str, line: u64, column: u64) -> Option<usize> {
    if line == 0 || column == 0 {
        return None;
    }
    let mut start = 0usize;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let rest = &text[start..];
    let within = rest
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(rest.len()))
        .nth((column - 1) as usize)?;
    Some(start + within)
}

fn splice(text: &str, edits: &[Edit]) -> Option<String> {
    let mut ranges = Vec::with_capacity(edits.len());
    for e in edits {
        let a = offset(text, e.span.start.line, e.span.start.column)?;
        let b = offset(text, e.span.end.line, e.span.end.column)?;
        if text.get(a..b)? != e.original {
            return None;
        }
        ranges.push((a, b, e.replacement.as_str()));
    }
    ranges.sort_by_key(|r| r.0);
    if ranges.windows(2).any(|w| w[0].1 > w[1].0) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 32);
    let mut at = 0;
    for (a, b, r) in ranges {
        out.push_str(&text[at..a]);
        out.push_str(r);
        at = b;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// Rewrites the names in `sql` (already parsed as `stmt`) to their destinations. Returns
/// `Ok(None)` when no name changes (the caller keeps the original text).
pub fn rewrite(
    sql: &str,
    mut stmt: Statement,
    session: Option<&str>,
    names: &dyn Names,
) -> Result<Option<String>, String> {
    let mut r = Rewriter {
        names,
        session,
        edits: Vec::new(),
    };
    r.statement(&mut stmt)?;
    if r.edits.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        splice(sql, &r.edits).unwrap_or_else(|| stmt.to_string()),
    ))
}

/// Keeps only the tables `keep` accepts in a `DROP TABLE a, b, …` and renames them; the
/// statement is re-rendered from the AST (removing names cannot be expressed as identifier
/// replacements), which for DROP TABLE loses nothing but comments. `Ok(None)` when nothing is
/// kept.
pub fn drop_some_tables(
    mut stmt: Statement,
    session: Option<&str>,
    keep: &dyn Fn(&TableId) -> bool,
    names: &dyn Names,
) -> Result<Option<String>, String> {
    let Statement::Drop {
        object_type: ObjectType::Table,
        names: tables,
        ..
    } = &mut stmt
    else {
        return Err("it is not a DROP TABLE statement".into());
    };
    let r = Rewriter {
        names,
        session,
        edits: Vec::new(),
    };
    tables.retain(|n| r.source_table(n).is_some_and(|t| keep(&t)));
    if tables.is_empty() {
        return Ok(None);
    }
    let mut r = r;
    r.statement(&mut stmt)?;
    Ok(Some(stmt.to_string()))
}

/// What one part of an ALTER TABLE / CREATE INDEX does to columns, for tables synchronized
/// with a column subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnUse {
    /// Touches these columns (for renames: old and new name).
    Columns(Vec<String>),
    /// Changes the table without naming columns (indexes dropped, options).
    Table,
    /// Placement hints (`ALGORITHM=`, `LOCK=`) that go with any change.
    Hint,
}

fn index_names(columns: &[IndexColumn]) -> ColumnUse {
    ColumnUse::Columns(
        columns
            .iter()
            .map(|c| match &c.column.expr {
                Expr::Identifier(i) => i.value.clone(),
                other => other.to_string(),
            })
            .collect(),
    )
}

/// How each part of an ALTER TABLE or CREATE INDEX statement uses columns; `None` for other
/// statements.
pub fn column_uses(stmt: &Statement) -> Option<Vec<ColumnUse>> {
    let names = |ids: &[&Ident]| ColumnUse::Columns(ids.iter().map(|i| i.value.clone()).collect());
    match stmt {
        Statement::AlterTable(at) => Some(
            at.operations
                .iter()
                .map(|op| match op {
                    AlterTableOperation::AddColumn { column_def, .. } => names(&[&column_def.name]),
                    AlterTableOperation::DropColumn { column_names, .. } => {
                        names(&column_names.iter().collect::<Vec<_>>())
                    }
                    AlterTableOperation::ChangeColumn {
                        old_name, new_name, ..
                    } => names(&[old_name, new_name]),
                    AlterTableOperation::ModifyColumn { col_name, .. } => names(&[col_name]),
                    AlterTableOperation::RenameColumn {
                        old_column_name,
                        new_column_name,
                    } => names(&[old_column_name, new_column_name]),
                    AlterTableOperation::AlterColumn { column_name, .. } => names(&[column_name]),
                    AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
                        TableConstraint::PrimaryKey(c) => index_names(&c.columns),
                        TableConstraint::Unique(c) => index_names(&c.columns),
                        TableConstraint::Index(c) => index_names(&c.columns),
                        TableConstraint::FulltextOrSpatial(c) => index_names(&c.columns),
                        TableConstraint::ForeignKey(c) => {
                            names(&c.columns.iter().collect::<Vec<_>>())
                        }
                        _ => ColumnUse::Table,
                    },
                    AlterTableOperation::Algorithm { .. } | AlterTableOperation::Lock { .. } => {
                        ColumnUse::Hint
                    }
                    _ => ColumnUse::Table,
                })
                .collect(),
        ),
        Statement::CreateIndex(ci) => Some(vec![index_names(&ci.columns)]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renames table `d.t` → `d2.t2`, database `d` → `d2`, columns of `d.t` get a `c_` prefix.
    struct Map;

    impl Names for Map {
        fn table(&self, source: &TableId) -> TableId {
            if source == &TableId::new("d", "t") {
                TableId::new("d2", "t2")
            } else {
                source.clone()
            }
        }
        fn database(&self, source: &str) -> String {
            if source == "d" {
                "d2".into()
            } else {
                source.into()
            }
        }
        fn column(&self, table: &TableId, column: &str) -> String {
            if table == &TableId::new("d", "t") {
                format!("c_{column}")
            } else {
                column.into()
            }
        }
    }

    fn run(sql: &str, session: Option<&str>) -> Option<String> {
        let stmt = parse_statement(sql).unwrap();
        rewrite(sql, stmt, session, &Map).unwrap()
    }

    #[test]
    fn keeps_everything_but_the_names() {
        let sql = "ALTER TABLE `t` /* keep me */ ADD COLUMN `x` int(11) unsigned NOT NULL \
                   DEFAULT '0' COMMENT 'é' AFTER y, ALGORITHM=INPLACE";
        assert_eq!(
            run(sql, Some("d")).unwrap(),
            "ALTER TABLE `t2` /* keep me */ ADD COLUMN `c_x` int(11) unsigned NOT NULL \
             DEFAULT '0' COMMENT 'é' AFTER `c_y`, ALGORITHM=INPLACE"
        );
    }

    #[test]
    fn qualifies_when_the_database_changes_under_another_session() {
        assert_eq!(
            run("TRUNCATE TABLE t", Some("d")).unwrap(),
            "TRUNCATE TABLE `t2`"
        );
        assert_eq!(
            run("TRUNCATE TABLE d.t", Some("x")).unwrap(),
            "TRUNCATE TABLE `d2`.`t2`"
        );
        // Other tables stay as written.
        assert_eq!(run("TRUNCATE TABLE x.y", Some("d")), None);
        // An unqualified table that stays in the session's source database while the session
        // database maps elsewhere gets qualified.
        assert_eq!(
            run("TRUNCATE TABLE u", Some("d")).unwrap(),
            "TRUNCATE TABLE `d`.`u`"
        );
    }

    #[test]
    fn multi_line_statements_with_quoted_names() {
        let sql = "CREATE TABLE d.`t` (\n  `id` INT NOT NULL,\n  `na``me` VARCHAR(10),\n  \
                   PRIMARY KEY (`id`),\n  KEY k (`na``me`)\n) ENGINE=InnoDB /* PARTITION BY HASH (id) */";
        assert_eq!(
            run(sql, None).unwrap(),
            "CREATE TABLE `d2`.`t2` (\n  `c_id` INT NOT NULL,\n  `c_na``me` VARCHAR(10),\n  \
             PRIMARY KEY (`c_id`),\n  KEY k (`c_na``me`)\n) ENGINE=InnoDB /* PARTITION BY HASH (id) */"
        );
    }

    #[test]
    fn rename_drop_and_index_statements() {
        assert_eq!(
            run("RENAME TABLE d.t TO d.t_old, d.u TO d.t", None).unwrap(),
            "RENAME TABLE `d2`.`t2` TO d.t_old, d.u TO `d2`.`t2`"
        );
        assert_eq!(
            run("DROP TABLE IF EXISTS t, u", Some("d")).unwrap(),
            "DROP TABLE IF EXISTS `t2`, `d`.`u`"
        );
        assert_eq!(
            run("CREATE INDEX i ON t (a, b)", Some("d")).unwrap(),
            "CREATE INDEX i ON `t2` (`c_a`, `c_b`)"
        );
        assert_eq!(
            run("DROP INDEX i ON t", Some("d")).unwrap(),
            "DROP INDEX i ON `t2`"
        );
        assert_eq!(
            run(
                "CREATE DATABASE IF NOT EXISTS d DEFAULT CHARSET utf8mb4",
                None
            )
            .unwrap(),
            "CREATE DATABASE IF NOT EXISTS `d2` DEFAULT CHARSET utf8mb4"
        );
        assert_eq!(
            run("DROP DATABASE `d`", None).unwrap(),
            "DROP DATABASE `d2`"
        );
    }

    #[test]
    fn alter_column_operations() {
        assert_eq!(
            run(
                "ALTER TABLE t CHANGE a b INT FIRST, MODIFY c BIGINT AFTER b, DROP COLUMN e, \
                 RENAME COLUMN f TO g, ADD UNIQUE KEY u (h)",
                Some("d")
            )
            .unwrap(),
            "ALTER TABLE `t2` CHANGE `c_a` `c_b` INT FIRST, MODIFY `c_c` BIGINT AFTER `c_b`, \
             DROP COLUMN `c_e`, RENAME COLUMN `c_f` TO `c_g`, ADD UNIQUE KEY u (`c_h`)"
        );
    }

    #[test]
    fn unreadable_and_unsupported_statements() {
        assert!(parse_statement("ALTER TABLE t ENGINE=InnoDB").is_err());
        assert!(parse_statement("DROP TABLE a; DROP TABLE b").is_err());
        let stmt = parse_statement("CREATE TABLE d.t AS SELECT 1").unwrap();
        assert!(rewrite("CREATE TABLE d.t AS SELECT 1", stmt, None, &Map).is_err());
    }

    #[test]
    fn drop_keeps_only_chosen_tables() {
        let stmt = parse_statement("DROP TABLE IF EXISTS t, x.y, u").unwrap();
        let keep = |t: &TableId| t.database == "d";
        assert_eq!(
            drop_some_tables(stmt, Some("d"), &keep, &Map)
                .unwrap()
                .as_deref(),
            Some("DROP TABLE IF EXISTS `t2`, `d`.`u`")
        );
        let stmt = parse_statement("DROP TABLE x.y").unwrap();
        assert_eq!(
            drop_some_tables(stmt, Some("d"), &keep, &Map).unwrap(),
            None
        );
    }

    #[test]
    fn column_uses_of_alter_and_index() {
        let stmt = parse_statement(
            "ALTER TABLE t ADD COLUMN x INT, CHANGE a b INT, DROP INDEX i, ADD INDEX j (c, d), \
             ALGORITHM=INPLACE",
        )
        .unwrap();
        assert_eq!(
            column_uses(&stmt).unwrap(),
            vec![
                ColumnUse::Columns(vec!["x".into()]),
                ColumnUse::Columns(vec!["a".into(), "b".into()]),
                ColumnUse::Table,
                ColumnUse::Columns(vec!["c".into(), "d".into()]),
                ColumnUse::Hint,
            ]
        );
        assert!(column_uses(&parse_statement("DROP TABLE t").unwrap()).is_none());
    }

    #[test]
    fn splice_refuses_positions_that_do_not_hold_the_name() {
        let edit = |line, start, end, original: &str| Edit {
            span: Span::new(
                sqlparser::tokenizer::Location::new(line, start),
                sqlparser::tokenizer::Location::new(line, end),
            ),
            original: original.into(),
            replacement: "`x`".into(),
        };
        assert_eq!(
            splice("DROP TABLE t", &[edit(1, 12, 13, "t")]).as_deref(),
            Some("DROP TABLE `x`")
        );
        assert_eq!(splice("DROP TABLE t", &[edit(1, 11, 12, "t")]), None);
        assert_eq!(
            splice(
                "DROP TABLE t",
                &[edit(1, 12, 13, "t"), edit(1, 12, 13, "t")]
            ),
            None
        );
    }

    #[test]
    fn offsets_count_characters() {
        let text = "ab\ncé d";
        assert_eq!(offset(text, 2, 1), Some(3));
        assert_eq!(offset(text, 2, 3), Some(6));
        assert_eq!(offset(text, 2, 5), Some(8));
        assert_eq!(offset(text, 3, 1), None);
        assert_eq!(offset(text, 0, 1), None);
    }
}
