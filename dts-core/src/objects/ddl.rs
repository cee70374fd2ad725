//! Which source DDL statements reach the destination, and under which names.
//!
//! A statement is synchronized when:
//! - **table statements** (CREATE/ALTER/DROP/RENAME/TRUNCATE TABLE, CREATE/DROP INDEX): every
//!   table it touches is selected (a CREATE TABLE in a database selected whole selects the new
//!   table) and every one of them allows the statement's kind. A statement touching selected
//!   *and* unselected tables (`RENAME TABLE a TO other_db.b`) cannot run at the destination,
//!   which only has the selected ones: it is left out and reported — except `DROP TABLE`,
//!   which is reduced to the selected tables;
//! - **database statements** (CREATE/ALTER/DROP DATABASE): the database is selected whole and
//!   allows the kind (ALTER DATABASE only with every operation selected);
//! - **views** (kind `Other` naming tables): their tables' databases are all selected whole,
//!   every operation is selected, and no name mapping applies (a view's body cannot be
//!   rewritten reliably). Triggers, routines, grants and statement-format DML are never
//!   replayed (triggers are `migration.triggers`' business, the rest is not schema);
//! - never with `topology.exclude_ddl`.
//!
//! **Names.** When no destination name differs from the source's, the statement text is passed
//! on untouched (re-rendering could lose MySQL-specific syntax). Otherwise it is parsed with
//! sqlparser's MySQL dialect and the table, database and column identifiers (column names of
//! ALTER TABLE ADD/DROP/CHANGE/MODIFY/RENAME/ALTER COLUMN, `AFTER`, index and key columns,
//! CREATE TABLE column definitions) are replaced in the original text. A statement that must be
//! renamed but cannot be read is left out and reported — the task never stops on it.
//!
//! **Column subsets.** For a table synchronized with `columns`, an ALTER TABLE / CREATE INDEX
//! is read: parts touching only unselected columns are skipped (a statement made only of such
//! parts is not synchronized); a statement mixing selected and unselected columns, or renaming
//! a selected column to an unselected name, is left out and reported, as is a CREATE TABLE
//! (it would create every column).
//!
//! **Online DDL.** With `no_gh_ost`/`no_dms`, statements on temporary tables are dropped,
//! except that `ALTER TABLE _t_gho …` becomes the same ALTER on `t` (when `t` is selected and
//! allows ALTER); the cut-over `RENAME TABLE t TO _t_del, _t_gho TO t` is dropped because the
//! destination's `t` already has the new structure.
//!
//! Every statement left out because of a problem is logged with `tracing::warn!` and available
//! from [`ConfigFilter::last_ddl_problem`].

use super::online_ddl::TempTable;
use super::rewrite::{column_uses, drop_some_tables, parse_statement, rewrite, ColumnUse, Names};
use super::selection::{allows, Origin, Selected};
use super::ConfigFilter;
use crate::change::{Ddl, DdlKind};
use crate::filter::ddl_database_name;
use crate::schema::TableId;
use sqlparser::ast::{ObjectType, Statement};

/// Statement text shortened for messages.
pub(super) fn short(statement: &str) -> String {
    let one_line: String = statement.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 200 {
        format!("{}…", one_line.chars().take(200).collect::<String>())
    } else {
        one_line
    }
}

/// Destination names as the filter computes them, for [`rewrite`].
pub(super) struct FilterNames<'a>(pub(super) &'a ConfigFilter);

impl Names for FilterNames<'_> {
    fn table(&self, source: &TableId) -> TableId {
        match self.0.selection.select(source) {
            Some(s) => self.0.destination_of(source, &s),
            None => TableId::new(
                self.0.destination_database(&source.database),
                source.table.clone(),
            ),
        }
    }

    fn database(&self, source: &str) -> String {
        self.0.destination_database(source)
    }

    fn column(&self, table: &TableId, column: &str) -> String {
        match self.0.selection.select(table) {
            Some(s) => {
                self.0
                    .destination_column(table, s.table.map(|t| &t.config.rename_columns), column)
            }
            None => column.to_owned(),
        }
    }
}

/// Points one table at another, leaving every other name alone (gh-ost shadow → original).
struct Redirect<'a> {
    from: &'a TableId,
    to: &'a TableId,
}

impl Names for Redirect<'_> {
    fn table(&self, source: &TableId) -> TableId {
        if source == self.from {
            self.to.clone()
        } else {
            source.clone()
        }
    }

    fn database(&self, source: &str) -> String {
        source.to_owned()
    }

    fn column(&self, _: &TableId, column: &str) -> String {
        column.to_owned()
    }
}

enum SubsetDecision {
    Keep,
    Skip,
}

impl ConfigFilter {
    /// `route_ddl` with the reason a statement touching selected objects was left out.
    pub(super) fn route_ddl_checked(&self, ddl: &Ddl) -> Result<Option<Ddl>, String> {
        if self.selection.ddl_excluded() {
            return Ok(None);
        }
        if let DdlKind::Object(kind) = ddl.kind {
            return self.object_ddl(ddl, kind);
        }
        if let Some(result) = self.online_ddl_statement(ddl) {
            return result;
        }
        if ddl.tables.is_empty() {
            return match ddl.kind {
                DdlKind::CreateDatabase | DdlKind::DropDatabase | DdlKind::AlterDatabase => {
                    self.database_statement(ddl)
                }
                DdlKind::Unparsed => self.unreadable_statement(ddl),
                _ => Ok(None),
            };
        }
        self.table_statement(ddl)
    }

    fn online_ddl_statement(&self, ddl: &Ddl) -> Option<Result<Option<Ddl>, String>> {
        let online = self.selection.online_ddl();
        let temp: Vec<TempTable> = ddl
            .tables
            .iter()
            .filter_map(|t| online.classify(&t.table))
            .collect();
        let first = temp.first()?;
        if let (DdlKind::AlterTable, [shadow], TempTable::Shadow(original)) =
            (ddl.kind, ddl.tables.as_slice(), first)
        {
            let target = TableId::new(shadow.database.clone(), original.clone());
            if self.selection.select(&target).is_none() {
                return Some(Ok(None));
            }
            let redirected = parse_statement(&ddl.statement)
                .and_then(|stmt| {
                    rewrite(
                        &ddl.statement,
                        stmt,
                        ddl.database.as_deref(),
                        &Redirect {
                            from: shadow,
                            to: &target,
                        },
                    )
                })
                .and_then(|text| text.ok_or_else(|| "it does not name the table".to_string()));
            return Some(match redirected {
                Ok(statement) => self.table_statement(&Ddl {
                    database: ddl.database.clone(),
                    statement,
                    kind: DdlKind::AlterTable,
                    tables: vec![target],
                    sql_mode: ddl.sql_mode.clone(),
                }),
                Err(e) => Err(format!(
                    "online DDL: the ALTER of shadow table {shadow} cannot be applied to {target}: \
                     {e} — `{}`",
                    short(&ddl.statement)
                )),
            });
        }
        tracing::debug!(
            "online DDL: statement on temporary table(s) not synchronized: `{}`",
            short(&ddl.statement)
        );
        Some(Ok(None))
    }

    fn database_statement(&self, ddl: &Ddl) -> Result<Option<Ddl>, String> {
        let Some(name) = ddl_database_name(&ddl.statement) else {
            return self.unreadable_statement(ddl);
        };
        let Some(db) = self.selection.whole_database(&name) else {
            return Ok(None);
        };
        if !allows(&self.selection.database_ddl(db), ddl.kind) {
            return Ok(None);
        }
        let dest = self.destination_database(&name);
        if dest == name {
            return Ok(Some(ddl.clone()));
        }
        let stmt = parse_statement(&ddl.statement).map_err(|e| {
            format!(
                "database {name} maps to {dest} but the statement cannot be read ({e}); it is \
                 not synchronized: `{}`",
                short(&ddl.statement)
            )
        })?;
        let statement = rewrite(
            &ddl.statement,
            stmt,
            ddl.database.as_deref(),
            &FilterNames(self),
        )
        .map_err(|e| {
            format!(
                "database {name} maps to {dest} but {e}; not synchronized: `{}`",
                short(&ddl.statement)
            )
        })?
        .unwrap_or_else(|| ddl.statement.clone());
        Ok(Some(Ddl {
            // The statement names its database; no session database is needed (and the
            // destination database may not exist yet).
            database: None,
            statement,
            kind: ddl.kind,
            tables: Vec::new(),
            sql_mode: ddl.sql_mode.clone(),
        }))
    }

    fn unreadable_statement(&self, ddl: &Ddl) -> Result<Option<Ddl>, String> {
        // "Selected" here: the database is listed, or a pattern selects tables of it (probed
        // with an empty table name, which `db.*`-style patterns match).
        let in_selected = ddl.database.as_deref().is_some_and(|d| {
            self.selection.database(d).is_some()
                || self.selection.select(&TableId::new(d, "")).is_some()
        });
        if !in_selected {
            return Ok(None);
        }
        Err(format!(
            "a statement run in selected database {} cannot be read, so the objects it changes \
             are unknown; it is not synchronized: `{}`",
            ddl.database.as_deref().unwrap_or_default(),
            short(&ddl.statement)
        ))
    }

    /// The session database for the destination: the mapped session database when the
    /// statement's tables live there (unqualified names resolve against it), else the first
    /// table's destination database (every name is then qualified).
    fn destination_session(&self, ddl: &Ddl, destinations: &[TableId]) -> Option<String> {
        match &ddl.database {
            Some(s)
                if ddl.tables.iter().any(|t| &t.database == s)
                    || self.selection.database(s).is_some() =>
            {
                Some(self.destination_database(s))
            }
            _ => destinations
                .first()
                .map(|t| t.database.clone())
                .or_else(|| ddl.database.clone()),
        }
    }

    fn table_statement(&self, ddl: &Ddl) -> Result<Option<Ddl>, String> {
        let selected: Vec<Option<Selected<'_>>> = ddl
            .tables
            .iter()
            .map(|t| self.selection.select(t))
            .collect();
        let Some(inside) = selected.iter().position(Option::is_some) else {
            return Ok(None);
        };
        if let Some(outside) = selected.iter().position(Option::is_none) {
            if ddl.kind == DdlKind::DropTable {
                return self.partial_drop(ddl, &selected);
            }
            return Err(format!(
                "{:?} statement touches selected table {} and unselected table {}; the \
                 destination only has the selected one, so it is not synchronized: `{}`",
                ddl.kind,
                ddl.tables[inside],
                ddl.tables[outside],
                short(&ddl.statement)
            ));
        }
        let selected: Vec<Selected<'_>> = selected.into_iter().flatten().collect();
        if !selected.iter().all(|s| allows(s.ddl(), ddl.kind)) {
            return Ok(None);
        }
        match ddl.kind {
            DdlKind::Other => return self.object_statement(ddl, &selected),
            DdlKind::Unparsed => {
                return Err(format!(
                    "statement on selected table {} cannot be read; it is not synchronized: `{}`",
                    ddl.tables[0],
                    short(&ddl.statement)
                ))
            }
            _ => {}
        }
        let mut parsed: Option<Statement> = None;
        if let Some((table, list)) = ddl
            .tables
            .iter()
            .zip(&selected)
            .find_map(|(t, s)| s.columns().map(|c| (t, c)))
        {
            if matches!(
                ddl.kind,
                DdlKind::AlterTable | DdlKind::CreateIndex | DdlKind::CreateTable
            ) {
                let stmt = parse_statement(&ddl.statement).map_err(|e| {
                    format!(
                        "table {table} is synchronized with a column subset, so its DDL must be \
                         read to keep unselected columns out, but this statement cannot be read \
                         ({e}); it is not synchronized: `{}`",
                        short(&ddl.statement)
                    )
                })?;
                match Self::subset_decision(ddl, table, list, &stmt)? {
                    SubsetDecision::Skip => return Ok(None),
                    SubsetDecision::Keep => parsed = Some(stmt),
                }
            }
        }
        let destinations: Vec<TableId> = ddl
            .tables
            .iter()
            .zip(&selected)
            .map(|(t, s)| self.destination_of(t, s))
            .collect();
        let columns_may_change = matches!(
            ddl.kind,
            DdlKind::CreateTable | DdlKind::AlterTable | DdlKind::CreateIndex
        ) && ddl.tables.iter().zip(&selected).any(|(t, s)| {
            s.table.is_some_and(|r| !r.config.rename_columns.is_empty())
                || self.names.may_rename_columns(t)
        });
        let renamed = destinations.iter().zip(&ddl.tables).any(|(d, s)| d != s);
        if !renamed && !columns_may_change {
            return Ok(Some(ddl.clone()));
        }
        let stmt = match parsed {
            Some(s) => s,
            None => parse_statement(&ddl.statement).map_err(|e| {
                format!(
                    "names of {} change at the destination but the statement cannot be read \
                     ({e}); it is not synchronized: `{}`",
                    ddl.tables[0],
                    short(&ddl.statement)
                )
            })?,
        };
        let statement = rewrite(
            &ddl.statement,
            stmt,
            ddl.database.as_deref(),
            &FilterNames(self),
        )
        .map_err(|e| {
            format!(
                "names of {} change at the destination but {e}; it is not synchronized: `{}`",
                ddl.tables[0],
                short(&ddl.statement)
            )
        })?;
        Ok(Some(Ddl {
            database: self.destination_session(ddl, &destinations),
            statement: statement.unwrap_or_else(|| ddl.statement.clone()),
            kind: ddl.kind,
            tables: destinations,
            sql_mode: ddl.sql_mode.clone(),
        }))
    }

    /// `DROP TABLE a, b` where only some tables are selected: drop those at the destination.
    fn partial_drop(
        &self,
        ddl: &Ddl,
        selected: &[Option<Selected<'_>>],
    ) -> Result<Option<Ddl>, String> {
        let kept: Vec<(&TableId, &Selected<'_>)> = ddl
            .tables
            .iter()
            .zip(selected)
            .filter_map(|(t, s)| s.as_ref().map(|s| (t, s)))
            .filter(|(_, s)| allows(s.ddl(), DdlKind::DropTable))
            .collect();
        if kept.is_empty() {
            return Ok(None);
        }
        let fail = |e: String| {
            format!(
                "DROP TABLE names selected and unselected tables; only {} should be dropped at the                  destination, but {e}; it is not synchronized: `{}`",
                kept.iter()
                    .map(|(t, _)| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                short(&ddl.statement)
            )
        };
        let stmt = parse_statement(&ddl.statement)
            .map_err(|e| fail(format!("it cannot be read ({e})")))?;
        let keep = |t: &TableId| kept.iter().any(|(k, _)| *k == t);
        let Some(statement) =
            drop_some_tables(stmt, ddl.database.as_deref(), &keep, &FilterNames(self))
                .map_err(fail)?
        else {
            return Ok(None);
        };
        let destinations: Vec<TableId> = kept
            .iter()
            .map(|(t, s)| self.destination_of(t, s))
            .collect();
        Ok(Some(Ddl {
            database: self.destination_session(ddl, &destinations),
            statement,
            kind: DdlKind::DropTable,
            tables: destinations,
            sql_mode: ddl.sql_mode.clone(),
        }))
    }

    fn subset_decision(
        ddl: &Ddl,
        table: &TableId,
        list: &[String],
        stmt: &Statement,
    ) -> Result<SubsetDecision, String> {
        let listed = |c: &str| list.iter().any(|l| l.eq_ignore_ascii_case(c));
        if ddl.kind == DdlKind::CreateTable {
            return Err(format!(
                "CREATE TABLE of {table}, which is synchronized with a column subset, would \
                 create every column at the destination; it is not synchronized: `{}`",
                short(&ddl.statement)
            ));
        }
        let Some(uses) = column_uses(stmt) else {
            return Ok(SubsetDecision::Keep);
        };
        let (mut inside, mut outside, mut table_wide) = (0, Vec::new(), 0);
        for u in &uses {
            match u {
                ColumnUse::Columns(cols) => {
                    let n = cols.iter().filter(|c| listed(c)).count();
                    if n == cols.len() {
                        inside += 1;
                    } else if n == 0 {
                        outside.extend(cols.iter().cloned());
                    } else {
                        return Err(format!(
                            "statement on {table} mixes selected and unselected columns ({}); \
                             the table is synchronized with a column subset, so it is not \
                             synchronized: `{}`",
                            cols.join(", "),
                            short(&ddl.statement)
                        ));
                    }
                }
                ColumnUse::Table => table_wide += 1,
                ColumnUse::Hint => {}
            }
        }
        if outside.is_empty() {
            return Ok(SubsetDecision::Keep);
        }
        if inside == 0 && table_wide == 0 {
            tracing::debug!(
                "DDL on unselected columns ({}) of {table} not synchronized",
                outside.join(", ")
            );
            return Ok(SubsetDecision::Skip);
        }
        Err(format!(
            "statement on {table} changes unselected columns ({}) together with other parts; \
             the table is synchronized with a column subset, so it is not synchronized: `{}`",
            outside.join(", "),
            short(&ddl.statement)
        ))
    }

    /// Views (kind `Other` with tables): only within databases selected whole, never renamed.
    /// `CREATE` / `ALTER` / `DROP SEQUENCE` on selected sequences: synchronized as written (a
    /// sequence is a table to the selection; its rows follow as row changes). A sequence the
    /// mapping renames is refused with the reason: the statement is not rewritten.
    fn sequence_statement(
        &self,
        ddl: &Ddl,
        selected: &[Selected<'_>],
    ) -> Result<Option<Ddl>, String> {
        if self.renames_any(ddl, selected) {
            return Err(format!(
                "sequence {} would be renamed at the destination, but sequence statements are \
                 not rewritten; it is not synchronized: `{}`",
                ddl.tables[0],
                short(&ddl.statement)
            ));
        }
        Ok(Some(ddl.clone()))
    }

    /// True when the mapping gives any of the statement's objects another destination name.
    fn renames_any(&self, ddl: &Ddl, selected: &[Selected<'_>]) -> bool {
        ddl.tables
            .iter()
            .zip(selected)
            .any(|(t, s)| &self.destination_of(t, s) != t)
    }

    fn object_statement(
        &self,
        ddl: &Ddl,
        selected: &[Selected<'_>],
    ) -> Result<Option<Ddl>, String> {
        if is_sequence_statement(&ddl.statement) {
            return self.sequence_statement(ddl, selected);
        }
        let stmt = parse_statement(&ddl.statement).map_err(|e| {
            format!(
                "statement on selected object {} cannot be read ({e}); it is not synchronized: \
                 `{}`",
                ddl.tables[0],
                short(&ddl.statement)
            )
        })?;
        let is_view = matches!(
            stmt,
            Statement::CreateView(_)
                | Statement::AlterView(_)
                | Statement::Drop {
                    object_type: ObjectType::View,
                    ..
                }
        );
        if !is_view || !selected.iter().all(|s| s.origin == Origin::Database) {
            tracing::debug!("statement not synchronized: `{}`", short(&ddl.statement));
            return Ok(None);
        }
        if self.renames_any(ddl, selected) {
            return Err(format!(
                "view {} would be renamed at the destination, but a view's definition cannot be \
                 rewritten; it is not synchronized: `{}`",
                ddl.tables[0],
                short(&ddl.statement)
            ));
        }
        Ok(Some(ddl.clone()))
    }
}

/// True for `CREATE [OR REPLACE] [TEMPORARY] SEQUENCE`, `ALTER SEQUENCE` and
/// `DROP [TEMPORARY] SEQUENCE` (MariaDB), by their leading keywords.
fn is_sequence_statement(statement: &str) -> bool {
    let words: Vec<String> = statement
        .split(|c: char| c.is_whitespace() || c == '`' || c == '(')
        .filter(|w| !w.is_empty())
        .take(5)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let verb = words.first().map(String::as_str);
    if !matches!(verb, Some("CREATE" | "ALTER" | "DROP")) {
        return false;
    }
    words
        .iter()
        .skip(1)
        .find(|w| !matches!(w.as_str(), "OR" | "REPLACE" | "TEMPORARY"))
        .is_some_and(|w| w == "SEQUENCE")
}

#[cfg(test)]
mod sequence_tests {
    #[test]
    fn sequence_statements_by_keywords() {
        for s in [
            "CREATE SEQUENCE s START WITH 5",
            "create or replace sequence `d`.`s`",
            "ALTER SEQUENCE loan_no INCREMENT BY 10",
            "DROP TEMPORARY SEQUENCE IF EXISTS s",
        ] {
            assert!(super::is_sequence_statement(s), "{s}");
        }
        for s in [
            "CREATE TABLE sequence (a int)",
            "DROP VIEW v",
            "ALTER TABLE t ADD c INT",
        ] {
            assert!(!super::is_sequence_statement(s), "{s}");
        }
    }
}
